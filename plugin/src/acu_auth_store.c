/* acu_auth_store.c - sign-in data in host state. */
#include "acu_auth_store.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"

#define STATE_MAX (256u * 1024u) /* no sign-in value is larger */

void acu_secret_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

conn_status acu_store_get(conn_instance *inst, const char *key, char **val,
                          size_t *len, conn_error *err)
{
    size_t cap = 4096, got = 0;
    char *buf = NULL;
    conn_status st;

    *val = NULL;
    *len = 0;
    for (int round = 0; round < 3; round++) {
        char *nb;

        if (buf != NULL)
            OPENSSL_cleanse(buf, cap);
        free(buf);
        buf = NULL;
        nb = malloc(cap + 1);
        if (nb == NULL)
            return acu_err_set(err, CONN_NOMEM, "state: out of memory");
        buf = nb;
        st = inst->host->state_get(inst->ctx, key, buf, cap, &got, err);
        if (st != CONN_OK) {
            free(buf);
            return st;
        }
        if (got <= cap) {
            buf[got] = '\0';
            *val = buf;
            *len = got;
            return CONN_OK;
        }
        if (got > STATE_MAX)
            break;
        cap = got;
    }
    free(buf);
    return acu_err_set(err, CONN_INTERNAL, "state: the value of %s is too large", key);
}

conn_status acu_store_put_secret(conn_instance *inst, const char *key,
                                 const char *val, size_t len, conn_error *err)
{
    return inst->host->state_put(inst->ctx, key, val, len, CONN_STATE_SECRET, err);
}

conn_status acu_store_cas_secret(conn_instance *inst, const char *key,
                                 const char *expected, size_t elen,
                                 const char *val, size_t len, int *swapped,
                                 conn_error *err)
{
    *swapped = 0;
    return inst->host->state_cas(inst->ctx, key, expected, elen, val, len, CONN_STATE_SECRET,
                                 swapped, err);
}

conn_status acu_store_cas(conn_instance *inst, const char *key, const char *expected,
                          size_t elen, const char *val, size_t len, int *swapped,
                          conn_error *err)
{
    *swapped = 0;
    return inst->host->state_cas(inst->ctx, key, expected, elen, val, len, 0, swapped, err);
}

static int get_str(json_object *o, const char *k, char **out, int required)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
        return required ? -1 : 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    *out = strdup(json_object_get_string(v));
    return *out == NULL ? -1 : 0;
}

static int64_t get_i64(json_object *o, const char *k)
{
    json_object *v;

    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    return json_object_get_int64(v);
}

conn_status acu_tokens_decode(const char *text, size_t len, acu_tokens *out)
{
    json_tokener *tok = json_tokener_new_ex(8);
    json_object *o = NULL;
    conn_status st = CONN_INVALID;

    memset(out, 0, sizeof(*out));
    if (tok == NULL)
        return CONN_NOMEM;
    if (len < (size_t)INT32_MAX)
        o = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        !json_object_is_type(o, json_type_object))
        goto out;
    if (get_str(o, "grant", &out->grant, 1) != 0 ||
        get_str(o, "client_id", &out->client_id, 0) != 0 ||
        get_str(o, "api_url", &out->api_url, 1) != 0 ||
        get_str(o, "access_token", &out->access_token, 1) != 0 ||
        get_str(o, "refresh_token", &out->refresh_token, 0) != 0 ||
        get_str(o, "scope", &out->scope, 0) != 0)
        goto out;
    out->expires_at = get_i64(o, "expires_at");
    out->lifetime_s = get_i64(o, "lifetime_s");
    out->obtained_at = get_i64(o, "obtained_at");
    st = CONN_OK;
out:
    if (st != CONN_OK)
        acu_tokens_free(out);
    json_object_put(o);
    json_tokener_free(tok);
    return st;
}

static int put_str(json_object *o, const char *k, const char *v)
{
    json_object *s = v != NULL ? json_object_new_string(v) : NULL;

    if (v != NULL && s == NULL)
        return -1;
    if (json_object_object_add(o, k, s) != 0) {
        json_object_put(s);
        return -1;
    }
    return 0;
}

static int put_i64(json_object *o, const char *k, int64_t v)
{
    json_object *n = json_object_new_int64(v);

    if (n == NULL || json_object_object_add(o, k, n) != 0) {
        json_object_put(n);
        return -1;
    }
    return 0;
}

char *acu_tokens_encode(const acu_tokens *t, size_t *len)
{
    json_object *o = json_object_new_object();
    const char *text;
    char *res = NULL;
    size_t n;

    if (o == NULL)
        return NULL;
    if (put_i64(o, "v", 1) != 0 || put_str(o, "grant", t->grant) != 0 ||
        put_str(o, "client_id", t->client_id) != 0 || put_str(o, "api_url", t->api_url) != 0 ||
        put_str(o, "access_token", t->access_token) != 0 ||
        put_i64(o, "expires_at", t->expires_at) != 0 ||
        put_i64(o, "lifetime_s", t->lifetime_s) != 0 ||
        put_str(o, "refresh_token", t->refresh_token) != 0 ||
        put_str(o, "scope", t->scope) != 0 || put_i64(o, "obtained_at", t->obtained_at) != 0)
        goto out;
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text == NULL)
        goto out;
    n = strlen(text);
    res = malloc(n + 1);
    if (res != NULL) {
        memcpy(res, text, n + 1);
        *len = n;
    }
    /* json-c's own copy of the text holds the tokens too. */
    OPENSSL_cleanse((void *)text, n);
out:
    json_object_put(o);
    return res;
}

void acu_tokens_free(acu_tokens *t)
{
    if (t == NULL)
        return;
    free(t->grant);
    free(t->client_id);
    free(t->api_url);
    acu_secret_free(t->access_token);
    acu_secret_free(t->refresh_token);
    free(t->scope);
    memset(t, 0, sizeof(*t));
}
