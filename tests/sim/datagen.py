"""Deterministic seed data: a small US distributor's company.

seed(svc, params) creates (counts in params; defaults in DEFAULT_COUNTS):
    warehouses, ship vias (always the fixed list of instance.SHIP_VIAS),
    stock_items (each stocked in 1-3 warehouses, with ItemWarehouse records),
    non_stock_items, customers (main contact and address; some with their own
    shipping contact), contacts (people of the customers), orders with
    lines_per_order lines (prices with their scale, tax on some, payments on
    some), shipments (for the oldest orders, each with packages_per_shipment
    packages carrying tracking numbers; confirmed ones complete their order),
    invoices and payments.

The same `seed` gives the same records (ids, keys, values, stamps) as long as
the base time is the same: stamps are spread over the `days` before
`base_time` (epoch seconds; default: the simulator clock's current day at
00:00 UTC), so an incremental pull by last-modified date has work to do.
Records are built directly in their stored form and loaded in one sort per
table; 100,000 orders with 5 lines take well under a minute.
"""
import random
import uuid
from decimal import Decimal

import instance
import writes

DEFAULT_COUNTS = {
    "seed": 1, "warehouses": 2, "stock_items": 20, "non_stock_items": 5, "customers": 10,
    "contacts": None, "orders": 50, "lines_per_order": 5, "shipments": None,
    "packages_per_shipment": 1, "invoices": 0, "payments": 0, "days": 30, "base_time": None,
    "replace": True,
}

FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
         "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
         "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty",
         "Mark", "Sandra", "Steven", "Ashley", "Andrew", "Kimberly", "Paul", "Emily", "Joshua",
         "Donna", "Kevin", "Michelle", "Brian", "Carol", "Wei", "Priya", "Omar", "Ana", "Kenji")
LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
        "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
        "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
        "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall")
COMPANY_WORDS = ("Summit", "Pioneer", "Evergreen", "Lakeside", "Redwood", "Harbor", "Keystone",
                 "Northwind", "Bluebird", "Granite", "Prairie", "Cascade", "Liberty", "Silverline",
                 "Oakridge", "Meridian", "Frontier", "Coastal", "Highland", "Riverbend", "Sterling",
                 "Maple", "Union", "Atlas", "Beacon", "Crescent", "Horizon", "Ironwood", "Juniper")
COMPANY_KINDS = ("Supply", "Hardware", "Outfitters", "Electric", "Foods", "Trading", "Industries",
                 "Distributors", "Home Center", "Marine", "Builders", "Retail", "Goods", "Tools")
COMPANY_SUFFIX = ("Inc.", "LLC", "Co.", "Corp.", "Ltd.", "")
STREETS = ("Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill",
           "Park", "Sunset", "Lincoln", "Jackson", "Highland", "Church", "Mill", "River", "Spring")
STREET_KINDS = ("St", "Ave", "Blvd", "Rd", "Dr", "Ln", "Way", "Ct")
CITIES = (("Seattle", "WA", "981"), ("Portland", "OR", "972"), ("San Jose", "CA", "951"),
          ("Sacramento", "CA", "958"), ("Denver", "CO", "802"), ("Austin", "TX", "787"),
          ("Dallas", "TX", "752"), ("Chicago", "IL", "606"), ("Columbus", "OH", "432"),
          ("Atlanta", "GA", "303"), ("Raleigh", "NC", "276"), ("Boston", "MA", "021"),
          ("Albany", "NY", "122"), ("Phoenix", "AZ", "850"), ("Minneapolis", "MN", "554"),
          ("Nashville", "TN", "372"), ("Tampa", "FL", "336"), ("Madison", "WI", "537"))
STATE_TAX = {"CA": "CASALES", "NY": "NYSALES", "TX": "TXSALES", "WA": "WASALES"}
ITEM_NOUNS = ("Widget", "Bracket", "Cable", "Valve", "Bearing", "Hinge", "Pump", "Switch", "Sensor",
              "Gasket", "Fitting", "Hose", "Panel", "Lamp", "Drill", "Clamp", "Filter", "Battery",
              "Adapter", "Charger", "Fan", "Motor", "Relay", "Spring", "Bolt", "Washer", "Tape")
ITEM_ADJ = ("Heavy-Duty", "Compact", "Stainless", "Industrial", "Premium", "Standard", "Mini",
            "Brass", "Galvanized", "Wireless", "Insulated", "Reinforced", "Universal", "Pro")
SERVICES = ("Installation", "Extended Warranty", "Freight Handling", "Assembly", "Gift Wrap",
            "Consulting Hour", "Calibration", "Rush Processing", "Setup Fee", "Training Session")
ORDER_WORDS = ("Restock", "Store replenishment", "Project order", "Web order", "Phone order",
               "Seasonal order", "Trade show order", "Repeat order", "Sample order", "Backorder fill")

DAY_MS = 86400000
QTY = [Decimal(n).quantize(Decimal("0.000000")) for n in range(0, 1001)]


class _Ids:
    """Deterministic GUIDs from the seeded generator."""

    def __init__(self, rng):
        self.rng = rng

    def __call__(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _counts(params):
    out = dict(DEFAULT_COUNTS)
    aliases = {"items": None, "lines": "lines_per_order", "packages": "packages_per_shipment",
               "orders_lines": "lines_per_order"}
    for k, v in params.items():
        if k == "items":
            continue
        k = aliases.get(k, k)
        if k not in out:
            raise ValueError("unknown seed parameter %r" % k)
        out[k] = v
    if "items" in params and "stock_items" not in params and "non_stock_items" not in params:
        n = int(params["items"])
        out["non_stock_items"] = n // 5
        out["stock_items"] = n - n // 5
    for k in ("warehouses", "stock_items", "non_stock_items", "customers", "orders",
              "lines_per_order", "packages_per_shipment", "invoices", "payments", "days"):
        out[k] = int(out[k])
        if out[k] < 0:
            raise ValueError("%s cannot be negative" % k)
    out["seed"] = int(out["seed"])
    if out["contacts"] is None:
        out["contacts"] = out["customers"]
    out["contacts"] = int(out["contacts"])
    if out["shipments"] is None:
        out["shipments"] = out["orders"] // 4
    out["shipments"] = min(int(out["shipments"]), out["orders"])
    if out["orders"] and (not out["customers"] or not (out["stock_items"] or out["non_stock_items"])):
        raise ValueError("orders need at least one customer and one item")
    if (out["stock_items"] or out["orders"]) and not out["warehouses"]:
        raise ValueError("stock items and orders need at least one warehouse")
    return out


def _money(cents):
    return (Decimal(cents) / 100).quantize(Decimal("0.0000"))


def _price6(cents):
    return (Decimal(cents) / 100).quantize(Decimal("0.000000"))


def seed(svc, params):
    p = _counts(params)
    rng = random.Random(p["seed"])
    gid = _Ids(rng)
    store = svc.store
    if p["replace"]:
        store.clear()
        svc.jobs.clear()
    off = svc.off_min()
    if p["base_time"] is not None:
        base = int(float(p["base_time"]) * 1000)
    else:
        base = int(svc.clock.now() * 1000) // DAY_MS * DAY_MS
    span = max(1, p["days"]) * DAY_MS
    start = base - span
    counts = {"seed": p["seed"]}

    def stamp():
        return start + rng.randrange(span)

    # -- ship vias and warehouses ----------------------------------------
    sv_table = store.table("ShipVia")
    ship_vias = []
    for code, desc, common in instance.SHIP_VIAS:
        if sv_table.get((code,)) is None:
            ship_vias.append({"id": gid(), "_created": start, "_lm": start, "CarrierID": code,
                              "Description": desc, "CommonCarrier": common,
                              "CalculationMethod": "Manual" if not common else "Net"})
    sv_table.bulk_load(ship_vias)
    counts["ship_vias"] = len(ship_vias)

    warehouses = []
    wh_table = store.table("Warehouse")
    wh_names = [w["WarehouseID"] for w in wh_table.snapshot()]     # appending keeps these
    i = 0
    while len(warehouses) < p["warehouses"]:
        name = instance.WAREHOUSE_NAMES[i] if i < len(instance.WAREHOUSE_NAMES) else "WH%03d" % (i + 1)
        i += 1
        if wh_table.get((name,)) is not None:
            continue
        wh_names.append(name)
        locs = [{"id": gid(), "_created": start, "_lm": start, "LocationID": loc,
                 "Description": desc}
                for loc, desc in (("RECEIVING", "Receiving area"), ("SHIPPING", "Shipping dock"),
                                  ("STOCK", "Main stock"), ("RETURNS", "Returns"))]
        lm = stamp()
        warehouses.append({"id": gid(), "_created": start, "_lm": lm, "WarehouseID": name,
                           "Description": "%s warehouse" % name.title(), "Locations": locs})
    store.table("Warehouse").bulk_load(warehouses)
    counts["warehouses"] = len(warehouses)

    # -- items -------------------------------------------------------------
    stock = []
    item_wh = []
    item_list = []         # (InventoryID, description, price6, cost6, is_stock, warehouses)
    item_base = len(store.table("StockItem")) + len(store.table("NonStockItem"))
    for i in range(item_base, item_base + p["stock_items"]):
        noun = ITEM_NOUNS[i % len(ITEM_NOUNS)]
        iid = "%s%05d" % (noun.upper()[:6], i + 1)
        desc = "%s %s %d" % (rng.choice(ITEM_ADJ), noun, rng.choice((4, 6, 8, 10, 12, 16, 24, 50)))
        cents = rng.randrange(199, 99999)
        price = _price6(cents)
        cost = _price6(int(cents * rng.uniform(0.45, 0.75)))
        created = stamp()
        lm = created + rng.randrange(max(1, base - created))
        nwh = 1 + rng.randrange(min(3, len(wh_names)))
        whs = rng.sample(wh_names, nwh)
        lines = []
        for j, w in enumerate(whs):
            lines.append({"id": gid(), "_created": created, "_lm": lm, "WarehouseID": w,
                          "IsDefault": j == 0, "QtyOnHand": QTY[rng.randrange(0, 1000)],
                          "DefaultIssueLocationID": "STOCK", "DefaultReceiptLocationID": "RECEIVING"})
            item_wh.append({"id": gid(), "_created": created, "_lm": lm, "InventoryID": iid,
                            "WarehouseID": w, "PreferredLocation": "STOCK",
                            "ReorderPoint": QTY[rng.randrange(5, 50)]})
        stock.append({"id": gid(), "_created": created, "_lm": lm, "InventoryID": iid,
                      "Description": desc, "DefaultPrice": price, "MSRP": _price6(cents * 12 // 10),
                      "CurrentStdCost": cost, "LastStdCost": cost, "DefaultWarehouseID": whs[0],
                      "DefaultIssueLocationID": "STOCK", "DefaultReceiptLocationID": "RECEIVING",
                      "DimensionWeight": (Decimal(rng.randrange(1, 4000)) / 100).quantize(
                          Decimal("0.000000")),
                      "ItemClass": "STOCKITEM", "WarehouseDetails": lines})
        item_list.append((iid, desc, price, cost, True, whs))
    store.table("StockItem").bulk_load(stock)
    store.table("ItemWarehouse").bulk_load(item_wh)
    counts["stock_items"] = len(stock)
    counts["item_warehouses"] = len(item_wh)

    non_stock = []
    for i in range(item_base, item_base + p["non_stock_items"]):
        name = SERVICES[i % len(SERVICES)]
        iid = "SVC-%s%04d" % (name.upper().replace(" ", "")[:5], i + 1)
        cents = rng.randrange(500, 25000)
        created = stamp()
        lm = created + rng.randrange(max(1, base - created))
        non_stock.append({"id": gid(), "_created": created, "_lm": lm, "InventoryID": iid,
                          "Description": name, "DefaultPrice": _price6(cents),
                          "CurrentCost": _price6(cents // 3), "ItemType": "Service",
                          "RequireShipment": False})
        item_list.append((iid, name, _price6(cents), _price6(cents // 3), False, wh_names[:1]))
    store.table("NonStockItem").bulk_load(non_stock)
    counts["non_stock_items"] = len(non_stock)

    # -- customers -----------------------------------------------------------
    customers = []
    cust_info = []     # (CustomerID, ship_via, bill_addr, ship_addr, bill_doc, ship_doc, tax)
    ship_codes = [sv[0] for sv in instance.SHIP_VIAS]
    cust_seq0 = store.last_number("Customer:CustomerID")
    for i in range(p["customers"]):
        cid = "C%06d" % (cust_seq0 + i + 1)
        company = "%s %s %s" % (rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS),
                                rng.choice(COMPANY_SUFFIX))
        company = company.strip()
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = "".join(ch for ch in company.lower().split(" ")[0] + company.lower().split(" ")[1]
                         if ch.isalnum()) + ".com"
        city, state, zip3 = rng.choice(CITIES)
        created = stamp()
        lm = created + rng.randrange(max(1, base - created))
        addr = {"id": gid(), "AddressLine1": "%d %s %s" % (rng.randrange(10, 9999),
                                                           rng.choice(STREETS), rng.choice(STREET_KINDS)),
                "City": city, "State": state, "PostalCode": "%s%02d" % (zip3, rng.randrange(100)),
                "Country": "US"}
        if rng.random() < 0.3:
            addr["AddressLine2"] = "Suite %d" % rng.randrange(100, 999)
        phone = "+1 (%03d) %03d-%04d" % (rng.randrange(201, 989), rng.randrange(200, 999),
                                         rng.randrange(10000))
        main = {"id": gid(), "_lm": lm, "ContactID": 100000 + store.next_number("Contact:ContactID"),
                "CompanyName": company, "DisplayName": company, "FirstName": first,
                "LastName": last, "Attention": "%s %s" % (first, last),
                "Email": "%s.%s@%s" % (first.lower(), last.lower(), domain), "Phone1": phone,
                "WebSite": "https://www.%s" % domain, "Address": addr}
        ship_via = ship_codes[rng.randrange(len(ship_codes))]
        cust = {"id": gid(), "_created": created, "_lm": lm, "CustomerID": cid,
                "CustomerName": company, "BAccountID": store.next_number("BAccountID", 100),
                "MainContact": main, "BillingContact": main, "ShippingContact": main,
                "Email": main["Email"], "ShipVia": ship_via,
                "TaxZone": STATE_TAX.get(state), "CreditLimit": _money(rng.choice((0, 500000, 1000000, 2500000))),
                "PriceClassID": rng.choice((None, "RETAIL", "WHOLESALE")),
                "Terms": rng.choice(("NET30", "NET30", "NET15", "COD"))}
        if cust["PriceClassID"] is None:
            del cust["PriceClassID"]
        if cust["TaxZone"] is None:
            del cust["TaxZone"]
        ship_c = main
        if rng.random() < 0.2:
            c2, s2, z2 = rng.choice(CITIES)
            saddr = {"id": gid(), "AddressLine1": "%d %s %s" % (rng.randrange(10, 9999),
                                                                rng.choice(STREETS),
                                                                rng.choice(STREET_KINDS)),
                     "City": c2, "State": s2, "PostalCode": "%s%02d" % (z2, rng.randrange(100)),
                     "Country": "US"}
            ship_c = dict(main, id=gid(), Address=saddr, Attention="Receiving dept.")
            cust["ShippingContact"] = ship_c
            cust["ShippingContactOverride"] = True
            cust["ShippingAddressOverride"] = True
        customers.append(cust)
        cust_info.append((cid, ship_via, main["Address"], ship_c["Address"],
                          writes.doc_contact(main), writes.doc_contact(ship_c),
                          STATE_TAX.get(ship_c["Address"]["State"])))
    store.table("Customer").bulk_load(customers)
    counts["customers"] = len(customers)

    contacts = []
    for i in range(p["contacts"]):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = stamp()
        cust = customers[i % len(customers)] if customers else None
        rec = {"id": gid(), "_created": created, "_lm": created + rng.randrange(max(1, base - created)),
               "ContactID": 100000 + store.next_number("Contact:ContactID"), "FirstName": first,
               "LastName": last, "DisplayName": "%s %s" % (first, last),
               "JobTitle": rng.choice(("Purchasing Manager", "Buyer", "Owner", "Accounts Payable",
                                       "Operations Lead", "Store Manager")),
               "Phone1": "+1 (%03d) %03d-%04d" % (rng.randrange(201, 989), rng.randrange(200, 999),
                                                  rng.randrange(10000)),
               "Address": {"id": gid()}}
        if cust is not None:
            dom = cust["MainContact"]["Email"].split("@")[1]
            rec["BusinessAccount"] = cust["CustomerID"]
            rec["CompanyName"] = cust["CustomerName"]
            rec["FullName"] = cust["CustomerName"]
            rec["Email"] = "%s.%s@%s" % (first.lower(), last.lower(), dom)
            rec["Address"] = cust["MainContact"]["Address"]
        contacts.append(rec)
    store.table("Contact").bulk_load(contacts)
    counts["contacts"] = len(contacts)

    # -- orders --------------------------------------------------------------
    n_orders = p["orders"]
    nlines = p["lines_per_order"]
    orders = []
    order_seq0 = store.last_number("SalesOrder:SO")
    stock_items = [it for it in item_list if it[4]] or item_list
    svc_items = [it for it in item_list if not it[4]]
    n_ship = p["shipments"]
    tax_rates = dict(instance.TAXES)
    for i in range(n_orders):
        # Orders are numbered in date order: SO000001 is the oldest.
        created = start + (span * i) // max(1, n_orders) + rng.randrange(max(1, span // max(1, n_orders)))
        day = writes.local_midnight(created, off)
        lm = created + rng.randrange(max(1, min(base - created, 3 * DAY_MS)))
        ci = cust_info[rng.randrange(len(cust_info))]
        nbr = "SO%06d" % (order_seq0 + i + 1)
        lines = []
        total = Decimal(0)
        tq = Decimal(0)
        for ln in range(nlines):
            if svc_items and rng.random() < 0.08:
                it = svc_items[rng.randrange(len(svc_items))]
            else:
                it = stock_items[rng.randrange(len(stock_items))]
            qv = QTY[1 + rng.randrange(20)]
            price = it[2]
            ext = writes.money(qv * price)
            line = {"id": gid(), "_created": created, "_lm": lm, "LineNbr": ln + 1,
                    "InventoryID": it[0], "LineDescription": it[1], "OrderQty": qv,
                    "UnitPrice": price, "UnitCost": it[3], "DiscountedUnitPrice": price,
                    "ExtendedPrice": ext, "Amount": ext, "UnbilledAmount": ext, "OpenQty": qv,
                    "WarehouseID": it[5][0], "RequestedOn": day, "ShipOn": day}
            if not it[4]:
                line["LineType"] = "Non-Inventory Goods"
            lines.append(line)
            total += ext
            tq += qv
        order = {"id": gid(), "_created": created, "_lm": lm, "OrderType": "SO", "OrderNbr": nbr,
                 "CustomerID": ci[0], "Date": day, "RequestedOn": day, "EffectiveDate": day,
                 "Description": rng.choice(ORDER_WORDS), "ShipVia": ci[1],
                 "CustomerOrder": "PO-%06d" % rng.randrange(1000000),
                 "BillToAddress": ci[2], "ShipToAddress": ci[3], "BillToContact": ci[4],
                 "ShipToContact": ci[5], "Details": lines, "OrderedQty": tq.quantize(QTY[0]),
                 "ControlTotal": writes.money(total)}
        if rng.random() < 0.3:
            order["ExternalRef"] = "WEB-%07d" % rng.randrange(10000000)
        tax_id = ci[6]
        tax = Decimal(0)
        if tax_id:
            rate = tax_rates[tax_id]
            tax = writes.money(total * rate / 100)
            order["TaxDetails"] = [{"id": gid(), "_created": created, "_lm": lm, "TaxID": tax_id,
                                    "TaxRate": rate, "TaxableAmount": writes.money(total),
                                    "TaxAmount": tax, "OrderType": "SO", "OrderNbr": nbr}]
        order["TaxTotal"] = writes.money(tax)
        order["OrderTotal"] = writes.money(total + tax)
        order["ControlTotal"] = order["OrderTotal"]
        orders.append(order)
    store.bump_sequence("SalesOrder:SO", order_seq0 + n_orders)

    # Hold, payments and shipments.
    shipments = []
    packages = 0
    ship_seq0 = store.last_number("Shipment:ShipmentNbr")
    pay_recs = []
    pay_seq0 = store.last_number("Payment:ReferenceNbr")
    for i, order in enumerate(orders):
        if i < n_ship:
            sh = _ship_order(order, ship_seq0 + i + 1, base, p["packages_per_shipment"], rng, gid,
                             off)
            shipments.append(sh)
            packages += len(sh["Packages"])
        else:
            r = rng.random()
            if r < 0.1:
                order["Hold"] = True
                order["Status"] = "On Hold"
            elif r < 0.13:
                order["Status"] = "Cancelled"
        if i < p["payments"]:
            ref = "%06d" % (pay_seq0 + len(pay_recs) + 1)
            amount = order["OrderTotal"]
            pay = {"id": gid(), "_created": order["_created"], "_lm": order["_lm"], "Type": "Payment",
                   "ReferenceNbr": ref, "CustomerID": order["CustomerID"],
                   "PaymentAmount": amount, "PaymentMethod": "CHECK",
                   "PaymentRef": "CHK%05d" % rng.randrange(100000),
                   "ApplicationDate": order["Date"], "Status": "Closed",
                   "AppliedToOrders": amount, "AvailableBalance": writes.money(0),
                   "OrdersToApply": [{"id": gid(), "OrderType": "SO", "OrderNbr": order["OrderNbr"],
                                      "AppliedToOrder": amount}]}
            pay_recs.append(pay)
            order["Payments"] = [{"id": gid(), "_created": order["_created"], "_lm": order["_lm"],
                                  "DocType": "Payment", "ReferenceNbr": ref,
                                  "PaymentAmount": amount, "AppliedToOrder": amount,
                                  "PaymentMethod": "CHECK", "Status": "Closed",
                                  "ApplicationDate": order["Date"], "Balance": writes.money(0)}]
        if order.get("Status") is None:
            order["Status"] = "Open"
    store.bump_sequence("Shipment:ShipmentNbr", ship_seq0 + len(shipments))
    store.bump_sequence("Payment:ReferenceNbr", pay_seq0 + len(pay_recs))
    store.table("SalesOrder").bulk_load(orders)
    store.table("Shipment").bulk_load(shipments)
    counts["orders"] = len(orders)
    counts["order_lines"] = len(orders) * nlines
    counts["shipments"] = len(shipments)
    counts["packages"] = packages

    # Invoices for the oldest completed orders.
    invoices = []
    inv_seq0 = store.last_number("SalesInvoice:ReferenceNbr")
    for order in orders[:p["invoices"]]:
        ref = "INV%06d" % (inv_seq0 + len(invoices) + 1)
        lines = [{"id": gid(), "LineNbr": l["LineNbr"], "InventoryID": l["InventoryID"],
                  "TransactionDescr": l.get("LineDescription"), "Qty": l["OrderQty"],
                  "UnitPrice": l["UnitPrice"], "ExtendedPrice": l["ExtendedPrice"],
                  "Amount": l["Amount"], "OrderType": "SO", "OrderNbr": order["OrderNbr"],
                  "OrderLineNbr": l["LineNbr"], "WarehouseID": l.get("WarehouseID")}
                 for l in order["Details"]]
        invoices.append({"id": gid(), "_created": order["_lm"], "_lm": order["_lm"],
                         "Type": "Invoice", "ReferenceNbr": ref, "CustomerID": order["CustomerID"],
                         "CustomerOrder": order.get("CustomerOrder"), "Date": order["Date"],
                         "DueDate": order["Date"] + 30 * DAY_MS, "Details": lines,
                         "DetailTotal": order["OrderTotal"] - order["TaxTotal"],
                         "TaxTotal": order["TaxTotal"], "Amount": order["OrderTotal"],
                         "Balance": order["OrderTotal"], "Status": "Open",
                         "Description": order.get("Description")})
    store.bump_sequence("SalesInvoice:ReferenceNbr", inv_seq0 + len(invoices))
    store.table("SalesInvoice").bulk_load(invoices)
    store.table("Payment").bulk_load(pay_recs)
    counts["invoices"] = len(invoices)
    counts["payments"] = len(pay_recs)
    store.bump_sequence("Customer:CustomerID", cust_seq0 + p["customers"])
    svc.rebuild_indexes()
    return counts


TRACKING = {
    "UPSGROUND": lambda r: "1Z%s%010d" % ("".join(r.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
                                                  for _ in range(6)), r.randrange(10 ** 10)),
    "FEDEXGROUND": lambda r: "%012d" % r.randrange(10 ** 12),
    "USPSPRIORITY": lambda r: "9400%018d" % r.randrange(10 ** 18),
    "DHLEXPRESS": lambda r: "%010d" % r.randrange(10 ** 10),
}


def _tracking(ship_via, rng):
    fn = TRACKING.get(ship_via)
    return fn(rng) if fn else "TRK%08d" % rng.randrange(10 ** 8)


def _ship_order(order, seq, base, n_packages, rng, gid, off):
    """A shipment for all lines of a seeded order; confirmed unless it is recent."""
    nbr = "%06d" % seq
    created = order["_lm"] + rng.randrange(DAY_MS)
    if created >= base:
        created = base - 1
    confirmed = created < base - 2 * DAY_MS
    lm = created + (rng.randrange(max(1, min(DAY_MS, base - created))) if confirmed else 0)
    day = writes.local_midnight(created, off)
    details = []
    stock_lines = [l for l in order["Details"] if l.get("LineType") is None]
    total = Decimal(0)
    for i, l in enumerate(stock_lines):
        details.append({"id": gid(), "_created": created, "_lm": lm, "LineNbr": i + 1,
                        "InventoryID": l["InventoryID"], "Description": l.get("LineDescription"),
                        "OrderType": "SO", "OrderNbr": order["OrderNbr"], "OrderLineNbr": l["LineNbr"],
                        "OrderedQty": l["OrderQty"], "OriginalQty": l["OrderQty"],
                        "ShippedQty": l["OrderQty"], "WarehouseID": l["WarehouseID"]})
        total += l["OrderQty"]
    pk = []
    for j in range(n_packages):
        pk.append({"id": gid(), "_created": created, "_lm": lm, "LineNbr": j + 1, "BoxID": "BOX",
                   "Description": "Carton %d of %d" % (j + 1, n_packages),
                   "TrackingNbr": _tracking(order.get("ShipVia"), rng),
                   "Weight": QTY[1 + rng.randrange(40)], "Confirmed": confirmed})
    weight = sum((x["Weight"] for x in pk), Decimal(0))
    wh = stock_lines[0]["WarehouseID"] if stock_lines else order["Details"][0].get("WarehouseID")
    sh = {"id": gid(), "_created": created, "_lm": lm, "ShipmentNbr": nbr, "Type": "Shipment",
          "Status": "Confirmed" if confirmed else "Open", "CustomerID": order["CustomerID"],
          "WarehouseID": wh, "ShipVia": order.get("ShipVia"), "ShipmentDate": day,
          "EffectiveDate": day, "ShippedQty": total.quantize(QTY[0]),
          "ControlQty": total.quantize(QTY[0]), "PackageCount": len(pk),
          "PackageWeight": weight.quantize(QTY[0]), "Details": details, "Packages": pk,
          "Orders": [{"id": gid(), "OrderType": "SO", "OrderNbr": order["OrderNbr"],
                      "ShipmentNbr": nbr, "ShippedQty": total.quantize(QTY[0]),
                      "OrderNoteID": order["id"]}]}
    # The order follows its shipment.
    if confirmed:
        for l in order["Details"]:
            l["_shipped"] = l["OrderQty"]
            l["_completed"] = True
            l["OpenQty"] = QTY[0]
            l["Completed"] = True
        order["Status"] = "Completed"
    else:
        for l in stock_lines:
            l["QtyOnShipments"] = l["OrderQty"]
        order["Status"] = "Shipping"
    order["Shipments"] = [{"id": gid(), "_created": created, "_lm": lm, "ShipmentNbr": nbr,
                           "ShipmentType": "Shipment", "ShipmentDate": day,
                           "ShippedQty": total.quantize(QTY[0]),
                           "Status": "Confirmed" if confirmed else "Open",
                           "ShippingNoteID": sh["id"], "OrderNoteID": order["id"]}]
    if lm > order["_lm"]:
        order["_lm"] = lm
    return sh
