/* acu_map_eval.c - evaluating compiled expressions against a record.
 *
 * A tree walk over nodes made at load time: paths are pre-split, constants
 * folded, functions and lookup tables resolved, so the work per field is a
 * few hash lookups and, only when a value is computed, a copy into the
 * run's pool. Operators follow a few simple rules a mapping author can
 * predict: null in arithmetic gives null, comparisons with null are false,
 * numbers written as text count as numbers except for '+', which joins two
 * texts; anything else that does not make sense is an error value naming
 * the operator. */
#include <math.h>
#include <string.h>

#include "acu_map_internal.h"

json_object *acu_map_unwrap(json_object *o)
{
    json_object *v;

    if (!json_object_is_type(o, json_type_object))
        return o;
    if (json_object_object_get_ex(o, "value", &v))
        return v;
    if (json_object_object_length(o) == 0)
        return NULL; /* {} is Acumatica's null */
    return o;
}

acu_val acu_map_path_eval(acu_run *run, const acu_path *p)
{
    int idx = run->depth - (int)p->up;
    json_object *o;

    if (idx < 0)
        return acu_map_v_null();
    o = run->scopes[idx];
    for (unsigned i = 0; i < p->nseg && o != NULL; i++) {
        const acu_path_seg *s = &p->seg[i];
        if (s->index >= 0) {
            if (!json_object_is_type(o, json_type_array) ||
                (size_t)s->index >= json_object_array_length(o))
                return acu_map_v_null();
            o = json_object_array_get_idx(o, (size_t)s->index);
        } else {
            if (!json_object_is_type(o, json_type_object) ||
                !json_object_object_get_ex(o, s->key, &o))
                return acu_map_v_null();
        }
    }
    if (p->wrapped)
        o = acu_map_unwrap(o);
    return acu_map_v_from_json(o);
}

/* A number from a NUM or a numeric STR; -1 otherwise. */
static int as_number(const acu_val *v, double *n)
{
    if (v->kind == ACU_V_NUM) {
        *n = v->u.n;
        return 0;
    }
    if (v->kind == ACU_V_STR)
        return acu_map_text_to_number(v->u.s, v->len, n);
    return -1;
}

static const char *op_name(int op)
{
    switch (op) {
    case ACU_OP_ADD: return "+";
    case ACU_OP_SUB: return "-";
    case ACU_OP_MUL: return "*";
    case ACU_OP_DIV: return "/";
    case ACU_OP_MOD: return "%";
    case ACU_OP_LT: return "<";
    case ACU_OP_LE: return "<=";
    case ACU_OP_GT: return ">";
    case ACU_OP_GE: return ">=";
    default: return "?";
    }
}

static acu_val arith(acu_run *run, const acu_expr *e, acu_val a, acu_val b)
{
    double x, y, r;

    if (a.kind == ACU_V_ERR)
        return a;
    if (b.kind == ACU_V_ERR)
        return b;
    if (a.kind == ACU_V_NULL || b.kind == ACU_V_NULL)
        return acu_map_v_null();
    if (e->op == ACU_OP_ADD && (a.kind == ACU_V_STR || b.kind == ACU_V_STR)) {
        char *d;
        if (a.kind != ACU_V_STR || b.kind != ACU_V_STR)
            return acu_map_v_errf(run, "column %d: '+' joins two texts or adds two numbers, "
                              "not %s and %s; use concat() or to_number()",
                              e->column, acu_map_v_kind_name(&a), acu_map_v_kind_name(&b));
        if ((size_t)a.len + b.len > ACU_MAP_MAX_VALUE_BYTES)
            return acu_map_v_errf(run, "'+': the text would be too long");
        d = acu_map_pool_alloc(&run->pool, (size_t)a.len + b.len + 1);
        if (d == NULL) {
            run->oom = 1;
            return acu_map_v_errf(run, "out of memory");
        }
        memcpy(d, a.u.s, a.len);
        memcpy(d + a.len, b.u.s, b.len);
        d[a.len + b.len] = '\0';
        return acu_map_v_str(d, (size_t)a.len + b.len);
    }
    if (as_number(&a, &x) != 0 || as_number(&b, &y) != 0) {
        const acu_val *bad = as_number(&a, &x) != 0 ? &a : &b;
        if (bad->kind == ACU_V_STR)
            return acu_map_v_errf(run, "column %d: '%s' needs numbers, got '%.*s'", e->column,
                              op_name(e->op), (int)(bad->len > 40 ? 40 : bad->len), bad->u.s);
        return acu_map_v_errf(run, "column %d: '%s' needs numbers, got %s", e->column,
                          op_name(e->op), acu_map_v_kind_name(bad));
    }
    switch (e->op) {
    case ACU_OP_ADD: r = x + y; break;
    case ACU_OP_SUB: r = x - y; break;
    case ACU_OP_MUL: r = x * y; break;
    case ACU_OP_DIV:
        if (y == 0)
            return acu_map_v_errf(run, "column %d: division by zero", e->column);
        r = x / y;
        break;
    default:
        if (y == 0)
            return acu_map_v_errf(run, "column %d: remainder of a division by zero", e->column);
        r = fmod(x, y);
        break;
    }
    if (!isfinite(r))
        return acu_map_v_errf(run, "column %d: the result of '%s' is too large", e->column,
                          op_name(e->op));
    return acu_map_v_num(r);
}

/* 1 equal, 0 not. Numbers and numeric texts compare as numbers. */
static int equal(const acu_val *a, const acu_val *b)
{
    double x, y;

    if (a->kind == ACU_V_NULL || b->kind == ACU_V_NULL)
        return a->kind == b->kind;
    if ((a->kind == ACU_V_NUM || b->kind == ACU_V_NUM) &&
        as_number(a, &x) == 0 && as_number(b, &y) == 0)
        return x == y;
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case ACU_V_BOOL: return a->b == b->b;
    case ACU_V_STR: return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    case ACU_V_JSON: return json_object_equal(a->j, b->j);
    default: return 0;
    }
}

static acu_val compare(acu_run *run, const acu_expr *e, acu_val a, acu_val b)
{
    double x, y;
    int c;

    if (a.kind == ACU_V_ERR)
        return a;
    if (b.kind == ACU_V_ERR)
        return b;
    if (e->op == ACU_OP_EQ || e->op == ACU_OP_NE) {
        int eq = equal(&a, &b);
        return acu_map_v_bool(e->op == ACU_OP_EQ ? eq : !eq);
    }
    if (a.kind == ACU_V_NULL || b.kind == ACU_V_NULL)
        return acu_map_v_bool(0);
    if (a.kind == ACU_V_STR && b.kind == ACU_V_STR) {
        size_t n = a.len < b.len ? a.len : b.len;
        c = memcmp(a.u.s, b.u.s, n);
        if (c == 0)
            c = a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
    } else if (as_number(&a, &x) == 0 && as_number(&b, &y) == 0) {
        c = x < y ? -1 : x > y ? 1 : 0;
    } else {
        return acu_map_v_errf(run, "column %d: '%s' cannot compare %s with %s", e->column,
                          op_name(e->op), acu_map_v_kind_name(&a), acu_map_v_kind_name(&b));
    }
    switch (e->op) {
    case ACU_OP_LT: return acu_map_v_bool(c < 0);
    case ACU_OP_LE: return acu_map_v_bool(c <= 0);
    case ACU_OP_GT: return acu_map_v_bool(c > 0);
    default: return acu_map_v_bool(c >= 0);
    }
}

static acu_val concat_parts(acu_run *run, const acu_expr *e)
{
    const char *parts[ACU_MAP_MAX_ARGS * 2];
    size_t lens[ACU_MAP_MAX_ARGS * 2];
    size_t total = 0;
    char *d;

    for (unsigned i = 0; i < e->nargs; i++) {
        acu_val v = acu_map_expr_eval(run, e->u.args[i]);
        if (v.kind == ACU_V_ERR)
            return v;
        if (acu_map_v_to_text(run, &v, &parts[i], &lens[i]) != 0)
            return acu_map_v_errf(run, "column %d: a template cannot show %s",
                              e->u.args[i]->column, acu_map_v_kind_name(&v));
        total += lens[i];
    }
    if (total > ACU_MAP_MAX_VALUE_BYTES)
        return acu_map_v_errf(run, "the template's text would be too long");
    d = acu_map_pool_alloc(&run->pool, total + 1);
    if (d == NULL) {
        run->oom = 1;
        return acu_map_v_errf(run, "out of memory");
    }
    total = 0;
    for (unsigned i = 0; i < e->nargs; i++) {
        memcpy(d + total, parts[i], lens[i]);
        total += lens[i];
    }
    d[total] = '\0';
    return acu_map_v_str(d, total);
}

/* A value owned by the mapping set (a lookup row, a default), detached from
 * its JSON so a mapped record never shares an object with the set. */
static acu_val owned_by_set(json_object *j)
{
    acu_val v = acu_map_v_from_json(j);

    if (v.kind != ACU_V_JSON)
        v.j = NULL;
    return v;
}

static acu_val lookup(acu_run *run, const acu_expr *e)
{
    const acu_lookup *t = e->aux;
    acu_val key = acu_map_expr_eval(run, e->u.args[1]);
    const char *s;
    size_t len;
    json_object *row;
    char small[256];

    if (key.kind == ACU_V_ERR)
        return key;
    if (acu_map_v_is_empty(&key))
        return acu_map_v_null();
    if (acu_map_v_to_text(run, &key, &s, &len) != 0)
        return acu_map_v_errf(run, "lookup('%s'): the key must be text or a number, not %s",
                          t->name, acu_map_v_kind_name(&key));
    if (len >= sizeof(small))
        goto miss;
    memcpy(small, s, len);
    small[len] = '\0';
    if (t->case_insensitive)
        for (size_t i = 0; i < len; i++)
            small[i] = (char)((small[i] >= 'A' && small[i] <= 'Z') ? small[i] + 32 : small[i]);
    if (json_object_object_get_ex(t->rows, small, &row))
        return owned_by_set(row);
miss:
    if (e->nargs > 2)
        return acu_map_expr_eval(run, e->u.args[2]);
    switch (t->no_match) {
    case ACU_NOMATCH_PASS: return key;
    case ACU_NOMATCH_DEFAULT: return owned_by_set(t->def);
    case ACU_NOMATCH_NULL: return acu_map_v_null();
    default:
        return acu_map_v_errf(run, "no row for '%.*s' in lookup table '%s'",
                          (int)(len > 60 ? 60 : len), s, t->name);
    }
}

acu_val acu_map_expr_eval(acu_run *run, const acu_expr *e)
{
    acu_val a, b;

    switch (e->op) {
    case ACU_OP_CONST:
        return e->u.k;
    case ACU_OP_PATH:
        return acu_map_path_eval(run, e->u.path);
    case ACU_OP_NEG: {
        double x;
        a = acu_map_expr_eval(run, e->u.args[0]);
        if (a.kind == ACU_V_ERR || a.kind == ACU_V_NULL)
            return a;
        if (as_number(&a, &x) != 0)
            return acu_map_v_errf(run, "column %d: '-' needs a number, got %s", e->column,
                              acu_map_v_kind_name(&a));
        return acu_map_v_num(-x);
    }
    case ACU_OP_NOT:
        a = acu_map_expr_eval(run, e->u.args[0]);
        if (a.kind == ACU_V_ERR)
            return a;
        return acu_map_v_bool(!acu_map_v_truthy(&a));
    case ACU_OP_ADD:
    case ACU_OP_SUB:
    case ACU_OP_MUL:
    case ACU_OP_DIV:
    case ACU_OP_MOD:
        a = acu_map_expr_eval(run, e->u.args[0]);
        if (a.kind == ACU_V_ERR)
            return a;
        b = acu_map_expr_eval(run, e->u.args[1]);
        return arith(run, e, a, b);
    case ACU_OP_EQ:
    case ACU_OP_NE:
    case ACU_OP_LT:
    case ACU_OP_LE:
    case ACU_OP_GT:
    case ACU_OP_GE:
        a = acu_map_expr_eval(run, e->u.args[0]);
        if (a.kind == ACU_V_ERR)
            return a;
        b = acu_map_expr_eval(run, e->u.args[1]);
        return compare(run, e, a, b);
    case ACU_OP_AND:
    case ACU_OP_OR:
        a = acu_map_expr_eval(run, e->u.args[0]);
        if (a.kind == ACU_V_ERR)
            return a;
        if (acu_map_v_truthy(&a) == (e->op == ACU_OP_OR))
            return acu_map_v_bool(e->op == ACU_OP_OR);
        b = acu_map_expr_eval(run, e->u.args[1]);
        if (b.kind == ACU_V_ERR)
            return b;
        return acu_map_v_bool(acu_map_v_truthy(&b));
    case ACU_OP_COND:
        a = acu_map_expr_eval(run, e->u.args[0]);
        if (a.kind == ACU_V_ERR)
            return a;
        return acu_map_expr_eval(run, e->u.args[acu_map_v_truthy(&a) ? 1 : 2]);
    case ACU_OP_CONCAT:
        return concat_parts(run, e);
    case ACU_OP_CALL: {
        const acu_map_func_info *fi = acu_map_func_get(e->fn);
        acu_val args[ACU_MAP_MAX_ARGS];
        if (fi == NULL)
            return acu_map_v_errf(run, "column %d: unknown function", e->column);
        if (e->fn == acu_map_func_id_lookup())
            return lookup(run, e);
        if (fi->lambda_arg)
            return acu_map_func_call_lambda(run, e);
        if (e->fn == acu_map_func_id_if()) {
            a = acu_map_expr_eval(run, e->u.args[0]);
            if (a.kind == ACU_V_ERR)
                return a;
            return acu_map_expr_eval(run, e->u.args[acu_map_v_truthy(&a) ? 1 : 2]);
        }
        if (e->fn == acu_map_func_id_coalesce()) {
            for (unsigned i = 0; i < e->nargs; i++) {
                a = acu_map_expr_eval(run, e->u.args[i]);
                if (a.kind == ACU_V_ERR || !acu_map_v_is_empty(&a))
                    return a;
            }
            return acu_map_v_null();
        }
        for (unsigned i = 0; i < e->nargs; i++) {
            args[i] = acu_map_expr_eval(run, e->u.args[i]);
            if (args[i].kind == ACU_V_ERR)
                return args[i];
        }
        return acu_map_func_call(run, e, args, e->nargs);
    }
    default:
        return acu_map_v_errf(run, "column %d: unknown operation", e->column);
    }
}

json_object *acu_map_field_value(json_object *acu_record, const char *path)
{
    json_object *o = acu_record;
    const char *p = path;

    if (path == NULL)
        return NULL;
    while (o != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[256];
        if (n == 0 || n >= sizeof(key) || !json_object_is_type(o, json_type_object))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(o, key, &o))
            return NULL;
        p += n;
        if (*p == '.')
            p++;
    }
    return acu_map_unwrap(o);
}
