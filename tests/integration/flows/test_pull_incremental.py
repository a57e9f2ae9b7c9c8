"""Incremental pulls through connector-host and the real plugin against the
simulator: exactly the changed records come; records sharing one
last-modified stamp at the edges of the read window are neither lost nor
repeated; records modified while a pull runs come with the next pull; a
pull stopped by SIGINT/SIGTERM or failed by a page that outlasts the
retries resumes with no gap and no duplicate; 10,000 records.

Run one class: python3 test_pull_incremental.py ChangedRecordsTest
"""
import collections
import signal
import time

import flowtest
from flowtest import SLOW, pages, v


def customer_ids(sim):
    """Every CustomerID in the simulator, with its last-modified text (an
    API read with $select: cheap even for 10,000 records)."""
    recs = sim.api("GET", "/Customer?$select=CustomerID,LastModifiedDateTime")
    return {v(r["CustomerID"]).strip(): v(r["LastModifiedDateTime"]) for r in recs}


def touch(sim, cid, tag):
    """Change one customer (its name): a new last-modified stamp."""
    return sim.put("Customer", {"CustomerID": cid, "CustomerName": "Changed %s %s" % (cid, tag)})


def wait_for_page(sim, entity, skip, timeout=60):
    """Wait until the simulator has been asked for the page at $skip."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        for r in pages(sim.requests(), entity):
            if int(r["query"].get("$skip", "0")) >= skip:
                return r
        time.sleep(0.05)
    raise AssertionError("the pull never asked for $skip=%d" % skip)


class ChangedRecordsTest(flowtest.FlowTestCase):
    def test_exactly_the_changed_records(self):
        sim = self.start_sim("--seed", 5, "--customers", 60, "--items", 20, "--orders", 0)
        h = self.host(sim, page_size=25)
        first = h.pull("customers")
        self.assertEqual(first.rc, 0, first)
        self.assertEqual(sorted(first.ids()), sorted(customer_ids(sim)))
        products = h.pull("products")
        self.assertEqual(products.rc, 0, products)
        self.assertEqual(len(products.records), 20)

        ids = sorted(customer_ids(sim))
        changed = ids[3:10] + [ids[-1]]
        for cid in changed:
            touch(sim, cid, "a")
        new = sim.put("Customer", {"CustomerName": "Brand new customer"})
        new_id = v(new["CustomerID"])
        # A PUT that changes nothing leaves the stamp alone: not delivered.
        rec = sim.api("GET", "/Customer/%s?$select=CustomerName" % ids[20])
        sim.put("Customer", {"CustomerID": ids[20], "CustomerName": v(rec["CustomerName"])})
        sim.advance(3)
        second = h.pull("customers")
        self.assertEqual(second.rc, 0, second)
        self.assertEqual(sorted(second.ids()), sorted(changed + [new_id]))
        for e in second.records:
            if e["id"] != new_id:
                self.assertEqual(e["record"]["name"], "Changed %s a" % e["id"])
        third = h.pull("customers")
        self.assertEqual((third.rc, third.ids()), (0, []), third)

        # Products: a stock item and a non-stock item changed.
        stock = sorted(v(r["InventoryID"]) for r in sim.api("GET", "/StockItem?$select=InventoryID"))
        non_stock = sorted(v(r["InventoryID"]) for r in
                           sim.api("GET", "/NonStockItem?$select=InventoryID"))
        sim.put("StockItem", {"InventoryID": stock[2], "Description": "Changed stock item"})
        sim.put("NonStockItem", {"InventoryID": non_stock[0], "Description": "Changed service"})
        sim.advance(3)
        p2 = h.pull("products")
        self.assertEqual(p2.rc, 0, p2)
        self.assertEqual(sorted(p2.ids()), sorted([stock[2], non_stock[0]]))
        self.assertEqual({e["record"]["name"] for e in p2.records},
                         {"Changed stock item", "Changed service"})
        self.assertEqual(h.pull("products").ids(), [])


    def test_server_clock_differs_from_the_hosts(self):
        """The window follows the server's clock (its Date header), not the
        host's: with the server two hours behind, changes still come, once."""
        sim = self.start_sim("--seed", 10, "--customers", 30, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        sim.clock_offset(-7200)
        h = self.host(sim, page_size=10)
        self.assertEqual(len(h.pull("customers").ids()), 30)
        ids = sorted(customer_ids(sim))
        touch(sim, ids[4], "skew")
        sim.advance(3)
        r = h.pull("customers")
        self.assertEqual(r.ids(), [ids[4]], r)
        self.assertEqual(h.pull("customers").ids(), [])
        # The server two hours ahead now (the host's clock did not move).
        sim.clock_offset(7200)
        touch(sim, ids[5], "ahead")
        sim.advance(3)
        self.assertEqual(h.pull("customers").ids(), [ids[5]])
        self.assertEqual(h.pull("customers").ids(), [])


class BoundaryTest(flowtest.FlowTestCase):
    """Records that share one last-modified stamp (a frozen simulator
    clock) at the upper edge of a run's window (excluded, then delivered
    by the next run) and inside the overlap the next run reads again
    (recognised, not delivered again)."""

    def test_shared_stamps_at_the_window_edges(self):
        sim = self.start_sim("--seed", 6, "--customers", 80, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=7)
        delivered = collections.Counter()     # (id, name) -> times delivered

        def pull(expect):
            r = h.pull("customers")
            self.assertEqual(r.rc, 0, r)
            for e in r.records:
                delivered[(e["id"], e["record"]["name"])] += 1
            self.assertEqual(sorted(r.ids()), sorted(expect), r.err[-2000:])
            return r

        ids = sorted(customer_ids(sim))
        pull(ids)
        t0 = int(sim.now()) + 5.0
        # A run reads stamps before (server clock - 1 s); the server clock
        # is the Date header (whole seconds). With the clock standing at F,
        # a run's window ends at floor(F) - 1 s (plus the few milliseconds
        # the plugin spends between that header and the start of the run).

        # Group A: 20 records stamped exactly t0. A pull with the clock
        # still at t0 does not read them (its window ends at t0 - 1 s) ...
        sim.freeze(t0)
        group_a = ids[10:30]
        for cid in group_a:
            touch(sim, cid, "A")
        stamps = customer_ids(sim)
        self.assertEqual({flowtest.parse_time(stamps[c]) for c in group_a}, {t0})
        pull([])
        # ... a pull at t0 + 2 does (window end t0 + 1 s).
        sim.freeze(t0 + 2.0)
        pull(group_a)
        # Group B: 15 records stamped t0 + 2. The next run is at t0 + 2
        # too: B is past its window; A is inside its overlap (read again)
        # and recognised.
        group_b = ids[40:55]
        for cid in group_b:
            touch(sim, cid, "B")
        pull([])
        sim.freeze(t0 + 4.0)
        pull(group_b)             # B now; A recognised again
        # Group C, 100 s later: some records of A and B changed again,
        # stamped together with ten others; A and B (those unchanged) are
        # still inside the overlap.
        sim.freeze(t0 + 100.0)
        group_c = group_a[:5] + group_b[:5] + ids[60:70]
        for cid in group_c:
            touch(sim, cid, "C")
        pull([])
        sim.freeze(t0 + 102.0)
        pull(group_c)
        pull([])
        # The clock runs again, far past every overlap.
        sim.unfreeze()
        sim.clock_offset(t0 + 400 - time.time())
        pull([])
        sim.put("Customer", {"CustomerID": ids[0], "CustomerName": "Last change"})
        sim.advance(3)
        pull([ids[0]])
        self.assertEqual([k for k, n in delivered.items() if n > 1], [])
        # Every record's latest version was delivered.
        names = {cid: "Changed %s C" % cid for cid in group_c}
        names.update({cid: "Changed %s B" % cid for cid in group_b if cid not in names})
        names.update({cid: "Changed %s A" % cid for cid in group_a if cid not in names})
        for cid, name in names.items():
            self.assertIn((cid, name), delivered)


class ModifiedDuringPullTest(flowtest.FlowTestCase):
    """Records modified while a pull pages through its window: the ones
    changed are delivered by the next pull, none is lost, none repeated."""

    def run_case(self, connections):
        sim = self.start_sim("--seed", 7, "--customers", 300, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=20, concurrent_connections=connections)
        ids = sorted(customer_ids(sim))
        sim.faults([{"method": "GET", "path": "/Customer$", "query": "\\$top", "delay_ms": 250}])
        sim.clear_requests()
        job = h.pull_background("customers")
        # Once the pull asks for the page at 100, change records it has
        # delivered already (positions 0..39), records ahead of it
        # (200..219) and the last ones.
        wait_for_page(sim, "Customer", 100)
        changed = ids[0:40:2] + ids[200:220:3] + ids[-3:]
        for cid in changed:
            touch(sim, cid, "during")
        first = h.finish_background(job)
        self.assertEqual(first.rc, 0, first)
        # The run saw the window change under it and found its place again.
        self.assertIn("records changed while the window was read", first.err)
        sim.clear_faults()
        sim.advance(3)            # the changes are older than a second now
        second = h.pull("customers")
        self.assertEqual(second.rc, 0, second)
        third = h.pull("customers")
        self.assertEqual((third.rc, third.ids()), (0, []), third)
        got = first.ids() + second.ids()
        self.assertEqual(sorted(set(got)), ids, "lost: %s" % sorted(set(ids) - set(got))[:20])
        # A changed record may come twice (old version in the first pull,
        # new in the second); nothing else does, and no version repeats.
        self.assert_unique([(e["id"], e["record"]["name"]) for e in first.records + second.records])
        self.assert_unique(first.ids(), "records in one pull")
        extra = [i for i, n in collections.Counter(got).items() if n > 1]
        self.assertEqual(sorted(set(extra) - set(changed)), [])
        # Every change is in the second pull with its new value.
        by_id = {e["id"]: e["record"]["name"] for e in second.records}
        for cid in changed:
            self.assertEqual(by_id.get(cid), "Changed %s during" % cid)

    def test_one_connection(self):
        self.run_case(1)

    def test_records_deleted_during_pull(self):
        """Deleted records shift the ones after them as well: none of those
        that remain is passed over."""
        sim = self.start_sim("--seed", 12, "--customers", 240, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=20, concurrent_connections=3)
        ids = sorted(customer_ids(sim))
        sim.faults([{"method": "GET", "path": "/Customer$", "query": "\\$top", "delay_ms": 200}])
        job = h.pull_background("customers")
        wait_for_page(sim, "Customer", 100)
        gone = ids[5:60:4]
        for cid in gone:
            sim.api("DELETE", "/Customer/%s" % cid, expect=(204,))
        first = h.finish_background(job)
        self.assertEqual(first.rc, 0, first)
        sim.clear_faults()
        self.assert_unique(first.ids())
        self.assertEqual(sorted(set(ids) - set(gone) - set(first.ids())), [])
        self.assertEqual(h.pull("customers").ids(), [])

    def test_pages_ahead(self):
        self.run_case(4)


class ResumeTest(flowtest.FlowTestCase):
    """A pull stopped by a signal or failed by a page, then resumed: the
    union of the outputs is every record once."""

    def start(self, n=400):
        sim = self.start_sim("--seed", 8, "--customers", n, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=25, concurrent_connections=3)
        return sim, h, sorted(customer_ids(sim))

    def interrupted(self, sig):
        sim, h, ids = self.start()
        sim.faults([{"method": "GET", "path": "/Customer$", "query": "\\$top", "delay_ms": 200}])
        job = h.pull_background("customers")
        wait_for_page(sim, "Customer", 150)
        job[0].send_signal(sig)
        first = h.finish_background(job)
        self.assertEqual(first.rc, 5, first)            # interrupted: run again later
        self.assertGreater(len(first.records), 0)
        self.assertLess(len(first.records), len(ids))
        cursor = h.cursor("customers")
        src = cursor["sources"]["customers"]
        self.assertIsNotNone(src["until"], cursor)      # a run in progress
        self.assertEqual(src["skip"], len(first.records))
        self.assertEqual(len(src["anchors"]), min(100, len(first.records)))
        sim.clear_faults()
        sim.clear_requests()
        second = h.pull("customers")
        self.assertEqual(second.rc, 0, second)
        # It went on from where the first stopped, in the same window (the
        # first page begins with the last record delivered: the anchor).
        skips = sorted(int(r["query"]["$skip"]) for r in pages(sim.requests(), "Customer"))
        self.assertEqual(skips[0], len(first.records) - 1)
        got = first.ids() + second.ids()
        self.assert_unique(got)
        self.assertEqual(sorted(got), ids)
        self.assertEqual(h.pull("customers").ids(), [])

    def test_sigint_then_resume(self):
        self.interrupted(signal.SIGINT)

    def test_sigterm_then_resume(self):
        self.interrupted(signal.SIGTERM)

    def stopped(self, n=400):
        """A pull stopped by SIGINT after about 150 records."""
        sim, h, ids = self.start(n)
        sim.faults([{"method": "GET", "path": "/Customer$", "query": "\\$top", "delay_ms": 200}])
        job = h.pull_background("customers")
        wait_for_page(sim, "Customer", 150)
        job[0].send_signal(signal.SIGINT)
        first = h.finish_background(job)
        self.assertEqual(first.rc, 5, first)
        sim.clear_faults()
        return sim, h, ids, first

    def test_changes_between_stop_and_resume(self):
        """Records delivered by the stopped pull change before it resumes:
        the resumed run's first page shows the shift and the run finds its
        place again."""
        sim, h, ids, first = self.stopped()
        done = len(first.records)
        changed = ids[0:done:3]
        for cid in changed:
            touch(sim, cid, "between")
        second = h.pull("customers")
        self.assertEqual(second.rc, 0, second)
        self.assertIn("records changed while the window was read", second.err)
        sim.advance(3)
        third = h.pull("customers")
        self.assertEqual(third.rc, 0, third)
        self.assertEqual(sorted(third.ids()), sorted(changed))
        got = first.ids() + second.ids()
        self.assert_unique(got)
        self.assertEqual(sorted(got), ids)

    def test_every_anchor_changed(self):
        """The documented limit: when all of the last 100 records read
        change before the next page, the position is lost and the window is
        read again from its start - records before them come twice, none is
        lost, and the log says so."""
        sim, h, ids, first = self.stopped()
        done = len(first.records)
        self.assertGreater(done, 100)
        changed = ids[done - 100:done]
        for cid in changed:
            touch(sim, cid, "all")
        second = h.pull("customers")
        self.assertEqual(second.rc, 0, second)
        self.assertIn("the read position is lost", second.err)
        got = first.ids() + second.ids()
        self.assertEqual(sorted(set(got)), ids)
        twice = sorted(i for i, n in collections.Counter(got).items() if n > 1)
        self.assertEqual(twice, ids[:done - 100])

    def test_failed_page_then_resume(self):
        sim, h, ids = self.start()
        # The page at $skip=200 fails with 500 every time: more than the
        # transport's retries.
        sim.faults([{"method": "GET", "path": "/Customer$", "query": "\\$skip=199(&|$)",
                     "status": 500}])
        first = h.pull("customers")
        self.assertNotEqual(first.rc, 0, first)
        self.assertEqual(len(first.records), 200)
        hits = [r for r in sim.requests() if r.get("fault")]
        self.assertGreater(len(hits), 1)                # retried before giving up
        sim.clear_faults()
        second = h.pull("customers")
        self.assertEqual(second.rc, 0, second)
        got = first.ids() + second.ids()
        self.assert_unique(got)
        self.assertEqual(sorted(got), ids)


class BulkImportTest(flowtest.FlowTestCase):
    """20,000 records sharing one last-modified stamp just before a pull
    (a bulk import): more than the cursor keeps (5,000 pairs). The pull
    completes with every record once and a cursor far below the host's
    1 MiB limit. (The cap used to keep every pair of the cut-off stamp:
    all 20,000 here, so the cursor outgrew the limit - the host refused
    the checkpoint, INTERNAL - and the flow stalled on every pull.) The next
    run starts just after the newest stamp the cap dropped, so the records
    are not delivered again; that start is never later than 10 s before the
    run's end, which still catches late commits."""

    def test_one_stamp_for_twenty_thousand(self):
        sim = self.start_sim("--seed", 13, "--customers", 20000, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        t0 = int(sim.now()) - 30
        self.assertEqual(sim.restamp("Customer", t0), 20000)
        h = self.host(sim, page_size=500)
        r = h.pull("customers", timeout=300)
        self.assertEqual(r.rc, 0, r)
        self.assert_unique(r.ids())
        self.assertEqual(len(r.records), 20000)
        self.assertIn("the next read starts after", r.err)
        import sqlite3
        con = sqlite3.connect(h.state)
        size = con.execute("SELECT length(cursor) FROM cursors").fetchone()[0]
        con.close()
        self.assertLess(size, 400 * 1024)
        cursor = h.cursor("customers")["sources"]["customers"]
        self.assertLessEqual(len(cursor["seen"]), 5000)
        # The next runs read from just after t0: nothing is delivered again.
        again = h.pull("customers", timeout=300)
        self.assertEqual(again.rc, 0, again)
        self.assertEqual(again.ids(), [])
        # Later: nothing again; a record changed then is delivered.
        sim.advance(300)
        self.assertEqual(h.pull("customers").ids(), [])
        sim.put("Customer", {"CustomerID": {"value": "C000042"},
                             "CustomerName": {"value": "Changed after the import"}})
        sim.advance(2)
        self.assertEqual(h.pull("customers").ids(), ["C000042"])


class LargeTest(flowtest.FlowTestCase):
    def test_ten_thousand_customers(self):
        sim = self.start_sim("--seed", 9, "--customers", 10500, "--orders", 0, "--items", 0,
                             "--warehouses", 1)
        h = self.host(sim, page_size=500, concurrent_connections=4)
        ids = customer_ids(sim)
        self.assertEqual(len(ids), 10500)
        t = time.monotonic()
        r = h.pull("customers", timeout=600)
        took = time.monotonic() - t
        self.assertEqual(r.rc, 0, r)
        self.assert_unique(r.ids())
        self.assertEqual(sorted(r.ids()), sorted(ids))
        self.assertEqual(len(r.records), 10500)
        got = pages(sim.requests(), "Customer")
        # Each page after the first begins with the last record of the one
        # before ($skip one less, $top one more): the anchor. Pages fetched
        # ahead past the end come back empty.
        self.assertEqual(sorted((int(p["query"]["$skip"]), int(p["query"]["$top"]))
                                for p in got if int(p["query"]["$skip"]) <= 10500),
                         [(0, 500)] + [(k - 1, 501) for k in range(500, 10501, 500)])
        self.assertLessEqual(len(got), 22 + 3)
        print("10,500 customers pulled in %.2f s (%d pages)" % (took, len(got)))
        self.assertEqual(h.pull("customers").ids(), [])


if __name__ == "__main__":
    flowtest.main()
