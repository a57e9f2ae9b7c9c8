"""Helpers for the entity-side tests (sim-B): an EntityService with a movable
clock, and a call() that returns status, headers and the parsed JSON body.

The service is driven directly (no HTTP); test_bench-like HTTP checks live in
bench_sim.py and in sim-A's server tests.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_DIR = os.path.dirname(HERE)
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

import clock as clock_mod        # noqa: E402
import config as config_mod      # noqa: E402
import entity_api                # noqa: E402

V20, V22, V23, V24 = "20.200.001", "22.200.001", "23.200.001", "24.200.001"
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def contracts_dir():
    return os.environ.get("ACUMATICA_CONTRACTS") or os.path.join(REPO, "..", "shared", "acumatica")


class FixedClock(clock_mod.Clock):
    """A clock that stands still unless a test moves it (advance())."""

    def __init__(self, start=1_700_000_000.0):
        super().__init__()
        self._t = start

    def now(self):
        return self._t + self.offset()

    def advance(self, seconds):
        self._t += seconds


def make_service(seed=None, clock=None, **config):
    cfg = config_mod.Config(config or None)
    clk = clock or FixedClock()
    svc = entity_api.EntityService(cfg, clk)
    if seed is not None:
        svc.seed(seed)
    return svc


class Reply:
    def __init__(self, resp):
        self.status = resp.status
        self.headers = resp.headers
        self.raw = resp.body
        self.body = json.loads(resp.body) if resp.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def call(svc, method, path, query=None, body=None, headers=None, version=V22):
    """Send one request; `path` is relative to /entity/Default/<version>/ unless it
    starts with "/"."""
    if not path.startswith("/"):
        path = "/entity/Default/%s/%s" % (version, path)
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode("utf-8")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return Reply(svc.handle(method, path, dict(query or {}), body, dict(headers or {}), {}))


def v(value):
    """A value wrapper for request bodies."""
    return {"value": value}
