"""Hot swap per subscription, with the synthetic plugin in two versions
(1.0.0 = A, 2.0.0 = B) and one whose init always fails (3.0.0).

Three subscriptions pull continuously from a growing data set and two of
them receive a stream of pushes. One is swapped A -> B -> A -> B -> A
(by `connector-host swap` and by editing the host file + SIGHUP), with a
swap to a version that cannot start and one to a version that does not
exist in between. Afterwards: every pulled record was delivered exactly
once (no gap, no duplicate), every pushed record was created exactly
once, the other subscriptions never paused, the old version was unloaded
while unused, and the runtime exits 0 (clean under ASan/UBSan in the
sanitizer build)."""
import collections
import os
import signal
import threading
import time

import hosttest
from hosttest import host, query, read_jsonl, wait_for

TOTAL = 3000          # records per subscription
RATE = 300            # records per second becoming available
ORDERS_PER_BATCH = 20
# The longest any subscription other than the swapped one may go without
# starting a pull (every 100 ms; a pull of ~30 records takes ~60 ms).
MAX_GAP_S = 1.5 * hosttest.SLOW


class HotSwapTest(hosttest.HostTestCase):
    def subs(self, swapped_version):
        t0 = int(time.time() * 1000) + 500
        pull = {"flow": "items", "direction": "pull", "every": "100ms"}
        push = {"flow": "orders", "direction": "push", "every": "100ms", "batch_size": 25}

        def settings(name):
            return {"total": TOTAL, "rate_per_s": RATE, "t0_ms": self.t0, "page": 20,
                    "page_delay_ms": 30, "push_delay_ms": 2,
                    "sink_file": self.path("sink-%s.txt" % name)}
        if not hasattr(self, "t0"):
            self.t0 = t0
        return [
            {"name": "swapped", "plugin_version": swapped_version,
             "settings": settings("swapped"), "flows": [pull, push]},
            {"name": "steady", "plugin_version": "2.0.0",
             "settings": settings("steady"), "flows": [pull, push]},
            {"name": "third", "plugin_version": "2.0.0",
             "settings": settings("third"), "flows": [pull]},
        ]

    def write_host_file(self, swapped_version):
        self.host_file(self.subs(swapped_version), workers=3, output_dir=self.path("out"),
                       shutdown_grace="5s", retry={"unit_seconds": 0.01, "max_attempts": 50})

    def enqueue_stream(self, stop, enqueued, errors):
        """Enqueue batches of orders to swapped and steady until stopped."""
        n = 0
        while not stop.is_set():
            for sub in ("swapped", "steady"):
                ids = ["%s-o%05d" % (sub, n + i) for i in range(ORDERS_PER_BATCH)]
                path = self.path("batch-%s-%d.jsonl" % (sub, n))
                # Every 7th order fails once first: retried on the schedule.
                hosttest.write_lines(path, [
                    {"id": i, "do": "fail_times", "times": 1} if k % 7 == 0 else
                    {"id": i, "do": "ok"} for k, i in enumerate(ids)])
                r = host("enqueue", "--config", self.path("host.json"), "--subscription", sub,
                         "--flow", "orders", "--in", path)
                if r.rc != 0:
                    errors.append(r)
                    return
                enqueued[sub].extend(ids)
            n += ORDERS_PER_BATCH
            time.sleep(0.15)

    def swap(self, version):
        return host("swap", "--config", self.path("host.json"), "--subscription", "swapped",
                    "--plugin-version", version, timeout=60)

    def mapped(self, rt, version):
        return ("acumatica-%s.so" % version) in rt.maps()

    def test_swap_back_and_forth_while_others_run(self):
        self.write_host_file("1.0.0")
        rt = self.start()
        rt.wait_log("started on synth 1.0.0", sub="swapped")
        stop = threading.Event()
        enqueued = {"swapped": [], "steady": []}
        errors = []
        feeder = threading.Thread(target=self.enqueue_stream, args=(stop, enqueued, errors))
        feeder.start()
        try:
            time.sleep(1.0)
            # 1. A -> B through the control socket.
            r = self.swap("2.0.0")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("swapped now runs synth 2.0.0", r.out)
            # Nobody uses A now: it is unloaded (synth's can_unload says yes).
            self.assertFalse(self.mapped(rt, "1.0.0"))
            self.assertTrue(self.mapped(rt, "2.0.0"))
            rt.wait_log("(the old version is unloaded)", sub="swapped")
            time.sleep(0.7)
            # A version whose init fails: the old one is started again.
            r = self.swap("3.0.0")
            self.assertEqual(r.rc, 1, r)
            self.assertIn("version 3.0.0 cannot start; the subscription stays on synth 2.0.0",
                          r.err)
            # A version that does not exist: nothing changes at all.
            r = self.swap("9.9.9")
            self.assertEqual(r.rc, 1, r)
            self.assertIn("the swap to version 9.9.9 failed; the subscription stays on "
                          "synth 2.0.0", r.err)
            st = host("status", "--config", self.path("host.json"))
            self.assertIn("the swap to version 9.9.9 failed", st.out)
            time.sleep(0.7)
            # 2. B -> A: the host file says A again, SIGHUP.
            self.write_host_file("1.0.0")
            rt.signal(signal.SIGHUP)
            rt.wait_log("swapped from synth 2.0.0 to synth 1.0.0", sub="swapped")
            self.assertTrue(self.mapped(rt, "1.0.0"))
            time.sleep(0.7)
            # 3. A -> B again (control socket) ...
            r = self.swap("2.0.0")
            self.assertEqual(r.rc, 0, r)
            time.sleep(0.7)
            # 4. ... and back to A: SIGHUP re-applies the host file (A).
            rt.signal(signal.SIGHUP)
            wait_for("the second swap back",
                     lambda: len([m for s, m in rt.messages() if s == "swapped" and
                                  "swapped from synth 2.0.0 to synth 1.0.0" in m]) == 2)
            time.sleep(0.5)
        finally:
            stop.set()
            feeder.join()
        self.assertEqual(errors, [])

        def done():
            for sub in ("swapped", "steady", "third"):
                rows = query(self.path("state.db"), "SELECT cursor FROM cursors WHERE "
                             "subscription = ? AND flow = 'items'", sub)
                if not rows or rows[0][0] != ("idx:%d" % TOTAL).encode():
                    return False
            q = query(self.path("state.db"), "SELECT count(*) FROM queue WHERE state IN "
                      "('pending', 'in_flight')")
            return q == [(0,)]
        wait_for("every record pulled and every order pushed", done, timeout=60)
        self.assertEqual(rt.stop(), 0, rt.stderr_text())
        self.assertEqual(rt.stderr_text(), "")

        # Every pulled record exactly once, for every subscription.
        for sub in ("swapped", "steady", "third"):
            recs = read_jsonl(self.path("out", sub, "items.jsonl"))
            ids = collections.Counter(r["id"] for r in recs)
            self.assertEqual(sorted(ids), ["r%06d" % i for i in range(TOTAL)], sub)
            self.assertEqual(set(ids.values()), {1}, sub)
            if sub == "swapped":
                self.assertEqual({r["record"]["emitted_by"] for r in recs}, {"1.0.0", "2.0.0"})
        # Every pushed order created exactly once.
        for sub in ("swapped", "steady"):
            with open(self.path("sink-%s.txt" % sub)) as f:
                lines = [l.split() for l in f]
            created = collections.Counter(l[0] for l in lines)
            self.assertEqual(sorted(created), sorted(enqueued[sub]), sub)
            self.assertEqual(set(created.values()), {1}, sub)
            if sub == "swapped":
                self.assertEqual({l[1] for l in lines}, {"1.0.0", "2.0.0"})
        self.assertEqual(query(self.path("state.db"),
                               "SELECT state, count(*) FROM queue GROUP BY state"),
                         [("done", len(enqueued["swapped"]) + len(enqueued["steady"]))])
        # The others never paused: the gaps between the starts of their
        # pulls stayed small all through the swaps.
        for sub in ("steady", "third"):
            starts = [r[0] / 1000.0 for r in query(
                self.path("state.db"), "SELECT start_ms FROM runs WHERE subscription = ? AND "
                "direction = 'pull' ORDER BY id", sub)]
            gaps = [b - a for a, b in zip(starts, starts[1:])]
            self.assertGreater(len(starts), 20, sub)
            print("%s: %d pulls, longest gap between starts %.3f s" % (sub, len(starts), max(gaps)))
            self.assertLess(max(gaps), MAX_GAP_S, (sub, max(gaps)))
        swaps = [m for s, m in rt.messages() if s == "swapped" and m.startswith("swapped from")]
        self.assertEqual(len(swaps), 4, swaps)


if __name__ == "__main__":
    hosttest.main()
