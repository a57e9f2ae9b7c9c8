#!/usr/bin/env python3
"""How fast does the simulator serve sales orders? (a benchmark, not a test)

    python3 tests/sim/bench_sim.py [--orders 20000] [--lines 5] [--page 500]
                                   [--clients 1] [--version 22.200.001] [--no-http]

1. In process: seeds an EntityService and pages through the orders with
   $expand=Details, calling EntityService.handle() directly (the data side alone).
2. Over HTTP: starts the real simulator (acumatica_sim.py --port 0 --seed …),
   signs in with a cookie session (the credentials come from GET /_sim/config),
   pages through the same orders with keep-alive connections (`--clients` of them
   in parallel, each taking every n-th page), reads every byte, signs out and
   stops the server.

Prints, for each: pages, orders and records (orders + lines) per second and MB/s.
A client benchmark that reaches these numbers is measuring the simulator, not
itself. Python standard library only.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def count_orders(body):
    """Orders in a page without parsing it (parsing 5 MB in Python would dominate):
    every order has one OrderNbr, detail lines have none."""
    return body.count(b'"OrderNbr":')


def report(label, orders, lines, nbytes, seconds, pages):
    recs = orders * (1 + lines)
    print("%-10s %6d pages  %7d orders  %8.0f orders/s  %9.0f records/s  %6.1f MB/s  (%.2f s)"
          % (label, pages, orders, orders / seconds, recs / seconds, nbytes / seconds / 1e6, seconds))


def in_process(args):
    import clock
    import config
    import entity_api
    svc = entity_api.EntityService(config.Config(), clock.Clock())
    t0 = time.monotonic()
    svc.seed({"seed": 1, "orders": args.orders, "lines": args.lines, "customers": 500,
              "items": 500, "warehouses": 4, "shipments": 0})
    print("seeded %d orders x %d lines in %.1f s" % (args.orders, args.lines, time.monotonic() - t0))
    path = "/entity/Default/%s/SalesOrder" % args.version
    t0 = time.monotonic()
    got = nbytes = pages = 0
    while True:
        r = svc.handle("GET", path, {"$expand": "Details", "$top": str(args.page),
                                     "$skip": str(got)}, None, {}, {})
        assert r.status == 200, r.status
        n = count_orders(r.body)
        nbytes += len(r.body)
        pages += 1
        got += n
        if n < args.page:
            break
    report("in-process", got, args.lines, nbytes, time.monotonic() - t0, pages)


class Conn:
    def __init__(self, host, port, cookie=None):
        self.c = http.client.HTTPConnection(host, port, timeout=300)
        self.cookie = cookie

    def request(self, method, path, body=None):
        headers = {"Accept": "application/json"}
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.c.request(method, path, body=body, headers=headers)
        r = self.c.getresponse()
        data = r.read()
        return r.status, r.getheaders(), data


def over_http(args):
    cmd = [sys.executable, os.path.join(HERE, "acumatica_sim.py"), "--port", "0", "--seed", "1",
           "--orders", str(args.orders), "--lines", str(args.lines), "--customers", "500",
           "--items", "500", "--warehouses", "4", "--shipments", "0",
           "--api-user-seats", "none"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip()
        if not base:
            print("the simulator did not start")
            return 1
        print("simulator up at %s after %.1f s (seeding included)" % (base, time.monotonic() - t0))
        u = urllib.parse.urlsplit(base)
        site = u.path
        root = Conn(u.hostname, u.port)
        st, _, body = root.request("GET", "/_sim/config")
        cfg = json.loads(body)
        login = Conn(u.hostname, u.port)
        st, headers, _ = login.request("POST", site + "/entity/auth/login",
                                       {"name": cfg["username"], "password": cfg["password"],
                                        "tenant": cfg["tenant"]})
        if st != 204:
            print("sign-in failed: %d" % st)
            return 1
        jar = {}
        for k, v in headers:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                jar[name] = rest.split(";")[0]
        cookie = "; ".join("%s=%s" % kv for kv in jar.items())
        path = site + "/entity/Default/%s/SalesOrder" % args.version
        total_pages = (args.orders + args.page - 1) // args.page
        results = []
        lock = threading.Lock()

        def client(k):
            c = Conn(u.hostname, u.port, cookie)
            got = nbytes = pages = 0
            for p in range(k, total_pages + 1, args.clients):
                q = urllib.parse.urlencode({"$expand": "Details", "$top": args.page,
                                            "$skip": p * args.page})
                st, _, body = c.request("GET", path + "?" + q)
                assert st == 200, st
                got += count_orders(body)
                nbytes += len(body)
                pages += 1
            with lock:
                results.append((got, nbytes, pages))

        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        got = sum(r[0] for r in results)
        report("http x%d" % args.clients, got, args.lines, sum(r[1] for r in results), elapsed,
               sum(r[2] for r in results))
        login.cookie = cookie
        login.request("POST", site + "/entity/auth/logout")
        return 0 if got == args.orders else 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=20000)
    p.add_argument("--lines", type=int, default=5)
    p.add_argument("--page", type=int, default=500)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--version", default="22.200.001")
    p.add_argument("--no-http", action="store_true", help="only the in-process measurement")
    args = p.parse_args()
    in_process(args)
    if args.no_http:
        return 0
    return over_http(args)


if __name__ == "__main__":
    sys.exit(main())
