/* acu_token.c - reading a successful OAuth token-endpoint answer. */
#include "acu_token.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acu_error.h"

/* A token value: 1..ACU_TOKEN_MAX visible ASCII characters. */
static int token_ok(const char *s, size_t n)
{
    if (n == 0 || n > ACU_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
            return 0;
    return 1;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

conn_status acu_token_parse(const char *body, size_t len, acu_token *out,
                            conn_error *err)
{
    json_tokener *tok = NULL;
    json_object *doc = NULL, *v = NULL;
    conn_status st = CONN_OK;

    memset(out, 0, sizeof(*out));
    out->expires_in = 3600;
    if (body == NULL || len == 0 || len > 256 * 1024) {
        st = acu_err_set(err, CONN_INTERNAL,
                         "the token answer from Acumatica is empty or too large");
        goto out;
    }
    tok = json_tokener_new_ex(16);
    if (tok == NULL)
        goto nomem;
    doc = json_tokener_parse_ex(tok, body, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        !json_object_is_type(doc, json_type_object)) {
        st = acu_err_set(err, CONN_INTERNAL,
                         "the token answer from Acumatica is not a JSON object");
        goto out;
    }
    if (json_object_object_get_ex(doc, "error", NULL)) {
        st = acu_err_set(err, CONN_AUTH, "the token answer from Acumatica is an error");
        goto out;
    }
    if (!json_object_object_get_ex(doc, "access_token", &v) ||
        !json_object_is_type(v, json_type_string) ||
        !token_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
        /* Acumatica leaves access_token out when the api scope was not
         * granted (API-NOTES 1.4). */
        st = acu_err_set(err, CONN_AUTH,
                         "the token answer from Acumatica has no usable access_token (was "
                         "the api scope granted to the connected application?)");
        goto out;
    }
    out->access_token = dup_n(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    if (out->access_token == NULL)
        goto nomem;
    if (json_object_object_get_ex(doc, "token_type", &v)) {
        if (!json_object_is_type(v, json_type_string) ||
            strcasecmp(json_object_get_string(v), "Bearer") != 0) {
            st = acu_err_set(err, CONN_INTERNAL,
                             "the token answer from Acumatica has a token_type other than "
                             "Bearer");
            goto out;
        }
    }
    if (json_object_object_get_ex(doc, "expires_in", &v) &&
        !json_object_is_type(v, json_type_null)) {
        int64_t n;

        if (json_object_is_type(v, json_type_int)) {
            n = json_object_get_int64(v);
        } else if (json_object_is_type(v, json_type_string)) {
            const char *s = json_object_get_string(v);
            char *end = NULL;

            n = strtoll(s, &end, 10);
            if (end == s || *end != '\0')
                n = -1;
        } else {
            n = -1;
        }
        if (n <= 0 || n > 10LL * 365 * 86400) {
            st = acu_err_set(err, CONN_INTERNAL,
                             "the token answer from Acumatica has an invalid expires_in");
            goto out;
        }
        out->expires_in = n;
    }
    if (json_object_object_get_ex(doc, "refresh_token", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_string) ||
            !token_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
            st = acu_err_set(err, CONN_INTERNAL,
                             "the token answer from Acumatica has an invalid refresh_token");
            goto out;
        }
        out->refresh_token = dup_n(json_object_get_string(v),
                                   (size_t)json_object_get_string_len(v));
        if (out->refresh_token == NULL)
            goto nomem;
    }
    if (json_object_object_get_ex(doc, "scope", &v) &&
        json_object_is_type(v, json_type_string) && json_object_get_string_len(v) <= 1024) {
        out->scope = dup_n(json_object_get_string(v), (size_t)json_object_get_string_len(v));
        if (out->scope == NULL)
            goto nomem;
    }
    goto out;
nomem:
    st = acu_err_set(err, CONN_NOMEM, "out of memory reading the token answer");
out:
    if (st != CONN_OK)
        acu_token_free(out);
    json_object_put(doc);
    if (tok != NULL) /* json-c 0.16 does not accept NULL */
        json_tokener_free(tok);
    return st;
}

static void wipe(char **p)
{
    if (*p != NULL) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void acu_token_free(acu_token *t)
{
    if (t == NULL)
        return;
    wipe(&t->access_token);
    wipe(&t->refresh_token);
    free(t->scope);
    t->scope = NULL;
}
