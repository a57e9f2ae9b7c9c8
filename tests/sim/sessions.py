"""Server sessions: cookie sign-in/sign-out, API-user seats, idle timeout.

A session is what Acumatica counts against "Maximum Number of Web Services API
Users": a cookie sign-in (POST /entity/auth/login), the single session of an
OAuth grant with scope `api` (reused across refreshes), or one of the many
sessions of a grant with `api:concurrent_access` (one per request that comes
without a session cookie). A session closes on sign-out, after
`session_idle_timeout` seconds without a request (measured on the simulator
clock, so POST /_sim/clock can age it), or by POST /_sim/expire.

Cookies: `ASP.NET_SessionId` names the session and `.ASPXAUTH` is its ticket;
both must match. Values come from `secrets`.
"""
import hmac
import secrets
import threading
import time
import uuid
from email.utils import formatdate

import secrets_log
import wire


class SeatLimitReached(Exception):
    """Opening one more session would exceed config api_user_seats."""


class Session:
    __slots__ = ("public_id", "sid", "ticket", "kind", "user", "tenant", "branch",
                 "locale", "grant_id", "created", "last_seen", "open", "expires_at")

    def __init__(self, kind, user, tenant, branch, locale, grant_id, now):
        self.public_id = str(uuid.uuid4())      # not secret: shown by /_sim/sessions
        self.sid = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz012345") for _ in range(24))
        self.ticket = secrets.token_hex(80).upper()
        self.kind = kind                        # "cookie" | "oauth"
        self.user = user
        self.tenant = tenant
        self.branch = branch
        self.locale = locale
        self.grant_id = grant_id
        self.created = now
        self.last_seen = now
        self.open = True
        self.expires_at = None                  # hard end (the token of an `api`-only grant)
        secrets_log.record(self.sid, self.ticket)

    def describe(self):
        """What the entity service and /_sim/sessions may see (no cookie values)."""
        return {"session_id": self.public_id, "kind": self.kind, "user": self.user,
                "tenant": self.tenant, "branch": self.branch, "locale": self.locale,
                "grant_id": self.grant_id, "created": self.created,
                "last_seen": self.last_seen}


class SessionManager:
    def __init__(self, config, clock, stats):
        self._config = config
        self._clock = clock
        self.stats = stats
        self._lock = threading.Lock()
        self._sessions = {}          # sid -> Session
        self._grant_session = {}     # grant id -> sid of its single session

    # ---- internal, lock held -------------------------------------------------
    def _idle_limit(self):
        value = self._config.get("session_idle_timeout")
        return None if value is None else float(value)

    def _alive_locked(self, session, now):
        if not session.open:
            return False
        if session.expires_at is not None and now >= session.expires_at:
            self._close_locked(session, "token_expired")
            return False
        limit = self._idle_limit()
        if limit is not None and now - session.last_seen > limit:
            self._close_locked(session, "idle")
            return False
        return True

    def _sweep_locked(self, now):
        for session in list(self._sessions.values()):
            self._alive_locked(session, now)

    def _close_locked(self, session, reason):
        if session.open:
            session.open = False
            self.stats.inc("sessions_closed")
            self.stats.inc_map("sessions_closed_by", reason)
        self._sessions.pop(session.sid, None)
        if session.grant_id is not None and self._grant_session.get(session.grant_id) == session.sid:
            del self._grant_session[session.grant_id]

    def _check_seat_locked(self, now):
        seats = self._config.get("api_user_seats")
        if seats is None:
            return
        self._sweep_locked(now)
        if len(self._sessions) >= int(seats):
            self.stats.inc("api_login_limit")
            raise SeatLimitReached()

    def _open_locked(self, kind, user, tenant, branch, locale, grant_id, now):
        self._check_seat_locked(now)
        session = Session(kind, user, tenant, branch, locale, grant_id, now)
        self._sessions[session.sid] = session
        self.stats.inc("sessions_opened")
        return session

    # ---- public ----------------------------------------------------------------
    def open(self, kind, user, tenant, branch, locale="en-US", grant_id=None):
        """Open a session; raises SeatLimitReached when the seats are taken."""
        with self._lock:
            return self._open_locked(kind, user, tenant, branch, locale, grant_id, self._clock.now())

    def check_seat(self):
        """Raise SeatLimitReached if no seat is free (nothing is opened)."""
        with self._lock:
            self._check_seat_locked(self._clock.now())

    def find(self, cookies, touch=True):
        """The open session named by the request cookies, or None."""
        sid = cookies.get("ASP.NET_SessionId")
        ticket = cookies.get(".ASPXAUTH")
        if not sid or not ticket:
            return None
        now = self._clock.now()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None or not hmac.compare_digest(session.ticket, ticket):
                return None
            if not self._alive_locked(session, now):
                return None
            if touch:
                session.last_seen = now
            return session

    def for_grant(self, grant_id, user, tenant, branch, expires_at=None):
        """The single session of an OAuth grant without api:concurrent_access,
        opened (taking a seat) when it has none. `expires_at` closes it at that
        time whatever the activity (a grant without offline_access: the session
        ends with its access token). Returns (session, opened)."""
        now = self._clock.now()
        with self._lock:
            sid = self._grant_session.get(grant_id)
            session = self._sessions.get(sid) if sid else None
            if session is None or not self._alive_locked(session, now):
                session = self._open_locked("oauth", user, tenant, branch, "en-US", grant_id, now)
                self._grant_session[grant_id] = session.sid
                opened = True
            else:
                opened = False
            session.last_seen = now
            session.expires_at = expires_at
            return session, opened

    def close(self, session, reason="logout"):
        with self._lock:
            self._close_locked(session, reason)

    def close_grant(self, grant_id, reason="logout"):
        """Close every session of an OAuth grant; returns how many."""
        with self._lock:
            victims = [s for s in self._sessions.values() if s.grant_id == grant_id]
            for session in victims:
                self._close_locked(session, reason)
            return len(victims)

    def expire_all(self):
        """Close every session (POST /_sim/expire {"sessions": true})."""
        with self._lock:
            victims = list(self._sessions.values())
            for session in victims:
                self._close_locked(session, "expired")
            return len(victims)

    def open_count(self):
        with self._lock:
            self._sweep_locked(self._clock.now())
            return len(self._sessions)

    def describe(self):
        with self._lock:
            self._sweep_locked(self._clock.now())
            return [s.describe() for s in self._sessions.values()]

    def reset(self):
        with self._lock:
            self._sessions.clear()
            self._grant_session.clear()


# ---- cookies ---------------------------------------------------------------------

def _cookie_date(epoch):
    """'Sun, 17-Dec-2023 02:13:54 GMT', the form ASP.NET writes."""
    text = formatdate(epoch, usegmt=True)          # 'Sun, 17 Dec 2023 02:13:54 GMT'
    day, dd, mon, yyyy, hms, gmt = text.split()
    return "%s %s-%s-%s %s %s" % (day, dd, mon, yyyy, hms, gmt)


def time_zone_id(offset):
    """An Acumatica-style time-zone id for an offset such as "-08:00"
    (GMTM0800A, as recorded for US Pacific). The letters for other offsets are
    a guess: GMTP for east of Greenwich, GMTE0000U for UTC."""
    sign = offset[0] if offset and offset[0] in "+-" else "+"
    digits = offset.lstrip("+-").replace(":", "")
    if digits.strip("0") == "":
        return "GMTE0000U"
    return "GMT%s%sA" % ("M" if sign == "-" else "P", digits.rjust(4, "0"))


def _request_cookies(path_tail, wall):
    ticks = int(wall * 10_000_000) + 621355968000000000   # .NET ticks
    return [
        ("Set-Cookie", "requestid=%s; path=/" % secrets.token_hex(16).upper()),
        ("Set-Cookie", "requeststat=+st:%d+sc:~%s+start:%d+tg:; path=/"
         % (secrets.randbelow(400) + 10, path_tail, ticks)),
    ]


def session_cookies(session, config, secure):
    """The Set-Cookie headers of a successful sign-in (recorded set, each once)."""
    wall = time.time()
    expires = _cookie_date(wall + 3 * 86400)
    sec = "secure; " if secure else ""
    tz = time_zone_id(config.get("time_zone_offset") or "+00:00")
    culture = session.locale or "en-US"
    return [
        ("Set-Cookie", ".ASPXAUTH=%s; path=/; %sHttpOnly; SameSite=None" % (session.ticket, sec)),
        ("Set-Cookie", "ASP.NET_SessionId=%s; path=/; HttpOnly; SameSite=Lax" % session.sid),
        ("Set-Cookie", "CompanyID=%s; expires=%s; path=/" % (session.tenant, expires)),
        ("Set-Cookie", "Locale=Culture=%s&TimeZone=%s; expires=%s; path=/" % (culture, tz, expires)),
        ("Set-Cookie", "UserBranch=1; path=/"),
    ] + _request_cookies("/entity/auth/login", wall)


def logout_cookies():
    """The Set-Cookie headers of a sign-out: the auth cookies expired (recorded)."""
    wall = time.time()
    return [
        ("Set-Cookie", ".ASPXAUTH=; expires=Tue, 12-Oct-1999 00:00:00 GMT; path=/; HttpOnly"),
        ("Set-Cookie", "ASP.NET_SessionId=; expires=%s; path=/" % _cookie_date(wall - 365 * 86400)),
        ("Set-Cookie", "UserBranch=1; path=/"),
    ] + _request_cookies("/entity/auth/logout", wall)


def secure_flag(config, tls):
    value = config.get("secure_cookies")
    return tls if value is None else bool(value)


# ---- POST /entity/auth/login -------------------------------------------------------

def _credentials(req):
    """The sign-in fields (lower-case names) from a JSON or form body, or a Response."""
    if not req.body:
        return wire.request_body_empty()
    if req.content_type() == "application/x-www-form-urlencoded":
        fields = req.form()
    else:
        try:
            fields = req.json()
        except ValueError:
            return wire.model_state_error("credentials", "The request body is not valid JSON.")
        if not isinstance(fields, dict):
            return wire.model_state_error("credentials", "The request body must be a JSON object.")
    out = {}
    for key, value in fields.items():
        if isinstance(value, dict) and "value" in value:     # tolerate {"value": ...}
            value = value["value"]
        out[str(key).lower()] = "" if value is None else str(value)
    return out


def handle_login(req, manager, config):
    """POST /entity/auth/login: 204 with the session cookies, or the error reply."""
    fields = _credentials(req)
    if not isinstance(fields, dict):
        return fields
    tenant = fields.get("tenant", "")
    company = fields.get("company", "")
    if tenant and company:
        return wire.model_state_error(
            "credentials", "Both company and tenant cannot be defined in the same request. "
                           "Please use tenant.")
    tenant = tenant or company
    known_tenant = config.get("tenant")
    if tenant and tenant.lower() != known_tenant.lower():
        manager.stats.inc("login_failures")
        return wire.undefined_company()
    name = fields.get("name", "")
    password = fields.get("password", "")
    if not (name.lower() == config.get("username").lower()
            and hmac.compare_digest(password.encode("utf-8"),
                                    config.get("password").encode("utf-8"))):
        manager.stats.inc("login_failures")
        return wire.invalid_credentials()
    # A new sign-in on a connection that already has a session replaces it.
    previous = manager.find(req.cookies, touch=False)
    if previous is not None:
        manager.close(previous, "relogin")
    try:
        session = manager.open("cookie", config.get("username"), known_tenant,
                               fields.get("branch") or config.get("branch"),
                               fields.get("locale") or "en-US")
    except SeatLimitReached:
        return wire.api_login_limit()
    manager.stats.inc("logins")
    return wire.empty_reply(204, session_cookies(session, config, secure_flag(config, req.tls)))


def handle_logout(req, manager, bearer_grant_id=None):
    """POST /entity/auth/logout: close the caller's session; always 204.

    With cookies: that session. With only a bearer token: every session of
    its grant (the single `api` session, or all concurrent ones)."""
    session = manager.find(req.cookies, touch=False)
    if session is not None:
        manager.close(session, "logout")
    elif bearer_grant_id is not None:
        manager.close_grant(bearer_grant_id, "logout")
    manager.stats.inc("logouts")
    return wire.empty_reply(204, logout_cookies())
