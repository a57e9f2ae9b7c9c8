"""Every pull flow through connector-host and the real plugin against the
simulator: the records delivered are the simulator's (by id), shaped per
host-api/schemas, with the checkpoint committed; paging with $top/$skip
(an exact multiple of the page size, an empty result, a single short
page, pages fetched ahead up to Concurrent Connections); the filter
literals in the business's offset; the tracking flow's first look back;
manual sync by ids.

Run one class: python3 test_pull_flows.py PagingTest
"""
import collections
import datetime
import random
import re
import urllib.parse

import flowtest
from flowtest import ENDPOINT, list_gets, max_overlap, pages, parse_time, v

DAY = 86400


def trimmed(x):
    x = v(x)
    return x.strip() if isinstance(x, str) else x


class EveryFlowTest(flowtest.FlowTestCase):
    def test_every_flow(self):
        sim = self.start_sim("--seed", 21, "--customers", 23, "--items", 15, "--warehouses", 3,
                             "--orders", 40, "--lines", 2, "--shipments", 14)
        h = self.host(sim, page_size=4)
        customers = sim.records("Customer")
        stock = sim.records("StockItem")
        non_stock = sim.records("NonStockItem")
        warehouses = sim.records("Warehouse")
        shipments = sim.records("Shipment")
        orders = sim.api("GET", "/SalesOrder?$select=OrderType,OrderNbr")

        expected = {
            "customers": {trimmed(c["CustomerID"]) for c in customers},
            "products": {trimmed(i["InventoryID"]) for i in stock + non_stock},
            "locations": {trimmed(w["WarehouseID"]) for w in warehouses},
            "inventory": {"%s@%s" % (trimmed(i["InventoryID"]), trimmed(d["WarehouseID"]))
                          for i in stock for d in i.get("WarehouseDetails", [])},
            "tracking": {"%s/%s" % (trimmed(s["ShipmentNbr"]), trimmed(p["TrackingNbr"]))
                         for s in shipments for p in s.get("Packages", [])
                         if trimmed(p.get("TrackingNbr"))},
            # Not in the list, but shipped as a mapping (and benchmarked).
            "sales_orders": {"%s/%s" % (v(o["OrderType"]), v(o["OrderNbr"])) for o in orders},
        }
        self.assertGreater(len(expected["tracking"]), 5)
        self.assertEqual(len(expected["products"]), 15)
        record_types = {"customers": "customer", "products": "product", "locations": "location",
                        "inventory": "inventory_level", "tracking": "tracking",
                        "sales_orders": "transaction"}
        for flow, want in expected.items():
            # Tracking looks back 4 days on its first run; the seeded
            # shipments are older, so read them all once (--full).
            r = h.pull(flow, full=(flow == "tracking"))
            self.assertEqual(r.rc, 0, r)
            self.assert_unique(r.ids(), flow)
            self.assertEqual(set(r.ids()), want, flow)
            self.assertEqual({e["record_type"] for e in r.records}, {record_types[flow]})
            self.assertEqual({e["flow"] for e in r.records}, {flow})
            self.assert_schema(r.records)
            cursor = h.cursor(flow)
            self.assertIsNotNone(cursor, flow)
            for name, src in cursor["sources"].items():
                self.assertIsNone(src["until"], (flow, name))     # the run ended
            # Committed: a second pull with no change delivers nothing.
            again = h.pull(flow)
            self.assertEqual((again.rc, again.ids()), (0, []), (flow, again))

        # Content spot checks against the simulator's records.
        by_id = {e["id"]: e["record"] for e in h.pull("customers", full=True).records}
        for c in customers[:5]:
            rec = by_id[trimmed(c["CustomerID"])]
            self.assertEqual(rec["name"], v(c["CustomerName"]))
            self.assertEqual(rec["email"], v(c["MainContact"]["Email"]))
        products = {e["id"]: e["record"] for e in h.pull("products", full=True).records}
        self.assertEqual({products[trimmed(i["InventoryID"])]["type"] for i in stock}, {"stock"})
        self.assertEqual({products[trimmed(i["InventoryID"])]["type"] for i in non_stock},
                         {"non_stock"})
        levels = {e["id"]: e["record"] for e in h.pull("inventory", full=True).records}
        for i in stock[:4]:
            for d in i["WarehouseDetails"]:
                rec = levels["%s@%s" % (trimmed(i["InventoryID"]), trimmed(d["WarehouseID"]))]
                self.assertEqual(rec["quantity_on_hand"], v(d["QtyOnHand"]))
        tracking = {e["id"]: e["record"] for e in h.pull("tracking", full=True).records}
        for s in shipments:
            for p in s.get("Packages", []):
                if not trimmed(p.get("TrackingNbr")):
                    continue
                rec = tracking["%s/%s" % (trimmed(s["ShipmentNbr"]), trimmed(p["TrackingNbr"]))]
                self.assertEqual(rec["shipment_number"], trimmed(s["ShipmentNbr"]))
                self.assertEqual(sorted((o["order_type"], o["order_number"]) for o in rec["orders"]),
                                 sorted((v(o["OrderType"]), v(o["OrderNbr"])) for o in s["Orders"]))

        # Changes reach the next pull: a warehouse (no last-modified field
        # in 22.200.001: compared by content) and an item's quantity.
        sim.put("Warehouse", {"WarehouseID": trimmed(warehouses[0]["WarehouseID"]),
                              "Description": "Renamed warehouse"})
        item = stock[0]
        wh = trimmed(item["WarehouseDetails"][0]["WarehouseID"])
        sim.put("StockItem", {"InventoryID": trimmed(item["InventoryID"]),
                              "WarehouseDetails": [{"WarehouseID": {"value": wh},
                                                    "QtyOnHand": {"value": 777}}]})
        sim.advance(3)
        loc = h.pull("locations")
        self.assertEqual(loc.ids(), [trimmed(warehouses[0]["WarehouseID"])], loc)
        self.assertEqual(loc.records[0]["record"]["name"], "Renamed warehouse")
        inv = h.pull("inventory")
        self.assertEqual(sorted(inv.ids()),
                         sorted("%s@%s" % (trimmed(item["InventoryID"]), trimmed(d["WarehouseID"]))
                                for d in item["WarehouseDetails"]), inv)
        self.assertEqual({e["record"]["quantity_on_hand"] for e in inv.records
                          if e["id"].endswith("@" + wh)}, {777})
        self.assertEqual(h.pull("locations").ids(), [])
        self.assertEqual(h.pull("inventory").ids(), [])


class PagingTest(flowtest.FlowTestCase):
    def skips(self, sim, entity="Customer"):
        got = pages(sim.requests(), entity)
        return [(int(p["query"]["$top"]), int(p["query"]["$skip"])) for p in got]

    def test_exact_multiple_ends_on_an_empty_page(self):
        sim = self.start_sim("--seed", 22, "--customers", 200, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=50, concurrent_connections=1)
        r = h.pull("customers")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(r.records), 200)
        self.assert_unique(r.ids())
        # One connection: no page ahead. Each page after the first begins
        # with the last record of the one before (the anchor: $skip one
        # less, $top one more); the page at 200 has only the anchor and
        # ends the run.
        self.assertEqual(self.skips(sim), [(50, 0), (51, 49), (51, 99), (51, 149), (51, 199)])
        log = pages(sim.requests(), "Customer")
        self.assertEqual([x["status"] for x in log], [200] * 5)
        # With pages ahead, the same records, and every page past the end is empty.
        sim.clear_requests()
        h2 = self.host(sim, "ahead", page_size=50, concurrent_connections=4)
        r = h2.pull("customers")
        self.assertEqual((r.rc, len(r.records), len(set(r.ids()))), (0, 200, 200), r)
        skips = self.skips(sim)
        self.assertEqual(sorted(s for _, s in skips if s <= 200), [0, 49, 99, 149, 199])
        self.assertLessEqual(len(skips), 5 + 3)

    def test_empty_result_and_single_short_page(self):
        sim = self.start_sim("--seed", 23, "--customers", 30, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=50, concurrent_connections=5)
        sim.clear_requests()
        r = h.pull("customers")
        self.assertEqual((r.rc, len(r.records)), (0, 30), r)
        # One short page: one page request, nothing fetched ahead.
        self.assertEqual(self.skips(sim), [(50, 0)])
        sim.clear_requests()
        r = h.pull("customers")
        self.assertEqual((r.rc, r.ids()), (0, []), r)
        self.assertEqual(self.skips(sim), [(50, 0)])
        # An entity with no record at all (no shipment): the run ends and
        # its checkpoint is committed.
        r = h.pull("tracking")
        self.assertEqual((r.rc, r.ids()), (0, []), r)
        self.assertIsNotNone(h.cursor("tracking"))
        r = h.pull("tracking", full=True)
        self.assertEqual((r.rc, r.ids()), (0, []), r)

    def test_pages_ahead_up_to_concurrent_connections(self):
        sim = self.start_sim("--seed", 24, "--customers", 400, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=25, concurrent_connections=4)
        sim.faults([{"method": "GET", "path": "/Customer$", "query": "\\$skip", "delay_ms": 150}])
        sim.clear_requests()
        r = h.pull("customers")
        self.assertEqual((r.rc, len(r.records), len(set(r.ids()))), (0, 400, 400), r)
        log = pages(sim.requests(), "Customer")
        log.sort(key=lambda x: x["start"])
        # The first page alone; once a full page came, up to 4 at once.
        self.assertEqual(int(log[0]["query"]["$skip"]), 0)
        self.assertLessEqual(log[0]["end"], log[1]["start"] + 0.01)
        self.assertEqual(max_overlap(log), 4)
        self.assertLessEqual(sim.stats()["max_concurrency"], 4)
        self.assertEqual(sorted((int(p["query"]["$skip"]), int(p["query"]["$top"])) for p in log
                                if int(p["query"]["$skip"]) < 400),
                         [(0, 25)] + [(k - 1, 26) for k in range(25, 401, 25)])


class FilterLiteralTest(flowtest.FlowTestCase):
    LITERAL = re.compile(r"(\w+) (ge|lt) datetimeoffset'([^']+)'")

    def window(self, sim, entity):
        """(ge instant or None, lt instant, the literals) of the last page
        request's $filter."""
        f = pages(sim.requests(), entity)[-1]["query"]["$filter"]
        parts = {op: (field, text) for field, op, text in self.LITERAL.findall(f)}
        ge = parse_time(parts["ge"][1]) if "ge" in parts else None
        return ge, parse_time(parts["lt"][1]), parts

    def check_offset(self, offset, sim_offset):
        sim = self.start_sim("--seed", 25, "--customers", 12, "--items", 10, "--orders", 0,
                             "--warehouses", 1, "--tz-offset", sim_offset)
        h = self.host(sim, time_zone_offset=offset)
        r = h.pull("customers")
        self.assertEqual(r.rc, 0, r)
        ge, lt, parts = self.window(sim, "Customer")
        self.assertIsNone(ge)                                  # first run: no lower bound
        self.assertEqual(parts["lt"][0], "LastModifiedDateTime")
        self.assertTrue(parts["lt"][1].endswith(offset), parts)
        cursor = h.cursor("customers")["sources"]["customers"]
        # The next run starts 120 s before this one's end.
        self.assertEqual(parse_time(cursor["since"]), lt - 120)
        self.assertLess(abs(lt - sim.now()), 10)
        sim.advance(5)
        r = h.pull("customers")
        self.assertEqual(r.rc, 0, r)
        ge, lt2, parts = self.window(sim, "Customer")
        self.assertTrue(parts["ge"][1].endswith(offset) and parts["lt"][1].endswith(offset), parts)
        self.assertEqual(ge, parse_time(cursor["since"]))      # the same instant
        self.assertGreaterEqual(lt2, lt + 4)
        # The literal's local time is the instant in the business's offset.
        sign = 1 if offset[0] == "+" else -1
        minutes = sign * (int(offset[1:3]) * 60 + int(offset[4:6]))
        local = datetime.datetime.fromtimestamp(ge, datetime.timezone(
            datetime.timedelta(minutes=minutes)))
        self.assertTrue(parts["ge"][1].startswith(local.strftime("%Y-%m-%dT%H:%M:%S")), parts)
        # Products read StockItem by LastModified (22.200.001's field) and
        # NonStockItem by LastModifiedDateTime, in the same offset.
        h.pull("products")
        for entity, field in (("StockItem", "LastModified"), ("NonStockItem", "LastModifiedDateTime")):
            ge, lt, parts = self.window(sim, entity)
            self.assertEqual(parts["lt"][0], field)
            self.assertTrue(parts["lt"][1].endswith(offset), parts)

    def test_plus_05_30(self):
        self.check_offset("+05:30", "+05:30")

    def test_minus_08_00(self):
        # The simulator answers in its own offset; the plugin's literals
        # follow the setting.
        self.check_offset("-08:00", "+00:00")


class TrackingFirstRunTest(flowtest.FlowTestCase):
    """The first tracking run looks back tracking_poll_days to local
    midnight in the business's offset; later runs continue from the
    cursor. One record per package with a tracking number, linked to its
    orders."""

    def ship(self, sim, order, at, tracking_numbers):
        """A shipment of order made with the clock standing at `at`
        (epoch seconds), with packages carrying the tracking numbers."""
        sim.freeze(at)
        try:
            wh = v(order["Details"][0]["WarehouseID"])
            sim.api("POST", "/SalesOrder/SalesOrderCreateShipment",
                    {"entity": {"OrderType": {"value": v(order["OrderType"])},
                                "OrderNbr": {"value": v(order["OrderNbr"])}},
                     "parameters": {"WarehouseID": {"value": wh}}}, expect=(202, 204))
            location = sim.last_headers.get("Location")
            if location:
                path = urllib.parse.urlsplit(location).path
                sim.api("GET", path[path.index(ENDPOINT) + len(ENDPOINT):], expect=(204, 200))
            so = sim.api("GET", "/SalesOrder/%s/%s?$expand=Shipments" %
                         (v(order["OrderType"]), v(order["OrderNbr"])))
            nbr = v(so["Shipments"][-1]["ShipmentNbr"])
            if tracking_numbers:
                sim.put("Shipment", {"ShipmentNbr": nbr, "Packages": [
                    {"BoxID": {"value": "LARGE"}, "TrackingNbr": {"value": t},
                     "Weight": {"value": 2}} for t in tracking_numbers]})
            return nbr
        finally:
            sim.unfreeze()

    def test_first_run_looks_back_in_local_time(self):
        offset = "+05:30"
        sim = self.start_sim("--seed", 26, "--customers", 10, "--items", 8, "--warehouses", 1,
                             "--orders", 30, "--lines", 1, "--shipments", 5, "--tz-offset", offset,
                             "--config-json", '{"action_duration": 0}')
        open_orders = [o for o in sim.records("SalesOrder")
                       if v(o["Status"]) == "Open" and not o.get("Shipments")]
        self.assertGreaterEqual(len(open_orders), 5)
        now = sim.now()
        east = 5 * 3600 + 30 * 60
        local_midnight = (now + east) // DAY * DAY - east
        bound = local_midnight - 4 * DAY
        old = self.ship(sim, open_orders[0], bound - 60, ["OLD-1"])
        edge = self.ship(sim, open_orders[1], bound + 1, ["EDGE-1", "EDGE-2"])
        recent = self.ship(sim, open_orders[2], now - 3600, ["NEW-1"])
        bare = self.ship(sim, open_orders[3], now - 600, [])    # no package: no record
        h = self.host(sim, time_zone_offset=offset)
        r = h.pull("tracking")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(r.ids()), sorted(["%s/EDGE-1" % edge, "%s/EDGE-2" % edge,
                                                  "%s/NEW-1" % recent]))
        self.assertNotIn(old, str(r.ids()))
        self.assertNotIn(bare, str(r.ids()))
        self.assert_schema(r.records)
        for e in r.records:
            order = open_orders[1] if e["id"].startswith(edge) else open_orders[2]
            self.assertEqual(e["record"]["orders"], [{"order_type": v(order["OrderType"]),
                                                      "order_number": v(order["OrderNbr"])}])
            self.assertEqual(e["record"]["shipment_number"], e["id"].split("/")[0])
        # The filter's lower bound is local midnight four days back.
        f = pages(sim.requests(), "Shipment")[-1]["query"]["$filter"]
        self.assertIn("LastModifiedDateTime ge datetimeoffset'%s'" %
                      datetime.datetime.fromtimestamp(
                          bound, datetime.timezone(datetime.timedelta(seconds=east))).isoformat(),
                      f)
        # Later runs continue from the cursor: a package added to the old
        # shipment now is delivered (its shipment's stamp moved).
        sim.put("Shipment", {"ShipmentNbr": old, "Packages": [
            {"BoxID": {"value": "LARGE"}, "TrackingNbr": {"value": "OLD-2"}}]})
        sim.advance(3)
        r = h.pull("tracking")
        self.assertEqual(sorted(r.ids()), sorted(["%s/OLD-1" % old, "%s/OLD-2" % old]), r)
        self.assertEqual(h.pull("tracking").ids(), [])

    def test_poll_days_setting(self):
        sim = self.start_sim("--seed", 27, "--customers", 5, "--items", 5, "--warehouses", 1,
                             "--orders", 12, "--lines", 1, "--shipments", 0,
                             "--config-json", '{"action_duration": 0}')
        orders = [o for o in sim.records("SalesOrder") if v(o["Status"]) == "Open"]
        now = sim.now()
        midnight = now // DAY * DAY
        a = self.ship(sim, orders[0], midnight - 9 * DAY - 5, ["A-1"])
        b = self.ship(sim, orders[1], midnight - 9 * DAY + 5, ["B-1"])
        h = self.host(sim, tracking_poll_days=9)
        r = h.pull("tracking")
        self.assertEqual(r.ids(), ["%s/B-1" % b], r)
        self.assertNotIn(a, str(r.ids()))


class ManualSyncTest(flowtest.FlowTestCase):
    def test_ids(self):
        sim = self.start_sim("--seed", 28, "--customers", 60, "--items", 10, "--orders", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=20)
        r = h.pull("customers")
        self.assertEqual(r.rc, 0, r)
        before = h.cursor("customers")
        ids = sorted(e["id"] for e in r.records)
        sim.clear_requests()
        r = h.pull("customers", ids=[ids[3], ids[41]])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(r.ids()), [ids[3], ids[41]])
        self.assertEqual(h.cursor("customers"), before)          # untouched
        got = list_gets(sim.requests(), "Customer")
        self.assertTrue(any("CustomerID eq '%s'" % ids[3] in g["query"].get("$filter", "")
                            for g in got), got)
        # Unknown ids are named in the log; the known ones still come.
        r = h.pull("customers", ids=[ids[7], "NO-SUCH-1", "NO-SUCH-2"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.ids(), [ids[7]])
        self.assertIn("'NO-SUCH-1', 'NO-SUCH-2'", r.err)
        self.assertIn("2 of the 3", r.err)
        self.assertEqual(h.cursor("customers"), before)
        # A flow of two sources (products): an id is missing only when no
        # source has it.
        stock = [v(i["InventoryID"]) for i in sim.api("GET", "/StockItem?$select=InventoryID")]
        service = [v(i["InventoryID"]) for i in sim.api("GET", "/NonStockItem?$select=InventoryID")]
        r = h.pull("products", ids=[stock[0], service[0], "NO-SUCH-ITEM"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(r.ids()), sorted([stock[0], service[0]]))
        missing = [line for line in r.err.splitlines() if "do not exist" in line]
        self.assertTrue(missing, r.err)
        for line in missing:
            self.assertIn("NO-SUCH-ITEM", line)
            self.assertNotIn(stock[0], line)
            self.assertNotIn(service[0], line)
        # Flows with one host record per detail line (inventory: per item
        # and warehouse) take the Acumatica key (the InventoryID), not the
        # host record's id: all the item's lines come.
        item = sim.records("StockItem")[0]
        iid = v(item["InventoryID"]).strip()
        r = h.pull("inventory", ids=[iid])
        self.assertEqual(sorted(r.ids()), sorted("%s@%s" % (iid, v(d["WarehouseID"]).strip())
                                                 for d in item["WarehouseDetails"]), r)
        # More ids than one request carries: batched; all come.
        many = ids[:55]
        sim.clear_requests()
        r = h.pull("customers", ids=many)
        self.assertEqual(sorted(r.ids()), many)
        self.assertGreaterEqual(len(list_gets(sim.requests(), "Customer")), 3)
        # The cursor still works: a change comes with the next pull.
        sim.put("Customer", {"CustomerID": ids[5], "CustomerName": "After manual sync"})
        sim.advance(3)
        self.assertEqual(h.pull("customers").ids(), [ids[5]])


class ManualSyncLargeTest(flowtest.FlowTestCase):
    """The platform's manual sync at its size: a few thousand ids in one
    pull, some that Acumatica does not have mixed in."""

    def test_three_thousand_ids(self):
        sim = self.start_sim("--seed", 29, "--customers", 3000, "--items", 2, "--orders", 0,
                             "--warehouses", 1)
        h = self.host(sim)
        names = {v(c["CustomerID"]).strip(): v(c["CustomerName"])
                 for c in sim.records("Customer")}
        self.assertEqual(len(names), 3000)
        rng = random.Random(29)
        existing = rng.sample(sorted(names), 2850)
        missing = ["NO-SUCH-%04d" % i for i in range(150)]
        asked = existing + missing
        rng.shuffle(asked)
        sim.clear_requests()
        r = h.pull("customers", ids=asked, timeout=300)
        self.assertEqual(r.rc, 0, r)
        # Every existing id exactly once, nothing else; each record is the
        # customer asked for.
        got = r.ids()
        self.assert_unique(got, "customers")
        self.assertEqual(sorted(got), sorted(existing))
        for e in r.records:
            self.assertEqual(e["record"]["customer_id"], e["id"])
            self.assertEqual(e["record"].get("name"), names[e["id"]], e["id"])
        # The missing ones are reported: how many, and the first of them
        # by name, in the order they were asked for.
        first_missing = [i for i in asked if i in set(missing)][:20]
        line = [ln for ln in r.err.splitlines() if "do not exist in Acumatica" in ln]
        self.assertEqual(len(line), 1, r.err)
        self.assertIn("150 of the 3000 requested ids do not exist in Acumatica: %s, ..."
                      % ", ".join("'%s'" % i for i in first_missing), line[0])
        for known in existing:
            self.assertNotIn("'%s'" % known, line[0])
        # Batched: a few thousand ids are not one request each, nor one
        # huge $filter.
        gets = list_gets(sim.requests(), "Customer")
        self.assertLessEqual(len(gets), 200, len(gets))
        self.assertGreaterEqual(len(gets), 3000 // 100)
        # A manual sync moves no cursor.
        self.assertIsNone(h.cursor("customers"))
        # Past the limit of 10,000 ids: refused before anything is read.
        sim.clear_requests()
        r = h.pull("customers", ids=["X%05d" % i for i in range(10001)])
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("more than 10000 ids", r.err)
        self.assertEqual(r.records, [])
        self.assertEqual(list_gets(sim.requests(), "Customer"), [])


if __name__ == "__main__":
    flowtest.main()
