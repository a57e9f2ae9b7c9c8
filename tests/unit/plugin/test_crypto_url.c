/* test_crypto_url.c - base64url, PKCE (RFC 7636 appendix B), constant-time
 * compare, loopback detection, URL checks, query and form building. */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acu_crypto.h"
#include "acu_error.h"
#include "acu_url.h"

static void test_b64url(void **state)
{
    char out[16];
    const unsigned char v[] = {0xfb, 0xff, 0xfe};

    (void)state;
    assert_int_equal(acu_b64url_encode(v, 3, out, sizeof(out)), 4);
    assert_string_equal(out, "-__-");
    assert_int_equal(acu_b64url_encode((const unsigned char *)"f", 1, out, sizeof(out)), 2);
    assert_string_equal(out, "Zg");
    assert_int_equal(acu_b64url_encode((const unsigned char *)"fo", 2, out, sizeof(out)), 3);
    assert_string_equal(out, "Zm8");
    assert_int_equal(acu_b64url_encode(v, 3, out, 4), 0); /* too small */
}

static void test_pkce_rfc7636(void **state)
{
    char ch[ACU_PKCE_CHALLENGE_SIZE];
    conn_error err;

    (void)state;
    acu_err_clear(&err);
    assert_int_equal(acu_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch, &err),
                     CONN_OK);
    /* RFC 7636 appendix B */
    assert_string_equal(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_random_token(void **state)
{
    char a[ACU_B64URL_LEN(48)], b[ACU_B64URL_LEN(48)];
    conn_error err;

    (void)state;
    assert_int_equal(acu_random_token(48, a, sizeof(a), &err), CONN_OK);
    assert_int_equal(acu_random_token(48, b, sizeof(b), &err), CONN_OK);
    assert_int_equal(strlen(a), 64); /* within PKCE's 43..128 */
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    assert_int_equal(acu_random_token(32, a, sizeof(a), &err), CONN_OK);
    assert_int_equal(strlen(a), 43);
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(acu_ct_equal("abc", 3, "abc", 3));
    assert_false(acu_ct_equal("abc", 3, "abd", 3));
    assert_false(acu_ct_equal("abc", 3, "abcd", 4));
    assert_false(acu_ct_equal(NULL, 0, "", 0));
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(acu_host_is_loopback("127.0.0.1"));
    assert_true(acu_host_is_loopback("127.10.20.30"));
    assert_true(acu_host_is_loopback("localhost"));
    assert_true(acu_host_is_loopback("LOCALHOST"));
    assert_true(acu_host_is_loopback("[::1]"));
    assert_false(acu_host_is_loopback("128.0.0.1"));
    assert_false(acu_host_is_loopback("10.0.0.1"));
    assert_false(acu_host_is_loopback("[::2]"));
    assert_false(acu_host_is_loopback("localhost.example.com"));
    assert_false(acu_host_is_loopback("127.0.0.1.example.com"));
    assert_false(acu_host_is_loopback(NULL));
}

static void test_url_check(void **state)
{
    char why[256], *norm = NULL;

    (void)state;
    assert_int_equal(acu_url_check("https://erp.example.com/A//", 0, 1, &norm, why, sizeof(why)), 0);
    assert_string_equal(norm, "https://erp.example.com/A");
    free(norm);
    assert_int_equal(acu_url_check("http://erp.example.com/A", 1, 1, NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "only https is allowed"));
    assert_int_equal(acu_url_check("http://127.0.0.1:9/A", 0, 1, NULL, why, sizeof(why)), -1);
    assert_int_equal(acu_url_check("http://127.0.0.1:9/A", 1, 1, NULL, why, sizeof(why)), 0);
    assert_int_equal(acu_url_check("https://h/A#f", 0, 1, NULL, why, sizeof(why)), -1);
    assert_int_equal(acu_url_check("https://h/A?q=1", 0, 0, NULL, why, sizeof(why)), 0);
    assert_int_equal(acu_url_check("file:///etc/passwd", 1, 1, NULL, why, sizeof(why)), -1);
    assert_int_equal(acu_url_check("", 1, 1, NULL, why, sizeof(why)), -1);
}

static void test_query_and_form(void **state)
{
    acu_buf b;
    char *v = NULL;

    (void)state;
    acu_buf_init(&b, 1024);
    assert_int_equal(acu_form_add(&b, "client_id", "GUID@Tenant"), ACU_BUF_OK);
    assert_int_equal(acu_form_add(&b, "scope", "api offline_access"), ACU_BUF_OK);
    assert_int_equal(acu_form_add(&b, "password", "a&b=c+d"), ACU_BUF_OK);
    assert_string_equal(b.data, "client_id=GUID%40Tenant&scope=api%20offline_access&"
                                "password=a%26b%3Dc%2Bd");
    acu_buf_free(&b);
    assert_int_equal(acu_url_query_get("http://127.0.0.1:1/cb?code=a%2Bb&state=s+t&x", "code", &v), 0);
    assert_string_equal(v, "a+b");
    free(v);
    assert_int_equal(acu_url_query_get("http://127.0.0.1:1/cb?code=a%2Bb&state=s+t&x", "state", &v), 0);
    assert_string_equal(v, "s t");
    free(v);
    assert_int_equal(acu_url_query_get("http://127.0.0.1:1/cb?code=a&x", "x", &v), 0);
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(acu_url_query_get("http://127.0.0.1:1/cb?codex=1", "code", &v), 0);
    assert_null(v);
    assert_int_equal(acu_url_query_get("http://127.0.0.1:1/cb", "code", &v), 0);
    assert_null(v);
    assert_int_equal(acu_url_query_get("?error=access_denied&state=z", "error", &v), 0);
    assert_string_equal(v, "access_denied");
    free(v);
    /* a buffer cap is a cap */
    acu_buf_init(&b, 8);
    assert_int_equal(acu_buf_adds(&b, "12345678"), ACU_BUF_OK);
    assert_int_equal(acu_buf_adds(&b, "9"), ACU_BUF_TOO_BIG);
    assert_int_equal(b.len, 8);
    acu_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_pkce_rfc7636),
        cmocka_unit_test(test_random_token),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_query_and_form),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
