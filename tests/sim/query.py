"""The query parameters of the contract-based API: $select, $expand, $custom,
$top, $skip (the $filter language is odata_filter.py).

parse_query() checks every name against the contract of the requested entity
and returns a Query whose `shape` says, level by level, which fields and which
linked/detail entities a response carries:

    Shape(fields=None | set of value-field names, expand={name: Shape},
          custom={view: [field, ...]})

Rules (API-NOTES 2.3):
* nothing linked or detail is returned unless it is named in $expand; a nested
  level needs its own entry (MainContact,MainContact/Address);
* $select lists fields with "/" for nested ones (MainContact/Email); without
  $select every value field of every returned level is served; with $select a
  level serves only the value fields selected at that level, and a linked or
  detail entity that is expanded but not selected (neither itself nor any field
  under it) is left out;
* $custom lists `View.Field` (top level) or `Detail/View.Field`;
* $top/$skip are non-negative integers.
Names are matched without regard to case. An unknown name is an error.
"""


class QueryError(Exception):
    """A query parameter the server rejects; `status` is the HTTP status to send."""

    def __init__(self, message, status=500):
        super().__init__(message)
        self.status = status


class Shape:
    __slots__ = ("fields", "expand", "custom")

    def __init__(self, fields=None, expand=None, custom=None):
        self.fields = fields          # None = all value fields
        self.expand = expand or {}    # field name -> Shape
        self.custom = custom or {}    # view -> [field names]

    def key(self):
        """A hashable description (for caching compiled renderers)."""
        return (None if self.fields is None else tuple(sorted(self.fields)),
                tuple(sorted((k, v.key()) for k, v in self.expand.items())),
                tuple(sorted((k, tuple(v)) for k, v in self.custom.items())))


class Query:
    __slots__ = ("shape", "top", "skip", "filter")

    def __init__(self, shape, top=None, skip=0, filter_text=None):
        self.shape = shape
        self.top = top
        self.skip = skip
        self.filter = filter_text


def _split(text):
    return [p.strip() for p in text.split(",") if p.strip()] if text else []


def _int_param(name, text):
    try:
        n = int(text.strip())
    except (ValueError, AttributeError):
        raise QueryError("The value '%s' of the %s parameter is not a valid integer." % (text, name),
                         400)
    if n < 0:
        raise QueryError("The value of the %s parameter cannot be negative." % name, 400)
    return n


def full_shape(contract, defname, depth=3):
    """Every value field and every linked/detail entity, nested `depth` levels
    (the shape of /_sim/records and of a GET with everything expanded)."""
    d = contract.definition(defname)
    exp = {}
    if depth > 0:
        for f in d.fields:
            if f.kind != "value":
                exp[f.name] = full_shape(contract, f.target, depth - 1)
    return Shape(None, exp)


def _resolve_path(contract, defname, segs, entity, what):
    """Walk linked/detail segments; returns (definition, [canonical names])."""
    d = contract.definition(defname)
    names = []
    for i, seg in enumerate(segs):
        f = d.field(seg)
        if f is None or (i < len(segs) - 1 and f.kind == "value"):
            raise QueryError("The %s parameter refers to '%s', which is not a field of the %s "
                             "entity in endpoint Default/%s." % (what, "/".join(segs), entity,
                                                                  contract.version))
        names.append(f.name)
        if f.kind != "value" and i < len(segs) - 1:
            d = contract.definition(f.target)
    return names


def parse_query(contract, entity, params, allow_paging=True):
    """A Query for a request on top-level `entity`; raises QueryError."""
    expand_text = params.get("$expand")
    select_text = params.get("$select")
    custom_text = params.get("$custom")

    root = Shape(None)
    # $expand: build the tree of expanded linked/detail entities.
    for item in _split(expand_text):
        segs = [s for s in item.split("/") if s]
        if segs and segs[-1].lower() == "files":
            segs = segs[:-1]      # files are not modelled; ignore $expand=files
            if not segs:
                continue
        names = _resolve_path(contract, entity, segs, entity, "$expand")
        d = contract.definition(entity)
        node = root
        for seg in names:
            f = d.field(seg)
            if f.kind == "value":
                raise QueryError("The $expand parameter refers to '%s', which is a value field, "
                                 "not a linked or detail entity." % item)
            child = node.expand.get(f.name)
            if child is None:
                child = node.expand[f.name] = Shape(None)
            node = child
            d = contract.definition(f.target)

    # $select: restrict value fields per level; mark levels that are selected.
    selects = _split(select_text)
    if selects:
        selected_levels = set()   # ids of shapes that are selected as a whole or partly
        _clear_fields(root)
        for item in selects:
            segs = [s for s in item.split("/") if s]
            if segs and segs[-1].lower() == "files":
                continue
            names = _resolve_path(contract, entity, segs, entity, "$select")
            d = contract.definition(entity)
            node = root
            for i, seg in enumerate(names):
                f = d.field(seg)
                if f.kind == "value":
                    node.fields.add(f.name)
                    break
                child = node.expand.get(f.name)
                if child is None:
                    # Selected but not expanded: nothing is returned for it.
                    node = None
                    break
                selected_levels.add(id(child))
                if i == len(names) - 1:
                    child.fields = None     # the whole linked/detail entity
                node = child
                d = contract.definition(f.target)
        _prune_unselected(root, selected_levels)

    # $custom: View.Field at the top, Detail/View.Field below.
    for item in _split(custom_text):
        parts = item.split("/")
        target = root
        for seg in parts[:-1]:
            d = contract.definition(entity)
            f = d.field(seg)
            if f is None or f.kind == "value":
                raise QueryError("The $custom parameter refers to '%s', which is not a linked or "
                                 "detail entity of %s." % (item, entity))
            target = target.expand.get(f.name)
            if target is None:
                raise QueryError("The $custom parameter refers to '%s', but %s is not expanded."
                                 % (item, f.name))
        vf = parts[-1]
        if "." not in vf:
            raise QueryError("The $custom parameter must name fields as View.Field: '%s'." % item)
        view, field = vf.split(".", 1)
        target.custom.setdefault(view, [])
        if field not in target.custom[view]:
            target.custom[view].append(field)

    top = skip = None
    if allow_paging:
        if params.get("$top") is not None:
            top = _int_param("$top", params["$top"])
        if params.get("$skip") is not None:
            skip = _int_param("$skip", params["$skip"])
    return Query(root, top, skip or 0, params.get("$filter"))


def _clear_fields(shape):
    shape.fields = set()
    for child in shape.expand.values():
        _clear_fields(child)


def _prune_unselected(shape, selected):
    """Drop expanded levels that $select does not mention."""
    for name in list(shape.expand):
        child = shape.expand[name]
        if id(child) not in selected:
            del shape.expand[name]
        else:
            _prune_unselected(child, selected)
