/* test_describe.c - the describe document: identity, schema, flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "acu_buf.h"
#include "acu_describe.h"
#include "acu_error.h"

static int collect(void *user, const char *data, size_t len)
{
    return acu_buf_add(user, data, len) == ACU_BUF_OK ? 0 : 1;
}

static int refuse(void *user, const char *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
    return 1;
}

static void test_document(void **state)
{
    acu_buf b;
    conn_error err;
    json_object *doc, *v, *flows, *f, *dirs;
    int found_customers = 0;

    (void)state;
    acu_buf_init(&b, 1 << 20);
    acu_err_clear(&err);
    assert_int_equal(acu_describe_write("acumatica", "9.9.9", "build", collect, &b, &err), CONN_OK);
    doc = json_tokener_parse(b.data);
    assert_non_null(doc);
    assert_true(json_object_object_get_ex(doc, "name", &v));
    assert_string_equal(json_object_get_string(v), "acumatica");
    assert_true(json_object_object_get_ex(doc, "version", &v));
    assert_string_equal(json_object_get_string(v), "9.9.9");
    assert_true(json_object_object_get_ex(doc, "abi", &v));
    assert_true(json_object_object_get_ex(doc, "settings", &v));
    assert_true(json_object_object_get_ex(v, "properties", NULL));
    assert_true(json_object_object_get_ex(doc, "capabilities", &v));
    assert_true(json_object_array_length(v) > 0);
    assert_true(json_object_object_get_ex(doc, "flows", &flows));
    assert_int_equal(json_object_array_length(flows), 6);
    for (size_t i = 0; i < json_object_array_length(flows); i++) {
        f = json_object_array_get_idx(flows, i);
        assert_true(json_object_object_get_ex(f, "name", &v));
        assert_true(json_object_object_get_ex(f, "directions", &dirs));
        assert_true(json_object_object_get_ex(f, "record_type", NULL));
        if (strcmp(json_object_get_string(v), "customers") == 0) {
            found_customers = 1;
            assert_int_equal(json_object_array_length(dirs), 2);
        }
    }
    assert_true(found_customers);
    json_object_put(doc);
    acu_buf_free(&b);
    assert_int_equal(acu_describe_write("acumatica", "9.9.9", "b", refuse, NULL, &err), CONN_NOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
