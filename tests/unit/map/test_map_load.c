/* test_map_load.c - loading mapping sets: the defaults of every endpoint
 * version, and every message of the file checker, the overlay merge and the
 * compiler, each with its file and JSON pointer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acu_map_internal.h"
#include "map_test_util.h"

static void expect_problem(int defaults, const char *doc, const char *needle)
{
    const char *ov[] = {doc, NULL};
    acu_mapset *set = NULL;
    acu_map_diags *d = NULL;
    conn_error err;
    conn_status st = mt_load(defaults, NULL, NULL, ov, &set, &d, &err);

    if (st != CONN_INVALID || !mt_has_diag(d, needle)) {
        fprintf(stderr, "expected a problem containing:\n  %s\nfor:\n  %s\ngot status %d:\n", needle,
                doc, st);
        mt_print_diags(d);
    }
    assert_int_equal(st, CONN_INVALID);
    assert_true(mt_has_diag(d, needle));
    /* The same lines reach the caller's conn_error. */
    assert_int_equal(err.status, CONN_INVALID);
    assert_non_null(strstr(err.message, needle));
    assert_null(set);
    acu_map_diags_free(d);
}

static void test_defaults_every_version(void **state)
{
    static const char *const versions[] = {"20.200.001", "22.200.001", "23.200.001", "24.200.001"};
    static const char *const names[][2] = {
        {"customers", "to_host"}, {"customers", "from_host"}, {"products", "to_host"},
        {"non_stock_items", "to_host"}, {"locations", "to_host"}, {"inventory", "to_host"},
        {"sales_orders", "from_host"}, {"sales_orders", "to_host"}, {"tracking", "to_host"},
        {"tracking", "from_host"}};
    (void)state;
    for (size_t v = 0; v < 4; v++) {
        acu_mapset *set = NULL;
        acu_map_diags *d = NULL;
        conn_error err;
        conn_status st = mt_load(1, versions[v], NULL, NULL, &set, &d, &err);
        if (st != CONN_OK) {
            fprintf(stderr, "%s: %s\n", versions[v], err.message);
            mt_print_diags(d);
        }
        assert_int_equal(st, CONN_OK);
        assert_string_equal(acu_mapset_version(set), versions[v]);
        assert_int_equal(acu_mapset_count(set), 10);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            acu_map_direction dir = strcmp(names[i][1], "to_host") == 0 ? ACU_MAP_TO_HOST : ACU_MAP_FROM_HOST;
            assert_non_null(acu_mapset_get(set, names[i][0], dir));
        }
        acu_mapset_free(set);
        acu_map_diags_free(d);
    }
}

/* Metadata the flows use: entity, record type, keys, version field, match. */
static void test_metadata(void **state)
{
    acu_mapset *set = NULL;
    conn_error err;
    const acu_map *m;

    (void)state;
    assert_int_equal(mt_load(1, "22.200.001", NULL, NULL, &set, NULL, &err), CONN_OK);
    m = acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST);
    assert_string_equal(acu_map_entity(m), "SalesOrder");
    assert_string_equal(acu_map_record_type(m), "transaction");
    assert_string_equal(acu_map_flow(m), "sales_orders");
    assert_string_equal(acu_map_last_modified_field(m), "LastModified");
    assert_int_equal(acu_map_key_count(m), 2);
    assert_string_equal(acu_map_key(m, 0), "OrderType");
    assert_string_equal(acu_map_key(m, 1), "OrderNbr");
    assert_int_equal(acu_map_match_count(m), 1);
    assert_string_equal(acu_map_match(m, 0), "CustomerOrder");
    assert_null(acu_map_for_each(m));
    m = acu_mapset_get(set, "tracking", ACU_MAP_TO_HOST);
    assert_string_equal(acu_map_for_each(m), "Packages");
    assert_string_equal(acu_map_last_modified_field(m), "LastModifiedDateTime");
    m = acu_mapset_get(set, "non_stock_items", ACU_MAP_TO_HOST);
    assert_string_equal(acu_map_flow(m), "products");
    assert_string_equal(acu_map_entity(m), "NonStockItem");
    assert_null(acu_mapset_get(set, "nothing", ACU_MAP_TO_HOST));
    acu_mapset_free(set);
    /* 24.200.001: StockItem's version field changes. */
    assert_int_equal(mt_load(1, "24.200.001", NULL, NULL, &set, NULL, &err), CONN_OK);
    m = acu_mapset_get(set, "products", ACU_MAP_TO_HOST);
    assert_string_equal(acu_map_last_modified_field(m), "LastModifiedDateTime");
    acu_mapset_free(set);
}

static void test_select_expand(void **state)
{
    acu_mapset *set = NULL;
    conn_error err;
    char *sel, *exp, *cus;
    const acu_map *m;
    static const char ov[] =
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"to_host\", \"fields\": ["
        " {\"target\": \"ext\", \"source\": \"custom.Document.UsrExternalRef\"},"
        " {\"target\": \"lines.gift\", \"source\": \"custom.Transactions.UsrGift\"}]}";
    const char *ovs[] = {ov, NULL};

    (void)state;
    assert_int_equal(mt_load(1, NULL, NULL, ovs, &set, NULL, &err), CONN_OK);
    m = acu_mapset_get(set, "sales_orders", ACU_MAP_TO_HOST);
    assert_int_equal(acu_map_select_expand(m, &sel, &exp, &cus, &err), CONN_OK);
    assert_non_null(strstr(sel, "CustomerOrder"));
    assert_non_null(strstr(sel, "Details/InventoryID"));
    assert_non_null(strstr(sel, "ShipToAddress/City"));
    assert_non_null(strstr(sel, "LastModified"));
    assert_non_null(strstr(sel, "OrderNbr"));
    assert_string_equal(exp, "Details,ShipToAddress,ShipToContact");
    assert_string_equal(cus, "Details/Transactions.UsrGift,Document.UsrExternalRef");
    free(sel);
    free(exp);
    free(cus);
    m = acu_mapset_get(set, "customers", ACU_MAP_TO_HOST);
    assert_int_equal(acu_map_select_expand(m, &sel, &exp, &cus, &err), CONN_OK);
    assert_string_equal(exp, "BillingContact,BillingContact/Address,Contacts,Contacts/Contact,"
                             "MainContact,MainContact/Address,ShippingContact,ShippingContact/Address");
    assert_non_null(strstr(sel, "MainContact/Address/City"));
    assert_non_null(strstr(sel, "Contacts/Contact/Email"));
    assert_non_null(strstr(sel, "Contacts/ContactID"));
    assert_null(cus);
    free(sel);
    free(exp);
    m = acu_mapset_get(set, "tracking", ACU_MAP_TO_HOST);
    assert_int_equal(acu_map_select_expand(m, &sel, &exp, &cus, &err), CONN_OK);
    assert_string_equal(exp, "Orders,Packages,Packages/PackageContents");
    assert_non_null(strstr(sel, "Packages/TrackingNbr"));
    assert_non_null(strstr(sel, "Orders/OrderNbr"));
    assert_non_null(strstr(sel, "ShipmentNbr"));
    free(sel);
    free(exp);
    free(cus);
    /* FROM_HOST: what it writes, for the PUT's $expand. */
    m = acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST);
    assert_int_equal(acu_map_select_expand(m, &sel, &exp, &cus, &err), CONN_OK);
    assert_null(sel);
    assert_string_equal(exp, "BillToAddress,BillToContact,Details,Payments,ShipToAddress,ShipToContact,TaxDetails");
    free(exp);
    free(cus);
    acu_mapset_free(set);
}

/* Every message of the file checker (mirrors mapping.schema.json). */
static void test_check_messages(void **state)
{
    (void)state;
    expect_problem(0, "[1]", "mapping_overrides[0] /: a mapping file must be a JSON object, not a list");
    expect_problem(0, "{\"nmae\": \"x\", \"lookups\": {}}",
                   "mapping_overrides[0] /nmae: unknown key 'nmae' in a mapping file; did you mean 'name'?");
    expect_problem(0, "{\"description\": \"x\"}",
                   "the file has neither a mapping (\"name\", \"direction\", \"fields\") nor \"lookups\"");
    expect_problem(0, "{\"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": []}",
                   "/: the mapping has no \"name\" (e.g. \"sales_orders\")");
    expect_problem(0, "{\"name\": \"Bad Name\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": []}",
                   "/name: a mapping name is lower case letters, digits and _ (e.g. sales_orders), not 'Bad Name'");
    expect_problem(0, "{\"name\": \"x\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": []}",
                   "the mapping has no \"direction\" ('to_host' or 'from_host')");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"fromhost\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": []}",
                   "/direction: 'fromhost' is not a valid direction; did you mean 'from_host'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"sideways\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": []}",
                   "/direction: 'sideways' is not a valid direction; it must be one of 'to_host' or 'from_host'");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"record_type\": \"customer\", \"fields\": []}",
                   "the mapping has no \"entity\" (the Acumatica entity, e.g. \"SalesOrder\")");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"fields\": []}",
                   "the mapping has no \"record_type\" (the host record, e.g. \"transaction\")");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\"}",
                   "the mapping has no \"fields\"");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": 5, \"record_type\": \"customer\", \"fields\": []}",
                   "/entity: 'entity' must be text, not a number");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"\", \"record_type\": \"customer\", \"fields\": []}",
                   "/entity: 'entity' must not be empty");
    expect_problem(1, "{\"overlay\": true, \"name\": \"customers\", \"direction\": \"to_host\", \"entity\": \"Contact\"}",
                   "/entity: an overlay cannot change 'entity'; write a complete mapping (without \"overlay\") instead");
    expect_problem(1, "{\"overlay\": \"yes\", \"name\": \"customers\", \"direction\": \"to_host\"}",
                   "/overlay: 'overlay' must be true or false, not text");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"match\": [], \"fields\": []}",
                   "/match: 'match' must be a non-empty list of Acumatica field names");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"match\": [1], \"fields\": []}",
                   "/match/0: a match entry must be a field name");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"skip_filters\": {}, \"fields\": []}",
                   "/skip_filters: 'skip_filters' must be a list of filters");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"error_filters\": [{\"message\": \"m\"}], \"fields\": []}",
                   "/error_filters/0: the filter has no \"when\" condition");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"error_filters\": [{\"when\": \"1\", \"mesage\": \"m\"}], \"fields\": []}",
                   "/error_filters/0/mesage: unknown key 'mesage' in a filter; did you mean 'message'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"error_filters\": [7], \"fields\": []}",
                   "/error_filters/0: a filter must be an object with \"when\" and \"message\", not a number");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": {}}",
                   "/fields: 'fields' must be a list of field mappings");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [\"a\"]}",
                   "/fields/0: a field mapping must be an object with a \"target\", not text");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"source\": \"CustomerID\"}]}",
                   "/fields/0: the field mapping has no \"target\"");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\"}]}",
                   "/fields/0: the field mapping needs one of \"source\", \"value\", \"template\" or \"expr\"");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"value\": 1}]}",
                   "/fields/0: the field mapping has more than one of \"source\", \"value\", \"template\" and \"expr\"; keep one");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"tansforms\": [\"trim\"]}]}",
                   "/fields/0/tansforms: unknown key 'tansforms' in a field mapping; did you mean 'transforms'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"transforms\": \"trim\"}]}",
                   "/fields/0/transforms: 'transforms' must be a list such as [\"trim\", {\"truncate\": 30}]");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"transforms\": [{\"a\": 1, \"b\": 2}]}]}",
                   "/fields/0/transforms/0: a transform with an argument is an object with exactly one key");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"transforms\": [3]}]}",
                   "/fields/0/transforms/0: a transform is a name (\"trim\") or {\"name\": argument}, not a number");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"transforms\": [\"\"]}]}",
                   "/fields/0/transforms/0: a transform name must not be empty");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"max_length\": 0}]}",
                   "/fields/0/max_length: 'max_length' must be a whole number from 1 to 1000000");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"on_overflow\": \"truncate\"}]}",
                   "/fields/0/on_overflow: 'on_overflow' needs a 'max_length'");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"max_length\": 5, \"on_overflow\": \"cut\"}]}",
                   "/fields/0/on_overflow: 'cut' is not a valid on_overflow");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"required\": \"yes\"}]}",
                   "/fields/0/required: 'required' must be true or false, not text");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"default\": [1]}]}",
                   "/fields/0/default: 'default' must be text, a number, a boolean or null");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"custom.A.B\", \"source\": \"a\", \"type\": \"text\"}]}",
                   "/fields/0/type: 'text' is not a valid type");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"a\", \"source\": \"CustomerID\", \"op\": \"set\"}]}",
                   "/fields/0/op: \"op\" belongs in overlays (files with \"overlay\": true)");
    expect_problem(1, "{\"overlay\": true, \"name\": \"customers\", \"direction\": \"to_host\", \"fields\": [{\"target\": \"name\", \"op\": \"delete\"}]}",
                   "/fields/0/op: 'delete' is not a valid op");
    expect_problem(1, "{\"overlay\": true, \"name\": \"customers\", \"direction\": \"to_host\", \"fields\": [{\"target\": \"name\", \"op\": \"remove\", \"source\": \"x\"}]}",
                   "/fields/0/source: a removal names only its \"target\"; 'source' has no effect");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"c\", \"fields\": []}]}",
                   "/fields/0: a child collection (with \"fields\") needs a \"source\": the list it maps");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"c\", \"source\": \"Contacts\", \"expr\": \"1\", \"fields\": []}]}",
                   "/fields/0/expr: a child collection maps \"source\" with \"fields\"; 'expr' cannot be used with it");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"c\", \"source\": \"Contacts\", \"max_length\": 3, \"fields\": []}]}",
                   "/fields/0/max_length: 'max_length' applies to single fields, not to a child collection");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"c\", \"source\": \"CustomerID\", \"delete_when\": \"1\"}]}",
                   "/fields/0/delete_when: 'delete_when' applies to child collections (entries with \"fields\")");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [{\"target\": \"c\", \"source\": \"Contacts\", \"fields\": 3}]}",
                   "/fields/0/fields: 'fields' must be a list of field mappings");
    /* lookups */
    expect_problem(0, "{\"lookups\": []}", "/lookups: 'lookups' must be an object: table name -> table");
    expect_problem(0, "{\"lookups\": {\"Ship Via\": {\"rows\": {}}}}",
                   "/lookups/Ship Via: a lookup table name is lower case letters, digits and _ (e.g. ship_via), not 'Ship Via'");
    expect_problem(0, "{\"lookups\": {\"t\": 1}}", "/lookups/t: a lookup table must be an object with \"rows\"");
    expect_problem(0, "{\"lookups\": {\"t\": {\"rows\": {}, \"nomatch\": \"pass\"}}}",
                   "/lookups/t/nomatch: unknown key 'nomatch' in a lookup table; did you mean 'no_match'?");
    expect_problem(0, "{\"lookups\": {\"t\": {\"rows\": []}}}", "/lookups/t/rows: 'rows' must be an object: key -> value");
    expect_problem(0, "{\"lookups\": {\"t\": {\"rows\": {\"a/b\": {}}}}}",
                   "/lookups/t/rows/a~1b: a lookup value must be text, a number, a boolean or null");
    expect_problem(0, "{\"lookups\": {\"t\": {\"rows\": {}, \"no_match\": \"default\"}}}",
                   "/lookups/t: no_match is 'default' but the table has no \"default\"");
    expect_problem(0, "{\"lookups\": {\"t\": {\"rows\": {}, \"no_match\": \"skip\"}}}",
                   "/lookups/t/no_match: 'skip' is not a valid no_match");
    expect_problem(0, "{\"lookups\": {\"t\": {\"rows\": {}, \"default\": {}}}}",
                   "/lookups/t/default: a lookup default must be text, a number, a boolean or null");
}

/* Messages of the merge (overlays) and of the compiler. */
static void test_merge_and_compile_messages(void **state)
{
    (void)state;
    /* overlays */
    expect_problem(0, "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\", \"fields\": []}",
                   "mapping_overrides[0] /name: this overlay changes mapping 'sales_orders' (from_host), which does not exist (Create Default Mappings is false, so only your files count)");
    expect_problem(1, "{\"overlay\": true, \"name\": \"sales_order\", \"direction\": \"from_host\", \"fields\": []}",
                   "/name: this overlay changes mapping 'sales_order' (from_host), which does not exist; did you mean 'sales_orders'?");
    expect_problem(1, "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\", \"fields\": [{\"target\": \"CustomerOrdr\", \"op\": \"remove\"}]}",
                   "/fields/0/target: mapping 'sales_orders' (from_host) has no field with target 'CustomerOrdr' to remove; did you mean 'CustomerOrder'?");
    expect_problem(1, "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\", \"fields\": [{\"target\": \"Details.OrderQtty\", \"op\": \"replace\", \"source\": \"q\"}]}",
                   "/fields/0/target: mapping 'sales_orders' (from_host) has no field with target 'Details.OrderQtty' to replace; did you mean 'Details.OrderQty'?");
    expect_problem(1, "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\", \"fields\": [{\"target\": \"CustomerOrder\", \"op\": \"add\", \"source\": \"x\"}]}",
                   "/fields/0/target: mapping 'sales_orders' (from_host) already maps target 'CustomerOrder' (at mappings/22.200.001/sales_orders.from_host.json /fields/2); use \"op\": \"replace\" or \"set\"");
    /* the compiler: entity, record type, fields */
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrders\", \"record_type\": \"transaction\", \"fields\": []}",
                   "mapping_overrides[0] /entity: unknown entity 'SalesOrders' in endpoint 22.200.001; did you mean 'SalesOrder'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Address\", \"record_type\": \"transaction\", \"fields\": []}",
                   "/entity: 'Address' is not a top-level entity of endpoint 22.200.001");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transation\", \"fields\": []}",
                   "/record_type: unknown record type 'transation'; did you mean 'transaction'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"l\", \"source\": \"Details\", \"fields\": [{\"target\": \"q\", \"source\": \"OrderQuantity\"}]}]}",
                   "mapping_overrides[0] /fields/0/fields/0/source: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"expr\": \"sum(Details, OrderQuantity * 2)\"}]}",
                   "/fields/0/expr, column 14: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"source\": \"Details.OrderQty\"}]}",
                   "/fields/0/source: 'OrderQty' cannot be read from a list; use count()/sum() or a child mapping");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"source\": \"OrderNbr.X\"}]}",
                   "/fields/0/source: 'X' cannot be read from a string (the path goes through a field that has no members)");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"source\": \"OrderNbr[0]\"}]}",
                   "/fields/0/source: '[0]' needs a list, but this part of the path is not one");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"source\": \"custom.Document\"}]}",
                   "/fields/0/source: a custom field is written custom.<View>.<Field>");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"source\": \"concat(OrderNbr)\"}]}",
                   "/fields/0/source: 'source' is a field path such as customer.email or MainContact.Email; use \"expr\" for a computation");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"q\", \"source\": \"OrderNbr\"}, {\"target\": \"q\", \"source\": \"OrderType\"}]}",
                   "/fields/1/target: target 'q' is mapped twice (also at mapping_overrides[0] /fields/0)");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a..b\", \"source\": \"OrderNbr\"}]}",
                   "/fields/0/target: 'a..b' is not a valid target");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"l\", \"source\": \"OrderNbr\", \"fields\": []}]}",
                   "/fields/0/source: 'OrderNbr' is not a detail collection of SalesOrder");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"source\": \"OrderNbr\", \"transforms\": [\"trimm\"]}]}",
                   "/fields/0/transforms/0: unknown transform 'trimm'; did you mean 'trim'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"source\": \"OrderNbr\", \"transforms\": [{\"truncate\": [1, 2]}]}]}",
                   "/fields/0/transforms/0: truncate() takes 2 arguments, not 3");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"source\": \"OrderNbr\", \"transforms\": [{\"lookup\": \"nope\"}]}]}",
                   "/fields/0/transforms/0: unknown lookup table 'nope'");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"expr\": \"count(OrderNbr)\"}]}",
                   "/fields/0/expr, column 7: count() needs a list (a detail collection such as Details), but this is a string");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"template\": \"{OrderNbr\"}]}",
                   "/fields/0/template, column 1: the '{' here is not closed with '}'");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"source\": \"OrderNbr\", \"when\": \"OrderNbr ==\"}]}",
                   "/fields/0/when, column 12: expected a value, a field or a function, found the end of the expression");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
                      " \"skip_filters\": [{\"when\": \"Statuss == 'x'\", \"message\": \"m\"}], \"fields\": []}",
                   "/skip_filters/0/when, column 1: unknown field 'Statuss' on SalesOrder; did you mean 'Status'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
                      " \"error_filters\": [{\"when\": \"1 == 1\", \"message\": \"{uper(OrderNbr)}\"}], \"fields\": []}",
                   "/error_filters/0/message, column 2: unknown function 'uper'; did you mean 'upper'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"id\": \"OrderNumber\", \"fields\": []}",
                   "/id, column 1: unknown field 'OrderNumber' on SalesOrder; did you mean 'OrderNbr'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"for_each\": \"OrderNbr\", \"fields\": []}",
                   "/for_each: 'OrderNbr' is not a detail collection of SalesOrder");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"for_each\": \"lines\", \"fields\": []}",
                   "/for_each: 'for_each' applies only to to_host mappings");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"l\", \"source\": \"Details\", \"delete_when\": \"true\", \"fields\": []}]}",
                   "/fields/0/delete_when: 'delete_when' removes detail lines in Acumatica; it applies only to from_host mappings");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"match\": [\"OrderNbr\"], \"fields\": []}",
                   "/match: 'match' names the Acumatica fields that find an existing record; it applies only to from_host mappings");
    /* from_host targets */
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"Details\", \"source\": \"lines\", \"fields\": [{\"target\": \"OrderQuantity\", \"source\": \"quantity\"}]}]}",
                   "mapping_overrides[0] /fields/0/fields/0/target: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"ShipToAddress\", \"source\": \"a\"}]}",
                   "/fields/0/target: 'ShipToAddress' on SalesOrder is a linked entity (Address); map its fields, e.g. ShipToAddress.City");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"Details\", \"source\": \"a\"}]}",
                   "/fields/0/target: 'Details' on SalesOrder is a detail collection (SalesOrderDetail); map its fields with a child mapping (\"source\" + \"fields\")");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"OrderNbr.X\", \"source\": \"a\"}]}",
                   "/fields/0/target: 'OrderNbr' on SalesOrder is a single value, so 'X' cannot be set inside it");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"ShipVia\", \"source\": \"a\", \"fields\": []}]}",
                   "/fields/0/target: 'ShipVia' on SalesOrder is not a detail collection");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"custom.Document.UsrX\", \"source\": \"a\"}]}",
                   "/fields/0: the custom field target 'custom.Document.UsrX' needs a \"type\"");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"custom.UsrX\", \"source\": \"a\", \"type\": \"string\"}]}",
                   "/fields/0/target: a custom field target is written custom.<View>.<Field>");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"a\", \"source\": \"OrderNbr\", \"type\": \"string\"}]}",
                   "/fields/0/type: 'type' applies only to custom.<View>.<Field> targets of from_host mappings");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"OrderTotal\", \"source\": \"a\", \"max_length\": 5}]}",
                   "/fields/0/max_length: 'max_length' applies to text fields; 'OrderTotal' is a decimal field");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"fields\": ["
                      "{\"target\": \"rowNumber\", \"source\": \"a\"}]}",
                   "/fields/0/target: 'rowNumber' is set by Acumatica and cannot be a target");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"match\": [\"CustomerOrdr\"], \"fields\": []}",
                   "/match/0: unknown field 'CustomerOrdr' on SalesOrder; did you mean 'CustomerOrder'?");
    expect_problem(0, "{\"name\": \"x\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\", \"match\": [\"ExternalRef\"], \"fields\": []}",
                   "/match/0: match field 'ExternalRef' is not the target of any field of this mapping, so it could never find a record");
}

/* JSON syntax, files, versions. */
static void test_files_and_versions(void **state)
{
    acu_mapset *set = NULL;
    acu_map_diags *d = NULL;
    conn_error err;
    const char *missing[] = {"/nonexistent/dir/overlay.json", NULL};
    char path[] = "/tmp/acu_map_test_XXXXXX";
    int fd;

    (void)state;
    expect_problem(0, "{\"lookups\": {\n  \"t\": {\"rows\": {,}}}}",
                   "mapping_overrides[0] /: not valid JSON: quoted object property name expected at line 2, column 18");
    expect_problem(0, "{\"lookups\": {}", "not valid JSON: the document ends too early at line 1, column 15");
    expect_problem(0, "{\"lookups\": {}} x", "not valid JSON: unexpected character at line 1, column 17");
    assert_int_equal(mt_load(0, NULL, NULL, missing, &set, &d, &err), CONN_INVALID);
    assert_true(mt_has_diag(d, "/nonexistent/dir/overlay.json /: cannot open the file: No such file or directory"));
    acu_map_diags_free(d);
    assert_int_equal(mt_load(1, "19.100.001", NULL, NULL, &set, &d, &err), CONN_INVALID);
    assert_true(mt_has_diag(d, "settings /endpoint_version: endpoint version '19.100.001' is not supported by this plugin; it knows 20.200.001, 22.200.001, 23.200.001, 24.200.001"));
    acu_map_diags_free(d);
    /* An overlay read from a file: its path is the name in every problem. */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    {
        static const char text[] =
            "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\",\n"
            " \"fields\": [{\"target\": \"Details.OrderQuantity\", \"source\": \"quantity\"}]}\n";
        assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
        close(fd);
    }
    {
        const char *ov[] = {path, NULL};
        char want[512];
        assert_int_equal(mt_load(1, NULL, NULL, ov, &set, &d, &err), CONN_INVALID);
        snprintf(want, sizeof(want),
                 "%s /fields/0/target: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?", path);
        assert_true(mt_has_diag(d, want));
        assert_non_null(strstr(err.message, want));
        acu_map_diags_free(d);
    }
    unlink(path);
}

/* Every problem is reported at once, in one load; err->message is capped
 * with a count of what did not fit. */
static void test_every_problem_at_once(void **state)
{
    static const char doc[] =
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\", \"fields\": ["
        " {\"target\": \"Details.OrderQuantity\", \"source\": \"qty\"},"
        " {\"target\": \"CustomerOrdr\", \"op\": \"remove\"},"
        " {\"target\": \"Description\", \"expr\": \"concat(transaction_number, uper(x))\"},"
        " {\"target\": \"Date\", \"expr\": \"local_date(date\"},"
        " {\"target\": \"Total\", \"tansforms\": [\"trim\"], \"source\": \"x\"}]}";
    const char *ov[] = {doc, NULL};
    acu_mapset *set = NULL;
    acu_map_diags *d = NULL;
    conn_error err;
    char many[60000];
    size_t o = 0;

    (void)state;
    assert_int_equal(mt_load(1, NULL, NULL, ov, &set, &d, &err), CONN_INVALID);
    assert_int_equal(acu_map_diags_count(d), 5);
    assert_true(mt_has_diag(d, "/fields/0/target: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?"));
    assert_true(mt_has_diag(d, "/fields/1/target: mapping 'sales_orders' (from_host) has no field with target 'CustomerOrdr'"));
    assert_true(mt_has_diag(d, "/fields/2/expr, column 28: unknown function 'uper'; did you mean 'upper'?"));
    assert_true(mt_has_diag(d, "/fields/3/expr, column 16: expected ',' or ')' in the arguments of 'local_date'"));
    assert_true(mt_has_diag(d, "/fields/4/tansforms: unknown key 'tansforms' in a field mapping; did you mean 'transforms'?"));
    /* one line per problem */
    {
        int lines = 1;
        for (const char *p = err.message; *p; p++)
            lines += *p == '\n';
        assert_int_equal(lines, 5);
    }
    acu_map_diags_free(d);
    /* 300 bad fields: the message ends with how many more there are. */
    o += (size_t)snprintf(many + o, sizeof(many) - o,
                          "{\"name\": \"x\", \"direction\": \"to_host\", \"entity\": \"Customer\", \"record_type\": \"customer\", \"fields\": [");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "%s{\"target\": \"t%d\", \"source\": \"Nope%d\"}",
                              i ? "," : "", i, i);
    snprintf(many + o, sizeof(many) - o, "]}");
    ov[0] = many;
    assert_int_equal(mt_load(0, NULL, NULL, ov, &set, &d, &err), CONN_INVALID);
    assert_int_equal(acu_map_diags_count(d), 300);
    assert_non_null(strstr(err.message, "more problems"));
    assert_true(strlen(err.message) < sizeof(err.message));
    acu_map_diags_free(d);
}

/* Create Default Mappings = false: only the customer's files count. */
static void test_no_defaults(void **state)
{
    static const char own[] =
        "{\"name\": \"customers\", \"direction\": \"to_host\", \"entity\": \"Customer\","
        " \"record_type\": \"customer\", \"id\": \"CustomerID\","
        " \"fields\": [{\"target\": \"customer_id\", \"source\": \"CustomerID\"}]}";
    const char *ov[] = {own, NULL};
    acu_mapset *set = NULL;
    conn_error err;
    json_object *out;

    (void)state;
    assert_int_equal(mt_load(0, NULL, NULL, ov, &set, NULL, &err), CONN_OK);
    assert_int_equal(acu_mapset_count(set), 1);
    assert_null(acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST));
    out = mt_to_host(acu_mapset_get(set, "customers", ACU_MAP_TO_HOST),
                     "{\"CustomerID\": {\"value\": \"C1\"}, \"CustomerName\": {\"value\": \"x\"}}");
    mt_assert_json(out, "[{\"status\": \"ok\", \"id\": \"C1\", \"record\": {\"customer_id\": \"C1\"}}]");
    json_object_put(out);
    acu_mapset_free(set);
    /* No default lookup tables either. */
    {
        static const char uses[] =
            "{\"name\": \"customers\", \"direction\": \"to_host\", \"entity\": \"Customer\","
            " \"record_type\": \"customer\","
            " \"fields\": [{\"target\": \"c\", \"expr\": \"lookup('carrier', ShipVia)\"}]}";
        expect_problem(0, uses, "/fields/0/expr, column 8: unknown lookup table 'carrier' (there are no lookup tables)");
    }
}

/* The one-call load from a settings object, the flows list for describe,
 * and the flows' field reader. */
static void test_settings_and_helpers(void **state)
{
    json_object *settings = mt_json("{\"endpoint_version\": \"24.200.001\", \"time_zone_offset\": \"+02:00\","
                                    " \"create_default_mappings\": true, \"mapping_overrides\": []}");
    json_object *rec, *flows;
    acu_mapset *set = NULL;
    conn_error err;
    int products = 0;

    (void)state;
    assert_int_equal(acu_mapset_load_settings(settings, NULL, &set, &err), CONN_OK);
    assert_string_equal(acu_mapset_version(set), "24.200.001");
    flows = acu_mapset_flows_json(set);
    assert_int_equal(json_object_array_length(flows), 10);
    for (size_t i = 0; i < json_object_array_length(flows); i++) {
        json_object *f = json_object_array_get_idx(flows, i);
        if (strcmp(json_object_get_string(json_object_object_get(f, "flow")), "products") == 0)
            products++;
    }
    assert_int_equal(products, 2);
    json_object_put(flows);
    acu_mapset_free(set);
    json_object_put(settings);
    settings = mt_json("{\"time_zone_offset\": \"noon\"}");
    assert_int_equal(acu_mapset_load_settings(settings, NULL, &set, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "time_zone_offset 'noon' is not an offset"));
    json_object_put(settings);
    settings = mt_json("{\"mapping_overrides\": [{\"overlay\": true, \"name\": \"nope\", \"direction\": \"to_host\"}]}");
    assert_int_equal(acu_mapset_load_settings(settings, NULL, &set, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "mapping_overrides[0] /name: this overlay changes mapping 'nope' (to_host), which does not exist"));
    json_object_put(settings);

    rec = mt_json("{\"LastModified\": {\"value\": \"2024-01-02T03:04:05+00:00\"}, \"Empty\": {},"
                  " \"MainContact\": {\"Email\": {\"value\": \"a@b\"}},"
                  " \"custom\": {\"Document\": {\"UsrX\": {\"type\": \"CustomIntField\", \"value\": 7}}}}");
    assert_string_equal(json_object_get_string(acu_map_field_value(rec, "LastModified")), "2024-01-02T03:04:05+00:00");
    assert_string_equal(json_object_get_string(acu_map_field_value(rec, "MainContact.Email")), "a@b");
    assert_int_equal(json_object_get_int(acu_map_field_value(rec, "custom.Document.UsrX")), 7);
    assert_null(acu_map_field_value(rec, "Empty"));
    assert_null(acu_map_field_value(rec, "Missing.X"));
    assert_null(acu_map_field_value(rec, "MainContact..Email"));
    json_object_put(rec);
}

/* Messages of the file checker, the file reader and the compiler that the
 * other tests do not reach: lookup files, the lookup transform, sizes,
 * unreadable files, and the compiler's own nesting guard. */
static void test_more_load_messages(void **state)
{
    acu_map_diags *d = acu_map_diags_new();
    json_object *doc;
    int fatal = 0;

    (void)state;
    /* files in mappings/lookups/ (the embedded defaults) */
    doc = mt_json("{\"name\": \"x\", \"lookups\": {\"t\": {\"rows\": {}}}}");
    acu_map_check_document(doc, "mappings/lookups/x.json", "lookup", d, &fatal);
    assert_true(mt_has_diag(d, "mappings/lookups/x.json /: a file in lookups/ holds only \"lookups\""));
    assert_true(fatal);
    json_object_put(doc);
    doc = mt_json("{\"description\": \"nothing\"}");
    acu_map_check_document(doc, "mappings/lookups/y.json", "lookup", d, &fatal);
    assert_true(mt_has_diag(d, "mappings/lookups/y.json /: the file has no \"lookups\""));
    json_object_put(doc);
    acu_map_diags_free(d);

    expect_problem(1,
        "{\"overlay\": true, \"name\": \"customers\", \"direction\": \"from_host\","
        " \"fields\": [{\"target\": \"CustomerClass\", \"source\": \"group\", \"transforms\": [\"lookup\"]}]}",
        "mapping_overrides[0] /fields/0/transforms/0: the lookup transform names its table: {\"lookup\": \"ship_via\"}");

    /* A NUL inside a JSON string would silently cut the expression short. */
    expect_problem(1,
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\","
        " \"fields\": [{\"target\": \"CustomerOrder\", \"op\": \"replace\", \"expr\": \"upper(transaction_number)\\u0000junk\"}]}",
        "mapping_overrides[0] /fields/0/expr: 'expr' contains a NUL character (\\u0000), which would cut it short");

    /* an inline override over 4 MB */
    {
        size_t n = ACU_MAP_MAX_FILE_BYTES + 100;
        char *big = malloc(n + 1), want[128];
        assert_non_null(big);
        memset(big, ' ', n);
        memcpy(big, "{\"lookups\": {}}", 15);
        big[n] = '\0';
        snprintf(want, sizeof(want), "mapping_overrides[0] /: the file is %zu bytes; the limit is %u", n,
                 ACU_MAP_MAX_FILE_BYTES);
        expect_problem(0, big, want);
        free(big);
    }
    /* an overlay file over 4 MB, and a path that is a directory */
    {
        char path[] = "/tmp/acu_map_big_XXXXXX", want[160];
        int fd = mkstemp(path);
        const char *ov[] = {path, "/tmp", NULL};
        acu_mapset *set = NULL;
        conn_error err;
        static char chunk[65536];
        assert_true(fd >= 0);
        memset(chunk, ' ', sizeof(chunk));
        for (size_t w = 0; w < ACU_MAP_MAX_FILE_BYTES + sizeof(chunk); w += sizeof(chunk))
            assert_int_equal(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
        close(fd);
        assert_int_equal(mt_load(0, NULL, NULL, ov, &set, &d, &err), CONN_INVALID);
        snprintf(want, sizeof(want), "%s /: the file is larger than %u bytes", path, ACU_MAP_MAX_FILE_BYTES);
        if (!mt_has_diag(d, want) || !mt_has_diag(d, "/tmp /: cannot read the file: Is a directory"))
            mt_print_diags(d);
        assert_true(mt_has_diag(d, want));
        assert_true(mt_has_diag(d, "/tmp /: cannot read the file: Is a directory"));
        acu_map_diags_free(d);
        unlink(path);
    }

    /* The checker stops child collections at 6 levels ("nest more than");
     * the compiler guards its own scope stack too, for a document that did
     * not pass the checker. Eight levels, each reading the top record's
     * Details through parent hops, reach that guard. */
    {
        acu_mapset *set = NULL;
        acu_map *m = calloc(1, sizeof(*m));
        conn_error err;
        char text[4096], hops[128] = "";
        size_t n = 0;
        assert_int_equal(mt_load(1, NULL, NULL, NULL, &set, NULL, &err), CONN_OK);
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "{\"name\": \"deep\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\","
                              " \"record_type\": \"transaction\", \"fields\": [");
        for (int level = 0; level < 8; level++) {
            n += (size_t)snprintf(text + n, sizeof(text) - n,
                                  "{\"target\": \"l%d\", \"source\": \"%sDetails\", \"fields\": [", level, hops);
            strcat(hops, "parent.");
        }
        n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"target\": \"sku\", \"source\": \"InventoryID\"}");
        for (int level = 0; level < 8; level++)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "]}");
        snprintf(text + n, sizeof(text) - n, "]}");
        d = acu_map_diags_new();
        assert_non_null(m);
        assert_int_not_equal(acu_map_compile(set, mt_json(text), m, NULL, d), 0);
        if (!mt_has_diag(d, "child collections nest too deeply"))
            mt_print_diags(d);
        assert_true(mt_has_diag(d, "child collections nest too deeply"));
        acu_map_diags_free(d);
        acu_map_free(m);
        acu_mapset_free(set);
    }
    /* the same document through the loader: the checker's sentence */
    expect_problem(1,
        "{\"name\": \"deep\", \"direction\": \"to_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
        " \"fields\": [{\"target\": \"a\", \"source\": \"Details\", \"fields\": ["
        "{\"target\": \"b\", \"source\": \"parent.Details\", \"fields\": ["
        "{\"target\": \"c\", \"source\": \"parent.parent.Details\", \"fields\": ["
        "{\"target\": \"d\", \"source\": \"parent.parent.parent.Details\", \"fields\": ["
        "{\"target\": \"e\", \"source\": \"parent.parent.parent.parent.Details\", \"fields\": ["
        "{\"target\": \"f\", \"source\": \"parent.parent.parent.parent.parent.Details\", \"fields\": ["
        "{\"target\": \"g\", \"source\": \"parent.parent.parent.parent.parent.parent.Details\", \"fields\": ["
        "{\"target\": \"sku\", \"source\": \"InventoryID\"}]}]}]}]}]}]}]}]}",
        "/fields/0/fields/0/fields/0/fields/0/fields/0/fields/0: child collections nest more than 6 levels");
}

/* Load one overlay; exactly one problem, containing needle. */
static void expect_only_problem(const char *doc, const char *needle)
{
    const char *ov[] = {doc, NULL};
    acu_mapset *set = NULL;
    acu_map_diags *d = NULL;
    conn_error err;
    conn_status st = mt_load(1, NULL, NULL, ov, &set, &d, &err);

    if (acu_map_diags_count(d) != 1 || !mt_has_diag(d, needle)) {
        fprintf(stderr, "expected only:\n  %s\nfor:\n  %s\ngot:\n", needle, doc);
        mt_print_diags(d);
    }
    assert_int_equal(st, CONN_INVALID);
    assert_int_equal(acu_map_diags_count(d), 1);
    assert_true(mt_has_diag(d, needle));
    acu_map_diags_free(d);
}

/* A field whose own entry is wrong still counts as the target of its
 * "match" entry: only the real problem is reported, not a second one
 * saying the match field is mapped by nothing. */
static void test_match_field_with_a_broken_entry(void **state)
{
    (void)state;
    expect_only_problem(
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\","
        " \"fields\": [{\"target\": \"CustomerOrder\", \"op\": \"replace\", \"expr\": \"uper(transaction_number)\"}]}",
        "mapping_overrides[0] /fields/0/expr, column 1: unknown function 'uper'; did you mean 'upper'?");
    /* An entry dropped for a problem of its shape (both source and expr). */
    expect_only_problem(
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\", \"match\": [\"ExternalRef\"],"
        " \"fields\": [{\"target\": \"CustomerOrder\", \"op\": \"remove\"},"
        "            {\"target\": \"ExternalRef\", \"op\": \"add\", \"source\": \"a\", \"expr\": \"b\"}]}",
        "mapping_overrides[0] /fields/1: the field mapping has more than one of");
    /* A complete mapping: the match field's expression fails to bind. */
    expect_only_problem(
        "{\"name\": \"m\", \"direction\": \"from_host\", \"entity\": \"SalesOrder\", \"record_type\": \"transaction\","
        " \"match\": [\"CustomerOrder\"],"
        " \"fields\": [{\"target\": \"CustomerOrder\", \"expr\": \"number +\"}]}",
        "mapping_overrides[0] /fields/0/expr, column 9: expected a value");
    /* The match field really mapped by nothing is still reported. */
    expect_only_problem(
        "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\","
        " \"fields\": [{\"target\": \"CustomerOrder\", \"op\": \"remove\"}]}",
        "mappings/22.200.001/sales_orders.from_host.json /match/0: match field 'CustomerOrder' is not the target "
        "of any field of this mapping, so it could never find a record");
}

/* Load from a settings object; every needle must be among the problems and
 * in err.message, and no line may carry a doubled "settings" prefix. */
static void expect_settings_problems(const char *settings_text, const char *const *needles)
{
    json_object *settings = mt_json(settings_text);
    acu_map_diags *d = acu_map_diags_new();
    acu_mapset *set = NULL;
    conn_error err;
    conn_status st;

    memset(&err, 0, sizeof(err));
    st = acu_mapset_load_settings(settings, d, &set, &err);
    for (size_t i = 0; needles[i]; i++) {
        if (!mt_has_diag(d, needles[i]) || strstr(err.message, needles[i]) == NULL) {
            fprintf(stderr, "settings %s:\n  expected: %s\n  got:\n", settings_text, needles[i]);
            mt_print_diags(d);
        }
        assert_true(mt_has_diag(d, needles[i]));
        assert_non_null(strstr(err.message, needles[i]));
    }
    assert_int_equal(st, CONN_INVALID);
    assert_null(set);
    assert_null(strstr(err.message, "settings: "));
    assert_null(strstr(err.message, "settings /: "));
    /* Without a caller's list the same lines come back in err. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(acu_mapset_load_settings(settings, NULL, &set, &err), CONN_INVALID);
    for (size_t i = 0; needles[i]; i++)
        assert_non_null(strstr(err.message, needles[i]));
    acu_map_diags_free(d);
    json_object_put(settings);
}

#define TYPO_OVERLAY \
    "{\"overlay\": true, \"name\": \"sales_orders\", \"direction\": \"from_host\"," \
    " \"fields\": [{\"target\": \"Details.OrderQuantity\", \"source\": \"quantity\"}]}"
#define TYPO_SENTENCE \
    "/fields/0/target: unknown field 'OrderQuantity' on SalesOrderDetail; did you mean 'OrderQty'?"

/* A malformed setting the loader reads is one problem among the others: it
 * is reported with its own pointer, a stand-in value is used, and the
 * overlays are still checked, so every problem is reported at once. */
static void test_settings_problems_do_not_hide_others(void **state)
{
    (void)state;
    {
        const char *n[] = {"settings /time_zone_offset: time_zone_offset 'noon' is not an offset "
                           "such as -05:00, +0530, UTC+2 or -5; the mappings are checked with +00:00",
                           "mapping_overrides[0] " TYPO_SENTENCE, NULL};
        expect_settings_problems("{\"time_zone_offset\": \"noon\", \"mapping_overrides\": [" TYPO_OVERLAY "]}", n);
    }
    {
        const char *n[] = {"settings /time_zone_offset: time_zone_offset 20 is outside -18..+18 hours; "
                           "the mappings are checked with +00:00",
                           "mapping_overrides[0] " TYPO_SENTENCE, NULL};
        expect_settings_problems("{\"time_zone_offset\": 20, \"mapping_overrides\": [" TYPO_OVERLAY "]}", n);
    }
    {
        const char *n[] = {"settings /time_zone_offset: time_zone_offset 'true' is not an offset", NULL};
        expect_settings_problems("{\"time_zone_offset\": true}", n);
    }
    {
        /* Checked as if true: the overlay finds the default sales_orders. */
        const char *n[] = {"settings /create_default_mappings: create_default_mappings must be true or "
                           "false; the mappings are checked as if it were true",
                           "mapping_overrides[0] " TYPO_SENTENCE, NULL};
        expect_settings_problems("{\"create_default_mappings\": \"no\", \"mapping_overrides\": [" TYPO_OVERLAY "]}", n);
    }
    {
        const char *n[] = {"settings /mapping_overrides: mapping_overrides must be a list of file paths "
                           "or JSON objects", NULL};
        expect_settings_problems("{\"mapping_overrides\": \"/tmp/overlay.json\"}", n);
    }
    {
        /* The malformed entry is skipped; the next keeps its index. */
        const char *n[] = {"settings /mapping_overrides/0: mapping_overrides[0] must be a file path or a "
                           "JSON object; it is skipped and the others are checked",
                           "mapping_overrides[1] " TYPO_SENTENCE, NULL};
        expect_settings_problems("{\"mapping_overrides\": [42, " TYPO_OVERLAY "]}", n);
    }
    {
        const char *n[] = {"settings /endpoint_version: endpoint_version must be text such as "
                           "\"22.200.001\"; the mappings are checked against 22.200.001",
                           "settings /time_zone_offset: time_zone_offset '+99:00' is not an offset",
                           "mapping_overrides[0] " TYPO_SENTENCE, NULL};
        expect_settings_problems("{\"endpoint_version\": 22.2, \"time_zone_offset\": \"+99:00\","
                                 " \"mapping_overrides\": [" TYPO_OVERLAY "]}", n);
    }
    {
        /* An unsupported version still stops (there is no catalogue to
         * check against), and says so once. */
        const char *n[] = {"settings /endpoint_version: endpoint version '9.9' is not supported", NULL};
        expect_settings_problems("{\"endpoint_version\": \"9.9\"}", n);
    }
    {
        /* The options alone: CONN_INVALID, every problem in the list, the
         * first in err, and the stand-in values. */
        json_object *settings = mt_json("{\"time_zone_offset\": \"x\", \"create_default_mappings\": 1,"
                                        " \"mapping_overrides\": [\"/a.json\", null, \"/b.json\"]}");
        acu_map_diags *d = acu_map_diags_new();
        json_object *storage = NULL;
        acu_map_options o;
        conn_error err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(acu_map_options_from_settings(settings, d, &o, &storage, &err), CONN_INVALID);
        assert_int_equal(acu_map_diags_count(d), 3);
        assert_non_null(strstr(err.message, "settings /time_zone_offset: time_zone_offset 'x'"));
        assert_int_equal(o.tz_offset_minutes, 0);
        assert_int_equal(o.create_default_mappings, 1);
        assert_ptr_equal(o.diags, d);
        assert_int_equal(o.override_count, 3);
        assert_string_equal(o.overrides[0], "/a.json");
        assert_null(o.overrides[1]);
        assert_string_equal(o.overrides[2], "/b.json");
        assert_true(mt_has_diag(d, "settings /mapping_overrides/1: mapping_overrides[1] must be a file path"));
        json_object_put(storage);
        acu_map_diags_free(d);
        json_object_put(settings);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_every_version),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_select_expand),
        cmocka_unit_test(test_check_messages),
        cmocka_unit_test(test_merge_and_compile_messages),
        cmocka_unit_test(test_files_and_versions),
        cmocka_unit_test(test_every_problem_at_once),
        cmocka_unit_test(test_no_defaults),
        cmocka_unit_test(test_settings_and_helpers),
        cmocka_unit_test(test_settings_problems_do_not_hide_others),
        cmocka_unit_test(test_match_field_with_a_broken_entry),
        cmocka_unit_test(test_more_load_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
