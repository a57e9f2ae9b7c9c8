/* host_cmd_plugins.c - the commands that look at plugins without running
 * an instance: `plugins` (what is in a directory) and `describe`. */
#include <dirent.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_buf.h"
#include "host_cli.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_loader.h"

int host_cmd_plugins(const host_command *cmd, int argc, char **argv, host_global *g);
int host_cmd_describe(const host_command *cmd, int argc, char **argv, host_global *g);

/* The largest describe document accepted from a plugin. */
#define HOST_DESCRIBE_MAX (4u * 1024u * 1024u)

/* JSON for people: indented, a space after colons, "/" left alone. */
#define HOST_JSON_PRINT_FLAGS                                                          \
    (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* One scanned file: either a loadable plugin or the reason it was refused. */
static json_object *plugin_entry(const char *path, int *refused)
{
    json_object *o = json_object_new_object();
    host_module *mod = NULL;
    conn_error err;
    char abi[32];

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "file", json_object_new_string(path));
    if (host_module_open(path, &mod, &err) != CONN_OK) {
        json_object_object_add(o, "error", json_object_new_string(err.message));
        *refused = 1;
        return o;
    }
    snprintf(abi, sizeof(abi), "%u.%u", host_module_abi_major(mod), host_module_abi_minor(mod));
    json_object_object_add(o, "name", json_object_new_string(host_module_name(mod)));
    json_object_object_add(o, "version", json_object_new_string(host_module_version(mod)));
    json_object_object_add(o, "abi", json_object_new_string(abi));
    json_object_object_add(o, "build_info",
                           json_object_new_string(host_module_api(mod)->build_info()));
    host_module_close(mod);
    return o;
}

static const char *entry_string(json_object *o, const char *key)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

int host_cmd_plugins(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "[--dir DIR] [--pattern GLOB] [--json]",
        "Loads each plugin file of DIR whose name matches GLOB, checks its ABI and prints\n"
        "its name, version and ABI. A file the loader refuses is named on stderr with the\n"
        "reason, and the exit code is then 1."};
    const char *dir = g->plugin_dir, *pattern = "acumatica-*.so";
    int json = 0, refused = 0, rc;
    host_option opts[] = {
        {"dir", "DIR", "the directory to scan (default: the plugin directory)", &dir, NULL, 0},
        {"pattern", "GLOB", "which file names are plugins (default acumatica-*.so)", &pattern,
         NULL, 0},
        {"json", NULL, "print a JSON array instead of a table", NULL, &json, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    struct dirent **names = NULL;
    json_object *list = NULL;
    int n;

    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (dir == NULL) {
        host_cli_error(cmd, "no plugin directory: give one with --dir");
        return HOST_EXIT_USAGE;
    }
    n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        host_cli_error(cmd, "%s cannot be read as a directory", dir);
        return HOST_EXIT_OTHER;
    }
    list = json_object_new_array();
    rc = list != NULL ? HOST_EXIT_OK : HOST_EXIT_OTHER;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat sb;
        json_object *e;
        int len;

        if (rc != HOST_EXIT_OK || fnmatch(pattern, names[i]->d_name, 0) != 0)
            continue;
        len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (len < 0 || (size_t)len >= sizeof(path) || stat(path, &sb) != 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        e = plugin_entry(path, &refused);
        if (e == NULL || json_object_array_add(list, e) != 0) {
            json_object_put(e);
            rc = HOST_EXIT_OTHER;
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != HOST_EXIT_OK) {
        host_cli_error(cmd, "out of memory");
        goto out;
    }
    if (json) {
        puts(json_object_to_json_string_ext(list, HOST_JSON_PRINT_FLAGS));
    } else if (json_object_array_length(list) > 0) {
        printf("%-16s %-12s %-5s %s\n", "NAME", "VERSION", "ABI", "FILE");
    } else {
        host_cli_error(cmd, "no plugin files matching %s in %s", pattern, dir);
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        const char *error = entry_string(e, "error");

        if (error != NULL)
            host_cli_error(cmd, "%s", error);
        else if (!json)
            printf("%-16s %-12s %-5s %s\n", entry_string(e, "name"), entry_string(e, "version"),
                   entry_string(e, "abi"), entry_string(e, "file"));
    }
    rc = refused ? HOST_EXIT_OTHER : HOST_EXIT_OK;
out:
    json_object_put(list);
    return rc;
}

int host_cmd_describe(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE",
        "Loads the plugin and prints what its describe function returns: its name,\n"
        "version, settings JSON Schema, flows and capabilities, as pretty-printed JSON.\n"
        "A bare file name is looked up in the plugin directory."};
    const char *plugin = NULL;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_module *mod = NULL;
    host_buf out;
    json_tokener *tok = NULL;
    json_object *doc = NULL;
    char *path = NULL;
    conn_error err;
    conn_status st;
    int rc;

    host_buf_init(&out, HOST_DESCRIBE_MAX);
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (host_cli_plugin_path(g, plugin, &path) != 0) {
        host_cli_error(cmd, "out of memory");
        return HOST_EXIT_OTHER;
    }
    st = host_module_open(path, &mod, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    host_err_clear(&err);
    st = host_module_api(mod)->describe(host_buf_write, &out, &err);
    err.message[sizeof(err.message) - 1] = '\0';
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message[0] != '\0' ? err.message
                                                          : "describe failed without a message");
        goto out;
    }
    tok = json_tokener_new();
    if (tok == NULL || out.len == 0 || out.len > (size_t)INT32_MAX) {
        host_cli_error(cmd, "%s: describe returned no usable document", path);
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    doc = json_tokener_parse_ex(tok, out.data, (int)out.len);
    if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        host_cli_error(cmd, "%s: describe returned text that is not JSON (%s)", path,
                       json_tokener_error_desc(json_tokener_get_error(tok)));
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    puts(json_object_to_json_string_ext(doc, HOST_JSON_PRINT_FLAGS));
    rc = HOST_EXIT_OK;
out:
    json_object_put(doc);
    if (tok != NULL) /* json-c's free does not accept NULL */
        json_tokener_free(tok);
    host_buf_free(&out);
    host_module_close(mod);
    free(path);
    return rc;
}
