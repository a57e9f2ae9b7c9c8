"""Shared helpers for the host runtime's integration tests (standard library
only): where the binaries are, temporary directories, running
connector-host, starting `connector-host run`, reading its state database
and its JSON-lines log.

The CTest registration passes the paths as environment variables:
CONNECTOR_HOST (the binary), SYNTH_PLUGIN_DIR (the synthetic plugins
acumatica-1.0.0.so, -2.0.0.so and -3.0.0.so, whose init always fails).
"""
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

HOST = os.environ.get("CONNECTOR_HOST", "")
SYNTH_DIR = os.environ.get("SYNTH_PLUGIN_DIR", "")

# Sanitizer builds are slower; timeouts scale with this.
SLOW = float(os.environ.get("HOST_TEST_SLOWNESS", "1"))


def synth(version):
    return os.path.join(SYNTH_DIR, "acumatica-%s.so" % version)


class Run:
    """The result of one connector-host command."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "rc=%s\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


def run_secrets():
    """Every secret a simulator of this test run issued or accepted (the
    suite's ACU_SIM_SECRETS_FILE), at least 8 characters long."""
    path = os.environ.get("ACU_SIM_SECRETS_FILE")
    if not path or not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8", errors="replace") as f:
        return {line.strip() for line in f if len(line.strip()) >= 8}


def check_no_secret(what, text, secrets=None):
    """Fail (naming what, never the value) when text holds a secret."""
    for v in (run_secrets() if secrets is None else secrets):
        if v in text:
            raise AssertionError("a secret issued by the simulator appears in %s" % what)


def host(*args, stdin=None, timeout=120, env=None):
    """Run connector-host with args; return a Run. Its output must hold no
    secret the simulators of this run issued or accepted."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run([HOST] + list(args), input=stdin, capture_output=True, text=True,
                          timeout=timeout * SLOW, env=full_env)
    check_no_secret("the output of connector-host %s" % " ".join(args[:3]),
                    (proc.stdout or "") + (proc.stderr or ""))
    return Run(proc)


def wait_for(what, predicate, timeout=30, every=0.05):
    """Poll predicate until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(every)


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


def write_lines(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def query(db, sql, *params):
    """Rows of a read-only query on the state database (WAL: safe while the
    runtime writes)."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


class Runtime:
    """`connector-host run` in the background, with its log in a file."""

    def __init__(self, config, log, extra_env=None, args=()):
        env = dict(os.environ)
        if extra_env:
            env.update(extra_env)
        self.log = log
        self.stderr_path = log + ".stderr"
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([HOST, "run", "--config", config] + list(args),
                                     stdout=subprocess.DEVNULL, stderr=self.stderr, env=env)

    def lines(self):
        """The JSON log lines so far (a last partial line is skipped)."""
        out = []
        if not os.path.exists(self.log):
            return out
        with open(self.log) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def messages(self):
        return [(l.get("subscription"), l["message"]) for l in self.lines()]

    def wait_log(self, text, timeout=30, sub=None):
        return wait_for("log line '%s'" % text,
                        lambda: [l for l in self.lines() if text in l["message"] and
                                 (sub is None or l.get("subscription") == sub)],
                        timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=60):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout * SLOW)
        finally:
            self.stderr.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def stderr_text(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def maps(self):
        """The shared objects mapped in the runtime right now."""
        with open("/proc/%d/maps" % self.proc.pid) as f:
            return f.read()


class HostTestCase(unittest.TestCase):
    """A test with its own temporary directory (self.dir)."""

    def setUp(self):
        if not HOST or not os.path.exists(HOST):
            self.fail("CONNECTOR_HOST is not set to the connector-host binary")
        self._tmp = tempfile.TemporaryDirectory(prefix="host-it-")
        self.dir = self._tmp.name
        self.runtimes = []

    def tearDown(self):
        for rt in self.runtimes:
            rt.kill()
        try:
            self.check_outputs_hold_no_secret()
        finally:
            self._tmp.cleanup()

    def check_outputs_hold_no_secret(self):
        """The logs, records and results the test left (not its inputs:
        settings and secret files) hold no secret a simulator issued."""
        secrets = run_secrets()
        if not secrets:
            return
        for root, _, names in os.walk(self.dir):
            for name in names:
                if not name.endswith((".log", ".jsonl", ".txt")):
                    continue
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                    check_no_secret(os.path.relpath(os.path.join(root, name), self.dir),
                                    f.read(), secrets)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self, config="host.json", **kw):
        rt = Runtime(self.path(config), self.path("run.log"), **kw)
        self.runtimes.append(rt)
        return rt

    def host_file(self, subscriptions, name="host.json", **top):
        doc = {"plugin_dir": SYNTH_DIR, "state": self.path("state.db"),
               "log": {"file": self.path("run.log"), "format": "json", "level": "debug"},
               "subscriptions": subscriptions}
        doc.update(top)
        write_json(self.path(name), doc)
        return self.path(name)


def main():
    unittest.main(verbosity=2)
