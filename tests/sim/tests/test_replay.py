"""Replay of the recorded exchanges that touch entities (needs ACUMATICA_CONTRACTS;
skipped otherwise): fixtures/recorded/jetbuilt-acumatica/*.json, Default/20.200.001.

Each recorded request (PUT create Customer / SalesOrder / StockItem, GET ?$top=1
lists, PUT with an empty body) is sent to the EntityService, adapted to the
seeded records (the recorded customer C1001 and item 01-792584- become seeded
ones). The answer must have the recorded status and content type, and the
recorded body structure:
* error bodies: equal;
* records: the same keys at every level, each field the same kind of JSON
  ({} for null where the request decides it: PUT answers; any wrapper for list
  rows, whose values are instance data), arrays of the same length.
Allowed differences, both build-dependent (README): `_links` (absent in the
2023 recordings of 20.200.001, present on newer builds), and `note` of detail
lines (null there, {"value": ""} on newer builds).
The sign-in/sign-out exchanges are replayed by sim-A (test_recorded_auth).
"""
import glob
import gzip
import json
import os
import unittest
import urllib.parse

from entity_helpers import make_service, contracts_dir
from simtest import SimCase

SEED = {"seed": 1, "orders": 5, "customers": 3, "stock_items": 3, "warehouses": 2}


def recorded_exchanges():
    pattern = os.path.join(contracts_dir(), "fixtures", "recorded", "jetbuilt-acumatica", "*.json")
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for i, it in enumerate(doc["interactions"]):
            uri = urllib.parse.urlsplit(it["request"]["uri"].replace("PLACEHOLDER_URL", "http://h"))
            if not uri.path.startswith("/entity/Default/") or "/entity/auth/" in uri.path:
                continue
            if it["response"]["status"] == 401:
                continue          # unauthenticated request: the server's (sim-A) answer
            yield os.path.basename(path), i, it, uri


def kind(x):
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, (int, float)):
        return "number"
    if x is None:
        return "null"
    return type(x).__name__


class Comparer:
    def __init__(self, test, strict_nulls):
        self.test = test
        self.strict = strict_nulls
        self.problems = []

    def record(self, rec, got, path, level):
        want_keys = set(rec)
        got_keys = set(got) - {"_links"}
        if want_keys != got_keys:
            self.problems.append("%s: keys differ: missing %s, extra %s"
                                 % (path, sorted(want_keys - got_keys), sorted(got_keys - want_keys)))
        for k in want_keys & got_keys:
            a, b = rec[k], got[k]
            p = "%s/%s" % (path, k)
            if k in ("id",):
                continue
            if k == "note" and level == "detail" and a is None and b == {"value": ""}:
                continue
            if k == "rowNumber":
                if a != b:
                    self.problems.append("%s: %r != %r" % (p, a, b))
                continue
            if isinstance(a, list):
                if not isinstance(b, list) or len(a) != len(b):
                    self.problems.append("%s: array differs" % p)
                    continue
                for j, (x, y) in enumerate(zip(a, b)):
                    self.record(x, y, "%s[%d]" % (p, j), "detail")
            elif isinstance(a, dict) and ("value" in a or not a) and k != "custom":
                if not isinstance(b, dict) or set(b) - {"value"}:
                    self.problems.append("%s: not a value wrapper: %r" % (p, b))
                elif self.strict and ("value" in a) != ("value" in b):
                    self.problems.append("%s: recorded %r, served %r" % (p, a, b))
                elif "value" in a and "value" in b and kind(a["value"]) != kind(b["value"]):
                    self.problems.append("%s: value kind %s != %s" % (p, kind(a["value"]),
                                                                      kind(b["value"])))
            elif isinstance(a, dict):
                if not isinstance(b, dict):
                    self.problems.append("%s: not an object" % p)
                elif k == "custom":
                    if a != b:
                        self.problems.append("%s: %r != %r" % (p, a, b))
                else:
                    self.record(a, b, p, "linked")
            elif kind(a) != kind(b):
                self.problems.append("%s: %s != %s" % (p, kind(a), kind(b)))


def adapted_body(rq, cust, item):
    """The recorded request body with the recorded customer and item replaced
    by seeded ones (bytes, or None)."""
    body = rq.get("body_raw") or None
    if not body:
        return None
    body = body.replace('"C1001"', '"%s"' % cust).replace('"01-792584-"', '"%s"' % item)
    return body.encode("utf-8")


def check_answer(test, rq, rs, status, ctype, raw):
    """The served answer against the recorded one: status, content type,
    body structure (see the module docstring)."""
    test.assertEqual(status, rs["status"])
    test.assertEqual(ctype, rs["headers"]["Content-Type"][0])
    got = json.loads(raw)
    want = rs["body"]
    if rs["status"] >= 400:
        test.assertEqual(got, want)
        return
    cmp = Comparer(test, strict_nulls=rq["method"] == "PUT")
    if isinstance(want, list):
        test.assertIsInstance(got, list)
        test.assertEqual(len(got), len(want))
        for j, (a, b) in enumerate(zip(want, got)):
            cmp.record(a, b, "[%d]" % j, "top")
    else:
        cmp.record(want, got, "", "top")
    test.assertEqual(cmp.problems, [])


@unittest.skipUnless(os.path.isdir(contracts_dir()), "no ACUMATICA_CONTRACTS folder")
class ReplayTest(unittest.TestCase):
    def test_recorded_entity_exchanges(self):
        svc = make_service(SEED)
        cust = svc.records("Customer")[0]["CustomerID"]["value"]
        item = svc.records("StockItem")[0]["InventoryID"]["value"]
        seen = 0
        for name, i, it, uri in recorded_exchanges():
            rq, rs = it["request"], it["response"]
            with self.subTest(fixture=name, interaction=i):
                query = dict(urllib.parse.parse_qsl(uri.query))
                resp = svc.handle(rq["method"], urllib.parse.unquote(uri.path), query,
                                  adapted_body(rq, cust, item),
                                  {k: v[0] for k, v in rq["headers"].items()}, {})
                ctype = dict((k.lower(), v) for k, v in resp.headers).get("content-type")
                check_answer(self, rq, rs, resp.status, ctype, resp.body)
                seen += 1
        self.assertEqual(seen, 11)


@unittest.skipUnless(os.path.isdir(contracts_dir()), "no ACUMATICA_CONTRACTS folder")
class ReplayOverHttpTest(SimCase):
    """The same exchanges sent over HTTP to the running simulator, signed in
    with a cookie session as the recording client was: what the server
    really sends (status line, Content-Type header, body) is compared."""
    use_fake = False

    def test_recorded_entity_exchanges_over_http(self):
        r = self.control("POST", "seed", SEED)
        self.assertEqual(r.status, 200, r.text())
        cust = self.control("GET", "records/Customer").json()[0]["CustomerID"]["value"]
        item = self.control("GET", "records/StockItem").json()[0]["InventoryID"]["value"]
        c, r = self.login()
        self.assertEqual(r.status, 204, r.text())
        skip = {"host", "cookie", "authorization", "content-length", "connection"}
        seen = 0
        for name, i, it, uri in recorded_exchanges():
            rq, rs = it["request"], it["response"]
            with self.subTest(fixture=name, interaction=i):
                headers = {k: v[0] for k, v in rq["headers"].items() if k.lower() not in skip}
                path = self.site + uri.path + ("?" + uri.query if uri.query else "")
                reply = c.request(rq["method"], path, body=adapted_body(rq, cust, item),
                                  headers=headers)
                raw = reply.body
                if (reply.header("Content-Encoding") or "").lower() == "gzip":
                    raw = gzip.decompress(raw)    # the recorded client asked for gzip
                check_answer(self, rq, rs, reply.status, reply.header("Content-Type"), raw)
                seen += 1
        self.assertEqual(seen, 11)

    def test_comparer_sees_differences(self):
        want = {"id": "x", "rowNumber": 1, "note": {"value": ""}, "A": {}, "B": {"value": 1.0},
                "Details": [{"id": "y", "rowNumber": 1, "note": None, "C": {"value": "s"}}],
                "custom": {}}
        ok = json.loads(json.dumps(want))
        ok["_links"] = {"self": "/s"}
        ok["Details"][0]["note"] = {"value": ""}
        cmp = Comparer(self, strict_nulls=True)
        cmp.record(want, ok, "", "top")
        self.assertEqual(cmp.problems, [])
        for mutate in (lambda r: r.pop("A"), lambda r: r.update(Z={}), lambda r: r.update(A={"value": 1}),
                       lambda r: r.update(B={"value": "1"}), lambda r: r["Details"].append({}),
                       lambda r: r["Details"][0].update(C={"value": 2}), lambda r: r.update(rowNumber=2)):
            bad = json.loads(json.dumps(ok))
            mutate(bad)
            cmp = Comparer(self, strict_nulls=True)
            cmp.record(want, bad, "", "top")
            self.assertNotEqual(cmp.problems, [])


if __name__ == "__main__":
    unittest.main()
