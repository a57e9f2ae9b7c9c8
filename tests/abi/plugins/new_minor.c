/* new_minor.c - a plugin from a newer minor (1.1) whose table has one more
 * slot at the end than this host knows. Accepted; the extra slot is never
 * touched. can_unload says it may be unloaded. */
#include "abi_test_plugin.h"

static int tp_can_unload(void)
{
    return 1;
}

static int tp_future(void)
{
    abort();
}

static const struct {
    conn_plugin_api base;
    int (*future_slot)(void);
} table = {
    .base = {
        .abi_major = CONN_ABI_MAJOR,
        .abi_minor = CONN_ABI_MINOR + 1,
        .struct_size = sizeof(conn_plugin_api) + sizeof(void (*)(void)),
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
    },
    .future_slot = tp_future,
};

TEST_EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                             const conn_plugin_api **api)
{
    (void)host_major, (void)host_minor;
    *api = &table.base;
    return CONN_OK;
}
