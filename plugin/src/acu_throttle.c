/* acu_throttle.c - exact sliding-window throttle with FIFO waiters. */
#include "acu_throttle.h"

#include <stdlib.h>
#include <string.h>

conn_status acu_throttle_init(acu_throttle *t, int limit, int64_t window_ms,
                              int max_inflight)
{
    memset(t, 0, sizeof(*t));
    if (limit < 1 || window_ms < 1 || max_inflight < 1)
        return CONN_INVALID;
    t->ring = calloc((size_t)limit, sizeof(*t->ring));
    if (t->ring == NULL)
        return CONN_NOMEM;
    t->limit = limit;
    t->window_ms = window_ms;
    t->margin_ms = window_ms / 50;
    if (t->margin_ms < 50)
        t->margin_ms = 50;
    if (t->margin_ms > 2000)
        t->margin_ms = 2000;
    t->max_inflight = max_inflight;
    t->eff_limit = limit;
    t->last_cut_ms = INT64_MIN;
    t->last_grow_ms = INT64_MIN;
    return CONN_OK;
}

void acu_throttle_free(acu_throttle *t)
{
    if (t == NULL)
        return;
    free(t->ring);
    t->ring = NULL;
}

void acu_throttle_enqueue(acu_throttle *t, acu_throttle_waiter *w, int64_t now)
{
    w->next = NULL;
    w->enqueued_ms = now;
    w->refusals = t->refusals;
    w->queued = 1;
    if (t->tail != NULL)
        t->tail->next = w;
    else
        t->head = w;
    t->tail = w;
}

void acu_throttle_remove(acu_throttle *t, acu_throttle_waiter *w)
{
    acu_throttle_waiter **pp = &t->head, *prev = NULL;

    if (!w->queued)
        return;
    while (*pp != NULL && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL)
        return;
    *pp = w->next;
    if (t->tail == w)
        t->tail = prev;
    w->next = NULL;
    w->queued = 0;
}

acu_throttle_waiter *acu_throttle_peek(const acu_throttle *t)
{
    return t->head;
}

/* Grow the effective limit back after quiet windows. */
static void recover(acu_throttle *t, int64_t now)
{
    int step;

    if (t->eff_limit >= t->limit || t->last_cut_ms == INT64_MIN)
        return;
    /* The cool-down: one full window after the last cut. */
    if (now < t->last_cut_ms + t->window_ms)
        return;
    if (t->last_grow_ms < t->last_cut_ms + t->window_ms)
        t->last_grow_ms = t->last_cut_ms + t->window_ms;
    step = t->limit / 8;
    if (step < 1)
        step = 1;
    while (t->eff_limit < t->limit && now >= t->last_grow_ms + t->window_ms) {
        t->eff_limit += step;
        if (t->eff_limit > t->limit)
            t->eff_limit = t->limit;
        t->last_grow_ms += t->window_ms;
    }
}

int acu_throttle_effective_limit(acu_throttle *t, int64_t now)
{
    recover(t, now);
    return t->eff_limit;
}

/* The start time of the n-th most recent start (n >= 1, n <= ring_count). */
static int64_t recent_start(const acu_throttle *t, int n)
{
    int idx = (t->ring_head + t->ring_count - n) % t->limit;

    return t->ring[idx];
}

acu_throttle_waiter *acu_throttle_admit(acu_throttle *t, int64_t now,
                                        int64_t *wait_ms)
{
    acu_throttle_waiter *w = t->head;

    *wait_ms = -1;
    if (w == NULL)
        return NULL;
    recover(t, now);
    if (t->inflight >= t->max_inflight) {
        t->refusals++;
        return NULL;
    }
    if (t->ring_count >= t->eff_limit) {
        int64_t allowed = recent_start(t, t->eff_limit) + t->window_ms + t->margin_ms;

        if (allowed > now) {
            *wait_ms = allowed - now;
            t->refusals++;
            return NULL;
        }
    }
    /* Admit: leave the queue, record the start. */
    t->head = w->next;
    if (t->head == NULL)
        t->tail = NULL;
    w->next = NULL;
    w->queued = 0;
    if (t->ring_count < t->limit) {
        t->ring[(t->ring_head + t->ring_count) % t->limit] = now;
        t->ring_count++;
    } else {
        t->ring[t->ring_head] = now;
        t->ring_head = (t->ring_head + 1) % t->limit;
    }
    t->inflight++;
    t->starts++;
    /* Time spent queued counts as throttle wait only when a limit held it
     * back (an admission was refused since it queued), not for the moment
     * between queueing and the next turn of the loop. */
    if (t->refusals != w->refusals && now > w->enqueued_ms) {
        t->waited++;
        t->wait_ms += now - w->enqueued_ms;
    }
    return w;
}

void acu_throttle_done(acu_throttle *t)
{
    if (t->inflight > 0)
        t->inflight--;
}

int acu_throttle_on_429(acu_throttle *t, int64_t now, int64_t started_ms)
{
    recover(t, now);
    if (t->last_cut_ms != INT64_MIN && started_ms < t->last_cut_ms)
        return 0;
    t->eff_limit = t->eff_limit / 2;
    if (t->eff_limit < 1)
        t->eff_limit = 1;
    t->last_cut_ms = now;
    t->last_grow_ms = INT64_MIN;
    t->cuts++;
    return 1;
}
