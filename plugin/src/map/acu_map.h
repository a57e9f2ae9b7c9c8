/* acu_map.h - the mapping engine: mappings as data, compiled once, run fast.
 *
 * A mapping set (acu_mapset) holds every mapping of one subscription: the
 * default mappings embedded in the plugin for the endpoint version (unless
 * Create Default Mappings is false), with the customer's overlay files
 * applied, compiled against the entity catalogue of that version. It is
 * immutable after acu_mapset_load() and may be shared by every call of the
 * instance; running a mapping allocates only per call.
 *
 * Directions: TO_HOST maps an Acumatica record (as returned by the REST API,
 * values wrapped in {"value": ...}) to one or more canonical host records;
 * FROM_HOST maps one canonical host record to an Acumatica PUT payload.
 * Acumatica's wire shape (wrapping, {} for null, custom fields, "delete": true
 * on detail lines) is handled here, never by the mapping author or the flow.
 */
#ifndef ACU_MAP_H
#define ACU_MAP_H

#include <json-c/json.h>
#include <stddef.h>

#include "conn_abi.h"

typedef enum acu_map_direction {
    ACU_MAP_TO_HOST = 0,   /* Acumatica record -> host record(s) */
    ACU_MAP_FROM_HOST = 1  /* host record -> Acumatica payload */
} acu_map_direction;

typedef struct acu_mapset acu_mapset;
typedef struct acu_map acu_map;
typedef struct acu_map_diags acu_map_diags;

/* ---- diagnostics ------------------------------------------------------- */

/* One problem found while loading: the file (as the user knows it: an
 * embedded default "mappings/22.200.001/customers.to_host.json", an overlay
 * path, or "mapping_overrides[2]" for inline JSON), the JSON pointer inside
 * it, the 1-based column inside an expression (0 when not an expression) and
 * a plain sentence. */
typedef struct acu_map_diag {
    const char *file;
    const char *pointer;
    int column;
    const char *message;
} acu_map_diag;

/* A growing list of diagnostics; free with acu_map_diags_free (NULL ok). */
acu_map_diags *acu_map_diags_new(void);
void acu_map_diags_free(acu_map_diags *d);
size_t acu_map_diags_count(const acu_map_diags *d);
const acu_map_diag *acu_map_diags_get(const acu_map_diags *d, size_t i);
/* The line a person reads: "<file> <pointer>[, column N]: <message>".
 * Writes at most cap bytes (NUL included) and returns buf. */
char *acu_map_diag_format(const acu_map_diag *g, char *buf, size_t cap);
/* [{"file","pointer","column","message","text"}...]; NULL on no memory. */
json_object *acu_map_diags_to_json(const acu_map_diags *d);

/* ---- loading ----------------------------------------------------------- */

typedef struct acu_map_options {
    /* Contract endpoint version, e.g. "22.200.001"; NULL means 22.200.001. */
    const char *endpoint_version;
    /* The business's offset from UTC in minutes (Time Zone Offset). */
    int tz_offset_minutes;
    /* Nonzero: start from the embedded defaults (mappings and lookups).
     * Zero: only the overrides below make up the set. */
    int create_default_mappings;
    /* The customer's files in order, each either a path to a JSON file (a
     * relative path is opened relative to the process's current working
     * directory) or inline JSON text (first non-space byte '{' or '[').
     * Borrowed for the call. */
    const char *const *overrides;
    size_t override_count;
    /* The subscription settings object, for setting('...') in expressions
     * (values are copied at load; secret settings are refused). May be NULL. */
    json_object *settings;
    /* Optional: receives every problem (the same ones as err->message). */
    acu_map_diags *diags;
} acu_map_options;

/* Fill opts from a settings object with the keys endpoint_version,
 * time_zone_offset, create_default_mappings and mapping_overrides (a list of
 * paths or inline objects). The override strings are stored in *storage (a
 * json object the caller puts after using opts). opts->settings = settings,
 * opts->diags = diags (may be NULL).
 * A malformed value does not stop the reading: it is reported to diags
 * (file "settings", pointer "/<key>") and replaced by what lets the mappings
 * still be checked: the default version, +00:00, Create Default Mappings
 * true, a bad overrides entry skipped (the others keep their index, so
 * their problems name the right "mapping_overrides[i]"). Returns CONN_OK;
 * CONN_INVALID when a value was malformed (err holds the first as
 * "settings /<key>: <sentence>"; with diags given, opts is complete and
 * acu_mapset_load on it fails with that problem and every other one of the
 * mappings; without diags, do not load); CONN_NOMEM. */
conn_status acu_map_options_from_settings(json_object *settings,
                                          acu_map_diags *diags,
                                          acu_map_options *opts,
                                          json_object **storage,
                                          conn_error *err);

/* Parse a Time Zone Offset: "+02:00", "-0530", "UTC", "Z", "UTC-5",
 * "GMT+5:30", "-5", "5.5" (hours). Returns 0 and sets *minutes, or -1. */
int acu_map_parse_tz_offset(const char *text, int *minutes);

/* Load, check and compile every mapping of a subscription. Every problem is
 * reported at once: one line per problem in err->message (truncated with a
 * count when they do not fit) and all of them in opts->diags. On success
 * *out is the set (free with acu_mapset_free). Errors: CONN_INVALID (the
 * mappings are wrong), CONN_NOMEM. Makes no network call. */
conn_status acu_mapset_load(const acu_map_options *opts, acu_mapset **out,
                            conn_error *err);
void acu_mapset_free(acu_mapset *set);

/* acu_map_options_from_settings + acu_mapset_load in one call: what init
 * does with the subscription's settings object (diags may be NULL). A
 * malformed setting is reported with every problem of the mappings. */
conn_status acu_mapset_load_settings(json_object *settings, acu_map_diags *diags,
                                     acu_mapset **out, conn_error *err);

/* The flows the set serves, for `describe`: a new array of
 * {"flow","name","direction","record_type","entity"}, one per mapping
 * (products has two: StockItem and NonStockItem). NULL on no memory. */
json_object *acu_mapset_flows_json(const acu_mapset *set);

/* Nonzero when the set's endpoint version has the entity `name`. */
int acu_mapset_has_entity(const acu_mapset *set, const char *name);

/* The endpoint version the set was compiled for. */
const char *acu_mapset_version(const acu_mapset *set);

/* The mapping named `name` ("customers", "sales_orders", "non_stock_items")
 * for `dir`, or NULL. */
const acu_map *acu_mapset_get(const acu_mapset *set, const char *name,
                              acu_map_direction dir);
/* All mappings, for listing; i < acu_mapset_count. */
size_t acu_mapset_count(const acu_mapset *set);
const acu_map *acu_mapset_at(const acu_mapset *set, size_t i);

/* ---- mapping metadata --------------------------------------------------- */

const char *acu_map_name(const acu_map *m);        /* "sales_orders" */
const char *acu_map_flow(const acu_map *m);        /* the flow it serves */
acu_map_direction acu_map_get_direction(const acu_map *m);
const char *acu_map_entity(const acu_map *m);      /* "SalesOrder" */
const char *acu_map_record_type(const acu_map *m); /* "transaction" */
/* The entity's last-modified field (the record version), from the
 * catalogue: "LastModified", "LastModifiedDateTime", or NULL. */
const char *acu_map_last_modified_field(const acu_map *m);
/* The entity's key fields in URL order, from the catalogue. */
size_t acu_map_key_count(const acu_map *m);
const char *acu_map_key(const acu_map *m, size_t i);
/* FROM_HOST: the Acumatica fields that identify an existing record for the
 * duplicate check ("match" in the file, e.g. CustomerOrder); TO_HOST: none. */
size_t acu_map_match_count(const acu_map *m);
const char *acu_map_match(const acu_map *m, size_t i);
/* TO_HOST: the detail collection each host record comes from
 * ("Packages" for tracking), or NULL when one record maps to one record. */
const char *acu_map_for_each(const acu_map *m);

/* What the mapping reads from Acumatica (TO_HOST) or writes (FROM_HOST), as
 * the query strings a GET or PUT needs: *select (top-level and nested fields
 * with '/', always with the keys and the last-modified field; NULL for
 * FROM_HOST), *expand (linked and detail entities, each level listed) and
 * *custom (custom fields "View.Field", detail ones "Details/View.Field").
 * Each out string is malloc'ed (free()), or NULL when empty. */
conn_status acu_map_select_expand(const acu_map *m, char **select,
                                  char **expand, char **custom,
                                  conn_error *err);

/* The effective mapping after overlays, as JSON (each field carries "from":
 * the file and pointer it came from; "engine" holds what the engine derived:
 * keys, last-modified field, $select/$expand/$custom and the names of the
 * lookup tables it uses). Caller puts it. */
json_object *acu_map_to_json(const acu_map *m);

/* The effective lookup tables the mapping uses, after overlays, as
 * {"<name>": {"rows": {...}, "no_match", "default", "case_insensitive",
 * "from": "<file> <pointer>" (where the table was first defined),
 * "changed_by": {"/rows/<key>": "<file> <pointer>", "/no_match": ...}}}:
 * changed_by (present when an overlay changed the table) names each row or
 * option an overlay added or overrode. Caller puts it; NULL on no memory. */
json_object *acu_map_lookups_json(const acu_map *m);

/* A field of an Acumatica record by dotted path ("LastModified",
 * "MainContact.Email", "custom.Document.UsrX"), unwrapped: the JSON inside
 * {"value": ...}, NULL for {} or a missing field. Borrowed from the record.
 * For the flows' own reads (keys, the version field) outside a mapping. */
json_object *acu_map_field_value(json_object *acu_record, const char *path);

/* ---- running ------------------------------------------------------------ */

typedef enum acu_map_status {
    ACU_MAP_OK = 0,     /* mapped: record is set */
    ACU_MAP_SKIP = 1,   /* a skip filter matched: report as skipped */
    ACU_MAP_REJECT = 2  /* an error filter matched or fields failed */
} acu_map_status;

typedef struct acu_map_result {
    acu_map_status status;
    /* OK: the host record (TO_HOST) or the Acumatica payload (FROM_HOST).
     * Owned by the result; take it by setting the member to NULL. */
    json_object *record;
    /* The record's host id: TO_HOST the id to emit with, FROM_HOST the
     * host's id for reports (the mapping's "id"); NULL when not mapped. */
    char *id;
    /* SKIP/REJECT: one sentence (the filter's message or a summary). */
    char *message;
    /* REJECT: [{"message","mapping","target","source"}...] one entry per
     * failed field or filter; target/source are JSON pointers into the output
     * and input records. NULL otherwise. */
    json_object *errors;
    /* TO_HOST with for_each: index of the detail line the record came from;
     * -1 otherwise. */
    long item;
} acu_map_result;

/* Free what a result owns and zero it. Accepts NULL. */
void acu_map_result_clear(acu_map_result *r);

/* Map one host record to an Acumatica payload. Mapping problems are not
 * call errors: they come back as out->status SKIP or REJECT. Returns
 * CONN_OK, CONN_INVALID (wrong direction, record not an object) or
 * CONN_NOMEM. */
conn_status acu_map_from_host(const acu_map *m, json_object *host_record,
                              acu_map_result *out, conn_error *err);

/* Called once per produced host record. The callee may take r->record (set
 * it to NULL); the engine clears r afterwards. A non-OK return stops the
 * mapping and is returned by acu_map_to_host. */
typedef conn_status (*acu_map_emit_fn)(void *user, acu_map_result *r);

/* Map one Acumatica record to host records: one, or one per element of the
 * for_each collection (none when it is empty). Returns CONN_OK, the
 * callback's status, CONN_INVALID (wrong direction, not an object) or
 * CONN_NOMEM. */
conn_status acu_map_to_host(const acu_map *m, json_object *acu_record,
                            acu_map_emit_fn emit, void *user, conn_error *err);

/* ---- the mapping tools (the ABI's optional `mappings` slot) -------------- */

/* Run a tools request: {"op":"validate"}, {"op":"show","name"|"flow":...,
 * "direction":...} or {"op":"test","name"|"flow":...,"direction":...,
 * "records":[...]}. The mapping set is loaded from request.settings when
 * present, otherwise from `settings` (the instance's). The answer, one JSON
 * object, goes to out. No network. */
conn_status acu_map_tool(json_object *settings, const char *request,
                         size_t len, conn_write_fn out, void *user,
                         conn_error *err);

#endif
