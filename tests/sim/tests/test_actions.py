"""Actions: 202 + Location, polling 202 -> 204 on the simulator clock, the work
(shipment created from the order, confirmation), packages with tracking numbers,
422 when the order cannot be shipped, 404 for unknown actions."""
import re
import unittest

from entity_helpers import make_service, call, v, V22

SEED = {"seed": 9, "orders": 0, "customers": 2, "stock_items": 3, "non_stock_items": 0,
        "warehouses": 2, "shipments": 0}
LOC = re.compile(r"^/AcumaticaERP/entity/Default/22\.200\.001/(\w+)/(\w+)/status/"
                 r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


class ActionsTest(unittest.TestCase):
    def setUp(self):
        self.svc = make_service(SEED, action_duration=2.0)
        self.clock = self.svc.clock
        self.cust = call(self.svc, "GET", "Customer", {"$top": "1"}).body[0]["CustomerID"]["value"]
        # Two items in MAIN with stock.
        for iid in ("SHIPA", "SHIPB"):
            r = call(self.svc, "PUT", "StockItem", body={
                "InventoryID": v(iid), "Description": v(iid), "DefaultWarehouseID": v("MAIN"),
                "WarehouseDetails": [{"WarehouseID": v("MAIN"), "QtyOnHand": v(100)},
                                     {"WarehouseID": v("WHOLESALE"), "QtyOnHand": v(10)}]})
            self.assertEqual(r.status, 200, r.body)

    def order(self, hold=False, lines=(("SHIPA", 3, "MAIN"), ("SHIPB", 2, "MAIN"))):
        r = call(self.svc, "PUT", "SalesOrder", {"$expand": "Details"}, {
            "CustomerID": v(self.cust), "Hold": v(hold),
            "Details": [{"InventoryID": v(i), "OrderQty": v(q), "WarehouseID": v(w)}
                        for i, q, w in lines]})
        self.assertEqual(r.status, 200, r.body)
        return r.body

    def post(self, entity, action, body):
        return call(self.svc, "POST", "%s/%s" % (entity, action), body=body)

    def poll(self, location):
        # The Location carries the site path; the service sees the path after it.
        return call(self.svc, "GET", location[len("/AcumaticaERP"):])

    def run_action(self, entity, action, body):
        r = self.post(entity, action, body)
        self.assertEqual(r.status, 202, r.body)
        self.assertEqual(r.raw, b"")
        loc = r.header("Location")
        m = LOC.match(loc)
        self.assertTrue(m, loc)
        self.assertEqual(m.group(1, 2), (entity, action))
        return loc

    def test_create_shipment_then_confirm(self):
        o = self.order()
        loc = self.run_action("SalesOrder", "SalesOrderCreateShipment", {
            "entity": {"id": o["id"]},
            "parameters": {"ShipmentDate": v("2023-11-20T00:00:00+00:00"), "WarehouseID": v("MAIN")}})
        # Still running: 202, and nothing has happened yet.
        self.assertEqual(self.poll(loc).status, 202)
        self.assertEqual(call(self.svc, "GET", "Shipment").body, [])
        self.clock.advance(1.0)
        self.assertEqual(self.poll(loc).status, 202)
        self.clock.advance(1.5)
        r = self.poll(loc)
        self.assertEqual((r.status, r.raw), (204, b""))
        self.assertEqual(self.poll(loc).status, 204)
        shipments = call(self.svc, "GET", "Shipment", {"$expand": "Details,Orders,Packages"}).body
        self.assertEqual(len(shipments), 1)
        s = shipments[0]
        self.assertEqual(s["ShipmentNbr"]["value"], "000001")
        self.assertEqual(s["Status"]["value"], "Open")
        self.assertEqual(s["Type"]["value"], "Shipment")
        self.assertEqual(s["CustomerID"]["value"], self.cust)
        self.assertEqual(s["WarehouseID"]["value"], "MAIN")
        self.assertEqual(s["ShipmentDate"]["value"], "2023-11-20T00:00:00+00:00")
        self.assertEqual([(d["InventoryID"]["value"], d["ShippedQty"]["value"], d["OrderLineNbr"]["value"])
                          for d in s["Details"]], [("SHIPA", 3, 1), ("SHIPB", 2, 2)])
        self.assertEqual(s["Orders"][0]["OrderNbr"], o["OrderNbr"])
        self.assertEqual(s["Orders"][0]["OrderNoteID"]["value"], o["id"])
        self.assertEqual(s["ShippedQty"]["value"], 5)
        order = call(self.svc, "GET", "SalesOrder/%s" % o["id"], {"$expand": "Shipments,Details"}).body
        self.assertEqual(order["Status"]["value"], "Shipping")
        self.assertEqual(order["Shipments"][0]["ShipmentNbr"]["value"], "000001")
        self.assertEqual(order["Details"][0]["QtyOnShipments"]["value"], 3)

        # Packages with tracking numbers, then read them the documented way.
        r = call(self.svc, "PUT", "Shipment", {"$expand": "Packages"}, {
            "ShipmentNbr": v("000001"),
            "Packages": [{"BoxID": v("LARGE"), "TrackingNbr": v("1Z999AA10123456784"), "Weight": v(4.2)},
                         {"BoxID": v("SMALL"), "TrackingNbr": v("1Z999AA10123456785"), "Weight": v(1)}]})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["PackageCount"]["value"], 2)
        self.assertEqual(r.body["PackageWeight"]["value"], 5.2)
        got = call(self.svc, "GET", "Shipment", {"$expand": "Packages", "$select": "Packages/TrackingNbr",
                                                 "$filter": "ShipmentNbr eq '000001'"}).body
        self.assertEqual([p["TrackingNbr"]["value"] for p in got[0]["Packages"]],
                         ["1Z999AA10123456784", "1Z999AA10123456785"])

        loc = self.run_action("Shipment", "ConfirmShipment", {"entity": {"ShipmentNbr": v("000001")}})
        self.clock.advance(2)
        self.assertEqual(self.poll(loc).status, 204)
        s = call(self.svc, "GET", "Shipment/000001", {"$expand": "Packages"}).body
        self.assertEqual(s["Status"]["value"], "Confirmed")
        self.assertTrue(all(p["Confirmed"]["value"] for p in s["Packages"]))
        order = call(self.svc, "GET", "SalesOrder/%s" % o["id"], {"$expand": "Shipments,Details"}).body
        self.assertEqual(order["Status"]["value"], "Completed")
        self.assertEqual(order["Shipments"][0]["Status"]["value"], "Confirmed")
        self.assertTrue(all(d["Completed"]["value"] for d in order["Details"]))
        self.assertEqual(order["Details"][0]["OpenQty"]["value"], 0)
        item = call(self.svc, "GET", "StockItem/SHIPA", {"$expand": "WarehouseDetails"}).body
        main = [w for w in item["WarehouseDetails"] if w["WarehouseID"]["value"] == "MAIN"][0]
        self.assertEqual(main["QtyOnHand"]["value"], 97)
        # A confirmed shipment cannot be confirmed again.
        r = self.post("Shipment", "ConfirmShipment", {"entity": {"ShipmentNbr": v("000001")}})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body)

    def test_partial_shipment_by_warehouse_gives_back_order(self):
        o = self.order(lines=(("SHIPA", 1, "MAIN"), ("SHIPB", 1, "WHOLESALE")))
        self.svc.config.update({"action_duration": 0})
        loc = self.run_action("SalesOrder", "SalesOrderCreateShipment", {
            "entity": {"OrderType": v("SO"), "OrderNbr": o["OrderNbr"]},
            "parameters": {"WarehouseID": v("WHOLESALE")}})
        self.assertEqual(self.poll(loc).status, 204)
        s = call(self.svc, "GET", "Shipment", {"$expand": "Details"}).body[0]
        self.assertEqual([d["InventoryID"]["value"] for d in s["Details"]], ["SHIPB"])
        loc = self.run_action("Shipment", "ConfirmShipment", {"entity": {"id": s["id"]}})
        self.assertEqual(self.poll(loc).status, 204)
        order = call(self.svc, "GET", "SalesOrder/%s" % o["id"]).body
        self.assertEqual(order["Status"]["value"], "Back Order")
        # The rest can still be shipped.
        loc = self.run_action("SalesOrder", "SalesOrderCreateShipment", {"entity": {"id": o["id"]},
                                                                        "parameters": {}})
        self.assertEqual(self.poll(loc).status, 204)
        self.assertEqual(len(call(self.svc, "GET", "Shipment").body), 2)

    def test_order_on_hold_cannot_be_shipped(self):
        o = self.order(hold=True)
        r = self.post("SalesOrder", "SalesOrderCreateShipment", {"entity": {"id": o["id"]},
                                                                "parameters": {"WarehouseID": v("MAIN")}})
        self.assertEqual(r.status, 422)
        self.assertIn("On Hold", r.body["error"])
        self.assertEqual(r.body["Status"]["value"], "On Hold")
        self.assertIn("error", r.body["Status"])
        self.assertEqual(call(self.svc, "GET", "Shipment").body, [])
        # Releasing the hold with the action makes it shippable.
        self.svc.config.update({"action_duration": 0})
        loc = self.run_action("SalesOrder", "OpenSalesOrder", {"entity": {"id": o["id"]}})
        self.assertEqual(self.poll(loc).status, 204)
        self.assertEqual(call(self.svc, "GET", "SalesOrder/%s" % o["id"]).body["Status"]["value"], "Open")

    def test_failure_found_when_the_work_runs(self):
        o = self.order()
        loc = self.run_action("SalesOrder", "SalesOrderCreateShipment", {"entity": {"id": o["id"]}})
        r = call(self.svc, "PUT", "SalesOrder", body={"id": o["id"], "Hold": v(True)})
        self.assertEqual(r.status, 200)
        self.clock.advance(3)
        r = self.poll(loc)
        self.assertEqual(r.status, 500)
        self.assertIn("On Hold", r.body["exceptionMessage"])
        self.assertEqual(call(self.svc, "GET", "Shipment").body, [])

    def test_unknown_and_unimplemented_actions(self):
        o = self.order()
        r = self.post("SalesOrder", "Fly", {"entity": {"id": o["id"]}})
        self.assertEqual(r.status, 404)
        self.assertIn("does not exist", r.body["message"])
        r = self.post("SalesOrder", "AutoRecalculateDiscounts", {"entity": {"id": o["id"]}})
        self.assertEqual(r.status, 500)
        self.assertIn("not implemented by the simulator", r.body["exceptionMessage"])
        r = self.post("SalesOrder", "SalesOrderCreateShipment",
                      {"entity": {"OrderType": v("SO"), "OrderNbr": v("NOPE")}})
        self.assertEqual(r.status, 500)
        self.assertEqual(r.body["exceptionMessage"], "No entity satisfies the condition.")
        r = self.post("SalesOrder", "SalesOrderCreateShipment", None)
        self.assertEqual(r.status, 400)
        # An unknown status id: "completed or was not created".
        r = call(self.svc, "GET", "SalesOrder/SalesOrderCreateShipment/status/"
                                  "0b7cb2a7-7a40-4b57-a0a2-b8d4a3e7f3a1")
        self.assertEqual(r.status, 204)

    def test_cancel_and_reopen(self):
        o = self.order()
        self.svc.config.update({"action_duration": 0})
        self.assertEqual(self.poll(self.run_action("SalesOrder", "CancelSalesOrder",
                                                   {"entity": {"id": o["id"]}})).status, 204)
        self.assertEqual(call(self.svc, "GET", "SalesOrder/%s" % o["id"]).body["Status"]["value"], "Cancelled")
        r = self.post("SalesOrder", "SalesOrderCreateShipment", {"entity": {"id": o["id"]}})
        self.assertEqual(r.status, 422)
        self.assertEqual(self.poll(self.run_action("SalesOrder", "ReopenSalesOrder",
                                                   {"entity": {"id": o["id"]}})).status, 204)
        self.assertEqual(call(self.svc, "GET", "SalesOrder/%s" % o["id"]).body["Status"]["value"], "Open")


if __name__ == "__main__":
    unittest.main()
