/* synth.c - a synthetic connector plugin for the reference host's tests.
 *
 * Built several times with different versions (SYNTH_VERSION) as
 * acumatica-<version>.so, it behaves per the ABI without any network:
 *
 * pull: a dataset of `total` records r000000, r000001, ... of which the
 *   first min(total, (now - t0_ms) * rate_per_s / 1000) exist (all when
 *   rate_per_s is 0). Records are emitted in pages of `page` from the
 *   request's cursor ("idx:<next>"), each page followed by a checkpoint;
 *   should_stop is polled between pages and while `page_delay_ms` passes.
 *   Each record names the version that emitted it ("emitted_by").
 * push: records {"id": ..., "do": "ok|dup|skip|reject|fail|fail_times",
 *   "times": n}; "ok" appends "<id> <version>\n" to `sink_file` and reports
 *   created; fail_times fails the first n attempts (counted in host state).
 *   `push_delay_ms` passes per record, polling should_stop.
 *
 * Faults for tests (settings): fail_once_at (RETRY once when reaching that
 * record), exit_at (the process _exits when reaching that record, once),
 * no_checkpoint, emit_bad ("flow", "id"), report_bug ("skip_first",
 * "double_first"), init_fail. Built with SYNTH_INIT_FAILS, init always
 * fails (a version that cannot start).
 */
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn_abi.h"

#ifndef SYNTH_VERSION
#error "SYNTH_VERSION must be defined by the build"
#endif

#define EXPORT __attribute__((visibility("default")))

struct conn_instance {
    const conn_host_api *host;
    conn_host_ctx *ctx;
    long total, page, page_delay_ms, push_delay_ms, fail_once_at, exit_at;
    long long t0_ms;
    double rate_per_s;
    int no_checkpoint;
    atomic_int in_call; /* calls running in this instance (must stay <= 1) */
    char emit_bad[16];
    char report_bug[32];
    char sink_file[1024];
};

static const char *p_name(void)
{
    return "synth";
}

static const char *p_version(void)
{
    return SYNTH_VERSION;
}

static const char *p_build_info(void)
{
    return "synth test plugin " SYNTH_VERSION;
}

static conn_status fail(conn_error *err, conn_status st, const char *msg)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
        err->status = st;
        err->retry_after_ms = -1;
        snprintf(err->message, sizeof(err->message), "%s", msg);
    }
    return st;
}

static conn_status p_describe(conn_write_fn out, void *user, conn_error *err)
{
    static const char doc[] =
        "{\"name\":\"synth\",\"version\":\"" SYNTH_VERSION "\",\"settings\":{},"
        "\"flows\":[{\"name\":\"items\",\"directions\":[\"to_host\"],\"record_type\":\"item\","
        "\"implemented\":true},{\"name\":\"orders\",\"directions\":[\"from_host\"],"
        "\"record_type\":\"order\",\"implemented\":true}],\"capabilities\":[]}";

    if (out(user, doc, sizeof(doc) - 1) != 0)
        return fail(err, CONN_NOMEM, "describe: the host refused the output");
    return CONN_OK;
}

static long get_long(json_object *o, const char *k, long def)
{
    json_object *v;

    return json_object_object_get_ex(o, k, &v) ? (long)json_object_get_int64(v) : def;
}

static void get_str(json_object *o, const char *k, char *buf, size_t cap)
{
    json_object *v;

    buf[0] = '\0';
    if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
        snprintf(buf, cap, "%s", json_object_get_string(v));
}

static conn_status p_init(const conn_host_api *host, conn_host_ctx *ctx, const char *settings,
                          size_t len, conn_instance **out, conn_error *err)
{
    *out = NULL;
#ifdef SYNTH_INIT_FAILS
    (void)host;
    (void)ctx;
    (void)settings;
    (void)len;
    return fail(err, CONN_INVALID, "synth " SYNTH_VERSION " is built to refuse every init");
#else
    json_object *s = json_tokener_parse(settings), *v;
    conn_instance *in;

    (void)len;
    if (!json_object_is_type(s, json_type_object)) {
        json_object_put(s);
        return fail(err, CONN_INVALID, "the settings are not a JSON object");
    }
    if (json_object_object_get_ex(s, "init_fail", &v) && json_object_get_boolean(v)) {
        json_object_put(s);
        return fail(err, CONN_INVALID, "init_fail: this instance refuses to start");
    }
    in = calloc(1, sizeof(*in));
    if (in == NULL) {
        json_object_put(s);
        return fail(err, CONN_NOMEM, "out of memory");
    }
    in->host = host;
    in->ctx = ctx;
    in->total = get_long(s, "total", 100);
    in->page = get_long(s, "page", 10);
    if (in->page < 1)
        in->page = 1;
    in->page_delay_ms = get_long(s, "page_delay_ms", 0);
    in->push_delay_ms = get_long(s, "push_delay_ms", 0);
    in->fail_once_at = get_long(s, "fail_once_at", -1);
    in->exit_at = get_long(s, "exit_at", -1);
    in->t0_ms = json_object_object_get_ex(s, "t0_ms", &v) ? json_object_get_int64(v) : 0;
    in->rate_per_s =
        json_object_object_get_ex(s, "rate_per_s", &v) ? json_object_get_double(v) : 0;
    in->no_checkpoint =
        json_object_object_get_ex(s, "no_checkpoint", &v) && json_object_get_boolean(v);
    get_str(s, "emit_bad", in->emit_bad, sizeof(in->emit_bad));
    get_str(s, "report_bug", in->report_bug, sizeof(in->report_bug));
    get_str(s, "sink_file", in->sink_file, sizeof(in->sink_file));
    json_object_put(s);
    *out = in;
    return CONN_OK;
#endif
}

static conn_status p_authenticate(conn_instance *in, const char *request, size_t len,
                                  conn_write_fn out, void *user, conn_error *err)
{
    (void)in;
    (void)request;
    (void)len;
    if (out(user, "{\"checks\":[]}", 13) != 0)
        return fail(err, CONN_NOMEM, "out of memory");
    return CONN_OK;
}

/* Sleep ms in 5 ms slices; 1 when the host asked to stop meanwhile. */
static int nap(conn_instance *in, long ms)
{
    for (long done = 0; done < ms; done += 5) {
        struct timespec ts = {0, 5 * 1000000L};

        if (in->host->should_stop(in->ctx))
            return 1;
        nanosleep(&ts, NULL);
    }
    return in->host->should_stop(in->ctx) != 0;
}

static long available(conn_instance *in)
{
    long long now, n;

    if (in->rate_per_s <= 0)
        return in->total;
    now = in->host->now_ms(in->ctx);
    n = (long long)((double)(now - in->t0_ms) * in->rate_per_s / 1000.0);
    if (n < 0)
        n = 0;
    return n < in->total ? (long)n : in->total;
}

/* A state flag that is set once: 1 the first time, 0 afterwards. */
static int first_time(conn_instance *in, const char *key)
{
    char buf[4];
    size_t len = 0;
    conn_error e;

    if (in->host->state_get(in->ctx, key, buf, sizeof(buf), &len, &e) == CONN_OK)
        return 0;
    in->host->state_put(in->ctx, key, "1", 1, 0, &e);
    return 1;
}

static conn_status emit_one(conn_instance *in, const char *flow, long i)
{
    char id[32], rec[256];
    int n;

    snprintf(id, sizeof(id), "r%06ld", i);
    n = snprintf(rec, sizeof(rec),
                 "{\"n\":%ld,\"id\":\"%s\",\"name\":\"Record %ld\",\"emitted_by\":\"%s\"}", i, id,
                 i, SYNTH_VERSION);
    if (strcmp(in->emit_bad, "flow") == 0)
        flow = "not-this-flow";
    if (strcmp(in->emit_bad, "id") == 0)
        id[0] = '\0';
    return in->host->emit(in->ctx, flow, "item", id, rec, (size_t)n);
}

static conn_status pull_body(conn_instance *in, const char *request, size_t len,
                             conn_error *err)
{
    json_object *req = json_tokener_parse(request), *v;
    char flow[64], cursor[64], totals[200];
    long start = 0, avail;
    int full = 0;
    conn_status st = CONN_OK;

    (void)len;
    if (!json_object_is_type(req, json_type_object)) {
        json_object_put(req);
        return fail(err, CONN_INVALID, "the pull request is not a JSON object");
    }
    get_str(req, "flow", flow, sizeof(flow));
    full = json_object_object_get_ex(req, "full", &v) && json_object_get_boolean(v);
    if (json_object_object_get_ex(req, "ids", &v) && json_object_is_type(v, json_type_array)) {
        for (size_t k = 0; k < json_object_array_length(v) && st == CONN_OK; k++) {
            const char *id = json_object_get_string(json_object_array_get_idx(v, k));
            long i = id != NULL && id[0] == 'r' ? strtol(id + 1, NULL, 10) : -1;

            if (i >= 0 && i < in->total)
                st = emit_one(in, flow, i);
        }
        json_object_put(req);
        if (st != CONN_OK)
            return fail(err, st, "the host refused a record");
        return CONN_OK;
    }
    if (!full && json_object_object_get_ex(req, "cursor", &v) &&
        json_object_is_type(v, json_type_string)) {
        const char *c = json_object_get_string(v);

        if (strncmp(c, "idx:", 4) != 0) {
            json_object_put(req);
            return fail(err, CONN_INVALID, "the cursor is not one of mine");
        }
        start = strtol(c + 4, NULL, 10);
    }
    json_object_put(req);
    avail = available(in);
    in->host->log(in->ctx, CONN_LOG_DEBUG, flow, "synth pull");
    for (long i = start, pages = 0; i < avail;) {
        long end = i + in->page < avail ? i + in->page : avail;

        if (nap(in, in->page_delay_ms))
            return fail(err, CONN_CANCELLED, "stopped at a page boundary");
        for (; i < end; i++) {
            if (i == in->fail_once_at && first_time(in, "synth.failed_once"))
                return fail(err, CONN_RETRY, "synthetic transient failure (fail_once_at)");
            if (i == in->exit_at && first_time(in, "synth.exited_once"))
                _exit(99);
            st = emit_one(in, flow, i);
            if (st != CONN_OK)
                return fail(err, st, "the host refused a record");
        }
        if (!in->no_checkpoint) {
            int n = snprintf(cursor, sizeof(cursor), "idx:%ld", i);

            st = in->host->checkpoint(in->ctx, flow, cursor, (size_t)n);
            if (st != CONN_OK)
                return fail(err, st, "the host refused the checkpoint");
        }
        pages++;
        if (CONN_HOST_HAS(in->host, progress)) {
            /* Running totals as the real plugin sends them (ABI 1.1): one
             * request and, for the test, one throttle wait of 250 ms per page. */
            int n = snprintf(totals, sizeof(totals),
                             "{\"pages\":%ld,\"records\":%ld,\"requests\":%ld,"
                             "\"throttle_waits\":%ld,\"throttle_wait_ms\":%ld}",
                             pages, i - start, pages, pages, pages * 250);

            in->host->progress(in->ctx, flow, totals, (size_t)n);
        }
    }
    return CONN_OK;
}

static void report(conn_instance *in, size_t i, conn_outcome o, const char *result)
{
    in->host->report(in->ctx, i, o, result, result != NULL ? strlen(result) : 0);
}

static conn_status push_body(conn_instance *in, const char *flow, const conn_buf *records,
                             size_t count, conn_error *err)
{
    int stopped = 0;

    (void)flow;
    for (size_t i = 0; i < count; i++) {
        json_object *rec = NULL;
        char id[128], what[32], key[200], buf[32], result[512];
        size_t len = 0;
        long times, attempts = 0;
        conn_error e;
        json_tokener *tok;

        if (!stopped && nap(in, in->push_delay_ms))
            stopped = 1;
        if (stopped) {
            report(in, i, CONN_OUT_CANCELLED, NULL);
            continue;
        }
        if (i == 0 && strcmp(in->report_bug, "skip_first") == 0)
            continue;
        tok = json_tokener_new();
        rec = json_tokener_parse_ex(tok, records[i].data, (int)records[i].len);
        json_tokener_free(tok);
        get_str(rec, "id", id, sizeof(id));
        get_str(rec, "do", what, sizeof(what));
        times = get_long(rec, "times", 0);
        json_object_put(rec);
        if (strcmp(what, "fail_times") == 0) {
            snprintf(key, sizeof(key), "synth.attempts.%s", id);
            if (in->host->state_get(in->ctx, key, buf, sizeof(buf) - 1, &len, &e) == CONN_OK &&
                len < sizeof(buf)) {
                buf[len] = '\0';
                attempts = strtol(buf, NULL, 10);
            }
            snprintf(buf, sizeof(buf), "%ld", attempts + 1);
            in->host->state_put(in->ctx, key, buf, strlen(buf), 0, &e);
            strcpy(what, attempts < times ? "fail" : "ok");
        }
        if (strcmp(what, "reject") == 0) {
            snprintf(result, sizeof(result),
                     "{\"message\":\"Inventory ID 'NOPE-%s' was not found.\","
                     "\"field\":\"Details/0/InventoryID\"}",
                     id);
            report(in, i, CONN_OUT_REJECTED, result);
        } else if (strcmp(what, "fail") == 0) {
            report(in, i, CONN_OUT_FAILED, "{\"message\":\"synthetic 503\"}");
        } else if (strcmp(what, "dup") == 0) {
            report(in, i, CONN_OUT_DUPLICATE, "{\"OrderNbr\":\"SO000001\"}");
        } else if (strcmp(what, "skip") == 0) {
            report(in, i, CONN_OUT_SKIPPED, NULL);
        } else {
            if (in->sink_file[0] != '\0') {
                FILE *f = fopen(in->sink_file, "a");

                if (f != NULL) {
                    fprintf(f, "%s %s\n", id, SYNTH_VERSION);
                    fclose(f);
                }
            }
            snprintf(result, sizeof(result), "{\"id\":\"%s\",\"by\":\"%s\"}", id,
                     SYNTH_VERSION);
            report(in, i, CONN_OUT_CREATED, result);
            if (i == 0 && strcmp(in->report_bug, "double_first") == 0)
                report(in, i, CONN_OUT_CREATED, result);
        }
    }
    if (stopped)
        return fail(err, CONN_CANCELLED, "stopped between records");
    return CONN_OK;
}

static void p_shutdown(conn_instance *in)
{
    free(in);
}

static int p_can_unload(void)
{
    return 1;
}

/* The ABI's rule - the host never calls one instance from two threads at
 * once - checked: a call that finds another one running says so in the
 * host log, which the runtime tests read. */
static void enter(conn_instance *in, const char *violation)
{
    if (atomic_fetch_add(&in->in_call, 1) != 0)
        in->host->log(in->ctx, CONN_LOG_ERROR, NULL, violation);
}

static conn_status p_pull(conn_instance *in, const char *request, size_t len, conn_error *err)
{
    conn_status st;

    enter(in, "SYNTH ABI VIOLATION: pull entered while another call runs");
    st = pull_body(in, request, len, err);
    atomic_fetch_sub(&in->in_call, 1);
    return st;
}

static conn_status p_push(conn_instance *in, const char *flow, const conn_buf *records,
                          size_t count, conn_error *err)
{
    conn_status st;

    enter(in, "SYNTH ABI VIOLATION: push entered while another call runs");
    st = push_body(in, flow, records, count, err);
    atomic_fetch_sub(&in->in_call, 1);
    return st;
}

static const conn_plugin_api api = {
    .abi_major = CONN_ABI_MAJOR,
    .abi_minor = CONN_ABI_MINOR,
    .struct_size = sizeof(conn_plugin_api),
    .name = p_name,
    .version = p_version,
    .build_info = p_build_info,
    .describe = p_describe,
    .init = p_init,
    .authenticate = p_authenticate,
    .pull = p_pull,
    .push = p_push,
    .shutdown = p_shutdown,
    .can_unload = p_can_unload,
    .mappings = NULL,
};

EXPORT conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                        const conn_plugin_api **out)
{
    (void)host_minor;
    *out = &api;
    return host_major == CONN_ABI_MAJOR ? CONN_OK : CONN_UNSUPPORTED;
}
