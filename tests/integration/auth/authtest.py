"""Shared helpers of the sign-in integration tests: the simulator on port 0,
the harness (acu_auth_harness) and connector-host runs, with every output
captured under ACU_LOG_DIR/<group>/ for the secret scan (secret_scan.py).

Secrets the tests learn (the simulator's password and client secret, codes
they see in redirects, the plugin's tokens exported by the harness) are
appended to <group>/secrets.list, never printed.
"""
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HARNESS = os.environ.get("ACU_HARNESS")
CONNECTOR_HOST = os.environ.get("ACU_CONNECTOR_HOST")
PLUGIN = os.environ.get("ACU_PLUGIN")
SIM = os.environ.get("ACU_SIM")
LOG_DIR = os.environ.get("ACU_LOG_DIR", os.path.join(tempfile.gettempdir(), "acu-auth-logs"))


def _need_env():
    missing = [n for n, v in (("ACU_HARNESS", HARNESS), ("ACU_CONNECTOR_HOST", CONNECTOR_HOST),
                              ("ACU_PLUGIN", PLUGIN), ("ACU_SIM", SIM)) if not v]
    if missing:
        sys.stderr.write("missing environment: %s (run through ctest)\n" % ", ".join(missing))
        sys.exit(2)


class Outputs:
    """The capture directory of one test group."""

    def __init__(self, group):
        self.dir = os.path.join(LOG_DIR, group)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.secrets = os.path.join(self.dir, "secrets.list")
        self.n = 0

    def path(self, name):
        self.n += 1
        return os.path.join(self.dir, "%03d-%s" % (self.n, name))

    def secret(self, *values):
        fd = os.open(self.secrets, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            for v in values:
                if v:
                    f.write(v + "\n")


class Sim:
    """The simulator as a child process on a free port."""

    def __init__(self, out, *args):
        self.out = out
        self.stderr_path = out.path("sim.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([sys.executable, SIM, "--port", "0"] + list(args),
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the simulator did not start")
        self.ca_file = self.proc.stdout.readline().strip() if "--tls" in args else None
        parsed = urllib.parse.urlsplit(self.url)
        self.root = "http://%s" % parsed.netloc
        self.ctl_ctx = None
        if self.ca_file:
            import ssl
            self.root = "https://%s" % parsed.netloc
            self.ctl_ctx = ssl.create_default_context(cafile=self.ca_file)
        self.config = self.get("/_sim/config")
        out.secret(self.config["password"], self.config["client_secret"])

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=self.ctl_ctx) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def get(self, path):
        return self._call("GET", path)

    def post(self, path, body):
        return self._call("POST", path, body)

    def set(self, **config):
        return self.post("/_sim/config", config)

    def faults(self, rules):
        return self.post("/_sim/faults", rules)

    def requests(self):
        return self.get("/_sim/requests")

    def stats(self):
        return self.get("/_sim/stats")

    def stop(self):
        try:
            with open(self.out.path("sim-requests.json"), "w") as f:
                json.dump(self.requests(), f)
        except Exception:                                   # the log is best effort
            pass
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stdout.close()
        self.stderr.close()

    # Settings files for the plugin.
    def settings(self, grant, **extra):
        c = self.config
        s = {"api_url": self.url, "time_zone_offset": "-05:00", "grant_type": grant}
        if self.url.startswith("http:"):
            s["allow_http_loopback"] = True
        if grant in ("authorization_code", "password"):
            s["client_id"] = c["client_id"]
            s["client_secret"] = c["client_secret"]
        if grant in ("password", "cookie"):
            s["username"] = c["username"]
            s["password"] = c["password"]
        if grant == "cookie":
            s["tenant"] = c["tenant"]
        s.update(extra)
        return s


def write_config(out, settings, name="settings.json"):
    """Write a settings file; the name ends in .settings.json, which the
    secret scan skips (settings hold the password by design)."""
    base = name[:-5] if name.endswith(".json") else name
    path = out.path(base + ".settings.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(settings, f)
    return path


_HARNESS_RUNS = itertools.count(1)


class Harness:
    """Runs acu_auth_harness; results are the parsed JSON lines."""

    def __init__(self, out, state):
        self.out = out
        self.state = state

    def start(self, settings, steps, clock_offset_ms=0, subscription="sub"):
        # Each process its own output files: two may run at once, and the
        # secret scan reads them all afterwards.
        name = "harness-%d" % next(_HARNESS_RUNS)
        cfg = write_config(self.out, settings)
        stdout = open(self.out.path(name + ".stdout"), "w+")
        log = self.out.path(name + ".log")
        stderr = open(self.out.path(name + ".stderr"), "w")
        cmd = [HARNESS, "--plugin", PLUGIN, "--config", cfg, "--state", self.state,
               "--subscription", subscription, "--clock-offset-ms", str(clock_offset_ms),
               "--log", log] + list(steps)
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        return proc, stdout, stderr, log

    def finish(self, handle, timeout=120):
        proc, stdout, stderr, log = handle
        proc.wait(timeout)
        stdout.seek(0)
        lines = [json.loads(x) for x in stdout.read().splitlines() if x.strip()]
        stdout.close()
        stderr.close()
        with open(log) as f:
            self.last_log = f.read()
        if proc.returncode != 0:
            raise AssertionError("harness exited %d" % proc.returncode)
        return lines

    def run(self, settings, *steps, clock_offset_ms=0, subscription="sub"):
        return self.finish(self.start(settings, steps, clock_offset_ms, subscription))

    def export(self, settings, subscription="sub"):
        """Add the plugin's stored token values to the scan list."""
        self.run(settings, "@export-secrets:" + self.out.secrets, subscription=subscription)


def host(out, *args, stdin=None, background=False):
    """Run connector-host; returns (exit code, stdout, stderr) or the Popen."""
    so = open(out.path("host.stdout"), "w+")
    se = open(out.path("host.stderr"), "w+")
    proc = subprocess.Popen([CONNECTOR_HOST] + list(args), stdout=so, stderr=se,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            text=True)
    if background:
        proc.files = (so, se)
        return proc
    proc.communicate(stdin, timeout=120)
    return _collect(proc, so, se)


def host_wait(proc, timeout=60):
    proc.wait(timeout)
    return _collect(proc, *proc.files)


def _collect(proc, so, se):
    so.seek(0)
    se.seek(0)
    res = (proc.returncode, so.read(), se.read())
    so.close()
    se.close()
    return res


def follow(url, ctx=None):
    """GET url without following redirects: (status, Location)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    handlers = [NoRedirect()]
    if ctx is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ctx))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=30) as resp:
            return resp.status, resp.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location")


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def wait_for_line(path, prefix, timeout=30):
    """The first line of a growing file that starts with prefix."""
    end = time.time() + timeout
    while time.time() < end:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.strip()
        time.sleep(0.05)
    raise AssertionError("no line starting with %r in %s" % (prefix, path))


_need_env()


class SimTestCase(unittest.TestCase):
    """A simulator per test class (started with sim_args), reset before each
    test, with a fresh harness on the class's state file."""
    sim_args = ()

    @classmethod
    def setUpClass(cls):
        cls.out = Outputs(cls.__name__)
        cls.sim = Sim(cls.out, *cls.sim_args)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.post("/_sim/reset", {})
        self.state = self.out.path("state.db")
        self.h = Harness(self.out, self.state)

    def step(self, lines, n):
        """The harness's answer to step n."""
        for line in lines:
            if line.get("step") == n:
                return line
        self.fail("no result for step %d in %r" % (n, lines))

    def last_id(self):
        """The id of the simulator's newest logged request (0: none)."""
        log = self.sim.requests()
        return log[-1]["id"] if log else 0
