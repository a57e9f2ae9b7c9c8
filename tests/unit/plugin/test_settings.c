/* test_settings.c - the settings table: defaults, every problem at once,
 * grant rules, ranges, URLs, unknown keys, and the schema made from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acu_error.h"
#include "acu_settings.h"

#define CID "\"client_id\":\"6B8C2F4E-1A3D-4E5F-9A7B-0C1D2E3F4A5B@Company\""
#define BASE "\"api_url\":\"https://erp.example.com/AcumaticaERP/\",\"time_zone_offset\":\"-05:00\""

static char warnings[16384];

static void warn(void *user, const char *text)
{
    size_t used = strlen(warnings);

    (void)user;
    assert_true(used + strlen(text) + 2 < sizeof(warnings));
    memcpy(warnings + used, text, strlen(text));
    warnings[used + strlen(text)] = '\n';
    warnings[used + strlen(text) + 1] = '\0';
}

static conn_status parse(const char *text, acu_settings *s, conn_error *err)
{
    json_object *o = json_tokener_parse(text);
    conn_status st;

    assert_non_null(o);
    warnings[0] = '\0';
    acu_err_clear(err);
    st = acu_settings_parse(o, s, warn, NULL, err);
    json_object_put(o);
    return st;
}

static int count_lines(const char *m)
{
    int n = *m ? 1 : 0;

    for (; *m; m++)
        n += *m == '\n';
    return n;
}

static void test_defaults(void **state)
{
    acu_settings s;
    conn_error err;

    (void)state;
    assert_int_equal(parse("{" BASE "," CID ",\"client_secret\":\"x\","
                           "\"redirect_url\":\"https://app.example.com/cb\"}", &s, &err),
                     CONN_OK);
    assert_string_equal(s.api_url, "https://erp.example.com/AcumaticaERP");
    assert_int_equal(s.grant_type, ACU_GRANT_AUTHORIZATION_CODE);
    assert_string_equal(s.scope, "api offline_access");
    assert_string_equal(s.endpoint_version, "22.200.001");
    assert_int_equal(s.tracking_poll_days, 4);
    assert_int_equal(s.api_throttle_limit, 500);
    assert_int_equal(s.api_throttle_seconds, 60);
    assert_int_equal(s.concurrent_connections, 5);
    assert_int_equal(s.concurrent_batch_executions, 5);
    assert_true(s.create_default_mappings);
    assert_false(s.sales_order_duplicate_checking);
    assert_false(s.allow_http_loopback);
    assert_int_equal(s.page_size, 500);
    assert_int_equal(s.request_timeout, 900);
    assert_int_equal(s.time_zone_offset_minutes, -300);
    assert_non_null(s.mapping_overrides);
    assert_int_equal(json_object_array_length(s.mapping_overrides), 0);
    assert_null(s.tenant);
    assert_string_equal(warnings, "");
    acu_settings_free(&s);
}

/* Every problem is reported at once, one line each, naming key and title. */
static void test_every_problem_at_once(void **state)
{
    acu_settings s;
    conn_error err;

    (void)state;
    assert_int_equal(parse("{\"api_url\":\"ftp://x\",\"grant_type\":\"password\","
                           "\"concurrent_connections\":12,\"concurrent_batch_executions\":0,"
                           "\"time_zone_offset\":\"+15:00\",\"scope\":\"openid\","
                           "\"endpoint_version\":\"21.100.001\",\"page_size\":\"big\","
                           "\"concurent_connections\":3}", &s, &err),
                     CONN_INVALID);
    assert_int_equal(err.status, CONN_INVALID);
    assert_non_null(strstr(err.message, "api_url (API URL): uses the scheme \"ftp\""));
    assert_non_null(strstr(err.message, "concurrent_connections (Concurrent Connections): 12 is out of range; allowed 1 to 10"));
    assert_non_null(strstr(err.message, "concurrent_batch_executions (Concurrent Batch Executions): 0 is out of range"));
    assert_non_null(strstr(err.message, "time_zone_offset (Time Zone Offset): \"+15:00\""));
    assert_non_null(strstr(err.message, "scope (Scope): \"openid\" lacks the scope api"));
    assert_non_null(strstr(err.message, "endpoint_version (Acumatica Version): \"21.100.001\" is not one of"));
    assert_non_null(strstr(err.message, "page_size (Page Size): expected a whole number"));
    assert_non_null(strstr(err.message, "unknown setting \"concurent_connections\"; did you mean \"concurrent_connections\" (Concurrent Connections)?"));
    /* password grant: client id and secret, username and password. */
    assert_non_null(strstr(err.message, "client_id (Client ID): required when grant_type is \"password\""));
    assert_non_null(strstr(err.message, "client_secret (Client Secret): required when grant_type is \"password\""));
    assert_non_null(strstr(err.message, "username (Username): required"));
    assert_non_null(strstr(err.message, "password (Password): required"));
    assert_int_equal(count_lines(err.message), 12);
}

static void test_grant_requirements(void **state)
{
    acu_settings s;
    conn_error err;

    (void)state;
    /* authorization_code (the default): client id, secret, redirect URL. */
    assert_int_equal(parse("{" BASE "}", &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "client_id (Client ID): required when grant_type is \"authorization_code\""));
    assert_non_null(strstr(err.message, "client_secret (Client Secret): required"));
    assert_non_null(strstr(err.message, "redirect_url (Redirect URL): required"));
    assert_null(strstr(err.message, "username"));
    assert_int_equal(count_lines(err.message), 3);
    /* cookie: username and password only. */
    assert_int_equal(parse("{" BASE ",\"grant_type\":\"cookie\"}", &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "username (Username): required when grant_type is \"cookie\""));
    assert_non_null(strstr(err.message, "password (Password): required when grant_type is \"cookie\""));
    assert_int_equal(count_lines(err.message), 2);
    assert_int_equal(parse("{" BASE ",\"grant_type\":\"cookie\",\"username\":\"u\","
                           "\"password\":\"p\",\"tenant\":\"T\",\"branch\":\"B\"}", &s, &err),
                     CONN_OK);
    assert_int_equal(s.grant_type, ACU_GRANT_COOKIE);
    assert_string_equal(s.tenant, "T");
    acu_settings_free(&s);
    /* required whatever the grant: api_url and time_zone_offset. */
    assert_int_equal(parse("{\"grant_type\":\"cookie\",\"username\":\"u\",\"password\":\"p\"}",
                           &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "api_url (API URL): required"));
    assert_non_null(strstr(err.message, "time_zone_offset (Time Zone Offset): required"));
}

static void test_secret_never_echoed(void **state)
{
    acu_settings s;
    conn_error err;

    (void)state;
    assert_int_equal(parse("{" BASE ",\"grant_type\":\"password\"," CID ","
                           "\"client_secret\":17,\"username\":\"u\","
                           "\"password\":\"Sup3r-Secret!\",\"bogus\":\"Sup3r-Secret!\"}",
                           &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "client_secret (Client Secret): expected text"));
    assert_non_null(strstr(err.message, "unknown setting \"bogus\""));
    assert_null(strstr(err.message, "Sup3r-Secret!"));
}

static void test_urls(void **state)
{
    acu_settings s;
    conn_error err;
    const char *cookie = ",\"grant_type\":\"cookie\",\"username\":\"u\",\"password\":\"p\","
                         "\"time_zone_offset\":\"+00:00\"";
    char buf[512];

    (void)state;
    /* http to a public host: refused even with the opt-in. */
    snprintf(buf, sizeof(buf), "{\"api_url\":\"http://erp.example.com/A\","
             "\"allow_http_loopback\":true%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "api_url (API URL): uses plain http to erp.example.com; only https is allowed"));
    /* http to loopback: only with the opt-in. */
    snprintf(buf, sizeof(buf), "{\"api_url\":\"http://127.0.0.1:8080/A\"%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "set allow_http_loopback to true"));
    snprintf(buf, sizeof(buf), "{\"api_url\":\"http://127.0.0.1:8080/A\","
             "\"allow_http_loopback\":true%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_OK);
    acu_settings_free(&s);
    snprintf(buf, sizeof(buf), "{\"api_url\":\"http://[::1]:8080/A\","
             "\"allow_http_loopback\":true%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_OK);
    acu_settings_free(&s);
    snprintf(buf, sizeof(buf), "{\"api_url\":\"http://localhost/A\","
             "\"allow_http_loopback\":true%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_OK);
    acu_settings_free(&s);
    /* No query, fragment, user info, or scheme-less text. */
    snprintf(buf, sizeof(buf), "{\"api_url\":\"https://u:p@erp.example.com/A\"%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "must not contain a user name or password"));
    assert_null(strstr(err.message, "u:p"));
    snprintf(buf, sizeof(buf), "{\"api_url\":\"https://erp.example.com/A?x=1\"%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_INVALID);
    snprintf(buf, sizeof(buf), "{\"api_url\":\"erp.example.com/A\"%s}", cookie);
    assert_int_equal(parse(buf, &s, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "is not an absolute URL"));
}

static void test_tz_and_scope(void **state)
{
    int m = 0;
    acu_settings s;
    conn_error err;

    (void)state;
    assert_int_equal(acu_tz_offset_parse("+05:30", &m), 0);
    assert_int_equal(m, 330);
    assert_int_equal(acu_tz_offset_parse("-14:00", &m), 0);
    assert_int_equal(m, -840);
    assert_int_equal(acu_tz_offset_parse("+14:01", &m), -1);
    assert_int_equal(acu_tz_offset_parse("05:00", &m), -1);
    assert_int_equal(acu_tz_offset_parse("+5:00", &m), -1);
    assert_int_equal(acu_tz_offset_parse("+05:60", &m), -1);
    assert_true(acu_scope_has("api offline_access", "api"));
    assert_false(acu_scope_has("api:concurrent_access", "api"));
    assert_true(acu_scope_has("openid  api", "api"));
    /* A scope without offline_access is allowed, with a warning. */
    assert_int_equal(parse("{" BASE ",\"grant_type\":\"password\"," CID ","
                           "\"client_secret\":\"s\",\"username\":\"u\",\"password\":\"p\","
                           "\"scope\":\"api\"}", &s, &err), CONN_OK);
    assert_non_null(strstr(warnings, "does not include offline_access"));
    acu_settings_free(&s);
}

static void test_overrides_and_ca(void **state)
{
    acu_settings s;
    conn_error err;

    (void)state;
    assert_int_equal(parse("{" BASE ",\"grant_type\":\"cookie\",\"username\":\"u\","
                           "\"password\":\"p\",\"mapping_overrides\":[\"a.json\",{\"x\":1},"
                           "3,\"\"],\"ca_file\":\"/nonexistent/ca.pem\"}", &s, &err),
                     CONN_INVALID);
    assert_non_null(strstr(err.message, "mapping_overrides (Mapping Overrides): item 2: expected a file path or an overlay object, got a number"));
    assert_non_null(strstr(err.message, "item 3: expected a file path"));
    assert_non_null(strstr(err.message, "ca_file (CA File): the file \"/nonexistent/ca.pem\" cannot be read"));
    assert_int_equal(parse("{" BASE ",\"grant_type\":\"cookie\",\"username\":\"u\","
                           "\"password\":\"p\",\"mapping_overrides\":[\"a.json\",{\"x\":1}],"
                           "\"ca_file\":\"" ACU_TEST_READABLE_FILE "\",\"api_throttle_limit\":null}",
                           &s, &err), CONN_OK);
    assert_int_equal(json_object_array_length(s.mapping_overrides), 2);
    assert_string_equal(s.ca_file, ACU_TEST_READABLE_FILE);
    assert_int_equal(s.api_throttle_limit, 500); /* null = the default */
    acu_settings_free(&s);
}

/* More problems than one message holds: the message says how many more,
 * and every one reaches the host log. */
static void test_too_many_problems(void **state)
{
    char text[8192];
    size_t n = 0;
    acu_settings s;
    conn_error err;

    (void)state;
    n += (size_t)snprintf(text + n, sizeof(text) - n, "{" BASE ",\"grant_type\":\"cookie\","
                          "\"username\":\"u\",\"password\":\"p\"");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, ",\"unknown_setting_number_%02d\":1", i);
    snprintf(text + n, sizeof(text) - n, "}");
    assert_int_equal(parse(text, &s, &err), CONN_INVALID);
    assert_true(strlen(err.message) < sizeof(err.message) - 1);
    assert_non_null(strstr(err.message, "more problems; every one is in the host log)"));
    assert_non_null(strstr(err.message, "unknown setting \"unknown_setting_number_00\""));
    assert_non_null(strstr(warnings, "unknown setting \"unknown_setting_number_39\""));
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(acu_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(acu_edit_distance("api_url", "api_url"), 0);
    assert_int_equal(acu_edit_distance("API_URL", "api_url"), 0);
    assert_int_equal(acu_edit_distance("", "abc"), 3);
}

/* The schema comes from the same table: every property has a title, a
 * description, a type, and defaults/ranges equal to what parsing applies. */
static void test_schema(void **state)
{
    json_object *schema = acu_settings_schema(), *props, *p, *v, *req;
    static const char *const keys[] = {
        "api_url", "username", "password", "client_id", "client_secret", "scope",
        "grant_type", "endpoint_version", "redirect_url", "tracking_poll_days",
        "time_zone_offset", "sales_order_duplicate_checking", "api_throttle_limit",
        "api_throttle_seconds", "concurrent_connections", "concurrent_batch_executions",
        "create_default_mappings", "tenant", "branch", "ca_file", "allow_http_loopback",
        "page_size", "mapping_overrides"};

    (void)state;
    assert_non_null(schema);
    assert_true(json_object_object_get_ex(schema, "$schema", &v));
    assert_string_equal(json_object_get_string(v), "https://json-schema.org/draft/2020-12/schema");
    assert_true(json_object_object_get_ex(schema, "properties", &props));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_true(json_object_object_get_ex(props, keys[i], &p));
        assert_true(json_object_object_get_ex(p, "title", NULL));
        assert_true(json_object_object_get_ex(p, "description", NULL));
        assert_true(json_object_object_get_ex(p, "type", NULL));
    }
    assert_true(json_object_object_get_ex(props, "password", &p));
    assert_true(json_object_object_get_ex(p, "writeOnly", &v) && json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(p, "x-secret", &v) && json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(props, "client_secret", &p));
    assert_true(json_object_object_get_ex(p, "x-secret", &v) && json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(props, "username", &p));
    assert_false(json_object_object_get_ex(p, "x-secret", NULL));
    assert_true(json_object_object_get_ex(props, "concurrent_connections", &p));
    assert_true(json_object_object_get_ex(p, "minimum", &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_true(json_object_object_get_ex(p, "maximum", &v));
    assert_int_equal(json_object_get_int(v), 10);
    assert_true(json_object_object_get_ex(p, "default", &v));
    assert_int_equal(json_object_get_int(v), 5);
    assert_true(json_object_object_get_ex(props, "grant_type", &p));
    assert_true(json_object_object_get_ex(p, "enum", &v));
    assert_int_equal(json_object_array_length(v), 3);
    assert_true(json_object_object_get_ex(props, "scope", &p));
    assert_true(json_object_object_get_ex(p, "default", &v));
    assert_string_equal(json_object_get_string(v), "api offline_access");
    assert_true(json_object_object_get_ex(schema, "required", &req));
    assert_int_equal(json_object_array_length(req), 2);
    assert_true(json_object_object_get_ex(schema, "allOf", &v));
    assert_int_equal(json_object_array_length(v), 3);
    json_object_put(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_problem_at_once),
        cmocka_unit_test(test_grant_requirements),
        cmocka_unit_test(test_secret_never_echoed),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_tz_and_scope),
        cmocka_unit_test(test_overrides_and_ca),
        cmocka_unit_test(test_too_many_problems),
        cmocka_unit_test(test_edit_distance),
        cmocka_unit_test(test_schema),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
