"""jsonschema_lite.py - a small JSON Schema (draft 2020-12) validator for the
subset the project's schemas use, with the Python standard library only.

Keywords: type, enum, const, properties, required, additionalProperties,
items, minItems, maxItems, minLength, maxLength, pattern, minimum, maximum,
minProperties, maxProperties, propertyNames, dependentRequired, allOf,
anyOf, oneOf, not, if/then/else, $ref (local "#/..." and relative files
"other.schema.json#/..."). Annotations (title, description, format, $id,
$schema) are ignored. Unknown keywords raise, so a schema cannot silently
use something this validator does not check.
"""
import json
import os
import re

ANNOTATIONS = {"$schema", "$id", "title", "description", "format", "$defs", "examples", "default"}
KNOWN = ANNOTATIONS | {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "minProperties", "maxProperties", "propertyNames", "dependentRequired", "allOf", "anyOf",
    "oneOf", "not", "if", "then", "else", "$ref",
}


def _type_ok(value, t):
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise ValueError(f"unknown type {t}")


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    return a == b


class Validator:
    def __init__(self, schema_path):
        self.base_dir = os.path.dirname(os.path.abspath(schema_path))
        self.docs = {}
        self.root_name = os.path.basename(schema_path)
        self.root = self._doc(self.root_name)

    def _doc(self, name):
        if name not in self.docs:
            with open(os.path.join(self.base_dir, name), encoding="utf-8") as f:
                self.docs[name] = json.load(f)
        return self.docs[name]

    def _resolve(self, ref, current_doc):
        file_part, _, frag = ref.partition("#")
        doc_name = file_part or current_doc
        node = self._doc(doc_name)
        for token in [t for t in frag.split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[token]
        return node, doc_name

    def errors(self, instance, schema=None, path="", doc=None):
        """All problems as (json_pointer, sentence)."""
        if schema is None:
            schema, doc = self.root, self.root_name
        out = []
        self._check(instance, schema, path, doc, out)
        return out

    def is_valid(self, instance, schema, doc):
        out = []
        self._check(instance, schema, "", doc, out)
        return not out

    def _check(self, v, s, path, doc, out):
        if s is True:
            return
        if s is False:
            out.append((path, "no value is allowed here"))
            return
        unknown = set(s) - KNOWN
        if unknown:
            raise ValueError(f"schema uses unsupported keywords {sorted(unknown)}")
        if "$ref" in s:
            target, tdoc = self._resolve(s["$ref"], doc)
            self._check(v, target, path, tdoc, out)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(_type_ok(v, t) for t in types):
                out.append((path, f"expected {' or '.join(types)}"))
                return
        if "enum" in s and not any(_equal(v, e) for e in s["enum"]):
            out.append((path, f"{v!r} is not one of {s['enum']}"))
        if "const" in s and not _equal(v, s["const"]):
            out.append((path, f"{v!r} is not {s['const']!r}"))
        if isinstance(v, str):
            if "minLength" in s and len(v) < s["minLength"]:
                out.append((path, f"shorter than {s['minLength']}"))
            if "maxLength" in s and len(v) > s["maxLength"]:
                out.append((path, f"longer than {s['maxLength']}"))
            if "pattern" in s and not re.search(s["pattern"], v):
                out.append((path, f"{v!r} does not match {s['pattern']}"))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if "minimum" in s and v < s["minimum"]:
                out.append((path, f"{v} is below {s['minimum']}"))
            if "maximum" in s and v > s["maximum"]:
                out.append((path, f"{v} is above {s['maximum']}"))
        if isinstance(v, list):
            if "minItems" in s and len(v) < s["minItems"]:
                out.append((path, f"fewer than {s['minItems']} items"))
            if "maxItems" in s and len(v) > s["maxItems"]:
                out.append((path, f"more than {s['maxItems']} items"))
            if "items" in s:
                for i, item in enumerate(v):
                    self._check(item, s["items"], f"{path}/{i}", doc, out)
        if isinstance(v, dict):
            props = s.get("properties", {})
            for name in s.get("required", []):
                if name not in v:
                    out.append((path, f"missing required member {name!r}"))
            if "minProperties" in s and len(v) < s["minProperties"]:
                out.append((path, f"fewer than {s['minProperties']} members"))
            if "maxProperties" in s and len(v) > s["maxProperties"]:
                out.append((path, f"more than {s['maxProperties']} members"))
            for key, dep in s.get("dependentRequired", {}).items():
                if key in v:
                    for d in dep:
                        if d not in v:
                            out.append((path, f"{key!r} needs {d!r}"))
            for key, val in v.items():
                p = f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
                if "propertyNames" in s:
                    self._check(key, s["propertyNames"], p, doc, out)
                if key in props:
                    self._check(val, props[key], p, doc, out)
                elif "additionalProperties" in s:
                    ap = s["additionalProperties"]
                    if ap is False:
                        out.append((p, f"unknown member {key!r}"))
                    elif ap is not True:
                        self._check(val, ap, p, doc, out)
        for sub in s.get("allOf", []):
            self._check(v, sub, path, doc, out)
        if "anyOf" in s and not any(self.is_valid(v, sub, doc) for sub in s["anyOf"]):
            out.append((path, "matches none of anyOf"))
        if "oneOf" in s:
            n = sum(1 for sub in s["oneOf"] if self.is_valid(v, sub, doc))
            if n != 1:
                out.append((path, f"matches {n} of oneOf (exactly one expected)"))
        if "not" in s and self.is_valid(v, s["not"], doc):
            out.append((path, "matches a schema it must not match"))
        if "if" in s:
            if self.is_valid(v, s["if"], doc):
                if "then" in s:
                    self._check(v, s["then"], path, doc, out)
            elif "else" in s:
                self._check(v, s["else"], path, doc, out)
