/* host_loader.c - loading connector plugins with libltdl, checking their ABI.
 *
 * libltdl keeps global state (its handle list, its error string) and is not
 * thread-safe, so every lt_* call below runs under loader_mutex, as does
 * every access to the registry of loaded modules. lt_dlinit runs once per
 * process. Plugins are opened with lt_dladvise_local (their symbols never
 * leak into the global namespace, so two versions of one plugin cannot bind
 * to each other's code) and never with lt_dladvise_resident, so they can be
 * unloaded.
 *
 * libltdl's own dlopen loader asks for lazy binding (RTLD_LAZY), so a
 * plugin with an unresolvable symbol would load and crash at its first
 * call. The host therefore puts its own libltdl loader in place of that one:
 * dlopen with RTLD_NOW | RTLD_LOCAL, so every symbol is bound at load time
 * and an unresolvable one refuses the plugin with the linker's words. */
#include "host_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_error.h"
#include "host_exit.h"

/* Longest plugin name or version accepted from a table: bounded because the
 * strings come from code we do not trust yet. */
#define HOST_PLUGIN_STRING_MAX 128

/* The highest ABI major probed for when conn_plugin_entry_v1 is absent, so
 * the refusal can name the ABI the plugin speaks. */
#define HOST_ABI_PROBE_MAX 9

struct host_module {
    host_module *next;           /* registry link, under loader_mutex */
    lt_dlhandle handle;          /* libltdl handle */
    const conn_plugin_api *api;  /* the plugin's static table */
    char *name;                  /* copy of api->name() */
    char *version;               /* copy of api->version() */
    char *path;                  /* the resolved file path */
    unsigned refs;               /* holders; under loader_mutex */
};

/* The name of libltdl's built-in dlopen loader, which the host's replaces. */
#define LTDL_NATIVE_LOADER "lt_dlopen"

static pthread_once_t loader_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t loader_mutex = PTHREAD_MUTEX_INITIALIZER;
static int loader_init_failed;
static char loader_init_error[256];
static host_module *loader_modules; /* under loader_mutex */
/* The dynamic linker's reason for the last failed open; under loader_mutex. */
static char loader_dlerror[512];
static int loader_dlerror_code; /* our libltdl error code for a failed open */

static void loader_lock(void)
{
    /* Locking a default mutex only fails on misuse (deadlock detection is
     * off), which would be a bug here: stop rather than race libltdl. */
    if (pthread_mutex_lock(&loader_mutex) != 0)
        abort();
}

static void loader_unlock(void)
{
    if (pthread_mutex_unlock(&loader_mutex) != 0)
        abort();
}

/* The host's libltdl loader: dlopen(RTLD_NOW | RTLD_LOCAL). libltdl calls
 * these under loader_mutex (every lt_* call is made under it). */
static lt_module now_open(lt_user_data data, const char *filename, lt_dladvise advise)
{
    void *handle;
    const char *why;

    (void)data;
    (void)advise; /* the host only ever asks for local, never global */
    if (filename == NULL)
        return NULL; /* the host never opens the main program */
    handle = dlopen(filename, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        why = dlerror();
        snprintf(loader_dlerror, sizeof(loader_dlerror), "%s", why != NULL ? why : "");
        (void)lt_dlseterror(loader_dlerror_code);
    }
    return handle;
}

static int now_close(lt_user_data data, lt_module module)
{
    (void)data;
    return dlclose(module) == 0 ? 0 : 1;
}

static void *now_find_sym(lt_user_data data, lt_module module, const char *name)
{
    (void)data;
    return dlsym(module, name);
}

static const lt_dlvtable now_loader = {
    .name = "host_dlopen_now",
    .sym_prefix = NULL,
    .module_open = now_open,
    .module_close = now_close,
    .find_sym = now_find_sym,
    .dlloader_init = NULL,
    .dlloader_exit = NULL,
    .dlloader_data = NULL,
    .priority = LT_DLLOADER_PREPEND,
};

static void init_failed(const char *what)
{
    const char *why = lt_dlerror();

    loader_init_failed = 1;
    snprintf(loader_init_error, sizeof(loader_init_error), "%s: %s", what,
             why != NULL ? why : "unknown error");
}

static void loader_init_once(void)
{
    lt_dlvtable *removed;

    loader_lock();
    if (lt_dlinit() != 0) {
        init_failed("lt_dlinit");
        goto out;
    }
    loader_dlerror_code = lt_dladderror("the dynamic linker refused the file");
    if (loader_dlerror_code < 0) {
        init_failed("lt_dladderror");
        goto out;
    }
    if (lt_dlloader_add(&now_loader) != 0) {
        init_failed("lt_dlloader_add");
        goto out;
    }
    /* Without this, libltdl would fall back to its lazy loader when ours
     * refuses a file, and load it anyway. The removed table is ours to free
     * (libltdl allocated it with malloc; lt_dlexit frees it the same way). */
    removed = lt_dlloader_remove(LTDL_NATIVE_LOADER);
    if (removed == NULL)
        init_failed("removing libltdl's lazy dlopen loader");
    free(removed);
out:
    loader_unlock();
}

/* The last libltdl error as text; call under loader_mutex. */
static const char *loader_error(void)
{
    const char *why = lt_dlerror();

    return why != NULL ? why : "unknown error";
}

/* The file name part of path, for messages. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

/* lt_dlsym returns an object pointer; the entry is a function. Copying the
 * bits is the portable way to convert on POSIX, where both have one size. */
static conn_plugin_entry_fn entry_from_symbol(void *sym)
{
    conn_plugin_entry_fn fn;

    _Static_assert(sizeof(fn) == sizeof(sym), "function and object pointers differ in size");
    memcpy(&fn, &sym, sizeof(fn));
    return fn;
}

/* Called when conn_plugin_entry_v1 is missing: the highest other major whose
 * entry the module exports, or 0 when it exports none. Under loader_mutex. */
static unsigned probe_other_major(lt_dlhandle handle)
{
    char sym[64];

    for (unsigned major = HOST_ABI_PROBE_MAX; major >= 2; major--) {
        snprintf(sym, sizeof(sym), "conn_plugin_entry_v%u", major);
        if (lt_dlsym(handle, sym) != NULL)
            return major;
    }
    (void)lt_dlerror(); /* forget the failed lookups */
    return 0;
}

/* A plugin string is usable when set, non-empty, bounded and printable. */
static int plugin_string_ok(const char *s)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strnlen(s, HOST_PLUGIN_STRING_MAX + 1);
    if (n == 0 || n > HOST_PLUGIN_STRING_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x21 || c == 0x7f || c == '/')
            return 0;
    }
    return 1;
}

/* Check the table the entry returned, against ABI 1.0. `file` names the
 * plugin in messages. */
static conn_status check_table(const char *file, conn_status entry_status,
                               const conn_plugin_api *api, conn_error *err)
{
    static const char *const mandatory[] = {
        "name", "version", "build_info", "describe", "init",
        "authenticate", "pull", "push", "shutdown"};
    int present[sizeof(mandatory) / sizeof(mandatory[0])];
    char missing[256] = "";
    size_t nmissing = 0, used = 0;

    if (api == NULL) {
        if (entry_status != CONN_OK)
            return host_err_set(err, CONN_UNSUPPORTED,
                                "%s refused ABI %d.%d (status %s) without saying which ABI it speaks",
                                file, CONN_ABI_MAJOR, CONN_ABI_MINOR,
                                host_status_name(entry_status));
        return host_err_set(err, CONN_INVALID, "%s returned no function table", file);
    }
    if (api->abi_major != CONN_ABI_MAJOR)
        return host_err_set(err, CONN_UNSUPPORTED, "%s speaks ABI %u; this host speaks ABI %d",
                            file, (unsigned)api->abi_major, CONN_ABI_MAJOR);
    if (entry_status != CONN_OK)
        return host_err_set(err, CONN_UNSUPPORTED,
                            "%s speaks ABI %u.%u but refused this host's ABI %d.%d (status %s)",
                            file, (unsigned)api->abi_major, (unsigned)api->abi_minor,
                            CONN_ABI_MAJOR, CONN_ABI_MINOR, host_status_name(entry_status));
    /* Nothing past the header may be read before this check. */
    if (api->struct_size < HOST_PLUGIN_API_MIN_SIZE)
        return host_err_set(err, CONN_INVALID,
                            "%s has a function table of %u bytes; ABI 1.0 needs at least %zu",
                            file, (unsigned)api->struct_size, (size_t)HOST_PLUGIN_API_MIN_SIZE);

    present[0] = api->name != NULL;
    present[1] = api->version != NULL;
    present[2] = api->build_info != NULL;
    present[3] = api->describe != NULL;
    present[4] = api->init != NULL;
    present[5] = api->authenticate != NULL;
    present[6] = api->pull != NULL;
    present[7] = api->push != NULL;
    present[8] = api->shutdown != NULL;
    for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
        int n;

        if (present[i])
            continue;
        n = snprintf(missing + used, sizeof(missing) - used, "%s'%s'",
                     nmissing > 0 ? ", " : "", mandatory[i]);
        if (n > 0 && (size_t)n < sizeof(missing) - used)
            used += (size_t)n;
        nmissing++;
    }
    if (nmissing > 0)
        return host_err_set(err, CONN_INVALID, "%s lacks the mandatory function%s %s",
                            file, nmissing > 1 ? "s" : "", missing);

    if (!plugin_string_ok(api->name()))
        return host_err_set(err, CONN_INVALID,
                            "%s reports no usable name (1 to %d printable characters, no '/')",
                            file, HOST_PLUGIN_STRING_MAX);
    if (!plugin_string_ok(api->version()))
        return host_err_set(err, CONN_INVALID,
                            "%s reports no usable version (1 to %d printable characters, no '/')",
                            file, HOST_PLUGIN_STRING_MAX);
    return CONN_OK;
}

/* The registered module of (name, version), or NULL. Under loader_mutex. */
static host_module *find_module(const char *name, const char *version)
{
    for (host_module *m = loader_modules; m != NULL; m = m->next)
        if (strcmp(m->name, name) == 0 && strcmp(m->version, version) == 0)
            return m;
    return NULL;
}

static void free_module(host_module *mod)
{
    if (mod == NULL)
        return;
    free(mod->name);
    free(mod->version);
    free(mod->path);
    free(mod);
}

/* Resolve path to an existing regular file, so libltdl opens exactly that
 * file (an absolute path: no search path, no added extension). */
static conn_status resolve_path(const char *path, const char *file, char **out,
                                conn_error *err)
{
    struct stat sb;
    char *real;

    *out = NULL;
    real = realpath(path, NULL);
    if (real == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return host_err_set(err, CONN_NOT_FOUND, "%s: no such plugin file", path);
        return host_err_set(err, CONN_INTERNAL, "%s: cannot resolve the path: %s", path,
                            strerror(errno));
    }
    if (stat(real, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        free(real);
        return host_err_set(err, CONN_INVALID, "%s is not a regular file", file);
    }
    *out = real;
    return CONN_OK;
}

conn_status host_module_open(const char *path, host_module **out, conn_error *err)
{
    const char *file;
    char *real = NULL;
    lt_dladvise advise = NULL;
    lt_dlhandle handle = NULL;
    const conn_plugin_api *api = NULL;
    host_module *mod = NULL, *existing;
    conn_status st, entry_status;
    void *sym;
    int locked = 0;

    host_err_clear(err);
    if (out == NULL || path == NULL || path[0] == '\0')
        return host_err_set(err, CONN_INVALID, "no plugin file was given");
    *out = NULL;
    file = base_name(path);

    if (pthread_once(&loader_once, loader_init_once) != 0)
        return host_err_set(err, CONN_INTERNAL, "the plugin loader cannot start");
    if (loader_init_failed)
        return host_err_set(err, CONN_INTERNAL, "the plugin loader cannot start: %s",
                            loader_init_error);

    st = resolve_path(path, file, &real, err);
    if (st != CONN_OK)
        goto out;

    loader_lock();
    locked = 1;
    if (lt_dladvise_init(&advise) != 0 || lt_dladvise_local(&advise) != 0) {
        st = host_err_set(err, CONN_INTERNAL, "%s: cannot prepare the loader: %s", file,
                          loader_error());
        goto out;
    }
    loader_dlerror[0] = '\0';
    handle = lt_dlopenadvise(real, advise);
    if (handle == NULL) {
        st = host_err_set(err, CONN_INVALID, "%s cannot be loaded: %s", file,
                          loader_dlerror[0] != '\0' ? loader_dlerror : loader_error());
        goto out;
    }
    sym = lt_dlsym(handle, CONN_ENTRY_SYMBOL);
    if (sym == NULL) {
        unsigned major = probe_other_major(handle);

        if (major != 0)
            st = host_err_set(err, CONN_UNSUPPORTED, "%s speaks ABI %u; this host speaks ABI %d",
                              file, major, CONN_ABI_MAJOR);
        else
            st = host_err_set(err, CONN_INVALID,
                              "%s is not a connector plugin: it does not export %s", file,
                              CONN_ENTRY_SYMBOL);
        goto out;
    }
    /* The entry is trivial by contract (it returns a static table), so it
     * runs under the mutex: no other thread can unload the module meanwhile. */
    entry_status = entry_from_symbol(sym)(CONN_ABI_MAJOR, CONN_ABI_MINOR, &api);
    st = check_table(file, entry_status, api, err);
    if (st != CONN_OK)
        goto out;

    existing = find_module(api->name(), api->version());
    if (existing != NULL) {
        /* Same (name, version): one module. Dropping our handle only lowers
         * libltdl's count when it is the same file. */
        existing->refs++;
        *out = existing;
        goto out;
    }
    mod = calloc(1, sizeof(*mod));
    if (mod == NULL) {
        st = host_err_set(err, CONN_NOMEM, "%s: out of memory", file);
        goto out;
    }
    mod->name = strdup(api->name());
    mod->version = strdup(api->version());
    mod->path = real;
    real = NULL;
    if (mod->name == NULL || mod->version == NULL) {
        st = host_err_set(err, CONN_NOMEM, "%s: out of memory", file);
        goto out;
    }
    mod->handle = handle;
    handle = NULL;
    mod->api = api;
    mod->refs = 1;
    mod->next = loader_modules;
    loader_modules = mod;
    *out = mod;
    mod = NULL;
out:
    if (handle != NULL && lt_dlclose(handle) != 0)
        (void)lt_dlerror();
    if (advise != NULL)
        (void)lt_dladvise_destroy(&advise);
    if (locked)
        loader_unlock();
    free_module(mod);
    free(real);
    return st;
}

void host_module_ref(host_module *mod)
{
    if (mod == NULL)
        return;
    loader_lock();
    mod->refs++;
    loader_unlock();
}

void host_module_close(host_module *mod)
{
    host_module **link;

    if (mod == NULL)
        return;
    loader_lock();
    if (mod->refs == 0 || --mod->refs > 0)
        goto out;
    /* The last holder is gone. Unload only when the plugin says its code
     * may go; an absent slot (or an older table without it) means keep. */
    if (!CONN_PLUGIN_HAS(mod->api, can_unload) || mod->api->can_unload() == 0)
        goto out;
    for (link = &loader_modules; *link != NULL; link = &(*link)->next) {
        if (*link == mod) {
            *link = mod->next;
            break;
        }
    }
    if (lt_dlclose(mod->handle) != 0)
        (void)lt_dlerror(); /* best effort: the module stays mapped */
    free_module(mod);
out:
    loader_unlock();
}

const conn_plugin_api *host_module_api(const host_module *mod)
{
    return mod != NULL ? mod->api : NULL;
}

const char *host_module_name(const host_module *mod)
{
    return mod != NULL ? mod->name : NULL;
}

const char *host_module_version(const host_module *mod)
{
    return mod != NULL ? mod->version : NULL;
}

const char *host_module_path(const host_module *mod)
{
    return mod != NULL ? mod->path : NULL;
}

unsigned host_module_abi_major(const host_module *mod)
{
    return mod != NULL ? mod->api->abi_major : 0;
}

unsigned host_module_abi_minor(const host_module *mod)
{
    return mod != NULL ? mod->api->abi_minor : 0;
}

size_t host_loader_mapped_count(void)
{
    size_t n = 0;

    loader_lock();
    for (host_module *m = loader_modules; m != NULL; m = m->next)
        n++;
    loader_unlock();
    return n;
}

int host_loader_is_mapped(const char *name, const char *version)
{
    int found;

    if (name == NULL || version == NULL)
        return 0;
    loader_lock();
    found = find_module(name, version) != NULL;
    loader_unlock();
    return found;
}
