"""The simulator's configuration: one thread-safe dictionary of settings.

GET /_sim/config returns snapshot(); POST /_sim/config calls update() with the
posted JSON object. Modules read settings with get() at the moment they need
them, so a change applies to the next request without a restart.
"""
import copy
import threading

import secrets_log

DEFAULTS = {
    # Where the instance lives and how it presents itself.
    "site_path": "/AcumaticaERP",
    "tenant": "Company",
    "branch": "HEADOFFICE",
    "time_zone_offset": "+00:00",      # the instance's local offset, used in date-times it serves
    "versions": ["20.200.001", "22.200.001", "23.200.001", "24.200.001"],
    # Test credentials (cookie login and the password grant).
    "username": "admin",
    "password": "Sim-Passw0rd!",
    # The connected application (OAuth).
    "client_id": "6B8C2F4E-1A3D-4E5F-9A7B-0C1D2E3F4A5B@Company",
    "client_secret": "sim-client-secret-0123456789",
    "redirect_uris": ["http://127.0.0.1:8765/callback"],
    "auto_approve": False,
    "access_token_lifetime": 3600,     # seconds
    "auth_code_lifetime": 300,         # seconds
    "refresh_mode": "absolute",        # absolute | sliding | none
    "refresh_absolute_days": None,     # None: the mode's default (absolute 30, sliding 90)
    "refresh_sliding_days": 15,
    "refresh_sliding_infinite": False,
    # Sessions and license limits (None = unlimited / off).
    "api_user_seats": 2,
    "session_idle_timeout": 600,       # seconds
    "requests_per_minute": None,
    "concurrent_requests": None,
    "queue_limit": 20,
    "queue_timeout": 600,              # seconds a request may wait in the queue before 429
    # Protocol choices where the notes are unsure (sim-A; see tests/sim/README.md).
    "rate_window_seconds": 60,         # the "per minute" window of requests_per_minute
    "license_retry_after": None,       # seconds for a Retry-After on license 429s (None = no header)
    "code_reuse_revokes_tokens": True, # a reused authorization code also revokes what it issued
    "refresh_reuse_revokes_chain": False,  # a reused refresh token also revokes its whole chain
    "secure_cookies": None,            # None = "secure" cookie flag only when serving TLS
    # Business options.
    "unique_customer_order_number": {"SO": False},
    "action_duration": 0.5,            # seconds an action stays "in progress" (202)
    # Entity behaviour (sim-B; see "Entities, queries and writes" in tests/sim/README.md).
    "customer_numbering": "auto",      # auto: CustomerID is numbered (given ID ignored on insert,
                                       # as recorded); manual: the given ID is used, absent -> 422
    "hold_on_entry": {"SO": True},     # new orders of the type start On Hold (as recorded)
    "reject_zero_order_qty": False,    # a sales order line with OrderQty 0 is a 422 (recorded: allowed)
    "hide_feature_fields": True,       # leave out fields of switched-off features (as recorded)
}


# Keys whose values are secrets: recorded in the secrets file (secrets_log).
SECRET_KEYS = ("password", "client_secret")


class Config:
    def __init__(self, overrides=None):
        self._lock = threading.Lock()
        self._values = copy.deepcopy(DEFAULTS)
        if overrides:
            self._values.update(overrides)
        secrets_log.record(*(self._values.get(k) for k in SECRET_KEYS))

    def get(self, key, default=None):
        with self._lock:
            return copy.deepcopy(self._values.get(key, default))

    def update(self, changes):
        """Apply a dict of changes; raises KeyError naming an unknown key."""
        with self._lock:
            for key in changes:
                if key not in self._values:
                    raise KeyError(key)
            self._values.update(copy.deepcopy(changes))
        secrets_log.record(*(changes.get(k) for k in SECRET_KEYS))

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(self._values)
