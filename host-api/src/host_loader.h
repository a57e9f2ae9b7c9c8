/* host_loader.h - loading connector plugins with libltdl, checking their ABI.
 *
 * A module is one loaded plugin file, keyed by the (name, version) its table
 * reports, so two versions of one plugin live side by side in one process.
 * Every holder (an opener, an instance) holds one reference; when the last
 * one is dropped the module is unloaded if the plugin says it may be
 * (can_unload), otherwise it stays mapped until the process exits.
 *
 * Every function here is safe to call from any thread: libltdl is not
 * thread-safe, so all lt_* calls and the module registry sit behind one
 * process-wide mutex. Calls into the plugin's table happen outside it. */
#ifndef HOST_LOADER_H
#define HOST_LOADER_H

#include <stddef.h>

#include "conn_abi.h"

typedef struct host_module host_module;

/* The size of a 1.0 plugin table: everything up to and including shutdown.
 * A table smaller than this is refused; a larger one may come from a newer
 * minor, whose extra slots this host ignores. */
#define HOST_PLUGIN_API_MIN_SIZE                                               \
    (offsetof(conn_plugin_api, shutdown) + sizeof(((conn_plugin_api *)0)->shutdown))

/* Open the plugin file at `path` (an exact file path; no search, no added
 * extension), resolve conn_plugin_entry_v1, call it with this host's ABI and
 * check the table: the major, the struct_size and every mandatory slot.
 * On success *out holds one reference to the module, shared with any earlier
 * open of the same (name, version). On failure *out is NULL and err->message
 * is a sentence naming the file and what is wrong with it (CONN_UNSUPPORTED
 * for another ABI, CONN_INVALID for a table that breaks the contract,
 * CONN_NOT_FOUND for a missing file, CONN_INTERNAL otherwise). */
conn_status host_module_open(const char *path, host_module **out, conn_error *err);

/* Take one more reference (an instance made on the module holds one). */
void host_module_ref(host_module *mod);

/* Drop one reference. At zero, the module is unloaded when the plugin has a
 * can_unload slot that returns nonzero; otherwise it stays mapped (and stays
 * the module that a later open of the same (name, version) returns).
 * Accepts NULL. */
void host_module_close(host_module *mod);

/* The plugin's table, checked by host_module_open. Valid while a reference
 * is held. */
const conn_plugin_api *host_module_api(const host_module *mod);

/* The plugin's name and version (copies owned by the module) and the path
 * it was opened from. Valid while a reference is held. */
const char *host_module_name(const host_module *mod);
const char *host_module_version(const host_module *mod);
const char *host_module_path(const host_module *mod);

/* The ABI the plugin's table declares. */
unsigned host_module_abi_major(const host_module *mod);
unsigned host_module_abi_minor(const host_module *mod);

/* How many modules are mapped right now (including those kept mapped with
 * no reference); for tests and status output. */
size_t host_loader_mapped_count(void);

/* Nonzero when a module of (name, version) is mapped right now. */
int host_loader_is_mapped(const char *name, const char *version);

#endif
