/* acu_pull_stock.c - stock movements for the inventory flow.
 *
 * Why a second step: a stock movement (a receipt, a confirmed shipment, an
 * adjustment) changes the quantities of a warehouse line of a stock item
 * without changing the item's own last-modified stamp, so reading the
 * StockItem window alone would never see it. The generic inquiry
 * InventoryQuantityAvailable (GI640590, read with PUT and $expand=Results)
 * lists the items whose quantities changed since a moment, each with the
 * stamp of its last change.
 *
 * So a run of the inventory flow starts with the changes stage: it asks the
 * inquiry for the changes since the window's start, leaves out the changes
 * it delivered before - (InventoryID, stamp) pairs in the cursor's `seen`,
 * like any delivered record - reads the other items by key with their
 * warehouse lines, emits them, and checkpoints after each chunk so a
 * cancelled run resumes without a duplicate. Then the run reads the window
 * as usual (items edited themselves). */
#include "acu_pull_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"
#include "acu_time.h"

#define INQUIRY "InventoryQuantityAvailable"

int pull_stock_applies(const conn_instance *inst, const acu_map *map)
{
    const char *each = acu_map_for_each(map);

    return strcmp(acu_map_entity(map), "StockItem") == 0 && each != NULL &&
           strcmp(each, "WarehouseDetails") == 0 &&
           acu_mapset_has_entity(inst->mapset, INQUIRY);
}

/* Ask the inquiry for the items whose quantities changed since `since`;
 * *changes becomes an object InventoryID -> stamp (ms, the newest of its
 * rows) of the changes not delivered before. */
static conn_status ask(conn_instance *inst, const char *flow,
                       acu_cursor_src *src, json_object **changes,
                       conn_error *err)
{
    char url[2048], since[48];
    json_object *body = NULL, *doc = NULL, *results, *out = NULL;
    acu_req_spec spec;
    acu_resp *resp = NULL;
    const char *text;
    conn_status st;
    int offset = inst->settings.time_zone_offset_minutes;

    *changes = NULL;
    snprintf(url, sizeof(url), "%s/" INQUIRY "?$expand=Results", inst->endpoint_base);
    acu_time_format(src->since_ms, offset, 0, since, sizeof(since));
    body = json_object_new_object();
    out = json_object_new_object();
    if (body == NULL || out == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "%s: out of memory", flow);
        goto done;
    }
    json_object_object_add(body, "LastModifiedDateTime", json_object_new_object());
    json_object_object_add(json_object_object_get(body, "LastModifiedDateTime"),
                           "value", json_object_new_string(since));
    text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
    /* An inquiry: a PUT that writes nothing, safe to send again. */
    acu_req_get(&spec, url, "PUT " INQUIRY " (stock changes)");
    spec.method = "PUT";
    spec.content_type = "application/json";
    spec.body = text;
    spec.body_len = strlen(text);
    st = acu_http_request(inst->http, &spec, &resp, err);
    if (st != CONN_OK)
        goto done;
    st = acu_json_parse(resp->body, resp->body_len, "Acumatica's answer", &doc, err);
    if (st != CONN_OK)
        goto done;
    if (!json_object_object_get_ex(doc, "Results", &results) ||
        !json_object_is_type(results, json_type_array)) {
        st = acu_err_set(err, CONN_INTERNAL,
                         "%s: Acumatica's " INQUIRY " answer has no Results list",
                         flow);
        goto done;
    }
    for (size_t i = 0; i < json_object_array_length(results); i++) {
        json_object *row = json_object_array_get_idx(results, i), *prev;
        const char *iid = pull_field_text(row, "InventoryID");
        const char *lm_text = pull_field_text(row, "LastModifiedDateTime");
        int64_t lm = src->since_ms;

        if (iid == NULL)
            continue;
        if (lm_text != NULL && acu_time_parse(lm_text, offset, &lm) != 0)
            lm = src->since_ms;
        /* The inquiry may filter by day: changes before the window's start
         * were delivered by an earlier run. */
        if (lm < src->since_ms || acu_cursor_seen(src, iid, lm))
            continue;
        if (json_object_object_get_ex(out, iid, &prev) &&
            json_object_get_int64(prev) >= lm)
            continue;
        json_object_object_add(out, iid, json_object_new_int64(lm));
    }
    *changes = out;
    out = NULL;
done:
    json_object_put(out);
    json_object_put(doc);
    json_object_put(body);
    acu_resp_free(resp);
    return st;
}

conn_status pull_stock_changes(conn_instance *inst, const char *flow,
                               const acu_map *map, acu_cursor *cursor,
                               acu_cursor_src *src, acu_pull_stats *stats,
                               conn_error *err)
{
    /* Items per checkpoint: one round of id batches on every connection. */
    const size_t chunk = 25 * (size_t)inst->settings.concurrent_connections;
    json_object *changes = NULL, *ids = NULL, *lms = NULL;
    conn_status st;
    size_t n = 0;

    st = ask(inst, flow, src, &changes, err);
    if (st != CONN_OK)
        return st;
    n = (size_t)json_object_object_length(changes);
    acu_log(inst, CONN_LOG_DEBUG, flow,
            "%s: %zu items had stock movements since the window's start",
            acu_map_name(map), n);
    /* Chunk by chunk: read, emit, remember the pairs, checkpoint. */
    while (st == CONN_OK && json_object_object_length(changes) > 0) {
        ids = json_object_new_array();
        lms = json_object_new_array();
        if (ids == NULL || lms == NULL) {
            st = acu_err_set(err, CONN_NOMEM, "%s: out of memory", flow);
            break;
        }
        {
            json_object_object_foreach(changes, iid, lm) {
                if (json_object_array_length(ids) >= chunk)
                    break;
                json_object_array_add(ids, json_object_new_string(iid));
                json_object_array_add(lms, json_object_get(lm));
            }
        }
        st = pull_ids_read(inst, flow, map, ids, NULL, stats, err);
        for (size_t i = 0; st == CONN_OK && i < json_object_array_length(ids); i++) {
            const char *iid = json_object_get_string(json_object_array_get_idx(ids, i));
            int64_t lm = json_object_get_int64(json_object_array_get_idx(lms, i));

            /* Kept whatever its age for the rest of this run (the window
             * stage skips these items); run_end drops what is too old. */
            if (acu_cursor_keep(src, iid, lm) != CONN_OK)
                st = acu_err_set(err, CONN_NOMEM, "%s: out of memory", flow);
            json_object_object_del(changes, iid);
        }
        if (st == CONN_OK)
            st = pull_checkpoint(inst, flow, cursor, stats, err);
        json_object_put(ids);
        json_object_put(lms);
        ids = lms = NULL;
    }
    if (st == CONN_OK) {
        src->stage = ACU_STAGE_WINDOW;
        st = pull_checkpoint(inst, flow, cursor, stats, err);
    }
    json_object_put(changes);
    return st;
}

json_object *pull_stock_delivered(const acu_cursor_src *src)
{
    json_object *set = json_object_new_object();

    if (set == NULL)
        return NULL;
    json_object_object_foreach(src->run_seen, k, unused) {
        const char *bar = strrchr(k, '|');
        char key[256];
        (void)unused;
        if (bar == NULL || (size_t)(bar - k) >= sizeof(key))
            continue;
        memcpy(key, k, (size_t)(bar - k));
        key[bar - k] = '\0';
        json_object_object_add(set, key, NULL);
    }
    return set;
}
