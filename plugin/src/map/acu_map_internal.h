/* acu_map_internal.h - the engine's own structures, shared by its files.
 * Nothing here is part of the API the flows use (that is acu_map.h). */
#ifndef ACU_MAP_INTERNAL_H
#define ACU_MAP_INTERNAL_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "acu_buf.h"
#include "acu_map.h"

#if defined(__GNUC__)
#define ACU_MAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ACU_MAP_PRINTF(f, a)
#endif

/* ---- limits: every input-driven size has a cap ------------------------- */
#define ACU_MAP_MAX_EXPR_LEN 8192    /* bytes of one expression or template */
#define ACU_MAP_MAX_EXPR_DEPTH 48    /* nesting of one expression */
#define ACU_MAP_MAX_ARGS 32          /* arguments of one call */
#define ACU_MAP_MAX_PATH_SEGS 16     /* segments of one field path */
#define ACU_MAP_MAX_SCOPES 8         /* record nesting: children, lambdas */
#define ACU_MAP_MAX_FIELDS 2000      /* field mappings in one mapping */
#define ACU_MAP_MAX_FILE_BYTES (4u * 1024u * 1024u) /* one overlay file */
#define ACU_MAP_MAX_VALUE_BYTES (1u << 20)  /* one computed string */
#define ACU_MAP_MAX_RUN_BYTES (64u << 20)   /* all computed strings of one record */
#define ACU_MAP_MAX_RECORD_ERRORS 50        /* field errors kept per record */
#define ACU_MAP_MAX_DIAGS 500               /* problems kept per load */

/* ---- small helpers (acu_map_util.c) ------------------------------------ */

conn_status acu_map_err(conn_error *err, conn_status st, const char *fmt, ...)
    ACU_MAP_PRINTF(3, 4);
/* malloc'ed printf; NULL on no memory. */
char *acu_map_strdupf(const char *fmt, ...) ACU_MAP_PRINTF(1, 2);
/* Append "~0"/"~1"-escaped `token` to the pointer `base`; malloc'ed. */
char *acu_map_pointer_join(const char *base, const char *token);
char *acu_map_pointer_index(const char *base, size_t index);
/* Edit distance (case-insensitive, with transpositions); capped at 99. */
int acu_map_distance(const char *a, const char *b);
/* The best suggestion among candidates for a misspelt name, or NULL. */
typedef struct acu_map_suggest {
    const char *name;
    const char *best;
    int best_dist;
} acu_map_suggest;
void acu_map_suggest_init(acu_map_suggest *s, const char *name);
void acu_map_suggest_add(acu_map_suggest *s, const char *candidate);
const char *acu_map_suggest_best(const acu_map_suggest *s);

/* ---- a growable byte buffer with a cap: acu_buf.h (the plugin's base) -- */

/* ---- pool: bump allocation freed all at once --------------------------- */
typedef struct acu_map_pool_block acu_map_pool_block;
typedef struct acu_pool {
    acu_map_pool_block *head;
    size_t used;      /* bytes used in head */
    size_t total;     /* bytes handed out, all blocks */
    size_t max;       /* 0: no cap */
} acu_pool;
void acu_map_pool_init(acu_pool *p, size_t max);
void acu_map_pool_free(acu_pool *p);
/* Keep the first block, drop the others, start over (per-record reuse). */
void acu_map_pool_reset(acu_pool *p);
void *acu_map_pool_alloc(acu_pool *p, size_t size); /* 8-aligned, NULL on failure */
char *acu_map_pool_strndup(acu_pool *p, const char *s, size_t len);
char *acu_map_pool_strdup(acu_pool *p, const char *s);

/* ---- diagnostics (acu_map_diag.c) -------------------------------------- */
int acu_map_diags_add(acu_map_diags *d, const char *file, const char *pointer,
                      int column, const char *fmt, ...) ACU_MAP_PRINTF(5, 6);
int acu_map_diags_addv(acu_map_diags *d, const char *file, const char *pointer,
                       int column, const char *fmt, va_list ap)
    ACU_MAP_PRINTF(5, 0);
/* Number of problems dropped after ACU_MAP_MAX_DIAGS. */
size_t acu_map_diags_dropped(const acu_map_diags *d);

/* ---- values ------------------------------------------------------------ */
typedef enum acu_vkind {
    ACU_V_NULL = 0,
    ACU_V_BOOL,
    ACU_V_NUM,
    ACU_V_STR,
    ACU_V_JSON, /* an object or array (j) */
    ACU_V_ERR   /* an error: s is the sentence */
} acu_vkind;

typedef struct acu_val {
    uint8_t kind;
    uint8_t b;      /* BOOL */
    uint32_t len;   /* STR, ERR: length of s */
    union {
        double n;      /* NUM */
        const char *s; /* STR, ERR: not NUL-terminated in general */
    } u;
    /* The JSON value this came from unchanged, when it did (pass-through
     * keeps the original number text and avoids copies); JSON kind: the
     * object or array. */
    json_object *j;
} acu_val;

/* Length of a JSON array; 0 for anything else (json-c asserts otherwise,
 * and the loader walks documents before all of their shape is known). */
static inline size_t acu_arr_len(json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static inline acu_val acu_map_v_null(void)
{
    acu_val v = {0};
    return v;
}

/* Run-time scratch of one mapping call: computed strings and errors. */
typedef struct acu_run {
    acu_pool pool;
    const struct acu_mapset *set;
    json_object *scopes[ACU_MAP_MAX_SCOPES]; /* scopes[0] = the root record */
    int depth;                               /* index of the current scope */
    int oom;                                 /* set when the pool refused */
} acu_run;

acu_val acu_map_v_str(const char *s, size_t len);
acu_val acu_map_v_num(double n);
acu_val acu_map_v_bool(int b);
/* An error value whose sentence is printf-formatted into the run's pool. */
acu_val acu_map_v_errf(acu_run *run, const char *fmt, ...) ACU_MAP_PRINTF(2, 3);
/* Convert a JSON value (NULL = null) to a value, unwrapping nothing. */
acu_val acu_map_v_from_json(json_object *j);
/* Truthiness: null, false, 0, "", empty object/array are false. */
int acu_map_v_truthy(const acu_val *v);
/* Empty: null, "" (after nothing), empty object/array. */
int acu_map_v_is_empty(const acu_val *v);
/* Text of a scalar (numbers formatted shortest-exact), into the run's pool
 * when it must be made; null gives "". Returns 0, or -1 for JSON/errors. */
int acu_map_v_to_text(acu_run *run, const acu_val *v, const char **s, size_t *len);
/* Parse text as a number (the whole text, spaces trimmed). 0 ok, -1 not. */
int acu_map_text_to_number(const char *s, size_t len, double *out);
/* Format a number the shortest way that reads back the same ("2", "0.1"). */
int acu_map_format_number(double n, char *buf, size_t cap);
/* New JSON for a number the engine computed or converted: an integer when
 * n is whole and exactly representable (|n| < 2^53), otherwise a double
 * that serialises as the shortest decimal that reads back as n (19.99, not
 * 19.989999999999998), kept as the object's own text. NULL when n is not
 * finite (JSON has no text for it) or on no memory. */
json_object *acu_map_json_number(double n);
/* New JSON for a value (NULL for null; deep copy of JSON kind). */
json_object *acu_map_v_to_json(const acu_val *v);
const char *acu_map_v_kind_name(const acu_val *v);

/* ---- expressions --------------------------------------------------------- */

typedef enum acu_op {
    ACU_OP_CONST = 0,
    ACU_OP_PATH,
    ACU_OP_NEG,
    ACU_OP_NOT,
    ACU_OP_ADD,
    ACU_OP_SUB,
    ACU_OP_MUL,
    ACU_OP_DIV,
    ACU_OP_MOD,
    ACU_OP_EQ,
    ACU_OP_NE,
    ACU_OP_LT,
    ACU_OP_LE,
    ACU_OP_GT,
    ACU_OP_GE,
    ACU_OP_AND,
    ACU_OP_OR,
    ACU_OP_COND,
    ACU_OP_CALL,
    ACU_OP_CONCAT /* a template: the parts joined, null as "" */
} acu_op;

typedef struct acu_path_seg {
    const char *key;  /* NUL-terminated; NULL when index is used */
    int32_t index;    /* >= 0: array index */
} acu_path_seg;

typedef struct acu_path {
    uint8_t up;        /* how many "parent." hops */
    uint8_t nseg;
    uint8_t is_this;   /* written as "this" (nseg may be 0) */
    uint8_t wrapped;   /* set by binding: unwrap Acumatica values */
    acu_path_seg seg[ACU_MAP_MAX_PATH_SEGS];
} acu_path;

typedef struct acu_expr acu_expr;
struct acu_expr {
    uint8_t op;
    uint8_t fn;        /* CALL: function id */
    uint16_t nargs;
    int32_t column;    /* 1-based column of the node in its text */
    union {
        acu_val k;          /* CONST (strings live in the set's pool) */
        acu_path *path;     /* PATH */
        acu_expr **args;    /* operators, COND, CALL, CONCAT */
    } u;
    const void *aux;   /* CALL lookup(): the resolved table */
};

/* A compile-time problem with its column. */
typedef struct acu_expr_error {
    int column;
    char message[256];
} acu_expr_error;

/* Parse `text` (len bytes) into an expression tree allocated in pool.
 * Template mode: text is a template with {expr} parts. Columns are 1-based
 * byte offsets into text. Returns NULL and fills *e on a syntax error. */
acu_expr *acu_map_expr_parse(acu_pool *pool, const char *text, size_t len,
                         int template_mode, acu_expr_error *e);

/* Functions (acu_map_funcs.c). */
typedef struct acu_map_func_info {
    const char *name;
    uint8_t min_args;
    uint8_t max_args;   /* 255: any */
    uint8_t lambda_arg; /* index+1 of an argument evaluated per element, 0 none */
    uint8_t literal_arg;/* index+1 of an argument that must be a literal string, 0 none */
    uint8_t pure;       /* may be folded at load when all arguments are constant */
} acu_map_func_info;
int acu_map_func_find(const char *name, size_t len);  /* id or -1 */
const acu_map_func_info *acu_map_func_get(int id);
size_t acu_map_func_count(void);
/* Function ids that the binder and evaluator treat specially. */
int acu_map_func_id_lookup(void);
int acu_map_func_id_setting(void);
int acu_map_func_id_if(void);
int acu_map_func_id_coalesce(void);

/* Evaluate (acu_map_eval.c). */
acu_val acu_map_expr_eval(acu_run *run, const acu_expr *e);
/* Call function `fn` on evaluated args (not for lambda/lazy functions). */
acu_val acu_map_func_call(acu_run *run, const acu_expr *call, acu_val *args,
                      int nargs);
/* Lambda-style functions: count, sum, join. */
acu_val acu_map_func_call_lambda(acu_run *run, const acu_expr *call);
/* Resolve a path in the run's scopes. */
acu_val acu_map_path_eval(acu_run *run, const acu_path *p);
/* Unwrap an Acumatica field value: {"value":x} -> x, {} -> NULL. */
json_object *acu_map_unwrap(json_object *o);

/* ---- dates (acu_map_date.c) ---------------------------------------------- */
typedef struct acu_datetime {
    int64_t seconds;    /* Unix seconds of the instant */
    int32_t millis;     /* 0..999 */
    int32_t offset_min; /* the offset the time is written in */
    uint8_t has_time;   /* 0: a date only */
    uint8_t utc_z;      /* write "Z" rather than +00:00 */
} acu_datetime;
/* Parse RFC 3339 / ISO 8601 ("2024-01-05T10:00:00.5+02:00", "...Z",
 * "2024-01-05T10:00:00" = local, "2024-01-05"), and Acumatica's
 * "12/14/2023 19:57:08" (month/day/year, local). Times without an offset
 * are in local_offset_min. 0 ok, -1 not a date. */
int acu_map_date_parse(const char *s, size_t len, int local_offset_min,
                   acu_datetime *out);
/* Parse with a strptime-style format; the result is local time. */
int acu_map_date_parse_format(const char *s, size_t len, const char *fmt,
                          int local_offset_min, acu_datetime *out);
/* 1 when the date's year, in its own offset, is 0001..9999 (what RFC 3339
 * and Acumatica can hold), 0 otherwise. */
int acu_map_date_year_ok(const acu_datetime *d);
/* RFC 3339 text (milliseconds when non-zero, trailing zeros trimmed). */
int acu_map_date_format_rfc3339(const acu_datetime *d, char *buf, size_t cap);
/* strftime-style text in the date's own offset. -1 on a bad format. */
int acu_map_date_format(const acu_datetime *d, const char *fmt, char *buf,
                    size_t cap);

/* ---- catalogue (acu_map_catalog.c) --------------------------------------- */
typedef struct acu_map_catalog acu_map_catalog;
typedef enum acu_ftype {
    ACU_FT_UNKNOWN = 0,
    ACU_FT_STRING,
    ACU_FT_DECIMAL,
    ACU_FT_DOUBLE,
    ACU_FT_INT,
    ACU_FT_SHORT,
    ACU_FT_LONG,
    ACU_FT_BYTE,
    ACU_FT_BOOL,
    ACU_FT_DATETIME,
    ACU_FT_GUID,
    ACU_FT_ENTITY, /* a linked entity */
    ACU_FT_LIST    /* a detail collection */
} acu_ftype;

typedef struct acu_field_info {
    acu_ftype type;
    const char *entity; /* ENTITY/LIST: the entity name */
    int system;         /* id, rowNumber, note: the engine's own members */
} acu_field_info;

/* Parse a catalogue document (the set keeps doc alive). */
acu_map_catalog *acu_map_catalog_new(json_object *doc);
void acu_map_catalog_free(acu_map_catalog *c);

/* Free one compiled mapping that belongs to no set (a set frees its own
 * with acu_mapset_free); accepts NULL. Its strings live in the set's pool. */
void acu_map_free(acu_map *m);
int acu_map_catalog_has_entity(const acu_map_catalog *c, const char *entity);
int acu_map_catalog_is_top_level(const acu_map_catalog *c, const char *entity);
/* 0 and *info when entity has field; -1 when not. */
int acu_map_catalog_field(const acu_map_catalog *c, const char *entity,
                      const char *field, acu_field_info *info);
/* Best "did you mean" among the entity's fields (or entities when entity
 * is NULL); NULL when none is close. */
const char *acu_map_catalog_suggest(const acu_map_catalog *c, const char *entity,
                                const char *name);
const char *acu_map_catalog_last_modified(const acu_map_catalog *c, const char *entity);
json_object *acu_map_catalog_keys(const acu_map_catalog *c, const char *entity);
const char *acu_map_ftype_name(acu_ftype t);

/* ---- lookup tables ------------------------------------------------------- */
typedef enum acu_nomatch {
    ACU_NOMATCH_ERROR = 0,
    ACU_NOMATCH_PASS,
    ACU_NOMATCH_DEFAULT,
    ACU_NOMATCH_NULL
} acu_nomatch;

typedef struct acu_lookup {
    const char *name;
    json_object *rows;      /* key -> value (keys lowercased when ci) */
    json_object *def;       /* the default value (may be NULL = null) */
    acu_nomatch no_match;
    int case_insensitive;
} acu_lookup;

/* ---- compiled mappings ---------------------------------------------------- */
typedef struct acu_node acu_node;

typedef enum acu_target_kind {
    ACU_TGT_PLAIN = 0,  /* host side: nested plain JSON */
    ACU_TGT_FIELD,      /* Acumatica field: {"value": v} */
    ACU_TGT_CUSTOM,     /* Acumatica custom.<View>.<Field> */
    ACU_TGT_SYSTEM_ID,  /* Acumatica "id": plain text */
    ACU_TGT_CHILDREN    /* a collection of child records */
} acu_target_kind;

typedef struct acu_field {
    const char *target;       /* as written: "ShipToAddress.City" */
    const char *origin_file;  /* where the entry came from */
    const char *origin_ptr;   /* its JSON pointer there: "/fields/7" */
    const char *source_text;  /* the source path as written, or NULL */
    const char **tseg;        /* target split on '.' */
    uint8_t ntseg;
    uint8_t kind;             /* acu_target_kind */
    uint8_t wire;             /* acu_ftype of an Acumatica target */
    uint8_t required;
    uint8_t truncate;         /* on max_length: 1 truncate, 0 fail */
    uint8_t keep_null;
    int32_t max_length;       /* characters; 0 none */
    const char *custom_type;  /* "CustomStringField" */
    const acu_expr *value;    /* the value, transforms applied */
    const acu_expr *when;     /* optional condition */
    json_object *def;         /* default when empty (borrowed from doc) */
    acu_node *child;          /* CHILDREN: the mapping of each element */
} acu_field;

typedef struct acu_filter {
    const acu_expr *when;
    const acu_expr *message;  /* a template */
    const char *origin_file;
    const char *origin_ptr;
} acu_filter;

struct acu_node {
    acu_field *fields;
    size_t nfields;
    acu_filter *skip;
    size_t nskip;
    acu_filter *reject;
    size_t nreject;
    const acu_expr *delete_when; /* children: emit "delete": true */
    const char *entity;          /* Acumatica entity of this level */
};

struct acu_map {
    const struct acu_mapset *set;
    const char *name;
    const char *flow;
    acu_map_direction dir;
    const char *entity;
    const char *record_type;
    const char *last_modified;
    const char **keys;
    size_t nkeys;
    const char **match;
    size_t nmatch;
    const char *for_each_text;    /* TO_HOST for_each path, as written */
    const acu_expr *for_each;     /* its compiled path */
    const acu_expr *id;           /* host id */
    acu_node root;
    json_object *doc;             /* the effective document (owned) */
    /* What the mapping reads/writes in Acumatica (sorted, unique). */
    json_object *reads_select;    /* array of strings */
    json_object *reads_expand;
    json_object *reads_custom;
    /* The lookup tables its expressions and transforms use (a set). */
    json_object *uses_lookups;
};

struct acu_mapset {
    acu_pool pool;                /* compiled trees and strings */
    char *version;
    int tz_offset_min;
    acu_map_catalog *catalog;
    json_object *catalog_doc;
    acu_map **maps;
    size_t nmaps;
    acu_lookup *lookups;
    size_t nlookups;
    json_object *lookup_docs;     /* keeps row objects alive */
    json_object *keep;            /* other JSON kept alive (array) */
};

const acu_lookup *acu_mapset_find_lookup(const acu_mapset *set,
                                         const char *name);

/* ---- loading pieces ---------------------------------------------------- */

/* The files built into the plugin (generated acu_map_embedded.c). */
typedef struct acu_map_file {
    const char *path;          /* relative to mappings/: "22.200.001/x.json" */
    const unsigned char *data;
    size_t len;
} acu_map_file;
extern const acu_map_file acu_map_embedded_files[];
extern const size_t acu_map_embedded_count;
const acu_map_file *acu_map_embedded_find(const char *path);

/* Check one parsed document against the mapping file format (the same
 * rules as mappings/mapping.schema.json). kind: "mapping" for a file that
 * must be a mapping or overlay, "lookup" for a lookup table file, "any"
 * for a customer file. Adds diagnostics; returns their number. Entries
 * (fields, filters, lookup tables) with problems of their own are marked
 * "$invalid": true so the rest of the file can still be used to find more
 * problems; *fatal is set when the file as a whole cannot be used. */
size_t acu_map_check_document(json_object *doc, const char *file,
                              const char *kind, acu_map_diags *diags,
                              int *fatal);

/* Compile one effective mapping document into m (acu_map_compile.c). */
int acu_map_compile(acu_mapset *set, json_object *doc, acu_map *m,
                    json_object *settings, acu_map_diags *diags);

/* For tests and fuzzing: parse, bind (host side: no catalogue) and
 * evaluate one expression or template against `record`. 0 and *result (a
 * new JSON value, NULL for null) on success; -1 with the reason in why
 * ("column N: ..." for compile problems, the error value's sentence for
 * run-time ones). Trees are allocated in the set's pool. */
int acu_map_eval_text(acu_mapset *set, const char *text, int template_mode,
                      json_object *settings, json_object *record,
                      json_object **result, char *why, size_t cap);

/* Origin bookkeeping on merged documents: "$origin":{"file","pointer"}. */
void acu_map_set_origin(json_object *entry, const char *file,
                        const char *pointer);
void acu_map_get_origin(json_object *entry, const char **file,
                        const char **pointer);

#endif
