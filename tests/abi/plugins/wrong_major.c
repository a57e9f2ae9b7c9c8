/* wrong_major.c - a plugin whose table says ABI 2 (behind the v1 symbol):
 * the loader must refuse it and name both majors. */
#include "abi_test_plugin.h"

static const conn_plugin_api table = {
    .abi_major = 2,
    .abi_minor = 0,
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
};

TEST_EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                             const conn_plugin_api **api)
{
    (void)host_minor;
    *api = &table;
    return host_major == 2 ? CONN_OK : CONN_UNSUPPORTED;
}
