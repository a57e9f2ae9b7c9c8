/* acu_map_check.c - the mapping file format, checked in C.
 *
 * These are the same rules as mappings/mapping.schema.json (which editors
 * use), written out so that every problem gets the file, the JSON pointer
 * and a plain sentence, and so that all of them are found in one pass.
 * Expressions are only checked to be text here; the compiler parses them
 * and checks names against the catalogue. Keep the two in step: the test
 * tests/unit/map/check_schema_sync.py feeds the same bad files to both. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

typedef struct ck {
    const char *file;
    acu_map_diags *diags;
    size_t count;
} ck;

static void problem(ck *c, const char *ptr, const char *fmt, ...) ACU_MAP_PRINTF(3, 4);
static void problem(ck *c, const char *ptr, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    acu_map_diags_addv(c->diags, c->file, ptr, 0, fmt, ap);
    va_end(ap);
    c->count++;
}

static const char *const top_keys[] = {
    "$schema", "description", "name", "flow", "direction", "entity",
    "record_type", "id", "match", "for_each", "skip_filters",
    "error_filters", "fields", "lookups", "overlay", NULL};
static const char *const field_keys[] = {
    "target", "source", "value", "template", "expr", "transforms", "default",
    "required", "max_length", "on_overflow", "when", "type", "keep_null",
    "description", "fields", "skip_filters", "error_filters", "delete_when",
    "op", NULL};
static const char *const filter_keys[] = {"when", "message", "description", NULL};
static const char *const lookup_keys[] = {
    "description", "no_match", "default", "case_insensitive", "rows", NULL};

static const char *const directions[] = {"to_host", "from_host", NULL};
static const char *const overflow_values[] = {"truncate", "fail", NULL};
static const char *const ops[] = {"set", "add", "replace", "remove", NULL};
static const char *const nomatch_values[] = {"error", "pass", "default", "null", NULL};
static const char *const custom_types[] = {
    "string", "decimal", "double", "int", "short", "long", "byte", "bool",
    "datetime", "guid", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static char *list_text(const char *const *list, char *buf, size_t cap)
{
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; list[i] != NULL && o + 1 < cap; i++) {
        int n = snprintf(buf + o, cap - o, "%s'%s'", i ? (list[i + 1] ? ", " : " or ") : "", list[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    return buf;
}

static const char *type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_int:
    case json_type_double: return "a number";
    case json_type_string: return "text";
    case json_type_object: return "an object";
    case json_type_array: return "a list";
    }
    return "a value";
}

/* Report keys not in `allowed`, with a suggestion. */
static void known_keys(ck *c, json_object *obj, const char *ptr,
                       const char *const *allowed, const char *what)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (strcmp(key, "$origin") == 0 || strcmp(key, "$origins") == 0)
            continue;
        if (!in_list(allowed, key)) {
            acu_map_suggest s;
            const char *best;
            char *p = acu_map_pointer_join(ptr, key);
            acu_map_suggest_init(&s, key);
            for (size_t i = 0; allowed[i]; i++)
                acu_map_suggest_add(&s, allowed[i]);
            best = acu_map_suggest_best(&s);
            if (best)
                problem(c, p, "unknown key '%s' in %s; did you mean '%s'?", key, what, best);
            else
                problem(c, p, "unknown key '%s' in %s", key, what);
            free(p);
        }
    }
}

static json_object *member(json_object *obj, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* The member must be text (non-empty when nonempty is set). */
static const char *want_string(ck *c, json_object *obj, const char *ptr,
                               const char *key, int nonempty)
{
    json_object *v = member(obj, key);
    char *p;

    if (v == NULL)
        return NULL;
    if (json_object_is_type(v, json_type_string) &&
        (!nonempty || json_object_get_string_len(v) > 0) &&
        strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v))
        return json_object_get_string(v);
    p = acu_map_pointer_join(ptr, key);
    if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
        problem(c, p, "'%s' contains a NUL character (\\u0000), which would cut it short", key);
    else if (json_object_is_type(v, json_type_string))
        problem(c, p, "'%s' must not be empty", key);
    else
        problem(c, p, "'%s' must be text, not %s", key, type_name(v));
    free(p);
    return NULL;
}

static int want_bool(ck *c, json_object *obj, const char *ptr, const char *key)
{
    json_object *v = member(obj, key);
    char *p;

    if (v == NULL || json_object_is_type(v, json_type_boolean))
        return v ? json_object_get_boolean(v) : -1;
    p = acu_map_pointer_join(ptr, key);
    problem(c, p, "'%s' must be true or false, not %s", key, type_name(v));
    free(p);
    return -1;
}

static void want_enum(ck *c, json_object *obj, const char *ptr, const char *key,
                      const char *const *values)
{
    const char *s = want_string(c, obj, ptr, key, 0);
    char buf[256];
    char *p;

    if (s == NULL || in_list(values, s))
        return;
    p = acu_map_pointer_join(ptr, key);
    {
        acu_map_suggest sg;
        acu_map_suggest_init(&sg, s);
        for (size_t i = 0; values[i]; i++)
            acu_map_suggest_add(&sg, values[i]);
        if (acu_map_suggest_best(&sg))
            problem(c, p, "'%s' is not a valid %s; did you mean '%s'?", s, key,
                    acu_map_suggest_best(&sg));
        else
            problem(c, p, "'%s' is not a valid %s; it must be one of %s", s, key,
                    list_text(values, buf, sizeof(buf)));
    }
    free(p);
}

static int is_name(const char *s)
{
    if (!islower((unsigned char)s[0]))
        return 0;
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return 0;
    return strlen(s) <= 64;
}

static void check_filters(ck *c, json_object *obj, const char *ptr,
                          const char *key)
{
    json_object *arr = member(obj, key);
    char *p;

    if (arr == NULL)
        return;
    p = acu_map_pointer_join(ptr, key);
    if (!json_object_is_type(arr, json_type_array)) {
        /* The list itself is unusable: drop it so nothing walks it. */
        problem(c, p, "'%s' must be a list of filters ({\"when\": ..., \"message\": ...})", key);
        json_object_object_del(obj, key);
        free(p);
        return;
    }
    for (size_t i = 0; i < acu_arr_len(arr); i++) {
        json_object *f = json_object_array_get_idx(arr, i);
        char *fp = acu_map_pointer_index(p, i);
        size_t before = c->count;
        if (!json_object_is_type(f, json_type_object)) {
            problem(c, fp, "a filter must be an object with \"when\" and \"message\", not %s",
                    type_name(f));
        } else {
            known_keys(c, f, fp, filter_keys, "a filter");
            if (member(f, "when") == NULL)
                problem(c, fp, "the filter has no \"when\" condition");
            want_string(c, f, fp, "when", 1);
            want_string(c, f, fp, "message", 0);
            want_string(c, f, fp, "description", 0);
            if (c->count > before)
                json_object_object_add(f, "$invalid", json_object_new_boolean(1));
        }
        free(fp);
    }
    free(p);
}

static void check_fields(ck *c, json_object *arr, const char *ptr, int overlay,
                         int depth);

static void check_transforms(ck *c, json_object *t, const char *ptr)
{
    if (!json_object_is_type(t, json_type_array)) {
        problem(c, ptr, "'transforms' must be a list such as [\"trim\", {\"truncate\": 30}]");
        return;
    }
    for (size_t i = 0; i < acu_arr_len(t); i++) {
        json_object *x = json_object_array_get_idx(t, i);
        char *p = acu_map_pointer_index(ptr, i);
        if (json_object_is_type(x, json_type_string)) {
            if (json_object_get_string_len(x) == 0)
                problem(c, p, "a transform name must not be empty");
        } else if (json_object_is_type(x, json_type_object)) {
            if (json_object_object_length(x) != 1)
                problem(c, p, "a transform with an argument is an object with exactly one key, e.g. {\"truncate\": 30}");
        } else {
            problem(c, p, "a transform is a name (\"trim\") or {\"name\": argument}, not %s",
                    type_name(x));
        }
        free(p);
    }
}

/* Returns the number of problems of the entry itself (not of its children,
 * which are marked on their own). */
static size_t check_field(ck *c, json_object *f, const char *ptr, int overlay,
                          int depth)
{
    size_t start = c->count, nested = 0;
    static const char *const kinds[] = {"source", "value", "template", "expr"};
    const char *op = NULL;
    int nkinds = 0;
    json_object *v;
    char *p;
    int children;

    known_keys(c, f, ptr, field_keys, "a field mapping");
    if (member(f, "target") == NULL)
        problem(c, ptr, "the field mapping has no \"target\"");
    want_string(c, f, ptr, "target", 1);
    if (member(f, "op") != NULL) {
        if (!overlay) {
            p = acu_map_pointer_join(ptr, "op");
            problem(c, p, "\"op\" belongs in overlays (files with \"overlay\": true)");
            free(p);
        }
        want_enum(c, f, ptr, "op", ops);
        op = want_string(c, f, ptr, "op", 0);
    }
    for (size_t i = 0; i < 4; i++) {
        if (member(f, kinds[i]) != NULL)
            nkinds++;
    }
    children = member(f, "fields") != NULL;
    if (op != NULL && strcmp(op, "remove") == 0) {
        json_object_object_foreach(f, key, val) {
            (void)val;
            if (strcmp(key, "target") != 0 && strcmp(key, "op") != 0 &&
                strcmp(key, "description") != 0 && strcmp(key, "$origin") != 0) {
                p = acu_map_pointer_join(ptr, key);
                problem(c, p, "a removal names only its \"target\"; '%s' has no effect", key);
                free(p);
            }
        }
        return c->count - start;
    }
    if (children) {
        if (member(f, "source") == NULL)
            problem(c, ptr, "a child collection (with \"fields\") needs a \"source\": the list it maps");
        for (size_t i = 1; i < 4; i++) {
            if (member(f, kinds[i]) != NULL) {
                p = acu_map_pointer_join(ptr, kinds[i]);
                problem(c, p, "a child collection maps \"source\" with \"fields\"; '%s' cannot be used with it",
                        kinds[i]);
                free(p);
            }
        }
        if (depth >= ACU_MAP_MAX_SCOPES - 2) {
            problem(c, ptr, "child collections nest more than %d levels", ACU_MAP_MAX_SCOPES - 2);
        } else if (!json_object_is_type(member(f, "fields"), json_type_array)) {
            p = acu_map_pointer_join(ptr, "fields");
            problem(c, p, "'fields' must be a list of field mappings");
            free(p);
        } else {
            size_t before = c->count;
            p = acu_map_pointer_join(ptr, "fields");
            check_fields(c, member(f, "fields"), p, 0, depth + 1);
            free(p);
            nested += c->count - before;
        }
        {
            size_t before = c->count;
            check_filters(c, f, ptr, "skip_filters");
            check_filters(c, f, ptr, "error_filters");
            nested += c->count - before;
        }
        want_string(c, f, ptr, "delete_when", 1);
        for (size_t i = 0; i < 4; i++) {
            static const char *const scalar_only[] = {"transforms", "default", "max_length", "type"};
            if (member(f, scalar_only[i]) != NULL) {
                p = acu_map_pointer_join(ptr, scalar_only[i]);
                problem(c, p, "'%s' applies to single fields, not to a child collection",
                        scalar_only[i]);
                free(p);
            }
        }
    } else {
        if (nkinds == 0)
            problem(c, ptr, "the field mapping needs one of \"source\", \"value\", \"template\" or \"expr\"");
        else if (nkinds > 1)
            problem(c, ptr, "the field mapping has more than one of \"source\", \"value\", \"template\" and \"expr\"; keep one");
        for (size_t i = 0; i < 3; i++) {
            static const char *const child_only[] = {"skip_filters", "error_filters", "delete_when"};
            if (member(f, child_only[i]) != NULL) {
                p = acu_map_pointer_join(ptr, child_only[i]);
                problem(c, p, "'%s' applies to child collections (entries with \"fields\")",
                        child_only[i]);
                free(p);
            }
        }
    }
    want_string(c, f, ptr, "source", 1);
    want_string(c, f, ptr, "template", 0);
    want_string(c, f, ptr, "expr", 1);
    want_string(c, f, ptr, "when", 1);
    want_string(c, f, ptr, "description", 0);
    want_bool(c, f, ptr, "required");
    want_bool(c, f, ptr, "keep_null");
    want_enum(c, f, ptr, "on_overflow", overflow_values);
    want_enum(c, f, ptr, "type", custom_types);
    if ((v = member(f, "transforms")) != NULL) {
        p = acu_map_pointer_join(ptr, "transforms");
        check_transforms(c, v, p);
        free(p);
    }
    if ((v = member(f, "max_length")) != NULL) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
            json_object_get_int64(v) > 1000000) {
            p = acu_map_pointer_join(ptr, "max_length");
            problem(c, p, "'max_length' must be a whole number from 1 to 1000000");
            free(p);
        }
    }
    if (member(f, "on_overflow") != NULL && member(f, "max_length") == NULL) {
        p = acu_map_pointer_join(ptr, "on_overflow");
        problem(c, p, "'on_overflow' needs a 'max_length'");
        free(p);
    }
    if ((v = member(f, "default")) != NULL &&
        (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))) {
        p = acu_map_pointer_join(ptr, "default");
        problem(c, p, "'default' must be text, a number, a boolean or null");
        free(p);
    }
    return c->count - start - nested;
}

static void check_fields(ck *c, json_object *arr, const char *ptr, int overlay,
                         int depth)
{
    if (!json_object_is_type(arr, json_type_array)) {
        problem(c, ptr, "'fields' must be a list of field mappings");
        return;
    }
    if (acu_arr_len(arr) > ACU_MAP_MAX_FIELDS) {
        problem(c, ptr, "a mapping has at most %d field mappings", ACU_MAP_MAX_FIELDS);
        return;
    }
    for (size_t i = 0; i < acu_arr_len(arr); i++) {
        json_object *f = json_object_array_get_idx(arr, i);
        char *p = acu_map_pointer_index(ptr, i);
        if (!json_object_is_type(f, json_type_object))
            problem(c, p, "a field mapping must be an object with a \"target\", not %s",
                    type_name(f));
        else if (check_field(c, f, p, overlay, depth) > 0)
            json_object_object_add(f, "$invalid", json_object_new_boolean(1));
        free(p);
    }
}

static void check_lookups(ck *c, json_object *lk, const char *ptr)
{
    if (!json_object_is_type(lk, json_type_object)) {
        problem(c, ptr, "'lookups' must be an object: table name -> table");
        return;
    }
    json_object_object_foreach(lk, name, t) {
        char *p = acu_map_pointer_join(ptr, name);
        json_object *rows;
        size_t before = c->count;
        if (!is_name(name))
            problem(c, p, "a lookup table name is lower case letters, digits and _ (e.g. ship_via), not '%s'",
                    name);
        if (!json_object_is_type(t, json_type_object)) {
            problem(c, p, "a lookup table must be an object with \"rows\"");
            free(p);
            continue;
        }
        known_keys(c, t, p, lookup_keys, "a lookup table");
        want_enum(c, t, p, "no_match", nomatch_values);
        want_bool(c, t, p, "case_insensitive");
        want_string(c, t, p, "description", 0);
        if ((rows = member(t, "rows")) != NULL) {
            char *rp = acu_map_pointer_join(p, "rows");
            if (!json_object_is_type(rows, json_type_object)) {
                problem(c, rp, "'rows' must be an object: key -> value");
            } else {
                json_object_object_foreach(rows, k, v) {
                    if (json_object_is_type(v, json_type_object) ||
                        json_object_is_type(v, json_type_array)) {
                        char *kp = acu_map_pointer_join(rp, k);
                        problem(c, kp, "a lookup value must be text, a number, a boolean or null");
                        free(kp);
                    }
                }
            }
            free(rp);
        }
        {
            json_object *d = member(t, "default");
            if (d && (json_object_is_type(d, json_type_object) || json_object_is_type(d, json_type_array))) {
                char *dp = acu_map_pointer_join(p, "default");
                problem(c, dp, "a lookup default must be text, a number, a boolean or null");
                free(dp);
            }
            if (member(t, "no_match") && json_object_is_type(member(t, "no_match"), json_type_string) &&
                strcmp(json_object_get_string(member(t, "no_match")), "default") == 0 && d == NULL)
                problem(c, p, "no_match is 'default' but the table has no \"default\"");
        }
        if (c->count > before && json_object_is_type(t, json_type_object))
            json_object_object_add(t, "$invalid", json_object_new_boolean(1));
        free(p);
    }
}

size_t acu_map_check_document(json_object *doc, const char *file,
                              const char *kind, acu_map_diags *diags,
                              int *fatal)
{
    ck c = {file, diags, 0};
    size_t inner = 0, before;
    json_object *v;
    int overlay;
    int has_mapping;
    const char *name;

    *fatal = 1;
    if (!json_object_is_type(doc, json_type_object)) {
        problem(&c, "", "a mapping file must be a JSON object, not %s", type_name(doc));
        return c.count;
    }
    known_keys(&c, doc, "", top_keys, "a mapping file");
    want_string(&c, doc, "", "description", 0);
    want_string(&c, doc, "", "$schema", 0);
    overlay = want_bool(&c, doc, "", "overlay") == 1;
    has_mapping = member(doc, "name") != NULL || member(doc, "direction") != NULL ||
                  member(doc, "fields") != NULL || member(doc, "entity") != NULL ||
                  overlay;
    if ((v = member(doc, "lookups")) != NULL) {
        before = c.count;
        check_lookups(&c, v, "/lookups");
        inner += c.count - before;
    }
    if (strcmp(kind, "lookup") == 0) {
        if (has_mapping)
            problem(&c, "", "a file in lookups/ holds only \"lookups\"");
        if (member(doc, "lookups") == NULL)
            problem(&c, "", "the file has no \"lookups\"");
        *fatal = c.count > inner;
        return c.count;
    }
    if (!has_mapping) {
        if (member(doc, "lookups") == NULL)
            problem(&c, "", "the file has neither a mapping (\"name\", \"direction\", \"fields\") nor \"lookups\"");
        else if (strcmp(kind, "mapping") == 0)
            problem(&c, "", "the file has no mapping (\"name\", \"direction\", \"fields\")");
        *fatal = c.count > inner;
        return c.count;
    }
    if (member(doc, "name") == NULL)
        problem(&c, "", "the mapping has no \"name\" (e.g. \"sales_orders\")");
    name = want_string(&c, doc, "", "name", 1);
    if (name && !is_name(name))
        problem(&c, "/name", "a mapping name is lower case letters, digits and _ (e.g. sales_orders), not '%s'",
                name);
    if ((name = want_string(&c, doc, "", "flow", 1)) != NULL && !is_name(name))
        problem(&c, "/flow", "a flow name is lower case letters, digits and _ (e.g. sales_orders), not '%s'",
                name);
    if (member(doc, "direction") == NULL)
        problem(&c, "", "the mapping has no \"direction\" ('to_host' or 'from_host')");
    want_enum(&c, doc, "", "direction", directions);
    want_string(&c, doc, "", "entity", 1);
    want_string(&c, doc, "", "record_type", 1);
    want_string(&c, doc, "", "id", 1);
    want_string(&c, doc, "", "for_each", 1);
    if (!overlay) {
        if (member(doc, "entity") == NULL)
            problem(&c, "", "the mapping has no \"entity\" (the Acumatica entity, e.g. \"SalesOrder\")");
        if (member(doc, "record_type") == NULL)
            problem(&c, "", "the mapping has no \"record_type\" (the host record, e.g. \"transaction\")");
        if (member(doc, "fields") == NULL)
            problem(&c, "", "the mapping has no \"fields\"");
    } else {
        static const char *const fixed[] = {"entity", "record_type", "flow"};
        for (size_t i = 0; i < 3; i++) {
            if (member(doc, fixed[i]) != NULL) {
                char *p = acu_map_pointer_join("", fixed[i]);
                problem(&c, p, "an overlay cannot change '%s'; write a complete mapping (without \"overlay\") instead",
                        fixed[i]);
                free(p);
            }
        }
    }
    if ((v = member(doc, "match")) != NULL) {
        if (!json_object_is_type(v, json_type_array) || acu_arr_len(v) == 0) {
            problem(&c, "/match", "'match' must be a non-empty list of Acumatica field names");
        } else {
            for (size_t i = 0; i < acu_arr_len(v); i++) {
                json_object *x = json_object_array_get_idx(v, i);
                if (!json_object_is_type(x, json_type_string) || json_object_get_string_len(x) == 0) {
                    char *p = acu_map_pointer_index("/match", i);
                    problem(&c, p, "a match entry must be a field name");
                    free(p);
                }
            }
        }
    }
    before = c.count;
    check_filters(&c, doc, "", "skip_filters");
    check_filters(&c, doc, "", "error_filters");
    if ((v = member(doc, "fields")) != NULL && json_object_is_type(v, json_type_array))
        check_fields(&c, v, "/fields", overlay, 0);
    inner += c.count - before;
    if (v != NULL && !json_object_is_type(v, json_type_array))
        problem(&c, "/fields", "'fields' must be a list of field mappings");
    *fatal = c.count > inner;
    return c.count;
}
