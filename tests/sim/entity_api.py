"""EntityService: the contract-based REST API under <site>/entity (sim-B's half).

The HTTP server (server.py) authenticates the caller and hands every request
whose path starts with /entity (other than /entity/auth/…) to
EntityService.handle(), which returns an http_types.Response.

    GET    /entity                                   endpoint list
    GET    /entity/Default/<v>/<Entity>              list ($filter $expand $select $custom $top $skip)
    GET    /entity/Default/<v>/<Entity>/<k1>/<k2>    one record by keys ("|" also separates keys)
    GET    /entity/Default/<v>/<Entity>/<GUID>       one record by id
    GET    /entity/Default/<v>/<Entity>/$adHocSchema the entity template
    PUT    /entity/Default/<v>/<Entity>              create or update (inquiries: read)
    DELETE /entity/Default/<v>/<Entity>/<keys|GUID>  204
    POST   /entity/Default/<v>/<Entity>/<Action>     202 + Location
    GET    /entity/Default/<v>/<Entity>/<Action>/status/<GUID>   202 running, 204 done

Choices where the notes are unsure are listed in tests/sim/README.md,
section "Entities, queries and writes".
"""
import json
import re
import threading
import uuid
from decimal import Decimal

import actions
import contract as contract_mod
import datagen
import instance
import odata_filter
import query as query_mod
import render
import writes
from http_types import Response, JSON_CONTENT_TYPE
from store import Store

BUILD_VERSION = "23.210.0024"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

NO_ENTITY_TRACE = (
    "   at PX.Api.ContractBased.EntityService.GetByKeys(ISystemContract systemContract, "
    "String version, String name, EntityImpl entity, String[] keys, CbOperationContext "
    "operationContext)\r\n"
    "   at PX.Api.ContractBased.WebApi.Controllers.EntityController.GetByKeys(String objectName, "
    "String ids, String select, String filter, String expand, String custom)\r\n"
    "   at System.Web.Http.Controllers.ApiControllerActionInvoker.<InvokeActionAsyncCore>d__1."
    "MoveNext()")
GENERIC_TRACE = (
    "   at PX.Api.ContractBased.WebApi.Controllers.EntityController.Invoke()\r\n"
    "   at System.Web.Http.Controllers.ApiControllerActionInvoker.<InvokeActionAsyncCore>d__1."
    "MoveNext()")


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status, text_or_obj, headers=None):
    body = text_or_obj.encode("utf-8") if isinstance(text_or_obj, str) else _json_bytes(text_or_obj)
    return Response(status, [("Content-Type", JSON_CONTENT_TYPE)] + list(headers or []), body)


def http_error(status, exception_message, exception_type="System.Exception",
               message="An error has occurred.", trace=GENERIC_TRACE):
    """The HttpError body (ASP.NET Web API) Acumatica answers with."""
    body = {"message": message, "exceptionMessage": exception_message,
            "exceptionType": exception_type}
    if trace:
        body["stackTrace"] = trace
    return json_response(status, body)


def no_entity():
    """Recorded/verified: a missing record is a 500 NoEntitySatisfiesTheConditionException."""
    return http_error(500, "No entity satisfies the condition.",
                      "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException", trace=NO_ENTITY_TRACE)


def body_empty():
    """Recorded 400 for a PUT without a body."""
    return json_response(400, {"message": "The request is invalid.",
                               "modelState": {"": ["The request body should not be empty."]}})


def not_found(url_path, detail):
    return json_response(404, {"message": "No HTTP resource was found that matches the request "
                                          "URI '%s'." % url_path, "messageDetail": detail})


def method_not_allowed(method):
    return json_response(405, {"message": "The requested resource does not support http method "
                                          "'%s'." % method})


class _Resolver:
    """Maps $filter paths (Field, Linked/Field, cf.Type(f='View.Field')) to getters."""

    def __init__(self, contract, entity, text):
        self.contract = contract
        self.entity = entity
        self.text = text

    def _err(self, name, typ, pos):
        return odata_filter.FilterError("Could not find a property named '%s' on type '%s' at "
                                        "position %d in '%s'." % (name, typ, pos, self.text))

    def __call__(self, segs, pos):
        defname = self.entity
        d = self.contract.definition(defname)
        navs = []
        for i, seg in enumerate(segs):
            f = d.field(seg)
            if f is None:
                raise self._err(seg, defname, pos)
            last = i == len(segs) - 1
            if f.kind == "value":
                if not last:
                    raise self._err(segs[i + 1], f.wrapper, pos)
                stamp = instance.stamp_of(defname, f.name)
                code = f.code
                if stamp:
                    leaf_name, dflt = stamp, None
                    if stamp in ("_lm", "_created"):
                        code = "t"
                    else:
                        code = "g"
                else:
                    leaf_name, dflt = f.name, instance.defaults(defname).get(f.name)
                return self._chain(navs, leaf_name, dflt), code
            if last:
                raise odata_filter.FilterError("The property '%s' at position %d in '%s' is an entity, "
                                               "not a value." % (seg, pos, self.text))
            navs.append((f.name, f.kind))
            defname = f.target
            d = self.contract.definition(defname)
        raise self._err("/".join(segs), self.entity, pos)

    @staticmethod
    def _chain(navs, leaf, dflt):
        if not navs:
            if dflt is None:
                return lambda r: r.get(leaf)
            return lambda r: r.get(leaf, dflt)

        def getter(r):
            cur = r
            for name, kind in navs:
                nxt = cur.get(name)
                if kind == "detail":
                    # Filtering on detail lines is not supported by Acumatica ("cannot be
                    # predicted"); the simulator looks at the first line.
                    nxt = nxt[0] if nxt else None
                if nxt is None:
                    return None
                cur = nxt
            return cur.get(leaf, dflt)
        return getter

    def custom(self, tname, view_field, pos):
        view, field = view_field.split(".", 1)
        code = odata_filter.CUSTOM_TYPES[tname]

        def getter(r):
            cf = ((r.get("custom") or {}).get(view) or {}).get(field)
            if cf is None:
                return None
            v = cf.get("value")
            if v is None:
                return None
            try:
                if code == "t":
                    return writes.parse_any_datetime(str(v), 0)
                if code in "dfihly":
                    return Decimal(str(v))
                if code == "b":
                    return v if isinstance(v, bool) else str(v).lower() == "true"
            except (ValueError, ArithmeticError):
                return None
            return str(v)
        return getter, ("d" if code in "ihlyf" else code)


class EntityService:
    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        keys = {n: m.keys for n, m in instance.ENTITIES.items() if not m.inquiry}
        self.store = Store(keys)
        self.jobs = actions.Jobs()
        self._renderers = {}
        self._rlock = threading.Lock()
        # (INVENTORYID, WAREHOUSEID) -> open quantity on active sales orders / open shipments
        self._alloc = {}
        self._onship = {}

    # -- public interface -------------------------------------------------
    def reset(self):
        with self.store.lock:
            self.store.clear()
            self.jobs.clear()
            self._alloc.clear()
            self._onship.clear()

    def seed(self, params):
        """Create deterministic data (see datagen.py); returns the counts created and "seed"."""
        with self.store.lock:
            return datagen.seed(self, params or {})

    def records(self, entity, version=None):
        """All records of `entity` in the served JSON shape, everything expanded.

        Raises KeyError for an entity the simulator does not serve."""
        self._run_due_jobs()
        version = version or contract_mod.BASE_VERSION
        c = contract_mod.contract(version)
        if c is None:
            raise KeyError(version)
        name = c.entity_name(entity)
        if name is None:
            raise KeyError(entity)
        if instance.ENTITIES[name].inquiry:
            return []
        shape = query_mod.full_shape(c, name)
        rnd = self.renderer(c)
        # Plain JSON values (decimals as floats) so the caller can serialise them again.
        return json.loads(rnd.render_list(name, shape, self.store.table(name).snapshot()))

    def handle(self, method, subpath, query, body, headers, session):
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        query = query or {}
        try:
            self._run_due_jobs()
            return self._route(method.upper(), subpath, query, body, headers)
        except query_mod.QueryError as e:
            return http_error(e.status, str(e))
        except odata_filter.FilterError as e:
            return http_error(500, str(e), "Microsoft.Data.OData.ODataException")

    # -- helpers used by writes/actions/datagen ---------------------------
    def now_ms(self):
        return int(self.clock.now() * 1000)

    def off_min(self):
        return render.offset_minutes(self.config.get("time_zone_offset", "+00:00"))

    def renderer(self, c):
        site = self.config.get("site_path", "/AcumaticaERP") or ""
        if site and not site.startswith("/"):
            site = "/" + site
        key = (c.version, site, self.off_min(), bool(self.config.get("hide_feature_fields", True)))
        r = self._renderers.get(key)
        if r is None:
            with self._rlock:
                r = self._renderers.get(key)
                if r is None:
                    r = self._renderers[key] = render.Renderer(c, site, key[2], key[3])
        return r

    def doc_contact_of(self, customer, contact):
        return writes.doc_contact(contact)

    def find_customer_order(self, order_type, customer_id, customer_order, exclude_id):
        ot = (order_type or "").upper()
        cu = (customer_id or "").upper()
        co = customer_order.upper()
        for r in self.store.table("SalesOrder").snapshot():
            c = r.get("CustomerOrder")
            if c and c.upper() == co and (r.get("OrderType") or "").upper() == ot and \
                    (r.get("CustomerID") or "").upper() == cu and r["id"] != exclude_id:
                return r
        return None

    def commit(self, ctx, old, rec):
        """Store a new version of a record (caller holds the store lock) and keep the
        derived data (indexes, payments created from an order, item warehouses) in step."""
        entity = ctx.entity
        table = self.store.table(entity)
        if entity == "SalesOrder":
            self._create_order_payments(ctx, rec)
        if old is None:
            table.insert(rec)
        else:
            table.replace(rec)
        if entity == "SalesOrder":
            self._index(self._alloc, _order_contrib(old), _order_contrib(rec))
        elif entity == "Shipment":
            self._index(self._onship, _shipment_contrib(old), _shipment_contrib(rec))
        elif entity == "StockItem":
            self._sync_item_warehouses(ctx, rec)
        elif entity == "ItemWarehouse" and old is None:
            self._sync_stock_item_line(ctx, rec)

    def delete_record(self, entity, rec):
        with self.store.lock:
            cur = self.store.table(entity).get_by_id(rec["id"])
            if cur is None:
                return False
            self.store.table(entity).delete(cur)
            if entity == "SalesOrder":
                self._index(self._alloc, _order_contrib(cur), {})
            elif entity == "Shipment":
                self._index(self._onship, _shipment_contrib(cur), {})
            return True

    def rebuild_indexes(self):
        self._alloc.clear()
        self._onship.clear()
        for r in self.store.table("SalesOrder").snapshot():
            self._index(self._alloc, {}, _order_contrib(r))
        for r in self.store.table("Shipment").snapshot():
            self._index(self._onship, {}, _shipment_contrib(r))

    @staticmethod
    def _index(index, old, new):
        for k, v in old.items():
            index[k] = index.get(k, Decimal(0)) - v
        for k, v in new.items():
            index[k] = index.get(k, Decimal(0)) + v

    def _create_order_payments(self, ctx, rec):
        lines = rec.get("Payments")
        if not lines or not any(l.get("_create_payment") for l in lines):
            return
        out = []
        pctx = writes.Ctx(self, ctx.contract, "Payment", ctx.now, ctx.off_min)
        for line in lines:
            if line.get("_create_payment"):
                line = dict(line)
                del line["_create_payment"]
                amount = line.get("PaymentAmount") or Decimal(0)
                pay = {"id": writes.new_id(), "_created": ctx.now, "_lm": ctx.now,
                       "Type": line.get("DocType") or "Payment",
                       "CustomerID": rec.get("CustomerID"), "PaymentAmount": writes.money(amount),
                       "PaymentMethod": line.get("PaymentMethod") or rec.get("PaymentMethod", "CHECK"),
                       "CashAccount": line.get("CashAccount") or "10200",
                       "PaymentRef": line.get("PaymentRef"), "Status": "Balanced",
                       "ApplicationDate": line.get("ApplicationDate") or
                       writes.local_midnight(ctx.now, ctx.off_min),
                       "Description": line.get("Description"),
                       "AppliedToOrders": writes.money(line.get("AppliedToOrder") or amount),
                       "AvailableBalance": writes.money(amount - (line.get("AppliedToOrder") or amount)),
                       "OrdersToApply": [{"id": writes.new_id(), "_created": ctx.now, "_lm": ctx.now,
                                          "OrderType": rec.get("OrderType"),
                                          "OrderNbr": rec.get("OrderNbr"),
                                          "AppliedToOrder": writes.money(line.get("AppliedToOrder")
                                                                         or amount)}]}
                writes.assign_number(pctx, pay, "ReferenceNbr")
                self.store.table("Payment").insert(pay)
                line["ReferenceNbr"] = pay["ReferenceNbr"]
            out.append(line)
        rec["Payments"] = out

    def _sync_item_warehouses(self, ctx, item):
        iw = self.store.table("ItemWarehouse")
        for wl in item.get("WarehouseDetails") or ():
            w = wl.get("WarehouseID")
            if w and iw.get((item["InventoryID"], w)) is None:
                iw.insert({"id": writes.new_id(), "_created": ctx.now, "_lm": ctx.now,
                           "InventoryID": item["InventoryID"], "WarehouseID": w})

    def _sync_stock_item_line(self, ctx, iw_rec):
        items = self.store.table("StockItem")
        item = items.get((iw_rec["InventoryID"],))
        if item is None:
            return
        w = iw_rec["WarehouseID"].upper()
        if any((l.get("WarehouseID") or "").upper() == w for l in item.get("WarehouseDetails") or ()):
            return
        new = dict(item)
        new["WarehouseDetails"] = list(item.get("WarehouseDetails") or ()) + [
            {"id": writes.new_id(), "_created": ctx.now, "_lm": ctx.now,
             "WarehouseID": iw_rec["WarehouseID"]}]
        items.replace(new)

    def _run_due_jobs(self):
        due = self.jobs.due(self.clock.now())
        for job in due:
            with self.store.lock:
                if job.state != "running":
                    continue
                try:
                    job.work(self.now_ms())
                except actions.ActionError as e:
                    self.jobs.finish(job, str(e))
                except Exception as e:          # an unexpected failure is the job's, not the poll's
                    self.jobs.finish(job, "%s: %s" % (type(e).__name__, e))
                else:
                    self.jobs.finish(job)

    # -- routing ----------------------------------------------------------
    def _route(self, method, subpath, query, body, headers):
        path = subpath.split("?", 1)[0]
        parts = [p for p in path.strip("/").split("/")]
        if not parts or parts[0].lower() != "entity":
            return not_found(path, "The path is not under /entity.")
        if len(parts) == 1 or (len(parts) == 2 and parts[1] == ""):
            if method != "GET":
                return method_not_allowed(method)
            return self._endpoints()
        if len(parts) < 3 or not parts[2]:
            return not_found(path, "No endpoint version was given.")
        endpoint, version = parts[1], parts[2]
        versions = self.config.get("versions") or list(contract_mod.VERSIONS)
        c = contract_mod.contract(version) if version in versions else None
        if endpoint.lower() != "default" or c is None:
            return json_response(404, {
                "message": "No HTTP resource was found that matches the request URI '%s'." % path,
                "messageDetail": "The endpoint %s with the version %s is not found in the system."
                                 % (endpoint, version)})
        rest = [p for p in parts[3:]]
        if rest and rest[-1] == "":
            rest = rest[:-1]
        if not rest:
            return not_found(path, "No entity was given for endpoint Default/%s." % version)
        entity = c.entity_name(rest[0])
        if entity is None:
            return not_found(path, "The entity %s is not found in the endpoint Default/%s."
                             % (rest[0], version))
        meta = instance.ENTITIES[entity]
        args = rest[1:]
        if not args:
            if method == "GET":
                return self._get_list(c, entity, query)
            if method == "PUT":
                return self._put(c, entity, query, body, headers)
            return method_not_allowed(method)
        if len(args) == 3 and args[1].lower() == "status" and method == "GET":
            return self._status(args[2])
        if args[0] == "$adHocSchema" and method == "GET" and len(args) == 1:
            return self._schema(c, entity)
        if method == "POST" and len(args) == 1:
            return self._action(c, entity, args[0], query, body, headers)
        if "files" in [a.lower() for a in args]:
            return not_found(path, "Files are not supported by the simulator.")
        if method in ("GET", "DELETE"):
            if meta.inquiry:
                return not_found(path, "The inquiry %s is read with PUT." % entity)
            rec = self._find_by_url(entity, meta, args)
            if method == "DELETE":
                if rec is None or not self.delete_record(entity, rec):
                    return no_entity()
                return Response(204, [], b"")
            return self._get_one(c, entity, rec, query)
        return method_not_allowed(method)

    def _endpoints(self):
        site = (self.config.get("site_path", "/AcumaticaERP") or "").rstrip("/")
        if site and not site.startswith("/"):
            site = "/" + site
        versions = self.config.get("versions") or list(contract_mod.VERSIONS)
        return json_response(200, {
            "version": {"acumaticaBuildVersion": BUILD_VERSION, "databaseVersion": BUILD_VERSION},
            "endpoints": [{"name": "Default", "version": v, "href": "%s/entity/Default/%s/" % (site, v)}
                          for v in versions if v in contract_mod.VERSIONS]})

    def _find_by_url(self, entity, meta, args):
        table = self.store.table(entity)
        if len(args) == 1 and _GUID.match(args[0]) and not (len(meta.keys) == 1 and
                                                             table.get((args[0],))):
            return table.get_by_id(args[0])
        segs = args[0].split("|") if len(args) == 1 and "|" in args[0] else args
        if len(segs) != len(meta.keys):
            return None
        vals = []
        for seg, kt, kname in zip(segs, meta.key_types, meta.keys):
            if kt in "ihl":
                try:
                    vals.append(int(seg))
                except ValueError:
                    return None
            else:
                allowed = instance.DROPDOWNS.get((entity, kname))
                if allowed:
                    seg = {a.lower(): a for a in allowed}.get(seg.lower(), seg)
                vals.append(seg)
        return table.get(vals)

    # -- reads ------------------------------------------------------------
    def _compile_filter(self, c, entity, text):
        if text is None or not text.strip():
            return None
        return odata_filter.compile_filter(text, _Resolver(c, entity, text), self.off_min())

    def _get_list(self, c, entity, params):
        meta = instance.ENTITIES[entity]
        if meta.inquiry:
            d = c.definition(entity)
            fields = "".join("%s: View %s has BQL delegate\r\n" % (f.name, meta.view)
                             for f in d.fields if f.kind == "value")
            return http_error(500, "Optimization cannot be performed.The following fields cause "
                              "the error:\r\n" + fields,
                              "PX.Api.ContractBased.OptimizedExport.CannotOptimizeException")
        q = query_mod.parse_query(c, entity, params)
        pred = self._compile_filter(c, entity, q.filter)
        table = self.store.table(entity)
        if pred is None:
            recs = table.slice(q.skip, q.top)
        else:
            recs = []
            need_skip = q.skip
            limit = q.top
            if limit != 0:
                for r in table.snapshot():
                    if pred(r):
                        if need_skip:
                            need_skip -= 1
                            continue
                        recs.append(r)
                        if limit is not None and len(recs) >= limit:
                            break
        text = self.renderer(c).render_list(entity, q.shape, recs)
        return json_response(200, text)

    def _get_one(self, c, entity, rec, params):
        q = query_mod.parse_query(c, entity, params, allow_paging=False)
        if rec is None:
            return no_entity()
        pred = self._compile_filter(c, entity, q.filter)
        if pred is not None and not pred(rec):
            return no_entity()
        return json_response(200, self.renderer(c).render_one(entity, q.shape, rec))

    def _schema(self, c, entity):
        shape = query_mod.full_shape(c, entity, depth=1)
        rec = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "adhoc/" + entity))}
        return json_response(200, self.renderer(c).render_one(entity, shape, rec))

    # -- writes -----------------------------------------------------------
    @staticmethod
    def _parse_body(body):
        """(dict, None) or (None, error Response)."""
        if body is None or not body.strip():
            return None, body_empty()
        try:
            obj = json.loads(body.decode("utf-8-sig") if isinstance(body, (bytes, bytearray))
                             else body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as e:
            return None, json_response(400, {"message": "The request is invalid.",
                                             "modelState": {"entity": [
                                                 "Error parsing the request body as JSON: %s." % e]}})
        if not isinstance(obj, dict):
            return None, json_response(400, {"message": "The request is invalid.",
                                             "modelState": {"entity": [
                                                 "The request body must be a JSON object."]}})
        return obj, None

    def _put(self, c, entity, params, body, headers):
        obj, err = self._parse_body(body)
        if err is not None:
            return err
        meta = instance.ENTITIES[entity]
        q = query_mod.parse_query(c, entity, params, allow_paging=False)
        if meta.inquiry:
            return self._inquiry(c, entity, obj, q)
        pred = self._compile_filter(c, entity, q.filter)
        with self.store.lock:
            ctx = writes.Ctx(self, c, entity, self.now_ms(), self.off_min())
            try:
                rec, _ = writes.put(ctx, obj, pred, headers)
            except writes.WriteError as e:
                return http_error(e.status, str(e), e.exc_type or "System.Exception",
                                  message="An error has occurred.")
            except writes.Rejected as e:
                return self._reject(c, entity, e.rec, q.shape)
        return json_response(200, self.renderer(c).render_one(entity, q.shape, rec))

    def _reject(self, c, entity, rec, shape):
        """422: the entity echoed with its errors; detail lists that carry errors are shown."""
        shape = _with_error_details(c, entity, rec, shape)
        return json_response(422, self.renderer(c).render_one(entity, shape, rec))

    # -- inquiries --------------------------------------------------------
    def _inquiry(self, c, entity, body, q):
        ctx = writes.Ctx(self, c, entity, self.now_ms(), self.off_min())
        rec = {"id": str(uuid.uuid4())}
        writes.apply_object(ctx, entity, rec, {k: v for k, v in body.items() if k != "Results"}, True)
        # LastModifiedDateTime is a filter input of InventoryQuantityAvailable ("6/7/2024"),
        # not the record's stamp.
        for k, raw in body.items():
            if k.lower() == "lastmodifieddatetime" and entity == "InventoryQuantityAvailable":
                present, val = writes.unwrap(raw)
                if present and val is not None:
                    try:
                        rec["_lm"] = writes.parse_any_datetime(str(val), ctx.off_min)
                    except ValueError:
                        ctx.error(rec, entity, "LastModifiedDateTime",
                                  "The value '%s' is not a valid date." % val, True)
        if writes.collect_errors(rec):
            rec["_error"] = writes.error_sentence(ctx, None)
            return self._reject(c, entity, rec, q.shape)
        if entity == "InventorySummaryInquiry":
            rows = self._inventory_summary(ctx, rec)
        else:
            rows = self._quantity_available(ctx, rec)
        if rows is None:
            rec["_error"] = writes.error_sentence(ctx, None)
            return self._reject(c, entity, rec, q.shape)
        rec["Results"] = rows
        return json_response(200, self.renderer(c).render_one(entity, q.shape, rec))

    def _items_for_inquiry(self, ctx, rec, defname):
        iid = rec.get("InventoryID")
        items = self.store.table("StockItem")
        if iid:
            item = items.get((iid,))
            if item is None:
                ctx.error(rec, defname, "InventoryID",
                          "'Inventory ID' cannot be found in the system.", True)
                return None
            return [item]
        return items.snapshot()

    def _inventory_summary(self, ctx, rec):
        items = self._items_for_inquiry(ctx, rec, "InventorySummaryInquiry")
        if items is None:
            return None
        wh = (rec.get("WarehouseID") or "").upper()
        if wh and len(self.store.table("Warehouse")) and \
                self.store.table("Warehouse").get((wh,)) is None:
            ctx.error(rec, "InventorySummaryInquiry", "WarehouseID",
                      "'Warehouse' cannot be found in the system.", True)
            return None
        rows = []
        for item in items:
            cost = item.get("CurrentStdCost") or item.get("LastCost") or Decimal(0)
            for wl in item.get("WarehouseDetails") or ():
                w = wl.get("WarehouseID") or ""
                if wh and w.upper() != wh:
                    continue
                key = (item["InventoryID"].upper(), w.upper())
                on_hand = wl.get("QtyOnHand") or Decimal(0)
                rows.append({
                    "id": str(uuid.uuid5(uuid.UUID(item["id"]), "summary/" + w)),
                    "InventoryID": item["InventoryID"], "WarehouseID": w,
                    "BaseUOM": item.get("BaseUOM", "EA"),
                    "QtyOnHand": writes.qty(on_hand),
                    "QtyAvailable": writes.qty(on_hand - self._alloc.get(key, Decimal(0))),
                    "QtyAvailableForShipment": writes.qty(on_hand - self._onship.get(key, Decimal(0))),
                    "QtyNotAvailable": writes.qty(0),
                    "EstimatedUnitCost": writes.q(cost, 6),
                    "EstimatedTotalCost": writes.money(on_hand * cost)})
        return rows

    def _quantity_available(self, ctx, rec):
        items = self._items_for_inquiry(ctx, rec, "InventoryQuantityAvailable")
        if items is None:
            return None
        since = rec.get("_lm")
        rows = []
        for item in items:
            lm = max([item.get("_lm") or 0] + [wl.get("_lm") or 0
                                                for wl in item.get("WarehouseDetails") or ()])
            if since is not None and lm < since:
                continue
            total = Decimal(0)
            for wl in item.get("WarehouseDetails") or ():
                key = (item["InventoryID"].upper(), (wl.get("WarehouseID") or "").upper())
                total += (wl.get("QtyOnHand") or Decimal(0)) - self._alloc.get(key, Decimal(0))
            rows.append({"id": str(uuid.uuid5(uuid.UUID(item["id"]), "available")),
                         "InventoryID": item["InventoryID"], "_lm": lm,
                         "QtyAvailable": writes.qty(total)})
        return rows

    # -- actions ----------------------------------------------------------
    def _action(self, c, entity, action_name, params, body, headers):
        meta = instance.ENTITIES[entity]
        action = next((a for a in meta.actions if a.lower() == action_name.lower()), None)
        if action is None:
            return http_error(404, "An action with this name does not exist: %s.%s."
                              % (entity, action_name), "PX.Api.ContractBased.ActionNotFoundException",
                              message="An action with this name does not exist.")
        obj, err = self._parse_body(body)
        if err is not None:
            return err
        check = actions.CHECKS.get((entity, action))
        if check is None:
            return http_error(500, "The action %s of the %s entity is not implemented by the "
                              "simulator." % (action, entity), "System.NotImplementedException")
        target = obj.get("entity")
        if not isinstance(target, dict):
            return json_response(400, {"message": "The request is invalid.",
                                       "modelState": {"invocation.entity": [
                                           "The entity of the action is required."]}})
        with self.store.lock:
            ctx = writes.Ctx(self, c, entity, self.now_ms(), self.off_min())
            table = self.store.table(entity)
            rec = None
            if isinstance(target.get("id"), str) and target["id"]:
                rec = table.get_by_id(target["id"])
            if rec is None:
                kv = writes.key_values_from_body(ctx, target)
                if kv is not None:
                    rec = table.get(kv)
            if rec is None:
                return no_entity()
            try:
                work = check(self, rec, obj.get("parameters") or {}, ctx)
            except actions.ActionError as e:
                echo = dict(rec)
                if e.field:
                    echo["_errors"] = {e.field: str(e)}
                echo["_error"] = str(e)
                return self._reject(c, entity, echo, query_mod.Shape(None))
            jid = actions.new_job_id()
            duration = float(self.config.get("action_duration", 0.5) or 0)
            self.jobs.add(actions.Job(jid, entity, action, c.version,
                                      self.clock.now() + duration, work))
        site = (self.config.get("site_path", "/AcumaticaERP") or "").rstrip("/")
        if site and not site.startswith("/"):
            site = "/" + site
        loc = "%s/entity/Default/%s/%s/%s/status/%s" % (site, c.version, entity, action, jid)
        return Response(202, [("Location", loc)], b"")

    def _status(self, jid):
        job = self.jobs.get(jid)
        if job is None:
            # "completed or was not created" (swagger, 204 of an action).
            return Response(204, [], b"")
        if job.state == "running":
            return Response(202, [], b"")
        if job.state == "failed":
            return http_error(500, job.error, "PX.Data.PXException")
        return Response(204, [], b"")


def _order_contrib(rec):
    if not rec or rec.get("Status") in ("Cancelled", "Completed"):
        return {}
    out = {}
    for line in rec.get("Details") or ():
        if line.get("LineType", "Goods for Inventory") != "Goods for Inventory":
            continue
        oq = line.get("OpenQty")
        if oq is None or oq <= 0 or not line.get("InventoryID"):
            continue
        k = (line["InventoryID"].upper(), (line.get("WarehouseID") or "").upper())
        out[k] = out.get(k, Decimal(0)) + oq
    return out


def _shipment_contrib(rec):
    if not rec or rec.get("Status") not in ("Open", "On Hold"):
        return {}
    out = {}
    for line in rec.get("Details") or ():
        sq = line.get("ShippedQty")
        if not sq or not line.get("InventoryID"):
            continue
        k = (line["InventoryID"].upper(), (line.get("WarehouseID") or rec.get("WarehouseID") or "").upper())
        out[k] = out.get(k, Decimal(0)) + sq
    return out


def _with_error_details(c, entity, rec, shape):
    """A copy of `shape` that also expands detail lists and linked objects with errors."""
    d = c.definition(entity)
    extra = {}
    for f in d.fields:
        if f.kind == "value" or f.name in shape.expand:
            continue
        v = rec.get(f.name)
        if f.kind == "detail" and isinstance(v, list) and any(l.get("_errors") for l in v):
            extra[f.name] = query_mod.Shape(None)
        elif f.kind == "linked" and isinstance(v, dict) and v.get("_errors"):
            extra[f.name] = query_mod.Shape(None)
    if not extra:
        return shape
    exp = dict(shape.expand)
    exp.update(extra)
    return query_mod.Shape(shape.fields, exp, shape.custom)
