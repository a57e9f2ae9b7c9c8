#!/usr/bin/env python3
"""Benchmark 1: pull sales orders, the plugin against plain curl.

    python3 tests/bench/bench_pull_curl.py [BUILD_DIR] [--orders 20000] [--lines 5]
                                           [--page 500] [--repeat 3] [--profile] [--keep]

Starts the simulator with ORDERS sales orders of LINES lines each and runs,
REPEAT times in turn:

  plugin       connector-host pull --flow sales_orders (the default mapping
               sales_orders.to_host: $select/$expand from what it reads, pages
               of PAGE fetched ahead up to Concurrent Connections = 5, every
               order mapped and written as a JSON line, a checkpoint per page);
  curl         one curl process fetching exactly the page URLs the plugin just
               sent (taken from the simulator's request log: same $filter,
               $select, $expand, $top, $skip), one after another on one
               keep-alive connection, same bearer-token authentication, gzip
               like the plugin (--compressed), bodies to /dev/null;
  curl x5      the same URLs with curl --parallel --parallel-max 5;
  plugin, mxfast=0
               the plugin's pull again with glibc's fastbins off
               (GLIBC_TUNABLES=glibc.malloc.mxfast=0). Freeing a page's JSON tree
               fills the fastbins with hundreds of thousands of small chunks; the
               next free that coalesces 64 KiB (the page's HTTP answer) makes glibc
               consolidate all of them (malloc_consolidate). This line shows what
               that costs.

CPU is user + system time of that one child process (its rusage from wait4),
so the simulator's work is never counted. Prints the medians and the ratios
plugin/curl of CPU per order and of wall time. With --profile it also runs
the plugin once under `perf record` and prints where its CPU goes (JSON parse,
mapping, JSON output, decompression, HTTP, the host's SQLite and writes).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

FASTBINS_OFF = "plugin, mxfast=0"


def curl_config(sim, token, urls, path):
    """A curl config file: the bearer header (kept in a 0600 file, never on a
    command line), gzip, one url/output pair per page."""
    lines = ['header = "Authorization: Bearer %s"' % token,
             'header = "Accept: application/json"',
             "compressed",
             "silent",
             "show-error",
             'write-out = "%{http_code} %{size_download}\\n"']
    for u in urls:
        lines.append('url = "%s"' % u.replace("\\", "\\\\").replace('"', '\\"'))
        lines.append('output = "/dev/null"')
    benchlib.write_private(path, "\n".join(lines) + "\n")


def curl_check(m, n):
    """(pages, bytes) from curl's write-out lines; exits unless all were 200."""
    codes = [ln.split() for ln in m.stdout.splitlines() if ln.strip()]
    bad = [c for c in codes if c[0] != "200"]
    if m.rc != 0 or len(codes) != n or bad:
        sys.exit("bench: curl failed (exit %d, %d of %d answers, not 200: %s)\n%s"
                 % (m.rc, len(codes), n, bad[:3], m.stderr[-2000:]))
    return sum(int(c[1]) for c in codes)


def profile(host, plugin, work, settings_path):
    """Run the plugin once under perf and classify its samples."""
    if shutil.which("perf") is None:
        print("(perf not installed: no profile)")
        return
    data = work("perf.data")
    state = work("profile.db")
    cmd = ["perf", "record", "-q", "-F", "2000", "-g", "--call-graph", "dwarf,16384",
           "-o", data, "--"] + benchlib.host_cmd(
        host, state, "pull", "--plugin", plugin, "--config", settings_path,
        "--flow", "sales_orders", "--out", work("profile.jsonl"), "--no-progress")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("(perf record failed: %s)" % r.stderr.strip().splitlines()[-1:])
        return
    rep = subprocess.run(["perf", "report", "-i", data, "--children", "--stdio",
                          "--no-demangle", "-g", "none", "--percent-limit", "0.5",
                          "--sort", "symbol"], capture_output=True, text=True)
    children = {}
    for line in rep.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].endswith("%") and "[.]" in parts:
            sym = parts[parts.index("[.]") + 1]
            children[sym] = max(children.get(sym, 0.0), float(parts[0][:-1]))
    self_rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                               "-g", "none", "--sort", "dso"], capture_output=True, text=True)
    dsos = []
    for line in self_rep.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith("%"):
            dsos.append((float(parts[0][:-1]), parts[1]))
    groups = [
        ("JSON parse of the pages (acu_json_parse)", "acu_json_parse"),
        ("mapping to host records (acu_map_to_host, emit included)", "acu_map_to_host"),
        ("  emit: serialise the record, the host takes it (emit_one)", "emit_one"),
        ("freeing JSON trees (json_object_put)", "json_object_put"),
        ("freeing the page's HTTP answer (acu_resp_free)", "acu_resp_free"),
        ("  glibc malloc_consolidate, anywhere", "malloc_consolidate"),
        ("transport (acu_http_run: libcurl, inflate, sockets)", "acu_http_run"),
        ("checkpoint (cursor text; host: fdatasync, SQLite)", "checkpoint"),
    ]
    print()
    print("Where the plugin process's CPU goes (perf, one run, inclusive share of samples):")
    rows = []
    for label, sym in groups:
        pct = children.get(sym, 0.0)
        rows.append((label, "%.1f %%" % pct if pct else "-"))
    benchlib.table(["part", "share"], rows)
    print()
    print("Self time by library:")
    benchlib.table(["library", "share"], [(d, "%.1f %%" % p) for p, d in dsos[:8]])
    print("(inclusive shares overlap; perf report -i %s for the rest, with --keep)" % data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("build", nargs="?", default=os.path.join(benchlib.ROOT, "build", "release"))
    ap.add_argument("--orders", type=int, default=20000)
    ap.add_argument("--lines", type=int, default=5)
    ap.add_argument("--page", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    host, plugin = benchlib.find_build(args.build)
    if shutil.which("curl") is None:
        sys.exit("bench: curl is not installed")
    work = benchlib.WorkDir("pull", args.keep)
    sim = None
    try:
        benchlib.banner("Benchmark 1: pull %d sales orders x %d lines (page %d), plugin vs curl"
                        % (args.orders, args.lines, args.page))
        print("%s; build %s (%s)" % (benchlib.machine(), args.build,
                                     benchlib.build_type(args.build) or "?"))
        sim = benchlib.Simulator(work, "--seed", "1", "--orders", str(args.orders),
                                 "--lines", str(args.lines), "--customers", "500",
                                 "--items", "500", "--warehouses", "4", "--shipments", "0",
                                 "--api-user-seats", "none")
        settings_path = work("settings.json")
        benchlib.write_settings(settings_path, benchlib.settings(sim, page_size=args.page))
        token = sim.token()
        runs = {"plugin": [], "curl": [], "curl x5": [], FASTBINS_OFF: []}
        pages = nbytes = 0
        for k in range(args.repeat):
            sim.clear_requests()
            out = work("orders-%d.jsonl" % k)
            m = benchlib.run_measured(benchlib.host_cmd(
                host, work("state-%d.db" % k), "pull", "--plugin", plugin, "--config",
                settings_path, "--flow", "sales_orders", "--out", out, "--no-progress"),
                work, "plugin-%d" % k)
            benchlib.check_rc(m, "connector-host pull --flow sales_orders")
            with open(out) as f:
                got = sum(1 for _ in f)
            if got != args.orders:
                sys.exit("bench: the plugin delivered %d orders, expected %d" % (got, args.orders))
            runs["plugin"].append(m)
            log = sim.requests()
            entries = benchlib.page_requests(log, "SalesOrder")
            urls = [benchlib.url_of(sim, e) for e in sorted(
                entries, key=lambda e: int(e["query"]["$skip"]))]
            pages = len(urls)
            cfg = work("curl.cfg")
            curl_config(sim, token, urls, cfg)
            m = benchlib.run_measured(["curl", "-K", cfg], work, "curl-%d" % k)
            nbytes = curl_check(m, pages)
            runs["curl"].append(m)
            m = benchlib.run_measured(["curl", "--parallel", "--parallel-max", "5", "-K", cfg],
                                      work, "curlp-%d" % k)
            curl_check(m, pages)
            runs["curl x5"].append(m)
            # The same pull with glibc's fastbins off (see the docstring).
            env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.mxfast=0")
            m = benchlib.run_measured(benchlib.host_cmd(
                host, work("state-nofast-%d.db" % k), "pull", "--plugin", plugin, "--config",
                settings_path, "--flow", "sales_orders", "--out", work("nofast-%d.jsonl" % k),
                "--no-progress"), work, "nofast-%d" % k, env=env)
            benchlib.check_rc(m, "connector-host pull (fastbins off)")
            runs[FASTBINS_OFF].append(m)
        print("%d orders (%d records with their lines); the plugin sent %d page requests "
              "(%d with records, the rest fetched ahead past the end), %.1f MB gzip on the wire"
              % (args.orders, args.orders * (1 + args.lines), pages,
                 -(-args.orders // args.page), nbytes / 1e6))
        print("median of %d runs each; CPU = user + sys of the one process" % args.repeat)
        print()
        med = {}
        rows = []
        for name, ms in runs.items():
            cpu = statistics.median(x.cpu for x in ms)
            wall = statistics.median(x.wall for x in ms)
            rss = statistics.median(x.maxrss_kib for x in ms)
            med[name] = (cpu, wall)
            rows.append((name, "%.0f" % (cpu * 1e6 / args.orders), "%.2f" % cpu,
                         "%.2f" % wall, "%.0f" % (args.orders / wall), "%.1f" % (rss / 1024)))
        benchlib.table(["client", "CPU us/order", "CPU s", "wall s", "orders/s", "peak RSS MiB"],
                       rows)
        print()
        rows = []
        for ref in ("curl", "curl x5"):
            rows.append(("plugin / " + ref, "%.2f" % (med["plugin"][0] / med[ref][0]),
                         "%.2f" % (med["plugin"][1] / med[ref][1])))
        benchlib.table(["ratio", "CPU per order", "wall time"], rows)
        print("(the plugin also decodes, maps and writes every order as a JSON line and "
              "commits a checkpoint per page; curl discards the bytes)")
        print("%s: the same plugin pull with GLIBC_TUNABLES=glibc.malloc.mxfast=0 (no fastbins)"
              % FASTBINS_OFF)
        if args.profile:
            profile(host, plugin, work, settings_path)
    finally:
        if sim is not None:
            sim.stop()
        work.close()


if __name__ == "__main__":
    main()
