/* host_cmd_mappings.c - `mappings`: the plugin's mapping tools, with no
 * network call.
 *
 *   connector-host mappings validate --plugin P --config C
 *   connector-host mappings show     --plugin P --config C [--flow F | --name N] [--direction D]
 *   connector-host mappings test     --plugin P --config C (--flow F | --name N) [--direction D] --in FILE
 *
 * The request goes to the plugin's optional `mappings` slot with the
 * settings inside it and no instance, so `validate` reports every problem of
 * the mappings even when they are too broken for init to succeed. */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_cli.h"
#include "host_exit.h"
#include "host_file.h"
#include "host_loader.h"

int host_cmd_mappings(const host_command *cmd, int argc, char **argv, host_global *g);

#define HOST_SETTINGS_MAX (1024u * 1024u)
#define HOST_RECORDS_MAX (64u * 1024u * 1024u)
#define HOST_ANSWER_MAX (256u * 1024u * 1024u)

typedef struct answer {
    char *data;
    size_t len, cap;
} answer;

/* The plugin's output sink: collect everything, with a cap. */
static int collect(void *user, const char *data, size_t len)
{
    answer *a = user;

    if (len > HOST_ANSWER_MAX - a->len)
        return -1;
    if (a->len + len + 1 > a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 65536;
        char *n;
        while (ncap < a->len + len + 1)
            ncap *= 2;
        n = realloc(a->data, ncap);
        if (n == NULL)
            return -1;
        a->data = n;
        a->cap = ncap;
    }
    memcpy(a->data + a->len, data, len);
    a->len += len;
    a->data[a->len] = '\0';
    return 0;
}

/* Records from a file: a JSON array, or JSON lines (one object per line). */
static json_object *read_records(const host_command *cmd, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    conn_error err;
    json_object *arr = NULL;
    const char *p;

    memset(&err, 0, sizeof(err));
    if (host_read_file(path, HOST_RECORDS_MAX, &text, &len, &err) != CONN_OK) {
        host_cli_error(cmd, "%s", err.message);
        return NULL;
    }
    p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p == '[') {
        arr = json_tokener_parse(p);
        if (!json_object_is_type(arr, json_type_array)) {
            host_cli_error(cmd, "%s: not a JSON array of records", path);
            json_object_put(arr);
            arr = NULL;
        }
    } else {
        size_t lineno = 0;
        char *save = NULL, *line;
        arr = json_object_new_array();
        for (line = strtok_r(text, "\n", &save); arr != NULL && line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            json_object *rec;
            lineno++;
            while (*line == ' ' || *line == '\t' || *line == '\r')
                line++;
            if (*line == '\0')
                continue;
            rec = json_tokener_parse(line);
            if (rec == NULL) {
                host_cli_error(cmd, "%s:%zu: not a JSON value", path, lineno);
                json_object_put(arr);
                arr = NULL;
                break;
            }
            json_object_array_add(arr, rec);
        }
    }
    free(text);
    return arr;
}

int host_cmd_mappings(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "validate|show|test --plugin FILE --config FILE [--flow F | --name N] [--direction D] [--in FILE] [--json]",
        "The plugin's mapping tools; no network call.\n"
        "  validate  load every mapping of the subscription (defaults and overlays) and print\n"
        "            every problem, one per line: file, JSON pointer, sentence; exit 3 when any\n"
        "  show      print the effective mapping(s) after overlays as JSON, each field with the\n"
        "            file and pointer it came from, and the $select/$expand it needs\n"
        "  test      map the records in --in (a JSON array or JSON lines) and print each result\n"
        "            with per-field errors; exit 6 when a record is rejected\n"
        "--flow picks the mappings of a flow, --name one mapping; --direction is to_host or\n"
        "from_host (test needs it only for a flow that maps both ways, such as sales_orders)."};
    const char *plugin = NULL, *config = NULL, *flow = NULL, *name = NULL, *dir = NULL;
    const char *in = NULL;
    int raw = 0;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {"flow", "FLOW", "the flow (customers, products, sales_orders, ...)", &flow, NULL, 0},
        {"name", "NAME", "one mapping by name (e.g. non_stock_items)", &name, NULL, 0},
        {"direction", "DIR", "to_host or from_host", &dir, NULL, 0},
        {"in", "FILE", "test: the records to map", &in, NULL, 0},
        {"json", NULL, "validate: print the answer as JSON", NULL, &raw, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    const char *op;
    host_module *mod = NULL;
    const conn_plugin_api *api;
    char *path = NULL, *settings_text = NULL;
    size_t settings_len = 0;
    json_object *req = NULL, *settings = NULL, *records = NULL, *ans = NULL;
    const char *req_text;
    answer a = {NULL, 0, 0};
    conn_error err;
    conn_status st;
    int rc;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            host_cli_help(cmd, &usage, opts, stdout);
            return HOST_EXIT_OK;
        }
        host_cli_error(cmd, "give an operation: validate, show or test (see --help)");
        return HOST_EXIT_USAGE;
    }
    op = argv[1];
    if (strcmp(op, "validate") != 0 && strcmp(op, "show") != 0 && strcmp(op, "test") != 0) {
        host_cli_error(cmd, "unknown operation '%s'; use validate, show or test", op);
        return HOST_EXIT_USAGE;
    }
    rc = host_cli_parse(cmd, &usage, opts, argc - 1, argv + 1, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (strcmp(op, "test") == 0 && (in == NULL || (flow == NULL && name == NULL))) {
        host_cli_error(cmd, "test needs --in FILE and --flow or --name (and --direction when "
                            "the flow maps both ways)");
        return HOST_EXIT_USAGE;
    }
    memset(&err, 0, sizeof(err));
    if (host_cli_plugin_path(g, plugin, &path) != 0) {
        host_cli_error(cmd, "out of memory");
        return HOST_EXIT_OTHER;
    }
    st = host_read_file(config, HOST_SETTINGS_MAX, &settings_text, &settings_len, &err);
    if (st == CONN_OK)
        st = host_module_open(path, &mod, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    api = host_module_api(mod);
    if (!CONN_PLUGIN_HAS(api, mappings)) {
        host_cli_error(cmd, "%s %s has no mapping tools", host_module_name(mod),
                       host_module_version(mod));
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    settings = json_tokener_parse(settings_text);
    if (!json_object_is_type(settings, json_type_object)) {
        host_cli_error(cmd, "%s: the settings are not one JSON object", config);
        rc = HOST_EXIT_INVALID;
        goto out;
    }
    if (in != NULL && (records = read_records(cmd, in)) == NULL) {
        rc = HOST_EXIT_INVALID;
        goto out;
    }
    req = json_object_new_object();
    if (req == NULL) {
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    json_object_object_add(req, "op", json_object_new_string(op));
    json_object_object_add(req, "settings", json_object_get(settings));
    if (flow)
        json_object_object_add(req, "flow", json_object_new_string(flow));
    if (name)
        json_object_object_add(req, "name", json_object_new_string(name));
    if (dir)
        json_object_object_add(req, "direction", json_object_new_string(dir));
    if (records)
        json_object_object_add(req, "records", json_object_get(records));
    req_text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    memset(&err, 0, sizeof(err));
    st = api->mappings(NULL, req_text, strlen(req_text), collect, &a, &err);
    /* The request held the settings, passwords included. */
    OPENSSL_cleanse((void *)req_text, strlen(req_text));
    if (a.data != NULL)
        ans = json_tokener_parse(a.data);
    if (strcmp(op, "validate") == 0 && st == CONN_OK && ans != NULL && !raw) {
        json_object *problems = json_object_object_get(ans, "problems");
        json_object *maps = json_object_object_get(ans, "mappings");
        size_t n = json_object_is_type(problems, json_type_array) ? json_object_array_length(problems) : 0;
        for (size_t i = 0; i < n; i++)
            printf("%s\n", json_object_get_string(
                               json_object_object_get(json_object_array_get_idx(problems, i), "text")));
        if (json_object_get_boolean(json_object_object_get(ans, "ok"))) {
            printf("%s: %zu mappings for endpoint %s are valid\n", config,
                   json_object_is_type(maps, json_type_array) ? json_object_array_length(maps) : 0,
                   json_object_get_string(json_object_object_get(ans, "endpoint_version")));
            rc = HOST_EXIT_OK;
        } else {
            host_cli_error(cmd, "%s: %zu problem%s in the mappings", config, n, n == 1 ? "" : "s");
            rc = HOST_EXIT_INVALID;
        }
        goto out;
    }
    if (a.data != NULL)
        fwrite(a.data, 1, a.len, stdout);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    rc = HOST_EXIT_OK;
    if (strcmp(op, "validate") == 0 && !json_object_get_boolean(json_object_object_get(ans, "ok")))
        rc = HOST_EXIT_INVALID;
    if (strcmp(op, "test") == 0) {
        json_object *res = json_object_object_get(ans, "results");
        for (size_t i = 0; json_object_is_type(res, json_type_array) && i < json_object_array_length(res); i++) {
            const char *s = json_object_get_string(
                json_object_object_get(json_object_array_get_idx(res, i), "status"));
            if (s != NULL && strcmp(s, "rejected") == 0)
                rc = HOST_EXIT_REJECTED;
        }
    }
out:
    json_object_put(ans);
    json_object_put(req);
    json_object_put(records);
    json_object_put(settings);
    free(a.data);
    host_module_close(mod);
    if (settings_text != NULL)
        OPENSSL_cleanse(settings_text, settings_len);
    free(settings_text);
    free(path);
    return rc;
}
