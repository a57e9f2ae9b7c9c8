/* test_token.c - the token-endpoint answer: what is accepted, what is
 * refused, and that no refusal ever quotes a token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acu_error.h"
#include "acu_token.h"

static conn_status parse(const char *body, acu_token *t, conn_error *err)
{
    acu_err_clear(err);
    return acu_token_parse(body, strlen(body), t, err);
}

static void test_full_answer(void **state)
{
    acu_token t;
    conn_error err;

    (void)state;
    assert_int_equal(parse("{\"access_token\":\"u39u-AT\",\"expires_in\":3600,\"token_type\":"
                           "\"Bearer\",\"scope\":\"api offline_access\",\"refresh_token\":"
                           "\"RT-1\"}", &t, &err), CONN_OK);
    assert_string_equal(t.access_token, "u39u-AT");
    assert_string_equal(t.refresh_token, "RT-1");
    assert_string_equal(t.scope, "api offline_access");
    assert_int_equal(t.expires_in, 3600);
    acu_token_free(&t);
    assert_null(t.access_token);
}

static void test_minimal_answer(void **state)
{
    acu_token t;
    conn_error err;

    (void)state;
    assert_int_equal(parse("{\"access_token\":\"A\",\"token_type\":\"bearer\"}", &t, &err),
                     CONN_OK);
    assert_null(t.refresh_token);
    assert_null(t.scope);
    assert_int_equal(t.expires_in, 3600);
    acu_token_free(&t);
    assert_int_equal(parse("{\"access_token\":\"A\",\"expires_in\":\"120\",\"refresh_token\":null}",
                           &t, &err), CONN_OK);
    assert_int_equal(t.expires_in, 120);
    acu_token_free(&t);
}

static void test_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"access_token\":\"Secret Token\"}",          /* a space */
        "{\"access_token\":\"\"}",
        "{\"access_token\":17}",
        "{\"token_type\":\"Bearer\"}",                   /* no access_token */
        "{\"access_token\":\"SecretA\",\"token_type\":\"mac\"}",
        "{\"access_token\":\"SecretA\",\"expires_in\":-1}",
        "{\"access_token\":\"SecretA\",\"expires_in\":\"soon\"}",
        "{\"access_token\":\"SecretA\",\"expires_in\":1.5}",
        "{\"access_token\":\"SecretA\",\"refresh_token\":\"Secret\\nR\"}",
        "{\"error\":\"invalid_grant\"}",
        "{\"access_token\":\"SecretA\"",
    };
    acu_token t;
    conn_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        conn_status st = parse(bad[i], &t, &err);

        assert_true(st == CONN_AUTH || st == CONN_INTERNAL);
        assert_null(t.access_token);
        assert_null(strstr(err.message, "Secret"));
    }
    assert_int_equal(parse("{\"error\":\"invalid_grant\"}", &t, &err), CONN_AUTH);
    assert_int_equal(parse("{\"scope\":\"openid\"}", &t, &err), CONN_AUTH);
    assert_non_null(strstr(err.message, "api scope"));
}

static void test_length_cap(void **state)
{
    static char body[ACU_TOKEN_MAX + 64];
    acu_token t;
    conn_error err;
    size_t n;

    (void)state;
    n = (size_t)snprintf(body, sizeof(body), "{\"access_token\":\"");
    memset(body + n, 'a', ACU_TOKEN_MAX + 1);
    n += ACU_TOKEN_MAX + 1;
    memcpy(body + n, "\"}", 3);
    assert_int_equal(parse(body, &t, &err), CONN_AUTH);
    body[n - 1] = '"';
    body[n] = '}';
    body[n + 1] = '\0';
    assert_int_equal(parse(body, &t, &err), CONN_OK);
    assert_int_equal(strlen(t.access_token), ACU_TOKEN_MAX);
    acu_token_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_answer),
        cmocka_unit_test(test_minimal_answer),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_length_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
