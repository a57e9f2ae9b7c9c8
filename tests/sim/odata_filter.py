"""The OData v3 `$filter` subset Acumatica's contract-based API accepts.

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | compare
    compare    := primary [("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary]
    primary    := "(" expr ")" | literal | function | path
    function   := ("substringof"|"startswith"|"endswith") "(" expr "," expr ")"
                | "cf." Type "(" "f" "=" "'View.Field'" ")"
    path       := Name ("/" Name)*          e.g. MainContact/Email
    literal    := 'text' ('' escapes a quote) | 123 | 1.5 | 0M | 2.5d | 10L
                | true | false | null
                | datetimeoffset'2024-07-15T10:31:28.402+03:00' | datetime'2024-07-15T10:31:28'
                | date'2024-07-15' | guid'…'

`not` binds tighter than the comparison operators, as in the OData grammar
(write `not (A eq B)`); it takes a boolean operand.

parse() turns the text into a tree (tuples); compile_filter() turns the tree
into a predicate `rec -> bool` using a resolver the caller supplies:

    resolver(path_segments, position) -> (getter, type_code)
    resolver.custom(type_name, "View.Field", position) -> (getter, type_code)

where getter(rec) returns the stored value (str, bool, int, Decimal, int
milliseconds since the epoch for date-times, or None) and type_code is the
contract letter (s b i h l d t g f y). String comparisons ignore case, as SQL
Server's default collation does. A comparison with a null value is false
except `eq null` / `ne null`.

Errors raise FilterError(message) with Microsoft.Data.OData-style text
("Syntax error at position 14 in '…'.").
"""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation


class FilterError(Exception):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<typed>(?:datetimeoffset|datetime|date|guid|time)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[(),/=])
""", re.X)

COMPARE = ("eq", "ne", "gt", "ge", "lt", "le")
KEYWORDS = COMPARE + ("and", "or", "not", "true", "false", "null")
FUNCTIONS = ("substringof", "startswith", "endswith")
NUMERIC = "ihldfy"

EDM = {"s": "Edm.String", "b": "Edm.Boolean", "i": "Edm.Int32", "h": "Edm.Int16",
       "l": "Edm.Int64", "d": "Edm.Decimal", "t": "Edm.DateTimeOffset", "g": "Edm.Guid",
       "f": "Edm.Double", "y": "Edm.Byte", None: "null"}

CUSTOM_TYPES = {"String": "s", "Decimal": "d", "Int": "i", "Boolean": "b", "DateTime": "t",
                "Guid": "g", "Short": "h", "Long": "l", "Byte": "y", "Double": "f"}


def _tokenize(text):
    toks = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterError("Syntax error: character '%s' is not valid at position %d in '%s'."
                              % (text[pos], pos, text))
        kind = m.lastgroup
        if kind != "ws":
            toks.append((kind, m.group(kind), pos))
        pos = m.end()
    toks.append(("end", "", n))
    return toks


_DTO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
                  r"\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_datetime_ms(text, default_offset_minutes=0):
    """Milliseconds since the epoch for an ISO date-time; no offset -> the default one."""
    m = _DTO.match(text.strip())
    if not m:
        raise ValueError("not a date-time: %r" % text)
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    if off is None:
        offmin = default_offset_minutes
    elif off == "Z":
        offmin = 0
    else:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        offmin = sign * (int(digits[:2]) * 60 + int(digits[2:]))
    dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0),
                  tzinfo=timezone(timedelta(minutes=offmin)))
    ms = int(dt.timestamp()) * 1000
    if frac:
        ms += int((frac + "000")[:3])
    return ms


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, pos=None):
        if pos is None:
            pos = self.peek()[2]
        return FilterError("Syntax error at position %d in '%s'." % (pos, self.text))

    def is_kw(self, word):
        k, v, _ = self.peek()
        return k == "name" and v == word

    def expect_punct(self, ch):
        k, v, pos = self.next()
        if k != "punct" or v != ch:
            raise FilterError("')' or ',' expected at position %d in '%s'." % (pos, self.text)
                              if ch in "),"
                              else "'%s' expected at position %d in '%s'." % (ch, pos, self.text))

    def parse(self):
        if self.peek()[0] == "end":
            raise FilterError("Expression expected at position 0 in '%s'." % self.text)
        node = self.parse_or()
        if self.peek()[0] != "end":
            raise self.error()
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.is_kw("or"):
            pos = self.next()[2]
            node = ("or", node, self.parse_and(), pos)
        return node

    def parse_and(self):
        node = self.parse_not()
        while self.is_kw("and"):
            pos = self.next()[2]
            node = ("and", node, self.parse_not(), pos)
        return node

    def parse_not(self):
        if not self.is_kw("not"):
            return self.parse_compare()
        node = self.parse_unary_not()
        # `not` applies to the next primary, so "not X eq Y" is "(not X) eq Y";
        # the type check then reports a non-boolean X.
        k, v, pos = self.peek()
        if k == "name" and v in COMPARE:
            self.next()
            node = ("cmp", v, node, self.parse_primary(), pos)
        return node

    def parse_unary_not(self):
        pos = self.next()[2]          # "not"
        if self.is_kw("not"):
            return ("not", self.parse_unary_not(), pos)
        return ("not", self.parse_primary(), pos)

    def parse_compare(self):
        left = self.parse_primary()
        k, v, pos = self.peek()
        if k == "name" and v in COMPARE:
            self.next()
            right = self.parse_primary()
            k2, v2, pos2 = self.peek()
            if k2 == "name" and v2 in COMPARE:
                raise self.error(pos2)
            return ("cmp", v, left, right, pos)
        if k == "name" and v in ("add", "sub", "mul", "div", "mod"):
            raise FilterError("Arithmetic operator '%s' is not supported at position %d in '%s'."
                              % (v, pos, self.text))
        return left

    def parse_primary(self):
        k, v, pos = self.next()
        if k == "punct" and v == "(":
            node = self.parse_or()
            self.expect_punct(")")
            return node
        if k == "string":
            return ("lit", "s", v[1:-1].replace("''", "'"), pos)
        if k == "typed":
            q = v.index("'")
            kind, body = v[:q], v[q + 1:-1].replace("''", "'")
            try:
                if kind in ("datetimeoffset", "datetime", "date"):
                    if kind == "datetimeoffset" and not re.search(r"(Z|[+-]\d{2}:?\d{2})$", body):
                        raise ValueError(body)
                    if kind == "date" and not re.match(r"^\d{4}-\d{2}-\d{2}$", body):
                        raise ValueError(body)
                    # datetime'…' and date'…' carry no offset: local (instance) time,
                    # resolved at compile time.
                    return ("lit", "t", (kind, body), pos)
                if kind == "guid":
                    if not re.match(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", body):
                        raise ValueError(body)
                    return ("lit", "g", body.lower(), pos)
            except ValueError:
                raise FilterError("Unrecognized '%s' literal '%s' at position %d in '%s'."
                                  % ("Edm.DateTimeOffset" if kind == "datetimeoffset" else
                                     "Edm.DateTime" if kind in ("datetime", "date") else
                                     "Edm.Guid", v, pos, self.text))
            raise FilterError("Literal '%s' is not supported at position %d in '%s'."
                              % (v, pos, self.text))
        if k == "number":
            return ("lit",) + _number(v, pos, self.text) + (pos,)
        if k == "name":
            if v in ("true", "false"):
                return ("lit", "b", v == "true", pos)
            if v == "null":
                return ("lit", None, None, pos)
            if v in KEYWORDS:
                raise self.error(pos)
            if self.peek()[0] == "punct" and self.peek()[1] == "(":
                return self.parse_call(v, pos)
            segs = [v]
            while self.peek()[0] == "punct" and self.peek()[1] == "/":
                self.next()
                k2, v2, p2 = self.next()
                if k2 != "name" or v2 in KEYWORDS:
                    raise self.error(p2)
                segs.append(v2)
            return ("path", tuple(segs), pos)
        raise self.error(pos)

    def parse_call(self, name, pos):
        self.next()  # "("
        if name.startswith("cf."):
            tname = name[3:]
            if tname not in CUSTOM_TYPES:
                raise FilterError("Unknown function '%s' at position %d in '%s'."
                                  % (name, pos, self.text))
            k, v, p = self.next()
            if k != "name" or v != "f":
                raise FilterError("'f' expected at position %d in '%s'." % (p, self.text))
            self.expect_punct("=")
            k, v, p = self.next()
            if k != "string" or "." not in v:
                raise FilterError("'View.Field' expected at position %d in '%s'." % (p, self.text))
            self.expect_punct(")")
            return ("custom", tname, v[1:-1], pos)
        if name not in FUNCTIONS:
            raise FilterError("Unknown function '%s' at position %d in '%s'."
                              % (name, pos, self.text))
        a = self.parse_or()
        self.expect_punct(",")
        b = self.parse_or()
        self.expect_punct(")")
        return ("call", name, a, b, pos)


def _number(text, pos, whole):
    suffix = text[-1].lower() if text[-1].isalpha() else ""
    body = text[:-1] if suffix else text
    try:
        if suffix == "m":
            return ("d", Decimal(body))
        if suffix in ("d", "f"):
            return ("f", Decimal(body))
        if suffix == "l":
            return ("l", int(body))
        if "." in body or "e" in body.lower():
            return ("f", Decimal(body))
        return ("i", int(body))
    except (ValueError, InvalidOperation):
        raise FilterError("Invalid number '%s' at position %d in '%s'." % (text, pos, whole))


def parse(text):
    """The syntax tree of a $filter text; raises FilterError."""
    if text is None:
        raise FilterError("Expression expected at position 0 in ''.")
    return _Parser(text).parse()


# ---------------------------------------------------------------------------
# Compilation to a predicate

def _fold(v):
    return v.casefold() if isinstance(v, str) else v


_OPS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}


class _Compiler:
    def __init__(self, text, resolver, offset_minutes):
        self.text = text
        self.resolver = resolver
        self.offset = offset_minutes

    def type_error(self, op, ta, tb, pos):
        return FilterError("Operator '%s' incompatible with operand types '%s' and '%s' at "
                           "position %d in '%s'." % (op, EDM.get(ta, ta), EDM.get(tb, tb),
                                                     pos, self.text))

    def value(self, node):
        """(getter, type) of an operand node."""
        kind = node[0]
        if kind == "lit":
            t, v = node[1], node[2]
            if t == "t":
                lkind, body = v
                try:
                    v = parse_datetime_ms(body, self.offset)
                except ValueError:
                    raise FilterError("Unrecognized date-time literal '%s' at position %d in '%s'."
                                      % (body, node[3], self.text))
            return (lambda rec, _v=v: _v), t, True
        if kind == "path":
            getter, t = self.resolver(node[1], node[2])
            return getter, t, False
        if kind == "custom":
            getter, t = self.resolver.custom(node[1], node[2], node[3])
            return getter, t, False
        if kind in ("cmp", "and", "or", "not", "call"):
            return self.pred(node), "b", False
        raise FilterError("Unsupported expression at position %d in '%s'." % (node[-1], self.text))

    def pred(self, node):
        kind = node[0]
        if kind == "and":
            a, b = self.pred(node[1]), self.pred(node[2])
            return lambda rec: a(rec) and b(rec)
        if kind == "or":
            a, b = self.pred(node[1]), self.pred(node[2])
            return lambda rec: a(rec) or b(rec)
        if kind == "not":
            g, t, _ = self.value(node[1])
            if t != "b":
                raise FilterError("The operand for a unary operator 'not' must be of type "
                                  "'Edm.Boolean' at position %d in '%s'." % (node[2], self.text))
            return lambda rec: not g(rec)
        if kind == "cmp":
            return self.compare(node)
        if kind == "call":
            return self.call(node)
        g, t, _ = self.value(node)
        if t != "b":
            raise FilterError("The $filter expression must evaluate to a single boolean value "
                              "(position %d in '%s')." % (node[-1], self.text))
        return lambda rec: g(rec) is True

    def compare(self, node):
        _, op, ln, rn, pos = node
        ga, ta, la = self.value(ln)
        gb, tb, lb = self.value(rn)
        if ta is None or tb is None:
            if op not in ("eq", "ne"):
                raise self.type_error(op, ta, tb, pos)
            other = gb if ta is None else ga
            if op == "eq":
                return lambda rec: other(rec) is None
            return lambda rec: other(rec) is not None
        if ta in NUMERIC and tb in NUMERIC:
            conv = Decimal if ("d" in (ta, tb) or "f" in (ta, tb)) else int
            if la:
                ca = conv(ga(None))
                ga = lambda rec, _c=ca: _c
            if lb:
                cb = conv(gb(None))
                gb = lambda rec, _c=cb: _c
        elif ta != tb and not ({ta, tb} <= {"s", "g"}):
            raise self.type_error(op, ta, tb, pos)
        if op in ("gt", "ge", "lt", "le") and "b" in (ta, tb):
            raise self.type_error(op, ta, tb, pos)
        fn = _OPS[op]
        fold = ta in "sg" or tb in "sg"
        # Fast paths for the common "field op literal" shape.
        if lb and not la:
            c = gb(None)
            if fold:
                c = _fold(c)
                if op == "eq":
                    return lambda rec: _fold(ga(rec)) == c
                if op == "ne":
                    v_ne = lambda rec: (lambda v: v is None or _fold(v) != c)(ga(rec))
                    return v_ne

                def p_fold(rec):
                    v = ga(rec)
                    return v is not None and fn(_fold(v), c)
                return p_fold
            if op == "eq":
                return lambda rec: ga(rec) == c
            if op == "ne":
                return lambda rec: ga(rec) != c

            def p_lit(rec):
                v = ga(rec)
                return v is not None and fn(v, c)
            return p_lit

        def p_any(rec):
            a, b = ga(rec), gb(rec)
            if a is None or b is None:
                if op == "eq":
                    return a is None and b is None
                if op == "ne":
                    return not (a is None and b is None)
                return False
            if fold:
                a, b = _fold(a), _fold(b)
            return fn(a, b)
        return p_any

    def call(self, node):
        _, name, an, bn, pos = node
        ga, ta, _ = self.value(an)
        gb, tb, _ = self.value(bn)
        if ta not in ("s", None) or tb not in ("s", None):
            raise FilterError("No function signature for the function with name '%s' matches "
                              "the specified arguments ('%s', '%s') at position %d in '%s'."
                              % (name, EDM.get(ta, ta), EDM.get(tb, tb), pos, self.text))
        if name == "substringof":
            # substringof(needle, haystack)
            def p(rec):
                a, b = ga(rec), gb(rec)
                return a is not None and b is not None and a.casefold() in b.casefold()
        elif name == "startswith":
            def p(rec):
                a, b = ga(rec), gb(rec)
                return a is not None and b is not None and a.casefold().startswith(b.casefold())
        else:
            def p(rec):
                a, b = ga(rec), gb(rec)
                return a is not None and b is not None and a.casefold().endswith(b.casefold())
        return p


def compile_filter(text, resolver, offset_minutes=0):
    """A predicate rec -> bool for a $filter text; raises FilterError.

    offset_minutes: the instance's offset, used for datetime'…'/date'…'
    literals that carry no offset of their own.
    """
    tree = parse(text)
    return _Compiler(text, resolver, offset_minutes).pred(tree)
