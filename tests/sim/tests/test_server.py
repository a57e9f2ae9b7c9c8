"""The HTTP layer: keep-alive, Content-Length, gzip, chunked bodies, routing,
robustness against malformed requests."""
import gzip
import http.client
import json
import socket
import unittest

from simtest import SimCase

ORDERS = "/entity/Default/22.200.001/SalesOrder"


def raw_exchange(port, data, read=65536, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                part = s.recv(read)
                if not part:
                    break
                chunks.append(part)
                if b"\r\n\r\n" in b"".join(chunks):
                    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                    length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if length and len(body) >= int(length[0].split(b":")[1]):
                        break
        except socket.timeout:
            pass
        return b"".join(chunks)


class ServerTest(SimCase):
    def setUp(self):
        super().setUp()
        self.tok = self.password_grant("api")["access_token"]
        self.auth = {"Authorization": "Bearer " + self.tok}

    def test_keep_alive_reuses_the_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.sim.port, timeout=5)
        socks = []
        for _ in range(3):
            conn.request("GET", self.site + ORDERS, headers=self.auth)
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.version, 11)
            socks.append(conn.sock)
        self.assertIs(socks[0], socks[2])
        conn.close()

    def test_content_length_everywhere_but_204(self):
        c = self.client()
        replies = [self.data(c, self.tok), self.data(c, None),
                   c.request("GET", "/elsewhere"),
                   c.request("GET", self.site + "/identity/.well-known/openid-configuration")]
        for r in replies:
            self.assertEqual(int(r.header("Content-Length")), len(r.body))
        _, r = self.login()
        self.assertEqual(r.status, 204)
        self.assertIsNone(r.header("Content-Length"))
        raw = raw_exchange(self.sim.port, ("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                                           "Connection: close\r\n\r\n" % (self.site + ORDERS, self.tok)).encode())
        self.assertIn(b"Content-Length:", raw)
        self.assertNotIn(b"Transfer-Encoding", raw)

    def test_gzip_when_asked(self):
        c = self.client()
        path = ORDERS + "?pad=3000"
        r = c.request("GET", self.site + path, headers=dict(self.auth, **{"Accept-Encoding": "gzip, deflate"}))
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        self.assertEqual(len(json.loads(gzip.decompress(r.body))["pad"]), 3000)
        r = c.request("GET", self.site + path, headers=dict(self.auth, **{"Accept-Encoding": "gzip;q=0"}))
        self.assertIsNone(r.header("Content-Encoding"))
        r = c.request("GET", self.site + path, headers=self.auth)
        self.assertIsNone(r.header("Content-Encoding"))

    def test_chunked_request_body(self):
        body = b'{"OrderNbr":{"value":"CH1"}}'
        chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
        raw = raw_exchange(self.sim.port, (
            "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % (self.site + ORDERS, self.tok)).encode() + chunks)
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw[:60])
        self.assertEqual(self.fake.writes, [body])

    def test_routing(self):
        c = self.client()
        self.assertEqual(c.request("GET", "/").status, 404)
        self.assertEqual(c.request("GET", "/OtherSite/entity/auth/login").status, 404)
        self.assertEqual(c.request("GET", self.site + "/Main.aspx").status, 404)
        # IIS paths are case-insensitive; percent-escapes are decoded for the entity service.
        r = c.request("GET", self.site.lower() + "/Entity/Default/22.200.001/SalesOrder/SO/SO%20001",
                      headers=self.auth)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["subpath"], "/Entity/Default/22.200.001/SalesOrder/SO/SO 001")
        r = c.request("GET", self.site + ORDERS + "?$filter=" + "OrderNbr%20eq%20%27A%2BB%27", headers=self.auth)
        self.assertEqual(r.json()["query"], {"$filter": "OrderNbr eq 'A+B'"})

    def test_malformed_requests_do_not_hurt(self):
        for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00\x00",
                     b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                     b"POST /AcumaticaERP/entity/auth/login HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 999999999999\r\n\r\n",
                     b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                     b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"PUT /AcumaticaERP/entity/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            raw = raw_exchange(self.sim.port, junk, timeout=0.5)
            if raw.startswith(b"HTTP/1."):
                self.assertRegex(raw[:12], rb"HTTP/1\.[01] [45]\d\d", junk[:30])
            else:       # a one-word request line is answered HTTP/0.9 style: a bare page
                self.assertFalse(raw.strip() and b"200" in raw[:20], junk[:30])
        # Half a request and a hang-up.
        with socket.create_connection(("127.0.0.1", self.sim.port)) as s:
            s.sendall(b"PUT %s HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"a\"" % (self.site + ORDERS).encode())
        self.assertEqual(self.data(self.client(), self.tok).status, 200)


if __name__ == "__main__":
    unittest.main()
