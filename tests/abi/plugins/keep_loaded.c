/* keep_loaded.c - a complete 1.0 plugin whose can_unload answers 0: the
 * host must keep it mapped after the last close. */
#include "abi_test_plugin.h"

static int tp_can_unload(void)
{
    return 0;
}

static const conn_plugin_api table = {
    .abi_major = CONN_ABI_MAJOR,
    .abi_minor = CONN_ABI_MINOR,
    .struct_size = sizeof(conn_plugin_api),
    .name = tp_name,
    .version = tp_version,
    .build_info = tp_build_info,
    .describe = tp_describe,
    .init = tp_init,
    .authenticate = tp_authenticate,
    .pull = tp_pull,
    .push = tp_push,
    .shutdown = tp_shutdown,
    .can_unload = tp_can_unload,
};

TEST_EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                             const conn_plugin_api **api)
{
    (void)host_major, (void)host_minor;
    *api = &table;
    return CONN_OK;
}
