/* acu_map_util.c - small helpers of the mapping engine: errors, JSON
 * pointers, edit distance for suggestions, a capped buffer and a pool. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

conn_status acu_map_err(conn_error *err, conn_status st, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return st;
    err->status = st;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return st;
}

char *acu_map_strdupf(const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    char *s;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return NULL;
    }
    s = malloc((size_t)n + 1);
    if (s != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

char *acu_map_pointer_join(const char *base, const char *token)
{
    acu_map_buf b;

    acu_map_buf_init(&b, 1u << 16);
    acu_map_buf_adds(&b, base ? base : "");
    acu_map_buf_add(&b, "/", 1);
    for (const char *p = token; p && *p; p++) {
        if (*p == '~')
            acu_map_buf_add(&b, "~0", 2);
        else if (*p == '/')
            acu_map_buf_add(&b, "~1", 2);
        else
            acu_map_buf_add(&b, p, 1);
    }
    return acu_map_buf_take(&b);
}

char *acu_map_pointer_index(const char *base, size_t index)
{
    return acu_map_strdupf("%s/%zu", base ? base : "", index);
}

/* Optimal string alignment distance, case-insensitive: a swapped pair of
 * letters counts as one edit, which is the commonest typo. */
int acu_map_distance(const char *a, const char *b)
{
    enum { MAXL = 64 };
    int d[MAXL + 1][MAXL + 1];
    size_t la = strlen(a), lb = strlen(b);

    if (la > MAXL || lb > MAXL)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            int cost = ca == cb ? 0 : 1;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 &&
                ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb] > 99 ? 99 : d[la][lb];
}

void acu_map_suggest_init(acu_map_suggest *s, const char *name)
{
    s->name = name;
    s->best = NULL;
    s->best_dist = 99;
}

/* A candidate counts when it is within a third of the name's length (at
 * least 2 edits), or when one name starts with the other (OrderQuantity ->
 * OrderQty shares the start and is what a person meant). */
void acu_map_suggest_add(acu_map_suggest *s, const char *candidate)
{
    size_t ln = strlen(s->name), lc = strlen(candidate);
    int dist = acu_map_distance(s->name, candidate);
    int limit = (int)(ln / 3);
    size_t common = 0;

    if (limit < 2)
        limit = 2;
    while (common < ln && common < lc &&
           tolower((unsigned char)s->name[common]) ==
               tolower((unsigned char)candidate[common]))
        common++;
    if (dist > limit) {
        /* A shared beginning of at least 5 characters that covers all but
         * 2 characters of the shorter name, e.g. OrderQuantity / OrderQty
         * (but not CreditLimit / CreditVerificationRules). */
        size_t shorter = ln < lc ? ln : lc;
        if (common >= 5 && common + 2 >= shorter)
            dist = limit + (int)(ln > lc ? ln - lc : lc - ln) / 4 + 1;
        else
            return;
        if (dist > 20)
            return;
    }
    if (dist < s->best_dist ||
        (dist == s->best_dist && s->best != NULL &&
         strcmp(candidate, s->best) < 0)) {
        s->best = candidate;
        s->best_dist = dist;
    }
}

const char *acu_map_suggest_best(const acu_map_suggest *s)
{
    return s->best;
}

/* ---- buffer ---- */

void acu_map_buf_init(acu_map_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void acu_map_buf_free(acu_map_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    memset(b, 0, sizeof(*b));
}

int acu_map_buf_add(acu_map_buf *b, const char *data, size_t len)
{
    if (b->failed)
        return -1;
    if (len > b->max || b->len + len + 1 > b->max) {
        b->failed = 1;
        return -1;
    }
    if (b->len + len + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        char *n;
        while (ncap < b->len + len + 1)
            ncap *= 2;
        if (ncap > b->max)
            ncap = b->max;
        n = realloc(b->data, ncap);
        if (n == NULL) {
            b->failed = 1;
            return -1;
        }
        b->data = n;
        b->cap = ncap;
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int acu_map_buf_adds(acu_map_buf *b, const char *s)
{
    return acu_map_buf_add(b, s, strlen(s));
}

int acu_map_buf_addf(acu_map_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return acu_map_buf_add(b, small, (size_t)n);
    {
        char *big = malloc((size_t)n + 1);
        int rc;
        if (big == NULL) {
            b->failed = 1;
            return -1;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        rc = acu_map_buf_add(b, big, (size_t)n);
        free(big);
        return rc;
    }
}

char *acu_map_buf_take(acu_map_buf *b)
{
    char *s;

    if (b->failed) {
        acu_map_buf_free(b);
        return NULL;
    }
    if (b->data == NULL && acu_map_buf_add(b, "", 0) != 0)
        return NULL;
    s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

/* ---- pool ---- */

struct acu_map_pool_block {
    acu_map_pool_block *next;
    size_t size;
    /* data follows, 8-aligned by the header size below */
    max_align_t align_[];
};

#define POOL_BLOCK 8192u

void acu_map_pool_init(acu_pool *p, size_t max)
{
    memset(p, 0, sizeof(*p));
    p->max = max;
}

void acu_map_pool_free(acu_pool *p)
{
    acu_map_pool_block *b, *n;

    if (p == NULL)
        return;
    for (b = p->head; b != NULL; b = n) {
        n = b->next;
        free(b);
    }
    p->head = NULL;
    p->used = p->total = 0;
}

void acu_map_pool_reset(acu_pool *p)
{
    acu_map_pool_block *b, *n;

    if (p->head == NULL)
        return;
    /* Keep the oldest block (the last in the list); free the rest. */
    for (b = p->head; b->next != NULL; b = n) {
        n = b->next;
        free(b);
    }
    p->head = b;
    p->used = 0;
    p->total = 0;
}

void *acu_map_pool_alloc(acu_pool *p, size_t size)
{
    acu_map_pool_block *b;
    size_t need = (size + 7u) & ~(size_t)7u;
    char *mem;

    if (size == 0)
        need = 8;
    if (p->max != 0 && p->total + need > p->max)
        return NULL;
    if (p->head == NULL || p->used + need > p->head->size) {
        size_t bsize = need > POOL_BLOCK ? need : POOL_BLOCK;
        b = malloc(sizeof(*b) + bsize);
        if (b == NULL)
            return NULL;
        b->size = bsize;
        b->next = p->head;
        p->head = b;
        p->used = 0;
    }
    mem = (char *)(p->head + 1) + p->used;
    p->used += need;
    p->total += need;
    return mem;
}

char *acu_map_pool_strndup(acu_pool *p, const char *s, size_t len)
{
    char *d = acu_map_pool_alloc(p, len + 1);

    if (d == NULL)
        return NULL;
    if (len > 0)
        memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *acu_map_pool_strdup(acu_pool *p, const char *s)
{
    return acu_map_pool_strndup(p, s, strlen(s));
}
