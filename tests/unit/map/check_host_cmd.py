#!/usr/bin/env python3
"""check_host_cmd.py - `connector-host mappings validate|show|test` with the
real plugin: the command reaches the mapping tools through the plugin's
`mappings` ABI slot, with no network, and reports what a person needs.

Usage: check_host_cmd.py CONNECTOR_HOST PLUGIN REPO_ROOT
"""
import json
import os
import re
import subprocess
import sys
import tempfile

BASE = {"api_url": "https://example.invalid/AcumaticaERP", "client_id": "id@Company",
        "client_secret": "not-a-real-secret", "redirect_url": "http://127.0.0.1:8765/cb",
        "time_zone_offset": "-05:00"}


def run(host, args, state):
    p = subprocess.run([host] + args + ["--state", state], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    host, plugin, root = sys.argv[1:4]
    failures = 0

    def expect(cond, what):
        nonlocal failures
        if not cond:
            print("FAIL " + what)
            failures += 1
        else:
            print("ok   " + what)

    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.db")
        bad = dict(BASE, mapping_overrides=[
            {"overlay": True, "name": "sales_orders", "direction": "from_host",
             "fields": [{"target": "Details.OrderQuantity", "source": "quantity"},
                        {"target": "CustomerOrdr", "op": "remove"}]}])
        good = dict(BASE, mapping_overrides=[
            os.path.join(root, "mappings", "examples", "transaction_number_to_external_ref.json")])
        bad_path, good_path = os.path.join(tmp, "bad.json"), os.path.join(tmp, "good.json")
        for path, doc in ((bad_path, bad), (good_path, good)):
            with open(path, "w") as f:
                json.dump(doc, f)
        recs = os.path.join(tmp, "orders.jsonl")
        with open(recs, "w") as f:
            f.write(json.dumps({"transaction_number": "W1", "customer_id": "C1",
                                "lines": [{"sku": "A", "quantity": 1,
                                           "unit_price": {"amount": "19.99"}}]}) + "\n")
            f.write(json.dumps({"transaction_number": "W2", "customer_id": "C1",
                                "lines": [{"sku": "A", "quantity": "two"}]}) + "\n")

        rc, out, err = run(host, ["mappings", "validate", "--plugin", plugin, "--config", bad_path], state)
        expect(rc == 3, f"validate with problems exits 3 (got {rc})")
        expect("mapping_overrides[0] /fields/0/target: unknown field 'OrderQuantity' on SalesOrderDetail; "
               "did you mean 'OrderQty'?" in out, "validate prints the typo sentence")
        expect("/fields/1/target: mapping 'sales_orders' (from_host) has no field with target "
               "'CustomerOrdr' to remove; did you mean 'CustomerOrder'?" in out, "validate prints every problem")
        expect("not-a-real-secret" not in out + err, "no secret in the output")

        # A bad setting the loader reads is one problem among the others.
        bad_tz = os.path.join(tmp, "bad_tz.json")
        with open(bad_tz, "w") as f:
            json.dump(dict(bad, time_zone_offset="noon"), f)
        rc, out, err = run(host, ["mappings", "validate", "--plugin", plugin, "--config", bad_tz], state)
        expect(rc == 3 and "settings /time_zone_offset: time_zone_offset 'noon' is not an offset" in out
               and "mapping_overrides[0] /fields/0/target: unknown field 'OrderQuantity'" in out
               and "settings: " not in out and "settings /: " not in out,
               "validate reports a bad time_zone_offset and still checks the overlays")

        rc, out, err = run(host, ["mappings", "validate", "--plugin", plugin, "--config", good_path], state)
        expect(rc == 0 and "10 mappings for endpoint 22.200.001 are valid" in out, "validate of good settings")

        rc, out, err = run(host, ["mappings", "show", "--plugin", plugin, "--config", good_path,
                                  "--name", "sales_orders", "--direction", "from_host"], state)
        shown = json.loads(out) if rc == 0 else {}
        m = (shown.get("mappings") or [{}])[0]
        targets = {f["target"]: f.get("from", "") for f in m.get("fields", [])}
        expect("ExternalRef" in targets and "CustomerOrder" not in targets
               and targets["ExternalRef"].endswith("transaction_number_to_external_ref.json /fields/1"),
               "show gives the effective mapping with each field's origin")
        expect(m.get("engine", {}).get("keys") == ["OrderType", "OrderNbr"], "show gives the entity keys")

        # show gives the effective lookup tables the mapping uses: the rows
        # an overlay added or overrode are there, and say where they came from.
        lk_path = os.path.join(tmp, "lookups.json")
        with open(lk_path, "w") as f:
            json.dump(dict(BASE, mapping_overrides=[
                {"lookups": {"ship_via": {"rows": {"ups": "UPS-OVERRIDE", "drone": "DRONE"}}}}]), f)
        rc, out, err = run(host, ["mappings", "show", "--plugin", plugin, "--config", lk_path,
                                  "--name", "sales_orders", "--direction", "from_host"], state)
        shown = json.loads(out) if rc == 0 else {}
        sv = shown.get("lookups", {}).get("ship_via", {})
        expect(sv.get("rows", {}).get("ups") == "UPS-OVERRIDE" and sv.get("rows", {}).get("drone") == "DRONE"
               and sv.get("rows", {}).get("fedex") == "FEDEXGROUND"
               and sv.get("changed_by", {}).get("/rows/drone") == "mapping_overrides[0] /lookups/ship_via/rows/drone"
               and sv.get("from") == "mappings/lookups/ship_via.json /lookups/ship_via"
               and "ship_via" in shown.get("mappings", [{}])[0].get("engine", {}).get("lookups", []),
               f"show gives the effective lookup tables with the overlay's rows (rc {rc}: {err.strip()})")

        rc, out, err = run(host, ["mappings", "test", "--plugin", plugin, "--config", good_path,
                                  "--flow", "sales_orders", "--direction", "from_host", "--in", recs], state)
        res = json.loads(out).get("results", []) if out else []
        expect(rc == 6, f"test with a rejected record exits 6 (got {rc})")
        expect(len(res) == 2 and res[0]["status"] == "ok"
               and res[0]["record"]["ExternalRef"] == {"value": "W1"}, "test maps the first record")
        # The number converted from the host's text is printed (and would
        # be sent) as 19.99, not 19.989999999999998.
        expect(len(res) == 2 and res[0]["record"]["Details"][0].get("UnitPrice") == {"value": 19.99}
               and re.search(r'"UnitPrice":\s*\{\s*"value":\s*19\.99\s*\}', out) is not None
               and "19.98999" not in out, "test prints a converted price as 19.99")
        expect(len(res) == 2 and res[1]["status"] == "rejected"
               and res[1]["errors"][0]["target"] == "/Details/0/OrderQty"
               and res[1]["errors"][0]["source"] == "/lines/0/quantity",
               "test reports the failed field with pointers")

        rc, out, err = run(host, ["mappings", "test", "--plugin", plugin, "--config", good_path,
                                  "--flow", "sales_orders"], state)
        expect(rc == 2, "test without --in is a usage error")

        # The command as the documentation writes it: a flow that maps one
        # way needs no --direction; one that maps both ways asks for it.
        wh = os.path.join(tmp, "warehouses.json")
        with open(wh, "w") as f:
            json.dump([{"WarehouseID": {"value": "MAIN"}, "Description": {"value": "Main"},
                        "Active": {"value": True}}], f)
        rc, out, err = run(host, ["mappings", "test", "--plugin", plugin, "--config", good_path,
                                  "--flow", "locations", "--in", wh], state)
        res = json.loads(out).get("results", []) if rc == 0 and out else []
        expect(rc == 0 and len(res) == 1 and res[0]["record"].get("location_id") == "MAIN",
               f"test --flow locations without --direction maps the record (rc {rc}: {err.strip()})")
        rc, out, err = run(host, ["mappings", "test", "--plugin", plugin, "--config", good_path,
                                  "--flow", "sales_orders", "--in", recs], state)
        expect(rc == 3 and "maps both ways" in err and "direction" in err,
               f"test --flow sales_orders without --direction asks for it (rc {rc}: {err.strip()})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
