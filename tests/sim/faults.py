"""Fault injection for site requests (POST /_sim/faults with a list of rules).

A rule selects requests and says what goes wrong:

    {"method": "PUT",                       # or "*" (default)
     "path": "^/entity/Default/[^/]+/SalesOrder$",   # regex, searched in the path
                                            # after the site path (default: any)
     "query": "\\$skip=500",                # optional regex searched in the raw query
     "every": 3,                            # fire on every 3rd matching request
     "probability": 0.25, "seed": 7,        # or at random, deterministic per seed
     "times": 2,                            # at most this many firings
     # what happens (delay_ms may be combined with one of the others):
     "delay_ms": 1500,                      # wait before handling
     "status": 503, "retry_after": 5,       # answer this status without handling
     "body": {...} or "text", "content_type": "...",   # optional body override
     "reset": true,                         # cut the connection before handling
     "slow_body": 200,                      # send the response at 200 bytes/s
     "stall_body": 65000,                   # send the head and half the body (no
                                            # body: the head without its blank line),
                                            # then nothing for 65 s (or until the
                                            # client gives up and closes), the rest
     "commit_then_drop": true}              # handle fully, then cut the connection

Rules are tried in order; the first that fires decides. Control paths
(/_sim/) are never subject to faults.
"""
import random
import re
import threading

import wire
from http_types import Response

KINDS = ("status", "reset", "slow_body", "stall_body", "commit_then_drop")
_KEYS = {"name", "method", "path", "query", "every", "probability", "seed", "times",
         "delay_ms", "status", "retry_after", "body", "content_type", "reset",
         "slow_body", "stall_body", "commit_then_drop"}


class FaultRule:
    def __init__(self, spec, index):
        if not isinstance(spec, dict):
            raise ValueError("rule %d: must be an object" % index)
        unknown = set(spec) - _KEYS
        if unknown:
            raise ValueError("rule %d: unknown keys %s" % (index, sorted(unknown)))
        self.spec = dict(spec)
        self.name = str(spec.get("name", "rule%d" % index))
        self.method = str(spec.get("method", "*")).upper()
        try:
            self.path = re.compile(spec.get("path", ""))
            self.query = re.compile(spec["query"]) if "query" in spec else None
        except re.error as exc:
            raise ValueError("rule %d: bad regex: %s" % (index, exc))
        self.every = _int(spec, "every", index, minimum=1)
        self.times = _int(spec, "times", index, minimum=0)
        self.probability = spec.get("probability")
        if self.probability is not None:
            if not isinstance(self.probability, (int, float)) or not 0 <= self.probability <= 1:
                raise ValueError("rule %d: probability must be within 0..1" % index)
        self.rng = random.Random(spec.get("seed", 0))
        self.delay_ms = _int(spec, "delay_ms", index, minimum=0)
        actions = [k for k in KINDS if spec.get(k) not in (None, False)]
        if len(actions) > 1:
            raise ValueError("rule %d: choose one of %s" % (index, ", ".join(KINDS)))
        if not actions and self.delay_ms is None:
            raise ValueError("rule %d: no action (status, delay_ms, reset, slow_body, "
                             "stall_body, commit_then_drop)" % index)
        self.kind = actions[0] if actions else "delay"
        self.status = _int(spec, "status", index, minimum=100)
        if self.status is not None and self.status > 599:
            raise ValueError("rule %d: status must be 100..599" % index)
        self.retry_after = spec.get("retry_after")
        self.slow_body = _int(spec, "slow_body", index, minimum=1)
        self.stall_body = _int(spec, "stall_body", index, minimum=1)
        self.matched = 0
        self.fired = 0

    def describe(self):
        return dict(self.spec, name=self.name, kind=self.kind, matched=self.matched,
                    fired=self.fired)


def _int(spec, key, index, minimum):
    value = spec.get(key)
    if value is None or value is False:
        return None
    if value is True and key in ("slow_body", "stall_body"):
        raise ValueError("rule %d: %s is %s" % (index, key, "bytes per second"
                                                if key == "slow_body" else "milliseconds"))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError("rule %d: %s must be a number >= %d" % (index, key, minimum))
    return int(value)


class FaultInjector:
    def __init__(self, stats):
        self._stats = stats
        self._lock = threading.Lock()
        self._rules = []

    def set_rules(self, specs):
        """Replace the rules; raises ValueError (nothing changed) on a bad rule."""
        if isinstance(specs, dict):
            specs = specs.get("rules", [specs])
        if not isinstance(specs, list):
            raise ValueError("expected a list of rules")
        rules = [FaultRule(spec, i) for i, spec in enumerate(specs)]
        with self._lock:
            self._rules = rules
        return [r.describe() for r in rules]

    def clear(self):
        with self._lock:
            self._rules = []

    def describe(self):
        with self._lock:
            return [r.describe() for r in self._rules]

    def match(self, method, subpath, raw_query):
        """The rule that fires for this request, or None (counts the firing)."""
        with self._lock:
            for rule in self._rules:
                if rule.method != "*" and rule.method != method.upper():
                    continue
                if not rule.path.search(subpath):
                    continue
                if rule.query is not None and not rule.query.search(raw_query):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                rule.matched += 1
                if rule.every is not None and rule.matched % rule.every != 0:
                    continue
                if rule.probability is not None and rule.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                self._stats.inc("faults_injected")
                self._stats.inc_map("faults", rule.kind)
                return rule
        return None


def status_reply(rule):
    """The Response a `status` rule answers with: the rule's body if it has
    one, else the shape Acumatica (or IIS in front of it) gives for that status."""
    headers = []
    if rule.retry_after is not None:
        headers.append(("Retry-After", str(rule.retry_after)))
    body = rule.spec.get("body")
    status = rule.status
    if body is not None:
        if isinstance(body, (dict, list)):
            return wire.json_reply(status, body, headers)
        ctype = rule.spec.get("content_type", "text/plain; charset=utf-8")
        return Response(status, [("Content-Type", ctype)] + headers, str(body).encode("utf-8"))
    if rule.spec.get("content_type"):
        return Response(status, [("Content-Type", rule.spec["content_type"])] + headers, b"")
    if status == 429:
        return wire.json_reply(429, {"message": wire.LICENSE_LIMIT_MESSAGE}, headers)
    if status == 401:
        reply = wire.not_logged_in()
        reply.headers.extend(headers)
        return reply
    if status in (502, 503, 504):
        titles = {502: ("Bad Gateway", "HTTP Error 502. The server received an invalid response."),
                  503: ("Service Unavailable", "HTTP Error 503. The service is unavailable."),
                  504: ("Gateway Timeout", "HTTP Error 504. The gateway timed out.")}
        title, text = titles[status]
        return wire.iis_error(status, title, text, headers)
    if status >= 400:
        return wire.http_error(status, "Simulated fault (HTTP %d)." % status, "System.Exception",
                               headers=headers)
    return wire.empty_reply(status, headers)
