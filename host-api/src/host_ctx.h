/* host_ctx.h - the per-instance host context and the host services table.
 *
 * A plugin instance gets one context: the subscription it serves, the state
 * store, the log sink, and the record sinks the running command sets (a pull
 * wants emit and checkpoint, a push wants report). The services table is the
 * same for every instance; each service finds everything through the ctx. */
#ifndef HOST_CTX_H
#define HOST_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"
#include "host_state.h"

typedef struct conn_host_ctx host_ctx;

/* Where log lines go. `message` is already cleaned of control characters
 * and bounded; `flow` may be NULL. */
typedef void (*host_log_fn)(void *user, const char *subscription, conn_log_level level,
                            const char *flow, const char *message);

/* The record sinks, set by the command that runs a flow. Same meaning and
 * return values as conn_host_api.emit / checkpoint / report. */
typedef struct host_sinks {
    conn_status (*emit)(void *user, const char *flow, const char *record_type,
                        const char *id, const char *json, size_t len);
    conn_status (*checkpoint)(void *user, const char *flow, const char *cursor, size_t len);
    void (*report)(void *user, size_t index, conn_outcome outcome, const char *result,
                   size_t len);
    /* The plugin's running totals (ABI 1.1 progress), already checked and
     * kept by the ctx: `counters` is the normalised JSON object. May be NULL. */
    void (*progress)(void *user, const char *flow, const char *counters);
    void *user;
} host_sinks;

/* Longest counters object a plugin may hand to progress (the ABI's bound). */
#define HOST_COUNTERS_MAX 1024

/* Longest log message passed on; longer ones are cut (and say so). */
#define HOST_LOG_MESSAGE_MAX 4096

/* Make a context for `subscription` (1 to HOST_STATE_SUBSCRIPTION_MAX
 * printable bytes) on `state` (borrowed; may be NULL, then the state
 * services answer CONN_INTERNAL). Logs go to stderr at INFO and above until
 * host_ctx_set_log; emit/checkpoint refuse with CONN_UNSUPPORTED and report
 * is dropped until host_ctx_set_sinks. */
conn_status host_ctx_new(const char *subscription, host_state *state, host_ctx **out,
                         conn_error *err);

/* Accepts NULL. The ctx must outlive every instance made with it. */
void host_ctx_free(host_ctx *ctx);

const char *host_ctx_subscription(const host_ctx *ctx);
host_state *host_ctx_state(const host_ctx *ctx);

/* Send log lines at `max_level` and more severe to fn (NULL: drop them). */
void host_ctx_set_log(host_ctx *ctx, host_log_fn fn, void *user, conn_log_level max_level);

/* Set (sinks != NULL) or clear the record sinks; not during a plugin call. */
void host_ctx_set_sinks(host_ctx *ctx, const host_sinks *sinks);

/* Replace the wall clock behind now_ms (tests move time); NULL restores it. */
void host_ctx_set_clock(host_ctx *ctx, int64_t (*clock)(void *user), void *user);

/* The plugin's last running totals since host_ctx_clear_counters, as a
 * JSON object of non-negative integers ("{}" when none came). Valid until
 * the next plugin call on this ctx. A progress call whose text is not such
 * an object of at most HOST_COUNTERS_MAX bytes is ignored. */
const char *host_ctx_counters(const host_ctx *ctx);
void host_ctx_clear_counters(host_ctx *ctx);

/* The integer `name` of a counters object, or 0 when it has none. */
int64_t host_counter(const char *counters, const char *name);

/* Add the counters object `more` to the one in acc (cap bytes, "" or a
 * counters object), name by name: totals over several calls. "max_..."
 * names keep the larger value. acc is left alone when the sum would not fit
 * or either side is not a counters object. */
void host_counters_add(char *acc, size_t cap, const char *more);

/* Ask the current plugin call to end soon (should_stop answers 1 until
 * host_ctx_clear_stop). Any thread; async-signal-safe. */
void host_ctx_request_stop(host_ctx *ctx);
void host_ctx_clear_stop(host_ctx *ctx);

/* The log sink connector-host uses: one line on stderr,
 * "connector-host: <level>: [<subscription>] [<flow>: ]<message>". */
void host_log_stderr(void *user, const char *subscription, conn_log_level level,
                     const char *flow, const char *message);

/* The host services table of this host (ABI 1.1, no alloc/free), the same
 * for every instance. Static; never freed. */
const conn_host_api *host_services(void);

#endif
