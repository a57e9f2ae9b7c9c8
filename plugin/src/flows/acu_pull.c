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
 * Inventory is read in two steps: stock movements do not touch an item's
 * own stamp, so a run first asks the quantity inquiry what moved since the
 * window's start (acu_pull_stock.c), then reads the window.
 *
 * A request for specific ids (the platform's "manual sync") reads the
 * records by key in batches and leaves the cursor alone. */
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
        pull_add_param(&b, 1, "$top", "1");
        if (acu_map_key_count(map) > 0)
            pull_add_param(&b, 0, "$select", acu_map_key(map, 0));
        url = acu_buf_take(&b, NULL);
        if (url == NULL)
            return acu_err_set(err, CONN_NOMEM, "pull: out of memory");
        acu_req_get(&spec, url, "GET (server clock)");
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
        /* Stock movements do not touch the item's stamp: ask what changed
         * first (acu_pull_stock.c). */
        if (src->since_ms != ACU_NO_TIME && !full && pull_stock_applies(inst, map))
            src->stage = ACU_STAGE_CHANGES;
    } else {
        acu_log(inst, CONN_LOG_INFO, flow,
                "%s: resuming the interrupted read after %ld records",
                acu_map_name(map), src->skip);
    }
    if (src->stage == ACU_STAGE_CHANGES) {
        st = pull_stock_changes(inst, flow, map, cursor, src, stats, err);
        if (st != CONN_OK)
            return st;
    }
    if (r.lm_field == NULL && !full)
        acu_log(inst, CONN_LOG_DEBUG, flow,
                "%s has no last-modified field in endpoint %s: every run reads "
                "all of it and delivers the records whose content changed",
                acu_map_entity(map), inst->settings.endpoint_version);
    filter = pull_window_filter(r.lm_field, src,
                           inst->settings.time_zone_offset_minutes);
    r.inst = inst;
    r.flow = flow;
    r.map = map;
    r.cursor = cursor;
    r.src = src;
    r.page_size = inst->settings.page_size;
    r.window = inst->settings.concurrent_connections;
    r.seg_start = src->skip;
    if (pull_stock_applies(inst, map) && src->since_ms != ACU_NO_TIME && !full) {
        r.delivered = pull_stock_delivered(src);
        if (r.delivered == NULL) {
            free(filter);
            return acu_err_set(err, CONN_NOMEM, "%s: out of memory", flow);
        }
    }
    r.stats = stats;
    r.err = err;
    st = pull_build_query(&r, filter, err);
    if (st == CONN_OK)
        st = pull_build_search_query(&r, filter);
    if (st == CONN_OK) {
        acu_log(inst, CONN_LOG_DEBUG, flow, "%s: reading %s%s", acu_map_name(map),
                acu_map_entity(map), filter != NULL ? " changed in the window" : "");
        st = pull_run_pages(&r);
    }
    free(filter);
    pull_run_free(&r);
    return st;
}

/* Read the records of specific ids (their Acumatica key values) from one
 * source; the key values found are added to `found` (shared by the
 * sources of the flow, so an id is missing only when no source has it). */
conn_status pull_ids_read(conn_instance *inst, const char *flow,
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
    st = pull_build_query(&r, NULL, err);
    if (st == CONN_OK && n > 0)
        st = pull_run_pages(&r);
    pull_run_free(&r);
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
            st = pull_ids_read(inst, req->flow, m, req->ids, found, stats, err);
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
    acu_call_end(inst, pr.flow, "pull", stats.pages, stats.emitted);
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
