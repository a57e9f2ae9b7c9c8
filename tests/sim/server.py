"""The simulator's HTTP/1.1 server and request routing.

Routing (paths compared case-insensitively, like IIS):
  /_sim/...                      control interface (control.py), never logged,
                                 limited or faulted
  <site>/identity/...            OAuth (oauth.py)
  <site>/entity/auth/login       cookie sign-in   (license queue applies)
  <site>/entity/auth/logout      sign-out         (never queued)
  <site>/entity[/...]            auth check (cookie session or bearer) ->
                                 license limits -> EntityService.handle
  anything else                  404

Every site request is logged (reqlog.py) and may be hit by a fault rule
(faults.py) before it is handled. Responses always carry Content-Length
(except 204/304, which have no body by definition); keep-alive is the
HTTP/1.1 default; a client that sends Accept-Encoding: gzip gets bodies of
512 bytes or more gzip-compressed.
"""
import email.utils
import gzip
import json
import select
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import wire
from clock import Clock
from config import Config
from control import ControlInterface
from faults import FaultInjector, status_reply
from http_types import Response
from limits import Declined, LicenseLimiter
from oauth import OAuthService
from reqlog import RequestLog, Stats
from sessions import (SeatLimitReached, SessionManager, handle_login, handle_logout,
                      secure_flag, session_cookies)

MAX_BODY = 64 * 1024 * 1024
GZIP_MIN = 512


class _MissingEntityService:
    """Stands in until tests/sim/entity_api.py exists: data requests get 501."""

    def handle(self, method, subpath, query, body, headers, session):
        return wire.json_reply(501, {"message": "The entity service is not available "
                                                "(tests/sim/entity_api.py missing)."})

    def reset(self):
        pass

    def seed(self, params):
        return {}

    def records(self, entity, version=None):
        return []


def load_entity_service(config, clock):
    try:
        import entity_api
    except ModuleNotFoundError as exc:
        if exc.name != "entity_api":
            raise
        return _MissingEntityService()
    return entity_api.EntityService(config, clock)


class Simulator:
    """All the state of one simulated instance, and its HTTP server."""

    def __init__(self, config_overrides=None, entity_service=None, seed_params=None,
                 verbose=False):
        self.config = Config(config_overrides)
        self.clock = Clock()
        self.stats = Stats()
        self.log = RequestLog(self.stats)
        self.sessions = SessionManager(self.config, self.clock, self.stats)
        self.oauth = OAuthService(self.config, self.clock, self.sessions, self.stats)
        self.limiter = LicenseLimiter(self.config, self.stats)
        self.faults = FaultInjector(self.stats)
        self.entities = entity_service or load_entity_service(self.config, self.clock)
        self.control = ControlInterface(self)
        self.startup_config = self.config.snapshot()
        self.seed_params = seed_params
        self.verbose = verbose
        self.httpd = None
        self.tls = False
        self._thread = None

    # ---- lifecycle -------------------------------------------------------------------
    def bind(self, port=0, tls_context=None):
        """Listen on 127.0.0.1:port (0 = any free port)."""
        self.httpd = _Server(("127.0.0.1", port), _Handler)
        self.httpd.sim = self
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(
                self.httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.tls = True
        return self.base_url

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def root_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    @property
    def base_url(self):
        return self.root_url + self.config.get("site_path").rstrip("/")

    def seed_at_start(self):
        if self.seed_params:
            return self.entities.seed(dict(self.seed_params))
        return None

    def start(self, port=0, tls_context=None):
        """Bind and serve in a daemon thread (tests). Returns the base URL."""
        self.bind(port, tls_context)
        self.seed_at_start()
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self.base_url

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self):
        if self.httpd is not None:
            if self._thread is not None:
                self.httpd.shutdown()
                self._thread.join(5)
            self.httpd.server_close()

    def reset(self):
        """Back to the state at start: configuration, clock, sessions, tokens,
        faults, limits, log and counters, data (re-seeded as at start)."""
        self.config.update(self.startup_config)
        self.clock.set_offset(0)
        self.sessions.reset()
        self.oauth.reset()
        self.faults.clear()
        self.limiter.reset()
        self.log.clear()
        self.stats.clear()
        self.entities.reset()
        self.seed_at_start()

    # ---- routing ---------------------------------------------------------------------
    def route(self, req):
        """The Response for one site request (`req.subpath` after the site path)."""
        low = req.subpath.lower()
        if low == "/identity" or low.startswith("/identity/"):
            return self.oauth.handle(req, req.subpath[len("/identity"):])
        if low in ("/entity/auth/login", "/entity/auth/logout"):
            if req.method != "POST":
                return wire.json_reply(405, {"message": "The requested resource does not "
                                             "support http method '%s'." % req.method},
                                       [("Allow", "POST")])
            if low.endswith("logout"):
                return handle_logout(req, self.sessions, self._bearer_grant_id(req))
            return self._limited(lambda: handle_login(req, self.sessions, self.config))
        if low == "/entity" or low.startswith("/entity/"):
            return self._entity(req)
        return wire.not_found_outside_site()

    def _bearer_grant_id(self, req):
        auth = req.headers.get("authorization", "")
        if auth[:7].lower() != "bearer ":
            return None
        token = self.oauth.access_token(auth[7:].strip())
        return token.grant.id if token is not None else None

    def _limited(self, work, on_decline=None):
        """Run `work` inside the license limits; 429 when the queue declines."""
        try:
            slot = self.limiter.admit()
        except Declined:
            if on_decline is not None:
                on_decline()
            return wire.license_limit_exceeded(self.config.get("license_retry_after"))
        try:
            return work()
        finally:
            self.limiter.release(slot)

    def authenticate(self, req):
        """(session dict, Set-Cookie headers) for a data request, or a Response."""
        auth = req.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            token = self.oauth.access_token(auth[7:].strip())
            if token is None or not token.has("api"):
                self.stats.inc("unauthorized")
                return wire.not_logged_in()
            grant = token.grant
            cookies = []
            try:
                if token.has("api:concurrent_access"):
                    session = self.sessions.find(req.cookies)
                    if session is None or session.grant_id != grant.id:
                        session = self.sessions.open("oauth", grant.user, grant.tenant,
                                                     self.config.get("branch"), grant_id=grant.id)
                        cookies = session_cookies(session, self.config,
                                                  secure_flag(self.config, req.tls))
                        info = session.describe()
                        info.update(kind="bearer", scope=" ".join(token.scopes))
                        info["_new_session"] = session
                        return info, cookies
                else:
                    session, _ = self.sessions.for_grant(
                        grant.id, grant.user, grant.tenant, self.config.get("branch"),
                        self.oauth.session_end(grant, token.expires))
            except SeatLimitReached:
                return wire.api_login_limit()
            info = session.describe()
            info.update(kind="bearer", scope=" ".join(token.scopes))
            return info, cookies
        session = self.sessions.find(req.cookies)
        if session is None:
            self.stats.inc("unauthorized")
            return wire.not_logged_in()
        info = session.describe()
        info["kind"] = "cookie"
        return info, []

    def _entity(self, req):
        low = req.subpath.lower().rstrip("/")
        if low == "/entity" and req.method == "GET" and not self._has_credentials(req):
            session, cookies = {"kind": "anonymous"}, []     # the endpoint list is public
        else:
            auth = self.authenticate(req)
            if isinstance(auth, Response):
                return auth
            session, cookies = auth
        fresh = session.pop("_new_session", None)

        def forget_session():
            # The request never ran: the session it opened is not kept.
            if fresh is not None:
                self.sessions.close(fresh, "declined")

        def work():
            try:
                reply = self.entities.handle(req.method, req.subpath, req.query, req.body or None,
                                             req.headers, session)
            except Exception:                              # a bug in the data side
                traceback.print_exc(file=sys.stderr)
                return wire.http_error(500, "Simulator error while handling the request.",
                                       "System.Exception")
            if cookies:
                reply = Response(reply.status, list(reply.headers) + cookies, reply.body)
            return reply
        return self._limited(work, forget_session)

    @staticmethod
    def _has_credentials(req):
        return bool(req.headers.get("authorization") or req.cookies.get(".ASPXAUTH"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256
    _connections = 0
    _connections_lock = threading.Lock()

    def next_connection(self):
        """A number for a newly accepted TCP connection: 1, 2, ..."""
        with self._connections_lock:
            self._connections += 1
            return self._connections

    def handle_error(self, request, client_address):
        """Clients that vanish or fail the TLS handshake are normal here."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class _BodyError(Exception):
    def __init__(self, reply):
        super().__init__(reply.status)
        self.reply = reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AcumaticaSim/1.0"
    sys_version = ""
    timeout = 120              # idle keep-alive connections are closed after this

    def setup(self):
        super().setup()
        self.connection_number = self.server.next_connection()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        """The Date header follows the simulator's clock (moved by
        POST /_sim/clock), as a real server's Date follows its own clock:
        clients derive the server's time from it."""
        if timestamp is None:
            timestamp = self.server.sim.clock.now()
        return email.utils.formatdate(timestamp, usegmt=True)

    def log_request(self, code="-", size="-"):
        pass

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # ---- request side ----------------------------------------------------------------
    def _read_body(self, strict):
        """The request body (b"" if none). With `strict`, a POST/PUT/PATCH
        without Content-Length or chunked encoding is refused with 411."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        length = self.headers.get("Content-Length")
        if "chunked" in te:
            return self._read_chunked()
        if length is None:
            if strict and self.command in ("POST", "PUT", "PATCH"):
                self.close_connection = True
                raise _BodyError(wire.length_required())
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise _BodyError(wire.iis_error(400, "Bad Request", "HTTP Error 400. Invalid Content-Length."))
        if n > MAX_BODY:
            self.close_connection = True
            raise _BodyError(wire.iis_error(413, "Request Entity Too Large", "HTTP Error 413."))
        data = self.rfile.read(n)
        if len(data) != n:
            self.close_connection = True
            raise ConnectionError("short body")
        return data

    def _read_chunked(self):
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ConnectionError("eof in chunked body")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise _BodyError(wire.iis_error(400, "Bad Request", "HTTP Error 400. Bad chunk."))
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                raise _BodyError(wire.iis_error(413, "Request Entity Too Large", "HTTP Error 413."))
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)

    # ---- response side ---------------------------------------------------------------
    def _send(self, reply, slow_bps=None, on_last=None, stall_ms=None, on_abandon=None):
        """Write the response. `on_last()` runs just before the last bytes are
        handed to the socket, so whoever has seen the whole response can
        already find it in the request log. With `stall_ms` the head and half
        the body go out (an answer without a body: the head without its final
        blank line), then nothing for that long; a client that closes the
        connection meanwhile gets no more and `on_abandon()` runs instead."""
        body = reply.body or b""
        headers = list(reply.headers)
        status = reply.status
        no_body = status in (204, 304) or 100 <= status < 200
        if (body and not no_body and len(body) >= GZIP_MIN and not reply.header("Content-Encoding")
                and _accepts_gzip(self.headers.get("Accept-Encoding", ""))):
            body = gzip.compress(body, compresslevel=1)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "date", "server", "transfer-encoding"):
                self.send_header(name, value)
        if not no_body:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        if stall_ms and (no_body or not body):
            # Nothing to cut in half: the head goes out without its final
            # blank line, the pause, then the blank line.
            self.flush_headers()
            self._send_stalled(b"\r\n", stall_ms, on_last, on_abandon, cut=0)
            return
        if no_body or not body or not (slow_bps or stall_ms):
            # Head and body in one send: separate small writes would meet
            # Nagle + delayed ACK and cost ~40 ms per response.
            self._headers_buffer.append(b"\r\n")
            if not no_body and body:
                self._headers_buffer.append(body)
            if on_last:
                on_last()
            self.flush_headers()
            return
        self.end_headers()
        if stall_ms:
            self._send_stalled(body, stall_ms, on_last, on_abandon)
            return
        step = max(1, slow_bps // 10)
        for i in range(0, len(body), step):
            chunk = body[i:i + step]
            if i + step >= len(body) and on_last:
                on_last()
            self.wfile.write(chunk)
            time.sleep(len(chunk) / float(slow_bps))

    def _send_stalled(self, body, stall_ms, on_last, on_abandon, cut=None):
        """The stall_body fault, after the head has gone out: `cut` bytes of
        the body (default half), a pause of stall_ms, the rest. The pause
        ends early when the connection becomes readable: the client gave up
        (closed it) - a client has nothing else to send in the middle of an
        answer."""
        if cut is None:
            cut = len(body) // 2
        if cut:
            self.wfile.write(body[:cut])
        readable, _, _ = select.select([self.connection], [], [], stall_ms / 1000.0)
        if readable:
            self.close_connection = True
            if on_abandon:
                on_abandon()
            return
        if on_last:
            on_last()
        self.wfile.write(body[cut:])

    def _drop(self):
        """Cut the connection at once (RST), nothing more is sent."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    # ---- dispatch --------------------------------------------------------------------
    def _dispatch(self):
        sim = self.server.sim
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        headers = wire.Headers(self.headers.items())
        if path == "/_sim" or path.startswith("/_sim/"):
            self._control(sim, path, query, headers)
            return
        entry = sim.log.begin(self.command, path, query, connection=self.connection_number,
                              peer_port=self.client_address[1])
        extra = {}
        done = []

        def finish(status):
            """Complete the log entry (once)."""
            if done:
                return
            done.append(status)
            sim.log.end(entry, status, **extra)
            if sim.verbose:
                sys.stderr.write("%s %s %s %s %.3fs%s\n" % (
                    self.command, path, json.dumps(entry["query"]) if query else "",
                    status if status is not None else "dropped", entry["end"] - entry["start"],
                    " fault=" + extra["fault"] if extra.get("fault") else ""))
        try:
            self._site(sim, path, split.query, query, headers, extra, finish)
        except (ConnectionError, socket.timeout, ssl.SSLError):
            self.close_connection = True
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not done:
                try:
                    reply = wire.http_error(500, "Simulator error.", "System.Exception")
                    self._send(reply, on_last=lambda: finish(500))
                except OSError:
                    pass
        finally:
            finish(None)

    def _control(self, sim, path, query, headers):
        try:
            body = self._read_body(strict=False)
        except _BodyError as exc:
            self._send(exc.reply)
            return
        req = wire.Request(self.command, path, path, query, headers, body, sim.tls,
                           self.client_address)
        try:
            reply = sim.control.handle(req)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            reply = wire.json_reply(500, {"error": "control failure: %s" % type(exc).__name__})
        self._send(reply)

    def _site(self, sim, path, raw_query, query, headers, extra, finish):
        """Handle one site request. `extra` collects log fields; `finish(status)`
        completes the log entry (status None = connection dropped)."""
        def send(reply, slow_bps=None, stall_ms=None):
            def abandoned():
                # The client gave up during a stall: what it never fully got.
                extra["handled_status"] = reply.status
                finish(None)
            self._send(reply, slow_bps, on_last=lambda: finish(reply.status), stall_ms=stall_ms,
                       on_abandon=abandoned)

        try:
            body = self._read_body(strict=True)
        except _BodyError as exc:
            send(exc.reply)
            return
        site = sim.config.get("site_path").rstrip("/")
        if not (path.lower() == site.lower() or path.lower().startswith(site.lower() + "/")):
            send(wire.not_found_outside_site())
            return
        subpath = path[len(site):] or "/"
        rule = sim.faults.match(self.command, subpath, raw_query)
        if rule is not None:
            extra.update(fault=rule.kind, fault_rule=rule.name)
            if rule.delay_ms:
                time.sleep(rule.delay_ms / 1000.0)
            if rule.kind == "reset":
                sim.stats.inc("dropped_connections")
                finish(None)
                self._drop()
                return
            if rule.kind == "status":
                send(status_reply(rule))
                return
        req = wire.Request(self.command, path, subpath, query, headers, body, sim.tls,
                           self.client_address)
        reply = sim.route(req)
        if rule is not None and rule.kind == "commit_then_drop":
            sim.stats.inc("dropped_connections")
            extra["handled_status"] = reply.status
            finish(None)
            self._drop()
            return
        send(reply, slow_bps=rule.slow_body if rule is not None else None,
             stall_ms=rule.stall_body if rule is not None else None)


def _accepts_gzip(accept_encoding):
    for item in accept_encoding.split(","):
        parts = [p.strip() for p in item.split(";")]
        if parts[0].lower() in ("gzip", "x-gzip"):
            for param in parts[1:]:
                if param.startswith("q="):
                    try:
                        return float(param[2:]) > 0
                    except ValueError:
                        return False
            return True
    return False
