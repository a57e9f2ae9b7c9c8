/* v2_only.c - a plugin of a future ABI: it exports conn_plugin_entry_v2 and
 * not v1, as the header says a major bump does. The loader must say which
 * ABI it speaks. */
#include "abi_test_plugin.h"

TEST_EXPORT conn_status conn_plugin_entry_v2(uint16_t host_major, uint16_t host_minor,
                                             const void **api);

TEST_EXPORT conn_status conn_plugin_entry_v2(uint16_t host_major, uint16_t host_minor,
                                             const void **api)
{
    (void)host_major, (void)host_minor;
    *api = NULL;
    return CONN_UNSUPPORTED;
}
