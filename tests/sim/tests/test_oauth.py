"""OAuth 2.0 at <site>/identity/: discovery, authorize + consent, the three
grants, PKCE, rotation, refresh modes, errors, expiry."""
import unittest
import urllib.parse

from simtest import SimCase, pkce_pair

DAY = 86400


class DiscoveryTest(SimCase):
    def test_discovery_document(self):
        c = self.client()
        r = c.request("GET", self.site + "/identity/.well-known/openid-configuration")
        self.assertEqual(r.status, 200)
        doc = r.json()
        ident = self.base + "/identity"
        self.assertEqual(doc["issuer"], ident)
        self.assertEqual(doc["authorization_endpoint"], ident + "/connect/authorize")
        self.assertEqual(doc["token_endpoint"], ident + "/connect/token")
        self.assertEqual(doc["code_challenge_methods_supported"], ["S256"])
        self.assertIn("api:concurrent_access", doc["scopes_supported"])
        self.assertEqual(doc["response_types_supported"], ["code"])


class AuthorizationCodeTest(SimCase):
    def test_consent_approve_exchange_and_use(self):
        q, verifier = self.code_flow(state="xyz-1")
        self.assertEqual(q["state"], "xyz-1")
        self.assertEqual(q["scope"], "api offline_access")
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri, "code_verifier": verifier})
        self.assertEqual(r.status, 200, r.text())
        tok = r.json()
        self.assertEqual(tok["token_type"], "Bearer")
        self.assertEqual(tok["expires_in"], 3600)
        self.assertEqual(tok["scope"], "api offline_access")
        self.assertTrue("refresh_token" in tok, "no refresh_token")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        d = self.data(self.client(), tok["access_token"])
        self.assertEqual(d.status, 200, d.text())
        self.assertEqual(d.json()["session_kind"], "bearer")

    def test_state_is_echoed_exactly(self):
        odd = "a b&c=d/é+%20?#"
        q, _ = self.code_flow(state=odd)
        self.assertEqual(q["state"], odd)

    def test_without_pkce(self):
        q, _ = self.code_flow(pkce=False)
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri})
        self.assertEqual(r.status, 200, r.text())
        # A verifier for a code that had no challenge is refused.
        q, _ = self.code_flow(pkce=False)
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri, "code_verifier": "a" * 43})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))

    def test_pkce_wrong_or_missing_verifier(self):
        q, verifier = self.code_flow()
        other, _ = pkce_pair()
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri, "code_verifier": other})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"], "invalid_grant")
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri})
        self.assertEqual(r.json()["error"], "invalid_grant")
        # The failed attempts did not consume the code.
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri, "code_verifier": verifier})
        self.assertEqual(r.status, 200, r.text())

    def _authorize_error(self, **changes):
        c = self.client()
        _, challenge = pkce_pair()
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": self.redirect_uri, "scope": "api", "state": "s9",
                  "code_challenge": challenge, "code_challenge_method": "S256"}
        params.update(changes)
        params = {k: v for k, v in params.items() if v is not None}
        r = self.authorize(c, params)
        self.assertEqual(r.status, 302, r.text())
        loc = r.header("Location")
        self.assertTrue(loc.startswith(self.redirect_uri + "?"))
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        self.assertEqual(q["state"], "s9")
        self.assertNotIn("code", q)
        return q["error"]

    def test_authorize_errors_redirect_with_state(self):
        self.assertEqual(self._authorize_error(code_challenge_method="plain"), "invalid_request")
        self.assertEqual(self._authorize_error(code_challenge_method=None), "invalid_request")
        self.assertEqual(self._authorize_error(code_challenge="short"), "invalid_request")
        self.assertEqual(self._authorize_error(response_type="token"), "unsupported_response_type")
        self.assertEqual(self._authorize_error(scope="api bogus"), "invalid_scope")
        self.assertEqual(self._authorize_error(scope="offline_access"), "invalid_scope")
        self.assertEqual(self._authorize_error(scope=""), "invalid_scope")

    def test_unknown_client_or_redirect_mismatch_is_not_redirected(self):
        c = self.client()
        base = {"response_type": "code", "client_id": self.client_id,
                "redirect_uri": self.redirect_uri, "scope": "api", "state": "s"}
        for change in ({"client_id": "00000000-0000-0000-0000-000000000000@Company"},
                       {"redirect_uri": self.redirect_uri + "/"},
                       {"redirect_uri": self.redirect_uri.upper()},
                       {"redirect_uri": self.redirect_uri + "?x=1"},
                       {"redirect_uri": None}):
            params = {k: v for k, v in dict(base, **change).items() if v is not None}
            r = self.authorize(c, params)
            self.assertEqual(r.status, 400, change)
            self.assertIsNone(r.header("Location"))

    def test_deny(self):
        c = self.client()
        page = self.authorize(c, {"response_type": "code", "client_id": self.client_id,
                                  "redirect_uri": self.redirect_uri, "scope": "api",
                                  "state": "d1"})
        r = self.approve(c, page, decision="deny")
        self.assertEqual(r.status, 302)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.header("Location")).query))
        self.assertEqual((q["error"], q["state"]), ("access_denied", "d1"))
        # The consent request is single-use.
        r = self.approve(c, page)
        self.assertEqual(r.status, 400)

    def test_auto_approve(self):
        self.configure(auto_approve=True)
        c = self.client()
        r = self.authorize(c, {"response_type": "code", "client_id": self.client_id,
                               "redirect_uri": self.redirect_uri, "scope": "api", "state": "a"})
        self.assertEqual(r.status, 302)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.header("Location")).query))
        self.assertEqual(q["state"], "a")
        self.assertTrue(q["code"])

    def test_code_reuse_is_refused_and_revokes(self):
        q, verifier = self.code_flow()
        form = {"grant_type": "authorization_code", "code": q["code"],
                "redirect_uri": self.redirect_uri, "code_verifier": verifier}
        first = self.token(form)
        self.assertEqual(first.status, 200)
        again = self.token(form)
        self.assertEqual((again.status, again.json()["error"]), (400, "invalid_grant"))
        d = self.data(self.client(), first.json()["access_token"])
        self.assertEqual(d.status, 401)
        r = self.token({"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
        self.assertEqual(r.json()["error"], "invalid_grant")

    def test_code_redirect_mismatch_and_expiry(self):
        q, verifier = self.code_flow()
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri + "x", "code_verifier": verifier})
        self.assertEqual(r.json()["error"], "invalid_grant")
        self.control("POST", "clock", {"advance_seconds": 301})
        r = self.token({"grant_type": "authorization_code", "code": q["code"],
                        "redirect_uri": self.redirect_uri, "code_verifier": verifier})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))

    def test_unknown_code(self):
        r = self.token({"grant_type": "authorization_code", "code": "nope",
                        "redirect_uri": self.redirect_uri})
        self.assertEqual(r.json()["error"], "invalid_grant")


class PasswordGrantAndErrorsTest(SimCase):
    def test_password_grant(self):
        tok = self.password_grant("api")
        self.assertEqual(tok["scope"], "api")
        self.assertFalse("refresh_token" in tok, "unexpected refresh_token")
        self.assertEqual(self.data(self.client(), tok["access_token"]).status, 200)

    def test_http_basic_client_auth(self):
        r = self.token({"grant_type": "password", "username": self.username,
                        "password": self.password, "scope": "api"}, basic=True)
        self.assertEqual(r.status, 200, r.text())

    def test_errors(self):
        cases = [
            ({"grant_type": "password", "username": self.username, "password": "wrong",
              "scope": "api"}, 400, "invalid_grant"),
            ({"grant_type": "password", "username": self.username, "password": self.password,
              "scope": "api", "client_secret": "wrong"}, 401, "invalid_client"),
            ({"grant_type": "password", "username": self.username, "password": self.password,
              "scope": "api", "client_id": "X@Company"}, 401, "invalid_client"),
            ({"grant_type": "client_credentials", "scope": "api"}, 400, "unsupported_grant_type"),
            ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, 400,
             "unsupported_grant_type"),
            ({"username": "x"}, 400, "invalid_request"),
            ({"grant_type": "password", "username": self.username, "password": self.password,
              "scope": "api superpowers"}, 400, "invalid_scope"),
            ({"grant_type": "refresh_token", "refresh_token": "forged"}, 400, "invalid_grant"),
            ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        ]
        for form, status, error in cases:
            r = self.token(form)
            self.assertEqual(r.status, status, (form, r.text()))
            body = r.json()
            self.assertEqual(body["error"], error, form)
            self.assertNotIn("access_token", body)
        # No client secret at all.
        c = self.client()
        r = c.request("POST", self.site + "/identity/connect/token",
                      form={"grant_type": "password", "client_id": self.client_id,
                            "username": self.username, "password": self.password})
        self.assertEqual((r.status, r.json()["error"]), (401, "invalid_client"))
        # Wrong content type.
        r = c.request("POST", self.site + "/identity/connect/token", json_body={"grant_type": "password"})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_request"))

    def test_api_scope_required_for_data(self):
        tok = self.password_grant("openid email")
        d = self.data(self.client(), tok["access_token"])
        self.assertEqual(d.status, 401)
        self.assertEqual(d.json(), {"message": "You are not logged in."})
        c = self.client()
        u = c.request("GET", self.site + "/identity/connect/userinfo",
                      headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(u.status, 200)
        self.assertEqual(u.json()["name"], self.username)
        tok = self.password_grant("api")
        u = c.request("GET", self.site + "/identity/connect/userinfo",
                      headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(u.status, 403)


class ExpiryTest(SimCase):
    def test_access_token_expires(self):
        self.configure(access_token_lifetime=60)
        tok = self.password_grant("api")
        self.assertEqual(tok["expires_in"], 60)
        c = self.client()
        self.assertEqual(self.data(c, tok["access_token"]).status, 200)
        self.control("POST", "clock", {"advance_seconds": 61})
        r = self.data(c, tok["access_token"])
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"message": "You are not logged in."})
        self.assertEqual(r.header("X-Handled-By"), "Acumatica-PX.Export/AuthenticationManagerModule")

    def test_unknown_token(self):
        r = self.data(self.client(), "not-a-token")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"message": "You are not logged in."})

    def test_expire_control(self):
        tok = self.password_grant("api offline_access")
        c = self.client()
        self.assertEqual(self.data(c, tok["access_token"]).status, 200)
        self.assertEqual(self.control("POST", "expire", {"tokens": True}).status, 200)
        self.assertEqual(self.data(c, tok["access_token"]).status, 401)
        # The refresh token still works until refresh tokens are expired too.
        r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual(r.status, 200)
        self.control("POST", "expire", {"refresh_tokens": True})
        r = self.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]})
        self.assertEqual(r.json()["error"], "invalid_grant")


class RefreshTest(SimCase):
    def refresh(self, rt, **extra):
        form = {"grant_type": "refresh_token", "refresh_token": rt}
        form.update(extra)
        return self.token(form)

    def test_rotation_is_strict(self):
        tok = self.password_grant()
        r1 = self.refresh(tok["refresh_token"])
        self.assertEqual(r1.status, 200, r1.text())
        new = r1.json()
        self.assertNotEqual(new["refresh_token"], tok["refresh_token"])
        self.assertNotEqual(new["access_token"], tok["access_token"])
        self.assertEqual(new["scope"], "api offline_access")
        old = self.refresh(tok["refresh_token"])
        self.assertEqual((old.status, old.json()["error"]), (400, "invalid_grant"))
        # Default: reuse does not revoke the chain; the newest token still works.
        self.assertEqual(self.refresh(new["refresh_token"]).status, 200)

    def test_reuse_can_revoke_the_chain(self):
        self.configure(refresh_reuse_revokes_chain=True)
        tok = self.password_grant()
        new = self.refresh(tok["refresh_token"]).json()
        self.assertEqual(self.refresh(tok["refresh_token"]).status, 400)
        self.assertEqual(self.refresh(new["refresh_token"]).json()["error"], "invalid_grant")
        self.assertEqual(self.data(self.client(), new["access_token"]).status, 401)

    def test_scope_on_refresh(self):
        tok = self.password_grant()
        r = self.refresh(tok["refresh_token"], scope="api offline_access openid")
        self.assertEqual(r.json()["error"], "invalid_scope")
        r = self.refresh(tok["refresh_token"], scope="api")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["scope"], "api")
        self.assertTrue("refresh_token" in r.json(), "no refresh_token")

    def test_absolute_mode(self):
        self.configure(refresh_mode="absolute", refresh_absolute_days=30)
        rt = self.password_grant()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 20 * DAY})
        r = self.refresh(rt)
        self.assertEqual(r.status, 200)
        rt = r.json()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 9 * DAY})      # day 29
        r = self.refresh(rt)
        self.assertEqual(r.status, 200)
        rt = r.json()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 2 * DAY})      # day 31
        r = self.refresh(rt)
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))

    def test_sliding_mode_capped_by_absolute(self):
        self.configure(refresh_mode="sliding", refresh_sliding_days=15, refresh_absolute_days=30)
        rt = self.password_grant()["refresh_token"]
        for _ in range(2):                                                # days 14, 28
            self.control("POST", "clock", {"advance_seconds": 14 * DAY})
            r = self.refresh(rt)
            self.assertEqual(r.status, 200, r.text())
            rt = r.json()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 3 * DAY})       # day 31 > 30
        self.assertEqual(self.refresh(rt).json()["error"], "invalid_grant")

    def test_sliding_mode_default_absolute_lifetime_is_90_days(self):
        # Acumatica's Absolute Lifetime default is 90 days in sliding mode
        # (30 in absolute mode): used every 14 days, the chain lives to day 90.
        self.configure(refresh_mode="sliding", refresh_sliding_days=15,
                       refresh_absolute_days=None)
        rt = self.password_grant()["refresh_token"]
        for _ in range(6):                                                # days 14 .. 84
            self.control("POST", "clock", {"advance_seconds": 14 * DAY})
            r = self.refresh(rt)
            self.assertEqual(r.status, 200, r.text())
            rt = r.json()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 7 * DAY})       # day 91 > 90
        self.assertEqual(self.refresh(rt).json()["error"], "invalid_grant")

    def test_absolute_mode_default_is_30_days(self):
        self.configure(refresh_mode="absolute", refresh_absolute_days=None)
        rt = self.password_grant()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 29 * DAY})
        r = self.refresh(rt)
        self.assertEqual(r.status, 200, r.text())
        self.control("POST", "clock", {"advance_seconds": 2 * DAY})       # day 31
        self.assertEqual(self.refresh(r.json()["refresh_token"]).json()["error"],
                         "invalid_grant")

    def test_sliding_mode_lapses_without_use(self):
        self.configure(refresh_mode="sliding", refresh_sliding_days=15, refresh_absolute_days=90)
        rt = self.password_grant()["refresh_token"]
        self.control("POST", "clock", {"advance_seconds": 16 * DAY})
        self.assertEqual(self.refresh(rt).json()["error"], "invalid_grant")

    def test_sliding_infinite(self):
        self.configure(refresh_mode="sliding", refresh_sliding_days=15, refresh_absolute_days=30,
                       refresh_sliding_infinite=True)
        rt = self.password_grant()["refresh_token"]
        for _ in range(4):                                                # to day 56
            self.control("POST", "clock", {"advance_seconds": 14 * DAY})
            r = self.refresh(rt)
            self.assertEqual(r.status, 200, r.text())
            rt = r.json()["refresh_token"]

    def test_none_mode(self):
        self.configure(refresh_mode="none")
        r = self.token({"grant_type": "password", "username": self.username,
                        "password": self.password, "scope": "api offline_access"})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_scope"))
        tok = self.password_grant("api")
        self.assertFalse("refresh_token" in tok, "unexpected refresh_token")


if __name__ == "__main__":
    unittest.main()
