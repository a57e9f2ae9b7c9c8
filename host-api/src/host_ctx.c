/* host_ctx.c - the per-instance host context and the host services table. */
#include "host_ctx.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_error.h"

struct conn_host_ctx {
    char *subscription;
    host_state *state; /* borrowed */
    host_log_fn log;
    void *log_user;
    conn_log_level log_level;
    host_sinks sinks;
    int64_t (*clock)(void *user);
    void *clock_user;
    atomic_int stop;
    char counters[HOST_COUNTERS_MAX + 1]; /* normalised; "" when none */
};

conn_status host_ctx_new(const char *subscription, host_state *state, host_ctx **out,
                         conn_error *err)
{
    host_ctx *ctx;
    size_t n;

    *out = NULL;
    if (subscription == NULL)
        return host_err_set(err, CONN_INVALID, "no subscription name");
    n = strnlen(subscription, HOST_STATE_SUBSCRIPTION_MAX + 1);
    if (n == 0 || n > HOST_STATE_SUBSCRIPTION_MAX)
        return host_err_set(err, CONN_INVALID,
                            "a subscription name has 1 to %d characters",
                            HOST_STATE_SUBSCRIPTION_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)subscription[i] < 0x20 || subscription[i] == 0x7f)
            return host_err_set(err, CONN_INVALID,
                                "a subscription name cannot hold control characters");
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    ctx->subscription = strdup(subscription);
    if (ctx->subscription == NULL) {
        free(ctx);
        return host_err_set(err, CONN_NOMEM, "out of memory");
    }
    ctx->state = state;
    ctx->log = host_log_stderr;
    ctx->log_level = CONN_LOG_INFO;
    atomic_init(&ctx->stop, 0);
    *out = ctx;
    return CONN_OK;
}

void host_ctx_free(host_ctx *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->subscription);
    free(ctx);
}

const char *host_ctx_subscription(const host_ctx *ctx)
{
    return ctx != NULL ? ctx->subscription : NULL;
}

host_state *host_ctx_state(const host_ctx *ctx)
{
    return ctx != NULL ? ctx->state : NULL;
}

void host_ctx_set_log(host_ctx *ctx, host_log_fn fn, void *user, conn_log_level max_level)
{
    ctx->log = fn;
    ctx->log_user = user;
    ctx->log_level = max_level;
}

void host_ctx_set_sinks(host_ctx *ctx, const host_sinks *sinks)
{
    if (sinks != NULL)
        ctx->sinks = *sinks;
    else
        memset(&ctx->sinks, 0, sizeof(ctx->sinks));
}

void host_ctx_set_clock(host_ctx *ctx, int64_t (*clock)(void *user), void *user)
{
    ctx->clock = clock;
    ctx->clock_user = user;
}

const char *host_ctx_counters(const host_ctx *ctx)
{
    return ctx->counters[0] != '\0' ? ctx->counters : "{}";
}

void host_ctx_clear_counters(host_ctx *ctx)
{
    ctx->counters[0] = '\0';
}

int64_t host_counter(const char *counters, const char *name)
{
    json_object *o = counters != NULL ? json_tokener_parse(counters) : NULL;
    json_object *v;
    int64_t n = 0;

    if (o != NULL && json_object_object_get_ex(o, name, &v) &&
        json_object_is_type(v, json_type_int))
        n = json_object_get_int64(v);
    json_object_put(o);
    return n;
}

/* a += m, name by name (see host_counters_add). 0, or -1 out of memory. */
static int add_counters(json_object *a, json_object *m)
{
    json_object_object_foreach(m, key, val) {
        json_object *have;
        int64_t sum = json_object_get_int64(val);

        if (json_object_object_get_ex(a, key, &have)) {
            int64_t h = json_object_get_int64(have);

            sum = strncmp(key, "max_", 4) == 0 ? (h > sum ? h : sum)
                  : (sum > INT64_MAX - h ? INT64_MAX : h + sum);
        }
        if (json_object_object_add(a, key, json_object_new_int64(sum)) != 0)
            return -1;
    }
    return 0;
}

void host_counters_add(char *acc, size_t cap, const char *more)
{
    json_object *a = json_tokener_parse(acc[0] != '\0' ? acc : "{}");
    json_object *m = json_tokener_parse(more != NULL ? more : "{}");
    const char *text = NULL;

    if (a != NULL && m != NULL && json_object_is_type(a, json_type_object) &&
        json_object_is_type(m, json_type_object) && add_counters(a, m) == 0)
        text = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    if (text != NULL && strlen(text) < cap)
        memcpy(acc, text, strlen(text) + 1);
    json_object_put(a);
    json_object_put(m);
}

void host_ctx_request_stop(host_ctx *ctx)
{
    atomic_store(&ctx->stop, 1);
}

void host_ctx_clear_stop(host_ctx *ctx)
{
    atomic_store(&ctx->stop, 0);
}

static const char *level_name(conn_log_level level)
{
    switch (level) {
    case CONN_LOG_ERROR:
        return "error";
    case CONN_LOG_WARN:
        return "warning";
    case CONN_LOG_INFO:
        return "info";
    case CONN_LOG_DEBUG:
        return "debug";
    }
    return "log";
}

void host_log_stderr(void *user, const char *subscription, conn_log_level level,
                     const char *flow, const char *message)
{
    (void)user;
    if (flow != NULL)
        fprintf(stderr, "connector-host: %s: [%s] %s: %s\n", level_name(level), subscription,
                flow, message);
    else
        fprintf(stderr, "connector-host: %s: [%s] %s\n", level_name(level), subscription,
                message);
}

/* Copy untrusted text into buf, bounded, with control characters (a plugin
 * could otherwise forge log lines) shown as '?'. */
static void clean_text(char *buf, size_t cap, const char *text)
{
    static const char cut[] = "... (cut)";
    size_t i = 0;

    if (text == NULL)
        text = "";
    for (; text[i] != '\0' && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)text[i];

        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[i] = '\0';
    if (text[i] != '\0' && cap > sizeof(cut))
        memcpy(buf + cap - sizeof(cut), cut, sizeof(cut));
}

static void svc_log(conn_host_ctx *ctx, conn_log_level level, const char *flow,
                    const char *message)
{
    char msg[HOST_LOG_MESSAGE_MAX + 1];
    char fl[64];

    if (ctx == NULL || ctx->log == NULL || level > ctx->log_level)
        return;
    clean_text(msg, sizeof(msg), message);
    if (flow != NULL)
        clean_text(fl, sizeof(fl), flow);
    ctx->log(ctx->log_user, ctx->subscription, level, flow != NULL ? fl : NULL, msg);
}

static conn_status no_state(conn_error *err)
{
    return host_err_set(err, CONN_INTERNAL, "this command keeps no host state");
}

static conn_status svc_state_get(conn_host_ctx *ctx, const char *key, char *buf, size_t cap,
                                 size_t *len, conn_error *err)
{
    if (ctx == NULL || ctx->state == NULL)
        return no_state(err);
    return host_state_get(ctx->state, ctx->subscription, key, buf, cap, len, err);
}

static conn_status svc_state_put(conn_host_ctx *ctx, const char *key, const char *value,
                                 size_t len, unsigned flags, conn_error *err)
{
    if (ctx == NULL || ctx->state == NULL)
        return no_state(err);
    return host_state_put(ctx->state, ctx->subscription, key, value, len, flags, err);
}

static conn_status svc_state_cas(conn_host_ctx *ctx, const char *key, const char *expected,
                                 size_t expected_len, const char *value, size_t len,
                                 unsigned flags, int *swapped, conn_error *err)
{
    if (ctx == NULL || ctx->state == NULL) {
        if (swapped != NULL)
            *swapped = 0;
        return no_state(err);
    }
    return host_state_cas(ctx->state, ctx->subscription, key, expected, expected_len, value,
                          len, flags, swapped, err);
}

static conn_status svc_emit(conn_host_ctx *ctx, const char *flow, const char *record_type,
                            const char *id, const char *json, size_t len)
{
    if (ctx == NULL || ctx->sinks.emit == NULL)
        return CONN_UNSUPPORTED;
    return ctx->sinks.emit(ctx->sinks.user, flow, record_type, id, json, len);
}

static conn_status svc_checkpoint(conn_host_ctx *ctx, const char *flow, const char *cursor,
                                  size_t len)
{
    if (ctx == NULL || ctx->sinks.checkpoint == NULL)
        return CONN_UNSUPPORTED;
    return ctx->sinks.checkpoint(ctx->sinks.user, flow, cursor, len);
}

static void svc_report(conn_host_ctx *ctx, size_t index, conn_outcome outcome,
                       const char *result, size_t len)
{
    if (ctx == NULL || ctx->sinks.report == NULL)
        return;
    ctx->sinks.report(ctx->sinks.user, index, outcome, result, len);
}

static int svc_should_stop(conn_host_ctx *ctx)
{
    return ctx != NULL && atomic_load(&ctx->stop) != 0;
}

static int64_t svc_now_ms(conn_host_ctx *ctx)
{
    struct timespec ts;

    if (ctx != NULL && ctx->clock != NULL)
        return ctx->clock(ctx->clock_user);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A counter name: 1 to 32 of [a-z0-9_]. */
static int counter_name_ok(const char *s)
{
    size_t i = 0;

    for (; s[i] != '\0'; i++)
        if (i >= 32 || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
                         s[i] == '_'))
            return 0;
    return i > 0;
}

/* Keep the totals when they are one JSON object of non-negative integers
 * with plain names, at most HOST_COUNTERS_MAX bytes; ignore them otherwise
 * (they are for display: a bad one must not end the call). */
static void svc_progress(conn_host_ctx *ctx, const char *flow, const char *json, size_t len)
{
    json_tokener *tok;
    json_object *o = NULL;
    const char *text;
    int ok = 1;

    if (ctx == NULL || json == NULL || len == 0 || len > HOST_COUNTERS_MAX)
        return;
    tok = json_tokener_new_ex(4);
    if (tok == NULL)
        return;
    o = json_tokener_parse_ex(tok, json, (int)len);
    if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))
        ok = 0;
    json_tokener_free(tok);
    if (ok) {
        json_object_object_foreach(o, key, val) {
            if (!counter_name_ok(key) || !json_object_is_type(val, json_type_int) ||
                json_object_get_int64(val) < 0) {
                ok = 0;
                break;
            }
        }
    }
    text = ok ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
    if (text != NULL && strlen(text) <= HOST_COUNTERS_MAX) {
        memcpy(ctx->counters, text, strlen(text) + 1);
        if (ctx->sinks.progress != NULL)
            ctx->sinks.progress(ctx->sinks.user, flow, ctx->counters);
    }
    json_object_put(o);
}

static const conn_host_api services = {
    .abi_major = CONN_ABI_MAJOR,
    .abi_minor = CONN_ABI_MINOR,
    .struct_size = sizeof(conn_host_api),
    .log = svc_log,
    .state_get = svc_state_get,
    .state_put = svc_state_put,
    .state_cas = svc_state_cas,
    .emit = svc_emit,
    .checkpoint = svc_checkpoint,
    .report = svc_report,
    .should_stop = svc_should_stop,
    .now_ms = svc_now_ms,
    .alloc = NULL,
    .free = NULL,
    .progress = svc_progress,
};

const conn_host_api *host_services(void)
{
    return &services;
}
