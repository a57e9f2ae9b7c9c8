/* fuzz_map_load.c - the mapping loader on arbitrary overlay text: parsing,
 * the file checks, the overlay merge and the compiler. The first byte picks
 * the endpoint version and whether the defaults are loaded; the rest is one
 * inline override. When the set loads, every mapping is run on a sample
 * record of its direction, and its $select/$expand and show JSON are made.
 * Any input must load or be refused with problems, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char host_record[] =
    "{\"transaction_number\": \"W1\", \"customer_id\": \"C1\", \"name\": \"N\", \"external_id\": \"e\","
    " \"date\": \"2024-03-01T10:00:00Z\", \"lines\": [{\"sku\": \"A\", \"quantity\": 1, \"unit_price\": {\"amount\": 2}}],"
    " \"ship_to\": {\"city\": \"X\"}, \"tracking_number\": \"1Z\", \"shipment_number\": \"S1\"}";
static const char acu_record[] =
    "{\"CustomerID\": {\"value\": \"C1\"}, \"OrderType\": {\"value\": \"SO\"}, \"OrderNbr\": {\"value\": \"1\"},"
    " \"InventoryID\": {\"value\": \"I\"}, \"WarehouseID\": {\"value\": \"W\"}, \"ShipmentNbr\": {\"value\": \"S\"},"
    " \"Details\": [{\"InventoryID\": {\"value\": \"A\"}}], \"WarehouseDetails\": [{\"WarehouseID\": {\"value\": \"W\"}}],"
    " \"Packages\": [{\"TrackingNbr\": {\"value\": \"1Z\"}}], \"custom\": {\"Document\": {\"UsrX\": {\"type\": \"CustomStringField\", \"value\": \"x\"}}}}";

static conn_status drop(void *user, acu_map_result *r)
{
    (void)user;
    (void)r;
    return CONN_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const versions[] = {"20.200.001", "22.200.001", "23.200.001", "24.200.001"};
    acu_map_options o;
    acu_map_diags *d;
    acu_mapset *set = NULL;
    conn_error err;
    char *text;
    const char *ov[1];

    if (size < 1 || size > 200000)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    d = acu_map_diags_new();
    memset(&o, 0, sizeof(o));
    o.endpoint_version = versions[data[0] & 3];
    o.create_default_mappings = (data[0] >> 2) & 1;
    o.tz_offset_minutes = 60;
    /* Inline JSON needs '{' or '['; anything else would be read as a path. */
    ov[0] = (text[0] == '{' || text[0] == '[') ? text : "{}";
    o.overrides = ov;
    o.override_count = 1;
    o.diags = d;
    if (acu_mapset_load(&o, &set, &err) == CONN_OK) {
        json_object *hr = json_tokener_parse(host_record);
        json_object *ar = json_tokener_parse(acu_record);
        for (size_t i = 0; i < acu_mapset_count(set); i++) {
            const acu_map *m = acu_mapset_at(set, i);
            char *sel = NULL, *exp = NULL, *cus = NULL;
            json_object *shown = acu_map_to_json(m);
            json_object_put(shown);
            shown = acu_map_lookups_json(m);
            json_object_put(shown);
            acu_map_select_expand(m, &sel, &exp, &cus, &err);
            free(sel);
            free(exp);
            free(cus);
            if (acu_map_get_direction(m) == ACU_MAP_FROM_HOST) {
                acu_map_result r;
                if (acu_map_from_host(m, hr, &r, &err) == CONN_OK)
                    acu_map_result_clear(&r);
            } else {
                acu_map_to_host(m, ar, drop, NULL, &err);
            }
        }
        json_object_put(hr);
        json_object_put(ar);
        acu_mapset_free(set);
    }
    acu_map_diags_free(d);
    free(text);
    return 0;
}
