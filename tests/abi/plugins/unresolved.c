/* unresolved.c - a plugin that needs a function nothing defines. With lazy
 * binding it would load and crash at the first call; the host binds every
 * symbol at load time (RTLD_NOW), so the load itself is refused. */
#include "abi_test_plugin.h"

/* Defined nowhere: the module is linked without -z defs on purpose. */
extern int host_test_no_such_function(void);

static const char *tp_broken_name(void)
{
    return host_test_no_such_function() != 0 ? "acumatica" : "acumatica";
}

static const conn_plugin_api table = {
    .abi_major = CONN_ABI_MAJOR,
    .abi_minor = CONN_ABI_MINOR,
    .struct_size = sizeof(conn_plugin_api),
    .name = tp_broken_name,
    .version = tp_version,
    .build_info = tp_build_info,
    .describe = tp_describe,
    .init = tp_init,
    .authenticate = tp_authenticate,
    .pull = tp_pull,
    .push = tp_push,
    .shutdown = tp_shutdown,
};

TEST_EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                             const conn_plugin_api **api)
{
    (void)host_major, (void)host_minor;
    *api = &table;
    return CONN_OK;
}
