"""The simulator's clock: real time plus an offset that tests can move.

Every module that needs "now" (token expiry, session idle time, last-modified
stamps, license windows) asks one shared Clock so that POST /_sim/clock moves
all of them together.
"""
import threading
import time


class Clock:
    def __init__(self):
        self._lock = threading.Lock()
        self._offset = 0.0

    def now(self):
        """Seconds since the Unix epoch (float), including the test offset."""
        with self._lock:
            return time.time() + self._offset

    def monotonic(self):
        """Monotonic seconds for measuring durations; not moved by the offset."""
        return time.monotonic()

    def set_offset(self, seconds):
        with self._lock:
            self._offset = float(seconds)

    def offset(self):
        with self._lock:
            return self._offset
