/* host_cmd_queue.c - `queue list|retry|drop`: look at and act on the push
 * queue and its dead letters. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_cli.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_hostfile.h"
#include "host_queue.h"
#include "host_state.h"
#include "host_store.h"

int host_cmd_queue(const host_command *cmd, int argc, char **argv, host_global *g);

/* The "message" member of a result, or the result itself, cut. */
static void message_of(const char *result, char *buf, size_t cap)
{
    json_object *doc, *msg;

    buf[0] = '\0';
    if (result == NULL)
        return;
    doc = json_tokener_parse(result);
    if (json_object_object_get_ex(doc, "message", &msg))
        snprintf(buf, cap, "%s", json_object_get_string(msg));
    else if (json_object_object_get_ex(doc, "host_note", &msg))
        snprintf(buf, cap, "%s", json_object_get_string(msg));
    else
        snprintf(buf, cap, "%s", result);
    json_object_put(doc);
    for (char *p = buf; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

typedef struct list_ctx {
    int json;
    size_t rows;
} list_ctx;

static void print_row(void *user, const host_queue_row *r)
{
    list_ctx *l = user;
    char next[32], msg[200];

    l->rows++;
    if (l->json) {
        json_object *o = json_object_new_object(), *v = NULL;

        json_object_object_add(o, "id", json_object_new_int64(r->id));
        json_object_object_add(o, "subscription", json_object_new_string(r->sub));
        json_object_object_add(o, "flow", json_object_new_string(r->flow));
        json_object_object_add(o, "state", json_object_new_string(r->state));
        json_object_object_add(o, "attempts", json_object_new_int((int)r->attempts));
        json_object_object_add(o, "next_ms", json_object_new_int64(r->next_ms));
        json_object_object_add(o, "enqueued_ms", json_object_new_int64(r->enqueued_ms));
        json_object_object_add(o, "updated_ms", json_object_new_int64(r->updated_ms));
        json_object_object_add(o, "outcome",
                               r->outcome != NULL ? json_object_new_string(r->outcome) : NULL);
        v = r->result != NULL ? json_tokener_parse(r->result) : NULL;
        json_object_object_add(o, "result", v);
        v = r->record != NULL ? json_tokener_parse(r->record) : NULL;
        json_object_object_add(o, "record", v);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return;
    }
    if (l->rows == 1)
        printf("%-8s %-16s %-14s %-9s %-8s %-19s %-9s %s\n", "ID", "SUBSCRIPTION", "FLOW",
               "STATE", "ATTEMPTS", "NEXT ATTEMPT", "OUTCOME", "MESSAGE");
    host_cli_format_time(strcmp(r->state, "pending") == 0 ? r->next_ms : 0, next,
                         sizeof(next));
    message_of(r->result, msg, sizeof(msg));
    printf("%-8lld %-16s %-14s %-9s %-8u %-19s %-9s %s\n", (long long)r->id, r->sub, r->flow,
           r->state, r->attempts, next, r->outcome != NULL ? r->outcome : "-", msg);
}

int host_cmd_queue(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "list|retry|drop [--subscription NAME] [--flow NAME] [--status STATE] [--id N]\n"
        "                           [--config HOST.json] [--json] [--limit N] [--all]",
        "The push queue. Each record is pending (waiting to be sent, maybe for its next\n"
        "retry), in_flight (in a push call now), done (created, updated, duplicate or\n"
        "skipped) or dead (a dead letter: rejected by Acumatica, or failed max_attempts\n"
        "times; the outcome and Acumatica's message are kept).\n"
        "  list   show the records (newest state, attempts, next attempt, message)\n"
        "  retry  dead letters back to pending with their attempts reset, and pending\n"
        "         records waiting for a retry made due now\n"
        "  drop   delete records (in_flight ones only with --status in_flight); without\n"
        "         any filter it needs --all"};
    const char *flow = NULL, *status = NULL, *id_arg = NULL, *config = NULL, *limit_arg = NULL;
    int json = 0, all = 0;
    host_option opts[] = {
        {"flow", "NAME", "only this flow", &flow, NULL, 0},
        {"status", "STATE", "only records in this state (pending, in_flight, done, dead)",
         &status, NULL, 0},
        {"id", "N", "only this record", &id_arg, NULL, 0},
        {"config", "FILE", "the host file (for its state file)", &config, NULL, 0},
        {"json", NULL, "list: one JSON object per record, with the record itself", NULL, &json,
         0},
        {"limit", "N", "list: at most N records", &limit_arg, NULL, 0},
        {"all", NULL, "drop: every record (when no filter is given)", NULL, &all, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_queue_filter f = {NULL, NULL, -1, 0};
    host_config *cfg = NULL;
    host_state *state = NULL;
    const char *action;
    list_ctx l = {0, 0};
    size_t limit = 0;
    int64_t count = 0;
    conn_error err;
    conn_status st;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        host_cli_help(cmd, &usage, opts, stdout);
        return HOST_EXIT_OK;
    }
    if (argc < 2 || argv[1][0] == '-') {
        host_cli_error(cmd, "say what to do: list, retry or drop");
        return HOST_EXIT_USAGE;
    }
    action = argv[1];
    if (strcmp(action, "list") != 0 && strcmp(action, "retry") != 0 &&
        strcmp(action, "drop") != 0) {
        host_cli_error(cmd, "unknown action '%s': use list, retry or drop", action);
        return HOST_EXIT_USAGE;
    }
    /* argv[1] (the action) takes the place of the command name. */
    rc = host_cli_parse(cmd, &usage, opts, argc - 1, argv + 1, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    f.sub = g->subscription;
    f.flow = flow;
    if (status != NULL) {
        host_qstate qs;

        if (host_qstate_parse(status, &qs) != 0) {
            host_cli_error(cmd, "unknown state '%s': use pending, in_flight, done or dead",
                           status);
            return HOST_EXIT_USAGE;
        }
        f.state = (int)qs;
    }
    if (id_arg != NULL) {
        char *end;
        long long v = strtoll(id_arg, &end, 10);

        if (*end != '\0' || v <= 0) {
            host_cli_error(cmd, "--id takes a record number, not %s", id_arg);
            return HOST_EXIT_USAGE;
        }
        f.id = v;
    }
    if (limit_arg != NULL) {
        char *end;
        unsigned long v = strtoul(limit_arg, &end, 10);

        if (*end != '\0' || v == 0) {
            host_cli_error(cmd, "--limit takes a positive number, not %s", limit_arg);
            return HOST_EXIT_USAGE;
        }
        limit = v;
    }
    if (strcmp(action, "drop") == 0 && f.sub == NULL && f.flow == NULL && f.state < 0 &&
        f.id == 0 && !all) {
        host_cli_error(cmd, "drop without a filter deletes every record: add --all to mean it");
        return HOST_EXIT_USAGE;
    }
    rc = host_cli_load_hostfile(cmd, g, config, &cfg);
    if (rc != HOST_EXIT_OK)
        goto out;
    st = host_state_new(host_cli_state_path(g, cfg), &state, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    /* Nothing to act on, and no file to create, before the first run. */
    if (access(host_state_path(state), F_OK) != 0) {
        printf("no state yet: %s does not exist\n", host_state_path(state));
        rc = HOST_EXIT_OK;
        goto out;
    }
    if (strcmp(action, "list") == 0) {
        l.json = json;
        st = host_queue_list(state, &f, limit, print_row, &l, &err);
        if (st == CONN_OK && l.rows == 0 && !json)
            printf("no records\n");
    } else if (strcmp(action, "retry") == 0) {
        st = host_queue_retry(state, &f, host_wall_ms(), &count, &err);
        if (st == CONN_OK)
            printf("%lld record%s due now\n", (long long)count, count == 1 ? "" : "s");
    } else {
        st = host_queue_drop(state, &f, &count, &err);
        if (st == CONN_OK)
            printf("%lld record%s deleted\n", (long long)count, count == 1 ? "" : "s");
    }
    rc = st == CONN_OK ? HOST_EXIT_OK : host_cli_fail(cmd, st, err.message);
out:
    host_state_free(state);
    host_config_free(cfg);
    return rc;
}
