/* host_store.h - the runtime's tables in the state database (schema 2):
 * committed cursors, pulled records, run summaries and each
 * subscription's last known plugin version and error. The push queue is
 * host_queue.h.
 *
 * A pull checkpoint is one transaction: the records emitted before it
 * (upserted by id), the cursor, and the committed size of the JSON-lines
 * file they were appended to. So the database never holds a cursor whose
 * records are missing, and a file tail written after the last commit is
 * recognised (and cut) by the next pull. */
#ifndef HOST_STORE_H
#define HOST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"
#include "host_segment.h"
#include "host_state.h"

/* The committed position of one pulled flow. */
typedef struct host_cursor {
    char *cursor;     /* NULL: no cursor committed yet */
    size_t len;
    char *out_path;   /* the JSON-lines file of the last commit, or NULL */
    int64_t out_size; /* its size right after that commit; -1 when none */
} host_cursor;

/* Read the committed cursor of (sub, flow); absent → all members empty.
 * Free the members with host_cursor_clear. */
conn_status host_store_cursor_get(host_state *st, const char *sub, const char *flow,
                                  host_cursor *out, conn_error *err);
void host_cursor_clear(host_cursor *c);

/* One checkpoint's commit. */
typedef struct host_pull_commit {
    const char *sub;
    const char *flow;
    host_segment *seg;   /* the records before the checkpoint (may be NULL) */
    int to_table;        /* upsert them into the records table */
    int64_t run_id;      /* stored with the records; 0: none */
    int set_cursor;      /* store cursor (else the committed one stays) */
    const char *cursor;
    size_t cursor_len;
    int set_out;         /* store out_path / out_size */
    const char *out_path;
    int64_t out_size;
} host_pull_commit;

/* Commit c in one immediate transaction. On failure nothing changed. */
conn_status host_store_commit_pull(host_state *st, const host_pull_commit *c, conn_error *err);

/* Start a run summary row (outcome "running"); *run_id is its id. */
conn_status host_store_run_begin(host_state *st, const char *sub, const char *flow, int push,
                                 const char *plugin_version, int64_t *run_id, conn_error *err);

/* Finish it. counts is a JSON object text or NULL; cursor may be NULL. */
typedef struct host_run_end {
    const char *outcome;  /* the status name ("OK", "RETRY", ...) */
    int64_t records;
    const char *counts;
    const char *cursor;
    size_t cursor_len;
    const char *error;    /* NULL when none */
} host_run_end;
conn_status host_store_run_end(host_state *st, int64_t run_id, const host_run_end *e,
                               conn_error *err);

/* Mark the rows still "running" (a process that died) as "interrupted";
 * *count receives how many. */
conn_status host_store_runs_interrupted(host_state *st, int64_t *count, conn_error *err);

/* Record what the runtime runs for a subscription: its plugin version, a
 * state word ("running", "swapping", "stopped", "failed") and the last
 * error (NULL clears it; "" keeps it). */
conn_status host_store_sub_status(host_state *st, const char *sub, const char *version,
                                  const char *state, const char *error, conn_error *err);

/* Wall-clock milliseconds since the epoch. */
int64_t host_wall_ms(void);

#endif
