/* host_store.c - the runtime's tables in the state database. */
#include "host_store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_error.h"
#include "host_sql.h"
#include "host_state_int.h"

int64_t host_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void host_cursor_clear(host_cursor *c)
{
    if (c == NULL)
        return;
    free(c->cursor);
    free(c->out_path);
    c->cursor = NULL;
    c->out_path = NULL;
    c->len = 0;
    c->out_size = -1;
}

static char *dup_column(sqlite3_stmt *stmt, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(stmt, col);
    size_t n = (size_t)sqlite3_column_bytes(stmt, col);
    char *s;

    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return NULL;
    s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    if (len != NULL)
        *len = n;
    return s;
}

conn_status host_store_cursor_get(host_state *st, const char *sub, const char *flow,
                                  host_cursor *out, conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src;

    memset(out, 0, sizeof(*out));
    out->out_size = -1;
    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = host_sql_prepare(db, &stmt,
                           "SELECT cursor, out_path, out_size FROM cursors "
                           "WHERE subscription = ?1 AND flow = ?2",
                           "tt", sub, flow);
    if (src == SQLITE_OK)
        src = sqlite3_step(stmt);
    if (src == SQLITE_ROW) {
        int nomem = 0;

        if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
            out->cursor = dup_column(stmt, 0, &out->len);
            nomem |= out->cursor == NULL;
        }
        if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
            out->out_path = dup_column(stmt, 1, NULL);
            nomem |= out->out_path == NULL;
            out->out_size = sqlite3_column_int64(stmt, 2);
        }
        if (nomem) {
            host_cursor_clear(out);
            rc = host_err_set(err, CONN_NOMEM, "out of memory reading a cursor");
        }
    } else if (src != SQLITE_DONE) {
        rc = host_state_sql_error(st, src, "be read", err);
    }
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

typedef struct upsert_ctx {
    sqlite3_stmt *stmt;
    const host_pull_commit *c;
    int64_t now;
    int src;
} upsert_ctx;

static int upsert_one(void *user, const host_record *rec)
{
    upsert_ctx *u = user;
    int src;

    sqlite3_reset(u->stmt);
    src = host_sql_bind(u->stmt, "ttttbIi", u->c->sub, rec->flow, rec->id, rec->record_type,
                        rec->json, rec->json_len, u->c->run_id > 0 ? &u->c->run_id : NULL,
                        u->now);
    if (src == SQLITE_OK)
        src = sqlite3_step(u->stmt);
    if (src != SQLITE_DONE) {
        u->src = src;
        return 1;
    }
    return 0;
}

conn_status host_store_commit_pull(host_state *st, const host_pull_commit *c, conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    upsert_ctx u;
    conn_status rc;
    int src = SQLITE_OK, walk;

    rc = host_state_begin(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    u.now = host_wall_ms();
    if (c->to_table && host_segment_count(c->seg) > 0) {
        src = sqlite3_prepare_v2(
            db,
            "INSERT INTO records (subscription, flow, id, record_type, record, run_id, "
            "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
            "ON CONFLICT (subscription, flow, id) DO UPDATE SET "
            "record_type = excluded.record_type, record = excluded.record, "
            "run_id = excluded.run_id, updated_ms = excluded.updated_ms",
            -1, &stmt, NULL);
        if (src != SQLITE_OK) {
            rc = host_state_sql_error(st, src, "be written", err);
            goto out;
        }
        u.stmt = stmt;
        u.c = c;
        u.src = SQLITE_OK;
        walk = host_segment_each(c->seg, upsert_one, &u);
        if (walk != 0) {
            rc = u.src != SQLITE_OK
                     ? host_state_sql_error(st, u.src, "be written", err)
                     : host_err_set(err, CONN_INTERNAL,
                                    "the temporary file of pulled records cannot be read back");
            goto out;
        }
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (c->set_cursor || c->set_out) {
        rc = host_sql_run(
            st, db, "be written", err,
            "INSERT INTO cursors (subscription, flow, cursor, out_path, out_size, updated_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
            "ON CONFLICT (subscription, flow) DO UPDATE SET "
            "cursor = CASE WHEN ?7 THEN excluded.cursor ELSE cursors.cursor END, "
            "out_path = CASE WHEN ?8 THEN excluded.out_path ELSE cursors.out_path END, "
            "out_size = CASE WHEN ?8 THEN excluded.out_size ELSE cursors.out_size END, "
            "updated_ms = excluded.updated_ms",
            "ttbtIiii", c->sub, c->flow, c->set_cursor ? c->cursor : NULL, c->cursor_len,
            c->set_out ? c->out_path : NULL,
            c->set_out && c->out_path != NULL ? &c->out_size : NULL, u.now,
            (int64_t)(c->set_cursor != 0), (int64_t)(c->set_out != 0));
        if (rc != CONN_OK)
            goto out;
    }
    rc = host_state_exec(st, "COMMIT", err);
out:
    sqlite3_finalize(stmt);
    host_state_release(st); /* rolls back when the commit did not happen */
    return rc;
}

conn_status host_store_run_begin(host_state *st, const char *sub, const char *flow, int push,
                                 const char *plugin_version, int64_t *run_id, conn_error *err)
{
    sqlite3 *db;
    conn_status rc;

    *run_id = 0;
    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    rc = host_sql_run(st, db, "be written", err,
                      "INSERT INTO runs (subscription, flow, direction, plugin_version, "
                      "start_ms, outcome) VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
                      "tttti", sub, flow, push ? "push" : "pull", plugin_version,
                      host_wall_ms());
    if (rc == CONN_OK)
        *run_id = sqlite3_last_insert_rowid(db);
    host_state_release(st);
    return rc;
}

conn_status host_store_run_end(host_state *st, int64_t run_id, const host_run_end *e,
                               conn_error *err)
{
    return host_sql_write(st, NULL, err,
                          "UPDATE runs SET end_ms = ?2, outcome = ?3, records = ?4, "
                          "counts = ?5, cursor = ?6, error = ?7 WHERE id = ?1",
                          "iititbt", run_id, host_wall_ms(), e->outcome, e->records,
                          e->counts, e->cursor, e->cursor_len, e->error);
}

conn_status host_store_runs_interrupted(host_state *st, int64_t *count, conn_error *err)
{
    return host_sql_write(st, count, err,
                          "UPDATE runs SET outcome = 'interrupted', end_ms = ?1, "
                          "error = 'the process ended during this run' "
                          "WHERE outcome = 'running'",
                          "i", host_wall_ms());
}

conn_status host_store_sub_status(host_state *st, const char *sub, const char *version,
                                  const char *state, const char *error, conn_error *err)
{
    return host_sql_write(
        st, NULL, err,
        "INSERT INTO subscriptions (subscription, plugin_version, state, error, updated_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (subscription) DO UPDATE SET "
        "plugin_version = excluded.plugin_version, state = excluded.state, "
        "error = CASE WHEN ?6 THEN subscriptions.error ELSE excluded.error END, "
        "updated_ms = excluded.updated_ms",
        "tttti", sub, version, state, error != NULL && error[0] != '\0' ? error : NULL,
        host_wall_ms(), (int64_t)(error != NULL && error[0] == '\0'));
}
