"""Shared helpers of the end-to-end benchmarks (tests/bench/bench_*.py).

Each benchmark starts its own simulator, writes a settings file, runs
`connector-host` (the reference host loading the plugin through the real
loader) as a child process and measures that child exactly: CPU (user +
system) and peak resident memory from the rusage wait4() returns, wall time
from a monotonic clock around the child. Benchmarks print figures; nothing
here passes or fails.

Python standard library only. The simulator's test credentials go only into
files of mode 0600 in a private temporary directory; nothing printed carries
a password, secret or token.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIM = os.path.join(ROOT, "tests", "sim", "acumatica_sim.py")
ENDPOINT = "22.200.001"


# ---- the build -----------------------------------------------------------------

def _version_key(name):
    return [int(x) if x.isdigit() else x for x in re.split(r"[.-]", name)]


def find_build(build_dir):
    """(connector-host path, plugin path) of a build directory."""
    build_dir = os.path.abspath(build_dir)
    host = os.path.join(build_dir, "bin", "connector-host")
    pdir = os.path.join(build_dir, "plugins")
    plugins = sorted((f for f in os.listdir(pdir) if f.startswith("acumatica-") and f.endswith(".so"))
                     if os.path.isdir(pdir) else [], key=_version_key)
    if not os.access(host, os.X_OK) or not plugins:
        sys.exit("bench: no connector-host or plugin in %s; build it first "
                 "(cmake --build %s)" % (build_dir, build_dir))
    return host, os.path.join(pdir, plugins[-1])


def build_type(build_dir):
    """CMAKE_BUILD_TYPE of a build directory ('' when unknown)."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


# ---- a work directory ------------------------------------------------------------

class WorkDir:
    """A private temporary directory (mode 0700), removed unless kept."""

    def __init__(self, name, keep=False):
        self.path = tempfile.mkdtemp(prefix="acu-bench-%s-" % name)
        self.keep = keep

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def close(self):
        if self.keep:
            print("(work files kept in %s)" % self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


# ---- the simulator -----------------------------------------------------------------

class Simulator:
    """The simulator as a child process on a free port.

    `script` may name a wrapper with the simulator's command line (see
    sim_recent.py)."""

    def __init__(self, work, *args, script=SIM):
        self.log = open(work("simulator.log"), "w")
        self.proc = subprocess.Popen([sys.executable, script, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.stop()
            sys.exit("bench: the simulator did not start; see %s" % work("simulator.log"))
        self.root = self.url[:self.url.index("/", len("http://"))]
        self.config = self.call("GET", "/config")

    def call(self, method, path, body=None, timeout=600):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + "/_sim" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def seed(self, **params):
        return self.call("POST", "/seed", params)

    def requests(self):
        return self.call("GET", "/requests")

    def clear_requests(self):
        self.call("DELETE", "/requests")

    def rss_kib(self):
        return proc_status(self.proc.pid).get("VmRSS", 0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()

    def token(self):
        """An access token with the password grant (as a connected application
        would get one); for plain curl. Never printed."""
        c = self.config
        form = urllib.parse.urlencode({"grant_type": "password", "username": c["username"],
                                       "password": c["password"], "client_id": c["client_id"],
                                       "client_secret": c["client_secret"], "scope": "api"})
        req = urllib.request.Request(self.url + "/identity/connect/token", data=form.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())["access_token"]


def settings(sim, **extra):
    """Plugin settings for the simulator: password grant, +00:00, 22.200.001."""
    c = sim.config
    s = {"api_url": sim.url, "allow_http_loopback": True, "grant_type": "password",
         "username": c["username"], "password": c["password"], "client_id": c["client_id"],
         "client_secret": c["client_secret"], "time_zone_offset": "+00:00",
         "endpoint_version": ENDPOINT}
    s.update(extra)
    return s


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def write_settings(path, s):
    write_private(path, json.dumps(s, indent=2) + "\n")


# ---- measured children -------------------------------------------------------------

def proc_status(pid):
    """Fields of /proc/<pid>/status in KiB (VmRSS, VmHWM, ...); {} when gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                v = v.split()
                if len(v) == 2 and v[1] == "kB":
                    out[k] = int(v[0])
    except OSError:
        pass
    return out


class Measured:
    """What one child cost: wall seconds, CPU seconds (user, sys), peak RSS."""

    def __init__(self, rc, wall, user, sys_, maxrss_kib, hwm_kib, stdout, stderr):
        self.rc, self.wall, self.user, self.sys = rc, wall, user, sys_
        self.cpu = user + sys_
        self.maxrss_kib = maxrss_kib
        self.hwm_kib = hwm_kib          # largest VmHWM sampled while it ran
        self.stdout, self.stderr = stdout, stderr


def run_measured(cmd, work, name, sample_every=0.1, env=None, stdin_path=None):
    """Run cmd as a child; its stdout/stderr go to files in work. Returns a
    Measured from wait4() (the child's own rusage)."""
    out_path, err_path = work(name + ".stdout"), work(name + ".stderr")
    hwm = [0]
    stop = threading.Event()
    with open(out_path, "w") as out, open(err_path, "w") as err, \
            open(stdin_path or os.devnull) as stdin:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=stdin, env=env)

        def sample():
            while not stop.wait(sample_every):
                hwm[0] = max(hwm[0], proc_status(proc.pid).get("VmHWM", 0))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as f:
        stdout = f.read()
    with open(err_path) as f:
        stderr = f.read()
    return Measured(proc.returncode, wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, hwm[0],
                    stdout, stderr)


def host_cmd(host, state, *args):
    return [host, "--state", state, *args]


def check_rc(m, what, ok=(0,)):
    if m.rc not in ok:
        tail = "\n".join(m.stderr.strip().splitlines()[-15:])
        sys.exit("bench: %s exited %d:\n%s" % (what, m.rc, tail))


# ---- output ------------------------------------------------------------------------

def table(headers, rows, aligns=None):
    """Print a plain-text table (right-aligned numbers)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    aligns = aligns or ["<"] + [">"] * (len(headers) - 1)
    fmt = "  ".join("{:%s%d}" % (a, w) for a, w in zip(aligns, widths))
    print(fmt.format(*headers))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print(fmt.format(*r))


def banner(title):
    print()
    print("== " + title)


def machine():
    """One line: CPU model, cores, kernel, load (the figures depend on it)."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Linux %s, load average %.1f" % (
        model, os.cpu_count() or 0, os.uname().release, os.getloadavg()[0])


def page_requests(log, entity):
    """The GET page requests ($top and $skip) of an entity in a request log."""
    suffix = "/" + entity
    return [e for e in log
            if e["method"] == "GET" and e["path"].endswith(suffix)
            and "$skip" in e.get("query", {})]


def url_of(sim, entry):
    """The full URL of a request-log entry (its query re-encoded)."""
    q = urllib.parse.urlencode(entry["query"], quote_via=urllib.parse.quote, safe="$")
    return sim.root + urllib.parse.quote(entry["path"]) + ("?" + q if q else "")
