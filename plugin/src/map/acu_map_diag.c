/* acu_map_diag.c - the list of problems found while loading mappings. Every
 * problem names the file, the JSON pointer and (for expressions) the column,
 * so a person can go straight to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

struct acu_map_diags {
    acu_map_diag *items;
    size_t count;
    size_t cap;
    size_t dropped;
};

acu_map_diags *acu_map_diags_new(void)
{
    return calloc(1, sizeof(acu_map_diags));
}

void acu_map_diags_free(acu_map_diags *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free((char *)d->items[i].file);
        free((char *)d->items[i].pointer);
        free((char *)d->items[i].message);
    }
    free(d->items);
    free(d);
}

size_t acu_map_diags_count(const acu_map_diags *d)
{
    return d ? d->count : 0;
}

size_t acu_map_diags_dropped(const acu_map_diags *d)
{
    return d ? d->dropped : 0;
}

const acu_map_diag *acu_map_diags_get(const acu_map_diags *d, size_t i)
{
    if (d == NULL || i >= d->count)
        return NULL;
    return &d->items[i];
}

int acu_map_diags_addv(acu_map_diags *d, const char *file, const char *pointer,
                       int column, const char *fmt, va_list ap)
{
    acu_map_diag g;
    char msg[1024];

    if (d == NULL)
        return -1;
    if (d->count >= ACU_MAP_MAX_DIAGS) {
        d->dropped++;
        return 0;
    }
    if (d->count == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        acu_map_diag *n = realloc(d->items, ncap * sizeof(*n));
        if (n == NULL)
            return -1;
        d->items = n;
        d->cap = ncap;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    g.file = strdup(file ? file : "(unknown)");
    g.pointer = strdup(pointer && *pointer ? pointer : "");
    g.column = column;
    g.message = strdup(msg);
    if (g.file == NULL || g.pointer == NULL || g.message == NULL) {
        free((char *)g.file);
        free((char *)g.pointer);
        free((char *)g.message);
        return -1;
    }
    d->items[d->count++] = g;
    return 0;
}

int acu_map_diags_add(acu_map_diags *d, const char *file, const char *pointer,
                      int column, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = acu_map_diags_addv(d, file, pointer, column, fmt, ap);
    va_end(ap);
    return rc;
}

char *acu_map_diag_format(const acu_map_diag *g, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    if (g->column > 0)
        snprintf(buf, cap, "%s %s, column %d: %s", g->file,
                 g->pointer[0] ? g->pointer : "/", g->column, g->message);
    else
        snprintf(buf, cap, "%s %s: %s", g->file,
                 g->pointer[0] ? g->pointer : "/", g->message);
    return buf;
}

json_object *acu_map_diags_to_json(const acu_map_diags *d)
{
    json_object *arr = json_object_new_array();
    char line[2048];

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; d != NULL && i < d->count; i++) {
        const acu_map_diag *g = &d->items[i];
        json_object *o = json_object_new_object();
        if (o == NULL || json_object_array_add(arr, o) != 0) {
            json_object_put(o);
            json_object_put(arr);
            return NULL;
        }
        json_object_object_add(o, "file", json_object_new_string(g->file));
        json_object_object_add(o, "pointer", json_object_new_string(g->pointer));
        if (g->column > 0)
            json_object_object_add(o, "column", json_object_new_int(g->column));
        json_object_object_add(o, "message", json_object_new_string(g->message));
        json_object_object_add(o, "text", json_object_new_string(
            acu_map_diag_format(g, line, sizeof(line))));
    }
    return arr;
}
