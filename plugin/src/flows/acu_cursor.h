/* acu_cursor.h - the pull cursor: where an incremental read of each source
 * (one mapping, one Acumatica entity) stands, as text the host keeps.
 *
 * Why it looks like this
 *   Acumatica lists records in key order and has no $orderby, so a run
 *   cannot page by last-modified time. Each run therefore reads a fixed
 *   window of last-modified values [since, until) page by page with
 *   $top/$skip, where `until` is the server's clock when the run began.
 *   During the run the window can only lose records (one modified now gets
 *   a stamp >= until and leaves it) and such records are read by the next
 *   run, whose window starts at until - overlap. The overlap covers late
 *   commits and clock granularity; records delivered inside it are kept in
 *   `seen` as (id, last-modified) pairs so the next run recognises them and
 *   delivers nothing twice, even when many records share one timestamp.
 *
 *
 *   A record that leaves the window during the run also moves every record
 *   after it one place forward in the key order, so a $skip computed from
 *   the records done would pass over one that stayed. The run therefore
 *   keeps `anchors`, the ids of the last records it read, and asks each
 *   page with one record of overlap: the first record of the answer must
 *   be the last one read. When it is not, records before the position left
 *   (or came in); the run finds the last anchor still in the window with a
 *   cheap id-only read around the position and goes on right after it (see
 *   acu_pull.c).
 *
 * Text form (JSON, versioned):
 *   {"v":1,"sources":{"<mapping>":{"since":"<RFC 3339 UTC>"|null,
 *     "until":"<RFC 3339 UTC>"|null,"skip":<records done in the run>,
 *     "seen":["<id>|<ms>",...],"run_seen":["<id>|<ms>",...],
 *     "anchors":["<id>",...]}}}
 *   `until` is set only while a run is in progress (a pull that was
 *   cancelled or failed resumes it); `run_seen` collects, during the run,
 *   what becomes `seen` at its end; `anchors` (run in progress only) are
 *   the ids of the last records read, oldest first. A cursor without
 *   `anchors` (an older plugin's) resumes without the overlap check. */
#ifndef ACU_CURSOR_H
#define ACU_CURSOR_H

#include <json-c/json.h>
#include <stdint.h>

#include "conn_abi.h"

/* No time: an open bound. */
#define ACU_NO_TIME INT64_MIN

/* Most anchors kept: the read position is lost only when all of the last
 * this many records read left the window before the next page was read. */
#define ACU_CURSOR_ANCHORS 100
/* Most (id, last-modified) pairs a source keeps. More records than this
 * changed within the overlap of one run's end (a mass update or an import)
 * would make the cursor grow with them: the oldest pairs are dropped (of
 * the cut-off stamp too), and the next run starts just after the newest
 * dropped stamp instead of a full overlap before `until`, so those records
 * are not delivered again - but never later than ACU_CURSOR_MIN_OVERLAP_MS
 * before `until`: records dropped inside that last stretch may come once
 * more (never lost), and late commits there are still caught. */
#define ACU_CURSOR_SEEN_MAX 5000
#define ACU_CURSOR_MIN_OVERLAP_MS 10000

/* The steps of a run of a source read in two (see acu_pull_stock.c). */
#define ACU_STAGE_WINDOW 0   /* the last-modified window, page by page */
#define ACU_STAGE_CHANGES 1  /* first the records a change inquiry names */

typedef struct acu_cursor_src {
    char *name;           /* the mapping's name */
    int64_t since_ms;     /* inclusive lower bound, or ACU_NO_TIME */
    int64_t until_ms;     /* run in progress: exclusive upper bound; else ACU_NO_TIME */
    long skip;            /* run in progress: records already delivered */
    json_object *seen;    /* set ("id|ms" keys): delivered, stamp >= since */
    json_object *run_seen;/* set: delivered in this run, stamp >= until - overlap */
    int stage;            /* run in progress: ACU_STAGE_* (sources read in
                             two steps: inventory) */
    unsigned long dropped; /* pairs dropped by ACU_CURSOR_SEEN_MAX this run */
    int64_t dropped_max_ms; /* the newest stamp dropped this run, or ACU_NO_TIME */
    json_object *anchors; /* run in progress: array of the ids of the last
                             records read (at most ACU_CURSOR_ANCHORS), oldest first */
} acu_cursor_src;

typedef struct acu_cursor {
    acu_cursor_src *src;
    size_t n;
} acu_cursor;

/* Parse a cursor from the host (text may be NULL or empty: a fresh start).
 * A cursor this version cannot read is CONN_INVALID with a sentence that
 * tells the operator to reset the flow's cursor. */
conn_status acu_cursor_parse(const char *text, size_t len, acu_cursor **out,
                             conn_error *err);

/* The cursor as text (malloc'd); NULL when out of memory. */
char *acu_cursor_format(const acu_cursor *c, size_t *len);

/* The source named `name`, added (fresh) when absent; NULL on no memory. */
acu_cursor_src *acu_cursor_source(acu_cursor *c, const char *name);

/* Free; accepts NULL. */
void acu_cursor_free(acu_cursor *c);

/* Begin a run of `src` reading stamps before until_ms. A full re-read
 * drops the lower bound and what was seen. */
void acu_cursor_run_begin(acu_cursor_src *src, int64_t until_ms, int full);

/* End the run: the next one starts at until - overlap, and `seen` keeps
 * every delivered pair whose stamp is inside the new window. */
conn_status acu_cursor_run_end(acu_cursor_src *src, int64_t overlap_ms,
                               conn_error *err);

/* End the run of a source without a last-modified field: every run reads
 * all of it, and `seen` becomes exactly what this run saw (see
 * acu_cursor_keep), so records that vanished are forgotten. */
void acu_cursor_run_end_all(acu_cursor_src *src);

/* Record (id, fingerprint) of a record read in this run, delivered or not
 * (sources without a last-modified field). CONN_NOMEM. */
conn_status acu_cursor_keep(acu_cursor_src *src, const char *id,
                            int64_t fingerprint);

/* Nonzero when (id, stamp) was delivered before (by an earlier run, or
 * earlier in this one). */
int acu_cursor_seen(const acu_cursor_src *src, const char *id, int64_t ms);

/* Record a delivered (id, stamp) of the run in progress; kept when the
 * stamp is within overlap_ms of the run's upper bound. CONN_NOMEM. */
conn_status acu_cursor_delivered(acu_cursor_src *src, const char *id,
                                 int64_t ms, int64_t overlap_ms);

/* Note that the record `id` was read (delivered or not) as the next one
 * of the run's window; the oldest anchors beyond ACU_CURSOR_ANCHORS go.
 * CONN_NOMEM. */
conn_status acu_cursor_anchor_add(acu_cursor_src *src, const char *id);

/* The id of the last record read in the run, or NULL (none, or a cursor
 * of an older version). */
const char *acu_cursor_anchor_last(const acu_cursor_src *src);

/* Forget the anchors after index i (the last one still in the window);
 * i < 0 forgets all. */
void acu_cursor_anchor_cut(acu_cursor_src *src, long i);

#endif
