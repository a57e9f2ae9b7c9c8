"""PUT (create or update) and DELETE of contract entities, with the business
rules the simulator models.

PUT, after API-NOTES 2.5:
* the record is located by `id` in the body, else by its key fields in the
  body, else by the `$filter` query parameter (the first match); nothing found
  -> a new record;
* `If-None-Match: *` -> 412 if it exists, `If-Match: *` -> 412 if it does not;
* field names are matched without regard to case (Json.NET); unknown fields
  are silently ignored; system-computed fields (totals, status, stamps) are
  overwritten by the computation, as recorded (OrderTotal sent, 0.0 served);
* detail lines are matched by `id`, else by their key fields (LineNbr …), else
  added; `"delete": true` removes the matched line;
* auto-numbered keys: absent, "<NEW>" or not matching an existing record ->
  the next number (the recorded instance replaced CustomerID "123" by "C1165");
* nothing changed -> nothing written (the last-modified stamp stays);
* validation problems -> 422 with the entity echoed, an "error" on each bad
  field (also inside detail lines) and a top-level "error" sentence; nothing is
  saved.

Every write runs under the store lock, so numbering, duplicate checks and the
multi-record side effects (order -> payment, stock item <-> item warehouse)
are atomic.
"""
import re
import uuid
from datetime import datetime, timezone, timedelta
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

import instance
import odata_filter

CENT = Decimal("0.01")


class WriteError(Exception):
    """A write refused with an HttpError body (status, exceptionMessage, exceptionType)."""

    def __init__(self, status, message, exc_type=None, model_state=None):
        super().__init__(message)
        self.status = status
        self.exc_type = exc_type
        self.model_state = model_state


class Rejected(Exception):
    """Validation failed: `rec` is the echo (with _errors / _error) to send as 422."""

    def __init__(self, rec):
        super().__init__(rec.get("_error"))
        self.rec = rec


def new_id():
    return str(uuid.uuid4())


def q(v, scale):
    """Decimal `v` at the served scale of its field."""
    if v is None:
        return None
    if v.__class__ is not Decimal:
        v = Decimal(str(v))
    if scale is None:
        return v
    return v.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def money(v):
    """An amount rounded to cents and held at the 4-digit scale of money columns."""
    d = Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP).quantize(Decimal("0.0000"))
    return d.copy_abs() if d.is_zero() else d


def qty(v):
    d = Decimal(v).quantize(Decimal("0.000000"), rounding=ROUND_HALF_UP)
    return d.copy_abs() if d.is_zero() else d


def unwrap(raw):
    """(present, value) of a {"value": …} wrapper in a request body."""
    if isinstance(raw, dict) and "value" in raw:
        return True, raw["value"]
    return False, None


_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$",
                      re.I)


def parse_any_datetime(text, off_min):
    """Milliseconds for ISO 8601 or US "6/7/2024 [7:05:08 PM]" text (local when no offset)."""
    text = text.strip()
    m = _US_DATE.match(text)
    if m:
        mo, d, y, hh, mi, ss, ampm = m.groups()
        h = int(hh or 0)
        if ampm:
            h = h % 12 + (12 if ampm.upper() == "PM" else 0)
        dt = datetime(int(y), int(mo), int(d), h, int(mi or 0), int(ss or 0),
                      tzinfo=timezone(timedelta(minutes=off_min)))
        return int(dt.timestamp()) * 1000
    return odata_filter.parse_datetime_ms(text, off_min)


def convert(code, raw, defname, field, off_min):
    """The stored value of a request value for a field of type `code`; raises ValueError."""
    if raw is None:
        return None
    if code == "s":
        if isinstance(raw, (dict, list)):
            raise ValueError("a string is expected")
        if isinstance(raw, bool):
            return "True" if raw else "False"
        return str(raw)
    if code == "b":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw)
        raise ValueError("a boolean is expected")
    if code in "ihly":
        if isinstance(raw, bool):
            raise ValueError("an integer is expected")
        try:
            d = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError("an integer is expected")
        if d != d.to_integral_value():
            raise ValueError("an integer is expected")
        return int(d)
    if code in "df":
        if isinstance(raw, bool):
            raise ValueError("a number is expected")
        try:
            d = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError("a number is expected")
        if not d.is_finite():
            raise ValueError("a number is expected")
        return q(d, instance.decimal_scale(defname, field)) if code == "d" else d
    if code == "t":
        if not isinstance(raw, str):
            raise ValueError("a date and time is expected")
        return parse_any_datetime(raw, off_min)
    if code == "g":
        try:
            return str(uuid.UUID(str(raw)))
        except ValueError:
            raise ValueError("a GUID is expected")
    raise ValueError("unsupported type")


def add_error(obj, field, message):
    obj.setdefault("_errors", {})[field] = message


DAC_NAMES = {
    "Customer": "Customer", "Contact": "Contact", "StockItem": "Stock Item",
    "NonStockItem": "Non-Stock Item", "Warehouse": "Warehouse", "ItemWarehouse": "Item Warehouse",
    "SalesOrder": "Sales Order", "SalesOrderDetail": "SO Line",
    "SalesOrderPayment": "SO Adjustment", "TaxDetail": "SO Tax Detail",
    "Shipment": "Shipment", "ShipmentPackage": "SO Package Detail",
    "ShipmentDetail": "Shipment Line", "ShipVia": "Ship Via", "SalesInvoice": "Invoice",
    "SalesInvoiceDetail": "AR Transactions", "Payment": "Payment",
    "StockItemWarehouseDetail": "Item Warehouse", "WarehouseLocation": "Warehouse Location",
    "PaymentOrderDetail": "SO Adjustment",
}


class Ctx:
    """The state of one write: what it needs to know and what it found."""

    def __init__(self, svc, contract, entity, now, off_min):
        self.svc = svc
        self.contract = contract
        self.version = contract.version
        self.entity = entity
        self.meta = instance.ENTITIES[entity]
        self.now = now
        self.off_min = off_min
        self.new_lines = set()      # ids of lines added by this request
        self.first_error = None     # (definition, is_new) of the first error found

    def error(self, obj, defname, field, message, is_new):
        add_error(obj, field, message)
        if self.first_error is None:
            self.first_error = (defname, is_new)


# ---------------------------------------------------------------------------
# Generic application of a request body onto a record copy

_SYSTEM = ("id", "rowNumber", "note", "custom", "_links", "error", "files", "delete")


def apply_object(ctx, defname, target, body, is_new, skip=()):
    """Apply request body `body` onto mutable dict `target` (definition `defname`)."""
    d = ctx.contract.definition(defname)
    for name, raw in body.items():
        if name in _SYSTEM:
            if name == "note":
                present, v = unwrap(raw)
                if present:
                    target["note"] = "" if v is None else str(v)
            elif name == "custom" and isinstance(raw, dict):
                merge_custom(target, raw)
            continue
        f = d.field(name)
        if f is None or f.name in skip:
            continue                      # unknown fields are silently ignored
        if f.kind == "value":
            if instance.stamp_of(defname, f.name):
                continue                  # system stamps are read-only
            present, v = unwrap(raw)
            if not present:
                continue
            try:
                val = convert(f.code, v, defname, f.name, ctx.off_min)
            except ValueError as e:
                # The 422 echo shows the value as sent; the record keeps its value.
                target.setdefault("_echo", {})[f.name] = v
                ctx.error(target, defname, f.name, "The value '%s' is not valid for the %s field: %s."
                          % (v, f.name, e), is_new)
                continue
            allowed = instance.DROPDOWNS.get((defname, f.name))
            if allowed and val is not None:
                canon = {a.lower(): a for a in allowed}.get(str(val).lower())
                if canon is None:
                    target.setdefault("_echo", {})[f.name] = v
                    ctx.error(target, defname, f.name, "The value '%s' is not one of the values "
                              "allowed for %s (%s)." % (val, f.name, ", ".join(allowed)), is_new)
                    continue
                val = canon
            # On update only changed values are written (PUT compares field by field);
            # on insert every value given is kept (rules see what was sent).
            if not is_new:
                if f.name in target:
                    if target[f.name] == val and type(target[f.name]) is type(val):
                        continue
                elif instance.defaults(defname).get(f.name) == val:
                    continue
            target[f.name] = val
        elif f.kind == "linked":
            if not isinstance(raw, dict):
                continue
            sub = dict(target.get(f.name) or {"id": new_id()})
            apply_object(ctx, f.target, sub, raw, is_new)
            target[f.name] = sub
        else:
            if not isinstance(raw, list):
                continue
            keys = ctx.meta.line_keys.get(f.name, ()) if defname == ctx.entity else ()
            target[f.name] = merge_lines(ctx, f.target, target.get(f.name) or [], raw, keys)


def merge_custom(target, raw):
    custom = {k: dict(v) for k, v in (target.get("custom") or {}).items()}
    for view, fields in raw.items():
        if not isinstance(fields, dict):
            continue
        cv = custom.setdefault(view, {})
        for fname, cf in fields.items():
            if isinstance(cf, dict) and "value" in cf:
                cv[fname] = {"type": cf.get("type", "CustomStringField"), "value": cf["value"]}
    target["custom"] = custom


def _line_key_values(ctx, defname, body_line, keys):
    d = ctx.contract.definition(defname)
    vals = []
    for k in keys:
        f = d.field(k)
        present, v = unwrap(body_line.get(k))
        if not present:
            # Field names in bodies are case-insensitive.
            for bk, bv in body_line.items():
                if bk.lower() == k.lower():
                    present, v = unwrap(bv)
        if not present or v is None:
            return None
        try:
            v = convert(f.code, v, defname, k, ctx.off_min)
        except ValueError:
            return None
        vals.append(v.upper() if isinstance(v, str) else v)
    return tuple(vals)


def merge_lines(ctx, defname, existing, body_lines, keys):
    """The detail lines after applying the request's lines (match by id, keys, else add)."""
    lines = list(existing)
    for bl in body_lines:
        if not isinstance(bl, dict):
            continue
        idx = None
        bid = bl.get("id")
        if isinstance(bid, str) and bid:
            for i, line in enumerate(lines):
                if line is not None and line.get("id", "").lower() == bid.lower():
                    idx = i
                    break
        elif keys:
            kv = _line_key_values(ctx, defname, bl, keys)
            if kv is not None:
                for i, line in enumerate(lines):
                    if line is None:
                        continue
                    lv = tuple((line.get(k).upper() if isinstance(line.get(k), str) else line.get(k))
                               for k in keys)
                    if lv == kv:
                        idx = i
                        break
        delete = bl.get("delete")
        if delete is True or (isinstance(delete, str) and delete.lower() == "true"):
            if idx is not None:
                lines[idx] = None
            continue
        if idx is not None:
            line = dict(lines[idx])
            line.pop("_errors", None)
            apply_object(ctx, defname, line, bl, False)
            lines[idx] = line
        else:
            line = {"id": new_id(), "_created": ctx.now}
            apply_object(ctx, defname, line, bl, True)
            ctx.new_lines.add(line["id"])
            lines.append(line)
    return [line for line in lines if line is not None]


def stamp_changed_lines(ctx, rec, old, detail_names, linked_names=()):
    """Give changed and new detail lines and linked objects the current stamp."""
    for name in linked_names:
        cur = rec.get(name)
        prev = old.get(name) if old else None
        if isinstance(cur, dict) and cur is not prev and \
                (prev is None or _unstamped(prev) != _unstamped(cur)):
            rec[name] = dict(cur, _lm=ctx.now)
    for name in detail_names:
        old_by_id = {l["id"]: l for l in (old.get(name) or [])} if old else {}
        out = []
        changed = False
        for line in rec.get(name) or []:
            prev = old_by_id.get(line["id"])
            if prev is None or _unstamped(prev) != _unstamped(line):
                line = dict(line)
                line["_lm"] = ctx.now
                changed = True
            out.append(line)
        if changed:
            rec[name] = out


# ---------------------------------------------------------------------------
# Locating the record of a PUT

def key_values_from_body(ctx, body):
    """The key tuple given in a body, or None when a key is missing or "<NEW>"."""
    vals = []
    d = ctx.contract.definition(ctx.entity)
    lowered = {k.lower(): v for k, v in body.items()}
    for k, kt in zip(ctx.meta.keys, ctx.meta.key_types):
        present, v = unwrap(lowered.get(k.lower()))
        if not present or v is None or v == "<NEW>" or v == "":
            v = instance.KEY_DEFAULTS.get((ctx.entity, k))
            if v is None:
                return None
        try:
            v = convert(d.field(k).code, v, ctx.entity, k, ctx.off_min)
        except ValueError:
            return None
        if isinstance(v, str):
            allowed = instance.DROPDOWNS.get((ctx.entity, k))
            if allowed:
                v = {a.lower(): a for a in allowed}.get(v.lower(), v)
        vals.append(v)
    return tuple(vals)


# ---------------------------------------------------------------------------
# Numbering

def assign_number(ctx, rec, field):
    meta = ctx.meta
    prefix, digits = meta.numbering[field]
    if ctx.entity == "SalesOrder":
        otype = rec.get("OrderType") or "SO"
        seq = "SalesOrder:" + otype.upper()
        prefix = otype.upper()
    else:
        seq = ctx.entity + ":" + field
        prefix = prefix or ""
    table = ctx.svc.store.table(ctx.entity)
    while True:
        n = ctx.svc.store.next_number(seq)
        if digits:
            value = "%s%0*d" % (prefix, digits, n)
        else:
            value = 100000 + n          # integer identities (ContactID)
        probe = dict(rec)
        probe[field] = value
        if table.get(table.key_of(probe)) is None:
            rec[field] = value
            return value


# ---------------------------------------------------------------------------
# Lookups used by validation

def find_item(svc, inventory_id):
    """(entity, record) of a stock or non-stock item, or (None, None)."""
    if not isinstance(inventory_id, str):
        return None, None
    for ent in ("StockItem", "NonStockItem"):
        r = svc.store.table(ent).get((inventory_id,))
        if r is not None:
            return ent, r
    return None, None


def get_default(rec, defname, field):
    if field in rec:
        return rec[field]
    return instance.defaults(defname).get(field)


# ---------------------------------------------------------------------------
# Entity rules. Each takes (ctx, old, rec): `old` is the stored record or None,
# `rec` the candidate, already carrying the request's fields.

def rules_customer(ctx, old, rec):
    is_new = old is None
    if is_new:
        mode = ctx.svc.config.get("customer_numbering", "auto")
        if mode == "manual":
            cid = rec.get("CustomerID")
            if not cid or cid == "<NEW>":
                ctx.error(rec, "Customer", "CustomerID", "'Customer ID' cannot be empty.", True)
        else:
            rec["CustomerID"] = "<NEW>"       # numbered when the record is saved
        if not rec.get("CustomerName"):
            ctx.error(rec, "Customer", "CustomerName", "'Customer Name' cannot be empty.", True)
        rec["BAccountID"] = ctx.svc.store.next_number("BAccountID", 100)
    main = dict(rec.get("MainContact") or {"id": new_id()})
    if "Address" not in main:
        main["Address"] = {"id": new_id()}
    if rec.get("CustomerName"):
        main["CompanyName"] = rec["CustomerName"]
        main["DisplayName"] = rec["CustomerName"]
    if "Email" in rec and (old is None or rec.get("Email") != old.get("Email")):
        main["Email"] = rec["Email"]
    if main.get("Email") is not None:
        rec["Email"] = main.get("Email")
    if "ContactID" not in main:
        main["ContactID"] = 100000 + ctx.svc.store.next_number("Contact:ContactID")
    rec["MainContact"] = main
    # Billing and shipping contacts follow the main contact unless overridden;
    # an overridden one is a record of its own (own id), and so is its address
    # when the address is overridden.
    for cflag, aflag, name in (("BillingContactOverride", "BillingAddressOverride", "BillingContact"),
                               ("ShippingContactOverride", "ShippingAddressOverride",
                                "ShippingContact")):
        if not rec.get(cflag) and not rec.get(aflag):
            rec[name] = main
            continue
        c = dict(rec.get(name) or main)
        if c.get("id") == main.get("id"):
            c["id"] = new_id()
        if not rec.get(cflag):
            for k, v in main.items():
                if k not in ("id", "Address"):
                    c[k] = v
        addr = c.get("Address") or {}
        if not rec.get(aflag):
            c["Address"] = main["Address"]
        elif addr.get("id") in (None, main["Address"].get("id")):
            c["Address"] = dict(addr, id=new_id())
        rec[name] = c
    check_exists(ctx, rec, "Customer", "ShipVia", "ShipVia", "'Ship Via' cannot be found in the system.")
    check_exists(ctx, rec, "Customer", "WarehouseID", "Warehouse",
                 "'Warehouse' cannot be found in the system.")


def check_exists(ctx, obj, defname, field, entity, message, is_new=False):
    v = obj.get(field)
    if v is None or v == "":
        return
    table = ctx.svc.store.table(entity)
    if len(table) and table.get((v,)) is None:
        ctx.error(obj, defname, field, message, is_new)


def rules_contact(ctx, old, rec):
    if old is None:
        if not rec.get("LastName"):
            ctx.error(rec, "Contact", "LastName", "'Last Name' cannot be empty.", True)
    rec["DisplayName"] = " ".join(p for p in (rec.get("Title"), rec.get("FirstName"),
                                              rec.get("MiddleName"), rec.get("LastName")) if p)
    rec["FullName"] = rec.get("CompanyName") or rec.get("FullName")
    if "Address" not in rec:
        rec["Address"] = {"id": new_id()}
    ba = rec.get("BusinessAccount")
    if ba and ctx.svc.store.table("Customer").get((ba,)) is None:
        ctx.error(rec, "Contact", "BusinessAccount",
                  "'Business Account' cannot be found in the system.", old is None)


def rules_item(ctx, old, rec, entity):
    other = "NonStockItem" if entity == "StockItem" else "StockItem"
    if old is None:
        iid = rec.get("InventoryID")
        if iid and ctx.svc.store.table(other).get((iid,)) is not None:
            ctx.error(rec, entity, "InventoryID", "An item with the ID '%s' already exists." % iid,
                      True)
    if entity != "StockItem":
        return
    wh = ctx.svc.store.table("Warehouse")
    lines = rec.get("WarehouseDetails") or []
    seen = set()
    out = []
    for line in lines:
        line = dict(line)
        w = line.get("WarehouseID")
        if not w:
            ctx.error(line, "StockItemWarehouseDetail", "WarehouseID",
                      "'Warehouse' cannot be empty.", line["id"] in ctx.new_lines)
        elif len(wh) and wh.get((w,)) is None:
            ctx.error(line, "StockItemWarehouseDetail", "WarehouseID",
                      "'Warehouse' cannot be found in the system.", line["id"] in ctx.new_lines)
        elif w.upper() in seen:
            ctx.error(line, "StockItemWarehouseDetail", "WarehouseID",
                      "The warehouse '%s' is already listed for the item." % w,
                      line["id"] in ctx.new_lines)
        else:
            seen.add(w.upper())
        if line.get("QtyOnHand") is not None and line["QtyOnHand"] < 0:
            ctx.error(line, "StockItemWarehouseDetail", "QtyOnHand",
                      "'Qty. On Hand' cannot be negative.", line["id"] in ctx.new_lines)
        out.append(line)
    dw = rec.get("DefaultWarehouseID")
    if dw:
        if len(wh) and wh.get((dw,)) is None:
            ctx.error(rec, entity, "DefaultWarehouseID",
                      "'Default Warehouse' cannot be found in the system.", old is None)
        elif dw.upper() not in seen:
            out.append({"id": new_id(), "_created": ctx.now, "WarehouseID": dw, "IsDefault": True})
        for line in out:
            if line.get("WarehouseID"):
                line["IsDefault"] = line["WarehouseID"].upper() == dw.upper()
    rec["WarehouseDetails"] = out


def rules_warehouse(ctx, old, rec):
    if old is None and not rec.get("WarehouseID"):
        ctx.error(rec, "Warehouse", "WarehouseID", "'Warehouse ID' cannot be empty.", True)


def rules_item_warehouse(ctx, old, rec):
    if old is None:
        iid, wid = rec.get("InventoryID"), rec.get("WarehouseID")
        if not iid or ctx.svc.store.table("StockItem").get((iid,)) is None:
            ctx.error(rec, "ItemWarehouse", "InventoryID",
                      "'Inventory ID' cannot be found in the system.", True)
        if not wid or ctx.svc.store.table("Warehouse").get((wid,)) is None:
            ctx.error(rec, "ItemWarehouse", "WarehouseID",
                      "'Warehouse' cannot be found in the system.", True)


def rules_ship_via(ctx, old, rec):
    if old is None and not rec.get("CarrierID"):
        ctx.error(rec, "ShipVia", "CarrierID", "'Ship Via' cannot be empty.", True)


def customer_or_error(ctx, rec, defname, is_new):
    cid = rec.get("CustomerID")
    if not cid:
        ctx.error(rec, defname, "CustomerID", "'Customer' cannot be empty.", is_new)
        return None
    cust = ctx.svc.store.table("Customer").get((cid,))
    if cust is None:
        ctx.error(rec, defname, "CustomerID", "'Customer' cannot be found in the system.", is_new)
        return None
    rec["CustomerID"] = cust["CustomerID"]
    return cust


def doc_contact(contact):
    """The SalesOrder Bill-To/Ship-To contact (DocContact) of a customer contact."""
    c = contact or {}
    return {"id": c.get("id") or new_id(), "Attention": c.get("Attention"),
            "BusinessName": c.get("CompanyName") or c.get("FullName"),
            "Email": c.get("Email"), "Phone1": c.get("Phone1")}


def rules_sales_order(ctx, old, rec):
    svc = ctx.svc
    is_new = old is None
    otype = rec.get("OrderType") or "SO"
    rec["OrderType"] = otype
    if is_new:
        hold = svc.config.get("hold_on_entry", {}) or {}
        if "Hold" not in rec and hold.get(otype.upper(), hold.get(otype, False)):
            rec["Hold"] = True
        day = local_midnight(ctx.now, ctx.off_min)
        for f in ("Date", "RequestedOn"):
            if rec.get(f) is None:
                rec[f] = day
        if rec.get("EffectiveDate") is None:
            rec["EffectiveDate"] = rec["Date"]
    for f in ("Date", "RequestedOn", "EffectiveDate"):
        if rec.get(f) is not None:
            rec[f] = local_midnight(rec[f], ctx.off_min)
    cust = customer_or_error(ctx, rec, "SalesOrder", is_new)
    customer_changed = old is not None and (old.get("CustomerID") or "").upper() != \
        (rec.get("CustomerID") or "").upper()
    if cust is not None and (is_new or customer_changed):
        if "ShipVia" not in rec or customer_changed:
            rec["ShipVia"] = cust.get("ShipVia", instance.defaults("Customer").get("ShipVia"))
        rec.setdefault("LocationID", "MAIN")
    if cust is not None:
        bill = cust.get("BillingContact") or cust.get("MainContact") or {}
        ship = cust.get("ShippingContact") or cust.get("MainContact") or {}
        # Not overridden: the customer's address/contact (shared, like Acumatica's
        # default document addresses). Overridden: the order's own copy.
        for flag, name, src in (("BillToAddressOverride", "BillToAddress", bill.get("Address")),
                                ("ShipToAddressOverride", "ShipToAddress", ship.get("Address"))):
            src = src or {"id": new_id()}
            if not rec.get(flag):
                rec[name] = src
            else:
                own = rec.get(name) or {}
                if own.get("id") in (None, src.get("id")):
                    rec[name] = dict(src, **{k: v for k, v in own.items() if k != "id"})
                    rec[name]["id"] = new_id()
        for flag, name, src in (("BillToContactOverride", "BillToContact", bill),
                                ("ShipToContactOverride", "ShipToContact", ship)):
            dflt = svc.doc_contact_of(cust, src)
            if not rec.get(flag):
                rec[name] = dflt
            else:
                own = rec.get(name) or {}
                if own.get("id") in (None, dflt.get("id")):
                    rec[name] = dict(dflt, **{k: v for k, v in own.items() if k != "id"})
                    rec[name]["id"] = new_id()
    unique = svc.config.get("unique_customer_order_number", {}) or {}
    co = rec.get("CustomerOrder")
    if co and unique.get(otype.upper(), unique.get(otype, False)) and \
            (old is None or (old.get("CustomerOrder") or "") != co):
        dup = svc.find_customer_order(otype, rec.get("CustomerID"), co, rec["id"])
        if dup is not None:
            ctx.error(rec, "SalesOrder", "CustomerOrder",
                      "The customer order number '%s' is already used in the %s %s order of "
                      "this customer." % (co, dup.get("OrderType"), dup.get("OrderNbr")), is_new)
    reject_zero = svc.config.get("reject_zero_order_qty", False)
    lines = []
    # Line numbers come from the order's line counter: a deleted number is not reused.
    used = [l.get("LineNbr") or 0 for l in rec.get("Details") or []]
    next_nbr = max(used + [rec.get("_line_cntr") or 0]) + 1
    for line in rec.get("Details") or []:
        line = dict(line)
        new_line = line["id"] in ctx.new_lines
        if new_line and not line.get("LineNbr"):
            line["LineNbr"] = next_nbr
            next_nbr += 1
            rec["_line_cntr"] = line["LineNbr"]
        item_ent, item = find_item(svc, line.get("InventoryID"))
        if line.get("InventoryID") is None:
            if new_line:
                ctx.error(line, "SalesOrderDetail", "InventoryID", "'Inventory ID' cannot be empty.",
                          True)
        elif item is None:
            ctx.error(line, "SalesOrderDetail", "InventoryID",
                      "'Inventory ID' cannot be found in the system.", new_line)
        else:
            line["InventoryID"] = item["InventoryID"]
            if new_line:
                fill_line_from_item(svc, rec, line, item_ent, item)
        oq = get_default(line, "SalesOrderDetail", "OrderQty")
        if oq is not None and (oq < 0 or (reject_zero and oq == 0)):
            ctx.error(line, "SalesOrderDetail", "OrderQty",
                      "'Quantity' cannot be negative." if oq < 0 else
                      "'Quantity' must be greater than 0.", new_line)
        for pf in ("UnitPrice", "DiscountPercent", "DiscountAmount"):
            v = line.get(pf)
            if v is not None and v < 0:
                ctx.error(line, "SalesOrderDetail", pf, "'%s' cannot be negative." % pf, new_line)
        w = line.get("WarehouseID")
        if w and len(svc.store.table("Warehouse")) and \
                svc.store.table("Warehouse").get((w,)) is None:
            ctx.error(line, "SalesOrderDetail", "WarehouseID",
                      "'Warehouse' cannot be found in the system.", new_line)
        lines.append(line)
    rec["Details"] = lines
    rules_order_payments(ctx, old, rec)
    compute_order(rec)


def fill_line_from_item(svc, order, line, item_ent, item):
    d = instance.defaults(item_ent)
    if line.get("UnitPrice") is None:
        line["UnitPrice"] = q(item.get("DefaultPrice", d.get("DefaultPrice")) or 0, 6)
    if line.get("LineDescription") is None and item.get("Description"):
        line["LineDescription"] = item["Description"]
    uom = item.get("SalesUOM" if item_ent == "StockItem" else "SalesUnit")
    if line.get("UOM") is None and uom:
        line["UOM"] = uom
    if line.get("WarehouseID") is None:
        wh = order.get("PreferredWarehouseID") or item.get("DefaultWarehouseID")
        if wh is None:
            for wl in item.get("WarehouseDetails") or ():
                wh = wl.get("WarehouseID")
                break
        if wh is not None:
            line["WarehouseID"] = wh
    cost = item.get("CurrentStdCost" if item_ent == "StockItem" else "CurrentCost")
    if line.get("UnitCost") is None and cost is not None:
        line["UnitCost"] = q(cost, 6)
    if item_ent != "StockItem" and "LineType" not in line:
        line["LineType"] = "Non-Inventory Goods"
    if item.get("TaxCategory") and "TaxCategory" not in line:
        line["TaxCategory"] = item["TaxCategory"]
    if order.get("RequestedOn") is not None:
        line.setdefault("RequestedOn", order["RequestedOn"])
        line.setdefault("ShipOn", order["RequestedOn"])


def local_midnight(ms, off_min):
    """Milliseconds of the local (instance) midnight of the day of `ms`."""
    day = 86400000
    local = ms + off_min * 60000
    return local - local % day - off_min * 60000


def compute_order(rec):
    """Line amounts, totals, open quantities and the status of a sales order."""
    total_qty = Decimal(0)
    line_total = Decimal(0)
    open_lines = 0
    shipped_any = False
    lines = []
    for line in rec.get("Details") or ():
        line = dict(line) if not isinstance(line, dict) else line
        oq = line.get("OrderQty") or Decimal(0)
        price = line.get("UnitPrice") or Decimal(0)
        pct = line.get("DiscountPercent") or Decimal(0)
        ext = money(oq * price)
        if line.get("ManualDiscount") and line.get("DiscountAmount") is not None:
            disc = money(line["DiscountAmount"])
        else:
            disc = money(ext * pct / 100)
        amount = money(ext - disc)
        shipped = line.get("_shipped") or Decimal(0)
        open_qty = oq - shipped
        if open_qty < 0:
            open_qty = Decimal(0)
        line["ExtendedPrice"] = ext
        line["DiscountAmount"] = disc
        line["Amount"] = amount
        line["DiscountedUnitPrice"] = qty(price * (1 - pct / 100))
        completed = bool(line.get("_completed")) or (shipped > 0 and open_qty == 0)
        line["OpenQty"] = qty(0 if completed else open_qty)
        line["Completed"] = completed
        line["UnbilledAmount"] = amount
        if shipped > 0:
            shipped_any = True
        if not completed:
            open_lines += 1
        total_qty += oq
        line_total += amount
        lines.append(line)
    rec["Details"] = lines
    tax_total = Decimal(0)
    taxes = []
    for t in rec.get("TaxDetails") or ():
        t = dict(t)
        if t.get("TaxableAmount") in (None, Decimal(0)):
            t["TaxableAmount"] = money(line_total)
        if t.get("TaxAmount") in (None, Decimal(0)) and t.get("TaxRate"):
            t["TaxAmount"] = money(t["TaxableAmount"] * t["TaxRate"] / 100)
        t["OrderType"] = rec.get("OrderType")
        t["OrderNbr"] = rec.get("OrderNbr")
        tax_total += t.get("TaxAmount") or Decimal(0)
        taxes.append(t)
    if "TaxDetails" in rec:
        rec["TaxDetails"] = taxes
    rec["OrderedQty"] = qty(total_qty)
    rec["TaxTotal"] = money(tax_total)
    rec["OrderTotal"] = money(line_total + tax_total)
    status = rec.get("Status")
    if status == "Cancelled":
        return
    open_shipments = any(s.get("Status") in ("Open", "On Hold")
                         for s in rec.get("Shipments") or ())
    if rec.get("Hold"):
        rec["Status"] = "On Hold"
    elif rec.get("CreditHold"):
        rec["Status"] = "Credit Hold"
    elif open_shipments:
        rec["Status"] = "Shipping"
    elif lines and open_lines == 0 and shipped_any:
        rec["Status"] = "Completed"
    elif shipped_any:
        rec["Status"] = "Back Order"
    else:
        rec["Status"] = "Open"


def rules_order_payments(ctx, old, rec):
    """SalesOrder.Payments: a new line without ReferenceNbr creates a payment document
    (Payment type) applied to the order; a line naming an existing payment applies it."""
    svc = ctx.svc
    out = []
    for line in rec.get("Payments") or ():
        line = dict(line)
        new_line = line["id"] in ctx.new_lines
        if new_line:
            line.setdefault("DocType", "Payment")
            amount = line.get("PaymentAmount") or Decimal(0)
            if line.get("AppliedToOrder") in (None, Decimal(0)):
                line["AppliedToOrder"] = money(amount)
            if amount < 0:
                ctx.error(line, "SalesOrderPayment", "PaymentAmount",
                          "'Payment Amount' cannot be negative.", True)
            ref = line.get("ReferenceNbr")
            if ref:
                pay = svc.store.table("Payment").get((line["DocType"], ref))
                if pay is None:
                    ctx.error(line, "SalesOrderPayment", "ReferenceNbr",
                              "'Reference Nbr.' cannot be found in the system.", True)
            else:
                line["_create_payment"] = True
            line.setdefault("Status", "Balanced")
            line["Balance"] = money(amount)
        out.append(line)
    if "Payments" in rec:
        rec["Payments"] = out


def rules_shipment(ctx, old, rec):
    is_new = old is None
    if is_new:
        customer_or_error(ctx, rec, "Shipment", True)
        if not rec.get("WarehouseID"):
            ctx.error(rec, "Shipment", "WarehouseID", "'Warehouse ID' cannot be empty.", True)
        else:
            check_exists(ctx, rec, "Shipment", "WarehouseID", "Warehouse",
                         "'Warehouse' cannot be found in the system.", True)
        if rec.get("ShipmentDate") is None:
            rec["ShipmentDate"] = local_midnight(ctx.now, ctx.off_min)
        rec["Status"] = "On Hold" if rec.get("Hold") else "Open"
    elif old.get("Status") in ("Open", "On Hold"):
        rec["Status"] = "On Hold" if rec.get("Hold") else "Open"
    next_nbr = max([p.get("LineNbr") or 0 for p in rec.get("Packages") or ()] + [0]) + 1
    packages = []
    weight = Decimal(0)
    for p in rec.get("Packages") or ():
        p = dict(p)
        if p["id"] in ctx.new_lines and not p.get("LineNbr"):
            p["LineNbr"] = next_nbr
            next_nbr += 1
        if p.get("Weight") is not None and p["Weight"] < 0:
            ctx.error(p, "ShipmentPackage", "Weight", "'Weight' cannot be negative.",
                      p["id"] in ctx.new_lines)
        weight += p.get("Weight") or Decimal(0)
        packages.append(p)
    if "Packages" in rec:
        rec["Packages"] = packages
    rec["PackageCount"] = len(packages)
    rec["PackageWeight"] = qty(weight)
    shipped = Decimal(0)
    for dl in rec.get("Details") or ():
        shipped += dl.get("ShippedQty") or Decimal(0)
    rec["ShippedQty"] = qty(shipped)


def rules_sales_invoice(ctx, old, rec):
    is_new = old is None
    if is_new:
        rec.setdefault("Type", "Invoice")
        customer_or_error(ctx, rec, "SalesInvoice", True)
        if rec.get("Date") is None:
            rec["Date"] = local_midnight(ctx.now, ctx.off_min)
        rec["Status"] = "On Hold" if rec.get("Hold") else "Balanced"
    elif old.get("Status") in ("On Hold", "Balanced"):
        rec["Status"] = "On Hold" if rec.get("Hold") else "Balanced"
    total = Decimal(0)
    lines = []
    nbr = max([l.get("LineNbr") or 0 for l in rec.get("Details") or ()] + [0]) + 1
    for line in rec.get("Details") or ():
        line = dict(line)
        new_line = line["id"] in ctx.new_lines
        if new_line and not line.get("LineNbr"):
            line["LineNbr"] = nbr
            nbr += 1
        if line.get("InventoryID") is not None:
            ent, item = find_item(ctx.svc, line["InventoryID"])
            if item is None:
                ctx.error(line, "SalesInvoiceDetail", "InventoryID",
                          "'Inventory ID' cannot be found in the system.", new_line)
            elif new_line and line.get("UnitPrice") is None:
                line["UnitPrice"] = q(item.get("DefaultPrice") or 0, 6)
        qv = line.get("Qty") or Decimal(0)
        if qv < 0:
            ctx.error(line, "SalesInvoiceDetail", "Qty", "'Quantity' cannot be negative.", new_line)
        ext = money(qv * (line.get("UnitPrice") or 0))
        disc = money(ext * (line.get("DiscountPercent") or 0) / 100)
        line["ExtendedPrice"] = ext
        line["DiscountAmount"] = disc
        line["Amount"] = money(ext - disc)
        total += line["Amount"]
        lines.append(line)
    rec["Details"] = lines
    rec["DetailTotal"] = money(total)
    rec["Amount"] = money(total + (rec.get("TaxTotal") or 0) + (rec.get("FreightPrice") or 0))
    if rec.get("Status") in ("On Hold", "Balanced"):
        rec["Balance"] = rec["Amount"]
    if rec.get("DueDate") is None and rec.get("Date") is not None:
        rec["DueDate"] = rec["Date"] + 30 * 86400000


def rules_payment(ctx, old, rec):
    is_new = old is None
    if is_new:
        rec.setdefault("Type", "Payment")
        customer_or_error(ctx, rec, "Payment", True)
        if rec.get("ApplicationDate") is None:
            rec["ApplicationDate"] = local_midnight(ctx.now, ctx.off_min)
        rec["Status"] = "On Hold" if rec.get("Hold") else "Balanced"
    elif old.get("Status") in ("On Hold", "Balanced"):
        rec["Status"] = "On Hold" if rec.get("Hold") else "Balanced"
    amount = rec.get("PaymentAmount") or Decimal(0)
    if amount < 0:
        ctx.error(rec, "Payment", "PaymentAmount", "'Payment Amount' cannot be negative.", is_new)
    applied = Decimal(0)
    out = []
    for line in rec.get("OrdersToApply") or ():
        line = dict(line)
        new_line = line["id"] in ctx.new_lines
        line.setdefault("OrderType", "SO")
        order = ctx.svc.store.table("SalesOrder").get((line.get("OrderType"), line.get("OrderNbr")))
        if order is None:
            ctx.error(line, "PaymentOrderDetail", "OrderNbr",
                      "'Order Nbr.' cannot be found in the system.", new_line)
        if line.get("AppliedToOrder") in (None, Decimal(0)):
            line["AppliedToOrder"] = money(amount)
        applied += line["AppliedToOrder"]
        out.append(line)
    if "OrdersToApply" in rec:
        rec["OrdersToApply"] = out
    rec["AppliedToOrders"] = money(applied)
    rec["AvailableBalance"] = money(amount - applied)


RULES = {
    "Customer": rules_customer,
    "Contact": rules_contact,
    "StockItem": lambda ctx, old, rec: rules_item(ctx, old, rec, "StockItem"),
    "NonStockItem": lambda ctx, old, rec: rules_item(ctx, old, rec, "NonStockItem"),
    "Warehouse": rules_warehouse,
    "ItemWarehouse": rules_item_warehouse,
    "SalesOrder": rules_sales_order,
    "Shipment": rules_shipment,
    "ShipVia": rules_ship_via,
    "SalesInvoice": rules_sales_invoice,
    "Payment": rules_payment,
}


# ---------------------------------------------------------------------------
# The PUT pipeline

def collect_errors(rec):
    """True when the record or any detail line / linked object carries errors."""
    if rec.get("_errors"):
        return True
    for v in rec.values():
        if isinstance(v, list):
            for line in v:
                if isinstance(line, dict) and collect_errors(line):
                    return True
        elif isinstance(v, dict) and v is not rec and "id" in v:
            if v.get("_errors"):
                return True
    return False


def error_sentence(ctx, old):
    defname, is_new = ctx.first_error or (ctx.entity, old is None)
    verb = "Inserting " if is_new else "Updating "
    return "%s '%s' record raised at least one error. Please review the errors." % (
        verb, DAC_NAMES.get(defname, defname))


def put(ctx, body, filter_pred, headers):
    """Create or update one record. Returns (record, created). Raises WriteError or Rejected."""
    svc = ctx.svc
    table = svc.store.table(ctx.entity)
    old = None
    bid = body.get("id")
    if isinstance(bid, str) and bid:
        old = table.get_by_id(bid)
    if old is None:
        kv = key_values_from_body(ctx, body)
        if kv is not None:
            old = table.get(kv)
    if old is None and filter_pred is not None:
        for r in table.snapshot():
            if filter_pred(r):
                old = r
                break
    inm = (headers.get("if-none-match") or "").strip()
    im = (headers.get("if-match") or "").strip()
    if inm == "*" and old is not None:
        raise WriteError(412, "The record cannot be inserted because a record with the same key "
                              "fields already exists.", "PX.Api.ContractBased.PreconditionFailedException")
    if im == "*" and old is None:
        raise WriteError(412, "The record cannot be updated because no record with the specified "
                              "key fields exists.", "PX.Api.ContractBased.PreconditionFailedException")

    if old is None:
        rec = {"id": new_id(), "_created": ctx.now}
        is_new = True
    else:
        rec = dict(old)
        rec.pop("_errors", None)
        is_new = False
    skip = ctx.meta.keys if not is_new else ()
    apply_object(ctx, ctx.entity, rec, body, is_new, skip=skip)
    if is_new:
        # Keys given in the body are used unless the entity numbers them.
        for k in ctx.meta.keys:
            if rec.get(k) in ("", "<NEW>"):
                rec.pop(k, None)
            if rec.get(k) is None and (ctx.entity, k) in instance.KEY_DEFAULTS:
                rec[k] = instance.KEY_DEFAULTS[(ctx.entity, k)]
        # A numbered key given in the body that matched nothing is replaced by
        # the next number, as recorded; until the save it reads "<NEW>".
        for k, kt in zip(ctx.meta.keys, ctx.meta.key_types):
            if k in ctx.meta.numbering and ctx.entity != "Customer":
                rec[k] = None if kt in "ihl" else "<NEW>"
    rule = RULES.get(ctx.entity)
    if rule:
        rule(ctx, old, rec)

    if collect_errors(rec):
        rec["_error"] = error_sentence(ctx, old)
        raise Rejected(rec)

    if ctx.entity in ("StockItem", "NonStockItem") and is_new and not rec.get("InventoryID"):
        # Recorded: PUT {} to StockItem answered 200 with InventoryID "<NEW>";
        # such a record cannot be saved, so it is not stored.
        rec["InventoryID"] = "<NEW>"
        rec["note"] = None            # recorded: "note": null on this unsaved record
        rec["_lm"] = ctx.now
        return rec, False

    if old is not None and _same(old, rec):
        return old, False
    if is_new:
        for k, kt in zip(ctx.meta.keys, ctx.meta.key_types):
            if k in ctx.meta.numbering and rec.get(k) in (None, "<NEW>"):
                assign_number(ctx, rec, k)
        if ctx.entity == "SalesOrder" and rec.get("TaxDetails"):
            rec["TaxDetails"] = [dict(t, OrderNbr=rec["OrderNbr"]) for t in rec["TaxDetails"]]
    rec["_lm"] = ctx.now
    fields = ctx.contract.definition(ctx.entity).fields
    stamp_changed_lines(ctx, rec, old, [f.name for f in fields if f.kind == "detail"],
                        [f.name for f in fields if f.kind == "linked"])
    svc.commit(ctx, old, rec)
    return rec, is_new


def _same(a, b):
    """Equal records apart from last-modified stamps (at any depth)."""
    return _unstamped(a) == _unstamped(b)


def _unstamped(x):
    if isinstance(x, dict):
        return {k: _unstamped(v) for k, v in x.items() if k != "_lm"}
    if isinstance(x, list):
        return [_unstamped(v) for v in x]
    return x
