"""OAuth 2.0 at <site>/identity/: discovery, authorize (with a consent page),
token (authorization_code with PKCE, password, refresh_token with rotation),
userinfo.

Model: a *grant* is one authorization (one consent or one password sign-in).
It owns the refresh-token chain and, for scope `api` without
`api:concurrent_access`, the single server session reused across refreshes.
Access and refresh tokens and codes are opaque random strings from
`secrets`; only their records live here. Every choice the notes leave open is
listed in README.md ("OAuth choices").
"""
import base64
import hashlib
import hmac
import html
import re
import secrets
import threading
import urllib.parse
import uuid

import secrets_log
import sessions as sessions_mod
import wire

SUPPORTED_SCOPES = ("openid", "profile", "email", "phone", "api", "offline_access",
                    "api:concurrent_access")
_VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
DAY = 86400.0
# The Absolute Lifetime (Days) default of each refresh mode.
ABSOLUTE_DEFAULT_DAYS = {"absolute": 30, "sliding": 90}


class OAuthError(Exception):
    def __init__(self, error, description=None, status=400, headers=None):
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or []

    def reply(self):
        return wire.oauth_error(self.status, self.error, self.description, self.headers)


class Grant:
    def __init__(self, client_id, user, tenant, scopes, now, mode):
        self.id = str(uuid.uuid4())
        self.client_id = client_id
        self.user = user
        self.tenant = tenant
        self.scopes = scopes            # tuple, request order
        self.created = now              # the initial authentication
        self.mode = mode                # refresh mode when the grant was made
        self.revoked = False


class AccessToken:
    def __init__(self, grant, scopes, expires):
        self.grant = grant
        self.scopes = scopes
        self.expires = expires

    def has(self, scope):
        return scope in self.scopes


class RefreshToken:
    def __init__(self, grant, expires):
        self.grant = grant
        self.expires = expires          # None = never (sliding + infinite)
        self.used = False


class AuthCode:
    def __init__(self, client_id, redirect_uri, scopes, challenge, user, expires):
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self.challenge = challenge
        self.user = user
        self.expires = expires
        self.used = False
        self.grant = None               # the grant it produced


def parse_scope(text):
    """Space-separated scope string -> tuple in order, duplicates removed."""
    out = []
    for item in (text or "").split():
        if item not in out:
            out.append(item)
    return tuple(out)


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthService:
    def __init__(self, config, clock, session_manager, stats):
        self._config = config
        self._clock = clock
        self._sessions = session_manager
        self._stats = stats
        self._lock = threading.RLock()
        self.reset()

    def reset(self):
        with self._lock:
            self._access = {}       # token -> AccessToken
            self._refresh = {}      # token -> RefreshToken
            self._codes = {}        # code -> AuthCode
            self._pending = {}      # consent request id -> (params, expires)
            self._grants = {}       # grant id -> Grant

    # ---- entry point -----------------------------------------------------------------
    def handle(self, req, tail):
        """Serve <site>/identity<tail>."""
        if tail == "/.well-known/openid-configuration":
            return self._discovery(req)
        if tail == "/.well-known/openid-configuration/jwks":
            return wire.json_reply(200, {"keys": []})
        if tail == "/connect/authorize":
            if req.method == "GET":
                return self._authorize(req, req.query)
            if req.method == "POST":
                return self._consent(req)
            return wire.iis_error(405, "Method Not Allowed", "HTTP Error 405.")
        if tail == "/connect/token":
            try:
                return self._token(req)
            except OAuthError as exc:
                self._stats.inc_map("token_errors", exc.error)
                return exc.reply()
        if tail == "/connect/userinfo":
            return self._userinfo(req)
        return wire.iis_error(404, "Not Found", "HTTP Error 404. The requested resource is not found.")

    # ---- discovery -------------------------------------------------------------------
    def _discovery(self, req):
        base = req.origin() + self._config.get("site_path").rstrip("/") + "/identity"
        return wire.json_reply(200, {
            "issuer": base,
            "jwks_uri": base + "/.well-known/openid-configuration/jwks",
            "authorization_endpoint": base + "/connect/authorize",
            "token_endpoint": base + "/connect/token",
            "userinfo_endpoint": base + "/connect/userinfo",
            "scopes_supported": list(SUPPORTED_SCOPES),
            "claims_supported": ["sub", "name", "preferred_username", "email"],
            "grant_types_supported": ["authorization_code", "password", "refresh_token"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        })

    # ---- scopes ----------------------------------------------------------------------
    def _check_scopes(self, scopes):
        """Raise OAuthError(invalid_scope) unless the set is grantable now."""
        if not scopes:
            raise OAuthError("invalid_scope", "scope is required")
        unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", "unknown scope")
        if "offline_access" in scopes:
            if self._config.get("refresh_mode") == "none":
                raise OAuthError("invalid_scope", "offline_access is not allowed: the application "
                                 "issues no refresh tokens")
            if "api" not in scopes and "openid" not in scopes:
                raise OAuthError("invalid_scope", "offline_access needs api or openid")
        if "api:concurrent_access" in scopes and "api" not in scopes:
            raise OAuthError("invalid_scope", "api:concurrent_access needs api")

    # ---- authorize -------------------------------------------------------------------
    def _authorize(self, req, params):
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not client_id or client_id != self._config.get("client_id"):
            return self._error_page("unauthorized_client", "Unknown client_id.")
        if not redirect_uri or redirect_uri not in (self._config.get("redirect_uris") or []):
            return self._error_page("invalid_request", "redirect_uri is not registered for "
                                    "this application (exact match required).")
        state = params.get("state")
        try:
            if params.get("response_type") != "code":
                raise OAuthError("unsupported_response_type", "only response_type=code is supported")
            scopes = parse_scope(params.get("scope"))
            self._check_scopes(scopes)
            challenge = params.get("code_challenge")
            method = params.get("code_challenge_method")
            if challenge is None and method is not None:
                raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
            if challenge is not None:
                if method != "S256":
                    raise OAuthError("invalid_request", "code_challenge_method must be S256")
                if not _VERIFIER_RE.match(challenge):
                    raise OAuthError("invalid_request", "malformed code_challenge")
        except OAuthError as exc:
            self._stats.inc_map("authorize_errors", exc.error)
            return self._redirect(redirect_uri, [("error", exc.error),
                                                 ("error_description", exc.description)], state)
        request = {"client_id": client_id, "redirect_uri": redirect_uri, "scopes": scopes,
                   "state": state, "challenge": challenge}
        if self._config.get("auto_approve"):
            return self._approve(request)
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self._pending[request_id] = (request, self._clock.now() + 600)
        return self._consent_page(req.path, request, request_id)

    def _consent_page(self, action, request, request_id):
        scopes = "".join("<li>%s</li>" % html.escape(s) for s in request["scopes"])
        page = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Acumatica - Authorize application</title></head>
<body>
<h1>Authorize application</h1>
<p>The application <b>%s</b> requests access to tenant <b>%s</b> as <b>%s</b>:</p>
<ul id="scopes">%s</ul>
<form id="consent" method="post" action="%s">
<input type="hidden" name="request_id" value="%s">
<button type="submit" id="approve" name="decision" value="approve">Allow</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>
</body></html>
""" % (html.escape(request["client_id"]), html.escape(self._config.get("tenant")),
       html.escape(self._config.get("username")), scopes, html.escape(action, quote=True),
       html.escape(request_id, quote=True))
        return wire.text_reply(200, page, "text/html; charset=utf-8",
                               [("Cache-Control", "no-store")])

    def _consent(self, req):
        form = req.form()
        with self._lock:
            pending = self._pending.pop(form.get("request_id", ""), None)
        if pending is None or pending[1] < self._clock.now():
            return self._error_page("invalid_request", "Unknown or expired authorization request.")
        request = pending[0]
        if form.get("decision") != "approve":
            self._stats.inc_map("authorize_errors", "access_denied")
            return self._redirect(request["redirect_uri"],
                                  [("error", "access_denied"),
                                   ("error_description", "The user denied the request.")],
                                  request["state"])
        return self._approve(request)

    def _approve(self, request):
        code = secrets.token_urlsafe(32)
        secrets_log.record(code)
        record = AuthCode(request["client_id"], request["redirect_uri"], request["scopes"],
                          request["challenge"], self._config.get("username"),
                          self._clock.now() + float(self._config.get("auth_code_lifetime")))
        with self._lock:
            self._codes[code] = record
        self._stats.inc("codes_issued")
        return self._redirect(request["redirect_uri"],
                              [("code", code), ("scope", " ".join(request["scopes"]))],
                              request["state"])

    @staticmethod
    def _redirect(uri, pairs, state):
        pairs = [(k, v) for k, v in pairs if v is not None]
        if state is not None:
            pairs.append(("state", state))
        sep = "&" if "?" in uri else "?"
        location = uri + sep + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        return wire.empty_reply(302, [("Location", location), ("Cache-Control", "no-store")])

    @staticmethod
    def _error_page(error, text):
        page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Error</title></head>"
                "<body><h1>Sorry, there was an error</h1><p id=\"error\">%s</p><p>%s</p>"
                "</body></html>\n") % (html.escape(error), html.escape(text))
        return wire.text_reply(400, page, "text/html; charset=utf-8")

    # ---- token -----------------------------------------------------------------------
    def _client(self, req, form):
        """Authenticate the client (form fields or HTTP Basic); returns client_id."""
        basic = None
        auth = req.headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                user, _, pw = raw.partition(":")
                basic = (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(pw))
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "malformed Basic credentials", 401,
                                 [("WWW-Authenticate", 'Basic realm="identity"')])
        if "client_assertion" in form or "client_assertion_type" in form:
            raise OAuthError("invalid_client", "client assertions are not supported by the "
                             "simulator", 401)
        if basic is not None:
            if "client_secret" in form:
                raise OAuthError("invalid_request", "more than one client authentication method")
            if form.get("client_id") not in (None, basic[0]):
                raise OAuthError("invalid_client", "client_id mismatch", 401,
                                 [("WWW-Authenticate", 'Basic realm="identity"')])
            client_id, secret = basic
            challenge = [("WWW-Authenticate", 'Basic realm="identity"')]
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret")
            challenge = []
        ok_id = client_id == self._config.get("client_id")
        ok_secret = secret is not None and hmac.compare_digest(
            secret.encode("utf-8"), self._config.get("client_secret").encode("utf-8"))
        if not (ok_id and ok_secret):
            raise OAuthError("invalid_client", None, 401, challenge)
        return client_id

    def _token(self, req):
        if req.method != "POST":
            raise OAuthError("invalid_request", "the token endpoint accepts POST only", 405,
                             [("Allow", "POST")])
        if req.content_type() != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "Content-Type must be "
                             "application/x-www-form-urlencoded")
        form = req.form()
        client_id = self._client(req, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        with self._lock:
            if grant_type == "authorization_code":
                return self._grant_code(form, client_id)
            if grant_type == "password":
                return self._grant_password(form, client_id)
            if grant_type == "refresh_token":
                return self._grant_refresh(form, client_id)
        raise OAuthError("unsupported_grant_type")

    def _grant_code(self, form, client_id):
        # A verifier is the client's secret whether or not it is right.
        secrets_log.record(form.get("code_verifier"))
        code = form.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        if not form.get("redirect_uri"):
            raise OAuthError("invalid_request", "redirect_uri is required")
        record = self._codes.get(code)
        now = self._clock.now()
        if record is None:
            raise OAuthError("invalid_grant", "unknown authorization code")
        if record.used:
            if record.grant is not None and self._config.get("code_reuse_revokes_tokens"):
                self._revoke_grant(record.grant)
            raise OAuthError("invalid_grant", "authorization code already used")
        if record.expires < now:
            raise OAuthError("invalid_grant", "authorization code expired")
        if record.client_id != client_id:
            raise OAuthError("invalid_grant", "authorization code was issued to another client")
        if record.redirect_uri != form.get("redirect_uri"):
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier")
        if record.challenge is not None:
            if not verifier or not _VERIFIER_RE.match(verifier):
                raise OAuthError("invalid_grant", "code_verifier missing or malformed")
            if not hmac.compare_digest(s256(verifier), record.challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match code_challenge")
        elif verifier is not None:
            raise OAuthError("invalid_grant", "unexpected code_verifier")
        self._check_scopes(record.scopes)
        grant = Grant(client_id, record.user, self._config.get("tenant"), record.scopes, now,
                      self._config.get("refresh_mode"))
        reply = self._issue(grant, record.scopes, first=True)
        record.used = True
        record.grant = grant
        return reply

    def _grant_password(self, form, client_id):
        username = form.get("username")
        password = form.get("password")
        if not username or password is None:
            raise OAuthError("invalid_request", "username and password are required")
        scopes = parse_scope(form.get("scope", "api"))
        self._check_scopes(scopes)
        if not (username.lower() == self._config.get("username").lower()
                and hmac.compare_digest(password.encode("utf-8"),
                                        self._config.get("password").encode("utf-8"))):
            raise OAuthError("invalid_grant", "invalid_username_or_password")
        grant = Grant(client_id, self._config.get("username"), self._config.get("tenant"),
                      scopes, self._clock.now(), self._config.get("refresh_mode"))
        return self._issue(grant, scopes, first=True)

    def _grant_refresh(self, form, client_id):
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        record = self._refresh.get(token)
        now = self._clock.now()
        if record is None or record.grant.revoked:
            raise OAuthError("invalid_grant", "unknown or revoked refresh token")
        if record.used:
            if self._config.get("refresh_reuse_revokes_chain"):
                self._revoke_grant(record.grant)
            raise OAuthError("invalid_grant", "refresh token already used (rotation)")
        if record.expires is not None and record.expires <= now:
            raise OAuthError("invalid_grant", "refresh token expired")
        if record.grant.client_id != client_id:
            raise OAuthError("invalid_grant", "refresh token was issued to another client")
        scopes = record.grant.scopes
        if "scope" in form:
            wanted = parse_scope(form["scope"])
            if not wanted or any(s not in record.grant.scopes for s in wanted):
                raise OAuthError("invalid_scope", "scope exceeds the original grant")
            scopes = wanted
        reply = self._issue(record.grant, scopes, first=False, old_expiry=record.expires)
        record.used = True
        return reply

    def _refresh_expiry(self, grant, now, first, old_expiry):
        """Expiry of a new refresh token of `grant` (None = never), or False when
        the grant's mode issues none."""
        mode = grant.mode
        days = self._config.get("refresh_absolute_days")
        if days is None:
            # Acumatica's defaults differ by mode: Absolute Lifetime is 30 days
            # in absolute mode and 90 in sliding mode (API-NOTES 1.7).
            days = ABSOLUTE_DEFAULT_DAYS.get(mode, 30)
        absolute = grant.created + float(days) * DAY
        if mode == "none":
            return False
        if mode == "sliding":
            sliding = now + float(self._config.get("refresh_sliding_days")) * DAY
            if self._config.get("refresh_sliding_infinite"):
                return sliding
            return min(sliding, absolute)
        return absolute if first or old_expiry is None else min(old_expiry, absolute)

    def _issue(self, grant, scopes, first, old_expiry=None):
        """Tokens for `grant`; opens (or reuses) the grant's session first so
        that a full license answers API Login Limit before anything changes."""
        now = self._clock.now()
        lifetime = int(self._config.get("access_token_lifetime"))
        if "api" in scopes:
            try:
                if "api:concurrent_access" in scopes:
                    self._sessions.check_seat()
                else:
                    self._sessions.for_grant(grant.id, grant.user, grant.tenant,
                                             self._config.get("branch"),
                                             self.session_end(grant, now + lifetime))
            except sessions_mod.SeatLimitReached:
                raise _LoginLimit()
        access = secrets.token_urlsafe(32)
        secrets_log.record(access)
        self._grants[grant.id] = grant
        self._access[access] = AccessToken(grant, scopes, now + lifetime)
        body = {"access_token": access, "expires_in": lifetime, "token_type": "Bearer",
                "scope": " ".join(scopes)}
        if "offline_access" in grant.scopes:
            expiry = self._refresh_expiry(grant, now, first, old_expiry)
            if expiry is not False:
                refresh = secrets.token_urlsafe(32)
                secrets_log.record(refresh)
                self._refresh[refresh] = RefreshToken(grant, expiry)
                body["refresh_token"] = refresh
        self._stats.inc("tokens_issued")
        return wire.json_reply(200, body, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    def _revoke_grant(self, grant):
        grant.revoked = True
        for token, rec in list(self._access.items()):
            if rec.grant is grant:
                del self._access[token]
        self._sessions.close_grant(grant.id, "revoked")
        self._stats.inc("grants_revoked")

    @staticmethod
    def session_end(grant, token_expiry):
        """When the single session of a grant must close regardless of activity:
        with scope `api` only, together with its access token (documented);
        with offline_access it is reused across refreshes, so never (idle only)."""
        return None if "offline_access" in grant.scopes else token_expiry

    # ---- bearer tokens ---------------------------------------------------------------
    def access_token(self, token):
        """The live AccessToken for a bearer value, or None (unknown/expired/revoked)."""
        if not token:
            return None
        with self._lock:
            record = self._access.get(token)
            if record is None or record.grant.revoked:
                return None
            if record.expires <= self._clock.now():
                return None
            return record

    def _userinfo(self, req):
        auth = req.headers.get("authorization", "")
        record = self.access_token(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if record is None:
            return wire.json_reply(401, {"error": "invalid_token"},
                                   [("WWW-Authenticate", 'Bearer error="invalid_token"')])
        if not record.has("openid"):
            return wire.json_reply(403, {"error": "insufficient_scope"},
                                   [("WWW-Authenticate", 'Bearer error="insufficient_scope"')])
        user = record.grant.user
        claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_OID, user)), "name": user,
                  "preferred_username": user}
        if record.has("email"):
            claims["email"] = "%s@example.com" % user
        return wire.json_reply(200, claims)

    # ---- control -------------------------------------------------------------------
    def expire_access_tokens(self):
        now = self._clock.now()
        with self._lock:
            for record in self._access.values():
                record.expires = min(record.expires, now - 1)
            return len(self._access)

    def expire_refresh_tokens(self):
        now = self._clock.now()
        with self._lock:
            for record in self._refresh.values():
                record.expires = now - 1
            return len(self._refresh)

    def expire_codes(self):
        now = self._clock.now()
        with self._lock:
            for record in self._codes.values():
                record.expires = min(record.expires, now - 1)
            return len(self._codes)

    def counts(self):
        now = self._clock.now()
        with self._lock:
            return {
                "live_access_tokens": sum(1 for r in self._access.values()
                                          if r.expires > now and not r.grant.revoked),
                "live_refresh_tokens": sum(1 for r in self._refresh.values()
                                           if not r.used and not r.grant.revoked
                                           and (r.expires is None or r.expires > now)),
                "grants": len(self._grants),
            }


class _LoginLimit(OAuthError):
    """The token request would need a seat and none is free: the API Login
    Limit HttpError (429), not an RFC 6749 body (see README)."""

    def __init__(self):
        super().__init__("api_login_limit", status=429)

    def reply(self):
        return wire.api_login_limit()
