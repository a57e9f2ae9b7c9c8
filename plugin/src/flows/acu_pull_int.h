/* acu_pull_int.h - the pull engine's insides, shared by acu_pull.c (the
 * sources, the server's clock, the entry point), acu_pull_query.c (the
 * URLs it asks) and acu_pull_pages.c (reading pages in order: records,
 * checkpoints, finding the read position again). See acu_pull.c for the
 * model. */
#ifndef ACU_PULL_INT_H
#define ACU_PULL_INT_H

#include <json-c/json.h>
#include <stdint.h>

#include "acu_buf.h"
#include "acu_cursor.h"
#include "acu_flows.h"
#include "acu_http.h"
#include "acu_map.h"

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
    json_object *delivered; /* window stage after a changes stage: the
                               first keys delivered by it (a set); their
                               records are not delivered twice in a run */
    acu_pull_stats *stats;
    conn_error *err;
};

/* The unwrapped text of field `name` of an Acumatica record, or NULL. */
const char *pull_field_text(json_object *rec, const char *name);

/* The id of an Acumatica record: its "id" (the NoteID every answer
 * carries), else its first key value; NULL when it has neither. */
const char *pull_record_id(const pull_run *r, json_object *rec);

/* Append "&name=<escaped value>" ('?' when first); $-names unescaped. */
acu_buf_rc pull_add_param(acu_buf *b, int first, const char *name,
                          const char *value);

/* Page p begins with the record before its position (the anchor): every
 * page of a run but the very first, unless resuming the run of an older
 * cursor that has no anchors. */
int pull_page_anchored(const pull_run *r, long p);

/* The URL of page p: the query with $top/$skip, or with the id batch. */
char *pull_page_url(pull_run *r, long p);

/* The $filter text of a run of src over [since, until), in the business's
 * local time, or NULL without a last-modified field. */
char *pull_window_filter(const char *lm, const acu_cursor_src *src,
                         int offset_min);

/* The query of a source: ?$filter&$select&$expand&$custom. */
conn_status pull_build_query(pull_run *r, const char *filter,
                             conn_error *err);

/* The query of the id-only reads that find the read position again: the
 * window's filter and only the key fields ("id" comes with every record). */
conn_status pull_build_search_query(pull_run *r, const char *filter);

/* Hand the cursor to the host's checkpoint; counted in stats. */
conn_status pull_checkpoint(conn_instance *inst, const char *flow,
                            const acu_cursor *cursor, acu_pull_stats *stats,
                            conn_error *err);

/* Read the records of `ids` (values of the map's first key) in batches and
 * emit them; keys found are added to `found` (a set object, may be NULL).
 * Leaves every cursor alone. */
conn_status pull_ids_read(conn_instance *inst, const char *flow,
                          const acu_map *map, json_object *ids,
                          json_object *found, acu_pull_stats *stats,
                          conn_error *err);

/* Inventory: whether the changes stage applies to this mapping (it reads
 * StockItem quantities and the endpoint has the quantity inquiry), and the
 * stage itself (acu_pull_stock.c). */
int pull_stock_applies(const conn_instance *inst, const acu_map *map);
conn_status pull_stock_changes(conn_instance *inst, const char *flow,
                               const acu_map *map, acu_cursor *cursor,
                               acu_cursor_src *src, acu_pull_stats *stats,
                               conn_error *err);
/* The keys (InventoryID) the changes stage of the run in progress
 * delivered: a new set, or NULL when out of memory. */
json_object *pull_stock_delivered(const acu_cursor_src *src);

/* Read every page of the run (or every id batch). */
conn_status pull_run_pages(pull_run *r);

/* Free what the run owns (not the run itself) and zero it. */
void pull_run_free(pull_run *r);

#endif
