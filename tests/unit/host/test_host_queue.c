/* test_host_queue.c - the push queue: the retry schedule, and the state
 * machine (pending -> in_flight -> done | dead | pending again) with its
 * filters, recovery, retry, drop and prune. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_queue.h"
#include "host_state.h"
#include "host_store.h"
#include "host_test_util.h"

typedef struct fixture {
    char *dir;
    host_state *st;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char db[PATH_MAX];
    conn_error err;

    fx->dir = host_test_tmpdir("queue");
    snprintf(db, sizeof(db), "%s/state.db", fx->dir);
    assert_int_equal(host_state_new(db, &fx->st, &err), CONN_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    host_state_free(fx->st);
    host_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void test_retry_schedule(void **state)
{
    const int64_t minute = 60000;

    (void)state;
    /* The platform's schedule: now, 20, 60, 120, 200 ... minutes. */
    assert_int_equal(host_retry_delay_ms(0, minute), 0);
    assert_int_equal(host_retry_delay_ms(1, minute), 20 * minute);
    assert_int_equal(host_retry_delay_ms(2, minute), 60 * minute);
    assert_int_equal(host_retry_delay_ms(3, minute), 120 * minute);
    assert_int_equal(host_retry_delay_ms(4, minute), 200 * minute);
    assert_int_equal(host_retry_delay_ms(9, minute), 900 * minute);
    /* A scaled unit for tests. */
    assert_int_equal(host_retry_delay_ms(2, 10), 600);
    /* Never overflows. */
    assert_true(host_retry_delay_ms(4000000000u, INT64_MAX / 2) == INT64_MAX);
    assert_true(host_retry_delay_ms(100000, minute) > 0);
    assert_int_equal(host_retry_delay_ms(3, 0), 0);
}

static void enqueue_n(fixture *fx, const char *sub, const char *flow, size_t n, int64_t *first)
{
    conn_buf recs[16];
    char text[16][64];
    conn_error err;

    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        snprintf(text[i], sizeof(text[i]), "{\"id\":\"%s-%s-%zu\"}", sub, flow, i);
        recs[i].data = text[i];
        recs[i].len = strlen(text[i]);
    }
    assert_int_equal(host_queue_enqueue(fx->st, sub, flow, recs, n, first, &err), CONN_OK);
}

static int64_t depth(fixture *fx, const char *sub, const char *flow, host_qstate s)
{
    int64_t counts[HOST_Q_STATES];
    conn_error err;

    assert_int_equal(host_queue_depth(fx->st, sub, flow, counts, &err), CONN_OK);
    return counts[s];
}

typedef struct rows {
    size_t n;
    int64_t id[32];
    char state[32][16];
    unsigned attempts[32];
    int64_t next_ms[32];
    char outcome[32][16];
    char result[32][128];
} rows;

static void collect(void *user, const host_queue_row *r)
{
    rows *rs = user;

    if (rs->n >= 32)
        return;
    rs->id[rs->n] = r->id;
    snprintf(rs->state[rs->n], sizeof(rs->state[0]), "%s", r->state);
    rs->attempts[rs->n] = r->attempts;
    rs->next_ms[rs->n] = r->next_ms;
    snprintf(rs->outcome[rs->n], sizeof(rs->outcome[0]), "%s",
             r->outcome != NULL ? r->outcome : "");
    snprintf(rs->result[rs->n], sizeof(rs->result[0]), "%s", r->result != NULL ? r->result : "");
    rs->n++;
}

static void list(fixture *fx, const host_queue_filter *f, rows *rs)
{
    conn_error err;

    memset(rs, 0, sizeof(*rs));
    assert_int_equal(host_queue_list(fx->st, f, 0, collect, rs, &err), CONN_OK);
}

static void test_state_machine(void **state)
{
    fixture *fx = *state;
    host_retry_policy pol = {1000, 3};
    host_queue_batch b;
    host_queue_counts qc;
    host_settle out[8];
    host_queue_filter all = {"acme", "orders", -1, 0};
    rows rs;
    int64_t first = 0, now = host_wall_ms();
    conn_error err;

    enqueue_n(fx, "acme", "orders", 7, &first);
    enqueue_n(fx, "acme", "customers", 2, &first);
    enqueue_n(fx, "other", "orders", 3, &first);
    now = host_wall_ms(); /* after the records' enqueue time: all due */
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_PENDING), 7);
    assert_int_equal(depth(fx, "acme", NULL, HOST_Q_PENDING), 9);

    /* Claim: only this (subscription, flow), oldest first, up to max. */
    assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 7, now, 42, &b, &err), CONN_OK);
    assert_int_equal(b.n, 7);
    for (size_t i = 1; i < b.n; i++)
        assert_true(b.items[i].id > b.items[i - 1].id);
    assert_string_equal(b.items[0].record, "{\"id\":\"acme-orders-0\"}");
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_IN_FLIGHT), 7);
    /* In flight records are not claimed twice. */
    {
        host_queue_batch again;

        assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 10, now, 43, &again, &err),
                         CONN_OK);
        assert_int_equal(again.n, 0);
        host_queue_batch_free(&again);
    }
    memset(out, 0, sizeof(out));
    out[0].outcome = CONN_OUT_CREATED;
    out[0].result = "{\"OrderNbr\":\"SO1\"}";
    out[0].result_len = strlen(out[0].result);
    out[1].outcome = CONN_OUT_UPDATED;
    out[2].outcome = CONN_OUT_DUPLICATE;
    out[3].outcome = CONN_OUT_SKIPPED;
    out[4].outcome = CONN_OUT_REJECTED;
    out[4].result = "{\"message\":\"Inventory ID 'X' not found\"}";
    out[4].result_len = strlen(out[4].result);
    out[5].outcome = CONN_OUT_FAILED;
    out[6].outcome = CONN_OUT_CANCELLED;
    assert_int_equal(host_queue_settle(fx->st, &b, out, now, &pol, &qc, &err), CONN_OK);
    assert_int_equal(qc.done, 4);
    assert_int_equal(qc.dead, 1);
    assert_int_equal(qc.retry, 1);
    assert_int_equal(qc.cancelled, 1);
    host_queue_batch_free(&b);

    list(fx, &all, &rs);
    assert_int_equal(rs.n, 7);
    assert_string_equal(rs.state[0], "done");
    assert_string_equal(rs.outcome[0], "created");
    assert_string_equal(rs.result[0], "{\"OrderNbr\":\"SO1\"}");
    assert_string_equal(rs.state[3], "done");
    assert_string_equal(rs.outcome[3], "skipped");
    /* Rejected: a dead letter with Acumatica's message. */
    assert_string_equal(rs.state[4], "dead");
    assert_string_equal(rs.outcome[4], "rejected");
    assert_non_null(strstr(rs.result[4], "Inventory ID 'X' not found"));
    /* Failed once: pending, due after 10*1*2 units. */
    assert_string_equal(rs.state[5], "pending");
    assert_int_equal(rs.attempts[5], 1);
    assert_int_equal(rs.next_ms[5], now + 20 * 1000);
    /* Cancelled: pending, due now, not counted as an attempt. */
    assert_string_equal(rs.state[6], "pending");
    assert_int_equal(rs.attempts[6], 0);
    assert_int_equal(rs.next_ms[6], now);

    /* Only due records are claimed. */
    assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 10, now, 44, &b, &err), CONN_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.items[0].id, rs.id[6]);
    out[0].outcome = CONN_OUT_CREATED;
    out[0].result = NULL;
    assert_int_equal(host_queue_settle(fx->st, &b, out, now, &pol, &qc, &err), CONN_OK);
    host_queue_batch_free(&b);
    {
        int64_t due = -1;

        assert_int_equal(host_queue_due(fx->st, "acme", "orders", now, &due, &err), CONN_OK);
        assert_int_equal(due, 0);
        assert_int_equal(host_queue_due(fx->st, "acme", "orders", now + 20000, &due, &err),
                         CONN_OK);
        assert_int_equal(due, 1);
    }

    /* The failing record: 2nd failure waits 60 units; the 3rd is the last
     * attempt (max_attempts 3) and makes it a dead letter. */
    now += 20000;
    assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 10, now, 45, &b, &err), CONN_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.items[0].attempts, 1);
    out[0].outcome = CONN_OUT_FAILED;
    out[0].result = "{\"message\":\"503\"}";
    out[0].result_len = strlen(out[0].result);
    assert_int_equal(host_queue_settle(fx->st, &b, out, now, &pol, &qc, &err), CONN_OK);
    assert_int_equal(qc.retry, 1);
    host_queue_batch_free(&b);
    list(fx, &(host_queue_filter){"acme", "orders", HOST_Q_PENDING, 0}, &rs);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.attempts[0], 2);
    assert_int_equal(rs.next_ms[0], now + 60 * 1000);
    now += 60000;
    assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 10, now, 46, &b, &err), CONN_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(host_queue_settle(fx->st, &b, out, now, &pol, &qc, &err), CONN_OK);
    assert_int_equal(qc.dead, 1);
    assert_int_equal(qc.retry, 0);
    host_queue_batch_free(&b);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_DEAD), 2);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_PENDING), 0);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_DONE), 5);
    /* The other queues were never touched. */
    assert_int_equal(depth(fx, "acme", "customers", HOST_Q_PENDING), 2);
    assert_int_equal(depth(fx, "other", "orders", HOST_Q_PENDING), 3);
}

static void test_recover_retry_drop(void **state)
{
    fixture *fx = *state;
    host_retry_policy pol = {60000, 10};
    host_queue_batch b;
    host_queue_counts qc;
    host_settle out[4];
    rows rs;
    int64_t first = 0, n = 0, now = host_wall_ms();
    conn_error err;

    enqueue_n(fx, "acme", "orders", 4, &first);
    enqueue_n(fx, "beta", "orders", 2, &first);
    now = host_wall_ms();
    /* A process dies with records in flight: they go back to pending. */
    assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 2, now, 1, &b, &err), CONN_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(host_queue_recover(fx->st, &n, &err), CONN_OK);
    assert_int_equal(n, 2);
    now = host_wall_ms(); /* recovered records are due from the recovery on */
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_PENDING), 4);
    /* Settling a recovered record is a no-op (it is not in flight). */
    memset(out, 0, sizeof(out));
    out[0].outcome = CONN_OUT_CREATED;
    out[1].outcome = CONN_OUT_CREATED;
    assert_int_equal(host_queue_settle(fx->st, &b, out, now, &pol, &qc, &err), CONN_OK);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_DONE), 0);
    host_queue_batch_free(&b);

    /* Make one dead letter, one waiting retry, one done. */
    assert_int_equal(host_queue_claim(fx->st, "acme", "orders", 3, now, 2, &b, &err), CONN_OK);
    out[0].outcome = CONN_OUT_REJECTED;
    out[1].outcome = CONN_OUT_FAILED;
    out[2].outcome = CONN_OUT_CREATED;
    assert_int_equal(host_queue_settle(fx->st, &b, out, now, &pol, &qc, &err), CONN_OK);
    host_queue_batch_free(&b);

    /* retry: the dead letter back with its attempts reset, the waiting
     * record due now; done records untouched. */
    assert_int_equal(host_queue_retry(fx->st, &(host_queue_filter){"acme", NULL, -1, 0}, now,
                                      &n, &err),
                     CONN_OK);
    assert_int_equal(n, 2);
    list(fx, &(host_queue_filter){"acme", "orders", HOST_Q_PENDING, 0}, &rs);
    assert_int_equal(rs.n, 3);
    assert_int_equal(rs.attempts[0], 0); /* was dead: reset */
    assert_int_equal(rs.attempts[1], 1); /* was waiting: keeps its count */
    for (size_t i = 0; i < rs.n; i++)
        assert_true(rs.next_ms[i] <= now);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_DONE), 1);
    /* retry --status done does nothing. */
    assert_int_equal(host_queue_retry(fx->st, &(host_queue_filter){NULL, NULL, HOST_Q_DONE, 0},
                                      now, &n, &err),
                     CONN_OK);
    assert_int_equal(n, 0);

    /* drop: in flight records are kept unless asked by state. */
    assert_int_equal(host_queue_claim(fx->st, "beta", "orders", 1, now, 3, &b, &err), CONN_OK);
    host_queue_batch_free(&b);
    assert_int_equal(host_queue_drop(fx->st, &(host_queue_filter){"beta", NULL, -1, 0}, &n,
                                     &err),
                     CONN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(depth(fx, "beta", "orders", HOST_Q_IN_FLIGHT), 1);
    assert_int_equal(host_queue_drop(fx->st,
                                     &(host_queue_filter){"beta", NULL, HOST_Q_IN_FLIGHT, 0},
                                     &n, &err),
                     CONN_OK);
    assert_int_equal(n, 1);
    /* drop by id. */
    list(fx, &(host_queue_filter){"acme", NULL, HOST_Q_PENDING, 0}, &rs);
    assert_int_equal(host_queue_drop(fx->st, &(host_queue_filter){NULL, NULL, -1, rs.id[0]}, &n,
                                     &err),
                     CONN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_PENDING), 2);

    /* prune: done records older than the cut. */
    assert_int_equal(host_queue_prune(fx->st, host_wall_ms() + 1000, &n, &err), CONN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(depth(fx, "acme", "orders", HOST_Q_DONE), 0);
}

static void test_names(void **state)
{
    host_qstate s;

    (void)state;
    assert_int_equal(host_qstate_parse("in_flight", &s), 0);
    assert_int_equal(s, HOST_Q_IN_FLIGHT);
    assert_int_equal(host_qstate_parse("flying", &s), -1);
    assert_string_equal(host_qstate_name(HOST_Q_DEAD), "dead");
    assert_string_equal(host_outcome_name(CONN_OUT_DUPLICATE), "duplicate");
    assert_string_equal(host_outcome_name((conn_outcome)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_schedule),
        cmocka_unit_test_setup_teardown(test_state_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_retry_drop, setup, teardown),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
