#!/usr/bin/env python3
"""Benchmark 3: the throttle, as the server sees it.

    python3 tests/bench/bench_throttle.py [BUILD_DIR] [--limit 50] [--seconds 5]
                                          [--requests 300] [--keep]

API Throttle Limit = LIMIT starts per API Throttle Seconds = SECONDS. Two
runs against a fresh simulator, each with about REQUESTS requests:

  pull   connector-host pull --flow customers with pages of 10 records
         (REQUESTS x 10 customers seeded), pages fetched ahead up to
         Concurrent Connections (5): the throttle paces a real flow;
  probe  the plugin's authenticate step {"step":"probe","requests":N}, driven
         by the auth test harness through the real loader: all N reads are
         submitted at once, the harshest burst the throttle can get (skipped
         when the harness is not in the build).

Every request the plugin sent is in the simulator's request log with the
time the simulator read its head (what a license counts). Printed per run:
the requests, how long they took, the achieved starts per window
((n - 1) starts over the time from the first to the last start, scaled to
one window), the starts in each whole window counted from the first start
(min / mean / max), and the most starts in ANY window of SECONDS (exact
sliding window over the start times: for each start, the starts in
[t, t + SECONDS)) against the limit.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def max_in_window(starts, window):
    """The most starts in any half-open interval [t, t + window)."""
    best, j = 0, 0
    for i in range(len(starts)):
        while j < len(starts) and starts[j] < starts[i] + window:
            j += 1
        best = max(best, j - i)
    return best


def analyse(log, window):
    starts = sorted(e["start"] for e in log)
    n = len(starts)
    span = starts[-1] - starts[0]
    achieved = (n - 1) / span * window if span > 0 else float("nan")
    whole = int(span // window)
    counts = [sum(1 for s in starts if starts[0] + k * window <= s < starts[0] + (k + 1) * window)
              for k in range(whole)]
    return {"n": n, "span": span, "achieved": achieved, "counts": counts,
            "max": max_in_window(starts, window)}


def harness_path(build):
    p = os.path.join(build, "tests", "integration", "auth", "acu_auth_harness")
    return p if os.access(p, os.X_OK) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("build", nargs="?", default=os.path.join(benchlib.ROOT, "build", "release"))
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    host, plugin = benchlib.find_build(args.build)
    work = benchlib.WorkDir("throttle", args.keep)
    sim = None
    try:
        benchlib.banner("Benchmark 3: throttle %d starts per %d s, about %d requests per run"
                        % (args.limit, args.seconds, args.requests))
        print("%s; build %s (%s)" % (benchlib.machine(), args.build,
                                     benchlib.build_type(args.build) or "?"))
        page = 10
        sim = benchlib.Simulator(work, "--seed", "5", "--customers", str(args.requests * page),
                                 "--items", "10", "--warehouses", "1", "--orders", "0",
                                 "--api-user-seats", "none")
        settings_path = work("settings.json")
        benchlib.write_settings(settings_path, benchlib.settings(
            sim, page_size=page, api_throttle_limit=args.limit,
            api_throttle_seconds=args.seconds))
        results = []

        sim.clear_requests()
        m = benchlib.run_measured(benchlib.host_cmd(
            host, work("state.db"), "pull", "--plugin", plugin, "--config", settings_path,
            "--flow", "customers", "--out", work("customers.jsonl"), "--no-progress"),
            work, "pull")
        benchlib.check_rc(m, "connector-host pull --flow customers")
        log = sim.requests()
        with open(work("requests-pull.json"), "w") as f:
            json.dump(log, f)
        waits = [ln for ln in m.stderr.splitlines() if "throttle wait" in ln]
        results.append(("pull (pages of %d, 5 ahead)" % page, analyse(log, args.seconds), m))

        harness = harness_path(args.build)
        if harness is None:
            print("(no acu_auth_harness in %s: the probe run is skipped)" % args.build)
        else:
            sim.clear_requests()
            m = benchlib.run_measured(
                [harness, "--plugin", plugin, "--config", settings_path, "--state",
                 work("probe.db"), '{"step":"login"}',
                 json.dumps({"step": "probe", "requests": args.requests})], work, "probe")
            answers = [json.loads(ln) for ln in m.stdout.splitlines() if ln.startswith("{")]
            probe = answers[-1].get("answer") or {} if answers else {}
            if m.rc != 0 or probe.get("ok") != args.requests:
                sys.exit("bench: the probe failed (exit %d): %s %s"
                         % (m.rc, m.stdout[-1500:], m.stderr[-1500:]))
            log = sim.requests()
            with open(work("requests-probe.json"), "w") as f:
                json.dump(log, f)
            results.append(("probe (%d submitted at once)" % args.requests,
                            analyse(log, args.seconds), m))

        rows = []
        for name, a, _ in results:
            c = a["counts"]
            rows.append((name, a["n"], "%.1f" % a["span"], "%.1f" % a["achieved"],
                         "%d / %.1f / %d" % (min(c), sum(c) / len(c), max(c)) if c else "-",
                         a["max"], args.limit))
        print()
        benchlib.table(["run", "requests", "first to last start s",
                        "achieved per %d s" % args.seconds,
                        "whole windows min/mean/max", "most in any %d s" % args.seconds,
                        "limit"], rows)
        print("starts = when the simulator read each request's head (sign-in included); "
              "the plugin widens its window by 2% (at least 50 ms) so the server never "
              "counts more than the limit")
        for w in waits:
            print("plugin: " + w.split("] ", 1)[-1])
    finally:
        if sim is not None:
            sim.stop()
        work.close()


if __name__ == "__main__":
    main()
