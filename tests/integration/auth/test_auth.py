"""Integration tests of the plugin's sign-in, transport and throttle against
the simulator, through the reference host's real loader and state
(connector-host and acu_auth_harness). Run by CTest, one group per entry:

    python3 test_auth.py AuthorizationCodeTests

Every output is captured under ACU_LOG_DIR/<group>/ for secret_scan.py.
"""
import base64
import hashlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from authtest import Harness, Outputs, Sim, SimTestCase, follow, host, host_wait, query, wait_for_line, \
    write_config, PLUGIN

HOUR_MS = 2 * 3600 * 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def max_in_window(starts, window):
    starts = sorted(starts)
    best, j = 0, 0
    for i, t in enumerate(starts):
        while t - starts[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best


class Base(SimTestCase):
    def token_requests(self, since=0):
        return [r for r in self.sim.requests() if r["path"].endswith("/identity/connect/token")
                and r["id"] > since]


class AuthorizationCodeTests(Base):
    def settings(self, redirect):
        return self.sim.settings("authorization_code", redirect_url=redirect)

    def begin(self, settings):
        res = self.h.run(settings, '{"step":"begin"}')
        self.assertEqual(res[0]["status"], "OK", res)
        return res[0]["answer"]["authorization_url"]

    def code_redirect(self, url):
        """Follow the authorization URL (auto-approve) to its redirect."""
        status, location = follow(url)
        self.assertEqual(status, 302)
        self.out.secret(query(location).get("code"))
        return location

    def test_authorize_with_loopback_listener_and_pkce(self):
        port = free_port()
        redirect = "http://127.0.0.1:%d/callback" % port
        self.sim.set(auto_approve=True, redirect_uris=[redirect])
        cfg = write_config(self.out, self.settings(redirect), "ac.json")
        proc = host(self.out, "--state", self.state, "authorize", "--plugin", PLUGIN,
                    "--config", cfg, "--timeout", "60", background=True)
        url = wait_for_line(proc.files[0].name, "http://")
        q = query(url)
        self.assertEqual(q["code_challenge_method"], "S256")
        self.assertRegex(q["code_challenge"], r"^[A-Za-z0-9_-]{43}$")
        self.assertRegex(q["state"], r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(q["redirect_uri"], redirect)
        self.assertEqual(q["scope"], "api offline_access")
        # The browser: the simulator approves and redirects to the listener.
        location = self.code_redirect(url)
        with urllib.request.urlopen(location, timeout=30) as resp:
            self.assertEqual(resp.status, 200)
            self.assertIn(b"Authorization received", resp.read())
        rc, stdout, stderr = host_wait(proc)
        self.assertEqual(rc, 0, stderr)
        self.assertIn("authorized: tokens stored", stdout)
        self.assertIn("refresh token stored", stdout)
        # The simulator checked the verifier against the challenge: one
        # exchange, accepted.
        tokens = self.token_requests()
        self.assertEqual([t["status"] for t in tokens], [200])
        self.assertEqual(tokens[0]["query"], {})
        # A later command uses the stored tokens.
        rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin", PLUGIN,
                                  "--config", cfg)
        self.assertEqual(rc, 0, stdout + stderr)
        self.assertIn("ok   credentials: the stored authorization is accepted", stdout)
        self.assertEqual(len(self.token_requests()), 1)
        self.h.export(self.settings(redirect), subscription="ac")

    def test_pkce_verifier_mismatch_refused(self):
        redirect = "https://app.example.com/callback"
        self.sim.set(auto_approve=True, redirect_uris=[redirect])
        s = self.settings(redirect)
        url1 = self.begin(s)
        url2 = self.begin(s)            # replaces the pending verifier
        code1 = query(self.code_redirect(url1))["code"]
        state2 = query(url2)["state"]
        res = self.h.run(s, json.dumps({"step": "complete", "code": code1, "state": state2}),
                         '{"step":"status"}')
        self.assertEqual(res[0]["status"], "AUTH", res)
        self.assertIn("refused the authorization code (invalid_grant", res[0]["error"])
        self.assertIn("code_verifier", res[0]["error"])
        self.assertFalse(res[1]["answer"]["tokens_stored"])
        self.assertEqual([t["status"] for t in self.token_requests()], [400])

    def test_wrong_state_refused_and_real_redirect_still_completes(self):
        redirect = "https://app.example.com/callback"
        self.sim.set(auto_approve=True, redirect_uris=[redirect])
        s = self.settings(redirect)
        location = self.code_redirect(self.begin(s))
        state = query(location)["state"]
        forged = location.replace("state=" + state, "state=" + state[:-4] + "AAAA")
        self.assertNotEqual(forged, location)
        res = self.h.run(s, json.dumps({"step": "complete", "redirect_url": forged}),
                         '{"step":"status"}',
                         json.dumps({"step": "complete", "redirect_url": location}),
                         '{"step":"status"}')
        self.assertEqual(res[0]["status"], "AUTH")
        self.assertIn("state in the redirect does not match", res[0]["error"])
        self.assertFalse(res[1]["answer"]["tokens_stored"])
        # Nothing was sent for the forged one.
        self.assertEqual(res[2]["status"], "OK", res[2])
        self.assertTrue(res[3]["answer"]["tokens_stored"])
        self.assertTrue(res[3]["answer"]["refresh_available"])
        self.assertFalse(res[3]["answer"]["authorization_pending"])
        self.assertEqual([t["status"] for t in self.token_requests()], [200])
        self.h.export(s)

    def test_access_denied(self):
        redirect = "https://app.example.com/callback"
        self.sim.set(auto_approve=False, redirect_uris=[redirect])
        s = self.settings(redirect)
        url = self.begin(s)
        with urllib.request.urlopen(url, timeout=30) as resp:
            page = resp.read().decode()
        request_id = re.search(r'name="request_id" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"request_id": request_id, "decision": "deny"}).encode()
        consent = urllib.parse.urlsplit(url)
        status, location = follow(urllib.request.Request(
            "%s://%s%s" % (consent.scheme, consent.netloc, consent.path), data=form))
        self.assertEqual(status, 302)
        self.assertEqual(query(location)["error"], "access_denied")
        res = self.h.run(s, json.dumps({"step": "complete", "redirect_url": location}),
                         '{"step":"status"}')
        self.assertEqual(res[0]["status"], "AUTH")
        self.assertEqual(res[0]["detail_type"], "access_denied")
        self.assertIn("access was denied on Acumatica's consent page", res[0]["error"])
        self.assertFalse(res[1]["answer"]["tokens_stored"])
        self.assertFalse(res[1]["answer"]["authorization_pending"])
        self.assertEqual(self.token_requests(), [])

    def test_authorize_with_pasted_redirect(self):
        redirect = "https://app.example.com/callback"
        self.sim.set(auto_approve=True, redirect_uris=[redirect])
        cfg = write_config(self.out, self.settings(redirect), "paste.json")
        so = open(self.out.path("authorize.stdout"), "w+")
        se = open(self.out.path("authorize.stderr"), "w+")
        proc = subprocess.Popen([os.environ["ACU_CONNECTOR_HOST"], "--state", self.state,
                                 "--subscription", "paste", "authorize", "--plugin", PLUGIN,
                                 "--config", cfg],
                                stdin=subprocess.PIPE, stdout=so, stderr=se, text=True)
        url = wait_for_line(so.name, "http://")
        location = self.code_redirect(url)
        proc.communicate(location + "\n", timeout=60)
        so.seek(0)
        se.seek(0)
        out, err = so.read(), se.read()
        so.close()
        se.close()
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("paste the whole address", out)
        self.assertIn("authorized: tokens stored for subscription paste", out)
        self.assertNotIn(query(location)["code"], out + err)

    def test_not_authorized_yet(self):
        redirect = "https://app.example.com/callback"
        cfg = write_config(self.out, self.settings(redirect), "none.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin", PLUGIN,
                                  "--config", cfg)
        self.assertEqual(rc, 4)
        self.assertIn("FAIL credentials: the connector is not authorized yet", stdout)


class RotationTests(Base):
    def login(self, s):
        res = self.h.run(s, '{"step":"login"}')
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertTrue(res[0]["answer"]["refresh_token"])

    def test_rotation_old_token_rejected_and_never_reused(self):
        s = self.sim.settings("password")
        self.login(s)
        # The clock moves past the access token's expiry: the plugin renews.
        res = self.h.run(s, "@save-refresh", "@clock:%d" % HOUR_MS,
                         '{"step":"probe","requests":2}', "@replay-saved-refresh",
                         "@export-secrets:" + self.out.secrets)
        self.assertTrue(self.step(res, 1)["saved"])
        self.assertEqual(self.step(res, 3)["status"], "OK", res)
        self.assertIn("renewed the access token", self.h.last_log)
        replay = self.step(res, 4)
        self.assertEqual((replay["http_status"], replay["error"]), (400, "invalid_grant"))
        # A later process renews again with the stored (rotated) token.
        res = self.h.run(s, '{"step":"probe","requests":1}', clock_offset_ms=2 * HOUR_MS)
        self.assertEqual(res[0]["status"], "OK", res)
        statuses = [t["status"] for t in self.token_requests()]
        # login, refresh, the stale replay (ours, not the plugin's), refresh
        self.assertEqual(statuses, [200, 200, 400, 200])
        self.assertEqual(self.sim.stats()["token_errors"], {"invalid_grant": 1})
        self.h.export(s)

    def test_two_processes_refresh_at_once(self):
        s = self.sim.settings("password")
        self.login(s)
        first = self.last_id()
        go = self.out.path("go")
        ready = [self.out.path("ready-a"), self.out.path("ready-b")]
        # Both token requests are in flight together.
        self.sim.faults([{"method": "POST", "path": "/identity/connect/token$",
                          "delay_ms": 400}])
        a = self.h.start(s, ["@touch:" + ready[0], "@wait-file:" + go,
                             '{"step":"probe","requests":3}'], clock_offset_ms=HOUR_MS)
        b = self.h.start(s, ["@touch:" + ready[1], "@wait-file:" + go,
                             '{"step":"probe","requests":3}'], clock_offset_ms=HOUR_MS)
        # A barrier: both processes are loaded and initialised before either
        # goes on.
        deadline = time.time() + 30
        while not all(os.path.exists(p) for p in ready) and time.time() < deadline:
            time.sleep(0.01)
        open(go, "w").close()
        ra = self.h.finish(a)
        log_a = self.h.last_log
        rb = self.h.finish(b)
        log_b = self.h.last_log
        self.assertEqual(self.step(ra, 3)["status"], "OK", ra)
        self.assertEqual(self.step(rb, 3)["status"], "OK", rb)
        # One process claimed the refresh token in host state and spent it;
        # the other saw the claim, never sent the token, and took the
        # winner's rotated tokens.
        race = [t["status"] for t in self.token_requests(first)]
        self.assertEqual(race, [200])
        self.assertEqual(sum("waiting for its result" in log for log in (log_a, log_b)), 1,
                         (log_a, log_b))
        self.assertEqual(sum("another process renewed the tokens first" in log
                             for log in (log_a, log_b)), 1, (log_a, log_b))
        self.assertEqual(self.sim.stats()["live_refresh_tokens"], 1)
        self.assertNotIn("invalid_grant", self.sim.stats().get("token_errors", {}))
        # The stored refresh token is the one valid token: a third process
        # renews with it.
        self.sim.faults([])
        res = self.h.run(s, '{"step":"probe","requests":1}', clock_offset_ms=2 * HOUR_MS)
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertEqual(self.token_requests()[-1]["status"], 200)
        self.h.export(s)

    def race(self, s, clock_offset_ms=HOUR_MS):
        """Two processes renew at the same moment; their answers and logs."""
        go = self.out.path("go")
        ready = [self.out.path("ready-a"), self.out.path("ready-b")]
        for p in [go] + ready:
            if os.path.exists(p):
                os.unlink(p)
        handles = [self.h.start(s, ["@touch:" + r, "@wait-file:" + go,
                                    '{"step":"probe","requests":3}'],
                                clock_offset_ms=clock_offset_ms) for r in ready]
        deadline = time.time() + 30
        while not all(os.path.exists(p) for p in ready) and time.time() < deadline:
            time.sleep(0.01)
        open(go, "w").close()
        results, logs = [], []
        for hd in handles:
            results.append(self.h.finish(hd))
            logs.append(self.h.last_log)
        return results, logs

    def test_reuse_detection_never_costs_the_chain(self):
        # An identity server that revokes the whole chain when a refresh
        # token is reused: two processes of an authorized subscription renew
        # at once and the customer does not have to authorize again.
        s = self.sim.settings("authorization_code", redirect_url="https://app.example.com/cb")
        self.sim.set(auto_approve=True, redirect_uris=["https://app.example.com/cb"],
                     refresh_reuse_revokes_chain=True)
        res = self.h.run(s, '{"step":"begin"}')
        status, location = follow(res[0]["answer"]["authorization_url"])
        self.out.secret(query(location)["code"])
        res = self.h.run(s, json.dumps({"step": "complete", "redirect_url": location}))
        self.assertEqual(res[0]["status"], "OK", res)
        first = self.last_id()
        self.sim.faults([{"method": "POST", "path": "/identity/connect/token$",
                          "delay_ms": 400}])
        results, logs = self.race(s)
        for r in results:
            self.assertEqual(self.step(r, 3)["status"], "OK", r)
        self.assertEqual([t["status"] for t in self.token_requests(first)], [200])
        # Later runs keep renewing on the same chain.
        self.sim.faults([])
        res = self.h.run(s, '{"step":"probe","requests":1}', clock_offset_ms=2 * HOUR_MS)
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertEqual([t["status"] for t in self.token_requests(first)], [200, 200])
        self.h.export(s)

    def stored_refresh_fingerprint(self, s):
        """base64url(SHA-256) of the stored refresh token, as claims name it."""
        # Outside the scanned logs (it holds the tokens), gone right after.
        fd, mine = tempfile.mkstemp(prefix="tokens-")
        os.close(fd)
        os.unlink(mine)
        try:
            self.h.run(s, "@export-secrets:" + mine)
            with open(mine) as f:
                access, refresh = f.read().splitlines()[:2]
        finally:
            if os.path.exists(mine):
                os.unlink(mine)
        self.out.secret(access, refresh)
        digest = hashlib.sha256(refresh.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def plant_claim(self, token_fp, until_ms):
        with sqlite3.connect(self.state) as db:
            db.execute("INSERT OR REPLACE INTO state (subscription, key, value, secret, "
                       "updated_ms) VALUES ('sub', 'acu.oauth.refresh_claim', ?, 0, ?)",
                       (json.dumps({"v": 1, "by": "a-process-that-died", "token": token_fp,
                                    "until": until_ms}).encode(), int(time.time() * 1000)))

    def test_claim_of_a_dead_process_lapses(self):
        s = self.sim.settings("password")
        self.login(s)
        fp = self.stored_refresh_fingerprint(s)
        first = self.last_id()
        # A claim on the stored token that nobody will finish, lapsing in
        # 2.5 s of the plugin's clock: the plugin waits, then renews itself.
        now_plugin = int(time.time() * 1000) + HOUR_MS
        self.plant_claim(fp, now_plugin + 2500)
        t0 = time.time()
        res = self.h.run(s, '{"step":"probe","requests":1}', clock_offset_ms=HOUR_MS)
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertGreaterEqual(time.time() - t0, 2.0)
        self.assertIn("waiting for its result", self.h.last_log)
        self.assertIn("renewing here", self.h.last_log)
        self.assertEqual([t["status"] for t in self.token_requests(first)], [200])
        # Released after use: the next renewal does not wait.
        with sqlite3.connect(self.state) as db:
            rows = db.execute("SELECT count(*) FROM state WHERE key = "
                              "'acu.oauth.refresh_claim'").fetchone()[0]
        self.assertEqual(rows, 0)
        # A live claim on an older token (already rotated) is no claim on
        # the current one: renewed at once.
        self.plant_claim(fp, int(time.time() * 1000) + 3 * HOUR_MS)
        t0 = time.time()
        res = self.h.run(s, '{"step":"probe","requests":1}', clock_offset_ms=2 * HOUR_MS)
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertLess(time.time() - t0, 2.0)
        self.assertNotIn("waiting for its result", self.h.last_log)
        self.h.export(s)

    def test_invalid_grant_means_authorize_again(self):
        s = self.sim.settings("authorization_code", redirect_url="https://app.example.com/cb")
        self.sim.set(auto_approve=True, redirect_uris=["https://app.example.com/cb"])
        res = self.h.run(s, '{"step":"begin"}')
        status, location = follow(res[0]["answer"]["authorization_url"])
        self.out.secret(query(location)["code"])
        res = self.h.run(s, json.dumps({"step": "complete", "redirect_url": location}))
        self.assertEqual(res[0]["status"], "OK", res)
        self.h.export(s)
        # The chain ends (absolute lifetime, revocation): every token dies.
        self.sim.post("/_sim/expire", {"tokens": True, "refresh_tokens": True})
        cfg = write_config(self.out, s, "expired.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "--subscription", "sub",
                                  "check", "--plugin", PLUGIN, "--config", cfg)
        self.assertEqual(rc, 4, stdout + stderr)
        self.assertIn("refused the stored refresh token (invalid_grant)", stdout)
        self.assertIn("absolute lifetime", stdout)
        self.assertIn("connector-host authorize", stdout)

    def test_password_grant_starts_a_new_chain_after_invalid_grant(self):
        # The refresh is refused; the password grant can sign in again by
        # itself (a request submitted from the refresh's completion).
        s = self.sim.settings("password")
        self.login(s)
        self.sim.post("/_sim/expire", {"refresh_tokens": True})
        res = self.h.run(s, '{"step":"probe","requests":2}', clock_offset_ms=HOUR_MS)
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertIn("signing in with the password again", self.h.last_log)
        self.assertEqual([t["status"] for t in self.token_requests()], [200, 400, 200])
        self.h.export(s)

    def test_401_mid_run_one_refresh(self):
        s = self.sim.settings("password", concurrent_connections=5)
        self.login(s)
        first = self.last_id()
        res = self.h.run(s, '{"step":"probe","requests":5}',
                         "@post", self.sim.root + "/_sim/expire", '{"tokens": true}',
                         '{"step":"probe","requests":10}')
        self.assertEqual(self.step(res, 1)["status"], "OK")
        self.assertEqual(self.step(res, 2)["http_status"], 200)
        after = self.step(res, 3)
        self.assertEqual(after["status"], "OK", after)
        self.assertEqual(after["answer"]["ok"], 10)
        later = [r for r in self.sim.requests() if r["id"] > first]
        token = [r for r in later if r["path"].endswith("/connect/token")]
        self.assertEqual([t["status"] for t in token], [200])   # one refresh, single-flight
        unauthorized = sum(r["status"] == 401 for r in later)
        self.assertGreaterEqual(unauthorized, 1)
        self.assertLessEqual(unauthorized, 5)                    # at most those in flight
        self.assertEqual(sum(r["status"] == 200 and r["method"] == "GET" for r in later), 15)
        self.assertIn("401, renewing the credentials once", self.h.last_log)
        self.h.export(s)


class PasswordAndCookieTests(Base):
    def test_password_login_and_status(self):
        s = self.sim.settings("password")
        res = self.h.run(s, '{"step":"login"}', '{"step":"status"}')
        self.assertEqual(res[0]["status"], "OK")
        self.assertEqual(res[0]["answer"]["grant"], "password")
        st = res[1]["answer"]
        self.assertTrue(st["tokens_stored"] and st["tokens_match_settings"])
        self.assertTrue(st["refresh_available"])
        self.assertGreater(st["access_token_expires_in"], 3500)
        self.assertNotIn("access_token\":\"", json.dumps(st))
        self.h.export(s)

    def test_wrong_password(self):
        s = self.sim.settings("password", password="not-the-password")
        res = self.h.run(s, '{"step":"login"}')
        self.assertEqual(res[0]["status"], "AUTH")
        self.assertIn("refused the user name or password", res[0]["error"])

    def test_wrong_client_secret(self):
        s = self.sim.settings("password", client_secret="not-the-secret")
        res = self.h.run(s, '{"step":"login"}')
        self.assertEqual(res[0]["status"], "AUTH")
        self.assertIn("invalid_client", res[0]["error"])

    def test_cookie_login_and_sign_out_at_shutdown(self):
        self.sim.set(api_user_seats=3)
        s = self.sim.settings("cookie", branch="HEADOFFICE")
        res = self.h.run(s, '{"step":"login"}', '{"step":"probe","requests":3}')
        self.assertEqual(res[0]["status"], "OK")
        self.assertTrue(res[0]["answer"]["session"])
        self.assertEqual(res[1]["answer"]["ok"], 3)
        self.assertIn("signed out of the Acumatica session", self.h.last_log)
        self.assertEqual(self.sim.get("/_sim/sessions"), [])
        stats = self.sim.stats()
        self.assertEqual(stats["open_sessions"], 0)
        self.assertEqual(stats["sessions_closed_by"].get("logout"), 1)
        logout = [r for r in self.sim.requests() if r["path"].endswith("/auth/logout")]
        self.assertEqual([r["status"] for r in logout], [204])

    def test_cookie_relogin_once_on_401(self):
        self.sim.set(api_user_seats=3)
        s = self.sim.settings("cookie")
        res = self.h.run(s, '{"step":"probe","requests":2}',
                         "@post", self.sim.root + "/_sim/expire", '{"sessions": true}',
                         '{"step":"probe","requests":4}')
        self.assertEqual(self.step(res, 1)["status"], "OK")
        self.assertEqual(self.step(res, 3)["status"], "OK", res)
        self.assertIn("the cookie session has ended; signing in again", self.h.last_log)
        logins = [r for r in self.sim.requests() if r["path"].endswith("/auth/login")]
        self.assertEqual([r["status"] for r in logins], [204, 204])
        self.assertEqual(self.sim.stats()["open_sessions"], 0)

    def test_concurrent_access_sessions_replayed_and_signed_out(self):
        # With api:concurrent_access Acumatica keeps sessions by cookies: the
        # plugin's cookie engine sends them back, so one session serves every
        # request, and shutdown signs it out.
        s = self.sim.settings("password", scope="api offline_access api:concurrent_access")
        res = self.h.run(s, '{"step":"login"}', '{"step":"probe","requests":1}',
                         '{"step":"probe","requests":6}')
        self.assertEqual([r["status"] for r in res], ["OK", "OK", "OK"], res)
        stats = self.sim.stats()
        self.assertEqual(stats["sessions_opened"], 1)
        self.assertEqual(stats["open_sessions"], 0)
        self.assertEqual(stats["sessions_closed_by"].get("logout"), 1)
        self.assertIn("signed out of the Acumatica session", self.h.last_log)
        self.h.export(s)

    def test_cookie_wrong_password(self):
        s = self.sim.settings("cookie", password="nope-nope")
        cfg = write_config(self.out, s, "badcookie.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin", PLUGIN,
                                  "--config", cfg)
        self.assertEqual(rc, 4, stdout + stderr)
        self.assertIn("Invalid credentials", stdout)
        self.assertIn("check username (Username) and password (Password)", stdout)

    def test_api_login_limit(self):
        self.sim.set(api_user_seats=1)
        c = self.sim.config
        body = json.dumps({"name": c["username"], "password": c["password"]}).encode()
        req = urllib.request.Request(self.sim.url + "/entity/auth/login", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.assertEqual(resp.status, 204)   # another client holds the one seat
        for grant in ("cookie", "password"):
            cfg = write_config(self.out, self.sim.settings(grant), grant + ".json")
            rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin",
                                      PLUGIN, "--config", cfg)
            self.assertEqual(rc, 5, stdout + stderr)
            self.assertIn("all API-user seats of the Acumatica license are in use (API Login "
                          "Limit) - sign out other sessions or wait for them to expire", stdout)
        # No slow-down for a full license: it is not a rate problem.
        self.assertNotIn("slowing down", stderr)


class ThrottleTests(Base):
    def test_sliding_window_20_per_2s(self):
        s = self.sim.settings("password", api_throttle_limit=20, api_throttle_seconds=2,
                              concurrent_connections=5)
        first = self.last_id()
        res = self.h.run(s, '{"step":"login"}', '{"step":"probe","requests":100}')
        probe = res[1]
        self.assertEqual(probe["status"], "OK", probe)
        self.assertEqual(probe["answer"]["ok"], 100)
        log = [r for r in self.sim.requests() if r["id"] > first]
        starts = [r["start"] for r in log]
        self.assertEqual(len(starts), 101)                      # the login and 100 reads
        worst = max_in_window(starts, 2.0)
        self.assertLessEqual(worst, 20)
        gets = sorted(r["start"] for r in log if r["method"] == "GET")
        # The sustained rate: 20 starts took (on average) this long, measured
        # from each start to the one 20 later, against 20 per 2 s.
        starts.sort()
        spans = [starts[i] - starts[i - 20] for i in range(20, len(starts))]
        rate = 20 / (sum(spans) / len(spans))
        print("throttle 20/2s: %d starts, max %d in any 2 s window, achieved %.2f req/s "
              "(%.1f%% of the limit), counters %s"
              % (len(starts), worst, rate, rate * 10, json.dumps(probe["answer"]["counters"])))
        self.assertGreaterEqual(rate, 0.9 * 10)
        self.assertEqual(probe["answer"]["counters"]["status_429"], 0)
        self.assertGreater(probe["answer"]["counters"]["throttle_waits"], 70)
        self.assertEqual(len(gets), 100)
        self.h.export(s)

    def test_concurrency_cap(self):
        s = self.sim.settings("password", concurrent_connections=3, api_throttle_limit=1000)
        self.h.run(s, '{"step":"login"}')
        self.sim.faults([{"method": "GET", "path": "/Customer$", "delay_ms": 300}])
        res = self.h.run(s, '{"step":"probe","requests":15}')
        self.assertEqual(res[0]["status"], "OK", res)
        stats = self.sim.stats()
        print("concurrency cap 3: simulator saw at most %d in flight; plugin counted %d"
              % (stats["max_concurrency"], res[0]["answer"]["counters"]["max_in_flight"]))
        self.assertEqual(stats["max_concurrency"], 3)
        self.assertEqual(res[0]["answer"]["counters"]["max_in_flight"], 3)
        # 15 requests of 300 ms, 3 at a time: about 1.5 s, not 4.5 s.
        self.assertLess(res[0]["answer"]["elapsed_ms"], 3500)

    def test_slow_down_after_429(self):
        s = self.sim.settings("password", api_throttle_limit=20, api_throttle_seconds=2,
                              concurrent_connections=5)
        self.h.run(s, '{"step":"login"}')
        self.sim.faults([{"method": "GET", "path": "/Customer$", "status": 429, "times": 1}])
        first = self.last_id()
        res = self.h.run(s, '{"step":"probe","requests":30}')
        self.assertEqual(res[0]["status"], "OK", res)
        self.assertEqual(res[0]["answer"]["counters"]["status_429"], 1)
        self.assertIn("slowing down to 10 requests per 2 s", self.h.last_log)
        log = [r for r in self.sim.requests() if r["id"] > first]
        cut = min(r["end"] for r in log if r["status"] == 429)
        after = [r["start"] for r in log if r["start"] > cut + 0.05]
        in_cooldown = [t for t in after if t < cut + 4.0]
        worst = max_in_window(in_cooldown, 2.0)
        print("after a 429: at most %d starts in any 2 s window during the cool-down "
              "(limit 20 halved to 10)" % worst)
        self.assertLessEqual(worst, 10)


class TransportTests(Base):
    def login(self, s):
        res = self.h.run(s, '{"step":"login"}')
        self.assertEqual(res[0]["status"], "OK", res)

    def test_retries_on_503_429_and_reset(self):
        s = self.sim.settings("password")
        self.login(s)
        self.sim.faults([
            {"method": "GET", "path": "/Customer$", "status": 503, "times": 1},
            {"method": "GET", "path": "/StockItem$", "status": 429, "retry_after": 1,
             "times": 1},
            # Two resets: libcurl itself repeats a GET once on a fresh
            # connection when a reused one dies; the second reset is ours.
            {"method": "GET", "path": "/Warehouse$", "reset": True, "times": 2}])
        first = self.last_id()
        res = self.h.run(s, '{"step":"probe","entity":"Customer"}',
                         '{"step":"probe","entity":"StockItem"}',
                         '{"step":"probe","entity":"Warehouse"}')
        for r in res:
            self.assertEqual(r["status"], "OK", r)
            self.assertEqual(r["answer"]["counters"]["retries"], 1, r)
        log = self.h.last_log
        self.assertRegex(log, r"GET Customer \(probe 1\): sending again in \d+ ms \(attempt 2 "
                              r"of 5\): GET Customer \(probe 1\): Acumatica answered 503")
        self.assertRegex(log, r"GET StockItem \(probe 1\): sending again in 1\d\d\d ms")
        self.assertRegex(log, r"GET Warehouse \(probe 1\): sending again in \d+ ms .*the "
                              r"connection failed")
        reqs = [r for r in self.sim.requests() if r["id"] > first]
        stock = [r for r in reqs if r["path"].endswith("/StockItem")]
        self.assertEqual([r["status"] for r in stock], [429, 200])
        # Retry-After: 1 was honoured.
        self.assertGreaterEqual(stock[1]["start"] - stock[0]["end"], 0.95)
        ware = [r for r in reqs if r["path"].endswith("/Warehouse")]
        self.assertEqual([r["status"] for r in ware], [None, None, 200])

    def test_retries_give_up(self):
        s = self.sim.settings("password")
        self.login(s)
        self.sim.faults([{"method": "GET", "path": "/SalesOrder$", "status": 503}])
        res = self.h.run(s, '{"step":"probe","entity":"SalesOrder"}')
        self.assertEqual(res[0]["status"], "RETRY")
        self.assertEqual(res[0]["http_status"], 503)
        self.assertIn("Acumatica answered 503", res[0]["error"])
        tries = [r for r in self.sim.requests() if r["path"].endswith("/SalesOrder")]
        self.assertEqual(len(tries), 5)

    def test_create_like_request_not_repeated_blindly(self):
        # A token request spends a credential, like a create: when the
        # connection dies after it was sent, nobody sends it again blindly -
        # not the transport, and not libcurl on a reused connection.
        s = self.sim.settings("password")
        fault = json.dumps([{"method": "POST", "path": "/identity/connect/token$",
                             "reset": True, "times": 1}])
        res = self.h.run(s, '{"step":"login"}', '{"step":"probe","requests":2}',
                         "@post", self.sim.root + "/_sim/faults", fault,
                         '{"step":"login"}', '{"step":"login"}')
        self.assertEqual(self.step(res, 1)["status"], "OK", res)
        self.assertEqual(self.step(res, 2)["status"], "OK", res)
        failed = self.step(res, 4)
        self.assertEqual(failed["status"], "RETRY", res)
        self.assertIn("connection failed", failed["error"])
        self.assertEqual(self.step(res, 5)["status"], "OK")
        self.assertEqual([t["status"] for t in self.token_requests()], [200, None, 200])
        self.h.export(s)

    def test_should_stop_cancels(self):
        s = self.sim.settings("password")
        self.login(s)
        self.sim.faults([{"method": "GET", "path": "/Customer$", "delay_ms": 5000}])
        t0 = time.time()
        res = self.h.run(s, "@stop-after:400", '{"step":"probe","requests":3}')
        elapsed = time.time() - t0
        self.assertEqual(res[0]["status"], "CANCELLED", res)
        self.assertLess(elapsed, 3.0)

    def test_unknown_endpoint_version(self):
        self.sim.set(versions=["22.200.001", "23.200.001"])
        s = self.sim.settings("password", endpoint_version="20.200.001")
        cfg = write_config(self.out, s, "v20.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin", PLUGIN,
                                  "--config", cfg)
        self.assertEqual(rc, 3, stdout + stderr)
        self.assertIn("FAIL endpoint_version: the site does not serve the endpoint "
                      "Default/20.200.001 - it serves Default 22.200.001, 23.200.001", stdout)
        res = self.h.run(s, '{"step":"probe","entity":"Customer"}')
        self.assertEqual(res[0]["status"], "INVALID", res)
        self.assertIn("Default/20.200.001", res[0]["error"])
        self.assertIn("endpoint_version", res[0]["error"])


class TlsAndUrlTests(Base):
    sim_args = ("--tls",)

    def test_tls_with_ca_file(self):
        s = self.sim.settings("password", ca_file=self.sim.ca_file)
        cfg = write_config(self.out, s, "tls.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin", PLUGIN,
                                  "--config", cfg)
        self.assertEqual(rc, 0, stdout + stderr)
        self.assertIn("ok   tls_valid: the site's TLS certificate is valid (checked against "
                      "ca_file)", stdout)
        self.h.export(s, subscription="tls")

    def test_tls_without_ca_file_fails_clearly(self):
        s = self.sim.settings("password")
        cfg = write_config(self.out, s, "notls.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "check", "--plugin", PLUGIN,
                                  "--config", cfg)
        self.assertEqual(rc, 3, stdout + stderr)
        self.assertIn("ok   url_reachable", stdout)
        self.assertIn("FAIL tls_valid: GET /entity: the TLS certificate of the Acumatica site "
                      "could not be verified", stdout)
        self.assertIn("set ca_file (CA File)", stdout)

    def test_http_to_non_loopback_refused(self):
        s = self.sim.settings("cookie", api_url="http://erp.example.com/AcumaticaERP",
                              allow_http_loopback=True)
        cfg = write_config(self.out, s, "http.json")
        for cmd in ("validate", "check"):
            rc, stdout, stderr = host(self.out, "--state", self.state, cmd, "--plugin",
                                      PLUGIN, "--config", cfg)
            self.assertEqual(rc, 3, stdout + stderr)
            self.assertIn("api_url (API URL): uses plain http to erp.example.com; only https "
                          "is allowed", stdout + stderr)

    def test_http_loopback_needs_opt_in(self):
        s = self.sim.settings("cookie", api_url="http://127.0.0.1:9/AcumaticaERP")
        s.pop("allow_http_loopback", None)
        cfg = write_config(self.out, s, "loop.json")
        rc, stdout, stderr = host(self.out, "--state", self.state, "validate", "--plugin",
                                  PLUGIN, "--config", cfg)
        self.assertEqual(rc, 3, stdout + stderr)
        self.assertIn("set allow_http_loopback to true", stdout + stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1], sys.modules[__name__])
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main(verbosity=2)
