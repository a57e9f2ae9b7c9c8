/* host_jsonl.c - reading JSON lines with a bounded line length. */
#include "host_jsonl.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_error.h"

struct host_jsonl {
    FILE *f;
    int own;     /* fclose when done (not stdin) */
    char *name;  /* for messages */
    char *buf;
    size_t cap;  /* max_line + 1 */
    size_t lineno;
};

conn_status host_jsonl_open(const char *path, size_t max_line, host_jsonl **out,
                            conn_error *err)
{
    host_jsonl *r;

    *out = NULL;
    if (max_line == 0 || max_line > INT_MAX - 1)
        return host_err_set(err, CONN_INVALID, "the line length limit is out of range");
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    r->cap = max_line + 1;
    r->buf = malloc(r->cap + 1);
    r->name = strdup(strcmp(path, "-") == 0 ? "(standard input)" : path);
    if (r->buf == NULL || r->name == NULL) {
        host_jsonl_close(r);
        return host_err_set(err, CONN_NOMEM, "out of memory");
    }
    if (strcmp(path, "-") == 0) {
        /* Standard input is spooled to a temporary file, so the records can
         * be checked in full before any is sent and then read again. */
        int c;

        r->f = tmpfile();
        r->own = 1;
        if (r->f == NULL) {
            host_jsonl_close(r);
            return host_err_set(err, CONN_INTERNAL, "a temporary file cannot be made: %s",
                                strerror(errno));
        }
        while ((c = getc_unlocked(stdin)) != EOF)
            if (putc_unlocked(c, r->f) == EOF)
                break;
        if (ferror(stdin) || ferror(r->f) || fflush(r->f) != 0 ||
            fseek(r->f, 0, SEEK_SET) != 0) {
            host_jsonl_close(r);
            return host_err_set(err, CONN_INTERNAL, "standard input cannot be read: %s",
                                strerror(errno));
        }
    } else {
        r->f = fopen(path, "rb");
        r->own = 1;
        if (r->f == NULL) {
            conn_status st = errno == ENOENT ? CONN_NOT_FOUND : CONN_INTERNAL;

            host_err_set(err, st, "%s cannot be opened: %s", path, strerror(errno));
            host_jsonl_close(r);
            return st;
        }
    }
    *out = r;
    return CONN_OK;
}

conn_status host_jsonl_rewind(host_jsonl *r, conn_error *err)
{
    if (fseek(r->f, 0, SEEK_SET) != 0)
        return host_err_set(err, CONN_INTERNAL, "%s cannot be read twice: %s", r->name,
                            strerror(errno));
    clearerr(r->f);
    r->lineno = 0;
    return CONN_OK;
}

void host_jsonl_close(host_jsonl *r)
{
    if (r == NULL)
        return;
    if (r->own && r->f != NULL)
        fclose(r->f);
    free(r->buf);
    free(r->name);
    free(r);
}

int host_json_check_object(const char *text, size_t len, char *why, size_t cap)
{
    json_tokener *tok;
    json_object *doc;
    enum json_tokener_error jerr;
    size_t end;
    int rc = -1;

    if (len > INT_MAX) {
        snprintf(why, cap, "the record is too large");
        return -1;
    }
    tok = json_tokener_new();
    if (tok == NULL) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    doc = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (doc == NULL) {
        if (jerr == json_tokener_continue)
            snprintf(why, cap, "not valid JSON: the record ends early");
        else
            snprintf(why, cap, "not valid JSON at column %zu: %s", end + 1,
                     json_tokener_error_desc(jerr));
        goto out;
    }
    for (size_t i = end; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') {
            snprintf(why, cap, "not valid JSON at column %zu: more text after the object",
                     i + 1);
            goto out;
        }
    }
    if (!json_object_is_type(doc, json_type_object)) {
        snprintf(why, cap, "a record must be a JSON object");
        goto out;
    }
    rc = 0;
out:
    json_object_put(doc);
    json_tokener_free(tok);
    return rc;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

conn_status host_jsonl_next(host_jsonl *r, const char **line, size_t *len, size_t *lineno,
                            conn_error *err)
{
    char why[256];

    for (;;) {
        size_t n = 0;
        int c = EOF, too_long = 0;

        while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
            if (n < r->cap)
                r->buf[n++] = (char)c;
            else
                too_long = 1;
        }
        if (c == EOF && ferror(r->f))
            return host_err_set(err, CONN_INTERNAL, "%s cannot be read: %s", r->name,
                                strerror(errno));
        if (c == EOF && n == 0 && !too_long)
            return CONN_NOT_FOUND;
        r->lineno++;
        if (too_long || n >= r->cap)
            return host_err_set(err, CONN_INVALID,
                                "%s:%zu: the line is longer than %zu bytes (the limit)",
                                r->name, r->lineno, r->cap - 1);
        if (n > 0 && r->buf[n - 1] == '\r')
            n--;
        r->buf[n] = '\0';
        if (blank(r->buf, n))
            continue;
        if (memchr(r->buf, '\0', n) != NULL)
            return host_err_set(err, CONN_INVALID, "%s:%zu: the line holds a NUL byte",
                                r->name, r->lineno);
        if (host_json_check_object(r->buf, n, why, sizeof(why)) != 0)
            return host_err_set(err, CONN_INVALID, "%s:%zu: %s", r->name, r->lineno, why);
        *line = r->buf;
        *len = n;
        *lineno = r->lineno;
        return CONN_OK;
    }
}
