/* acu_map_compile.c - turning one effective mapping document into the
 * compiled form the runner uses, checking everything on the way.
 *
 * Expressions are parsed, then bound: field paths on the Acumatica side are
 * checked against the entity catalogue (with a "did you mean" on a typo) and
 * recorded for $select/$expand/$custom; functions, their argument counts,
 * lookup tables and settings are resolved; anything constant is computed
 * now, so an expression that can only fail is reported at load, not on the
 * first record. Every problem is added to the diagnostics with the file and
 * JSON pointer the text came from (kept in "$origin" through overlays). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

typedef struct scope {
    const char *entity; /* Acumatica entity of the record in scope, or NULL */
    const char *prefix; /* its $select prefix: "" or "Details/" */
} scope;

/* What binding a path learnt about its end. */
typedef struct path_info {
    acu_ftype type;
    const char *entity;
    char sel[512]; /* the path with '/', relative to the top-level entity */
} path_info;

typedef struct binder {
    acu_mapset *set;
    acu_map *m;
    acu_map_diags *diags;
    json_object *settings;
    const char *file;
    const char *ptr;     /* pointer of the text being bound */
    int show_column;     /* expressions and templates: yes; "source": no */
    int acu_side;        /* the records read are Acumatica's (TO_HOST) */
    scope scopes[ACU_MAP_MAX_SCOPES];
    int depth;
    int errors;
    path_info last;      /* filled by bind_path */
} binder;

static void report(binder *b, int column, const char *fmt, ...) ACU_MAP_PRINTF(3, 4);
static void report(binder *b, int column, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    acu_map_diags_addv(b->diags, b->file, b->ptr, b->show_column ? column : 0, fmt, ap);
    va_end(ap);
    b->errors++;
}

static void report_at(binder *b, const char *ptr, const char *fmt, ...) ACU_MAP_PRINTF(3, 4);
static void report_at(binder *b, const char *ptr, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    acu_map_diags_addv(b->diags, b->file, ptr, 0, fmt, ap);
    va_end(ap);
    b->errors++;
}

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

static void set_add(json_object *set, const char *s)
{
    if (s && *s && !json_object_object_get_ex(set, s, NULL))
        json_object_object_add(set, s, NULL);
}

static const char *const record_types[] = {
    "customer", "product", "location", "inventory_level", "transaction",
    "tracking", NULL};

/* ---- binding ---- */

static int bind(binder *b, acu_expr *e);

/* Walk a path through the catalogue, recording what it reads. */
static int bind_path(binder *b, acu_expr *e)
{
    acu_path *p = e->u.path;
    int idx = b->depth - (int)p->up;
    const char *ent;
    char sel[512];
    size_t o = 0;

    memset(&b->last, 0, sizeof(b->last));
    if (idx < 0) {
        report(b, e->column, "'parent' goes above the top-level record here (%d level%s up from a depth of %d)",
               p->up, p->up == 1 ? "" : "s", b->depth);
        return -1;
    }
    p->wrapped = (uint8_t)b->acu_side;
    if (!b->acu_side)
        return 0;
    ent = b->scopes[idx].entity;
    b->last.type = ACU_FT_ENTITY;
    b->last.entity = ent;
    o = (size_t)snprintf(sel, sizeof(sel), "%s", b->scopes[idx].prefix);
    if (p->nseg > 0 && p->seg[0].key != NULL && strcmp(p->seg[0].key, "custom") == 0) {
        char buf[300];
        if (p->nseg != 3 || p->seg[1].key == NULL || p->seg[2].key == NULL) {
            report(b, e->column, "a custom field is written custom.<View>.<Field>, e.g. custom.Document.UsrExternalRef");
            return -1;
        }
        snprintf(buf, sizeof(buf), "%s%s.%s", b->scopes[idx].prefix, p->seg[1].key, p->seg[2].key);
        set_add(b->m->reads_custom, buf);
        b->last.type = ACU_FT_UNKNOWN;
        return 0;
    }
    for (unsigned i = 0; i < p->nseg; i++) {
        const acu_path_seg *s = &p->seg[i];
        acu_field_info fi;
        if (s->index < 0 && b->last.type != ACU_FT_ENTITY && b->last.type != ACU_FT_UNKNOWN) {
            report(b, e->column, "'%s' cannot be read from a %s (the path goes through a field that has no members)",
                   s->key, b->last.type == ACU_FT_LIST ? "list; use count()/sum() or a child mapping"
                                                       : acu_map_ftype_name(b->last.type));
            return -1;
        }
        if (ent == NULL && (b->last.type == ACU_FT_ENTITY || b->last.type == ACU_FT_UNKNOWN))
            return 0; /* beyond what the catalogue knows */
        if (s->index >= 0) {
            if (b->last.type != ACU_FT_LIST) {
                report(b, e->column, "'[%d]' needs a list, but this part of the path is not one",
                       (int)s->index);
                return -1;
            }
            b->last.type = ACU_FT_ENTITY;
            continue;
        }
        if (ent == NULL)
            return 0;
        if (acu_map_catalog_field(b->set->catalog, ent, s->key, &fi) != 0) {
            const char *best = acu_map_catalog_suggest(b->set->catalog, ent, s->key);
            if (best)
                report(b, e->column, "unknown field '%s' on %s; did you mean '%s'?", s->key, ent, best);
            else
                report(b, e->column, "unknown field '%s' on %s", s->key, ent);
            return -1;
        }
        if (o + strlen(s->key) + 2 < sizeof(sel))
            o += (size_t)snprintf(sel + o, sizeof(sel) - o, "%s%s",
                                  (o > strlen(b->scopes[idx].prefix)) ? "/" : "", s->key);
        b->last.type = fi.type;
        if (fi.type == ACU_FT_ENTITY || fi.type == ACU_FT_LIST) {
            ent = fi.entity;
            b->last.entity = ent;
            set_add(b->m->reads_expand, sel);
        } else {
            ent = NULL;
            b->last.entity = NULL;
            if (!fi.system)
                set_add(b->m->reads_select, sel);
        }
    }
    snprintf(b->last.sel, sizeof(b->last.sel), "%s", sel);
    return 0;
}

/* Evaluate a node whose inputs are all constant, now. */
static int fold(binder *b, acu_expr *e)
{
    acu_run run;
    acu_val v;
    int rc = 0;

    memset(&run, 0, sizeof(run));
    acu_map_pool_init(&run.pool, 1u << 20);
    run.set = b->set;
    v = acu_map_expr_eval(&run, e);
    if (v.kind == ACU_V_ERR) {
        report(b, e->column, "this always fails: %.*s", (int)v.len, v.u.s);
        rc = -1;
    } else if (v.kind == ACU_V_STR) {
        char *s = acu_map_pool_strndup(&b->set->pool, v.u.s, v.len);
        if (s == NULL) {
            report(b, e->column, "out of memory");
            rc = -1;
        } else {
            e->op = ACU_OP_CONST;
            e->u.k = acu_map_v_str(s, v.len);
        }
    } else if (v.kind != ACU_V_JSON) {
        v.j = NULL;
        e->op = ACU_OP_CONST;
        e->u.k = v;
    }
    acu_map_pool_free(&run.pool);
    return rc;
}

static void normalize_setting(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    int us = 0;

    for (const char *p = in; *p && o + 1 < cap; p++) {
        if (isalnum((unsigned char)*p)) {
            if (us && o > 0)
                out[o++] = '_';
            us = 0;
            if (o + 1 < cap)
                out[o++] = (char)tolower((unsigned char)*p);
        } else {
            us = 1;
        }
    }
    out[o] = '\0';
}

static int is_secret_setting(const char *norm)
{
    static const char *const secret[] = {"password", "secret", "token", "verifier",
                                         "code", "cookie", "key", NULL};
    for (size_t i = 0; secret[i]; i++)
        if (strstr(norm, secret[i]) != NULL)
            return 1;
    return 0;
}

static int bind_setting(binder *b, acu_expr *e)
{
    acu_expr *arg = e->u.args[0];
    char want[128], norm[128];
    json_object *val = NULL;
    int found = 0;

    normalize_setting(arg->u.k.u.s, want, sizeof(want));
    if (is_secret_setting(want)) {
        report(b, arg->column, "setting('%s') is a secret (or may hold one) and cannot be used in a mapping",
               arg->u.k.u.s);
        return -1;
    }
    if (json_object_is_type(b->settings, json_type_object)) {
        json_object_object_foreach(b->settings, key, v) {
            normalize_setting(key, norm, sizeof(norm));
            if (strcmp(norm, want) == 0) {
                val = v;
                found = 1;
                break;
            }
        }
    }
    (void)found;
    memset(&e->u, 0, sizeof(e->u));
    e->op = ACU_OP_CONST;
    if (val == NULL || json_object_is_type(val, json_type_null)) {
        e->u.k = acu_map_v_null();
    } else if (json_object_is_type(val, json_type_string)) {
        char *s = acu_map_pool_strndup(&b->set->pool, json_object_get_string(val),
                                   (size_t)json_object_get_string_len(val));
        if (s == NULL)
            return -1;
        e->u.k = acu_map_v_str(s, (size_t)json_object_get_string_len(val));
    } else if (json_object_is_type(val, json_type_object) ||
               json_object_is_type(val, json_type_array)) {
        json_object *copy = NULL;
        if (json_object_deep_copy(val, &copy, NULL) != 0)
            return -1;
        json_object_array_add(b->set->keep, copy);
        e->u.k = acu_map_v_from_json(copy);
    } else {
        e->u.k = acu_map_v_from_json(val);
        e->u.k.j = NULL;
    }
    return 0;
}

static int bind_call(binder *b, acu_expr *e)
{
    const acu_map_func_info *fi;
    int all_const = 1, rc = 0;

    if (e->fn == 255) {
        const acu_path *np = e->aux;
        const char *name = np->seg[0].key ? np->seg[0].key : "?";
        acu_map_suggest s;
        acu_map_suggest_init(&s, name);
        for (size_t i = 0; i < acu_map_func_count(); i++)
            acu_map_suggest_add(&s, acu_map_func_get((int)i)->name);
        if (acu_map_suggest_best(&s))
            report(b, e->column, "unknown function '%s'; did you mean '%s'?", name,
                   acu_map_suggest_best(&s));
        else
            report(b, e->column, "unknown function '%s'", name);
        return -1;
    }
    fi = acu_map_func_get(e->fn);
    if (e->nargs < fi->min_args || (fi->max_args != 255 && e->nargs > fi->max_args)) {
        if (fi->min_args == fi->max_args)
            report(b, e->column, "%s() takes %d argument%s, not %d", fi->name, fi->min_args,
                   fi->min_args == 1 ? "" : "s", e->nargs);
        else if (fi->max_args == 255)
            report(b, e->column, "%s() takes at least %d argument%s", fi->name, fi->min_args,
                   fi->min_args == 1 ? "" : "s");
        else
            report(b, e->column, "%s() takes %d to %d arguments, not %d", fi->name,
                   fi->min_args, fi->max_args, e->nargs);
        return -1;
    }
    if (fi->literal_arg) {
        acu_expr *lit = e->u.args[fi->literal_arg - 1];
        if (lit->op != ACU_OP_CONST || lit->u.k.kind != ACU_V_STR) {
            report(b, lit->column, "the %s name in %s() must be written as quoted text, e.g. %s",
                   e->fn == acu_map_func_id_lookup() ? "table" : "setting", fi->name,
                   e->fn == acu_map_func_id_lookup() ? "lookup('ship_via', carrier)"
                                                 : "setting('time_zone_offset')");
            return -1;
        }
    }
    if (e->fn == acu_map_func_id_setting())
        return bind_setting(b, e);
    if (e->fn == acu_map_func_id_lookup()) {
        const char *name = e->u.args[0]->u.k.u.s;
        const acu_lookup *t = acu_mapset_find_lookup(b->set, name);
        if (t == NULL) {
            acu_map_suggest s;
            acu_map_suggest_init(&s, name);
            for (size_t i = 0; i < b->set->nlookups; i++)
                acu_map_suggest_add(&s, b->set->lookups[i].name);
            if (acu_map_suggest_best(&s))
                report(b, e->u.args[0]->column, "unknown lookup table '%s'; did you mean '%s'?",
                       name, acu_map_suggest_best(&s));
            else
                report(b, e->u.args[0]->column, "unknown lookup table '%s'%s", name,
                       b->set->nlookups == 0 ? " (there are no lookup tables)" : "");
            rc = -1;
        } else {
            set_add(b->m->uses_lookups, t->name);
        }
        e->aux = t;
        for (unsigned i = 1; i < e->nargs; i++)
            if (bind(b, e->u.args[i]) != 0)
                rc = -1;
        return rc;
    }
    if (fi->lambda_arg) {
        scope inner = {NULL, ""};
        char prefix[520];
        if (bind(b, e->u.args[0]) != 0)
            return -1;
        if (b->acu_side && e->u.args[0]->op == ACU_OP_PATH) {
            if (b->last.type != ACU_FT_LIST && b->last.type != ACU_FT_UNKNOWN &&
                !(b->last.type == ACU_FT_ENTITY && b->last.entity == NULL)) {
                report(b, e->u.args[0]->column, "%s() needs a list (a detail collection such as Details), but this is a %s",
                       fi->name, acu_map_ftype_name(b->last.type));
                return -1;
            }
            if (b->last.type == ACU_FT_LIST) {
                snprintf(prefix, sizeof(prefix), "%s/", b->last.sel);
                inner.entity = b->last.entity;
                inner.prefix = acu_map_pool_strdup(&b->set->pool, prefix);
            }
        }
        if (e->nargs > 1) {
            if (b->depth + 1 >= ACU_MAP_MAX_SCOPES) {
                report(b, e->column, "%s() nests too deeply", fi->name);
                return -1;
            }
            b->scopes[++b->depth] = inner;
            rc = bind(b, e->u.args[1]);
            b->depth--;
        }
        for (unsigned i = 2; i < e->nargs; i++)
            if (bind(b, e->u.args[i]) != 0)
                rc = -1;
        return rc;
    }
    for (unsigned i = 0; i < e->nargs; i++) {
        if (bind(b, e->u.args[i]) != 0)
            rc = -1;
        else if (e->u.args[i]->op != ACU_OP_CONST)
            all_const = 0;
    }
    if (rc == 0 && all_const && fi->pure)
        rc = fold(b, e);
    return rc;
}

static int bind(binder *b, acu_expr *e)
{
    int rc = 0, all_const = 1;

    switch (e->op) {
    case ACU_OP_CONST:
        return 0;
    case ACU_OP_PATH:
        return bind_path(b, e);
    case ACU_OP_CALL:
        return bind_call(b, e);
    default:
        for (unsigned i = 0; i < e->nargs; i++) {
            if (bind(b, e->u.args[i]) != 0)
                rc = -1;
            else if (e->u.args[i]->op != ACU_OP_CONST)
                all_const = 0;
        }
        if (rc == 0 && all_const && e->nargs > 0)
            rc = fold(b, e);
        return rc;
    }
}

/* Parse and bind one text. kind: 0 expression, 1 template, 2 source path. */
static acu_expr *compile_text(binder *b, const char *text, int kind,
                              const char *ptr)
{
    acu_expr_error pe;
    acu_expr *e;

    b->ptr = ptr;
    b->show_column = kind != 2;
    e = acu_map_expr_parse(&b->set->pool, text, strlen(text), kind == 1, &pe);
    if (e == NULL) {
        report(b, pe.column, "%s", pe.message);
        return NULL;
    }
    if (kind == 2 && e->op != ACU_OP_PATH) {
        report(b, 1, "'source' is a field path such as customer.email or MainContact.Email; use \"expr\" for a computation");
        return NULL;
    }
    if (bind(b, e) != 0)
        return NULL;
    return e;
}

static acu_expr *const_node(binder *b, json_object *v)
{
    acu_expr *e = acu_map_pool_alloc(&b->set->pool, sizeof(*e));

    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->op = ACU_OP_CONST;
    if (json_object_is_type(v, json_type_string)) {
        char *s = acu_map_pool_strndup(&b->set->pool, json_object_get_string(v),
                                   (size_t)json_object_get_string_len(v));
        if (s == NULL)
            return NULL;
        e->u.k = acu_map_v_str(s, (size_t)json_object_get_string_len(v));
    } else {
        e->u.k = acu_map_v_from_json(v); /* the document stays alive in the map */
        if (e->u.k.kind != ACU_V_JSON)
            e->u.k.j = NULL;
    }
    return e;
}

/* Wrap `value` in the transforms, left to right: "trim" is trim(value),
 * {"truncate": 30} is truncate(value, 30), {"lookup": "t"} is
 * lookup('t', value), {"replace": ["a", "b"]} is replace(value, "a", "b"). */
static acu_expr *apply_transforms(binder *b, acu_expr *value, json_object *tr,
                                  const char *ptr)
{
    for (size_t i = 0; i < acu_arr_len(tr); i++) {
        json_object *t = json_object_array_get_idx(tr, i);
        json_object *arg = NULL;
        const char *name = NULL;
        acu_expr *call, *extra[ACU_MAP_MAX_ARGS];
        size_t nextra = 0;
        int fn, lookup;
        char *p = acu_map_pointer_index(ptr, i);

        if (json_object_is_type(t, json_type_string)) {
            name = json_object_get_string(t);
        } else {
            json_object_object_foreach(t, k, v) {
                name = k;
                arg = v;
            }
        }
        fn = name ? acu_map_func_find(name, strlen(name)) : -1;
        b->ptr = p;
        b->show_column = 0;
        if (fn < 0 || acu_map_func_get(fn)->lambda_arg || fn == acu_map_func_id_setting()) {
            acu_map_suggest s;
            acu_map_suggest_init(&s, name ? name : "");
            for (size_t k = 0; k < acu_map_func_count(); k++)
                acu_map_suggest_add(&s, acu_map_func_get((int)k)->name);
            if (acu_map_suggest_best(&s))
                report(b, 0, "unknown transform '%s'; did you mean '%s'?", name ? name : "",
                       acu_map_suggest_best(&s));
            else
                report(b, 0, "unknown transform '%s'", name ? name : "");
            free(p);
            return NULL;
        }
        lookup = fn == acu_map_func_id_lookup();
        if (arg != NULL) {
            if (json_object_is_type(arg, json_type_array)) {
                for (size_t k = 0; k < acu_arr_len(arg) && nextra < ACU_MAP_MAX_ARGS - 2; k++)
                    extra[nextra++] = const_node(b, json_object_array_get_idx(arg, k));
            } else {
                extra[nextra++] = const_node(b, arg);
            }
        }
        for (size_t k = 0; k < nextra; k++) {
            if (extra[k] == NULL) {
                free(p);
                return NULL;
            }
        }
        call = acu_map_pool_alloc(&b->set->pool, sizeof(*call));
        if (call == NULL) {
            free(p);
            return NULL;
        }
        memset(call, 0, sizeof(*call));
        call->op = ACU_OP_CALL;
        call->fn = (uint8_t)fn;
        call->nargs = (uint16_t)(nextra + 1);
        call->u.args = acu_map_pool_alloc(&b->set->pool, sizeof(acu_expr *) * (nextra + 1));
        if (call->u.args == NULL) {
            free(p);
            return NULL;
        }
        if (lookup) {
            if (nextra != 1) {
                report(b, 0, "the lookup transform names its table: {\"lookup\": \"ship_via\"}");
                free(p);
                return NULL;
            }
            call->u.args[0] = extra[0];
            call->u.args[1] = value;
        } else {
            call->u.args[0] = value;
            for (size_t k = 0; k < nextra; k++)
                call->u.args[k + 1] = extra[k];
        }
        /* Binding the call binds `value` again, which is harmless: binding
         * is idempotent (paths re-checked, constants already folded). */
        {
            int rc = bind_call(b, call);
            free(p);
            if (rc != 0)
                return NULL;
        }
        value = call;
    }
    return value;
}

/* ---- targets ---- */

static const char *custom_type_name(const char *t)
{
    static const struct {
        const char *type, *wire;
    } map[] = {
        {"string", "CustomStringField"}, {"decimal", "CustomDecimalField"},
        {"double", "CustomDoubleField"}, {"int", "CustomIntField"},
        {"short", "CustomShortField"},   {"long", "CustomLongField"},
        {"byte", "CustomByteField"},     {"bool", "CustomBooleanField"},
        {"datetime", "CustomDateTimeField"}, {"guid", "CustomGuidField"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].type, t) == 0)
            return map[i].wire;
    return NULL;
}

static acu_ftype custom_wire(const char *t)
{
    static const struct {
        const char *type;
        acu_ftype ft;
    } map[] = {
        {"string", ACU_FT_STRING}, {"decimal", ACU_FT_DECIMAL}, {"double", ACU_FT_DOUBLE},
        {"int", ACU_FT_INT}, {"short", ACU_FT_SHORT}, {"long", ACU_FT_LONG},
        {"byte", ACU_FT_BYTE}, {"bool", ACU_FT_BOOL}, {"datetime", ACU_FT_DATETIME},
        {"guid", ACU_FT_GUID},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].type, t) == 0)
            return map[i].ft;
    return ACU_FT_STRING;
}

/* Split the target on '.', check it, and set f->kind/wire. For an
 * Acumatica target (FROM_HOST) *child_entity receives the element entity of
 * a detail collection. */
static int compile_target(binder *b, acu_field *f, const char *target,
                          const char *entity, int children, const char *type,
                          const char *ptr, const char **child_entity,
                          char *sel, size_t selcap, const char *prefix)
{
    const char *segs[ACU_MAP_MAX_PATH_SEGS];
    size_t n = 0;
    const char *start = target;
    char *tptr = acu_map_pointer_join(ptr, "target");
    int rc = 0;

    for (const char *c = target;; c++) {
        if (*c == '.' || *c == '\0') {
            if (c == start || n >= ACU_MAP_MAX_PATH_SEGS) {
                report_at(b, tptr, "'%s' is not a valid target: parts are separated by single dots and there are at most %d",
                          target, ACU_MAP_MAX_PATH_SEGS);
                free(tptr);
                return -1;
            }
            segs[n++] = acu_map_pool_strndup(&b->set->pool, start, (size_t)(c - start));
            if (segs[n - 1] == NULL) {
                free(tptr);
                return -1;
            }
            start = c + 1;
            if (*c == '\0')
                break;
        }
    }
    f->tseg = acu_map_pool_alloc(&b->set->pool, sizeof(char *) * n);
    if (f->tseg == NULL) {
        free(tptr);
        return -1;
    }
    memcpy(f->tseg, segs, sizeof(char *) * n);
    f->ntseg = (uint8_t)n;
    f->kind = children ? ACU_TGT_CHILDREN : ACU_TGT_PLAIN;
    if (type != NULL && (b->m->dir != ACU_MAP_FROM_HOST || strcmp(segs[0], "custom") != 0)) {
        char *p = acu_map_pointer_join(ptr, "type");
        report_at(b, p, "'type' applies only to custom.<View>.<Field> targets of from_host mappings");
        free(p);
        rc = -1;
    }
    if (b->m->dir != ACU_MAP_FROM_HOST) {
        free(tptr);
        return rc;
    }
    /* Acumatica side */
    snprintf(sel, selcap, "%s", prefix);
    if (strcmp(segs[0], "custom") == 0) {
        if (n != 3 || children) {
            report_at(b, tptr, "a custom field target is written custom.<View>.<Field>, e.g. custom.Document.UsrExternalRef");
            free(tptr);
            return -1;
        }
        if (type == NULL) {
            report_at(b, ptr, "the custom field target '%s' needs a \"type\" (string, decimal, int, bool, datetime, guid, ...)",
                      target);
            free(tptr);
            return -1;
        }
        f->kind = ACU_TGT_CUSTOM;
        f->custom_type = custom_type_name(type);
        f->wire = (uint8_t)custom_wire(type);
        {
            char buf[300];
            snprintf(buf, sizeof(buf), "%s%s.%s", prefix, segs[1], segs[2]);
            set_add(b->m->reads_custom, buf);
        }
        free(tptr);
        return rc;
    }
    if (n == 1 && strcmp(segs[0], "id") == 0 && !children) {
        f->kind = ACU_TGT_SYSTEM_ID;
        f->wire = ACU_FT_GUID;
        free(tptr);
        return rc;
    }
    {
        const char *ent = entity;
        size_t o = strlen(sel);
        for (size_t i = 0; i < n; i++) {
            acu_field_info fi;
            int last = i + 1 == n;
            if (ent == NULL)
                break;
            if (acu_map_catalog_field(b->set->catalog, ent, segs[i], &fi) != 0) {
                const char *best = acu_map_catalog_suggest(b->set->catalog, ent, segs[i]);
                if (best)
                    report_at(b, tptr, "unknown field '%s' on %s; did you mean '%s'?", segs[i], ent, best);
                else
                    report_at(b, tptr, "unknown field '%s' on %s", segs[i], ent);
                free(tptr);
                return -1;
            }
            o += (size_t)snprintf(sel + o, o < selcap ? selcap - o : 0, "%s%s",
                                  o > strlen(prefix) ? "/" : "", segs[i]);
            if (o >= selcap)
                o = selcap - 1;
            if (!last) {
                if (fi.type != ACU_FT_ENTITY) {
                    report_at(b, tptr, "'%s' on %s is %s, so '%s' cannot be set inside it",
                              segs[i], ent, fi.type == ACU_FT_LIST ? "a detail collection (map it with \"fields\")"
                                                                   : "a single value",
                              segs[i + 1]);
                    free(tptr);
                    return -1;
                }
                set_add(b->m->reads_expand, sel);
                ent = fi.entity;
                continue;
            }
            if (children) {
                if (fi.type != ACU_FT_LIST) {
                    report_at(b, tptr, "'%s' on %s is not a detail collection; a child mapping (with \"fields\") needs one such as Details",
                              segs[i], ent);
                    free(tptr);
                    return -1;
                }
                *child_entity = fi.entity;
                set_add(b->m->reads_expand, sel);
            } else if (fi.type == ACU_FT_LIST || fi.type == ACU_FT_ENTITY) {
                report_at(b, tptr, "'%s' on %s is a %s (%s); map its fields%s",
                          segs[i], ent, fi.type == ACU_FT_LIST ? "detail collection" : "linked entity",
                          fi.entity ? fi.entity : "?",
                          fi.type == ACU_FT_LIST ? " with a child mapping (\"source\" + \"fields\")"
                                                 : ", e.g. ShipToAddress.City");
                free(tptr);
                return -1;
            } else {
                f->kind = ACU_TGT_FIELD;
                f->wire = (uint8_t)fi.type;
                if (fi.system == 1) {
                    report_at(b, tptr, "'%s' is set by Acumatica and cannot be a target", segs[i]);
                    free(tptr);
                    return -1;
                }
            }
        }
        if (ent == NULL && f->kind == ACU_TGT_PLAIN)
            f->kind = children ? ACU_TGT_CHILDREN : ACU_TGT_FIELD;
    }
    free(tptr);
    return rc;
}

/* ---- nodes ---- */

static int compile_node(binder *b, json_object *fields, json_object *owner,
                        acu_node *node, const char *target_entity,
                        const char *target_prefix);

static int compile_filters(binder *b, json_object *arr, acu_filter **out,
                           size_t *n)
{
    size_t cnt;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (!json_object_is_type(arr, json_type_array))
        return 0;
    cnt = acu_arr_len(arr);
    if (cnt == 0)
        return 0;
    *out = acu_map_pool_alloc(&b->set->pool, sizeof(acu_filter) * cnt);
    if (*out == NULL)
        return -1;
    memset(*out, 0, sizeof(acu_filter) * cnt);
    for (size_t i = 0; i < cnt; i++) {
        json_object *f = json_object_array_get_idx(arr, i);
        acu_filter *flt = &(*out)[i];
        const char *when = mstr(f, "when"), *msg = mstr(f, "message");
        char *p;
        acu_map_get_origin(f, &flt->origin_file, &flt->origin_ptr);
        b->file = flt->origin_file;
        if (when != NULL) {
            p = acu_map_pointer_join(flt->origin_ptr, "when");
            flt->when = compile_text(b, when, 0, p);
            if (flt->when == NULL)
                rc = -1;
            free(p);
        }
        if (msg != NULL) {
            p = acu_map_pointer_join(flt->origin_ptr, "message");
            flt->message = compile_text(b, msg, 1, p);
            if (flt->message == NULL)
                rc = -1;
            free(p);
        }
    }
    *n = cnt;
    return rc;
}

static int compile_field(binder *b, json_object *entry, acu_field *f,
                         const char *target_entity, const char *target_prefix)
{
    const char *file, *ptr;
    const char *target = mstr(entry, "target");
    json_object *v, *sub = member(entry, "fields");
    const char *child_entity = NULL;
    char sel[520] = "";
    char *p;
    int rc = 0;

    acu_map_get_origin(entry, &file, &ptr);
    b->file = file;
    memset(f, 0, sizeof(*f));
    f->target = target;
    f->origin_file = file;
    f->origin_ptr = ptr;
    if (target == NULL)
        return -1;
    if (compile_target(b, f, target, target_entity, sub != NULL, mstr(entry, "type"), ptr,
                       &child_entity, sel, sizeof(sel), target_prefix) != 0)
        rc = -1;
    b->file = file;
    if ((v = member(entry, "when")) != NULL) {
        p = acu_map_pointer_join(ptr, "when");
        f->when = compile_text(b, json_object_get_string(v), 0, p);
        free(p);
        if (f->when == NULL)
            rc = -1;
    }
    if (sub != NULL) {
        /* A child collection: each element of source maps with fields. */
        const char *src = mstr(entry, "source");
        scope inner = {NULL, ""};
        char prefix[520];
        acu_expr *se;
        if (src == NULL)
            return -1;
        p = acu_map_pointer_join(ptr, "source");
        f->source_text = src;
        se = compile_text(b, src, 2, p);
        if (se != NULL && b->acu_side &&
            !(b->last.type == ACU_FT_UNKNOWN ||
              (b->last.type == ACU_FT_ENTITY && b->last.entity == NULL))) {
            if (b->last.type != ACU_FT_LIST) {
                report(b, 0, "'%s' is not a detail collection of %s; a child mapping reads a list such as Details",
                       src, b->scopes[b->depth].entity ? b->scopes[b->depth].entity : "the record");
                se = NULL;
            } else {
                inner.entity = b->last.entity;
                snprintf(prefix, sizeof(prefix), "%s/", b->last.sel);
                inner.prefix = acu_map_pool_strdup(&b->set->pool, prefix);
            }
        }
        free(p);
        if (se == NULL)
            return -1;
        f->value = se;
        f->required = json_object_get_boolean(member(entry, "required"));
        f->child = acu_map_pool_alloc(&b->set->pool, sizeof(acu_node));
        if (f->child == NULL)
            return -1;
        memset(f->child, 0, sizeof(acu_node));
        if (b->depth + 1 >= ACU_MAP_MAX_SCOPES) {
            report_at(b, ptr, "child collections nest too deeply");
            return -1;
        }
        b->scopes[++b->depth] = inner;
        {
            char tprefix[600];
            snprintf(tprefix, sizeof(tprefix), "%s/", sel);
            if (compile_node(b, sub, entry, f->child, child_entity,
                             acu_map_pool_strdup(&b->set->pool, tprefix)) != 0)
                rc = -1;
        }
        b->file = file;
        if ((v = member(entry, "delete_when")) != NULL) {
            p = acu_map_pointer_join(ptr, "delete_when");
            if (b->m->dir != ACU_MAP_FROM_HOST) {
                report_at(b, p, "'delete_when' removes detail lines in Acumatica; it applies only to from_host mappings");
                rc = -1;
            } else {
                f->child->delete_when = compile_text(b, json_object_get_string(v), 0, p);
                if (f->child->delete_when == NULL)
                    rc = -1;
            }
            free(p);
        }
        b->depth--;
        return rc;
    }
    /* A single value. */
    if ((v = member(entry, "source")) != NULL) {
        p = acu_map_pointer_join(ptr, "source");
        f->source_text = json_object_get_string(v);
        f->value = compile_text(b, f->source_text, 2, p);
        free(p);
    } else if ((v = member(entry, "template")) != NULL) {
        p = acu_map_pointer_join(ptr, "template");
        f->value = compile_text(b, json_object_get_string(v), 1, p);
        free(p);
    } else if ((v = member(entry, "expr")) != NULL) {
        p = acu_map_pointer_join(ptr, "expr");
        f->value = compile_text(b, json_object_get_string(v), 0, p);
        free(p);
    } else if (json_object_object_get_ex(entry, "value", &v)) {
        f->value = const_node(b, v);
    }
    if (f->value == NULL)
        return -1;
    if ((v = member(entry, "transforms")) != NULL) {
        p = acu_map_pointer_join(ptr, "transforms");
        f->value = apply_transforms(b, (acu_expr *)f->value, v, p);
        free(p);
        if (f->value == NULL)
            rc = -1;
    }
    f->def = member(entry, "default");
    f->required = json_object_get_boolean(member(entry, "required"));
    f->keep_null = json_object_get_boolean(member(entry, "keep_null"));
    if ((v = member(entry, "max_length")) != NULL) {
        const char *ov = mstr(entry, "on_overflow");
        f->max_length = (int32_t)json_object_get_int64(v);
        f->truncate = ov != NULL && strcmp(ov, "truncate") == 0;
        if (b->m->dir == ACU_MAP_FROM_HOST &&
            (f->kind == ACU_TGT_FIELD || f->kind == ACU_TGT_CUSTOM) &&
            f->wire != ACU_FT_STRING && f->wire != ACU_FT_UNKNOWN) {
            p = acu_map_pointer_join(ptr, "max_length");
            report_at(b, p, "'max_length' applies to text fields; '%s' is a %s field", target,
                      acu_map_ftype_name((acu_ftype)f->wire));
            free(p);
            rc = -1;
        }
    }
    return rc;
}

/* A match field: a field of the entity, or a dotted path through linked
 * entities ("MainContact.Email"). On failure owner and leaf name the entity
 * and the segment that is unknown. */
static int match_field(const acu_map_catalog *cat, const char *path,
                       const char **owner, const char **leaf,
                       acu_field_info *fi)
{
    char seg[128];
    const char *p = path, *dot;

    for (;;) {
        size_t n;
        dot = strchr(p, '.');
        n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof(seg))
            return -1;
        memcpy(seg, p, n);
        seg[n] = '\0';
        *leaf = p;
        if (acu_map_catalog_field(cat, *owner, seg, fi) != 0)
            return -1;
        if (dot == NULL)
            return 0;
        if (fi->type != ACU_FT_ENTITY)
            return -1;
        *owner = fi->entity;
        p = dot + 1;
    }
}

static int compile_node(binder *b, json_object *fields, json_object *owner,
                        acu_node *node, const char *target_entity,
                        const char *target_prefix)
{
    size_t n = acu_arr_len(fields);
    int rc = 0;

    node->entity = b->acu_side ? b->scopes[b->depth].entity : target_entity;
    if (compile_filters(b, member(owner, "skip_filters"), &node->skip, &node->nskip) != 0)
        rc = -1;
    if (compile_filters(b, member(owner, "error_filters"), &node->reject, &node->nreject) != 0)
        rc = -1;
    if (n == 0)
        return rc;
    node->fields = acu_map_pool_alloc(&b->set->pool, sizeof(acu_field) * n);
    if (node->fields == NULL)
        return -1;
    memset(node->fields, 0, sizeof(acu_field) * n);
    for (size_t i = 0; i < n; i++) {
        json_object *entry = json_object_array_get_idx(fields, i);
        acu_field *f = &node->fields[node->nfields];
        if (compile_field(b, entry, f, target_entity, target_prefix) != 0) {
            rc = -1;
            continue;
        }
        for (size_t k = 0; k < node->nfields; k++) {
            if (strcmp(node->fields[k].target, f->target) == 0) {
                char *p = acu_map_pointer_join(f->origin_ptr, "target");
                b->file = f->origin_file;
                report_at(b, p, "target '%s' is mapped twice (also at %s %s)", f->target,
                          node->fields[k].origin_file, node->fields[k].origin_ptr);
                free(p);
                rc = -1;
            }
        }
        node->nfields++;
    }
    return rc;
}

static const char *origin_file_of(json_object *doc, const char *key,
                                  const char *fallback)
{
    json_object *o = member(doc, "$origins");
    const char *f = mstr(o, key);
    return f ? f : fallback;
}

int acu_map_compile(acu_mapset *set, json_object *doc, acu_map *m,
                    json_object *settings, acu_map_diags *diags)
{
    binder b;
    const char *dir, *s, *file;
    json_object *v;
    int rc = 0;

    memset(&b, 0, sizeof(b));
    b.set = set;
    b.m = m;
    b.diags = diags;
    b.settings = settings;
    m->set = set;
    m->doc = doc;
    m->reads_select = json_object_new_object();
    m->reads_expand = json_object_new_object();
    m->reads_custom = json_object_new_object();
    m->uses_lookups = json_object_new_object();
    if (!m->reads_select || !m->reads_expand || !m->reads_custom || !m->uses_lookups)
        return -1;
    m->name = mstr(doc, "name");
    m->flow = mstr(doc, "flow") ? mstr(doc, "flow") : m->name;
    dir = mstr(doc, "direction");
    m->dir = dir && strcmp(dir, "from_host") == 0 ? ACU_MAP_FROM_HOST : ACU_MAP_TO_HOST;
    m->entity = mstr(doc, "entity");
    m->record_type = mstr(doc, "record_type");
    b.acu_side = m->dir == ACU_MAP_TO_HOST;
    file = origin_file_of(doc, "name", "(mapping)");

    /* Entity and record type. */
    b.file = origin_file_of(doc, "entity", file);
    if (m->entity == NULL) {
        report_at(&b, "", "the mapping has no \"entity\"");
        return -1;
    }
    if (!acu_map_catalog_has_entity(set->catalog, m->entity) ||
        !acu_map_catalog_is_top_level(set->catalog, m->entity)) {
        const char *best = acu_map_catalog_suggest(set->catalog, NULL, m->entity);
        if (acu_map_catalog_has_entity(set->catalog, m->entity))
            report_at(&b, "/entity", "'%s' is not a top-level entity of endpoint %s; it is only reachable inside another entity",
                      m->entity, set->version);
        else if (best)
            report_at(&b, "/entity", "unknown entity '%s' in endpoint %s; did you mean '%s'?",
                      m->entity, set->version, best);
        else
            report_at(&b, "/entity", "unknown entity '%s' in endpoint %s", m->entity, set->version);
        return -1;
    }
    b.file = origin_file_of(doc, "record_type", file);
    {
        int known = 0;
        acu_map_suggest sg;
        acu_map_suggest_init(&sg, m->record_type ? m->record_type : "");
        for (size_t i = 0; record_types[i]; i++) {
            if (m->record_type && strcmp(record_types[i], m->record_type) == 0)
                known = 1;
            acu_map_suggest_add(&sg, record_types[i]);
        }
        if (!known) {
            if (acu_map_suggest_best(&sg))
                report_at(&b, "/record_type", "unknown record type '%s'; did you mean '%s'?",
                          m->record_type ? m->record_type : "", acu_map_suggest_best(&sg));
            else
                report_at(&b, "/record_type", "unknown record type '%s'; it must be one of customer, product, location, inventory_level, transaction, tracking",
                          m->record_type ? m->record_type : "");
            rc = -1;
        }
    }
    m->last_modified = acu_map_catalog_last_modified(set->catalog, m->entity);
    if ((v = acu_map_catalog_keys(set->catalog, m->entity)) != NULL) {
        m->nkeys = acu_arr_len(v);
        m->keys = acu_map_pool_alloc(&set->pool, sizeof(char *) * (m->nkeys ? m->nkeys : 1));
        if (m->keys == NULL)
            return -1;
        for (size_t i = 0; i < m->nkeys; i++)
            m->keys[i] = json_object_get_string(json_object_array_get_idx(v, i));
    }

    b.scopes[0].entity = b.acu_side ? m->entity : NULL;
    b.scopes[0].prefix = "";
    b.depth = 0;

    /* for_each: one host record per element of a detail collection. */
    if ((s = mstr(doc, "for_each")) != NULL) {
        b.file = origin_file_of(doc, "for_each", file);
        if (m->dir != ACU_MAP_TO_HOST) {
            report_at(&b, "/for_each", "'for_each' applies only to to_host mappings");
            rc = -1;
        } else {
            acu_expr *fe = compile_text(&b, s, 2, "/for_each");
            if (fe != NULL && b.last.type != ACU_FT_LIST) {
                report(&b, 0, "'%s' is not a detail collection of %s", s, m->entity);
                fe = NULL;
            }
            if (fe == NULL) {
                rc = -1;
            } else {
                char prefix[520];
                m->for_each = fe;
                m->for_each_text = s;
                snprintf(prefix, sizeof(prefix), "%s/", b.last.sel);
                b.scopes[1].entity = b.last.entity;
                b.scopes[1].prefix = acu_map_pool_strdup(&set->pool, prefix);
                b.depth = 1;
            }
        }
    }
    if ((s = mstr(doc, "id")) != NULL) {
        b.file = origin_file_of(doc, "id", file);
        m->id = compile_text(&b, s, 0, "/id");
        if (m->id == NULL)
            rc = -1;
    }
    /* The flows always need the keys and the version of what they read. */
    if (m->dir == ACU_MAP_TO_HOST) {
        for (size_t i = 0; i < m->nkeys; i++)
            set_add(m->reads_select, m->keys[i]);
        if (m->last_modified)
            set_add(m->reads_select, m->last_modified);
    }
    if ((v = member(doc, "fields")) != NULL &&
        compile_node(&b, v, doc, &m->root, m->dir == ACU_MAP_FROM_HOST ? m->entity : NULL,
                     "") != 0)
        rc = -1;

    if ((v = member(doc, "match")) != NULL) {
        size_t n = acu_arr_len(v);
        b.file = origin_file_of(doc, "match", file);
        m->match = acu_map_pool_alloc(&set->pool, sizeof(char *) * (n ? n : 1));
        if (m->match == NULL)
            return -1;
        if (m->dir != ACU_MAP_FROM_HOST) {
            report_at(&b, "/match", "'match' names the Acumatica fields that find an existing record; it applies only to from_host mappings");
            rc = -1;
        }
        for (size_t i = 0; i < n; i++) {
            const char *name = json_object_get_string(json_object_array_get_idx(v, i));
            acu_field_info fi;
            int mapped = 0;
            char *p = acu_map_pointer_index("/match", i);
            m->match[m->nmatch++] = name;
            const char *owner = m->entity, *leaf = name;
            if (match_field(set->catalog, name, &owner, &leaf, &fi) != 0) {
                const char *best = acu_map_catalog_suggest(set->catalog, owner, leaf);
                if (best)
                    report_at(&b, p, "unknown field '%s' on %s; did you mean '%s'?", leaf, owner, best);
                else
                    report_at(&b, p, "unknown field '%s' on %s", leaf, owner);
                rc = -1;
            } else {
                /* A field that failed to compile or was dropped for its own
                 * problem still counts: only that problem is reported. */
                json_object *written = member(doc, "fields");
                json_object *dropped = member(doc, "$dropped_targets");
                for (size_t k = 0; k < m->root.nfields; k++)
                    if (strcmp(m->root.fields[k].target, name) == 0)
                        mapped = 1;
                for (size_t k = 0; !mapped && k < acu_arr_len(written); k++) {
                    const char *t = mstr(json_object_array_get_idx(written, k), "target");
                    mapped = t != NULL && strcmp(t, name) == 0;
                }
                for (size_t k = 0; !mapped && k < acu_arr_len(dropped); k++) {
                    const char *t = json_object_get_string(json_object_array_get_idx(dropped, k));
                    mapped = t != NULL && strcmp(t, name) == 0;
                }
                if (!mapped && m->dir == ACU_MAP_FROM_HOST) {
                    report_at(&b, p, "match field '%s' is not the target of any field of this mapping, so it could never find a record",
                              name);
                    rc = -1;
                }
            }
            free(p);
        }
    }
    return rc == 0 && b.errors == 0 ? 0 : -1;
}

int acu_map_eval_text(acu_mapset *set, const char *text, int template_mode,
                      json_object *settings, json_object *record,
                      json_object **result, char *why, size_t cap)
{
    binder b;
    acu_expr *e;
    acu_expr_error pe;
    acu_run run;
    acu_val v;
    acu_map dummy;
    int rc = -1;

    *result = NULL;
    if (cap > 0)
        why[0] = '\0';
    memset(&b, 0, sizeof(b));
    memset(&dummy, 0, sizeof(dummy));
    dummy.reads_select = json_object_new_object();
    dummy.reads_expand = json_object_new_object();
    dummy.reads_custom = json_object_new_object();
    dummy.uses_lookups = json_object_new_object();
    b.set = set;
    b.m = &dummy;
    b.settings = settings;
    b.diags = acu_map_diags_new();
    b.file = "(expression)";
    b.scopes[0].prefix = "";
    if (b.diags == NULL || !dummy.reads_select || !dummy.reads_expand || !dummy.reads_custom ||
        !dummy.uses_lookups)
        goto out;
    b.ptr = "";
    b.show_column = 1;
    e = acu_map_expr_parse(&set->pool, text, strlen(text), template_mode, &pe);
    if (e == NULL) {
        snprintf(why, cap, "column %d: %s", pe.column, pe.message);
        goto out;
    }
    if (bind(&b, e) != 0) {
        const acu_map_diag *g = acu_map_diags_get(b.diags, 0);
        if (g != NULL)
            snprintf(why, cap, "column %d: %s", g->column, g->message);
        goto out;
    }
    memset(&run, 0, sizeof(run));
    acu_map_pool_init(&run.pool, ACU_MAP_MAX_RUN_BYTES);
    run.set = set;
    run.scopes[0] = record;
    v = acu_map_expr_eval(&run, e);
    if (v.kind == ACU_V_ERR) {
        snprintf(why, cap, "%.*s", (int)v.len, v.u.s);
    } else {
        *result = acu_map_v_to_json(&v);
        rc = 0;
    }
    acu_map_pool_free(&run.pool);
out:
    json_object_put(dummy.reads_select);
    json_object_put(dummy.reads_expand);
    json_object_put(dummy.reads_custom);
    json_object_put(dummy.uses_lookups);
    acu_map_diags_free(b.diags);
    return rc;
}
