#!/usr/bin/env python3
"""The simulator, with seed data stamped within one minute (benchmark 4).

    python3 tests/bench/sim_recent.py <the options of tests/sim/acumatica_sim.py>

The simulator's seed spreads last-modified stamps over `days` (at least one)
before its base time, so a pull right after seeding finds almost none of
them inside the pull's 120 s overlap window. This wrapper makes the seed's
"day" one minute long, so records seeded with base_time = now all carry
stamps from the last minute: the state after a mass update in Acumatica
(every record modified just before the pull), the case in which the pull
cursor keeps an (id, last-modified) pair for every record it delivers.
Nothing else of the simulator changes.
"""
import os
import sys

SIM_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sim")
sys.path.insert(0, SIM_DIR)

import datagen  # noqa: E402

datagen.DAY_MS = 60 * 1000

import acumatica_sim  # noqa: E402

if __name__ == "__main__":
    sys.exit(acumatica_sim.main())
