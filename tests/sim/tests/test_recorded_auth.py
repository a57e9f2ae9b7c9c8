"""Replays the recorded sign-in exchanges (Jetbuilt, real Acumatica responses)
against the simulator: same status, content type, body and cookie set.

Needs ACUMATICA_CONTRACTS (run through run_tests.py --needs-contracts, which
exits 77 = skipped when the folder is absent)."""
import glob
import json
import os
import unittest

from simtest import SimCase
from run_tests import contracts_dir


def load(name):
    hits = glob.glob(os.path.join(contracts_dir(), "fixtures", "**", name), recursive=True)
    if not hits:
        raise unittest.SkipTest("recorded exchange %s not found" % name)
    with open(hits[0], encoding="utf-8") as fh:
        return json.load(fh)["interactions"][0]


def cookie_attrs(set_cookie_values):
    """name -> set of attribute names (lower-case), duplicates folded."""
    out = {}
    for value in set_cookie_values:
        parts = [p.strip() for p in value.split(";")]
        name = parts[0].split("=", 1)[0]
        out[name] = {p.split("=", 1)[0].lower() for p in parts[1:]}
    return out


class RecordedAuthTest(SimCase):
    overrides = {"secure_cookies": True}        # the recording was made over https

    def test_login_failure_body_is_the_recorded_one(self):
        rec = load("Acumatica_Client___login__when_login_fails__raises_an_error.json")
        c = self.client()
        r = c.request("POST", self.site + "/entity/auth/login",
                      json_body={"name": self.username, "password": "wrong"})
        self.assertEqual(r.status, rec["response"]["status"])
        self.assertEqual(r.header("Content-Type"), rec["response"]["headers"]["Content-Type"][0])
        self.assertEqual(r.json(), rec["response"]["body"])
        self.assertEqual(r.body, rec["response"]["body_raw"].encode())      # byte for byte

    def test_login_success_cookies(self):
        rec = load("Acumatica_Client___login__when_login_succeeds__1_1_1_1.json")
        _, r = self.login()
        self.assertEqual(r.status, rec["response"]["status"])
        self.assertEqual(r.body, b"")
        self.assertEqual(cookie_attrs(r.all("Set-Cookie")),
                         cookie_attrs(rec["response"]["headers"]["Set-Cookie"]))

    def test_logout_expires_the_auth_cookies(self):
        rec = load("Acumatica_Client___logout__1_2_1.json")
        c, _ = self.login()
        r = c.request("POST", self.site + "/entity/auth/logout", body=b"")
        self.assertEqual(r.status, rec["response"]["status"])
        got = cookie_attrs(r.all("Set-Cookie"))
        want = cookie_attrs(rec["response"]["headers"]["Set-Cookie"])
        for name in (".ASPXAUTH", "ASP.NET_SessionId"):
            self.assertEqual(got[name], want[name], name)
        for value in r.all("Set-Cookie"):
            if value.startswith((".ASPXAUTH=", "ASP.NET_SessionId=")):
                self.assertTrue("=;" in value, "an auth cookie keeps a value at logout")

    def test_not_logged_in(self):
        rec = load("legacy-2018__Acumatica_StockItem__making_request_without_logging_in__raises_error.json")
        path = rec["request"]["uri"].replace("PLACEHOLDER_URL", "")
        r = self.client().request("GET", self.site + path)
        resp = rec["response"]
        self.assertEqual(r.status, resp["status"])
        self.assertEqual(r.header("Content-Type"), resp["headers"]["Content-Type"][0])
        self.assertEqual(r.header("X-Handled-By"), resp["headers"]["X-Handled-By"][0])
        self.assertEqual(r.json(), resp["body"])
        self.assertEqual(r.body, resp["body_raw"].encode())


if __name__ == "__main__":
    unittest.main()
