"""Fault injection: status (with Retry-After and Acumatica/IIS bodies), delay,
connection reset, slow body, commit-then-drop; selection by method, path,
query, every, probability+seed, times; counters."""
import http.client
import json
import time
import unittest

from simtest import SimCase

ORDERS = "/entity/Default/22.200.001/SalesOrder"


class FaultsTest(SimCase):
    def setUp(self):
        super().setUp()
        self.tok = self.password_grant("api")["access_token"]

    def faults(self, rules):
        r = self.control("POST", "faults", rules)
        self.assertEqual(r.status, 200, r.text())
        return r.json()

    def call(self, method="GET", path=ORDERS, body=None, client=None):
        c = client or self.client()
        headers = {"Authorization": "Bearer " + self.tok}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return c.request(method, self.site + path, body=body, headers=headers)

    def test_status_with_retry_after_then_times_exhausted(self):
        self.faults([{"method": "GET", "path": "^/entity/Default/[^/]+/SalesOrder$",
                      "status": 503, "retry_after": 5, "times": 1}])
        r = self.call()
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("Retry-After"), "5")
        self.assertIn("Service Unavailable", r.text())
        self.assertEqual(self.fake.calls, [])
        self.assertEqual(self.call().status, 200)
        st = self.stats()
        self.assertEqual(st["faults_injected"], 1)
        self.assertEqual(st["faults"], {"status": 1})

    def test_status_bodies(self):
        self.faults([{"path": "SalesOrder", "status": 429},
                     {"path": "StockItem", "status": 500},
                     {"path": "Customer", "status": 422, "body": {"error": "custom"}}])
        r = self.call()
        self.assertEqual((r.status, r.json()["message"]),
                         (429, "The number of requests has exceeded the limit imposed by the license."))
        self.assertIsNone(r.header("Retry-After"))
        r = self.call(path="/entity/Default/22.200.001/StockItem")
        self.assertEqual(r.status, 500)
        self.assertEqual(set(r.json()), {"message", "exceptionMessage", "exceptionType", "stackTrace"})
        r = self.call(path="/entity/Default/22.200.001/Customer")
        self.assertEqual((r.status, r.json()), (422, {"error": "custom"}))

    def test_method_path_and_query_selection(self):
        self.faults([{"method": "PUT", "path": "^/entity/Default/[^/]+/SalesOrder$", "status": 500},
                     {"method": "*", "path": "Customer$", "query": r"\$skip=500", "status": 502}])
        self.assertEqual(self.call().status, 200)
        self.assertEqual(self.call("PUT", body=b"{}").status, 500)
        self.assertEqual(self.call(path=ORDERS + "/SO/SO1").status, 200)
        self.assertEqual(self.call(path="/entity/Default/22.200.001/Customer?$skip=0").status, 200)
        self.assertEqual(self.call(path="/entity/Default/22.200.001/Customer?$top=500&$skip=500").status, 502)

    def test_every(self):
        self.faults([{"path": "SalesOrder", "every": 3, "status": 500}])
        statuses = [self.call().status for _ in range(7)]
        self.assertEqual(statuses, [200, 200, 500, 200, 200, 500, 200])

    def test_probability_is_deterministic_per_seed(self):
        runs = []
        for _ in range(2):
            self.faults([{"path": "SalesOrder", "probability": 0.5, "seed": 42, "status": 503}])
            runs.append([self.call().status for _ in range(20)])
        self.assertEqual(runs[0], runs[1])
        self.assertIn(503, runs[0])
        self.assertIn(200, runs[0])
        self.faults([{"path": "SalesOrder", "probability": 0.5, "seed": 7, "status": 503}])
        self.assertNotEqual([self.call().status for _ in range(20)], runs[0])

    def test_delay(self):
        self.faults([{"path": "SalesOrder", "delay_ms": 300}])
        t0 = time.monotonic()
        self.assertEqual(self.call().status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(self.stats()["faults"], {"delay": 1})

    def test_reset(self):
        self.faults([{"path": "SalesOrder", "reset": True, "times": 1}])
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.call("PUT", body=b'{"a":1}')
        self.assertEqual(self.fake.writes, [])                    # never handled
        self.assertEqual(self.call().status, 200)                 # the server lives on
        log = self.control("GET", "requests").json()
        dropped = [e for e in log if e.get("fault") == "reset"]
        self.assertEqual(len(dropped), 1)
        self.assertIsNone(dropped[0]["status"])
        self.assertEqual(self.stats()["dropped_connections"], 1)

    def test_commit_then_drop(self):
        self.faults([{"method": "PUT", "path": "SalesOrder$", "commit_then_drop": True}])
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.call("PUT", body=b'{"OrderNbr":{"value":"X1"}}')
        self.assertEqual(self.fake.writes, [b'{"OrderNbr":{"value":"X1"}}'])   # applied
        log = self.control("GET", "requests").json()
        entry = [e for e in log if e.get("fault") == "commit_then_drop"][0]
        self.assertEqual(entry["handled_status"], 200)
        self.assertIsNone(entry["status"])

    def test_slow_body(self):
        self.faults([{"path": "SalesOrder", "slow_body": 2000}])
        t0 = time.monotonic()
        r = self.call(path=ORDERS + "?pad=1000")
        elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()["pad"]), 1000)
        self.assertGreater(len(r.body), 1000)
        self.assertGreaterEqual(elapsed, 0.45)

    def test_control_paths_are_never_faulted_and_clear(self):
        self.faults([{"method": "*", "path": "", "status": 500}])
        self.assertEqual(self.control("GET", "stats").status, 200)
        self.assertEqual(self.call().status, 500)
        self.assertEqual(self.control("DELETE", "faults").status, 200)
        self.assertEqual(self.call().status, 200)
        self.assertEqual(self.control("GET", "faults").json(), [])

    def test_bad_rules_are_refused(self):
        for rules in ([{"path": "x"}],                               # no action
                      [{"path": "x", "status": 500, "reset": True}],   # two actions
                      [{"path": "(", "status": 500}],
                      [{"path": "x", "status": 500, "colour": "red"}],
                      [{"path": "x", "probability": 2, "status": 500}],
                      {"not": "a list"}):
            r = self.control("POST", "faults", rules)
            self.assertEqual(r.status, 400, rules)
            self.assertIn("error", r.json())

    def test_rules_report_counters(self):
        self.faults([{"name": "flaky", "path": "SalesOrder", "every": 2, "status": 500}])
        for _ in range(4):
            self.call()
        rule = self.control("GET", "faults").json()[0]
        self.assertEqual((rule["name"], rule["matched"], rule["fired"]), ("flaky", 4, 2))
        log = self.control("GET", "requests").json()
        self.assertEqual(sum(1 for e in log if e.get("fault_rule") == "flaky"), 2)


if __name__ == "__main__":
    unittest.main()
