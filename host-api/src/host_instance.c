/* host_instance.c - one plugin instance as the host holds it. */
#include "host_instance.h"

#include <stdlib.h>

#include "host_error.h"

struct host_instance {
    host_module *mod;         /* one reference held */
    host_ctx *ctx;            /* borrowed */
    conn_instance *handle;    /* the plugin's */
};

conn_status host_instance_new(host_module *mod, host_ctx *ctx, const char *settings,
                              size_t len, host_instance **out, conn_error *err)
{
    const conn_plugin_api *api = host_module_api(mod);
    host_instance *inst;
    conn_instance *handle = NULL;
    conn_status st;

    *out = NULL;
    if (api == NULL || ctx == NULL)
        return host_err_set(err, CONN_INVALID, "no plugin or no host context");
    inst = calloc(1, sizeof(*inst));
    if (inst == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    host_err_clear(err);
    st = api->init(host_services(), ctx, settings, len, &handle, err);
    if (err != NULL) {
        /* The strings come from the plugin: make sure they end. */
        err->message[sizeof(err->message) - 1] = '\0';
        err->detail_type[sizeof(err->detail_type) - 1] = '\0';
    }
    if (st != CONN_OK) {
        /* The contract: no instance unless CONN_OK. A non-NULL handle here
         * is the plugin's bug; it is left alone (a leak) rather than passed
         * to shutdown (which could crash on whatever it points to). */
        if (err != NULL && err->status == CONN_OK)
            err->status = st;
        if (err != NULL && err->message[0] == '\0')
            host_err_set(err, st, "%s %s: init failed without a message",
                         host_module_name(mod), host_module_version(mod));
        free(inst);
        return st;
    }
    if (handle == NULL) {
        free(inst);
        return host_err_set(err, CONN_INTERNAL, "%s %s: init succeeded but made no instance",
                            host_module_name(mod), host_module_version(mod));
    }
    host_module_ref(mod);
    inst->mod = mod;
    inst->ctx = ctx;
    inst->handle = handle;
    *out = inst;
    return CONN_OK;
}

void host_instance_free(host_instance *inst)
{
    if (inst == NULL)
        return;
    host_module_api(inst->mod)->shutdown(inst->handle);
    host_module_close(inst->mod);
    free(inst);
}

host_module *host_instance_module(const host_instance *inst)
{
    return inst != NULL ? inst->mod : NULL;
}

const conn_plugin_api *host_instance_api(const host_instance *inst)
{
    return inst != NULL ? host_module_api(inst->mod) : NULL;
}

conn_instance *host_instance_handle(const host_instance *inst)
{
    return inst != NULL ? inst->handle : NULL;
}

host_ctx *host_instance_ctx(const host_instance *inst)
{
    return inst != NULL ? inst->ctx : NULL;
}
