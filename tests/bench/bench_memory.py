#!/usr/bin/env python3
"""Benchmark 4: peak resident memory of a pull against the number of records.

    python3 tests/bench/bench_memory.py [BUILD_DIR] [--counts 10000,50000,100000,200000]
                                        [--recent-counts 10000,50000] [--keep]

Pulls N customers (the default mapping customers.to_host: the account with
its main, billing and shipping contacts and addresses) with
`connector-host pull --flow customers` into a JSON-lines file, each N into
a fresh state, and prints the peak resident memory of the connector-host
process (ru_maxrss from wait4, and the largest VmHWM sampled from /proc
every 0.1 s while it ran), its CPU and wall time, and the size of the
cursor it committed. A streamed pull keeps a constant amount per page in
memory, so the peak must not grow with N. Defaults otherwise (pages of 500,
5 ahead); the throttle is set out of the way (100,000 per 60 s).

Two kinds of data:

  spread  the simulator's seed: last-modified stamps spread over the 30
          days before today 00:00, as in a normal company;
  recent  every record modified in the minute before the pull (a mass
          update or an import just before it: tests/bench/sim_recent.py).
          The pull's cursor keeps an (id, last-modified) pair for every
          record delivered within 120 s of the run's upper bound, so here it
          keeps one per record; the table shows what that costs.
"""
import argparse
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def cursor_info(state):
    """(bytes, pairs kept) of the committed customers cursor."""
    try:
        db = sqlite3.connect(state)
        rows = list(db.execute("SELECT cursor FROM cursors WHERE flow = 'customers'"))
        db.close()
    except sqlite3.Error:
        return 0, 0
    if not rows or rows[0][0] is None:
        return 0, 0
    text = rows[0][0]
    src = json.loads(text).get("sources", {}).get("customers", {})
    return len(text), len(src.get("seen", [])) + len(src.get("run_seen", []))


def run_kind(kind, counts, host, plugin, work, rows):
    script = os.path.join(HERE, "sim_recent.py") if kind == "recent" else benchlib.SIM
    sim = benchlib.Simulator(work, "--seed", "2", "--customers", "0", "--orders", "0",
                             "--items", "10", "--warehouses", "1", "--api-user-seats", "none",
                             script=script)
    try:
        settings_path = work("settings-%s.json" % kind)
        benchlib.write_settings(settings_path, benchlib.settings(
            sim, api_throttle_limit=100000, api_throttle_seconds=60))
        for n in counts:
            params = {"seed": 2, "customers": n, "orders": 0, "items": 10, "warehouses": 1,
                      "shipments": 0}
            if kind == "recent":
                # Stamps in [now - 65 s, now - 5 s): inside the next pull's
                # window (its upper bound is the server's clock a second ago,
                # in whole seconds) and inside its 120 s overlap.
                params.update(base_time=time.time() - 5, days=1)
            t0 = time.monotonic()
            sim.seed(**params)
            seed_s = time.monotonic() - t0
            name = "%s-%d" % (kind, n)
            out, state = work(name + ".jsonl"), work(name + ".db")
            m = benchlib.run_measured(benchlib.host_cmd(
                host, state, "pull", "--plugin", plugin, "--config", settings_path,
                "--flow", "customers", "--out", out, "--no-progress"), work, name)
            with open(out) as f:
                got = sum(1 for _ in f)
            cbytes, pairs = cursor_info(state)
            if m.rc == 0 and got != n:
                sys.exit("bench: %s: %d records delivered, expected %d" % (name, got, n))
            note = "ok"
            if m.rc != 0:
                last = [ln for ln in m.stderr.splitlines() if ln.strip()]
                note = "exit %d: %s" % (m.rc, last[-1].split(": ", 1)[-1] if last else "?")
            rows.append((kind, n, got, "%.1f" % (m.maxrss_kib / 1024),
                         "%.1f" % (m.hwm_kib / 1024), "%.0f" % (m.cpu * 1e6 / max(1, got)),
                         "%.1f" % m.wall, "%.1f" % seed_s, cbytes, pairs, note))
            if m.rc != 0:
                # A failed pull resumes from its last checkpoint: try once more.
                m = benchlib.run_measured(benchlib.host_cmd(
                    host, state, "pull", "--plugin", plugin, "--config", settings_path,
                    "--flow", "customers", "--out", out, "--no-progress"), work, name + "-again")
                with open(out) as f:
                    more = sum(1 for _ in f) - got
                cbytes, pairs = cursor_info(state)
                last = [ln for ln in m.stderr.splitlines() if ln.strip()]
                note = "ok" if m.rc == 0 else "exit %d: %s" % (
                    m.rc, last[-1].split(": ", 1)[-1] if last else "?")
                rows.append((kind, "(again)", more, "%.1f" % (m.maxrss_kib / 1024),
                             "%.1f" % (m.hwm_kib / 1024), "-", "%.1f" % m.wall, "-", cbytes,
                             pairs, note))
            os.unlink(out)
    finally:
        sim.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("build", nargs="?", default=os.path.join(benchlib.ROOT, "build", "release"))
    ap.add_argument("--counts", default="10000,50000,100000,200000")
    ap.add_argument("--recent-counts", default="10000,50000")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    host, plugin = benchlib.find_build(args.build)
    work = benchlib.WorkDir("memory", args.keep)
    rows = []
    try:
        benchlib.banner("Benchmark 4: peak resident memory pulling N customers")
        print("%s; build %s (%s)" % (benchlib.machine(), args.build,
                                     benchlib.build_type(args.build) or "?"))
        for kind, counts in (("spread", args.counts), ("recent", args.recent_counts)):
            if counts:
                run_kind(kind, [int(c) for c in counts.split(",")], host, plugin, work, rows)
        print()
        benchlib.table(["stamps", "customers", "delivered", "peak RSS MiB", "VmHWM MiB",
                        "CPU us/rec", "wall s", "seed s", "cursor bytes", "pairs kept",
                        "outcome"], rows)
        spread = [r for r in rows if r[0] == "spread" and r[-1] == "ok"]
        if len(spread) >= 2:
            lo, hi = spread[0], spread[-1]
            slope = (float(hi[3]) - float(lo[3])) * 1024 * 1024 / (hi[2] - lo[2])
            print("spread: peak RSS from %d to %d records changes by %.1f MiB "
                  "(%.1f bytes per record)" % (lo[2], hi[2], float(hi[3]) - float(lo[3]), slope))
        print("pairs kept = (id, last-modified) pairs in the committed cursor; "
              "the host refuses a cursor over 1 MiB; (again) = the next pull of the same "
              "state, resuming from the last checkpoint (records it added)")
    finally:
        work.close()


if __name__ == "__main__":
    main()
