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
    acu_buf b;

    acu_buf_init(&b, 1u << 16);
    acu_buf_adds(&b, base ? base : "");
    acu_buf_add(&b, "/", 1);
    for (const char *p = token; p && *p; p++) {
        if (*p == '~')
            acu_buf_add(&b, "~0", 2);
        else if (*p == '/')
            acu_buf_add(&b, "~1", 2);
        else
            acu_buf_add(&b, p, 1);
    }
    return acu_buf_take(&b, NULL);
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
