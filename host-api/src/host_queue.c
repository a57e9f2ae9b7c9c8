/* host_queue.c - the push queue in the state database. */
#include "host_queue.h"

#include <stdlib.h>
#include <string.h>

#include "host_error.h"
#include "host_sql.h"
#include "host_state_int.h"
#include "host_store.h"

static const char *const qstate_names[HOST_Q_STATES] = {"pending", "in_flight", "done", "dead"};

/* The filter of list/retry/drop as SQL: parameters ?1..?4, bound with
 * FILTER_TYPES and FILTER_ARGS(f). */
#define FILTER_SQL                                                                         \
    "(?1 IS NULL OR subscription = ?1) AND (?2 IS NULL OR flow = ?2) AND "                 \
    "(?3 IS NULL OR state = ?3) AND (?4 IS NULL OR id = ?4)"
#define FILTER_TYPES "tttI"
#define FILTER_ARGS(f) (f)->sub, (f)->flow, filter_state(f), (f)->id > 0 ? &(f)->id : NULL

const char *host_qstate_name(host_qstate s)
{
    return (unsigned)s < HOST_Q_STATES ? qstate_names[s] : "unknown";
}

int host_qstate_parse(const char *word, host_qstate *out)
{
    for (int i = 0; word != NULL && i < HOST_Q_STATES; i++) {
        if (strcmp(word, qstate_names[i]) == 0) {
            *out = (host_qstate)i;
            return 0;
        }
    }
    return -1;
}

const char *host_outcome_name(conn_outcome o)
{
    switch (o) {
    case CONN_OUT_CREATED:
        return "created";
    case CONN_OUT_UPDATED:
        return "updated";
    case CONN_OUT_DUPLICATE:
        return "duplicate";
    case CONN_OUT_SKIPPED:
        return "skipped";
    case CONN_OUT_REJECTED:
        return "rejected";
    case CONN_OUT_FAILED:
        return "failed";
    case CONN_OUT_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

int64_t host_retry_delay_ms(unsigned failures, int64_t unit_ms)
{
    int64_t n = failures, units;

    if (failures == 0 || unit_ms <= 0)
        return 0;
    if (n > 100000)
        n = 100000; /* 10 n (n+1) stays far from overflow */
    units = 10 * n * (n + 1);
    if (units > INT64_MAX / unit_ms)
        return INT64_MAX;
    return units * unit_ms;
}

/* The filter's state as stored, or NULL for any state. */
static const char *filter_state(const host_queue_filter *f)
{
    return f->state >= 0 && f->state < HOST_Q_STATES ? qstate_names[f->state] : NULL;
}

conn_status host_queue_enqueue(host_state *st, const char *sub, const char *flow,
                               const conn_buf *recs, size_t n, int64_t *first_id,
                               conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int64_t now = host_wall_ms();
    int src = SQLITE_OK;

    *first_id = 0;
    rc = host_state_begin(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = sqlite3_prepare_v2(db,
                             "INSERT INTO queue (subscription, flow, record, state, attempts, "
                             "next_ms, enqueued_ms, updated_ms) "
                             "VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4)",
                             -1, &stmt, NULL);
    for (size_t i = 0; src == SQLITE_OK && i < n; i++) {
        sqlite3_reset(stmt);
        src = host_sql_bind(stmt, "ttbi", sub, flow, recs[i].len > 0 ? recs[i].data : "",
                            recs[i].len, now);
        if (src == SQLITE_OK)
            src = sqlite3_step(stmt);
        if (src == SQLITE_DONE) {
            if (i == 0)
                *first_id = sqlite3_last_insert_rowid(db);
            src = SQLITE_OK;
        }
    }
    if (src != SQLITE_OK) {
        rc = host_state_sql_error(st, src, "be written", err);
        *first_id = 0;
        goto out;
    }
    rc = host_state_exec(st, "COMMIT", err);
    if (rc != CONN_OK)
        *first_id = 0;
out:
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

void host_queue_batch_free(host_queue_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->items[i].record);
    free(b->items);
    b->items = NULL;
    b->n = 0;
}

conn_status host_queue_claim(host_state *st, const char *sub, const char *flow, size_t max,
                             int64_t now_ms, int64_t run_id, host_queue_batch *out,
                             conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    conn_status rc;
    int src;

    out->items = NULL;
    out->n = 0;
    if (max == 0)
        return CONN_OK;
    out->items = calloc(max, sizeof(*out->items));
    if (out->items == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    rc = host_state_begin(st, &db, err);
    if (rc != CONN_OK)
        goto fail;
    src = sqlite3_prepare_v2(db,
                             "SELECT id, attempts, record FROM queue WHERE subscription = ?1 "
                             "AND flow = ?2 AND state = 'pending' AND next_ms <= ?3 "
                             "ORDER BY id LIMIT ?4",
                             -1, &sel, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(db,
                                 "UPDATE queue SET state = 'in_flight', run_id = ?2, "
                                 "updated_ms = ?3 WHERE id = ?1",
                                 -1, &upd, NULL);
    if (src == SQLITE_OK)
        src = host_sql_bind(sel, "ttii", sub, flow, now_ms, (int64_t)max);
    while (src == SQLITE_OK && (src = sqlite3_step(sel)) == SQLITE_ROW) {
        host_queue_item *it = &out->items[out->n];
        size_t len = (size_t)sqlite3_column_bytes(sel, 2);
        const void *p = sqlite3_column_blob(sel, 2);

        it->id = sqlite3_column_int64(sel, 0);
        it->attempts = (unsigned)sqlite3_column_int(sel, 1);
        it->record = malloc(len + 1);
        if (it->record == NULL) {
            rc = host_err_set(err, CONN_NOMEM, "out of memory");
            goto out;
        }
        if (len > 0)
            memcpy(it->record, p, len);
        it->record[len] = '\0';
        it->len = len;
        out->n++;
        sqlite3_reset(upd);
        src = host_sql_bind(upd, "iii", it->id, run_id, host_wall_ms());
        if (src == SQLITE_OK)
            src = sqlite3_step(upd);
        if (src == SQLITE_DONE)
            src = SQLITE_OK;
    }
    if (src != SQLITE_DONE) {
        rc = host_state_sql_error(st, src, "be read", err);
        goto out;
    }
    rc = host_state_exec(st, "COMMIT", err);
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    host_state_release(st);
fail:
    if (rc != CONN_OK)
        host_queue_batch_free(out);
    return rc;
}

conn_status host_queue_settle(host_state *st, const host_queue_batch *b,
                              const host_settle *outcomes, int64_t now_ms,
                              const host_retry_policy *pol, host_queue_counts *counts,
                              conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src = SQLITE_OK;

    memset(counts, 0, sizeof(*counts));
    rc = host_state_begin(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = sqlite3_prepare_v2(db,
                             "UPDATE queue SET state = ?2, attempts = ?3, next_ms = ?4, "
                             "outcome = ?5, result = ?6, updated_ms = ?7 "
                             "WHERE id = ?1 AND state = 'in_flight'",
                             -1, &stmt, NULL);
    for (size_t i = 0; src == SQLITE_OK && i < b->n; i++) {
        const host_settle *o = &outcomes[i];
        unsigned attempts = b->items[i].attempts;
        host_qstate to;
        int64_t next = now_ms;

        switch (o->outcome) {
        case CONN_OUT_CREATED:
        case CONN_OUT_UPDATED:
        case CONN_OUT_DUPLICATE:
        case CONN_OUT_SKIPPED:
            to = HOST_Q_DONE;
            attempts++;
            counts->done++;
            break;
        case CONN_OUT_REJECTED:
            to = HOST_Q_DEAD;
            attempts++;
            counts->dead++;
            break;
        case CONN_OUT_CANCELLED:
            to = HOST_Q_PENDING;
            counts->cancelled++;
            break;
        case CONN_OUT_FAILED:
        default:
            attempts++;
            if (attempts >= pol->max_attempts) {
                to = HOST_Q_DEAD;
                counts->dead++;
            } else {
                int64_t delay = host_retry_delay_ms(attempts, pol->unit_ms);

                to = HOST_Q_PENDING;
                next = delay > INT64_MAX - now_ms ? INT64_MAX : now_ms + delay;
                counts->retry++;
            }
            break;
        }
        sqlite3_reset(stmt);
        src = host_sql_bind(stmt, "itiitbi", b->items[i].id, qstate_names[to],
                            (int64_t)attempts, next, host_outcome_name(o->outcome), o->result,
                            o->result_len, host_wall_ms());
        if (src == SQLITE_OK)
            src = sqlite3_step(stmt);
        if (src == SQLITE_DONE)
            src = SQLITE_OK;
    }
    if (src != SQLITE_OK) {
        rc = host_state_sql_error(st, src, "be written", err);
        memset(counts, 0, sizeof(*counts));
        goto out;
    }
    rc = host_state_exec(st, "COMMIT", err);
out:
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

conn_status host_queue_recover(host_state *st, int64_t *count, conn_error *err)
{
    return host_sql_write(st, count, err,
                          "UPDATE queue SET state = 'pending', next_ms = ?1, updated_ms = ?1 "
                          "WHERE state = 'in_flight'",
                          "i", host_wall_ms());
}

conn_status host_queue_prune(host_state *st, int64_t before_ms, int64_t *count,
                             conn_error *err)
{
    return host_sql_write(st, count, err,
                          "DELETE FROM queue WHERE state = 'done' AND updated_ms < ?1", "i",
                          before_ms);
}

conn_status host_queue_list(host_state *st, const host_queue_filter *f, size_t limit,
                            void (*fn)(void *user, const host_queue_row *row), void *user,
                            conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src;

    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = host_sql_prepare(db, &stmt,
                           "SELECT id, subscription, flow, state, attempts, next_ms, "
                           "enqueued_ms, updated_ms, outcome, CAST(result AS TEXT), "
                           "CAST(record AS TEXT) FROM queue WHERE " FILTER_SQL
                           " ORDER BY id LIMIT ?5",
                           FILTER_TYPES "i", FILTER_ARGS(f), limit > 0 ? (int64_t)limit : -1);
    while (src == SQLITE_OK && (src = sqlite3_step(stmt)) == SQLITE_ROW) {
        host_queue_row row;

        row.id = sqlite3_column_int64(stmt, 0);
        row.sub = host_sql_column_text(stmt, 1);
        row.flow = host_sql_column_text(stmt, 2);
        row.state = host_sql_column_text(stmt, 3);
        row.attempts = (unsigned)sqlite3_column_int(stmt, 4);
        row.next_ms = sqlite3_column_int64(stmt, 5);
        row.enqueued_ms = sqlite3_column_int64(stmt, 6);
        row.updated_ms = sqlite3_column_int64(stmt, 7);
        row.outcome = host_sql_column_text(stmt, 8);
        row.result = host_sql_column_text(stmt, 9);
        row.record = host_sql_column_text(stmt, 10);
        fn(user, &row);
        src = SQLITE_OK;
    }
    if (src != SQLITE_DONE)
        rc = host_state_sql_error(st, src, "be read", err);
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

conn_status host_queue_retry(host_state *st, const host_queue_filter *f, int64_t now_ms,
                             int64_t *count, conn_error *err)
{
    *count = 0;
    if (f->state >= 0 && f->state != HOST_Q_DEAD && f->state != HOST_Q_PENDING)
        return CONN_OK; /* only dead and waiting records can be retried */
    return host_sql_write(st, count, err,
                          "UPDATE queue SET "
                          "attempts = CASE WHEN state = 'dead' THEN 0 ELSE attempts END, "
                          "state = 'pending', next_ms = ?5, updated_ms = ?5 "
                          "WHERE " FILTER_SQL " AND (state = 'dead' OR "
                          "(state = 'pending' AND next_ms > ?5))",
                          FILTER_TYPES "i", FILTER_ARGS(f), now_ms);
}

conn_status host_queue_drop(host_state *st, const host_queue_filter *f, int64_t *count,
                            conn_error *err)
{
    return host_sql_write(st, count, err,
                          "DELETE FROM queue WHERE " FILTER_SQL
                          " AND (state <> 'in_flight' OR ?3 = 'in_flight')",
                          FILTER_TYPES, FILTER_ARGS(f));
}

conn_status host_queue_depth(host_state *st, const char *sub, const char *flow,
                             int64_t counts[HOST_Q_STATES], conn_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    conn_status rc;
    int src;

    for (int i = 0; i < HOST_Q_STATES; i++)
        counts[i] = 0;
    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    src = host_sql_prepare(db, &stmt,
                           "SELECT state, count(*) FROM queue WHERE subscription = ?1 AND "
                           "(?2 IS NULL OR flow = ?2) GROUP BY state",
                           "tt", sub, flow);
    while (src == SQLITE_OK && (src = sqlite3_step(stmt)) == SQLITE_ROW) {
        host_qstate s;

        if (host_qstate_parse(host_sql_column_text(stmt, 0), &s) == 0)
            counts[s] = sqlite3_column_int64(stmt, 1);
        src = SQLITE_OK;
    }
    if (src != SQLITE_DONE)
        rc = host_state_sql_error(st, src, "be read", err);
    sqlite3_finalize(stmt);
    host_state_release(st);
    return rc;
}

conn_status host_queue_due(host_state *st, const char *sub, const char *flow, int64_t now_ms,
                           int64_t *count, conn_error *err)
{
    sqlite3 *db;
    conn_status rc;

    *count = 0;
    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    rc = host_sql_int64(st, db, "be read", err, count,
                        "SELECT count(*) FROM queue WHERE subscription = ?1 AND flow = ?2 "
                        "AND state = 'pending' AND next_ms <= ?3",
                        "tti", sub, flow, now_ms);
    host_state_release(st);
    return rc;
}
