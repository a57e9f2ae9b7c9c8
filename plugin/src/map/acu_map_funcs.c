/* acu_map_funcs.c - the functions of the expression language.
 *
 * Every function is total: a wrong argument gives an error value with a
 * sentence, never a crash; strings are made in the run's pool with a size
 * cap; null in gives null out where that is what a person expects
 * (upper(null) is null, so a missing field stays missing). Text functions
 * count characters (UTF-8), not bytes, like Acumatica's field lengths. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acu_map_internal.h"

enum {
    F_CONCAT, F_UPPER, F_LOWER, F_TRIM, F_SUBSTR, F_REPLACE, F_TRUNCATE,
    F_LENGTH, F_CONTAINS, F_STARTS_WITH, F_ENDS_WITH, F_ROUND, F_FLOOR,
    F_CEIL, F_ABS, F_MIN, F_MAX, F_TO_NUMBER, F_TO_STRING, F_TO_BOOL,
    F_PARSE_DATE, F_FORMAT_DATE, F_TO_UTC, F_TO_LOCAL, F_LOCAL_DATE,
    F_ADD_DAYS, F_COALESCE, F_IS_EMPTY, F_DEFAULT, F_LOOKUP, F_COUNT, F_SUM,
    F_JOIN, F_SETTING, F_IF, F_ERROR,
    F_COUNT_ALL
};

/* name, min, max, lambda_arg, literal_arg, pure */
static const acu_map_func_info funcs[F_COUNT_ALL] = {
    [F_CONCAT] = {"concat", 1, 255, 0, 0, 1},
    [F_UPPER] = {"upper", 1, 1, 0, 0, 1},
    [F_LOWER] = {"lower", 1, 1, 0, 0, 1},
    [F_TRIM] = {"trim", 1, 1, 0, 0, 1},
    [F_SUBSTR] = {"substr", 2, 3, 0, 0, 1},
    [F_REPLACE] = {"replace", 3, 3, 0, 0, 1},
    [F_TRUNCATE] = {"truncate", 2, 2, 0, 0, 1},
    [F_LENGTH] = {"length", 1, 1, 0, 0, 1},
    [F_CONTAINS] = {"contains", 2, 2, 0, 0, 1},
    [F_STARTS_WITH] = {"starts_with", 2, 2, 0, 0, 1},
    [F_ENDS_WITH] = {"ends_with", 2, 2, 0, 0, 1},
    [F_ROUND] = {"round", 1, 2, 0, 0, 1},
    [F_FLOOR] = {"floor", 1, 1, 0, 0, 1},
    [F_CEIL] = {"ceil", 1, 1, 0, 0, 1},
    [F_ABS] = {"abs", 1, 1, 0, 0, 1},
    [F_MIN] = {"min", 1, 255, 0, 0, 1},
    [F_MAX] = {"max", 1, 255, 0, 0, 1},
    [F_TO_NUMBER] = {"to_number", 1, 1, 0, 0, 1},
    [F_TO_STRING] = {"to_string", 1, 2, 0, 0, 1},
    [F_TO_BOOL] = {"to_bool", 1, 1, 0, 0, 1},
    [F_PARSE_DATE] = {"parse_date", 1, 2, 0, 0, 0},
    [F_FORMAT_DATE] = {"format_date", 2, 2, 0, 0, 0},
    [F_TO_UTC] = {"to_utc", 1, 1, 0, 0, 0},
    [F_TO_LOCAL] = {"to_local", 1, 1, 0, 0, 0},
    [F_LOCAL_DATE] = {"local_date", 1, 1, 0, 0, 0},
    [F_ADD_DAYS] = {"add_days", 2, 2, 0, 0, 0},
    [F_COALESCE] = {"coalesce", 1, 255, 0, 0, 1},
    [F_IS_EMPTY] = {"is_empty", 1, 1, 0, 0, 1},
    [F_DEFAULT] = {"default", 2, 2, 0, 0, 1},
    [F_LOOKUP] = {"lookup", 2, 3, 0, 1, 0},
    [F_COUNT] = {"count", 1, 2, 2, 0, 0},
    [F_SUM] = {"sum", 2, 2, 2, 0, 0},
    [F_JOIN] = {"join", 2, 3, 2, 0, 0},
    [F_SETTING] = {"setting", 1, 1, 0, 1, 0},
    [F_IF] = {"if", 3, 3, 0, 0, 1},
    [F_ERROR] = {"error", 1, 1, 0, 0, 0},
};

int acu_map_func_find(const char *name, size_t len)
{
    for (int i = 0; i < F_COUNT_ALL; i++) {
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
            return i;
    }
    return -1;
}

const acu_map_func_info *acu_map_func_get(int id)
{
    if (id < 0 || id >= F_COUNT_ALL)
        return NULL;
    return &funcs[id];
}

size_t acu_map_func_count(void)
{
    return F_COUNT_ALL;
}

int acu_map_func_id_lookup(void) { return F_LOOKUP; }
int acu_map_func_id_setting(void) { return F_SETTING; }
int acu_map_func_id_if(void) { return F_IF; }
int acu_map_func_id_coalesce(void) { return F_COALESCE; }

/* ---- helpers ---- */

static char *alloc_text(acu_run *run, size_t len)
{
    char *s;

    if (len > ACU_MAP_MAX_VALUE_BYTES)
        return NULL;
    s = acu_map_pool_alloc(&run->pool, len + 1);
    if (s == NULL)
        run->oom = 1;
    return s;
}

static acu_val too_long(acu_run *run, const char *fn)
{
    if (run->oom)
        return acu_map_v_errf(run, "out of memory in %s()", fn);
    return acu_map_v_errf(run, "%s(): the result would be longer than %u bytes", fn,
                      ACU_MAP_MAX_VALUE_BYTES);
}

/* Number of UTF-8 characters in s. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Byte offset of character number `ch` (clamped to len). */
static size_t utf8_offset(const char *s, size_t len, size_t ch)
{
    size_t n = 0, i = 0;
    for (i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == ch)
                return i;
            n++;
        }
    }
    return len;
}

/* Text of a scalar argument; error value for lists/objects. */
static int text_arg(acu_run *run, const char *fn, const acu_val *v,
                    const char **s, size_t *len, acu_val *err)
{
    if (acu_map_v_to_text(run, v, s, len) != 0) {
        *err = acu_map_v_errf(run, "%s() needs text, got %s", fn, acu_map_v_kind_name(v));
        return -1;
    }
    return 0;
}

static int num_arg(acu_run *run, const char *fn, const acu_val *v, double *n,
                   acu_val *err)
{
    if (v->kind == ACU_V_NUM) {
        *n = v->u.n;
        return 0;
    }
    if (v->kind == ACU_V_STR && acu_map_text_to_number(v->u.s, v->len, n) == 0)
        return 0;
    if (v->kind == ACU_V_STR)
        *err = acu_map_v_errf(run, "%s() needs a number, got '%.*s'", fn,
                          (int)(v->len > 40 ? 40 : v->len), v->u.s);
    else
        *err = acu_map_v_errf(run, "%s() needs a number, got %s", fn, acu_map_v_kind_name(v));
    return -1;
}

static int int_arg(acu_run *run, const char *fn, const acu_val *v, long lo,
                   long hi, long *out, acu_val *err)
{
    double n;

    if (num_arg(run, fn, v, &n, err) != 0)
        return -1;
    if (n != floor(n) || n < (double)lo || n > (double)hi) {
        *err = acu_map_v_errf(run, "%s() needs a whole number from %ld to %ld, got %g",
                          fn, lo, hi, n);
        return -1;
    }
    *out = (long)n;
    return 0;
}

/* Round half away from zero at `places` decimals, correcting the binary
 * representation first (2.675 rounds to 2.68 as a person expects): x * p is
 * read back from its 15 significant digits, which a double always holds
 * exactly, so 267.49999999999997 becomes 267.5 while every digit a person
 * wrote is kept (12345678901.234 keeps its cents). */
static double round_places(double x, int places)
{
    double p = pow(10.0, places);
    char buf[64];
    double y = x * p;

    /* A number this large has no fractional digits left to round. */
    if (!isfinite(y))
        return x;
    if (fabs(y) < 1e15) {
        snprintf(buf, sizeof(buf), "%.15g", y);
        y = strtod(buf, NULL);
    }
    return round(y) / p;
}

static acu_val case_map(acu_run *run, const acu_val *a, int up)
{
    const char *s;
    size_t len;
    char *d;
    acu_val err;

    if (a->kind == ACU_V_NULL)
        return *a;
    if (text_arg(run, up ? "upper" : "lower", a, &s, &len, &err))
        return err;
    d = alloc_text(run, len);
    if (d == NULL)
        return too_long(run, up ? "upper" : "lower");
    for (size_t i = 0; i < len; i++)
        d[i] = (char)(up ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
    d[len] = '\0';
    return acu_map_v_str(d, len);
}

/* to_string with a number format: "0", "0.00", "0.##", "#,##0.00". */
static acu_val format_number(acu_run *run, double n, const char *fmt,
                             size_t flen)
{
    int group = 0, dmin = 0, dmax = 0, after = 0, zeros = 0;
    char num[400], out[512];
    size_t o = 0;
    const char *dot;
    char *d;
    size_t intlen, k;

    for (size_t i = 0; i < flen; i++) {
        char c = fmt[i];
        if (c == ',' && !after)
            group = 1;
        else if (c == '.' && !after)
            after = 1;
        else if (c == '0' && after) {
            if (dmax != dmin)
                return acu_map_v_errf(run, "to_string(): in the format '%.*s' every 0 after the point comes before any #", (int)flen, fmt);
            dmin++;
            dmax++;
        } else if (c == '#' && after)
            dmax++;
        else if (c == '0')
            zeros++;
        else if (c == '#')
            ;
        else
            return acu_map_v_errf(run, "to_string(): unsupported number format '%.*s'; use a pattern like 0.00 or #,##0.00", (int)flen, fmt);
    }
    if (zeros == 0 || dmax > 10)
        return acu_map_v_errf(run, "to_string(): unsupported number format '%.*s'; use a pattern like 0.00 or #,##0.00", (int)flen, fmt);
    if (fabs(n) >= 1e300)
        return acu_map_v_errf(run, "to_string(): the number is too large to format");
    n = round_places(n, dmax);
    snprintf(num, sizeof(num), "%.*f", dmax, n);
    if (dmax > dmin) {
        size_t l = strlen(num);
        int drop = dmax - dmin;
        while (drop > 0 && l > 0 && num[l - 1] == '0') {
            num[--l] = '\0';
            drop--;
        }
        if (l > 0 && num[l - 1] == '.')
            num[--l] = '\0';
    }
    if (strcmp(num, "-0") == 0)
        snprintf(num, sizeof(num), "0");
    dot = strchr(num, '.');
    intlen = dot ? (size_t)(dot - num) : strlen(num);
    k = 0;
    if (num[0] == '-') {
        out[o++] = '-';
        k = 1;
    }
    for (size_t i = k; i < intlen; i++) {
        out[o++] = num[i];
        if (group && i + 1 < intlen && (intlen - i - 1) % 3 == 0)
            out[o++] = ',';
    }
    if (dot) {
        size_t rest = strlen(dot);
        memcpy(out + o, dot, rest);
        o += rest;
    }
    d = alloc_text(run, o);
    if (d == NULL)
        return too_long(run, "to_string");
    memcpy(d, out, o);
    d[o] = '\0';
    return acu_map_v_str(d, o);
}

static int date_arg(acu_run *run, const char *fn, const acu_val *v,
                    acu_datetime *dt, acu_val *err)
{
    if (v->kind != ACU_V_STR) {
        *err = acu_map_v_errf(run, "%s() needs a date as text, got %s", fn, acu_map_v_kind_name(v));
        return -1;
    }
    if (acu_map_date_parse(v->u.s, v->len, run->set->tz_offset_min, dt) != 0) {
        *err = acu_map_v_errf(run, "%s(): '%.*s' is not a date (expected e.g. 2024-03-01T14:05:00Z or 2024-03-01)",
                          fn, (int)(v->len > 40 ? 40 : v->len), v->u.s);
        return -1;
    }
    return 0;
}

static acu_val date_text(acu_run *run, const acu_datetime *dt, const char *fn)
{
    char buf[64];
    int n;
    char *d;

    if (!acu_map_date_year_ok(dt))
        return acu_map_v_errf(run, "%s(): the date falls outside the years 0001 to 9999", fn);
    n = acu_map_date_format_rfc3339(dt, buf, sizeof(buf));
    if (n < 0 || (size_t)n >= sizeof(buf))
        return acu_map_v_errf(run, "cannot write the date");
    d = alloc_text(run, (size_t)n);
    if (d == NULL)
        return too_long(run, fn);
    memcpy(d, buf, (size_t)n + 1);
    return acu_map_v_str(d, (size_t)n);
}

static acu_val fmt_date(acu_run *run, const acu_datetime *dt, const char *fmt,
                        const char *fn)
{
    char buf[256];
    int n;
    char *d;

    if (!acu_map_date_year_ok(dt))
        return acu_map_v_errf(run, "%s(): the date falls outside the years 0001 to 9999", fn);
    n = acu_map_date_format(dt, fmt, buf, sizeof(buf));
    if (n < 0)
        return acu_map_v_errf(run, "%s(): unsupported date format '%s' (use %%Y %%m %%d %%H %%M %%S %%f %%z %%b %%p ...)",
                          fn, fmt);
    d = alloc_text(run, (size_t)n);
    if (d == NULL)
        return too_long(run, fn);
    memcpy(d, buf, (size_t)n + 1);
    return acu_map_v_str(d, (size_t)n);
}

/* A NUL-terminated copy of a short text argument (formats). */
static const char *cstr(acu_run *run, const acu_val *v)
{
    if (v->kind != ACU_V_STR || v->len > 200)
        return NULL;
    return acu_map_pool_strndup(&run->pool, v->u.s, v->len);
}

acu_val acu_map_func_call(acu_run *run, const acu_expr *call, acu_val *a, int n)
{
    const char *fn = funcs[call->fn].name;
    const char *s, *t;
    size_t len, tlen;
    double x;
    long k;
    acu_val err;
    acu_datetime dt;
    char *d;

    for (int i = 0; i < n; i++)
        if (a[i].kind == ACU_V_ERR)
            return a[i];
    switch (call->fn) {
    case F_CONCAT: {
        size_t total = 0;
        const char *parts[ACU_MAP_MAX_ARGS];
        size_t lens[ACU_MAP_MAX_ARGS];
        for (int i = 0; i < n; i++) {
            if (text_arg(run, fn, &a[i], &parts[i], &lens[i], &err))
                return err;
            total += lens[i];
        }
        d = alloc_text(run, total);
        if (d == NULL)
            return too_long(run, fn);
        total = 0;
        for (int i = 0; i < n; i++) {
            memcpy(d + total, parts[i], lens[i]);
            total += lens[i];
        }
        d[total] = '\0';
        return acu_map_v_str(d, total);
    }
    case F_UPPER:
        return case_map(run, &a[0], 1);
    case F_LOWER:
        return case_map(run, &a[0], 0);
    case F_TRIM:
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (text_arg(run, fn, &a[0], &s, &len, &err))
            return err;
        while (len > 0 && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)s[len - 1]))
            len--;
        return acu_map_v_str(s, len);
    case F_SUBSTR: {
        long start, count = -1;
        size_t b0, b1;
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (text_arg(run, fn, &a[0], &s, &len, &err) ||
            int_arg(run, fn, &a[1], 0, 1000000000L, &start, &err))
            return err;
        if (n > 2 && int_arg(run, fn, &a[2], 0, 1000000000L, &count, &err))
            return err;
        b0 = utf8_offset(s, len, (size_t)start);
        b1 = count < 0 ? len : utf8_offset(s, len, (size_t)start + (size_t)count);
        return acu_map_v_str(s + b0, b1 - b0);
    }
    case F_REPLACE: {
        acu_buf b;
        const char *from, *to;
        size_t flen, tolen;
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (text_arg(run, fn, &a[0], &s, &len, &err) ||
            text_arg(run, fn, &a[1], &from, &flen, &err) ||
            text_arg(run, fn, &a[2], &to, &tolen, &err))
            return err;
        if (flen == 0)
            return acu_map_v_str(s, len);
        acu_buf_init(&b, ACU_MAP_MAX_VALUE_BYTES + 1);
        for (size_t i = 0; i < len;) {
            if (i + flen <= len && memcmp(s + i, from, flen) == 0) {
                acu_buf_add(&b, to, tolen);
                i += flen;
            } else {
                acu_buf_add(&b, s + i, 1);
                i++;
            }
        }
        if (b.failed) {
            acu_buf_free(&b);
            return too_long(run, fn);
        }
        d = alloc_text(run, b.len);
        if (d == NULL) {
            acu_buf_free(&b);
            return too_long(run, fn);
        }
        if (b.len)
            memcpy(d, b.data, b.len);
        d[b.len] = '\0';
        len = b.len;
        acu_buf_free(&b);
        return acu_map_v_str(d, len);
    }
    case F_TRUNCATE:
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (text_arg(run, fn, &a[0], &s, &len, &err) ||
            int_arg(run, fn, &a[1], 0, 1000000000L, &k, &err))
            return err;
        return acu_map_v_str(s, utf8_offset(s, len, (size_t)k));
    case F_LENGTH:
        if (a[0].kind == ACU_V_NULL)
            return acu_map_v_num(0);
        if (a[0].kind == ACU_V_JSON)
            return acu_map_v_num(json_object_is_type(a[0].j, json_type_array)
                                 ? (double)json_object_array_length(a[0].j)
                                 : (double)json_object_object_length(a[0].j));
        if (text_arg(run, fn, &a[0], &s, &len, &err))
            return err;
        return acu_map_v_num((double)utf8_chars(s, len));
    case F_CONTAINS:
    case F_STARTS_WITH:
    case F_ENDS_WITH:
        if (a[0].kind == ACU_V_NULL)
            return acu_map_v_bool(0);
        if (text_arg(run, fn, &a[0], &s, &len, &err) ||
            text_arg(run, fn, &a[1], &t, &tlen, &err))
            return err;
        if (tlen > len)
            return acu_map_v_bool(0);
        if (call->fn == F_STARTS_WITH)
            return acu_map_v_bool(memcmp(s, t, tlen) == 0);
        if (call->fn == F_ENDS_WITH)
            return acu_map_v_bool(memcmp(s + len - tlen, t, tlen) == 0);
        for (size_t i = 0; i + tlen <= len; i++)
            if (memcmp(s + i, t, tlen) == 0)
                return acu_map_v_bool(1);
        return acu_map_v_bool(0);
    case F_ROUND:
        k = 0;
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (num_arg(run, fn, &a[0], &x, &err))
            return err;
        if (n > 1 && int_arg(run, fn, &a[1], 0, 10, &k, &err))
            return err;
        return acu_map_v_num(round_places(x, (int)k));
    case F_FLOOR:
    case F_CEIL:
    case F_ABS:
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (num_arg(run, fn, &a[0], &x, &err))
            return err;
        return acu_map_v_num(call->fn == F_FLOOR ? floor(x) : call->fn == F_CEIL ? ceil(x) : fabs(x));
    case F_MIN:
    case F_MAX: {
        int have = 0;
        double best = 0;
        for (int i = 0; i < n; i++) {
            if (a[i].kind == ACU_V_NULL)
                continue;
            if (num_arg(run, fn, &a[i], &x, &err))
                return err;
            if (!have || (call->fn == F_MIN ? x < best : x > best))
                best = x;
            have = 1;
        }
        return have ? acu_map_v_num(best) : acu_map_v_null();
    }
    case F_TO_NUMBER:
        switch (a[0].kind) {
        case ACU_V_NULL:
        case ACU_V_NUM:
            return a[0];
        case ACU_V_BOOL:
            return acu_map_v_num(a[0].b);
        case ACU_V_STR:
            if (a[0].len == 0)
                return acu_map_v_null();
            if (acu_map_text_to_number(a[0].u.s, a[0].len, &x) != 0)
                return acu_map_v_errf(run, "to_number(): '%.*s' is not a number",
                                  (int)(a[0].len > 40 ? 40 : a[0].len), a[0].u.s);
            return acu_map_v_num(x);
        default:
            return acu_map_v_errf(run, "to_number() needs text or a number, got %s",
                              acu_map_v_kind_name(&a[0]));
        }
    case F_TO_STRING:
        if (a[0].kind == ACU_V_NULL)
            return a[0];
        if (n > 1) {
            if (a[1].kind != ACU_V_STR)
                return acu_map_v_errf(run, "to_string(): the format must be text");
            if (num_arg(run, fn, &a[0], &x, &err))
                return err;
            return format_number(run, x, a[1].u.s, a[1].len);
        }
        if (a[0].kind == ACU_V_JSON) {
            const char *js = json_object_to_json_string_ext(a[0].j, JSON_C_TO_STRING_PLAIN);
            len = strlen(js);
            d = alloc_text(run, len);
            if (d == NULL)
                return too_long(run, fn);
            memcpy(d, js, len + 1);
            return acu_map_v_str(d, len);
        }
        if (acu_map_v_to_text(run, &a[0], &s, &len) != 0)
            return too_long(run, fn);
        return acu_map_v_str(s, len);
    case F_TO_BOOL:
        switch (a[0].kind) {
        case ACU_V_NULL:
        case ACU_V_BOOL:
            return a[0];
        case ACU_V_NUM:
            return acu_map_v_bool(a[0].u.n != 0);
        case ACU_V_STR: {
            static const char *const yes[] = {"true", "yes", "y", "1", "on"};
            static const char *const no[] = {"false", "no", "n", "0", "off"};
            size_t a0 = 0, l = a[0].len;
            s = a[0].u.s;
            while (a0 < l && isspace((unsigned char)s[a0]))
                a0++;
            while (l > a0 && isspace((unsigned char)s[l - 1]))
                l--;
            if (l == a0)
                return acu_map_v_null();
            for (size_t i = 0; i < 5; i++) {
                if (strlen(yes[i]) == l - a0 && strncasecmp(s + a0, yes[i], l - a0) == 0)
                    return acu_map_v_bool(1);
                if (strlen(no[i]) == l - a0 && strncasecmp(s + a0, no[i], l - a0) == 0)
                    return acu_map_v_bool(0);
            }
            return acu_map_v_errf(run, "to_bool(): '%.*s' is not true/false, yes/no, 1/0 or on/off",
                              (int)(a[0].len > 40 ? 40 : a[0].len), a[0].u.s);
        }
        default:
            return acu_map_v_errf(run, "to_bool() needs text, a number or a boolean, got %s",
                              acu_map_v_kind_name(&a[0]));
        }
    case F_PARSE_DATE:
        if (acu_map_v_is_empty(&a[0]))
            return acu_map_v_null();
        if (n > 1) {
            const char *f = cstr(run, &a[1]);
            if (a[0].kind != ACU_V_STR || f == NULL)
                return acu_map_v_errf(run, "parse_date() needs text and a format");
            if (acu_map_date_parse_format(a[0].u.s, a[0].len, f, run->set->tz_offset_min, &dt) != 0)
                return acu_map_v_errf(run, "parse_date(): '%.*s' does not match the format '%s'",
                                  (int)(a[0].len > 40 ? 40 : a[0].len), a[0].u.s, f);
            return date_text(run, &dt, fn);
        }
        if (date_arg(run, fn, &a[0], &dt, &err))
            return err;
        return date_text(run, &dt, fn);
    case F_FORMAT_DATE: {
        const char *f;
        if (acu_map_v_is_empty(&a[0]))
            return acu_map_v_null();
        f = cstr(run, &a[1]);
        if (f == NULL)
            return acu_map_v_errf(run, "format_date(): the format must be text of at most 200 bytes");
        if (date_arg(run, fn, &a[0], &dt, &err))
            return err;
        return fmt_date(run, &dt, f, fn);
    }
    case F_TO_UTC:
    case F_TO_LOCAL:
    case F_LOCAL_DATE:
        if (acu_map_v_is_empty(&a[0]))
            return acu_map_v_null();
        if (date_arg(run, fn, &a[0], &dt, &err))
            return err;
        if (call->fn == F_TO_UTC) {
            dt.offset_min = 0;
            dt.utc_z = 1;
            return date_text(run, &dt, fn);
        }
        dt.offset_min = run->set->tz_offset_min;
        dt.utc_z = 0;
        if (call->fn == F_TO_LOCAL)
            return date_text(run, &dt, fn);
        return fmt_date(run, &dt, "%Y-%m-%d", fn);
    case F_ADD_DAYS:
        if (acu_map_v_is_empty(&a[0]))
            return acu_map_v_null();
        if (date_arg(run, fn, &a[0], &dt, &err) ||
            int_arg(run, fn, &a[1], -3650000L, 3650000L, &k, &err))
            return err;
        dt.seconds += (int64_t)k * 86400;
        if (!dt.has_time)
            return fmt_date(run, &dt, "%Y-%m-%d", fn);
        return date_text(run, &dt, fn);
    case F_IS_EMPTY:
        return acu_map_v_bool(acu_map_v_is_empty(&a[0]));
    case F_DEFAULT:
        return acu_map_v_is_empty(&a[0]) ? a[1] : a[0];
    case F_ERROR:
        if (text_arg(run, fn, &a[0], &s, &len, &err))
            return err;
        return acu_map_v_errf(run, "%.*s", (int)(len > 400 ? 400 : len), s);
    default:
        return acu_map_v_errf(run, "%s() cannot be called here", fn);
    }
}

/* count(list[, condition]), sum(list, value), join(list, value[, sep]):
 * the second argument is evaluated once per element, with the element as
 * the current record and the enclosing record as parent. */
acu_val acu_map_func_call_lambda(acu_run *run, const acu_expr *call)
{
    const char *fn = funcs[call->fn].name;
    acu_val list = acu_map_expr_eval(run, call->u.args[0]);
    acu_val sep = acu_map_v_str(", ", 2);
    size_t count = 0, n;
    double total = 0;
    acu_buf b;
    acu_val result;

    if (list.kind == ACU_V_ERR)
        return list;
    if (list.kind == ACU_V_NULL) {
        if (call->fn == F_JOIN)
            return acu_map_v_null();
        return acu_map_v_num(0);
    }
    if (list.kind != ACU_V_JSON || !json_object_is_type(list.j, json_type_array))
        return acu_map_v_errf(run, "%s() needs a list, got %s", fn, acu_map_v_kind_name(&list));
    if (call->fn == F_JOIN && call->nargs > 2) {
        sep = acu_map_expr_eval(run, call->u.args[2]);
        if (sep.kind == ACU_V_ERR)
            return sep;
        if (sep.kind != ACU_V_STR)
            return acu_map_v_errf(run, "join(): the separator must be text");
    }
    if (run->depth + 1 >= ACU_MAP_MAX_SCOPES)
        return acu_map_v_errf(run, "%s(): records nest too deeply", fn);
    n = json_object_array_length(list.j);
    acu_buf_init(&b, ACU_MAP_MAX_VALUE_BYTES + 1);
    run->depth++;
    result = acu_map_v_null();
    for (size_t i = 0; i < n; i++) {
        acu_val v;
        run->scopes[run->depth] = json_object_array_get_idx(list.j, i);
        if (call->nargs < 2) {
            count++;
            continue;
        }
        v = acu_map_expr_eval(run, call->u.args[1]);
        if (v.kind == ACU_V_ERR) {
            result = v;
            goto out;
        }
        if (call->fn == F_COUNT) {
            if (acu_map_v_truthy(&v))
                count++;
        } else if (call->fn == F_SUM) {
            double x;
            if (v.kind == ACU_V_NULL)
                continue;
            if (v.kind == ACU_V_NUM)
                x = v.u.n;
            else if (v.kind != ACU_V_STR || acu_map_text_to_number(v.u.s, v.len, &x) != 0) {
                result = acu_map_v_errf(run, "sum(): element %zu gives %s, not a number", i,
                                    acu_map_v_kind_name(&v));
                goto out;
            }
            total += x;
            if (!isfinite(total)) {
                result = acu_map_v_errf(run, "sum(): the total is too large");
                goto out;
            }
        } else {
            const char *s;
            size_t len;
            if (v.kind == ACU_V_NULL)
                continue;
            if (acu_map_v_to_text(run, &v, &s, &len) != 0) {
                result = acu_map_v_errf(run, "join(): element %zu gives %s, not text", i,
                                    acu_map_v_kind_name(&v));
                goto out;
            }
            if (count > 0)
                acu_buf_add(&b, sep.u.s, sep.len);
            acu_buf_add(&b, s, len);
            count++;
        }
    }
    if (call->fn == F_COUNT)
        result = acu_map_v_num((double)count);
    else if (call->fn == F_SUM)
        result = acu_map_v_num(total);
    else if (b.failed)
        result = too_long(run, fn);
    else {
        char *d = alloc_text(run, b.len);
        if (d == NULL)
            result = too_long(run, fn);
        else {
            if (b.len)
                memcpy(d, b.data, b.len);
            d[b.len] = '\0';
            result = acu_map_v_str(d, b.len);
        }
    }
out:
    run->depth--;
    acu_buf_free(&b);
    return result;
}
