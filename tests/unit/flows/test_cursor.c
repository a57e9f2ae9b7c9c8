/* Unit tests of the pull cursor (acu_cursor.c) and instants (acu_time.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acu_cursor.h"
#include "acu_error.h"
#include "acu_time.h"

#define T0 1700000000000LL /* 2023-11-14T22:13:20Z */

static void test_time_format_and_parse(void **state)
{
    char buf[64];
    int64_t ms;

    (void)state;
    acu_time_format(T0 + 402, 0, 1, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14T22:13:20.402Z");
    acu_time_format(T0 + 402, 330, 0, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-15T03:43:20.402+05:30");
    acu_time_format(T0, -480, 0, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14T14:13:20-08:00");
    assert_int_equal(acu_time_parse("2023-11-15T03:43:20.402+05:30", 0, &ms), 0);
    assert_true(ms == T0 + 402);
    assert_int_equal(acu_time_parse("2023-11-14T14:13:20-08:00", 0, &ms), 0);
    assert_true(ms == T0);
    /* Without an offset: the local offset given. */
    assert_int_equal(acu_time_parse("2023-11-14T14:13:20", -480, &ms), 0);
    assert_true(ms == T0);
    /* Acumatica's line stamp format. */
    assert_int_equal(acu_time_parse("11/14/2023 22:13:20", 0, &ms), 0);
    assert_true(ms == T0);
    assert_int_equal(acu_time_parse("yesterday", 0, &ms), -1);
    assert_int_equal(acu_time_parse(NULL, 0, &ms), -1);
}

static void test_local_days_back(void **state)
{
    int64_t t;
    char buf[64];

    (void)state;
    /* 2023-11-14T22:13:20Z is 2023-11-14T17:13:20-05:00: four days back
     * from local midnight is 2023-11-10T00:00:00-05:00. */
    t = acu_time_local_days_back(T0, -300, 4);
    acu_time_format(t, -300, 0, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-10T00:00:00-05:00");
    /* The same instant is already the 15th at +05:30. */
    t = acu_time_local_days_back(T0, 330, 4);
    acu_time_format(t, 330, 0, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-11T00:00:00+05:30");
}

static void test_fresh_and_round_trip(void **state)
{
    acu_cursor *c = NULL, *d = NULL;
    acu_cursor_src *s;
    conn_error err;
    char *text;
    size_t len = 0;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse(NULL, 0, &c, &err), CONN_OK);
    assert_int_equal(c->n, 0);
    s = acu_cursor_source(c, "customers");
    assert_non_null(s);
    assert_true(s->since_ms == ACU_NO_TIME && s->until_ms == ACU_NO_TIME);
    acu_cursor_run_begin(s, T0, 0);
    s->skip = 500;
    assert_int_equal(acu_cursor_delivered(s, "id-1", T0 - 1000, 120000), CONN_OK);
    text = acu_cursor_format(c, &len);
    assert_non_null(text);
    assert_int_equal(acu_cursor_parse(text, len, &d, &err), CONN_OK);
    s = acu_cursor_source(d, "customers");
    assert_true(s->until_ms == T0);
    assert_int_equal(s->skip, 500);
    assert_true(acu_cursor_seen(s, "id-1", T0 - 1000));
    assert_false(acu_cursor_seen(s, "id-1", T0 - 999));
    assert_int_equal(s->stage, ACU_STAGE_WINDOW);
    free(text);
    /* A run in its changes stage resumes in it. */
    acu_cursor_source(c, "customers")->stage = ACU_STAGE_CHANGES;
    text = acu_cursor_format(c, &len);
    acu_cursor_free(d);
    assert_int_equal(acu_cursor_parse(text, len, &d, &err), CONN_OK);
    assert_int_equal(acu_cursor_source(d, "customers")->stage, ACU_STAGE_CHANGES);
    free(text);
    acu_cursor_free(c);
    acu_cursor_free(d);
}

static void test_run_end_keeps_the_overlap(void **state)
{
    acu_cursor *c = NULL;
    acu_cursor_src *s;
    conn_error err;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse(NULL, 0, &c, &err), CONN_OK);
    s = acu_cursor_source(c, "x");
    acu_cursor_run_begin(s, T0, 0);
    /* Far before the overlap: not kept. In it: kept. */
    assert_int_equal(acu_cursor_delivered(s, "old", T0 - 3600000, 120000), CONN_OK);
    assert_int_equal(acu_cursor_delivered(s, "edge", T0 - 120000, 120000), CONN_OK);
    assert_int_equal(acu_cursor_delivered(s, "late", T0 - 1, 120000), CONN_OK);
    assert_int_equal(acu_cursor_run_end(s, 120000, &err), CONN_OK);
    assert_true(s->since_ms == T0 - 120000);
    assert_true(s->until_ms == ACU_NO_TIME);
    assert_false(acu_cursor_seen(s, "old", T0 - 3600000));
    assert_true(acu_cursor_seen(s, "edge", T0 - 120000));
    assert_true(acu_cursor_seen(s, "late", T0 - 1));
    /* The next run: what it recognised stays recognised for the run after
     * when still inside that run's window; older pairs are dropped. */
    acu_cursor_run_begin(s, T0 + 60000, 0);
    assert_true(acu_cursor_seen(s, "late", T0 - 1));
    assert_int_equal(acu_cursor_run_end(s, 120000, &err), CONN_OK);
    assert_true(s->since_ms == T0 - 60000);
    assert_true(acu_cursor_seen(s, "late", T0 - 1));
    assert_false(acu_cursor_seen(s, "edge", T0 - 120000));
    acu_cursor_free(c);
}

static void test_full_drops_bounds(void **state)
{
    acu_cursor *c = NULL;
    acu_cursor_src *s;
    conn_error err;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse(NULL, 0, &c, &err), CONN_OK);
    s = acu_cursor_source(c, "x");
    acu_cursor_run_begin(s, T0, 0);
    assert_int_equal(acu_cursor_delivered(s, "a", T0 - 5, 120000), CONN_OK);
    assert_int_equal(acu_cursor_run_end(s, 120000, &err), CONN_OK);
    acu_cursor_run_begin(s, T0 + 1000, 1);
    assert_true(s->since_ms == ACU_NO_TIME);
    assert_false(acu_cursor_seen(s, "a", T0 - 5));
    acu_cursor_free(c);
}

static void test_content_sources(void **state)
{
    acu_cursor *c = NULL;
    acu_cursor_src *s;
    conn_error err;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse(NULL, 0, &c, &err), CONN_OK);
    s = acu_cursor_source(c, "locations");
    acu_cursor_run_begin(s, T0, 0);
    assert_int_equal(acu_cursor_keep(s, "MAIN", 42), CONN_OK);
    acu_cursor_run_end_all(s);
    assert_true(json_object_object_get_ex(s->seen, "MAIN|42", NULL));
    /* A run that no longer sees MAIN forgets it. */
    acu_cursor_run_begin(s, T0 + 1, 0);
    assert_int_equal(acu_cursor_keep(s, "EAST", 7), CONN_OK);
    acu_cursor_run_end_all(s);
    assert_false(json_object_object_get_ex(s->seen, "MAIN|42", NULL));
    assert_true(json_object_object_get_ex(s->seen, "EAST|7", NULL));
    acu_cursor_free(c);
}

static void test_seen_is_capped(void **state)
{
    acu_cursor *c = NULL;
    acu_cursor_src *s;
    conn_error err;
    char id[32], *text;
    size_t len = 0;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse(NULL, 0, &c, &err), CONN_OK);
    s = acu_cursor_source(c, "burst");
    acu_cursor_run_begin(s, T0, 0);
    /* A mass update: 3 x the limit changed within the overlap. */
    for (int i = 0; i < 3 * ACU_CURSOR_SEEN_MAX; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        assert_int_equal(acu_cursor_delivered(s, id, T0 - 100000 + i, 120000), CONN_OK);
        assert_true(json_object_object_length(s->run_seen) <= ACU_CURSOR_SEEN_MAX);
    }
    assert_true(s->dropped > 0);
    /* The newest are kept; the oldest went (delivered again, never lost). */
    snprintf(id, sizeof(id), "id-%d", 3 * ACU_CURSOR_SEEN_MAX - 1);
    assert_true(acu_cursor_seen(s, id, T0 - 100000 + 3 * ACU_CURSOR_SEEN_MAX - 1));
    assert_false(acu_cursor_seen(s, "id-0", T0 - 100000));
    assert_int_equal(acu_cursor_run_end(s, 120000, &err), CONN_OK);
    /* The next run starts after the newest dropped stamp: the dropped
     * records are not read again, the kept ones are recognised. */
    assert_true(s->since_ms > T0 - 100000 && s->since_ms <= T0 - ACU_CURSOR_MIN_OVERLAP_MS);
    assert_false(acu_cursor_seen(s, "id-0", T0 - 100000));
    snprintf(id, sizeof(id), "id-%d", 3 * ACU_CURSOR_SEEN_MAX - 1);
    assert_true(acu_cursor_seen(s, id, T0 - 100000 + 3 * ACU_CURSOR_SEEN_MAX - 1));
    assert_true(T0 - 100000 + 3 * ACU_CURSOR_SEEN_MAX - 1 >= s->since_ms);
    text = acu_cursor_format(c, &len);
    assert_non_null(text);
    /* "id-N|ms" pairs of ~25 bytes: the cursor stays well under 1 MiB. */
    assert_true(len < ACU_CURSOR_SEEN_MAX * 40);
    free(text);
    acu_cursor_free(c);
}

static void test_cap_keeps_a_minimum_overlap(void **state)
{
    acu_cursor *c = NULL;
    acu_cursor_src *s;
    conn_error err;
    char id[32];

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse(NULL, 0, &c, &err), CONN_OK);
    s = acu_cursor_source(c, "burst");
    acu_cursor_run_begin(s, T0, 0);
    /* Everything changed in the last second: the cut falls inside the
     * minimum overlap, which the next run keeps. */
    for (int i = 0; i < 2 * ACU_CURSOR_SEEN_MAX; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        assert_int_equal(acu_cursor_delivered(s, id, T0 - 1000 + i / 20, 120000), CONN_OK);
    }
    assert_int_equal(acu_cursor_run_end(s, 120000, &err), CONN_OK);
    assert_true(s->since_ms == T0 - ACU_CURSOR_MIN_OVERLAP_MS);
    acu_cursor_free(c);
}

static void test_bad_cursors(void **state)
{
    static const char *const bad[] = {
        "{", "[]", "{\"v\":2,\"sources\":{}}", "{\"v\":1}",
        "{\"v\":1,\"sources\":{\"x\":{\"since\":\"not a time\"}}}",
        "{\"v\":1,\"sources\":{\"x\":{\"skip\":-1}}}",
        "{\"v\":1,\"sources\":{\"x\":{\"seen\":[\"no-bar\"]}}}",
        "{\"v\":1,\"sources\":{\"x\":{\"stage\":\"later\"}}}",
    };
    acu_cursor *c = NULL;
    conn_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        acu_err_clear(&err);
        assert_int_not_equal(acu_cursor_parse(bad[i], strlen(bad[i]), &c, &err),
                             CONN_OK);
        assert_null(c);
        assert_non_null(strstr(err.message, "pull"));
    }
    acu_err_clear(&err);
    assert_int_equal(acu_cursor_parse("null", 4, &c, &err), CONN_OK);
    acu_cursor_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_format_and_parse),
        cmocka_unit_test(test_local_days_back),
        cmocka_unit_test(test_fresh_and_round_trip),
        cmocka_unit_test(test_run_end_keeps_the_overlap),
        cmocka_unit_test(test_full_drops_bounds),
        cmocka_unit_test(test_content_sources),
        cmocka_unit_test(test_seen_is_capped),
        cmocka_unit_test(test_cap_keeps_a_minimum_overlap),
        cmocka_unit_test(test_bad_cursors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
