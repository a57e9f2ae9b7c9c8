/* host_cmd_check.c - `check`: sign in to the subscription's Acumatica site
 * and make the cheapest real calls that diagnose it, one line each (the
 * plugin's authenticate step "check"). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "host_buf.h"
#include "host_cli.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_instance.h"
#include "host_session.h"

int host_cmd_check(const host_command *cmd, int argc, char **argv, host_global *g);

#define HOST_ANSWER_MAX (1024u * 1024u)

/* Print {"checks":[{"check","ok","message"}...]} one line each. Returns the
 * number of lines, -1 when the answer is not that shape. */
static int print_checks(const char *answer, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *doc = NULL, *list = NULL;
    int count = -1;

    if (tok == NULL || len > (size_t)INT32_MAX)
        goto out;
    doc = json_tokener_parse_ex(tok, answer, (int)len);
    if (!json_object_is_type(doc, json_type_object) ||
        !json_object_object_get_ex(doc, "checks", &list) ||
        !json_object_is_type(list, json_type_array))
        goto out;
    count = 0;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *c = json_object_array_get_idx(list, i), *name, *ok, *msg;

        if (!json_object_object_get_ex(c, "check", &name) ||
            !json_object_object_get_ex(c, "ok", &ok) ||
            !json_object_object_get_ex(c, "message", &msg))
            continue;
        printf("%-4s %s: %s\n", json_object_get_boolean(ok) ? "ok" : "FAIL",
               json_object_get_string(name), json_object_get_string(msg));
        count++;
    }
    fflush(stdout);
out:
    json_object_put(doc);
    if (tok != NULL)
        json_tokener_free(tok);
    return count;
}

int host_cmd_check(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE",
        "Signs in with the subscription's settings (stored tokens, the password grant or a\n"
        "cookie session) and makes the cheapest real calls to diagnose the connection,\n"
        "printing one line each: URL reachable, TLS valid, endpoint version served,\n"
        "credentials accepted, and permission to read the main entities. Exits 0 when all\n"
        "pass, else with the code of the first failure (3 settings, 4 authentication,\n"
        "5 transient)."};
    static const char request[] = "{\"step\":\"check\"}";
    const char *plugin = NULL, *config = NULL;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_session s;
    host_buf answer;
    conn_error err;
    conn_status st;
    int rc;

    memset(&s, 0, sizeof(s));
    host_buf_init(&answer, HOST_ANSWER_MAX);
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    rc = host_session_prepare(&s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        goto out;
    st = host_session_init(&s, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    host_err_clear(&err);
    st = host_instance_api(s.inst)->authenticate(host_instance_handle(s.inst), request,
                                                  sizeof(request) - 1, host_buf_write, &answer,
                                                  &err);
    if (answer.len > 0 && print_checks(answer.data, answer.len) < 0)
        host_cli_error(cmd, "the plugin's answer is not a list of checks");
    if (st == CONN_OK) {
        printf("all checks passed\n");
        rc = HOST_EXIT_OK;
    } else {
        rc = host_cli_fail(cmd, st, err.message);
    }
out:
    host_session_close(&s);
    host_buf_free(&answer);
    return rc;
}
