#!/usr/bin/env python3
"""check_mapping_files.py - the JSON Schema of mapping files and the C loader
agree.

1. Every shipped mapping, overlay, lookup file and example is valid against
   mappings/mapping.schema.json (the schema editors use).
2. Every case in check_cases.json is a bad document: the schema rejects it
   AND the C loader (through map_cli, as an inline override) reports the
   expected sentence at the expected pointer. Good documents in the same
   file are accepted by both.
3. Every canonical record schema in host-api/schemas/ loads and its $refs
   resolve.

Usage: check_mapping_files.py <repo root> <map_cli>
"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsonschema_lite import Validator  # noqa: E402


def main():
    root, cli = sys.argv[1], sys.argv[2]
    failures = 0
    v = Validator(os.path.join(root, "mappings", "mapping.schema.json"))
    files = sorted(glob.glob(os.path.join(root, "mappings", "**", "*.json"), recursive=True))
    checked = 0
    for f in files:
        rel = os.path.relpath(f, root)
        if "/catalog/" in f or rel.endswith("mapping.schema.json") or rel.endswith("versions.json"):
            continue
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        errs = v.errors(doc)
        checked += 1
        for p, msg in errs:
            print(f"FAIL {rel} {p or '/'}: {msg}")
            failures += 1
    print(f"{checked} shipped mapping files checked against the schema")

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_cases.json"),
              encoding="utf-8") as fh:
        cases = json.load(fh)
    for i, case in enumerate(cases):
        doc, good = case["doc"], case.get("valid", False)
        schema_ok = not v.errors(doc)
        req = {"op": "validate", "settings": {
            "create_default_mappings": case.get("defaults", False),
            "mapping_overrides": [doc]}}
        p = subprocess.run([cli, "-"], input=json.dumps(req).encode(), capture_output=True)
        if p.returncode != 0:
            print(f"FAIL case {i}: map_cli failed: {p.stderr.decode()}")
            failures += 1
            continue
        ans = json.loads(p.stdout)
        texts = [x["text"] for x in ans["problems"]]
        if good:
            if not schema_ok or not ans["ok"]:
                print(f"FAIL case {i} should be valid: schema {v.errors(doc)}, loader {texts}")
                failures += 1
            continue
        if schema_ok:
            print(f"FAIL case {i}: the schema accepts a document the loader must reject: {json.dumps(doc)}")
            failures += 1
        if not any(case["loader"] in t for t in texts):
            print(f"FAIL case {i}: the loader did not say {case['loader']!r}; it said {texts}")
            failures += 1
    print(f"{len(cases)} schema/loader agreement cases")

    for f in sorted(glob.glob(os.path.join(root, "host-api", "schemas", "*.schema.json"))):
        hv = Validator(f)
        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    hv._resolve(node["$ref"], os.path.basename(f))
                for x in node.values():
                    walk(x)
            elif isinstance(node, list):
                for x in node:
                    walk(x)
        walk(hv.root)
    print("host record schemas load")

    # 4. The language reference documents every function, and its complete
    #    JSON examples are valid mapping files.
    import re
    with open(os.path.join(root, "mappings", "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    with open(os.path.join(root, "plugin", "src", "map", "acu_map_funcs.c"), encoding="utf-8") as fh:
        names = re.findall(r'\[F_[A-Z_]+\] = \{"([a-z_]+)"', fh.read())
    for name in names:
        if f"`{name}(" not in readme:
            print(f"FAIL mappings/README.md does not document {name}()")
            failures += 1
    blocks = re.findall(r"```json\n(.*?)```", readme, re.S)
    examples = 0
    for b in blocks:
        try:
            doc = json.loads(b)
        except ValueError:
            continue
        if isinstance(doc, dict) and ("name" in doc or "lookups" in doc):
            examples += 1
            for p, msg in v.errors(doc):
                print(f"FAIL README example {doc.get('name', 'lookups')}: {p or '/'}: {msg}")
                failures += 1
            req = {"op": "validate", "settings": {
                "create_default_mappings": bool(doc.get("overlay")) or "name" not in doc,
                "mapping_overrides": [doc]}}
            ans = json.loads(subprocess.run([cli, "-"], input=json.dumps(req).encode(),
                                            capture_output=True).stdout)
            for prob in ans["problems"]:
                print(f"FAIL README example {doc.get('name', 'lookups')}: {prob['text']}")
                failures += 1
    print(f"README: {len(names)} functions documented, {examples} examples valid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
