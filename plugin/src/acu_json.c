/* acu_json.c - parsing untrusted JSON text with json-c, with positions. */
#include "acu_json.h"

#include <ctype.h>

#include "acu_error.h"

void acu_json_position(const char *text, size_t offset, int *line, int *column)
{
    int l = 1, c = 1;

    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}

conn_status acu_json_parse(const char *text, size_t len, const char *what,
                           json_object **out, conn_error *err)
{
    json_tokener *tok = NULL;
    json_object *obj = NULL;
    enum json_tokener_error jerr;
    conn_status st = CONN_OK;
    size_t end;
    int line, column;

    *out = NULL;
    if (text == NULL || len == 0)
        return acu_err_set(err, CONN_INVALID, "%s: the document is empty", what);
    if (len > ACU_JSON_MAX_BYTES || len > (size_t)INT32_MAX)
        return acu_err_set(err, CONN_INVALID,
                           "%s: the document is %zu bytes; the limit is %u",
                           what, len, ACU_JSON_MAX_BYTES);
    tok = json_tokener_new();
    if (tok == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", what);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && obj == NULL) {
        /* A bare literal or number at the very end ("null", "42") waits for
         * a delimiter: a space ends it if the document is complete. */
        obj = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    if (jerr == json_tokener_continue) {
        acu_json_position(text, len, &line, &column);
        st = acu_err_set(err, CONN_INVALID,
                         "%s: the document ends too early at line %d, column %d",
                         what, line, column);
        goto out;
    }
    if (jerr != json_tokener_success) {
        /* parse_end points at the offending byte. */
        acu_json_position(text, end, &line, &column);
        st = acu_err_set(err, CONN_INVALID, "%s: %s at line %d, column %d",
                         what, json_tokener_error_desc(jerr), line, column);
        goto out;
    }
    while (end < len && isspace((unsigned char)text[end]))
        end++;
    if (end < len) {
        acu_json_position(text, end, &line, &column);
        st = acu_err_set(err, CONN_INVALID,
                         "%s: unexpected text after the JSON value at line %d, column %d",
                         what, line, column);
        goto out;
    }
    *out = obj;
    obj = NULL;
out:
    json_object_put(obj);
    json_tokener_free(tok);
    return st;
}

static size_t skip_space(const char *text, size_t len, size_t i)
{
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    return i;
}

static conn_status syntax(const char *text, size_t at, const char *what,
                          const char *why, conn_error *err)
{
    int line, column;

    acu_json_position(text, at, &line, &column);
    return acu_err_set(err, CONN_INVALID, "%s: %s at line %d, column %d", what,
                       why, line, column);
}

conn_status acu_json_array_each(const char *text, size_t len, const char *what,
                                conn_status (*fn)(void *user, json_object *elem,
                                                  size_t index),
                                void *user, size_t *count, conn_error *err)
{
    json_tokener *tok = NULL;
    conn_status st = CONN_OK;
    size_t i, n = 0;

    if (count != NULL)
        *count = 0;
    if (text == NULL || len == 0)
        return acu_err_set(err, CONN_INVALID, "%s: the document is empty", what);
    if (len > ACU_JSON_MAX_BYTES || len > (size_t)INT32_MAX)
        return acu_err_set(err, CONN_INVALID,
                           "%s: the document is %zu bytes; the limit is %u",
                           what, len, ACU_JSON_MAX_BYTES);
    i = skip_space(text, len, 0);
    if (i >= len || text[i] != '[')
        return syntax(text, i, what, "expected a list", err);
    i = skip_space(text, len, i + 1);
    if (i < len && text[i] == ']')
        goto end;
    tok = json_tokener_new();
    if (tok == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", what);
    /* Strict, but an element is followed by ',' or ']'. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                    JSON_TOKENER_ALLOW_TRAILING_CHARS);
    for (;;) {
        json_object *elem;
        enum json_tokener_error jerr;

        json_tokener_reset(tok);
        /* The tokener stops at the end of the element: a comma or ']'
         * always follows it, so even a bare number or literal ends. */
        elem = json_tokener_parse_ex(tok, text + i, (int)(len - i));
        jerr = json_tokener_get_error(tok);
        if (jerr != json_tokener_success) {
            json_object_put(elem);
            st = syntax(text, i + json_tokener_get_parse_end(tok), what,
                        jerr == json_tokener_continue
                            ? "the document ends too early"
                            : json_tokener_error_desc(jerr), err);
            goto out;
        }
        i += json_tokener_get_parse_end(tok);
        st = fn(user, elem, n++);
        json_object_put(elem);
        if (st != CONN_OK)
            goto out;
        i = skip_space(text, len, i);
        if (i < len && text[i] == ',') {
            i = skip_space(text, len, i + 1);
            continue;
        }
        if (i < len && text[i] == ']')
            break;
        st = syntax(text, i, what, "expected ',' or ']' in the list", err);
        goto out;
    }
end:
    i = skip_space(text, len, i + 1);
    if (i < len)
        st = syntax(text, i, what, "unexpected text after the list", err);
out:
    if (tok != NULL) /* json-c 0.16 does not accept NULL here */
        json_tokener_free(tok);
    if (count != NULL)
        *count = n;
    return st;
}
