/* acu_entry.c - the plugin's one exported symbol and its function table.
 *
 * This file is compiled once per plugin build, with ACU_PLUGIN_VERSION set,
 * so two builds of the same source can be loaded side by side. Everything
 * else lives in the acu_core library. */
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "acu_auth.h"
#include "acu_describe.h"
#include "acu_flows.h"
#include "acu_error.h"
#include "acu_gitrev.h"
#include "acu_instance.h"
#include "acu_map_slot.h"

#ifndef ACU_PLUGIN_VERSION
#error "ACU_PLUGIN_VERSION must be defined by the build"
#endif

#define ACU_PLUGIN_NAME "acumatica"

static const char *plugin_name(void)
{
    return ACU_PLUGIN_NAME;
}

static const char *plugin_version(void)
{
    return ACU_PLUGIN_VERSION;
}

/* Static text; the library versions are those the plugin was built against,
 * which is what a support engineer needs to match a build. */
static const char *plugin_build_info(void)
{
    return ACU_PLUGIN_NAME " " ACU_PLUGIN_VERSION " (git " ACU_GIT_REVISION
           "; built with libcurl " LIBCURL_VERSION ", " OPENSSL_VERSION_TEXT
           ", json-c " JSON_C_VERSION ")";
}

static conn_status plugin_describe(conn_write_fn out, void *user, conn_error *err)
{
    acu_err_clear(err);
    return acu_describe_write(ACU_PLUGIN_NAME, ACU_PLUGIN_VERSION, plugin_build_info(), out,
                              user, err);
}

static conn_status plugin_init(const conn_host_api *host, conn_host_ctx *ctx,
                               const char *settings_json, size_t len,
                               conn_instance **out, conn_error *err)
{
    acu_err_clear(err);
    return acu_instance_init(host, ctx, ACU_PLUGIN_VERSION, settings_json, len,
                             out, err);
}

static conn_status plugin_authenticate(conn_instance *inst, const char *request,
                                       size_t len, conn_write_fn out,
                                       void *user, conn_error *err)
{
    acu_err_clear(err);
    if (inst == NULL || out == NULL)
        return acu_err_set(err, CONN_INVALID, "authenticate: no instance or no output");
    return acu_auth_step(inst, request, len, out, user, err);
}

static conn_status plugin_pull(conn_instance *inst, const char *request,
                               size_t len, conn_error *err)
{
    acu_err_clear(err);
    if (inst == NULL)
        return acu_err_set(err, CONN_INVALID, "pull: no instance");
    return acu_pull_call(inst, request, len, err);
}

static conn_status plugin_push(conn_instance *inst, const char *flow,
                               const conn_buf *records, size_t count,
                               conn_error *err)
{
    acu_err_clear(err);
    if (inst == NULL)
        return acu_err_set(err, CONN_INVALID, "push: no instance");
    return acu_push_call(inst, flow, records, count, err);
}

static void plugin_shutdown(conn_instance *inst)
{
    acu_instance_free(inst);
}

/* The plugin keeps no threads, timers or process-wide hooks: once the host
 * holds no instance, the code can be unmapped. */
static int plugin_can_unload(void)
{
    return 1;
}

static const conn_plugin_api plugin_api = {
    .abi_major = CONN_ABI_MAJOR,
    .abi_minor = CONN_ABI_MINOR,
    .struct_size = sizeof(conn_plugin_api),
    .name = plugin_name,
    .version = plugin_version,
    .build_info = plugin_build_info,
    .describe = plugin_describe,
    .init = plugin_init,
    .authenticate = plugin_authenticate,
    .pull = plugin_pull,
    .push = plugin_push,
    .shutdown = plugin_shutdown,
    .can_unload = plugin_can_unload,
    .mappings = acu_map_plugin_mappings,
};

__attribute__((visibility("default"))) conn_status
conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                     const conn_plugin_api **api)
{
    (void)host_minor; /* a newer minor only appends; older hosts read less */
    if (api == NULL)
        return CONN_INVALID;
    *api = &plugin_api;
    if (host_major != CONN_ABI_MAJOR)
        return CONN_UNSUPPORTED;
    return CONN_OK;
}
