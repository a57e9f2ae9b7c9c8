/* test_throttle.c - the sliding window, FIFO order, the in-flight cap and
 * the slow-down after a 429, driven by a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "acu_throttle.h"

/* Start n requests as fast as the throttle allows (each ends at once) and
 * record their start times. */
static void run_burst(acu_throttle *t, int n, int64_t *starts, int64_t t0)
{
    acu_throttle_waiter *w = calloc((size_t)n, sizeof(*w));
    int64_t now = t0;
    int started = 0;

    assert_non_null(w);
    for (int i = 0; i < n; i++)
        acu_throttle_enqueue(t, &w[i], now);
    while (started < n) {
        int64_t wait;
        acu_throttle_waiter *a = acu_throttle_admit(t, now, &wait);

        if (a == NULL) {
            assert_true(wait > 0);
            now += wait;
            continue;
        }
        /* FIFO: the waiters come out in the order they went in. */
        assert_ptr_equal(a, &w[started]);
        starts[started++] = now;
        acu_throttle_done(t);
    }
    free(w);
}

/* At most `limit` starts in any window of `window` ms. */
static int max_in_window(const int64_t *s, int n, int64_t window)
{
    int best = 0;

    for (int i = 0, j = 0; i < n; i++) {
        while (s[i] - s[j] >= window)
            j++;
        if (i - j + 1 > best)
            best = i - j + 1;
    }
    return best;
}

static void test_window_exact(void **state)
{
    acu_throttle t;
    int64_t starts[100];

    (void)state;
    assert_int_equal(acu_throttle_init(&t, 20, 2000, 100), CONN_OK);
    run_burst(&t, 100, starts, 1000000);
    assert_int_equal(max_in_window(starts, 100, 2000), 20);
    /* With the margin (50 ms for 2 s) the window never holds 21 starts even
     * when widened by the margin. */
    assert_int_equal(max_in_window(starts, 100, 2000 + t.margin_ms), 20);
    /* The first 20 start at once; then 20 per (window + margin). */
    assert_int_equal(starts[19], 1000000);
    assert_int_equal(starts[20], 1000000 + 2000 + t.margin_ms);
    assert_int_equal(starts[99], 1000000 + 4 * (2000 + t.margin_ms));
    /* The rate is within 2.5 % of the limit. */
    assert_true(t.margin_ms * 40 <= 2000);
    assert_int_equal(t.starts, 100);
    assert_int_equal(t.waited, 80);
    acu_throttle_free(&t);
}

static void test_inflight_cap(void **state)
{
    acu_throttle t;
    acu_throttle_waiter w[5];
    int64_t wait;

    (void)state;
    assert_int_equal(acu_throttle_init(&t, 100, 1000, 2), CONN_OK);
    for (int i = 0; i < 5; i++)
        acu_throttle_enqueue(&t, &w[i], 0);
    assert_ptr_equal(acu_throttle_admit(&t, 0, &wait), &w[0]);
    assert_ptr_equal(acu_throttle_admit(&t, 0, &wait), &w[1]);
    /* Two in flight: the third waits for one to end, not for time. */
    assert_null(acu_throttle_admit(&t, 0, &wait));
    assert_int_equal(wait, -1);
    assert_int_equal(t.inflight, 2);
    acu_throttle_done(&t);
    assert_ptr_equal(acu_throttle_admit(&t, 5, &wait), &w[2]);
    /* A removed waiter is skipped, the order of the rest is kept. */
    acu_throttle_remove(&t, &w[3]);
    acu_throttle_done(&t);
    assert_ptr_equal(acu_throttle_admit(&t, 6, &wait), &w[4]);
    assert_null(acu_throttle_admit(&t, 6, &wait));
    assert_int_equal(t.waited, 2);
    assert_int_equal(t.wait_ms, 11);
    acu_throttle_free(&t);
}

static void test_429_halves_and_recovers(void **state)
{
    acu_throttle t;
    int64_t window = 10000;

    (void)state;
    assert_int_equal(acu_throttle_init(&t, 80, window, 10), CONN_OK);
    assert_int_equal(acu_throttle_effective_limit(&t, 0), 80);
    assert_true(acu_throttle_on_429(&t, 1000, 900));
    assert_int_equal(t.eff_limit, 40);
    /* More 429s of requests that started before the cut: no second cut. */
    assert_false(acu_throttle_on_429(&t, 1100, 950));
    assert_int_equal(t.eff_limit, 40);
    /* A request started after the cut that still got 429: cut again. */
    assert_true(acu_throttle_on_429(&t, 1200, 1100));
    assert_int_equal(t.eff_limit, 20);
    /* Cool-down: one window after the last cut, nothing changes. */
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + window - 1), 20);
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + window), 20);
    /* Then +limit/8 (10) per quiet window. */
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + 2 * window), 30);
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + 3 * window), 40);
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + 5 * window + 5), 60);
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + 9 * window), 80);
    assert_int_equal(acu_throttle_effective_limit(&t, 1200 + 20 * window), 80);
    assert_int_equal(t.cuts, 2);
    acu_throttle_free(&t);
}

/* After a cut the window admits only the reduced number of starts. */
static void test_reduced_window(void **state)
{
    acu_throttle t;
    int64_t starts[20];

    (void)state;
    assert_int_equal(acu_throttle_init(&t, 20, 2000, 100), CONN_OK);
    assert_true(acu_throttle_on_429(&t, 0, 0));
    assert_int_equal(t.eff_limit, 10);
    /* 20 starts fit in the cool-down (10 at once, 10 one window later). */
    run_burst(&t, 20, starts, 10);
    assert_int_equal(max_in_window(starts, 20, 2000), 10);
    assert_int_equal(starts[10], 10 + 2000 + t.margin_ms);
    acu_throttle_free(&t);
}

static void test_limit_one(void **state)
{
    acu_throttle t;
    int64_t starts[3];

    (void)state;
    assert_int_equal(acu_throttle_init(&t, 1, 1000, 1), CONN_OK);
    assert_true(acu_throttle_on_429(&t, 0, 0));
    assert_int_equal(t.eff_limit, 1); /* never below 1 */
    run_burst(&t, 3, starts, 0);
    assert_int_equal(starts[1] - starts[0], 1000 + t.margin_ms);
    assert_int_equal(starts[2] - starts[1], 1000 + t.margin_ms);
    acu_throttle_free(&t);
    assert_int_equal(acu_throttle_init(&t, 0, 1000, 1), CONN_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_exact),
        cmocka_unit_test(test_inflight_cap),
        cmocka_unit_test(test_429_halves_and_recovers),
        cmocka_unit_test(test_reduced_window),
        cmocka_unit_test(test_limit_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
