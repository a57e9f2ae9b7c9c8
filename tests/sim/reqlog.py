"""The request log and the counters behind GET /_sim/requests and /_sim/stats.

Every request under the site path (not the /_sim/ control paths) gets one log
entry: method, path, query (secret values masked), status, start and end time
(wall-clock epoch seconds, float — real time, not the test clock, so a client
can correlate them with its own clock), the number of site requests in
flight when it started, itself included, and the TCP connection it came on
(`connection`, numbered in accept order, and the client's `peer_port`).
Nothing secret is ever stored: no bodies, no headers, no cookies; query
parameters that can carry a secret are replaced by "***".
"""
import threading
import time
from collections import deque

# Query parameters whose values are never logged (compared lower-case).
SECRET_PARAMS = frozenset({
    "password", "client_secret", "code", "code_verifier", "access_token",
    "refresh_token", "id_token", "token", "client_assertion", "assertion",
})

MASK = "***"


def mask_query(query):
    """A copy of a decoded query dict with the secret values masked."""
    return {k: (MASK if k.lower() in SECRET_PARAMS else v) for k, v in query.items()}


class Stats:
    """Thread-safe counters. Names are flat strings; `status_counts` and
    `faults` are maps of name -> count."""

    def __init__(self):
        self._lock = threading.Lock()
        self._clear_locked()

    def _clear_locked(self):
        self._counters = {}
        self._maps = {"status_counts": {}, "faults": {}}
        self._max = {}

    def inc(self, name, amount=1):
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + amount

    def inc_map(self, name, key, amount=1):
        with self._lock:
            table = self._maps.setdefault(name, {})
            table[key] = table.get(key, 0) + amount

    def observe_max(self, name, value):
        with self._lock:
            if value > self._max.get(name, 0):
                self._max[name] = value

    def snapshot(self):
        with self._lock:
            out = dict(self._counters)
            for name, table in self._maps.items():
                out[name] = dict(table)
            out.update(self._max)
            return out

    def clear(self):
        with self._lock:
            self._clear_locked()


class RequestLog:
    """A bounded log of site requests plus the in-flight counter."""

    def __init__(self, stats, capacity=50000):
        self._lock = threading.Lock()
        self._stats = stats
        self._entries = deque(maxlen=capacity)
        self._next_id = 1
        self._in_flight = 0

    def begin(self, method, path, query, connection=None, peer_port=None):
        """Record the start of a request; returns its entry (a dict).
        `connection` numbers the TCP connection it came on (1, 2, ... in
        the order the server accepted them) and `peer_port` is the client's
        port on it: requests sent on one kept-alive connection share both."""
        with self._lock:
            self._in_flight += 1
            entry = {
                "id": self._next_id, "method": method, "path": path,
                "query": mask_query(query), "status": None,
                "start": time.time(), "end": None,
                "concurrency": self._in_flight,
                "connection": connection, "peer_port": peer_port,
            }
            self._next_id += 1
            self._entries.append(entry)
            in_flight = self._in_flight
        self._stats.inc("requests")
        self._stats.observe_max("max_concurrency", in_flight)
        return entry

    def end(self, entry, status, **extra):
        """Record the end: status (None when the connection was dropped)."""
        with self._lock:
            self._in_flight -= 1
            entry["status"] = status
            entry["end"] = time.time()
            entry.update(extra)
        if status is not None:
            self._stats.inc_map("status_counts", str(status))
            if status == 429:
                self._stats.inc("responses_429")

    def in_flight(self):
        with self._lock:
            return self._in_flight

    def entries(self, since=0, limit=None):
        """Copies of the entries with id > since, oldest first."""
        with self._lock:
            rows = [dict(e, query=dict(e["query"])) for e in self._entries if e["id"] > since]
        if limit is not None:
            rows = rows[-limit:]
        return rows

    def clear(self):
        with self._lock:
            self._entries.clear()
