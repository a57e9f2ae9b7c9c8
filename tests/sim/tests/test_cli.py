"""The command line: first stdout line, options reaching the configuration,
clean exit on SIGTERM/SIGINT, and --tls (curl trusts it with the CA only)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

from simtest import SIM_DIR, Client

SCRIPT = os.path.join(SIM_DIR, "acumatica_sim.py")


class Proc:
    def __init__(self, *args):
        self.p = subprocess.Popen([sys.executable, SCRIPT, "--port", "0"] + list(args),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.p.stdout.readline().strip()
        self.ca = self.p.stdout.readline().strip() if "--tls" in args else None

    def root(self):
        m = re.match(r"^(https?://127\.0\.0\.1:\d+)", self.url)
        return m.group(1)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(10)
        finally:
            self.p.stdout.close()
            self.p.stderr.close()


class CliTest(unittest.TestCase):
    def test_first_line_is_the_base_url_and_sigterm_exits_cleanly(self):
        proc = Proc()
        try:
            self.assertRegex(proc.url, r"^http://127\.0\.0\.1:\d+/AcumaticaERP$")
            with urllib.request.urlopen(proc.root() + "/_sim/config", timeout=5) as r:
                cfg = json.load(r)
            self.assertEqual(cfg["site_path"], "/AcumaticaERP")
            with urllib.request.urlopen(proc.url + "/identity/.well-known/openid-configuration",
                                        timeout=5) as r:
                self.assertEqual(json.load(r)["issuer"], proc.url + "/identity")
        finally:
            t0 = time.monotonic()
            rc = proc.stop()
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 5)

    def test_options_reach_the_configuration(self):
        proc = Proc("--site-path", "Test/Site", "--api-user-seats", "1", "--token-lifetime", "120",
                    "--refresh-mode", "sliding", "--requests-per-minute", "100",
                    "--concurrent-requests", "4", "--tz-offset", "-05:00",
                    "--redirect-uri", "http://127.0.0.1:1/cb",
                    "--config-json", '{"auto_approve": true, "queue_limit": 5}')
        try:
            self.assertRegex(proc.url, r"^http://127\.0\.0\.1:\d+/Test/Site$")
            with urllib.request.urlopen(proc.root() + "/_sim/config", timeout=5) as r:
                cfg = json.load(r)
            expect = {"site_path": "/Test/Site", "api_user_seats": 1, "access_token_lifetime": 120,
                      "refresh_mode": "sliding", "requests_per_minute": 100,
                      "concurrent_requests": 4, "time_zone_offset": "-05:00",
                      "redirect_uris": ["http://127.0.0.1:1/cb"], "auto_approve": True,
                      "queue_limit": 5}
            self.assertEqual({k: cfg[k] for k in expect}, expect)
        finally:
            self.assertEqual(proc.stop(signal.SIGINT), 0)

    def test_seats_can_be_unlimited(self):
        proc = Proc("--api-user-seats", "none")
        try:
            with urllib.request.urlopen(proc.root() + "/_sim/config", timeout=5) as r:
                self.assertIsNone(json.load(r)["api_user_seats"])
        finally:
            proc.stop()

    def test_bad_options_exit_2(self):
        for args in (["--refresh-mode", "weekly"], ["--tz-offset", "5h"],
                     ["--config-json", '{"nope": 1}'], ["--config-json", "{"]):
            r = subprocess.run([sys.executable, SCRIPT, "--port", "0"] + args,
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "")


@unittest.skipUnless(shutil.which("openssl") and shutil.which("curl"), "needs openssl and curl")
class TlsTest(unittest.TestCase):
    def test_tls_with_and_without_the_ca(self):
        proc = Proc("--tls")
        try:
            self.assertRegex(proc.url, r"^https://127\.0\.0\.1:\d+/AcumaticaERP$")
            self.assertTrue(os.path.isfile(proc.ca))
            url = proc.url + "/entity/Default/22.200.001/SalesOrder"
            ok = subprocess.run(["curl", "-sS", "--cacert", proc.ca, "-o", "/dev/null",
                                 "-w", "%{http_code}", url], capture_output=True, text=True, timeout=20)
            self.assertEqual((ok.returncode, ok.stdout), (0, "401"), ok.stderr)
            localhost = url.replace("127.0.0.1", "localhost")
            ok = subprocess.run(["curl", "-sS", "--cacert", proc.ca, "-o", "/dev/null",
                                 "-w", "%{http_code}", localhost], capture_output=True, text=True,
                                timeout=20)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            bad = subprocess.run(["curl", "-sS", "-o", "/dev/null", url],
                                 capture_output=True, text=True, timeout=20)
            self.assertEqual(bad.returncode, 60, bad.stderr)      # peer certificate not trusted
            # The server survives the failed handshake; cookies get the secure flag over TLS.
            c = Client(proc.root(), cafile=proc.ca)
            with urllib.request.urlopen(proc.root() + "/_sim/config", timeout=5,
                                        context=__import__("ssl").create_default_context(cafile=proc.ca)) as r:
                cfg = json.load(r)
            r = c.request("POST", "/AcumaticaERP/entity/auth/login",
                          json_body={"name": cfg["username"], "password": cfg["password"]})
            self.assertEqual(r.status, 204)
            auth = [v for v in r.all("Set-Cookie") if v.startswith(".ASPXAUTH=")][0]
            self.assertTrue("; secure;" in auth, "no secure flag on .ASPXAUTH")
            c.close()
        finally:
            self.assertEqual(proc.stop(), 0)
        self.assertFalse(os.path.exists(proc.ca))          # the throw-away CA is removed


if __name__ == "__main__":
    unittest.main()
