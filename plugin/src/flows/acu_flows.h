/* acu_flows.h - the data flows: pull (Acumatica to the host) and push (the
 * host to Acumatica), on top of the transport, the credentials and the
 * mapping engine of an instance. */
#ifndef ACU_FLOWS_H
#define ACU_FLOWS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "acu_instance.h"
#include "conn_abi.h"

/* ---- pull ------------------------------------------------------------------ */

typedef struct acu_pull_request {
    const char *flow;   /* "customers", "products", ... */
    const char *cursor; /* the host's last committed cursor, or NULL */
    size_t cursor_len;
    int full;           /* re-read everything (the cursor's bounds dropped) */
    json_object *ids;   /* NULL, or an array of key values to read now */
} acu_pull_request;

typedef struct acu_pull_stats {
    uint64_t pages;      /* pages (or id batches) processed */
    uint64_t records;    /* Acumatica records read */
    uint64_t recognised; /* delivered before, not again */
    uint64_t emitted;    /* host records the host accepted */
    uint64_t skipped;    /* skip filter */
    uint64_t failed;     /* could not be mapped: logged with the reason */
    uint64_t checkpoints;
    uint64_t missing;    /* ids asked for that do not exist */
} acu_pull_stats;

/* Pull one flow: records to host->emit, the cursor to host->checkpoint
 * after every page the host accepted. Returns CONN_OK, CONN_CANCELLED
 * (should_stop; the cursor is at the last complete page) or the class of
 * the failure with err filled. */
conn_status acu_pull_flow(conn_instance *inst, const acu_pull_request *req,
                          acu_pull_stats *stats, conn_error *err);

/* The ABI's pull: parse the request JSON, run the flow, log a summary. */
conn_status acu_pull_call(conn_instance *inst, const char *request, size_t len,
                          conn_error *err);

/* ---- push ------------------------------------------------------------------ */

/* The ABI's push: every record gets exactly one host->report. */
conn_status acu_push_call(conn_instance *inst, const char *flow,
                          const conn_buf *records, size_t count,
                          conn_error *err);

#endif
