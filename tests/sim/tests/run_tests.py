#!/usr/bin/env python3
"""Run simulator test modules for CTest.

    run_tests.py [--needs-contracts] module [module ...]

With --needs-contracts the run exits 77 (CTest SKIP_RETURN_CODE) when the
folder of swagger files and recorded exchanges is absent: it is taken from
ACUMATICA_CONTRACTS, default ../shared/acumatica beside the repository.
Otherwise exits 0 when every test passed, 1 if not.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def contracts_dir():
    return os.environ.get("ACUMATICA_CONTRACTS") or os.path.join(REPO, "..", "shared", "acumatica")


def main(argv):
    needs = "--needs-contracts" in argv
    modules = [a for a in argv if not a.startswith("--")]
    if needs and not os.path.isdir(contracts_dir()):
        print("SKIPPED: no Acumatica contracts folder at %s (set ACUMATICA_CONTRACTS)" % contracts_dir())
        return 77
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
