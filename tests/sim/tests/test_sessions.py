"""Cookie sign-in/sign-out, API-user seats, OAuth session reuse, idle timeout."""
import socket
import unittest

from simtest import SimCase

LOGIN_COOKIES = {".ASPXAUTH", "ASP.NET_SessionId", "CompanyID", "Locale", "UserBranch",
                 "requestid", "requeststat"}


def cookie_names(reply):
    return {v.split("=", 1)[0] for v in reply.all("Set-Cookie")}


class LoginTest(SimCase):
    def test_login_sets_the_recorded_cookies_and_opens_a_session(self):
        c, r = self.login(tenant="Company", branch="HEADOFFICE", locale="en-US")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertEqual(cookie_names(r), LOGIN_COOKIES)
        auth = [v for v in r.all("Set-Cookie") if v.startswith(".ASPXAUTH=")][0]
        self.assertTrue(auth.endswith("; path=/; HttpOnly; SameSite=None"),
                        "attributes: " + auth.split(";", 1)[1])   # no secure on http
        self.assertTrue(any(v.startswith("CompanyID=Company; expires=") for v in r.all("Set-Cookie")))
        d = self.data(c)
        self.assertEqual(d.status, 200)
        self.assertEqual(d.json()["session_kind"], "cookie")
        self.assertEqual(self.stats()["open_sessions"], 1)

    def test_form_body_and_company(self):
        c = self.client()
        r = c.request("POST", self.site + "/entity/auth/login",
                      form={"name": self.username, "password": self.password, "company": "company"})
        self.assertEqual(r.status, 204)
        self.assertEqual(self.data(c).status, 200)

    def test_bad_password(self):
        _, r = self.login(password="wrong")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
        body = r.json()
        self.assertEqual(set(body), {"message", "exceptionMessage", "exceptionType", "stackTrace"})
        self.assertEqual(body["message"], "An error has occurred.")
        self.assertEqual(body["exceptionMessage"], "Error: Invalid credentials. Please try again.")
        self.assertEqual(body["exceptionType"], "PX.Data.PXException")
        self.assertNotIn(".ASPXAUTH", cookie_names(r))
        _, r = self.login(name="nobody")
        self.assertEqual(r.json()["exceptionType"], "PX.Data.PXException")

    def test_tenant_errors(self):
        _, r = self.login(tenant="Other")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["exceptionType"], "PX.Data.PXUndefinedCompanyException")
        _, r = self.login(tenant="Company", company="Company")
        self.assertEqual(r.status, 400)
        self.assertIn("modelState", r.json())
        _, r = self.login(tenant="COMPANY")
        self.assertEqual(r.status, 204)

    def test_empty_body_and_method(self):
        c = self.client()
        r = c.request("POST", self.site + "/entity/auth/login", body=b"",
                      headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"message": "The request is invalid.",
                                    "modelState": {"": ["The request body should not be empty."]}})
        r = c.request("GET", self.site + "/entity/auth/login")
        self.assertEqual(r.status, 405)

    def test_post_without_content_length_is_411(self):
        with socket.create_connection(("127.0.0.1", self.sim.port)) as s:
            s.sendall(("POST %s/entity/auth/logout HTTP/1.1\r\nHost: x\r\n\r\n" % self.site).encode())
            data = s.recv(4096)
        self.assertTrue(data.startswith(b"HTTP/1.1 411 "), data[:40])

    def test_unauthenticated_data_request(self):
        r = self.data(self.client())
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"message": "You are not logged in."})
        self.assertEqual(r.header("X-Handled-By"), "Acumatica-PX.Export/AuthenticationManagerModule")
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
        # A forged cookie pair is no better.
        c = self.client()
        c.cookies = {".ASPXAUTH": "AA", "ASP.NET_SessionId": "bb"}
        self.assertEqual(self.data(c).status, 401)

    def test_endpoint_list_is_public(self):
        r = self.client().request("GET", self.site + "/entity")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["session_kind"], "anonymous")

    def test_logout(self):
        c, _ = self.login()
        old = dict(c.cookies)
        r = c.request("POST", self.site + "/entity/auth/logout", body=b"")
        self.assertEqual(r.status, 204)
        expired = [v for v in r.all("Set-Cookie") if v.startswith(".ASPXAUTH=;")]
        self.assertTrue(expired and "expires=Tue, 12-Oct-1999" in expired[0])
        self.assertTrue(any(v.startswith("ASP.NET_SessionId=;") for v in r.all("Set-Cookie")))
        self.assertEqual(self.stats()["open_sessions"], 0)
        c2 = self.client()
        c2.cookies = old
        self.assertEqual(self.data(c2).status, 401)
        # Signing out without a session is still 204.
        self.assertEqual(self.client().request("POST", self.site + "/entity/auth/logout",
                                               body=b"").status, 204)

    def test_relogin_replaces_the_session(self):
        c, _ = self.login()
        self.login(client=c)
        self.assertEqual(self.stats()["open_sessions"], 1)


class SeatsTest(SimCase):
    overrides = {"api_user_seats": 2}

    def assertLoginLimit(self, r):
        self.assertEqual(r.status, 429)
        body = r.json()
        self.assertIn("API Login Limit", body["exceptionMessage"])
        self.assertEqual(set(body), {"message", "exceptionMessage", "exceptionType", "stackTrace"})

    def test_cookie_seats(self):
        a, r = self.login()
        self.assertEqual(r.status, 204)
        self.assertEqual(self.login()[1].status, 204)
        _, r = self.login()
        self.assertLoginLimit(r)
        self.assertNotIn(".ASPXAUTH", cookie_names(r))
        a.request("POST", self.site + "/entity/auth/logout", body=b"")
        self.assertEqual(self.login()[1].status, 204)
        self.assertGreaterEqual(self.stats()["api_login_limit"], 1)

    def test_token_endpoint_hits_the_limit(self):
        self.login()
        self.login()
        r = self.token({"grant_type": "password", "username": self.username,
                        "password": self.password, "scope": "api offline_access"})
        self.assertLoginLimit(r)

    def test_api_scope_reuses_one_session_per_grant(self):
        tok = self.password_grant("api offline_access")
        self.assertEqual(self.stats()["open_sessions"], 1)
        ids = set()
        for _ in range(3):
            r = self.data(self.client(), tok["access_token"])
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.header("Set-Cookie"))
            ids.add(r.json()["session_id"])
            tok = self.token({"grant_type": "refresh_token",
                              "refresh_token": tok["refresh_token"]}).json()
        self.assertEqual(len(ids), 1)
        self.assertEqual(self.stats()["open_sessions"], 1)
        # A second grant takes the second seat; a third has none.
        self.password_grant("api")
        r = self.token({"grant_type": "password", "username": self.username,
                        "password": self.password, "scope": "api"})
        self.assertLoginLimit(r)
        # Signing out with the bearer token frees the grant's seat.
        c = self.client()
        r = c.request("POST", self.site + "/entity/auth/logout", body=b"",
                      headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(r.status, 204)
        self.assertEqual(self.stats()["open_sessions"], 1)

    def test_concurrent_access_opens_a_session_per_cookieless_request(self):
        self.configure(api_user_seats=3)
        tok = self.password_grant("api api:concurrent_access")
        self.assertEqual(self.stats()["open_sessions"], 0)
        keeper = self.client()
        r = self.data(keeper, tok["access_token"])
        self.assertEqual(r.status, 200)
        self.assertIn(".ASPXAUTH", cookie_names(r))
        first = r.json()["session_id"]
        r = self.data(keeper, tok["access_token"])            # sends the cookies back
        self.assertEqual(r.json()["session_id"], first)
        self.assertIsNone(r.header("Set-Cookie"))
        r = self.data(self.client(), tok["access_token"])     # a cookie-less request
        self.assertNotEqual(r.json()["session_id"], first)
        self.data(self.client(), tok["access_token"])
        self.assertEqual(self.stats()["open_sessions"], 3)
        self.assertLoginLimit(self.data(self.client(), tok["access_token"]))


class IdleTimeoutTest(SimCase):
    def test_idle_session_closes(self):
        c, _ = self.login()
        self.control("POST", "clock", {"advance_seconds": 500})
        self.assertEqual(self.data(c).status, 200)           # activity keeps it alive
        self.control("POST", "clock", {"advance_seconds": 500})
        self.assertEqual(self.data(c).status, 200)
        self.control("POST", "clock", {"advance_seconds": 601})
        r = self.data(c)
        self.assertEqual(r.status, 401)
        self.assertEqual(self.stats()["open_sessions"], 0)

    def test_idle_seat_is_freed(self):
        self.configure(api_user_seats=1, session_idle_timeout=30)
        self.login()
        self.assertEqual(self.login()[1].status, 429)
        self.control("POST", "clock", {"advance_seconds": 31})
        self.assertEqual(self.login()[1].status, 204)

    def test_expire_sessions_control(self):
        c, _ = self.login()
        r = self.control("POST", "expire", {"sessions": True})
        self.assertEqual(r.json()["sessions"], 1)
        self.assertEqual(self.data(c).status, 401)

    def test_api_only_session_ends_with_its_token(self):
        self.configure(access_token_lifetime=60)
        self.password_grant("api")
        offline = self.password_grant("api offline_access")
        self.assertEqual(self.stats()["open_sessions"], 2)
        self.control("POST", "clock", {"advance_seconds": 61})
        self.assertEqual(self.stats()["open_sessions"], 1)       # the offline grant keeps its seat
        r = self.token({"grant_type": "refresh_token", "refresh_token": offline["refresh_token"]})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.stats()["open_sessions"], 1)

    def test_oauth_session_reopens_after_idle(self):
        tok = self.password_grant("api")
        c = self.client()
        first = self.data(c, tok["access_token"]).json()["session_id"]
        self.control("POST", "clock", {"advance_seconds": 601})
        self.assertEqual(self.stats()["open_sessions"], 0)
        r = self.data(c, tok["access_token"])
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.json()["session_id"], first)


if __name__ == "__main__":
    unittest.main()
