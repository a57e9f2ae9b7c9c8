/* acu_cursor.c - the pull cursor; see acu_cursor.h for why it looks so. */
#include "acu_cursor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"
#include "acu_time.h"

#define CURSOR_VERSION 1

/* "id|ms" into buf; the id is cut (never a collision in practice: ids are
 * GUIDs or keys far shorter than the buffer). */
static void seen_key(char *buf, size_t cap, const char *id, int64_t ms)
{
    snprintf(buf, cap, "%s|%" PRId64, id, ms);
}

static int64_t key_ms(const char *key)
{
    const char *bar = strrchr(key, '|');

    return bar != NULL ? strtoll(bar + 1, NULL, 10) : ACU_NO_TIME;
}

static void src_clear(acu_cursor_src *s)
{
    free(s->name);
    json_object_put(s->seen);
    json_object_put(s->run_seen);
    json_object_put(s->anchors);
    memset(s, 0, sizeof(*s));
}

void acu_cursor_free(acu_cursor *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        src_clear(&c->src[i]);
    free(c->src);
    free(c);
}

acu_cursor_src *acu_cursor_source(acu_cursor *c, const char *name)
{
    acu_cursor_src *grown, *s;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->src[i].name, name) == 0)
            return &c->src[i];
    grown = realloc(c->src, (c->n + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    c->src = grown;
    s = &c->src[c->n];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    s->seen = json_object_new_object();
    s->run_seen = json_object_new_object();
    s->anchors = json_object_new_array();
    if (s->name == NULL || s->seen == NULL || s->run_seen == NULL ||
        s->anchors == NULL) {
        src_clear(s);
        return NULL;
    }
    s->since_ms = ACU_NO_TIME;
    s->until_ms = ACU_NO_TIME;
    s->dropped_max_ms = ACU_NO_TIME;
    c->n++;
    return s;
}

/* An instant from the cursor: null, or RFC 3339 text. */
static int read_time(json_object *o, int64_t *ms)
{
    if (o == NULL || json_object_is_type(o, json_type_null)) {
        *ms = ACU_NO_TIME;
        return 0;
    }
    if (!json_object_is_type(o, json_type_string))
        return -1;
    return acu_time_parse(json_object_get_string(o), 0, ms);
}

static int read_set(json_object *arr, json_object *set)
{
    if (arr == NULL)
        return 0;
    if (!json_object_is_type(arr, json_type_array))
        return -1;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *k = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(k, json_type_string) ||
            strchr(json_object_get_string(k), '|') == NULL)
            return -1;
        if (json_object_object_add(set, json_object_get_string(k), NULL) != 0)
            return -1;
    }
    return 0;
}

static int read_anchors(json_object *arr, json_object *anchors)
{
    if (arr == NULL)
        return 0;
    if (!json_object_is_type(arr, json_type_array) ||
        json_object_array_length(arr) > ACU_CURSOR_ANCHORS)
        return -1;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *k = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(k, json_type_string) ||
            json_object_array_add(anchors, json_object_get(k)) != 0)
            return -1;
    }
    return 0;
}

static int read_source(acu_cursor *c, const char *name, json_object *o)
{
    acu_cursor_src *s;
    json_object *v;

    if (!json_object_is_type(o, json_type_object))
        return -1;
    s = acu_cursor_source(c, name);
    if (s == NULL)
        return -1;
    if (read_time(json_object_object_get(o, "since"), &s->since_ms) != 0 ||
        read_time(json_object_object_get(o, "until"), &s->until_ms) != 0)
        return -1;
    v = json_object_object_get(o, "stage");
    if (v != NULL) {
        if (!json_object_is_type(v, json_type_string))
            return -1;
        if (strcmp(json_object_get_string(v), "changes") == 0)
            s->stage = ACU_STAGE_CHANGES;
        else if (strcmp(json_object_get_string(v), "window") != 0)
            return -1;
    }
    v = json_object_object_get(o, "skip");
    if (v != NULL) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
            return -1;
        s->skip = (long)json_object_get_int64(v);
    }
    if (read_set(json_object_object_get(o, "seen"), s->seen) != 0 ||
        read_set(json_object_object_get(o, "run_seen"), s->run_seen) != 0 ||
        read_anchors(json_object_object_get(o, "anchors"), s->anchors) != 0)
        return -1;
    return 0;
}

static int read_sources(acu_cursor *c, json_object *sources)
{
    json_object_object_foreach(sources, name, src) {
        if (read_source(c, name, src) != 0)
            return -1;
    }
    return 0;
}

conn_status acu_cursor_parse(const char *text, size_t len, acu_cursor **out,
                             conn_error *err)
{
    acu_cursor *c = NULL;
    json_object *doc = NULL, *v, *sources;
    conn_status st = CONN_OK;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return acu_err_set(err, CONN_NOMEM, "pull: out of memory");
    if (text == NULL || len == 0)
        goto done;
    st = acu_json_parse(text, len, "pull cursor", &doc, err);
    if (st != CONN_OK)
        goto bad;
    if (json_object_is_type(doc, json_type_null))
        goto done;
    v = json_object_object_get(doc, "v");
    if (!json_object_is_type(doc, json_type_object) || v == NULL ||
        json_object_get_int(v) != CURSOR_VERSION)
        goto bad;
    sources = json_object_object_get(doc, "sources");
    if (sources == NULL || !json_object_is_type(sources, json_type_object))
        goto bad;
    if (read_sources(c, sources) != 0)
        goto bad;
done:
    json_object_put(doc);
    *out = c;
    return CONN_OK;
bad:
    json_object_put(doc);
    acu_cursor_free(c);
    if (st == CONN_NOMEM)
        return st;
    return acu_err_set(err, CONN_INVALID,
                       "pull: the stored cursor is not one this plugin version "
                       "can read; reset the flow's cursor (a full re-read) to "
                       "start again");
}

static json_object *time_json(int64_t ms)
{
    char buf[48];

    if (ms == ACU_NO_TIME)
        return NULL;
    acu_time_format(ms, 0, 1, buf, sizeof(buf));
    return json_object_new_string(buf);
}

static json_object *set_json(json_object *set)
{
    json_object *arr = json_object_new_array();

    if (arr == NULL)
        return NULL;
    json_object_object_foreach(set, k, unused) {
        (void)unused;
        json_object_array_add(arr, json_object_new_string(k));
    }
    return arr;
}

char *acu_cursor_format(const acu_cursor *c, size_t *len)
{
    json_object *doc = json_object_new_object();
    json_object *sources = json_object_new_object();
    char *text = NULL;
    const char *s;

    if (doc == NULL || sources == NULL)
        goto out;
    json_object_object_add(doc, "v", json_object_new_int(CURSOR_VERSION));
    for (size_t i = 0; i < c->n; i++) {
        const acu_cursor_src *src = &c->src[i];
        json_object *o = json_object_new_object();
        if (o == NULL)
            goto out;
        json_object_object_add(o, "since", time_json(src->since_ms));
        json_object_object_add(o, "until", time_json(src->until_ms));
        json_object_object_add(o, "skip", json_object_new_int64(src->skip));
        json_object_object_add(o, "seen", set_json(src->seen));
        if (src->until_ms != ACU_NO_TIME) {
            json_object_object_add(o, "stage", json_object_new_string(
                src->stage == ACU_STAGE_CHANGES ? "changes" : "window"));
            json_object_object_add(o, "run_seen", set_json(src->run_seen));
            json_object_object_add(o, "anchors", json_object_get(src->anchors));
        }
        json_object_object_add(sources, src->name, o);
    }
    json_object_object_add(doc, "sources", sources);
    sources = NULL;
    s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
    if (s != NULL) {
        text = strdup(s);
        if (text != NULL && len != NULL)
            *len = strlen(text);
    }
out:
    json_object_put(sources);
    json_object_put(doc);
    return text;
}

static int cmp_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Keep set within ACU_CURSOR_SEEN_MAX: drop the pairs with the oldest
 * stamps until at most half the limit is left - among pairs that share
 * the cut-off stamp too (a bulk import stamps thousands of records alike;
 * keeping every pair of the stamp would let the set grow past the limit).
 * Returns how many went. */
static unsigned long cap_set(json_object *set, int64_t *dropped_max)
{
    size_t n = (size_t)json_object_object_length(set), i = 0, drop, below = 0;
    size_t equal_drop;
    int64_t *ms, cut;
    unsigned long dropped = 0;
    json_object *victims;

    if (n <= ACU_CURSOR_SEEN_MAX)
        return 0;
    ms = malloc(n * sizeof(*ms));
    if (ms == NULL)
        return 0;
    {
        json_object_object_foreach(set, k, unused) {
            (void)unused;
            ms[i++] = key_ms(k);
        }
    }
    qsort(ms, n, sizeof(*ms), cmp_ms);
    drop = n - ACU_CURSOR_SEEN_MAX / 2;
    cut = ms[drop]; /* the first stamp kept: ms[0 .. drop-1] go */
    while (below < drop && ms[below] < cut)
        below++;
    equal_drop = drop - below; /* of the pairs stamped `cut`, these go too */
    free(ms);
    victims = json_object_new_array();
    if (victims == NULL)
        return 0;
    {
        json_object_object_foreach(set, k, unused) {
            int64_t t = key_ms(k);
            (void)unused;
            if (t < cut || (t == cut && equal_drop > 0)) {
                if (t == cut)
                    equal_drop--;
                if (*dropped_max == ACU_NO_TIME || t > *dropped_max)
                    *dropped_max = t;
                json_object_array_add(victims, json_object_new_string(k));
            }
        }
    }
    for (i = 0; i < json_object_array_length(victims); i++) {
        json_object_object_del(set, json_object_get_string(
                                        json_object_array_get_idx(victims, i)));
        dropped++;
    }
    json_object_put(victims);
    return dropped;
}

void acu_cursor_run_begin(acu_cursor_src *src, int64_t until_ms, int full)
{
    if (full) {
        src->since_ms = ACU_NO_TIME;
        json_object_put(src->seen);
        src->seen = json_object_new_object();
    }
    src->until_ms = until_ms;
    src->skip = 0;
    src->stage = ACU_STAGE_WINDOW;
    src->dropped = 0;
    src->dropped_max_ms = ACU_NO_TIME;
    json_object_put(src->run_seen);
    src->run_seen = json_object_new_object();
    acu_cursor_anchor_cut(src, -1);
}

conn_status acu_cursor_run_end(acu_cursor_src *src, int64_t overlap_ms,
                               conn_error *err)
{
    int64_t next_since = src->until_ms - overlap_ms;
    int64_t floor = src->until_ms - ACU_CURSOR_MIN_OVERLAP_MS;
    json_object *seen = src->run_seen, *stale;

    /* Pairs seen by earlier runs that are still inside the next window were
     * recognised, not delivered, by this run: keep them. */
    json_object_object_foreach(src->seen, k, unused) {
        (void)unused;
        if (key_ms(k) >= next_since &&
            json_object_object_add(seen, k, NULL) != 0)
            return acu_err_set(err, CONN_NOMEM, "pull: out of memory");
    }
    src->dropped += cap_set(seen, &src->dropped_max_ms);
    /* The window never moves back: a start raised past dropped pairs by
     * the last run stays raised. */
    if (src->since_ms != ACU_NO_TIME && src->since_ms > next_since)
        next_since = src->since_ms;
    /* Start after what was dropped (see ACU_CURSOR_SEEN_MAX). */
    if (src->dropped_max_ms != ACU_NO_TIME && src->dropped_max_ms >= next_since)
        next_since = src->dropped_max_ms + 1 < floor ? src->dropped_max_ms + 1
                                                      : floor;
    /* Pairs before the next window are of no more use. */
    {
        stale = json_object_new_array();
        if (stale == NULL)
            return acu_err_set(err, CONN_NOMEM, "pull: out of memory");
        {
            json_object_object_foreach(seen, k2, unused2) {
                (void)unused2;
                if (key_ms(k2) < next_since)
                    json_object_array_add(stale, json_object_new_string(k2));
            }
        }
        for (size_t i = 0; i < json_object_array_length(stale); i++)
            json_object_object_del(seen, json_object_get_string(
                                             json_object_array_get_idx(stale, i)));
        json_object_put(stale);
    }
    json_object_put(src->seen);
    src->seen = seen;
    src->run_seen = json_object_new_object();
    if (src->run_seen == NULL)
        return acu_err_set(err, CONN_NOMEM, "pull: out of memory");
    src->since_ms = next_since;
    src->until_ms = ACU_NO_TIME;
    src->skip = 0;
    acu_cursor_anchor_cut(src, -1);
    return CONN_OK;
}

void acu_cursor_run_end_all(acu_cursor_src *src)
{
    json_object_put(src->seen);
    src->seen = src->run_seen;
    src->run_seen = json_object_new_object();
    src->until_ms = ACU_NO_TIME;
    src->skip = 0;
    acu_cursor_anchor_cut(src, -1);
}

conn_status acu_cursor_keep(acu_cursor_src *src, const char *id,
                            int64_t fingerprint)
{
    char key[512];

    seen_key(key, sizeof(key), id, fingerprint);
    if (json_object_object_add(src->run_seen, key, NULL) != 0)
        return CONN_NOMEM;
    src->dropped += cap_set(src->run_seen, &src->dropped_max_ms);
    return CONN_OK;
}

int acu_cursor_seen(const acu_cursor_src *src, const char *id, int64_t ms)
{
    char key[512];

    seen_key(key, sizeof(key), id, ms);
    return json_object_object_get_ex(src->seen, key, NULL) ||
           json_object_object_get_ex(src->run_seen, key, NULL);
}

conn_status acu_cursor_delivered(acu_cursor_src *src, const char *id,
                                 int64_t ms, int64_t overlap_ms)
{
    char key[512];

    if (src->until_ms != ACU_NO_TIME && ms < src->until_ms - overlap_ms)
        return CONN_OK;
    seen_key(key, sizeof(key), id, ms);
    if (json_object_object_add(src->run_seen, key, NULL) != 0)
        return CONN_NOMEM;
    src->dropped += cap_set(src->run_seen, &src->dropped_max_ms);
    return CONN_OK;
}

conn_status acu_cursor_anchor_add(acu_cursor_src *src, const char *id)
{
    size_t n;

    if (json_object_array_add(src->anchors, json_object_new_string(id)) != 0)
        return CONN_NOMEM;
    n = json_object_array_length(src->anchors);
    if (n > ACU_CURSOR_ANCHORS)
        json_object_array_del_idx(src->anchors, 0, n - ACU_CURSOR_ANCHORS);
    return CONN_OK;
}

const char *acu_cursor_anchor_last(const acu_cursor_src *src)
{
    size_t n = json_object_array_length(src->anchors);

    return n > 0 ? json_object_get_string(json_object_array_get_idx(src->anchors, n - 1))
                 : NULL;
}

void acu_cursor_anchor_cut(acu_cursor_src *src, long i)
{
    size_t n = json_object_array_length(src->anchors);
    size_t keep = i < 0 ? 0 : (size_t)i + 1;

    if (keep < n)
        json_object_array_del_idx(src->anchors, keep, n - keep);
}
