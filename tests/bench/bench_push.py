#!/usr/bin/env python3
"""Benchmark 2: push sales orders against writes that take 50 ms.

    python3 tests/bench/bench_push.py [BUILD_DIR] [--orders 1000] [--delay-ms 50]
                                      [--connections 1,5,10] [--batch-size 100] [--keep]

Starts the simulator (customers and items, no orders) with a fault rule that
delays every PUT of a SalesOrder by DELAY ms before it is handled, then, for
each C in CONNECTIONS, pushes ORDERS new sales orders of 5 lines with
`connector-host push --flow sales_orders` and Concurrent Connections = C,
Concurrent Batch Executions = C (the throttle set out of the way:
100,000 per 60 s). Sales Order Duplicate Checking is off (the default).

The bound is C / latency: with C writes in flight, each taking the delay,
no client can create more than C / 0.05 s orders per second. Printed:
orders/s over the whole command (process start, sign-in and mapping load
included) and over the simulator's view (first request start to last
request end), the efficiency against the bound, the requests per order and
the most requests the simulator saw in flight at once.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def make_orders(sim, n, tag):
    customers = [r["CustomerID"]["value"] for r in sim.call("GET", "/records/Customer")]
    items = [r["InventoryID"]["value"] for r in sim.call("GET", "/records/StockItem")]
    orders = []
    for k in range(n):
        orders.append({"transaction_number": "BENCH-%s-%05d" % (tag, k),
                       "customer_id": customers[k % len(customers)],
                       "lines": [{"line_number": j + 1, "sku": items[(k + j) % len(items)],
                                  "quantity": 1 + j} for j in range(5)]})
    return orders


def push_once(sim, host, plugin, work, c, n, tag, batch_size):
    """Push n new orders with c connections and c batch executions; exits
    unless every one was created. The request log is cleared first."""
    orders = make_orders(sim, n, "%s-%d" % (tag, int(time.time())))
    inp = work("orders-%s.jsonl" % tag)
    with open(inp, "w") as f:
        for o in orders:
            f.write(json.dumps(o) + "\n")
    settings_path = work("settings-%s.json" % tag)
    benchlib.write_settings(settings_path, benchlib.settings(
        sim, concurrent_connections=c, concurrent_batch_executions=c,
        api_throttle_limit=100000, api_throttle_seconds=60))
    sim.clear_requests()
    results = work("results-%s.jsonl" % tag)
    m = benchlib.run_measured(benchlib.host_cmd(
        host, work("state-%s.db" % tag), "push", "--plugin", plugin, "--config",
        settings_path, "--flow", "sales_orders", "--in", inp, "--results", results,
        "--batch-size", str(batch_size)), work, "push-%s" % tag)
    benchlib.check_rc(m, "connector-host push")
    with open(results) as f:
        outcomes = [json.loads(line)["outcome"] for line in f if line.strip()]
    if outcomes.count("created") != n:
        sys.exit("bench: %d of %d orders created (%s)" % (
            outcomes.count("created"), n, sorted(set(outcomes))))
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("build", nargs="?", default=os.path.join(benchlib.ROOT, "build", "release"))
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--delay-ms", type=int, default=50)
    ap.add_argument("--connections", default="1,5,10")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    host, plugin = benchlib.find_build(args.build)
    conns = [int(c) for c in args.connections.split(",")]
    work = benchlib.WorkDir("push", args.keep)
    sim = None
    try:
        benchlib.banner("Benchmark 2: push %d sales orders x 5 lines, every SalesOrder PUT "
                        "answered after %d ms" % (args.orders, args.delay_ms))
        print("%s; build %s (%s)" % (benchlib.machine(), args.build,
                                     benchlib.build_type(args.build) or "?"))
        sim = benchlib.Simulator(work, "--seed", "3", "--customers", "200", "--items", "100",
                                 "--warehouses", "2", "--orders", "0", "--api-user-seats", "none")
        sim.call("POST", "/faults", [{"name": "slow-write", "method": "PUT",
                                      "path": "/SalesOrder$", "delay_ms": args.delay_ms}])
        # The fixed cost of one command (start, plugin load, init with the
        # mappings, sign-in) from a push of one order: not counted per order.
        base = push_once(sim, host, plugin, work, 1, 1, "base", args.batch_size)
        rows = []
        for c in conns:
            m = push_once(sim, host, plugin, work, c, args.orders, "C%d" % c, args.batch_size)
            log = [e for e in sim.requests() if "/entity/" in e["path"]]
            with open(work("requests-%d.json" % c), "w") as f:
                json.dump(log, f)
            stats = sim.call("GET", "/stats")
            puts = sum(1 for e in log if e["method"] == "PUT")
            span = max(e["end"] for e in log) - min(e["start"] for e in log)
            put_ms = 1000 * sum(e["end"] - e["start"] for e in log if e["method"] == "PUT") / puts
            gets = [e for e in log if e["method"] == "GET"]
            get_ms = 1000 * sum(e["end"] - e["start"] for e in gets) / max(1, len(gets))
            busy = sum(e["end"] - e["start"] for e in log) / span
            bound = c / (args.delay_ms / 1000.0)
            rate_cmd = args.orders / m.wall
            rate_sim = args.orders / span
            rows.append((c, "%.1f" % m.wall, "%.1f" % rate_cmd, "%.1f" % rate_sim,
                         "%.0f" % bound, "%.0f %%" % (100 * rate_cmd / bound),
                         "%.0f %%" % (100 * rate_sim / bound),
                         "%.2f" % (len(log) / args.orders), puts,
                         stats.get("max_concurrency", "?"), "%.1f" % busy,
                         "%.1f" % put_ms, "%.1f" % get_ms,
                         "%.0f" % ((m.cpu - base.cpu) * 1e6 / args.orders)))
        print("%d orders per run, all created; batch size %d; duplicate checking off"
              % (args.orders, args.batch_size))
        print()
        benchlib.table(["connections", "wall s", "orders/s", "orders/s (sim)", "bound/s",
                        "efficiency", "eff. (sim)", "requests/order", "PUTs",
                        "max in flight", "avg in flight", "PUT ms", "GET ms",
                        "CPU us/order"], rows)
        print("bound = connections / %.3f s; 'sim' = first request start to last request end "
              "in the simulator's log (no process start, sign-in or mapping load);"
              % (args.delay_ms / 1000.0))
        print("avg in flight = the requests' time in the simulator / that span; PUT ms, GET ms = "
              "mean time from request head read to answer sent, as the simulator logs them; "
              "CPU = the connector-host process, less the %.0f ms of a push of one order "
              "(start, init, sign-in)" % (base.cpu * 1000))
    finally:
        if sim is not None:
            sim.stop()
        work.close()


if __name__ == "__main__":
    main()
