/* Unit tests of acu_json.c: one document with positions, and a list walked
 * element by element. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "acu_error.h"
#include "acu_json.h"

static void test_parse_positions(void **state)
{
    json_object *o = NULL;
    conn_error err;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_json_parse("{\"a\": 1,}", 9, "settings", &o, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "line 1, column 9"));
    acu_err_clear(&err);
    assert_int_equal(acu_json_parse("{\n \"x\": 1,\n oops\n}", 18, "settings", &o, &err),
                     CONN_INVALID);
    assert_non_null(strstr(err.message, "line 3, column 2"));
    acu_err_clear(&err);
    assert_int_equal(acu_json_parse("{} x", 4, "settings", &o, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "line 1, column 4"));
    /* Bare literals and numbers at the very end parse. */
    assert_int_equal(acu_json_parse("null", 4, "c", &o, &err), CONN_OK);
    assert_null(o);
    assert_int_equal(acu_json_parse("42", 2, "c", &o, &err), CONN_OK);
    assert_int_equal(json_object_get_int(o), 42);
    json_object_put(o);
    assert_int_equal(acu_json_parse("[1, 2", 5, "c", &o, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "ends too early"));
}

typedef struct seen {
    int sum;
    size_t calls;
    size_t stop_at;
} seen;

static conn_status add(void *user, json_object *elem, size_t index)
{
    seen *s = user;

    assert_int_equal(index, s->calls);
    s->calls++;
    if (json_object_is_type(elem, json_type_object))
        s->sum += json_object_get_int(json_object_object_get(elem, "n"));
    else
        s->sum += json_object_get_int(elem);
    return s->calls == s->stop_at ? CONN_CANCELLED : CONN_OK;
}

static void test_array_each(void **state)
{
    static const char list[] = " [ {\"n\": 1}, {\"n\": 2, \"x\": [1, {\"y\": \"]\"}]}, 3 ,4] ";
    seen s = {0, 0, 0};
    conn_error err;
    size_t n = 99;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_json_array_each(list, strlen(list), "page", add, &s, &n, &err),
                     CONN_OK);
    assert_int_equal(n, 4);
    assert_int_equal(s.sum, 10);
    /* Empty lists. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(acu_json_array_each("[]", 2, "page", add, &s, &n, &err), CONN_OK);
    assert_int_equal(n, 0);
    assert_int_equal(acu_json_array_each(" [ \n ] ", 7, "page", add, &s, &n, &err), CONN_OK);
    /* The callback's status stops the walk. */
    memset(&s, 0, sizeof(s));
    s.stop_at = 2;
    assert_int_equal(acu_json_array_each(list, strlen(list), "page", add, &s, &n, &err),
                     CONN_CANCELLED);
    assert_int_equal(s.calls, 2);
}

static void test_array_each_errors(void **state)
{
    static const char *const bad[] = {
        "{}", "[1 2]", "[1,]", "[{\"a\":}]", "[1] x", "[{\"a\": 1}", "", "[,1]",
    };
    seen s = {0, 0, 0};
    conn_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&s, 0, sizeof(s));
        acu_err_clear(&err);
        assert_int_equal(acu_json_array_each(bad[i], strlen(bad[i]), "page", add, &s,
                                             NULL, &err),
                         CONN_INVALID);
        assert_non_null(strstr(err.message, "page: "));
    }
    acu_err_clear(&err);
    memset(&s, 0, sizeof(s));
    acu_json_array_each("[1,\n  2 x]", 10, "page", add, &s, NULL, &err);
    assert_non_null(strstr(err.message, "line 2, column 5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_positions),
        cmocka_unit_test(test_array_each),
        cmocka_unit_test(test_array_each_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
