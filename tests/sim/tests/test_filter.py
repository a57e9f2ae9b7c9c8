"""The $filter parser and evaluator: operators, precedence, literals, functions,
custom fields, linked paths, errors; and through the service."""
import unittest
from decimal import Decimal

from entity_helpers import make_service, call, v
import odata_filter
from odata_filter import FilterError, compile_filter, parse, parse_datetime_ms

TYPES = {"Name": "s", "Qty": "d", "Count": "i", "Flag": "b", "When": "t", "Id": "g",
         "Main/Email": "s"}


class Resolver:
    def __call__(self, segs, pos):
        path = "/".join(segs)
        if path not in TYPES:
            raise FilterError("no field %s at %d" % (path, pos))
        if len(segs) == 2:
            return (lambda r: (r.get(segs[0]) or {}).get(segs[1])), TYPES[path]
        return (lambda r: r.get(path)), TYPES[path]

    def custom(self, tname, vf, pos):
        view, field = vf.split(".")
        code = odata_filter.CUSTOM_TYPES[tname]
        return (lambda r: ((r.get("custom") or {}).get(view) or {}).get(field)), code


R = Resolver()
RECS = [
    {"Name": "Alpha", "Qty": Decimal("5.000000"), "Count": 3, "Flag": True,
     "When": parse_datetime_ms("2024-07-15T07:31:28.402Z"), "Id": "0f8fad5b-d9cb-469f-a165-70867728950e",
     "Main": {"Email": "a@x.com"}, "custom": {"Document": {"UsrRepair": "Battery"}}},
    {"Name": "beta's", "Qty": Decimal("0.5"), "Count": 10, "Flag": False,
     "When": parse_datetime_ms("2024-07-16T00:00:00+00:00"), "Main": {"Email": "b@y.org"}},
    {"Name": None, "Qty": None, "Count": None, "Flag": None, "When": None},
]


def names(text, offset=0):
    pred = compile_filter(text, R, offset)
    return [r["Name"] for r in RECS if pred(r)]


class FilterTest(unittest.TestCase):
    def test_comparison_operators(self):
        self.assertEqual(names("Count eq 3"), ["Alpha"])
        self.assertEqual(names("Count ne 3"), ["beta's", None])       # null ne 3 is true
        self.assertEqual(names("Count gt 3"), ["beta's"])
        self.assertEqual(names("Count ge 3"), ["Alpha", "beta's"])
        self.assertEqual(names("Count lt 10"), ["Alpha"])
        self.assertEqual(names("Count le 10"), ["Alpha", "beta's"])
        self.assertEqual(names("Name eq 'ALPHA'"), ["Alpha"])          # case-insensitive
        self.assertEqual(names("Name gt 'b'"), ["beta's"])
        self.assertEqual(names("Name eq null"), [None])
        self.assertEqual(names("null ne Name"), ["Alpha", "beta's"])

    def test_logic_and_precedence(self):
        self.assertEqual(names("Count eq 3 or Count eq 10 and Flag eq true"), ["Alpha"])
        self.assertEqual(names("(Count eq 3 or Count eq 10) and Flag eq false"), ["beta's"])
        self.assertEqual(names("not (Count eq 3)"), ["beta's", None])
        self.assertEqual(names("not Flag"), ["beta's", None])
        self.assertEqual(names("Flag"), ["Alpha"])
        self.assertEqual(names("not not Flag"), ["Alpha"])
        self.assertEqual(names("Flag eq true and not (Name eq 'x') or Count eq 10"),
                         ["Alpha", "beta's"])
        # "not" binds tighter than eq: (not Flag) eq false
        self.assertEqual(names("not Flag eq false"), ["Alpha"])

    def test_literals(self):
        self.assertEqual(names("Name eq 'beta''s'"), ["beta's"])
        self.assertEqual(names("Qty eq 0.5M"), ["beta's"])
        self.assertEqual(names("Qty eq 5M"), ["Alpha"])
        self.assertEqual(names("Qty gt 0M"), ["Alpha", "beta's"])
        self.assertEqual(names("Qty eq 5"), ["Alpha"])
        self.assertEqual(names("Qty lt 1.5"), ["beta's"])
        self.assertEqual(names("Qty lt 1.5d"), ["beta's"])
        self.assertEqual(names("Count eq 10L"), ["beta's"])
        self.assertEqual(names("Count gt -1"), ["Alpha", "beta's"])
        self.assertEqual(names("Flag eq false"), ["beta's"])
        self.assertEqual(names("Id eq guid'0F8FAD5B-D9CB-469F-A165-70867728950E'"), ["Alpha"])

    def test_datetimeoffset_compares_instants(self):
        # 2024-07-15T10:31:28.402+03:00 is the same instant as 07:31:28.402Z.
        self.assertEqual(names("When eq datetimeoffset'2024-07-15T10:31:28.402+03:00'"), ["Alpha"])
        self.assertEqual(names("When gt datetimeoffset'2024-07-15T10:31:28.402+03:00'"), ["beta's"])
        self.assertEqual(names("When ge datetimeoffset'2024-07-15T07:31:28.402Z'"),
                         ["Alpha", "beta's"])
        self.assertEqual(names("When lt datetimeoffset'2024-07-15T19:00:00-05:00'"), ["Alpha"])
        self.assertEqual(names("When gt datetimeoffset'2024-07-15T18:59:59-05:00'"), ["beta's"])
        self.assertEqual(names("When eq datetimeoffset'2024-07-15T19:00:00-05:00'"), ["beta's"])
        # No offset: the instance's offset (here +03:00) applies.
        self.assertEqual(names("When eq datetime'2024-07-15T10:31:28.402'", 180), ["Alpha"])
        self.assertEqual(names("When ge date'2024-07-16'"), ["beta's"])
        self.assertEqual(names("When lt date'2024-07-16'", 60), ["Alpha"])

    def test_functions(self):
        self.assertEqual(names("substringof('LPH', Name)"), ["Alpha"])
        self.assertEqual(names("startswith(Name, 'be')"), ["beta's"])
        self.assertEqual(names("endswith(Name, 'HA')"), ["Alpha"])
        self.assertEqual(names("not startswith(Name, 'be')"), ["Alpha", None])
        self.assertEqual(names("startswith(Name,'a') eq true"), ["Alpha"])

    def test_linked_path_and_custom_field(self):
        self.assertEqual(names("Main/Email eq 'B@Y.ORG'"), ["beta's"])
        self.assertEqual(names("endswith(Main/Email, '.com')"), ["Alpha"])
        self.assertEqual(names("cf.String(f='Document.UsrRepair') eq 'Battery'"), ["Alpha"])

    def test_errors(self):
        bad = ["", "Name eq", "Name eq 'x' and", "(Name eq 'x'", "Name eq 'x')", "Name eq 'x",
               "Name = 'x'", "Name eq 'x' Count eq 1", "Count eq 1 eq 2", "eq 1",
               "Nope eq 1", "Name eq 1", "Count eq 'x'", "Flag gt true", "When gt '2024-01-01'",
               "When gt datetimeoffset'2024-13-45'", "When gt datetimeoffset'2024-07-15T10:00:00'",
               "substringof(Name)", "substringof(1, Name)", "tolower(Name) eq 'x'",
               "Count add 1 eq 2", "not Name", "Name", "cf.Bogus(f='A.B') eq 1",
               "cf.String(g='A.B') eq 'x'", "Id eq guid'nope'", "Name eq 'x' or", "#"]
        for text in bad:
            with self.subTest(text=text):
                with self.assertRaises(FilterError):
                    compile_filter(text, R)

    def test_error_messages_carry_position(self):
        with self.assertRaises(FilterError) as cm:
            parse("Name eq 'x' and")
        self.assertIn("position 15", str(cm.exception))
        with self.assertRaises(FilterError) as cm:
            compile_filter("Name eq 1", R)
        self.assertIn("incompatible", str(cm.exception))


class FilterThroughServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.svc = make_service({"seed": 3, "orders": 40, "customers": 6, "stock_items": 10})

    def test_linked_filter_on_customer_email(self):
        cust = call(self.svc, "GET", "Customer", {"$top": "1", "$skip": "2",
                                                  "$expand": "MainContact"}).body[0]
        email = cust["MainContact"]["Email"]["value"]
        r = call(self.svc, "GET", "Customer", {"$filter": "MainContact/Email eq '%s'" % email.upper()})
        self.assertEqual(r.status, 200)
        self.assertEqual([c["CustomerID"]["value"] for c in r.body], [cust["CustomerID"]["value"]])

    def test_last_modified_filter_across_offsets(self):
        orders = call(self.svc, "GET", "SalesOrder").body
        stamps = sorted(o["LastModified"]["value"] for o in orders)
        pivot = stamps[len(stamps) // 2]
        expected = len([s for s in stamps if odata_filter.parse_datetime_ms(s) > odata_filter.parse_datetime_ms(pivot)])
        # The same instant written with another offset selects the same records.
        ms = odata_filter.parse_datetime_ms(pivot)
        import render
        shifted = render.format_datetime(ms, -300)
        for text in (pivot, shifted):
            r = call(self.svc, "GET", "SalesOrder", {"$filter": "LastModified gt datetimeoffset'%s'" % text})
            self.assertEqual(r.status, 200)
            self.assertEqual(len(r.body), expected)

    def test_decimal_and_status_filter(self):
        r = call(self.svc, "GET", "SalesOrder",
                 {"$filter": "Status eq 'Open' and OrderTotal gt 0M"})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body)
        for o in r.body:
            self.assertEqual(o["Status"]["value"], "Open")
            self.assertGreater(o["OrderTotal"]["value"], 0)

    def test_malformed_filter_is_an_error_body(self):
        for text in ("Status eq", "Bogus eq 1", "Status eq 1", "((("):
            r = call(self.svc, "GET", "SalesOrder", {"$filter": text})
            self.assertEqual(r.status, 500, text)
            self.assertEqual(r.body["message"], "An error has occurred.")
            self.assertEqual(r.body["exceptionType"], "Microsoft.Data.OData.ODataException")
            self.assertIn(text, r.body["exceptionMessage"])

    def test_custom_field_filter(self):
        r = call(self.svc, "PUT", "StockItem",
                 body={"InventoryID": v("CUSTOM1"), "Description": v("x"),
                       "custom": {"ItemSettings": {"UsrRepairItemType": {"type": "CustomStringField",
                                                                         "value": "Battery"}}}})
        self.assertEqual(r.status, 200, r.body)
        r = call(self.svc, "GET", "StockItem",
                 {"$filter": "cf.String(f='ItemSettings.UsrRepairItemType') eq 'Battery'",
                  "$custom": "ItemSettings.UsrRepairItemType"})
        self.assertEqual([i["InventoryID"]["value"] for i in r.body], ["CUSTOM1"])
        self.assertEqual(r.body[0]["custom"], {"ItemSettings": {"UsrRepairItemType": {
            "type": "CustomStringField", "value": "Battery"}}})


if __name__ == "__main__":
    unittest.main()
