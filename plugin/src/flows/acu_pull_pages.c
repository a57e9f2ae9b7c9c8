/* acu_pull_pages.c - reading a run's pages in order: pages fetched ahead
 * up to Concurrent Connections, each record recognised, mapped and emitted,
 * the cursor checkpointed after every page the host accepted, and the read
 * position found again when the window changed under the run. */
#include "acu_pull_int.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"
#include "acu_time.h"

/* ---- paging ---------------------------------------------------------------- */

static void page_done(void *user, acu_resp *resp)
{
    pull_slot *s = user;

    s->busy = 0;
    s->resp = resp;
}

static conn_status submit_page(pull_run *r, long p)
{
    pull_slot *s = &r->slots[p % r->window];
    char what[160];
    acu_req_spec spec;
    conn_status st;
    char *url = pull_page_url(r, p);

    if (url == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    snprintf(what, sizeof(what), "GET %s (%s %ld)", acu_map_entity(r->map),
             r->ids != NULL ? "ids batch" : "page", p + 1);
    acu_req_get(&spec, url, what);
    s->run = r;
    s->page = p;
    s->busy = 1;
    s->resp = NULL;
    st = acu_http_submit(r->inst->http, &spec, 0, page_done, s, r->err);
    if (st != CONN_OK)
        s->busy = 0;
    free(url);
    return st;
}

static int slot_ready(void *user)
{
    pull_run *r = user;
    const pull_slot *s = &r->slots[r->next_process % r->window];

    return !s->busy;
}

static int none_busy(void *user)
{
    pull_run *r = user;

    for (int i = 0; i < r->window; i++)
        if (r->slots[i].busy)
            return 0;
    return 1;
}

/* ---- records ------------------------------------------------------------- */

typedef struct emit_ctx {
    pull_run *run;
    const char *acu_id; /* for messages */
    int emitted;
} emit_ctx;

/* One mapped host record: to the host, or a log line saying why not. */
static conn_status emit_one(void *user, acu_map_result *res)
{
    emit_ctx *e = user;
    pull_run *r = e->run;
    const char *json;
    conn_status st;

    if (res->status == ACU_MAP_SKIP) {
        r->stats->skipped++;
        acu_log(r->inst, CONN_LOG_DEBUG, r->flow, "%s %s skipped: %s",
                acu_map_entity(r->map), e->acu_id,
                res->message != NULL ? res->message : "skip filter");
        return CONN_OK;
    }
    if (res->status == ACU_MAP_REJECT) {
        r->stats->failed++;
        acu_log(r->inst, CONN_LOG_WARN, r->flow,
                "%s %s was not delivered: %s", acu_map_entity(r->map),
                e->acu_id, res->message != NULL ? res->message : "mapping failed");
        return CONN_OK;
    }
    json = json_object_to_json_string_ext(res->record, JSON_C_TO_STRING_PLAIN);
    if (json == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    st = r->inst->host->emit(r->inst->ctx, r->flow, acu_map_record_type(r->map),
                             res->id != NULL ? res->id : e->acu_id, json,
                             strlen(json));
    if (st != CONN_OK)
        return acu_err_set(r->err, st,
                           "%s: the host did not accept record %s (%s); the "
                           "cursor stays before its page",
                           r->flow, res->id != NULL ? res->id : e->acu_id,
                           acu_status_name(st));
    r->stats->emitted++;
    e->emitted++;
    return CONN_OK;
}

/* A fingerprint of a record's content (FNV-1a 64 over its JSON without
 * rowNumber, which depends on the page), for sources without a
 * last-modified field: a record is delivered again only when it changed. */
static int64_t fingerprint(json_object *rec)
{
    uint64_t h = 1469598103934665603ULL;
    const char *text;

    json_object_object_del(rec, "rowNumber");
    text = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN);
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (int64_t)(h >> 1); /* positive, printable as the "ms" part */
}

/* Recognise, map and emit one Acumatica record of a page. */
static conn_status handle_record(pull_run *r, json_object *rec,
                                 json_object *keys)
{
    const char *id = pull_record_id(r, rec);
    const char *lm_text = pull_field_text(rec, r->lm_field);
    int64_t lm = ACU_NO_TIME, fp = 0;
    int by_content = r->src != NULL && r->lm_field == NULL;
    char key[512];
    emit_ctx e;
    conn_status st;

    r->stats->records++;
    if (id == NULL)
        id = "(no id)";
    if (r->found != NULL && r->key_field != NULL) {
        const char *k = pull_field_text(rec, r->key_field);
        if (k != NULL)
            json_object_object_add(r->found, k, NULL);
    }
    if (by_content) {
        fp = fingerprint(rec);
        if (acu_cursor_keep(r->src, id, fp) != CONN_OK)
            return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
        snprintf(key, sizeof(key), "%s|%" PRId64, id, fp);
        if (json_object_object_get_ex(r->src->seen, key, NULL)) {
            r->stats->recognised++;
            return CONN_OK;
        }
    }
    if (lm_text != NULL &&
        acu_time_parse(lm_text, r->inst->settings.time_zone_offset_minutes,
                       &lm) != 0)
        lm = ACU_NO_TIME;
    if (r->src != NULL && lm != ACU_NO_TIME) {
        snprintf(key, sizeof(key), "%s|%" PRId64, id, lm);
        if (acu_cursor_seen(r->src, id, lm) ||
            json_object_object_get_ex(r->page_keys, key, NULL)) {
            r->stats->recognised++;
            return CONN_OK;
        }
    }
    /* The changes stage of this run delivered the item already (with its
     * current lines): noted as delivered, not sent again. */
    if (r->delivered != NULL && acu_map_key_count(r->map) > 0) {
        const char *k = pull_field_text(rec, acu_map_key(r->map, 0));
        if (k != NULL && json_object_object_get_ex(r->delivered, k, NULL)) {
            r->stats->recognised++;
            if (lm != ACU_NO_TIME &&
                acu_cursor_delivered(r->src, id, lm, PULL_OVERLAP_MS) != CONN_OK)
                return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
            return CONN_OK;
        }
    }
    e.run = r;
    e.acu_id = id;
    e.emitted = 0;
    st = acu_map_to_host(r->map, rec, emit_one, &e, r->err);
    if (st != CONN_OK)
        return st;
    if (r->src != NULL && lm != ACU_NO_TIME) {
        json_object_object_add(keys, key, NULL);
        if (acu_cursor_delivered(r->src, id, lm, PULL_OVERLAP_MS) != CONN_OK)
            return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    }
    return CONN_OK;
}

conn_status pull_checkpoint(conn_instance *inst, const char *flow,
                            const acu_cursor *cursor, acu_pull_stats *stats,
                            conn_error *err)
{
    size_t len = 0;
    char *text = acu_cursor_format(cursor, &len);
    conn_status st;

    if (text == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", flow);
    st = inst->host->checkpoint(inst->ctx, flow, text, len);
    free(text);
    if (st != CONN_OK)
        return acu_err_set(err, st, "%s: the host could not keep the cursor (%s)",
                           flow, acu_status_name(st));
    stats->checkpoints++;
    acu_progress(inst, flow, stats->pages, stats->emitted);
    return CONN_OK;
}

static conn_status checkpoint(pull_run *r)
{
    return pull_checkpoint(r->inst, r->flow, r->cursor, r->stats, r->err);
}

/* One record of a page, as acu_json_array_each hands them over. A page
 * asked with one record of overlap must begin with the anchor (the last
 * record read); when it does not, the window changed before it: the walk
 * stops (status CONN_NOT_FOUND, used only between these two functions). */
typedef struct page_walk {
    pull_run *run;
    json_object *keys; /* "id|ms" of this page's records */
    int anchored;
    int lost;
} page_walk;

static conn_status page_record(void *user, json_object *rec, size_t index)
{
    page_walk *w = user;
    pull_run *r = w->run;
    const char *id;
    conn_status st;

    if (index == 0 && w->anchored) {
        const char *got = pull_record_id(r, rec);
        const char *want = acu_cursor_anchor_last(r->src);

        if (got == NULL || want == NULL || strcmp(got, want) != 0) {
            w->lost = 1;
            return CONN_NOT_FOUND;
        }
        return CONN_OK; /* read before: it only proves the position */
    }
    if (!json_object_is_type(rec, json_type_object))
        return CONN_OK;
    st = handle_record(r, rec, w->keys);
    if (st != CONN_OK)
        return st;
    id = r->src != NULL ? pull_record_id(r, rec) : NULL;
    if (id != NULL && acu_cursor_anchor_add(r->src, id) != CONN_OK)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    return CONN_OK;
}

/* Process the answer of page r->next_process, one record at a time (a page
 * is parsed record by record, so memory stays flat). *last is set when the
 * run ends with it; *lost when the page does not begin with the anchor (the
 * window changed before it: nothing of it is processed). */
static conn_status process_page(pull_run *r, int *last, int *lost)
{
    pull_slot *s = &r->slots[r->next_process % r->window];
    acu_resp *resp = s->resp;
    page_walk w;
    conn_status st;
    size_t n = 0;

    memset(&w, 0, sizeof(w));
    s->resp = NULL;
    *last = 0;
    *lost = 0;
    if (resp == NULL)
        return acu_err_set(r->err, CONN_INTERNAL, "%s: page %ld has no answer",
                           r->flow, r->next_process + 1);
    if (resp->status != CONN_OK) {
        *r->err = resp->err;
        st = resp->status;
        goto out;
    }
    w.run = r;
    w.anchored = pull_page_anchored(r, r->next_process);
    w.keys = json_object_new_object();
    if (w.keys == NULL) {
        st = acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
        goto out;
    }
    st = acu_json_array_each(resp->body, resp->body_len, "Acumatica's answer",
                             page_record, &w, &n, r->err);
    if (w.lost || (st == CONN_OK && w.anchored && n == 0)) {
        *lost = 1;
        st = CONN_OK;
        goto out;
    }
    if (st != CONN_OK)
        goto out;
    r->stats->pages++;
    if (w.anchored)
        n--;
    json_object_put(r->page_keys);
    r->page_keys = w.keys;
    w.keys = NULL;
    if (r->ids != NULL)
        *last = r->next_process + 1 >= r->nbatches;
    else
        *last = n < (size_t)r->page_size;
    if (!*last)
        r->ahead = r->window;
    if (r->src != NULL) {
        r->src->skip += (long)n; /* the position of the next record */
        if (*last && r->lm_field == NULL) {
            acu_cursor_run_end_all(r->src);
        } else if (*last) {
            st = acu_cursor_run_end(r->src, PULL_OVERLAP_MS, r->err);
            if (st != CONN_OK)
                goto out;
        }
        if (*last && r->src->dropped > 0)
            acu_log(r->inst, CONN_LOG_WARN, r->flow,
                    "%s: more than %d records changed within %d s of this "
                    "read's end (a mass update?); the cursor keeps %d of them "
                    "and the next read starts after the %lu others",
                    acu_map_name(r->map), ACU_CURSOR_SEEN_MAX,
                    PULL_OVERLAP_MS / 1000, ACU_CURSOR_SEEN_MAX / 2,
                    r->src->dropped);
        st = checkpoint(r);
    }
out:
    json_object_put(w.keys);
    acu_resp_free(resp);
    return st;
}

/* Let the pages in flight finish (their callbacks point into this run)
 * and drop every answer not processed. */
static void drop_pages(pull_run *r)
{
    if (!none_busy(r)) {
        conn_error ignored;
        acu_http_ignore_stop(r->inst->http, 1);
        acu_http_run(r->inst->http, none_busy, r, &ignored);
        acu_http_ignore_stop(r->inst->http, 0);
    }
    for (int i = 0; i < r->window; i++) {
        acu_resp_free(r->slots[i].resp);
        r->slots[i].resp = NULL;
    }
}

/* Read the ids at window positions [lo, hi) (id-only requests) and find
 * the last anchor among them: *at gets its position and *which its index
 * among the anchors (both -1: none there); *ended is set when the window
 * ends before hi. */
static conn_status find_anchor(pull_run *r, long lo, long hi, json_object *index,
                               long *at, long *which, int *ended)
{
    conn_status st = CONN_OK;
    long skip = lo;

    *at = *which = -1;
    *ended = 0;
    while (skip < hi && st == CONN_OK) {
        long top = hi - skip < RESYNC_PAGE ? hi - skip : RESYNC_PAGE;
        json_object *doc = NULL, *k;
        acu_resp *resp = NULL;
        acu_req_spec spec;
        char n[32];
        size_t len;
        acu_buf b;
        char *url;

        acu_buf_init(&b, PULL_URL_MAX);
        acu_buf_adds(&b, r->inst->endpoint_base);
        acu_buf_adds(&b, r->search_query);
        snprintf(n, sizeof(n), "%ld", top);
        pull_add_param(&b, strchr(r->search_query, '?') == NULL, "$top", n);
        snprintf(n, sizeof(n), "%ld", skip);
        pull_add_param(&b, 0, "$skip", n);
        url = acu_buf_take(&b, NULL);
        if (url == NULL)
            return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
        acu_req_get(&spec, url, "GET (finding the read position again)");
        st = acu_http_request(r->inst->http, &spec, &resp, r->err);
        free(url);
        if (st == CONN_OK)
            st = acu_json_parse(resp->body, resp->body_len, "Acumatica's answer",
                                &doc, r->err);
        if (st == CONN_OK && !json_object_is_type(doc, json_type_array))
            st = acu_err_set(r->err, CONN_INTERNAL,
                             "%s: Acumatica answered a list request for %s with "
                             "something that is not a list", r->flow,
                             acu_map_entity(r->map));
        len = st == CONN_OK ? json_object_array_length(doc) : 0;
        for (size_t i = 0; i < len; i++) {
            const char *id = pull_record_id(r, json_object_array_get_idx(doc, i));
            if (id != NULL && json_object_object_get_ex(index, id, &k)) {
                *at = skip + (long)i;
                *which = (long)json_object_get_int64(k);
            }
        }
        if (st == CONN_OK && (long)len < top)
            *ended = 1;
        skip += (long)len;
        json_object_put(doc);
        acu_resp_free(resp);
        if (*ended)
            break;
    }
    return st;
}

/* The page at the read position did not begin with the anchor: records
 * before the position left the window (or came into it) since it was
 * computed. Find the last anchor still in the window, reading ids around
 * the position, wider each time, and set the position right after it.
 * When every anchor left the window, start again at its beginning: no
 * record is passed over, but records read before may come again. */
static conn_status resync(pull_run *r)
{
    acu_cursor_src *src = r->src;
    json_object *index = json_object_new_object();
    size_t nanchors = json_object_array_length(src->anchors);
    long pos = src->skip, back = r->page_size, at = -1, which = -1;
    conn_status st = CONN_OK;
    int ended = 0;

    if (index == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    if (++r->resyncs > RESYNC_MAX) {
        st = acu_err_set(r->err, CONN_RETRY,
                         "%s: %s records kept changing while they were read "
                         "(%d times); the next pull goes on from here", r->flow,
                         acu_map_entity(r->map), RESYNC_MAX);
        goto out;
    }
    for (size_t i = 0; i < nanchors; i++)
        json_object_object_add(index, json_object_get_string(
                                          json_object_array_get_idx(src->anchors, i)),
                               json_object_new_int64((int64_t)i));
    for (;;) {
        long lo = pos > back ? pos - back : 0;

        st = find_anchor(r, lo, pos + back, index, &at, &which, &ended);
        if (st != CONN_OK || at >= 0 || (lo == 0 && ended))
            break;
        back *= 4;
    }
    if (st != CONN_OK)
        goto out;
    if (at >= 0) {
        acu_log(r->inst, CONN_LOG_INFO, r->flow,
                "%s: records changed while the window was read; going on "
                "after the last record read that is still in it (position "
                "%ld, was %ld)", acu_map_name(r->map), at + 1, pos);
        acu_cursor_anchor_cut(src, which);
        src->skip = at + 1;
    } else {
        acu_log(r->inst, CONN_LOG_WARN, r->flow,
                "%s: the last %zu records read all changed while the window "
                "was read, so the read position is lost; reading the window "
                "again from its beginning (records read before may be "
                "delivered again)", acu_map_name(r->map), nanchors);
        acu_cursor_anchor_cut(src, -1);
        src->skip = 0;
    }
out:
    json_object_put(index);
    return st;
}

conn_status pull_run_pages(pull_run *r)
{
    conn_status st = CONN_OK;
    int last = 0, lost = 0;

    r->slots = calloc((size_t)r->window, sizeof(*r->slots));
    r->page_keys = json_object_new_object();
    if (r->slots == NULL || r->page_keys == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    r->end_page = r->ids != NULL ? r->nbatches : LONG_MAX;
    /* Most incremental runs find one short page: fetch ahead only once a
     * full page shows there is more, so they cost one request. */
    r->ahead = r->ids != NULL ? r->window : 1;
    while (!last) {
        while (r->next_submit < r->end_page &&
               r->next_submit < r->next_process + r->ahead) {
            st = submit_page(r, r->next_submit);
            if (st != CONN_OK)
                goto drain;
            r->next_submit++;
        }
        if (!slot_ready(r)) {
            st = acu_http_run(r->inst->http, slot_ready, r, r->err);
            if (st != CONN_OK)
                goto drain;
            continue;
        }
        st = process_page(r, &last, &lost);
        if (st != CONN_OK)
            goto drain;
        if (lost) {
            /* The pages fetched ahead were counted from a stale position:
             * drop them, find the position, count pages from there. */
            drop_pages(r);
            st = resync(r);
            if (st != CONN_OK)
                goto drain;
            r->seg_start = r->src->skip;
            r->next_submit = r->next_process = 0;
            r->ahead = 1;
            continue;
        }
        r->next_process++;
        if (last)
            r->end_page = r->next_process;
    }
drain:
    /* Pages fetched ahead past the end (or past a failure) are let finish:
     * their callbacks point into this run. */
    drop_pages(r);
    return st;
}

void pull_run_free(pull_run *r)
{
    free(r->query);
    free(r->search_query);
    free(r->slots);
    json_object_put(r->page_keys);
    json_object_put(r->found);
    json_object_put(r->delivered);
    memset(r, 0, sizeof(*r));
}

