/* test_host_ctx.c - the host services table bound to a context: state
 * namespaced by the context's subscription, the sinks, should_stop, the
 * clock, log cleaning; and the status -> exit code mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_buf.h"
#include "host_ctx.h"
#include "host_exit.h"
#include "host_test_util.h"

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(host_exit_from_status(CONN_OK), 0);
    assert_int_equal(host_exit_from_status(CONN_INVALID), 3);
    assert_int_equal(host_exit_from_status(CONN_AUTH), 4);
    assert_int_equal(host_exit_from_status(CONN_RETRY), 5);
    assert_int_equal(host_exit_from_status(CONN_CANCELLED), 5);
    assert_int_equal(host_exit_from_status(CONN_REJECTED), 1);
    assert_int_equal(host_exit_from_status(CONN_NOMEM), 1);
    assert_int_equal(host_exit_from_status(CONN_UNSUPPORTED), 1);
    assert_int_equal(host_exit_from_status(CONN_INTERNAL), 1);
    assert_int_equal(host_exit_from_status(CONN_NOT_FOUND), 1);
    assert_int_equal(host_exit_from_status((conn_status)77), 1);
    assert_int_equal(HOST_EXIT_USAGE, 2);
    assert_string_equal(host_status_name(CONN_RETRY), "RETRY");
    assert_string_equal(host_status_name((conn_status)77), "UNKNOWN");
}

static void test_services_table(void **state)
{
    const conn_host_api *api = host_services();

    (void)state;
    assert_int_equal(api->abi_major, CONN_ABI_MAJOR);
    assert_int_equal(api->abi_minor, CONN_ABI_MINOR);
    assert_int_equal(api->struct_size, sizeof(conn_host_api));
    assert_true(CONN_HOST_HAS(api, log) && CONN_HOST_HAS(api, state_get) &&
                CONN_HOST_HAS(api, state_put) && CONN_HOST_HAS(api, state_cas) &&
                CONN_HOST_HAS(api, emit) && CONN_HOST_HAS(api, checkpoint) &&
                CONN_HOST_HAS(api, report) && CONN_HOST_HAS(api, should_stop) &&
                CONN_HOST_HAS(api, now_ms));
    /* 1.1: the plugin's running totals. */
    assert_true(CONN_HOST_HAS(api, progress));
    /* Both or neither: this host offers no allocator. */
    assert_false(CONN_HOST_HAS(api, alloc));
    assert_false(CONN_HOST_HAS(api, free));
}

static void test_state_through_ctx(void **state)
{
    const conn_host_api *api = host_services();
    char *dir = host_test_tmpdir("ctx");
    char db[PATH_MAX], buf[32];
    host_state *st = NULL;
    host_ctx *a = NULL, *b = NULL, *none = NULL;
    size_t len = 0;
    int swapped = 0;
    conn_error err;

    (void)state;
    assert_non_null(dir);
    snprintf(db, sizeof(db), "%s/state.db", dir);
    assert_int_equal(host_state_new(db, &st, &err), CONN_OK);
    assert_int_equal(host_ctx_new("acme", st, &a, &err), CONN_OK);
    assert_int_equal(host_ctx_new("globex", st, &b, &err), CONN_OK);
    assert_string_equal(host_ctx_subscription(a), "acme");
    assert_int_equal(api->state_put(a, "cursor", "A1", 2, 0, &err), CONN_OK);
    assert_int_equal(api->state_get(b, "cursor", buf, sizeof(buf), &len, &err), CONN_NOT_FOUND);
    assert_int_equal(api->state_cas(b, "cursor", NULL, 0, "B1", 2, 0, &swapped, &err), CONN_OK);
    assert_int_equal(swapped, 1);
    assert_int_equal(api->state_get(a, "cursor", buf, sizeof(buf), &len, &err), CONN_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "A1", 2);
    /* The same row seen directly under the subscription's namespace. */
    assert_int_equal(host_state_get(st, "globex", "cursor", buf, sizeof(buf), &len, &err),
                     CONN_OK);
    assert_memory_equal(buf, "B1", 2);
    /* A context without state answers with a sentence, not a crash. */
    assert_int_equal(host_ctx_new("nostate", NULL, &none, &err), CONN_OK);
    assert_int_equal(api->state_get(none, "cursor", buf, sizeof(buf), &len, &err),
                     CONN_INTERNAL);
    assert_non_null(strstr(err.message, "no host state"));
    swapped = 7;
    assert_int_equal(api->state_cas(none, "k", NULL, 0, "v", 1, 0, &swapped, &err),
                     CONN_INTERNAL);
    assert_int_equal(swapped, 0);
    host_ctx_free(none);
    host_ctx_free(a);
    host_ctx_free(b);
    host_state_free(st);
    host_test_rmtree(dir);
    free(dir);
}

static void test_subscription_names(void **state)
{
    char long_name[HOST_STATE_SUBSCRIPTION_MAX + 2];
    host_ctx *ctx = NULL;
    conn_error err;

    (void)state;
    memset(long_name, 's', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(host_ctx_new(long_name, NULL, &ctx, &err), CONN_INVALID);
    assert_int_equal(host_ctx_new("", NULL, &ctx, &err), CONN_INVALID);
    assert_int_equal(host_ctx_new("bad\nname", NULL, &ctx, &err), CONN_INVALID);
    assert_null(ctx);
    long_name[HOST_STATE_SUBSCRIPTION_MAX] = '\0';
    assert_int_equal(host_ctx_new(long_name, NULL, &ctx, &err), CONN_OK);
    host_ctx_free(ctx);
}

struct seen {
    int emits, checkpoints, reports;
    char last[64];
    host_buf log;
};

static conn_status on_emit(void *user, const char *flow, const char *type, const char *id,
                           const char *json, size_t len)
{
    struct seen *s = user;

    s->emits++;
    snprintf(s->last, sizeof(s->last), "%s/%s/%s/%.*s", flow, type, id, (int)len, json);
    return s->emits > 2 ? CONN_RETRY : CONN_OK;
}

static conn_status on_checkpoint(void *user, const char *flow, const char *cursor, size_t len)
{
    struct seen *s = user;

    s->checkpoints++;
    snprintf(s->last, sizeof(s->last), "%s@%.*s", flow, (int)len, cursor);
    return CONN_OK;
}

static void on_report(void *user, size_t index, conn_outcome outcome, const char *result,
                      size_t len)
{
    struct seen *s = user;

    (void)result, (void)len;
    s->reports++;
    snprintf(s->last, sizeof(s->last), "%zu:%d", index, (int)outcome);
}

static void on_log(void *user, const char *subscription, conn_log_level level, const char *flow,
                   const char *message)
{
    struct seen *s = user;
    char line[8192];

    snprintf(line, sizeof(line), "%d|%s|%s|%s\n", (int)level, subscription,
             flow != NULL ? flow : "-", message);
    host_buf_append(&s->log, line, strlen(line));
}

static int64_t fixed_clock(void *user)
{
    return *(int64_t *)user;
}

static void test_sinks_stop_clock_log(void **state)
{
    const conn_host_api *api = host_services();
    struct seen s;
    host_sinks sinks = {.emit = on_emit, .checkpoint = on_checkpoint, .report = on_report,
                        .user = &s};
    host_ctx *ctx = NULL;
    conn_error err;
    int64_t t = 1700000000123;
    char huge[HOST_LOG_MESSAGE_MAX + 100];

    (void)state;
    memset(&s, 0, sizeof(s));
    host_buf_init(&s.log, 1u << 20);
    assert_int_equal(host_ctx_new("acme", NULL, &ctx, &err), CONN_OK);
    /* No sinks: emit and checkpoint refuse, report is dropped. */
    assert_int_equal(api->emit(ctx, "customers", "customer", "C1", "{}", 2), CONN_UNSUPPORTED);
    assert_int_equal(api->checkpoint(ctx, "customers", "c", 1), CONN_UNSUPPORTED);
    api->report(ctx, 0, CONN_OUT_CREATED, NULL, 0);
    host_ctx_set_sinks(ctx, &sinks);
    assert_int_equal(api->emit(ctx, "customers", "customer", "C1", "{\"a\":1}", 7), CONN_OK);
    assert_string_equal(s.last, "customers/customer/C1/{\"a\":1}");
    assert_int_equal(api->emit(ctx, "customers", "customer", "C2", "{}", 2), CONN_OK);
    /* The sink's refusal reaches the plugin. */
    assert_int_equal(api->emit(ctx, "customers", "customer", "C3", "{}", 2), CONN_RETRY);
    assert_int_equal(api->checkpoint(ctx, "customers", "2024-01-01", 10), CONN_OK);
    assert_string_equal(s.last, "customers@2024-01-01");
    api->report(ctx, 4, CONN_OUT_REJECTED, NULL, 0);
    assert_string_equal(s.last, "4:4");
    assert_int_equal(s.emits, 3);
    assert_int_equal(s.reports, 1);
    host_ctx_set_sinks(ctx, NULL);
    assert_int_equal(api->emit(ctx, "customers", "customer", "C4", "{}", 2), CONN_UNSUPPORTED);

    /* should_stop */
    assert_int_equal(api->should_stop(ctx), 0);
    host_ctx_request_stop(ctx);
    assert_int_equal(api->should_stop(ctx), 1);
    host_ctx_clear_stop(ctx);
    assert_int_equal(api->should_stop(ctx), 0);

    /* now_ms: the wall clock, or the one a test sets. */
    assert_true(api->now_ms(ctx) > 1600000000000);
    host_ctx_set_clock(ctx, fixed_clock, &t);
    assert_int_equal(api->now_ms(ctx), 1700000000123);
    host_ctx_set_clock(ctx, NULL, NULL);
    assert_true(api->now_ms(ctx) > 1600000000000);

    /* log: level filter, control characters cleaned, long lines cut. */
    host_ctx_set_log(ctx, on_log, &s, CONN_LOG_INFO);
    api->log(ctx, CONN_LOG_DEBUG, NULL, "hidden");
    api->log(ctx, CONN_LOG_WARN, "orders", "two\nlines\x1b[31m");
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    api->log(ctx, CONN_LOG_ERROR, NULL, huge);
    assert_non_null(s.log.data);
    assert_null(strstr(s.log.data, "hidden"));
    assert_non_null(strstr(s.log.data, "1|acme|orders|two?lines?[31m\n"));
    assert_non_null(strstr(s.log.data, "... (cut)\n"));
    assert_true(s.log.len < HOST_LOG_MESSAGE_MAX + 200);
    host_buf_free(&s.log);
    host_ctx_free(ctx);
}

struct progress_seen {
    int calls;
    char flow[32];
    char last[HOST_COUNTERS_MAX + 1];
};

static void on_progress(void *user, const char *flow, const char *counters)
{
    struct progress_seen *p = user;

    p->calls++;
    snprintf(p->flow, sizeof(p->flow), "%s", flow != NULL ? flow : "-");
    snprintf(p->last, sizeof(p->last), "%s", counters);
}

static void send_progress(const conn_host_api *api, host_ctx *ctx, const char *json)
{
    api->progress(ctx, "orders", json, strlen(json));
}

/* progress (ABI 1.1): a counters object is kept and handed to the sink;
 * anything else is ignored, and totals add up over calls. */
static void test_progress_counters(void **state)
{
    const conn_host_api *api = host_services();
    struct progress_seen p;
    host_sinks sinks = {.progress = on_progress, .user = &p};
    host_ctx *ctx = NULL;
    conn_error err;
    char big[HOST_COUNTERS_MAX + 64], acc[256] = "";
    size_t n;

    (void)state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(host_ctx_new("acme", NULL, &ctx, &err), CONN_OK);
    assert_string_equal(host_ctx_counters(ctx), "{}");
    /* Without a sink the totals are still kept. */
    send_progress(api, ctx, "{\"pages\":1,\"requests\":2}");
    assert_string_equal(host_ctx_counters(ctx), "{\"pages\":1,\"requests\":2}");
    host_ctx_set_sinks(ctx, &sinks);
    send_progress(api, ctx, "{ \"pages\": 3, \"throttle_wait_ms\": 1500 }");
    assert_int_equal(p.calls, 1);
    assert_string_equal(p.flow, "orders");
    assert_string_equal(p.last, "{\"pages\":3,\"throttle_wait_ms\":1500}");
    assert_int_equal(host_counter(host_ctx_counters(ctx), "throttle_wait_ms"), 1500);
    assert_int_equal(host_counter(host_ctx_counters(ctx), "nothing"), 0);
    /* Refused, the last good totals stay: not an object, a negative or
     * non-integer value, a strange name, trailing text, too long, NULL. */
    send_progress(api, ctx, "[1,2]");
    send_progress(api, ctx, "{\"pages\":-1}");
    send_progress(api, ctx, "{\"pages\":1.5}");
    send_progress(api, ctx, "{\"pages\":\"7\"}");
    send_progress(api, ctx, "{\"Pages\":7}");
    send_progress(api, ctx, "{\"pa ges\":7}");
    send_progress(api, ctx, "{\"pages\":7} x");
    send_progress(api, ctx, "{\"pages\":7");
    n = (size_t)snprintf(big, sizeof(big), "{\"pages\":7,\"x\":\"");
    memset(big + n, 'a', sizeof(big) - n - 3);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    send_progress(api, ctx, big);
    api->progress(ctx, "orders", NULL, 3);
    api->progress(ctx, "orders", "{}", 0);
    assert_int_equal(p.calls, 1);
    assert_string_equal(host_ctx_counters(ctx), "{\"pages\":3,\"throttle_wait_ms\":1500}");
    host_ctx_clear_counters(ctx);
    assert_string_equal(host_ctx_counters(ctx), "{}");
    host_ctx_free(ctx);

    /* Totals over several calls; max_ names keep the larger value. */
    host_counters_add(acc, sizeof(acc), "{\"requests\":3,\"max_in_flight\":4}");
    host_counters_add(acc, sizeof(acc), "{\"requests\":5,\"max_in_flight\":2,\"retries\":1}");
    assert_int_equal(host_counter(acc, "requests"), 8);
    assert_int_equal(host_counter(acc, "max_in_flight"), 4);
    assert_int_equal(host_counter(acc, "retries"), 1);
    /* Not an object: left alone. */
    host_counters_add(acc, sizeof(acc), "[1]");
    assert_int_equal(host_counter(acc, "requests"), 8);
}

static void test_buf_cap(void **state)
{
    host_buf b;

    (void)state;
    host_buf_init(&b, 10);
    assert_int_equal(host_buf_write(&b, "12345", 5), 0);
    assert_int_equal(host_buf_write(&b, "67890", 5), 0);
    assert_int_equal(host_buf_write(&b, "x", 1), -1);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "1234567890");
    host_buf_free(&b);
    assert_null(b.data);
    host_buf_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_services_table),
        cmocka_unit_test(test_state_through_ctx),
        cmocka_unit_test(test_subscription_names),
        cmocka_unit_test(test_sinks_stop_clock_log),
        cmocka_unit_test(test_progress_counters),
        cmocka_unit_test(test_buf_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
