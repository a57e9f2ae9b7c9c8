/* host_cmd_validate.c - `validate`: run a plugin's init on a settings file
 * and print every problem it reports. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_cli.h"
#include "host_ctx.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_file.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_state.h"

int host_cmd_validate(const host_command *cmd, int argc, char **argv, host_global *g);

/* The largest settings file read. */
#define HOST_SETTINGS_MAX (1024u * 1024u)

/* The subscription name when --subscription is absent: the settings file's
 * name without directory and extension ("acme" for conf/acme.json). */
static void default_subscription(const char *config, char *buf, size_t cap)
{
    const char *base = strrchr(config, '/');
    const char *dot;
    size_t n;

    base = base != NULL ? base + 1 : config;
    dot = strrchr(base, '.');
    n = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n == 0 || n >= cap) {
        snprintf(buf, cap, "default");
        return;
    }
    memcpy(buf, base, n);
    buf[n] = '\0';
}

/* Print each line of a validation message as "<config>: <line>". */
static size_t print_problems(const char *config, const char *message)
{
    const char *line = message;
    size_t count = 0;

    while (line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);

        if (n > 0) {
            printf("%s: %.*s\n", config, n, line);
            count++;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return count;
}

int host_cmd_validate(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE",
        "Loads the plugin and runs its init with the settings file, without any network\n"
        "call. Prints every problem, one per line, prefixed with the file name, and exits\n"
        "with 3 when the settings are invalid. A bare plugin file name is looked up in the\n"
        "plugin directory. The subscription defaults to the settings file's name without\n"
        "its extension."};
    const char *plugin = NULL, *config = NULL;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    char subscription[HOST_STATE_SUBSCRIPTION_MAX + 1];
    host_module *mod = NULL;
    host_state *state = NULL;
    host_ctx *ctx = NULL;
    host_instance *inst = NULL;
    char *path = NULL, *settings = NULL;
    size_t len = 0, problems;
    conn_error err;
    conn_status st;
    int rc;

    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (g->subscription != NULL)
        snprintf(subscription, sizeof(subscription), "%s", g->subscription);
    else
        default_subscription(config, subscription, sizeof(subscription));
    if (host_cli_plugin_path(g, plugin, &path) != 0) {
        host_cli_error(cmd, "out of memory");
        return HOST_EXIT_OTHER;
    }
    st = host_read_file(config, HOST_SETTINGS_MAX, &settings, &len, &err);
    if (st == CONN_OK)
        st = host_module_open(path, &mod, &err);
    /* The state file is opened only if the plugin touches state. */
    if (st == CONN_OK)
        st = host_state_new(g->state_path, &state, &err);
    if (st == CONN_OK)
        st = host_ctx_new(subscription, state, &ctx, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    st = host_instance_new(mod, ctx, settings, len, &inst, &err);
    if (st == CONN_OK) {
        printf("%s: valid settings for %s %s\n", config, host_module_name(mod),
               host_module_version(mod));
        rc = HOST_EXIT_OK;
    } else if (st == CONN_INVALID) {
        problems = print_problems(config, err.message);
        host_cli_error(cmd, "%s is invalid: %zu problem%s", config, problems,
                       problems == 1 ? "" : "s");
        rc = HOST_EXIT_INVALID;
    } else {
        rc = host_cli_fail(cmd, st, err.message);
    }
out:
    host_instance_free(inst);
    host_ctx_free(ctx);
    host_state_free(state);
    host_module_close(mod);
    /* The settings hold the subscription's passwords and client secret. */
    if (settings != NULL)
        OPENSSL_cleanse(settings, len);
    free(settings);
    free(path);
    return rc;
}
