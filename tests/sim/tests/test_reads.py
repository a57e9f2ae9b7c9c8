"""Reads: endpoint list, versions, list paging, $expand/$select/$custom, GET by
keys and by id, errors, and the served JSON shape (wrappers, scales, date-times,
last-modified fields per version, links)."""
import json
import re
import unittest

from entity_helpers import make_service, call, v, V20, V22, V23, V24
import query as query_mod

SEED = {"seed": 11, "orders": 30, "customers": 8, "stock_items": 12, "non_stock_items": 3,
        "warehouses": 3, "shipments": 6, "invoices": 3, "payments": 3}


class ReadsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.svc = make_service(SEED)

    def get(self, path, query=None, version=V22):
        return call(self.svc, "GET", path, query, version=version)

    # -- routing --------------------------------------------------------------
    def test_endpoint_list(self):
        r = call(self.svc, "GET", "/entity")
        self.assertEqual(r.status, 200)
        self.assertIn("acumaticaBuildVersion", r.body["version"])
        self.assertEqual([(e["name"], e["version"], e["href"]) for e in r.body["endpoints"]],
                         [("Default", x, "/AcumaticaERP/entity/Default/%s/" % x)
                          for x in (V20, V22, V23, V24)])

    def test_unknown_version_endpoint_and_entity(self):
        r = self.get("SalesOrder", version="21.200.001")
        self.assertEqual(r.status, 404)
        self.assertIn("Default", r.body["messageDetail"])
        self.assertIn("21.200.001", r.body["messageDetail"])
        self.assertIn("message", r.body)
        r = call(self.svc, "GET", "/entity/MyEndpoint/22.200.001/SalesOrder")
        self.assertEqual(r.status, 404)
        self.assertIn("MyEndpoint", r.body["messageDetail"])
        r = self.get("Bogus")
        self.assertEqual(r.status, 404)
        self.assertIn("Bogus", r.body["messageDetail"])
        # InventoryQuantityAvailable does not exist in 20.200.001.
        r = call(self.svc, "PUT", "InventoryQuantityAvailable", body={}, version=V20)
        self.assertEqual(r.status, 404)
        r = call(self.svc, "POST", "SalesOrder", body={})
        self.assertEqual(r.status, 405)

    def test_entity_names_are_case_insensitive(self):
        r = self.get("salesorder", {"$top": "1"})
        self.assertEqual(r.status, 200)
        self.assertIn("/SalesOrder/", r.body[0]["_links"]["self"])

    # -- paging -----------------------------------------------------------------
    def test_paging_rownumber_and_stable_key_order(self):
        full = self.get("SalesOrder").body
        nbrs = [o["OrderNbr"]["value"] for o in full]
        self.assertEqual(nbrs, sorted(nbrs))
        self.assertEqual([o["rowNumber"] for o in full], list(range(1, len(full) + 1)))
        pages = []
        for skip in range(0, len(full) + 7, 7):
            page = self.get("SalesOrder", {"$top": "7", "$skip": str(skip)}).body
            if page:
                self.assertEqual([o["rowNumber"] for o in page], list(range(1, len(page) + 1)))
            pages.extend(o["OrderNbr"]["value"] for o in page)
        self.assertEqual(pages, nbrs)
        self.assertEqual(len(self.get("SalesOrder", {"$top": "7", "$skip": "28"}).body), 2)
        self.assertEqual(self.get("SalesOrder", {"$skip": "1000"}).body, [])
        self.assertEqual(self.get("SalesOrder", {"$top": "0"}).body, [])
        # With a filter, paging applies to the filtered list.
        f = {"$filter": "Status eq 'Open'"}
        opened = [o["OrderNbr"]["value"] for o in self.get("SalesOrder", f).body]
        got = []
        for skip in range(0, len(opened) + 4, 4):
            got += [o["OrderNbr"]["value"] for o in
                    self.get("SalesOrder", dict(f, **{"$top": "4", "$skip": str(skip)})).body]
        self.assertEqual(got, opened)

    def test_bad_paging_values(self):
        for q in ({"$top": "x"}, {"$skip": "-1"}):
            r = self.get("SalesOrder", q)
            self.assertEqual(r.status, 400)
            self.assertIn("exceptionMessage", r.body)

    # -- expand / select / custom --------------------------------------------------
    def test_nothing_linked_or_detail_without_expand(self):
        o = self.get("SalesOrder", {"$top": "1"}).body[0]
        for name in ("Details", "BillToAddress", "ShipToAddress", "BillToContact", "ShipToContact",
                     "Payments", "TaxDetails", "Shipments", "Totals", "Commissions"):
            self.assertNotIn(name, o)
        c = self.get("Customer", {"$top": "1"}).body[0]
        for name in ("MainContact", "BillingContact", "ShippingContact", "Contacts"):
            self.assertNotIn(name, c)

    def test_expand_nested(self):
        c = self.get("Customer", {"$top": "1", "$expand": "MainContact"}).body[0]
        self.assertIn("Email", c["MainContact"])
        self.assertNotIn("Address", c["MainContact"])
        c = self.get("Customer", {"$top": "1", "$expand": "MainContact,MainContact/Address,"
                                                          "BillingContact/Address"}).body[0]
        self.assertIn("City", c["MainContact"]["Address"])
        self.assertIn("City", c["BillingContact"]["Address"])
        self.assertIsNone(c["MainContact"]["note"])            # linked objects: note null
        self.assertNotIn("_links", c["MainContact"])
        o = self.get("SalesOrder", {"$top": "1", "$expand": "Details,ShipToAddress,ShipToContact"}).body[0]
        self.assertEqual([l["rowNumber"] for l in o["Details"]], list(range(1, len(o["Details"]) + 1)))
        line = o["Details"][0]
        self.assertEqual(line["note"], {"value": ""})
        self.assertEqual(list(line["_links"]), ["files:put"])
        self.assertIn("/files/PX.Objects.SO.SOOrderEntry/Transactions/%s/{filename}" % line["id"],
                      line["_links"]["files:put"])
        self.assertIn("AddressLine1", o["ShipToAddress"])
        self.assertIn("Email", o["ShipToContact"])

    def test_select(self):
        c = self.get("Customer", {"$top": "2", "$select": "CustomerID,CustomerName"}).body
        for rec in c:
            self.assertEqual(set(rec), {"id", "rowNumber", "note", "CustomerID", "CustomerName",
                                        "custom", "_links"})
        c = self.get("Customer", {"$top": "1", "$expand": "MainContact,MainContact/Address",
                                  "$select": "CustomerName,MainContact/Email,MainContact/Address/City"}).body[0]
        self.assertEqual(set(c) - {"id", "rowNumber", "note", "custom", "_links"},
                         {"CustomerName", "MainContact"})
        self.assertEqual(set(c["MainContact"]) - {"id", "rowNumber", "note", "custom"},
                         {"Email", "Address"})
        self.assertEqual(set(c["MainContact"]["Address"]) - {"id", "rowNumber", "note", "custom"},
                         {"City"})
        # Expanded but not selected: left out.
        c = self.get("Customer", {"$top": "1", "$expand": "MainContact",
                                  "$select": "CustomerName"}).body[0]
        self.assertNotIn("MainContact", c)
        # Selected but not expanded: not returned either.
        c = self.get("Customer", {"$top": "1", "$select": "CustomerName,MainContact/Email"}).body[0]
        self.assertNotIn("MainContact", c)
        o = self.get("SalesOrder", {"$top": "1", "$expand": "Details",
                                    "$select": "OrderNbr,Details/InventoryID"}).body[0]
        self.assertEqual(set(o["Details"][0]) - {"id", "rowNumber", "note", "custom", "_links"},
                         {"InventoryID"})

    def test_unknown_select_or_expand_is_an_error(self):
        for q in ({"$select": "Nope"}, {"$expand": "Nope"}, {"$expand": "OrderNbr"},
                  {"$select": "Details/Nope", "$expand": "Details"}, {"$custom": "NoDot"}):
            r = self.get("SalesOrder", q)
            self.assertEqual(r.status, 500, q)
            self.assertEqual(r.body["message"], "An error has occurred.")

    def test_custom_parameter(self):
        o = self.get("SalesOrder", {"$top": "1", "$custom": "Document.UsrNothing"}).body[0]
        self.assertEqual(o["custom"], {"Document": {"UsrNothing": {"type": "CustomStringField",
                                                                    "value": None}}})
        o = self.get("SalesOrder", {"$top": "1"}).body[0]
        self.assertEqual(o["custom"], {})

    # -- one record ---------------------------------------------------------------
    def test_get_by_keys_pipes_and_id(self):
        first = self.get("SalesOrder", {"$top": "1"}).body[0]
        nbr = first["OrderNbr"]["value"]
        for path in ("SalesOrder/SO/%s" % nbr, "SalesOrder/SO|%s" % nbr,
                     "SalesOrder/so/%s" % nbr.lower(), "SalesOrder/%s" % first["id"],
                     "SalesOrder/%s" % first["id"].upper()):
            r = self.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.body["id"], first["id"])
            self.assertEqual(r.body["rowNumber"], 1)
        r = self.get("SalesOrder/SO/%s" % nbr, {"$expand": "Details"})
        self.assertTrue(r.body["Details"])
        c = self.get("Contact", {"$top": "1"}).body[0]
        r = self.get("Contact/%d" % c["ContactID"]["value"])
        self.assertEqual(r.body["id"], c["id"])

    def test_missing_record_is_the_recorded_500(self):
        for path in ("SalesOrder/SO/SO999999", "SalesOrder/SO", "SalesOrder/SO/A/B",
                     "SalesOrder/00000000-0000-0000-0000-000000000000", "Contact/abc"):
            r = self.get(path)
            self.assertEqual(r.status, 500, path)
            self.assertEqual(r.body["message"], "An error has occurred.")
            self.assertEqual(r.body["exceptionMessage"], "No entity satisfies the condition.")
            self.assertEqual(r.body["exceptionType"],
                             "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")
            self.assertIn("stackTrace", r.body)
        first = self.get("SalesOrder", {"$top": "1"}).body[0]
        r = self.get("SalesOrder/SO/%s" % first["OrderNbr"]["value"], {"$filter": "OrderTotal lt 0M"})
        self.assertEqual(r.status, 500)

    # -- served shape ---------------------------------------------------------------
    def test_wrappers_decimals_and_datetimes(self):
        raw = self.get("SalesOrder", {"$top": "3", "$expand": "Details"}).raw.decode()
        self.assertRegex(raw, r'"OrderTotal":\{"value":\d+\.\d{4}\}')
        self.assertRegex(raw, r'"CurrencyRate":\{"value":1\.00000000\}')
        self.assertRegex(raw, r'"OrderQty":\{"value":\d+\.\d{6}\}')
        self.assertRegex(raw, r'"UnitPrice":\{"value":\d+\.\d{6}\}')
        self.assertIn('"DestinationWarehouseID":{}', raw)            # null -> {}
        self.assertIn('"note":{"value":""}', raw)
        self.assertRegex(raw, r'"Date":\{"value":"\d{4}-\d\d-\d\dT00:00:00\+00:00"\}')
        for m in re.finditer(r'"LastModified":\{"value":"([^"]+)"\}', raw):
            self.assertRegex(m.group(1), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?\+00:00$")
            self.assertFalse(re.search(r"\.\d*0\+", m.group(1)), m.group(1))   # trailing zeros trimmed
        self.assertRegex(raw, r'"LastModifiedDate":\{"value":"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d"\}')
        self.assertRegex(raw, r'"Status":\{"value":"(Open|On Hold|Completed|Shipping|Cancelled)"\}')

    def test_instance_offset_applies(self):
        svc = make_service(SEED, time_zone_offset="+03:00")
        o = call(svc, "GET", "SalesOrder", {"$top": "1"}).body[0]
        self.assertTrue(o["LastModified"]["value"].endswith("+03:00"))
        self.assertTrue(o["Date"]["value"].endswith("T00:00:00+03:00"))
        base = self.get("SalesOrder", {"$top": "1"}).body[0]
        import odata_filter
        self.assertEqual(odata_filter.parse_datetime_ms(o["LastModified"]["value"]),
                         odata_filter.parse_datetime_ms(base["LastModified"]["value"]))

    def test_last_modified_field_per_version(self):
        def fields(entity, version):
            r = call(self.svc, "GET", entity, {"$top": "1"}, version=version)
            self.assertEqual(r.status, 200, (entity, version, r.body))
            return set(r.body[0]) if r.body else set()
        so22 = fields("SalesOrder", V22)
        self.assertIn("LastModified", so22)
        self.assertNotIn("LastModifiedDateTime", so22)
        self.assertIn("LastModified", fields("StockItem", V22))
        self.assertNotIn("LastModifiedDateTime", fields("StockItem", V22))
        self.assertNotIn("LastModifiedDateTime", fields("StockItem", V23))
        self.assertTrue({"LastModified", "LastModifiedDateTime"} <= fields("StockItem", V24))
        for e in ("Customer", "NonStockItem", "Shipment", "Payment", "ItemWarehouse", "Contact"):
            self.assertIn("LastModifiedDateTime", fields(e, V22), e)
        self.assertFalse({"LastModifiedDateTime", "LastModified"} & fields("SalesInvoice", V22))
        self.assertIn("LastModifiedDateTime", fields("SalesInvoice", V23))
        self.assertNotIn("LastModifiedDateTime", fields("Warehouse", V22))
        self.assertIn("LastModifiedDateTime", fields("Warehouse", V23))
        # Version differences of these entities.
        self.assertIn("Branch", fields("SalesOrder", V23))
        self.assertNotIn("Branch", so22)
        self.assertNotIn("NoteID", fields("SalesOrder", V20))
        self.assertIn("NoteID", so22)

    def test_id_is_note_id_and_links_use_site_path(self):
        svc = make_service(SEED, site_path="/MyCompany")
        o = call(svc, "GET", "SalesOrder", {"$top": "1"}).body[0]
        self.assertEqual(o["NoteID"]["value"], o["id"])
        self.assertEqual(o["_links"]["self"], "/MyCompany/entity/Default/22.200.001/SalesOrder/" + o["id"])
        self.assertEqual(o["_links"]["files:put"], "/MyCompany/entity/Default/22.200.001/files/"
                         "PX.Objects.SO.SOOrderEntry/Document/%s/{filename}" % o["id"])
        self.assertEqual(list(o)[:3], ["id", "rowNumber", "note"])
        self.assertEqual(list(o)[-2:], ["custom", "_links"])

    def test_feature_fields_hidden_as_recorded(self):
        o = self.get("SalesOrder", {"$top": "1", "$expand": "Details"}).body[0]
        self.assertNotIn("VATTaxableTotal", o)
        self.assertNotIn("Subitem", o["Details"][0])
        svc = make_service(SEED, hide_feature_fields=False)
        o = call(svc, "GET", "SalesOrder", {"$top": "1", "$expand": "Details"}).body[0]
        self.assertIn("VATTaxableTotal", o)
        self.assertIn("Subitem", o["Details"][0])

    def test_inquiry_list_get_cannot_be_optimized(self):
        r = self.get("InventorySummaryInquiry")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.body["exceptionType"],
                         "PX.Api.ContractBased.OptimizedExport.CannotOptimizeException")
        self.assertTrue(r.body["exceptionMessage"].startswith("Optimization cannot be performed."))

    def test_fast_and_generic_renderers_agree(self):
        import contract
        c = contract.contract(V22)
        rnd = self.svc.renderer(c)
        for entity, exp in (("SalesOrder", "Details,BillToAddress,ShipToContact,TaxDetails,Shipments,Payments"),
                            ("Customer", "MainContact,MainContact/Address,ShippingContact"),
                            ("StockItem", "WarehouseDetails"), ("Shipment", "Details,Packages,Orders")):
            q = query_mod.parse_query(c, entity, {"$expand": exp})
            fn = rnd.top(entity, q.shape)
            for i, rec in enumerate(self.svc.store.table(entity).snapshot()):
                self.assertEqual(fn(rec, i + 1), fn.slow(rec, i + 1))
                json.loads(fn(rec, i + 1))

    def test_ad_hoc_schema(self):
        r = self.get("SalesOrder/$adHocSchema")
        self.assertEqual(r.status, 200)
        self.assertIn("OrderNbr", r.body)
        self.assertIsInstance(r.body["Details"], list)

    def test_records_everything_expanded(self):
        recs = self.svc.records("SalesOrder")
        self.assertEqual(len(recs), SEED["orders"])
        self.assertIn("Details", recs[0])
        self.assertIn("Address", self.svc.records("Customer")[0]["MainContact"])
        self.assertIn("Packages", self.svc.records("Shipment", V24)[0])
        json.dumps(recs)                            # plain JSON values
        with self.assertRaises(KeyError):
            self.svc.records("Bogus")
        self.assertEqual(self.svc.records("InventorySummaryInquiry"), [])


class InquiryTest(unittest.TestCase):
    def setUp(self):
        self.svc = make_service(SEED)

    def test_inventory_summary_with_expand_results(self):
        item = call(self.svc, "GET", "StockItem", {"$top": "1", "$expand": "WarehouseDetails"}).body[0]
        iid = item["InventoryID"]["value"]
        r = call(self.svc, "PUT", "InventorySummaryInquiry", {"$expand": "Results"},
                 body={"InventoryID": v(iid)})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["InventoryID"], {"value": iid})
        rows = r.body["Results"]
        self.assertEqual(sorted(x["WarehouseID"]["value"] for x in rows),
                         sorted(w["WarehouseID"]["value"] for w in item["WarehouseDetails"]))
        for row in rows:
            self.assertLessEqual(row["QtyAvailable"]["value"], row["QtyOnHand"]["value"])
        wh = rows[0]["WarehouseID"]["value"]
        r = call(self.svc, "PUT", "InventorySummaryInquiry", {"$expand": "Results"},
                 body={"InventoryID": v(iid), "WarehouseID": v(wh)})
        self.assertEqual([x["WarehouseID"]["value"] for x in r.body["Results"]], [wh])
        r = call(self.svc, "PUT", "InventorySummaryInquiry", body={"InventoryID": v(iid)})
        self.assertNotIn("Results", r.body)              # not expanded
        r = call(self.svc, "PUT", "InventorySummaryInquiry", {"$expand": "Results"},
                 body={"InventoryID": v("NOPE")})
        self.assertEqual(r.status, 422)
        self.assertIn("error", r.body["InventoryID"])

    def test_open_orders_reduce_availability(self):
        item = call(self.svc, "PUT", "StockItem", {"$expand": "WarehouseDetails"},
                    body={"InventoryID": v("AVAIL1"), "Description": v("x"),
                          "WarehouseDetails": [{"WarehouseID": v("MAIN"), "QtyOnHand": v(50)}]})
        self.assertEqual(item.status, 200, item.body)
        cust = call(self.svc, "GET", "Customer", {"$top": "1"}).body[0]["CustomerID"]["value"]
        r = call(self.svc, "PUT", "SalesOrder", body={
            "CustomerID": v(cust), "Hold": v(False),
            "Details": [{"InventoryID": v("AVAIL1"), "OrderQty": v(8), "WarehouseID": v("MAIN")}]})
        self.assertEqual(r.status, 200, r.body)
        res = call(self.svc, "PUT", "InventorySummaryInquiry", {"$expand": "Results"},
                   body={"InventoryID": v("AVAIL1")}).body["Results"][0]
        self.assertEqual(res["QtyOnHand"]["value"], 50)
        self.assertEqual(res["QtyAvailable"]["value"], 42)
        qa = call(self.svc, "PUT", "InventoryQuantityAvailable", {"$expand": "Results"},
                  body={"InventoryID": v("AVAIL1")})
        self.assertEqual(qa.status, 200, qa.body)
        self.assertEqual(qa.body["Results"][0]["QtyAvailable"]["value"], 42)
        self.assertIn("value", qa.body["Results"][0]["LastModifiedDateTime"])

    def test_quantity_available_since(self):
        r = call(self.svc, "PUT", "InventoryQuantityAvailable", {"$expand": "Results"},
                 body={"LastModifiedDateTime": v("1/1/2000")})
        self.assertEqual(len(r.body["Results"]), SEED["stock_items"])
        r = call(self.svc, "PUT", "InventoryQuantityAvailable", {"$expand": "Results"},
                 body={"LastModifiedDateTime": v("2100-01-01T00:00:00+00:00")})
        self.assertEqual(r.body["Results"], [])


if __name__ == "__main__":
    unittest.main()
