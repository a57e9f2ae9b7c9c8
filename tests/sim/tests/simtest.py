"""Helpers shared by the simulator's tests: an in-process simulator, a small
HTTP client with a cookie jar, and a fake EntityService for protocol tests.

Tests import this module first; it puts tests/sim on sys.path.
"""
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_DIR = os.path.dirname(HERE)
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

from http_types import Response, json_response   # noqa: E402
from server import Simulator                      # noqa: E402


class FakeEntityService:
    """Answers every data request with 200 and what it was given.

    A query `sleep=<seconds>` makes it hold the request that long (to build
    concurrency); PUT appends the body to `writes` (to prove a write was
    applied under commit_then_drop)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.writes = []
        self.seeded = []
        self.active = 0
        self.max_active = 0

    def handle(self, method, subpath, query, body, headers, session):
        with self.lock:
            self.calls.append((method, subpath, dict(query), session))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if "sleep" in query:
                time.sleep(float(query["sleep"]))
        finally:
            with self.lock:
                self.active -= 1
        if method == "PUT":
            with self.lock:
                self.writes.append(body)
        payload = {"method": method, "subpath": subpath, "query": query,
                   "session_kind": session.get("kind"), "user": session.get("user"),
                   "session_id": session.get("session_id"),
                   "pad": "x" * int(query.get("pad", "0"))}
        return json_response(200, json.dumps(payload).encode())

    def reset(self):
        with self.lock:
            self.calls.clear()
            self.writes.clear()
            self.max_active = 0

    def seed(self, params):
        self.seeded.append(params)
        return {"seed": params.get("seed"), "customers": params.get("customers", 0)}

    def records(self, entity, version=None):
        if entity != "Customer":
            raise KeyError(entity)
        return [{"CustomerID": {"value": "C1"}}]


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers            # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8", "replace")


class Client:
    """http.client with one keep-alive connection and a cookie jar."""

    def __init__(self, root_url, cafile=None):
        parts = urllib.parse.urlsplit(root_url)
        self.host, self.port = parts.hostname, parts.port
        self.tls = parts.scheme == "https"
        self.cafile = cafile
        self.conn = None
        self.cookies = {}

    def _connect(self):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, context=ctx, timeout=30)
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, json_body=None, form=None,
                cookies=True):
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if cookies and self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except Exception:
            self.close()
            raise
        reply = Reply(resp.status, resp.getheaders(), data)
        if resp.will_close:
            self.close()
        for value in reply.all("Set-Cookie"):
            name, _, rest = value.partition("=")
            val = rest.split(";")[0]
            if "expires=" in value.lower() and ("1999" in value or val == ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        return reply


def pkce_pair():
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(48)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class SimCase(unittest.TestCase):
    """A simulator per test class (fake entities unless use_fake is False),
    reset before each test."""
    overrides = None
    use_fake = True

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeEntityService() if cls.use_fake else None
        cls.sim = Simulator(cls.overrides, entity_service=cls.fake)
        cls.base = cls.sim.start()
        cls.root = cls.sim.root_url
        cls.site = cls.sim.config.get("site_path")
        cfg = cls.sim.config
        cls.username, cls.password = cfg.get("username"), cfg.get("password")
        cls.client_id, cls.client_secret = cfg.get("client_id"), cfg.get("client_secret")
        cls.redirect_uri = cfg.get("redirect_uris")[0]

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.clients = []
        c = self.client()
        r = c.request("POST", "/_sim/reset", body=b"")
        self.assertEqual(r.status, 200)

    def tearDown(self):
        for c in self.clients:
            c.close()

    def client(self):
        c = Client(self.root)
        self.clients.append(c)
        return c

    def control(self, method, name, obj=None):
        c = self.client()
        body = json.dumps(obj).encode() if obj is not None else b""
        r = c.request(method, "/_sim/" + name, body=body,
                      headers={"Content-Type": "application/json"})
        c.close()
        return r

    def configure(self, **changes):
        r = self.control("POST", "config", changes)
        self.assertEqual(r.status, 200, r.text())
        return r.json()

    def stats(self):
        return self.control("GET", "stats").json()

    # ---- sign-in helpers ----------------------------------------------------------
    def login(self, client=None, **extra):
        c = client or self.client()
        body = {"name": self.username, "password": self.password}
        body.update(extra)
        r = c.request("POST", self.site + "/entity/auth/login", json_body=body)
        return c, r

    def token(self, form, client=None, basic=False):
        c = client or self.client()
        form = dict(form)
        headers = {}
        if basic:
            cred = "%s:%s" % (urllib.parse.quote_plus(self.client_id),
                              urllib.parse.quote_plus(self.client_secret))
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        else:
            form.setdefault("client_id", self.client_id)
            form.setdefault("client_secret", self.client_secret)
        return c.request("POST", self.site + "/identity/connect/token", form=form, headers=headers)

    def password_grant(self, scope="api offline_access"):
        r = self.token({"grant_type": "password", "username": self.username,
                        "password": self.password, "scope": scope})
        self.assertEqual(r.status, 200, r.text())
        return r.json()

    def data(self, client, token=None, path="/entity/Default/22.200.001/SalesOrder", headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return client.request("GET", self.site + path, headers=h)

    def authorize(self, client, params):
        q = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return client.request("GET", self.site + "/identity/connect/authorize?" + q)

    def approve(self, client, page, decision="approve"):
        """Submit the consent form found in an authorize page."""
        html = page.text()
        action = re.search(r'<form[^>]*action="([^"]+)"', html).group(1)
        request_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
        return client.request("POST", action.replace("&amp;", "&"),
                              form={"request_id": request_id, "decision": decision})

    def code_flow(self, scope="api offline_access", state="st-1", pkce=True):
        """Authorize + approve; returns (redirect query dict, verifier)."""
        c = self.client()
        verifier, challenge = pkce_pair() if pkce else (None, None)
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": self.redirect_uri, "scope": scope, "state": state}
        if pkce:
            params.update(code_challenge=challenge, code_challenge_method="S256")
        page = self.authorize(c, params)
        self.assertEqual(page.status, 200, page.text())
        r = self.approve(c, page)
        self.assertEqual(r.status, 302)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(self.redirect_uri + "?"), loc)
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query)), verifier
