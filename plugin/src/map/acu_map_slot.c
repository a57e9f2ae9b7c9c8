/* acu_map_slot.c - the plugin's `mappings` ABI slot: the instance's settings
 * (or the request's own "settings") feed acu_map_tool. */
#include "acu_map_slot.h"

#include <stdio.h>

#include "acu_instance.h"
#include "acu_map.h"

conn_status acu_map_plugin_mappings(conn_instance *inst, const char *request,
                                    size_t len, conn_write_fn out, void *user,
                                    conn_error *err)
{
    if (err != NULL) {
        err->status = CONN_OK;
        err->message[0] = '\0';
        err->detail_type[0] = '\0';
        err->http_status = 0;
        err->retry_after_ms = -1;
    }
    if (out == NULL) {
        if (err != NULL) {
            err->status = CONN_INVALID;
            snprintf(err->message, sizeof(err->message), "mappings: no output function");
        }
        return CONN_INVALID;
    }
    return acu_map_tool(inst != NULL ? inst->settings_json : NULL, request, len, out,
                        user, err);
}
