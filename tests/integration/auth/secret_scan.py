"""The secret scan: nothing the sign-in integration tests captured - the
harness and connector-host outputs and logs, the simulator's request log and
stderr, CTest's own output files - contains a test secret: the simulator's
password and client secret, an authorization code a test saw, or a token or
verifier the plugin stored (exported by the harness into secrets.list).

Exit 0 clean, 1 with the files named (never the secret), 77 when no test has
run yet (nothing to scan).
"""
import glob
import os
import sys
import urllib.parse

LOG_DIR = os.environ.get("ACU_LOG_DIR")
CTEST_DIR = os.environ.get("ACU_CTEST_LOG_DIR")


def self_test():
    """The scan finds a planted secret, in plain and URL-encoded form, and
    passes a clean directory."""
    import tempfile
    global LOG_DIR, CTEST_DIR
    saved = LOG_DIR, CTEST_DIR
    with tempfile.TemporaryDirectory() as d:
        LOG_DIR, CTEST_DIR = d, None
        os.makedirs(os.path.join(d, "G"))
        with open(os.path.join(d, "G", "secrets.list"), "w") as f:
            f.write("pl@nted/secret+value\n")
        with open(os.path.join(d, "G", "clean.log"), "w") as f:
            f.write("nothing here\n")
        with open(os.path.join(d, "G", "x.settings.json"), "w") as f:
            f.write("pl@nted/secret+value")          # an input: skipped
        ok_clean = main() == 0
        with open(os.path.join(d, "G", "leak.log"), "w") as f:
            f.write("password=pl%40nted%2Fsecret%2Bvalue\n")
        ok_leak = main() == 1
    LOG_DIR, CTEST_DIR = saved
    print("self-test: clean %s, planted leak %s" % ("passed" if ok_clean else "FAILED",
                                                    "found" if ok_leak else "MISSED"))
    return 0 if ok_clean and ok_leak else 1


def main():
    if not LOG_DIR or not os.path.isdir(LOG_DIR):
        print("nothing to scan: %s does not exist (run the integration tests first)" % LOG_DIR)
        return 77
    secrets = set()
    for path in glob.glob(os.path.join(LOG_DIR, "*", "secrets.list")):
        with open(path) as f:
            secrets.update(line.strip() for line in f if len(line.strip()) >= 8)
    if not secrets:
        print("nothing to scan: no secrets.list under %s" % LOG_DIR)
        return 77
    forms = {}
    for i, s in enumerate(sorted(secrets)):
        for form in (s, urllib.parse.quote(s, safe=""), urllib.parse.quote_plus(s)):
            forms[form.encode()] = i
    files = []
    for root, _, names in os.walk(LOG_DIR):
        for name in names:
            # The inputs: settings files hold the password by design, the
            # state database holds the (encrypted) tokens, secrets.list the
            # list itself.
            if name == "secrets.list" or name.endswith(".settings.json") \
                    or name.endswith((".db", ".db-wal", ".db-shm", ".key")):
                continue
            files.append(os.path.join(root, name))
    if CTEST_DIR and os.path.isdir(CTEST_DIR):
        files += glob.glob(os.path.join(CTEST_DIR, "LastTest*.log"))
    leaks = []
    scanned = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        scanned += len(data)
        for form, i in forms.items():
            if form in data:
                leaks.append((path, i))
    kinds = {"tokens/codes/verifiers/passwords": len(secrets)}
    print("scanned %d files (%d bytes) for %d secret values %s" % (len(files), scanned,
                                                                  len(secrets), kinds))
    if leaks:
        for path, i in sorted(set(leaks)):
            print("LEAK: secret #%d appears in %s" % (i, path))
        return 1
    print("no secret found")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        sys.exit(self_test())
    sys.exit(main())
