/* abi_test_plugin.h - the pieces shared by the tiny test plugins that prove
 * the loader's checks: static functions that do just enough to be called.
 * Each test plugin is one C file that includes this and builds its own
 * (possibly broken) table; TEST_PLUGIN_VERSION comes from the build. */
#ifndef ABI_TEST_PLUGIN_H
#define ABI_TEST_PLUGIN_H

#include <stdlib.h>
#include <string.h>

#include "conn_abi.h"

#ifndef TEST_PLUGIN_VERSION
#error "TEST_PLUGIN_VERSION must be defined by the build"
#endif

#define TEST_EXPORT __attribute__((visibility("default")))
/* Not every test plugin uses every function. */
#define TP_FN static __attribute__((unused))

struct conn_instance {
    const conn_host_api *host;
    conn_host_ctx *ctx;
};

TP_FN const char *tp_name(void)
{
    return "acumatica";
}

TP_FN const char *tp_version(void)
{
    return TEST_PLUGIN_VERSION;
}

TP_FN const char *tp_build_info(void)
{
    return "abi test plugin " TEST_PLUGIN_VERSION;
}

TP_FN conn_status tp_describe(conn_write_fn out, void *user, conn_error *err)
{
    static const char doc[] = "{\"name\":\"acumatica\",\"version\":\"" TEST_PLUGIN_VERSION "\"}";

    (void)err;
    return out(user, doc, sizeof(doc) - 1) == 0 ? CONN_OK : CONN_NOMEM;
}

TP_FN conn_status tp_init(const conn_host_api *host, conn_host_ctx *ctx, const char *settings,
                           size_t len, conn_instance **out, conn_error *err)
{
    conn_instance *inst = calloc(1, sizeof(*inst));

    (void)settings;
    (void)len;
    (void)err;
    if (inst == NULL)
        return CONN_NOMEM;
    inst->host = host;
    inst->ctx = ctx;
    *out = inst;
    return CONN_OK;
}

TP_FN conn_status tp_authenticate(conn_instance *inst, const char *request, size_t len,
                                   conn_write_fn out, void *user, conn_error *err)
{
    (void)inst, (void)request, (void)len, (void)out, (void)user, (void)err;
    return CONN_UNSUPPORTED;
}

TP_FN conn_status tp_pull(conn_instance *inst, const char *request, size_t len, conn_error *err)
{
    (void)inst, (void)request, (void)len, (void)err;
    return CONN_UNSUPPORTED;
}

TP_FN conn_status tp_push(conn_instance *inst, const char *flow, const conn_buf *records,
                           size_t count, conn_error *err)
{
    (void)flow, (void)records, (void)err;
    for (size_t i = 0; i < count; i++)
        inst->host->report(inst->ctx, i, CONN_OUT_REJECTED, NULL, 0);
    return CONN_UNSUPPORTED;
}

TP_FN void tp_shutdown(conn_instance *inst)
{
    free(inst);
}

#endif
