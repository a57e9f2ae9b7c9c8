/* test_backoff.c - full-jitter delays and Retry-After parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "acu_backoff.h"

static void test_full_jitter_bounds(void **state)
{
    acu_prng p;
    acu_backoff_policy pol = acu_backoff_default;
    int64_t max_seen[6] = {0};

    (void)state;
    acu_prng_seed_fixed(&p, 42);
    for (int retry = 1; retry <= 5; retry++) {
        int64_t ceiling = pol.base_ms << (retry - 1);

        if (ceiling > pol.cap_ms)
            ceiling = pol.cap_ms;
        for (int i = 0; i < 2000; i++) {
            int64_t d = acu_backoff_delay(&pol, &p, retry, -1);

            assert_true(d >= 0 && d <= ceiling);
            if (d > max_seen[retry])
                max_seen[retry] = d;
        }
        /* Full jitter covers the range: the largest draw is near the top. */
        assert_true(max_seen[retry] > ceiling * 9 / 10);
    }
    /* The cap holds for large retry numbers. */
    for (int i = 0; i < 100; i++)
        assert_true(acu_backoff_delay(&pol, &p, 40, -1) <= pol.cap_ms);
}

static void test_retry_after_wins(void **state)
{
    acu_prng p;
    acu_backoff_policy pol = acu_backoff_default;

    (void)state;
    acu_prng_seed_fixed(&p, 7);
    for (int i = 0; i < 100; i++) {
        int64_t d = acu_backoff_delay(&pol, &p, 1, 3000);

        assert_true(d >= 3000 && d <= 3300);
    }
    assert_int_equal(acu_backoff_delay(&pol, &p, 1, pol.max_ms + 1), -1);
    assert_int_equal(acu_backoff_delay(&pol, &p, 1, 0), 0);
}

static void test_retry_after_parse(void **state)
{
    /* 1994-11-06T08:49:37Z */
    int64_t now = 784111777LL * 1000;

    (void)state;
    assert_int_equal(acu_retry_after_parse("120", now), 120000);
    assert_int_equal(acu_retry_after_parse(" 0 \r\n", now), 0);
    assert_int_equal(acu_retry_after_parse("Sun, 06 Nov 1994 08:49:47 GMT", now), 10000);
    assert_int_equal(acu_retry_after_parse("Sunday, 06-Nov-94 08:49:47 GMT", now), 10000);
    assert_int_equal(acu_retry_after_parse("Sun Nov  6 08:49:47 1994", now), 10000);
    /* A date in the past: no wait. */
    assert_int_equal(acu_retry_after_parse("Sun, 06 Nov 1994 08:00:00 GMT", now), 0);
    assert_int_equal(acu_retry_after_parse("soon", now), -1);
    assert_int_equal(acu_retry_after_parse("12abc", now), -1);
    assert_int_equal(acu_retry_after_parse("-5", now), -1);
    assert_int_equal(acu_retry_after_parse("", now), -1);
    assert_int_equal(acu_retry_after_parse("99999999999999", now), -1);
    assert_int_equal(acu_retry_after_parse("Sun, 06 Foo 1994 08:49:47 GMT", now), -1);
    assert_int_equal(acu_retry_after_parse(NULL, now), -1);
}

static void test_prng(void **state)
{
    acu_prng a, b;
    conn_error err;

    (void)state;
    acu_prng_seed_fixed(&a, 1);
    acu_prng_seed_fixed(&b, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(acu_prng_below(&a, 1000), acu_prng_below(&b, 1000));
    assert_int_equal(acu_prng_below(&a, 0), 0);
    assert_int_equal(acu_prng_below(&a, 1), 0);
    assert_int_equal(acu_prng_seed(&a, &err), CONN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_jitter_bounds),
        cmocka_unit_test(test_retry_after_wins),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_prng),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
