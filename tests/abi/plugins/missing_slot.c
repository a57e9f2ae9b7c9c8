/* missing_slot.c - a 1.0 table without the mandatory pull: refused. */
#include "abi_test_plugin.h"

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
    .pull = NULL,
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
