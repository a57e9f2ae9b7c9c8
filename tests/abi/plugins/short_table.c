/* short_table.c - a table whose struct_size (40 bytes) is smaller than ABI
 * 1.0's: the loader must refuse it before reading any slot. Only the header
 * and the first slots exist in memory. */
#include "abi_test_plugin.h"

struct short_table {
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
    const char *(*name)(void);
    const char *(*version)(void);
    const char *(*build_info)(void);
    void *pad;
};

static const struct short_table table = {
    .abi_major = CONN_ABI_MAJOR,
    .abi_minor = CONN_ABI_MINOR,
    .struct_size = 40,
    .name = tp_name,
    .version = tp_version,
    .build_info = tp_build_info,
    .pad = NULL,
};

_Static_assert(sizeof(struct short_table) == 40, "the short table is 40 bytes");

TEST_EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                             const conn_plugin_api **api)
{
    (void)host_major, (void)host_minor;
    *api = (const conn_plugin_api *)(const void *)&table;
    return CONN_OK;
}
