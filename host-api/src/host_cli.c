/* host_cli.c - the option parser and messages shared by the subcommands,
 * and what the commands that read a host file share. */
#include "host_cli.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_buf.h"

/* The options every subcommand accepts, in help order. */
static const struct {
    const char *name;
    const char *arg;
    const char *help;
} global_options[] = {
    {"state", "FILE", "the host state database (default $XDG_STATE_HOME/connector-host/state.db)"},
    {"subscription", "NAME", "the subscription whose state is used"},
    {"help", NULL, "show this help and exit"},
};

void host_cli_error(const host_command *cmd, const char *fmt, ...)
{
    va_list ap;

    if (cmd != NULL)
        fprintf(stderr, "%s %s: ", HOST_PROGRAM, cmd->name);
    else
        fprintf(stderr, "%s: ", HOST_PROGRAM);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int host_cli_fail(const host_command *cmd, conn_status status, const char *message)
{
    const char *line = message != NULL ? message : "";

    /* A multi-line message (every settings problem) keeps one per line. */
    do {
        const char *nl = strchr(line, '\n');
        int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);

        host_cli_error(cmd, "%.*s", n, line);
        line = nl != NULL ? nl + 1 : NULL;
    } while (line != NULL && *line != '\0');
    return (int)host_exit_from_status(status);
}

static void print_option(FILE *out, const char *name, const char *arg, const char *help)
{
    char left[64];

    snprintf(left, sizeof(left), "--%s%s%s", name, arg != NULL ? " " : "",
             arg != NULL ? arg : "");
    fprintf(out, "  %-22s %s\n", left, help);
}

void host_cli_help(const host_command *cmd, const host_usage *usage, const host_option *opts,
                   FILE *out)
{
    fprintf(out, "Usage: %s %s %s\n\n", HOST_PROGRAM, cmd->name,
            usage->synopsis != NULL ? usage->synopsis : "[options]");
    fprintf(out, "%s\n", cmd->summary);
    if (usage->description != NULL)
        fprintf(out, "\n%s\n", usage->description);
    fprintf(out, "\nOptions:\n");
    for (const host_option *o = opts; o != NULL && o->name != NULL; o++)
        print_option(out, o->name, o->arg, o->help);
    for (size_t i = 0; i < sizeof(global_options) / sizeof(global_options[0]); i++)
        print_option(out, global_options[i].name, global_options[i].arg,
                     global_options[i].help);
    fprintf(out,
            "\nExit codes: 0 ok, 1 other failure, 2 usage error, 3 invalid settings,\n"
            "4 authentication needed, 5 transient failure (run again later),\n"
            "6 some pushed records were rejected.\n");
}

static int usage_error(const host_command *cmd, const char *what, const char *name)
{
    fprintf(stderr, "%s %s: %s%s\n", HOST_PROGRAM, cmd->name, what, name);
    fprintf(stderr, "Run '%s %s --help' for usage.\n", HOST_PROGRAM, cmd->name);
    return HOST_EXIT_USAGE;
}

int host_cli_parse(const host_command *cmd, const host_usage *usage, const host_option *opts,
                   int argc, char **argv, host_global *g)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *name, *eq, *value = NULL;
        const host_option *hit = NULL;
        size_t nlen;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            host_cli_help(cmd, usage, opts, stdout);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return usage_error(cmd, "unexpected argument: ", arg);
        name = arg + 2;
        eq = strchr(name, '=');
        nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        for (const host_option *o = opts; o != NULL && o->name != NULL; o++) {
            if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0) {
                hit = o;
                break;
            }
        }
        int is_state = nlen == 5 && strncmp(name, "state", 5) == 0;
        int is_sub = nlen == 12 && strncmp(name, "subscription", 12) == 0;

        if (hit == NULL && !is_state && !is_sub)
            return usage_error(cmd, "unknown option: ", arg);
        if (hit != NULL && hit->value == NULL) {
            if (eq != NULL)
                return usage_error(cmd, "this option takes no value: ", arg);
            *hit->flag = 1;
            continue;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return usage_error(cmd, "this option needs a value: ", arg);
        }
        if (value[0] == '\0')
            return usage_error(cmd, "empty value for ", arg);
        if (hit != NULL)
            *hit->value = value;
        else if (is_state)
            g->state_path = value;
        else
            g->subscription = value;
    }
    for (const host_option *o = opts; o != NULL && o->name != NULL; o++) {
        if (o->required && o->value != NULL && *o->value == NULL) {
            char opt[64];

            snprintf(opt, sizeof(opt), "--%s", o->name);
            return usage_error(cmd, "missing the required option ", opt);
        }
    }
    return HOST_EXIT_OK;
}

int host_cli_plugin_path(const host_global *g, const char *plugin, char **out)
{
    size_t ld, lp;

    *out = NULL;
    if (strchr(plugin, '/') != NULL || access(plugin, F_OK) == 0 || g->plugin_dir == NULL) {
        *out = strdup(plugin);
        return *out != NULL ? 0 : -1;
    }
    ld = strlen(g->plugin_dir);
    lp = strlen(plugin);
    *out = malloc(ld + lp + 2);
    if (*out == NULL)
        return -1;
    memcpy(*out, g->plugin_dir, ld);
    (*out)[ld] = '/';
    memcpy(*out + ld + 1, plugin, lp + 1);
    return 0;
}

int host_cli_load_hostfile(const host_command *cmd, const host_global *g, const char *path,
                           host_config **cfg)
{
    host_buf problems;
    conn_error err;
    conn_status st;
    int rc = HOST_EXIT_OK;

    *cfg = NULL;
    if (path == NULL)
        return HOST_EXIT_OK;
    host_buf_init(&problems, 256 * 1024);
    st = host_config_load(path, g->plugin_dir, HOST_CONFIG_NO_SECRETS, cfg, &problems, &err);
    if (st != CONN_OK) {
        if (problems.data != NULL)
            fputs(problems.data, stderr);
        rc = host_cli_fail(cmd, st, err.message);
    }
    host_buf_free(&problems);
    return rc;
}

const char *host_cli_state_path(const host_global *g, const host_config *cfg)
{
    return g->state_path != NULL ? g->state_path : cfg != NULL ? cfg->state_path : NULL;
}

void host_cli_format_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    localtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The integer `name` of a parsed counters object, or 0. */
static int64_t counter_of(json_object *o, const char *name)
{
    json_object *v;

    return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_int)
               ? json_object_get_int64(v) : 0;
}

void host_cli_print_traffic(const char *call, const char *sub, const char *flow,
                           const char *counters)
{
    json_object *o = counters != NULL ? json_tokener_parse(counters) : NULL;
    int64_t requests = counter_of(o, "requests"), retries = counter_of(o, "retries");
    int64_t answers_429 = counter_of(o, "status_429");

    if (requests > 0)
        fprintf(stderr,
                "%s %s: %s %s: %lld request%s (%lld retr%s, %lld answer%s 429), throttle "
                "waits %lld (%.1f s), %.1f KiB in, %.1f KiB out\n",
                HOST_PROGRAM, call, sub, flow, (long long)requests, requests == 1 ? "" : "s",
                (long long)retries, retries == 1 ? "y" : "ies", (long long)answers_429,
                answers_429 == 1 ? "" : "s", (long long)counter_of(o, "throttle_waits"),
                (double)counter_of(o, "throttle_wait_ms") / 1000.0,
                (double)counter_of(o, "bytes_in") / 1024.0,
                (double)counter_of(o, "bytes_out") / 1024.0);
    json_object_put(o);
}
