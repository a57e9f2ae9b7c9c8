/* acu_map_load.c - building a subscription's mapping set.
 *
 * Sources, in order:
 *   1. (Create Default Mappings) the defaults embedded in the plugin for the
 *      endpoint version. mappings/versions.json says which version a version
 *      extends; its files are applied on top of the inherited ones (a file
 *      with "overlay": true changes the inherited mapping, a complete file
 *      replaces it). Then the lookup tables of mappings/lookups/.
 *   2. The customer's overrides, in the order given: complete mappings
 *      replace, overlays add/replace/remove single fields by target and
 *      change filters, "lookups" add or override rows.
 * Every document is checked against the file format first; every entry
 * keeps "$origin" (file, JSON pointer) through the merge, so the compiler
 * can say where a problem was written. Nothing stops at the first problem. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acu_map_internal.h"

#define DEFAULT_VERSION "22.200.001"

typedef struct loader {
    acu_mapset *set;
    acu_map_diags *diags;
    json_object *maps;    /* "name.direction" -> effective document */
    json_object *lookups; /* name -> merged table (with "$origin") */
} loader;

static json_object *member(json_object *obj, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static const char *mstr(json_object *obj, const char *key)
{
    json_object *v = member(obj, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const acu_map_file *acu_map_embedded_find(const char *path)
{
    for (size_t i = 0; i < acu_map_embedded_count; i++)
        if (strcmp(acu_map_embedded_files[i].path, path) == 0)
            return &acu_map_embedded_files[i];
    return NULL;
}

void acu_map_set_origin(json_object *entry, const char *file, const char *pointer)
{
    json_object *o = json_object_new_object();

    if (o == NULL)
        return;
    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "pointer", json_object_new_string(pointer));
    json_object_object_add(entry, "$origin", o);
}

void acu_map_get_origin(json_object *entry, const char **file, const char **pointer)
{
    json_object *o = member(entry, "$origin");

    *file = mstr(o, "file");
    *pointer = mstr(o, "pointer");
    if (*file == NULL)
        *file = "(unknown)";
    if (*pointer == NULL)
        *pointer = "";
}

/* Parse JSON text; a syntax error becomes a diagnostic with line/column. */
static json_object *parse_text(loader *L, const char *text, size_t len,
                               const char *file)
{
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    size_t end;

    if (len > ACU_MAP_MAX_FILE_BYTES) {
        acu_map_diags_add(L->diags, file, "", 0, "the file is %zu bytes; the limit is %u",
                          len, ACU_MAP_MAX_FILE_BYTES);
        return NULL;
    }
    tok = json_tokener_new_ex(64);
    if (tok == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_success) {
        while (end < len && isspace((unsigned char)text[end]))
            end++;
        if (end < len)
            jerr = json_tokener_error_parse_unexpected;
    }
    if (jerr != json_tokener_success) {
        int line = 1, col = 1;
        /* json-c's parse end is the offset of the offending byte. */
        size_t at = jerr == json_tokener_continue ? len : end;
        for (size_t i = 0; i < at && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        acu_map_diags_add(L->diags, file, "", 0, "not valid JSON: %s at line %d, column %d",
                          jerr == json_tokener_continue ? "the document ends too early"
                                                        : json_tokener_error_desc(jerr),
                          line, col);
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

/* Drop the entries the checker marked "$invalid" (their problems are
 * reported already); what remains is still merged and compiled so that
 * every other problem is found in the same run. */
static void strip_list(json_object *arr)
{
    if (!json_object_is_type(arr, json_type_array))
        return;
    for (size_t i = acu_arr_len(arr); i-- > 0;) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *v;
        if (!json_object_is_type(e, json_type_object) ||
            json_object_object_get_ex(e, "$invalid", NULL)) {
            json_object_array_del_idx(arr, i, 1);
            continue;
        }
        if (json_object_object_get_ex(e, "fields", &v))
            strip_list(v);
        if (json_object_object_get_ex(e, "skip_filters", &v))
            strip_list(v);
        if (json_object_object_get_ex(e, "error_filters", &v))
            strip_list(v);
    }
}

/* Note in "$dropped_targets" the targets of the top-level field entries
 * that are about to be dropped: a "match" naming one of them is not a
 * problem of its own (the entry's problem is reported already). */
static void note_dropped_targets(json_object *doc, json_object *fields)
{
    json_object *noted = NULL;

    for (size_t i = 0; i < acu_arr_len(fields); i++) {
        json_object *e = json_object_array_get_idx(fields, i);
        const char *t = mstr(e, "target");
        if (t == NULL || !json_object_object_get_ex(e, "$invalid", NULL))
            continue;
        if (noted == NULL) {
            noted = json_object_new_array();
            if (noted == NULL || json_object_object_add(doc, "$dropped_targets", noted) != 0)
                return;
        }
        json_object_array_add(noted, json_object_new_string(t));
    }
}

static void strip_invalid(json_object *doc)
{
    json_object *v;

    if (json_object_object_get_ex(doc, "fields", &v)) {
        note_dropped_targets(doc, v);
        strip_list(v);
    }
    if (json_object_object_get_ex(doc, "skip_filters", &v))
        strip_list(v);
    if (json_object_object_get_ex(doc, "error_filters", &v))
        strip_list(v);
    if (json_object_object_get_ex(doc, "lookups", &v) &&
        json_object_is_type(v, json_type_object)) {
        const char *drop[64];
        size_t n = 0;
        json_object_object_foreach(v, name, t) {
            if ((!json_object_is_type(t, json_type_object) ||
                 json_object_object_get_ex(t, "$invalid", NULL)) && n < 64)
                drop[n++] = name;
        }
        for (size_t i = 0; i < n; i++)
            json_object_object_del(v, drop[i]);
    }
}

/* ---- origins ---- */

static void annotate_filters(json_object *owner, const char *key,
                             const char *file, const char *base)
{
    json_object *arr = member(owner, key);
    char *p;

    if (!json_object_is_type(arr, json_type_array))
        return;
    p = acu_map_pointer_join(base, key);
    for (size_t i = 0; p && i < acu_arr_len(arr); i++) {
        char *fp = acu_map_pointer_index(p, i);
        if (fp)
            acu_map_set_origin(json_object_array_get_idx(arr, i), file, fp);
        free(fp);
    }
    free(p);
}

static void annotate_fields(json_object *arr, const char *file, const char *base)
{
    if (!json_object_is_type(arr, json_type_array))
        return;
    for (size_t i = 0; i < acu_arr_len(arr); i++) {
        json_object *f = json_object_array_get_idx(arr, i);
        char *p = acu_map_pointer_index(base, i);
        if (p == NULL)
            return;
        acu_map_set_origin(f, file, p);
        if (member(f, "fields")) {
            char *cp = acu_map_pointer_join(p, "fields");
            annotate_fields(member(f, "fields"), file, cp);
            free(cp);
            annotate_filters(f, "skip_filters", file, p);
            annotate_filters(f, "error_filters", file, p);
        }
        free(p);
    }
}

static void annotate(json_object *doc, const char *file)
{
    static const char *const keys[] = {"name", "flow", "direction", "entity",
                                       "record_type", "id", "match", "for_each",
                                       "skip_filters", "error_filters", NULL};
    json_object *origins = json_object_new_object();

    if (origins == NULL)
        return;
    for (size_t i = 0; keys[i]; i++)
        if (member(doc, keys[i]))
            json_object_object_add(origins, keys[i], json_object_new_string(file));
    json_object_object_add(doc, "$origins", origins);
    annotate_filters(doc, "skip_filters", file, "");
    annotate_filters(doc, "error_filters", file, "");
    annotate_fields(member(doc, "fields"), file, "/fields");
}

/* ---- lookups ---- */

/* Note in the merged table's "$changes" that the member at `rel` (a JSON
 * pointer inside the table: "/rows/UPS", "/no_match") now comes from file
 * at table_ptr + rel, so `mappings show` can say which rows an overlay
 * added or overrode. */
static void note_change(json_object *table, const char *rel_key, const char *row_key,
                        const char *file, const char *table_ptr)
{
    json_object *changes = member(table, "$changes");
    char *rel = NULL, *full = NULL, *where = NULL;

    if (changes == NULL) {
        changes = json_object_new_object();
        if (changes == NULL || json_object_object_add(table, "$changes", changes) != 0)
            return;
    }
    rel = acu_map_pointer_join("", rel_key);
    if (rel != NULL && row_key != NULL) {
        char *r = acu_map_pointer_join(rel, row_key);
        free(rel);
        rel = r;
    }
    if (rel != NULL)
        full = acu_map_strdupf("%s%s", table_ptr, rel);
    if (full != NULL)
        where = acu_map_strdupf("%s %s", file, full);
    if (where != NULL)
        json_object_object_add(changes, rel, json_object_new_string(where));
    free(where);
    free(full);
    free(rel);
}

/* In a case-insensitive table, a row an overlay writes replaces the row
 * whose key differs only in case ("UPS" replaces "ups"): drop those, and
 * their "$changes" notes, so the table holds the rows that take effect. */
static void drop_other_case(json_object *table, json_object *rows, const char *key)
{
    for (;;) {
        char other[256] = "";
        json_object_object_foreach(rows, k, v) {
            (void)v;
            if (strcasecmp(k, key) == 0 && strcmp(k, key) != 0 && strlen(k) < sizeof(other)) {
                memcpy(other, k, strlen(k) + 1);
                break;
            }
        }
        if (other[0] == '\0')
            return;
        json_object_object_del(rows, other);
        {
            char *rel = acu_map_pointer_join("/rows", other);
            json_object *changes = member(table, "$changes");
            if (rel != NULL && json_object_is_type(changes, json_type_object))
                json_object_object_del(changes, rel);
            free(rel);
        }
    }
}

static void merge_lookups(loader *L, json_object *tables, const char *file)
{
    if (!json_object_is_type(tables, json_type_object))
        return;
    json_object_object_foreach(tables, name, t) {
        json_object *cur = member(L->lookups, name);
        char *p;
        if (!json_object_is_type(t, json_type_object))
            continue;
        p = acu_map_pointer_join("/lookups", name);
        if (cur == NULL) {
            json_object *copy = NULL;
            if (json_object_deep_copy(t, &copy, NULL) == 0) {
                acu_map_set_origin(copy, file, p ? p : "");
                json_object_object_add(L->lookups, name, copy);
            }
        } else {
            json_object_object_foreach(t, k, v) {
                if (strcmp(k, "rows") == 0) {
                    json_object *rows = member(cur, "rows");
                    if (!json_object_is_type(v, json_type_object))
                        continue;
                    if (rows == NULL) {
                        rows = json_object_new_object();
                        json_object_object_add(cur, "rows", rows);
                    }
                    int ci = json_object_get_boolean(member(cur, "case_insensitive")) ||
                             json_object_get_boolean(member(t, "case_insensitive"));
                    json_object_object_foreach(v, rk, rv) {
                        if (ci)
                            drop_other_case(cur, rows, rk);
                        json_object_object_add(rows, rk, json_object_get(rv));
                        if (p != NULL)
                            note_change(cur, "rows", rk, file, p);
                    }
                } else if (k[0] != '$') {
                    json_object_object_add(cur, k, json_object_get(v));
                    if (p != NULL)
                        note_change(cur, k, NULL, file, p);
                }
            }
        }
        free(p);
    }
}

static int compile_lookups(loader *L)
{
    size_t n = (size_t)json_object_object_length(L->lookups), i = 0;
    acu_mapset *set = L->set;

    json_object_put(set->lookup_docs);
    set->lookup_docs = json_object_get(L->lookups);
    if (n == 0)
        return 0;
    set->lookups = calloc(n, sizeof(acu_lookup));
    if (set->lookups == NULL)
        return -1;
    json_object_object_foreach(L->lookups, name, t) {
        acu_lookup *lk = &set->lookups[i++];
        const char *nm = mstr(t, "no_match");
        json_object *rows = member(t, "rows");
        lk->name = name;
        lk->case_insensitive = json_object_get_boolean(member(t, "case_insensitive"));
        lk->def = member(t, "default");
        lk->no_match = ACU_NOMATCH_ERROR;
        if (nm && strcmp(nm, "pass") == 0)
            lk->no_match = ACU_NOMATCH_PASS;
        else if (nm && strcmp(nm, "default") == 0)
            lk->no_match = ACU_NOMATCH_DEFAULT;
        else if (nm && strcmp(nm, "null") == 0)
            lk->no_match = ACU_NOMATCH_NULL;
        if (!json_object_is_type(rows, json_type_object)) {
            rows = json_object_new_object();
            json_object_object_add(t, "rows", rows);
        }
        if (lk->case_insensitive) {
            json_object *lower = json_object_new_object();
            if (lower == NULL)
                return -1;
            json_object_object_foreach(rows, k, v) {
                char buf[256];
                size_t len = strlen(k);
                if (len >= sizeof(buf))
                    continue;
                for (size_t c = 0; c <= len; c++)
                    buf[c] = (char)tolower((unsigned char)k[c]);
                json_object_object_add(lower, buf, json_object_get(v));
            }
            json_object_array_add(set->keep, lower);
            rows = lower;
        }
        lk->rows = rows;
    }
    set->nlookups = n;
    return 0;
}

const acu_lookup *acu_mapset_find_lookup(const acu_mapset *set, const char *name)
{
    for (size_t i = 0; set && i < set->nlookups; i++)
        if (strcmp(set->lookups[i].name, name) == 0)
            return &set->lookups[i];
    return NULL;
}

/* ---- overlays ---- */

static void collect_targets(json_object *fields, const char *prefix,
                            acu_map_suggest *s, acu_pool *pool)
{
    for (size_t i = 0; i < acu_arr_len(fields); i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        const char *t = mstr(f, "target");
        char *full;
        if (t == NULL)
            continue;
        if (*prefix) {
            size_t n = strlen(prefix) + strlen(t) + 2;
            full = acu_map_pool_alloc(pool, n);
            if (full)
                snprintf(full, n, "%s.%s", prefix, t);
        } else {
            full = acu_map_pool_strdup(pool, t);
        }
        if (full == NULL)
            continue;
        acu_map_suggest_add(s, full);
        if (member(f, "fields"))
            collect_targets(member(f, "fields"), full, s, pool);
    }
}

/* Find `target` in fields: an exact entry, or inside a child collection
 * whose target is a dotted prefix. *container and *rest receive where an added
 * entry would go and its target there. Returns the index or -1. */
static long find_target(json_object *fields, const char *target,
                        json_object **container, const char **rest)
{
    *container = fields;
    *rest = target;
    for (size_t i = 0; i < acu_arr_len(fields); i++) {
        const char *t = mstr(json_object_array_get_idx(fields, i), "target");
        if (t && strcmp(t, target) == 0)
            return (long)i;
    }
    for (size_t i = 0; i < acu_arr_len(fields); i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        const char *t = mstr(f, "target");
        size_t tl = t ? strlen(t) : 0;
        if (t && member(f, "fields") && strncmp(target, t, tl) == 0 && target[tl] == '.')
            return find_target(member(f, "fields"), target + tl + 1, container, rest);
    }
    return -1;
}

static void apply_field_ops(loader *L, json_object *base, json_object *ov_fields,
                            const char *file, const char *mapname, const char *dir)
{
    json_object *fields = member(base, "fields");

    if (fields == NULL) {
        fields = json_object_new_array();
        json_object_object_add(base, "fields", fields);
    }
    for (size_t i = 0; i < acu_arr_len(ov_fields); i++) {
        json_object *e = json_object_array_get_idx(ov_fields, i);
        const char *target = mstr(e, "target");
        const char *op = mstr(e, "op");
        json_object *container, *copy = NULL;
        const char *rest;
        long idx;
        char *p = acu_map_pointer_index("/fields", i);
        char *tp = acu_map_pointer_join(p, "target");

        if (op == NULL)
            op = "set";
        idx = find_target(fields, target, &container, &rest);
        if (idx < 0 && (strcmp(op, "remove") == 0 || strcmp(op, "replace") == 0)) {
            acu_map_suggest s;
            acu_pool tmp;
            acu_map_pool_init(&tmp, 0);
            acu_map_suggest_init(&s, target);
            collect_targets(fields, "", &s, &tmp);
            if (acu_map_suggest_best(&s))
                acu_map_diags_add(L->diags, file, tp, 0,
                                  "mapping '%s' (%s) has no field with target '%s' to %s; did you mean '%s'?",
                                  mapname, dir, target, op, acu_map_suggest_best(&s));
            else
                acu_map_diags_add(L->diags, file, tp, 0,
                                  "mapping '%s' (%s) has no field with target '%s' to %s",
                                  mapname, dir, target, op);
            acu_map_pool_free(&tmp);
        } else if (idx >= 0 && strcmp(op, "add") == 0) {
            const char *of, *optr;
            acu_map_get_origin(json_object_array_get_idx(container, (size_t)idx), &of, &optr);
            acu_map_diags_add(L->diags, file, tp, 0,
                              "mapping '%s' (%s) already maps target '%s' (at %s %s); use \"op\": \"replace\" or \"set\"",
                              mapname, dir, target, of, optr);
        } else if (strcmp(op, "remove") == 0) {
            json_object_array_del_idx(container, (size_t)idx, 1);
        } else if (json_object_deep_copy(e, &copy, NULL) == 0) {
            json_object_object_del(copy, "op");
            json_object_object_add(copy, "target", json_object_new_string(rest));
            if (idx >= 0)
                json_object_array_put_idx(container, (size_t)idx, copy);
            else
                json_object_array_add(container, copy);
        }
        free(tp);
        free(p);
    }
}

static void apply_overlay(loader *L, json_object *base, json_object *ov,
                          const char *file)
{
    static const char *const keys[] = {"id", "match", "for_each", "skip_filters",
                                       "error_filters", "description", NULL};
    json_object *origins = member(base, "$origins");

    for (size_t i = 0; keys[i]; i++) {
        json_object *v = member(ov, keys[i]), *copy = NULL;
        if (v == NULL)
            continue;
        if (json_object_deep_copy(v, &copy, NULL) != 0)
            continue;
        json_object_object_add(base, keys[i], copy);
        if (origins)
            json_object_object_add(origins, keys[i], json_object_new_string(file));
    }
    if (member(ov, "fields"))
        apply_field_ops(L, base, member(ov, "fields"), file, mstr(base, "name"),
                        mstr(base, "direction"));
    if (member(ov, "$dropped_targets")) {
        json_object *dropped = member(base, "$dropped_targets");
        if (dropped == NULL) {
            dropped = json_object_new_array();
            if (dropped == NULL || json_object_object_add(base, "$dropped_targets", dropped) != 0)
                return;
        }
        for (size_t i = 0; i < acu_arr_len(member(ov, "$dropped_targets")); i++)
            json_object_array_add(dropped, json_object_get(
                json_object_array_get_idx(member(ov, "$dropped_targets"), i)));
    }
}

/* Merge one checked, annotated document. */
static void merge_doc(loader *L, json_object *doc, const char *file,
                      const char *context)
{
    const char *name = mstr(doc, "name"), *dir = mstr(doc, "direction");
    char key[160];
    json_object *base;

    if (member(doc, "lookups"))
        merge_lookups(L, member(doc, "lookups"), file);
    if (name == NULL || dir == NULL)
        return;
    snprintf(key, sizeof(key), "%s.%s", name, dir);
    base = member(L->maps, key);
    if (json_object_get_boolean(member(doc, "overlay"))) {
        if (base == NULL) {
            acu_map_suggest s;
            acu_map_suggest_init(&s, name);
            json_object_object_foreach(L->maps, k, v) {
                (void)k;
                acu_map_suggest_add(&s, mstr(v, "name"));
            }
            if (acu_map_suggest_best(&s) && strcmp(acu_map_suggest_best(&s), name) != 0)
                acu_map_diags_add(L->diags, file, "/name", 0,
                                  "this overlay changes mapping '%s' (%s), which does not exist%s; did you mean '%s'?",
                                  name, dir, context, acu_map_suggest_best(&s));
            else
                acu_map_diags_add(L->diags, file, "/name", 0,
                                  "this overlay changes mapping '%s' (%s), which does not exist%s",
                                  name, dir, context);
            return;
        }
        apply_overlay(L, base, doc, file);
        return;
    }
    {
        json_object *copy = NULL;
        if (json_object_deep_copy(doc, &copy, NULL) != 0)
            return;
        json_object_object_del(copy, "lookups");
        json_object_object_del(copy, "$schema");
        json_object_object_add(L->maps, key, copy);
    }
}

/* Parse, check, annotate and merge one document. kind: see check. */
static void take_text(loader *L, const char *text, size_t len, const char *file,
                      const char *kind, const char *context)
{
    json_object *doc = parse_text(L, text, len, file);
    int fatal = 0;

    if (doc == NULL)
        return;
    acu_map_check_document(doc, file, kind, L->diags, &fatal);
    if (!fatal) {
        strip_invalid(doc);
        annotate(doc, file);
        merge_doc(L, doc, file, context);
    }
    json_object_put(doc);
}

static void load_version(loader *L, json_object *manifest, const char *version,
                         int depth)
{
    json_object *versions = member(manifest, "versions");
    json_object *entry = member(versions, version);
    const char *base = mstr(entry, "extends");
    char prefix[64];

    if (entry == NULL || depth > 8)
        return;
    if (base != NULL)
        load_version(L, manifest, base, depth + 1);
    snprintf(prefix, sizeof(prefix), "%s/", version);
    for (size_t i = 0; i < acu_map_embedded_count; i++) {
        const acu_map_file *f = &acu_map_embedded_files[i];
        char file[300];
        if (strncmp(f->path, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(file, sizeof(file), "mappings/%s", f->path);
        take_text(L, (const char *)f->data, f->len, file, "mapping",
                  " in the defaults of this version");
    }
}

static char *read_file(const char *path, size_t *len, char *why, size_t whycap)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (fp == NULL) {
        snprintf(why, whycap, "cannot open the file: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            char *nb;
            if (cap >= ACU_MAP_MAX_FILE_BYTES + 1) {
                snprintf(why, whycap, "the file is larger than %u bytes", ACU_MAP_MAX_FILE_BYTES);
                free(buf);
                fclose(fp);
                return NULL;
            }
            cap = cap ? cap * 2 : 16384;
            if (cap > ACU_MAP_MAX_FILE_BYTES + 1)
                cap = ACU_MAP_MAX_FILE_BYTES + 1;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                snprintf(why, whycap, "out of memory reading the file");
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        snprintf(why, whycap, "cannot read the file: %s", strerror(errno));
        free(buf);
        fclose(fp);
        return NULL;
    }
    fclose(fp);
    if (n > ACU_MAP_MAX_FILE_BYTES) {
        snprintf(why, whycap, "the file is larger than %u bytes", ACU_MAP_MAX_FILE_BYTES);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf ? buf : calloc(1, 1);
}

static const char *known_versions_text(char *buf, size_t cap)
{
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < acu_map_embedded_count; i++) {
        const char *p = acu_map_embedded_files[i].path;
        if (strncmp(p, "catalog/", 8) == 0 && o + 1 < cap) {
            const char *dot = strstr(p + 8, ".json");
            int n = snprintf(buf + o, cap - o, "%s%.*s", o ? ", " : "",
                             dot ? (int)(dot - (p + 8)) : 0, p + 8);
            if (n > 0)
                o += (size_t)n;
        }
    }
    return buf;
}

void acu_map_free(acu_map *m)
{
    if (m == NULL)
        return;
    json_object_put(m->doc);
    json_object_put(m->reads_select);
    json_object_put(m->reads_expand);
    json_object_put(m->reads_custom);
    json_object_put(m->uses_lookups);
    free(m);
}

void acu_mapset_free(acu_mapset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nmaps; i++)
        acu_map_free(set->maps[i]);
    free(set->maps);
    free(set->lookups);
    json_object_put(set->lookup_docs);
    acu_map_catalog_free(set->catalog);
    json_object_put(set->catalog_doc);
    json_object_put(set->keep);
    acu_map_pool_free(&set->pool);
    free(set->version);
    free(set);
}

/* Fill err->message with every diagnostic, one per line. */
static void fill_error(conn_error *err, const acu_map_diags *d)
{
    size_t n = acu_map_diags_count(d), shown = 0, used = 0;
    char line[1100];

    if (err == NULL)
        return;
    err->status = CONN_INVALID;
    err->message[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len;
        acu_map_diag_format(acu_map_diags_get(d, i), line, sizeof(line));
        len = strlen(line);
        /* keep room for the "... and N more" tail */
        if (used + len + 2 + 48 >= sizeof(err->message))
            break;
        if (used)
            err->message[used++] = '\n';
        memcpy(err->message + used, line, len + 1);
        used += len;
        shown++;
    }
    if (shown < n + acu_map_diags_dropped(d))
        snprintf(err->message + used, sizeof(err->message) - used,
                 "%s... and %zu more problem%s", used ? "\n" : "",
                 n + acu_map_diags_dropped(d) - shown,
                 n + acu_map_diags_dropped(d) - shown == 1 ? "" : "s");
}

conn_status acu_mapset_load(const acu_map_options *opts, acu_mapset **out,
                            conn_error *err)
{
    loader L;
    acu_map_diags *own = NULL;
    acu_mapset *set = NULL;
    const acu_map_file *cat, *manifest_file;
    json_object *manifest = NULL;
    char path[128], known[256];
    conn_status st = CONN_OK;
    const char *version;

    *out = NULL;
    memset(&L, 0, sizeof(L));
    L.diags = opts->diags;
    if (L.diags == NULL) {
        own = acu_map_diags_new();
        if (own == NULL)
            return acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
        L.diags = own;
    }
    set = calloc(1, sizeof(*set));
    L.maps = json_object_new_object();
    L.lookups = json_object_new_object();
    if (set == NULL || L.maps == NULL || L.lookups == NULL) {
        st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
        goto out;
    }
    L.set = set;
    acu_map_pool_init(&set->pool, 0);
    set->keep = json_object_new_array();
    version = opts->endpoint_version ? opts->endpoint_version : DEFAULT_VERSION;
    set->version = strdup(version);
    set->tz_offset_min = opts->tz_offset_minutes;
    if (set->keep == NULL || set->version == NULL) {
        st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
        goto out;
    }
    if (strlen(version) > 32 || strchr(version, '/') != NULL)
        cat = NULL;
    else {
        snprintf(path, sizeof(path), "catalog/%s.json", version);
        cat = acu_map_embedded_find(path);
    }
    if (cat == NULL) {
        acu_map_diags_add(L.diags, "settings", "/endpoint_version", 0,
                          "endpoint version '%.40s' is not supported by this plugin; it knows %s",
                          version, known_versions_text(known, sizeof(known)));
        goto done;
    }
    set->catalog_doc = json_tokener_parse((const char *)cat->data);
    set->catalog = set->catalog_doc ? acu_map_catalog_new(set->catalog_doc) : NULL;
    if (set->catalog == NULL) {
        st = acu_map_err(err, CONN_INTERNAL, "mappings: the built-in catalogue %s is damaged", path);
        goto out;
    }
    if (opts->create_default_mappings) {
        manifest_file = acu_map_embedded_find("versions.json");
        if (manifest_file != NULL)
            manifest = json_tokener_parse((const char *)manifest_file->data);
        if (manifest == NULL) {
            st = acu_map_err(err, CONN_INTERNAL, "mappings: the built-in versions.json is missing or damaged");
            goto out;
        }
        load_version(&L, manifest, version, 0);
        for (size_t i = 0; i < acu_map_embedded_count; i++) {
            const acu_map_file *f = &acu_map_embedded_files[i];
            char file[300];
            if (strncmp(f->path, "lookups/", 8) != 0)
                continue;
            snprintf(file, sizeof(file), "mappings/%s", f->path);
            take_text(&L, (const char *)f->data, f->len, file, "lookup", "");
        }
    }
    for (size_t i = 0; i < opts->override_count; i++) {
        const char *o = opts->overrides[i];
        const char *p = o;
        char label[64];
        if (o == NULL)
            continue;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '{' || *p == '[') {
            snprintf(label, sizeof(label), "mapping_overrides[%zu]", i);
            take_text(&L, o, strlen(o), label, "any",
                      opts->create_default_mappings ? "" : " (Create Default Mappings is false, so only your files count)");
        } else {
            size_t len = 0;
            char why[256];
            char *text = read_file(o, &len, why, sizeof(why));
            if (text == NULL) {
                acu_map_diags_add(L.diags, o, "", 0, "%s", why);
                continue;
            }
            take_text(&L, text, len, o, "any",
                      opts->create_default_mappings ? "" : " (Create Default Mappings is false, so only your files count)");
            free(text);
        }
    }
    if (compile_lookups(&L) != 0) {
        st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
        goto out;
    }
    {
        size_t n = (size_t)json_object_object_length(L.maps);
        set->maps = calloc(n ? n : 1, sizeof(acu_map *));
        if (set->maps == NULL) {
            st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
            goto out;
        }
        json_object_object_foreach(L.maps, key, doc) {
            acu_map *m = calloc(1, sizeof(*m));
            (void)key;
            if (m == NULL) {
                st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
                goto out;
            }
            set->maps[set->nmaps++] = m;
            acu_map_compile(set, json_object_get(doc), m, opts->settings, L.diags);
        }
    }
done:
    if (acu_map_diags_count(L.diags) > 0) {
        fill_error(err, L.diags);
        st = CONN_INVALID;
        goto out;
    }
    *out = set;
    set = NULL;
out:
    json_object_put(manifest);
    json_object_put(L.maps);
    json_object_put(L.lookups);
    acu_mapset_free(set);
    acu_map_diags_free(own);
    return st;
}

int acu_mapset_has_entity(const acu_mapset *set, const char *name)
{
    return set != NULL && acu_map_catalog_has_entity(set->catalog, name);
}

const char *acu_mapset_version(const acu_mapset *set)
{
    return set ? set->version : NULL;
}

const acu_map *acu_mapset_get(const acu_mapset *set, const char *name,
                              acu_map_direction dir)
{
    for (size_t i = 0; set && name && i < set->nmaps; i++)
        if (set->maps[i]->name && strcmp(set->maps[i]->name, name) == 0 &&
            set->maps[i]->dir == dir)
            return set->maps[i];
    return NULL;
}

size_t acu_mapset_count(const acu_mapset *set)
{
    return set ? set->nmaps : 0;
}

const acu_map *acu_mapset_at(const acu_mapset *set, size_t i)
{
    return set && i < set->nmaps ? set->maps[i] : NULL;
}
