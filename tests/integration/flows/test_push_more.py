"""Customers and tracking numbers pushed through connector-host and the
real plugin to the simulator, and the concurrency settings as the server
sees them.

Customers: update by CustomerID, match by e-mail, create; an e-mail two
customers share is ambiguous (rejected). Tracking: by shipment number, by
order (the shipment made with SalesOrderCreateShipment: 202 and status
polls), a tracking number already there is a duplicate. Concurrency: the
simulator never sees more requests at once than Concurrent Connections.

Run one class: python3 test_push_more.py TrackingPushTest
"""
import collections
import unittest

import flowtest
from flowtest import ENDPOINT, max_overlap, v


class CustomersPushTest(flowtest.FlowTestCase):
    def test_upsert(self):
        sim = self.start_sim("--seed", 41, "--customers", 8, "--items", 4, "--orders", 0,
                             "--warehouses", 1)
        h = self.host(sim)
        before = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        ids = sorted(before)
        email_of = {cid: v(c["MainContact"]["Email"]) for cid, c in before.items()}
        # Two customers share one e-mail: matching by it is ambiguous.
        shared = email_of[ids[6]]
        sim.put("Customer", {"CustomerID": ids[7],
                             "MainContact": {"Email": {"value": shared}}})
        records = [
            {"customer_id": ids[0], "name": "Renamed by id"},
            {"email": email_of[ids[1]], "name": "Renamed by e-mail"},
            {"email": "new.buyer@example.com", "name": "New buyer", "phone": "+1 555 0100"},
            {"email": shared, "name": "Which one?"},
            {"name": "No way to match"},
            # A CustomerID Acumatica does not know, with another customer's
            # e-mail: the record names its customer, so a new customer is
            # created for it (numbered by Acumatica, as recorded, the id kept
            # in AccountRef); the customer with the e-mail is never touched.
            {"customer_id": "NO-SUCH-ID", "email": email_of[ids[2]], "name": "Id unknown, e-mail known"},
        ]
        run = h.push("customers", records)
        self.assertEqual(run.rc, 6, run)
        self.assertEqual([r["outcome"] for r in run.results],
                         ["updated", "updated", "created", "rejected", "rejected", "created"])
        res = [r["result"] for r in run.results]
        self.assertEqual(res[0]["CustomerID"], ids[0])
        self.assertEqual(res[1]["CustomerID"], ids[1])
        made_for_id = res[5]["CustomerID"]
        self.assertNotIn(made_for_id, before)
        self.assertIn("2 Acumatica customers have MainContact.Email", res[3]["message"])
        new_id = res[2]["CustomerID"]
        self.assertNotIn(new_id, before)
        after = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        self.assertEqual(v(after[ids[0]]["CustomerName"]), "Renamed by id")
        self.assertEqual(v(after[ids[1]]["CustomerName"]), "Renamed by e-mail")
        self.assertEqual(after[ids[2]], before[ids[2]])
        self.assertEqual(v(after[made_for_id]["CustomerName"]), "Id unknown, e-mail known")
        self.assertEqual(v(after[made_for_id]["AccountRef"]), "NO-SUCH-ID")
        self.assertEqual(v(after[made_for_id]["MainContact"]["Email"]), email_of[ids[2]])
        self.assertEqual(v(after[new_id]["CustomerName"]), "New buyer")
        self.assertEqual(v(after[new_id]["MainContact"]["Email"]), "new.buyer@example.com")
        self.assertEqual(v(after[ids[6]]["CustomerName"]), v(before[ids[6]]["CustomerName"]))
        self.assertEqual(v(after[ids[7]]["CustomerName"]), v(before[ids[7]]["CustomerName"]))
        self.assertEqual(len(after), len(before) + 2)
        # The new customers pushed again (by e-mail; by the id, kept in
        # AccountRef): updated, not made twice.
        again = h.push("customers", [records[2], records[5]])
        self.assertEqual([r["outcome"] for r in again.results], ["updated", "updated"], again)
        self.assertEqual(again.results[0]["result"]["CustomerID"], new_id)
        self.assertEqual(again.results[1]["result"]["CustomerID"], made_for_id)
        final = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        self.assertEqual(len(final), len(before) + 2)
        self.assertEqual(final[ids[2]], before[ids[2]])
        self.assertEqual(h.markers(), [])

    # Where Acumatica keeps the CustomerID it is given (manual numbering), a
    # CustomerID it does not know is created with that id, whatever else
    # the record carries: the customer with the same e-mail (or with the id
    # in AccountRef) is another customer and is never read for a match nor
    # written. The answer of the create lost: the look-up by the id finds
    # the customer made, not the one with the e-mail.
    def test_unknown_id_is_created_with_it(self):
        sim = self.start_sim("--seed", 44, "--customers", 4, "--items", 2, "--orders", 0,
                             "--warehouses", 1,
                             "--config-json", '{"customer_numbering": "manual"}')
        h = self.host(sim)
        before = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        ids = sorted(before)
        email = v(before[ids[2]]["MainContact"]["Email"])
        # Another customer already carries the unknown id in AccountRef.
        sim.put("Customer", {"CustomerID": ids[3], "AccountRef": {"value": "NEW-0002"}})
        before[ids[3]] = {v(c["CustomerID"]): c for c in sim.records("Customer")}[ids[3]]
        records = [
            {"customer_id": "NEW-0001", "email": email, "name": "Id unknown, e-mail known"},
            {"customer_id": "NEW-0002", "name": "Id unknown, in another's AccountRef"},
        ]
        sim.faults([{"method": "PUT", "path": "/Customer$", "times": 1, "commit_then_drop": True}])
        run = h.push("customers", records)
        self.assertEqual([r["outcome"] for r in run.results], ["created", "created"], run)
        self.assertEqual(sorted(r["result"]["CustomerID"] for r in run.results),
                         ["NEW-0001", "NEW-0002"])
        after = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        self.assertEqual(len(after), len(before) + 2)
        for cid in ids:
            self.assertEqual(after[cid], before[cid], cid)
        self.assertEqual(v(after["NEW-0001"]["CustomerName"]), "Id unknown, e-mail known")
        self.assertEqual(v(after["NEW-0001"]["MainContact"]["Email"]), email)
        self.assertEqual(v(after["NEW-0002"]["CustomerName"]),
                         "Id unknown, in another's AccountRef")
        # Pushed again: the same two customers updated.
        records[0]["name"] = "Renamed by its id"
        again = h.push("customers", records)
        self.assertEqual([r["outcome"] for r in again.results], ["updated", "updated"], again)
        self.assertEqual([r["result"]["CustomerID"] for r in again.results],
                         ["NEW-0001", "NEW-0002"])
        final = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        self.assertEqual(len(final), len(before) + 2)
        self.assertEqual(v(final["NEW-0001"]["CustomerName"]), "Renamed by its id")
        for cid in ids:
            self.assertEqual(final[cid], before[cid], cid)
        self.assertEqual(h.markers(), [])

    def test_create_with_lost_answer(self):
        sim = self.start_sim("--seed", 42, "--customers", 3, "--items", 2, "--orders", 0,
                             "--warehouses", 1)
        h = self.host(sim)
        sim.faults([{"method": "PUT", "path": "/Customer$", "times": 1, "commit_then_drop": True}])
        run = h.push("customers", [{"email": "lost.answer@example.com", "name": "Lost answer"}])
        self.assertEqual([r["outcome"] for r in run.results], ["created"], run)
        self.assertTrue(run.results[0]["result"].get("recovered"))
        made = [c for c in sim.records("Customer")
                if v(c["MainContact"]["Email"]) == "lost.answer@example.com"]
        self.assertEqual(len(made), 1)
        self.assertEqual(v(made[0]["CustomerID"]), run.results[0]["result"]["CustomerID"])


    # When Acumatica numbers customers itself (the given CustomerID is not
    # kept - the recorded instance turned 123 into C1165, the simulator's
    # default), the host's id goes in AccountRef. A lost answer is resolved
    # by the customer with that AccountRef that was not there before the
    # create; the number it got is kept in host state, so a second push
    # updates that customer. A customer that already had the id in
    # AccountRef is another customer: never taken for it, never written.
    def test_given_id_numbered_by_acumatica(self):
        sim = self.start_sim("--seed", 47, "--customers", 3, "--items", 2, "--orders", 0,
                             "--warehouses", 1)
        h = self.host(sim)
        before = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        other = sorted(before)[1]
        sim.put("Customer", {"CustomerID": other, "AccountRef": "WEB-0001"})
        before[other] = {v(c["CustomerID"]): c for c in sim.records("Customer")}[other]
        record = {"customer_id": "WEB-0001", "name": "Numbered elsewhere"}
        sim.faults([{"method": "PUT", "path": "/Customer$", "times": 1, "commit_then_drop": True}])
        first = h.push("customers", [record])
        self.assertEqual([r["outcome"] for r in first.results], ["created"], first)
        self.assertTrue(first.results[0]["result"].get("recovered"), first)
        number = first.results[0]["result"]["CustomerID"]
        self.assertNotIn(number, before)
        record["name"] = "Renamed"
        second = h.push("customers", [record])
        self.assertEqual([r["outcome"] for r in second.results], ["updated"], second)
        self.assertEqual(second.results[0]["result"]["CustomerID"], number)
        after = {v(c["CustomerID"]): c for c in sim.records("Customer")}
        self.assertEqual(sorted(after), sorted(list(before) + [number]))
        for cid in before:
            self.assertEqual(after[cid], before[cid], cid)
        self.assertEqual(v(after[number]["CustomerName"]), "Renamed")
        self.assertEqual(v(after[number]["AccountRef"]), "WEB-0001")
        self.assertEqual(h.markers(), [])


class TrackingPushTest(flowtest.FlowTestCase):
    def start(self):
        sim = self.start_sim("--seed", 43, "--customers", 6, "--items", 6, "--warehouses", 1,
                             "--orders", 24, "--lines", 2, "--shipments", 4,
                             "--config-json", '{"action_duration": 2.2}')
        return sim, self.host(sim)

    def packages(self, sim, shipment):
        s = sim.api("GET", "/Shipment/%s?$expand=Packages,Orders" % shipment)
        return [v(p["TrackingNbr"]) for p in s.get("Packages", [])], s

    def test_by_shipment_and_duplicate(self):
        sim, h = self.start()
        shipments = sim.records("Shipment")
        nbr = v(shipments[0]["ShipmentNbr"])
        existing = v(shipments[0]["Packages"][0]["TrackingNbr"])
        run = h.push("tracking", [
            {"tracking_number": "1Z-NEW-0001", "shipment_number": nbr, "carrier": "ups"},
            {"tracking_number": existing, "shipment_number": nbr},
            {"tracking_number": "1Z-NEW-0002", "shipment_number": "999999"},
        ])
        self.assertEqual([r["outcome"] for r in run.results],
                         ["updated", "duplicate", "rejected"], run)
        self.assertEqual(run.results[0]["result"]["ShipmentNbr"], nbr)
        self.assertIn("does not exist", run.results[2]["result"]["message"])
        tns, _ = self.packages(sim, nbr)
        self.assertEqual(sorted(tns), sorted([existing, "1Z-NEW-0001"]))
        again = h.push("tracking", [{"tracking_number": "1Z-NEW-0001", "shipment_number": nbr}])
        self.assertEqual([r["outcome"] for r in again.results], ["duplicate"], again)
        self.assertEqual(self.packages(sim, nbr)[0].count("1Z-NEW-0001"), 1)

    def test_by_order_creates_the_shipment(self):
        sim, h = self.start()
        orders = [o for o in sim.records("SalesOrder")
                  if v(o["Status"]) == "Open" and not o.get("Shipments")]
        a, b = orders[0], orders[1]
        held = [o for o in sim.records("SalesOrder") if v(o["Status"]) == "On Hold"]
        sim.clear_requests()
        records = [
            {"tracking_number": "TRK-A-1", "order_type": v(a["OrderType"]),
             "order_number": v(a["OrderNbr"])},
            {"tracking_number": "TRK-B-1", "orders": [{"order_type": v(b["OrderType"]),
                                                       "order_number": v(b["OrderNbr"])}]},
            # A second number for order A in the same batch: it waits for
            # the first, which makes the shipment; both land on it.
            {"tracking_number": "TRK-A-2", "order_type": v(a["OrderType"]),
             "order_number": v(a["OrderNbr"])},
        ]
        if held:
            records.append({"tracking_number": "TRK-HELD", "order_number": v(held[0]["OrderNbr"])})
        run = h.push("tracking", records)
        outcomes = [r["outcome"] for r in run.results]
        self.assertEqual(outcomes[:3], ["updated", "updated", "updated"], run)
        log = sim.requests()
        actions = [r for r in log if r["method"] == "POST" and
                   r["path"].endswith("/SalesOrder/SalesOrderCreateShipment")]
        polls = [r for r in log if r["method"] == "GET" and
                 "/SalesOrderCreateShipment/status/" in r["path"]]
        # One action per order (A's second number used the shipment the
        # first made); an order on hold cannot be shipped: 422.
        self.assertEqual(sorted(r["status"] for r in actions),
                         [202, 202] + ([422] if held else []))
        # 202 while the action runs (2.2 s, polled every second), then 204.
        self.assertIn(202, [p["status"] for p in polls])
        self.assertEqual(sum(1 for p in polls if p["status"] == 204), 2)
        self.assertGreaterEqual(len(polls), 4)
        for order, tns in ((a, ["TRK-A-1", "TRK-A-2"]), (b, ["TRK-B-1"])):
            so = sim.api("GET", "/SalesOrder/%s/%s?$expand=Shipments" %
                         (v(order["OrderType"]), v(order["OrderNbr"])))
            self.assertEqual(len(so["Shipments"]), 1, so["Shipments"])
            nbr = v(so["Shipments"][0]["ShipmentNbr"])
            got, shipment = self.packages(sim, nbr)
            self.assertEqual(sorted(got), tns)
            self.assertEqual([(v(o["OrderType"]), v(o["OrderNbr"])) for o in shipment["Orders"]],
                             [(v(order["OrderType"]), v(order["OrderNbr"]))])
        if held:
            self.assertEqual(outcomes[3], "rejected", run.results[3])
        # The round trip: the tracking pull delivers them, linked to their orders.
        sim.advance(3)
        pulled = h.pull("tracking")
        self.assertEqual(pulled.rc, 0, pulled)
        by_tn = {e["record"]["tracking_number"]: e["record"] for e in pulled.records}
        for order, tn in ((a, "TRK-A-1"), (a, "TRK-A-2"), (b, "TRK-B-1")):
            self.assertEqual(by_tn[tn]["orders"], [{"order_type": v(order["OrderType"]),
                                                    "order_number": v(order["OrderNbr"])}])
        self.assertEqual(h.markers(), [])

    def test_by_transaction_number(self):
        sim, h = self.start()
        customers = sorted(v(c["CustomerID"]) for c in sim.api("GET", "/Customer?$select=CustomerID"))
        items = sorted(v(i["InventoryID"]) for i in sim.api("GET", "/StockItem?$select=InventoryID"))
        pushed = h.push("sales_orders", [{"transaction_number": "WEB-7001",
                                          "customer_id": customers[0],
                                          "lines": [{"sku": items[0], "quantity": 2}]}])
        self.assertEqual([r["outcome"] for r in pushed.results], ["created"], pushed)
        run = h.push("tracking", [{"tracking_number": "TX-1", "transaction_number": "WEB-7001"},
                                  {"tracking_number": "TX-2", "transaction_number": "NO-SUCH-TX"}])
        self.assertEqual([r["outcome"] for r in run.results], ["updated", "rejected"], run)
        self.assertEqual(run.results[0]["result"]["OrderNbr"], pushed.results[0]["result"]["OrderNbr"])
        self.assertIn("NO-SUCH-TX", run.results[1]["result"]["message"])


class ConcurrencyTest(flowtest.FlowTestCase):
    def orders(self, sim, n):
        customers = sorted(v(c["CustomerID"]) for c in sim.api("GET", "/Customer?$select=CustomerID"))
        items = sorted(v(i["InventoryID"]) for i in sim.api("GET", "/StockItem?$select=InventoryID"))
        return [{"transaction_number": "CC-%d-%03d" % (id(sim) % 1000, k),
                 "customer_id": customers[k % len(customers)],
                 "lines": [{"sku": items[k % len(items)], "quantity": 1}]} for k in range(n)]

    def check(self, batch, conns, expect_max):
        sim = self.start_sim("--seed", 44, "--customers", 10, "--items", 6, "--orders", 0,
                             "--warehouses", 1)
        h = self.host(sim, concurrent_batch_executions=batch, concurrent_connections=conns,
                      sales_order_duplicate_checking=True)
        orders = self.orders(sim, 40)
        sim.faults([{"path": "/(SalesOrder|Customer)", "delay_ms": 120}])
        sim.clear_requests()
        run = h.push("sales_orders", orders)
        self.assertEqual(collections.Counter(r["outcome"] for r in run.results), {"created": 40}, run)
        stats = sim.stats()
        log = [r for r in sim.requests() if "/entity/Default/" in r["path"]]
        self.assertLessEqual(stats["max_concurrency"], conns)
        self.assertEqual(max_overlap(log), expect_max, "batch %d, connections %d" % (batch, conns))

    def test_connections_bound_the_batch(self):
        # Eight records in flight, three connections: at most three requests.
        self.check(8, 3, 3)

    def test_batch_bounds_the_connections(self):
        # Two records in flight, each one request at a time: at most two.
        self.check(2, 8, 2)

    def test_pull_within_connections(self):
        sim = self.start_sim("--seed", 46, "--customers", 300, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=20, concurrent_connections=3)
        sim.faults([{"method": "GET", "path": "/Customer$", "delay_ms": 100}])
        sim.clear_requests()
        r = h.pull("customers")
        self.assertEqual((r.rc, len(set(r.ids()))), (0, 300), r)
        self.assertEqual(sim.stats()["max_concurrency"], 3)
        self.assertEqual(max_overlap([x for x in sim.requests() if x["path"].endswith(
            "/%s/Customer" % ENDPOINT)]), 3)


if __name__ == "__main__":
    flowtest.main()
