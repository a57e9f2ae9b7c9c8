"""Transport requirements of the plugin against the simulator, through the
reference host's real loader (connector-host and acu_auth_harness):

  ConnectionReuseTests  the pool of easy handles keeps connections alive: a
                        pull of several pages with Concurrent Connections 1
                        uses one TCP connection, with N at most N; a second
                        call of the same instance uses the same connection
  StallTests            a transfer whose answer stops moving is abandoned
                        after the stall limit (60 s) and ends as RETRY with
                        a clear message (or is sent again when that is safe),
                        while a silent wait before the first byte of the
                        answer (Acumatica's request queue) is not a stall
  EarlyRefreshTests     the access token is renewed shortly before it runs
                        out, so the site never answers 401

Run by CTest, one group per entry:  python3 test_transport.py StallTests
Outputs are captured under ACU_LOG_DIR/<group>/ like test_auth.py's.
"""
import json
import os
import re
import sys
import time
import unittest

from authtest import Harness, Outputs, Sim, SimTestCase, host, write_config, PLUGIN

SEED = ("--seed", "7", "--customers", "60", "--orders", "0", "--items", "3",
        "--warehouses", "1")
STALL_S = 60           # ACU_HTTP_STALL_MS in plugin/src/acu_http.h


class Base(SimTestCase):
    sim_args = SEED

    def login(self, s, harness=None):
        res = (harness or self.h).run(s, '{"step":"login"}')
        self.assertEqual(res[0]["status"], "OK", res)
        return res

    def site_requests(self, since=0):
        return [r for r in self.sim.requests() if r["id"] > since]


def data_reads(log, entity):
    return [r for r in log if r["method"] == "GET" and r["path"].endswith("/" + entity)]


class ConnectionReuseTests(Base):
    def pull(self, s, name):
        cfg = write_config(self.out, s, name)
        out = self.out.path("customers.jsonl")
        rc, stdout, stderr = host(self.out, "--state", self.state, "--subscription", "sub",
                                  "pull", "--plugin", PLUGIN, "--config", cfg,
                                  "--flow", "customers", "--no-progress", "--out", out)
        self.assertEqual(rc, 0, stdout + stderr)
        with open(out) as f:
            records = [json.loads(x) for x in f if x.strip()]
        self.assertEqual(len(records), 60)
        return records

    def test_pull_pages_on_one_connection(self):
        s = self.sim.settings("password", page_size=10, concurrent_connections=1)
        self.pull(s, "one.json")
        log = self.site_requests()
        pages = data_reads(log, "Customer")
        self.assertGreaterEqual(len(pages), 6)            # several pages
        self.assertTrue(all(p["status"] == 200 for p in pages), pages)
        # Every request of the run, the token request included, on one
        # TCP connection: the handle's connection is kept alive.
        conns = {(r["connection"], r["peer_port"]) for r in log}
        print("CC=1: %d requests (%d pages) on %d connection(s)"
              % (len(log), len(pages), len(conns)))
        self.assertEqual(len({r["connection"] for r in pages}), 1, pages)
        self.assertEqual(len(conns), 1, log)

    def test_pull_with_n_connections_uses_at_most_n(self):
        for n in (2, 4):
            with self.subTest(concurrent_connections=n):
                self.sim.post("/_sim/reset", {})
                self.state = self.out.path("state.db")
                s = self.sim.settings("password", page_size=5, concurrent_connections=n)
                self.pull(s, "cc%d.json" % n)
                log = self.site_requests()
                pages = data_reads(log, "Customer")
                conns = {r["connection"] for r in log}
                most = max(r["concurrency"] for r in log)
                print("CC=%d: %d requests (%d pages), at most %d at once, on %d connection(s)"
                      % (n, len(log), len(pages), most, len(conns)))
                self.assertGreaterEqual(len(pages), 12)
                self.assertLessEqual(most, n)
                self.assertLessEqual(len(conns), n, log)
                # Connections are reused, not made per request.
                self.assertLess(len(conns), len(pages))

    def test_probe_reuses_connections_across_calls(self):
        # One instance, two calls: with one connection every request of
        # both calls travels on it; with four, 40 requests at once use at
        # most four connections.
        s = self.sim.settings("password", concurrent_connections=1)
        res = self.h.run(s, '{"step":"login"}', '{"step":"probe","requests":5}',
                         '{"step":"probe","requests":5}')
        for n in (1, 2, 3):
            self.assertEqual(self.step(res, n)["status"], "OK", res)
        log = self.site_requests()
        self.assertEqual(len(data_reads(log, "Customer")), 10)
        self.assertEqual(len({r["connection"] for r in log}), 1, log)
        first = self.last_id()
        s4 = self.sim.settings("password", concurrent_connections=4)
        res = self.h.run(s4, '{"step":"probe","requests":40}', '{"step":"probe","requests":8}')
        self.assertEqual(self.step(res, 1)["answer"]["ok"], 40, res)
        self.assertEqual(self.step(res, 2)["answer"]["ok"], 8, res)
        log = self.site_requests(first)
        conns = {r["connection"] for r in log}
        most = max(r["concurrency"] for r in log)
        print("probe CC=4: %d requests, at most %d at once, on %d connection(s)"
              % (len(log), most, len(conns)))
        self.assertLessEqual(len(conns), 4, log)
        self.assertGreaterEqual(len(conns), most)
        self.assertGreaterEqual(most, 2)                  # the pool was used in parallel


class StallTests(Base):
    sim_args = SEED + ("--api-user-seats", "none")

    def test_stalled_answers(self):
        """Four processes at once against one simulator (about 62 s):
        A signs in with a cookie session and the head of the answer stops
        halfway: after the stall limit the transfer is abandoned, and since
        a sign-in is never repeated blindly it ends as RETRY saying so;
        B reads and the answer stops halfway once: abandoned after the
        stall limit, sent again, success;
        C reads and the answer comes after a 62 s silence before its first
        byte (a request queue): no stall, one attempt, success;
        D asks for a token and the answer stops halfway: a token request
        has its own limit of 60 s in all, so it ends as RETRY on that."""
        s = self.sim.settings("password", concurrent_connections=2)
        self.login(s)                                      # B and C share this state
        first = self.last_id()
        self.sim.faults([
            {"name": "login-stall", "method": "POST", "path": "/entity/auth/login$",
             "stall_body": 120000, "times": 1},
            {"name": "read-stall", "method": "GET", "path": "/Customer$",
             "stall_body": 120000, "times": 1},
            {"name": "queue-wait", "method": "GET", "path": "/StockItem$",
             "delay_ms": (STALL_S + 2) * 1000, "times": 1},
            {"name": "token-stall", "method": "POST", "path": "/identity/connect/token$",
             "stall_body": 120000, "times": 1}])
        t0 = time.monotonic()
        a = Harness(self.out, self.out.path("a-state.db"))
        ha = a.start(self.sim.settings("cookie"), ['{"step":"login"}'])
        hb = self.h.start(s, ['{"step":"probe","entity":"Customer"}'])
        c = Harness(self.out, self.state)
        hc = c.start(s, ['{"step":"probe","entity":"StockItem"}'])
        d = Harness(self.out, self.out.path("d-state.db"))
        hd = d.start(s, ['{"step":"login"}'])
        ra = a.finish(ha, timeout=200)
        rb = self.h.finish(hb, timeout=200)
        rc = c.finish(hc, timeout=200)
        rd = d.finish(hd, timeout=200)
        took = time.monotonic() - t0
        print("four stalled/queued exchanges finished in %.1f s" % took)
        log = self.site_requests(first)

        # A: RETRY with a message that says what happened.
        self.assertEqual(ra[0]["status"], "RETRY", ra)
        self.assertIn("POST auth/login: the transfer stalled for %d s" % STALL_S,
                      ra[0]["error"])
        print("A:", ra[0]["error"])
        logins = [r for r in log if r["path"].endswith("/entity/auth/login")]
        self.assertEqual(len(logins), 1, logins)           # never sent again
        self.assertIsNone(logins[0]["status"])             # the client gave up...
        self.assertEqual(logins[0]["handled_status"], 204)  # ...on a handled request
        stalled = logins[0]["end"] - logins[0]["start"]
        self.assertGreaterEqual(stalled, STALL_S - 0.5)
        self.assertLess(stalled, STALL_S + 10)
        self.assertNotIn("sending again", a.last_log)

        # B: one stalled attempt, sent again, success.
        self.assertEqual(rb[0]["status"], "OK", rb)
        self.assertRegex(self.h.last_log,
                         r"GET Customer \(probe 1\): sending again in \d+ ms \(attempt 2 of "
                         r"\d+\): GET Customer \(probe 1\): the transfer stalled for %d s"
                         % STALL_S)
        reads = data_reads(log, "Customer")
        self.assertEqual([r["status"] for r in reads], [None, 200], reads)
        self.assertGreaterEqual(reads[0]["end"] - reads[0]["start"], STALL_S - 0.5)

        # C: waiting for the first byte is not a stall.
        self.assertEqual(rc[0]["status"], "OK", rc)
        self.assertNotIn("stalled", c.last_log)
        self.assertNotIn("sending again", c.last_log)
        queued = data_reads(log, "StockItem")
        self.assertEqual([r["status"] for r in queued], [200], queued)
        self.assertGreaterEqual(queued[0]["end"] - queued[0]["start"], STALL_S + 2)

        # D: the token request's own time limit; not sent again either.
        self.assertEqual(rd[0]["status"], "RETRY", rd)
        self.assertIn("no complete answer within the time allowed", rd[0]["error"])
        print("D:", rd[0]["error"])
        tokens = [r for r in log if r["path"].endswith("/identity/connect/token")]
        self.assertEqual(len(tokens), 1, tokens)
        self.assertEqual((tokens[0]["status"], tokens[0]["handled_status"]), (None, 200))
        self.assertLess(took, STALL_S + 30)
        self.h.export(s)


class EarlyRefreshTests(Base):
    HOUR_S = 3600

    def token_requests(self, log):
        return [r for r in log if r["path"].endswith("/identity/connect/token")]

    def test_renewed_shortly_before_expiry_without_a_401(self):
        """The host's clock and the site's both move to shortly before the
        access token (an hour) runs out: the plugin renews first, and the
        site never answers 401. Two minutes before, it does not renew."""
        s = self.sim.settings("password")
        self.login(s)
        login = self.token_requests(self.site_requests())[0]
        # Two minutes before expiry: outside the renewal margin (1 min).
        early = self.HOUR_S - 120
        self.sim.post("/_sim/clock", {"offset_seconds": early})
        mark = self.last_id()
        res = self.h.run(s, '{"step":"probe","requests":3}', clock_offset_ms=early * 1000)
        self.assertEqual(res[0]["status"], "OK", res)
        log = self.site_requests(mark)
        self.assertEqual(self.token_requests(log), [], "renewed too early")
        # Thirty seconds before expiry: inside the margin.
        late = self.HOUR_S - 30
        self.sim.post("/_sim/clock", {"offset_seconds": late})
        mark = self.last_id()
        res = self.h.run(s, '{"step":"probe","requests":3}', clock_offset_ms=late * 1000)
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertRegex(self.h.last_log, r"renewed the access token")
        log = self.site_requests(mark)
        renew = self.token_requests(log)
        self.assertEqual([r["status"] for r in renew], [200], log)
        reads = data_reads(log, "Customer")
        self.assertEqual([r["status"] for r in reads], [200] * 3)
        self.assertLess(renew[0]["end"], min(r["start"] for r in reads))   # renewed first
        # On the site's clock the renewal came before the old token ran out
        # (issued at the login's end, offset 0 then; valid for an hour).
        self.assertLess(renew[0]["start"] + late, login["end"] + self.HOUR_S)
        everything = self.site_requests()
        self.assertEqual([r for r in everything if r["status"] == 401], [])
        self.assertEqual(self.sim.stats().get("unauthorized", 0), 0)
        self.assertEqual(self.sim.stats().get("token_errors", {}), {})
        self.h.export(s)

    def test_renewed_during_a_run_before_expiry(self):
        """Real time, one process: tokens live 16 s (margin: a quarter, 4 s).
        A call 12.5 s after sign-in renews before sending; nothing gets 401.
        (3.5 s of slack for the sign-in and first call in slow builds.)"""
        self.sim.set(access_token_lifetime=16)
        s = self.sim.settings("password")
        res = self.h.run(s, '{"step":"login"}', '{"step":"probe","requests":2}',
                         "@sleep:12500", '{"step":"probe","requests":2}')
        self.assertEqual(self.step(res, 2)["status"], "OK", res)
        self.assertEqual(self.step(res, 4)["status"], "OK", res)
        log = self.site_requests()
        tokens = self.token_requests(log)
        self.assertEqual([t["status"] for t in tokens], [200, 200], log)
        issued, renewed = tokens[0]["end"], tokens[1]["start"]
        print("renewed %.2f s after issue (lifetime 16 s, margin 4 s)" % (renewed - issued))
        self.assertGreater(renewed - issued, 12.0)         # not before the margin
        self.assertLess(renewed - issued, 16.0)            # before it ran out
        reads = data_reads(log, "Customer")
        self.assertEqual([r["status"] for r in reads], [200] * 4)
        self.assertTrue(all(r["start"] > tokens[1]["end"] for r in reads[2:]))
        self.assertEqual([r for r in log if r["status"] == 401], [])
        self.h.export(s)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1], sys.modules[__name__])
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main(verbosity=2)
