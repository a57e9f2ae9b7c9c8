/* acu_pull_query.c - the URLs a pull asks: the window's $filter in the
 * business's local time, $select/$expand/$custom from the mapping, $top and
 * $skip (one record of overlap after the first page), id batches, id-only
 * reads. Values are escaped with libcurl; OData string literals double
 * their quotes. */
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

const char *pull_field_text(json_object *rec, const char *name)
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

const char *pull_record_id(const pull_run *r, json_object *rec)
{
    const char *id = pull_field_text(rec, "id");

    if (id == NULL && acu_map_key_count(r->map) > 0)
        id = pull_field_text(rec, acu_map_key(r->map, 0));
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

acu_buf_rc pull_add_param(acu_buf *b, int first, const char *name,
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

char *pull_window_filter(const char *lm, const acu_cursor_src *src,
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

conn_status pull_build_query(pull_run *r, const char *filter,
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
        pull_add_param(&b, first, "$filter", filter);
        first = 0;
    }
    if (select != NULL) {
        pull_add_param(&b, first, "$select", select);
        first = 0;
    }
    if (expand != NULL) {
        pull_add_param(&b, first, "$expand", expand);
        first = 0;
    }
    if (custom != NULL)
        pull_add_param(&b, first, "$custom", custom);
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

int pull_page_anchored(const pull_run *r, long p)
{
    if (r->ids != NULL || r->seg_start + p * r->page_size == 0)
        return 0;
    return p > 0 || acu_cursor_anchor_last(r->src) != NULL;
}

conn_status pull_build_search_query(pull_run *r, const char *filter)
{
    acu_buf b, keys;
    int first = 1;

    acu_buf_init(&b, PULL_URL_MAX);
    acu_buf_init(&keys, PULL_URL_MAX);
    acu_buf_adds(&b, "/");
    acu_buf_adds(&b, acu_map_entity(r->map));
    if (filter != NULL) {
        pull_add_param(&b, first, "$filter", filter);
        first = 0;
    }
    for (size_t i = 0; i < acu_map_key_count(r->map); i++)
        acu_buf_addf(&keys, "%s%s", i > 0 ? "," : "", acu_map_key(r->map, i));
    if (keys.data != NULL)
        pull_add_param(&b, first, "$select", keys.data);
    acu_buf_free(&keys);
    r->search_query = acu_buf_take(&b, NULL);
    if (r->search_query == NULL)
        return acu_err_set(r->err, CONN_NOMEM, "%s: out of memory", r->flow);
    return CONN_OK;
}

char *pull_page_url(pull_run *r, long p)
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
            pull_add_param(&b, first, "$filter", f.data);
        acu_buf_free(&f);
    } else {
        int anchored = pull_page_anchored(r, p);
        char n[32];
        snprintf(n, sizeof(n), "%d", r->page_size + anchored);
        pull_add_param(&b, first, "$top", n);
        snprintf(n, sizeof(n), "%ld", r->seg_start + p * r->page_size - anchored);
        pull_add_param(&b, 0, "$skip", n);
    }
    return acu_buf_take(&b, NULL);
}

