"""The simulated Acumatica company: everything about the entities that is not the
shape of the contract (that is contract.py).

* ENTITIES: per top-level entity its key fields in URL order, how a new key is
  numbered, the form (screen, graph, primary view) used in `_links`, its
  actions, and whether it is an inquiry read with PUT.
* DEFAULTS: the values a new record or detail line gets when the request does not
  give them (taken from the recorded creates in
  fixtures/recorded/jetbuilt-acumatica where they exist). They are also the values
  seen for fields a stored record does not hold: a record stores only what differs.
* DROPDOWNS: the display strings of drop-down fields (Contract Version 4 serves
  and accepts display strings).
* HIDDEN: fields the recorded instance did not return because the feature behind
  them is switched off (sub-items, VAT reporting, project cost codes,
  inter-branch). They are in the contract but not in the JSON, as recorded.
* decimal_scale(): the database scale a decimal field is served with
  (7000.0000, 1.00000000, 100.000000 as recorded).
"""
from decimal import Decimal

# ---------------------------------------------------------------------------
# Top-level entities

class EntityMeta:
    __slots__ = ("name", "keys", "key_types", "numbering", "screen", "graph", "view",
                 "detail_views", "actions", "inquiry", "line_keys")

    def __init__(self, name, keys, screen, graph, view, key_types=None, numbering=None,
                 detail_views=None, actions=(), inquiry=False, line_keys=None):
        self.name = name
        self.keys = tuple(keys)
        self.key_types = tuple(key_types or ("s",) * len(keys))
        # numbering: {key field: (prefix, digits)} for keys the system assigns
        # when absent or "<NEW>"; per-document-type numbering is keyed by type.
        self.numbering = numbering or {}
        self.screen = screen
        self.graph = graph
        self.view = view
        self.detail_views = detail_views or {}
        self.actions = tuple(actions)
        self.inquiry = inquiry
        # How a detail line is found on update when it has no "id":
        # {detail field: (key field, ...)}
        self.line_keys = line_keys or {}


ENTITIES = {m.name: m for m in (
    EntityMeta("Customer", ["CustomerID"], "AR303000", "PX.Objects.AR.CustomerMaint", "BAccount",
               numbering={"CustomerID": ("C", 6)},
               detail_views={"Contacts": "Contacts", "Attributes": "Answers",
                             "Salespersons": "SalesPersons",
                             "PaymentInstructions": "DefPaymentMethodInstanceDetails"}),
    EntityMeta("Contact", ["ContactID"], "CR302000", "PX.Objects.CR.ContactMaint", "Contact",
               key_types=("i",), numbering={"ContactID": ("", 0)},
               actions=("CheckForContactDuplicates", "MarkContactAsValidated",
                        "ValidateContactAddress")),
    EntityMeta("StockItem", ["InventoryID"], "IN202500", "PX.Objects.IN.InventoryItemMaint", "Item",
               detail_views={"WarehouseDetails": "itemsiterecords", "VendorDetails": "VendorItems",
                             "UOMConversions": "itemunits", "CrossReferences": "itemxrefrecords",
                             "Attributes": "Answers"},
               actions=("UpdateStandardCostStockItem",),
               line_keys={"WarehouseDetails": ("WarehouseID",)}),
    EntityMeta("NonStockItem", ["InventoryID"], "IN202000", "PX.Objects.IN.NonStockItemMaint", "Item",
               detail_views={"VendorDetails": "VendorItems", "Attributes": "Answers"},
               actions=("UpdateStandardCostNonStockItem",)),
    EntityMeta("Warehouse", ["WarehouseID"], "IN204000", "PX.Objects.IN.INSiteMaint", "site",
               detail_views={"Locations": "location"},
               line_keys={"Locations": ("LocationID",)}),
    EntityMeta("ItemWarehouse", ["InventoryID", "WarehouseID"], "IN204500",
               "PX.Objects.IN.INItemSiteMaint", "itemsiterecord"),
    EntityMeta("InventoryQuantityAvailable", [], "GI640590", "PX.Data.PXGenericInqGrph", "Filter",
               detail_views={"Results": "Results"}, inquiry=True),
    EntityMeta("InventorySummaryInquiry", [], "IN401000", "PX.Objects.IN.InventorySummaryEnq", "Filter",
               detail_views={"Results": "ISERecords"}, inquiry=True),
    EntityMeta("SalesOrder", ["OrderType", "OrderNbr"], "SO301000", "PX.Objects.SO.SOOrderEntry",
               "Document", numbering={"OrderNbr": (None, 6)},
               detail_views={"Details": "Transactions", "Payments": "Adjustments",
                             "TaxDetails": "Taxes", "Shipments": "ShipmentList",
                             "DiscountDetails": "DiscountDetails"},
               actions=("CancelSalesOrder", "ReopenSalesOrder", "PrepareSalesInvoice",
                        "OpenSalesOrder", "ReleaseFromCreditHoldSalesOrder",
                        "SalesOrderCreateReceipt", "SalesOrderCreateShipment",
                        "AutoRecalculateDiscounts"),
               line_keys={"Details": ("LineNbr",), "TaxDetails": ("TaxID",),
                          "Payments": ("DocType", "ReferenceNbr")}),
    EntityMeta("Shipment", ["ShipmentNbr"], "SO302000", "PX.Objects.SO.SOShipmentEntry", "Document",
               numbering={"ShipmentNbr": ("", 6)},
               detail_views={"Details": "Transactions", "Orders": "OrderList",
                             "Packages": "Packages"},
               actions=("ConfirmShipment", "CorrectShipment", "UpdateIN", "PrepareInvoice"),
               line_keys={"Details": ("LineNbr",), "Packages": ("LineNbr",)}),
    EntityMeta("ShipVia", ["CarrierID"], "CS207500", "PX.Objects.CS.CarrierMaint", "Carrier",
               detail_views={"FreightRates": "FreightRates", "Packages": "CarrierPackages"}),
    EntityMeta("SalesInvoice", ["Type", "ReferenceNbr"], "SO303000", "PX.Objects.SO.SOInvoiceEntry",
               "Document", numbering={"ReferenceNbr": ("INV", 6)},
               detail_views={"Details": "Transactions", "TaxDetails": "Taxes"},
               actions=("ReleaseSalesInvoice",),
               line_keys={"Details": ("LineNbr",)}),
    EntityMeta("Payment", ["Type", "ReferenceNbr"], "AR302000", "PX.Objects.AR.ARPaymentEntry",
               "Document", numbering={"ReferenceNbr": ("", 6)},
               detail_views={"DocumentsToApply": "Adjustments", "OrdersToApply": "SOAdjustments"},
               actions=("CaptureCreditCardPayment", "ReleasePayment", "VoidPayment",
                        "VoidCardPayment", "CardOperation"),
               line_keys={"OrdersToApply": ("OrderType", "OrderNbr")}),
)}

# Order and document types of key fields that default when a PUT omits them.
KEY_DEFAULTS = {
    ("SalesOrder", "OrderType"): "SO",
    ("SalesInvoice", "Type"): "Invoice",
    ("Payment", "Type"): "Payment",
}

# ---------------------------------------------------------------------------
# Values derived from the record's system stamps rather than stored per field.
# "_lm": last modified, "_created": created, "id": the NoteID.

STAMP_FIELDS = {
    "LastModifiedDateTime": "_lm", "LastModified": "_lm",
    "CreatedDateTime": "_created", "CreatedDate": "_created",
    "NoteID": "id",
}
# SalesOrderDetail.LastModifiedDate is a StringValue "12/14/2023 19:57:08";
# SalesInvoice.LastModifiedDate (24.200.001) is a DateTimeValue.
STAMP_FIELDS_BY_DEF = {
    ("SalesOrderDetail", "LastModifiedDate"): "_lm",
    ("SalesInvoice", "LastModifiedDate"): "_lm",
    ("ContactDuplicateDetail", "LastModifiedDate"): "_lm",
}


def stamp_of(defname, field):
    """The stamp key ("_lm", "_created", "id") a field is served from, or None."""
    s = STAMP_FIELDS_BY_DEF.get((defname, field))
    if s is None:
        s = STAMP_FIELDS.get(field)
    return s


# ---------------------------------------------------------------------------
# Feature-dependent fields the recorded instance does not return.

HIDDEN = {
    "Customer": {"ShippingBranch"},
    "SalesOrder": {"VATExemptTotal", "VATTaxableTotal"},
    "SalesOrderDetail": {"CostCode", "CustomerOrderNbr", "SchedOrderDate", "ShipToLocation",
                         "Subitem", "TaxZone"},
    "StockItem": {"DefaultSubitem", "UseOnEntry"},
}

# ---------------------------------------------------------------------------
# Decimal scales (the precision of the database column the value comes from).

_SCALE_EXACT = {
    "CurrencyRate": 8, "ReciprocalRate": 8,
    # Cost fields computed by the graph, served as .NET decimals without DB scale
    # ("LastCost":{"value":0.0} as recorded).
    "LastCost": None, "AverageCost": None, "MaxCost": None, "MinCost": None,
    "ExtendedPrice": 4, "FreightPrice": 4,
}
_SCALE6_WORDS = ("Qty", "Quantity", "Weight", "Volume", "Percent", "Markup", "Threshold",
                 "UnitPrice", "UnitCost", "DefaultPrice", "MSRP", "StdCost", "CurrentCost",
                 "PendingCost", "TaxRate", "ServiceLevel", "ConversionFactor", "Price",
                 "Rate", "Height", "Width", "Length", "Commission", "Demand", "STDEV",
                 "EOQ", "LotSize", "Score", "SafetyStock", "ReorderPoint")


def decimal_scale(defname, field):
    """Digits after the point a decimal field is served with (None: as computed)."""
    if field in _SCALE_EXACT:
        return _SCALE_EXACT[field]
    for w in _SCALE6_WORDS:
        if w in field:
            return 6
    return 4


# ---------------------------------------------------------------------------
# Drop-down fields: allowed display strings. A write of another value gets a
# field-level error (422).

DROPDOWNS = {
    ("Customer", "Status"): ("Active", "On Hold", "Credit Hold", "Inactive", "One-Time"),
    ("Customer", "StatementType"): ("Open Item", "Balance Brought Forward"),
    ("Customer", "ShippingRule"): ("Cancel Remainder", "Back Order Allowed", "Ship Complete"),
    ("SalesOrder", "Status"): ("Open", "On Hold", "Pending Approval", "Rejected", "Credit Hold",
                               "Shipping", "Back Order", "Completed", "Cancelled", "Invoiced",
                               "Pending Processing", "Awaiting Payment"),
    ("SalesOrderDetail", "LineType"): ("Goods for Inventory", "Non-Inventory Goods",
                                       "Misc. Charge"),
    ("SalesOrderDetail", "ShippingRule"): ("Cancel Remainder", "Back Order Allowed",
                                           "Ship Complete"),
    ("SalesOrderDetail", "Operation"): ("Issue", "Receipt"),
    ("StockItem", "ItemStatus"): ("Active", "No Sales", "No Purchases", "No Request",
                                  "Inactive", "Marked for Deletion"),
    ("StockItem", "ItemType"): ("Finished Good", "Component Part", "Subassembly",
                                "Malfunction", "Other"),
    ("StockItem", "ValuationMethod"): ("Standard", "Average", "FIFO", "Specific"),
    ("NonStockItem", "ItemStatus"): ("Active", "No Sales", "No Purchases", "No Request",
                                     "Inactive", "Marked for Deletion"),
    ("NonStockItem", "ItemType"): ("Non-Stock Item", "Labor", "Service", "Charge", "Expense"),
    ("Shipment", "Status"): ("On Hold", "Open", "Confirmed", "Completed", "Invoiced",
                             "Cancelled", "Receipted", "Partially Invoiced"),
    ("Shipment", "Type"): ("Shipment", "Transfer", "Drop-Ship"),
    ("Shipment", "Operation"): ("Issue", "Receipt"),
    ("SalesInvoice", "Type"): ("Invoice", "Debit Memo", "Credit Memo", "Cash Sale",
                               "Cash Return"),
    ("SalesInvoice", "Status"): ("On Hold", "Balanced", "Open", "Closed", "Voided",
                                 "Pending Print", "Pending Email"),
    ("Payment", "Type"): ("Payment", "Credit Memo", "Prepayment", "Customer Refund",
                          "Voided Payment", "Voided Refund"),
    ("Payment", "Status"): ("On Hold", "Balanced", "Open", "Closed", "Voided",
                            "Pending Processing", "Pending Approval"),
    ("Contact", "Status"): ("Active", "Inactive"),
}

# ---------------------------------------------------------------------------
# Defaults. Decimals are given with their served scale.

D0 = Decimal("0.0000")
Q0 = Decimal("0.000000")
R1 = Decimal("1.00000000")

DEFAULTS = {
    "Customer": {
        "ApplyOverdueCharges": False, "AutoApplyPayments": False,
        "BillingAddressOverride": False, "BillingContactOverride": False,
        "CurrencyID": "USD", "CustomerClass": "DEFAULT", "EnableCurrencyOverride": False,
        "EnableRateOverride": False, "EnableWriteOffs": True, "LocationName": "Primary Location",
        "MultiCurrencyStatements": False, "OrderPriority": 0, "PrintDunningLetters": True,
        "PrintInvoices": False, "PrintStatements": False, "ResidentialDelivery": False,
        "SaturdayDelivery": False, "SendDunningLettersbyEmail": False,
        "SendInvoicesbyEmail": False, "SendStatementsbyEmail": False,
        "ShippingAddressOverride": False, "ShippingContactOverride": False,
        "ShippingRule": "Cancel Remainder", "ShipVia": "TRUCK", "StatementCycleID": "DEFAULT",
        "StatementType": "Open Item", "Status": "Active", "Terms": "NET30",
        "WriteOffLimit": Decimal("30.0000"), "CreditLimit": D0, "IsGuestCustomer": False,
        "RestrictVisibilityTo": "HEADOFFICE",
    },
    "Contact": {
        "Active": True, "AddressValidated": False, "DoNotCall": False, "DoNotEmail": False,
        "DoNotFax": False, "DoNotMail": False, "NoMarketing": False, "NoMassMail": False,
        "DuplicateFound": False, "Synchronize": True, "OverrideAccountAddress": False,
        "ContactMethod": "Any", "Status": "Active", "Type": "Contact",
        "Phone1Type": "Business 1", "Phone2Type": "Cell", "Phone3Type": "Home", "FaxType": "Fax",
        "OverrideSalesTerritory": False,
    },
    "Address": {"Country": "US", "Validated": False},
    "StockItem": {
        "AverageCost": Decimal("0.0"), "BaseUOM": "EA", "COGSAccount": "50000",
        "COGSSubaccount": "000000", "CurrentStdCost": Q0, "DefaultPrice": Q0,
        "DimensionVolume": Q0, "DimensionWeight": Q0, "InventoryAccount": "13000",
        "InventorySubaccount": "000000", "IsAKit": False, "ItemClass": "STOCKITEM",
        "ItemStatus": "Active", "ItemType": "Finished Good", "LastCost": Decimal("0.0"),
        "LastStdCost": Q0, "LotSerialClass": "NOTTRACKED", "Markup": Q0,
        "MaxCost": Decimal("0.0"), "MinCost": Decimal("0.0"), "MinMarkup": Q0, "MSRP": Q0,
        "PackagingOption": "Manual", "PackSeparately": False, "PendingStdCost": Q0,
        "POAccrualAccount": "20000", "POAccrualSubaccount": "000000",
        "PostingClass": "STOCKITEM", "PurchaseUOM": "EA", "SalesAccount": "40000",
        "SalesSubaccount": "000000", "SalesUOM": "EA", "SubjectToCommission": False,
        "TaxCategory": "TAXABLE", "ValuationMethod": "Average", "ExportToExternal": True,
        "Visibility": "Visible", "Availability": "Set by Store Settings", "NotAvailable": "Do Nothing",
    },
    "StockItemWarehouseDetail": {
        "IsDefault": False, "Override": False, "OverridePreferredVendor": False,
        "OverrideReplenishmentSettings": False, "OverrideStdCost": False, "PriceOverride": False,
        "QtyOnHand": Q0, "ReplenishmentSource": "Purchase", "Status": "Active",
        "DailyDemandForecast": Q0, "ServiceLevel": Decimal("50.000000"),
        "InventoryAccount": "13000", "InventorySubaccount": "000000",
    },
    "NonStockItem": {
        "BaseUnit": "EA", "CurrentCost": Q0, "DefaultPrice": Q0, "IsKit": False,
        "ItemClass": "NONSTOCK", "ItemStatus": "Active", "ItemType": "Non-Stock Item",
        "LastCost": Decimal("0.0"), "PendingCost": Q0, "PostingClass": "NONSTOCK",
        "PurchaseUnit": "EA", "RequireReceipt": False, "RequireShipment": False,
        "SalesAccount": "40000", "SalesSubaccount": "000000", "SalesUnit": "EA",
        "TaxCategory": "TAXABLE", "Volume": Q0, "Weight": Q0, "ExpenseAccount": "50000",
        "ExpenseSubaccount": "000000", "ExportToExternal": True, "Visibility": "Visible",
        "CurrentStdCost": Q0, "MSRP": Q0, "DimensionWeight": Q0, "IsAKit": False,
    },
    "Warehouse": {
        "Active": True, "OverrideInventoryAccountSubaccount": False, "InventoryAccount": "13000",
        "InventorySubaccount": "000000", "SalesAccount": "40000", "SalesSubaccount": "000000",
        "COGSExpenseAccount": "50000", "COGSExpenseSubaccount": "000000",
        "ReceivingLocationID": "RECEIVING", "ShippingLocationID": "SHIPPING",
        "RMALocationID": "RETURNS", "UseItemDefaultLocationForPicking": False,
    },
    "WarehouseLocation": {"Active": True, "AssemblyAllowed": True, "ReceiptsAllowed": True,
                          "SalesAllowed": True, "TransfersAllowed": True, "PickPriority": 1},
    "ItemWarehouse": {
        "DefaultIssueFrom": "SHIPPING", "DefaultReceiptTo": "RECEIVING",
        "InventoryAccount": "13000", "InventorySubaccount": "000000", "MaxQty": Q0, "MSRP": Q0,
        "OverrideInventoryAccountSubaccount": False, "OverridePreferredVendor": False,
        "OverridePrice": False, "OverrideReplenishmentSettings": False,
        "OverrideServiceLevel": False, "OverrideStandardCost": False,
        "OverrideProductManager": False, "OverrideMaxQty": False, "OverrideReorderPoint": False,
        "OverrideSafetyStock": False, "ReorderPoint": Q0, "ReplenishmentSource": "Purchase",
        "SafetyStock": Q0, "ServiceLevel": Decimal("50.000000"), "Status": "Active",
        "OverrideServiceLevelOverride": False,
    },
    "SalesOrder": {
        "Approved": False, "BaseCurrencyID": "USD", "BillToAddressOverride": False,
        "BillToAddressValidated": True, "BillToContactOverride": False, "CashAccount": "10200",
        "ControlTotal": D0, "CreditHold": False, "CurrencyID": "USD", "CurrencyRate": R1,
        "DisableAutomaticDiscountUpdate": False, "DisableAutomaticTaxCalculation": False,
        "Hold": False, "IsTaxValid": False, "LocationID": "MAIN", "OrderedQty": Q0,
        "OrderTotal": D0, "OrderType": "SO", "PaymentMethod": "CHECK", "Project": "X",
        "ReciprocalRate": R1, "ShipToAddressOverride": False, "ShipToAddressValidated": True,
        "ShipToContactOverride": False, "ShipVia": "TRUCK", "Status": "Open", "TaxTotal": D0,
        "WillCall": False, "ExternalOrderOriginal": False, "UsrExternalOrderOriginal": False,
        "TaxCalcMode": "Tax Settings", "Branch": "HEADOFFICE",
    },
    "SalesOrderDetail": {
        "Account": "40000", "Amount": D0, "AutoCreateIssue": False, "Branch": "HEADOFFICE",
        "Commissionable": True, "Completed": False, "DiscountAmount": D0,
        "DiscountedUnitPrice": Q0, "DiscountPercent": Q0, "ExtendedPrice": D0,
        "FreeItem": False, "LineType": "Goods for Inventory", "ManualDiscount": False,
        "MarkForPO": False, "OpenQty": Q0, "Operation": "Issue", "OrderQty": Q0,
        "OvershipThreshold": Decimal("100.000000"), "QtyOnShipments": Q0,
        "ShippingRule": "Cancel Remainder", "TaxCategory": "TAXABLE", "UnbilledAmount": D0,
        "UndershipThreshold": Decimal("100.000000"), "UnitCost": Q0, "UnitPrice": Q0,
        "UOM": "EA", "ManualPrice": False,
    },
    "SalesOrderPayment": {"AppliedToOrder": D0, "Authorize": False, "Balance": D0,
                          "Capture": False, "Currency": "USD", "DocType": "Payment",
                          "Hold": False, "PaymentAmount": D0, "Refund": False,
                          "SaveCard": False, "Status": "Balanced",
                          "TransferredtoInvoice": D0, "ValidateCCRefundOrigTransaction": False},
    "TaxDetail": {"IncludeInVATExemptTotal": False, "PendingVAT": False, "ReverseVAT": False,
                  "StatisticalVAT": False, "TaxableAmount": D0, "TaxAmount": D0,
                  "TaxRate": Q0, "TaxType": "Sales"},
    "Shipment": {
        "BaseCurrencyID": "USD", "ControlQty": Q0, "CurrencyRate": R1, "CurrencyViewState": False,
        "CreateNewShipmentForEveryOrder": False, "OverrideFreightPrice": False,
        "FreightPrice": D0, "FreightCost": D0, "FreightCurrencyID": "USD", "GroundCollect": False,
        "Hold": False, "Insurance": False, "LocationID": "MAIN", "Operation": "Issue",
        "PackageCount": 0, "PackageWeight": Q0, "Picked": False, "ReciprocalRate": R1,
        "ResidentialDelivery": False, "SaturdayDelivery": False, "ShippedQty": Q0,
        "ShippedVolume": Q0, "ShippedWeight": Q0, "Status": "Open", "Type": "Shipment",
        "UseCustomersAccount": False, "UnlimitedPackages": False, "FreightAmount": D0,
    },
    "ShipmentDetail": {"FreeItem": False, "OpenQty": Q0, "OrderedQty": Q0, "OriginalQty": Q0,
                       "ShippedQty": Q0, "UOM": "EA", "LocationID": "SHIPPING"},
    "ShipmentPackage": {"Confirmed": False, "CODAmount": D0, "DeclaredValue": D0,
                        "Type": "Manual", "UOM": "LB", "Weight": Q0},
    "ShipmentOrderDetail": {"ShipmentType": "Shipment", "ShippedQty": Q0, "ShippedVolume": Q0,
                            "ShippedWeight": Q0, "InventoryDocType": "Issue"},
    "SalesOrderShipment": {"ShipmentType": "Shipment", "ShippedQty": Q0, "ShippedVolume": Q0,
                           "ShippedWeight": Q0, "InventoryDocType": "Issue"},
    "ShipVia": {"CalculationMethod": "Manual", "CommonCarrier": True, "TaxCategory": "TAXABLE",
                "FreightExpenseAccount": "50100", "FreightSalesAccount": "40100"},
    "SalesInvoice": {"Amount": D0, "Balance": D0, "CashDiscount": D0, "CreditHold": False,
                     "Currency": "USD", "DetailTotal": D0, "DiscountTotal": D0,
                     "FreightPrice": D0, "Hold": False, "IsTaxValid": False,
                     "PaymentTotal": D0, "Project": "X", "Status": "Open", "TaxTotal": D0,
                     "Type": "Invoice", "TaxCalcMode": "Tax Settings",
                     "BillToAddressOverride": False, "BillToContactOverride": False,
                     "ShipToAddressOverride": False, "ShipToContactOverride": False},
    "SalesInvoiceDetail": {"Amount": D0, "DiscountAmount": D0, "DiscountPercent": Q0,
                           "ExtendedPrice": D0, "Qty": Q0, "UnitPrice": Q0, "UOM": "EA",
                           "ManualPrice": False},
    "Payment": {"AppliedToDocuments": D0, "CashAccount": "10200", "CurrencyID": "USD",
                "Hold": False, "PaymentAmount": D0, "PaymentMethod": "CHECK",
                "Status": "Open", "Type": "Payment", "SaveCard": False, "IsNewCard": False,
                "AvailableBalance": D0, "AppliedToOrders": D0, "IsCCPayment": False,
                "Branch": "HEADOFFICE", "BranchID": "HEADOFFICE", "CustomerLocationID": "MAIN"},
    "PaymentOrderDetail": {"AppliedToOrder": D0, "OrderType": "SO"},
    "InventorySummaryInquiry": {"ExpandByLotSerialNbr": False},
}

EMPTY = {}


def defaults(defname):
    """The default values of a definition (a dict; do not modify)."""
    return DEFAULTS.get(defname, EMPTY)


# ---------------------------------------------------------------------------
# Reference data every seeded company has.

SHIP_VIAS = (
    ("TRUCK", "Company truck", False),
    ("FEDEXGROUND", "FedEx Ground", True),
    ("UPSGROUND", "UPS Ground", True),
    ("USPSPRIORITY", "USPS Priority Mail", True),
    ("DHLEXPRESS", "DHL Express", True),
    ("LOCAL", "Local pickup", False),
)

WAREHOUSE_NAMES = ("MAIN", "WHOLESALE", "RETAIL", "EAST", "WEST", "NORTH", "SOUTH", "CENTRAL")

TAXES = (("CASALES", Decimal("7.250000")), ("NYSALES", Decimal("4.000000")),
         ("TXSALES", Decimal("6.250000")), ("WASALES", Decimal("6.500000")))
