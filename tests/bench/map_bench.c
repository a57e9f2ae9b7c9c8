/* map_bench.c - how fast the mapping engine maps sales orders with 5 lines,
 * both directions, on one core.
 *
 *   map_bench [seconds per case, default 2]
 *
 * Prints, per direction: records per second, microseconds per record, the
 * field evaluations one record needs (every field mapping run, lines
 * counted per line) and nanoseconds per field evaluation; once for the
 * mapping alone (the record already parsed, the result not serialised) and
 * once end to end (parse the JSON text, map, serialise the result), which is
 * what a pull or push page costs per record. Also the time to load and
 * compile the default mapping set (what init pays). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acu_map_internal.h"

static const char host_order[] =
    "{\"transaction_number\": \"WEB-100234\", \"customer_id\": \"C000123\","
    " \"date\": \"2024-03-01T14:22:05Z\", \"requested_date\": \"2024-03-05\", \"currency\": \"USD\","
    " \"description\": \"Web order WEB-100234\", \"notes\": \"Leave at the back door\","
    " \"location_id\": \"RETAIL\", \"shipping\": {\"carrier\": \"ups\", \"method\": \"ups_ground\"},"
    " \"ship_to\": {\"name\": \"Ann Lee\", \"company\": \"Lee Design\", \"email\": \"ann@example.com\","
    "   \"phone\": \"+1 555 0100\", \"line1\": \"1 Main St\", \"line2\": \"Suite 4\", \"city\": \"Springfield\","
    "   \"region\": \"IL\", \"postal_code\": \"62701\", \"country\": \"US\"},"
    " \"bill_to\": {\"name\": \"Ann Lee\", \"company\": \"Lee Design\", \"email\": \"billing@example.com\","
    "   \"phone\": \"+1 555 0101\", \"line1\": \"PO Box 12\", \"city\": \"Springfield\","
    "   \"region\": \"IL\", \"postal_code\": \"62702\", \"country\": \"US\"},"
    " \"lines\": ["
    "  {\"line_number\": 1, \"sku\": \"AALEGO500\", \"description\": \"Lego 500 pieces\", \"quantity\": 2, \"uom\": \"EA\","
    "   \"unit_price\": {\"amount\": 19.99, \"currency\": \"USD\"}, \"discount\": {\"amount\": 2}, \"external_id\": \"l1\"},"
    "  {\"line_number\": 2, \"sku\": \"AACOMPUT01\", \"description\": \"Computer\", \"quantity\": 1, \"uom\": \"EA\","
    "   \"unit_price\": {\"amount\": 899.0, \"currency\": \"USD\"}, \"external_id\": \"l2\"},"
    "  {\"line_number\": 3, \"sku\": \"CABLE-USB\", \"description\": \"USB cable 2m\", \"quantity\": 3, \"uom\": \"EA\","
    "   \"unit_price\": {\"amount\": 4.5, \"currency\": \"USD\"}, \"external_id\": \"l3\"},"
    "  {\"line_number\": 4, \"sku\": \"MOUSE-01\", \"description\": \"Mouse\", \"quantity\": 1, \"uom\": \"EA\","
    "   \"unit_price\": {\"amount\": 15.0, \"currency\": \"USD\"}, \"location_id\": \"WHOLESALE\", \"external_id\": \"l4\"},"
    "  {\"line_number\": 5, \"sku\": \"GIFTWRAP\", \"description\": \"Gift wrap\", \"quantity\": 1, \"uom\": \"EA\","
    "   \"unit_price\": {\"amount\": 3.0, \"currency\": \"USD\"}, \"tax_category\": \"EXEMPT\", \"external_id\": \"l5\"}],"
    " \"payments\": [{\"external_id\": \"ch_1\", \"method\": \"visa\", \"amount\": {\"amount\": 970.48}, \"reference\": \"ch_1\","
    "   \"date\": \"2024-03-01T14:22:05Z\"}],"
    " \"taxes\": [{\"tax_id\": \"ILSTATE\", \"rate\": 6.25, \"taxable_amount\": {\"amount\": 950.48}, \"tax_amount\": {\"amount\": 59.41}}]}";

/* An Acumatica sales order with 5 lines, as GET ...?$expand=Details,
 * ShipToAddress,ShipToContact returns it. */
static char *acumatica_order(void)
{
    static const char head[] =
        "{\"id\": \"13582ef4-ba9a-ee11-8359-0690322d016b\", \"rowNumber\": 1, \"note\": {\"value\": \"\"},"
        " \"CustomerID\": {\"value\": \"C000123\"}, \"CustomerOrder\": {\"value\": \"WEB-100234\"},"
        " \"Date\": {\"value\": \"2024-03-01T00:00:00+00:00\"}, \"RequestedOn\": {\"value\": \"2024-03-05T00:00:00+00:00\"},"
        " \"Status\": {\"value\": \"Open\"}, \"CurrencyID\": {\"value\": \"USD\"}, \"Description\": {\"value\": \"Web order\"},"
        " \"OrderTotal\": {\"value\": 970.4800}, \"TaxTotal\": {\"value\": 59.4100}, \"OrderNbr\": {\"value\": \"SO004711\"},"
        " \"OrderType\": {\"value\": \"SO\"}, \"ShipVia\": {\"value\": \"UPSGROUND\"},"
        " \"LastModified\": {\"value\": \"2024-03-01T14:25:00.123+00:00\"}, \"ExternalRef\": {},"
        " \"ShipToAddress\": {\"AddressLine1\": {\"value\": \"1 Main St\"}, \"AddressLine2\": {\"value\": \"Suite 4\"},"
        "   \"City\": {\"value\": \"Springfield\"}, \"State\": {\"value\": \"IL\"}, \"PostalCode\": {\"value\": \"62701\"},"
        "   \"Country\": {\"value\": \"US\"}, \"custom\": {}},"
        " \"ShipToContact\": {\"Attention\": {\"value\": \"Ann Lee\"}, \"BusinessName\": {\"value\": \"Lee Design\"},"
        "   \"Email\": {\"value\": \"ann@example.com\"}, \"Phone1\": {\"value\": \"+1 555 0100\"}, \"custom\": {}},"
        " \"Details\": [";
    static const char line[] =
        "{\"id\": \"19582ef4-ba9a-ee11-8359-0690322d016%d\", \"rowNumber\": %d, \"note\": null,"
        " \"LineNbr\": {\"value\": %d}, \"InventoryID\": {\"value\": \"ITEM-%d \"}, \"LineDescription\": {\"value\": \"Item %d\"},"
        " \"OrderQty\": {\"value\": %d.0}, \"UOM\": {\"value\": \"EA\"}, \"UnitPrice\": {\"value\": 19.99},"
        " \"Amount\": {\"value\": 39.98}, \"WarehouseID\": {\"value\": \"RETAIL\"}, \"TaxCategory\": {\"value\": \"TAXABLE\"},"
        " \"LastModifiedDate\": {\"value\": \"12/14/2023 19:57:08\"}, \"custom\": {}}";
    char *out = malloc(16384);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    o += (size_t)snprintf(out + o, 16384 - o, "%s", head);
    for (int i = 1; i <= 5; i++) {
        if (i > 1)
            out[o++] = ',';
        o += (size_t)snprintf(out + o, 16384 - o, line, i, i, i, i, i, i);
    }
    snprintf(out + o, 16384 - o, "], \"custom\": {}}");
    return out;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Field evaluations one record needs: every field mapping, child fields once
 * per element of their source list (when the source is a plain key). */
static size_t count_fields(const acu_node *node, json_object *rec, int wrapped)
{
    size_t n = 0;

    for (size_t i = 0; i < node->nfields; i++) {
        const acu_field *f = &node->fields[i];
        n++;
        if (f->child != NULL && f->value->op == ACU_OP_PATH && f->value->u.path->nseg == 1) {
            json_object *arr;
            if (json_object_object_get_ex(rec, f->value->u.path->seg[0].key, &arr) &&
                json_object_is_type(arr, json_type_array)) {
                for (size_t k = 0; k < json_object_array_length(arr); k++)
                    n += count_fields(f->child, json_object_array_get_idx(arr, k), wrapped);
            }
        }
    }
    return n;
}

static conn_status sink(void *user, acu_map_result *r)
{
    size_t *count = user;
    if (r->status == ACU_MAP_OK)
        (*count)++;
    return CONN_OK;
}

static conn_status sink_serialise(void *user, acu_map_result *r)
{
    size_t *count = user;
    if (r->status == ACU_MAP_OK && json_object_to_json_string_ext(r->record, JSON_C_TO_STRING_PLAIN) != NULL)
        (*count)++;
    return CONN_OK;
}

static void report(const char *what, size_t records, double secs, size_t fields)
{
    double rps = (double)records / secs;
    printf("%-34s %9.0f records/s  %7.2f us/record  %3zu fields/record  %6.1f ns/field  %5.2f M fields/s\n",
           what, rps, 1e6 / rps, fields, 1e9 / (rps * (double)fields), rps * (double)fields / 1e6);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    acu_map_options o;
    acu_mapset *set = NULL;
    conn_error err;
    const acu_map *from, *to;
    json_object *host, *acu;
    char *acu_text = acumatica_order();
    size_t fields_from, fields_to, n, ok;
    double t0, t;
    int loads = 0;

    if (seconds <= 0)
        seconds = 2.0;
    memset(&o, 0, sizeof(o));
    o.create_default_mappings = 1;
    o.tz_offset_minutes = -300;
    /* init: load and compile the defaults */
    t0 = now_s();
    do {
        acu_mapset_free(set);
        set = NULL;
        if (acu_mapset_load(&o, &set, &err) != CONN_OK) {
            fprintf(stderr, "load: %s\n", err.message);
            return 1;
        }
        loads++;
    } while (now_s() - t0 < seconds / 4);
    t = now_s() - t0;
    printf("load + compile the default mapping set (22.200.001, 10 mappings): %.2f ms\n",
           t * 1e3 / loads);

    from = acu_mapset_get(set, "sales_orders", ACU_MAP_FROM_HOST);
    to = acu_mapset_get(set, "sales_orders", ACU_MAP_TO_HOST);
    host = json_tokener_parse(host_order);
    acu = json_tokener_parse(acu_text);
    if (from == NULL || to == NULL || host == NULL || acu == NULL) {
        fprintf(stderr, "bench setup failed\n");
        return 1;
    }
    fields_from = count_fields(&from->root, host, 0);
    fields_to = count_fields(&to->root, acu, 1);
    printf("sales order with 5 lines: host record %zu bytes, Acumatica record %zu bytes\n",
           strlen(host_order), strlen(acu_text));

    /* from_host: mapping only */
    n = ok = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            acu_map_result r;
            if (acu_map_from_host(from, host, &r, &err) != CONN_OK || r.status != ACU_MAP_OK) {
                fprintf(stderr, "from_host failed: %s %s\n", err.message, r.message ? r.message : "");
                return 1;
            }
            acu_map_result_clear(&r);
            n++;
        }
    } while ((t = now_s() - t0) < seconds);
    report("from_host (map only)", n, t, fields_from);

    /* from_host: parse text, map, serialise the payload */
    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            acu_map_result r;
            json_object *rec = json_tokener_parse(host_order);
            if (acu_map_from_host(from, rec, &r, &err) != CONN_OK || r.status != ACU_MAP_OK)
                return 1;
            if (json_object_to_json_string_ext(r.record, JSON_C_TO_STRING_PLAIN) == NULL)
                return 1;
            acu_map_result_clear(&r);
            json_object_put(rec);
            n++;
        }
    } while ((t = now_s() - t0) < seconds);
    report("from_host (parse + map + write)", n, t, fields_from);

    /* to_host: mapping only */
    n = ok = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            if (acu_map_to_host(to, acu, sink, &ok, &err) != CONN_OK)
                return 1;
            n++;
        }
    } while ((t = now_s() - t0) < seconds);
    if (ok != n) {
        fprintf(stderr, "to_host: %zu of %zu records mapped\n", ok, n);
        return 1;
    }
    report("to_host (map only)", n, t, fields_to);

    n = ok = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            json_object *rec = json_tokener_parse(acu_text);
            if (acu_map_to_host(to, rec, sink_serialise, &ok, &err) != CONN_OK)
                return 1;
            json_object_put(rec);
            n++;
        }
    } while ((t = now_s() - t0) < seconds);
    report("to_host (parse + map + write)", n, t, fields_to);

    json_object_put(host);
    json_object_put(acu);
    free(acu_text);
    acu_mapset_free(set);
    return 0;
}
