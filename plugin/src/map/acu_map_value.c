/* acu_map_value.c - the values expressions compute with: null, booleans,
 * numbers (doubles), strings (borrowed from the record or made in the run's
 * pool), JSON objects/arrays, and errors (a value, never a crash). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

acu_val acu_map_v_str(const char *s, size_t len)
{
    acu_val v = {0};

    v.kind = ACU_V_STR;
    v.u.s = s;
    v.len = (uint32_t)len;
    return v;
}

acu_val acu_map_v_num(double n)
{
    acu_val v = {0};

    v.kind = ACU_V_NUM;
    v.u.n = n;
    return v;
}

acu_val acu_map_v_bool(int b)
{
    acu_val v = {0};

    v.kind = ACU_V_BOOL;
    v.b = b ? 1 : 0;
    return v;
}

acu_val acu_map_v_errf(acu_run *run, const char *fmt, ...)
{
    static const char oom[] = "out of memory while mapping the record";
    acu_val v = {0};
    char msg[512];
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(msg))
        n = (int)sizeof(msg) - 1;
    v.kind = ACU_V_ERR;
    s = acu_map_pool_strndup(&run->pool, msg, (size_t)n);
    if (s == NULL) {
        run->oom = 1;
        v.u.s = oom;
        v.len = sizeof(oom) - 1;
        return v;
    }
    v.u.s = s;
    v.len = (uint32_t)n;
    return v;
}

acu_val acu_map_v_from_json(json_object *j)
{
    acu_val v = {0};

    v.j = j;
    switch (json_object_get_type(j)) {
    case json_type_null:
        v.kind = ACU_V_NULL;
        v.j = NULL;
        break;
    case json_type_boolean:
        v.kind = ACU_V_BOOL;
        v.b = json_object_get_boolean(j) ? 1 : 0;
        break;
    case json_type_int:
    case json_type_double:
        v.kind = ACU_V_NUM;
        v.u.n = json_object_get_double(j);
        break;
    case json_type_string:
        v.kind = ACU_V_STR;
        v.u.s = json_object_get_string(j);
        v.len = (uint32_t)json_object_get_string_len(j);
        break;
    case json_type_object:
    case json_type_array:
        v.kind = ACU_V_JSON;
        break;
    }
    return v;
}

int acu_map_v_truthy(const acu_val *v)
{
    switch (v->kind) {
    case ACU_V_BOOL: return v->b;
    case ACU_V_NUM: return v->u.n != 0 && !isnan(v->u.n);
    case ACU_V_STR: return v->len > 0;
    case ACU_V_JSON:
        if (json_object_is_type(v->j, json_type_array))
            return json_object_array_length(v->j) > 0;
        return json_object_object_length(v->j) > 0;
    default: return 0;
    }
}

int acu_map_v_is_empty(const acu_val *v)
{
    switch (v->kind) {
    case ACU_V_NULL: return 1;
    case ACU_V_STR: return v->len == 0;
    case ACU_V_JSON:
        if (json_object_is_type(v->j, json_type_array))
            return json_object_array_length(v->j) == 0;
        return json_object_object_length(v->j) == 0;
    default: return 0;
    }
}

int acu_map_format_number(double n, char *buf, size_t cap)
{
    if (isnan(n) || isinf(n))
        return snprintf(buf, cap, "%s", isnan(n) ? "NaN" : (n > 0 ? "Infinity" : "-Infinity"));
    if (n == 0)
        return snprintf(buf, cap, "0");
    if (n == floor(n) && fabs(n) < 1e15)
        return snprintf(buf, cap, "%.0f", n);
    for (int prec = 15; prec <= 17; prec++) {
        int len = snprintf(buf, cap, "%.*g", prec, n);
        if (strtod(buf, NULL) == n)
            return len;
    }
    return snprintf(buf, cap, "%.17g", n);
}

int acu_map_v_to_text(acu_run *run, const acu_val *v, const char **s, size_t *len)
{
    char num[64];
    int n;
    char *d;

    switch (v->kind) {
    case ACU_V_NULL:
        *s = "";
        *len = 0;
        return 0;
    case ACU_V_BOOL:
        *s = v->b ? "true" : "false";
        *len = v->b ? 4 : 5;
        return 0;
    case ACU_V_STR:
        *s = v->u.s;
        *len = v->len;
        return 0;
    case ACU_V_NUM:
        n = acu_map_format_number(v->u.n, num, sizeof(num));
        if (n < 0 || (size_t)n >= sizeof(num))
            return -1;
        d = acu_map_pool_strndup(&run->pool, num, (size_t)n);
        if (d == NULL) {
            run->oom = 1;
            return -1;
        }
        *s = d;
        *len = (size_t)n;
        return 0;
    default:
        return -1;
    }
}

int acu_map_text_to_number(const char *s, size_t len, double *out)
{
    char buf[128];
    char *end;
    size_t a = 0, b = len;

    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    if (a == b || b - a >= sizeof(buf))
        return -1;
    memcpy(buf, s + a, b - a);
    buf[b - a] = '\0';
    /* Only plain decimal notation: no hex, inf or nan from strtod. */
    for (size_t i = 0; buf[i]; i++) {
        char c = buf[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
              c == 'e' || c == 'E'))
            return -1;
    }
    *out = strtod(buf, &end);
    if (*end != '\0' || end == buf || !isfinite(*out))
        return -1;
    return 0;
}

json_object *acu_map_json_number(double n)
{
    char text[64];
    int len;

    if (!isfinite(n))
        return NULL;
    if (n == floor(n) && fabs(n) < 9007199254740992.0)
        return json_object_new_int64((int64_t)n);
    len = acu_map_format_number(n, text, sizeof(text));
    if (len < 0 || (size_t)len >= sizeof(text))
        return NULL;
    /* The object keeps its own text; json-c's process-wide double format
     * is never touched (the plugin shares the process with the host). */
    return json_object_new_double_s(n, text);
}

json_object *acu_map_v_to_json(const acu_val *v)
{
    json_object *copy = NULL;

    switch (v->kind) {
    case ACU_V_NULL:
    case ACU_V_ERR:
        return NULL;
    case ACU_V_BOOL:
        if (v->j != NULL)
            return json_object_get(v->j);
        return json_object_new_boolean(v->b);
    case ACU_V_NUM:
        if (v->j != NULL)
            return json_object_get(v->j);
        return acu_map_json_number(v->u.n);
    case ACU_V_STR:
        if (v->j != NULL)
            return json_object_get(v->j);
        return json_object_new_string_len(v->u.s, (int)v->len);
    case ACU_V_JSON:
        if (json_object_deep_copy(v->j, &copy, NULL) != 0)
            return NULL;
        return copy;
    }
    return NULL;
}

const char *acu_map_v_kind_name(const acu_val *v)
{
    switch (v->kind) {
    case ACU_V_NULL: return "null";
    case ACU_V_BOOL: return "a boolean";
    case ACU_V_NUM: return "a number";
    case ACU_V_STR: return "a string";
    case ACU_V_JSON:
        return json_object_is_type(v->j, json_type_array) ? "a list" : "an object";
    case ACU_V_ERR: return "an error";
    }
    return "a value";
}
