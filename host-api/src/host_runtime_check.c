/* host_runtime_check.c - `run --check`: load each subscription's plugin,
 * run its init (no network call) and compare the flows the host file
 * names with those the plugin describes. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "host_exit.h"
#include "host_runtime_int.h"

/* Problems with the subscription's flows as the plugin describes them. */
static size_t check_flows(const host_config *cfg, size_t si, host_module *mod)
{
    const host_sub_config *sc = &cfg->subs[si];
    const conn_plugin_api *api = host_module_api(mod);
    host_buf doc;
    json_object *d = NULL, *flows = NULL;
    conn_error err;
    size_t problems = 0;

    host_buf_init(&doc, 4 * 1024 * 1024);
    if (api->describe(host_buf_write, &doc, &err) != CONN_OK || doc.len == 0) {
        fprintf(stderr, "%s: /subscriptions/%zu: %s %s cannot describe itself: %s\n",
                cfg->path, si, host_module_name(mod), host_module_version(mod), err.message);
        host_buf_free(&doc);
        return 1;
    }
    d = json_tokener_parse(doc.data);
    if (!json_object_object_get_ex(d, "flows", &flows) ||
        !json_object_is_type(flows, json_type_array)) {
        fprintf(stderr, "%s: /subscriptions/%zu: %s %s describes no flows\n", cfg->path, si,
                host_module_name(mod), host_module_version(mod));
        problems++;
        goto out;
    }
    for (size_t i = 0; i < sc->nflows; i++) {
        const char *dir = sc->flows[i].push ? "from_host" : "to_host";
        int found = 0, directed = 0;

        for (size_t k = 0; k < json_object_array_length(flows); k++) {
            json_object *f = json_object_array_get_idx(flows, k), *name, *dirs;

            if (!json_object_object_get_ex(f, "name", &name) ||
                !streq(json_object_get_string(name), sc->flows[i].flow))
                continue;
            found = 1;
            if (json_object_object_get_ex(f, "directions", &dirs))
                for (size_t j = 0; j < json_object_array_length(dirs); j++)
                    directed |= streq(json_object_get_string(json_object_array_get_idx(dirs, j)),
                                      dir);
        }
        if (!found || !directed) {
            fprintf(stderr, "%s: /subscriptions/%zu/flows/%zu: %s %s has no %s flow '%s'\n",
                    cfg->path, si, i, host_module_name(mod), host_module_version(mod),
                    sc->flows[i].push ? "push" : "pull", sc->flows[i].flow);
            problems++;
        }
    }
out:
    json_object_put(d);
    host_buf_free(&doc);
    return problems;
}

/* Load each subscription's plugin, run init (no network) and compare the
 * flows with the plugin's description. Returns an exit code. */
int rt_check_config(const host_config *cfg, host_state *state)
{
    size_t problems = 0;

    for (size_t i = 0; i < cfg->nsubs; i++) {
        const host_sub_config *sc = &cfg->subs[i];
        host_module *mod = NULL;
        host_ctx *ctx = NULL;
        host_instance *inst = NULL;
        conn_error err;
        size_t before = problems;

        if (host_module_open(sc->plugin_path, &mod, &err) != CONN_OK ||
            host_ctx_new(sc->name, state, &ctx, &err) != CONN_OK) {
            fprintf(stderr, "%s: /subscriptions/%zu/plugin_version: %s\n", cfg->path, i,
                    err.message);
            problems++;
            goto next;
        }
        if (host_instance_new(mod, ctx, sc->settings, sc->settings_len, &inst, &err) !=
            CONN_OK) {
            for (char *line = err.message; line != NULL && *line != '\0';) {
                char *nl = strchr(line, '\n');

                if (nl != NULL)
                    *nl = '\0';
                fprintf(stderr, "%s: /subscriptions/%zu/settings: %s\n", cfg->path, i, line);
                problems++;
                line = nl != NULL ? nl + 1 : NULL;
            }
            goto next;
        }
        problems += check_flows(cfg, i, mod);
    next:
        if (problems == before)
            printf("%s: ok: %s %s, %zu flow%s\n", sc->name, host_module_name(mod),
                   host_module_version(mod), sc->nflows, sc->nflows == 1 ? "" : "s");
        host_instance_free(inst);
        host_ctx_free(ctx);
        host_module_close(mod);
    }
    if (problems > 0) {
        fprintf(stderr, "%s run: %s: %zu problem%s\n", "connector-host", cfg->path, problems,
                problems == 1 ? "" : "s");
        return HOST_EXIT_INVALID;
    }
    printf("%s: every subscription starts\n", cfg->path);
    return HOST_EXIT_OK;
}
