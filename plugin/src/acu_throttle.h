/* acu_throttle.h - the traffic discipline that keeps an Acumatica license
 * healthy: an exact sliding window of request starts, a cap on requests in
 * flight, first-come first-served waiting, and a slow-down after a 429.
 *
 * Exact window: at most `limit` request starts in ANY interval of
 * `window_ms` (plus a small safety margin, below), not an average. The last
 * `limit` start times are kept in a ring; a new start at time t is allowed
 * when fewer than `limit` starts happened in (t - window - margin, t].
 *
 * Safety margin: the server timestamps a request when it arrives, a few
 * milliseconds after the client starts it, and that delay varies (new
 * connection vs. keep-alive, a busy server). The window is therefore
 * widened by 2% (at least 50 ms, at most 2 s) so the server never counts
 * more than `limit` in its own window. The cost is at most 2.5% of the rate.
 *
 * Slow-down after a 429 (additive increase, multiplicative decrease, as in
 * TCP congestion control):
 *   - a 429 halves the effective limit (not below 1); 429s of requests that
 *     started before the last halving are ignored, so one burst of rejected
 *     requests halves once, not once per request;
 *   - for one full window after the last halving the limit stays there
 *     (the cool-down);
 *   - then, for every further window without a 429, the limit grows by
 *     one eighth of the configured limit (at least 1) until it is back to
 *     the configured value. From one halving, full speed returns after
 *     1 + 4 windows: 50% for a window, then 62.5%, 75%, 87.5%, 100%.
 *
 * Everything takes the current time as an argument so tests can drive it
 * with a fake clock. The caller owns the waiters (intrusive list). */
#ifndef ACU_THROTTLE_H
#define ACU_THROTTLE_H

#include <stdint.h>

#include "conn_abi.h"

typedef struct acu_throttle_waiter {
    struct acu_throttle_waiter *next;
    int64_t enqueued_ms; /* when it joined the queue */
    uint64_t refusals;   /* the throttle's refusal count when it joined */
    int queued;          /* nonzero while in the queue */
} acu_throttle_waiter;

typedef struct acu_throttle {
    int limit;          /* configured starts per window */
    int64_t window_ms;  /* configured window */
    int64_t margin_ms;  /* the safety margin added to the window */
    int max_inflight;   /* configured concurrency */
    int inflight;       /* started and not yet done */
    int64_t *ring;      /* start times, ring of `limit` entries */
    int ring_head;      /* index of the oldest entry */
    int ring_count;     /* entries in use */
    acu_throttle_waiter *head, *tail; /* FIFO of waiters */
    uint64_t refusals;     /* admissions refused so far (a limit held) */
    int eff_limit;         /* the effective limit after 429s */
    int64_t last_cut_ms;   /* when the limit was last halved; INT64_MIN never */
    int64_t last_grow_ms;  /* when the limit last grew */
    /* Counters, for the per-call report (the caller resets them). */
    uint64_t starts;       /* requests started */
    uint64_t waited;       /* requests that waited because a limit held */
    int64_t wait_ms;       /* total time those requests waited */
    uint64_t cuts;         /* times the limit was halved */
} acu_throttle;

/* Set up for `limit` starts per `window_ms` and `max_inflight` in flight.
 * CONN_NOMEM when the ring cannot be allocated. */
conn_status acu_throttle_init(acu_throttle *t, int limit, int64_t window_ms,
                              int max_inflight);

/* Free the ring; accepts NULL. The queue must be empty. */
void acu_throttle_free(acu_throttle *t);

/* Put w at the end of the queue at time now. */
void acu_throttle_enqueue(acu_throttle *t, acu_throttle_waiter *w, int64_t now);

/* Take w out of the queue (a cancelled request). Harmless when w is not
 * queued. */
void acu_throttle_remove(acu_throttle *t, acu_throttle_waiter *w);

/* The first waiter, or NULL; it is not admitted by this. */
acu_throttle_waiter *acu_throttle_peek(const acu_throttle *t);

/* Admit the first waiter if the limits allow it at `now`: it leaves the
 * queue, its start is recorded and it counts as in flight. Otherwise NULL,
 * and *wait_ms is how long until the window allows the next start, or -1
 * when the queue is empty or the wait is for a request in flight to end. */
acu_throttle_waiter *acu_throttle_admit(acu_throttle *t, int64_t now,
                                        int64_t *wait_ms);

/* A request that was admitted has ended (any outcome). */
void acu_throttle_done(acu_throttle *t);

/* The server answered 429 to a request started at `started_ms`. Returns
 * nonzero when this halved the limit. */
int acu_throttle_on_429(acu_throttle *t, int64_t now, int64_t started_ms);

/* The effective limit at `now` (applies recovery first). */
int acu_throttle_effective_limit(acu_throttle *t, int64_t now);

#endif
