/* acu_map_slot.h - the plugin's `mappings` ABI slot (conn_plugin_api.mappings). */
#ifndef ACU_MAP_SLOT_H
#define ACU_MAP_SLOT_H

#include <stddef.h>

#include "conn_abi.h"

/* The mapping tools for an instance, or with inst == NULL for a request
 * that carries "settings" (so `mappings validate` works even when the
 * mappings are too broken for init to succeed). See acu_map_tool. */
conn_status acu_map_plugin_mappings(conn_instance *inst, const char *request,
                                    size_t len, conn_write_fn out, void *user,
                                    conn_error *err);

#endif
