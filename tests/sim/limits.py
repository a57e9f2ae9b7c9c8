"""License limits: requests per minute (with the documented delay) and the
concurrent-request limit with its FIFO queue. Both are off while their config
value is None.

Documented behaviour (API-NOTES.md 3.2):
* all requests except sign-out enter a queue; at most `concurrent_requests`
  run at once, the rest wait in FIFO order;
* a request is declined (429) when, on arrival, the queue already holds
  `queue_limit` (20) requests, or when it waits longer than `queue_timeout`
  (600 s); declined requests are not counted against the per-minute limit;
* once the requests processed in the past minute reach half of
  `requests_per_minute`, each new request is delayed by
      (time left until 1 min after the first request of the past minute)
      / (limit - requests processed in the past minute).

Choices (README "License limits"): a request first takes its place in the
concurrency queue, then waits out its per-minute delay while it holds its
processing slot; delayed requests are paced one after another (each delay
starts when the previous delayed request is admitted), so a burst is spread
over the window rather than released together; at the full limit a request
waits until the oldest request leaves the window. The window length is
`rate_window_seconds` (60) so tests can shrink it. Time here is monotonic
real time, not the test clock.
"""
import bisect
import threading
import time
from collections import deque


def per_minute_delay(processed, limit, window, now):
    """The documented delay for a request arriving at `now`.

    `processed` is the ascending list of admission times within the window
    before `now`. Returns seconds to wait (0 below half the limit)."""
    count = len(processed)
    if limit is None or count < limit / 2.0:
        return 0.0
    if count >= limit:
        # No budget left: wait until enough of the oldest leave the window.
        return max(0.0, processed[count - limit] + window - now)
    left = processed[0] + window - now
    return max(0.0, left) / (limit - count)


class Declined(Exception):
    """The license queue refused the request (answer 429)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class LicenseLimiter:
    def __init__(self, config, stats, monotonic=time.monotonic, sleep=time.sleep):
        self._config = config
        self._stats = stats
        self._now = monotonic
        self._sleep = sleep
        self._cond = threading.Condition()
        self._active = 0
        self._queue = deque()           # waiting tickets, FIFO
        self._admitted = []             # sorted admission times within the window
        self._last_admit = 0.0

    def reset(self):
        with self._cond:
            del self._admitted[:]
            self._last_admit = 0.0
            self._cond.notify_all()

    def queue_length(self):
        with self._cond:
            return len(self._queue)

    def active(self):
        with self._cond:
            return self._active

    # ---- concurrency ---------------------------------------------------------------
    def _acquire_slot(self):
        """Take a processing slot, waiting in FIFO order. Returns True if a slot
        was taken (the caller must release it), False when the limit is off."""
        limit = self._config.get("concurrent_requests")
        if limit is None:
            return False
        limit = max(1, int(limit))
        queue_limit = int(self._config.get("queue_limit"))
        timeout = self._config.get("queue_timeout")
        with self._cond:
            if self._active < limit and not self._queue:
                self._active += 1
                return True
            if len(self._queue) >= queue_limit:
                self._stats.inc("license_declined")
                self._stats.inc_map("license_declined_by", "queue_full")
                raise Declined("queue_full")
            ticket = object()
            self._queue.append(ticket)
            self._stats.inc("license_queued")
            self._stats.observe_max("max_queue_length", len(self._queue))
            deadline = None if timeout is None else self._now() + float(timeout)
            while True:
                limit = max(1, int(self._config.get("concurrent_requests") or 1))
                if self._queue[0] is ticket and self._active < limit:
                    self._queue.popleft()
                    self._active += 1
                    self._cond.notify_all()
                    return True
                remaining = None if deadline is None else deadline - self._now()
                if remaining is not None and remaining <= 0:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
                    self._stats.inc("license_declined")
                    self._stats.inc_map("license_declined_by", "queue_timeout")
                    raise Declined("queue_timeout")
                self._cond.wait(remaining if remaining is not None else 1.0)

    def _release_slot(self):
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    # ---- per minute ----------------------------------------------------------------
    def _rate_wait(self):
        """Reserve an admission time under the per-minute rule; return the delay."""
        limit = self._config.get("requests_per_minute")
        if limit is None:
            return 0.0
        limit = max(1, int(limit))
        window = float(self._config.get("rate_window_seconds") or 60)
        with self._cond:
            now = self._now()
            self._prune(now - window)
            admit_at = now
            if len(self._admitted) >= limit / 2.0:
                t0 = max(now, self._last_admit)
                self._prune(t0 - window)
                admit_at = t0 + per_minute_delay(self._admitted, limit, window, t0)
            bisect.insort(self._admitted, admit_at)
            self._last_admit = max(self._last_admit, admit_at)
            return admit_at - now

    def _prune(self, horizon):
        """Forget admissions at or before `horizon` (lock held)."""
        cut = bisect.bisect_right(self._admitted, horizon)
        if cut:
            del self._admitted[:cut]

    # ---- public --------------------------------------------------------------------
    def admit(self):
        """Block until the request may run. Returns a token for release();
        raises Declined when the license queue refuses it."""
        slot = self._acquire_slot()
        try:
            delay = self._rate_wait()
            timeout = self._config.get("queue_timeout")
            if delay > 0:
                if timeout is not None and delay > float(timeout):
                    self._stats.inc("license_declined")
                    self._stats.inc_map("license_declined_by", "rate_timeout")
                    raise Declined("rate_timeout")
                self._stats.inc("license_delayed")
                self._stats.inc("license_delay_ms", int(delay * 1000))
                self._sleep(delay)
        except BaseException:
            if slot:
                self._release_slot()
            raise
        return slot

    def release(self, slot):
        if slot:
            self._release_slot()
