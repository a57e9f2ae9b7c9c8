/* host_queue.h - the push queue in the state database.
 *
 * A record's life (the `state` column):
 *
 *   enqueue -> pending --claim--> in_flight --created/updated/duplicate/skipped--> done
 *                 ^                  |  \--rejected, or failed max_attempts times--> dead
 *                 |                  |
 *                 +--failed: attempts+1, due after 10*n*(n+1) units--+
 *                 +--cancelled, or the process ended mid-call (recover)--+
 *              dead --queue retry--> pending (attempts 0, due now)
 *
 * Every transition is one transaction, so a record is never lost between
 * states. A record in_flight when the process died is sent again after
 * restart (recover): its outcome is unknown, and the plugin's duplicate
 * check (Sales Order Duplicate Checking) is what keeps that from making a
 * second order. */
#ifndef HOST_QUEUE_H
#define HOST_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"
#include "host_state.h"

typedef enum host_qstate {
    HOST_Q_PENDING = 0,
    HOST_Q_IN_FLIGHT = 1,
    HOST_Q_DONE = 2,
    HOST_Q_DEAD = 3
} host_qstate;
#define HOST_Q_STATES 4

/* "pending", "in_flight", "done", "dead". */
const char *host_qstate_name(host_qstate s);
/* 0 and *out set for one of those words, -1 otherwise. */
int host_qstate_parse(const char *word, host_qstate *out);

/* "created", "updated", ... as in the ABI; "unknown" outside the enum. */
const char *host_outcome_name(conn_outcome o);

/* How failed-transient records are retried. */
typedef struct host_retry_policy {
    int64_t unit_ms;       /* the platform's unit is one minute */
    unsigned max_attempts; /* attempts before a record goes to the dead letters */
} host_retry_policy;

/* The wait after a record's n-th failed attempt: 10 * n * (n + 1) units
 * (n = 1: 20, 2: 60, 3: 120, ...); 0 for n = 0 (the first attempt is
 * immediate). Saturates instead of overflowing. */
int64_t host_retry_delay_ms(unsigned failures, int64_t unit_ms);

/* Put n records (JSON objects) of (sub, flow) in the queue, due now, in
 * one transaction: all or none. *first_id receives the first row id (ids
 * are consecutive). */
conn_status host_queue_enqueue(host_state *st, const char *sub, const char *flow,
                               const conn_buf *recs, size_t n, int64_t *first_id,
                               conn_error *err);

typedef struct host_queue_item {
    int64_t id;
    unsigned attempts; /* failed attempts before this one */
    char *record;
    size_t len;
} host_queue_item;

typedef struct host_queue_batch {
    host_queue_item *items;
    size_t n;
} host_queue_batch;

/* Claim up to max pending records of (sub, flow) due at now_ms, oldest
 * first, and mark them in_flight for run_id. An empty batch is CONN_OK. */
conn_status host_queue_claim(host_state *st, const char *sub, const char *flow, size_t max,
                             int64_t now_ms, int64_t run_id, host_queue_batch *out,
                             conn_error *err);
void host_queue_batch_free(host_queue_batch *b);

/* The outcome of one claimed record. */
typedef struct host_settle {
    conn_outcome outcome;
    const char *result; /* the plugin's result JSON, or NULL */
    size_t result_len;
} host_settle;

typedef struct host_queue_counts {
    size_t done;      /* created, updated, duplicate, skipped */
    size_t dead;      /* rejected, or out of attempts */
    size_t retry;     /* failed, due again later */
    size_t cancelled; /* not attempted; due again at once */
} host_queue_counts;

/* Move every record of the batch out of in_flight by its outcome (see
 * the diagram above), in one transaction. */
conn_status host_queue_settle(host_state *st, const host_queue_batch *b,
                              const host_settle *outcomes, int64_t now_ms,
                              const host_retry_policy *pol, host_queue_counts *counts,
                              conn_error *err);

/* in_flight -> pending for every record (at start: their call never
 * finished). *count receives how many. */
conn_status host_queue_recover(host_state *st, int64_t *count, conn_error *err);

/* Delete done records last changed before before_ms. */
conn_status host_queue_prune(host_state *st, int64_t before_ms, int64_t *count,
                             conn_error *err);

/* Which records `queue list|retry|drop` act on; NULL / -1 / 0 = any. */
typedef struct host_queue_filter {
    const char *sub;
    const char *flow;
    int state;  /* a host_qstate, or -1 */
    int64_t id; /* one record, or 0 */
} host_queue_filter;

/* One row for list; strings valid during the callback only. */
typedef struct host_queue_row {
    int64_t id;
    const char *sub;
    const char *flow;
    const char *state;
    unsigned attempts;
    int64_t next_ms;
    int64_t enqueued_ms;
    int64_t updated_ms;
    const char *outcome; /* NULL before the first attempt */
    const char *result;  /* NULL when none */
    const char *record;
} host_queue_row;

/* Call fn for up to limit rows (0: all) matching f, oldest first. */
conn_status host_queue_list(host_state *st, const host_queue_filter *f, size_t limit,
                            void (*fn)(void *user, const host_queue_row *row), void *user,
                            conn_error *err);

/* dead -> pending (attempts 0) and waiting pending -> due now, for the
 * records matching f (f->state narrows to one of the two). */
conn_status host_queue_retry(host_state *st, const host_queue_filter *f, int64_t now_ms,
                             int64_t *count, conn_error *err);

/* Delete the records matching f; in_flight records only when f->state
 * names in_flight. */
conn_status host_queue_drop(host_state *st, const host_queue_filter *f, int64_t *count,
                            conn_error *err);

/* *count: pending records of (sub, flow) due at now_ms. */
conn_status host_queue_due(host_state *st, const char *sub, const char *flow, int64_t now_ms,
                           int64_t *count, conn_error *err);

/* Records per state for (sub, flow); flow NULL: every flow of sub. */
conn_status host_queue_depth(host_state *st, const char *sub, const char *flow,
                             int64_t counts[HOST_Q_STATES], conn_error *err);

#endif
