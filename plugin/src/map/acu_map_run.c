/* acu_map_run.c - running a compiled mapping on one record.
 *
 * Per record: skip filters (the record is reported as skipped), error
 * filters (rejected with the filter's message), then every field: its
 * condition, its value, the default when empty, required, maximum length
 * (truncate or fail), and, towards Acumatica, the wire shape: the value is
 * checked against the field's type from the catalogue and wrapped
 * {"value": v}; custom fields get {"type": "Custom...Field", "value": v};
 * detail lines can carry "delete": true. All field errors of a record are
 * collected (up to a cap), each with JSON pointers into the input and the
 * output and the mapping entry it came from. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acu_map_internal.h"

typedef struct rec {
    json_object *errors; /* array, made on the first error */
    size_t nerrors;
    int nomem;
    const acu_map *m;
} rec;

/* snprintf that may truncate: pointers in error reports are capped. */
static void fmt_capped(char *buf, size_t cap, const char *fmt, ...) ACU_MAP_PRINTF(3, 4);
static void fmt_capped(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* Where we are, for error pointers. */
typedef struct where {
    char src[512]; /* JSON pointer of the current input record */
    char tgt[512]; /* JSON pointer of the current output record */
} where;

static void add_error(rec *r, const char *origin_file, const char *origin_ptr,
                      const char *target_ptr, const char *source_ptr,
                      const char *fmt, ...) ACU_MAP_PRINTF(6, 7);
static void add_error(rec *r, const char *origin_file, const char *origin_ptr,
                      const char *target_ptr, const char *source_ptr,
                      const char *fmt, ...)
{
    char msg[600], mapping[600];
    va_list ap;
    json_object *e;

    r->nerrors++;
    if (r->nerrors > ACU_MAP_MAX_RECORD_ERRORS)
        return;
    if (r->errors == NULL) {
        r->errors = json_object_new_array();
        if (r->errors == NULL) {
            r->nomem = 1;
            return;
        }
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(mapping, sizeof(mapping), "%s %s", origin_file ? origin_file : "",
             origin_ptr && *origin_ptr ? origin_ptr : "/");
    e = json_object_new_object();
    if (e == NULL || json_object_array_add(r->errors, e) != 0) {
        json_object_put(e);
        r->nomem = 1;
        return;
    }
    json_object_object_add(e, "message", json_object_new_string(msg));
    json_object_object_add(e, "mapping", json_object_new_string(mapping));
    if (target_ptr)
        json_object_object_add(e, "target", json_object_new_string(target_ptr));
    if (source_ptr)
        json_object_object_add(e, "source", json_object_new_string(source_ptr));
}

/* JSON pointer of a target path under base ("/Details/0" + "ShipToAddress.City"). */
static void target_pointer(const where *w, const acu_field *f, char *buf,
                           size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "%s", w->tgt);

    for (unsigned i = 0; i < f->ntseg && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "/%s", f->tseg[i]);
}

/* JSON pointer of the source, when the value is a plain path of the
 * current record; NULL otherwise. */
static const char *source_pointer(const where *w, const acu_field *f,
                                  char *buf, size_t cap)
{
    const acu_expr *e = f->value;
    size_t o;

    /* A transform chain (trim(upper(x))) still reads one field: look
     * through calls to the value they were applied to. */
    while (e != NULL && e->op == ACU_OP_CALL && e->nargs > 0) {
        if (e->fn == acu_map_func_id_lookup() && e->nargs > 1)
            e = e->u.args[1];
        else
            e = e->u.args[0];
    }
    if (e == NULL || e->op != ACU_OP_PATH || e->u.path->up != 0)
        return NULL;
    o = (size_t)snprintf(buf, cap, "%s", w->src);
    for (unsigned i = 0; i < e->u.path->nseg && o < cap; i++) {
        if (e->u.path->seg[i].key)
            o += (size_t)snprintf(buf + o, cap - o, "/%s", e->u.path->seg[i].key);
        else
            o += (size_t)snprintf(buf + o, cap - o, "/%d", (int)e->u.path->seg[i].index);
    }
    return buf;
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static size_t utf8_prefix(const char *s, size_t len, size_t chars)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == chars)
                return i;
            n++;
        }
    }
    return len;
}

static int is_int_type(acu_ftype t)
{
    return t == ACU_FT_INT || t == ACU_FT_SHORT || t == ACU_FT_LONG || t == ACU_FT_BYTE;
}

/* The JSON to send for value v to an Acumatica field of type `wire`. On a
 * type mismatch returns NULL and writes the reason to why. */
static json_object *wire_json(acu_run *run, acu_ftype wire, acu_val *v,
                              char *why, size_t cap)
{
    double n;
    const char *s;
    size_t len;

    switch (wire) {
    case ACU_FT_DECIMAL:
    case ACU_FT_DOUBLE:
    case ACU_FT_INT:
    case ACU_FT_SHORT:
    case ACU_FT_LONG:
    case ACU_FT_BYTE:
        if (v->kind == ACU_V_NUM)
            n = v->u.n;
        else if (v->kind == ACU_V_STR && acu_map_text_to_number(v->u.s, v->len, &n) == 0)
            v->j = NULL;
        else {
            if (v->kind == ACU_V_STR)
                snprintf(why, cap, "expected a number, got '%.*s'",
                         (int)(v->len > 40 ? 40 : v->len), v->u.s);
            else
                snprintf(why, cap, "expected a number, got %s", acu_map_v_kind_name(v));
            return NULL;
        }
        if (is_int_type(wire)) {
            double lim = wire == ACU_FT_BYTE ? 255 : wire == ACU_FT_SHORT ? 32767
                       : wire == ACU_FT_INT ? 2147483647.0 : 9007199254740991.0;
            if (n != floor(n) || fabs(n) > lim) {
                snprintf(why, cap, "expected a whole number%s, got %g",
                         wire == ACU_FT_BYTE ? " from 0 to 255" : wire == ACU_FT_SHORT ? " up to 32767" : "", n);
                return NULL;
            }
            if (v->j != NULL && json_object_is_type(v->j, json_type_int))
                return json_object_get(v->j);
            return json_object_new_int64((int64_t)n);
        }
        if (v->kind == ACU_V_NUM && v->j != NULL)
            return json_object_get(v->j);
        {
            json_object *num = acu_map_json_number(n);
            if (num == NULL)
                snprintf(why, cap, "the number cannot be written as JSON");
            return num;
        }
    case ACU_FT_BOOL:
        if (v->kind == ACU_V_BOOL)
            return v->j ? json_object_get(v->j) : json_object_new_boolean(v->b);
        if (v->kind == ACU_V_NUM && (v->u.n == 0 || v->u.n == 1))
            return json_object_new_boolean(v->u.n != 0);
        if (v->kind == ACU_V_STR) {
            static const char *const yes[] = {"true", "yes", "1", "y", "on"};
            static const char *const no[] = {"false", "no", "0", "n", "off"};
            for (size_t i = 0; i < 5; i++) {
                if (v->len == strlen(yes[i]) && strncasecmp(v->u.s, yes[i], v->len) == 0)
                    return json_object_new_boolean(1);
                if (v->len == strlen(no[i]) && strncasecmp(v->u.s, no[i], v->len) == 0)
                    return json_object_new_boolean(0);
            }
        }
        snprintf(why, cap, "expected true or false, got %s", acu_map_v_kind_name(v));
        return NULL;
    case ACU_FT_DATETIME: {
        acu_datetime dt;
        if (v->kind != ACU_V_STR ||
            acu_map_date_parse(v->u.s, v->len, run->set->tz_offset_min, &dt) != 0) {
            if (v->kind == ACU_V_STR)
                snprintf(why, cap, "expected a date or date-time, got '%.*s'",
                         (int)(v->len > 40 ? 40 : v->len), v->u.s);
            else
                snprintf(why, cap, "expected a date or date-time, got %s", acu_map_v_kind_name(v));
            return NULL;
        }
        return v->j ? json_object_get(v->j) : json_object_new_string_len(v->u.s, (int)v->len);
    }
    default: /* string, guid, unknown */
        if (v->kind == ACU_V_STR)
            return v->j ? json_object_get(v->j) : json_object_new_string_len(v->u.s, (int)v->len);
        if (v->kind == ACU_V_NUM || v->kind == ACU_V_BOOL) {
            if (acu_map_v_to_text(run, v, &s, &len) != 0) {
                snprintf(why, cap, "out of memory");
                return NULL;
            }
            return json_object_new_string_len(s, (int)len);
        }
        snprintf(why, cap, "expected text, got %s", acu_map_v_kind_name(v));
        return NULL;
    }
}

/* Child object `key` of obj, made when missing. */
static json_object *child_object(json_object *obj, const char *key)
{
    json_object *c;

    if (json_object_object_get_ex(obj, key, &c) && json_object_is_type(c, json_type_object))
        return c;
    c = json_object_new_object();
    if (c == NULL || json_object_object_add(obj, key, c) != 0) {
        json_object_put(c);
        return NULL;
    }
    return c;
}

/* Put value (owned) at the field's target in out. */
static int put_value(json_object *out, const acu_field *f, json_object *value)
{
    json_object *o = out;
    unsigned last = f->ntseg - 1;

    switch (f->kind) {
    case ACU_TGT_CUSTOM: {
        json_object *view, *w;
        o = child_object(out, "custom");
        view = o ? child_object(o, f->tseg[1]) : NULL;
        w = json_object_new_object();
        if (view == NULL || w == NULL) {
            json_object_put(w);
            json_object_put(value);
            return -1;
        }
        json_object_object_add(w, "type", json_object_new_string(f->custom_type));
        json_object_object_add(w, "value", value);
        return json_object_object_add(view, f->tseg[2], w);
    }
    case ACU_TGT_SYSTEM_ID:
        return json_object_object_add(out, "id", value);
    case ACU_TGT_FIELD: {
        json_object *w;
        for (unsigned i = 0; i < last && o; i++)
            o = child_object(o, f->tseg[i]);
        w = json_object_new_object();
        if (o == NULL || w == NULL) {
            json_object_put(w);
            json_object_put(value);
            return -1;
        }
        json_object_object_add(w, "value", value);
        return json_object_object_add(o, f->tseg[last], w);
    }
    default:
        for (unsigned i = 0; i < last && o; i++)
            o = child_object(o, f->tseg[i]);
        if (o == NULL) {
            json_object_put(value);
            return -1;
        }
        return json_object_object_add(o, f->tseg[last], value);
    }
}

/* Evaluate a filter list; returns the index of the first that matches,
 * -1 none, -2 a filter failed (error added). */
static long first_match(acu_run *run, rec *r, const acu_filter *fl, size_t n,
                        const where *w)
{
    for (size_t i = 0; i < n; i++) {
        acu_val v = acu_map_expr_eval(run, fl[i].when);
        if (v.kind == ACU_V_ERR) {
            add_error(r, fl[i].origin_file, fl[i].origin_ptr, w->tgt[0] ? w->tgt : NULL,
                      w->src, "the filter failed: %.*s", (int)v.len, v.u.s);
            return -2;
        }
        if (acu_map_v_truthy(&v))
            return (long)i;
    }
    return -1;
}

/* The message of a matched filter (malloc'ed). */
static char *filter_message(acu_run *run, const acu_filter *f, const char *what)
{
    if (f->message != NULL) {
        acu_val v = acu_map_expr_eval(run, f->message);
        const char *s;
        size_t len;
        if (v.kind == ACU_V_ERR)
            return acu_map_strdupf("%s (the message failed: %.*s)", what, (int)v.len, v.u.s);
        if (acu_map_v_to_text(run, &v, &s, &len) == 0 && len > 0)
            return acu_map_strdupf("%.*s", (int)len, s);
    }
    return acu_map_strdupf("%s at %s %s", what, f->origin_file, f->origin_ptr);
}

static int run_node(acu_run *run, rec *r, const acu_node *node, json_object *out,
                    const where *w);

static int run_children(acu_run *run, rec *r, const acu_field *f, json_object *out,
                        const where *w)
{
    acu_val src = acu_map_expr_eval(run, f->value);
    char tp[600], sp[600];
    json_object *arr;
    size_t n;
    int single;

    target_pointer(w, f, tp, sizeof(tp));
    if (src.kind == ACU_V_ERR) {
        add_error(r, f->origin_file, f->origin_ptr, tp, NULL, "%.*s", (int)src.len, src.u.s);
        return 0;
    }
    if (src.kind == ACU_V_NULL) {
        if (f->required)
            add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                      "'%s' is required but '%s' is empty", f->target,
                      f->source_text ? f->source_text : "the source");
        return 0;
    }
    if (src.kind != ACU_V_JSON) {
        add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                  "'%s' needs a list (or one object), got %s", f->target, acu_map_v_kind_name(&src));
        return 0;
    }
    single = !json_object_is_type(src.j, json_type_array);
    n = single ? 1 : json_object_array_length(src.j);
    if (f->required && n == 0)
        add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                  "'%s' is required but the list is empty", f->target);
    if (run->depth + 1 >= ACU_MAP_MAX_SCOPES)
        return -1;
    arr = json_object_new_array();
    if (arr == NULL)
        return -1;
    run->depth++;
    for (size_t i = 0; i < n; i++) {
        json_object *elem = single ? src.j : json_object_array_get_idx(src.j, i);
        json_object *line;
        where cw;
        long hit;
        const char *base = source_pointer(w, f, sp, sizeof(sp));

        run->scopes[run->depth] = elem;
        if (base && single)
            fmt_capped(cw.src, sizeof(cw.src), "%s", base);
        else if (base)
            fmt_capped(cw.src, sizeof(cw.src), "%s/%zu", base, i);
        else
            fmt_capped(cw.src, sizeof(cw.src), "%s/(%s)/%zu", w->src, f->source_text ? f->source_text : "", i);
        fmt_capped(cw.tgt, sizeof(cw.tgt), "%s/%zu", tp, json_object_array_length(arr));
        if (!json_object_is_type(elem, json_type_object)) {
            add_error(r, f->origin_file, f->origin_ptr, cw.tgt, cw.src,
                      "element %zu of '%s' is %s, not a record", i,
                      f->source_text ? f->source_text : "the list",
                      json_object_get_type(elem) == json_type_null ? "null" : "a plain value");
            continue;
        }
        hit = first_match(run, r, f->child->skip, f->child->nskip, &cw);
        if (hit >= 0)
            continue; /* a skipped line is left out */
        if (hit == -2)
            continue;
        hit = first_match(run, r, f->child->reject, f->child->nreject, &cw);
        if (hit >= 0) {
            char *msg = filter_message(run, &f->child->reject[hit], "rejected by an error filter");
            add_error(r, f->child->reject[hit].origin_file, f->child->reject[hit].origin_ptr,
                      cw.tgt, cw.src, "%s", msg ? msg : "rejected by an error filter");
            free(msg);
            continue;
        }
        if (hit == -2)
            continue;
        line = json_object_new_object();
        if (line == NULL || json_object_array_add(arr, line) != 0) {
            json_object_put(line);
            run->depth--;
            json_object_put(arr);
            return -1;
        }
        if (run_node(run, r, f->child, line, &cw) != 0) {
            run->depth--;
            json_object_put(arr);
            return -1;
        }
        if (f->child->delete_when != NULL) {
            acu_val d = acu_map_expr_eval(run, f->child->delete_when);
            if (d.kind == ACU_V_ERR)
                add_error(r, f->origin_file, f->origin_ptr, cw.tgt, cw.src,
                          "delete_when failed: %.*s", (int)d.len, d.u.s);
            else if (acu_map_v_truthy(&d))
                json_object_object_add(line, "delete", json_object_new_boolean(1));
        }
    }
    run->depth--;
    if (f->kind == ACU_TGT_FIELD || f->kind == ACU_TGT_CUSTOM) {
        json_object_put(arr);
        return -1;
    }
    {
        acu_field plain = *f;
        plain.kind = ACU_TGT_PLAIN; /* a detail array is never wrapped */
        return put_value(out, &plain, arr) == 0 ? 0 : -1;
    }
}

static int run_field(acu_run *run, rec *r, const acu_field *f, json_object *out,
                     const where *w)
{
    acu_val v;
    char tp[600], sp[600], why[200];
    json_object *j;

    if (f->when != NULL) {
        acu_val c = acu_map_expr_eval(run, f->when);
        if (c.kind == ACU_V_ERR) {
            target_pointer(w, f, tp, sizeof(tp));
            add_error(r, f->origin_file, f->origin_ptr, tp, NULL, "the condition failed: %.*s",
                      (int)c.len, c.u.s);
            return 0;
        }
        if (!acu_map_v_truthy(&c))
            return 0;
    }
    if (f->child != NULL)
        return run_children(run, r, f, out, w);
    v = acu_map_expr_eval(run, f->value);
    if (v.kind == ACU_V_ERR) {
        target_pointer(w, f, tp, sizeof(tp));
        add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                  "%.*s", (int)v.len, v.u.s);
        return 0;
    }
    if (acu_map_v_is_empty(&v) && f->def != NULL) {
        v = acu_map_v_from_json(f->def);
        v.j = NULL; /* the default belongs to the set: never share it */
    }
    if (acu_map_v_is_empty(&v)) {
        if (f->required) {
            target_pointer(w, f, tp, sizeof(tp));
            if (f->source_text)
                add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                          "'%s' is required but '%s' is empty", f->target, f->source_text);
            else
                add_error(r, f->origin_file, f->origin_ptr, tp, NULL,
                          "'%s' is required but its value is empty", f->target);
            return 0;
        }
        if (!f->keep_null)
            return 0;
        if (v.kind == ACU_V_NULL)
            return put_value(out, f, NULL) == 0 ? 0 : -1;
    }
    if (f->max_length > 0 && (v.kind == ACU_V_STR || v.kind == ACU_V_NUM)) {
        const char *s;
        size_t len, chars;
        if (acu_map_v_to_text(run, &v, &s, &len) == 0 &&
            (chars = utf8_chars(s, len)) > (size_t)f->max_length) {
            if (!f->truncate) {
                target_pointer(w, f, tp, sizeof(tp));
                add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                          "'%s' allows at most %d characters; the value has %zu", f->target,
                          (int)f->max_length, chars);
                return 0;
            }
            v = acu_map_v_str(s, utf8_prefix(s, len, (size_t)f->max_length));
        }
    }
    if (f->kind == ACU_TGT_FIELD || f->kind == ACU_TGT_CUSTOM || f->kind == ACU_TGT_SYSTEM_ID) {
        j = wire_json(run, (acu_ftype)f->wire, &v, why, sizeof(why));
        if (j == NULL) {
            target_pointer(w, f, tp, sizeof(tp));
            add_error(r, f->origin_file, f->origin_ptr, tp, source_pointer(w, f, sp, sizeof(sp)),
                      "'%s' (%s): %s", f->target, acu_map_ftype_name((acu_ftype)f->wire), why);
            return 0;
        }
    } else {
        j = acu_map_v_to_json(&v);
        if (j == NULL && v.kind != ACU_V_NULL)
            return -1;
    }
    return put_value(out, f, j) == 0 ? 0 : -1;
}

static int run_node(acu_run *run, rec *r, const acu_node *node, json_object *out,
                    const where *w)
{
    for (size_t i = 0; i < node->nfields; i++) {
        if (run_field(run, r, &node->fields[i], out, w) != 0)
            return -1;
        if (run->oom)
            return -1;
    }
    return 0;
}

void acu_map_result_clear(acu_map_result *r)
{
    if (r == NULL)
        return;
    json_object_put(r->record);
    json_object_put(r->errors);
    free(r->id);
    free(r->message);
    memset(r, 0, sizeof(*r));
    r->item = -1;
}

/* Run the record-level part (filters, id, fields) at the current scope. */
static conn_status map_one(acu_run *run, const acu_map *m, acu_map_result *res,
                           const where *w, conn_error *err)
{
    rec r;
    json_object *out = NULL;
    long hit;
    conn_status st = CONN_OK;

    memset(&r, 0, sizeof(r));
    r.m = m;
    if (m->id != NULL) {
        json_object *origins = NULL, *idf = NULL;
        const char *idfile;
        json_object_object_get_ex(m->doc, "$origins", &origins);
        json_object_object_get_ex(origins, "id", &idf);
        idfile = idf ? json_object_get_string(idf) : m->name;
        acu_val v = acu_map_expr_eval(run, m->id);
        const char *s;
        size_t len;
        if (v.kind == ACU_V_ERR)
            add_error(&r, idfile, "/id", NULL, w->src, "the id failed: %.*s",
                      (int)v.len, v.u.s);
        else if (!acu_map_v_is_empty(&v) && acu_map_v_to_text(run, &v, &s, &len) == 0)
            res->id = acu_map_strdupf("%.*s", (int)len, s);
        else if (m->dir == ACU_MAP_TO_HOST)
            add_error(&r, idfile, "/id", NULL, w->src,
                      "the record has no id: the mapping's \"id\" is empty for it");
    }
    hit = first_match(run, &r, m->root.skip, m->root.nskip, w);
    if (hit >= 0) {
        res->status = ACU_MAP_SKIP;
        res->message = filter_message(run, &m->root.skip[hit], "skipped by a skip filter");
        goto out;
    }
    if (hit == -1) {
        hit = first_match(run, &r, m->root.reject, m->root.nreject, w);
        if (hit >= 0) {
            const acu_filter *f = &m->root.reject[hit];
            res->message = filter_message(run, f, "rejected by an error filter");
            add_error(&r, f->origin_file, f->origin_ptr, NULL, w->src, "%s",
                      res->message ? res->message : "rejected by an error filter");
            goto out;
        }
    }
    if (res->message == NULL) {
        /* Fields run even when the id failed, so every problem shows. */
        out = json_object_new_object();
        if (out == NULL || run_node(run, &r, &m->root, out, w) != 0 || r.nomem) {
            st = acu_map_err(err, CONN_NOMEM, "mapping %s: out of memory", acu_map_name(m));
            goto out;
        }
    }
out:
    if (st == CONN_OK && res->status != ACU_MAP_SKIP) {
        if (r.nerrors > 0) {
            res->status = ACU_MAP_REJECT;
            if (res->message == NULL) {
                json_object *first = json_object_array_get_idx(r.errors, 0);
                json_object *msg = NULL;
                json_object_object_get_ex(first, "message", &msg);
                if (r.nerrors == 1)
                    res->message = acu_map_strdupf("%s", msg ? json_object_get_string(msg) : "mapping failed");
                else
                    res->message = acu_map_strdupf("%zu problems; the first: %s", r.nerrors,
                                                   msg ? json_object_get_string(msg) : "mapping failed");
            }
            res->errors = r.errors;
            r.errors = NULL;
        } else {
            res->status = ACU_MAP_OK;
            res->record = out;
            out = NULL;
        }
    }
    json_object_put(out);
    json_object_put(r.errors);
    return st;
}

conn_status acu_map_from_host(const acu_map *m, json_object *host_record,
                              acu_map_result *out, conn_error *err)
{
    acu_run run;
    where w;
    conn_status st;

    memset(out, 0, sizeof(*out));
    out->item = -1;
    if (m == NULL || m->dir != ACU_MAP_FROM_HOST)
        return acu_map_err(err, CONN_INVALID, "acu_map_from_host: the mapping is not a from_host mapping");
    if (!json_object_is_type(host_record, json_type_object))
        return acu_map_err(err, CONN_INVALID, "mapping %s: the record is not a JSON object", m->name);
    memset(&run, 0, sizeof(run));
    acu_map_pool_init(&run.pool, ACU_MAP_MAX_RUN_BYTES);
    run.set = m->set;
    run.scopes[0] = host_record;
    run.depth = 0;
    w.src[0] = '\0';
    w.tgt[0] = '\0';
    st = map_one(&run, m, out, &w, err);
    acu_map_pool_free(&run.pool);
    if (st != CONN_OK)
        acu_map_result_clear(out);
    return st;
}

conn_status acu_map_to_host(const acu_map *m, json_object *acu_record,
                            acu_map_emit_fn emit, void *user, conn_error *err)
{
    acu_run run;
    where w;
    conn_status st = CONN_OK;
    acu_map_result res;

    if (m == NULL || m->dir != ACU_MAP_TO_HOST)
        return acu_map_err(err, CONN_INVALID, "acu_map_to_host: the mapping is not a to_host mapping");
    if (!json_object_is_type(acu_record, json_type_object))
        return acu_map_err(err, CONN_INVALID, "mapping %s: the record is not a JSON object", m->name);
    memset(&run, 0, sizeof(run));
    acu_map_pool_init(&run.pool, ACU_MAP_MAX_RUN_BYTES);
    run.set = m->set;
    run.scopes[0] = acu_record;
    run.depth = 0;
    memset(&res, 0, sizeof(res));
    res.item = -1;
    if (m->for_each == NULL) {
        w.src[0] = '\0';
        w.tgt[0] = '\0';
        st = map_one(&run, m, &res, &w, err);
        if (st == CONN_OK)
            st = emit(user, &res);
        acu_map_result_clear(&res);
    } else {
        acu_val list;
        list = acu_map_expr_eval(&run, m->for_each);
        if (list.kind == ACU_V_JSON && json_object_is_type(list.j, json_type_array)) {
            size_t n = json_object_array_length(list.j);
            run.depth = 1;
            for (size_t i = 0; i < n && st == CONN_OK; i++) {
                json_object *elem = json_object_array_get_idx(list.j, i);
                if (!json_object_is_type(elem, json_type_object))
                    continue;
                run.scopes[1] = elem;
                snprintf(w.src, sizeof(w.src), "/%s/%zu", m->for_each_text, i);
                w.tgt[0] = '\0';
                memset(&res, 0, sizeof(res));
                res.item = (long)i;
                st = map_one(&run, m, &res, &w, err);
                if (st == CONN_OK)
                    st = emit(user, &res);
                acu_map_result_clear(&res);
                acu_map_pool_reset(&run.pool);
            }
        }
    }
    acu_map_pool_free(&run.pool);
    return st;
}

/* ---- metadata ---- */

const char *acu_map_name(const acu_map *m) { return m ? m->name : NULL; }
const char *acu_map_flow(const acu_map *m) { return m ? m->flow : NULL; }
acu_map_direction acu_map_get_direction(const acu_map *m) { return m ? m->dir : ACU_MAP_TO_HOST; }
const char *acu_map_entity(const acu_map *m) { return m ? m->entity : NULL; }
const char *acu_map_record_type(const acu_map *m) { return m ? m->record_type : NULL; }
const char *acu_map_last_modified_field(const acu_map *m) { return m ? m->last_modified : NULL; }
size_t acu_map_key_count(const acu_map *m) { return m ? m->nkeys : 0; }
const char *acu_map_key(const acu_map *m, size_t i) { return m && i < m->nkeys ? m->keys[i] : NULL; }
size_t acu_map_match_count(const acu_map *m) { return m ? m->nmatch : 0; }
const char *acu_map_match(const acu_map *m, size_t i) { return m && i < m->nmatch ? m->match[i] : NULL; }
const char *acu_map_for_each(const acu_map *m) { return m ? m->for_each_text : NULL; }
