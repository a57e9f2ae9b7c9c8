"""Shared helpers of the data-flow tests (standard library only): the
simulator on port 0 (through sim_launch.py, which adds a frozen clock), a
cookie session on its API to change records as a person would, its control
interface (faults, clock, request log, records), and connector-host pull
and push runs with their own settings file and state file.

Environment (set by CTest): CONNECTOR_HOST (the binary), FLOWS_PLUGIN (the
plugin .so), SIM (tests/sim/acumatica_sim.py), REPO_ROOT, FLOWS_SLOWNESS
(timeouts scale with it in sanitizer builds), FLOWS_KEEP (keep the
temporary directories, for a post-mortem).
"""
import collections
import datetime
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HOST = os.environ.get("CONNECTOR_HOST", "")
PLUGIN = os.environ.get("FLOWS_PLUGIN", "")
SIM = os.environ.get("SIM", "")
ROOT = os.environ.get("REPO_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                                "..", "..", "..")))
SLOW = float(os.environ.get("FLOWS_SLOWNESS", "1"))
HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINT = "22.200.001"
API = "/entity/Default/%s" % ENDPOINT

sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "map"))
from jsonschema_lite import Validator  # noqa: E402


def v(field):
    """The value of an Acumatica field ({"value": x} or a plain value)."""
    if isinstance(field, dict):
        return field.get("value")
    return field


def parse_time(text):
    """Epoch seconds of an RFC 3339 / Acumatica date-time text."""
    t = text.replace("Z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)$", t)
    if not m:
        raise ValueError("not a date-time: %r" % text)
    frac = m.group(2) or ""
    base = datetime.datetime.fromisoformat(m.group(1) + m.group(3))
    return base.timestamp() + (float(frac) if frac else 0.0)


# ---- the simulator --------------------------------------------------------------


class Sim:
    """The simulator as a child process on a free port; its stderr goes to
    a file in the test's directory."""

    def __init__(self, workdir, *args):
        self.stderr = open(os.path.join(workdir, "sim.stderr"), "w")
        cmd = [sys.executable, os.path.join(HERE, "sim_launch.py"), SIM, "--port", "0",
               "--api-user-seats", "none"] + [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.stop()
            raise AssertionError("the simulator did not start: %s" % " ".join(cmd))
        self.root = self.url[:-len("/AcumaticaERP")]
        self.config = self.ctl("GET", "/_sim/config")
        self.secrets = [self.config["password"], self.config["client_secret"]]
        self._jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._jar))
        self._logged_in = False

    # -- control interface --
    def ctl(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120 * SLOW) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def set_config(self, **kw):
        return self.ctl("POST", "/_sim/config", kw)

    def faults(self, rules):
        return self.ctl("POST", "/_sim/faults", rules)

    def clear_faults(self):
        return self.ctl("DELETE", "/_sim/faults")

    def fault_counters(self):
        return self.ctl("GET", "/_sim/faults")

    def requests(self, since=None):
        return self.ctl("GET", "/_sim/requests" + ("?since=%d" % since if since else ""))

    def last_request_id(self):
        log = self.ctl("GET", "/_sim/requests?limit=1")
        return log[-1]["id"] if log else 0

    def clear_requests(self):
        return self.ctl("DELETE", "/_sim/requests")

    def stats(self):
        return self.ctl("GET", "/_sim/stats")

    def records(self, entity):
        return self.ctl("GET", "/_sim/records/%s?version=%s" % (entity, ENDPOINT))

    def seed(self, **params):
        return self.ctl("POST", "/_sim/seed", params)

    def now(self):
        return self.ctl("GET", "/_sim/clock")["now"]

    def freeze(self, at=None):
        body = {"freeze_at": at} if at is not None else {"freeze": True}
        return self.ctl("POST", "/_sim/clock", body)["now"]

    def unfreeze(self):
        return self.ctl("POST", "/_sim/clock", {"freeze": False})

    def clock_offset(self, seconds):
        return self.ctl("POST", "/_sim/clock", {"offset_seconds": seconds})

    def restamp(self, entity, at):
        """Give every record of entity the last-modified stamp `at` (epoch
        seconds), as one bulk import would (sim_launch.py)."""
        return self.ctl("POST", "/_sim/clock", {"restamp": entity, "at": at})["restamped"]

    def advance(self, seconds):
        """Move the clock on: a pull reads up to about a second before the
        server's clock, so records changed just now need this (or a wait)."""
        return self.ctl("POST", "/_sim/clock", {"advance_seconds": seconds})

    # -- the API, as a person (a cookie session) --
    def login(self):
        c = self.config
        self._call("POST", "/entity/auth/login",
                   {"name": c["username"], "password": c["password"], "tenant": c["tenant"]})
        self._logged_in = True

    def _call(self, method, path, body=None, headers=None):
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, method=method, headers=h,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with self._opener.open(req, timeout=120 * SLOW) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None), r.headers
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                doc = json.loads(text) if text else None
            except ValueError:
                doc = text
            return e.code, doc, e.headers

    def api(self, method, path, body=None, headers=None, expect=(200, 204)):
        """A request under the endpoint (path "/Customer?..."); returns the
        JSON answer and fails on an unexpected status."""
        if not self._logged_in:
            self.login()
        status, doc, hdrs = self._call(method, API + path, body, headers)
        if status == 401:
            # The session idled out (the clock moved): sign in again.
            self.login()
            status, doc, hdrs = self._call(method, API + path, body, headers)
        if expect and status not in expect:
            raise AssertionError("%s %s: %s %s" % (method, path, status, doc))
        self.last_headers = hdrs
        self.last_status = status
        return doc

    def put(self, entity, fields, query=""):
        """PUT entity with plain values wrapped as {"value": ...}."""
        body = {k: ({"value": x} if not isinstance(x, (dict, list)) else x)
                for k, x in fields.items()}
        return self.api("PUT", "/%s%s" % (entity, query), body)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()


def list_gets(log, entity):
    """The list GETs of an entity in a request log (no key in the path)."""
    return [r for r in log if r["method"] == "GET" and
            r["path"].lower().endswith("/%s/%s" % (ENDPOINT, entity.lower()))]


def pages(log, entity):
    """The paged list GETs ($top and $skip) of an entity."""
    return [r for r in list_gets(log, entity) if "$top" in r["query"] and "$skip" in r["query"]]


def max_overlap(reqs):
    """The most requests of reqs in flight at one instant (start/end)."""
    events = sorted([(r["start"], 1) for r in reqs] + [(r["end"], -1) for r in reqs],
                    key=lambda e: (e[0], e[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


# ---- connector-host ---------------------------------------------------------------


class Run:
    def __init__(self, rc, out, err, records=None, results=None):
        self.rc = rc
        self.out = out
        self.err = err
        self.records = records or []
        self.results = results or []

    def ids(self):
        return [r["id"] for r in self.records]

    def __repr__(self):
        return "rc=%s records=%d results=%d\nstderr:\n%s" % (
            self.rc, len(self.records), len(self.results), self.err[-6000:])


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Host:
    """connector-host with one settings file and one state file."""

    def __init__(self, workdir, sim, name="acme", **settings):
        self.dir = workdir
        self.sim = sim
        self.name = name
        self.state = os.path.join(workdir, "%s.state.db" % name)
        self.config = os.path.join(workdir, "%s.json" % name)
        self.n = 0
        self.settings = {}
        self.configure(**settings)

    def configure(self, **settings):
        c = self.sim.config
        s = {"api_url": self.sim.url, "allow_http_loopback": True, "grant_type": "password",
             "username": c["username"], "password": c["password"],
             "client_id": c["client_id"], "client_secret": c["client_secret"],
             "time_zone_offset": "+00:00", "endpoint_version": ENDPOINT}
        s.update(self.settings)
        s.update(settings)
        self.settings = s
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(s, f)

    def _file(self, what):
        self.n += 1
        return os.path.join(self.dir, "%s-%03d-%s" % (self.name, self.n, what))

    def _check_secrets(self, *texts):
        """No secret in connector-host's output, and no sanitizer report
        (the sanitizer builds run these tests too; a report would otherwise
        hide behind an expected non-zero exit code)."""
        issued = set()
        path = os.environ.get("ACU_SIM_SECRETS_FILE")
        if path and os.path.exists(path):
            # Every token, code and cookie the simulators of this run issued.
            with open(path, encoding="utf-8", errors="replace") as f:
                issued = {line.strip() for line in f if len(line.strip()) >= 8}
        for t in texts:
            for s in list(self.sim.secrets) + sorted(issued):
                if s and s in t:
                    raise AssertionError("a secret of the simulator appears in the output")
            for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if mark in t:
                    raise AssertionError("sanitizer report:\n" + t[max(0, t.index(mark) - 200):][:4000])

    def pull_cmd(self, flow, full=False, ids=None, out=None):
        cmd = [HOST, "--state", self.state, "pull", "--plugin", PLUGIN, "--config", self.config,
               "--flow", flow, "--no-progress", "--out", out]
        if full:
            cmd.append("--full")
        if ids is not None:
            cmd += ["--ids", ",".join(ids)]
        return cmd

    def pull(self, flow, full=False, ids=None, timeout=120):
        out = self._file("%s.jsonl" % flow)
        p = subprocess.run(self.pull_cmd(flow, full, ids, out), capture_output=True, text=True,
                           timeout=timeout * SLOW)
        self._check_secrets(p.stdout, p.stderr)
        return Run(p.returncode, p.stdout, p.stderr, records=read_jsonl(out))

    def pull_background(self, flow, full=False):
        """Start a pull; returns (Popen, output path, stderr path)."""
        out = self._file("%s.jsonl" % flow)
        err_path = out + ".stderr"
        err = open(err_path, "w")
        proc = subprocess.Popen(self.pull_cmd(flow, full, None, out), stdout=subprocess.DEVNULL,
                                stderr=err)
        err.close()
        return proc, out, err_path

    def finish_background(self, handle, timeout=120):
        proc, out, err_path = handle
        proc.wait(timeout * SLOW)
        with open(err_path) as f:
            err = f.read()
        self._check_secrets(err)
        return Run(proc.returncode, "", err, records=read_jsonl(out))

    def push(self, flow, records, batch_size=None, timeout=300):
        inp = self._file("%s.in.jsonl" % flow)
        res = self._file("%s.results.jsonl" % flow)
        with open(inp, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
        cmd = [HOST, "--state", self.state, "push", "--plugin", PLUGIN, "--config", self.config,
               "--flow", flow, "--in", inp, "--results", res]
        if batch_size:
            cmd += ["--batch-size", str(batch_size)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * SLOW)
        self._check_secrets(p.stdout, p.stderr)
        return Run(p.returncode, p.stdout, p.stderr, results=read_jsonl(res))

    def cursor(self, flow):
        """The cursor committed in host state for flow (parsed), or None."""
        import sqlite3
        if not os.path.exists(self.state):
            return None
        con = sqlite3.connect("file:%s?mode=ro" % self.state, uri=True, timeout=30)
        try:
            rows = con.execute("SELECT cursor FROM cursors WHERE subscription = ? AND flow = ?",
                               (self.name, flow)).fetchall()
        finally:
            con.close()
        if not rows or rows[0][0] is None:
            return None
        text = rows[0][0]
        return json.loads(text.decode() if isinstance(text, bytes) else text)

    def markers(self):
        """The push markers (push/<flow>/...) left in host state."""
        import sqlite3
        con = sqlite3.connect("file:%s?mode=ro" % self.state, uri=True, timeout=30)
        try:
            return [r[0] for r in con.execute(
                "SELECT key FROM state WHERE subscription = ? AND key LIKE 'push/%'",
                (self.name,))]
        finally:
            con.close()


# ---- test cases -----------------------------------------------------------------


class FlowTestCase(unittest.TestCase):
    """A test with its own directory (self.dir); simulators and hosts it
    starts are stopped at the end."""

    def setUp(self):
        for name, value in (("CONNECTOR_HOST", HOST), ("FLOWS_PLUGIN", PLUGIN), ("SIM", SIM)):
            if not value or not os.path.exists(value):
                self.fail("%s is not set (run through ctest)" % name)
        self._tmp = tempfile.mkdtemp(prefix="flows-%s-" % self._testMethodName[:40])
        self.dir = self._tmp
        self._sims = []
        self.started = time.monotonic()

    def tearDown(self):
        for s in self._sims:
            s.stop()
        if not os.environ.get("FLOWS_KEEP"):
            import shutil
            shutil.rmtree(self._tmp, ignore_errors=True)
        else:
            sys.stderr.write("kept %s\n" % self._tmp)
        sys.stderr.write("%s: %.1f s\n" % (self._testMethodName, time.monotonic() - self.started))

    def start_sim(self, *args):
        sim = Sim(self.dir, *args)
        self._sims.append(sim)
        return sim

    def host(self, sim, name="acme", **settings):
        return Host(self.dir, sim, name, **settings)

    def assert_unique(self, ids, what="records"):
        dup = [k for k, n in collections.Counter(ids).items() if n > 1]
        self.assertEqual(dup, [], "%s delivered more than once: %s" % (what, dup[:10]))

    def assert_schema(self, envelopes):
        """Each record is valid against host-api/schemas/<record_type>."""
        validators = {}
        for e in envelopes:
            t = e["record_type"]
            if t not in validators:
                validators[t] = Validator(os.path.join(ROOT, "host-api", "schemas",
                                                       "%s.schema.json" % t))
            errs = validators[t].errors(e["record"])
            self.assertEqual(errs, [], "%s %s: %s" % (t, e["id"], errs[:3]))


def main():
    unittest.main(verbosity=2)
