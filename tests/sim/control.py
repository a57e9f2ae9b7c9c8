"""The /_sim/ control interface (not part of Acumatica), at the server root.

  GET    /_sim/config          current configuration (includes the test credentials)
  POST   /_sim/config          change settings: a JSON object of config keys
  POST   /_sim/reset           everything back to the state at start
  POST   /_sim/seed            {"seed": N, "customers": .., ...} -> counts created
  GET    /_sim/faults          the fault rules with their match/fire counters
  POST   /_sim/faults          replace the fault rules (a JSON list)
  DELETE /_sim/faults          remove all fault rules
  POST   /_sim/expire          {"tokens": true, "refresh_tokens": true,
                                "sessions": true, "codes": true}
  GET    /_sim/clock           {"offset_seconds", "now"}
  POST   /_sim/clock           {"offset_seconds": N} or {"advance_seconds": N}
  GET    /_sim/requests        the request log (?since=<id>&limit=<n>)
  DELETE /_sim/requests        clear the request log and the counters
  GET    /_sim/stats           counters
  GET    /_sim/sessions        open sessions (no cookie values)
  GET    /_sim/records/<Entity>[?version=22.200.001]   records in the served shape

Answers are JSON; a bad request gets 400 {"error": "..."}.
"""
import json

import wire
from config import DEFAULTS

_NUMBER_KEYS = {
    # key: may be None
    "access_token_lifetime": False, "auth_code_lifetime": False,
    "refresh_absolute_days": True, "refresh_sliding_days": False,
    "session_idle_timeout": True, "queue_timeout": True, "queue_limit": False,
    "rate_window_seconds": False, "api_user_seats": True, "requests_per_minute": True,
    "concurrent_requests": True, "license_retry_after": True, "action_duration": False,
}
_BOOL_KEYS = {"auto_approve", "refresh_sliding_infinite", "code_reuse_revokes_tokens",
              "refresh_reuse_revokes_chain"}
_STR_KEYS = {"site_path", "tenant", "branch", "time_zone_offset", "username", "password",
             "client_id", "client_secret"}


def validate_config(changes):
    """Raise ValueError naming the first bad key/value of a config change."""
    if not isinstance(changes, dict):
        raise ValueError("expected a JSON object of configuration keys")
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise ValueError("unknown configuration key %r" % key)
        if key in _NUMBER_KEYS:
            if value is None and _NUMBER_KEYS[key]:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError("%s must be a number >= 0%s" % (key, " or null" if _NUMBER_KEYS[key] else ""))
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ValueError("%s must be true or false" % key)
        elif key in _STR_KEYS:
            if not isinstance(value, str):
                raise ValueError("%s must be a string" % key)
        elif key == "refresh_mode":
            if value not in ("absolute", "sliding", "none"):
                raise ValueError("refresh_mode must be absolute, sliding or none")
        elif key == "redirect_uris":
            if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
                raise ValueError("redirect_uris must be a list of strings")
        elif key == "secure_cookies":
            if value is not None and not isinstance(value, bool):
                raise ValueError("secure_cookies must be true, false or null")
    if "site_path" in changes and not changes["site_path"].startswith("/"):
        raise ValueError("site_path must start with /")
    if "time_zone_offset" in changes:
        check_offset(changes["time_zone_offset"])


def check_offset(text):
    """Raise ValueError unless text looks like +HH:MM / -HH:MM."""
    if (len(text) != 6 or text[0] not in "+-" or text[3] != ":"
            or not (text[1:3] + text[4:6]).isdigit() or int(text[1:3]) > 14 or int(text[4:6]) > 59):
        raise ValueError("time zone offset must look like +HH:MM or -HH:MM")


def _bad(text, status=400):
    return wire.json_reply(status, {"error": text})


class ControlInterface:
    def __init__(self, sim):
        self.sim = sim

    def handle(self, req):
        parts = [p for p in req.path.split("/") if p][1:]     # drop "_sim"
        name = parts[0] if parts else ""
        method = req.method
        body = None
        if req.body:
            try:
                body = req.json()
            except ValueError:
                return _bad("the body is not valid JSON")
        route = {
            ("config", "GET"): self._config_get, ("config", "POST"): self._config_post,
            ("reset", "POST"): self._reset, ("seed", "POST"): self._seed,
            ("faults", "GET"): self._faults_get, ("faults", "POST"): self._faults_post,
            ("faults", "DELETE"): self._faults_delete, ("expire", "POST"): self._expire,
            ("clock", "GET"): self._clock_get, ("clock", "POST"): self._clock_post,
            ("requests", "GET"): self._requests_get, ("requests", "DELETE"): self._requests_delete,
            ("stats", "GET"): self._stats, ("sessions", "GET"): self._sessions,
            ("", "GET"): self._index,
        }.get((name, method))
        if name == "records" and method == "GET":
            if len(parts) != 2:
                return _bad("use /_sim/records/<Entity>", 404)
            return self._records(parts[1], req.query.get("version"))
        if route is None:
            return _bad("no control operation %s /_sim/%s" % (method, "/".join(parts)), 404)
        if len(parts) > 1:
            return _bad("no control operation %s /_sim/%s" % (method, "/".join(parts)), 404)
        return route(req, body)

    # ---- configuration -----------------------------------------------------------------
    def _config_get(self, req, body):
        return wire.json_reply(200, self.sim.config.snapshot())

    def _config_post(self, req, body):
        try:
            validate_config(body or {})
        except ValueError as exc:
            return _bad(str(exc))
        self.sim.config.update(body or {})
        return wire.json_reply(200, self.sim.config.snapshot())

    def _reset(self, req, body):
        self.sim.reset()
        return wire.json_reply(200, {"reset": True})

    def _seed(self, req, body):
        if body is not None and not isinstance(body, dict):
            return _bad("expected a JSON object of counts")
        try:
            result = self.sim.entities.seed(dict(body or {}))
        except (ValueError, TypeError, KeyError) as exc:
            return _bad("seed refused: %s" % exc)
        return wire.json_reply(200, result)

    # ---- faults -------------------------------------------------------------------------
    def _faults_get(self, req, body):
        return wire.json_reply(200, self.sim.faults.describe())

    def _faults_post(self, req, body):
        try:
            rules = self.sim.faults.set_rules(body if body is not None else [])
        except ValueError as exc:
            return _bad(str(exc))
        return wire.json_reply(200, rules)

    def _faults_delete(self, req, body):
        self.sim.faults.clear()
        return wire.json_reply(200, [])

    # ---- time and expiry --------------------------------------------------------------
    def _expire(self, req, body):
        body = body or {}
        if not isinstance(body, dict):
            return _bad("expected a JSON object")
        unknown = set(body) - {"tokens", "refresh_tokens", "sessions", "codes"}
        if unknown:
            return _bad("unknown keys %s" % sorted(unknown))
        out = {}
        if body.get("tokens"):
            out["tokens"] = self.sim.oauth.expire_access_tokens()
        if body.get("refresh_tokens"):
            out["refresh_tokens"] = self.sim.oauth.expire_refresh_tokens()
        if body.get("codes"):
            out["codes"] = self.sim.oauth.expire_codes()
        if body.get("sessions"):
            out["sessions"] = self.sim.sessions.expire_all()
        return wire.json_reply(200, out)

    def _clock_get(self, req, body):
        return wire.json_reply(200, {"offset_seconds": self.sim.clock.offset(),
                                     "now": self.sim.clock.now()})

    def _clock_post(self, req, body):
        if not isinstance(body, dict):
            return _bad('expected {"offset_seconds": N} or {"advance_seconds": N}')
        try:
            if "offset_seconds" in body:
                self.sim.clock.set_offset(float(body["offset_seconds"]))
            elif "advance_seconds" in body:
                self.sim.clock.set_offset(self.sim.clock.offset() + float(body["advance_seconds"]))
            else:
                return _bad('expected {"offset_seconds": N} or {"advance_seconds": N}')
        except (TypeError, ValueError):
            return _bad("the offset must be a number of seconds")
        return self._clock_get(req, None)

    # ---- observation --------------------------------------------------------------------
    def _requests_get(self, req, body):
        try:
            since = int(req.query.get("since", "0"))
            limit = int(req.query["limit"]) if "limit" in req.query else None
        except ValueError:
            return _bad("since and limit must be integers")
        return wire.json_reply(200, self.sim.log.entries(since, limit))

    def _requests_delete(self, req, body):
        self.sim.log.clear()
        self.sim.stats.clear()
        return wire.json_reply(200, {"cleared": True})

    def _stats(self, req, body):
        out = {"requests": 0, "max_concurrency": 0, "responses_429": 0, "license_declined": 0,
               "license_delayed": 0, "license_queued": 0, "faults_injected": 0,
               "dropped_connections": 0, "logins": 0, "login_failures": 0,
               "api_login_limit": 0, "tokens_issued": 0, "sessions_opened": 0}
        out.update(self.sim.stats.snapshot())
        out.update({
            "in_flight": self.sim.log.in_flight(),
            "open_sessions": self.sim.sessions.open_count(),
            "license_queue_length": self.sim.limiter.queue_length(),
            "license_active": self.sim.limiter.active(),
            "fault_rules": len(self.sim.faults.describe()),
        })
        out.update(self.sim.oauth.counts())
        return wire.json_reply(200, out)

    def _sessions(self, req, body):
        return wire.json_reply(200, self.sim.sessions.describe())

    def _records(self, entity, version):
        try:
            rows = self.sim.entities.records(entity, version)
        except KeyError as exc:
            return _bad("unknown entity %s" % exc, 404)
        return wire.json_reply(200, rows)

    def _index(self, req, body):
        return wire.text_reply(200, __doc__, "text/plain; charset=utf-8")
