/* host_pull.h - one pull call with the checkpoint promise kept: records
 * emitted since the last checkpoint are held in a segment and become
 * durable together with the checkpoint's cursor; on failure or cancel they
 * are discarded, so the next pull (which starts from the last committed
 * cursor) neither loses nor repeats a record. Shared by `connector-host
 * pull` and the runtime.
 *
 * Where records go at a checkpoint, in this order:
 *   1. the JSON-lines output, when there is one: written and, for a
 *      regular file, fdatasync'ed;
 *   2. one transaction in the state database: the records (to_table), the
 *      cursor, and the output file's new size.
 * A crash between 1 and 2 leaves a file tail past the committed size; the
 * next pull into the same file cuts it before it starts. */
#ifndef HOST_PULL_H
#define HOST_PULL_H

#include <stdint.h>
#include <stdio.h>

#include "conn_abi.h"
#include "host_ctx.h"
#include "host_instance.h"
#include "host_state.h"

/* Longest record id and record type accepted from emit. */
#define HOST_ID_MAX 1024
#define HOST_RECORD_TYPE_MAX 128

typedef struct host_pull_progress {
    uint64_t emitted;     /* records received */
    uint64_t committed;   /* records made durable */
    uint64_t checkpoints; /* checkpoints committed */
    int64_t elapsed_ms;
    const char *counters; /* the plugin's running totals (pages, requests,
                           * throttle waits...), a JSON object; "{}" when
                           * the plugin sends none */
} host_pull_progress;

typedef struct host_pull_opts {
    const char *sub;
    const char *flow;
    int full;             /* ask for a full re-read */
    const char *ids_json; /* a JSON array of ids, or NULL */
    int to_table;         /* upsert records into the state database */
    FILE *out;            /* JSON lines go here too, or NULL */
    const char *out_path; /* out is this file (resolved path): tracked and
                           * repaired; NULL: a stream (stdout, a pipe) */
    int64_t run_id;       /* stored with the records; 0: none */
    size_t mem_max;       /* segment memory before spilling; 0: default */
    /* Called after each emit, checkpoint and plugin progress report (the
     * callee rate-limits). */
    void (*progress)(void *user, const host_pull_progress *p);
    /* The host's own notes: a repaired file, discarded records, a plugin
     * breaking the contract. level is a conn_log_level. */
    void (*note)(void *user, conn_log_level level, const char *message);
    void *user;
} host_pull_opts;

typedef struct host_pull_stats {
    uint64_t emitted;
    uint64_t committed;
    uint64_t discarded;   /* emitted after the last checkpoint of a failed call */
    uint64_t checkpoints;
    uint64_t repaired_bytes; /* cut from the output file's uncommitted tail */
    char *cursor;         /* the committed cursor afterwards (malloc'd), or NULL */
    size_t cursor_len;
    int64_t elapsed_ms;
    char counters[HOST_COUNTERS_MAX + 1]; /* the plugin's last totals, "{}" when none */
} host_pull_stats;

/* Run one pull. The request carries the committed cursor of (sub, flow)
 * as a JSON string (null when none). Returns the plugin's status, or the
 * host's when the host refused a record or could not commit (err says
 * which). */
conn_status host_pull_run(host_instance *inst, host_state *st, const host_pull_opts *o,
                          host_pull_stats *stats, conn_error *err);

/* The run summary's counts of a pull: {"emitted":..,"committed":..,
 * "discarded":..,"checkpoints":..,"plugin":{the plugin's totals}}. */
#define HOST_PULL_COUNTS_MAX (HOST_COUNTERS_MAX + 160)
void host_pull_counts(const host_pull_stats *stats, char *buf, size_t cap);

/* Free what host_pull_run put in stats. Accepts NULL. */
void host_pull_stats_clear(host_pull_stats *stats);

/* Monotonic milliseconds, for elapsed times and schedules. */
int64_t host_mono_ms(void);

#endif
