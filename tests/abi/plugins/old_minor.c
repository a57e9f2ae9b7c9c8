/* old_minor.c - a plugin built against an older 1.x header whose table ends
 * at shutdown (no can_unload, no mappings). Right after the table sits a
 * "trap": pointers to a function that aborts, exactly where can_unload and
 * mappings would be. A host that read a slot past struct_size would call
 * it; the loader must instead treat both slots as absent (and so keep the
 * module mapped when it is closed). */
#include "abi_test_plugin.h"

static int tp_trap(void)
{
    abort();
}

/* The 1.0 slots as an older header had them. */
struct old_table {
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
    const char *(*name)(void);
    const char *(*version)(void);
    const char *(*build_info)(void);
    conn_status (*describe)(conn_write_fn, void *, conn_error *);
    conn_status (*init)(const conn_host_api *, conn_host_ctx *, const char *, size_t,
                        conn_instance **, conn_error *);
    conn_status (*authenticate)(conn_instance *, const char *, size_t, conn_write_fn, void *,
                                conn_error *);
    conn_status (*pull)(conn_instance *, const char *, size_t, conn_error *);
    conn_status (*push)(conn_instance *, const char *, const conn_buf *, size_t, conn_error *);
    void (*shutdown)(conn_instance *);
};

static const struct {
    struct old_table table;
    int (*trap[2])(void);
} image = {
    .table = {
        .abi_major = CONN_ABI_MAJOR,
        .abi_minor = 0,
        .struct_size = sizeof(struct old_table),
        .name = tp_name,
        .version = tp_version,
        .build_info = tp_build_info,
        .describe = tp_describe,
        .init = tp_init,
        .authenticate = tp_authenticate,
        .pull = tp_pull,
        .push = tp_push,
        .shutdown = tp_shutdown,
    },
    .trap = {tp_trap, tp_trap},
};

_Static_assert(sizeof(struct old_table) == offsetof(conn_plugin_api, can_unload),
               "the old table ends where can_unload begins");

TEST_EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                             const conn_plugin_api **api)
{
    (void)host_major, (void)host_minor;
    *api = (const conn_plugin_api *)(const void *)&image.table;
    return CONN_OK;
}
