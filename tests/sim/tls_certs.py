"""A throw-away CA and server certificate for --tls, made with the openssl CLI.

Files go to a fresh temporary directory: ca.pem (the CA the client trusts),
server.pem + server.key (CN 127.0.0.1, SAN IP:127.0.0.1 and DNS:localhost).
Keys are EC P-256 (fast to make); the CA is valid for 30 days.
"""
import os
import shutil
import ssl
import subprocess
import tempfile

_SERVER_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


def _openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certificates(directory=None):
    """Create the CA and server certificate; returns a dict of paths."""
    d = directory or tempfile.mkdtemp(prefix="acumatica-sim-tls-")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(["req", "-x509"] + ec + [
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-sha256",
        "-subj", "/CN=Acumatica Simulator Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    _openssl(["req", "-new"] + ec + [
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], d)
    with open(os.path.join(d, "server.ext"), "w") as fh:
        fh.write(_SERVER_EXT)
    _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-out", "server.pem", "-days", "30", "-sha256",
              "-extfile", "server.ext"], d)
    os.chmod(os.path.join(d, "ca.key"), 0o600)
    os.chmod(os.path.join(d, "server.key"), 0o600)
    return {"dir": d, "ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
            "key": os.path.join(d, "server.key")}


def server_context(paths):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths["cert"], paths["key"])
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def remove(paths):
    shutil.rmtree(paths["dir"], ignore_errors=True)
