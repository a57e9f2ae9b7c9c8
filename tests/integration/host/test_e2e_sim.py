"""The real plugin, loaded by connector-host, against the Acumatica
simulator (tests/sim): `pull` and `push` from the command line, and the
hot-swap test of issue 7 section 2 with `connector-host run`.

Skipped (exit 77) until the plugin's `describe` lists the flows these
tests use as implemented (flows[].implemented: true, or a list of the
implemented directions).

Environment (set by CTest): CONNECTOR_HOST, E2E_PLUGIN_DIR (two builds of
the plugin, E2E_VERSION_A and E2E_VERSION_B), SIM (tests/sim/acumatica_sim.py).
"""
import collections
import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import hosttest
from hosttest import host, query, read_jsonl, wait_for, write_json, write_lines

PLUGIN_DIR = os.environ.get("E2E_PLUGIN_DIR", "")
VERSION_A = os.environ.get("E2E_VERSION_A", "")
VERSION_B = os.environ.get("E2E_VERSION_B", "")
SIM = os.environ.get("SIM", "")
ENDPOINT = "22.200.001"


def plugin(version):
    return os.path.join(PLUGIN_DIR, "acumatica-%s.so" % version)


def implemented_flows(path):
    """{(flow, direction)} the plugin says it implements."""
    r = host("describe", "--plugin", path)
    if r.rc != 0:
        raise SystemExit("describe failed: %r" % r)
    out = set()
    for f in json.loads(r.out).get("flows", []):
        impl = f.get("implemented")
        dirs = f.get("directions", [])
        if impl is True:
            out.update((f["name"], d) for d in dirs)
        elif isinstance(impl, list):
            out.update((f["name"], d) for d in impl)
    return out


NEEDED = {("customers", "to_host"), ("sales_orders", "from_host")}


class Simulator:
    """tests/sim/acumatica_sim.py on a free port, seeded."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, SIM, "--port", "0"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.stop()
            raise AssertionError("the simulator did not start")
        self.root = self.url[:-len("/AcumaticaERP")]
        self.config = self.get_root("/_sim/config")
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.lock = threading.Lock()

    def get_root(self, path):
        with urllib.request.urlopen(self.root + path, timeout=60) as r:
            return json.loads(r.read())

    def records(self, entity):
        return self.get_root("/_sim/records/%s?version=%s" % (entity, ENDPOINT))

    def api(self, method, path, body=None):
        """A request to the site as a person would make it (cookie session)."""
        with self.lock:
            req = urllib.request.Request(
                self.url + path, method=method,
                data=json.dumps(body).encode() if body is not None else None,
                headers={"Content-Type": "application/json", "Accept": "application/json"})
            with self.opener.open(req, timeout=60) as r:
                return r.status

    def login(self):
        c = self.config
        return self.api("POST", "/entity/auth/login",
                        {"name": c["username"], "password": c["password"], "tenant": c["tenant"]})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc.stdout.close()


class E2ETestCase(hosttest.HostTestCase):
    def setUp(self):
        super().setUp()
        self.sim = Simulator("--seed", "11", "--customers", "40", "--items", "12",
                             "--warehouses", "2", "--orders", "0", "--api-user-seats", "none")
        with open(self.path("client_secret"), "w") as f:
            f.write(self.sim.config["client_secret"] + "\n")
        os.environ["E2E_SIM_PASSWORD"] = self.sim.config["password"]
        self.customers = [r["CustomerID"]["value"] for r in self.sim.records("Customer")]
        self.items = [r["InventoryID"]["value"] for r in self.sim.records("StockItem")]

    def tearDown(self):
        super().tearDown()
        self.sim.stop()

    def settings(self):
        """Settings with the secrets given by reference, never inline."""
        c = self.sim.config
        return {"api_url": self.sim.url, "allow_http_loopback": True,
                "grant_type": "password", "username": c["username"],
                "password": {"env": "E2E_SIM_PASSWORD"},
                "client_id": c["client_id"], "client_secret": {"file": self.path("client_secret")},
                "time_zone_offset": "+00:00", "endpoint_version": ENDPOINT,
                "sales_order_duplicate_checking": True}

    def resolved_settings(self):
        s = self.settings()
        s["password"] = self.sim.config["password"]
        s["client_secret"] = self.sim.config["client_secret"]
        return s

    def order(self, number, k):
        return {"transaction_number": number,
                "customer_id": self.customers[k % len(self.customers)],
                "lines": [{"sku": self.items[(k + j) % len(self.items)], "quantity": 1 + j}
                          for j in range(2)]}

    def orders_in_sim(self):
        return collections.Counter(
            (r.get("CustomerOrder") or {}).get("value") for r in self.sim.records("SalesOrder"))


class CliTest(E2ETestCase):
    """connector-host pull and push against the simulator."""

    def test_pull_and_push(self):
        write_json(self.path("acme.json"), self.resolved_settings())
        base = ["--state", self.path("state.db")]
        r = host(*base, "pull", "--plugin", plugin(VERSION_A), "--config", self.path("acme.json"),
                 "--flow", "customers", "--out", self.path("customers.jsonl"), timeout=300)
        self.assertEqual(r.rc, 0, r)
        ids = collections.Counter(x["id"] for x in read_jsonl(self.path("customers.jsonl")))
        self.assertEqual(sorted(ids), sorted(self.customers))
        self.assertEqual(set(ids.values()), {1})
        # Nothing changed: the next pull delivers nothing again.
        r = host(*base, "pull", "--plugin", plugin(VERSION_A), "--config", self.path("acme.json"),
                 "--flow", "customers", "--out", self.path("customers.jsonl"), timeout=300)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(read_jsonl(self.path("customers.jsonl"))), len(self.customers))

        # A full re-read under a tight throttle (2 starts a second, pages of
        # 10): the summary names the plugin's traffic (ABI 1.1 progress), and
        # the run summary counts exactly the requests the simulator saw.
        slow = dict(self.resolved_settings(), page_size=10, api_throttle_limit=2,
                    api_throttle_seconds=1)
        write_json(self.path("slow.json"), slow)
        urllib.request.urlopen(urllib.request.Request(self.sim.root + "/_sim/requests",
                                                      method="DELETE"), timeout=60).close()
        r = host(*base, "pull", "--plugin", plugin(VERSION_A), "--config", self.path("slow.json"),
                 "--flow", "customers", "--full", "--out", self.path("slow.jsonl"), timeout=300)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(read_jsonl(self.path("slow.jsonl"))), len(self.customers))
        seen = len(self.sim.get_root("/_sim/requests"))
        counts = json.loads(hosttest.query(self.path("state.db"),
                                           "SELECT counts FROM runs ORDER BY id DESC")[0][0])
        plugin_counts = counts["plugin"]
        self.assertEqual(plugin_counts["requests"], seen, counts)
        self.assertGreaterEqual(plugin_counts["pages"], 4, counts)
        self.assertGreater(plugin_counts["throttle_waits"], 0, counts)
        self.assertGreater(plugin_counts["throttle_wait_ms"], 0, counts)
        self.assertRegex(r.err, r"slow customers: %d requests \(0 retries, 0 answers 429\), "
                                r"throttle waits [1-9]\d* \(\d+\.\d s\)" % seen)

        orders = [self.order("CLI-%03d" % k, k) for k in range(12)]
        write_lines(self.path("orders.jsonl"), orders)
        push = [*base, "push", "--plugin", plugin(VERSION_A), "--config", self.path("acme.json"),
                "--flow", "sales_orders", "--in", self.path("orders.jsonl"),
                "--results", self.path("results.jsonl"), "--batch-size", "5"]
        r = host(*push, timeout=300)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([x["outcome"] for x in read_jsonl(self.path("results.jsonl"))],
                         ["created"] * 12)
        # The same orders again: duplicates (Sales Order Duplicate Checking).
        r = host(*push, timeout=300)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual({x["outcome"] for x in read_jsonl(self.path("results.jsonl"))},
                         {"duplicate"})
        in_sim = self.orders_in_sim()
        for o in orders:
            self.assertEqual(in_sim[o["transaction_number"]], 1, o["transaction_number"])
        # An unknown item: rejected with Acumatica's message; exit 6.
        bad = self.order("CLI-BAD", 0)
        bad["lines"][0]["sku"] = "NO-SUCH-ITEM"
        write_lines(self.path("orders.jsonl"), [bad])
        r = host(*push, timeout=300)
        self.assertEqual(r.rc, 6, r)
        res = read_jsonl(self.path("results.jsonl"))
        self.assertEqual(res[0]["outcome"], "rejected")
        self.assertIn("cannot be found", res[0]["result"]["message"])
        self.assertEqual(res[0]["result"]["errors"][0]["path"], "Details[0].InventoryID")
        self.assertNotIn(self.sim.config["password"], r.err + r.out)


class HotSwapTest(E2ETestCase):
    """Issue 7 section 2: three subscriptions, continuous pulls and a stream
    of pushes, one swapped A -> B -> A -> B -> A."""

    def host_file_for(self, s1_version):
        pull = {"flow": "customers", "direction": "pull", "every": "500ms"}
        push = {"flow": "sales_orders", "direction": "push", "every": "300ms", "batch_size": 10}
        subs = [{"name": "s1", "plugin_version": s1_version, "settings": self.settings(),
                 "flows": [pull, push]},
                {"name": "s2", "plugin_version": VERSION_A, "settings": self.settings(),
                 "flows": [pull, push]},
                {"name": "s3", "plugin_version": VERSION_B, "settings": self.settings(),
                 "flows": [pull]}]
        self.host_file(subs, plugin_dir=PLUGIN_DIR, workers=3, output_dir=self.path("out"),
                       shutdown_grace="20s", retry={"unit_seconds": 0.05, "max_attempts": 30})

    def make_customers(self, stop, made, errors):
        """New customers appear while the pulls run (the simulator gives
        them their numbers)."""
        try:
            self.sim.login()
            n = 0
            while not stop.is_set():
                cid = "E2E%04d" % n
                self.sim.api("PUT", "/entity/Default/%s/Customer" % ENDPOINT,
                             {"CustomerID": {"value": cid},
                              "CustomerName": {"value": "Swap test customer %d" % n}})
                made.append(cid)
                n += 1
                time.sleep(0.25)
        except (urllib.error.URLError, OSError) as e:
            errors.append(e)

    def feed_orders(self, stop, enqueued, errors):
        n = 0
        while not stop.is_set():
            sub = ("s1", "s2")[n % 2]
            batch = [self.order("SW-%s-%05d" % (sub, n + i), n + i) for i in range(5)]
            path = self.path("feed-%d.jsonl" % n)
            write_lines(path, batch)
            r = host("enqueue", "--config", self.path("host.json"), "--subscription", sub,
                     "--flow", "sales_orders", "--in", path)
            if r.rc != 0:
                errors.append(r)
                return
            enqueued.extend(o["transaction_number"] for o in batch)
            n += 5
            time.sleep(0.3)

    def swap(self, version):
        return host("swap", "--config", self.path("host.json"), "--subscription", "s1",
                    "--plugin-version", version, timeout=300)

    def test_swap_twice_under_load(self):
        self.host_file_for(VERSION_A)
        rt = self.start()
        for sub in ("s1", "s2", "s3"):
            rt.wait_log("started on", sub=sub, timeout=60)
        stop = threading.Event()
        made, enqueued, errors = [], [], []
        threads = [threading.Thread(target=self.make_customers, args=(stop, made, errors)),
                   threading.Thread(target=self.feed_orders, args=(stop, enqueued, errors))]
        for t in threads:
            t.start()
        try:
            time.sleep(3)
            r = self.swap(VERSION_B)                       # A -> B
            self.assertEqual(r.rc, 0, r)
            time.sleep(2)
            self.host_file_for(VERSION_A)                  # B -> A (host file + SIGHUP)
            rt.signal(signal.SIGHUP)
            rt.wait_log("swapped from acumatica %s to acumatica %s" % (VERSION_B, VERSION_A),
                        sub="s1", timeout=120)
            time.sleep(2)
            r = self.swap(VERSION_B)                       # A -> B
            self.assertEqual(r.rc, 0, r)
            time.sleep(2)
            rt.signal(signal.SIGHUP)                       # B -> A (the file says A)
            wait_for("the second swap back", lambda: len(
                [m for s, m in rt.messages() if s == "s1" and
                 m.startswith("swapped from acumatica %s" % VERSION_B)]) == 2, timeout=120)
            time.sleep(2)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        # The simulator numbers new customers itself: its own list is the
        # truth (the seeded ones and every one made during the swaps).
        all_customers = sorted(r["CustomerID"]["value"] for r in self.sim.records("Customer"))
        self.assertEqual(len(all_customers), len(self.customers) + len(made))

        def settled():
            q = query(self.path("state.db"), "SELECT count(*) FROM queue WHERE state IN "
                      "('pending', 'in_flight')")
            if q != [(0,)]:
                return False
            for sub in ("s1", "s2", "s3"):
                got = {x["id"] for x in read_jsonl(self.path("out", sub, "customers.jsonl"))}
                if not set(all_customers) <= got:
                    return False
            return True
        try:
            wait_for("every order pushed and every customer pulled", settled, timeout=300)
        except AssertionError:
            # Say what is missing.
            q = query(self.path("state.db"), "SELECT state, outcome, count(*) FROM queue "
                      "GROUP BY state, outcome")
            missing = {}
            for sub in ("s1", "s2", "s3"):
                got = {x["id"] for x in read_jsonl(self.path("out", sub, "customers.jsonl"))}
                missing[sub] = sorted(set(all_customers) - got)[:10]
            errs = [l for l in rt.lines() if l["level"] == "error"][-5:]
            raise AssertionError("not settled: queue %r; customers missing %r; last errors %r"
                                 % (q, missing, errs))
        self.assertEqual(rt.stop(), 0, rt.stderr_text())
        err = rt.stderr_text()
        self.assertNotIn("AddressSanitizer", err)
        self.assertNotIn("runtime error:", err)

        # Every pushed order exists exactly once in Acumatica.
        in_sim = self.orders_in_sim()
        for number in enqueued:
            self.assertEqual(in_sim[number], 1, number)
        states = dict(query(self.path("state.db"),
                            "SELECT state, count(*) FROM queue GROUP BY state"))
        self.assertEqual(states, {"done": len(enqueued)})
        # Every customer delivered to every subscription, none twice.
        for sub in ("s1", "s2", "s3"):
            ids = collections.Counter(
                x["id"] for x in read_jsonl(self.path("out", sub, "customers.jsonl")))
            self.assertEqual(sorted(ids), all_customers, sub)
            self.assertEqual(set(ids.values()), {1}, sub)
        # The others never paused.
        for sub in ("s2", "s3"):
            starts = [r[0] / 1000.0 for r in query(
                self.path("state.db"), "SELECT start_ms FROM runs WHERE subscription = ? AND "
                "direction = 'pull' ORDER BY id", sub)]
            gaps = [b - a for a, b in zip(starts, starts[1:])]
            print("%s: %d pulls, longest gap %.2f s" % (sub, len(starts), max(gaps)))
            self.assertLess(max(gaps), 4.0 * hosttest.SLOW, sub)
        self.assertEqual(len([m for s, m in rt.messages()
                              if s == "s1" and m.startswith("swapped from")]), 4)


if __name__ == "__main__":
    if not (PLUGIN_DIR and VERSION_A and VERSION_B and SIM):
        print("E2E_PLUGIN_DIR, E2E_VERSION_A, E2E_VERSION_B and SIM must be set",
              file=sys.stderr)
        sys.exit(2)
    missing = NEEDED - implemented_flows(plugin(VERSION_A))
    if missing and os.environ.get("HOST_E2E_FORCE") != "1":
        print("SKIPPED: the plugin's describe does not list these flows as implemented yet: %s"
              % ", ".join("%s %s" % m for m in sorted(missing)), file=sys.stderr)
        sys.exit(77)
    hosttest.main()
