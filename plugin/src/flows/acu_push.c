/* acu_push.c - the push engine: records from the host to Acumatica, each
 * through its flow's pipeline, several at once, each reported exactly once.
 * See acu_push_int.h for the model and the exactly-once rule. */
#include "acu_flows.h"
#include "acu_push_int.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_buf.h"
#include "acu_error.h"
#include "acu_json.h"

#define PUSH_URL_MAX (16 * 1024)

static const char *const outcome_names[] = {
    "created", "updated", "duplicate", "skipped", "rejected", "failed",
    "cancelled"};

static void start_more(push_call *c);

/* ---- payload values ----------------------------------------------------------- */

const char *push_value(json_object *rec, const char *path)
{
    char part[128];
    json_object *o = rec, *v;
    const char *p = path, *dot;

    while (o != NULL && *p != '\0') {
        size_t n;
        dot = strchr(p, '.');
        n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        if (!json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, part, &o))
            return NULL;
        p = dot != NULL ? dot + 1 : p + n;
    }
    if (o == NULL)
        return NULL;
    if (json_object_is_type(o, json_type_object)) {
        if (!json_object_object_get_ex(o, "value", &v))
            return NULL;
        o = v;
    }
    if (o == NULL || json_object_is_type(o, json_type_null) ||
        json_object_is_type(o, json_type_object) ||
        json_object_is_type(o, json_type_array))
        return NULL;
    p = json_object_get_string(o);
    return p != NULL && *p != '\0' ? p : NULL;
}

void push_result_str(push_rec *r, const char *name, const char *value)
{
    if (value != NULL)
        json_object_object_add(r->result, name, json_object_new_string(value));
}

void push_result_take(push_rec *r, const char *name, json_object *value)
{
    json_object_object_add(r->result, name, value);
}

/* ---- URLs ------------------------------------------------------------------------ */

char *push_url(push_call *c, const char *entity, const char *const *keys,
               const char *query)
{
    acu_buf b;

    acu_buf_init(&b, PUSH_URL_MAX);
    acu_buf_addf(&b, "%s/%s", c->inst->endpoint_base, entity);
    for (size_t i = 0; keys != NULL && keys[i] != NULL; i++) {
        char *esc = curl_easy_escape(NULL, keys[i], 0);
        if (esc == NULL) {
            acu_buf_free(&b);
            return NULL;
        }
        acu_buf_addf(&b, "/%s", esc);
        curl_free(esc);
    }
    if (query != NULL)
        acu_buf_adds(&b, query);
    return acu_buf_take(&b, NULL);
}

char *push_list_url(push_call *c, const char *entity, const char *filter,
                    const char *more)
{
    char *esc = curl_easy_escape(NULL, filter, 0);
    acu_buf b;

    if (esc == NULL)
        return NULL;
    acu_buf_init(&b, PUSH_URL_MAX);
    acu_buf_addf(&b, "%s/%s?$filter=%s", c->inst->endpoint_base, entity, esc);
    if (more != NULL)
        acu_buf_addf(&b, "&%s", more);
    curl_free(esc);
    return acu_buf_take(&b, NULL);
}

json_object *push_wrap_string(const char *s)
{
    json_object *o = json_object_new_object();

    if (o != NULL)
        json_object_object_add(o, "value", json_object_new_string(s));
    return o;
}

char *push_filter(const char *const *fields, const char *const *values,
                  size_t n)
{
    acu_buf b;

    acu_buf_init(&b, PUSH_URL_MAX);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            acu_buf_adds(&b, " and ");
        for (const char *f = fields[i]; *f != '\0'; f++)
            acu_buf_add(&b, *f == '.' ? "/" : f, 1);
        acu_buf_adds(&b, " eq '");
        for (const char *v = values[i]; *v != '\0'; v++) {
            if (*v == '\'')
                acu_buf_adds(&b, "''");
            else
                acu_buf_add(&b, v, 1);
        }
        acu_buf_adds(&b, "'");
    }
    return acu_buf_take(&b, NULL);
}

/* ---- requests --------------------------------------------------------------------- */

/* A request in flight for a record: who to call back. */
typedef struct push_req {
    push_rec *rec;
    void (*on_done)(push_rec *, acu_resp *);
} push_req;

static void req_done(void *user, acu_resp *resp)
{
    push_req *q = user;
    push_rec *r = q->rec;
    void (*fn)(push_rec *, acu_resp *) = q->on_done;

    free(q);
    fn(r, resp);
    acu_resp_free(resp);
}

static void send_spec(push_rec *r, acu_req_spec *spec,
                      void (*on_done)(push_rec *, acu_resp *))
{
    push_call *c = r->call;
    push_req *q = malloc(sizeof(*q));
    conn_error err;

    if (c->stopping) {
        /* Nothing new once the host asked to stop (see acu_push_int.h). */
        free(q);
        if (r->marker_set)
            push_finish(r, CONN_OUT_FAILED,
                        "the push was stopped before the outcome of writing this "
                        "record was known; it is looked up first when pushed again");
        else
            push_finish(r, CONN_OUT_CANCELLED,
                        "the push was stopped before this record was written");
        return;
    }
    if (q == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    q->rec = r;
    q->on_done = on_done;
    acu_err_clear(&err);
    if (acu_http_submit(c->inst->http, spec, 0, req_done, q, &err) != CONN_OK) {
        free(q);
        push_finish(r, CONN_OUT_FAILED, "%s", err.message);
    }
}

void push_send(push_rec *r, const char *method, const char *url,
               json_object *body, const char *const *headers, int idempotent,
               const char *what, void (*on_done)(push_rec *, acu_resp *))
{
    acu_req_spec spec;
    const char *text = NULL;

    memset(&spec, 0, sizeof(spec));
    if (body != NULL) {
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
        if (text == NULL) {
            push_finish(r, CONN_OUT_FAILED, "out of memory");
            return;
        }
        spec.content_type = "application/json";
        spec.body = text;
        spec.body_len = strlen(text);
    }
    spec.method = method;
    spec.url = url;
    spec.headers = headers;
    spec.what = what;
    spec.idempotent = idempotent;
    spec.authorized = 1;
    spec.endpoint = 1;
    send_spec(r, &spec, on_done);
}

void push_create(push_rec *r, const char *method, const char *url,
                 json_object *body, const char *const *headers,
                 const char *what, void (*on_done)(push_rec *, acu_resp *))
{
    if (push_marker_set(r) != 0) {
        push_finish(r, CONN_OUT_FAILED,
                    "the host could not record that this record is being "
                    "written, so it is not sent (%s)", what);
        return;
    }
    push_send(r, method, url, body, headers, 0, what, on_done);
}

void push_send_later(push_rec *r, const char *url, long delay_ms,
                     const char *what, void (*on_done)(push_rec *, acu_resp *))
{
    acu_req_spec spec;

    acu_req_get(&spec, url, what);
    spec.delay_ms = delay_ms;
    send_spec(r, &spec, on_done);
}

json_object *push_parse(push_rec *r, const acu_resp *resp, int want_list,
                        int quiet, const char *doing)
{
    json_object *doc = NULL;
    conn_error err;

    acu_err_clear(&err);
    if (acu_json_parse(resp->body, resp->body_len, "Acumatica's answer", &doc,
                       &err) == CONN_OK &&
        (!want_list || json_object_is_type(doc, json_type_array)))
        return doc;
    json_object_put(doc);
    if (!quiet)
        push_finish(r, CONN_OUT_FAILED, "%s: %s", doing,
                    err.message[0] ? err.message
                                   : "Acumatica's answer is not a list");
    return NULL;
}

/* ---- markers ------------------------------------------------------------------------ */

int push_marker_present(push_rec *r)
{
    const conn_host_api *h = r->call->inst->host;
    conn_error err;
    size_t len = 0;
    char buf[8];

    if (r->marker == NULL)
        return 0;
    acu_err_clear(&err);
    return h->state_get(r->call->inst->ctx, r->marker, buf, sizeof(buf), &len,
                        &err) == CONN_OK;
}

int push_marker_set(push_rec *r)
{
    const conn_host_api *h = r->call->inst->host;
    conn_error err;

    if (r->marker == NULL || r->marker_set)
        return 0;
    acu_err_clear(&err);
    if (h->state_put(r->call->inst->ctx, r->marker, "1", 1, 0, &err) != CONN_OK)
        return -1;
    r->marker_set = 1;
    return 0;
}

void push_marker_clear(push_rec *r)
{
    const conn_host_api *h = r->call->inst->host;
    conn_error err;

    if (r->marker == NULL)
        return;
    acu_err_clear(&err);
    if (h->state_put(r->call->inst->ctx, r->marker, NULL, 0, 0, &err) == CONN_OK)
        r->marker_set = 0;
}

/* ---- outcomes ---------------------------------------------------------------------------- */

static void report(push_rec *r, conn_outcome outcome, const char *message,
                   json_object *errors)
{
    push_call *c = r->call;
    const char *text;

    json_object_object_add(r->result, "outcome",
                           json_object_new_string(outcome_names[outcome]));
    if (r->host_id != NULL)
        json_object_object_add(r->result, "record_id",
                               json_object_new_string(r->host_id));
    if (message != NULL && *message != '\0')
        json_object_object_add(r->result, "message",
                               json_object_new_string(message));
    if (errors != NULL)
        json_object_object_add(r->result, "errors", errors);
    text = json_object_to_json_string_ext(r->result, JSON_C_TO_STRING_PLAIN);
    c->inst->host->report(c->inst->ctx, r->index, outcome, text,
                          text != NULL ? strlen(text) : 0);
    c->counts[outcome]++;
    r->done = 1;
    c->finished++;
}

/* A record that waits for an earlier copy of itself in the batch. */
static void release_copies(push_rec *r);

void push_finish(push_rec *r, conn_outcome outcome, const char *fmt, ...)
{
    char msg[1024] = "";
    va_list ap;

    if (r->done)
        return;
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    }
    report(r, outcome, msg, NULL);
    if (r->started)
        r->call->running--;
    release_copies(r);
    start_more(r->call);
}

void push_fail(push_rec *r, const acu_resp *resp, const char *doing)
{
    const acu_apierr *e = &resp->apierr;
    json_object *errors = NULL;
    conn_outcome outcome;

    if (r->done)
        return;
    switch (resp->status) {
    case CONN_REJECTED:
    case CONN_NOT_FOUND:
    case CONN_INVALID:
        outcome = CONN_OUT_REJECTED;
        break;
    case CONN_CANCELLED:
        outcome = r->marker_set ? CONN_OUT_FAILED : CONN_OUT_CANCELLED;
        break;
    case CONN_AUTH:
        if (r->call->fatal == CONN_OK) {
            r->call->fatal = CONN_AUTH;
            r->call->fatal_err = resp->err;
        }
        outcome = CONN_OUT_FAILED;
        break;
    default:
        outcome = CONN_OUT_FAILED;
        break;
    }
    if (e->nfields > 0) {
        errors = json_object_new_array();
        for (size_t i = 0; errors != NULL && i < e->nfields; i++) {
            json_object *fe = json_object_new_object();
            json_object_object_add(fe, "path", json_object_new_string(e->fields[i].path));
            json_object_object_add(fe, "message",
                                   json_object_new_string(e->fields[i].message));
            if (e->fields[i].value != NULL)
                json_object_object_add(fe, "value",
                                       json_object_new_string(e->fields[i].value));
            json_object_array_add(errors, fe);
        }
    }
    if (resp->http_status > 0)
        json_object_object_add(r->result, "http_status",
                               json_object_new_int((int)resp->http_status));
    if (e->type != NULL)
        json_object_object_add(r->result, "exception_type",
                               json_object_new_string(e->type));
    {
        char msg[sizeof(resp->err.message) + 128];
        snprintf(msg, sizeof(msg), "%s: %s", doing, resp->err.message);
        report(r, outcome, msg, errors);
    }
    if (r->started)
        r->call->running--;
    release_copies(r);
    start_more(r->call);
}

/* ---- starting records --------------------------------------------------------------------------- */

/* Map record r; SKIP and REJECT end it here. Returns nonzero when it is
 * ready for its pipeline. */
static int map_record(push_rec *r)
{
    const conn_buf *in = r->in;
    push_call *c = r->call;
    acu_map_result res;
    conn_error err;
    json_object *doc = NULL;
    int ready = 0;

    memset(&res, 0, sizeof(res));
    acu_err_clear(&err);
    if (acu_json_parse(in->data, in->len, "record", &doc, &err) != CONN_OK ||
        !json_object_is_type(doc, json_type_object)) {
        push_finish(r, CONN_OUT_REJECTED, "record %zu is not a JSON object: %s",
                    r->index, err.message[0] ? err.message : "wrong type");
        json_object_put(doc);
        return 0;
    }
    r->host = doc;
    if (acu_map_from_host(c->map, doc, &res, &err) != CONN_OK) {
        push_finish(r, err.status == CONN_NOMEM ? CONN_OUT_FAILED
                                                : CONN_OUT_REJECTED,
                    "%s", err.message);
        goto out;
    }
    if (res.id != NULL)
        r->host_id = strdup(res.id);
    if (res.status == ACU_MAP_SKIP) {
        push_finish(r, CONN_OUT_SKIPPED, "%s",
                    res.message != NULL ? res.message : "skip filter");
        goto out;
    }
    if (res.status == ACU_MAP_REJECT) {
        report(r, CONN_OUT_REJECTED,
               res.message != NULL ? res.message : "the mapping refused it",
               res.errors);
        res.errors = NULL;
        release_copies(r);
        goto out;
    }
    r->payload = res.record;
    res.record = NULL;
    ready = 1;
out:
    acu_map_result_clear(&res);
    return ready;
}

/* Find the field that identifies r (the mapping's match list: the first
 * with a value) and chain r behind the previous copy of it in this batch:
 * copies run one after the other, each looking the record up first. */
static void identify(push_rec *r)
{
    push_call *c = r->call;
    json_object *prev;
    char key[1024];

    if (c->ops->identity != NULL) {
        const char *f = NULL;
        const char *v = c->ops->identity(r, &f);
        if (v != NULL && f != NULL) {
            r->match_field = strdup(f);
            r->match_value = strdup(v);
        }
    }
    for (size_t i = 0; r->match_value == NULL && i < acu_map_match_count(c->map);
         i++) {
        const char *f = acu_map_match(c->map, i);
        const char *v = push_value(r->payload, f);
        if (v == NULL)
            continue;
        r->match_field = strdup(f);
        r->match_value = strdup(v);
    }
    if (r->match_value == NULL)
        return;
    snprintf(key, sizeof(key), "%s=%s", r->match_field, r->match_value);
    r->batch_key = strdup(key);
    snprintf(key, sizeof(key), "push/%s/%s=%s", c->flow, r->match_field,
             r->match_value);
    r->marker = strdup(key);
    if (r->batch_key == NULL)
        return;
    if (json_object_object_get_ex(c->first_of, r->batch_key, &prev)) {
        r->waits_for = (long)json_object_get_int64(prev);
        r->copy_before = 1;
    }
    json_object_object_add(c->first_of, r->batch_key,
                           json_object_new_int64((int64_t)r->index));
}

static void begin(push_rec *r)
{
    r->started = 1;
    r->call->running++;
    r->call->ops->start(r);
}

/* The record `done` has ended: the next copy of it in the batch, if one
 * waits, goes on. */
static void release_copies(push_rec *done)
{
    push_call *c = done->call;

    for (size_t i = done->index + 1; i < c->next; i++) {
        push_rec *r = &c->recs[i];
        if (r->done || r->started || r->waits_for != (long)done->index)
            continue;
        r->waits_for = -1;
        if (c->fatal != CONN_OK)
            push_finish(r, CONN_OUT_FAILED, "%s", c->fatal_err.message);
        else
            begin(r);
        break;
    }
}

/* Start records while fewer than `limit` pipelines run. Waiting copies do
 * not count: they start when the copy before them ends. */
static void start_more(push_call *c)
{
    while (c->running < c->limit && c->next < c->n) {
        push_rec *r = &c->recs[c->next++];
        if (c->fatal != CONN_OK) {
            push_finish(r, CONN_OUT_FAILED, "%s", c->fatal_err.message);
            continue;
        }
        if (c->inst->host->should_stop(c->inst->ctx)) {
            push_finish(r, CONN_OUT_CANCELLED,
                        "the push was stopped before this record was sent");
            continue;
        }
        if (!map_record(r))
            continue;
        identify(r);
        if (r->waits_for >= 0 && !c->recs[r->waits_for].done)
            continue;
        r->waits_for = -1;
        begin(r);
    }
}

/* ---- the call ------------------------------------------------------------------------------------ */

/* The run loop's stop condition: every record reported; or the host
 * asked to stop (noticed here: the engine takes the stop itself); or,
 * stopping, the grace for the requests in flight is over. */
static int push_until(void *user)
{
    push_call *c = user;

    if (c->finished == c->n)
        return 1;
    if (!c->stopping)
        return c->inst->host->should_stop(c->inst->ctx) != 0;
    return acu_http_now_ms() >= c->stop_deadline_ms;
}

static const push_flow *flow_ops(const char *flow)
{
    static const push_flow *const flows[] = {
        &acu_push_sales_orders, &acu_push_customers, &acu_push_tracking};

    for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
        if (strcmp(flows[i]->name, flow) == 0)
            return flows[i];
    return NULL;
}

static void rec_clear(push_rec *r)
{
    json_object_put(r->host);
    json_object_put(r->payload);
    json_object_put(r->found);
    json_object_put(r->result);
    free(r->host_id);
    free(r->match_field);
    free(r->match_value);
    free(r->batch_key);
    free(r->marker);
    free(r->text);
}

conn_status acu_push_call(conn_instance *inst, const char *flow,
                          const conn_buf *records, size_t count,
                          conn_error *err)
{
    push_call c;
    conn_status st = CONN_OK;
    conn_error run_err;

    memset(&c, 0, sizeof(c));
    c.inst = inst;
    c.flow = flow;
    c.n = count;
    c.limit = inst->settings.concurrent_batch_executions;
    c.ops = flow != NULL ? flow_ops(flow) : NULL;
    c.map = flow != NULL && inst->mapset != NULL
                ? acu_mapset_get(inst->mapset, flow, ACU_MAP_FROM_HOST)
                : NULL;
    c.recs = calloc(count > 0 ? count : 1, sizeof(*c.recs));
    c.first_of = json_object_new_object();
    c.cache = json_object_new_object();
    for (size_t i = 0; c.recs != NULL && i < count; i++) {
        c.recs[i].call = &c;
        c.recs[i].index = i;
        c.recs[i].in = &records[i];
        c.recs[i].waits_for = -1;
        c.recs[i].result = json_object_new_object();
    }
    if (c.recs == NULL || c.first_of == NULL || c.cache == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "push: out of memory");
        c.fatal = CONN_NOMEM;
        c.fatal_err = *err;
    } else if (c.ops == NULL || c.map == NULL) {
        st = acu_err_set(err, CONN_UNSUPPORTED,
                         "push: flow '%s' cannot be pushed to Acumatica%s",
                         flow != NULL ? flow : "(none)",
                         c.ops != NULL ? " (no from_host mapping)" : "");
        c.fatal = st;
        c.fatal_err = *err;
    }
    if (c.recs == NULL) {
        /* Still one report per record. */
        for (size_t i = 0; i < count; i++)
            inst->host->report(inst->ctx, i, CONN_OUT_FAILED, NULL, 0);
        goto out;
    }
    acu_call_begin(inst);
    /* The transport would abort everything in flight at the host's stop;
     * the engine takes the stop itself instead (see acu_push_int.h). */
    acu_http_ignore_stop(inst->http, 1);
    start_more(&c);
    while (c.finished < c.n) {
        acu_err_clear(&run_err);
        if (acu_http_run(inst->http, push_until, &c, &run_err) == CONN_CANCELLED)
            st = CONN_CANCELLED;
        if (c.finished < c.n && !c.stopping &&
            inst->host->should_stop(inst->ctx)) {
            c.stopping = 1;
            c.stop_deadline_ms = acu_http_now_ms() + PUSH_STOP_GRACE_MS;
            st = CONN_CANCELLED;
            acu_log(inst, CONN_LOG_INFO, flow,
                    "push: stopping: nothing new is sent; waiting up to %d s for "
                    "the %zu requests in flight", PUSH_STOP_GRACE_MS / 1000,
                    acu_http_pending(inst->http));
            start_more(&c); /* reports the records not started as cancelled */
            continue;
        }
        if (c.finished < c.n && c.stopping &&
            acu_http_now_ms() >= c.stop_deadline_ms) {
            /* The grace is over: let the transport abort what is left. */
            acu_http_ignore_stop(inst->http, 0);
            (void)acu_http_run(inst->http, push_until, &c, &run_err);
            acu_http_ignore_stop(inst->http, 1);
        }
        if (c.finished < c.n && acu_http_pending(inst->http) == 0) {
            /* Nothing in flight and records left: they wait for nothing that
             * will come (should not happen); end them rather than hang. */
            for (size_t i = 0; i < c.n; i++)
                if (!c.recs[i].done)
                    push_finish(&c.recs[i], CONN_OUT_FAILED,
                                "internal error: the record's pipeline stalled");
        }
    }
    acu_http_ignore_stop(inst->http, 0);
    if (st == CONN_OK && c.fatal != CONN_OK) {
        *err = c.fatal_err;
        st = c.fatal;
    } else if (st == CONN_CANCELLED) {
        acu_err_set(err, CONN_CANCELLED, "push %s: stopped by the host", flow);
    }
    acu_log(inst, CONN_LOG_INFO, flow,
            "push: %zu records: %zu created, %zu updated, %zu duplicate, "
            "%zu skipped, %zu rejected, %zu failed, %zu cancelled",
            count, c.counts[0], c.counts[1], c.counts[2], c.counts[3],
            c.counts[4], c.counts[5], c.counts[6]);
    acu_call_end(inst, flow, "push", 0, c.finished);
out:
    for (size_t i = 0; c.recs != NULL && i < count; i++)
        rec_clear(&c.recs[i]);
    free(c.recs);
    json_object_put(c.first_of);
    json_object_put(c.cache);
    return st;
}
