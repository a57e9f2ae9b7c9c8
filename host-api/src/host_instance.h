/* host_instance.h - one plugin instance as the host holds it: the module it
 * runs on (one reference held), the host context, and the plugin's handle.
 *
 * The host calls one instance from one thread at a time (the ABI's rule);
 * different instances may run on different threads at once. */
#ifndef HOST_INSTANCE_H
#define HOST_INSTANCE_H

#include <stddef.h>

#include "conn_abi.h"
#include "host_ctx.h"
#include "host_loader.h"

typedef struct host_instance host_instance;

/* Run the plugin's init with the settings JSON (len bytes) and the host
 * services bound to ctx (borrowed; it must outlive the instance). On success
 * the instance holds a reference to mod. On failure *out is NULL and err
 * holds the plugin's status and message (every settings problem, one per
 * line, for CONN_INVALID). */
conn_status host_instance_new(host_module *mod, host_ctx *ctx, const char *settings,
                              size_t len, host_instance **out, conn_error *err);

/* Call the plugin's shutdown, then drop the module reference (which may
 * unload it). Accepts NULL. */
void host_instance_free(host_instance *inst);

host_module *host_instance_module(const host_instance *inst);
const conn_plugin_api *host_instance_api(const host_instance *inst);
conn_instance *host_instance_handle(const host_instance *inst);
host_ctx *host_instance_ctx(const host_instance *inst);

#endif
