/* host_push.h - one push call with the ABI's promise checked: every record
 * gets exactly one report. Shared by `connector-host push` and the
 * runtime's queue drain. */
#ifndef HOST_PUSH_H
#define HOST_PUSH_H

#include <stddef.h>

#include "conn_abi.h"
#include "host_instance.h"

/* The largest result JSON kept per record; a larger one is replaced by a
 * note saying so. */
#define HOST_RESULT_MAX (256u * 1024u)

typedef struct host_push_result {
    conn_outcome outcome;
    unsigned reports; /* report calls seen for this record */
    char *result;     /* the first report's result (a JSON object), or NULL */
    size_t result_len;
} host_push_result;

/* Broken promises seen during one call. */
typedef struct host_push_check {
    size_t unreported;   /* no report: given FAILED with a host note */
    size_t duplicated;   /* reported more than once: the first report kept */
    size_t out_of_range; /* reports for an index past the batch */
    size_t bad_outcome;  /* an outcome outside the enum: taken as FAILED */
    size_t bad_result;   /* a result that is not one JSON object: replaced */
} host_push_check;

/* Call the plugin's push for `count` records of `flow` and collect one
 * outcome per record into results[0..count) (zeroed by this call). The
 * instance's sinks are set for the call and cleared after. Returns the
 * plugin's status (err filled by it). Whatever it returns, every result
 * has an outcome afterwards, and host_ctx_counters of the instance's ctx
 * holds the plugin's totals for this call. */
conn_status host_push_call(host_instance *inst, const char *flow, const conn_buf *recs,
                           size_t count, host_push_result *results, host_push_check *check,
                           conn_error *err);

/* Free the result texts of n results. */
void host_push_results_clear(host_push_result *results, size_t n);

/* Nonzero when the plugin broke the report promise. */
int host_push_check_failed(const host_push_check *c);

/* "<name> <version> broke the push contract: 2 records were never
 * reported, 1 was reported twice" into buf. */
void host_push_check_message(const host_instance *inst, const host_push_check *c, char *buf,
                             size_t cap);

/* Nonzero for the outcomes that count as success: created, updated,
 * duplicate, skipped. */
int host_outcome_ok(conn_outcome o);

#endif
