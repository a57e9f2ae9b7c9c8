"""The contract of the Default endpoint: entities, fields and value types per version.

The data below was derived by reading the swagger documents of
Default/20.200.001, 22.200.001, 23.200.001 and 24.200.001 (Acumatica's
AcumaticaRESTAPIClientForCSharp, see ../shared/acumatica/README.md); it is the
project's own compact form, restricted to the entities the simulator serves and
every linked or detail entity reachable from them. tests/test_contract.py
checks it against the swagger files when ACUMATICA_CONTRACTS is present.

Notation (one definition per block, fields in the order the swagger lists them):
    <Definition>:
        <Field> <type> ...
where <type> is one letter for a value field
    s StringValue  b BooleanValue  i IntValue  h ShortValue  l LongValue
    d DecimalValue t DateTimeValue g GuidValue f DoubleValue y ByteValue
or ">Def" for a linked entity (a JSON object) and "*Def" for a detail entity
(a JSON array). The base catalogue is 22.200.001; each other version is a list
of changes: "-Field" removed, "+Field type" added, "~Field type" retyped,
"Def: !" the definition does not exist, "Def: = fields..." a definition only
that version has.

Everything that is not the shape of the contract (keys, numbering, forms,
defaults, drop-down values) lives in instance.py.
"""
import threading

VERSIONS = ("20.200.001", "22.200.001", "23.200.001", "24.200.001")
BASE_VERSION = "22.200.001"

WRAPPERS = {
    "s": "StringValue", "b": "BooleanValue", "i": "IntValue", "h": "ShortValue",
    "l": "LongValue", "d": "DecimalValue", "t": "DateTimeValue", "g": "GuidValue",
    "f": "DoubleValue", "y": "ByteValue",
}

# Top-level entities the simulator serves (the others in the catalogue are
# linked or detail entities reachable from these).
TOP_LEVEL = (
    "Customer", "Contact", "StockItem", "NonStockItem", "Warehouse", "ItemWarehouse",
    "InventoryQuantityAvailable", "InventorySummaryInquiry", "SalesOrder", "Shipment",
    "ShipVia", "SalesInvoice", "Payment",
)

_CATALOGUE_22 = """
Customer:
    AccountRef s  ApplyOverdueCharges b  Attributes *AttributeValue  AutoApplyPayments b
    BAccountID i  BillingAddressOverride b  BillingContact >Contact  BillingContactOverride b
    Contacts *CustomerContact  CreatedDateTime t
    CreditVerificationRules >CreditVerificationRules  CurrencyID s  CurrencyRateType s
    CustomerClass s  CustomerID s  CustomerName s  EnableCurrencyOverride b  EnableRateOverride b
    EnableWriteOffs b  FOBPoint s  LastModifiedDateTime t  LeadTimedays h  LocationName s
    MainContact >Contact  MultiCurrencyStatements b  OrderPriority h  ParentRecord s
    PaymentInstructions *BusinessAccountPaymentInstructionDetail  PriceClassID s
    PrimaryContact >Contact  PrintDunningLetters b  PrintInvoices b  PrintStatements b
    ResidentialDelivery b  Salespersons *CustomerSalesPerson  SaturdayDelivery b
    SendDunningLettersbyEmail b  SendInvoicesbyEmail b  SendStatementsbyEmail b
    ShippingAddressOverride b  ShippingBranch s  ShippingContact >Contact
    ShippingContactOverride b  ShippingRule s  ShippingTerms s  ShippingZoneID s  ShipVia s
    StatementCycleID s  StatementType s  Status s  TaxRegistrationID s  TaxZone s  Terms s
    WarehouseID s  WriteOffLimit d  RestrictVisibilityTo s  CreditLimit d  NoteID g
    EntityUsageType s  TaxExemptionNumber s  IsGuestCustomer b
Contact:
    Active b  Activities *ActivityDetail  Address >Address  OverrideAccountAddress b
    AddressValidated b  Attention s  Attributes *AttributeValue  BusinessAccount s
    Campaigns *CampaignDetail  Cases *CaseDetail  CompanyName s  ContactClass s  ContactID i
    ContactMethod s  ConvertedBy s  DateOfBirth t  DisplayName s  DoNotCall b  DoNotEmail b
    DoNotFax b  DoNotMail b  Duplicate s  DuplicateFound b  Duplicates *ContactDuplicateDetail
    Email s  Fax s  FaxType s  FirstName s  Gender s  Image s  JobTitle s  LanguageOrLocale s
    LastIncomingActivity t  LastModifiedDateTime t  LastName s  LastOutgoingActivity t
    MaritalStatus s  MarketingLists *MarketingListDetail  MiddleName s  NoMarketing b
    NoMassMail b  Notifications *ContactNotification  Opportunities *OpportunityDetail  Owner s
    OwnerEmployeeName s  ParentAccount s  Phone1 s  Phone1Type s  Phone2 s  Phone2Type s
    Phone3 s  Phone3Type s  QualificationDate t  Reason s  Relations *RelationDetail  Source s
    SourceCampaign s  SpouseOrPartnerName s  Status s  Synchronize b  Title s  Type s
    UserInfo >ContactUserInfo  WebSite s  Workgroup s  WorkgroupDescription s  NoteID g
    FullName s  OverrideSalesTerritory b  SalesTerritoryID s
StockItem:
    ABCCode s  Attributes *AttributeValue  AutoIncrementalValue s  AverageCost d  BaseUOM s
    Boxes *BoxStockItem  Categories *CategoryStockItem  COGSAccount s  COGSSubaccount s
    Content s  CountryOfOrigin s  CrossReferences *InventoryItemCrossReference  CurrentStdCost d
    DefaultIssueLocationID s  DefaultPrice d  DefaultReceiptLocationID s  DefaultSubitem s
    DefaultWarehouseID s  DeferralAccount s  DeferralSubaccount s  Description s
    DimensionVolume d  DimensionWeight d  DiscountAccount s  DiscountSubaccount s  ImageUrl s
    InventoryAccount s  InventoryID s  InventorySubaccount s  IsAKit b  ItemClass s  ItemStatus s
    ItemType s  LandedCostVarianceAccount s  LandedCostVarianceSubaccount s  LastCost d
    LastModified t  LastStdCost d  LotSerialClass s  Markup d  MaxCost d  MinCost d  MinMarkup d
    MSRP d  PackagingOption s  PackSeparately b  PendingStdCost d  POAccrualAccount s
    POAccrualSubaccount s  PostingClass s  PriceClass s  PriceManager s  PriceWorkgroup s
    ProductManager s  ProductWorkgroup s  PurchasePriceVarianceAccount s
    PurchasePriceVarianceSubaccount s  PurchaseUOM s  ReasonCodeSubaccount s
    ReplenishmentParameters *ReplenishmentParameterStockItem  SalesAccount s  SalesSubaccount s
    SalesUOM s  StandardCostRevaluationAccount s  StandardCostRevaluationSubaccount s
    StandardCostVarianceAccount s  StandardCostVarianceSubaccount s  SubItems *SubItemStockItem
    SubjectToCommission b  TaxCategory s  TariffCode s
    UOMConversions *InventoryItemUOMConversion  UseOnEntry b  ValuationMethod s
    VendorDetails *StockItemVendorDetail  VolumeUOM s  WarehouseDetails *StockItemWarehouseDetail
    WeightUOM s  CurySpecificMSRP d  CurySpecificPrice d  Availability s  CustomURL s
    ExportToExternal b  FileURLs *InventoryFileUrls  MetaDescription s  MetaKeywords s  NoteID g
    PageTitle s  SearchKeywords s  TemplateItemID s  Visibility s  NotAvailable s
NonStockItem:
    Attributes *AttributeValue  BaseUnit s  CrossReferences *InventoryItemCrossReference
    CurrentCost d  DefaultPrice d  DeferralAccount s  DeferralSubaccount s  Description s
    EffectiveDate t  ExpenseAccount s  ExpenseAccrualAccount s  ExpenseAccrualSubaccount s
    ExpenseSubaccount s  InventoryID s  IsKit b  ItemClass s  ItemStatus s  ItemType s
    LastCost d  LastModifiedDateTime t  PendingCost d  PendingCostDate t  POAccrualAccount s
    POAccrualSubaccount s  PostingClass s  PriceClass s  PurchasePriceVarianceAccount s
    PurchasePriceVarianceSubaccount s  PurchaseUnit s  ReasonCodeSubaccount s  RequireReceipt b
    RequireShipment b  SalesAccount s  SalesCategories *NonStockItemSalesCategory
    SalesSubaccount s  SalesUnit s  TaxCategory s  VendorDetails *NonStockItemVendorDetail
    Volume d  VolumeUOM s  Weight d  WeightUOM s  CurySpecificMSRP d  CurySpecificPrice d
    Availability s  ExportToExternal b  Categories *CategoryStockItem  Content s
    CurrentStdCost d  CustomURL s  DimensionWeight d  FileUrls *InventoryFileUrls
    MetaDescription s  MetaKeywords s  MSRP d  NoteID g  PageTitle s  SearchKeywords s
    TemplateItemID s  Visibility s
Warehouse:
    Active b  COGSExpenseAccount s  COGSExpenseSubaccount s  Description s  DiscountAccount s
    DiscountSubaccount s  DropShipLocationID s  FreightChargeAccount s  FreightChargeSubaccount s
    InventoryAccount s  InventorySubaccount s  LandedCostVarianceAccount s
    LandedCostVarianceSubaccount s  Locations *WarehouseLocation  MiscChargeAccount s
    MiscChargeSubaccount s  OverrideInventoryAccountSubaccount b  POAccrualAccount s
    POAccrualSubaccount s  PurchasePriceVarianceAccount s  PurchasePriceVarianceSubaccount s
    ReasonCodeSubaccount s  ReceivingLocationID s  RMALocationID s  SalesAccount s
    SalesSubaccount s  ShippingLocationID s  StandardCostRevaluationAccount s
    StandardCostRevaluationSubaccount s  StandardCostVarianceAccount s
    StandardCostVarianceSubaccount s  WarehouseID s
ItemWarehouse:
    CreatedDateTime t  DefaultIssueFrom s  DefaultReceiptTo s  DefaultSubitem s
    InventoryAccount s  InventoryID s  InventorySubaccount s  LastModifiedDateTime t  MaxQty d
    MSRP d  OverrideInventoryAccountSubaccount b  OverridePreferredVendor b  OverridePrice b
    OverrideReplenishmentSettings b  OverrideServiceLevel b  OverrideStandardCost b
    OverrideProductManager b  OverrideMaxQty b  OverrideReorderPoint b  OverrideSafetyStock b
    PreferredLocation s  PreferredVendor s  ProductManager s  ProductWorkgroup s  ReorderPoint d
    ReplenishmentClass s  ReplenishmentMethod s  ReplenishmentSource s  ReplenishmentWarehouse s
    SafetyStock d  Seasonality s  ServiceLevel d  Status s  WarehouseID s
InventoryQuantityAvailable:
    InventoryID s  Results *InventoryQuantityAvailableDetail  LastModifiedDateTime t
InventorySummaryInquiry:
    ExpandByLotSerialNbr b  InventoryID s  LocationID s  Results *InventorySummaryRow  Subitem s
    WarehouseID s
SalesOrder:
    Approved b  BaseCurrencyID s  BillToAddress >Address  BillToAddressOverride b
    BillToAddressValidated b  BillToContact >DocContact  BillToContactOverride b  CashAccount s
    Commissions >Commissions  ContactID s  ControlTotal d  CreditHold b  CurrencyID s
    CurrencyRate d  CurrencyRateTypeID s  CustomerID s  CustomerOrder s  Date t  Description s
    DestinationWarehouseID s  Details *SalesOrderDetail  DisableAutomaticDiscountUpdate b
    DiscountDetails *SalesOrdersDiscountDetails  EffectiveDate t  ExternalRef s
    FinancialSettings >FinancialSettings  Hold b  IsTaxValid b  LastModified t  LocationID s
    OrderedQty d  OrderNbr s  OrderTotal d  OrderType s  PaymentMethod s
    Payments *SalesOrderPayment  PreferredWarehouseID s  Project s  ReciprocalRate d
    RequestedOn t  Shipments *SalesOrderShipment  ShippingSettings >ShippingSettings
    ShipToAddress >Address  ShipToAddressOverride b  ShipToAddressValidated b
    ShipToContact >DocContact  ShipToContactOverride b  ShipVia s  Status s
    TaxDetails *TaxDetail  TaxTotal d  Totals >Totals  VATExemptTotal d  VATTaxableTotal d
    ExternalOrderOriginal b  ExternalRefundRef s  WillCall b  PaymentRef s  NoteID g
    UsrExternalOrderOriginal b  ExternalOrderOrigin s  ExternalOrderSource s  TaxCalcMode s
    CreatedDate t  DisableAutomaticTaxCalculation b
Shipment:
    BaseCurrencyID s  ControlQty d  CreatedDateTime t  CurrencyRate d  CurrencyRateTypeID s
    CurrencyViewState b  CustomerID s  CreateNewShipmentForEveryOrder b  Details *ShipmentDetail
    Description s  EffectiveDate t  FOBPoint s  OverrideFreightPrice b  FreightPrice d
    FreightCost d  FreightCurrencyID s  GroundCollect b  Hold b  Insurance b
    LastModifiedDateTime t  LocationID s  Operation s  Orders *ShipmentOrderDetail  Owner s
    PackageCount i  Packages *ShipmentPackage  PackageWeight d  Picked b  ReciprocalRate d
    ResidentialDelivery b  SaturdayDelivery b  ShipmentDate t  ShipmentNbr s  ShippedQty d
    ShippedVolume d  ShippedWeight d  ShippingSettings >ShipToSettings  ShippingTerms s
    ShippingZoneID s  ShipVia s  Status s  ToWarehouseID s  Type s  UseCustomersAccount b
    WarehouseID s  WorkgroupID s  NoteID g
ShipVia:
    CalculationMethod s  Calendar s  CarrierID s  CommonCarrier b  Description s
    FreightExpenseAccount s  FreightExpenseSubaccount s  FreightRates *ShipViaFreightRate
    FreightSalesAccount s  FreightSalesSubaccount s  Packages *ShippingBox  TaxCategory s
SalesInvoice:
    Amount d  ApplicationsCreditMemo *SalesInvoiceApplicationCreditMemo
    ApplicationsInvoice *SalesInvoiceApplicationInvoice  Balance d
    BillingSettings >BillToSettings  CashDiscount d  Commissions >SalesInvoiceCommissions
    CreditHold b  Currency s  CustomerID s  CustomerOrder s  Date t  Description s
    Details *SalesInvoiceDetail  DetailTotal d  DiscountDetails *SalesInvoiceDiscountDetails
    DiscountTotal d  DueDate t  IsTaxValid b  FinancialDetails >SalesInvoiceFinancialDetails
    FreightDetails *SalesInvoiceFreightDetail  FreightPrice d  Hold b  PaymentTotal d  Project s
    ReferenceNbr s  Status s  TaxDetails *SalesInvoiceTaxDetail  TaxTotal d  Type s
    VATExemptTotal d  VATTaxableTotal d
Payment:
    ApplicationDate t  ApplicationHistory *PaymentApplicationHistoryDetail  AppliedToDocuments d
    Branch s  CardAccountNbr i  CashAccount s
    CreditCardProcessingInfo *CreditCardProcessingDetail  CurrencyID s  CustomerID s
    Description s  DocumentsToApply *PaymentDetail  Hold b  OrdersToApply *PaymentOrderDetail
    PaymentAmount d  PaymentMethod s  PaymentRef s  ReferenceNbr s  Status s  Type s
    LastModifiedDateTime t  ProcessingCenterID s  SaveCard b
    CreditCardTransactionInfo *CreditCardTransactionDetail  ExternalRef s  OrigTransaction s
    BranchID s  CustomerLocationID s  IsNewCard b  NoteID g  AvailableBalance d
    AppliedToOrders d
AttributeValue:
    AttributeID s  AttributeDescription s  RefNoteID g  Required b  Value s  ValueDescription s
CustomerContact:
    Contact >Contact  ContactID i
CreditVerificationRules:
    CreditDaysPastDue h  CreditLimit d  CreditVerification s  FirstDueDate t  OpenOrdersBalance d
    RemainingCreditLimit d  UnreleasedBalance d
BusinessAccountPaymentInstructionDetail:
    Description s  LocationID i  PaymentInstructionsID s  PaymentMethod s  Value s
CustomerSalesPerson:
    Commission d  Default b  LocationID s  LocationName s  Name s  SalespersonID s
ActivityDetail:
    Billable b  Overtime s  BillableOvertime s  BillableTime s  Category s  CostCode s
    CreatedDateTime t  LastModifiedDateTime t  CreatedByID s  NoteID g  Owner s  Project s
    ProjectTask s  RefNoteID g  Released b  StartDate t  Status s  Summary s  TimeSpent s  Type s
    WorkgroupID s
Address:
    AddressLine1 s  AddressLine2 s  City s  Country s  PostalCode s  State s  Validated b
CampaignDetail:
    CampaignID s  CampaignName s  ContactID i  Stage s
CaseDetail:
    CaseID s  ClassID s  ClosingDate t  DateReported t  Estimation s  InitialResponse s  Owner s
    Reason s  Severity s  Status s  Subject s  Workgroup s
ContactDuplicateDetail:
    BusinessAccount s  BusinessAccountName s  BusinessAccountType s  DisplayName s  Duplicate s
    Email s  LastModifiedDate t  Type s
MarketingListDetail:
    ContactID i  DynamicList b  Format s  ListName s  MarketingListID i  Subscribed b
ContactNotification:
    Active b  Bcc b  ClassID s  Description s  Format s  MailingID s  Module s  NotificationID i
    Report s  Source s
OpportunityDetail:
    Currency s  DisplayName s  Estimation t  Owner s  Probability i  Stage s  Status s  Subject s
    Total d  Workgroup s
RelationDetail:
    Account s  AddToCc b  ContactDisplayName s  ContactID i  Document g
    DocumentTargetNoteIDDescription s  Email s  Name s  Primary b  RelationID i  Role s  Type s
    Status s  Description s  OwnerID i
ContactUserInfo:
    GeneratePassword b  Login s  Password s  Roles *ContactRoles  Status s  UserType s
BoxStockItem:
    BoxID s  Description s  MaxQty d  MaxVolume d  MaxWeight d  Qty d  UOM s
CategoryStockItem:
    CategoryID i
InventoryItemCrossReference:
    AlternateID s  AlternateType s  Description s  Subitem s  VendorOrCustomer s  UOM s
ReplenishmentParameterStockItem:
    DemandForecastModel s  ForecastPeriodType s  LaunchDate t  MaxQty d  MaxShelfLifeInDays i
    Method s  PeriodsToAnalyze i  ReorderPoint d  ReplenishmentClass s  ReplenishmentWarehouse s
    SafetyStock d  Seasonality s  ServiceLevel d  Source s  TerminationDate t  TransferERQ d
SubItemStockItem:
    Active b  Description s  SegmentID h  Value s
InventoryItemUOMConversion:
    ConversionFactor d  FromUOM s  MultiplyOrDivide s  ToUOM s
StockItemVendorDetail:
    Active b  AddLeadTimeDays h  CurrencyID s  Default b  EOQ d  LastVendorPrice d
    LeadTimeDays h  Location s  LotSize d  MaxOrderQty d  MinOrderFrequencyInDays i
    MinOrderQty d  Override b  PurchaseUnit s  RecordID i  Subitem s  VendorID s  VendorName s
    Warehouse s
StockItemWarehouseDetail:
    DailyDemandForecast d  DailyDemandForecastErrorSTDEV d  DefaultIssueLocationID s
    DefaultReceiptLocationID s  InventoryAccount s  InventorySubaccount s  IsDefault b
    LastForecastDate t  Override b  OverridePreferredVendor b  OverrideReplenishmentSettings b
    OverrideStdCost b  PreferredVendor s  PriceOverride b  ProductManager s  ProductWorkgroup s
    QtyOnHand d  ReplenishmentSource s  ReplenishmentWarehouse s  Seasonality s  ServiceLevel d
    Status s  WarehouseID s
InventoryFileUrls:
    FileType s  FileURL s  NoteID g
NonStockItemSalesCategory:
    CategoryID i
NonStockItemVendorDetail:
    VendorID s  VendorName s  Default b
WarehouseLocation:
    Active b  AssemblyAllowed b  Description s  LocationID s  PickPriority h  ReceiptsAllowed b
    SalesAllowed b  TransfersAllowed b
InventoryQuantityAvailableDetail:
    InventoryID s  LastModifiedDateTime t  QtyAvailable d
InventorySummaryRow:
    BaseUOM s  EstimatedTotalCost d  EstimatedUnitCost d  ExpirationDate t  LocationID s
    LotSerialNbr s  QtyAvailable d  QtyAvailableForShipment d  QtyNotAvailable d  QtyOnHand d
    Subitem s  WarehouseID s
DocContact:
    Attention s  BusinessName s  Email s  Phone1 s
Commissions:
    DefaultSalesperson s  SalesPersons *SalesPersonDetail
SalesOrderDetail:
    Account s  Allocations *SalesOrderDetailAllocation  AlternateID s  Amount d
    AutoCreateIssue b  AverageCost d  Branch s  CalculateDiscountsOnImport b  Commissionable b
    Completed b  CostCode s  CustomerOrderNbr s  DiscountAmount d  DiscountCode s
    DiscountedUnitPrice d  DiscountPercent d  ExtendedPrice d  FreeItem b  InventoryID s
    InvoiceLineNbr i  InvoiceNbr s  InvoiceType s  LastModifiedDate s  LineDescription s
    LineNbr i  LineType s  Location s  ManualDiscount b  MarkForPO b  OpenQty d  Operation s
    OrderQty d  OvershipThreshold d  POSource s  ProjectTask s  PurchaseWarehouse s
    PurchasingDetails *PurchasingDetail  VendorID s  QtyOnShipments d  ReasonCode s
    RequestedOn t  SalespersonID s  SchedOrderDate t  ShipOn t  ShippingRule s  ShipToLocation s
    Subitem s  TaxCategory s  TaxZone s  UnbilledAmount d  UndershipThreshold d  UnitCost d
    UnitPrice d  UOM s  WarehouseID s  AssociatedOrderLineNbr i  GiftMessage s  ManualPrice b
    LotSerialNbr s  NoteID g  ExternalRef s
SalesOrdersDiscountDetails:
    Description s  DiscountableAmount d  DiscountableQty d  DiscountAmount d  DiscountCode s
    DiscountPercent d  ExternalDiscountCode s  FreeItem s  FreeItemQty d  ManualDiscount b
    SequenceID s  SkipDiscount b  Type s
FinancialSettings:
    BillSeparately b  Branch s  CashDiscountDate t  CustomerTaxZone s  DueDate t
    EntityUsageType s  InvoiceDate t  InvoiceNbr s  OriginalOrderNbr s  OriginalOrderType s
    OverrideTaxZone b  Owner s  PostPeriod s  Terms s
SalesOrderPayment:
    ApplicationDate t  AppliedToOrder d  Authorize b  Balance d  CardAccountNbr s  Capture b
    CashAccount s  Currency s  CreditCardTransactionInfo *SalesOrderCreditCardTransactionDetail
    Description s  DocType s  Hold b  LastModifiedDateTime t  OrigTransactionNbr s
    PaymentAmount d  PaymentMethod s  PaymentRef s  ProcessingCenterID s  ReferenceNbr s
    Refund b  SaveCard b  Status s  TransferredtoInvoice d  ValidateCCRefundOrigTransaction b
    ExternalRef s  NoteID g
SalesOrderShipment:
    InventoryDocType s  InventoryRefNbr s  InvoiceNbr s  InvoiceType s  ShipmentDate t
    ShipmentNbr s  ShipmentType s  ShippedQty d  ShippedVolume d  ShippedWeight d  Status s
    InventoryNoteID g  LastModifiedDateTime t  OrderNoteID g  ShippingNoteID g
ShippingSettings:
    CancelByDate t  Canceled b  FOBPoint s  GroundCollect b  Insurance b  PreferredWarehouseID s
    Priority h  ResidentialDelivery b  SaturdayDelivery b  ScheduledShipmentDate t
    ShippingRule s  ShippingTerms s  ShippingZone s  ShipSeparately b  ShipVia s
    ShopForRates >ShopForRates  UseCustomersAccount b  FreightPrice d  FreightCost d
    FreightCostIsuptodate b  FreightTaxCategory s  OrderVolume d  OrderWeight d
    OverrideFreightPrice b  PackageWeight d  PremiumFreight d
TaxDetail:
    CustomerTaxZone s  IncludeInVATExemptTotal b  LineNbr i  OrderNbr s  OrderType s
    PendingVAT b  RecordID i  ReverseVAT b  StatisticalVAT b  TaxableAmount d  TaxAmount d
    TaxID s  TaxRate d  TaxType s
Totals:
    DiscountTotal d  LineTotalAmount d  MiscTotalAmount d  TaxTotal d  UnbilledAmount d
    UnbilledQty d  UnpaidBalance d  Freight d  FreightCost d  FreightCostIsuptodate b
    FreightTaxCategory s  OrderVolume d  OrderWeight d  PackageWeight d  PremiumFreight d
    OverrideFreightAmount b
ShipmentDetail:
    Allocations *ShipmentDetailAllocation  Description s  ExpirationDate t  FreeItem b
    InventoryID s  LineNbr i  LocationID s  LotSerialNbr s  OpenQty d  OrderedQty d
    OrderLineNbr i  OrderNbr s  OrderType s  OriginalQty d  ReasonCode s  ShippedQty d  Subitem s
    UOM s  WarehouseID s
ShipmentOrderDetail:
    InventoryDocType s  InventoryRefNbr s  InvoiceNbr s  InvoiceType s  OrderNbr s  OrderType s
    ShipmentNbr s  ShipmentType s  ShippedQty d  ShippedVolume d  ShippedWeight d  OrderNoteID g
ShipmentPackage:
    BoxID s  CODAmount d  Confirmed b  CustomRefNbr1 s  CustomRefNbr2 s  DeclaredValue d
    Description s  TrackingNbr s  Type s  UOM s  Weight d  Length d  Width d  Height d
    PackageContents *ShipmentPackageDetail  LineNbr i  NoteID g
ShipToSettings:
    ShipToAddress >Address  ShipToAddressOverride b  ShipToContact >DocContact
    ShipToContactOverride b  Validated b
ShipViaFreightRate:
    LineNbr i  Rate d  Volume d  Weight d  ZoneID s
ShippingBox:
    ActiveByDefault b  BoxID s  BoxWeight d  CarriersPackage s  Description s  Height d  Length d
    MaxVolume d  MaxWeight d  VolumeUOM s  WeightUOM s  Width d  LinearUOM s
SalesInvoiceApplicationCreditMemo:
    AmountPaid d  Balance d  Currency s  Customer s  CustomerOrder s  Date t  Description s
    DocType s  PostPeriod s  ReferenceNbr s  Status s
SalesInvoiceApplicationInvoice:
    AdjustedDocReferenceNbr s  AdjustingDocReferenceNbr s  AdjustmentNbr i  AmountPaid d
    Balance d  CashDiscountTaken d  Currency s  Customer s  Description s  DocType s
    DocumentType s  PaymentDate t  PaymentPeriod s  PaymentRef s  Status s
BillToSettings:
    BillToAddress >Address  BillToAddressOverride b  BillToContact >DocContact
    BillToContactOverride b  CustomerLocation s
SalesInvoiceCommissions:
    CommissionAmount d  SalesPersons *SalesInvoiceSalesPersonDetail  TotalCommissionableAmount d
SalesInvoiceDetail:
    Amount d  BranchID s  CalculateDiscountsOnImport b  CostCode s  Description s
    DiscountAmount d  DiscountPercent d  ExpirationDate t  InventoryDocType s  InventoryID s
    InventoryRefNbr s  LineNbr i  Location s  LotSerialNbr s  ManualDiscount b  OrderLineNbr i
    OrderNbr s  OrderType s  OrigInvLineNbr i  OrigInvNbr s  OrigInvType s  ProjectTask s  Qty d
    ShipmentNbr s  Subitem s  TaxCategory s  TransactionDescr s  UnitPrice d  UOM s
    WarehouseID s
SalesInvoiceDiscountDetails:
    Description s  DiscountableAmount d  DiscountableQty d  DiscountAmount d  DiscountCode s
    DiscountPercent d  ExternalDiscountCode s  FreeItem s  FreeItemQty d  ManualDiscount b
    OrderNbr s  OrderType s  SequenceID s  SkipDiscount b  Type s
SalesInvoiceFinancialDetails:
    BatchNbr s  Branch s  CustomerTaxZone s
SalesInvoiceFreightDetail:
    Description s  FreightAmount d  FreightCost d  LineTotal d  PremiumFreightAmount d
    ShipmentNbr s  ShipmentType s  TotalFreightAmount d  Volume d  Weight d
SalesInvoiceTaxDetail:
    TaxableAmount d  TaxAmount d  TaxID s
PaymentApplicationHistoryDetail:
    AdjustedDocType s  AdjustedRefNbr s  AdjustingDocType s  AdjustingRefNbr s  AdjustmentNbr i
    AdjustsVAT b  AmountPaid d  ApplicationPeriod s  Balance d  BalanceWriteOff d  BatchNbr s
    CashDiscountBalance d  CashDiscountDate t  CashDiscountTaken d  CurrencyID s  Customer s
    CustomerOrder s  Date t  Description s  DisplayDocType s  DisplayRefNbr s  DueDate t
    PostPeriod s  VATCreditMemo s
CreditCardProcessingDetail:
    TransactionAmount d  TransactionStatus s
PaymentDetail:
    AmountPaid d  BalanceWriteOff d  CashDiscountTaken d  CustomerOrder s  Description s
    DocLineNbr i  DocType s  ReferenceNbr s  WriteOffReasonCode s
PaymentOrderDetail:
    AppliedToOrder d  OrderNbr s  OrderType s
CreditCardTransactionDetail:
    TranNbr s  TranType s  AuthNbr s  TranDate t  ExtProfileId s  NeedValidation b  OrigTranNbr s
    ExpirationDate t  CardType s
ContactRoles:
    RoleDescription s  RoleName s  Selected b  UserType i
SalesPersonDetail:
    CommissionableAmount d  CommissionAmount d  CommissionPercent d  SalespersonID s
SalesOrderDetailAllocation:
    Allocated b  AllocWarehouseID s  Completed b  CustomerOrderNbr s  ExpirationDate t
    InventoryID s  LineNbr i  LocationID s  LotSerialNbr s  OrderNbr s  OrderType s  Qty d
    QtyOnShipments d  QtyReceived d  RelatedDocument s  SchedOrderDate t  ShipOn t
    SplitLineNbr i  Subitem s  UOM s
PurchasingDetail:
    POOrderLineNbr i  POOrderNbr s  POOrderType s  Selected b
SalesOrderCreditCardTransactionDetail:
    AuthNbr s  ExtProfileId s  NeedValidation b  TranDate t  TranNbr s  TranType s  CardType s
ShopForRates:
    IsManualPackage b  OrderWeight d  PackageWeight d
ShipmentDetailAllocation:
    Description s  ExpirationDate t  InventoryID s  LocationID s  LotSerialNbr s  OrderNbr s
    OrderType s  Qty d  Subitem s  SplitLineNbr i  UOM s
ShipmentPackageDetail:
    InventoryID s  LotSerialNbr s  OrigOrderNbr s  OrigOrderType s  Quantity d
    ShipmentSplitLineNbr i  Subitem s  UOM s
SalesInvoiceSalesPersonDetail:
    CommissionableAmount d  CommissionAmount d  CommissionPercent d  SalespersonID s
"""

_DELTAS = {
    "20.200.001": """
Customer: -BAccountID -RestrictVisibilityTo -CreditLimit -NoteID -EntityUsageType -TaxExemptionNumber -IsGuestCustomer
Contact: -FullName -OverrideSalesTerritory -SalesTerritoryID
StockItem: -CountryOfOrigin -TariffCode -CurySpecificMSRP -CurySpecificPrice -Availability -CustomURL -ExportToExternal -FileURLs -MetaDescription -MetaKeywords -NoteID -PageTitle -SearchKeywords -TemplateItemID -Visibility -NotAvailable
NonStockItem: -CurySpecificMSRP -CurySpecificPrice -Availability -ExportToExternal -Categories -Content -CurrentStdCost -CustomURL -DimensionWeight -FileUrls -MetaDescription -MetaKeywords -MSRP -NoteID -PageTitle -SearchKeywords -TemplateItemID -Visibility
ItemWarehouse: -MaxQty -OverrideServiceLevel -OverrideMaxQty -OverrideReorderPoint -OverrideSafetyStock -ReorderPoint -SafetyStock +OverrideServiceLevelOverride b
InventoryQuantityAvailable: !
SalesOrder: -ExternalOrderOriginal -ExternalRefundRef -WillCall -PaymentRef -NoteID -UsrExternalOrderOriginal -ExternalOrderOrigin -ExternalOrderSource -TaxCalcMode -CreatedDate -DisableAutomaticTaxCalculation +Relations *RelationDetail
Shipment: -FreightPrice -NoteID +FreightAmount d
SalesInvoice: -IsTaxValid
Payment: -ExternalRef -OrigTransaction -BranchID -CustomerLocationID -IsNewCard -NoteID -AvailableBalance -AppliedToOrders
RelationDetail: -Status -Description -OwnerID
InventoryItemCrossReference: -UOM
InventoryFileUrls: !
NonStockItemVendorDetail: -Default
InventoryQuantityAvailableDetail: !
SalesOrderDetail: -InvoiceLineNbr -InvoiceNbr -InvoiceType -PurchaseWarehouse -PurchasingDetails -VendorID -AssociatedOrderLineNbr -GiftMessage -ManualPrice -LotSerialNbr -NoteID -ExternalRef +PurchasingSettings >PurchaseSettings
SalesOrderPayment: -ExternalRef -NoteID
SalesOrderShipment: -InventoryNoteID -LastModifiedDateTime -OrderNoteID -ShippingNoteID
ShippingSettings: -FreightPrice -OverrideFreightPrice +Freight d
Totals: -Freight -FreightCost -FreightCostIsuptodate -FreightTaxCategory -OrderVolume -OrderWeight -PackageWeight -PremiumFreight -OverrideFreightAmount
ShipmentOrderDetail: -OrderNoteID
ShipmentPackage: -Length -Width -Height -LineNbr -NoteID
ShippingBox: -LinearUOM
CreditCardTransactionDetail: -OrigTranNbr -ExpirationDate -CardType
PurchasingDetail: !
SalesOrderCreditCardTransactionDetail: -CardType
ShipmentDetailAllocation: -SplitLineNbr
ShipmentPackageDetail: -OrigOrderNbr -OrigOrderType
PurchaseSettings: = POSiteID s POSource s VendorID s
""",
    "23.200.001": """
Customer: +Email s +PrimaryContactID i +CustomerCategory s
Contact: -OverrideSalesTerritory -SalesTerritoryID +RoleAssignments *BCRoleAssignment
StockItem: -SubItems
Warehouse: +LastModifiedDateTime t +NonStockPickingLocationID s +UseItemDefaultLocationForPicking b
SalesOrder: +Branch s +MaxRiskScore d +OrderRisks *OrderRisks +Relations *RelationDetail
SalesInvoice: +LastModifiedDateTime t
Payment: +Charges *PaymentCharge +IsCCPayment b
CustomerContact: +LastModifiedDateTime t
RelationDetail: -Status -Description -OwnerID +DocumentDate t
SubItemStockItem: !
BCRoleAssignment: = RoleAssignmentID i BAccountID i ContactID i LocationCD s Role s CreatedDateTime t LastModifiedDateTime t
OrderRisks: = Message s Recommendation s Score d
PaymentCharge: = AccountID s Amount d Description s DocType s EntryTypeID s LineNbr i RefNbr s SubID s
""",
    "24.200.001": """
Customer: +CustomerCategory s +Email s +PrimaryContactID i
Contact: -OverrideSalesTerritory -SalesTerritoryID +RoleAssignments *BCRoleAssignment +ExtRefNbr s
StockItem: -SubItems +LastModifiedDateTime t
NonStockItem: +IsAKit b
Warehouse: +LastModifiedDateTime t +NonStockPickingLocationID s +UseItemDefaultLocationForPicking b
SalesOrder: +Branch s +MaxRiskScore d +OrderRisks *OrderRisks +Relations *RelationDetail
Shipment: +UnlimitedPackages b
SalesInvoice: +LastModifiedDateTime t +BillToAddress >SalesInvoiceAddress +BillToAddressOverride b +BillToContact >SalesInvoiceDocContact +BillToContactOverride b +CreatedDate t +ExternalRef s +LastModifiedDate t +ShipToAddress >SalesInvoiceAddress +ShipToAddressOverride b +ShipToContact >SalesInvoiceDocContact +ShipToContactOverride b +TaxCalcMode s
Payment: +Charges *PaymentCharge +IsCCPayment b
AttributeValue: +IsActive b
CustomerContact: +LastModifiedDateTime t
RelationDetail: -Status -Description -OwnerID +DocumentDate t
SubItemStockItem: !
NonStockItemVendorDetail: +RecordID i
SalesInvoiceDetail: +Account s +ExternalRef s +ManualPrice b +NoteID g +SubAccount s
BCRoleAssignment: = RoleAssignmentID i BAccountID i ContactID i LocationCD s Role s CreatedDateTime t LastModifiedDateTime t
OrderRisks: = Message s Recommendation s Score d
SalesInvoiceAddress: = AddressLine1 s AddressLine2 s City s Country s PostalCode s State s
SalesInvoiceDocContact: = Attention s BusinessName s Email s Phone1 s
PaymentCharge: = AccountID s Amount d Description s DocType s EntryTypeID s LineNbr i RefNbr s SubID s
""",
}


class Field:
    """One field of a definition: a value field, a linked entity or a detail list."""
    __slots__ = ("name", "code", "target", "kind", "wrapper")

    def __init__(self, name, typ):
        self.name = name
        if typ[0] == ">":
            self.kind, self.code, self.target, self.wrapper = "linked", ">", typ[1:], typ[1:]
        elif typ[0] == "*":
            self.kind, self.code, self.target, self.wrapper = "detail", "*", typ[1:], typ[1:]
        elif typ in WRAPPERS:
            self.kind, self.code, self.target, self.wrapper = "value", typ, None, WRAPPERS[typ]
        else:
            raise ValueError("unknown field type %r for %s" % (typ, name))

    def __repr__(self):
        return "Field(%s %s)" % (self.name, self.code if self.kind == "value" else self.code + self.target)


class Definition:
    """The fields of one entity definition in one endpoint version, in contract order."""

    def __init__(self, name, fields):
        self.name = name
        self.fields = list(fields)
        self.by_name = {f.name: f for f in self.fields}
        # Case-insensitive lookup: Acumatica matches field names in $select,
        # $expand and $filter without regard to case.
        self.by_lower = {f.name.lower(): f for f in self.fields}

    def field(self, name):
        """The Field called `name` (exact, else case-insensitive), or None."""
        f = self.by_name.get(name)
        if f is None:
            f = self.by_lower.get(name.lower())
        return f


def _parse_fields(text):
    toks = text.split()
    if len(toks) % 2:
        raise ValueError("odd field list: %r" % text[:60])
    return [(toks[i], toks[i + 1]) for i in range(0, len(toks), 2)]


def _parse_catalogue(text):
    defs = {}
    name, body = None, []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            if name:
                defs[name] = _parse_fields(" ".join(body))
            name, rest = line.split(":", 1)
            body = [rest]
        else:
            body.append(line)
    if name:
        defs[name] = _parse_fields(" ".join(body))
    return defs


def _apply_delta(base, delta):
    defs = {k: list(v) for k, v in base.items()}
    for line in delta.splitlines():
        if not line.strip():
            continue
        name, rest = line.split(":", 1)
        rest = rest.strip()
        if rest == "!":
            defs.pop(name, None)
            continue
        if rest.startswith("="):
            defs[name] = _parse_fields(rest[1:])
            continue
        fields = defs[name]
        toks = rest.split()
        i = 0
        while i < len(toks):
            op = toks[i]
            if op[0] == "-":
                fields = [f for f in fields if f[0] != op[1:]]
                i += 1
            elif op[0] == "~":
                fields = [(n, toks[i + 1] if n == op[1:] else t) for n, t in fields]
                i += 2
            elif op[0] == "+":
                new = (op[1:], toks[i + 1])
                # Insert in case-insensitive alphabetical position among the
                # alphabetical head of the list (newer fields are appended at the
                # end of the swagger lists, older ones are sorted).
                pos = len(fields)
                for j, (n, _) in enumerate(fields):
                    if j and fields[j - 1][0].lower() > n.lower():
                        break
                    if n.lower() > new[0].lower():
                        pos = j
                        break
                fields.insert(pos, new)
                i += 2
            else:
                raise ValueError("bad delta op %r" % op)
        defs[name] = fields
    return defs


class Contract:
    """All definitions of one endpoint version."""

    def __init__(self, version, raw):
        self.version = version
        self.defs = {n: Definition(n, [Field(a, b) for a, b in fl]) for n, fl in raw.items()}
        self.top_level = [n for n in TOP_LEVEL if n in self.defs]
        self._top_lower = {n.lower(): n for n in self.top_level}

    def definition(self, name):
        return self.defs.get(name)

    def entity_name(self, name):
        """The canonical name of a top-level entity (case-insensitive), or None."""
        return self._top_lower.get(name.lower())


_contracts = {}
_lock = threading.Lock()


def contract(version):
    """The Contract of `version` (one of VERSIONS), or None for an unknown version."""
    if version not in VERSIONS:
        return None
    with _lock:
        c = _contracts.get(version)
        if c is None:
            raw = _parse_catalogue(_CATALOGUE_22)
            if version != BASE_VERSION:
                raw = _apply_delta(raw, _DELTAS[version])
            c = _contracts[version] = Contract(version, raw)
        return c
