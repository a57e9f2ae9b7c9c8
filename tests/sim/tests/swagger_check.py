"""A small validator of served JSON against the swagger definitions in
ACUMATICA_CONTRACTS (used by test_contract.py).

check(defs, name, value) returns a list of problems: a field that the
definition does not have, a value wrapper whose "value" has the wrong JSON
type for its StringValue/DecimalValue/… type, a linked entity that is not an
object, a detail entity that is not an array. The system fields of the base
`Entity` (id, rowNumber, note, custom, error, files) and `_links` are allowed
everywhere.
"""
import json
import os
import re

WRAPPERS = {
    "StringValue": (str,), "BooleanValue": (bool,), "IntValue": (int,), "ShortValue": (int,),
    "LongValue": (int,), "ByteValue": (int,), "DecimalValue": (int, float),
    "DoubleValue": (int, float), "DateTimeValue": (str,), "GuidValue": (str,),
}
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?([+-]\d\d:\d\d|Z)$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def load_definitions(folder, version):
    with open(os.path.join(folder, "swagger-Default_%s.json" % version), encoding="utf-8-sig") as f:
        doc = json.load(f)
    return doc.get("definitions") or doc["components"]["schemas"]


def properties(defs, name):
    out = {}
    d = defs[name]
    for part in d.get("allOf", [d]):
        if "$ref" in part:
            out.update(properties(defs, part["$ref"].split("/")[-1]))
        else:
            out.update(part.get("properties", {}))
    return out


def _ref(p):
    return p["$ref"].split("/")[-1] if "$ref" in p else None


def check(defs, name, value, path=None):
    path = path or name
    problems = []
    if not isinstance(value, dict):
        return ["%s: expected an object, got %r" % (path, type(value).__name__)]
    props = properties(defs, name)
    for key, v in value.items():
        p = "%s.%s" % (path, key)
        if key == "id":
            if not (isinstance(v, str) and GUID.match(v)):
                problems.append("%s: id is not a GUID: %r" % (p, v))
            continue
        if key == "rowNumber":
            if not isinstance(v, int) or isinstance(v, bool):
                problems.append("%s: rowNumber is not an integer" % p)
            continue
        if key == "note":
            if v is not None:
                problems += _wrapper(p, "StringValue", v)
            continue
        if key == "custom":
            if not isinstance(v, dict) or any(not isinstance(x, dict) for x in v.values()):
                problems.append("%s: custom is not an object of views" % p)
            continue
        if key in ("error",):
            if not isinstance(v, str):
                problems.append("%s: error is not a string" % p)
            continue
        if key == "_links":
            if not isinstance(v, dict) or any(not isinstance(x, str) for x in v.values()):
                problems.append("%s: _links is not an object of strings" % p)
            continue
        if key not in props:
            problems.append("%s: no such field in %s" % (p, name))
            continue
        spec = props[key]
        ref = _ref(spec)
        if ref in WRAPPERS:
            problems += _wrapper(p, ref, v)
        elif ref is not None:
            problems += check(defs, ref, v, p)
        elif spec.get("type") == "array":
            if not isinstance(v, list):
                problems.append("%s: expected an array" % p)
                continue
            item = _ref(spec["items"])
            for i, x in enumerate(v):
                problems += check(defs, item, x, "%s[%d]" % (p, i))
        else:
            problems.append("%s: unexpected schema %r" % (p, spec))
    return problems


def _wrapper(path, wrapper, v):
    if not isinstance(v, dict):
        return ["%s: %s must be an object, got %r" % (path, wrapper, v)]
    extra = set(v) - {"value", "error"}
    if extra:
        return ["%s: unexpected keys %s in %s" % (path, sorted(extra), wrapper)]
    if "value" not in v or v["value"] is None:
        return []
    x = v["value"]
    types = WRAPPERS[wrapper]
    if isinstance(x, bool) and bool not in types:
        return ["%s: %s holds a boolean" % (path, wrapper)]
    if not isinstance(x, types):
        return ["%s: %s holds %r" % (path, wrapper, x)]
    if wrapper == "DateTimeValue" and not DATETIME.match(x):
        return ["%s: not an ISO date-time with offset: %r" % (path, x)]
    if wrapper == "GuidValue" and not GUID.match(x):
        return ["%s: not a GUID: %r" % (path, x)]
    return []
