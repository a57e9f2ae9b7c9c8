"""What the simulator gives the suite's secret scan and transport tests:
the secrets file (ACU_SIM_SECRETS_FILE), the connection identity in the
request log, and the stall_body fault."""
import io
import os
import shutil
import socket
import stat
import sys
import tempfile
import time
import unittest

from simtest import SimCase, Simulator
import secrets_log

DISCOVERY = "/identity/.well-known/openid-configuration"


class SecretsFileTest(SimCase):
    overrides = {"api_user_seats": None}

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="sim-secrets-")
        self.path = os.path.join(self.tmp, "sub", "secrets.list")
        self.saved = os.environ.get(secrets_log.ENV)
        os.environ[secrets_log.ENV] = self.path

    def tearDown(self):
        if self.saved is None:
            os.environ.pop(secrets_log.ENV, None)
        else:
            os.environ[secrets_log.ENV] = self.saved
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def recorded(self):
        with open(self.path) as f:
            return f.read().splitlines()

    def test_every_secret_issued_or_accepted_is_recorded_and_nothing_printed(self):
        captured = io.StringIO()
        real = sys.stderr
        sys.stderr = captured
        try:
            seen = []
            c, r = self.login()
            self.assertEqual(r.status, 204)
            seen += [c.cookies["ASP.NET_SessionId"], c.cookies[".ASPXAUTH"]]
            tok = self.password_grant("api offline_access")
            seen += [tok["access_token"], tok["refresh_token"]]
            q, verifier = self.code_flow()
            seen += [q["code"], verifier]
            tok2 = self.token({"grant_type": "authorization_code", "code": q["code"],
                               "redirect_uri": self.redirect_uri,
                               "code_verifier": verifier}).json()
            seen += [tok2["access_token"], tok2["refresh_token"]]
            tok3 = self.token({"grant_type": "refresh_token",
                               "refresh_token": tok2["refresh_token"]}).json()
            seen += [tok3["access_token"], tok3["refresh_token"]]
            # A wrong verifier is still the client's secret.
            q2, _ = self.code_flow()
            wrong = "w" * 50
            r = self.token({"grant_type": "authorization_code", "code": q2["code"],
                            "redirect_uri": self.redirect_uri, "code_verifier": wrong})
            self.assertEqual(r.status, 400)
            seen += [q2["code"], wrong]
            # A changed password or client secret is recorded when it is set.
            self.configure(password="Changed-Passw0rd-42", client_secret="changed-client-secret-42")
            seen += ["Changed-Passw0rd-42", "changed-client-secret-42"]
        finally:
            sys.stderr = real
        got = set(self.recorded())
        for n, value in enumerate(seen):
            self.assertIn(value, got, "secret #%d was not recorded" % n)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.assertEqual(captured.getvalue(), "")
        for value in seen:
            self.assertNotIn(value, self.control("GET", "requests").text())

    def test_configured_secrets_recorded_at_start(self):
        sim = Simulator({"password": "Start-Passw0rd-7"})
        try:
            got = set(self.recorded())
            self.assertIn("Start-Passw0rd-7", got)
            self.assertIn(sim.config.get("client_secret"), got)
        finally:
            sim.stop()

    def test_nothing_written_without_the_variable(self):
        os.environ.pop(secrets_log.ENV)
        self.password_grant()
        self.login()
        self.assertFalse(os.path.exists(self.path))

    def test_a_file_that_cannot_be_written_is_named_once_on_stderr(self):
        os.environ[secrets_log.ENV] = os.path.join(self.tmp, "missing-dir-is-a-file", "x")
        open(os.path.join(self.tmp, "missing-dir-is-a-file"), "w").close()
        captured = io.StringIO()
        real = sys.stderr
        sys.stderr = captured
        try:
            tok = self.password_grant()
            self.password_grant()
        finally:
            sys.stderr = real
        text = captured.getvalue()
        self.assertEqual(text.count("cannot record secrets in"), 1, text)
        self.assertNotIn(tok["access_token"], text)


class ConnectionIdentityTest(SimCase):
    def test_kept_alive_requests_share_a_connection_and_new_ones_do_not(self):
        a = self.client()
        for _ in range(3):
            self.assertEqual(a.request("GET", self.site + DISCOVERY).status, 200)
        b = self.client()
        self.assertEqual(b.request("GET", self.site + DISCOVERY).status, 200)
        rows = self.control("GET", "requests").json()
        self.assertEqual(len(rows), 4)
        first = rows[0]
        self.assertIsInstance(first["connection"], int)
        self.assertEqual(first["peer_port"], a.conn.sock.getsockname()[1])
        self.assertEqual({(r["connection"], r["peer_port"]) for r in rows[:3]},
                         {(first["connection"], first["peer_port"])})
        self.assertNotEqual(rows[3]["connection"], first["connection"])
        self.assertEqual(rows[3]["peer_port"], b.conn.sock.getsockname()[1])


class StallBodyTest(SimCase):
    def test_rule_validation(self):
        r = self.control("POST", "faults", [{"stall_body": True}])
        self.assertEqual(r.status, 400)
        self.assertIn("milliseconds", r.text())
        r = self.control("POST", "faults", [{"stall_body": 100, "slow_body": 10}])
        self.assertEqual(r.status, 400)

    def test_patient_client_gets_the_whole_body_after_the_pause(self):
        self.control("POST", "faults", [{"path": "openid-configuration$", "stall_body": 700}])
        c = self.client()
        start = time.monotonic()
        r = c.request("GET", self.site + DISCOVERY)
        took = time.monotonic() - start
        self.assertEqual(r.status, 200)
        self.assertIn("token_endpoint", r.json())
        self.assertGreaterEqual(took, 0.7)
        row = self.control("GET", "requests").json()[-1]
        self.assertEqual((row["status"], row["fault"]), (200, "stall_body"))

    def test_answer_without_body_stalls_before_the_end_of_its_head(self):
        self.control("POST", "faults", [{"path": "/entity/auth/login$", "stall_body": 800}])
        body = ('{"name": "%s", "password": "%s"}' % (self.username, self.password)).encode()
        s = socket.create_connection(("127.0.0.1", self.sim.port), timeout=10)
        s.sendall(("POST %s/entity/auth/login HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                   % (self.site, len(body))).encode() + body)
        start = time.monotonic()
        got = b""
        s.settimeout(0.4)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            pass
        self.assertTrue(got.startswith(b"HTTP/1.1 204"), got[:40])
        self.assertNotIn(b"\r\n\r\n", got)          # the head is not finished
        s.settimeout(10)
        while b"\r\n\r\n" not in got:
            got += s.recv(65536)
        self.assertGreaterEqual(time.monotonic() - start, 0.75)
        s.close()
        row = self.control("GET", "requests").json()[-1]
        self.assertEqual((row["status"], row["fault"]), (204, "stall_body"))

    def test_client_that_gives_up_ends_the_stall(self):
        self.control("POST", "faults", [{"path": "openid-configuration$", "stall_body": 20000}])
        s = socket.create_connection(("127.0.0.1", self.sim.port), timeout=10)
        s.sendall(("GET %s%s HTTP/1.1\r\nHost: x\r\n\r\n" % (self.site, DISCOVERY)).encode())
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(65536)
        head, _, body = got.partition(b"\r\n\r\n")
        length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")][0])
        s.settimeout(0.5)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
        except socket.timeout:
            pass
        self.assertEqual(len(body), length // 2)       # half, then nothing
        s.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            row = self.control("GET", "requests").json()[-1]
            if row["end"] is not None:
                break
            time.sleep(0.05)
        self.assertIsNone(row["status"])
        self.assertEqual((row["fault"], row["handled_status"]), ("stall_body", 200))
        self.assertLess(row["end"] - row["start"], 5)


if __name__ == "__main__":
    unittest.main()
