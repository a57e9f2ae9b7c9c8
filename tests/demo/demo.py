#!/usr/bin/env python3
"""make demo: the connector end to end against a simulated Acumatica.

Starts the simulator with seeded data, authorizes the connector with the
OAuth authorization-code flow (PKCE; the simulator approves as a person
would), ships a few open orders today as a warehouse clerk would (through
Acumatica's REST API: the seeded shipments are older than the first
tracking pull's look-back), pulls every flow, pushes sample orders - one
of them twice and one with an unknown item - and a tracking number, then
prints a summary and where the outputs are. Everything goes through the reference host
(connector-host) loading the plugin with the real loader.

Usage: demo.py BUILD_DIR
"""
import collections
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOWS_IN = ["customers", "products", "locations", "inventory", "tracking"]
ENDPOINT = "/entity/Default/22.200.001"
# Transaction Tracking Number Poll Search Days: the plugin's default, left
# as it is in the demo's settings.
TRACKING_POLL_DAYS = 4


def say(text=""):
    print(text, flush=True)


def title(text):
    say()
    say("== " + text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def val(field):
    """The value of an Acumatica field ({"value": x})."""
    return field.get("value") if isinstance(field, dict) else field


class Clerk:
    """A person at the warehouse using Acumatica's REST API with a cookie
    session (not the connector): ships orders and enters tracking numbers."""

    def __init__(self, base, cfg):
        self.base = base
        self.cfg = cfg
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None, expect=(200, 204)):
        req = urllib.request.Request(
            self.base + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with self.opener.open(req, timeout=60) as resp:
                status, text, headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, text, headers = e.code, e.read(), e.headers
        if status not in expect:
            raise RuntimeError("%s %s: %d %s" % (method, path, status, text[:300]))
        self.status = status
        return (json.loads(text) if text else None), headers

    def __enter__(self):
        self.call("POST", "/entity/auth/login", {"name": self.cfg["username"],
                                                 "password": self.cfg["password"],
                                                 "tenant": self.cfg["tenant"]})
        return self

    def __exit__(self, *exc):
        self.call("POST", "/entity/auth/logout", expect=(200, 204))

    def open_orders(self, n):
        """n open orders that have no shipment yet."""
        orders, _ = self.call("GET", ENDPOINT + "/SalesOrder?$filter=Status eq 'Open'"
                              "&$expand=Details,Shipments".replace(" ", "%20"))
        return [o for o in orders if not o.get("Shipments")][:n]

    def ship(self, order, tracking_number):
        """Ship the order (the Create Shipment action, 202 then polled),
        put one package with the tracking number on it; the shipment number."""
        otype, nbr = val(order["OrderType"]), val(order["OrderNbr"])
        _, headers = self.call("POST", ENDPOINT + "/SalesOrder/SalesOrderCreateShipment",
                               {"entity": {"OrderType": {"value": otype},
                                           "OrderNbr": {"value": nbr}},
                                "parameters": {"WarehouseID": {
                                    "value": val(order["Details"][0]["WarehouseID"])}}},
                               expect=(202, 204))
        location = headers.get("Location") if self.status == 202 else None
        if location:
            path = urllib.parse.urlsplit(location).path
            path = path[path.index(ENDPOINT):]
            for _ in range(240):                     # the action runs: 202 until done
                self.call("GET", path, expect=(202, 204, 200))
                if self.status != 202:
                    break
                time.sleep(0.25)
        so, _ = self.call("GET", ENDPOINT + "/SalesOrder/%s/%s?$expand=Shipments" % (otype, nbr))
        shipment = val(so["Shipments"][-1]["ShipmentNbr"])
        self.call("PUT", ENDPOINT + "/Shipment",
                  {"ShipmentNbr": {"value": shipment},
                   "Packages": [{"BoxID": {"value": "LARGE"},
                                 "TrackingNbr": {"value": tracking_number},
                                 "Weight": {"value": 2}}]})
        return shipment


class Demo:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.host = os.path.join(self.build, "bin", "connector-host")
        plugins = sorted(f for f in os.listdir(os.path.join(self.build, "plugins"))
                         if f.startswith("acumatica-") and f.endswith(".so"))
        if not plugins:
            sys.exit("demo: no plugin in %s/plugins; build first" % self.build)
        self.plugin = os.path.join(self.build, "plugins", plugins[-1])
        self.out = os.path.join(self.build, "demo")
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out)
        self.state = os.path.join(self.out, "state.db")
        self.settings_file = os.path.join(self.out, "settings.json")
        self.sim = None

    # ---- the simulator -------------------------------------------------------
    def start_sim(self):
        log = open(os.path.join(self.out, "simulator.log"), "w")
        self.sim = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "sim", "acumatica_sim.py"),
             "--port", "0", "--seed", "42", "--customers", "250", "--items", "60",
             "--warehouses", "3", "--orders", "120", "--lines", "3", "--shipments", "40",
             "--tz-offset", "-05:00"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        self.base = self.sim.stdout.readline().strip()
        if not self.base.startswith("http"):
            sys.exit("demo: the simulator did not start; see %s/simulator.log" % self.out)
        self.control = self.base[:self.base.index("/", len("http://"))] + "/_sim"

    def sim_call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def stop(self):
        if self.sim is not None and self.sim.poll() is None:
            self.sim.send_signal(signal.SIGTERM)
            try:
                self.sim.wait(10)
            except subprocess.TimeoutExpired:
                self.sim.kill()

    # ---- the host ----------------------------------------------------------------
    def run(self, *args, quiet=False, check=True, stdin=None):
        cmd = [self.host, "--state", self.state, *args]
        p = subprocess.run(cmd, capture_output=True, text=True, input=stdin)
        if not quiet:
            for line in (p.stdout + p.stderr).splitlines():
                say("   " + line)
        if check and p.returncode not in (0, 6):
            self.stop()
            sys.exit("demo: %s exited %d" % (" ".join(args[:1]), p.returncode))
        return p

    # ---- the story -------------------------------------------------------------------
    def configure(self):
        cfg = self.sim_call("GET", "/config")
        self.redirect = "http://127.0.0.1:%d/callback" % free_port()
        self.sim_call("POST", "/config", {"auto_approve": True,
                                          "redirect_uris": [self.redirect]})
        settings = {
            "api_url": self.base,
            "allow_http_loopback": True,
            "grant_type": "authorization_code",
            "client_id": cfg["client_id"],
            "client_secret": cfg["client_secret"],
            "redirect_url": self.redirect,
            "endpoint_version": "22.200.001",
            "time_zone_offset": "-05:00",
            "sales_order_duplicate_checking": True,
            "page_size": 100,
        }
        with open(self.settings_file, "w") as f:
            json.dump(settings, f, indent=2)
        os.chmod(self.settings_file, 0o600)

    def authorize(self):
        title("Authorize (OAuth authorization code with PKCE)")
        so = open(os.path.join(self.out, "authorize.out"), "w+")
        proc = subprocess.Popen([self.host, "--state", self.state, "authorize",
                                 "--plugin", self.plugin, "--config", self.settings_file,
                                 "--timeout", "60"], stdout=so, stderr=subprocess.STDOUT,
                                text=True)
        url = None
        for _ in range(200):
            so.seek(0)
            for line in so.read().splitlines():
                if line.strip().startswith("http"):
                    url = line.strip()
            if url or proc.poll() is not None:
                break
            time.sleep(0.05)
        if url is None:
            self.stop()
            sys.exit("demo: authorize printed no URL; see %s/authorize.out" % self.out)
        say("   open in a browser: " + url.split("?")[0] + "?...")
        say("   (the simulator plays the person who approves; the browser is urllib)")
        # The browser: the simulator approves and redirects to the listener.
        with urllib.request.urlopen(url, timeout=30) as resp:
            resp.read()
        proc.wait(60)
        so.seek(0)
        for line in so.read().splitlines():
            if not line.strip().startswith("http"):
                say("   " + line)
        if proc.returncode != 0:
            self.stop()
            sys.exit("demo: authorize failed")
        title("Check")
        self.run("check", "--plugin", self.plugin, "--config", self.settings_file)

    def ship_today(self):
        """Ship three open orders now: the first tracking pull looks back
        TRACKING_POLL_DAYS days, and the seeded shipments are older."""
        title("A warehouse clerk ships three open orders today (Acumatica's REST API)")
        seeded = self.sim_call("GET", "/records/Shipment")
        newest = max((val(sh.get("LastModifiedDateTime")) or "" for sh in seeded), default="")
        say("   the %d seeded shipments were last changed by %s; the first tracking pull"
            % (len(seeded), newest[:10] or "-"))
        say("   looks back %d days (Transaction Tracking Number Poll Search Days, default),"
            % TRACKING_POLL_DAYS)
        say("   so without today's shipments it would find nothing")
        stamp = time.strftime("%H%M%S")
        self.shipped_today = {}
        with Clerk(self.base, self.sim_call("GET", "/config")) as clerk:
            for k, order in enumerate(clerk.open_orders(3)):
                tracking = "1ZTODAY%s%d" % (stamp, k + 1)
                shipment = clerk.ship(order, tracking)
                self.shipped_today[tracking] = shipment
                say("   order %s %s -> shipment %s, package tracking %s" % (
                    val(order["OrderType"]), val(order["OrderNbr"]), shipment, tracking))
        if len(self.shipped_today) != 3:
            self.stop()
            sys.exit("demo: found %d open orders to ship, expected 3" % len(self.shipped_today))
        self.shipped_at = time.monotonic()

    def pull_all(self):
        self.counts = {}
        for flow in FLOWS_IN:
            title("Pull %s" % flow)
            if flow == "tracking":
                # A pull reads up to the server's clock a second ago: what
                # changed later belongs to the next pull.
                time.sleep(max(0.0, 2.0 - (time.monotonic() - self.shipped_at)))
            out = os.path.join(self.out, flow + ".jsonl")
            self.run("pull", "--plugin", self.plugin, "--config", self.settings_file,
                     "--flow", flow, "--out", out, "--no-progress")
            with open(out) as f:
                lines = [json.loads(l) for l in f if l.strip()]
            self.counts[flow] = len(lines)
            if lines:
                sample = json.dumps(lines[0]["record"])
                say("   first record: " + (sample[:160] + "..." if len(sample) > 160 else sample))
            if flow == "tracking":
                self.check_first_tracking([l["record"] for l in lines])

    def check_first_tracking(self, records):
        """The first tracking pull has a record for each package shipped
        today, and only for packages shipped within the look-back."""
        for rec in records:
            say("   tracking %s on shipment %s for order %s" % (
                rec.get("tracking_number"), rec.get("shipment_number"),
                ", ".join(o.get("order_number", "") for o in rec.get("orders", []))))
        got = {r.get("tracking_number"): r.get("shipment_number") for r in records}
        if any(got.get(t) != s for t, s in self.shipped_today.items()):
            self.stop()
            sys.exit("demo: the first tracking pull did not bring today's packages: %s"
                     % sorted(got))
        if set(got) - set(self.shipped_today):
            self.stop()
            sys.exit("demo: the first tracking pull brought packages older than %d days: %s"
                     % (TRACKING_POLL_DAYS, sorted(set(got) - set(self.shipped_today))))

    def records(self, flow):
        with open(os.path.join(self.out, flow + ".jsonl")) as f:
            return [json.loads(l)["record"] for l in f if l.strip()]

    def push_orders(self):
        title("Push sales orders (one sent twice, one with an unknown item)")
        customers = self.records("customers")
        skus = [p["sku"] for p in self.records("products") if p.get("type") != "non_stock"]
        stamp = time.strftime("%H%M%S")
        orders = []
        for k in range(3):
            c = customers[k]
            orders.append({
                "transaction_number": "DEMO-%s-%d" % (stamp, k + 1),
                "customer_id": c["customer_id"],
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "currency": "USD",
                "lines": [{"line_number": 1, "sku": skus[k], "quantity": 2,
                           "unit_price": {"amount": 19.99, "currency": "USD"}},
                          {"line_number": 2, "sku": skus[k + 3], "quantity": 1}],
                "ship_to": {"name": c.get("name", "Customer"), "line1": "1 Demo Street",
                            "city": "Springfield", "region": "IL", "postal_code": "62701",
                            "country": "US"},
            })
        orders.append(dict(orders[0]))                     # the same order again
        bad = json.loads(json.dumps(orders[1]))
        bad["transaction_number"] = "DEMO-%s-9" % stamp
        bad["lines"][0]["sku"] = "NO-SUCH-ITEM"            # refused by Acumatica
        orders.append(bad)
        path = os.path.join(self.out, "orders.jsonl")
        with open(path, "w") as f:
            for o in orders:
                f.write(json.dumps(o) + "\n")
        results = os.path.join(self.out, "order-results.jsonl")
        self.run("push", "--plugin", self.plugin, "--config", self.settings_file,
                 "--flow", "sales_orders", "--in", path, "--results", results)
        with open(results) as f:
            self.order_results = [json.loads(l) for l in f if l.strip()]
        say()
        for r in self.order_results:
            res = r.get("result") or {}
            ident = "%s %s" % (res.get("OrderType", ""), res.get("OrderNbr", "")) \
                if res.get("OrderNbr") else ""
            say("   line %d %-10s %-9s %s" % (r["line"], res.get("record_id", ""),
                                             r["outcome"], ident))
            if r["outcome"] == "rejected":
                for e in res.get("errors", []):
                    say("        %s = '%s': %s" % (e.get("path"), e.get("value", ""),
                                                   e.get("message")))
        self.first_order = orders[0]["transaction_number"]

    def push_tracking(self):
        title("Push a tracking number for the first order (creates its shipment)")
        path = os.path.join(self.out, "tracking-in.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"tracking_number": "1ZDEMO%s" % time.strftime("%H%M%S"),
                                "carrier": "ups",
                                "transaction_number": self.first_order}) + "\n")
        self.run("push", "--plugin", self.plugin, "--config", self.settings_file,
                 "--flow", "tracking", "--in", path, "--results",
                 os.path.join(self.out, "tracking-results.jsonl"))
        # A pull reads up to the server's clock a second ago: records changed
        # later belong to the next pull, so a new shipment needs a moment.
        time.sleep(2)
        title("Pull tracking again (only what changed since the last pull)")
        out = os.path.join(self.out, "tracking-2.jsonl")
        self.run("pull", "--plugin", self.plugin, "--config", self.settings_file,
                 "--flow", "tracking", "--out", out, "--no-progress")
        for rec in self.records("tracking-2"):
            say("   tracking %s on shipment %s for order %s" % (
                rec.get("tracking_number"), rec.get("shipment_number"),
                ", ".join(o.get("order_number", "") for o in rec.get("orders", []))))

    def summary(self):
        stats = self.sim_call("GET", "/stats")
        orders = self.sim_call("GET", "/records/SalesOrder")
        demo = [o for o in orders
                if str(o.get("CustomerOrder", {}).get("value", "")).startswith("DEMO-")]
        title("Summary")
        for flow in FLOWS_IN:
            say("   pulled %-10s %6d records  -> %s%s" % (
                flow, self.counts[flow], os.path.join(self.out, flow + ".jsonl"),
                "  (the packages shipped within the %d-day look-back)" % TRACKING_POLL_DAYS
                if flow == "tracking" else ""))
        outcomes = {}
        for r in self.order_results:
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        say("   pushed %d orders: %s  -> %s" % (
            len(self.order_results), ", ".join("%d %s" % (v, k) for k, v in sorted(outcomes.items())),
            os.path.join(self.out, "order-results.jsonl")))
        copies = collections.Counter(o["CustomerOrder"]["value"] for o in demo)
        created = {(r.get("result") or {}).get("record_id") for r in self.order_results
                   if r["outcome"] == "created"}
        if any(n != 1 for n in copies.values()) or set(copies) != created:
            self.stop()
            sys.exit("demo: the DEMO- orders in Acumatica are not the created ones, each "
                     "once: %s" % dict(copies))
        say("   orders in Acumatica with a DEMO- number: %d (each exactly once)" % len(demo))
        say("   simulator: %d requests, at most %d at once" % (
            stats.get("requests", 0), stats.get("max_concurrency", 0)))
        say("   host state (cursors, tokens encrypted at rest): " + self.state)
        say("   simulator log: " + os.path.join(self.out, "simulator.log"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = Demo(sys.argv[1])
    try:
        title("Plugins in %s" % os.path.dirname(d.plugin))
        d.run("plugins", "--dir", os.path.dirname(d.plugin))
        title("Start a simulated Acumatica (tests/sim)")
        d.start_sim()
        say("   " + d.base)
        d.configure()
        d.authorize()
        d.ship_today()
        d.pull_all()
        d.push_orders()
        d.push_tracking()
        d.summary()
    finally:
        d.stop()


if __name__ == "__main__":
    main()
