#!/usr/bin/env python3
"""make demo: the connector end to end against a simulated Acumatica.

Starts the simulator with seeded data, authorizes the connector with the
OAuth authorization-code flow (PKCE; the simulator approves as a person
would), pulls every flow, pushes sample orders - one of them twice and one
with an unknown item - and a tracking number, then prints a summary and
where the outputs are. Everything goes through the reference host
(connector-host) loading the plugin with the real loader.

Usage: demo.py BUILD_DIR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOWS_IN = ["customers", "products", "locations", "inventory", "tracking"]


def say(text=""):
    print(text, flush=True)


def title(text):
    say()
    say("== " + text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    def pull_all(self):
        self.counts = {}
        for flow in FLOWS_IN:
            title("Pull %s" % flow)
            out = os.path.join(self.out, flow + ".jsonl")
            self.run("pull", "--plugin", self.plugin, "--config", self.settings_file,
                     "--flow", flow, "--out", out, "--no-progress")
            with open(out) as f:
                lines = [json.loads(l) for l in f if l.strip()]
            self.counts[flow] = len(lines)
            if lines:
                sample = json.dumps(lines[0]["record"])
                say("   first record: " + (sample[:160] + "..." if len(sample) > 160 else sample))

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
            say("   pulled %-10s %6d records  -> %s" % (flow, self.counts[flow],
                                                      os.path.join(self.out, flow + ".jsonl")))
        outcomes = {}
        for r in self.order_results:
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        say("   pushed %d orders: %s  -> %s" % (
            len(self.order_results), ", ".join("%d %s" % (v, k) for k, v in sorted(outcomes.items())),
            os.path.join(self.out, "order-results.jsonl")))
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
        d.pull_all()
        d.push_orders()
        d.push_tracking()
        d.summary()
    finally:
        d.stop()


if __name__ == "__main__":
    main()
