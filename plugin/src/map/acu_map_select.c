/* acu_map_select.c - what a mapping reads or writes in Acumatica, as query
 * strings ($select, $expand, $custom), and the effective mapping as JSON
 * for the `show` tool. */
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The set's keys, sorted, joined with ','; NULL when empty. */
static char *join_set(json_object *set, int *nomem)
{
    size_t n = (size_t)json_object_object_length(set), i = 0;
    const char **keys;
    acu_buf b;

    if (n == 0)
        return NULL;
    keys = calloc(n, sizeof(char *));
    if (keys == NULL) {
        *nomem = 1;
        return NULL;
    }
    json_object_object_foreach(set, k, v) {
        (void)v;
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(char *), cmp_str);
    acu_buf_init(&b, 1u << 20);
    for (i = 0; i < n; i++) {
        if (i)
            acu_buf_add(&b, ",", 1);
        acu_buf_adds(&b, keys[i]);
    }
    free(keys);
    if (b.failed) {
        acu_buf_free(&b);
        *nomem = 1;
        return NULL;
    }
    return acu_buf_take(&b, NULL);
}

conn_status acu_map_select_expand(const acu_map *m, char **select,
                                  char **expand, char **custom,
                                  conn_error *err)
{
    int nomem = 0;

    if (select)
        *select = NULL;
    if (expand)
        *expand = NULL;
    if (custom)
        *custom = NULL;
    if (m == NULL)
        return acu_map_err(err, CONN_INVALID, "acu_map_select_expand: no mapping");
    if (select && m->dir == ACU_MAP_TO_HOST)
        *select = join_set(m->reads_select, &nomem);
    if (expand)
        *expand = join_set(m->reads_expand, &nomem);
    if (custom)
        *custom = join_set(m->reads_custom, &nomem);
    if (nomem) {
        if (select) {
            free(*select);
            *select = NULL;
        }
        if (expand) {
            free(*expand);
            *expand = NULL;
        }
        if (custom) {
            free(*custom);
            *custom = NULL;
        }
        return acu_map_err(err, CONN_NOMEM, "out of memory");
    }
    return CONN_OK;
}

/* The set's keys as a sorted JSON array of strings; NULL on no memory. */
static json_object *sorted_names(json_object *set)
{
    size_t n = (size_t)json_object_object_length(set), i = 0;
    const char **names = calloc(n ? n : 1, sizeof(char *));
    json_object *arr = json_object_new_array();

    if (names == NULL || arr == NULL) {
        free(names);
        json_object_put(arr);
        return NULL;
    }
    json_object_object_foreach(set, k, v) {
        (void)v;
        names[i++] = k;
    }
    qsort(names, n, sizeof(char *), cmp_str);
    for (i = 0; i < n; i++) {
        if (json_object_array_add(arr, json_object_new_string(names[i])) != 0) {
            json_object_put(arr);
            arr = NULL;
            break;
        }
    }
    free(names);
    return arr;
}

/* Replace "$origin" by "from": "<file> <pointer>" and drop "$origins". */
static void present(json_object *o)
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            present(json_object_array_get_idx(o, i));
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    {
        json_object *origin;
        if (json_object_object_get_ex(o, "$origin", &origin)) {
            json_object *f = NULL, *p = NULL;
            char *text;
            json_object_object_get_ex(origin, "file", &f);
            json_object_object_get_ex(origin, "pointer", &p);
            text = acu_map_strdupf("%s %s", f ? json_object_get_string(f) : "",
                                   p ? json_object_get_string(p) : "");
            if (text) {
                json_object_object_add(o, "from", json_object_new_string(text));
                free(text);
            }
            json_object_object_del(o, "$origin");
        }
    }
    json_object_object_del(o, "$origins");
    json_object_object_del(o, "$dropped_targets");
    json_object_object_foreach(o, k, v) {
        (void)k;
        present(v);
    }
}

json_object *acu_map_to_json(const acu_map *m)
{
    json_object *copy = NULL, *origins, *meta, *keys;
    char *sel = NULL, *exp = NULL, *cus = NULL;

    if (m == NULL || json_object_deep_copy(m->doc, &copy, NULL) != 0)
        return NULL;
    meta = json_object_new_object();
    if (meta == NULL) {
        json_object_put(copy);
        return NULL;
    }
    if (json_object_object_get_ex(m->doc, "$origins", &origins)) {
        json_object *o = NULL;
        if (json_object_deep_copy(origins, &o, NULL) == 0)
            json_object_object_add(meta, "defined_in", o);
    }
    keys = json_object_new_array();
    for (size_t i = 0; keys && i < m->nkeys; i++)
        json_object_array_add(keys, json_object_new_string(m->keys[i]));
    json_object_object_add(meta, "keys", keys);
    json_object_object_add(meta, "lookups", sorted_names(m->uses_lookups));
    if (m->last_modified)
        json_object_object_add(meta, "last_modified", json_object_new_string(m->last_modified));
    acu_map_select_expand(m, &sel, &exp, &cus, NULL);
    if (sel)
        json_object_object_add(meta, "select", json_object_new_string(sel));
    if (exp)
        json_object_object_add(meta, "expand", json_object_new_string(exp));
    if (cus)
        json_object_object_add(meta, "custom", json_object_new_string(cus));
    free(sel);
    free(exp);
    free(cus);
    present(copy);
    json_object_object_add(copy, "engine", meta);
    return copy;
}

json_object *acu_map_lookups_json(const acu_map *m)
{
    json_object *out = json_object_new_object(), *names;

    if (m == NULL || out == NULL) {
        json_object_put(out);
        return NULL;
    }
    names = sorted_names(m->uses_lookups);
    if (names == NULL) {
        json_object_put(out);
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(names); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(names, i));
        json_object *t = NULL, *copy = NULL, *changes = NULL;
        if (!json_object_object_get_ex(m->set->lookup_docs, name, &t))
            continue;
        if (json_object_deep_copy(t, &copy, NULL) != 0) {
            json_object_put(out);
            out = NULL;
            break;
        }
        present(copy);
        /* "$changes": the rows and options an overlay added or overrode. */
        if (json_object_object_get_ex(copy, "$changes", &changes)) {
            json_object_object_add(copy, "changed_by", json_object_get(changes));
            json_object_object_del(copy, "$changes");
        }
        json_object_object_add(out, name, copy);
    }
    json_object_put(names);
    return out;
}
