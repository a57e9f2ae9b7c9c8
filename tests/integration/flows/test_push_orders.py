"""Sales orders pushed through connector-host and the real plugin to the
simulator: Sales Order Duplicate Checking on and off, copies inside one
batch, a create whose answer is lost (commit then drop), 429/5xx/reset
faults on one request in ten over 2,000 orders, 422 detail-line errors
with their path and value, and one result per input record.

What "Sales Order Duplicate Checking" means (as these tests pin down):
  on   every order is looked up by its transaction number (CustomerOrder,
       within its OrderType) before it is created; one that exists is
       reported `duplicate` with the existing OrderType/OrderNbr.
  off  no lookup before the first attempt: pushing an order again after
       it was created creates it again. Whatever the setting, a create
       whose outcome is unknown (timeout, reset, 5xx after sending) - in
       this push or an earlier one, remembered by a marker in host state -
       is looked up before it is tried again, and later copies of an order
       in the same batch are looked up too (so they are duplicates).

Run one class: python3 test_push_orders.py DuplicateCheckingTest
"""
import collections
import time

import flowtest
from flowtest import v


class OrderTestCase(flowtest.FlowTestCase):
    def start(self, orders=0, customers=12, items=10, **settings):
        sim = self.start_sim("--seed", 31, "--customers", customers, "--items", items,
                             "--warehouses", 1, "--orders", orders)
        self.customers = sorted(v(c["CustomerID"]) for c in
                                sim.api("GET", "/Customer?$select=CustomerID"))
        self.items = sorted(v(i["InventoryID"]) for i in
                            sim.api("GET", "/StockItem?$select=InventoryID"))
        h = self.host(sim, **settings)
        return sim, h

    def order(self, number, k=0, lines=2):
        return {"transaction_number": number,
                "customer_id": self.customers[k % len(self.customers)],
                "lines": [{"sku": self.items[(k + j) % len(self.items)], "quantity": 1 + j}
                          for j in range(lines)]}

    def in_sim(self, sim):
        """CustomerOrder -> [(OrderType, OrderNbr)] of every order in the simulator."""
        out = collections.defaultdict(list)
        for o in sim.api("GET", "/SalesOrder?$select=OrderType,OrderNbr,CustomerOrder"):
            out[v(o.get("CustomerOrder"))].append((v(o["OrderType"]), v(o["OrderNbr"])))
        return out

    def outcomes(self, run):
        return [r["outcome"] for r in run.results]

    def assert_results_match_input(self, run, n):
        """One result line per input line, in order, each once."""
        self.assertEqual([r["line"] for r in run.results], list(range(1, n + 1)), run)


class DuplicateCheckingTest(OrderTestCase):
    def test_on(self):
        sim, h = self.start(sales_order_duplicate_checking=True)
        orders = [self.order("DUP-ON-%02d" % k, k) for k in range(10)]
        first = h.push("sales_orders", orders)
        self.assertEqual(first.rc, 0, first)
        self.assert_results_match_input(first, 10)
        self.assertEqual(self.outcomes(first), ["created"] * 10)
        made = {o["transaction_number"]: (r["result"]["OrderType"], r["result"]["OrderNbr"])
                for o, r in zip(orders, first.results)}
        in_sim = self.in_sim(sim)
        for number, key in made.items():
            self.assertEqual(in_sim[number], [key])
        self.assertEqual(len(first.results[0]["result"]["lines"]), 2)
        # Looked up before created.
        lookups = [r for r in sim.requests() if r["method"] == "GET" and
                   "CustomerOrder eq 'DUP-ON-03'" in r["query"].get("$filter", "")]
        self.assertEqual(len(lookups), 1)
        # The same orders again: duplicates, naming the existing orders.
        second = h.push("sales_orders", orders)
        self.assertEqual(second.rc, 0, second)                 # a duplicate is a success
        self.assertEqual(self.outcomes(second), ["duplicate"] * 10)
        for o, r in zip(orders, second.results):
            key = made[o["transaction_number"]]
            self.assertEqual((r["result"]["OrderType"], r["result"]["OrderNbr"]), key)
            self.assertIn(key[1], r["result"]["message"])
        in_sim = self.in_sim(sim)
        self.assertEqual(sum(len(in_sim[n]) for n in made), 10)
        self.assertEqual(h.markers(), [])

    def test_off(self):
        sim, h = self.start(sales_order_duplicate_checking=False)
        orders = [self.order("DUP-OFF-%02d" % k, k) for k in range(5)]
        sim.clear_requests()
        first = h.push("sales_orders", orders)
        self.assertEqual(self.outcomes(first), ["created"] * 5, first)
        # No lookup by transaction number.
        self.assertEqual([r for r in sim.requests() if "CustomerOrder eq" in
                          r["query"].get("$filter", "")], [])
        second = h.push("sales_orders", orders)
        self.assertEqual(self.outcomes(second), ["created"] * 5, second)
        in_sim = self.in_sim(sim)
        for o in orders:
            self.assertEqual(len(in_sim[o["transaction_number"]]), 2)

    def copies(self, checking):
        sim, h = self.start(sales_order_duplicate_checking=checking)
        a, b, c = (self.order("COPY-%s-%s" % (checking, x), k) for k, x in enumerate("ABC"))
        run = h.push("sales_orders", [a, b, a, c, a], batch_size=10)
        self.assert_results_match_input(run, 5)
        self.assertEqual(self.outcomes(run), ["created", "created", "duplicate", "created",
                                              "duplicate"], run)
        first = run.results[0]["result"]
        for r in (run.results[2], run.results[4]):
            self.assertEqual((r["result"]["OrderType"], r["result"]["OrderNbr"]),
                             (first["OrderType"], first["OrderNbr"]))
        in_sim = self.in_sim(sim)
        for o in (a, b, c):
            self.assertEqual(len(in_sim[o["transaction_number"]]), 1)

    def test_copies_in_one_batch_on(self):
        self.copies(True)

    def test_copies_in_one_batch_off(self):
        self.copies(False)


class ExactlyOnceTest(OrderTestCase):
    def commit_then_drop(self, checking):
        sim, h = self.start(sales_order_duplicate_checking=checking)
        # The second order PUT is applied and its answer never sent.
        sim.faults([{"method": "PUT", "path": "/SalesOrder$", "every": 2, "times": 1,
                     "commit_then_drop": True, "name": "lost answer"}])
        orders = [self.order("CTD-%s-%d" % (checking, k), k) for k in range(4)]
        run = h.push("sales_orders", orders, batch_size=10)
        self.assertEqual(run.rc, 0, run)
        self.assertEqual(self.outcomes(run), ["created"] * 4)
        dropped = [r for r in sim.requests() if r.get("fault_rule") == "lost answer" or
                   r.get("fault") == "commit_then_drop"]
        self.assertEqual(len(dropped), 1, dropped)
        recovered = [r for r in run.results if r["result"].get("recovered")]
        self.assertEqual(len(recovered), 1, run.results)
        in_sim = self.in_sim(sim)
        for o, r in zip(orders, run.results):
            self.assertEqual(in_sim[o["transaction_number"]],
                             [(r["result"]["OrderType"], r["result"]["OrderNbr"])])
        # The lookup that proved it came after the dropped PUT.
        number = [o["transaction_number"] for o, r in zip(orders, run.results)
                  if r["result"].get("recovered")][0]
        after = [r for r in sim.requests() if r["id"] > dropped[0]["id"] and
                 "CustomerOrder eq '%s'" % number in r["query"].get("$filter", "")]
        self.assertEqual(len(after), 1)
        self.assertEqual(h.markers(), [])

    def test_commit_then_drop_checking_off(self):
        self.commit_then_drop(False)

    def test_commit_then_drop_checking_on(self):
        self.commit_then_drop(True)


class BulkFaultsTest(OrderTestCase):
    def test_faults_on_one_request_in_ten(self):
        n = 2000
        # A throttle window of 1 s: each 429 halves the request rate for a
        # window (by design), and with 429s on every 70th request a 60 s
        # window would make this push take an hour.
        sim, h = self.start(customers=40, items=20, sales_order_duplicate_checking=False,
                            concurrent_connections=6, concurrent_batch_executions=8,
                            api_throttle_seconds=1, api_throttle_limit=1000)
        # About one site request in ten meets a fault: 429, 500, 503, a
        # reset before handling, or (PUTs) a write applied whose answer is
        # lost. Deterministic per seed.
        rules = [
            {"name": "429", "probability": 0.015, "seed": 11, "status": 429},
            {"name": "500", "probability": 0.025, "seed": 12, "status": 500},
            {"name": "503", "probability": 0.015, "seed": 13, "status": 503},
            {"name": "reset", "probability": 0.035, "seed": 14, "reset": True},
            {"name": "ctd", "method": "PUT", "probability": 0.02, "seed": 15,
             "commit_then_drop": True},
        ]
        sim.faults(rules)
        orders = [self.order("BULK-%05d" % k, k, lines=1) for k in range(n)]
        t = time.monotonic()
        run = h.push("sales_orders", orders, timeout=600)
        took = time.monotonic() - t
        self.assert_results_match_input(run, n)
        counts = collections.Counter(self.outcomes(run))
        self.assertEqual(set(counts) - {"created", "failed"}, set(), counts)
        stats = sim.stats()
        fired = {r["name"]: r["fired"] for r in sim.fault_counters()}
        site = stats["requests"]
        self.assertGreater(sum(fired.values()), site * 0.06, (fired, site))
        self.assertLess(sum(fired.values()), site * 0.14, (fired, site))
        for name in ("429", "500", "503", "reset", "ctd"):
            self.assertGreater(fired[name], 0, fired)
        sim.clear_faults()                  # (they would hit the test's own reads)
        in_sim = self.in_sim(sim)
        for o, r in zip(orders, run.results):
            have = in_sim.get(o["transaction_number"], [])
            if r["outcome"] == "created":
                self.assertEqual(have, [(r["result"]["OrderType"], r["result"]["OrderNbr"])],
                                 o["transaction_number"])
            else:
                self.assertLessEqual(len(have), 1, o["transaction_number"])
        self.assertEqual(sum(len(x) for k, x in in_sim.items() if k and k.startswith("BULK-")),
                         sum(1 for o in orders if in_sim.get(o["transaction_number"])))
        print("2,000 orders with faults: %s in %.1f s; %d site requests, faults %s; "
              "recovered %d" % (dict(counts), took, site, fired,
                                sum(1 for r in run.results if r["result"].get("recovered"))))
        # The failed ones again, without faults: all there, none twice.
        failed = [o for o, r in zip(orders, run.results) if r["outcome"] != "created"]
        if failed:
            again = h.push("sales_orders", failed)
            self.assertEqual(again.rc, 0, again)
            self.assertEqual(set(self.outcomes(again)), {"created"})
        in_sim = self.in_sim(sim)
        for o in orders:
            self.assertEqual(len(in_sim[o["transaction_number"]]), 1, o["transaction_number"])
        self.assertEqual(h.markers(), [])


class CancelPushTest(OrderTestCase):
    def test_sigint_mid_push_then_again(self):
        """SIGINT while orders are being written: every input line still gets
        a result (the rest `cancelled`), exit 5; the writes in flight finish
        first, so pushed again, every order is in the simulator exactly once.
        (Aborting them instead made a duplicate: Acumatica - the simulator -
        still committed an aborted write after the next push's look-up had
        found nothing.)"""
        import signal
        import subprocess
        sim, h = self.start(sales_order_duplicate_checking=False, concurrent_batch_executions=4)
        sim.faults([{"method": "PUT", "path": "/SalesOrder$", "delay_ms": 150}])
        orders = [self.order("STOP-%03d" % k, k, lines=1) for k in range(120)]
        inp = h._file("in.jsonl")
        res = h._file("results.jsonl")
        with open(inp, "w") as f:
            for o in orders:
                f.write(flowtest.json.dumps(o) + "\n")
        proc = subprocess.Popen([flowtest.HOST, "--state", h.state, "push", "--plugin",
                                 flowtest.PLUGIN, "--config", h.config, "--flow", "sales_orders",
                                 "--in", inp, "--results", res, "--batch-size", "30"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60 * flowtest.SLOW
        while time.monotonic() < deadline:
            puts = [r for r in sim.requests() if r["method"] == "PUT"]
            if len(puts) >= 40:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60 * flowtest.SLOW)
        h._check_secrets(err)
        self.assertEqual(proc.returncode, 5, err)
        results = flowtest.read_jsonl(res)
        self.assertEqual([r["line"] for r in results], list(range(1, 121)), err)
        counts = collections.Counter(r["outcome"] for r in results)
        self.assertEqual(set(counts) - {"created", "failed", "cancelled"}, set(), counts)
        self.assertGreater(counts["cancelled"], 0, counts)
        self.assertGreater(counts["created"], 0, counts)
        # The writes in flight at the stop were let finish (their outcome
        # known), not aborted: none failed, every PUT was answered.
        self.assertEqual(counts["failed"], 0, counts)
        puts = [r for r in sim.requests() if r["method"] == "PUT"]
        self.assertEqual([r for r in puts if r["status"] != 200], [])
        self.assertEqual(len(puts), counts["created"])
        in_sim = self.in_sim(sim)
        for o, r in zip(orders, results):
            n = len(in_sim.get(o["transaction_number"], []))
            if r["outcome"] == "created":
                self.assertEqual(n, 1)
            elif r["outcome"] == "cancelled":
                self.assertEqual(n, 0, r)                     # never sent
            else:
                self.assertLessEqual(n, 1)
        sim.clear_faults()
        rest = [o for o, r in zip(orders, results) if r["outcome"] != "created"]
        again = h.push("sales_orders", rest)
        self.assertEqual(again.rc, 0, again)
        in_sim = self.in_sim(sim)
        for o in orders:
            self.assertEqual(len(in_sim[o["transaction_number"]]), 1, o["transaction_number"])
        self.assertEqual(h.markers(), [])
        print("stopped push: %s" % dict(counts))


class FailedThenAgainTest(OrderTestCase):
    def test_lost_answer_and_failed_lookup_then_pushed_again(self):
        """Every create is applied but its answer lost, and the lookups
        that would prove it fail beyond the retries: each order is reported
        failed although it exists. Pushed again (no fault, checking off),
        the marker left in host state makes the plugin look first: found,
        reported created (recovered), never made twice."""
        sim, h = self.start(sales_order_duplicate_checking=False)
        sim.faults([{"method": "PUT", "path": "/SalesOrder$", "commit_then_drop": True},
                    {"method": "GET", "path": "/SalesOrder$", "query": "AGAIN-", "status": 500}])
        orders = [self.order("AGAIN-%02d" % k, k) for k in range(6)]
        first = h.push("sales_orders", orders)
        self.assertEqual(first.rc, 5, first)                    # failed: push again later
        self.assertEqual(self.outcomes(first), ["failed"] * 6)
        in_sim = self.in_sim(sim)
        for o in orders:
            self.assertEqual(len(in_sim[o["transaction_number"]]), 1)
        self.assertEqual(len(h.markers()), 6)
        sim.clear_faults()
        second = h.push("sales_orders", orders)
        self.assertEqual(second.rc, 0, second)
        self.assertEqual(self.outcomes(second), ["created"] * 6)
        in_sim = self.in_sim(sim)
        for o, r in zip(orders, second.results):
            self.assertTrue(r["result"].get("recovered"), r)
            self.assertEqual(in_sim[o["transaction_number"]],
                             [(r["result"]["OrderType"], r["result"]["OrderNbr"])])
        self.assertEqual(h.markers(), [])
        # And once the outcome is known, checking off means what it says.
        third = h.push("sales_orders", orders[:1])
        self.assertEqual(self.outcomes(third), ["created"])
        self.assertEqual(len(self.in_sim(sim)[orders[0]["transaction_number"]]), 2)


class RejectionTest(OrderTestCase):
    def test_detail_line_errors(self):
        sim, h = self.start()
        o = self.order("REJ-1", 0, lines=4)
        o["lines"][1]["sku"] = "NO-SUCH-1"
        o["lines"][3]["sku"] = "NO-SUCH-2"
        q = self.order("REJ-2", 1, lines=3)
        q["lines"][2]["quantity"] = -4
        run = h.push("sales_orders", [o, q, self.order("REJ-OK", 2)])
        self.assertEqual(run.rc, 6, run)                     # some were rejected
        self.assertEqual(self.outcomes(run), ["rejected", "rejected", "created"])
        errs = {(e["path"], e.get("value")) for e in run.results[0]["result"]["errors"]}
        self.assertEqual(errs, {("Details[1].InventoryID", "NO-SUCH-1"),
                                ("Details[3].InventoryID", "NO-SUCH-2")})
        for e in run.results[0]["result"]["errors"]:
            self.assertIn("cannot be found", e["message"])
        self.assertEqual(run.results[0]["result"]["http_status"], 422)
        self.assertIn("Inventory ID", run.results[0]["result"]["message"])
        errs = [(e["path"], float(e.get("value"))) for e in run.results[1]["result"]["errors"]]
        self.assertEqual(errs, [("Details[2].OrderQty", -4.0)])  # as Acumatica echoed it
        self.assertIn("line 1: rejected", run.err)            # listed on stderr too
        in_sim = self.in_sim(sim)
        self.assertEqual(in_sim.get("REJ-1"), None)
        self.assertEqual(in_sim.get("REJ-2"), None)
        self.assertEqual(len(in_sim["REJ-OK"]), 1)
        self.assertEqual(h.markers(), [])

    def test_one_result_per_record(self):
        sim, h = self.start(sales_order_duplicate_checking=True)
        existing = self.order("ONE-EXISTING", 3)
        self.assertEqual(self.outcomes(h.push("sales_orders", [existing])), ["created"])
        email = v(sim.api("GET", "/Customer/%s?$expand=MainContact" % self.customers[4])
                  ["MainContact"]["Email"])
        records = []
        expect = []
        for k in range(30):
            kind = k % 6
            if kind == 0:
                records.append(self.order("ONE-%02d" % k, k))
                expect.append("created")
            elif kind == 1:
                records.append(existing)
                expect.append("duplicate")
            elif kind == 2:
                r = self.order("ONE-%02d" % k, k)
                r["status"] = "cancelled"
                records.append(r)
                expect.append("skipped")
            elif kind == 3:
                r = self.order("ONE-%02d" % k, k)
                r["lines"] = []
                records.append(r)
                expect.append("rejected")
            elif kind == 4:
                r = self.order("ONE-%02d" % k, k)
                r["customer_id"] = "NO-SUCH-CUSTOMER"
                records.append(r)
                expect.append("rejected")
            else:
                r = self.order("ONE-%02d" % k, k)
                del r["customer_id"]
                r["customer"] = {"email": email}
                records.append(r)
                expect.append("created")
        run = h.push("sales_orders", records, batch_size=7)
        self.assertEqual(run.rc, 6, run)
        self.assert_results_match_input(run, 30)
        self.assertEqual(self.outcomes(run), expect)
        for rec, res in zip(records, run.results):
            if res["outcome"] == "created" and "customer" in rec:
                self.assertEqual(res["result"]["CustomerID"], self.customers[4])
            if rec.get("customer_id") == "NO-SUCH-CUSTOMER":
                self.assertIn("NO-SUCH-CUSTOMER", res["result"]["message"])
        in_sim = self.in_sim(sim)
        self.assertEqual(len(in_sim["ONE-EXISTING"]), 1)
        for rec, res in zip(records, run.results):
            n = len(in_sim.get(rec["transaction_number"], []))
            self.assertEqual(n, 1 if res["outcome"] in ("created", "duplicate") else 0,
                             rec["transaction_number"])


if __name__ == "__main__":
    flowtest.main()
