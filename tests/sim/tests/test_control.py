"""The /_sim/ control interface, the request log and counters, and a scan of
everything the simulator reports for the test secrets."""
import io
import sys
import unittest
import urllib.parse

from simtest import SimCase

ORDERS = "/entity/Default/22.200.001/SalesOrder"


class ControlTest(SimCase):
    def test_config_get_has_the_credentials(self):
        cfg = self.control("GET", "config").json()
        for key in ("username", "password", "tenant", "client_id", "client_secret", "redirect_uris",
                    "auto_approve", "access_token_lifetime", "refresh_mode", "api_user_seats",
                    "requests_per_minute", "concurrent_requests", "site_path"):
            self.assertIn(key, cfg)
        self.assertTrue(cfg["client_id"].endswith("@" + cfg["tenant"]))

    def test_config_post(self):
        cfg = self.configure(access_token_lifetime=120, refresh_mode="sliding", api_user_seats=5,
                             redirect_uris=["http://127.0.0.1:9/cb"], auto_approve=True,
                             requests_per_minute=None)
        self.assertEqual((cfg["access_token_lifetime"], cfg["refresh_mode"], cfg["api_user_seats"]),
                         (120, "sliding", 5))
        self.assertEqual(self.password_grant("api")["expires_in"], 120)
        for bad in ({"no_such_key": 1}, {"refresh_mode": "weekly"}, {"api_user_seats": -1},
                    {"auto_approve": "yes"}, {"redirect_uris": "http://x"},
                    {"time_zone_offset": "5"}, {"access_token_lifetime": None}):
            r = self.control("POST", "config", bad)
            self.assertEqual(r.status, 400, bad)
            self.assertIn("error", r.json())
        self.assertEqual(self.control("GET", "config").json()["refresh_mode"], "sliding")

    def test_reset_restores_the_start_state(self):
        self.configure(access_token_lifetime=5)
        self.login()
        self.control("POST", "faults", [{"path": "x", "status": 500}])
        self.control("POST", "clock", {"offset_seconds": 1000})
        self.assertEqual(self.control("POST", "reset").status, 200)
        self.assertEqual(self.control("GET", "config").json()["access_token_lifetime"], 3600)
        self.assertEqual(self.stats()["open_sessions"], 0)
        self.assertEqual(self.control("GET", "faults").json(), [])
        self.assertEqual(self.control("GET", "clock").json()["offset_seconds"], 0)
        self.assertEqual(self.control("GET", "requests").json(), [])

    def test_seed_and_records_delegate(self):
        r = self.control("POST", "seed", {"seed": 7, "customers": 3})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"seed": 7, "customers": 3})
        self.assertEqual(self.fake.seeded[-1], {"seed": 7, "customers": 3})
        r = self.control("GET", "records/Customer")
        self.assertEqual(r.json(), [{"CustomerID": {"value": "C1"}}])
        self.assertEqual(self.control("GET", "records/Nope").status, 404)

    def test_clock(self):
        before = self.control("GET", "clock").json()
        r = self.control("POST", "clock", {"offset_seconds": 3600}).json()
        self.assertEqual(r["offset_seconds"], 3600)
        self.assertGreater(r["now"], before["now"] + 3599)
        r = self.control("POST", "clock", {"advance_seconds": 60}).json()
        self.assertEqual(r["offset_seconds"], 3660)
        self.assertEqual(self.control("POST", "clock", {"offset": 1}).status, 400)

    def test_expire_validation(self):
        self.assertEqual(self.control("POST", "expire", {"everything": True}).status, 400)
        r = self.control("POST", "expire", {"tokens": True, "sessions": True, "codes": True})
        self.assertEqual(set(r.json()), {"tokens", "sessions", "codes"})

    def test_request_log_and_stats(self):
        tok = self.password_grant("api")["access_token"]
        c = self.client()
        self.data(c, tok, ORDERS + "?$top=5&$filter=" + urllib.parse.quote("OrderNbr eq 'A'"))
        self.data(c, None)
        log = self.control("GET", "requests").json()
        self.assertEqual([e["method"] for e in log], ["POST", "GET", "GET"])
        token_req, data, denied = log
        self.assertEqual(token_req["path"], self.site + "/identity/connect/token")
        self.assertEqual(data["path"], self.site + ORDERS)
        self.assertEqual(data["query"], {"$top": "5", "$filter": "OrderNbr eq 'A'"})
        self.assertEqual((data["status"], denied["status"]), (200, 401))
        for e in log:
            self.assertIsInstance(e["start"], float)
            self.assertLessEqual(e["start"], e["end"])
            self.assertGreaterEqual(e["concurrency"], 1)
        since = self.control("GET", "requests?since=%d" % data["id"]).json()
        self.assertEqual([e["id"] for e in since], [denied["id"]])
        st = self.stats()
        self.assertEqual(st["requests"], 3)
        self.assertEqual(st["status_counts"], {"200": 2, "401": 1})
        self.assertEqual(st["max_concurrency"], 1)
        self.assertEqual(st["responses_429"], 0)
        self.assertEqual(st["open_sessions"], 1)
        self.assertEqual(st["tokens_issued"], 1)
        self.assertEqual(self.control("DELETE", "requests").status, 200)
        self.assertEqual(self.control("GET", "requests").json(), [])
        self.assertEqual(self.stats()["requests"], 0)

    def test_control_requests_are_not_logged_and_unknown_paths_404(self):
        self.control("GET", "stats")
        self.assertEqual(self.control("GET", "requests").json(), [])
        self.assertEqual(self.control("GET", "nothing").status, 404)
        self.assertEqual(self.control("PUT", "config", {}).status, 404)
        self.assertEqual(self.control("GET", "").status, 200)

    def test_sessions_listing_has_no_cookie_values(self):
        c, _ = self.login()
        rows = self.control("GET", "sessions").json()
        self.assertEqual(len(rows), 1)
        text = self.control("GET", "sessions").text()
        for value in c.cookies.values():
            if len(value) > 8:
                self.assertFalse(value in text, "a cookie value is listed")


class SecretsTest(SimCase):
    """Run every flow that handles a secret, then look for the secrets in all
    the simulator reports (and in what it writes to stderr)."""

    def test_no_secret_in_log_stats_or_stderr(self):
        captured = io.StringIO()
        real = sys.stderr
        sys.stderr = captured
        secrets_seen = {self.password, self.client_secret}
        try:
            c, r = self.login()
            secrets_seen.update(v for v in c.cookies.values() if len(v) > 8)
            self.data(c)
            c.request("POST", self.site + "/entity/auth/logout", body=b"")
            self.login(password="not-the-password-but-still-secret")
            secrets_seen.add("not-the-password-but-still-secret")
            tok = self.password_grant("api offline_access")
            secrets_seen.update((tok["access_token"], tok["refresh_token"]))
            q, verifier = self.code_flow()
            secrets_seen.update((q["code"], verifier))
            tok2 = self.token({"grant_type": "authorization_code", "code": q["code"],
                               "redirect_uri": self.redirect_uri, "code_verifier": verifier}).json()
            secrets_seen.update((tok2["access_token"], tok2["refresh_token"]))
            tok3 = self.token({"grant_type": "refresh_token",
                               "refresh_token": tok2["refresh_token"]}, basic=True).json()
            secrets_seen.update((tok3["access_token"], tok3["refresh_token"]))
            bc = self.client()
            self.data(bc, tok3["access_token"])
            # Secrets a careless client puts in a query string are masked too.
            leak = urllib.parse.urlencode({"code": q["code"], "client_secret": self.client_secret,
                                           "access_token": tok3["access_token"],
                                           "password": self.password, "ok": "visible"})
            self.data(bc, tok3["access_token"], ORDERS + "?" + leak)
            self.client().request("GET", self.site + "/identity/connect/authorize?" + leak)
        finally:
            sys.stderr = real
        reports = "".join(self.control("GET", name).text()
                          for name in ("requests", "stats", "sessions", "faults", "clock"))
        self.assertIn("visible", reports)          # the scan does look at the query
        self.assertIn("***", reports)
        # Messages never quote the secret itself, so a failure does not print it.
        for n, secret in enumerate(sorted(secrets_seen)):
            self.assertFalse(secret in reports, "secret #%d found in a report" % n)
            self.assertFalse(urllib.parse.quote(secret, safe="") in reports,
                             "secret #%d found URL-encoded in a report" % n)
            self.assertFalse(secret in captured.getvalue(), "secret #%d written to stderr" % n)
        self.assertGreaterEqual(len(secrets_seen), 12)

    def test_verbose_lines_are_masked(self):
        captured = io.StringIO()
        real = sys.stderr
        sys.stderr = captured
        self.sim.verbose = True
        try:
            self.data(self.client(), None, ORDERS + "?code=SECRET-CODE-123&$top=1")
        finally:
            self.sim.verbose = False
            sys.stderr = real
        line = captured.getvalue()
        self.assertIn(self.site + ORDERS, line)
        self.assertIn("401", line)
        self.assertFalse("SECRET-CODE-123" in line, "the code reached stderr")


if __name__ == "__main__":
    unittest.main()
