"""Contract conformance (needs ACUMATICA_CONTRACTS; skipped otherwise):
* the catalogue in contract.py equals what the swagger files say (names and
  value types of every field of every served entity and every linked/detail
  entity reachable from them, per version);
* every response body of every served entity, for a GET with everything
  expanded and for a PUT, passes the swagger validator in swagger_check.py."""
import os
import unittest

from entity_helpers import make_service, call, v, contracts_dir
import contract
import query as query_mod
import swagger_check

CODES = {"StringValue": "s", "BooleanValue": "b", "IntValue": "i", "ShortValue": "h",
         "LongValue": "l", "DecimalValue": "d", "DateTimeValue": "t", "GuidValue": "g",
         "DoubleValue": "f", "ByteValue": "y"}
SEED = {"seed": 21, "orders": 12, "customers": 4, "items": 6, "warehouses": 2, "shipments": 4,
        "packages": 2, "invoices": 3, "payments": 3}


def swagger_closure(defs):
    """{definition: {field: code}} reachable from the served top-level entities."""
    out = {}
    todo = [n for n in contract.TOP_LEVEL if n in defs]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        fields = {}
        for fname, spec in swagger_check.properties(defs, name).items():
            if fname in ("id", "rowNumber", "note", "custom", "error", "files"):
                continue
            ref = spec.get("$ref", "").split("/")[-1] or None
            if ref in CODES:
                fields[fname] = CODES[ref]
            elif ref:
                fields[fname] = ">" + ref
                todo.append(ref)
            elif spec.get("type") == "array":
                item = spec["items"]["$ref"].split("/")[-1]
                fields[fname] = "*" + item
                todo.append(item)
        out[name] = fields
    return out


def full_expand(c, entity, depth=2):
    parts = []

    def walk(defname, prefix, d):
        for f in c.definition(defname).fields:
            if f.kind != "value":
                path = prefix + f.name
                parts.append(path)
                if d > 1:
                    walk(f.target, path + "/", d - 1)
    walk(entity, "", depth)
    return ",".join(parts)


def put_bodies(svc):
    cust = svc.records("Customer")[0]["CustomerID"]["value"]
    item = svc.records("StockItem")[0]["InventoryID"]["value"]
    wh = svc.records("Warehouse")[0]["WarehouseID"]["value"]
    ship = svc.records("Shipment")[0]["ShipmentNbr"]["value"]
    return {
        "Customer": {"CustomerName": v("Conformance Inc."), "MainContact": {
            "Email": v("c@conf.com"), "Address": {"City": v("Austin"), "State": v("TX")}}},
        "Contact": {"FirstName": v("Con"), "LastName": v("Form"), "BusinessAccount": v(cust)},
        "StockItem": {"InventoryID": v("CONF-STK"), "Description": v("x"), "DefaultPrice": v(3),
                      "WarehouseDetails": [{"WarehouseID": v(wh), "QtyOnHand": v(5)}]},
        "NonStockItem": {"InventoryID": v("CONF-NS"), "Description": v("svc"), "DefaultPrice": v(9)},
        "Warehouse": {"WarehouseID": v("CONFWH"), "Description": v("w"),
                      "Locations": [{"LocationID": v("BIN1")}]},
        "ItemWarehouse": {"InventoryID": v(item), "WarehouseID": v(wh), "ReorderPoint": v(4)},
        "InventoryQuantityAvailable": {"InventoryID": v(item)},
        "InventorySummaryInquiry": {"InventoryID": v(item)},
        "SalesOrder": {"CustomerID": v(cust), "CustomerOrder": v("CONF-1"), "Hold": v(False),
                       "ShipToAddressOverride": v(True), "ShipToAddress": {"City": v("Reno")},
                       "ShipToContactOverride": v(True), "ShipToContact": {"Email": v("s@x.com")},
                       "Details": [{"InventoryID": v(item), "OrderQty": v(2), "UnitPrice": v(5)}],
                       "TaxDetails": [{"TaxID": v("CASALES"), "TaxRate": v(7.25)}],
                       "Payments": [{"PaymentMethod": v("CHECK"), "PaymentAmount": v(10)}]},
        "Shipment": {"ShipmentNbr": v(ship), "Packages": [{"BoxID": v("B"), "TrackingNbr": v("1Z1"),
                                                           "Weight": v(2)}]},
        "ShipVia": {"CarrierID": v("CONFSV"), "Description": v("Conf carrier")},
        "SalesInvoice": {"CustomerID": v(cust), "Details": [{"InventoryID": v(item), "Qty": v(1),
                                                             "UnitPrice": v(4)}]},
        "Payment": {"CustomerID": v(cust), "PaymentAmount": v(12), "PaymentMethod": v("CHECK")},
    }


@unittest.skipUnless(os.path.isdir(contracts_dir()), "no ACUMATICA_CONTRACTS folder")
class ContractTest(unittest.TestCase):
    def test_catalogue_matches_swagger(self):
        for version in contract.VERSIONS:
            with self.subTest(version=version):
                defs = swagger_check.load_definitions(contracts_dir(), version)
                expected = swagger_closure(defs)
                c = contract.contract(version)
                mine = {n: {f.name: (f.code if f.kind == "value" else f.code + f.target)
                            for f in d.fields} for n, d in c.defs.items()}
                self.assertEqual(sorted(mine), sorted(expected))
                for name in expected:
                    self.assertEqual(mine[name], expected[name], "%s %s" % (version, name))
                    if version == contract.BASE_VERSION:
                        # The base catalogue keeps the swagger's field order (served order).
                        self.assertEqual(list(mine[name]), list(expected[name]), name)

    def test_responses_conform(self):
        for version in contract.VERSIONS:
            defs = swagger_check.load_definitions(contracts_dir(), version)
            c = contract.contract(version)
            svc = make_service(SEED, hide_feature_fields=False)
            bodies = put_bodies(svc)
            for entity in c.top_level:
                with self.subTest(version=version, entity=entity):
                    exp = full_expand(c, entity)
                    inquiry = entity in ("InventoryQuantityAvailable", "InventorySummaryInquiry")
                    if not inquiry:
                        r = call(svc, "GET", entity, {"$expand": exp}, version=version)
                        self.assertEqual(r.status, 200, r.body)
                        self.assertTrue(r.body, "no %s records to check" % entity)
                        for rec in r.body:
                            self.assertEqual(swagger_check.check(defs, entity, rec), [])
                    r = call(svc, "PUT", entity, {"$expand": exp}, bodies[entity], version=version)
                    self.assertEqual(r.status, 200, r.body)
                    self.assertEqual(swagger_check.check(defs, entity, r.body), [])
                    if inquiry:
                        self.assertTrue(r.body["Results"])

    def test_validator_catches_problems(self):
        defs = swagger_check.load_definitions(contracts_dir(), "22.200.001")
        good = {"id": "0f8fad5b-d9cb-469f-a165-70867728950e", "rowNumber": 1, "note": {"value": ""},
                "OrderNbr": {"value": "SO1"}, "OrderTotal": {"value": 1.5}, "Hold": {"value": True},
                "Details": [{"OrderQty": {"value": 1}}], "BillToAddress": {"City": {}},
                "LastModified": {"value": "2024-01-01T00:00:00+00:00"}, "custom": {}}
        self.assertEqual(swagger_check.check(defs, "SalesOrder", good), [])
        for bad in ({"Bogus": {"value": 1}}, {"OrderTotal": {"value": "1.5"}},
                    {"Hold": {"value": "true"}}, {"OrderNbr": "SO1"},
                    {"Details": {"OrderQty": {"value": 1}}}, {"BillToAddress": [{}]},
                    {"LastModified": {"value": "2024-01-01"}}, {"Details": [{"Nope": {}}]},
                    {"OrderQty": {"value": 1}}, {"OrderNbr": {"value": 1, "x": 2}}):
            self.assertNotEqual(swagger_check.check(defs, "SalesOrder", bad), [], bad)


if __name__ == "__main__":
    unittest.main()
