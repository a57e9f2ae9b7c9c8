/* host_cmd_swap.c - `swap`: ask the running runtime to move one
 * subscription to another plugin version (hot swap), through its control
 * socket. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_buf.h"
#include "host_cli.h"
#include "host_control.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_hostfile.h"
#include "host_state.h"

int host_cmd_swap(const host_command *cmd, int argc, char **argv, host_global *g);

/* The control socket: --socket, the host file's control_socket, or the one
 * beside the state file (--state, the host file's, or the default). */
static char *socket_path(const char *socket_arg, const host_config *cfg, const host_global *g)
{
    host_state *st = NULL;
    conn_error err;
    char *path = NULL;

    if (socket_arg != NULL)
        return strdup(socket_arg);
    if (cfg != NULL && cfg->control_socket != NULL && g->state_path == NULL)
        return strdup(cfg->control_socket);
    if (host_state_new(host_cli_state_path(g, cfg), &st, &err) != CONN_OK)
        return NULL;
    path = host_control_default_path(host_state_path(st));
    host_state_free(st);
    return path;
}

int host_cmd_swap(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--subscription NAME --plugin-version VERSION [--config HOST.json] [--socket PATH]",
        "Asks the running 'connector-host run' to swap one subscription to another plugin\n"
        "version (the file acumatica-<version>.so in its plugin directory) and waits for\n"
        "the answer: the subscription's call in flight ends, its instance is shut down and\n"
        "started again on the new version with the same settings; the others keep running.\n"
        "A version that does not load or start leaves it on the old one (exit 1, with the\n"
        "reason). The swap lasts until the runtime restarts or re-reads its host file; to\n"
        "keep it, change plugin_version in the host file too."};
    const char *version = NULL, *config = NULL, *socket_arg = NULL, *timeout_arg = NULL;
    host_option opts[] = {
        {"plugin-version", "VERSION", "the version to run", &version, NULL, 1},
        {"config", "FILE", "the host file (to find the runtime's control socket)", &config,
         NULL, 0},
        {"socket", "PATH", "the runtime's control socket", &socket_arg, NULL, 0},
        {"timeout", "SECONDS", "how long to wait for the answer (default 1800)", &timeout_arg,
         NULL, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_config *cfg = NULL;
    host_buf reply;
    json_object *req = NULL, *ans = NULL, *v;
    char *path = NULL;
    int timeout_ms = 1800 * 1000;
    conn_error err;
    conn_status st;
    int rc;

    host_buf_init(&reply, HOST_CONTROL_MSG_MAX);
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (g->subscription == NULL) {
        host_cli_error(cmd, "missing the required option --subscription");
        return HOST_EXIT_USAGE;
    }
    if (!host_version_ok(version)) {
        host_cli_error(cmd, "'%s' is not a version", version);
        return HOST_EXIT_USAGE;
    }
    if (timeout_arg != NULL) {
        char *end;
        long s = strtol(timeout_arg, &end, 10);

        if (*end != '\0' || s <= 0 || s > 86400) {
            host_cli_error(cmd, "--timeout takes 1 to 86400 seconds, not %s", timeout_arg);
            return HOST_EXIT_USAGE;
        }
        timeout_ms = (int)s * 1000;
    }
    rc = host_cli_load_hostfile(cmd, g, config, &cfg);
    if (rc != HOST_EXIT_OK)
        goto out;
    path = socket_path(socket_arg, cfg, g);
    req = json_object_new_object();
    if (path == NULL || req == NULL) {
        host_cli_error(cmd, "out of memory");
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    json_object_object_add(req, "op", json_object_new_string("swap"));
    json_object_object_add(req, "subscription", json_object_new_string(g->subscription));
    json_object_object_add(req, "plugin_version", json_object_new_string(version));
    st = host_control_request(path, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
                              timeout_ms, &reply, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st == CONN_NOT_FOUND ? CONN_INTERNAL : st, err.message);
        goto out;
    }
    ans = json_tokener_parse(reply.data != NULL ? reply.data : "");
    if (json_object_object_get_ex(ans, "ok", &v) && json_object_get_boolean(v)) {
        json_object_object_get_ex(ans, "message", &v);
        printf("%s\n", v != NULL ? json_object_get_string(v) : "swapped");
        rc = HOST_EXIT_OK;
    } else {
        json_object_object_get_ex(ans, "error", &v);
        host_cli_error(cmd, "%s", v != NULL ? json_object_get_string(v) : "no answer");
        rc = HOST_EXIT_OTHER;
    }
out:
    json_object_put(req);
    json_object_put(ans);
    free(path);
    host_config_free(cfg);
    host_buf_free(&reply);
    return rc;
}
