"""Seed data: deterministic for a seed, consistent references, stamps spread
over the past days, and fast (100,000 orders with 5 lines in under a minute)."""
import time
import unittest

from entity_helpers import make_service, call, V22, V24
import odata_filter

BASE = 1_700_000_000          # a fixed base time makes whole records comparable
ENTITIES = ("Customer", "Contact", "StockItem", "NonStockItem", "Warehouse", "ItemWarehouse",
            "SalesOrder", "Shipment", "ShipVia", "SalesInvoice", "Payment")


def seeded(seed, **more):
    params = {"seed": seed, "customers": 12, "items": 15, "warehouses": 3, "orders": 60,
              "lines": 4, "shipments": 20, "packages": 2, "invoices": 5, "payments": 5,
              "base_time": BASE}
    params.update(more)
    svc = make_service()
    counts = svc.seed(params)
    return svc, counts


class DatagenTest(unittest.TestCase):
    def test_same_seed_same_records(self):
        a, ca = seeded(42)
        b, cb = seeded(42)
        self.assertEqual(ca, cb)
        for e in ENTITIES:
            self.assertEqual(a.records(e, V24), b.records(e, V24), e)
        c, _ = seeded(43)
        self.assertNotEqual(a.records("SalesOrder"), c.records("SalesOrder"))
        self.assertNotEqual(a.records("Customer"), c.records("Customer"))

    def test_counts_and_references(self):
        svc, counts = seeded(7)
        self.assertEqual(counts["seed"], 7)
        self.assertEqual(counts["customers"], 12)
        self.assertEqual(counts["stock_items"] + counts["non_stock_items"], 15)
        self.assertEqual(counts["orders"], 60)
        self.assertEqual(counts["order_lines"], 240)
        self.assertEqual(counts["shipments"], 20)
        self.assertEqual(counts["packages"], 40)
        self.assertEqual(counts["ship_vias"], 6)
        for e, n in (("Customer", 12), ("SalesOrder", 60), ("Shipment", 20), ("Warehouse", 3),
                     ("SalesInvoice", 5), ("Payment", 5)):
            self.assertEqual(len(svc.records(e)), n, e)
        customers = {c["CustomerID"]["value"] for c in svc.records("Customer")}
        items = {i["InventoryID"]["value"] for i in svc.records("StockItem") + svc.records("NonStockItem")}
        warehouses = {w["WarehouseID"]["value"] for w in svc.records("Warehouse")}
        orders = {o["OrderNbr"]["value"]: o for o in svc.records("SalesOrder")}
        for o in orders.values():
            self.assertIn(o["CustomerID"]["value"], customers)
            self.assertEqual(len(o["Details"]), 4)
            total = 0
            for line in o["Details"]:
                self.assertIn(line["InventoryID"]["value"], items)
                self.assertIn(line["WarehouseID"]["value"], warehouses)
                self.assertEqual(line["Amount"]["value"],
                                 round(line["OrderQty"]["value"] * line["UnitPrice"]["value"], 2))
                total += line["Amount"]["value"]
            self.assertAlmostEqual(o["OrderTotal"]["value"], round(total + o["TaxTotal"]["value"], 2),
                                   places=2)
            self.assertEqual(o["CurrencyID"]["value"], "USD")
            self.assertIn(o["Status"]["value"], ("Open", "On Hold", "Completed", "Shipping", "Cancelled"))
            self.assertTrue(o["ShipToAddress"]["City"]["value"])
        for s in svc.records("Shipment"):
            self.assertIn(s["Orders"][0]["OrderNbr"]["value"], orders)
            self.assertEqual(len(s["Packages"]), 2)
            for p in s["Packages"]:
                self.assertRegex(p["TrackingNbr"]["value"], r"^[0-9A-Z]{8,22}$")
            order = orders[s["Orders"][0]["OrderNbr"]["value"]]
            self.assertEqual(order["Status"]["value"],
                             "Completed" if s["Status"]["value"] == "Confirmed" else "Shipping")
        for c in svc.records("Customer"):
            self.assertRegex(c["MainContact"]["Email"]["value"], r"^[a-z]+\.[a-z]+@[a-z0-9]+\.com$")
        # Realistic prices keep their scale in the served text.
        raw = call(svc, "GET", "StockItem", {"$top": "1"}).raw.decode()
        self.assertRegex(raw, r'"DefaultPrice":\{"value":\d+\.\d{6}\}')

    def test_stamps_spread_over_past_days(self):
        svc, _ = seeded(3, days=10)
        stamps = [odata_filter.parse_datetime_ms(o["LastModified"]["value"])
                  for o in svc.records("SalesOrder")]
        self.assertTrue(all(BASE * 1000 - 10 * 86400000 <= s <= BASE * 1000 for s in stamps))
        self.assertGreater(len({s // 86400000 for s in stamps}), 5)
        cut = "2023-11-12T00:00:00+00:00"                  # two days before BASE
        recent = call(svc, "GET", "SalesOrder", {"$filter": "LastModified gt datetimeoffset'%s'" % cut})
        self.assertEqual(recent.status, 200)
        self.assertTrue(0 < len(recent.body) < 60)
        # Order numbers follow dates: the newest orders have the highest numbers.
        dates = [o["Date"]["value"] for o in svc.records("SalesOrder")]
        self.assertEqual(dates, sorted(dates))

    def test_numbering_continues_after_seed(self):
        svc, _ = seeded(5)
        cust = svc.records("Customer")[0]["CustomerID"]["value"]
        r = call(svc, "PUT", "SalesOrder", body={"CustomerID": {"value": cust}})
        self.assertEqual(r.body["OrderNbr"]["value"], "SO000061")
        r = call(svc, "PUT", "Customer", body={"CustomerName": {"value": "New"}})
        self.assertEqual(r.body["CustomerID"]["value"], "C000013")

    def test_bad_parameters(self):
        svc = make_service()
        for params in ({"orders": -1}, {"bogus": 1}, {"orders": 5, "customers": 0},
                       {"orders": 5, "warehouses": 0}):
            with self.assertRaises(ValueError):
                svc.seed(params)

    def test_hundred_thousand_orders_under_a_minute(self):
        svc = make_service()
        t0 = time.monotonic()
        counts = svc.seed({"seed": 1, "orders": 100000, "lines": 5, "customers": 2000,
                           "items": 1000, "warehouses": 4})
        elapsed = time.monotonic() - t0
        print("\nseeded %d orders / %d lines in %.1f s" % (counts["orders"], counts["order_lines"],
                                                          elapsed))
        self.assertEqual(counts["orders"], 100000)
        self.assertLess(elapsed, 60.0)
        page = call(svc, "GET", "SalesOrder", {"$top": "500", "$skip": "99500", "$expand": "Details"})
        self.assertEqual(len(page.body), 500)
        self.assertEqual(page.body[-1]["OrderNbr"]["value"], "SO100000")


if __name__ == "__main__":
    unittest.main()
