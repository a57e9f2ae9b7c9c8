/* acu_instance.c - making and ending a plugin instance. */
#include "acu_instance.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "acu_error.h"
#include "acu_json.h"

/* The host table must be of our major and hold every mandatory service. */
static conn_status check_host_api(const conn_host_api *host, conn_error *err)
{
    if (host == NULL)
        return acu_err_set(err, CONN_INVALID, "init: the host services table is missing");
    if (host->abi_major != CONN_ABI_MAJOR)
        return acu_err_set(err, CONN_UNSUPPORTED,
                           "init: the host speaks ABI %u; this plugin speaks ABI %d",
                           (unsigned)host->abi_major, CONN_ABI_MAJOR);
    if (!CONN_HOST_HAS(host, log) || !CONN_HOST_HAS(host, state_get) ||
        !CONN_HOST_HAS(host, state_put) || !CONN_HOST_HAS(host, state_cas) ||
        !CONN_HOST_HAS(host, emit) || !CONN_HOST_HAS(host, checkpoint) ||
        !CONN_HOST_HAS(host, report) || !CONN_HOST_HAS(host, should_stop) ||
        !CONN_HOST_HAS(host, now_ms))
        return acu_err_set(err, CONN_INVALID,
                           "init: the host services table lacks a mandatory function");
    return CONN_OK;
}

conn_status acu_instance_init(const conn_host_api *host, conn_host_ctx *ctx,
                              const char *version, const char *settings_json,
                              size_t len, conn_instance **out, conn_error *err)
{
    conn_instance *inst = NULL;
    json_object *settings = NULL;
    conn_status st;

    *out = NULL;
    st = check_host_api(host, err);
    if (st != CONN_OK)
        goto out;
    st = acu_json_parse(settings_json, len, "settings", &settings, err);
    if (st != CONN_OK)
        goto out;
    if (!json_object_is_type(settings, json_type_object)) {
        st = acu_err_set(err, CONN_INVALID,
                         "settings: expected one JSON object with the subscription's settings");
        goto out;
    }
    inst = calloc(1, sizeof(*inst));
    if (inst == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "init: out of memory");
        goto out;
    }
    inst->host = host;
    inst->ctx = ctx;
    inst->version = version;
    inst->settings = settings;
    settings = NULL;
    *out = inst;
    inst = NULL;
out:
    json_object_put(settings);
    acu_instance_free(inst);
    return st;
}

void acu_instance_free(conn_instance *inst)
{
    if (inst == NULL)
        return;
    json_object_put(inst->settings);
    free(inst);
}

void acu_log(const conn_instance *inst, conn_log_level level, const char *flow,
             const char *fmt, ...)
{
    char line[2048];
    va_list ap;

    if (inst == NULL || inst->host == NULL || inst->host->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    inst->host->log(inst->ctx, level, flow, line);
}
