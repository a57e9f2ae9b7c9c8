/* test_map_expr.c - every operator and function of the expression language,
 * and every message of the parser and binder, evaluated against one record.
 * The business's Time Zone Offset is -05:00 throughout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"
#include "map_test_util.h"

static const char record_text[] =
    "{\"s\": \"  Hello World  \", \"n\": 12.5, \"i\": 3, \"z\": 0, \"b\": true,"
    " \"f\": false, \"nul\": null, \"e\": \"\", \"num_s\": \"42\","
    " \"lines\": [{\"q\": 2, \"p\": 1.5, \"sku\": \"A\"}, {\"q\": 3, \"p\": 2, \"sku\": \"B\"},"
    "            {\"q\": 0, \"p\": 10, \"sku\": null}],"
    " \"obj\": {\"a\": {\"b\": \"deep\"}, \"x y\": 7},"
    " \"dt\": \"2024-03-01T14:05:00Z\", \"d\": \"2024-03-01\", \"acu\": \"12/14/2023 19:57:08\","
    " \"u\": \"\\u00fcn\\u00ef\"}";

static const char lookups_overlay[] =
    "{\"lookups\": {"
    " \"t\": {\"rows\": {\"a\": \"A1\", \"1\": \"one\"}},"
    " \"tp\": {\"no_match\": \"pass\", \"rows\": {}},"
    " \"td\": {\"no_match\": \"default\", \"default\": \"D\", \"rows\": {}},"
    " \"tn\": {\"no_match\": \"null\", \"rows\": {}},"
    " \"tci\": {\"case_insensitive\": true, \"rows\": {\"Hello\": \"world\"}}}}";

typedef struct ecase {
    const char *expr;
    const char *want;   /* JSON text of the result ("null" for null) */
    const char *error;  /* substring of the error, when one is expected */
    int template_mode;
} ecase;

static const ecase cases[] = {
    /* literals */
    {"42", "42", NULL, 0},
    {"4.25", "4.25", NULL, 0},
    {"1e3", "1000", NULL, 0},
    {"'it''s'", NULL, "expected an operator or the end of the expression, found a quoted text", 0},
    {"'a\\'b\\n'", "\"a'b\\n\"", NULL, 0},
    {"\"dq\"", "\"dq\"", NULL, 0},
    {"true", "true", NULL, 0},
    {"false", "false", NULL, 0},
    {"null", "null", NULL, 0},
    /* paths */
    {"i", "3", NULL, 0},
    {"obj.a.b", "\"deep\"", NULL, 0},
    {"obj['x y']", "7", NULL, 0},
    {"lines[1].sku", "\"B\"", NULL, 0},
    {"lines[5].sku", "null", NULL, 0},
    {"missing.x", "null", NULL, 0},
    {"s.x", "null", NULL, 0},
    {"this.i", "3", NULL, 0},
    {"obj.a", "{\"b\": \"deep\"}", NULL, 0},
    /* arithmetic */
    {"1 + 2 * 3", "7", NULL, 0},
    {"(1 + 2) * 3", "9", NULL, 0},
    {"10 / 4", "2.5", NULL, 0},
    {"10 % 4", "2", NULL, 0},
    {"-n", "-12.5", NULL, 0},
    {"--i", "3", NULL, 0},
    {"n - i", "9.5", NULL, 0},
    {"num_s * 2", "84", NULL, 0},
    {"'a' + 'b'", "\"ab\"", NULL, 0},
    {"s + 1", NULL, "'+' joins two texts or adds two numbers, not a string and a number", 0},
    {"nul + 1", "null", NULL, 0},
    {"nul * 2", "null", NULL, 0},
    {"i / z", NULL, "division by zero", 0},
    {"i % z", NULL, "remainder of a division by zero", 0},
    {"s * 2", NULL, "'*' needs numbers, got '  Hello World  '", 0},
    {"b * 2", NULL, "'*' needs numbers, got a boolean", 0},
    {"-s", NULL, "'-' needs a number, got a string", 0},
    {"1 / 0", NULL, "this always fails: column 3: division by zero", 0},
    /* comparison */
    {"1 == 1", "true", NULL, 0},
    {"i == '3'", "true", NULL, 0},
    {"'a' == 'a'", "true", NULL, 0},
    {"'a' != 'b'", "true", NULL, 0},
    {"nul == null", "true", NULL, 0},
    {"e == null", "false", NULL, 0},
    {"b == true", "true", NULL, 0},
    {"obj == obj", "true", NULL, 0},
    {"2 < 10", "true", NULL, 0},
    {"'2' < '10'", "false", NULL, 0},
    {"n >= 12.5", "true", NULL, 0},
    {"n > 12.5", "false", NULL, 0},
    {"i <= 2", "false", NULL, 0},
    {"nul < 1", "false", NULL, 0},
    {"b < i", NULL, "'<' cannot compare a boolean with a number", 0},
    /* boolean logic */
    {"b and f", "false", NULL, 0},
    {"b or f", "true", NULL, 0},
    {"not f", "true", NULL, 0},
    {"!b", "false", NULL, 0},
    {"b && i > 2", "true", NULL, 0},
    {"f || nul", "false", NULL, 0},
    {"f and i / z", "false", NULL, 0},
    {"b or i / z", "true", NULL, 0},
    {"not e", "true", NULL, 0},
    /* conditional */
    {"b ? 'y' : 'n'", "\"y\"", NULL, 0},
    {"nul ? 1 : 2", "2", NULL, 0},
    {"i > 2 ? i > 5 ? 'big' : 'mid' : 'small'", "\"mid\"", NULL, 0},
    {"if(f, 1, 2)", "2", NULL, 0},
    {"if(b, 1, i / z)", "1", NULL, 0},
    /* strings */
    {"concat('a', 1, true, nul, 'b')", "\"a1trueb\"", NULL, 0},
    {"concat(lines)", NULL, "concat() needs text, got a list", 0},
    {"upper('abc')", "\"ABC\"", NULL, 0},
    {"lower('ABC')", "\"abc\"", NULL, 0},
    {"upper(nul)", "null", NULL, 0},
    {"trim(s)", "\"Hello World\"", NULL, 0},
    {"substr('abcdef', 2)", "\"cdef\"", NULL, 0},
    {"substr('abcdef', 2, 2)", "\"cd\"", NULL, 0},
    {"substr(u, 1, 1)", "\"n\"", NULL, 0},
    {"substr('abc', 10)", "\"\"", NULL, 0},
    {"substr(s, -1)", NULL, "substr() needs a whole number from 0 to 1000000000, got -1", 0},
    {"replace('a-b-c', '-', '+')", "\"a+b+c\"", NULL, 0},
    {"replace('abc', '', 'x')", "\"abc\"", NULL, 0},
    {"truncate('abcdef', 3)", "\"abc\"", NULL, 0},
    {"truncate(u, 1)", "\"\\u00fc\"", NULL, 0},
    {"length(u)", "3", NULL, 0},
    {"length(lines)", "3", NULL, 0},
    {"length(nul)", "0", NULL, 0},
    {"contains('hello', 'ell')", "true", NULL, 0},
    {"contains(s, 'xyz')", "false", NULL, 0},
    {"starts_with('hello', 'he')", "true", NULL, 0},
    {"ends_with('hello', 'lo')", "true", NULL, 0},
    {"ends_with('lo', 'hello')", "false", NULL, 0},
    {"contains(nul, 'x')", "false", NULL, 0},
    /* numbers */
    {"round(2.675, 2)", "2.68", NULL, 0},
    {"round(2.5)", "3", NULL, 0},
    {"round(-2.5)", "-3", NULL, 0},
    {"round(1.005, 2)", "1.01", NULL, 0},
    {"round(-2.675, 2)", "-2.68", NULL, 0},
    {"round(12345678901.234, 2)", "12345678901.23", NULL, 0},
    {"round(12345678901234.567, 2)", "12345678901234.57", NULL, 0},
    {"round(0.1 + 0.2, 2)", "0.3", NULL, 0},
    {"to_string(12345678901.234, '#,##0.00')", "\"12,345,678,901.23\"", NULL, 0},
    {"round(1e308, 2)", "1e308", NULL, 0},
    {"round(-1e308, 10)", "-1e308", NULL, 0},
    {"sum(lines, 1e308)", NULL, "sum(): the total is too large", 0},
    {"n * 1e308", NULL, "column 3: the result of '*' is too large", 0},
    {"1e308 * 10", NULL, "this always fails: column 7: the result of '*' is too large", 0},
    {"n * 1e306 + 1.7e308", NULL, "column 11: the result of '+' is too large", 0},
    {"-1.7e308 - n * 1e306", NULL, "the result of '-' is too large", 0},
    {"1e308 / (n / 1e10)", NULL, "the result of '/' is too large", 0},
    {"to_string(n * 1e299, '0.00')", NULL, "to_string(): the number is too large to format", 0},
    {"to_string(n, '0.#0')", NULL, "to_string(): in the format '0.#0' every 0 after the point comes before any #", 0},
    {"to_string(n, i)", NULL, "to_string(): the format must be text", 0},
    {"to_bool(lines)", NULL, "to_bool() needs text, a number or a boolean, got a list", 0},
    {"round(n, 11)", NULL, "round() needs a whole number from 0 to 10, got 11", 0},
    {"floor(2.7)", "2", NULL, 0},
    {"ceil(2.1)", "3", NULL, 0},
    {"abs(-4)", "4", NULL, 0},
    {"min(3, 1, 2)", "1", NULL, 0},
    {"max(3, nul, 7)", "7", NULL, 0},
    {"min(nul)", "null", NULL, 0},
    {"round(s)", NULL, "round() needs a number, got '  Hello World  '", 0},
    {"round('x')", NULL, "this always fails: round() needs a number, got 'x'", 0},
    {"to_number('12.50')", "12.5", NULL, 0},
    {"to_number(e)", "null", NULL, 0},
    {"to_number(b)", "1", NULL, 0},
    {"to_number('0x10')", NULL, "to_number(): '0x10' is not a number", 0},
    {"to_number(lines)", NULL, "to_number() needs text or a number, got a list", 0},
    {"to_string(n)", "\"12.5\"", NULL, 0},
    {"to_string(3)", "\"3\"", NULL, 0},
    {"to_string(nul)", "null", NULL, 0},
    {"to_string(obj.a)", "\"{\\\"b\\\":\\\"deep\\\"}\"", NULL, 0},
    {"to_string(1234567.891, '#,##0.00')", "\"1,234,567.89\"", NULL, 0},
    {"to_string(-1234.5, '#,##0.00')", "\"-1,234.50\"", NULL, 0},
    {"to_string(2.5, '0')", "\"3\"", NULL, 0},
    {"to_string(1.5, '0.00')", "\"1.50\"", NULL, 0},
    {"to_string(1.25, '0.0#')", "\"1.25\"", NULL, 0},
    {"to_string(1.2, '0.0#')", "\"1.2\"", NULL, 0},
    {"to_string(i, 'abc')", NULL, "unsupported number format 'abc'", 0},
    {"to_bool('yes')", "true", NULL, 0},
    {"to_bool(' Off ')", "false", NULL, 0},
    {"to_bool('0')", "false", NULL, 0},
    {"to_bool(2)", "true", NULL, 0},
    {"to_bool(e)", "null", NULL, 0},
    {"to_bool(s)", NULL, "to_bool(): '  Hello World  ' is not true/false", 0},
    /* dates (Time Zone Offset -05:00) */
    {"parse_date(d)", "\"2024-03-01T00:00:00-05:00\"", NULL, 0},
    {"parse_date(dt)", "\"2024-03-01T14:05:00Z\"", NULL, 0},
    {"parse_date(acu)", "\"2023-12-14T19:57:08-05:00\"", NULL, 0},
    {"parse_date('2023-12-14T19:57:08.060+00:00')", "\"2023-12-14T19:57:08.06+00:00\"", NULL, 0},
    {"parse_date('01.02.2024 10:30', '%d.%m.%Y %H:%M')", "\"2024-02-01T10:30:00-05:00\"", NULL, 0},
    {"parse_date('Mar 5 2024 1:02 PM', '%b %d %Y %I:%M %p')", "\"2024-03-05T13:02:00-05:00\"", NULL, 0},
    {"parse_date(s)", NULL, "parse_date(): '  Hello World  ' is not a date", 0},
    {"parse_date('2024-02-30')", NULL, "is not a date", 0},
    {"parse_date(e)", "null", NULL, 0},
    {"parse_date('x1', '%Y')", NULL, "parse_date(): 'x1' does not match the format '%Y'", 0},
    {"format_date(dt, '%Y/%m/%d %H:%M')", "\"2024/03/01 14:05\"", NULL, 0},
    {"format_date(dt, '%A %B %e, %I:%M %p %z')", "\"Friday March 1, 02:05 PM +0000\"", NULL, 0},
    {"format_date(dt, '%Q')", NULL, "unsupported date format '%Q'", 0},
    {"to_utc('2024-03-01T09:05:00-05:00')", "\"2024-03-01T14:05:00Z\"", NULL, 0},
    {"to_utc(d)", "\"2024-03-01T05:00:00Z\"", NULL, 0},
    {"to_local(dt)", "\"2024-03-01T09:05:00-05:00\"", NULL, 0},
    {"local_date('2024-03-01T02:00:00Z')", "\"2024-02-29\"", NULL, 0},
    {"local_date(d)", "\"2024-03-01\"", NULL, 0},
    {"add_days(d, 1)", "\"2024-03-02\"", NULL, 0},
    {"add_days(dt, -1)", "\"2024-02-29T14:05:00Z\"", NULL, 0},
    {"add_days(nul, 1)", "null", NULL, 0},
    {"add_days('9999-12-30', 1)", "\"9999-12-31\"", NULL, 0},
    {"add_days('9999-12-31', 1)", NULL, "add_days(): the date falls outside the years 0001 to 9999", 0},
    {"add_days('9999-12-31T23:00:00Z', 1)", NULL, "add_days(): the date falls outside the years 0001 to 9999", 0},
    {"add_days('0001-01-01', -1)", NULL, "add_days(): the date falls outside the years 0001 to 9999", 0},
    {"to_local('0001-01-01T02:00:00Z')", NULL, "to_local(): the date falls outside the years 0001 to 9999", 0},
    {"local_date('0001-01-01T02:00:00Z')", NULL, "local_date(): the date falls outside the years 0001 to 9999", 0},
    {"to_utc(i)", NULL, "to_utc() needs a date as text, got a number", 0},
    {"add_days(b, 1)", NULL, "add_days() needs a date as text, got a boolean", 0},
    {"format_date(lines, '%Y')", NULL, "format_date() needs a date as text, got a list", 0},
    {"local_date(s)", NULL, "local_date(): '  Hello World  ' is not a date (expected e.g. 2024-03-01T14:05:00Z or 2024-03-01)", 0},
    {"parse_date(d, i)", NULL, "parse_date() needs text and a format", 0},
    {"parse_date(i, '%Y')", NULL, "parse_date() needs text and a format", 0},
    {"format_date(dt, i)", NULL, "format_date(): the format must be text of at most 200 bytes", 0},
    /* emptiness */
    {"coalesce(nul, e, 'x')", "\"x\"", NULL, 0},
    {"coalesce(nul)", "null", NULL, 0},
    {"coalesce(i, i / z)", "3", NULL, 0},
    {"coalesce(nul, i / z)", NULL, "division by zero", 0},
    {"is_empty(e)", "true", NULL, 0},
    {"is_empty(lines)", "false", NULL, 0},
    {"is_empty(nul)", "true", NULL, 0},
    {"is_empty(z)", "false", NULL, 0},
    {"default(nul, 5)", "5", NULL, 0},
    {"default(e, 'x')", "\"x\"", NULL, 0},
    {"default(i, 5)", "3", NULL, 0},
    /* lookups */
    {"lookup('t', 'a')", "\"A1\"", NULL, 0},
    {"lookup('t', 'zz')", NULL, "no row for 'zz' in lookup table 't'", 0},
    {"lookup('t', 'zz', 'dflt')", "\"dflt\"", NULL, 0},
    {"lookup('tp', 'zz')", "\"zz\"", NULL, 0},
    {"lookup('td', 'zz')", "\"D\"", NULL, 0},
    {"lookup('tn', 'zz')", "null", NULL, 0},
    {"lookup('tci', 'HeLLo')", "\"world\"", NULL, 0},
    {"lookup('t', nul)", "null", NULL, 0},
    {"lookup('t', 1)", "\"one\"", NULL, 0},
    {"lookup('ship_via', 'UPS')", "\"UPSGROUND\"", NULL, 0},
    {"lookup(s, 'a')", NULL, "the table name in lookup() must be written as quoted text", 0},
    {"lookup('shipvia', 'a')", NULL, "unknown lookup table 'shipvia'; did you mean 'ship_via'?", 0},
    {"lookup('t', lines)", NULL, "lookup('t'): the key must be text or a number, not a list", 0},
    /* children */
    {"count(lines)", "3", NULL, 0},
    {"count(lines, q > 0)", "2", NULL, 0},
    {"sum(lines, q * p)", "9", NULL, 0},
    {"sum(lines, parent.i * q)", "15", NULL, 0},
    {"join(lines, sku)", "\"A, B\"", NULL, 0},
    {"join(lines, sku, '|')", "\"A|B\"", NULL, 0},
    {"count(nul)", "0", NULL, 0},
    {"count(s)", NULL, "count() needs a list, got a string", 0},
    {"sum(lines, sku)", NULL, "sum(): element 0 gives a string, not a number", 0},
    {"count(lines, q / z)", "0", NULL, 0}, /* z of each line: null */
    {"count(lines, q / parent.z)", NULL, "division by zero", 0},
    {"sum(lines)", NULL, "sum() takes 2 arguments, not 1", 0},
    {"join(lines, sku, 1)", NULL, "join(): the separator must be text", 0},
    {"join(lines, sku, nul)", NULL, "join(): the separator must be text", 0},
    {"join(lines, this)", NULL, "join(): element 0 gives an object, not text", 0},
    {"count(lines, count(lines, count(lines, count(lines, count(lines, count(lines,"
     " count(lines, count(lines, q)))))))) ", NULL, "count() nests too deeply", 0},
    /* settings */
    {"setting('Time Zone Offset')", "\"-05:00\"", NULL, 0},
    {"setting('tenant')", "\"Acme\"", NULL, 0},
    {"setting('nothing here')", "null", NULL, 0},
    {"setting('Client Secret')", NULL, "setting('Client Secret') is a secret (or may hold one) and cannot be used in a mapping", 0},
    {"setting('password')", NULL, "is a secret", 0},
    {"setting(s)", NULL, "the setting name in setting() must be written as quoted text", 0},
    /* error() */
    {"error('bad ' + trim(s))", NULL, "bad Hello World", 0},
    {"is_empty(e) ? error('needs a value') : e", NULL, "needs a value", 0},
    /* parser and binder messages */
    {"", NULL, "column 1: the expression is empty", 0},
    {"1 +", NULL, "column 4: expected a value, a field or a function, found the end of the expression", 0},
    {"(1", NULL, "column 1: the '(' here is not closed with ')'", 0},
    {"(1 2)", NULL, "column 4: expected ')', found the number 2", 0},
    {"1 2", NULL, "column 3: expected an operator or the end of the expression, found the number 2", 0},
    {"a = b", NULL, "column 3: use == to compare two values", 0},
    {"a & b", NULL, "column 3: use 'and' or && for logical and", 0},
    {"a | b", NULL, "column 3: use 'or' or || for logical or", 0},
    {"'abc", NULL, "column 1: the string that starts here is not closed with '", 0},
    {"'\\q'", NULL, "column 2: unknown escape '\\q' in a string", 0},
    {"a ? b", NULL, "column 6: expected ':' for the '?' at column 3", 0},
    {"lines[-1]", NULL, "column 7: expected a number or a quoted name inside [ ]", 0},
    {"lines[1", NULL, "column 6: the '[' here is not closed with ']'", 0},
    {"lines[1.5]", NULL, "a list index is a whole number", 0},
    {"a.", NULL, "column 3: expected a field name after '.', found the end of the expression", 0},
    {"parent", NULL, "column 1: 'parent' goes above the top-level record here", 0},
    {"parent.x", NULL, "'parent' goes above the top-level record", 0},
    {"2abc", NULL, "column 2: a name cannot follow a number without an operator", 0},
    {"@", NULL, "column 1: unexpected character '@'", 0},
    {"\xc3\xa9t\xc3\xa9", NULL, "column 1: unexpected non-ASCII character", 0},
    {"{", NULL, "column 1: unexpected '{'", 0},
    {"upper()", NULL, "upper() takes 1 argument, not 0", 0},
    {"substr('a')", NULL, "substr() takes 2 to 3 arguments, not 1", 0},
    {"concat()", NULL, "concat() takes at least 1 argument", 0},
    {"uper(s)", NULL, "column 1: unknown function 'uper'; did you mean 'upper'?", 0},
    {"frobnicate(s)", NULL, "column 1: unknown function 'frobnicate'", 0},
    {"upper(s, )", NULL, "column 10: expected a value, a field or a function, found ')'", 0},
    {"upper(s s)", NULL, "column 9: expected ',' or ')' in the arguments of 'upper', found 's'", 0},
    {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", NULL, "a field path has at most 16 parts", 0},
    /* templates */
    {"Hi {trim(s)}!", "\"Hi Hello World!\"", NULL, 1},
    {"{{literal}}", "\"{literal}\"", NULL, 1},
    {"{i + 1} items", "\"4 items\"", NULL, 1},
    {"{nul}-{e}-{b}", "\"--true\"", NULL, 1},
    {"plain", "\"plain\"", NULL, 1},
    {"", "\"\"", NULL, 1},
    {"{concat('}', i)}", "\"}3\"", NULL, 1},
    {"{lines}", NULL, "a template cannot show a list", 1},
    {"a } b", NULL, "column 3: a single '}' in a template must be written '}}'", 1},
    {"x {} y", NULL, "column 3: the {} here is empty", 1},
    {"x {s", NULL, "column 3: the '{' here is not closed with '}'", 1},
    {"x {s t}", NULL, "column 6: expected '}' to end the {...} part, found 't'", 1},
    {"x {a {b}}", NULL, "'{' cannot start inside another {...}", 1},
};

static acu_mapset *set;
static json_object *record;
static json_object *settings;

#define SETTINGS "{\"time_zone_offset\": \"-05:00\", \"tenant\": \"Acme\", \"client_secret\": \"s3cr3t\"}"

static int setup(void **state)
{
    const char *ov[] = {lookups_overlay, NULL};
    conn_error err;
    acu_map_diags *d = NULL;

    (void)state;
    settings = json_tokener_parse(SETTINGS);
    if (mt_load(1, NULL, SETTINGS, ov, &set, &d, &err) != CONN_OK) {
        fprintf(stderr, "%s\n", err.message);
        acu_map_diags_free(d);
        return -1;
    }
    acu_map_diags_free(d);
    record = json_tokener_parse(record_text);
    return record == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    acu_mapset_free(set);
    json_object_put(record);
    json_object_put(settings);
    return 0;
}

static void test_cases(void **state)
{
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const ecase *c = &cases[i];
        json_object *got = NULL;
        char why[512];
        int rc = acu_map_eval_text(set, c->expr, c->template_mode, settings, record, &got, why,
                                   sizeof(why));
        if (c->error != NULL) {
            if (rc == 0 || strstr(why, c->error) == NULL) {
                fprintf(stderr, "case %zu [%s]: expected error containing \"%s\", got %s%s\n",
                        i, c->expr, c->error, rc == 0 ? "a value: " : "error: ",
                        rc == 0 ? json_object_to_json_string(got) : why);
                failures++;
            }
        } else {
            json_object *want = json_tokener_parse(c->want);
            if (rc != 0 || !json_object_equal(got, want)) {
                fprintf(stderr, "case %zu [%s]: expected %s, got %s\n", i, c->expr, c->want,
                        rc == 0 ? json_object_to_json_string(got) : why);
                failures++;
            }
            json_object_put(want);
        }
        json_object_put(got);
    }
    assert_int_equal(failures, 0);
}

/* Numbers the engine computes or converts are written as the shortest
 * decimal that reads back as the same double: the JSON text is compared, not
 * the double (json_object_equal would call 19.989999999999998 equal to
 * 19.99). A copy keeps the text, and whole numbers stay integers. */
static void test_number_text(void **state)
{
    static const struct {
        const char *expr;
        const char *text;
    } ncases[] = {
        {"to_number('19.99')", "19.99"},
        {"round(2.675, 2)", "2.68"},
        {"0.1 + 0.2", "0.30000000000000004"},
        {"1 / 3", "0.3333333333333333"},
        {"to_number('-1234567.891')", "-1234567.891"},
        {"-0.5 * 3", "-1.5"},
        {"to_number(' 0.07 ')", "0.07"},
        {"to_number('123456789012.34')", "123456789012.34"},
        {"1e20 * 3", "3e+20"},
        {"-1e20 * 3", "-3e+20"},
        {"to_number('1e-7')", "1e-07"},
        {"9007199254740992 * 2", "18014398509481984"},
        {"to_number('42')", "42"},
        {"2.5 * 2", "5"},
        {"-4.0", "-4"},
        {"to_number('-0')", "0"},
        {"sum(lines, p)", "13.5"},
        {"n * 1.1", "13.750000000000002"},
    };
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
        json_object *got = NULL, *copy = NULL;
        char why[512];
        const char *text, *copy_text;
        int rc = acu_map_eval_text(set, ncases[i].expr, 0, settings, record, &got, why,
                                   sizeof(why));
        if (rc != 0) {
            fprintf(stderr, "[%s]: %s\n", ncases[i].expr, why);
            failures++;
            continue;
        }
        text = json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN);
        assert_int_equal(json_object_deep_copy(got, &copy, NULL), 0);
        copy_text = json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN);
        if (strcmp(text, ncases[i].text) != 0 || strcmp(copy_text, ncases[i].text) != 0) {
            fprintf(stderr, "[%s]: expected %s, got %s (copy %s)\n", ncases[i].expr,
                    ncases[i].text, text, copy_text);
            failures++;
        }
        /* The text reads back as exactly the computed double. */
        if (strtod(text, NULL) != json_object_get_double(got)) {
            fprintf(stderr, "[%s]: %s does not read back as %.17g\n", ncases[i].expr, text,
                    json_object_get_double(got));
            failures++;
        }
        if (strchr(ncases[i].text, '.') == NULL && strchr(ncases[i].text, 'e') == NULL &&
            fabs(json_object_get_double(got)) < 9007199254740992.0 &&
            !json_object_is_type(got, json_type_int)) {
            fprintf(stderr, "[%s]: a whole number should be an integer\n", ncases[i].expr);
            failures++;
        }
        json_object_put(copy);
        json_object_put(got);
    }
    assert_int_equal(failures, 0);
}

/* Nesting and length caps: hostile input gives an error, not a crash. */
static void test_limits(void **state)
{
    char deep[400], big[ACU_MAP_MAX_EXPR_LEN + 10];
    json_object *got = NULL;
    char why[512];
    size_t n = 0;

    (void)state;
    for (int i = 0; i < 100; i++)
        deep[n++] = '(';
    deep[n++] = '1';
    for (int i = 0; i < 100; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    assert_int_equal(acu_map_eval_text(set, deep, 0, settings, record, &got, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "nests more than 48 levels deep"));
    n = 0;
    for (int i = 0; i < 200; i++)
        deep[n++] = '-';
    deep[n++] = '1';
    deep[n] = '\0';
    assert_int_equal(acu_map_eval_text(set, deep, 0, settings, record, &got, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "nests more than"));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(acu_map_eval_text(set, big, 0, settings, record, &got, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "the limit is 8192"));
    /* 40 levels is fine */
    n = 0;
    for (int i = 0; i < 40; i++)
        deep[n++] = '(';
    deep[n++] = '7';
    for (int i = 0; i < 40; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    assert_int_equal(acu_map_eval_text(set, deep, 0, settings, record, &got, why, sizeof(why)), 0);
    assert_int_equal(json_object_get_int(got), 7);
    json_object_put(got);
}

/* Evaluate text against rec; expect an error containing needle. */
static void expect_eval_error(const char *text, int template_mode, json_object *rec,
                              const char *needle)
{
    json_object *got = NULL;
    char why[512];
    int rc = acu_map_eval_text(set, text, template_mode, settings, rec, &got, why, sizeof(why));

    if (rc == 0 || strstr(why, needle) == NULL)
        fprintf(stderr, "[%.60s...]: expected \"%s\", got %s\n", text, needle,
                rc == 0 ? "a value" : why);
    json_object_put(got);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(why, needle));
}

/* The parser's caps on numbers, parent hops, arguments and template parts. */
static void test_parser_caps(void **state)
{
    char text[1024];
    size_t n = 0;

    (void)state;
    memset(text, '7', 70);
    text[70] = '\0';
    expect_eval_error(text, 0, record, "column 1: the number is too long");
    n = 0;
    for (int i = 0; i < ACU_MAP_MAX_SCOPES + 1; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "parent.");
    snprintf(text + n, sizeof(text) - n, "x");
    expect_eval_error(text, 0, record, "too many 'parent.' hops");
    n = (size_t)snprintf(text, sizeof(text), "concat(");
    for (int i = 0; i <= ACU_MAP_MAX_ARGS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%d", i ? ", " : "", i);
    snprintf(text + n, sizeof(text) - n, ")");
    expect_eval_error(text, 0, record, "a function takes at most 32 arguments");
    /* 65 {...} parts, then 64 parts followed by a literal */
    n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "{i}");
    expect_eval_error(text, 1, record, "a template has at most 64 parts");
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "a{i}");
    expect_eval_error(text, 1, record, "a template has at most 64 parts");
    /* the parser is given lengths, so a NUL inside is seen */
    {
        acu_expr_error pe;
        assert_null(acu_map_expr_parse(&set->pool, "ab\0cd", 5, 0, &pe));
        assert_string_equal(pe.message, "the text contains a NUL character");
        assert_int_equal(pe.column, 3);
    }
    /* a format longer than 200 bytes */
    n = (size_t)snprintf(text, sizeof(text), "format_date(dt, '");
    memset(text + n, 'Y', 201);
    snprintf(text + n + 201, sizeof(text) - n - 201, "')");
    expect_eval_error(text, 0, record, "format_date(): the format must be text of at most 200 bytes");
}

/* Computed text is capped at 1 MB: every way of making a longer one gives
 * an error value (which rejects the record), not a huge allocation. */
static void test_text_caps(void **state)
{
    size_t half = ACU_MAP_MAX_VALUE_BYTES / 2 + 16;
    char *big = malloc(half + 1);
    json_object *rec = json_object_new_object(), *list = json_object_new_array();
    json_object *got = NULL;
    char why[512];

    (void)state;
    assert_non_null(big);
    memset(big, 'a', half);
    big[half] = '\0';
    json_object_object_add(rec, "big", json_object_new_string(big));
    json_object_array_add(list, json_object_new_string(big));
    json_object_array_add(list, json_object_new_string(big));
    json_object_object_add(rec, "bigs", list);
    free(big);
    expect_eval_error("big + big", 0, rec, "'+': the text would be too long");
    expect_eval_error("{big}{big}", 1, rec, "the template's text would be too long");
    expect_eval_error("concat(big, big)", 0, rec, "concat(): the result would be longer than 1048576 bytes");
    expect_eval_error("replace(big, 'a', 'aa')", 0, rec, "replace(): the result would be longer than 1048576 bytes");
    expect_eval_error("join(bigs, this)", 0, rec, "join(): the result would be longer than 1048576 bytes");
    /* one of them is fine */
    assert_int_equal(acu_map_eval_text(set, "length(big + 'x')", 0, settings, rec, &got, why,
                                       sizeof(why)), 0);
    assert_int_equal(json_object_get_int64(got), (int64_t)half + 1);
    json_object_put(got);
    json_object_put(rec);
}

/* Guards the binder makes unreachable from a mapping file, reached here
 * directly: a lazily evaluated function called through the common path,
 * and a lambda entered deeper than the record scopes go. */
static void test_evaluator_guards(void **state)
{
    acu_expr_error pe;
    acu_run run;
    acu_val v, args[2];
    acu_expr *e;

    (void)state;
    memset(&run, 0, sizeof(run));
    acu_map_pool_init(&run.pool, ACU_MAP_MAX_RUN_BYTES);
    run.set = set;
    for (int i = 0; i < ACU_MAP_MAX_SCOPES; i++)
        run.scopes[i] = record;

    e = acu_map_expr_parse(&set->pool, "lookup('t', 'a')", 16, 0, &pe);
    assert_non_null(e);
    args[0] = acu_map_v_str("t", 1);
    args[1] = acu_map_v_str("a", 1);
    v = acu_map_func_call(&run, e, args, 2);
    assert_int_equal(v.kind, ACU_V_ERR);
    assert_string_equal(v.u.s, "lookup() cannot be called here");

    e = acu_map_expr_parse(&set->pool, "count(lines)", 12, 0, &pe);
    assert_non_null(e);
    run.depth = 0;
    v = acu_map_expr_eval(&run, e);
    assert_int_equal(v.kind, ACU_V_NUM);
    assert_true(v.u.n == 3);
    run.depth = ACU_MAP_MAX_SCOPES - 1;
    v = acu_map_expr_eval(&run, e);
    assert_int_equal(v.kind, ACU_V_ERR);
    assert_string_equal(v.u.s, "count(): records nest too deeply");
    acu_map_pool_free(&run.pool);
}

/* Time-zone offsets as people write them. */
static void test_tz_parse(void **state)
{
    static const struct {
        const char *text;
        int minutes;
    } ok[] = {{"+02:00", 120}, {"-05:00", -300}, {"-0530", -330}, {"UTC", 0},
              {"Z", 0}, {"UTC-5", -300}, {"GMT+5:30", 330}, {"-5", -300},
              {"5.5", 330}, {"+05", 300}, {" -08:00 ", -480}};
    static const char *const bad[] = {"", "abc", "+25:00", "+05:60", "12345", "+5:3", "UTC+"};
    int m;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(acu_map_parse_tz_offset(ok[i].text, &m), 0);
        assert_int_equal(m, ok[i].minutes);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = 12345;
        if (acu_map_parse_tz_offset(bad[i], &m) == 0)
            fprintf(stderr, "accepted '%s' as %d\n", bad[i], m);
        assert_int_equal(acu_map_parse_tz_offset(bad[i], &m), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_number_text),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_parser_caps),
        cmocka_unit_test(test_text_caps),
        cmocka_unit_test(test_evaluator_guards),
        cmocka_unit_test(test_tz_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
