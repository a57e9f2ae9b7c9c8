/* acu_backoff.h - how long to wait before sending a request again.
 *
 * Capped exponential backoff with full jitter (the delay before retry n is
 * uniform in [0, min(cap, base * 2^n)]), so many clients that failed
 * together do not come back together. A Retry-After from the server wins
 * when present: the delay is what the server asked for plus up to 10 %
 * jitter, limited to max_ms (a longer wait is left to the host's scheduler
 * through conn_error.retry_after_ms). */
#ifndef ACU_BACKOFF_H
#define ACU_BACKOFF_H

#include <stdint.h>

#include "acu_crypto.h"

typedef struct acu_backoff_policy {
    int max_attempts;  /* total tries of one request, first one included */
    int64_t base_ms;   /* the first retry waits up to this */
    int64_t cap_ms;    /* no computed delay is longer */
    int64_t max_ms;    /* the longest wait done inside a call (Retry-After) */
} acu_backoff_policy;

/* The defaults: 5 attempts, 500 ms base, 30 s cap, 120 s for Retry-After. */
extern const acu_backoff_policy acu_backoff_default;

/* Delay before retry number `retry` (1 for the first retry). retry_after_ms
 * is the server's wish or -1. Returns -1 when the server's wish is longer
 * than policy->max_ms (do not retry inside this call). */
int64_t acu_backoff_delay(const acu_backoff_policy *policy, acu_prng *prng,
                          int retry, int64_t retry_after_ms);

/* Parse a Retry-After header value: delta-seconds or an HTTP-date
 * (IMF-fixdate, RFC 850 or asctime form). now_ms is the current wall-clock
 * time. Returns the delay in ms (0 for a date in the past), or -1 when the
 * value is not understood. */
int64_t acu_retry_after_parse(const char *value, int64_t now_ms);

#endif
