#!/usr/bin/env python3
"""Inventory: a stock movement changes the quantities of an item's
warehouse line but not the item's own last-modified stamp (the simulator,
like Acumatica, keeps StockItem.LastModified as it was when a shipment is
confirmed). The inventory flow asks the quantity inquiry
(InventoryQuantityAvailable) what moved since its window's start, so the
new quantities are delivered - once.

Run one class: python3 test_pull_inventory.py StockMovementTest
"""
import sys
import time
import unittest

import flowtest
from flowtest import v


class StockMovementTest(flowtest.FlowTestCase):
    def test_confirmed_shipment_moves_stock(self):
        sim = self.start_sim("--seed", 61, "--customers", 4, "--items", 8, "--warehouses", 2,
                             "--orders", 0, "--shipments", 0,
                             "--config-json", '{"action_duration": 0.2}')
        h = self.host(sim)
        first = h.pull("inventory")
        self.assertEqual(first.rc, 0, first)
        levels = {e["id"]: e["record"] for e in first.records}
        self.assertTrue(levels)
        # An order for one item, shipped and confirmed through the API.
        items = sorted(v(i["InventoryID"]) for i in sim.api("GET", "/StockItem?$select=InventoryID"))
        item = items[0]
        stamp_before = v(sim.api("GET", "/StockItem/%s?$select=LastModified" % item)["LastModified"])
        customer = v(sim.api("GET", "/Customer?$select=CustomerID&$top=1")[0]["CustomerID"])
        order = sim.put("SalesOrder", {"OrderType": "SO", "CustomerID": customer, "Hold": False,
                                       "Details": [{"InventoryID": {"value": item},
                                                    "OrderQty": {"value": 3}}]},
                        "?$expand=Details")
        wh = v(order["Details"][0]["WarehouseID"])
        self.wait_action(sim, "/SalesOrder/SalesOrderCreateShipment",
                         {"entity": {"OrderType": {"value": "SO"},
                                     "OrderNbr": order["OrderNbr"]},
                          "parameters": {"WarehouseID": {"value": wh}}})
        so = sim.api("GET", "/SalesOrder/SO/%s?$expand=Shipments" % v(order["OrderNbr"]))
        shipment = v(so["Shipments"][0]["ShipmentNbr"])
        self.wait_action(sim, "/Shipment/ConfirmShipment",
                         {"entity": {"ShipmentNbr": {"value": shipment}}})
        # The item's own stamp did not move: a window read alone misses it.
        self.assertEqual(
            v(sim.api("GET", "/StockItem/%s?$select=LastModified" % item)["LastModified"]),
            stamp_before)
        sim.advance(2)
        sim.clear_requests()
        second = h.pull("inventory")
        self.assertEqual(second.rc, 0, second)
        got = {e["id"]: e["record"] for e in second.records}
        key = "%s@%s" % (item, wh)
        self.assertIn(key, got, sorted(got))
        self.assertEqual(got[key]["quantity_on_hand"], levels[key]["quantity_on_hand"] - 3)
        # Only the moved item's lines came, through the inquiry.
        self.assertEqual({i.split("@")[0] for i in got}, {item})
        inquiries = [r for r in sim.requests()
                     if r["method"] == "PUT" and r["path"].endswith("/InventoryQuantityAvailable")]
        self.assertEqual(len(inquiries), 1)
        # The change is delivered once.
        sim.advance(2)
        third = h.pull("inventory")
        self.assertEqual(third.rc, 0, third)
        self.assertEqual(third.ids(), [])

    def wait_action(self, sim, path, body):
        sim.api("POST", path, body, expect=(202, 204))
        location = sim.last_headers.get("Location")
        deadline = time.monotonic() + 30
        while location and sim.last_status == 202 and time.monotonic() < deadline:
            time.sleep(0.3)
            sim.advance(1)
            status, _, hdrs = sim._call("GET", location[location.index("/entity"):]
                                        if location.startswith("/") else location)
            sim.last_status = status
            if status == 204:
                break
        self.assertEqual(sim.last_status, 204)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
