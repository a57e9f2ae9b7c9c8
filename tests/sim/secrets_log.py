"""The secrets file: every secret value the simulator issues or accepts,
written for the test suite's secret scan (tests/integration/auth/secret_scan.py)
and nowhere else.

When the environment variable ACU_SIM_SECRETS_FILE names a file, record()
appends each value to it, one per line; the file is created with mode 0600
(and kept at 0600). Without the variable nothing is written. Values recorded:

  * the configured password and client secret (at start and on every change)
  * authorization codes issued
  * access and refresh tokens issued
  * PKCE code verifiers received with a known authorization code
  * session cookie values (ASP.NET_SessionId and .ASPXAUTH) issued

The variable is read at every call, so an in-process simulator (the
simulator's own tests) follows the environment of the moment. A failure to
write is reported once on stderr, naming the file, never a value.
"""
import os
import sys
import threading

ENV = "ACU_SIM_SECRETS_FILE"

_lock = threading.Lock()
_warned = set()


def record(*values):
    """Append the non-empty string values (one per line) to the secrets
    file, if one is named. Values containing a line break are split."""
    path = os.environ.get(ENV)
    if not path:
        return
    lines = []
    for value in values:
        if isinstance(value, str) and value:
            lines.extend(part for part in value.splitlines() if part)
    if not lines:
        return
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with _lock:
        try:
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, data)          # one write: appends do not interleave
            finally:
                os.close(fd)
        except OSError as exc:
            if path not in _warned:
                _warned.add(path)
                sys.stderr.write("acumatica_sim: cannot record secrets in %s: %s\n"
                                 % (path, exc.strerror or type(exc).__name__))
