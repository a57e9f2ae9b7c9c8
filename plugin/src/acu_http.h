/* acu_http.h - the plugin's HTTP transport: one libcurl multi handle per
 * instance, an asynchronous core and a synchronous wrapper on top.
 *
 * Model
 *   A caller submits requests, each with a completion callback, and then
 *   runs the loop (acu_http_run) until its own work is done. The loop drives
 *   every request in flight with curl_multi_poll, admits queued requests
 *   through the throttle (acu_throttle.h), sleeps out retry backoffs, lets
 *   the authority (below) renew credentials, and polls the host's
 *   should_stop. Completion callbacks run from the loop - never from inside
 *   a libcurl callback - so they may submit new requests: a flow is a set
 *   of state machines that advance on completions.
 *
 * Connections
 *   A pool of easy handles, no more than concurrent_connections, is reused
 *   so connections stay alive. Cookies live in one in-memory cookie engine
 *   per instance (a share handle), used by cookie sign-in and by the
 *   api:concurrent_access scope.
 *
 * Retries (acu_backoff.h)
 *   A request marked safe to repeat (GET, a PUT the caller knows is
 *   idempotent) is sent again after timeouts, connection failures, 429 and
 *   transient 5xx answers, up to the policy's attempts. A request that could
 *   create a record twice is sent again only when it surely was not
 *   processed (the connection failed before it was sent, a 429, a 401);
 *   otherwise it completes with outcome_unknown set, so the flow can look
 *   the record up before trying again. Such a request also goes on a fresh
 *   connection: on a reused one libcurl itself would resend it when the
 *   connection dies before the answer (even after the body was sent).
 *
 * Using it (the flows)
 *   acu_call_begin(inst); submit the first requests (authorized = 1,
 *   endpoint = 1 for /entity/Default/<v>/..., idempotent for GET and
 *   key-addressed PUT); in each callback read resp (status, http_status,
 *   body, apierr.fields for 422 paths, outcome_unknown), free it with
 *   acu_resp_free and submit what comes next; acu_http_run(h, done_fn, ctx)
 *   until the flow's own "finished" predicate holds; acu_call_end(inst,
 *   flow, "pull", pages, records). CANCELLED from acu_http_run means should_stop: every
 *   callback has run with CANCELLED and the flow returns that status.
 *
 * Threads: none. Everything runs on the calling thread. */
#ifndef ACU_HTTP_H
#define ACU_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "acu_apierr.h"
#include "acu_backoff.h"
#include "acu_crypto.h"
#include "acu_throttle.h"
#include "conn_abi.h"

/* conn_error.detail_type of a failed certificate check (no HTTP answer). */
#define ACU_DETAIL_TLS "tls_verification"

/* Largest response body accepted (the same as the JSON parser's limit). */
#define ACU_HTTP_MAX_BODY (64u * 1024u * 1024u)
/* Time to set up a connection (TCP and TLS). */
#define ACU_HTTP_CONNECT_TIMEOUT_MS 30000
/* A transfer that has started to move bytes and then moves none for this
 * long is abandoned. Before the first byte of the answer nothing is
 * counted: Acumatica keeps requests over the license limits in its queue,
 * silently, for up to 10 minutes; only request_timeout bounds that wait. */
#define ACU_HTTP_STALL_MS 60000

typedef struct acu_http acu_http;

/* What the caller asks for. Everything is copied at submit. */
typedef struct acu_req_spec {
    const char *method;       /* "GET", "POST", "PUT", "DELETE" */
    const char *url;          /* absolute */
    const char *content_type; /* of the body; NULL when there is none */
    const char *body;         /* may be NULL */
    size_t body_len;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
    const char *what;         /* for messages and logs: "GET Customer" */
    int idempotent;           /* safe to send again blindly */
    int authorized;           /* carries the instance's credentials; a 401
                                 renews them once and sends it again */
    int endpoint;             /* under /entity/Default/<version>/: an unknown
                                 endpoint answer names the version */
    int max_attempts;         /* 0: the transport's policy */
    long timeout_ms;          /* 0: request_timeout */
    long delay_ms;            /* start no sooner than this from now (status
                                 polling); 0: at once */
} acu_req_spec;

/* Fill spec for the common read: a GET of `url` under the endpoint, with
 * the instance's credentials, safe to send again. */
void acu_req_get(acu_req_spec *spec, const char *url, const char *what);

/* The result handed to a completion callback, which owns it. */
typedef struct acu_resp {
    conn_status status;   /* OK for 2xx; otherwise the class, see err */
    int outcome_unknown;  /* the request may or may not have been processed */
    long http_status;     /* 0 when no answer arrived */
    char *body;           /* NUL-terminated; "" when empty */
    size_t body_len;
    char *location;       /* the Location header, or NULL */
    char *content_type;   /* the Content-Type header, or NULL */
    int attempts;         /* times it was sent */
    acu_apierr apierr;    /* the parsed error answer (status != OK with an
                             HTTP answer); field errors for 422 */
    conn_error err;       /* filled when status != OK */
} acu_resp;

typedef void (*acu_http_done_fn)(void *user, acu_resp *resp);

/* The authority: whoever holds the credentials (acu_auth). */
typedef enum acu_auth_state {
    ACU_AUTH_READY = 0, /* credentials are set on the request */
    ACU_AUTH_BUSY = 1,  /* being obtained; acu_http_auth_settled follows */
    ACU_AUTH_FAILED = 2 /* cannot be obtained; err says why */
} acu_auth_state;

typedef struct acu_http_authority {
    void *self;
    /* Give the Authorization header line for a request about to start
     * (*header: a malloc'd "Authorization: ..." or NULL when cookies carry
     * the session) and the credential generation it belongs to. BUSY
     * parks the request until acu_http_auth_settled. */
    acu_auth_state (*prepare)(void *self, char **header, unsigned *generation,
                              conn_error *err);
    /* A request made with `generation` got 401. Renew unless that was done
     * since; BUSY parks the request, READY sends it again at once. */
    acu_auth_state (*unauthorized)(void *self, unsigned generation,
                                   conn_error *err);
} acu_http_authority;

/* Per-call counters, logged at the end of each plugin call. */
typedef struct acu_http_counters {
    uint64_t requests;   /* attempts sent */
    uint64_t retries;    /* attempts that were repeats */
    uint64_t status_429; /* 429 answers */
    uint64_t failures;   /* requests that completed with an error */
    int64_t throttle_wait_ms;
    uint64_t throttle_waits;
    uint64_t bytes_in;   /* response bodies, decoded */
    uint64_t bytes_out;  /* request bodies */
    int max_in_flight;
} acu_http_counters;

typedef struct acu_http_config {
    const conn_host_api *host;
    conn_host_ctx *ctx;
    const char *user_agent;   /* "acumatica-connector/<version>" */
    const char *ca_file;      /* NULL for the system store */
    int allow_http;           /* plain http allowed (loopback opt-in) */
    int concurrent_connections;
    int throttle_limit;
    int throttle_seconds;
    int request_timeout_s;
    const char *endpoint_version; /* for naming an unknown endpoint */
    const acu_backoff_policy *policy; /* NULL: acu_backoff_default */
} acu_http_config;

/* Make the transport. CONN_NOMEM / CONN_INTERNAL with a message. */
conn_status acu_http_new(const acu_http_config *cfg, acu_http **out,
                         conn_error *err);

/* End every request (their callbacks get CANCELLED) and free everything.
 * Accepts NULL. */
void acu_http_free(acu_http *h);

/* Install the authority (may be NULL for none). */
void acu_http_set_authority(acu_http *h, const acu_http_authority *a);

/* The authority has finished renewing: with err NULL the parked requests
 * go back to the front of the queue; otherwise they complete with err. */
void acu_http_auth_settled(acu_http *h, const conn_error *err);

/* Queue a request. The callback runs exactly once, from acu_http_run (or
 * from acu_http_free), and owns the acu_resp it gets. May be called from
 * inside a completion callback. `priority` requests go to the front of the
 * queue (credential renewal). */
conn_status acu_http_submit(acu_http *h, const acu_req_spec *spec, int priority,
                            acu_http_done_fn done, void *user, conn_error *err);

/* Drive the requests until until(user) is nonzero (checked after every
 * completion) or, with until NULL, until nothing is left. Returns
 * CONN_CANCELLED when the host's should_stop asked to stop (every request
 * then completed with CANCELLED), else CONN_OK. */
conn_status acu_http_run(acu_http *h, int (*until)(void *user), void *user,
                         conn_error *err);

/* Send one request and wait for it: the synchronous convenience. *out gets
 * the response (free with acu_resp_free) whatever its status; the return
 * value is resp->status (or CANCELLED/NOMEM when the run loop ended
 * otherwise, with *out possibly NULL). Do not call from a completion
 * callback. */
conn_status acu_http_request(acu_http *h, const acu_req_spec *spec,
                             acu_resp **out, conn_error *err);

/* Free a response; accepts NULL. */
void acu_resp_free(acu_resp *r);

/* End every request now: each callback runs with CANCELLED (from this
 * call). For the end of an instance, before what the callbacks use goes. */
void acu_http_cancel(acu_http *h, const char *why);

/* The server's clock now, in ms since the epoch, estimated from the Date
 * header of its last answer (whole seconds, so up to a second behind);
 * INT64_MIN before any answer carried one. */
int64_t acu_http_server_time_ms(const acu_http *h);

/* Requests queued, parked or in flight. */
size_t acu_http_pending(const acu_http *h);

/* Counters since the last reset; reset them. */
const acu_http_counters *acu_http_counters_get(const acu_http *h);
void acu_http_counters_reset(acu_http *h);

/* Log the counters through the host log: "<call>: 12 requests, ...". */
void acu_http_log_counters(acu_http *h, const char *flow, const char *call);

/* With on nonzero, the host's should_stop is not asked (shutdown's
 * sign-out must still run when the host is stopping everything). */
void acu_http_ignore_stop(acu_http *h, int on);

/* Forget every cookie (after sign-out). */
void acu_http_clear_cookies(acu_http *h);

/* The instance's PRNG (for callers that need jitter of their own). */
acu_prng *acu_http_prng(acu_http *h);

/* Milliseconds of the monotonic clock the transport runs on. */
int64_t acu_http_now_ms(void);

#endif
