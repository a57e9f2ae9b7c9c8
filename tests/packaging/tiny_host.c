/* tiny_host.c - the smallest possible host of a connector plugin, built by
 * the packaging test against the *installed* conn_abi.h (found through
 * pkg-config) and linked with nothing but -ldl. It shares no code with
 * connector-host, so it shows that the ABI header stands alone.
 *
 *   tiny_host PLUGIN_FILE [EXPECTED_VERSION]
 *
 * Loads the plugin with dlopen, resolves CONN_ENTRY_SYMBOL, asks for the
 * function table with this header's ABI version, checks the table (major,
 * size, mandatory slots), calls describe, and prints one line:
 *   plugin <name> <version> abi <major>.<minor> describe <bytes> bytes
 * Exit status 0 when all of that holds (and the version is EXPECTED_VERSION
 * when given), 1 otherwise, with the reason on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <conn_abi.h>

/* Counts the bytes of the describe document and remembers its first one. */
typedef struct sink {
    size_t bytes;
    char first;
} sink;

static int count_bytes(void *user, const char *data, size_t len)
{
    sink *s = user;

    if (s->bytes == 0 && len > 0)
        s->first = data[0];
    s->bytes += len;
    return 0;
}

int main(int argc, char **argv)
{
    const conn_plugin_api *api = NULL;
    conn_plugin_entry_fn entry = NULL;
    conn_error err;
    sink out = {0, 0};
    void *module = NULL, *sym = NULL;
    int rc = 1;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PLUGIN_FILE [EXPECTED_VERSION]\n", argv[0]);
        return 2;
    }
    module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        fprintf(stderr, "tiny_host: cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    sym = dlsym(module, CONN_ENTRY_SYMBOL);
    if (sym == NULL) {
        fprintf(stderr, "tiny_host: %s has no %s\n", argv[1], CONN_ENTRY_SYMBOL);
        goto out;
    }
    /* POSIX guarantees a data pointer from dlsym converts to a function
     * pointer; memcpy says so without a cast ISO C frowns upon. */
    memcpy(&entry, &sym, sizeof(entry));
    if (entry(CONN_ABI_MAJOR, CONN_ABI_MINOR, &api) != CONN_OK || api == NULL) {
        fprintf(stderr, "tiny_host: the entry point refused ABI %d.%d\n", CONN_ABI_MAJOR,
                CONN_ABI_MINOR);
        goto out;
    }
    if (api->abi_major != CONN_ABI_MAJOR) {
        fprintf(stderr, "tiny_host: the plugin speaks ABI %u, this host %d\n",
                (unsigned)api->abi_major, CONN_ABI_MAJOR);
        goto out;
    }
    if (api->struct_size < offsetof(conn_plugin_api, shutdown) + sizeof(api->shutdown)) {
        fprintf(stderr, "tiny_host: the function table is too small (%u bytes)\n",
                (unsigned)api->struct_size);
        goto out;
    }
    if (!CONN_PLUGIN_HAS(api, name) || !CONN_PLUGIN_HAS(api, version) ||
        !CONN_PLUGIN_HAS(api, describe) || !CONN_PLUGIN_HAS(api, init) ||
        !CONN_PLUGIN_HAS(api, pull) || !CONN_PLUGIN_HAS(api, push) ||
        !CONN_PLUGIN_HAS(api, shutdown)) {
        fprintf(stderr, "tiny_host: the function table lacks a mandatory function\n");
        goto out;
    }
    if (argc == 3 && strcmp(api->version(), argv[2]) != 0) {
        fprintf(stderr, "tiny_host: the plugin is version %s, expected %s\n", api->version(),
                argv[2]);
        goto out;
    }
    memset(&err, 0, sizeof(err));
    if (api->describe(count_bytes, &out, &err) != CONN_OK || out.first != '{') {
        fprintf(stderr, "tiny_host: describe failed or did not write a JSON object\n");
        goto out;
    }
    printf("plugin %s %s abi %u.%u describe %zu bytes\n", api->name(), api->version(),
           (unsigned)api->abi_major, (unsigned)api->abi_minor, out.bytes);
    rc = 0;
out:
    dlclose(module);
    return rc;
}
