/* test_map_run.c - running mappings: Acumatica's wire shape both ways,
 * required fields, maximum length (truncate or fail), defaults, conditions,
 * type checks, skip and error filters on records and lines, child
 * collections with parent access, for_each, delete flags, custom fields,
 * and overlays that add, replace and remove fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_test_util.h"

static acu_mapset *load1(const char *doc)
{
    const char *ov[] = {doc, NULL};
    acu_mapset *set = NULL;
    acu_map_diags *d = NULL;
    conn_error err;

    if (mt_load(1, NULL, "{\"time_zone_offset\": \"-05:00\"}", ov, &set, &d, &err) != CONN_OK) {
        fprintf(stderr, "load failed: %s\n", err.message);
        mt_print_diags(d);
    }
    acu_map_diags_free(d);
    assert_non_null(set);
    return set;
}

static void test_from_host_wire_shape(void **state)
{
    static const char doc[] =
        "{\"name\": \"t\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
        " \"id\": \"number\","
        " \"fields\": ["
        "  {\"target\": \"OrderType\", \"value\": \"SO\"},"
        "  {\"target\": \"CustomerOrder\", \"source\": \"number\"},"
        "  {\"target\": \"OrderTotal\", \"source\": \"total\"},"
        "  {\"target\": \"Hold\", \"source\": \"hold\"},"
        "  {\"target\": \"Date\", \"source\": \"date\"},"
        "  {\"target\": \"ShipToAddress.City\", \"source\": \"city\"},"
        "  {\"target\": \"ShipToAddressOverride\", \"expr\": \"not is_empty(city)\"},"
        "  {\"target\": \"custom.Document.UsrChannel\", \"source\": \"channel\", \"type\": \"string\"},"
        "  {\"target\": \"custom.Document.UsrScore\", \"source\": \"score\", \"type\": \"decimal\"},"
        "  {\"target\": \"id\", \"source\": \"acumatica_id\"},"
        "  {\"target\": \"note\", \"template\": \"from {channel}\"},"
        "  {\"target\": \"Description\", \"source\": \"missing\"},"
        "  {\"target\": \"Details\", \"source\": \"lines\", \"delete_when\": \"gone\", \"fields\": ["
        "     {\"target\": \"InventoryID\", \"source\": \"sku\"},"
        "     {\"target\": \"OrderQty\", \"source\": \"qty\"},"
        "     {\"target\": \"LineNbr\", \"source\": \"n\"},"
        "     {\"target\": \"LineDescription\", \"template\": \"{sku} of order {parent.number}\"},"
        "     {\"target\": \"custom.Transactions.UsrGift\", \"source\": \"gift\", \"type\": \"bool\"}]}"
        " ]}";
    acu_mapset *set = load1(doc);
    acu_map_result r;

    (void)state;
    assert_int_equal(mt_from_host(acu_mapset_get(set, "t", ACU_MAP_FROM_HOST),
        "{\"number\": \"W-1\", \"total\": \"12.50\", \"hold\": \"yes\", \"date\": \"2024-03-01\","
        " \"city\": \"Oslo\", \"channel\": \"web\", \"score\": 3, \"acumatica_id\": \"2f5a0c6e-0000-0000-0000-000000000001\","
        " \"lines\": [{\"sku\": \"A\", \"qty\": 2, \"n\": 1, \"gift\": true},"
        "            {\"sku\": \"B\", \"qty\": \"1\", \"n\": 2, \"gone\": true}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_OK);
    assert_string_equal(r.id, "W-1");
    mt_assert_json(r.record,
        "{\"OrderType\": {\"value\": \"SO\"}, \"CustomerOrder\": {\"value\": \"W-1\"},"
        " \"OrderTotal\": {\"value\": 12.5}, \"Hold\": {\"value\": true},"
        " \"Date\": {\"value\": \"2024-03-01\"}, \"ShipToAddress\": {\"City\": {\"value\": \"Oslo\"}},"
        " \"ShipToAddressOverride\": {\"value\": true},"
        " \"custom\": {\"Document\": {\"UsrChannel\": {\"type\": \"CustomStringField\", \"value\": \"web\"},"
        "                             \"UsrScore\": {\"type\": \"CustomDecimalField\", \"value\": 3}}},"
        " \"id\": \"2f5a0c6e-0000-0000-0000-000000000001\", \"note\": {\"value\": \"from web\"},"
        " \"Details\": ["
        "  {\"InventoryID\": {\"value\": \"A\"}, \"OrderQty\": {\"value\": 2}, \"LineNbr\": {\"value\": 1},"
        "   \"LineDescription\": {\"value\": \"A of order W-1\"},"
        "   \"custom\": {\"Transactions\": {\"UsrGift\": {\"type\": \"CustomBooleanField\", \"value\": true}}}},"
        "  {\"InventoryID\": {\"value\": \"B\"}, \"OrderQty\": {\"value\": 1}, \"LineNbr\": {\"value\": 2},"
        "   \"LineDescription\": {\"value\": \"B of order W-1\"}, \"delete\": true}]}");
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

static void test_field_rules(void **state)
{
    static const char doc[] =
        "{\"name\": \"t\", \"direction\": \"from_host\", \"entity\": \"Customer\", \"record_type\": \"customer\","
        " \"fields\": ["
        "  {\"target\": \"CustomerID\", \"source\": \"id\", \"required\": true, \"max_length\": 5},"
        "  {\"target\": \"CustomerName\", \"source\": \"name\", \"max_length\": 4, \"on_overflow\": \"truncate\"},"
        "  {\"target\": \"CustomerClass\", \"source\": \"class\", \"default\": \"RETAIL\"},"
        "  {\"target\": \"Terms\", \"source\": \"terms\", \"keep_null\": true},"
        "  {\"target\": \"TaxZone\", \"source\": \"zone\", \"when\": \"country == 'US'\"},"
        "  {\"target\": \"CreditLimit\", \"source\": \"limit\"},"
        "  {\"target\": \"ApplyOverdueCharges\", \"source\": \"overdue\"},"
        "  {\"target\": \"LeadTimedays\", \"source\": \"lead\"},"
        "  {\"target\": \"CreatedDateTime\", \"source\": \"created\"},"
        "  {\"target\": \"StatementType\", \"source\": \"stmt\"}"
        " ]}";
    acu_mapset *set = load1(doc);
    const acu_map *m = acu_mapset_get(set, "t", ACU_MAP_FROM_HOST);
    acu_map_result r;

    (void)state;
    /* all fine: truncation by characters, default, keep_null, when */
    assert_int_equal(mt_from_host(m, "{\"id\": \"C1\", \"name\": \"\\u00c5sa Berg\", \"country\": \"US\","
                                     " \"zone\": \"NY\", \"lead\": 7, \"stmt\": 5}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_OK);
    mt_assert_json(r.record, "{\"CustomerID\": {\"value\": \"C1\"}, \"CustomerName\": {\"value\": \"\\u00c5sa \"},"
                             " \"CustomerClass\": {\"value\": \"RETAIL\"}, \"Terms\": {\"value\": null},"
                             " \"TaxZone\": {\"value\": \"NY\"}, \"LeadTimedays\": {\"value\": 7},"
                             " \"StatementType\": {\"value\": \"5\"}}");
    acu_map_result_clear(&r);
    /* when false: the field is left out */
    assert_int_equal(mt_from_host(m, "{\"id\": \"C1\", \"country\": \"NO\", \"zone\": \"X\"}", &r), CONN_OK);
    assert_null(json_object_object_get(r.record, "TaxZone"));
    acu_map_result_clear(&r);
    /* every field error at once, with pointers */
    assert_int_equal(mt_from_host(m, "{\"id\": \"TOO-LONG\", \"limit\": \"lots\", \"overdue\": \"maybe\","
                                     " \"lead\": 2.5, \"created\": \"yesterday\"}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    assert_null(r.record);
    assert_string_equal(r.message, "5 problems; the first: 'CustomerID' allows at most 5 characters; the value has 8");
    mt_assert_json(r.errors,
        "[{\"message\": \"'CustomerID' allows at most 5 characters; the value has 8\","
        "  \"mapping\": \"mapping_overrides[0] /fields/0\", \"target\": \"/CustomerID\", \"source\": \"/id\"},"
        " {\"message\": \"'CreditLimit' (decimal): expected a number, got 'lots'\","
        "  \"mapping\": \"mapping_overrides[0] /fields/5\", \"target\": \"/CreditLimit\", \"source\": \"/limit\"},"
        " {\"message\": \"'ApplyOverdueCharges' (bool): expected true or false, got a string\","
        "  \"mapping\": \"mapping_overrides[0] /fields/6\", \"target\": \"/ApplyOverdueCharges\", \"source\": \"/overdue\"},"
        " {\"message\": \"'LeadTimedays' (short): expected a whole number up to 32767, got 2.5\","
        "  \"mapping\": \"mapping_overrides[0] /fields/7\", \"target\": \"/LeadTimedays\", \"source\": \"/lead\"},"
        " {\"message\": \"'CreatedDateTime' (datetime): expected a date or date-time, got 'yesterday'\","
        "  \"mapping\": \"mapping_overrides[0] /fields/8\", \"target\": \"/CreatedDateTime\", \"source\": \"/created\"}]");
    acu_map_result_clear(&r);
    /* required */
    assert_int_equal(mt_from_host(m, "{\"id\": \"\"}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    assert_string_equal(r.message, "'CustomerID' is required but 'id' is empty");
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

static void test_filters(void **state)
{
    static const char doc[] =
        "{\"name\": \"t\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
        " \"id\": \"number\","
        " \"skip_filters\": [{\"when\": \"test\", \"message\": \"order {number} is a test order\"}],"
        " \"error_filters\": [{\"when\": \"count(lines) == 0\", \"message\": \"order {number} has no lines\"},"
        "                     {\"when\": \"total < 0\"}],"
        " \"fields\": ["
        "  {\"target\": \"CustomerOrder\", \"source\": \"number\"},"
        "  {\"target\": \"Details\", \"source\": \"lines\","
        "   \"skip_filters\": [{\"when\": \"qty == 0\"}],"
        "   \"error_filters\": [{\"when\": \"is_empty(sku)\", \"message\": \"line {n} of {parent.number} has no SKU\"}],"
        "   \"fields\": [{\"target\": \"InventoryID\", \"source\": \"sku\"}, {\"target\": \"OrderQty\", \"source\": \"qty\", \"required\": true}]}"
        " ]}";
    acu_mapset *set = load1(doc);
    const acu_map *m = acu_mapset_get(set, "t", ACU_MAP_FROM_HOST);
    acu_map_result r;

    (void)state;
    assert_int_equal(mt_from_host(m, "{\"number\": \"W1\", \"test\": true, \"lines\": []}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_SKIP);
    assert_string_equal(r.message, "order W1 is a test order");
    assert_string_equal(r.id, "W1");
    assert_null(r.record);
    acu_map_result_clear(&r);
    assert_int_equal(mt_from_host(m, "{\"number\": \"W2\", \"lines\": []}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    assert_string_equal(r.message, "order W2 has no lines");
    acu_map_result_clear(&r);
    /* a filter without a message names where it is written */
    assert_int_equal(mt_from_host(m, "{\"number\": \"W3\", \"total\": -1, \"lines\": [{}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    assert_string_equal(r.message, "rejected by an error filter at mapping_overrides[0] /error_filters/1");
    acu_map_result_clear(&r);
    /* line filters: a skipped line is left out; a line error rejects the record */
    assert_int_equal(mt_from_host(m, "{\"number\": \"W4\", \"lines\": [{\"sku\": \"A\", \"qty\": 0}, {\"sku\": \"B\", \"qty\": 1}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_OK);
    mt_assert_json(r.record, "{\"CustomerOrder\": {\"value\": \"W4\"}, \"Details\": [{\"InventoryID\": {\"value\": \"B\"}, \"OrderQty\": {\"value\": 1}}]}");
    acu_map_result_clear(&r);
    assert_int_equal(mt_from_host(m, "{\"number\": \"W5\", \"lines\": [{\"sku\": \"A\", \"qty\": 1}, {\"n\": 2, \"qty\": 1}, {\"sku\": \"C\"}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    mt_assert_json(r.errors,
        "[{\"message\": \"line 2 of W5 has no SKU\", \"mapping\": \"mapping_overrides[0] /fields/1/error_filters/0\","
        "  \"target\": \"/Details/1\", \"source\": \"/lines/1\"},"
        " {\"message\": \"'OrderQty' is required but 'qty' is empty\", \"mapping\": \"mapping_overrides[0] /fields/1/fields/1\","
        "  \"target\": \"/Details/1/OrderQty\", \"source\": \"/lines/2/qty\"}]");
    acu_map_result_clear(&r);
    /* a filter that fails is an error, not a silent pass */
    assert_int_equal(mt_from_host(m, "{\"number\": \"W6\", \"total\": \"abc\", \"lines\": [{}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    assert_non_null(strstr(r.message, "the filter failed: column 7: '<' cannot compare a string with a number"));
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

static void test_to_host_unwrap_and_for_each(void **state)
{
    acu_mapset *set = load1("{\"lookups\": {}}");
    json_object *out;
    static const char shipment[] =
        "{\"id\": \"9f0c\", \"ShipmentNbr\": {\"value\": \"000123\"}, \"ShipVia\": {\"value\": \"UPSGROUND\"},"
        " \"ShipmentDate\": {\"value\": \"2024-03-04T00:00:00+00:00\"}, \"Status\": {\"value\": \"Confirmed\"},"
        " \"LastModifiedDateTime\": {\"value\": \"2024-03-04T10:11:12.5+00:00\"},"
        " \"Orders\": [{\"OrderType\": {\"value\": \"SO\"}, \"OrderNbr\": {\"value\": \"SO0042\"}}],"
        " \"Packages\": ["
        "  {\"LineNbr\": {\"value\": 1}, \"TrackingNbr\": {\"value\": \" 1Z999 \"}, \"DeclaredValue\": {\"value\": 100.0},"
        "   \"Weight\": {\"value\": 2.5}, \"PackageContents\": [{\"InventoryID\": {\"value\": \"AALEGO500 \"},"
        "   \"Quantity\": {\"value\": 2.0}, \"UOM\": {\"value\": \"EA\"}, \"OrigOrderType\": {\"value\": \"SO\"},"
        "   \"OrigOrderNbr\": {\"value\": \"SO0042\"}}]},"
        "  {\"LineNbr\": {\"value\": 2}, \"TrackingNbr\": {}, \"Weight\": {\"value\": 1}}]}";

    (void)state;
    out = mt_to_host(acu_mapset_get(set, "tracking", ACU_MAP_TO_HOST), shipment);
    mt_assert_json(out,
        "[{\"status\": \"ok\", \"id\": \"000123/1Z999\", \"item\": 0, \"record\": {"
        "   \"tracking_number\": \"1Z999\", \"carrier\": \"ups\", \"ship_via\": \"UPSGROUND\","
        "   \"ship_date\": \"2024-03-04\", \"shipment_number\": \"000123\", \"package_number\": 1,"
        "   \"declared_value\": {\"amount\": 100.0}, \"weight\": 2.5, \"status\": \"Confirmed\","
        "   \"orders\": [{\"order_type\": \"SO\", \"order_number\": \"SO0042\"}],"
        "   \"lines\": [{\"sku\": \"AALEGO500\", \"quantity\": 2.0, \"uom\": \"EA\", \"order_type\": \"SO\", \"order_number\": \"SO0042\"}],"
        "   \"updated_at\": \"2024-03-04T10:11:12.5+00:00\"}},"
        " {\"status\": \"skipped\", \"id\": \"000123/\", \"item\": 1, \"message\": \"a package of shipment 000123 has no tracking number yet\"}]");
    json_object_put(out);
    /* An empty detail collection produces nothing. */
    out = mt_to_host(acu_mapset_get(set, "tracking", ACU_MAP_TO_HOST),
                     "{\"ShipmentNbr\": {\"value\": \"1\"}, \"Packages\": []}");
    assert_int_equal(json_object_array_length(out), 0);
    json_object_put(out);
    /* inventory: one record per warehouse line, with parent access */
    out = mt_to_host(acu_mapset_get(set, "inventory", ACU_MAP_TO_HOST),
        "{\"InventoryID\": {\"value\": \"AACOMPUT01\"}, \"LastModified\": {\"value\": \"2024-01-02T03:04:05+00:00\"},"
        " \"WarehouseDetails\": [{\"WarehouseID\": {\"value\": \"WHOLESALE\"}, \"QtyOnHand\": {\"value\": 5.0}, \"Status\": {\"value\": \"Active\"}},"
        "                       {\"WarehouseID\": {\"value\": \"RETAIL\"}, \"QtyOnHand\": {}}]}");
    mt_assert_json(out,
        "[{\"status\": \"ok\", \"id\": \"AACOMPUT01@WHOLESALE\", \"item\": 0, \"record\": {\"sku\": \"AACOMPUT01\","
        "   \"location_id\": \"WHOLESALE\", \"quantity_on_hand\": 5.0, \"status\": \"Active\", \"updated_at\": \"2024-01-02T03:04:05+00:00\"}},"
        " {\"status\": \"ok\", \"id\": \"AACOMPUT01@RETAIL\", \"item\": 1, \"record\": {\"sku\": \"AACOMPUT01\","
        "   \"location_id\": \"RETAIL\", \"quantity_on_hand\": 0, \"updated_at\": \"2024-01-02T03:04:05+00:00\"}}]");
    json_object_put(out);
    /* a record without an id is rejected, not emitted without one */
    out = mt_to_host(acu_mapset_get(set, "locations", ACU_MAP_TO_HOST), "{\"Description\": {\"value\": \"x\"}}");
    assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(out, 0), "status")), "rejected");
    assert_non_null(strstr(json_object_get_string(json_object_object_get(json_object_array_get_idx(out, 0), "message")),
                           "2 problems; the first: the record has no id"));
    json_object_put(out);
    acu_mapset_free(set);
}

/* The shipped sales order mapping on a full host order: lines, ship-to
 * with override flags, payments, taxes, lookups and the business date. */
static void test_sales_order_from_host(void **state)
{
    acu_mapset *set = load1("{\"lookups\": {\"warehouse\": {\"rows\": {\"store-1\": \"RETAIL\"}}}}");
    acu_map_result r;

    (void)state;
    assert_int_equal(mt_from_host(acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST),
        "{\"transaction_number\": \"WEB-1001\", \"customer_id\": \"C000123 \", \"date\": \"2024-03-01T02:30:00Z\","
        " \"currency\": \"USD\", \"location_id\": \"store-1\","
        " \"shipping\": {\"carrier\": \"ups\", \"method\": \"UPS_Ground\"},"
        " \"ship_to\": {\"name\": \"Ann Lee\", \"line1\": \"1 Main St\", \"city\": \"Springfield\", \"region\": \"il\","
        "              \"postal_code\": \"62701\", \"country\": \"us\"},"
        " \"lines\": [{\"line_number\": 1, \"sku\": \"AALEGO500\", \"quantity\": 2, \"unit_price\": {\"amount\": 19.99, \"currency\": \"USD\"}},"
        "           {\"line_number\": 2, \"sku\": \"OLD\", \"quantity\": 1, \"deleted\": true}],"
        " \"payments\": [{\"method\": \"Visa\", \"amount\": {\"amount\": 39.98}, \"reference\": \"ch_1\", \"date\": \"2024-03-01T02:30:00Z\"}],"
        " \"taxes\": [{\"tax_id\": \"NYSTATE\", \"rate\": 4, \"taxable_amount\": {\"amount\": 39.98}, \"tax_amount\": {\"amount\": 1.6}}]}",
        &r), CONN_OK);
    if (r.status != ACU_MAP_OK)
        fprintf(stderr, "%s\n", json_object_to_json_string(r.errors));
    assert_int_equal(r.status, ACU_MAP_OK);
    mt_assert_json(r.record,
        "{\"OrderType\": {\"value\": \"SO\"}, \"CustomerID\": {\"value\": \"C000123\"},"
        " \"CustomerOrder\": {\"value\": \"WEB-1001\"}, \"Hold\": {\"value\": false}, \"Date\": {\"value\": \"2024-02-29\"},"
        " \"Description\": {\"value\": \"Order WEB-1001\"}, \"CurrencyID\": {\"value\": \"USD\"},"
        " \"ShipVia\": {\"value\": \"UPSGROUND\"},"
        " \"ShipToContactOverride\": {\"value\": true}, \"ShipToContact\": {\"Attention\": {\"value\": \"Ann Lee\"}},"
        " \"ShipToAddressOverride\": {\"value\": true},"
        " \"ShipToAddress\": {\"AddressLine1\": {\"value\": \"1 Main St\"}, \"City\": {\"value\": \"Springfield\"},"
        "                    \"State\": {\"value\": \"IL\"}, \"PostalCode\": {\"value\": \"62701\"}, \"Country\": {\"value\": \"US\"}},"
        " \"BillToContactOverride\": {\"value\": false}, \"BillToAddressOverride\": {\"value\": false},"
        " \"Details\": ["
        "  {\"LineNbr\": {\"value\": 1}, \"InventoryID\": {\"value\": \"AALEGO500\"}, \"OrderQty\": {\"value\": 2},"
        "   \"UnitPrice\": {\"value\": 19.99}, \"ManualPrice\": {\"value\": true}, \"WarehouseID\": {\"value\": \"RETAIL\"}},"
        "  {\"LineNbr\": {\"value\": 2}, \"InventoryID\": {\"value\": \"OLD\"}, \"OrderQty\": {\"value\": 1},"
        "   \"ManualPrice\": {\"value\": false}, \"WarehouseID\": {\"value\": \"RETAIL\"}, \"delete\": true}],"
        " \"Payments\": [{\"DocType\": {\"value\": \"Prepayment\"}, \"PaymentMethod\": {\"value\": \"CREDITCARD\"},"
        "   \"PaymentAmount\": {\"value\": 39.98}, \"PaymentRef\": {\"value\": \"ch_1\"}, \"ApplicationDate\": {\"value\": \"2024-02-29\"}}],"
        " \"DisableAutomaticTaxCalculation\": {\"value\": true},"
        " \"TaxDetails\": [{\"TaxID\": {\"value\": \"NYSTATE\"}, \"TaxRate\": {\"value\": 4},"
        "   \"TaxableAmount\": {\"value\": 39.98}, \"TaxAmount\": {\"value\": 1.6}}]}");
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

/* Numbers converted from the host's text ("19.99") or computed go on the
 * wire as the shortest decimal that reads back the same: the payload text
 * is what push sends to Acumatica, so the text is checked, not the value. */
static void test_numbers_on_the_wire(void **state)
{
    acu_mapset *set = load1(
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\","
        " \"fields\": [{\"target\": \"Details.DiscountAmount\", \"expr\": \"quantity * 0.1\"}],"
        " \"lookups\": {\"warehouse\": {\"rows\": {\"store-1\": \"RETAIL\"}}}}");
    acu_map_result r;
    const char *text;

    (void)state;
    assert_int_equal(mt_from_host(acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST),
        "{\"transaction_number\": \"WEB-1\", \"customer_id\": \"C1\", \"location_id\": \"store-1\","
        " \"lines\": [{\"sku\": \"A\", \"quantity\": \"3\", \"unit_price\": {\"amount\": \"19.99\"}},"
        "           {\"sku\": \"B\", \"quantity\": 7, \"unit_price\": {\"amount\": \"-1234567.891\"}}],"
        " \"payments\": [{\"method\": \"Visa\", \"amount\": {\"amount\": \"0.07\"}}]}",
        &r), CONN_OK);
    if (r.status != ACU_MAP_OK)
        fprintf(stderr, "%s\n", json_object_to_json_string(r.errors));
    assert_int_equal(r.status, ACU_MAP_OK);
    text = json_object_to_json_string_ext(r.record, JSON_C_TO_STRING_PLAIN);
    if (strstr(text, "\"UnitPrice\":{\"value\":19.99}") == NULL ||
        strstr(text, "\"UnitPrice\":{\"value\":-1234567.891}") == NULL ||
        strstr(text, "\"OrderQty\":{\"value\":3}") == NULL ||
        strstr(text, "\"DiscountAmount\":{\"value\":0.30000000000000004}") == NULL ||
        strstr(text, "\"DiscountAmount\":{\"value\":0.7000000000000001}") == NULL ||
        strstr(text, "\"PaymentAmount\":{\"value\":0.07}") == NULL) {
        fprintf(stderr, "payload: %s\n", text);
        fail();
    }
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

/* 1 when the result's errors (as text) contain needle; prints them if not. */
static int has_error(const acu_map_result *r, const char *needle)
{
    const char *t = json_object_to_json_string_ext(r->errors, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    if (t != NULL && strstr(t, needle) != NULL)
        return 1;
    fprintf(stderr, "expected an error containing \"%s\" in %s\n", needle, t ? t : "(none)");
    return 0;
}

/* Run-time field errors not covered above, each with its pointers, and the
 * calls' own errors. */
static void test_more_run_errors(void **state)
{
    static const char doc[] =
        "{\"name\": \"t\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
        " \"id\": \"concat('T', n / zero)\","
        " \"fields\": ["
        "  {\"target\": \"Description\", \"expr\": \"obj\"},"
        "  {\"target\": \"OrderTotal\", \"expr\": \"abs(huge)\"},"
        "  {\"target\": \"CustomerOrder\", \"source\": \"number\", \"when\": \"n / zero > 1\"},"
        "  {\"target\": \"Details\", \"source\": \"lines\", \"delete_when\": \"q / parent.zero > 1\", \"fields\": ["
        "     {\"target\": \"InventoryID\", \"source\": \"sku\"}]},"
        "  {\"target\": \"Payments\", \"source\": \"number\", \"fields\": ["
        "     {\"target\": \"PaymentRef\", \"source\": \"ref\"}]}"
        " ]}";
    acu_mapset *set = load1(doc);
    const acu_map *m = acu_mapset_get(set, "t", ACU_MAP_FROM_HOST);
    acu_map_result r;
    conn_error err;
    char *sel = NULL, *exp = NULL, *cus = NULL;

    (void)state;
    assert_int_equal(mt_from_host(m,
        "{\"number\": \"W1\", \"n\": 1, \"zero\": 0, \"obj\": {\"a\": 1}, \"huge\": 1e999,"
        " \"lines\": [{\"sku\": \"A\", \"q\": 1}, \"plain\", null]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT);
    assert_true(has_error(&r, "the id failed: column 15: division by zero"));
    assert_true(has_error(&r, "'Description' (string): expected text, got an object"));
    assert_true(has_error(&r, "'OrderTotal' (decimal): the number cannot be written as JSON"));
    assert_true(has_error(&r, "\"target\":\"/CustomerOrder\""));
    assert_true(has_error(&r, "the condition failed: column 3: division by zero"));
    assert_true(has_error(&r, "delete_when failed: column 3: division by zero"));
    assert_true(has_error(&r, "\"message\":\"element 1 of 'lines' is a plain value, not a record\",\"mapping\":"));
    assert_true(has_error(&r, "\"target\":\"/Details/1\",\"source\":\"/lines/1\""));
    assert_true(has_error(&r, "element 2 of 'lines' is null, not a record"));
    assert_true(has_error(&r, "'Payments' needs a list (or one object), got a string"));
    acu_map_result_clear(&r);

    /* the calls' own errors */
    memset(&err, 0, sizeof(err));
    {
        json_object *empty = json_object_new_object();
        assert_int_equal(acu_map_from_host(acu_mapset_get(set, "customers", ACU_MAP_TO_HOST),
                                           empty, &r, &err), CONN_INVALID);
        json_object_put(empty);
    }
    assert_string_equal(err.message, "acu_map_from_host: the mapping is not a from_host mapping");
    assert_int_equal(acu_map_to_host(m, NULL, NULL, NULL, &err), CONN_INVALID);
    assert_string_equal(err.message, "acu_map_to_host: the mapping is not a to_host mapping");
    assert_int_equal(acu_map_select_expand(NULL, &sel, &exp, &cus, &err), CONN_INVALID);
    assert_string_equal(err.message, "acu_map_select_expand: no mapping");
    acu_mapset_free(set);
}

/* Warehouse has LastModifiedDateTime from 23.200.001 on (the 23 overlay,
 * inherited by 24): locations carry updated_at there and not in 20 or 22,
 * which have no such field; the flow's version field follows the catalogue. */
static void test_locations_updated_at_by_version(void **state)
{
    static const char *const versions[] = {"20.200.001", "22.200.001", "23.200.001", "24.200.001"};
    static const char rec[] =
        "{\"WarehouseID\": {\"value\": \"MAIN \"}, \"Description\": {\"value\": \"Main\"},"
        " \"Active\": {\"value\": true}, \"LastModifiedDateTime\": {\"value\": \"2024-03-01T10:00:00.123+00:00\"}}";

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        int has = i >= 2;
        acu_mapset *set = NULL;
        conn_error err;
        const acu_map *m;
        json_object *out, *record;
        char *sel = NULL;
        assert_int_equal(mt_load(1, versions[i], NULL, NULL, &set, NULL, &err), CONN_OK);
        m = acu_mapset_get(set, "locations", ACU_MAP_TO_HOST);
        assert_non_null(m);
        out = mt_to_host(m, rec);
        assert_int_equal(json_object_array_length(out), 1);
        record = json_object_object_get(json_object_array_get_idx(out, 0), "record");
        if (has) {
            assert_string_equal(json_object_get_string(json_object_object_get(record, "updated_at")),
                                "2024-03-01T10:00:00.123+00:00");
            assert_string_equal(acu_map_last_modified_field(m), "LastModifiedDateTime");
        } else {
            assert_null(json_object_object_get(record, "updated_at"));
            assert_null(acu_map_last_modified_field(m));
        }
        assert_int_equal(acu_map_select_expand(m, &sel, NULL, NULL, &err), CONN_OK);
        assert_int_equal(strstr(sel, "LastModifiedDateTime") != NULL, has);
        free(sel);
        json_object_put(out);
        acu_mapset_free(set);
    }
}

/* Overlays: add, replace and remove single fields by target (also inside
 * child collections), change filters, add and override lookup rows; the
 * effective mapping shows where each field came from. */
static void test_overlays(void **state)
{
    static const char overlay[] =
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\","
        " \"match\": [\"ExternalRef\"],"
        " \"error_filters\": [{\"when\": \"is_empty(transaction_number)\", \"message\": \"no number\"}],"
        " \"fields\": ["
        "  {\"target\": \"CustomerOrder\", \"op\": \"remove\"},"
        "  {\"target\": \"ExternalRef\", \"op\": \"add\", \"source\": \"transaction_number\", \"max_length\": 40},"
        "  {\"target\": \"Description\", \"op\": \"replace\", \"template\": \"Web order {transaction_number}\"},"
        "  {\"target\": \"Details.LineDescription\", \"op\": \"remove\"},"
        "  {\"target\": \"Details.custom.Transactions.UsrGiftWrap\", \"source\": \"gift_wrap\", \"type\": \"bool\"},"
        "  {\"target\": \"custom.Document.UsrChannel\", \"value\": \"web\", \"type\": \"string\"}],"
        " \"lookups\": {\"ship_via\": {\"rows\": {\"ups\": \"UPS-OVERRIDE\", \"drone\": \"DRONE\"}}}}";
    acu_mapset *set = load1(overlay);
    const acu_map *m = acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST);
    acu_map_result r;
    json_object *shown, *fields, *v;
    int saw_external = 0, saw_customer_order = 0;

    (void)state;
    assert_string_equal(acu_map_match(m, 0), "ExternalRef");
    assert_int_equal(mt_from_host(m,
        "{\"transaction_number\": \"WEB-7\", \"customer_id\": \"C1\", \"shipping\": {\"carrier\": \"ups\"},"
        " \"lines\": [{\"sku\": \"A\", \"quantity\": 1, \"description\": \"dropped\", \"gift_wrap\": \"yes\"}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_OK);
    assert_null(json_object_object_get(r.record, "CustomerOrder"));
    mt_assert_json(json_object_object_get(r.record, "ExternalRef"), "{\"value\": \"WEB-7\"}");
    mt_assert_json(json_object_object_get(r.record, "Description"), "{\"value\": \"Web order WEB-7\"}");
    mt_assert_json(json_object_object_get(r.record, "ShipVia"), "{\"value\": \"UPS-OVERRIDE\"}");
    mt_assert_json(json_object_object_get(r.record, "custom"),
                   "{\"Document\": {\"UsrChannel\": {\"type\": \"CustomStringField\", \"value\": \"web\"}}}");
    v = json_object_array_get_idx(json_object_object_get(r.record, "Details"), 0);
    assert_null(json_object_object_get(v, "LineDescription"));
    mt_assert_json(json_object_object_get(v, "custom"),
                   "{\"Transactions\": {\"UsrGiftWrap\": {\"type\": \"CustomBooleanField\", \"value\": true}}}");
    acu_map_result_clear(&r);
    /* the error filters were replaced: no lines is no longer an error */
    assert_int_equal(mt_from_host(m, "{\"transaction_number\": \"WEB-8\", \"customer_id\": \"C1\", \"lines\": []}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_REJECT); /* Details is required */
    assert_string_equal(r.message, "'Details' is required but the list is empty");
    acu_map_result_clear(&r);
    /* show: each field says where it came from */
    shown = acu_map_to_json(m);
    fields = json_object_object_get(shown, "fields");
    for (size_t i = 0; i < json_object_array_length(fields); i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        const char *t = json_object_get_string(json_object_object_get(f, "target"));
        const char *from = json_object_get_string(json_object_object_get(f, "from"));
        assert_non_null(from);
        assert_null(json_object_object_get(f, "$origin"));
        if (strcmp(t, "ExternalRef") == 0) {
            saw_external = 1;
            assert_string_equal(from, "mapping_overrides[0] /fields/1");
        }
        if (strcmp(t, "Description") == 0)
            assert_string_equal(from, "mapping_overrides[0] /fields/2");
        if (strcmp(t, "CustomerID") == 0)
            assert_string_equal(from, "mappings/22.200.001/sales_orders.from_host.json /fields/1");
        if (strcmp(t, "CustomerOrder") == 0)
            saw_customer_order = 1;
    }
    assert_true(saw_external);
    assert_false(saw_customer_order);
    v = json_object_object_get(json_object_object_get(shown, "engine"), "defined_in");
    assert_string_equal(json_object_get_string(json_object_object_get(v, "match")), "mapping_overrides[0]");
    assert_string_equal(json_object_get_string(json_object_object_get(v, "entity")),
                        "mappings/22.200.001/sales_orders.from_host.json");
    /* the names of the lookup tables the mapping uses */
    mt_assert_json(json_object_object_get(json_object_object_get(shown, "engine"), "lookups"),
                   "[\"payment_method\", \"ship_via\", \"warehouse\"]");
    json_object_put(shown);
    /* show: the effective lookup tables, with the rows the overlay added
     * or overrode and where each came from */
    shown = acu_map_lookups_json(m);
    assert_non_null(shown);
    assert_int_equal(json_object_object_length(shown), 3);
    v = json_object_object_get(shown, "ship_via");
    assert_string_equal(json_object_get_string(json_object_object_get(v, "from")),
                        "mappings/lookups/ship_via.json /lookups/ship_via");
    assert_string_equal(json_object_get_string(json_object_object_get(
                            json_object_object_get(v, "rows"), "ups")), "UPS-OVERRIDE");
    assert_string_equal(json_object_get_string(json_object_object_get(
                            json_object_object_get(v, "rows"), "drone")), "DRONE");
    assert_string_equal(json_object_get_string(json_object_object_get(
                            json_object_object_get(v, "rows"), "fedex")), "FEDEXGROUND");
    mt_assert_json(json_object_object_get(v, "changed_by"),
                   "{\"/rows/ups\": \"mapping_overrides[0] /lookups/ship_via/rows/ups\","
                   " \"/rows/drone\": \"mapping_overrides[0] /lookups/ship_via/rows/drone\"}");
    assert_null(json_object_object_get(v, "$origin"));
    assert_null(json_object_object_get(v, "$changes"));
    /* a table no overlay touched has no changed_by */
    assert_null(json_object_object_get(json_object_object_get(shown, "warehouse"), "changed_by"));
    json_object_put(shown);
    acu_mapset_free(set);
}

/* A case-insensitive table: an overlay row whose key differs from a default
 * row only in case replaces it, in the table shown and in the lookups. */
static void test_lookup_override_other_case(void **state)
{
    acu_mapset *set = load1("{\"lookups\": {\"ship_via\": {\"rows\": {\"UPS\": \"UPS2DAY\"}, \"no_match\": \"error\"}}}");
    const acu_map *m = acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST);
    json_object *shown = acu_map_lookups_json(m), *t, *rows;
    acu_map_result r;

    (void)state;
    t = json_object_object_get(shown, "ship_via");
    rows = json_object_object_get(t, "rows");
    assert_null(json_object_object_get(rows, "ups"));
    assert_string_equal(json_object_get_string(json_object_object_get(rows, "UPS")), "UPS2DAY");
    assert_string_equal(json_object_get_string(json_object_object_get(t, "no_match")), "error");
    mt_assert_json(json_object_object_get(t, "changed_by"),
                   "{\"/rows/UPS\": \"mapping_overrides[0] /lookups/ship_via/rows/UPS\","
                   " \"/no_match\": \"mapping_overrides[0] /lookups/ship_via/no_match\"}");
    json_object_put(shown);
    assert_int_equal(mt_from_host(m,
        "{\"transaction_number\": \"W\", \"customer_id\": \"C1\", \"shipping\": {\"carrier\": \"ups\"},"
        " \"lines\": [{\"sku\": \"A\", \"quantity\": 1}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_OK);
    mt_assert_json(json_object_object_get(r.record, "ShipVia"), "{\"value\": \"UPS2DAY\"}");
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

/* The shipped example overlay: transaction number to ExternalRef. */
static void test_example_external_ref(void **state)
{
    const char *ov[] = {ACU_SOURCE_DIR "/mappings/examples/transaction_number_to_external_ref.json", NULL};
    acu_mapset *set = NULL;
    conn_error err;
    acu_map_result r;
    const acu_map *m;

    (void)state;
    assert_int_equal(mt_load(1, NULL, NULL, ov, &set, NULL, &err), CONN_OK);
    m = acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST);
    assert_string_equal(acu_map_match(m, 0), "ExternalRef");
    assert_int_equal(mt_from_host(m, "{\"transaction_number\": \"W9\", \"customer_id\": \"C1\", \"lines\": [{\"sku\": \"A\", \"quantity\": 1}]}", &r), CONN_OK);
    assert_int_equal(r.status, ACU_MAP_OK);
    mt_assert_json(json_object_object_get(r.record, "ExternalRef"), "{\"value\": \"W9\"}");
    assert_null(json_object_object_get(r.record, "CustomerOrder"));
    acu_map_result_clear(&r);
    acu_mapset_free(set);
}

/* The mapping tools (the ABI slot's JSON protocol). */
typedef struct acu_buf_t {
    char data[1 << 20];
    size_t len;
} acu_buf_t;

static int sink(void *user, const char *data, size_t len)
{
    acu_buf_t *b = user;
    if (b->len + len >= sizeof(b->data))
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static int refuse(void *user, const char *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
    return -1;
}

/* tool(request) must fail with status st and exactly the message want. */
static void expect_tool_error(const char *request, conn_status st, const char *want)
{
    static acu_buf_t out;
    conn_error err;

    memset(&out, 0, sizeof(out));
    memset(&err, 0, sizeof(err));
    assert_int_equal(acu_map_tool(NULL, request, strlen(request), sink, &out, &err), st);
    if (strcmp(err.message, want) != 0)
        fprintf(stderr, "request %s\n  expected: %s\n  got:      %s\n", request, want, err.message);
    assert_string_equal(err.message, want);
}

/* Every message of the tools' own: requests that cannot be answered. */
static void test_tool_messages(void **state)
{
    conn_error err;
    static const char validate[] = "{\"op\": \"validate\", \"settings\": {}}";

    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(acu_map_tool(NULL, "", 0, sink, NULL, &err), CONN_INVALID);
    assert_string_equal(err.message, "mappings: the request must be a JSON object");
    expect_tool_error("[1]", CONN_INVALID, "mappings: the request is not a JSON object");
    expect_tool_error("{\"op\": \"validate\"}", CONN_INVALID,
                      "mappings: no settings (give \"settings\" in the request or call it on an instance)");
    expect_tool_error("{\"op\": \"show\", \"settings\": {}, \"name\": \"nothing\"}", CONN_NOT_FOUND,
                      "mappings: no mapping matches the request");
    expect_tool_error("{\"op\": \"test\", \"settings\": {}, \"name\": \"nothing\", \"records\": []}",
                      CONN_NOT_FOUND, "mappings test: no mapping matches the request");
    expect_tool_error("{\"op\": \"test\", \"settings\": {}, \"flow\": \"locations\", \"records\": {}}",
                      CONN_INVALID, "mappings test: \"records\" must be a list of records");
    expect_tool_error("{\"op\": \"test\", \"settings\": {}, \"flow\": \"sales_orders\", \"records\": []}",
                      CONN_INVALID,
                      "mappings test: this flow maps both ways; give \"direction\" (to_host or from_host)");
    memset(&err, 0, sizeof(err));
    assert_int_equal(acu_map_tool(NULL, validate, strlen(validate), refuse, NULL, &err), CONN_NOMEM);
    assert_string_equal(err.message, "mappings: the host refused the output");
}

static void test_tools(void **state)
{
    static acu_buf_t out;
    conn_error err;
    json_object *ans;
    static const char validate_bad[] =
        "{\"op\": \"validate\", \"settings\": {\"mapping_overrides\": [{\"overlay\": true, \"name\": \"sales_orders\","
        " \"direction\": \"from_host\", \"fields\": [{\"target\": \"Details.OrderQuantity\", \"source\": \"q\"}]}]}}";
    static const char test_req[] =
        "{\"op\": \"test\", \"settings\": {}, \"flow\": \"sales_orders\", \"direction\": \"from_host\","
        " \"records\": [{\"transaction_number\": \"T1\", \"customer_id\": \"C1\", \"lines\": [{\"sku\": \"A\", \"quantity\": 1}]},"
        "              {\"transaction_number\": \"T2\", \"lines\": [{\"sku\": \"A\", \"quantity\": \"x\"}]}, 5]}";

    (void)state;
    memset(&out, 0, sizeof(out));
    assert_int_equal(acu_map_tool(NULL, "{\"op\": \"validate\", \"settings\": {}}", strlen("{\"op\": \"validate\", \"settings\": {}}"), sink, &out, &err), CONN_OK);
    ans = mt_json(out.data);
    assert_true(json_object_get_boolean(json_object_object_get(ans, "ok")));
    assert_int_equal(json_object_array_length(json_object_object_get(ans, "mappings")), 10);
    json_object_put(ans);

    memset(&out, 0, sizeof(out));
    assert_int_equal(acu_map_tool(NULL, validate_bad, strlen(validate_bad), sink, &out, &err), CONN_OK);
    ans = mt_json(out.data);
    assert_false(json_object_get_boolean(json_object_object_get(ans, "ok")));
    assert_string_equal(json_object_get_string(json_object_object_get(
                            json_object_array_get_idx(json_object_object_get(ans, "problems"), 0), "text")),
                        "mapping_overrides[0] /fields/0/target: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?");
    json_object_put(ans);

    memset(&out, 0, sizeof(out));
    assert_int_equal(acu_map_tool(NULL, "{\"op\": \"show\", \"settings\": {}, \"flow\": \"products\"}", strlen("{\"op\": \"show\", \"settings\": {}, \"flow\": \"products\"}"), sink, &out, &err), CONN_OK);
    ans = mt_json(out.data);
    assert_int_equal(json_object_array_length(json_object_object_get(ans, "mappings")), 2);
    json_object_put(ans);

    memset(&out, 0, sizeof(out));
    assert_int_equal(acu_map_tool(NULL, test_req, strlen(test_req), sink, &out, &err), CONN_OK);
    ans = mt_json(out.data);
    {
        json_object *res = json_object_object_get(ans, "results");
        assert_int_equal(json_object_array_length(res), 3);
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(res, 0), "status")), "ok");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(res, 1), "status")), "rejected");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(res, 1), "message")),
                            "'OrderQty' (decimal): expected a number, got 'x'");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(res, 2), "message")),
                            "the record is not a JSON object");
    }
    json_object_put(ans);

    /* wrong requests */
    assert_int_equal(acu_map_tool(NULL, "{\"op\": \"frob\"}", strlen("{\"op\": \"frob\"}"), sink, &out, &err), CONN_INVALID);
    assert_string_equal(err.message, "mappings: \"op\" must be validate, show or test");
    assert_int_equal(acu_map_tool(NULL, "{\"op\": \"validate\"}", strlen("{\"op\": \"validate\"}"), sink, &out, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "no settings"));
    assert_int_equal(acu_map_tool(NULL, "nope", strlen("nope"), sink, &out, &err), CONN_INVALID);
    {
        static const char req[] = "{\"op\": \"test\", \"settings\": {}, \"flow\": \"products\", \"direction\": \"to_host\", \"records\": []}";
        assert_int_equal(acu_map_tool(NULL, req, strlen(req), sink, &out, &err), CONN_INVALID);
    }
    assert_string_equal(err.message, "mappings test: several mappings serve this flow; name one with \"name\"");
    assert_int_equal(acu_map_tool(NULL, "{\"op\": \"show\", \"settings\": {}, \"name\": \"nothing\"}", strlen("{\"op\": \"show\", \"settings\": {}, \"name\": \"nothing\"}"), sink, &out, &err), CONN_NOT_FOUND);
    assert_int_equal(acu_map_tool(NULL, "{\"op\": \"validate\", \"settings\": {\"time_zone_offset\": \"noon\"}}", strlen("{\"op\": \"validate\", \"settings\": {\"time_zone_offset\": \"noon\"}}"), sink, &out, &err), CONN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_host_wire_shape),
        cmocka_unit_test(test_field_rules),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_to_host_unwrap_and_for_each),
        cmocka_unit_test(test_sales_order_from_host),
        cmocka_unit_test(test_numbers_on_the_wire),
        cmocka_unit_test(test_more_run_errors),
        cmocka_unit_test(test_locations_updated_at_by_version),
        cmocka_unit_test(test_overlays),
        cmocka_unit_test(test_example_external_ref),
        cmocka_unit_test(test_lookup_override_other_case),
        cmocka_unit_test(test_tools),
        cmocka_unit_test(test_tool_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
