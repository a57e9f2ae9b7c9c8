/* acu_buf.c - a growable byte buffer with a hard cap. */
#include "acu_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void acu_buf_init(acu_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = 0;
}

/* Make room for `extra` more bytes plus the NUL. */
static acu_buf_rc grow(acu_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    if (extra > b->max - b->len)
        return ACU_BUF_TOO_BIG;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return ACU_BUF_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    p = realloc(b->data, ncap);
    if (p == NULL)
        return ACU_BUF_NOMEM;
    b->data = p;
    b->cap = ncap;
    return ACU_BUF_OK;
}

acu_buf_rc acu_buf_add(acu_buf *b, const void *data, size_t n)
{
    acu_buf_rc rc = grow(b, n);

    if (rc != ACU_BUF_OK) {
        b->failed = 1;
        return rc;
    }
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ACU_BUF_OK;
}

acu_buf_rc acu_buf_adds(acu_buf *b, const char *s)
{
    return acu_buf_add(b, s, strlen(s));
}

acu_buf_rc acu_buf_addf(acu_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    acu_buf_rc rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return ACU_BUF_NOMEM;
    }
    rc = grow(b, (size_t)n);
    if (rc != ACU_BUF_OK) {
        b->failed = 1;
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ACU_BUF_OK;
}

void acu_buf_reset(acu_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

char *acu_buf_take(acu_buf *b, size_t *len)
{
    char *p;

    if (b->failed) {
        acu_buf_free(b);
        b->failed = 0;
        return NULL;
    }
    if (b->data == NULL && grow(b, 0) != ACU_BUF_OK)
        return NULL;
    if (b->data != NULL)
        b->data[b->len] = '\0';
    p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void acu_buf_free(acu_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
