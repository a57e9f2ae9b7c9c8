#!/usr/bin/env python3
"""run_golden.py - golden tests of the default mappings.

Modes (one per CTest test):
  recorded   the recorded Acumatica records in
             $ACUMATICA_CONTRACTS/fixtures/recorded/ (endpoint 20.200.001)
             mapped to the host with the 20.200.001 defaults; exit 77 (skipped)
             when the folder is absent.
  sim        records served live by the Acumatica simulator (tests/sim,
             seeded deterministically, endpoint 22.200.001) must map without a
             rejection and give schema-valid host records (exit 77 when the
             simulator is absent); --update stores them as the snapshot.
  sim_snapshot  the committed snapshot of simulator records (input/sim/)
             mapped to the host and compared exactly.
  from_host  canonical host records (input/*.json) mapped to Acumatica
             payloads with the 22.200.001 defaults.
  versions   the differences between endpoint versions: the simulator's
             records of each version (snapshots in input/versions/<version>/)
             mapped with that version's defaults; besides the exact
             comparison, the fields a version adds must be filled exactly
             where it has them (locations' updated_at from Warehouse's
             LastModifiedDateTime in 23.200.001 and 24.200.001, absent in
             20.200.001 and 22.200.001). --update fetches the snapshots from
             the simulator again.

Each mapped result is compared with expected/<mode>/<name>.json, and every
host record produced is checked against its JSON Schema in
host-api/schemas/. --update rewrites the expected files (review the diff).

Usage: run_golden.py MODE --cli MAP_CLI --root REPO [--contracts DIR] [--update]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# to_host mappings per entity: (entity, mapping name, record type)
TO_HOST = [
    ("Customer", "customers", "customer"),
    ("StockItem", "products", "product"),
    ("NonStockItem", "non_stock_items", "product"),
    ("StockItem", "inventory", "inventory_level"),
    ("Warehouse", "locations", "location"),
    ("SalesOrder", "sales_orders", "transaction"),
    ("Shipment", "tracking", "tracking"),
]


def run_tool(cli, request):
    p = subprocess.run([cli, "-"], input=json.dumps(request).encode(), capture_output=True)
    if p.returncode != 0:
        raise SystemExit(f"map_cli failed: {p.stderr.decode()}")
    return json.loads(p.stdout)


def schema_validator(root, record_type):
    sys.path.insert(0, os.path.join(root, "tests", "unit", "map"))
    from jsonschema_lite import Validator
    return Validator(os.path.join(root, "host-api", "schemas", f"{record_type}.schema.json"))


def compare(name, got, expected_path, update):
    text = json.dumps(got, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    if update or not os.path.exists(expected_path):
        os.makedirs(os.path.dirname(expected_path), exist_ok=True)
        with open(expected_path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(expected_path, HERE)}")
        return 0 if update else 1
    with open(expected_path, encoding="utf-8") as f:
        want = json.load(f)
    if want != got:
        print(f"FAIL {name}: differs from {os.path.relpath(expected_path, HERE)}")
        import difflib
        a = json.dumps(want, indent=2, sort_keys=True).splitlines()
        b = json.dumps(got, indent=2, sort_keys=True).splitlines()
        for line in list(difflib.unified_diff(a, b, "expected", "got", lineterm=""))[:80]:
            print("  " + line)
        return 1
    print(f"ok   {name}: {len(got['results'])} results")
    return 0


def check_schemas(root, name, record_type, results):
    v = schema_validator(root, record_type)
    bad = 0
    for r in results:
        if r["status"] != "ok":
            continue
        for ptr, msg in v.errors(r["record"]):
            print(f"FAIL {name} result {r['index']}: {record_type} schema {ptr or '/'}: {msg}")
            bad += 1
    return bad


def map_records(args, version, tz, entity_records, out_dir):
    failures = 0
    for entity, name, rtype in TO_HOST:
        records = entity_records.get(entity)
        if not records:
            continue
        ans = run_tool(args.cli, {
            "op": "test", "settings": {"endpoint_version": version, "time_zone_offset": tz},
            "name": name, "direction": "to_host", "records": records})
        got = {"mapping": ans["mapping"], "results": ans["results"]}
        failures += check_schemas(args.root, name, rtype, ans["results"])
        failures += compare(f"{name} ({entity})", got, os.path.join(out_dir, f"{name}.json"), args.update)
    return failures


def mode_recorded(args):
    folder = os.path.join(args.contracts, "fixtures", "recorded")
    if not os.path.isdir(folder):
        print(f"SKIP: {folder} is absent")
        return SKIP
    by_entity = {}
    seen = set()
    for f in sorted(glob.glob(os.path.join(folder, "**", "*.json"), recursive=True)):
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        for i in doc.get("interactions", []):
            uri = i["request"]["uri"]
            body = i["response"].get("body")
            if "/entity/Default/" not in uri or body is None:
                continue
            entity = uri.split("/entity/Default/")[1].split("/")[1].split("?")[0]
            for rec in body if isinstance(body, list) else [body]:
                if isinstance(rec, dict) and "id" in rec and (entity, rec["id"]) not in seen:
                    seen.add((entity, rec["id"]))
                    by_entity.setdefault(entity, []).append(rec)
    if not by_entity:
        print(f"SKIP: no records in {folder}")
        return SKIP
    print("recorded records: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_entity.items())))
    return 1 if map_records(args, "20.200.001", "-08:00", by_entity,
                            os.path.join(HERE, "expected", "recorded")) else 0


def fetch_sim_records(args, version="22.200.001", entities=None):
    """Start the simulator (seeded deterministically), fetch the records of
    every entity the to_host mappings read (or of `entities`) as endpoint
    `version` serves them, stop it. None when absent."""
    sim = os.path.join(args.root, "tests", "sim", "acumatica_sim.py")
    if not os.path.exists(sim):
        return None
    seed = {"base_time": 1704067200, "customers": 3, "stock_items": 3, "non_stock_items": 2,
            "warehouses": 2, "orders": 3, "lines_per_order": 5, "shipments": 2}
    proc = subprocess.Popen([sys.executable, sim, "--port", "0", "--seed", "7",
                             "--seed-json", json.dumps(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit("FAIL: the simulator did not start: " + proc.stderr.read())
        root = url.rsplit("/", 1)[0]
        by_entity = {}
        for entity in entities or sorted({e for e, _, _ in TO_HOST}):
            with urllib.request.urlopen(f"{root}/_sim/records/{entity}?version={version}",
                                        timeout=30) as r:
                by_entity[entity] = json.load(r)
        return by_entity
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def mode_sim(args):
    """Live: whatever the simulator serves now must map without a rejected
    record and give schema-valid host records. With --update, its records
    become the snapshot that mode sim_snapshot compares exactly."""
    by_entity = fetch_sim_records(args)
    if by_entity is None:
        print("SKIP: tests/sim/acumatica_sim.py is absent")
        return SKIP
    print("simulator records: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_entity.items())))
    failures = 0
    for entity, name, rtype in TO_HOST:
        records = by_entity.get(entity) or []
        if not records:
            print(f"FAIL the simulator served no {entity} records")
            failures += 1
            continue
        ans = run_tool(args.cli, {
            "op": "test", "settings": {"endpoint_version": "22.200.001", "time_zone_offset": "-05:00"},
            "name": name, "direction": "to_host", "records": records})
        bad = [r for r in ans["results"] if r["status"] == "rejected"]
        for r in bad:
            print(f"FAIL {name}: record {r['index']} rejected: {r.get('message')}")
        failures += len(bad) + check_schemas(args.root, name, rtype, ans["results"])
        print(f"ok   {name} ({entity}): {len(ans['results'])} results, none rejected" if not bad else "")
        if args.update:
            path = os.path.join(HERE, "input", "sim", f"{entity}.json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    return 1 if failures else 0


def mode_sim_snapshot(args):
    """Exact: the committed snapshot of simulator records (input/sim/)."""
    by_entity = {}
    for f in sorted(glob.glob(os.path.join(HERE, "input", "sim", "*.json"))):
        with open(f, encoding="utf-8") as fh:
            by_entity[os.path.splitext(os.path.basename(f))[0]] = json.load(fh)
    if not by_entity:
        print("FAIL: no snapshot in input/sim/ (run mode sim with --update)")
        return 1
    return 1 if map_records(args, "22.200.001", "-05:00", by_entity,
                            os.path.join(HERE, "expected", "sim")) else 0


# Per endpoint version: (entity, mapping, record type, host field, versions
# whose records must carry it). A later version states only its differences
# (mappings/<version>/), so each difference is checked where it applies and
# where it must not.
VERSIONS = ["20.200.001", "22.200.001", "23.200.001", "24.200.001"]
VERSION_FIELDS = [
    ("Warehouse", "locations", "location", "updated_at", {"23.200.001", "24.200.001"}),
]


def mode_versions(args):
    failures = 0
    entities = sorted({e for e, _, _, _, _ in VERSION_FIELDS})
    for version in VERSIONS:
        folder = os.path.join(HERE, "input", "versions", version)
        if args.update:
            fetched = fetch_sim_records(args, version, entities)
            if fetched is None:
                print("FAIL: --update needs tests/sim/acumatica_sim.py")
                return 1
            os.makedirs(folder, exist_ok=True)
            for entity, records in fetched.items():
                with open(os.path.join(folder, f"{entity}.json"), "w", encoding="utf-8") as f:
                    f.write(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
        for entity, name, rtype, field, has in VERSION_FIELDS:
            path = os.path.join(folder, f"{entity}.json")
            if not os.path.exists(path):
                print(f"FAIL: no snapshot {os.path.relpath(path, HERE)} (run mode versions with --update)")
                failures += 1
                continue
            with open(path, encoding="utf-8") as fh:
                records = json.load(fh)
            ans = run_tool(args.cli, {
                "op": "test", "settings": {"endpoint_version": version, "time_zone_offset": "-05:00"},
                "name": name, "direction": "to_host", "records": records})
            results = ans["results"]
            failures += check_schemas(args.root, name, rtype, results)
            for r in results:
                rec = r.get("record") or {}
                if r["status"] != "ok":
                    print(f"FAIL {version} {name}: record {r['index']} {r['status']}: {r.get('message')}")
                    failures += 1
                elif (field in rec) != (version in has) or (field in rec and not rec[field]):
                    print(f"FAIL {version} {name}: record {r['index']} "
                          f"{'lacks' if version in has else 'has'} {field}")
                    failures += 1
            if not results:
                print(f"FAIL {version} {name}: no records")
                failures += 1
            failures += compare(f"{version} {name} ({entity})",
                                {"mapping": ans["mapping"], "results": results},
                                os.path.join(HERE, "expected", "versions", version, f"{name}.json"),
                                args.update)
    return 1 if failures else 0


def mode_from_host(args):
    failures = 0
    for f in sorted(glob.glob(os.path.join(HERE, "input", "*.json"))):
        with open(f, encoding="utf-8") as fh:
            case = json.load(fh)
        name = os.path.splitext(os.path.basename(f))[0]
        v = schema_validator(args.root, case["record_type"])
        for i, rec in enumerate(case["records"]):
            if case.get("schema_valid", True):
                for ptr, msg in v.errors(rec):
                    print(f"FAIL input {name} record {i}: {case['record_type']} schema {ptr or '/'}: {msg}")
                    failures += 1
        req = {"op": "test", "settings": case.get("settings", {"time_zone_offset": "-05:00"}),
               "name": case["mapping"], "direction": "from_host", "records": case["records"]}
        ans = run_tool(args.cli, req)
        failures += compare(name, {"mapping": ans["mapping"], "results": ans["results"]},
                            os.path.join(HERE, "expected", "from_host", f"{name}.json"), args.update)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["recorded", "sim", "sim_snapshot", "from_host", "versions"])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--contracts", default=os.environ.get("ACUMATICA_CONTRACTS"))
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    if args.contracts is None:
        args.contracts = os.path.join(args.root, "..", "shared", "acumatica")
    return {"recorded": mode_recorded, "sim": mode_sim, "sim_snapshot": mode_sim_snapshot,
            "from_host": mode_from_host, "versions": mode_versions}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
