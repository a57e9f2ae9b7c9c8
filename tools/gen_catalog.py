#!/usr/bin/env python3
"""gen_catalog.py - write the project's entity catalogue for one endpoint version.

The catalogue (mappings/catalog/<version>.json) is the project's own compact
data about Acumatica's Default endpoint: every top-level entity and every
linked or detail entity reachable from one, with each field's type; the key
fields and the last-modified field of the top-level entities. The mapping
engine checks field names against it and suggests the nearest name on a typo.

It is written from the swagger file of the endpoint (ACUMATICA_CONTRACTS,
default ../shared/acumatica next to the repository), which itself never
enters the repository. Usage:

    tools/gen_catalog.py 22.200.001 [--contracts DIR] [--out FILE] [--check]

--check compares the generated text with the committed file and exits 1 on
a difference and 77 (the tests' "skipped") when the swagger is missing,
which is what the catalogue test runs.
"""
import argparse
import hashlib
import json
import os
import sys

FORMAT = 1

# Value wrappers of the contract and the scalar type names of the catalogue.
SCALARS = {
    "StringValue": "string", "DecimalValue": "decimal", "IntValue": "int",
    "ShortValue": "short", "LongValue": "long", "ByteValue": "byte",
    "DoubleValue": "double", "BooleanValue": "bool",
    "DateTimeValue": "datetime", "GuidValue": "guid",
}

# System members of the base type Entity; the engine knows them itself.
SYSTEM = {"id", "rowNumber", "note", "custom", "error", "files", "_links"}

# Key fields in URL order. The swagger does not mark keys; these come from
# the documented URLs and examples cited in API-NOTES.md section 4 (table).
# Entries marked "analogy" are not confirmed by a document.
KEYS = {
    "Customer": ["CustomerID"],
    "Contact": ["ContactID"],
    "SalesOrder": ["OrderType", "OrderNbr"],
    "Shipment": ["ShipmentNbr"],
    "StockItem": ["InventoryID"],
    "NonStockItem": ["InventoryID"],          # analogy with StockItem
    "ItemWarehouse": ["InventoryID", "WarehouseID"],
    "SalesInvoice": ["Type", "ReferenceNbr"],
    "Payment": ["Type", "ReferenceNbr"],
    "Warehouse": ["WarehouseID"],             # analogy: the form's key
}

# Preference order for the field that carries the record's version.
LAST_MODIFIED = ["LastModifiedDateTime", "LastModified", "LastModifiedDate"]


def ref_name(ref):
    return ref.rsplit("/", 1)[-1]


def load_swagger(path):
    with open(path, "rb") as f:
        raw = f.read()
    doc = json.loads(raw)
    defs = doc.get("definitions") or doc.get("components", {}).get("schemas")
    if not defs:
        raise SystemExit(f"{path}: no definitions or components/schemas")
    return doc, defs, hashlib.sha256(raw).hexdigest()


def properties(defs, name):
    node = defs[name]
    props = {}
    for part in node.get("allOf", [node]):
        if "$ref" in part:
            continue
        props.update(part.get("properties", {}))
    return props


def field_type(prop):
    if "$ref" in prop:
        t = ref_name(prop["$ref"])
        return SCALARS.get(t, t)
    if prop.get("type") == "array":
        items = prop.get("items", {})
        if "$ref" in items:
            t = ref_name(items["$ref"])
            return SCALARS.get(t, t) + "[]"
        return None
    return None  # plain members (none outside Entity in the Default contract)


def build(version, contracts):
    path = os.path.join(contracts, f"swagger-Default_{version}.json")
    doc, defs, sha = load_swagger(path)
    top = sorted({p.strip("/").split("/")[0] for p in doc["paths"]} & set(defs))
    entities = {}
    pending = list(top)
    while pending:
        name = pending.pop()
        if name in entities or name not in defs or name in SCALARS:
            continue
        fields = {}
        for fname, prop in properties(defs, name).items():
            if fname in SYSTEM:
                continue
            t = field_type(prop)
            if t is None:
                continue
            fields[fname] = t
            base = t[:-2] if t.endswith("[]") else t
            if base not in SCALARS.values():
                pending.append(base)
        entities[name] = {"fields": dict(sorted(fields.items()))}
    for name in top:
        ent = entities[name]
        ent["top_level"] = True
        if name in KEYS and all(k in ent["fields"] for k in KEYS[name]):
            ent["keys"] = KEYS[name]
        for lm in LAST_MODIFIED:
            if ent["fields"].get(lm) == "datetime":
                ent["last_modified"] = lm
                break
    return {
        "format": FORMAT,
        "version": version,
        "source": os.path.basename(path),
        "source_sha256": sha,
        "entities": dict(sorted(entities.items())),
    }


def render(cat):
    # One entity per line: small, and a diff still shows which entity moved.
    lines = ["{"]
    for k in ("format", "version", "source", "source_sha256"):
        lines.append(f' {json.dumps(k)}: {json.dumps(cat[k])},')
    lines.append(' "entities": {')
    names = list(cat["entities"])
    for i, name in enumerate(names):
        ent = cat["entities"][name]
        ordered = {k: ent[k] for k in ("top_level", "keys", "last_modified", "fields") if k in ent}
        sep = "," if i + 1 < len(names) else ""
        lines.append(f'  {json.dumps(name)}: {json.dumps(ordered, separators=(",", ":"))}{sep}')
    lines.append(" }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("version")
    ap.add_argument("--contracts", default=os.environ.get(
        "ACUMATICA_CONTRACTS", os.path.join(repo, "..", "shared", "acumatica")))
    ap.add_argument("--out")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    out = a.out or os.path.join(repo, "mappings", "catalog", f"{a.version}.json")
    swagger = os.path.join(a.contracts, f"swagger-Default_{a.version}.json")
    if not os.path.exists(swagger):
        print(f"{swagger}: not found", file=sys.stderr)
        return 77 if a.check else 2
    text = render(build(a.version, a.contracts))
    if a.check:
        try:
            with open(out, encoding="utf-8") as f:
                old = f.read()
        except OSError as e:
            print(f"{out}: {e}", file=sys.stderr)
            return 1
        if old != text:
            print(f"{out} differs from the catalogue generated from {swagger}; "
                  f"run tools/gen_catalog.py {a.version}", file=sys.stderr)
            return 1
        print(f"{out}: matches {os.path.basename(swagger)}")
        return 0
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
