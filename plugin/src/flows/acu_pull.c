/* acu_pull.c - pull flows: Acumatica records to the host, page by page.
 *
 * A flow reads one or more sources (a TO_HOST mapping each: products reads
 * StockItem and NonStockItem), one after the other. A source is read in a
 * run over the last-modified window [since, until) (see acu_cursor.h) with
 * $top/$skip pages, several fetched ahead at once (up to Concurrent
 * Connections) and processed strictly in order: each record is recognised
 * if it was delivered before, mapped, and handed to the host's emit; when
 * the host has accepted every record of a page, the cursor moves past the
 * page through the host's checkpoint. A page with fewer new records than
 * the page size (also none, after an exact multiple) ends the run.
 *
 * Records that leave the window while the run reads it (modified: their
 * new stamp is past `until`) move the records after them forward in the
 * key order, so a plain $skip would pass over records that stayed. Every
 * page after the first therefore asks for one record more, in front: the
 * last record read (the anchor, see acu_cursor.h). An answer that does not
 * begin with it shows the window changed before the position: the pages
 * fetched ahead are dropped, the position is found again with an id-only
 * read around it (the last anchor still there), and reading goes on right
 * after it - nothing is passed over and nothing read twice.
 *
 * A request for specific ids (the platform's "manual sync") reads the
 * records by key in batches and leaves the cursor alone. */
#include "acu_flows.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_buf.h"
#include "acu_cursor.h"
#include "acu_error.h"
#include "acu_http.h"
#include "acu_json.h"
#include "acu_map.h"
#include "acu_time.h"

/* Records delivered within this long before a run's upper bound are read
 * again by the next run (late commits, the Date header's whole seconds)
 * and recognised there. */
#define PULL_OVERLAP_MS (120 * 1000)
/* Keys per request when reading specific ids. */
#define IDS_PER_REQUEST 25
/* Most ids one request may ask for. */
#define IDS_MAX 10000
/* Bound on the URL of one page request. */
#define PULL_URL_MAX (64 * 1024)
/* Records per id-only request when finding the read position again. */
#define RESYNC_PAGE 1000
/* Times one run may find its position again before it gives up (RETRY:
 * the next pull resumes it). */
#define RESYNC_MAX 50

typedef struct pull_run pull_run;

/* One page (or id batch) in flight or done but not processed yet. */
typedef struct pull_slot {
    pull_run *run;
    long page;      /* its index in the run */
    int busy;       /* submitted, callback not run yet */
    acu_resp *resp; /* the answer, once the callback ran */
} pull_slot;

struct pull_run {
    conn_instance *inst;
    const char *flow;
    const acu_map *map;
    acu_cursor *cursor;     /* NULL when reading ids */
    acu_cursor_src *src;    /* NULL when reading ids */
    const char *lm_field;   /* last-modified field, or NULL */
    char *query;            /* "?$filter=...&$select=..." without paging */
    const char *key_field;  /* ids mode: the key the ids are compared to */
    json_object *ids;       /* ids mode: the array of ids */
    long nbatches;          /* ids mode: number of id batches */
    int page_size;
    int window;             /* pages in flight at most */
    int ahead;              /* pages in flight now: 1 until a full page
                               shows there is more to read, then window */
    char *search_query;     /* "?$filter=...&$select=<keys>": id-only reads */
    long seg_start;         /* window position of page 0's first new record:
                               the pages counted from here (see resync) */
    int resyncs;            /* times the position was found again */
    long next_submit;
    long next_process;
    long end_page;          /* first page known to be short, LONG_MAX unknown */
    pull_slot *slots;
    json_object *page_keys; /* "id|ms" of the last processed page */
    json_object *found;     /* ids mode: keys found */
    acu_pull_stats *stats;
    conn_error *err;
};

/* ---- small helpers ------------------------------------------------------ */

/* The unwrapped text of field `name` of an Acumatica record, or NULL. */
static const char *field_text(json_object *rec, const char *name)
{
    json_object *f, *v;

    if (name == NULL || !json_object_object_get_ex(rec, name, &f))
        return NULL;
    if (json_object_is_type(f, json_type_object)) {
        if (!json_object_object_get_ex(f, "value", &v))
            return NULL;
        f = v;
    }
    if (json_object_is_type(f, json_type_null))
        return NULL;
    return json_object_get_string(f);
}

/* The id of an Acumatica record: its "id" (the NoteID every answer
 * carries), else its first key value; NULL when it has neither. */
static const char *record_id(const pull_run *r, json_object *rec)
{
    const char *id = field_text(rec, "id");

    if (id == NULL && acu_map_key_count(r->map) > 0)
        id = field_text(rec, acu_map_key(r->map, 0));
    return id;
}

/* Append an OData string literal: 'text' with quotes doubled. */
static acu_buf_rc add_odata_string(acu_buf *b, const char *s)
{
    acu_buf_rc rc = acu_buf_add(b, "'", 1);

    for (; rc == ACU_BUF_OK && *s != '\0'; s++)
        rc = *s == '\'' ? acu_buf_add(b, "''", 2) : acu_buf_add(b, s, 1);
    if (rc == ACU_BUF_OK)
        rc = acu_buf_add(b, "'", 1);
    return rc;
}

/* Append "&name=<escaped value>" ('?' when first); $-names unescaped. */
static acu_buf_rc add_param(acu_buf *b, int first, const char *name,
                            const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    acu_buf_rc rc;

    if (esc == NULL)
        return ACU_BUF_NOMEM;
    rc = acu_buf_addf(b, "%s%s=%s", first ? "?" : "&", name, esc);
    curl_free(esc);
    return rc;
}

/* The $filter text of a run of src over [since, until), in the business's
 * local time, or NULL without a last-modified field. */
static char *window_filter(const char *lm, const acu_cursor_src *src,
                           int offset_min)
{
    char since[48], until[48];
    acu_buf b;

    if (lm == NULL)
        return NULL;
    acu_buf_init(&b, 1024);
    acu_time_format(src->until_ms, offset_min, 0, until, sizeof(until));
    if (src->since_ms != ACU_NO_TIME) {
        acu_time_format(src->since_ms, offset_min, 0, since, sizeof(since));
        acu_buf_addf(&b, "%s ge datetimeoffset'%s' and ", lm, since);
    }
    acu_buf_addf(&b, "%s lt datetimeoffset'%s'", lm, until);
    return acu_buf_take(&b, NULL);
}

/* The query of a source: ?$filter&$select&$expand&$custom. */
static conn_status build_query(pull_run *r, const char *filter,
                               conn_error *err)
{
    char *select = NULL, *expand = NULL, *custom = NULL;
    conn_status st;
    acu_buf b;
    int first = 1;

    acu_buf_init(&b, PULL_URL_MAX);
    st = acu_map_select_expand(r->map, &select, &expand, &custom, err);
    if (st != CONN_OK)
        goto out;
    acu_buf_adds(&b, "/");
    acu_buf_adds(&b, acu_map_entity(r->map));
    if (filter != NULL) {
        add_param(&b, first, "$filter", filter);
        first = 0;
    }
    if (select != NULL) {
        add_param(&b, first, "$select", select);
        first = 0;
    }
    if (expand != NULL) {
        add_param(&b, first, "$expand", expand);
        first = 0;
    }
    if (custom != NULL)
        add_param(&b, first, "$custom", custom);
    r->query = acu_buf_take(&b, NULL);
    if (r->query == NULL)
        st = acu_err_set(err, CONN_NOMEM, "%s: out of memory", r->flow);
out:
    free(select);
    free(expand);
    free(custom);
    acu_buf_free(&b);
    return st;
}

/* Page p begins with the record before its position (the anchor): every
 * page of a run but the very first, unless resuming the run of an older
 * cursor that has no anchors. */
static int page_anchored(const pull_run *r, long p)
{
    if (r->ids != NULL || r->seg_start + p * r->page_size == 0)
        return 0;
    return p > 0 || acu_cursor_anchor_last(r->src) != NULL;
}

/* The query of the id-only reads that find the read position again: the
 * window's filter and only the key fields ("id" comes with every record). */
static conn_status build_search_query(pull_run *r, const char *filter)
{
    acu_buf b, keys;
    int first = 1;

    acu_buf_init(&b, PULL_URL_MAX);
    acu_buf_init(&keys, PULL_URL_MAX);
    acu_buf_adds(&b, "/");
    acu_buf_adds(&b, acu_map_entity(r->map));
    if (filter != NULL) {
        add_param(&b, first, "$filter", filter);
        first = 0;
    }
    for (size_t i = 0; i < acu_map_key_count(r->map); i++)
        acu_buf_addf(&keys, "%s%s", i > 0 ? "," : "", acu_map_key(r->map, i));
    if (keys.data != NULL)
        add_param(&b, first, "$select", keys.data);
    acu_buf_free(&keys);
    r->search_query = acu_buf_take(&b, NULL);
    if (r->search_query == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    return CONN_OK;
}

/* The URL of page p: the query with $top/$skip, or with the id batch. */
static char *page_url(pull_run *r, long p)
{
    acu_buf b;
    int first = strchr(r->query, '?') == NULL;

    acu_buf_init(&b, PULL_URL_MAX);
    acu_buf_adds(&b, r->inst->endpoint_base);
    acu_buf_adds(&b, r->query);
    if (r->ids != NULL) {
        acu_buf f;
        size_t n = json_object_array_length(r->ids);
        size_t lo = (size_t)p * IDS_PER_REQUEST;
        size_t hi = lo + IDS_PER_REQUEST < n ? lo + IDS_PER_REQUEST : n;

        acu_buf_init(&f, PULL_URL_MAX);
        for (size_t i = lo; i < hi; i++) {
            acu_buf_addf(&f, "%s%s eq ", i > lo ? " or " : "", r->key_field);
            add_odata_string(&f, json_object_get_string(
                                     json_object_array_get_idx(r->ids, i)));
        }
        if (f.data != NULL)
            add_param(&b, first, "$filter", f.data);
        acu_buf_free(&f);
    } else {
        int anchored = page_anchored(r, p);
        char n[32];
        snprintf(n, sizeof(n), "%d", r->page_size + anchored);
        add_param(&b, first, "$top", n);
        snprintf(n, sizeof(n), "%ld", r->seg_start + p * r->page_size - anchored);
        add_param(&b, 0, "$skip", n);
    }
    return acu_buf_take(&b, NULL);
}

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
    char *url = page_url(r, p);

    if (url == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    snprintf(what, sizeof(what), "GET %s (%s %ld)", acu_map_entity(r->map),
             r->ids != NULL ? "ids batch" : "page", p + 1);
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = url;
    spec.what = what;
    spec.idempotent = 1;
    spec.authorized = 1;
    spec.endpoint = 1;
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
    const char *id = record_id(r, rec);
    const char *lm_text = field_text(rec, r->lm_field);
    int64_t lm = ACU_NO_TIME, fp = 0;
    int by_content = r->src != NULL && r->lm_field == NULL;
    char key[512];
    emit_ctx e;
    conn_status st;

    r->stats->records++;
    if (id == NULL)
        id = "(no id)";
    if (r->found != NULL && r->key_field != NULL) {
        const char *k = field_text(rec, r->key_field);
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

static conn_status checkpoint(pull_run *r)
{
    size_t len = 0;
    char *text = acu_cursor_format(r->cursor, &len);
    conn_status st;

    if (text == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    st = r->inst->host->checkpoint(r->inst->ctx, r->flow, text, len);
    free(text);
    if (st != CONN_OK)
        return acu_err_set(r->err, st, "%s: the host could not keep the cursor (%s)",
                           r->flow, acu_status_name(st));
    r->stats->checkpoints++;
    return CONN_OK;
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
        const char *got = record_id(r, rec);
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
    id = r->src != NULL ? record_id(r, rec) : NULL;
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
    w.anchored = page_anchored(r, r->next_process);
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
        add_param(&b, strchr(r->search_query, '?') == NULL, "$top", n);
        snprintf(n, sizeof(n), "%ld", skip);
        add_param(&b, 0, "$skip", n);
        url = acu_buf_take(&b, NULL);
        if (url == NULL)
            return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
        memset(&spec, 0, sizeof(spec));
        spec.method = "GET";
        spec.url = url;
        spec.what = "GET (finding the read position again)";
        spec.idempotent = 1;
        spec.authorized = 1;
        spec.endpoint = 1;
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
            const char *id = record_id(r, json_object_array_get_idx(doc, i));
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

/* Read every page of the run (or every id batch). */
static conn_status run_pages(pull_run *r)
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

static void run_free(pull_run *r)
{
    free(r->query);
    free(r->search_query);
    free(r->slots);
    json_object_put(r->page_keys);
    json_object_put(r->found);
    memset(r, 0, sizeof(*r));
}

/* ---- the server's clock ----------------------------------------------------- */

/* The upper bound of a new run: the server's clock (from the Date header of
 * its answers) a second ago. Asks for one cheap record when the transport
 * has not heard from the server yet. */
static conn_status server_now(conn_instance *inst, const acu_map *map,
                              int64_t *now, conn_error *err)
{
    int64_t t = acu_http_server_time_ms(inst->http);
    acu_req_spec spec;
    acu_resp *resp = NULL;
    conn_status st;
    char *url;
    acu_buf b;

    if (t == ACU_NO_TIME) {
        acu_buf_init(&b, PULL_URL_MAX);
        acu_buf_addf(&b, "%s/%s", inst->endpoint_base, acu_map_entity(map));
        add_param(&b, 1, "$top", "1");
        if (acu_map_key_count(map) > 0)
            add_param(&b, 0, "$select", acu_map_key(map, 0));
        url = acu_buf_take(&b, NULL);
        if (url == NULL)
            return acu_err_set(err, CONN_NOMEM, "pull: out of memory");
        memset(&spec, 0, sizeof(spec));
        spec.method = "GET";
        spec.url = url;
        spec.what = "GET (server clock)";
        spec.idempotent = 1;
        spec.authorized = 1;
        spec.endpoint = 1;
        st = acu_http_request(inst->http, &spec, &resp, err);
        free(url);
        acu_resp_free(resp);
        if (st != CONN_OK)
            return st;
        t = acu_http_server_time_ms(inst->http);
    }
    if (t == ACU_NO_TIME) {
        t = acu_now_ms(inst);
        acu_log(inst, CONN_LOG_WARN, NULL,
                "Acumatica's answers carry no Date header; the plugin uses the "
                "host's clock for the read window");
    }
    *now = t - 1000;
    return CONN_OK;
}

/* ---- sources ----------------------------------------------------------------- */

/* Read one source of a flow incrementally (or in full). */
static conn_status pull_source(conn_instance *inst, const char *flow,
                               const acu_map *map, acu_cursor *cursor,
                               int full, acu_pull_stats *stats,
                               conn_error *err)
{
    pull_run r;
    acu_cursor_src *src;
    char *filter = NULL;
    conn_status st;
    int64_t until = 0;

    memset(&r, 0, sizeof(r));
    src = acu_cursor_source(cursor, acu_map_name(map));
    if (src == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", flow);
    r.lm_field = acu_map_last_modified_field(map);
    if (src->until_ms == ACU_NO_TIME || full) {
        st = server_now(inst, map, &until, err);
        if (st != CONN_OK)
            return st;
        acu_cursor_run_begin(src, until, full);
        if (src->since_ms == ACU_NO_TIME && !full &&
            strcmp(flow, "tracking") == 0)
            src->since_ms = acu_time_local_days_back(
                until, inst->settings.time_zone_offset_minutes,
                inst->settings.tracking_poll_days);
    } else {
        acu_log(inst, CONN_LOG_INFO, flow,
                "%s: resuming the interrupted read after %ld records",
                acu_map_name(map), src->skip);
    }
    if (r.lm_field == NULL && !full)
        acu_log(inst, CONN_LOG_DEBUG, flow,
                "%s has no last-modified field in endpoint %s: every run reads "
                "all of it and delivers the records whose content changed",
                acu_map_entity(map), inst->settings.endpoint_version);
    filter = window_filter(r.lm_field, src,
                           inst->settings.time_zone_offset_minutes);
    r.inst = inst;
    r.flow = flow;
    r.map = map;
    r.cursor = cursor;
    r.src = src;
    r.page_size = inst->settings.page_size;
    r.window = inst->settings.concurrent_connections;
    r.seg_start = src->skip;
    r.stats = stats;
    r.err = err;
    st = build_query(&r, filter, err);
    if (st == CONN_OK)
        st = build_search_query(&r, filter);
    if (st == CONN_OK) {
        acu_log(inst, CONN_LOG_DEBUG, flow, "%s: reading %s%s", acu_map_name(map),
                acu_map_entity(map), filter != NULL ? " changed in the window" : "");
        st = run_pages(&r);
    }
    free(filter);
    run_free(&r);
    return st;
}

/* Read the records of specific ids (their Acumatica key values) from one
 * source; the key values found are added to `found` (shared by the
 * sources of the flow, so an id is missing only when no source has it). */
static conn_status pull_ids(conn_instance *inst, const char *flow,
                            const acu_map *map, json_object *ids,
                            json_object *found, acu_pull_stats *stats,
                            conn_error *err)
{
    pull_run r;
    conn_status st;
    size_t n = json_object_array_length(ids);

    memset(&r, 0, sizeof(r));
    r.inst = inst;
    r.flow = flow;
    r.map = map;
    r.lm_field = acu_map_last_modified_field(map);
    r.key_field = acu_map_key_count(map) > 0 ? acu_map_key(map, 0) : NULL;
    r.ids = ids;
    r.nbatches = (long)((n + IDS_PER_REQUEST - 1) / IDS_PER_REQUEST);
    r.page_size = IDS_PER_REQUEST;
    r.window = inst->settings.concurrent_connections;
    r.stats = stats;
    r.err = err;
    if (r.key_field == NULL)
        return acu_err_set(err, CONN_UNSUPPORTED,
                           "%s: %s has no key field to read by id", flow,
                           acu_map_entity(map));
    r.found = json_object_get(found);
    st = build_query(&r, NULL, err);
    if (st == CONN_OK && n > 0)
        st = run_pages(&r);
    run_free(&r);
    return st;
}

/* Log the ids of a manual pull that no source of the flow has. */
static void log_missing(conn_instance *inst, const char *flow, json_object *ids,
                        json_object *found, acu_pull_stats *stats)
{
    size_t n = json_object_array_length(ids), missing = 0;
    acu_buf list;

    acu_buf_init(&list, 2048);
    for (size_t i = 0; i < n; i++) {
        const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
        if (json_object_object_get_ex(found, id, NULL))
            continue;
        if (missing++ < 20)
            acu_buf_addf(&list, "%s'%s'", missing > 1 ? ", " : "", id);
    }
    if (missing > 0) {
        stats->missing += missing;
        acu_log(inst, CONN_LOG_WARN, flow,
                "%zu of the %zu requested ids do not exist in Acumatica: %s%s",
                missing, n, list.data != NULL ? list.data : "",
                missing > 20 ? ", ..." : "");
    }
    acu_buf_free(&list);
}

/* ---- the entry point ----------------------------------------------------------- */

conn_status acu_pull_flow(conn_instance *inst, const acu_pull_request *req,
                          acu_pull_stats *stats, conn_error *err)
{
    const acu_mapset *set = inst->mapset;
    acu_cursor *cursor = NULL;
    json_object *found = NULL; /* ids mode: key values some source has */
    conn_status st = CONN_OK;
    size_t nsources = 0;

    if (req->ids != NULL && json_object_array_length(req->ids) > IDS_MAX)
        return acu_err_set(err, CONN_INVALID,
                           "%s: %zu ids asked for; at most %d per pull",
                           req->flow, json_object_array_length(req->ids), IDS_MAX);
    if (req->ids == NULL) {
        st = acu_cursor_parse(req->cursor, req->cursor_len, &cursor, err);
        if (st != CONN_OK)
            return st;
    } else if ((found = json_object_new_object()) == NULL) {
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", req->flow);
    }
    for (size_t i = 0; i < acu_mapset_count(set) && st == CONN_OK; i++) {
        const acu_map *m = acu_mapset_at(set, i);
        if (acu_map_get_direction(m) != ACU_MAP_TO_HOST ||
            strcmp(acu_map_flow(m), req->flow) != 0)
            continue;
        nsources++;
        if (req->ids != NULL)
            st = pull_ids(inst, req->flow, m, req->ids, found, stats, err);
        else
            st = pull_source(inst, req->flow, m, cursor, req->full, stats, err);
    }
    if (st == CONN_OK && nsources == 0)
        st = acu_err_set(err, CONN_UNSUPPORTED,
                         "%s: no mapping reads this flow from Acumatica "
                         "(direction to_host)", req->flow);
    if (st == CONN_OK && found != NULL)
        log_missing(inst, req->flow, req->ids, found, stats);
    json_object_put(found);
    acu_cursor_free(cursor);
    return st;
}

conn_status acu_pull_call(conn_instance *inst, const char *request, size_t len,
                          conn_error *err)
{
    json_object *req = NULL, *v;
    acu_pull_request pr;
    acu_pull_stats stats;
    conn_status st;

    memset(&pr, 0, sizeof(pr));
    memset(&stats, 0, sizeof(stats));
    st = acu_json_parse(request, len, "pull request", &req, err);
    if (st != CONN_OK)
        return st;
    if (!json_object_is_type(req, json_type_object) ||
        !json_object_object_get_ex(req, "flow", &v) ||
        !json_object_is_type(v, json_type_string)) {
        st = acu_err_set(err, CONN_INVALID,
                         "pull request: expected {\"flow\": \"<name>\", ...}");
        goto out;
    }
    pr.flow = json_object_get_string(v);
    if (json_object_object_get_ex(req, "cursor", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (json_object_is_type(v, json_type_string)) {
            pr.cursor = json_object_get_string(v);
            pr.cursor_len = (size_t)json_object_get_string_len(v);
        } else {
            pr.cursor = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
            pr.cursor_len = pr.cursor != NULL ? strlen(pr.cursor) : 0;
        }
    }
    if (json_object_object_get_ex(req, "full", &v))
        pr.full = json_object_get_boolean(v);
    if (json_object_object_get_ex(req, "ids", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_array)) {
            st = acu_err_set(err, CONN_INVALID, "pull request: \"ids\" must be a list");
            goto out;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!json_object_is_type(json_object_array_get_idx(v, i),
                                     json_type_string)) {
                st = acu_err_set(err, CONN_INVALID,
                                 "pull request: ids[%zu] is not a string", i);
                goto out;
            }
        pr.ids = v;
    }
    acu_call_begin(inst);
    st = acu_pull_flow(inst, &pr, &stats, err);
    acu_call_end(inst, pr.flow, "pull");
    acu_log(inst, st == CONN_OK ? CONN_LOG_INFO : CONN_LOG_WARN, pr.flow,
            "pull: %" PRIu64 " pages, %" PRIu64 " records read, %" PRIu64
            " delivered, %" PRIu64 " recognised as delivered before, %" PRIu64
            " skipped, %" PRIu64 " not mappable, %" PRIu64 " checkpoints%s%s",
            stats.pages, stats.records, stats.emitted, stats.recognised,
            stats.skipped, stats.failed, stats.checkpoints,
            st == CONN_OK ? "" : "; ended: ", st == CONN_OK ? "" : acu_status_name(st));
out:
    json_object_put(req);
    return st;
}
