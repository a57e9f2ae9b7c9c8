"""The protocol side in front of the real EntityService (entity_api.py):
seeding through the control interface and the CLI, authenticated reads with
both kinds of credentials, a write that commit_then_drop applies although
the client never sees the answer, and reset back to the start-up data."""
import http.client
import json
import signal
import unittest

from simtest import SimCase
from test_cli import Proc

V = "/entity/Default/22.200.001"


class IntegrationTest(SimCase):
    use_fake = False

    def setUp(self):
        super().setUp()
        r = self.control("POST", "seed", {"seed": 3, "customers": 4, "items": 5, "warehouses": 1,
                                          "orders": 6, "lines": 2})
        self.assertEqual(r.status, 200, r.text())
        self.counts = r.json()

    def records(self, entity):
        r = self.control("GET", "records/" + entity)
        self.assertEqual(r.status, 200, r.text()[:300])
        return r.json()

    def test_reads_with_cookie_and_bearer(self):
        self.assertEqual(self.counts["orders"], 6)
        c, _ = self.login()
        r = c.request("GET", self.site + V + "/SalesOrder?$top=4&$select=OrderNbr")
        self.assertEqual(r.status, 200, r.text()[:300])
        page = r.json()
        self.assertEqual(len(page), 4)
        self.assertEqual([row["rowNumber"] for row in page], [1, 2, 3, 4])
        tok = self.password_grant("api")["access_token"]
        r = self.data(self.client(), tok, V + "/SalesOrder?$top=4&$skip=4&$select=OrderNbr")
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()), 2)
        r = self.data(self.client(), None, V + "/SalesOrder")
        self.assertEqual(r.status, 401)

    def test_commit_then_drop_applies_the_write(self):
        customer = self.records("SalesOrder")[0]["CustomerID"]["value"]
        before = len(self.records("SalesOrder"))
        line = self.records("SalesOrder")[0]["Details"][0]
        self.control("POST", "faults", [{"method": "PUT", "path": "/SalesOrder$",
                                         "commit_then_drop": True, "times": 1}])
        c, _ = self.login()
        body = {"OrderType": {"value": "SO"}, "CustomerID": {"value": customer},
                "CustomerOrder": {"value": "DROP-1"},
                "Details": [{"InventoryID": line["InventoryID"], "OrderQty": {"value": 1}}]}
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            c.request("PUT", self.site + V + "/SalesOrder", json_body=body)
        after = self.records("SalesOrder")
        self.assertEqual(len(after), before + 1)
        self.assertIn("DROP-1", [o.get("CustomerOrder", {}).get("value") for o in after])
        entry = [e for e in self.control("GET", "requests").json()
                 if e.get("fault") == "commit_then_drop"][0]
        self.assertEqual((entry["status"], entry["handled_status"]), (None, 200))

    def test_reset_returns_to_the_start_state(self):
        self.assertEqual(len(self.records("SalesOrder")), 6)
        self.control("POST", "reset")
        self.assertEqual(self.records("SalesOrder"), [])     # started without seed


class CliSeedTest(unittest.TestCase):
    def test_seed_options_reach_the_data(self):
        proc = Proc("--seed", "5", "--customers", "3", "--items", "4", "--warehouses", "1",
                    "--orders", "7", "--lines", "2")
        try:
            import urllib.request
            with urllib.request.urlopen(proc.root() + "/_sim/records/SalesOrder", timeout=10) as r:
                orders = json.load(r)
            self.assertEqual(len(orders), 7)
            self.assertTrue(all(len(o["Details"]) == 2 for o in orders))
        finally:
            self.assertEqual(proc.stop(signal.SIGTERM), 0)


if __name__ == "__main__":
    unittest.main()
