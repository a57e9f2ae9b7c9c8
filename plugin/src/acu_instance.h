/* acu_instance.h - one plugin instance: a subscription's settings and the
 * host services it was given. Every mutable thing the plugin has lives here. */
#ifndef ACU_INSTANCE_H
#define ACU_INSTANCE_H

#include <json-c/json.h>

#include "conn_abi.h"

struct conn_instance {
    const conn_host_api *host; /* borrowed until shutdown */
    conn_host_ctx *ctx;        /* borrowed until shutdown */
    const char *version;       /* the plugin's version string (static) */
    json_object *settings;     /* the parsed settings object (owned) */
};

/* Make an instance from the settings JSON; see conn_plugin_api.init. */
conn_status acu_instance_init(const conn_host_api *host, conn_host_ctx *ctx,
                              const char *version, const char *settings_json,
                              size_t len, conn_instance **out, conn_error *err);

/* Free everything the instance owns. Accepts NULL. */
void acu_instance_free(conn_instance *inst);

/* Log through the host, when the host gave a log function. */
void acu_log(const conn_instance *inst, conn_log_level level, const char *flow,
             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
