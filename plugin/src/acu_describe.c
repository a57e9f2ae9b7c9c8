/* acu_describe.c - the document `describe` returns. */
#include "acu_describe.h"

#include <json-c/json.h>
#include <string.h>

#include "acu_error.h"
#include "acu_settings.h"

/* The flows of DESIGN section 1. record_type names the canonical record
 * the host sees; the mapping engine (plugin/src/map) defines its shape. */
static const struct flow_desc {
    const char *name;
    const char *directions[2]; /* "to_host" / "from_host", NULL when one */
    const char *record_type;
    const char *acumatica; /* the main Acumatica entity, for people */
} flows[] = {
    {"customers", {"to_host", "from_host"}, "customer", "Customer"},
    {"products", {"to_host", NULL}, "product", "StockItem"},
    {"locations", {"to_host", NULL}, "location", "Warehouse"},
    {"inventory", {"to_host", NULL}, "inventory_level", "StockItem.WarehouseDetails"},
    {"sales_orders", {"from_host", "to_host"}, "transaction", "SalesOrder"},
    {"tracking", {"to_host", "from_host"}, "tracking", "Shipment.Packages"},
};

/* What this build can do, for hosts that adapt their interface. */
static const char *const capabilities[] = {
    "auth.authorization_code.pkce_s256",
    "auth.password",
    "auth.cookie",
    "auth.refresh_token_rotation",
    "auth.step.begin",
    "auth.step.complete",
    "auth.step.login",
    "auth.step.status",
    "auth.step.check",
    "auth.step.probe",
    "throttle.sliding_window",
};

static int put(json_object *o, const char *k, json_object *v)
{
    if (v == NULL)
        return -1;
    if (json_object_object_add(o, k, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

static int push(json_object *a, json_object *v)
{
    if (v == NULL)
        return -1;
    if (json_object_array_add(a, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

static json_object *flows_json(void)
{
    json_object *arr = json_object_new_array();
    int rc = 0;

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
        json_object *f = json_object_new_object(), *dirs = json_object_new_array();

        if (f == NULL || dirs == NULL) {
            json_object_put(f);
            json_object_put(dirs);
            rc = -1;
            break;
        }
        for (int d = 0; d < 2 && flows[i].directions[d] != NULL; d++)
            rc |= push(dirs, json_object_new_string(flows[i].directions[d]));
        rc |= put(f, "name", json_object_new_string(flows[i].name));
        rc |= put(f, "directions", dirs);
        rc |= put(f, "record_type", json_object_new_string(flows[i].record_type));
        rc |= put(f, "acumatica_entity", json_object_new_string(flows[i].acumatica));
        rc |= put(f, "implemented", json_object_new_boolean(1));
        rc |= push(arr, f);
    }
    if (rc != 0) {
        json_object_put(arr);
        return NULL;
    }
    return arr;
}

conn_status acu_describe_write(const char *name, const char *version,
                               const char *build_info, conn_write_fn out,
                               void *user, conn_error *err)
{
    json_object *doc = json_object_new_object(), *abi = json_object_new_object(),
                *caps = json_object_new_array();
    conn_status st = CONN_OK;
    const char *text;
    int rc = 0;

    if (doc == NULL || abi == NULL || caps == NULL) {
        json_object_put(abi);
        json_object_put(caps);
        st = acu_err_set(err, CONN_NOMEM, "describe: out of memory");
        goto out;
    }
    rc |= put(abi, "major", json_object_new_int(CONN_ABI_MAJOR));
    rc |= put(abi, "minor", json_object_new_int(CONN_ABI_MINOR));
    rc |= put(doc, "name", json_object_new_string(name));
    rc |= put(doc, "version", json_object_new_string(version));
    rc |= put(doc, "abi", abi);
    rc |= put(doc, "build_info", json_object_new_string(build_info));
    rc |= put(doc, "settings", acu_settings_schema());
    rc |= put(doc, "flows", flows_json());
    for (size_t i = 0; i < sizeof(capabilities) / sizeof(capabilities[0]); i++)
        rc |= push(caps, json_object_new_string(capabilities[i]));
    rc |= put(doc, "capabilities", caps);
    if (rc != 0) {
        st = acu_err_set(err, CONN_NOMEM, "describe: out of memory");
        goto out;
    }
    text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "describe: out of memory");
        goto out;
    }
    if (out(user, text, strlen(text)) != 0)
        st = acu_err_set(err, CONN_NOMEM, "describe: the host refused the output");
out:
    json_object_put(doc);
    return st;
}
