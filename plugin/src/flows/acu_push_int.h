/* acu_push_int.h - the push engine's insides, shared by the flow-specific
 * pipelines (acu_push_orders.c, acu_push_customers.c,
 * acu_push_tracking.c).
 *
 * Model
 *   Each input record runs through a pipeline: a small state machine that
 *   sends one request at a time and advances when its answer arrives (the
 *   transport runs completion callbacks from its loop, so a callback may
 *   send the next request). Up to Concurrent Batch Executions pipelines
 *   run at once; the transport keeps within Concurrent Connections and the
 *   throttle. A pipeline ends with exactly one report to the host.
 *
 * Exactly once
 *   Before a request that may create a record, the pipeline writes a marker
 *   in host state ("push/<flow>/<match>"); it removes it when the outcome
 *   is known. When a create's outcome is unknown (timeout, reset, 5xx after
 *   sending, cancellation), or a marker from an earlier call is found, the
 *   pipeline looks the record up before creating it again - whatever Sales
 *   Order Duplicate Checking says - so a write Acumatica committed but never
 *   answered cannot make a second record, in this call or a later one.
 *
 * Stopping
 *   When the host asks to stop, nothing new is sent (records not started
 *   are reported cancelled), but the requests already sent are let finish,
 *   for up to PUSH_STOP_GRACE_MS: an aborted write may still be committed
 *   by Acumatica after a later look-up found nothing, and the next push
 *   would then create the record a second time. Only after the grace are
 *   they aborted (their records fail with the marker kept). */
#ifndef ACU_PUSH_INT_H
#define ACU_PUSH_INT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "acu_http.h"
#include "acu_instance.h"
#include "acu_map.h"
#include "conn_abi.h"

/* Attempts at a create whose earlier attempt did certainly not happen
 * (looked up and not found). */
#define PUSH_CREATE_ATTEMPTS 3
/* How long the requests in flight may finish after the host asked to stop. */
#define PUSH_STOP_GRACE_MS 30000

typedef struct push_call push_call;
typedef struct push_rec push_rec;

/* What a flow's pipeline does. */
typedef struct push_flow {
    const char *name;
    /* Begin the pipeline of r (mapped, not a duplicate in the batch). */
    void (*start)(push_rec *r);
    /* Optional: the field and value that identify r when the mapping's
     * match list does not (NULL: use the match list). */
    const char *(*identity)(push_rec *r, const char **field);
} push_flow;

struct push_rec {
    push_call *call;
    size_t index;         /* in the push call */
    const conn_buf *in;   /* the record as the host gave it (borrowed) */
    json_object *host;    /* the host record */
    json_object *payload; /* the mapped Acumatica payload */
    char *host_id;        /* the mapping's id of the record (for messages) */
    char *match_field;    /* the payload field that identifies it */
    char *match_value;
    char *batch_key;      /* match field + value, for copies in one batch */
    char *marker;         /* host-state key of the pending-create marker */
    int marker_set;       /* the marker is in host state */
    int started;
    int done;
    int step;             /* the flow's state */
    int match_i;          /* the flow's position in the match list */
    int attempts;         /* create attempts */
    int recovered;        /* an earlier attempt's record was found */
    long waits_for;       /* index of the copy before it in the batch, or -1 */
    int copy_before;      /* a copy came before it: look up first */
    json_object *found;   /* flow scratch: a record found by lookup */
    char *text;           /* flow scratch (a Location, a shipment number) */
    json_object *result;  /* identifiers for the report */
};

struct push_call {
    conn_instance *inst;
    const char *flow;
    const push_flow *ops;
    const acu_map *map;
    push_rec *recs;
    size_t n;
    size_t next;          /* next record to start */
    size_t finished;
    int running;
    int limit;            /* Concurrent Batch Executions */
    conn_status fatal;    /* set: start no more records (AUTH, NOMEM) */
    conn_error fatal_err;
    json_object *first_of;/* batch key -> index of its first record */
    json_object *cache;   /* flow scratch shared by the records (customers) */
    size_t counts[7];     /* reports per conn_outcome */
    int stopping;         /* the host asked to stop: nothing new is sent */
    int64_t stop_deadline_ms; /* when the requests still in flight are aborted */
};

/* ---- requests -------------------------------------------------------------- */

/* Send a request for record r; when its answer arrives, on_done(r, resp)
 * runs (it owns resp). `idempotent`: safe to repeat blindly. */
void push_send(push_rec *r, const char *method, const char *url,
               json_object *body, const char *const *headers, int idempotent,
               const char *what, void (*on_done)(push_rec *, acu_resp *));

/* A request that may create something: the pending-create marker is
 * written first (r ends FAILED when host state cannot take it), then the
 * request is sent, never blindly repeated. */
void push_create(push_rec *r, const char *method, const char *url,
                 json_object *body, const char *const *headers,
                 const char *what, void (*on_done)(push_rec *, acu_resp *));

/* The same, starting no sooner than delay_ms from now (status polling). */
void push_send_later(push_rec *r, const char *url, long delay_ms,
                     const char *what, void (*on_done)(push_rec *, acu_resp *));

/* "<endpoint base>/<entity>[/<escaped key>...]" + query; malloc'd. */
char *push_url(push_call *c, const char *entity, const char *const *keys,
               const char *query);

/* "<endpoint base>/<entity>?$filter=<escaped filter>&<more>"; malloc'd. */
char *push_list_url(push_call *c, const char *entity, const char *filter,
                    const char *more);

/* {"value": s}, a field value in Acumatica's shape. */
json_object *push_wrap_string(const char *s);

/* A $filter "f1 eq 'v1' and f2 eq 'v2'" (linked fields with '/'). */
char *push_filter(const char *const *fields, const char *const *values,
                  size_t n);

/* ---- outcomes ---------------------------------------------------------------- */

/* Report r with outcome and message (may be NULL) and end its pipeline:
 * the result carries r->result's identifiers. */
void push_finish(push_rec *r, conn_outcome outcome, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* End r from a failed answer: REJECTED (with Acumatica's field errors),
 * FAILED (transient, retry later), or CANCELLED; AUTH stops the call. */
void push_fail(push_rec *r, const acu_resp *resp, const char *doing);

/* The JSON of a successful answer for r. When it does not parse (or is
 * not a list and want_list is set) r ends FAILED, saying what it was
 * `doing`, and NULL is returned. With `quiet`, a bad body is NULL without
 * ending r (answers read only for identifiers). Caller puts the result. */
json_object *push_parse(push_rec *r, const acu_resp *resp, int want_list,
                        int quiet, const char *doing);

/* ---- markers ------------------------------------------------------------------- */

/* Is there a marker from an earlier call for r? */
int push_marker_present(push_rec *r);
/* Write r's marker before a create; nonzero when host state failed. */
int push_marker_set(push_rec *r);
/* Remove r's marker once the outcome is known. */
void push_marker_clear(push_rec *r);

/* ---- payload values -------------------------------------------------------- */

/* The value of a dotted field path ("MainContact.Email") of a wrapped
 * payload or record, as text; NULL when empty. */
const char *push_value(json_object *rec, const char *path);

/* Set r->result member `name` to a string / to a copy of a JSON value. */
void push_result_str(push_rec *r, const char *name, const char *value);
void push_result_take(push_rec *r, const char *name, json_object *value);

/* The flows. */
extern const push_flow acu_push_sales_orders;
extern const push_flow acu_push_customers;
extern const push_flow acu_push_tracking;

#endif
