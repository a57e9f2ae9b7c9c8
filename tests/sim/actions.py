"""Actions (long-running operations): POST <Entity>/<Action>, then poll the status URL.

    POST …/SalesOrder/SalesOrderCreateShipment
        {"entity": {"id": …} | {"OrderType": …, "OrderNbr": …},
         "parameters": {"ShipmentDate": {"value": …}, "WarehouseID": {"value": …}}}
    -> 202, Location: /<site>/entity/Default/<ver>/SalesOrder/SalesOrderCreateShipment/status/<guid>
    GET Location -> 202 while the operation runs (config action_duration seconds,
    measured with the simulator clock), 204 once it has completed; a failure
    found when the work runs is a 500 HttpError on the poll.

The request is checked at once (record found, action allowed in the current
state: 422 with the entity echoed when not, like a disabled button); the work
itself runs when the operation completes: the first status poll or any other
request after the duration has passed executes due jobs, so the effects appear
exactly when the status turns 204.

Implemented: SalesOrder SalesOrderCreateShipment, CancelSalesOrder,
OpenSalesOrder, ReopenSalesOrder, ReleaseFromCreditHoldSalesOrder; Shipment
ConfirmShipment, CorrectShipment; SalesInvoice ReleaseSalesInvoice; Payment
ReleasePayment. Other actions of the contract answer 500 "not implemented by
the simulator"; names that are not actions of the entity answer 404.
"""
import threading
import uuid
from decimal import Decimal

import writes
from writes import qty, new_id


class ActionError(Exception):
    """The action cannot run; `field` (optional) carries the error in the 422 echo."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class Job:
    __slots__ = ("id", "entity", "action", "version", "done_at", "work", "state", "error")

    def __init__(self, jid, entity, action, version, done_at, work):
        self.id = jid
        self.entity = entity
        self.action = action
        self.version = version
        self.done_at = done_at
        self.work = work
        self.state = "running"      # running | done | failed
        self.error = None


class Jobs:
    def __init__(self):
        self._lock = threading.Lock()
        self._jobs = {}
        self._pending = 0

    def add(self, job):
        with self._lock:
            self._jobs[job.id] = job
            self._pending += 1

    def get(self, jid):
        with self._lock:
            return self._jobs.get(jid.lower())

    def due(self, now):
        """Jobs whose time has come and that have not run yet."""
        if not self._pending:
            return []
        with self._lock:
            return [j for j in self._jobs.values() if j.state == "running" and j.done_at <= now]

    def finish(self, job, error=None):
        with self._lock:
            if job.state != "running":
                return
            job.state = "failed" if error else "done"
            job.error = error
            self._pending -= 1

    def clear(self):
        with self._lock:
            self._jobs.clear()
            self._pending = 0


# ---------------------------------------------------------------------------
# Checks (run at POST time) and work (run at completion). Each check returns
# the work callable; both raise ActionError.

def _order_can_ship(order):
    status = order.get("Status")
    if status not in ("Open", "Back Order"):
        raise ActionError("The Create Shipment action cannot be performed because the %s %s order "
                          "has the %s status." % (order.get("OrderType"), order.get("OrderNbr"),
                                                  status), "Status")


def check_create_shipment(svc, order, params, ctx):
    _order_can_ship(order)
    wh = _param(params, "WarehouseID")
    ship_date = _param(params, "ShipmentDate")
    ship_ms = None
    if ship_date is not None:
        try:
            ship_ms = writes.parse_any_datetime(str(ship_date), ctx.off_min)
        except ValueError:
            raise ActionError("The value '%s' of the ShipmentDate parameter is not a valid date."
                              % ship_date)
    if wh is not None and len(svc.store.table("Warehouse")) and \
            svc.store.table("Warehouse").get((wh,)) is None:
        raise ActionError("'Warehouse' cannot be found in the system.")
    lines = _shippable_lines(order, wh)
    if not lines:
        raise ActionError("The %s %s order has no lines that can be shipped from the %s "
                          "warehouse." % (order.get("OrderType"), order.get("OrderNbr"), wh or "any"))
    order_id = order["id"]

    def work(now):
        cur = svc.store.table("SalesOrder").get_by_id(order_id)
        if cur is None:
            raise ActionError("No entity satisfies the condition.")
        _order_can_ship(cur)
        lines = _shippable_lines(cur, wh)
        if not lines:
            raise ActionError("The order has no lines left to ship.")
        create_shipment(svc, ctx, cur, lines, wh, ship_ms, now)
    return work


def _param(params, name):
    if not isinstance(params, dict):
        return None
    for k, v in params.items():
        if k.lower() == name.lower():
            present, val = writes.unwrap(v)
            return val if present else None
    return None


def _shippable_lines(order, wh):
    out = []
    for line in order.get("Details") or ():
        if line.get("Completed"):
            continue
        open_qty = (line.get("OpenQty") or Decimal(0)) - (line.get("QtyOnShipments") or Decimal(0))
        if open_qty <= 0:
            continue
        if wh is not None and (line.get("WarehouseID") or "").upper() != str(wh).upper():
            continue
        out.append((line, open_qty))
    return out


def create_shipment(svc, ctx, order, lines, wh, ship_ms, now):
    """Create a Shipment for the order's open lines and mark the order Shipping."""
    off = ctx.off_min
    day = writes.local_midnight(ship_ms if ship_ms is not None else now, off)
    wh = wh or lines[0][0].get("WarehouseID")
    shp_ctx = writes.Ctx(svc, ctx.contract, "Shipment", now, off)
    shipment = {"id": new_id(), "_created": now, "_lm": now, "Type": "Shipment",
                "CustomerID": order.get("CustomerID"), "LocationID": order.get("LocationID", "MAIN"),
                "WarehouseID": wh, "ShipVia": order.get("ShipVia", "TRUCK"),
                "ShipmentDate": day, "EffectiveDate": day, "Operation": "Issue", "Status": "Open",
                "Hold": False, "Description": order.get("Description"),
                "Details": [], "Orders": [], "Packages": []}
    writes.assign_number(shp_ctx, shipment, "ShipmentNbr")
    total = Decimal(0)
    new_lines = {}
    for i, (line, open_qty) in enumerate(lines):
        total += open_qty
        shipment["Details"].append({
            "id": new_id(), "_created": now, "_lm": now, "LineNbr": i + 1,
            "InventoryID": line.get("InventoryID"), "Description": line.get("LineDescription"),
            "OrderType": order.get("OrderType"), "OrderNbr": order.get("OrderNbr"),
            "OrderLineNbr": line.get("LineNbr"), "OrderedQty": qty(line.get("OrderQty") or 0),
            "OriginalQty": qty(line.get("OrderQty") or 0), "ShippedQty": qty(open_qty),
            "OpenQty": qty(0), "UOM": line.get("UOM", "EA"), "WarehouseID": wh})
        new_lines[line["id"]] = open_qty
    shipment["ShippedQty"] = qty(total)
    shipment["ControlQty"] = qty(total)
    shipment["Orders"].append({
        "id": new_id(), "_created": now, "_lm": now, "OrderType": order.get("OrderType"),
        "OrderNbr": order.get("OrderNbr"), "ShipmentNbr": shipment["ShipmentNbr"],
        "ShipmentType": "Shipment", "ShippedQty": qty(total), "InventoryDocType": "Issue",
        "OrderNoteID": order["id"]})
    svc.commit(shp_ctx, None, shipment)

    o = dict(order)
    o["Details"] = []
    for line in order.get("Details") or ():
        if line["id"] in new_lines:
            line = dict(line)
            line["QtyOnShipments"] = qty((line.get("QtyOnShipments") or 0) + new_lines[line["id"]])
            line["_lm"] = now
        o["Details"].append(line)
    o["Shipments"] = list(order.get("Shipments") or ()) + [{
        "id": new_id(), "_created": now, "_lm": now, "ShipmentNbr": shipment["ShipmentNbr"],
        "ShipmentType": "Shipment", "ShipmentDate": day, "ShippedQty": qty(total),
        "Status": "Open", "InventoryDocType": "Issue", "ShippingNoteID": shipment["id"],
        "OrderNoteID": order["id"]}]
    writes.compute_order(o)
    o["_lm"] = now
    svc.commit(writes.Ctx(svc, ctx.contract, "SalesOrder", now, off), order, o)
    return shipment


def check_confirm_shipment(svc, shipment, params, ctx):
    _shipment_can_confirm(shipment)
    sid = shipment["id"]

    def work(now):
        cur = svc.store.table("Shipment").get_by_id(sid)
        if cur is None:
            raise ActionError("No entity satisfies the condition.")
        _shipment_can_confirm(cur)
        confirm_shipment(svc, ctx, cur, now)
    return work


def _shipment_can_confirm(shipment):
    if shipment.get("Status") != "Open":
        raise ActionError("The Confirm Shipment action cannot be performed because the shipment "
                          "%s has the %s status." % (shipment.get("ShipmentNbr"),
                                                     shipment.get("Status")), "Status")
    if not (shipment.get("ShippedQty") or Decimal(0)) > 0:
        raise ActionError("The shipment %s cannot be confirmed because its shipped quantity is "
                          "zero." % shipment.get("ShipmentNbr"), "ShippedQty")


def confirm_shipment(svc, ctx, shipment, now):
    off = ctx.off_min
    s = dict(shipment)
    s["Status"] = "Confirmed"
    s["_lm"] = now
    s["Packages"] = [dict(p, Confirmed=True, _lm=now) for p in shipment.get("Packages") or ()]
    svc.commit(writes.Ctx(svc, ctx.contract, "Shipment", now, off), shipment, s)
    # Stock leaves the warehouse.
    by_item = {}
    for dl in shipment.get("Details") or ():
        key = (dl.get("InventoryID"), (dl.get("WarehouseID") or shipment.get("WarehouseID")))
        by_item[key] = by_item.get(key, Decimal(0)) + (dl.get("ShippedQty") or Decimal(0))
    for (iid, wid), shipped in by_item.items():
        item = svc.store.table("StockItem").get((iid,))
        if item is None or not wid:
            continue
        it = dict(item)
        out = []
        for wl in item.get("WarehouseDetails") or ():
            if (wl.get("WarehouseID") or "").upper() == wid.upper():
                wl = dict(wl)
                wl["QtyOnHand"] = qty((wl.get("QtyOnHand") or 0) - shipped)
                wl["_lm"] = now
            out.append(wl)
        it["WarehouseDetails"] = out
        # Stock movements change the warehouse line, not the item's own stamp.
        svc.commit(writes.Ctx(svc, ctx.contract, "StockItem", now, off), item, it)
    # The orders: shipped quantities, shipment rows, status.
    for od in shipment.get("Orders") or ():
        order = svc.store.table("SalesOrder").get((od.get("OrderType"), od.get("OrderNbr")))
        if order is None:
            continue
        shipped_by_line = {}
        for dl in shipment.get("Details") or ():
            if dl.get("OrderNbr") == order.get("OrderNbr"):
                n = dl.get("OrderLineNbr")
                shipped_by_line[n] = shipped_by_line.get(n, Decimal(0)) + (dl.get("ShippedQty") or 0)
        o = dict(order)
        lines = []
        for line in order.get("Details") or ():
            n = line.get("LineNbr")
            if n in shipped_by_line:
                line = dict(line)
                shipped = shipped_by_line[n]
                line["_shipped"] = (line.get("_shipped") or Decimal(0)) + shipped
                line["QtyOnShipments"] = qty(max(Decimal(0), (line.get("QtyOnShipments") or 0)
                                                 - shipped))
                if line.get("ShippingRule", "Cancel Remainder") == "Cancel Remainder":
                    line["_completed"] = True
                line["_lm"] = now
            lines.append(line)
        o["Details"] = lines
        o["Shipments"] = [dict(r, Status="Confirmed", _lm=now)
                          if r.get("ShipmentNbr") == shipment.get("ShipmentNbr") else r
                          for r in order.get("Shipments") or ()]
        writes.compute_order(o)
        o["_lm"] = now
        svc.commit(writes.Ctx(svc, ctx.contract, "SalesOrder", now, off), order, o)


def _status_change(entity, allowed_from, new_status, extra=None):
    def check(svc, rec, params, ctx):
        if rec.get("Status") not in allowed_from:
            raise ActionError("The action cannot be performed because the record has the %s "
                              "status." % rec.get("Status"), "Status")
        rid = rec["id"]

        def work(now):
            cur = svc.store.table(entity).get_by_id(rid)
            if cur is None:
                raise ActionError("No entity satisfies the condition.")
            if cur.get("Status") not in allowed_from:
                raise ActionError("The action cannot be performed because the record has the %s "
                                  "status." % cur.get("Status"))
            new = dict(cur)
            new["Status"] = new_status
            if extra:
                extra(new)
            if entity == "SalesOrder":
                writes.compute_order(new)
            new["_lm"] = now
            svc.commit(writes.Ctx(svc, ctx.contract, entity, now, ctx.off_min), cur, new)
        return work
    return check


def _unhold(rec):
    rec["Hold"] = False
    rec["Status"] = None


def _credit_release(rec):
    rec["CreditHold"] = False
    rec["Status"] = None


def _correct(rec):
    rec["Status"] = "Open"


CHECKS = {
    ("SalesOrder", "SalesOrderCreateShipment"): check_create_shipment,
    ("SalesOrder", "CancelSalesOrder"): _status_change(
        "SalesOrder", ("Open", "On Hold", "Back Order", "Credit Hold"), "Cancelled"),
    ("SalesOrder", "OpenSalesOrder"): _status_change(
        "SalesOrder", ("On Hold",), "Open", _unhold),
    ("SalesOrder", "ReopenSalesOrder"): _status_change(
        "SalesOrder", ("Cancelled",), "Open", lambda r: r.update(Status=None)),
    ("SalesOrder", "ReleaseFromCreditHoldSalesOrder"): _status_change(
        "SalesOrder", ("Credit Hold",), "Open", _credit_release),
    ("Shipment", "ConfirmShipment"): check_confirm_shipment,
    ("Shipment", "CorrectShipment"): _status_change("Shipment", ("Confirmed",), "Open", _correct),
    ("SalesInvoice", "ReleaseSalesInvoice"): _status_change(
        "SalesInvoice", ("Balanced",), "Open"),
    ("Payment", "ReleasePayment"): _status_change("Payment", ("Balanced",), "Open"),
}


def new_job_id():
    return str(uuid.uuid4())
