/* test_apierr.c - Acumatica's error bodies and their status classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acu_apierr.h"
#include "acu_error.h"

static void parse(int status, const char *ctype, const char *body, acu_apierr *e)
{
    assert_int_equal(acu_apierr_parse(status, ctype, body, body != NULL ? strlen(body) : 0,
                                      "22.200.001", e), CONN_OK);
}

static void test_not_found(void **state)
{
    acu_apierr e;
    conn_error err;

    (void)state;
    parse(500, "application/json",
          "{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"No entity satisfies "
          "the condition.\",\"exceptionType\":\"PX.Api.ContractBased."
          "NoEntitySatisfiesTheConditionException\",\"stackTrace\":\"   at X\"}", &e);
    assert_int_equal(e.status, CONN_NOT_FOUND);
    assert_string_equal(e.message, "No entity satisfies the condition.");
    assert_false(e.transient);
    acu_err_clear(&err);
    acu_apierr_to_conn(&e, "GET SalesOrder", -1, &err);
    assert_int_equal(err.status, CONN_NOT_FOUND);
    assert_string_equal(err.message, "GET SalesOrder: Acumatica answered 500: No entity "
                                     "satisfies the condition.");
    assert_string_equal(err.detail_type,
                        "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException");
    assert_int_equal(err.http_status, 500);
    assert_null(strstr(err.message, "stackTrace"));
    acu_apierr_free(&e);
}

static void test_invalid_credentials(void **state)
{
    acu_apierr e;

    (void)state;
    parse(500, "application/json; charset=utf-8",
          "{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"Error: Invalid "
          "credentials. Please try again.\",\"exceptionType\":\"PX.Data.PXException\"}", &e);
    assert_int_equal(e.status, CONN_AUTH);
    assert_true(e.not_processed);
    acu_apierr_free(&e);
    parse(401, "application/json", "{\"message\":\"You are not logged in.\"}", &e);
    assert_int_equal(e.status, CONN_AUTH);
    assert_string_equal(e.message, "You are not logged in.");
    acu_apierr_free(&e);
    parse(500, NULL, "{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"A proper "
                     "company ID cannot be determined for the request.\",\"exceptionType\":"
                     "\"PX.Data.PXUndefinedCompanyException\"}", &e);
    assert_int_equal(e.status, CONN_INVALID);
    acu_apierr_free(&e);
}

static void test_login_limit(void **state)
{
    acu_apierr e;
    conn_error err;

    (void)state;
    parse(429, "application/json",
          "{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"API Login Limit: the "
          "number of concurrent sessions of API users has reached the limit of the "
          "license.\",\"exceptionType\":\"PX.Data.PXException\"}", &e);
    assert_true(e.login_limit);
    assert_int_equal(e.status, CONN_RETRY);
    acu_err_clear(&err);
    acu_apierr_to_conn(&e, "POST auth/login", -1, &err);
    assert_string_equal(err.message, "POST auth/login: " ACU_LOGIN_LIMIT_TEXT);
    assert_string_equal(err.detail_type, "API Login Limit");
    acu_apierr_free(&e);
    /* The same words in plain text (a custom error page). */
    parse(500, "text/plain", "API Login Limit", &e);
    assert_true(e.login_limit);
    acu_apierr_free(&e);
}

/* 422: the record echoed back, errors on fields and inside detail lines. */
static void test_422_paths(void **state)
{
    acu_apierr e;
    conn_error err;
    static const char body[] =
        "{\"id\":\"b6410d82\",\"rowNumber\":1,"
        "\"error\":\"Inserting  'Sales Order' record raised at least one error.\","
        "\"CustomerID\":{\"value\":\"ABARTENDE1\",\"error\":\"'Customer' cannot be found in "
        "the system.\"},"
        "\"Details\":[{\"id\":\"a\",\"InventoryID\":{\"value\":\"OK\"}},"
        "{\"id\":\"b\",\"OrderQty\":{\"value\":1}},"
        "{\"id\":\"c\",\"InventoryID\":{\"value\":\"NOPE\",\"error\":\"'Inventory ID' cannot "
        "be found in the system.\"},\"note\":{\"value\":\"\"}}],"
        "\"ShipToAddress\":{\"PostalCode\":{\"value\":\"x\",\"error\":\"Bad postal code\"}},"
        "\"_links\":{\"self\":\"/x\",\"error\":\"not a field\"}}";

    (void)state;
    parse(422, "application/json", body, &e);
    assert_int_equal(e.status, CONN_REJECTED);
    assert_string_equal(e.message,
                        "Inserting 'Sales Order' record raised at least one error.");
    assert_int_equal(e.nfields, 3);
    assert_string_equal(e.fields[0].path, "CustomerID");
    assert_string_equal(e.fields[0].message, "'Customer' cannot be found in the system.");
    assert_string_equal(e.fields[1].path, "Details[2].InventoryID");
    assert_string_equal(e.fields[1].message, "'Inventory ID' cannot be found in the system.");
    assert_string_equal(e.fields[1].value, "NOPE");
    assert_string_equal(e.fields[2].path, "ShipToAddress.PostalCode");
    acu_err_clear(&err);
    acu_apierr_to_conn(&e, "PUT SalesOrder", -1, &err);
    assert_int_equal(err.status, CONN_REJECTED);
    assert_non_null(strstr(err.message,
                           "\nDetails[2].InventoryID ('NOPE'): 'Inventory ID' cannot be found"));
    assert_non_null(strstr(err.message, "\nCustomerID ('ABARTENDE1'): 'Customer' cannot be found"));
    acu_apierr_free(&e);
}

static void test_http_error_shapes(void **state)
{
    acu_apierr e;

    (void)state;
    parse(400, "application/json",
          "{\"message\":\"The request is invalid.\",\"modelState\":{\"\":[\"The request body "
          "should not be empty.\"],\"credentials\":[\"Both company and tenant cannot be "
          "defined\"]}}", &e);
    assert_int_equal(e.status, CONN_REJECTED);
    assert_string_equal(e.message, "The request is invalid.");
    assert_string_equal(e.detail, "The request body should not be empty.");
    assert_int_equal(e.nfields, 1);
    assert_string_equal(e.fields[0].path, "credentials");
    acu_apierr_free(&e);
    parse(500, NULL, "{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"Outer\","
                     "\"exceptionType\":\"X\",\"innerException\":{\"exceptionMessage\":\"Mid\","
                     "\"innerException\":{\"exceptionMessage\":\"The real cause\"}}}", &e);
    assert_int_equal(e.status, CONN_RETRY);
    assert_true(e.transient);
    assert_string_equal(e.message, "Outer");
    assert_string_equal(e.detail, "The real cause");
    acu_apierr_free(&e);
    parse(412, NULL, "{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"The "
                     "record already exists.\"}", &e);
    assert_int_equal(e.status, CONN_REJECTED);
    acu_apierr_free(&e);
    parse(429, "application/json", "{\"message\":\"The number of requests has exceeded the "
                                   "limit imposed by the license.\"}", &e);
    assert_int_equal(e.status, CONN_RETRY);
    assert_true(e.transient && e.not_processed);
    acu_apierr_free(&e);
    parse(500, NULL, "{\"message\":\"An error has occurred.\",\"exceptionMessage\":"
                     "\"Optimization cannot be performed.The following fields cause the "
                     "error:\\r\\nDetails.X\"}", &e);
    assert_int_equal(e.status, CONN_INTERNAL);
    assert_string_equal(e.message, "Optimization cannot be performed.The following fields "
                                   "cause the error: Details.X");
    acu_apierr_free(&e);
    parse(403, NULL, "", &e);
    assert_int_equal(e.status, CONN_AUTH);
    assert_null(e.message);
    acu_apierr_free(&e);
}

static void test_oauth_errors(void **state)
{
    acu_apierr e;

    (void)state;
    parse(400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":"
                                   "\"refresh token already used (rotation)\"}", &e);
    assert_int_equal(e.status, CONN_AUTH);
    assert_string_equal(e.type, "invalid_grant");
    assert_string_equal(e.message, "refresh token already used (rotation)");
    acu_apierr_free(&e);
    parse(401, NULL, "{\"error\":\"invalid_client\"}", &e);
    assert_int_equal(e.status, CONN_AUTH);
    assert_null(e.message);
    acu_apierr_free(&e);
    parse(400, NULL, "{\"error\":\"invalid_scope\"}", &e);
    assert_int_equal(e.status, CONN_INVALID);
    acu_apierr_free(&e);
    parse(400, NULL, "{\"error\":\"unsupported_grant_type\"}", &e);
    assert_int_equal(e.status, CONN_INVALID);
    acu_apierr_free(&e);
    parse(503, NULL, "{\"error\":\"temporarily_unavailable\"}", &e);
    assert_int_equal(e.status, CONN_RETRY);
    acu_apierr_free(&e);
}

static void test_html_and_garbage(void **state)
{
    acu_apierr e;
    conn_error err;

    (void)state;
    parse(503, "text/html; charset=us-ascii",
          "<!DOCTYPE HTML><HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD>\r\n"
          "<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is "
          "unavailable.</p>\r\n</BODY></HTML>", &e);
    assert_int_equal(e.status, CONN_RETRY);
    assert_true(e.html);
    assert_string_equal(e.message, "Service Unavailable Service Unavailable HTTP Error 503. "
                                   "The service is unavailable.");
    acu_err_clear(&err);
    acu_apierr_to_conn(&e, "GET Customer", 5000, &err);
    assert_non_null(strstr(err.message, "check the API URL"));
    assert_int_equal(err.retry_after_ms, 5000);
    acu_apierr_free(&e);
    parse(502, NULL, "{not json", &e);
    assert_int_equal(e.status, CONN_RETRY);
    assert_string_equal(e.message, "{not json");
    acu_apierr_free(&e);
    parse(418, NULL, NULL, &e);
    assert_int_equal(e.status, CONN_INTERNAL);
    acu_apierr_free(&e);
    /* Control characters and broken UTF-8 are cleaned. */
    parse(500, NULL, "{\"exceptionMessage\":\"a\\u0001b\\tc\\u00e9\"}", &e);
    assert_string_equal(e.message, "a b c\xc3\xa9");
    acu_apierr_free(&e);
    parse(500, "text/plain", "x\xff\xfey", &e);
    assert_string_equal(e.message, "x??y");
    acu_apierr_free(&e);
}

static void test_unknown_version(void **state)
{
    acu_apierr e;
    conn_error err;

    (void)state;
    parse(404, "application/json",
          "{\"message\":\"No HTTP resource was found that matches the request URI "
          "'/AcumaticaERP/entity/Default/22.200.001/Customer'.\",\"messageDetail\":\"The "
          "endpoint Default with the version 22.200.001 is not found in the system.\"}", &e);
    assert_int_equal(e.status, CONN_INVALID);
    acu_err_clear(&err);
    acu_apierr_to_conn(&e, "GET Customer", -1, &err);
    assert_non_null(strstr(err.message, "does not serve this endpoint version"));
    assert_non_null(strstr(err.message, "endpoint_version"));
    assert_non_null(strstr(err.message, "this endpoint version, Default/22.200.001"));
    acu_apierr_free(&e);
    /* An unknown entity names the version too, but is not-found. */
    parse(404, "application/json",
          "{\"message\":\"No HTTP resource was found that matches the request URI "
          "'/AcumaticaERP/entity/Default/22.200.001/Foo'.\",\"messageDetail\":\"The entity "
          "Foo is not found in the endpoint Default/22.200.001.\"}", &e);
    assert_int_equal(e.status, CONN_NOT_FOUND);
    acu_apierr_free(&e);
    /* A plain 404 elsewhere is not-found. */
    parse(404, NULL, "{\"message\":\"An action with this name does not exist.\"}", &e);
    assert_int_equal(e.status, CONN_NOT_FOUND);
    acu_apierr_free(&e);
}

/* Deep nesting and many fields stay bounded. */
static void test_bounds(void **state)
{
    char body[40000];
    size_t n = 0;
    acu_apierr e;

    (void)state;
    n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"Details\":[");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "%s{\"F\":{\"value\":1,\"error\":\"bad %d\"}}", i ? "," : "", i);
    n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
    parse(422, NULL, body, &e);
    assert_int_equal(e.nfields, ACU_APIERR_FIELDS_MAX);
    assert_int_equal(e.nfields_dropped, 200 - ACU_APIERR_FIELDS_MAX);
    assert_string_equal(e.fields[63].path, "Details[63].F");
    acu_apierr_free(&e);
    n = 0;
    for (int i = 0; i < 2000; i++)
        body[n++] = '{', body[n++] = '"', body[n++] = 'a', body[n++] = '"', body[n++] = ':';
    body[n] = '\0';
    parse(422, NULL, body, &e);
    assert_int_equal(e.status, CONN_REJECTED);
    acu_apierr_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_invalid_credentials),
        cmocka_unit_test(test_login_limit),
        cmocka_unit_test(test_422_paths),
        cmocka_unit_test(test_http_error_shapes),
        cmocka_unit_test(test_oauth_errors),
        cmocka_unit_test(test_html_and_garbage),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
