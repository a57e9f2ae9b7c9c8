/* acu_apierr.c - reading Acumatica's error answers. */
#include "acu_apierr.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acu_buf.h"
#include "acu_error.h"

#define MAX_DEPTH 12     /* nesting walked in entity bodies */
#define PATH_MAX_LEN 256 /* longest field path kept */

/* Bytes of a UTF-8 sequence starting with c (1 for a stray byte). */
static size_t utf8_len(unsigned char c)
{
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    if (c >= 0xE0)
        return c < 0xF0 ? 3 : 1;
    if (c >= 0xC0)
        return 2;
    return 1;
}

char *acu_text_clean(const char *s, size_t len, size_t max, int strip_tags)
{
    char *out = malloc(max + 1);
    size_t o = 0;
    int in_tag = 0, space = 1;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len && o < max;) {
        unsigned char c = (unsigned char)s[i];
        size_t n;

        if (strip_tags && c == '<') {
            in_tag = 1;
            i++;
            continue;
        }
        if (in_tag) {
            if (c == '>') {
                in_tag = 0;
                if (!space && o < max) {
                    out[o++] = ' ';
                    space = 1;
                }
            }
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7F || c == ' ') {
            if (!space) {
                out[o++] = ' ';
                space = 1;
            }
            i++;
            continue;
        }
        n = utf8_len(c);
        if (n > len - i || o + n > max)
            break;
        /* Keep a multi-byte sequence only when its continuation bytes are
         * real continuation bytes. */
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                n = 0;
        if (n == 0 || (n == 1 && c >= 0x80)) {
            out[o++] = '?';
            i++;
            space = 0;
            continue;
        }
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
        space = 0;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

static char *clean_json_string(json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return NULL;
    return acu_text_clean(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                          ACU_APIERR_TEXT_MAX, 0);
}

/* The string member `key` of obj, or NULL. */
static json_object *member_str(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return v;
}

/* Add a field error; `value` (may be NULL) is the refused value echoed
 * beside it. */
static int add_field(acu_apierr *e, const char *path, json_object *msg,
                     json_object *value)
{
    acu_field_error *f;

    if (e->nfields >= ACU_APIERR_FIELDS_MAX) {
        e->nfields_dropped++;
        return 0;
    }
    if (e->fields == NULL) {
        e->fields = calloc(ACU_APIERR_FIELDS_MAX, sizeof(*e->fields));
        if (e->fields == NULL)
            return -1;
    }
    f = &e->fields[e->nfields];
    f->path = strdup(path);
    f->message = clean_json_string(msg);
    f->value = NULL;
    if (value != NULL && !json_object_is_type(value, json_type_null) &&
        !json_object_is_type(value, json_type_object) &&
        !json_object_is_type(value, json_type_array)) {
        const char *v = json_object_get_string(value);
        f->value = acu_text_clean(v, strlen(v), ACU_APIERR_TEXT_MAX, 0);
    }
    if (f->path == NULL || f->message == NULL) {
        free(f->path);
        free(f->message);
        free(f->value);
        f->path = f->message = f->value = NULL;
        return -1;
    }
    e->nfields++;
    return 0;
}

/* Walk an echoed entity: an "error" string at path P is an error of P. */
static int walk_entity(acu_apierr *e, json_object *obj, char *path, size_t plen,
                       int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    json_object_object_foreach(obj, key, val) {
        size_t klen = strlen(key), n;

        if (strcmp(key, "_links") == 0)
            continue;
        if (strcmp(key, "error") == 0 && json_object_is_type(val, json_type_string)) {
            if (plen == 0) {
                if (e->message == NULL) {
                    e->message = clean_json_string(val);
                    if (e->message == NULL)
                        return -1;
                }
            } else if (add_field(e, path, val,
                                 json_object_object_get(obj, "value")) != 0) {
                return -1;
            }
            continue;
        }
        if (plen + klen + 2 >= PATH_MAX_LEN)
            continue;
        n = plen;
        if (n > 0)
            path[n++] = '.';
        memcpy(path + n, key, klen);
        n += klen;
        path[n] = '\0';
        if (json_object_is_type(val, json_type_object)) {
            if (walk_entity(e, val, path, n, depth + 1) != 0)
                return -1;
        } else if (json_object_is_type(val, json_type_array)) {
            size_t count = json_object_array_length(val);

            for (size_t i = 0; i < count; i++) {
                json_object *item = json_object_array_get_idx(val, i);
                int w;

                if (!json_object_is_type(item, json_type_object))
                    continue;
                w = snprintf(path + n, PATH_MAX_LEN - n, "[%zu]", i);
                if (w < 0 || (size_t)w >= PATH_MAX_LEN - n)
                    break;
                if (walk_entity(e, item, path, n + (size_t)w, depth + 1) != 0)
                    return -1;
            }
        }
        path[plen] = '\0';
    }
    return 0;
}

/* modelState: {"field": ["text", ...], "": ["text"]} */
static int read_model_state(acu_apierr *e, json_object *ms)
{
    json_object_object_foreach(ms, key, val) {
        size_t n;

        if (!json_object_is_type(val, json_type_array))
            continue;
        n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            json_object *msg = json_object_array_get_idx(val, i);

            if (!json_object_is_type(msg, json_type_string))
                continue;
            if (key[0] == '\0' && e->detail == NULL) {
                e->detail = clean_json_string(msg);
                if (e->detail == NULL)
                    return -1;
            } else if (add_field(e, strlen(key) < PATH_MAX_LEN ? key : "", msg,
                                 NULL) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int is_oauth_code(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

/* HttpError (and nested innerException). */
static int read_http_error(acu_apierr *e, json_object *obj)
{
    json_object *msg = member_str(obj, "message");
    json_object *exmsg = member_str(obj, "exceptionMessage");
    json_object *extype = member_str(obj, "exceptionType");
    json_object *detail = member_str(obj, "messageDetail");
    json_object *ms = NULL, *inner = NULL;
    int depth = 0;

    if (exmsg != NULL)
        e->message = clean_json_string(exmsg);
    else if (msg != NULL)
        e->message = clean_json_string(msg);
    if ((exmsg != NULL || msg != NULL) && e->message == NULL)
        return -1;
    if (extype != NULL && (e->type = clean_json_string(extype)) == NULL)
        return -1;
    if (detail != NULL && (e->detail = clean_json_string(detail)) == NULL)
        return -1;
    if (json_object_object_get_ex(obj, "modelState", &ms) &&
        json_object_is_type(ms, json_type_object) && read_model_state(e, ms) != 0)
        return -1;
    /* The innermost exception usually says what really went wrong. */
    while (json_object_object_get_ex(obj, "innerException", &inner) &&
           json_object_is_type(inner, json_type_object) && depth++ < MAX_DEPTH)
        obj = inner;
    if (obj != NULL && depth > 0 && e->detail == NULL) {
        json_object *im = member_str(obj, "exceptionMessage");

        if (im == NULL)
            im = member_str(obj, "message");
        if (im != NULL && (e->detail = clean_json_string(im)) == NULL)
            return -1;
    }
    return 0;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    if (hay == NULL)
        return 0;
    for (; *hay != '\0'; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* Does the answer say the endpoint version is unknown ("The endpoint
 * Default with the version 21.200.001 is not found in the system.")? An
 * unknown entity also names the version, but as "the entity X is not found
 * in the endpoint Default/<v>", so "entity" rules it out. */
static int names_unknown_version(const acu_apierr *e, const char *v)
{
    const char *texts[2] = {e->message, e->detail};

    if (v == NULL)
        return 0;
    for (int i = 0; i < 2; i++)
        if (texts[i] != NULL && strstr(texts[i], v) != NULL && contains_ci(texts[i], "version") &&
            !contains_ci(texts[i], "entity"))
            return 1;
    return 0;
}

static void classify(acu_apierr *e, int oauth, const char *endpoint_version)
{
    int s = e->http_status;
    const char *t = e->type != NULL ? e->type : "";

    if (contains_ci(e->message, "API Login Limit") || contains_ci(e->detail, "API Login Limit")) {
        e->login_limit = 1;
        e->status = CONN_RETRY;
        e->not_processed = 1;
        return;
    }
    if (oauth) {
        if (strcmp(t, "invalid_grant") == 0 || strcmp(t, "invalid_client") == 0 ||
            strcmp(t, "unauthorized_client") == 0 || strcmp(t, "access_denied") == 0 ||
            strcmp(t, "invalid_token") == 0) {
            e->status = CONN_AUTH;
            e->not_processed = 1;
            return;
        }
        if (strcmp(t, "temporarily_unavailable") == 0 || strcmp(t, "server_error") == 0) {
            e->status = CONN_RETRY;
            e->transient = 1;
            return;
        }
        if (strcmp(t, "invalid_scope") == 0 || strcmp(t, "unsupported_grant_type") == 0 ||
            strcmp(t, "invalid_request") == 0 || strcmp(t, "unsupported_response_type") == 0) {
            e->status = CONN_INVALID;
            e->not_processed = 1;
            return;
        }
    }
    if (s >= 200 && s < 300) {
        e->status = CONN_OK;
    } else if (s == 401) {
        e->status = CONN_AUTH;
        e->not_processed = 1;
    } else if (s == 403) {
        e->status = CONN_AUTH;
    } else if (s == 404) {
        if (names_unknown_version(e, endpoint_version)) {
            e->status = CONN_INVALID;
            e->version = strdup(endpoint_version);
        } else {
            e->status = CONN_NOT_FOUND;
        }
    } else if (s == 408) {
        e->status = CONN_RETRY;
        e->transient = 1;
    } else if (s == 400 || s == 412 || s == 422 || s == 409) {
        e->status = CONN_REJECTED;
    } else if (s == 429) {
        e->status = CONN_RETRY;
        e->transient = 1;
        e->not_processed = 1;
    } else if (s >= 500 && s < 600) {
        if (strstr(t, "NoEntitySatisfiesTheConditionException") != NULL) {
            e->status = CONN_NOT_FOUND;
        } else if (strstr(t, "PXUndefinedCompanyException") != NULL) {
            e->status = CONN_INVALID;
        } else if (contains_ci(e->message, "Invalid credentials") ||
                   contains_ci(e->message, "You are not logged in")) {
            e->status = CONN_AUTH;
            e->not_processed = 1;
        } else if (strstr(t, "PXSetupNotEnteredException") != NULL) {
            e->status = CONN_INVALID;
        } else if (contains_ci(e->message, "Optimization cannot be performed")) {
            e->status = CONN_INTERNAL;
        } else if (names_unknown_version(e, endpoint_version)) {
            e->status = CONN_INVALID;
            e->version = strdup(endpoint_version);
        } else {
            e->status = CONN_RETRY;
            e->transient = 1;
        }
    } else {
        e->status = CONN_INTERNAL;
    }
}

conn_status acu_apierr_parse(int http_status, const char *content_type,
                             const char *body, size_t len,
                             const char *endpoint_version, acu_apierr *out)
{
    json_tokener *tok = NULL;
    json_object *doc = NULL;
    size_t i = 0;
    int oauth = 0;
    conn_status st = CONN_OK;

    memset(out, 0, sizeof(*out));
    out->http_status = http_status;
    if (body == NULL)
        len = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i < len && (body[i] == '{' || body[i] == '[') && len <= (size_t)INT32_MAX) {
        tok = json_tokener_new_ex(MAX_DEPTH * 2 + 8);
        if (tok == NULL)
            goto nomem;
        doc = json_tokener_parse_ex(tok, body, (int)len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(doc);
            doc = NULL;
        }
    }
    if (json_object_is_type(doc, json_type_object)) {
        json_object *err = member_str(doc, "error");
        json_object *desc = member_str(doc, "error_description");

        if (err != NULL && http_status != 422 && is_oauth_code(json_object_get_string(err)) &&
            !json_object_object_get_ex(doc, "id", NULL)) {
            oauth = 1;
            if ((out->type = clean_json_string(err)) == NULL)
                goto nomem;
            if (desc != NULL && (out->message = clean_json_string(desc)) == NULL)
                goto nomem;
        } else if (member_str(doc, "message") != NULL ||
                   member_str(doc, "exceptionMessage") != NULL ||
                   member_str(doc, "exceptionType") != NULL ||
                   json_object_object_get_ex(doc, "modelState", NULL)) {
            if (read_http_error(out, doc) != 0)
                goto nomem;
        } else {
            char path[PATH_MAX_LEN] = "";

            if (walk_entity(out, doc, path, 0, 0) != 0)
                goto nomem;
        }
    } else if (len > 0) {
        int html = (content_type != NULL && contains_ci(content_type, "html")) ||
                   (i < len && body[i] == '<');

        out->html = html;
        if ((out->message = acu_text_clean(body + i, len - i, 200, html)) == NULL)
            goto nomem;
        if (out->message[0] == '\0') {
            free(out->message);
            out->message = NULL;
        }
    }
    classify(out, oauth, endpoint_version);
    goto done;
nomem:
    acu_apierr_free(out);
    memset(out, 0, sizeof(*out));
    out->http_status = http_status;
    out->status = CONN_NOMEM;
    st = CONN_NOMEM;
done:
    json_object_put(doc);
    if (tok != NULL) /* json-c 0.16 does not accept NULL */
        json_tokener_free(tok);
    return st;
}

/* The sentence for a class, when Acumatica's own text needs one. */
static const char *class_hint(const acu_apierr *e)
{
    const char *t = e->type != NULL ? e->type : "";

    if (e->status == CONN_INVALID && strstr(t, "PXUndefinedCompanyException") != NULL)
        return "the tenant is not known on this site - check the tenant setting (Tenant)";
    if (e->status == CONN_INVALID && strstr(t, "PXSetupNotEnteredException") != NULL)
        return "a form in Acumatica has not been set up yet";
    if (e->status == CONN_AUTH && e->http_status == 403)
        return "the Acumatica user has no access rights to this form or entity";
    if (e->html)
        return "the answer was an HTML page, not Acumatica's API - check the API URL";
    return NULL;
}

void acu_apierr_to_conn(const acu_apierr *e, const char *what,
                        int64_t retry_after_ms, conn_error *err)
{
    const char *hint = class_hint(e);
    char head[64];

    if (err == NULL)
        return;
    if (e->http_status > 0)
        snprintf(head, sizeof(head), "Acumatica answered %d", e->http_status);
    else
        snprintf(head, sizeof(head), "no answer from Acumatica");
    if (e->login_limit) {
        acu_err_set(err, e->status, "%s: %s", what, ACU_LOGIN_LIMIT_TEXT);
    } else if (e->version != NULL) {
        acu_err_set(err, e->status,
                    "%s: %s: the site does not serve this endpoint version, Default/%s - "
                    "choose another Acumatica Version (endpoint_version)%s%s",
                    what, head, e->version, e->message != NULL ? ": " : "",
                    e->message != NULL ? e->message : "");
    } else {
        acu_err_set(err, e->status, "%s: %s%s%s%s%s", what, head,
                    e->message != NULL ? ": " : "", e->message != NULL ? e->message : "",
                    hint != NULL ? " - " : "", hint != NULL ? hint : "");
    }
    if (e->detail != NULL)
        acu_err_append(err, "%s", e->detail);
    for (size_t i = 0; i < e->nfields; i++) {
        const acu_field_error *f = &e->fields[i];
        if (f->value != NULL)
            acu_err_append(err, "%s ('%s'): %s", f->path[0] ? f->path : "(record)",
                           f->value, f->message);
        else
            acu_err_append(err, "%s: %s", f->path[0] ? f->path : "(record)",
                           f->message);
    }
    if (e->nfields_dropped > 0)
        acu_err_append(err, "(%zu more field errors)", e->nfields_dropped);
    err->http_status = e->http_status;
    err->retry_after_ms = retry_after_ms;
    err->detail_type[0] = '\0';
    if (e->login_limit)
        snprintf(err->detail_type, sizeof(err->detail_type), "API Login Limit");
    else if (e->type != NULL)
        snprintf(err->detail_type, sizeof(err->detail_type), "%s", e->type);
}

void acu_apierr_free(acu_apierr *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->nfields; i++) {
        free(e->fields[i].path);
        free(e->fields[i].message);
        free(e->fields[i].value);
    }
    free(e->fields);
    free(e->message);
    free(e->detail);
    free(e->type);
    free(e->version);
    e->version = NULL;
    e->fields = NULL;
    e->nfields = 0;
    e->message = e->detail = e->type = NULL;
}
