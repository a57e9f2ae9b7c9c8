"""The secret scan of the whole test suite: nothing any test of this CTest
run captured contains a test secret.

CTest runs it last (it DEPENDS on every other test; SecretScan.cmake) with:
  ACU_BUILD_DIR         the build tree
  ACU_SIM_SECRETS_FILE  where every simulator of the run recorded each secret
                        it issued or accepted (tests/sim/secrets_log.py)
  ACU_TEST_RUN_START    when the run began (epoch seconds)
the last two set for every test by the file CTest reads before a run.

The secrets: the simulator's default password and client secret
(tests/sim/config.py), every value in the run's secrets file (tokens, codes,
verifiers, cookie values, passwords set by tests), and every `secrets.list`
a test left in the build tree during the run (what the auth harness exported
from host state), each also URL-encoded, JSON-escaped, and the client
credentials as HTTP Basic.

What is scanned: CTest's log of this run so far (Testing/Temporary/
LastTest*.log.tmp: the complete output of every test that has finished,
which is every other test, since this one runs last), and every file under
the build tree changed since the run began, except the inputs that hold
secrets by design (settings files, state databases, key files, the secret
lists) and binaries.

Exit 0 clean; 1 when a secret is found, each finding named by file, line
and (in CTest's log) test, never the value; 77 (skipped) when there is
nothing to scan: no simulator ran in this run. Afterwards the secrets files
of earlier runs are removed (this run's stays, mode 0600, for a look).

    secret_scan.py               the scan (environment from CTest)
    secret_scan.py --self-test   plants secrets in a scratch tree and checks
                                 the scan finds them, and only them
"""
import base64
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "sim"))
MIN_LEN = 8                      # shorter values would match by chance
SKIPPED = 77

# Inputs that hold secrets by design, by file name.
INPUT_SUFFIXES = ("settings.json", ".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite",
                  ".key")
SECRET_LISTS = ("secrets.list",)
PRUNE_DIRS = ("CMakeFiles", ".git")
CTEST_LOG = re.compile(r"^LastTest.*\.log\.tmp$")


def fixed_secrets():
    """(password, client id, client secret) of the simulator's defaults."""
    sys.path.insert(0, SIM_DIR)
    try:
        from config import DEFAULTS
    finally:
        sys.path.remove(SIM_DIR)
    return DEFAULTS["password"], DEFAULTS["client_id"], DEFAULTS["client_secret"]


def read_values(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def forms_of(value):
    """The ways a value can appear in text: as is, URL-encoded (both
    flavours), JSON-escaped (json-c escapes '/')."""
    out = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
           json.dumps(value)[1:-1], json.dumps(value)[1:-1].replace("/", "\\/")}
    return {f for f in out if len(f) >= MIN_LEN}


def basic_forms(client_id, secret):
    """HTTP Basic credentials of a client, as sent raw and form-encoded."""
    out = set()
    for cid, sec in ((client_id, secret),
                     (urllib.parse.quote_plus(client_id), urllib.parse.quote_plus(secret))):
        out.add(base64.b64encode(("%s:%s" % (cid, sec)).encode()).decode())
    return out


def is_input(name):
    return name in SECRET_LISTS or name.endswith(INPUT_SUFFIXES) or \
        (name.startswith("secrets-") and name.endswith(".list"))


def is_binary(path):
    try:
        with open(path, "rb") as f:
            return b"\0" in f.read(8192)
    except OSError:
        return True


def search(forms, paths):
    """[(path, line number, form)] for every line of `paths` holding a form.
    GNU grep -F (many fixed strings at once) when there is one, else Python.
    The forms go to grep through a 0600 file in a private directory."""
    found = []
    if not forms or not paths:
        return found
    grep = shutil.which("grep")
    if grep is None:
        for path in paths:
            with open(path, "rb") as f:
                for n, line in enumerate(f, 1):
                    for form in forms:
                        if form.encode() in line:
                            found.append((path, n, form))
        return found
    with tempfile.TemporaryDirectory(prefix="secret-scan-") as d:
        pat = os.path.join(d, "patterns")
        fd = os.open(pat, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(sorted(forms)) + "\n")
        for i in range(0, len(paths), 200):
            batch = paths[i:i + 200]
            p = subprocess.run([grep, "-F", "-a", "-n", "-o", "-H", "-Z", "-f", pat, "--"] + batch,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode > 1:
                raise RuntimeError("grep failed (%d): %s" % (p.returncode,
                                                            p.stderr.decode(errors="replace")[:500]))
            for rec in p.stdout.split(b"\n"):
                if not rec:
                    continue
                name, _, rest = rec.partition(b"\0")
                num, _, match = rest.partition(b":")
                found.append((name.decode(errors="replace"), int(num),
                              match.decode("utf-8", errors="replace")))
    return found


def ctest_sections(path):
    """[(first line, test name)] of the test outputs in a CTest log, and the
    number of them that are complete (have their end time)."""
    starts, ended = [], 0
    head = re.compile(r"^\d+/\d+ Testing: (.+)$")
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = head.match(line.rstrip("\n"))
            if m:
                starts.append((n, m.group(1)))
            elif line.startswith('"') and '" end time:' in line:
                ended += 1
    return starts, ended


def test_at(sections, line):
    name = None
    for first, test in sections:
        if first > line:
            break
        name = test
    return name


def scan(build_dir, secrets_file, run_start, out=sys.stdout):
    """The scan; returns the exit code. Prints a summary, never a secret."""
    def say(text):
        out.write(text + "\n")

    if not build_dir or not os.path.isdir(build_dir):
        say("SKIPPED: no build tree to scan (ACU_BUILD_DIR=%r)" % build_dir)
        return SKIPPED
    if not secrets_file or not os.path.exists(secrets_file):
        say("SKIPPED: no simulator ran in this run, so there is nothing to look for "
            "(ACU_SIM_SECRETS_FILE=%r does not exist; run the whole suite with ctest)"
            % secrets_file)
        return SKIPPED
    since = run_start - 1 if run_start else 0

    # The secrets, by where they came from.
    password, client_id, client_secret = fixed_secrets()
    origin = {}
    for v in (password, client_secret):
        origin.setdefault(v, "a fixed test secret (tests/sim/config.py)")
    from_sims = read_values(secrets_file)
    for v in from_sims:
        origin.setdefault(v, "a secret a simulator issued or accepted")

    # The files: CTest's log of the run, and what changed under the build tree.
    ctest_logs, files, skipped_inputs, skipped_binary, exported = [], [], 0, 0, 0
    real_secrets = os.path.realpath(secrets_file)
    for root, dirs, names in os.walk(build_dir):
        dirs[:] = [d for d in dirs if d not in PRUNE_DIRS]
        for name in names:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not os.path.isfile(path) or os.path.islink(path) or st.st_mtime < since:
                continue
            if os.path.realpath(path) == real_secrets:
                continue
            if CTEST_LOG.match(name):
                ctest_logs.append(path)
            elif name in SECRET_LISTS:
                for v in read_values(path):
                    origin.setdefault(v, "a secret a test exported from host state")
                exported += 1
            elif is_input(name):
                skipped_inputs += 1
            elif is_binary(path):
                skipped_binary += 1
            else:
                files.append(path)
    short = sum(1 for v in origin if len(v) < MIN_LEN)
    values = sorted(v for v in origin if len(v) >= MIN_LEN)
    index = {v: i + 1 for i, v in enumerate(values)}
    form_of = {}
    for v in values:
        for f in forms_of(v):
            form_of.setdefault(f, v)
    for f in basic_forms(client_id, client_secret):
        form_of.setdefault(f, client_secret)

    paths = ctest_logs + files
    if not paths:
        say("SKIPPED: nothing to scan: no CTest log of this run and no file under %s changed "
            "since it began" % build_dir)
        return SKIPPED
    size = sum(os.path.getsize(p) for p in paths)
    started = time.monotonic()
    found = search(form_of, paths)
    took = time.monotonic() - started

    say("secrets: %d values (%d from simulators, 2 fixed, and what %d secret lists exported "
        "by tests hold), %d forms; %d shorter than %d characters not looked for"
        % (len(values), len({v for v in from_sims if len(v) >= MIN_LEN}), exported,
           len(form_of), short, MIN_LEN))
    sections = {}
    for log in ctest_logs:
        starts, ended = ctest_sections(log)
        sections[log] = starts
        say("CTest log of this run: %s: the output of %d finished tests (%d complete)"
            % (os.path.relpath(log, build_dir), len(starts), ended))
        if ended != len(starts):
            say("WARNING: %d test outputs in %s are incomplete" % (len(starts) - ended, log))
    if not ctest_logs:
        say("no CTest log of this run (not run by ctest?): files only")
    say("scanned %d files, %.1f MB, in %.1f s; skipped %d inputs (settings, state, keys, "
        "secret lists) and %d binaries"
        % (len(paths), size / 1e6, took, skipped_inputs, skipped_binary))
    if not found:
        say("no secret found")
        return 0
    seen = set()
    for path, line, form in found:
        value = form_of.get(form)
        if value is None:                       # grep matched a form we did not give
            continue
        key = (path, line, index[value])
        if key in seen:
            continue
        seen.add(key)
        where = ""
        if path in sections:
            test = test_at(sections[path], line)
            where = " (output of test %s)" % test if test else ""
        say("LEAK: secret #%d, %s, in %s line %d%s"
            % (index[value], origin[value], os.path.relpath(path, build_dir), line, where))
    return 1 if seen else 0


def remove_earlier_lists(secrets_file, run_start):
    """Remove the secrets files of earlier runs (secrets-*.list beside this
    run's, last written before this run began); returns how many."""
    if not secrets_file or not run_start:
        return 0
    directory = os.path.dirname(os.path.abspath(secrets_file))
    removed = 0
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        path = os.path.join(directory, name)
        if not (name.startswith("secrets-") and name.endswith(".list")) or \
                os.path.abspath(path) == os.path.abspath(secrets_file):
            continue
        try:
            if os.path.getmtime(path) < run_start - 1:
                os.remove(path)
                removed += 1
        except OSError:
            pass
    return removed


def main():
    start = os.environ.get("ACU_TEST_RUN_START")
    start = float(start) if start else None
    secrets_file = os.environ.get("ACU_SIM_SECRETS_FILE")
    rc = scan(os.environ.get("ACU_BUILD_DIR"), secrets_file, start)
    remove_earlier_lists(secrets_file, start)
    return rc


# ---- self-test -----------------------------------------------------------------


def _write(path, text, mode="w", mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def self_test():
    """The scan finds planted secrets in every form and place it covers,
    names file, line and test without printing the value, ignores inputs,
    binaries and files older than the run, passes a clean tree, and skips
    when no simulator ran. Both search paths (grep and Python) agree."""
    password, client_id, client_secret = fixed_secrets()
    planted = "pl@nted/sim-issued+token-" + os.urandom(6).hex()
    exported = "exported-verifier-" + os.urandom(6).hex()
    failures = []

    def check(what, ok):
        print("%-72s %s" % (what, "ok" if ok else "FAILED"))
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as b:
        start = time.time()
        secrets_file = os.path.join(b, "Testing", "secret-scan", "secrets-x.list")
        _write(secrets_file, planted + "\nshort\n")
        log = os.path.join(b, "Testing", "Temporary", "LastTest.log.tmp")
        section = ('%d/3 Testing: %s\n%d/3 Test: %s\nOutput:\n%s\n<end of output>\n'
                   '"%s" end time: now\n')
        _write(log, section % (1, "t.clean", 1, "t.clean", "nothing here", "t.clean")
               + section % (2, "t.leaky", 2, "t.leaky",
                            "line one\nAuthorization: code=%s&x=1" % urllib.parse.quote_plus(planted),
                            "t.leaky"))
        _write(os.path.join(b, "tests", "g", "secrets.list"), exported + "\n")
        _write(os.path.join(b, "tests", "g", "run.log"), "ok\nok\n{\"v\":\"%s\"}\n"
               % exported.replace("/", "\\/"))
        basic = base64.b64encode(("%s:%s" % (client_id, client_secret)).encode()).decode()
        _write(os.path.join(b, "tests", "g", "headers.txt"), "Authorization: Basic %s\n" % basic)
        _write(os.path.join(b, "tests", "g", "a.settings.json"), '{"password": "%s"}' % password)
        _write(os.path.join(b, "tests", "g", "state.db"), planted)
        _write(os.path.join(b, "tests", "g", "blob.bin"), b"\0\1" + planted.encode(), "wb")
        _write(os.path.join(b, "tests", "g", "old.log"), planted, mtime=start - 3600)
        _write(os.path.join(b, "tests", "g", "CMakeFiles", "x.log"), planted)

        for use_grep in (True, False):
            label = "grep" if use_grep else "python"
            saved = shutil.which
            if not use_grep:
                shutil.which = lambda name: None
            try:
                buf = io.StringIO()
                rc = scan(b, secrets_file, start, buf)
            finally:
                shutil.which = saved
            text = buf.getvalue()
            leaks = [line for line in text.splitlines() if line.startswith("LEAK:")]
            check("[%s] planted secrets found (exit 1)" % label, rc == 1)
            check("[%s] CTest log: file, line and test named" % label,
                  any("Testing/Temporary/LastTest.log.tmp line 11 (output of test t.leaky)" in x
                      for x in leaks))
            check("[%s] JSON-escaped exported verifier found in run.log line 3" % label,
                  any("tests/g/run.log line 3" in x and "exported" in x for x in leaks))
            check("[%s] client credentials as HTTP Basic found" % label,
                  any("tests/g/headers.txt line 1" in x and "fixed" in x for x in leaks))
            check("[%s] exactly those three findings" % label, len(leaks) == 3)
            check("[%s] inputs, binaries, old files, CMakeFiles not reported" % label,
                  not any(s in " ".join(leaks) for s in ("settings", "state.db", "blob",
                                                          "old.log", "CMakeFiles")))
            check("[%s] no secret value in the report, in any form" % label,
                  not any(f in text for v in (planted, exported, password, client_secret)
                          for f in forms_of(v) | {basic}))
        # Clean: the leaks removed.
        _write(log, section % (1, "t.clean", 1, "t.clean", "nothing here", "t.clean"))
        for name in ("run.log", "headers.txt"):
            os.remove(os.path.join(b, "tests", "g", name))
        buf = io.StringIO()
        check("clean tree passes (exit 0)", scan(b, secrets_file, start, buf) == 0)
        check("the clean report says what it scanned",
              "the output of 1 finished tests" in buf.getvalue())
        # No simulator ran: skipped, never passed.
        buf = io.StringIO()
        check("no secrets file: skipped (77)",
              scan(b, os.path.join(b, "none.list"), start, buf) == SKIPPED)
        buf = io.StringIO()
        check("no build tree: skipped (77)", scan(os.path.join(b, "nope"), secrets_file, start,
                                                  buf) == SKIPPED)
        # The secrets files of earlier runs are removed, this run's kept.
        earlier = os.path.join(os.path.dirname(secrets_file), "secrets-old.list")
        _write(earlier, "x" * 20 + "\n", mtime=start - 3600)
        other = os.path.join(os.path.dirname(secrets_file), "notes.txt")
        _write(other, "keep", mtime=start - 3600)
        check("earlier runs' secrets files removed, this run's and others kept",
              remove_earlier_lists(secrets_file, start) == 1 and not os.path.exists(earlier)
              and os.path.exists(secrets_file) and os.path.exists(other))
        # Nothing changed since the run began: skipped.
        later = time.time() + 3600
        buf = io.StringIO()
        check("nothing changed in the run: skipped (77)",
              scan(b, secrets_file, later + 10, buf) == SKIPPED)
    print("self-test: %s" % ("passed" if not failures else "%d FAILED" % len(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        sys.exit(self_test())
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
