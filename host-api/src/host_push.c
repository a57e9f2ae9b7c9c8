/* host_push.c - one push call with the report promise checked. */
#include "host_push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_ctx.h"
#include "host_error.h"
#include "host_jsonl.h"
#include "host_loader.h"

typedef struct collector {
    host_push_result *results;
    size_t count;
    host_push_check *check;
} collector;

static char *dup_text(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void set_note(host_push_result *r, const char *note)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "{\"host_note\":\"%s\"}", note);

    free(r->result);
    r->result = dup_text(buf, (size_t)n);
    r->result_len = r->result != NULL ? (size_t)n : 0;
}

static void on_report(void *user, size_t index, conn_outcome outcome, const char *result,
                      size_t len)
{
    collector *c = user;
    host_push_result *r;
    char why[128];

    if (index >= c->count) {
        c->check->out_of_range++;
        return;
    }
    r = &c->results[index];
    if (r->reports++ > 0) {
        c->check->duplicated++;
        return;
    }
    if ((unsigned)outcome > CONN_OUT_CANCELLED) {
        c->check->bad_outcome++;
        outcome = CONN_OUT_FAILED;
    }
    r->outcome = outcome;
    if (result == NULL || len == 0)
        return;
    if (len > HOST_RESULT_MAX) {
        set_note(r, "the plugin's result was larger than the host keeps; it was dropped");
        return;
    }
    if (host_json_check_object(result, len, why, sizeof(why)) != 0) {
        c->check->bad_result++;
        set_note(r, "the plugin's result was not one JSON object; it was dropped");
        return;
    }
    r->result = dup_text(result, len);
    r->result_len = r->result != NULL ? len : 0;
}

conn_status host_push_call(host_instance *inst, const char *flow, const conn_buf *recs,
                           size_t count, host_push_result *results, host_push_check *check,
                           conn_error *err)
{
    const conn_plugin_api *api = host_instance_api(inst);
    host_ctx *ctx = host_instance_ctx(inst);
    collector c = {results, count, check};
    host_sinks sinks = {.report = on_report, .user = &c};
    conn_status st;

    memset(results, 0, count * sizeof(*results));
    memset(check, 0, sizeof(*check));
    host_err_clear(err);
    host_ctx_clear_counters(ctx);
    host_ctx_set_sinks(ctx, &sinks);
    st = api->push(host_instance_handle(inst), flow, recs, count, err);
    host_ctx_set_sinks(ctx, NULL);
    if (err != NULL) {
        err->message[sizeof(err->message) - 1] = '\0';
        err->detail_type[sizeof(err->detail_type) - 1] = '\0';
        if (st != CONN_OK && err->status == CONN_OK)
            err->status = st;
    }
    for (size_t i = 0; i < count; i++) {
        if (results[i].reports == 0) {
            check->unreported++;
            results[i].outcome = CONN_OUT_FAILED;
            set_note(&results[i], "the plugin never reported this record; its outcome is "
                                  "unknown");
        }
    }
    return st;
}

void host_push_results_clear(host_push_result *results, size_t n)
{
    for (size_t i = 0; results != NULL && i < n; i++) {
        free(results[i].result);
        results[i].result = NULL;
        results[i].result_len = 0;
    }
}

int host_push_check_failed(const host_push_check *c)
{
    return c->unreported > 0 || c->duplicated > 0 || c->out_of_range > 0 ||
           c->bad_outcome > 0;
}

void host_push_check_message(const host_instance *inst, const host_push_check *c, char *buf,
                             size_t cap)
{
    host_module *mod = host_instance_module(inst);
    int n = snprintf(buf, cap, "%s %s broke the push contract (one report per record):",
                     host_module_name(mod), host_module_version(mod));
    const char *sep = "";

    if (n < 0 || (size_t)n >= cap)
        return;
#define PART(count, text)                                                                  \
    if ((count) > 0 && (size_t)n < cap) {                                                  \
        int k = snprintf(buf + n, cap - (size_t)n, "%s %zu %s", sep, (size_t)(count), text); \
        n = k > 0 ? n + k : n;                                                             \
        sep = ",";                                                                         \
    }
    PART(c->unreported, "record(s) never reported")
    PART(c->duplicated, "extra report(s) for records already reported")
    PART(c->out_of_range, "report(s) for records that do not exist")
    PART(c->bad_outcome, "report(s) with an unknown outcome")
#undef PART
}

int host_outcome_ok(conn_outcome o)
{
    return o == CONN_OUT_CREATED || o == CONN_OUT_UPDATED || o == CONN_OUT_DUPLICATE ||
           o == CONN_OUT_SKIPPED;
}
