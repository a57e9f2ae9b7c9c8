"""Writes: PUT create/update by keys, id and $filter; numbering; unknown fields;
If-Match/If-None-Match; 422 validation (header and lines); line deletion; unique
customer order number; last-modified stamps; response shape; DELETE; body errors;
sales order computations; customers, items, contacts."""
import threading
import unittest
from decimal import Decimal

from entity_helpers import make_service, call, v, V20, V22, V24
import odata_filter

SEED = {"seed": 5, "orders": 4, "customers": 3, "stock_items": 4, "non_stock_items": 1,
        "warehouses": 2, "shipments": 0}


def ms(text):
    return odata_filter.parse_datetime_ms(text)


class WritesTest(unittest.TestCase):
    def setUp(self):
        self.svc = make_service(SEED)
        self.clock = self.svc.clock
        self.cust = call(self.svc, "GET", "Customer", {"$top": "1"}).body[0]["CustomerID"]["value"]
        items = call(self.svc, "GET", "StockItem", {"$expand": "WarehouseDetails"}).body
        self.item = items[0]["InventoryID"]["value"]
        self.item2 = items[1]["InventoryID"]["value"]
        self.wh = items[0]["WarehouseDetails"][0]["WarehouseID"]["value"]

    def put(self, entity, body, query=None, headers=None, version=V22):
        return call(self.svc, "PUT", entity, query, body, headers, version=version)

    def order(self, lines=1, **fields):
        body = {"CustomerID": v(self.cust), "Hold": v(False),
                "Details": [{"InventoryID": v(self.item), "OrderQty": v(2), "UnitPrice": v("10.5")}
                            for _ in range(lines)]}
        body.update({k: v(x) for k, x in fields.items()})
        r = self.put("SalesOrder", body, {"$expand": "Details"})
        self.assertEqual(r.status, 200, r.body)
        return r.body

    def count(self, entity):
        return len(self.svc.store.table(entity))

    # -- create / locate -------------------------------------------------------------
    def test_create_numbers_orders_and_replaces_unknown_keys(self):
        a = self.order()
        self.assertEqual(a["OrderNbr"]["value"], "SO000005")         # after 4 seeded orders
        b = self.put("SalesOrder", {"OrderNbr": v("<NEW>"), "CustomerID": v(self.cust)}).body
        self.assertEqual(b["OrderNbr"]["value"], "SO000006")
        c = self.put("SalesOrder", {"OrderType": v("SO"), "OrderNbr": v("ZZ123"),
                                    "CustomerID": v(self.cust)}).body
        self.assertEqual(c["OrderNbr"]["value"], "SO000007")         # numbered, as recorded
        self.assertEqual(c["OrderType"]["value"], "SO")

    def test_update_by_keys_id_and_filter(self):
        o = self.order(Description="first")
        nbr = o["OrderNbr"]["value"]
        r = self.put("SalesOrder", {"OrderType": v("SO"), "OrderNbr": v(nbr), "Description": v("by keys")})
        self.assertEqual((r.status, r.body["id"], r.body["Description"]["value"]), (200, o["id"], "by keys"))
        r = self.put("SalesOrder", {"id": o["id"], "Description": v("by id")})
        self.assertEqual((r.body["id"], r.body["Description"]["value"]), (o["id"], "by id"))
        self.assertEqual(r.body["OrderNbr"]["value"], nbr)
        r = self.put("SalesOrder", {"Description": v("by filter")},
                     {"$filter": "OrderNbr eq '%s'" % nbr})
        self.assertEqual((r.body["id"], r.body["Description"]["value"]), (o["id"], "by filter"))
        self.assertEqual(self.count("SalesOrder"), 5)

    def test_unknown_fields_are_ignored(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Bogus": v(1), "OrderTotal": v("2.00"),
                                    "Details": [{"InventoryID": v(self.item), "Quantity": v(2),
                                                 "UnitPrice": v(1)}]}, {"$expand": "Details"})
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("Bogus", r.body)
        self.assertEqual(r.body["Details"][0]["OrderQty"]["value"], 0)
        self.assertEqual(r.body["OrderTotal"]["value"], 0)              # computed, as recorded

    def test_preconditions(self):
        o = self.order()
        keys = {"OrderType": v("SO"), "OrderNbr": v(o["OrderNbr"]["value"]), "Description": v("x")}
        r = self.put("SalesOrder", keys, headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 412)
        self.assertIn("exceptionMessage", r.body)
        r = self.put("SalesOrder", {"id": "11111111-2222-4333-8444-555555555555", "CustomerID": v(self.cust)},
                     headers={"If-Match": "*"})
        self.assertEqual(r.status, 412)
        r = self.put("SalesOrder", {"OrderType": v("SO"), "OrderNbr": v("NOPE1"), "CustomerID": v(self.cust)},
                     headers={"If-Match": "*"})
        self.assertEqual(r.status, 412)
        self.assertEqual(self.count("SalesOrder"), 5)
        r = self.put("SalesOrder", {"CustomerID": v(self.cust)}, headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 200)
        r = self.put("SalesOrder", dict(keys, Description=v("y")), headers={"If-Match": "*"})
        self.assertEqual((r.status, r.body["Description"]["value"]), (200, "y"))

    # -- validation ------------------------------------------------------------------------
    def test_422_unknown_customer_item_and_bad_quantity(self):
        before = self.count("SalesOrder")
        r = self.put("SalesOrder", {"CustomerID": v("NOSUCH"), "Details": [
            {"InventoryID": v(self.item), "OrderQty": v(1)},
            {"InventoryID": v("NOSUCHITEM"), "OrderQty": v(1)},
            {"InventoryID": v(self.item), "OrderQty": v(-3)}]})
        self.assertEqual(r.status, 422)
        b = r.body
        self.assertEqual(b["CustomerID"], {"value": "NOSUCH",
                                           "error": "'Customer' cannot be found in the system."})
        self.assertTrue(b["error"].startswith("Inserting  'Sales Order' record raised at least one error."))
        self.assertEqual(b["OrderNbr"], {"value": "<NEW>"})
        self.assertNotIn("error", b["Details"][0]["InventoryID"])     # lines shown although not expanded
        self.assertEqual(b["Details"][1]["InventoryID"]["error"], "'Inventory ID' cannot be found in the system.")
        self.assertIn("error", b["Details"][2]["OrderQty"])
        self.assertEqual(b["Details"][2]["OrderQty"]["value"], -3)
        self.assertEqual(self.count("SalesOrder"), before)
        # Numbering was not consumed by the refused insert.
        self.assertEqual(self.order()["OrderNbr"]["value"], "SO000005")

    def test_422_line_error_only_names_the_line(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
            {"InventoryID": v("NOSUCHITEM"), "OrderQty": v(1)}]}, {"$expand": "Details"})
        self.assertEqual(r.status, 422)
        self.assertTrue(r.body["error"].startswith("Inserting  'SO Line' record"))
        self.assertNotIn("error", r.body["CustomerID"])
        o = self.order()
        r = self.put("SalesOrder", {"id": o["id"], "Details": [
            {"id": o["Details"][0]["id"], "OrderQty": v(-1)}]})
        self.assertEqual(r.status, 422)
        self.assertTrue(r.body["error"].startswith("Updating  'SO Line' record"))
        self.assertEqual(call(self.svc, "GET", "SalesOrder/%s" % o["id"], {"$expand": "Details"})
                         .body["Details"][0]["OrderQty"]["value"], 2)

    def test_zero_quantity_allowed_unless_configured(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust),
                                    "Details": [{"InventoryID": v(self.item), "OrderQty": v(0)}]})
        self.assertEqual(r.status, 200)
        self.svc.config.update({"reject_zero_order_qty": True})
        r = self.put("SalesOrder", {"CustomerID": v(self.cust),
                                    "Details": [{"InventoryID": v(self.item), "OrderQty": v(0)}]})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["Details"][0]["OrderQty"])

    def test_bad_value_and_drop_down(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
            {"InventoryID": v(self.item), "OrderQty": v("lots"), "LineType": v("Nonsense")}]})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["Details"][0]["OrderQty"])
        self.assertIn("error", r.body["Details"][0]["LineType"])
        r = self.put("Customer", {"CustomerName": v("X"), "StatementType": v("open item")})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body["StatementType"]["value"], "Open Item")   # display string

    def test_unique_customer_order_number(self):
        self.order(CustomerOrder="PO-1")
        self.order(CustomerOrder="PO-1")                 # option off: allowed
        self.svc.config.update({"unique_customer_order_number": {"SO": True}})
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "CustomerOrder": v("po-1")})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["CustomerOrder"])
        self.assertIn("SO000005", r.body["CustomerOrder"]["error"])
        other = call(self.svc, "GET", "Customer", {"$top": "1", "$skip": "1"}).body[0]["CustomerID"]["value"]
        r = self.put("SalesOrder", {"CustomerID": v(other), "CustomerOrder": v("PO-1")})
        self.assertEqual(r.status, 200)                  # unique per customer
        o = self.order(CustomerOrder="PO-2")
        r = self.put("SalesOrder", {"id": o["id"], "CustomerOrder": v("PO-2"), "Description": v("same")})
        self.assertEqual(r.status, 200)                  # its own number is no duplicate

    # -- lines -------------------------------------------------------------------------------
    def test_delete_line_by_id_and_by_line_nbr(self):
        o = self.order(lines=3)
        ids = [l["id"] for l in o["Details"]]
        self.assertEqual([l["LineNbr"]["value"] for l in o["Details"]], [1, 2, 3])
        r = self.put("SalesOrder", {"id": o["id"], "Details": [{"id": ids[1], "delete": True}]},
                     {"$expand": "Details"})
        self.assertEqual([l["id"] for l in r.body["Details"]], [ids[0], ids[2]])
        r = self.put("SalesOrder", {"id": o["id"], "Details": [{"LineNbr": v(3), "delete": True},
                                                                {"InventoryID": v(self.item2), "OrderQty": v(1)}]},
                     {"$expand": "Details"})
        self.assertEqual([l["LineNbr"]["value"] for l in r.body["Details"]], [1, 4])
        self.assertEqual(r.body["Details"][1]["InventoryID"]["value"], self.item2)
        r = self.put("SalesOrder", {"id": o["id"], "Details": [{"LineNbr": v(1), "OrderQty": v(5)}]},
                     {"$expand": "Details"})
        self.assertEqual(r.body["Details"][0]["OrderQty"]["value"], 5)

    def test_order_computations_and_status(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
            {"InventoryID": v(self.item), "OrderQty": v(3), "UnitPrice": v("19.99")},
            {"InventoryID": v(self.item2), "OrderQty": v("2.5"), "UnitPrice": v(4),
             "DiscountPercent": v(10)}],
            "TaxDetails": [{"TaxID": v("CASALES"), "TaxRate": v("7.25")}]},
            {"$expand": "Details,TaxDetails"})
        self.assertEqual(r.status, 200, r.body)
        b = r.body
        self.assertEqual(b["Status"]["value"], "On Hold")            # hold on entry (recorded)
        self.assertTrue(b["Hold"]["value"])
        l1, l2 = b["Details"]
        self.assertEqual(l1["ExtendedPrice"]["value"], 59.97)
        self.assertEqual(l2["ExtendedPrice"]["value"], 10)
        self.assertEqual(l2["DiscountAmount"]["value"], 1)
        self.assertEqual(l2["Amount"]["value"], 9)
        self.assertEqual(b["OrderedQty"]["value"], 5.5)
        self.assertEqual(b["TaxDetails"][0]["TaxAmount"]["value"], 5.0)   # 68.97 * 7.25% = 5.00
        self.assertEqual(b["TaxTotal"]["value"], 5.0)
        self.assertEqual(b["OrderTotal"]["value"], 73.97)
        self.assertEqual(b["TaxDetails"][0]["OrderNbr"]["value"], b["OrderNbr"]["value"])
        raw = call(self.svc, "GET", "SalesOrder/%s" % b["id"]).raw.decode()
        self.assertIn('"OrderTotal":{"value":73.9700}', raw)
        r = self.put("SalesOrder", {"id": b["id"], "Hold": v(False)})
        self.assertEqual(r.body["Status"]["value"], "Open")
        self.svc.config.update({"hold_on_entry": {"SO": False}})
        self.assertEqual(self.put("SalesOrder", {"CustomerID": v(self.cust)}).body["Status"]["value"], "Open")

    def test_line_defaults_from_item(self):
        item = call(self.svc, "GET", "StockItem/%s" % self.item).body
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
            {"InventoryID": v(self.item.lower()), "OrderQty": v(1)}]}, {"$expand": "Details"})
        line = r.body["Details"][0]
        self.assertEqual(line["InventoryID"]["value"], self.item)
        self.assertEqual(line["UnitPrice"]["value"], item["DefaultPrice"]["value"])
        self.assertEqual(line["LineDescription"]["value"], item["Description"]["value"])
        self.assertEqual(line["WarehouseID"]["value"], item["DefaultWarehouseID"]["value"])
        self.assertEqual(line["LineType"]["value"], "Goods for Inventory")

    def test_ship_to_override(self):
        o = self.put("SalesOrder", {"CustomerID": v(self.cust),
                                    "ShipToAddress": {"City": v("Ignored")}},
                     {"$expand": "ShipToAddress,BillToAddress"}).body
        cust = call(self.svc, "GET", "Customer/%s" % self.cust,
                    {"$expand": "ShippingContact,ShippingContact/Address"}).body
        self.assertEqual(o["ShipToAddress"]["City"], cust["ShippingContact"]["Address"]["City"])
        self.assertFalse(o["ShipToAddressOverride"]["value"])
        r = self.put("SalesOrder", {"id": o["id"], "ShipToAddressOverride": v(True),
                                    "ShipToAddress": {"AddressLine1": v("1 Dock Rd"), "City": v("Reno"),
                                                      "State": v("NV"), "PostalCode": v("89501")},
                                    "ShipToContactOverride": v(True),
                                    "ShipToContact": {"Attention": v("Dock 4"), "Email": v("dock@x.com")}},
                     {"$expand": "ShipToAddress,ShipToContact"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["ShipToAddress"]["City"]["value"], "Reno")
        self.assertEqual(r.body["ShipToContact"]["Attention"]["value"], "Dock 4")
        self.assertNotEqual(r.body["ShipToAddress"]["id"], o["ShipToAddress"]["id"])
        # The customer's address is untouched.
        cust2 = call(self.svc, "GET", "Customer/%s" % self.cust,
                     {"$expand": "ShippingContact,ShippingContact/Address"}).body
        self.assertEqual(cust2["ShippingContact"]["Address"], cust["ShippingContact"]["Address"])
        got = call(self.svc, "GET", "SalesOrder", {"$filter": "ShipToAddress/City eq 'reno'"}).body
        self.assertEqual([x["id"] for x in got], [o["id"]])

    def test_payment_line_creates_a_payment(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
            {"InventoryID": v(self.item), "OrderQty": v(1), "UnitPrice": v(50)}],
            "Payments": [{"PaymentMethod": v("CASH"), "PaymentAmount": v(50), "PaymentRef": v("R1")}]},
            {"$expand": "Payments"})
        self.assertEqual(r.status, 200, r.body)
        line = r.body["Payments"][0]
        ref = line["ReferenceNbr"]["value"]
        pay = call(self.svc, "GET", "Payment/Payment/%s" % ref, {"$expand": "OrdersToApply"}).body
        self.assertEqual(pay["PaymentAmount"]["value"], 50)
        self.assertEqual(pay["OrdersToApply"][0]["OrderNbr"], r.body["OrderNbr"])
        self.assertEqual(line["AppliedToOrder"]["value"], 50)

    # -- stamps ---------------------------------------------------------------------------------
    def test_writes_update_last_modified(self):
        o = self.order(lines=2)
        t0 = ms(o["LastModified"]["value"])
        self.assertEqual(t0, int(self.clock.now() * 1000))
        self.clock.advance(90.5)
        same = self.put("SalesOrder", {"id": o["id"], "Description": v(o.get("Description", {}).get("value"))})
        self.assertEqual(ms(same.body["LastModified"]["value"]), t0)   # nothing changed
        r = self.put("SalesOrder", {"id": o["id"], "Details": [{"id": o["Details"][1]["id"], "OrderQty": v(9)}]},
                     {"$expand": "Details"})
        t1 = ms(r.body["LastModified"]["value"])
        self.assertEqual(t1 - t0, 90500)
        self.assertEqual(r.body["Details"][0]["LastModifiedDate"], o["Details"][0]["LastModifiedDate"])
        self.assertNotEqual(r.body["Details"][1]["LastModifiedDate"], o["Details"][1]["LastModifiedDate"])
        got = call(self.svc, "GET", "SalesOrder", {"$filter": "LastModified gt datetimeoffset'%s'"
                                                   % o["LastModified"]["value"]}).body
        self.assertEqual([x["id"] for x in got], [o["id"]])
        c = self.put("Customer", {"CustomerID": v(self.cust), "CustomerName": v("Renamed")}).body
        self.assertEqual(ms(c["LastModifiedDateTime"]["value"]), t1)

    # -- response shape -------------------------------------------------------------------------
    def test_put_response_shape(self):
        r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
            {"InventoryID": v(self.item), "OrderQty": v(1)}]})
        self.assertNotIn("Details", r.body)                          # not expanded
        self.assertIn("OrderTotal", r.body)                          # all top-level fields
        self.assertIn("Approved", r.body)
        r = self.put("SalesOrder", {"id": r.body["id"]}, {"$expand": "Details", "$select": "OrderNbr,Details/OrderQty"})
        self.assertEqual(set(r.body) - {"id", "rowNumber", "note", "custom", "_links"}, {"OrderNbr", "Details"})

    # -- delete and bodies ---------------------------------------------------------------------
    def test_delete(self):
        o = self.order()
        r = call(self.svc, "DELETE", "SalesOrder/SO/%s" % o["OrderNbr"]["value"])
        self.assertEqual((r.status, r.raw), (204, b""))
        self.assertEqual(call(self.svc, "GET", "SalesOrder/%s" % o["id"]).status, 500)
        self.assertEqual(call(self.svc, "DELETE", "SalesOrder/%s" % o["id"]).status, 500)
        c = self.put("Customer", {"CustomerName": v("Temp")}).body
        self.assertEqual(call(self.svc, "DELETE", "Customer/%s" % c["id"]).status, 204)

    def test_body_errors(self):
        for body in (None, b"", b"   "):
            r = call(self.svc, "PUT", "SalesOrder", body=body)
            self.assertEqual(r.status, 400)
            self.assertEqual(r.body, {"message": "The request is invalid.",
                                      "modelState": {"": ["The request body should not be empty."]}})
        for body in (b"{nope", b"[1,2]"):
            r = call(self.svc, "PUT", "SalesOrder", body=body)
            self.assertEqual(r.status, 400)
            self.assertEqual(r.body["message"], "The request is invalid.")
            self.assertIn("modelState", r.body)

    # -- other entities ---------------------------------------------------------------------------
    def test_customer_numbering_and_contacts(self):
        r = self.put("Customer", {"CustomerID": v("123"), "CustomerName": v("ACME"),
                                  "MainContact": {"Email": v("ap@acme.com"),
                                                  "Address": {"City": v("Fresno"), "State": v("CA")}}},
                     {"$expand": "MainContact,MainContact/Address,BillingContact,BillingContact/Address"})
        self.assertEqual(r.status, 200, r.body)
        b = r.body
        self.assertEqual(b["CustomerID"]["value"], "C000004")          # numbered (recorded)
        self.assertEqual(b["MainContact"]["Email"]["value"], "ap@acme.com")
        self.assertEqual(b["MainContact"]["CompanyName"]["value"], "ACME")
        self.assertEqual(b["BillingContact"]["Address"]["City"]["value"], "Fresno")
        self.assertEqual(b["BillingContact"]["id"], b["MainContact"]["id"])
        r = self.put("Customer", {"CustomerName": v("")})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["CustomerName"])
        r = self.put("Customer", {"CustomerID": v(b["CustomerID"]["value"]), "ShippingContactOverride": v(True),
                                  "ShippingAddressOverride": v(True),
                                  "ShippingContact": {"Attention": v("Warehouse"),
                                                      "Address": {"City": v("Clovis")}}},
                     {"$expand": "ShippingContact,ShippingContact/Address,MainContact,MainContact/Address"})
        self.assertEqual(r.body["ShippingContact"]["Address"]["City"]["value"], "Clovis")
        self.assertEqual(r.body["MainContact"]["Address"]["City"]["value"], "Fresno")
        self.assertNotEqual(r.body["ShippingContact"]["id"], r.body["MainContact"]["id"])
        self.svc.config.update({"customer_numbering": "manual"})
        r = self.put("Customer", {"CustomerID": v("ACME2"), "CustomerName": v("ACME 2")})
        self.assertEqual(r.body["CustomerID"]["value"], "ACME2")
        r = self.put("Customer", {"CustomerName": v("No id")})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["CustomerID"])

    def test_customer_email_field_in_23(self):
        r = call(self.svc, "PUT", "Customer", None, {"CustomerName": v("Mail"), "Email": v("m@x.com")},
                 version="23.200.001")
        self.assertEqual(r.body["Email"]["value"], "m@x.com")
        c = call(self.svc, "GET", "Customer/%s" % r.body["id"], {"$expand": "MainContact"}).body
        self.assertEqual(c["MainContact"]["Email"]["value"], "m@x.com")

    def test_stock_items(self):
        r = self.put("StockItem", {"InventoryID": v("NEWITEM"), "Description": v("New"),
                                   "DefaultPrice": v("12.5"),
                                   "WarehouseDetails": [{"WarehouseID": v(self.wh), "QtyOnHand": v(7)}]},
                     {"$expand": "WarehouseDetails"}, version=V24)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["InventoryID"]["value"], "NEWITEM")
        self.assertEqual(r.body["LastModified"], r.body["LastModifiedDateTime"])
        raw = call(self.svc, "GET", "StockItem/NEWITEM").raw.decode()
        self.assertIn('"DefaultPrice":{"value":12.500000}', raw)
        iw = call(self.svc, "GET", "ItemWarehouse/NEWITEM/%s" % self.wh)
        self.assertEqual(iw.status, 200)
        before = self.count("StockItem")
        r = self.put("StockItem", {})
        self.assertEqual(r.status, 200)                              # recorded: 200 with <NEW>
        self.assertEqual(r.body["InventoryID"]["value"], "<NEW>")
        self.assertEqual(self.count("StockItem"), before)            # ... and nothing stored
        r = self.put("StockItem", {"InventoryID": v("BADWH"),
                                   "WarehouseDetails": [{"WarehouseID": v("NOWHERE")}]})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["WarehouseDetails"][0]["WarehouseID"])
        r = self.put("ItemWarehouse", {"InventoryID": v("NEWITEM"), "WarehouseID": v("NOWHERE")})
        self.assertEqual(r.status, 422)

    def test_contacts(self):
        r = self.put("Contact", {"FirstName": v("Ann"), "LastName": v("Lee"),
                                 "BusinessAccount": v(self.cust), "Email": v("ann@x.com")})
        self.assertEqual(r.status, 200, r.body)
        self.assertIsInstance(r.body["ContactID"]["value"], int)
        self.assertEqual(r.body["DisplayName"]["value"], "Ann Lee")
        self.assertEqual(call(self.svc, "GET", "Contact/%d" % r.body["ContactID"]["value"]).body["id"],
                         r.body["id"])
        self.assertEqual(self.put("Contact", {"FirstName": v("NoLast")}).status, 422)

    def test_concurrent_creates_get_distinct_numbers(self):
        results = []

        def worker():
            for _ in range(20):
                r = self.put("SalesOrder", {"CustomerID": v(self.cust), "Details": [
                    {"InventoryID": v(self.item), "OrderQty": v(1)}]})
                results.append((r.status, r.body["OrderNbr"]["value"]))
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual({s for s, _ in results}, {200})
        nbrs = [n for _, n in results]
        self.assertEqual(len(set(nbrs)), 120)
        self.assertEqual(self.count("SalesOrder"), 124)


if __name__ == "__main__":
    unittest.main()
