/* host_cmd_status.c - `status`: each subscription's flows with their last
 * run, outcome, counts, cursor, queue depth and last error, from the state
 * database (and, when the runtime is up, what it runs right now). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_buf.h"
#include "host_cli.h"
#include "host_control.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_hostfile.h"
#include "host_queue.h"
#include "host_sql.h"
#include "host_state.h"
#include "host_state_int.h"
#include "host_store.h"

int host_cmd_status(const host_command *cmd, int argc, char **argv, host_global *g);

/* Printable, at most max characters, "..." when cut. */
static void shorten(const char *s, size_t len, size_t max, char *buf, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; s != NULL && i < len && i < max && n + 4 < cap; i++)
        buf[n++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (s != NULL && len > max && n + 4 < cap) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

static int add_str(json_object *o, const char *k, const char *v)
{
    return json_object_object_add(o, k, v != NULL ? json_object_new_string(v) : NULL);
}

/* Every (subscription, flow, direction) the state knows of, plus the host
 * file's; as a JSON array of {"subscription","flow","direction"}. */
static conn_status collect_flows(host_state *st, const host_config *cfg, json_object *out,
                                 conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src;

    if (cfg != NULL) {
        for (size_t i = 0; i < cfg->nsubs; i++)
            for (size_t j = 0; j < cfg->subs[i].nflows; j++) {
                json_object *f = json_object_new_object();

                add_str(f, "subscription", cfg->subs[i].name);
                add_str(f, "flow", cfg->subs[i].flows[j].flow);
                add_str(f, "direction", cfg->subs[i].flows[j].push ? "push" : "pull");
                json_object_object_add(f, "every_ms",
                                       json_object_new_int64(cfg->subs[i].flows[j].every_ms));
                json_object_array_add(out, f);
            }
        return CONN_OK;
    }
    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = sqlite3_prepare_v2(db,
                             "SELECT subscription, flow, direction FROM runs "
                             "UNION SELECT subscription, flow, 'pull' FROM cursors "
                             "UNION SELECT subscription, flow, 'push' FROM queue "
                             "ORDER BY 1, 3, 2",
                             -1, &stmt, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_object *f = json_object_new_object();

        add_str(f, "subscription", host_sql_column_text(stmt, 0));
        add_str(f, "flow", host_sql_column_text(stmt, 1));
        add_str(f, "direction", host_sql_column_text(stmt, 2));
        json_object_array_add(out, f);
        src = SQLITE_OK;
    }
    if (src != SQLITE_DONE)
        rc = host_state_sql_error(st, src, "be read", err);
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

/* Add last_run, last_error, cursor to f. */
static conn_status describe_flow(host_state *st, json_object *f, conn_error *err)
{
    const char *sub = json_object_get_string(json_object_object_get(f, "subscription"));
    const char *flow = json_object_get_string(json_object_object_get(f, "flow"));
    const char *dir = json_object_get_string(json_object_object_get(f, "direction"));
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src;

    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = host_sql_prepare(db, &stmt,
                           "SELECT id, start_ms, end_ms, outcome, records, counts, "
                           "plugin_version, error FROM runs WHERE subscription = ?1 AND "
                           "flow = ?2 AND direction = ?3 ORDER BY id DESC LIMIT 1",
                           "ttt", sub, flow, dir);
    if (src == SQLITE_OK)
        src = sqlite3_step(stmt);
    if (src == SQLITE_ROW) {
        json_object *r = json_object_new_object();

        json_object_object_add(r, "run", json_object_new_int64(sqlite3_column_int64(stmt, 0)));
        json_object_object_add(r, "start_ms",
                               json_object_new_int64(sqlite3_column_int64(stmt, 1)));
        json_object_object_add(r, "end_ms", sqlite3_column_type(stmt, 2) == SQLITE_NULL
                                                ? NULL
                                                : json_object_new_int64(
                                                      sqlite3_column_int64(stmt, 2)));
        add_str(r, "outcome", host_sql_column_text(stmt, 3));
        json_object_object_add(r, "records",
                               json_object_new_int64(sqlite3_column_int64(stmt, 4)));
        json_object_object_add(r, "counts",
                               host_sql_column_text(stmt, 5) != NULL
                                   ? json_tokener_parse(host_sql_column_text(stmt, 5))
                                   : NULL);
        add_str(r, "plugin_version", host_sql_column_text(stmt, 6));
        add_str(r, "error", host_sql_column_text(stmt, 7));
        json_object_object_add(f, "last_run", r);
    } else if (src != SQLITE_DONE) {
        rc = host_state_sql_error(st, src, "be read", err);
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (rc == CONN_OK) {
        src = host_sql_prepare(db, &stmt,
                               "SELECT id, end_ms, error FROM runs WHERE subscription = ?1 "
                               "AND flow = ?2 AND direction = ?3 AND error IS NOT NULL "
                               "ORDER BY id DESC LIMIT 1",
                               "ttt", sub, flow, dir);
        if (src == SQLITE_OK)
            src = sqlite3_step(stmt);
        if (src == SQLITE_ROW) {
            json_object *e = json_object_new_object();

            json_object_object_add(e, "run",
                                   json_object_new_int64(sqlite3_column_int64(stmt, 0)));
            json_object_object_add(e, "time_ms",
                                   json_object_new_int64(sqlite3_column_int64(stmt, 1)));
            add_str(e, "message", host_sql_column_text(stmt, 2));
            json_object_object_add(f, "last_error", e);
        } else if (src != SQLITE_DONE) {
            rc = host_state_sql_error(st, src, "be read", err);
        }
        sqlite3_finalize(stmt);
    }
    host_state_release(st);
    if (rc == CONN_OK && strcmp(dir, "pull") == 0) {
        host_cursor c;

        rc = host_store_cursor_get(st, sub, flow, &c, err);
        if (rc == CONN_OK && c.cursor != NULL)
            json_object_object_add(f, "cursor", json_object_new_string_len(c.cursor, (int)c.len));
        host_cursor_clear(&c);
    }
    if (rc == CONN_OK && strcmp(dir, "push") == 0) {
        int64_t q[HOST_Q_STATES];

        rc = host_queue_depth(st, sub, flow, q, err);
        if (rc == CONN_OK) {
            json_object *o = json_object_new_object();

            for (int i = 0; i < HOST_Q_STATES; i++)
                json_object_object_add(o, host_qstate_name((host_qstate)i),
                                       json_object_new_int64(q[i]));
            json_object_object_add(f, "queue", o);
        }
    }
    return rc;
}

/* subscription -> {plugin_version, state, error, updated_ms} as the
 * runtime last stored it. */
static conn_status collect_subs(host_state *st, json_object *out, conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src;

    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = sqlite3_prepare_v2(db,
                             "SELECT subscription, plugin_version, state, error, updated_ms "
                             "FROM subscriptions ORDER BY subscription",
                             -1, &stmt, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_object *s = json_object_new_object();

        add_str(s, "plugin_version", host_sql_column_text(stmt, 1));
        add_str(s, "state", host_sql_column_text(stmt, 2));
        add_str(s, "error", host_sql_column_text(stmt, 3));
        json_object_object_add(s, "updated_ms",
                               json_object_new_int64(sqlite3_column_int64(stmt, 4)));
        json_object_object_add(out, host_sql_column_text(stmt, 0), s);
        src = SQLITE_OK;
    }
    if (src != SQLITE_DONE)
        rc = host_state_sql_error(st, src, "be read", err);
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

static const char *get(json_object *o, const char *k)
{
    json_object *v;

    return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_string(v) : NULL;
}

static void print_text(json_object *doc)
{
    json_object *flows = json_object_object_get(doc, "flows");
    json_object *subs = json_object_object_get(doc, "subscriptions");
    json_object *live = json_object_object_get(doc, "live");
    const char *prev = NULL;

    if (live != NULL)
        printf("runtime: running (pid %s)\n", get(live, "pid"));
    else
        printf("runtime: not reachable on its control socket\n");
    if (json_object_array_length(flows) == 0)
        printf("no runs, cursors or queued records yet\n");
    for (size_t i = 0; i < json_object_array_length(flows); i++) {
        json_object *f = json_object_array_get_idx(flows, i), *r, *e, *q, *s;
        const char *sub = get(f, "subscription");
        char when[32], cur[80], err[240];

        if (prev == NULL || strcmp(prev, sub) != 0) {
            json_object *ls = NULL;

            printf("\n%s", sub);
            s = json_object_object_get(subs, sub);
            if (live != NULL) {
                json_object *arr = json_object_object_get(live, "subscriptions");

                for (size_t k = 0; k < json_object_array_length(arr); k++) {
                    json_object *x = json_object_array_get_idx(arr, k);

                    if (get(x, "name") != NULL && strcmp(get(x, "name"), sub) == 0)
                        ls = x;
                }
            }
            if (ls != NULL)
                printf("  plugin %s%s%s%s", get(ls, "plugin_version") != NULL
                                                ? get(ls, "plugin_version")
                                                : "(none)",
                       json_object_get_boolean(json_object_object_get(ls, "running"))
                           ? ""
                           : " (not running)",
                       strcmp(get(ls, "pending"), "idle") != 0 ? ", " : "",
                       strcmp(get(ls, "pending"), "idle") != 0 ? get(ls, "pending") : "");
            else if (s != NULL)
                printf("  plugin %s (%s)", get(s, "plugin_version") != NULL
                                               ? get(s, "plugin_version")
                                               : "?",
                       get(s, "state") != NULL ? get(s, "state") : "?");
            printf("\n");
            if (s != NULL && get(s, "error") != NULL)
                printf("  last error: %s\n", get(s, "error"));
            else if (ls != NULL && get(ls, "last_error") != NULL)
                printf("  last error: %s\n", get(ls, "last_error"));
            prev = sub;
        }
        printf("  %-4s %-14s", get(f, "direction"), get(f, "flow"));
        r = json_object_object_get(f, "last_run");
        if (r != NULL) {
            host_cli_format_time(json_object_get_int64(json_object_object_get(r, "start_ms")),
                                 when, sizeof(when));
            printf(" last run #%s %s %s, %s record%s", get(r, "run"), when, get(r, "outcome"),
                   get(r, "records"),
                   json_object_get_int64(json_object_object_get(r, "records")) == 1 ? "" : "s");
        } else {
            printf(" never run");
        }
        if (get(f, "cursor") != NULL) {
            shorten(get(f, "cursor"), strlen(get(f, "cursor")), 40, cur, sizeof(cur));
            printf(", cursor %s", cur);
        }
        q = json_object_object_get(f, "queue");
        if (q != NULL)
            printf(", queue: %s pending, %s in flight, %s dead", get(q, "pending"),
                   get(q, "in_flight"), get(q, "dead"));
        printf("\n");
        if (r != NULL && get(r, "counts") != NULL)
            printf("       counts %s\n", get(r, "counts"));
        e = json_object_object_get(f, "last_error");
        if (e != NULL) {
            host_cli_format_time(json_object_get_int64(json_object_object_get(e, "time_ms")),
                                 when, sizeof(when));
            shorten(get(e, "message"), strlen(get(e, "message")), 200, err, sizeof(err));
            printf("       last error (run #%s, %s): %s\n", get(e, "run"), when, err);
        }
    }
}

int host_cmd_status(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "[--config HOST.json] [--json]",
        "Prints each subscription's flows with the last run (time, outcome, record count\n"
        "and counts), the committed cursor (shortened), the push queue's depth, and the\n"
        "last error; and, when 'connector-host run' answers on its control socket, the\n"
        "plugin version each subscription runs right now. With --config, the host file's\n"
        "state file is read and its flows are listed even before their first run."};
    const char *config = NULL;
    int json = 0;
    host_option opts[] = {
        {"config", "FILE", "the host file", &config, NULL, 0},
        {"json", NULL, "one JSON document instead of text", NULL, &json, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_config *cfg = NULL;
    host_state *state = NULL;
    host_buf reply;
    json_object *doc = NULL, *flows, *subs;
    char *sock = NULL;
    conn_error err;
    conn_status st;
    int rc;

    host_buf_init(&reply, HOST_CONTROL_MSG_MAX);
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    rc = host_cli_load_hostfile(cmd, g, config, &cfg);
    if (rc != HOST_EXIT_OK)
        goto out;
    st = host_state_new(host_cli_state_path(g, cfg), &state, &err);
    /* A command that only reads must not create the state file. */
    if (st == CONN_OK && access(host_state_path(state), F_OK) != 0) {
        printf("no state yet: %s does not exist\n", host_state_path(state));
        rc = HOST_EXIT_OK;
        goto out;
    }
    doc = json_object_new_object();
    flows = json_object_new_array();
    subs = json_object_new_object();
    json_object_object_add(doc, "flows", flows);
    json_object_object_add(doc, "subscriptions", subs);
    if (st == CONN_OK)
        st = collect_flows(state, cfg, flows, &err);
    for (size_t i = 0; st == CONN_OK && i < json_object_array_length(flows); i++)
        st = describe_flow(state, json_object_array_get_idx(flows, i), &err);
    if (st == CONN_OK)
        st = collect_subs(state, subs, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    sock = cfg != NULL && cfg->control_socket != NULL && g->state_path == NULL
               ? strdup(cfg->control_socket)
               : host_control_default_path(host_state_path(state));
    if (sock != NULL &&
        host_control_request(sock, "{\"op\":\"status\"}", 5000, &reply, &err) == CONN_OK)
        json_object_object_add(doc, "live", json_tokener_parse(reply.data));
    add_str(doc, "state", host_state_path(state));
    if (json)
        printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        print_text(doc);
    rc = HOST_EXIT_OK;
out:
    json_object_put(doc);
    free(sock);
    host_state_free(state);
    host_config_free(cfg);
    host_buf_free(&reply);
    return rc;
}
