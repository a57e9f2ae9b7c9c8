"""Serialising stored records to Acumatica's JSON (Contract Version 4).

Stored record layout (one dict per record, detail line or linked object):
    "id"          GUID string (lower case): the NoteID, persistent
    "_lm"         last modified, int milliseconds since the epoch (UTC)
    "_created"    created, int milliseconds
    "note"        the note text (absent = "")
    "custom"      {view: {field: {"type": "CustomStringField", "value": …}}}
    <Field>       the value of a value field: str, bool, int, Decimal (with the
                  scale it is served with) or, for date-times, int milliseconds;
                  a field the record does not hold has the definition's default
                  (instance.DEFAULTS) or null
    <Linked>      a dict of the same layout
    <Detail>      a list of such dicts
    "_errors"     {field: message}   only on a 422 echo
    "_error"      message            only on a 422 echo (top level)

Output rules (API-NOTES 2.2 and the recorded bodies): id, rowNumber, note
first, then the contract's fields in contract order (value fields wrapped as
{"value": …}, {} for null), "custom" and "_links" last. rowNumber is the
1-based position in the response (per page; per array for detail lines).
Top-level records and detail lines have "note": {"value": ""} and `_links`
(top: self + files:put, lines: files:put); linked objects have "note": null
and no `_links`. Decimals keep their scale (7000.0000); date-times are in the
instance's offset with trailing zeros of the fraction trimmed
("2023-12-14T17:20:45.16+00:00").

Renderers are compiled once per (version, entity, shape) and cached: a list
GET of 500 orders runs a flat loop over precomputed (prefix, field, default,
encoder) steps per record.
"""
import json
import threading
import time
import uuid
from decimal import Decimal
from json.encoder import encode_basestring

import instance

_EMPTY = "{}"
_NOTE_EMPTY = '{"value":""}'


def offset_minutes(text):
    """Minutes east of UTC for an offset text such as "+03:00" or "-08:00"."""
    text = (text or "+00:00").strip()
    if text in ("Z", "z"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text.lstrip("+-").replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def offset_text(minutes):
    sign = "-" if minutes < 0 else "+"
    m = abs(minutes)
    return "%s%02d:%02d" % (sign, m // 60, m % 60)


def format_datetime(ms, off_min):
    """ISO 8601 with the given offset, fraction trimmed: 2023-12-14T17:20:45.16+00:00."""
    secs, msr = divmod(ms + off_min * 60000, 1000)
    t = time.gmtime(secs)
    if msr:
        frac = (".%03d" % msr).rstrip("0")
    else:
        frac = ""
    return "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (t[0], t[1], t[2], t[3], t[4], t[5], frac,
                                                 offset_text(off_min))


def format_us_datetime(ms, off_min):
    """The "12/14/2023 19:57:08" form of SalesOrderDetail.LastModifiedDate."""
    t = time.gmtime((ms + off_min * 60000) // 1000)
    return "%02d/%02d/%04d %02d:%02d:%02d" % (t[1], t[2], t[0], t[3], t[4], t[5])


def format_decimal(v, scale):
    """JSON number text of a decimal with `scale` digits (None: as .NET prints it)."""
    if v.__class__ is not Decimal:
        v = Decimal(str(v))
    if scale is not None and v.as_tuple().exponent != -scale:
        v = v.quantize(Decimal(1).scaleb(-scale))
    s = format(v, "f")
    if "." not in s:
        s += ".0"
    return s


# ---------------------------------------------------------------------------
# Value encoders: value -> the JSON text of the wrapper.

def _enc_str(v):
    if v is None:
        return _EMPTY
    if v.__class__ is not str:
        v = str(v)
    return '{"value":' + encode_basestring(v) + "}"


_BOOL = {True: '{"value":true}', False: '{"value":false}', None: _EMPTY}


def _enc_bool(v):
    r = _BOOL.get(v)
    if r is None:
        return '{"value":true}' if v else '{"value":false}'
    return r


def _enc_int(v):
    if v is None:
        return _EMPTY
    return '{"value":%d}' % int(v)


def _enc_double(v):
    if v is None:
        return _EMPTY
    return '{"value":%s}' % repr(float(v))


def _enc_guid(v):
    if v is None:
        return _EMPTY
    return '{"value":"%s"}' % v


def _make_dec(scale):
    def enc(v):
        if v is None:
            return _EMPTY
        if v.__class__ is Decimal:
            s = format(v, "f")
            if "." not in s:
                s = format_decimal(v, scale)
        else:
            s = format_decimal(v, scale)
        return '{"value":' + s + "}"
    return enc


def _make_dt(off_min):
    memo = {}

    def enc(v):
        if v is None:
            return _EMPTY
        r = memo.get(v)
        if r is None:
            if len(memo) > 200000:
                memo.clear()
            r = memo[v] = '{"value":"' + format_datetime(v, off_min) + '"}'
        return r
    return enc


def _make_us_dt(off_min):
    def enc(v):
        if v is None:
            return _EMPTY
        return '{"value":"' + format_us_datetime(v, off_min) + '"}'
    return enc


def _custom_json(rec, custom_spec):
    if not custom_spec:
        return "{}"
    stored = rec.get("custom") or {}
    out = {}
    for view, fields in custom_spec.items():
        sv = stored.get(view) or {}
        ov = out[view] = {}
        for f in fields:
            cf = sv.get(f)
            if cf is None:
                ov[f] = {"type": "CustomStringField", "value": None}
            else:
                ov[f] = {"type": cf.get("type", "CustomStringField"), "value": cf.get("value")}
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def linked_id(parent_id, name):
    """A stable id for a linked object a record does not hold."""
    return str(uuid.uuid5(uuid.UUID(parent_id), name)) if parent_id else str(uuid.uuid4())


class Renderer:
    """Compiles and caches record serialisers for one (version, site, offset)."""

    def __init__(self, contract, site_path, off_min, hide_features=True):
        self.contract = contract
        self.version = contract.version
        self.site = site_path.rstrip("/")
        self.off_min = off_min
        self.hide = hide_features
        self._cache = {}
        self._lock = threading.Lock()
        self._dt = _make_dt(off_min)
        self._usdt = _make_us_dt(off_min)

    # -- compilation ------------------------------------------------------
    def _encoder(self, defname, f):
        c = f.code
        if c == "s":
            if instance.stamp_of(defname, f.name) == "_lm":
                return self._usdt
            return _enc_str
        if c == "b":
            return _enc_bool
        if c in "ihly":
            return _enc_int
        if c == "d":
            return _make_dec(instance.decimal_scale(defname, f.name))
        if c == "t":
            return self._dt
        if c == "g":
            return _enc_guid
        return _enc_double

    def _compile(self, defname, shape, level, entity, detail_view):
        d = self.contract.definition(defname)
        dflt = instance.defaults(defname)
        hidden = instance.HIDDEN.get(defname, ()) if self.hide else ()
        steps = []
        for f in d.fields:
            if f.kind == "value":
                if f.name in hidden:
                    continue
                if shape.fields is not None and f.name not in shape.fields:
                    continue
                stamp = instance.stamp_of(defname, f.name)
                if stamp:
                    steps.append((',"%s":' % f.name, stamp, None, self._encoder(defname, f), 0))
                else:
                    steps.append((',"%s":' % f.name, f.name, dflt.get(f.name),
                                  self._encoder(defname, f), 0))
            else:
                sub = shape.expand.get(f.name)
                if sub is None:
                    continue
                if f.kind == "linked":
                    fn = self._compile(f.target, sub, "linked", entity, None)
                    steps.append((',"%s":' % f.name, f.name, None, fn, 1))
                else:
                    view = instance.ENTITIES[entity].detail_views.get(f.name, f.name) \
                        if entity in instance.ENTITIES else f.name
                    fn = self._compile(f.target, sub, "detail", entity, view)
                    steps.append((',"%s":' % f.name, f.name, None, fn, 2))
        custom = shape.custom
        site, ver = self.site, self.version
        meta = instance.ENTITIES.get(entity)
        top_view = meta.view if meta else entity
        graph = meta.graph if meta else entity

        def slow(rec, rownum):
            rid = rec.get("id") or ""
            parts = ['{"id":"', rid, '","rowNumber":', str(rownum)]
            errors = rec.get("_errors")
            echo = rec.get("_echo") or {}
            if level == "top" and rec.get("_error"):
                parts.append(',"error":' + encode_basestring(rec["_error"]))
            if level == "linked":
                parts.append(',"note":null')
            else:
                note = rec.get("note", "")
                parts.append(',"note":' + ("null" if note is None else _NOTE_EMPTY if not note else
                                           '{"value":' + encode_basestring(note) + "}"))
            get = rec.get
            for prefix, name, dv, enc, kind in steps:
                if kind == 0:
                    v = get(name, dv)
                    if errors and name in errors:
                        if name in echo:
                            body = '{"value":' + json.dumps(echo[name], default=str) + "}"
                        else:
                            body = enc(v)
                        err = '"error":' + encode_basestring(errors[name]) + "}"
                        if body == _EMPTY:
                            parts.append(prefix + "{" + err)
                        else:
                            parts.append(prefix + body[:-1] + "," + err)
                    else:
                        parts.append(prefix + enc(v))
                elif kind == 1:
                    v = get(name)
                    if v is None:
                        v = {"id": linked_id(rid, name)}
                    parts.append(prefix + enc(v, 1))
                else:
                    lines = get(name) or ()
                    parts.append(prefix + "[" +
                                 ",".join([enc(line, i + 1) for i, line in enumerate(lines)]) + "]")
            parts.append(',"custom":' + _custom_json(rec, custom))
            if level == "top":
                parts.append(',"_links":{"self":"%s/entity/Default/%s/%s/%s","files:put":'
                             '"%s/entity/Default/%s/files/%s/%s/%s/{filename}"}}'
                             % (site, ver, entity, rid, site, ver, graph, top_view, rid))
            elif level == "detail":
                parts.append(',"_links":{"files:put":"%s/entity/Default/%s/files/%s/%s/%s/'
                             '{filename}"}}' % (site, ver, graph, detail_view, rid))
            else:
                parts.append("}")
            return "".join(parts)
        return self._generate(steps, level, custom, slow, (site, ver, graph, top_view, detail_view,
                                                          entity))

    _MISSING = object()

    def _generate(self, steps, level, custom, slow, where):
        """Straight-line code for the common case (no errors on the record): one
        statement per field, defaults pre-encoded. Falls back to `slow`."""
        site, ver, graph, top_view, detail_view, entity = where
        ns = {"M": self._MISSING, "slow": slow, "linked_id": linked_id,
              "eb": encode_basestring, "custom_json": _custom_json, "CUSTOM": custom,
              "NOTE_EMPTY": _NOTE_EMPTY}
        lines = ["def fast(rec, rownum):",
                 "    if '_errors' in rec or '_error' in rec:",
                 "        return slow(rec, rownum)",
                 "    get = rec.get",
                 "    rid = get('id') or ''"]
        if level == "linked":
            lines.append("    p = ['{\"id\":\"', rid, '\",\"rowNumber\":', str(rownum), "
                         "',\"note\":null']")
        else:
            lines.append("    note = get('note', '')")
            lines.append("    p = ['{\"id\":\"', rid, '\",\"rowNumber\":', str(rownum), "
                         "',\"note\":' + ('null' if note is None else NOTE_EMPTY if not note else "
                         "'{\"value\":' + eb(note) + '}')]")
        lines.append("    a = p.append")
        for i, (prefix, name, dv, enc, kind) in enumerate(steps):
            ns["P%d" % i] = prefix
            ns["N%d" % i] = name
            ns["E%d" % i] = enc
            if kind == 0:
                ns["D%d" % i] = prefix + enc(dv)
                lines.append("    v = get(N%d, M)" % i)
                lines.append("    a(D%d if v is M else P%d + E%d(v))" % (i, i, i))
            elif kind == 1:
                lines.append("    v = get(N%d)" % i)
                lines.append("    a(P%d + E%d(v if v is not None else {'id': linked_id(rid, N%d)}, 1))"
                             % (i, i, i))
            else:
                lines.append("    v = get(N%d) or ()" % i)
                lines.append("    a(P%d + '[' + ','.join([E%d(x, j + 1) for j, x in enumerate(v)]) "
                             "+ ']')" % (i, i))
        if custom:
            lines.append("    a(',\"custom\":' + custom_json(rec, CUSTOM))")
        else:
            lines.append("    a(',\"custom\":{}')")
        if level == "top":
            ns["L1"] = ',"_links":{"self":"%s/entity/Default/%s/%s/' % (site, ver, entity)
            ns["L2"] = '","files:put":"%s/entity/Default/%s/files/%s/%s/' % (site, ver, graph,
                                                                             top_view)
            lines.append("    a(L1 + rid + L2 + rid + '/{filename}\"}}')")
        elif level == "detail":
            ns["L1"] = ',"_links":{"files:put":"%s/entity/Default/%s/files/%s/%s/' % (
                site, ver, graph, detail_view)
            lines.append("    a(L1 + rid + '/{filename}\"}}')")
        else:
            lines.append("    a('}')")
        lines.append("    return ''.join(p)")
        exec(compile("\n".join(lines), "<render %s>" % entity, "exec"), ns)
        fast = ns["fast"]
        fast.slow = slow          # the generic path, kept for errors (and tests)
        return fast

    def top(self, entity, shape):
        """The serialiser rec, rownum -> JSON text of a top-level record."""
        key = (entity, shape.key())
        fn = self._cache.get(key)
        if fn is None:
            fn = self._compile(entity, shape, "top", entity, None)
            with self._lock:
                if len(self._cache) > 512:
                    self._cache.clear()
                self._cache[key] = fn
        return fn

    def render_list(self, entity, shape, recs):
        fn = self.top(entity, shape)
        return "[" + ",".join([fn(r, i + 1) for i, r in enumerate(recs)]) + "]"

    def render_one(self, entity, shape, rec):
        return self.top(entity, shape)(rec, 1)
