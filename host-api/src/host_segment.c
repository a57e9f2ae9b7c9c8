/* host_segment.c - the records a pull emitted since its last checkpoint.
 *
 * Each record is stored as four length-prefixed fields (flow, record type,
 * id, JSON), each followed by a NUL so a reader can hand out C strings
 * without copying. */
#include "host_segment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_error.h"

#define SEGMENT_MEM_DEFAULT (8u * 1024u * 1024u)

struct host_segment {
    char *mem;        /* records not spilled */
    size_t mem_len;
    size_t mem_alloc;
    size_t mem_max;
    FILE *spill;      /* records spilled, oldest first; NULL until needed */
    size_t count;
    uint64_t bytes;
};

conn_status host_segment_new(size_t mem_max, host_segment **out, conn_error *err)
{
    host_segment *seg = calloc(1, sizeof(*seg));

    *out = NULL;
    if (seg == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    seg->mem_max = mem_max > 0 ? mem_max : SEGMENT_MEM_DEFAULT;
    *out = seg;
    return CONN_OK;
}

void host_segment_free(host_segment *seg)
{
    if (seg == NULL)
        return;
    if (seg->spill != NULL)
        fclose(seg->spill);
    free(seg->mem);
    free(seg);
}

size_t host_segment_count(const host_segment *seg)
{
    return seg != NULL ? seg->count : 0;
}

uint64_t host_segment_bytes(const host_segment *seg)
{
    return seg != NULL ? seg->bytes : 0;
}

static size_t entry_size(size_t a, size_t b, size_t c, size_t d)
{
    return 4 * sizeof(uint32_t) + a + b + c + d + 4;
}

static char *put_field(char *p, const char *s, size_t n)
{
    uint32_t n32 = (uint32_t)n;

    memcpy(p, &n32, sizeof(n32));
    p += sizeof(n32);
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p + n + 1;
}

/* Move the in-memory records to the spill file. */
static conn_status spill(host_segment *seg, conn_error *err)
{
    if (seg->spill == NULL) {
        seg->spill = tmpfile();
        if (seg->spill == NULL)
            return host_err_set(err, CONN_INTERNAL,
                                "a temporary file for pulled records cannot be made: %s",
                                strerror(errno));
    }
    if (fseek(seg->spill, 0, SEEK_END) != 0 ||
        fwrite(seg->mem, 1, seg->mem_len, seg->spill) != seg->mem_len ||
        fflush(seg->spill) != 0)
        return host_err_set(err, CONN_INTERNAL,
                            "the temporary file for pulled records cannot be written: %s",
                            strerror(errno));
    seg->mem_len = 0;
    return CONN_OK;
}

conn_status host_segment_add(host_segment *seg, const char *flow, const char *record_type,
                             const char *id, const char *json, size_t len, conn_error *err)
{
    size_t lf = strlen(flow), lt = strlen(record_type), li = strlen(id);
    size_t need = entry_size(lf, lt, li, len);
    char *p;
    conn_status st;

    if (len > HOST_RECORD_MAX || lf > UINT32_MAX || lt > UINT32_MAX || li > UINT32_MAX)
        return host_err_set(err, CONN_INVALID, "a record of %zu bytes is larger than %u", len,
                            HOST_RECORD_MAX);
    if (seg->mem_len > 0 && seg->mem_len + need > seg->mem_max) {
        st = spill(seg, err);
        if (st != CONN_OK)
            return st;
    }
    if (seg->mem_len + need > seg->mem_alloc) {
        size_t size = seg->mem_alloc > 0 ? seg->mem_alloc : 64 * 1024;

        while (size < seg->mem_len + need)
            size *= 2;
        p = realloc(seg->mem, size);
        if (p == NULL)
            return host_err_set(err, CONN_NOMEM, "out of memory holding pulled records");
        seg->mem = p;
        seg->mem_alloc = size;
    }
    p = seg->mem + seg->mem_len;
    p = put_field(p, flow, lf);
    p = put_field(p, record_type, lt);
    p = put_field(p, id, li);
    p = put_field(p, json, len);
    seg->mem_len = (size_t)(p - seg->mem);
    seg->count++;
    seg->bytes += len;
    return CONN_OK;
}

/* Parse one entry at *p (within end); fills rec and advances *p. */
static int read_entry(const char **p, const char *end, host_record *rec)
{
    const char *fields[4];
    size_t lens[4];

    for (int i = 0; i < 4; i++) {
        uint32_t n;

        if ((size_t)(end - *p) < sizeof(n))
            return -1;
        memcpy(&n, *p, sizeof(n));
        *p += sizeof(n);
        if ((size_t)(end - *p) < (size_t)n + 1)
            return -1;
        fields[i] = *p;
        lens[i] = n;
        *p += n + 1;
    }
    rec->flow = fields[0];
    rec->record_type = fields[1];
    rec->id = fields[2];
    rec->json = fields[3];
    rec->json_len = lens[3];
    return 0;
}

/* Walk the spill file one entry at a time. */
static int each_spilled(host_segment *seg, int (*fn)(void *user, const host_record *rec),
                        void *user)
{
    char *buf = NULL;
    size_t cap = 0;
    int rc = 0;

    if (fflush(seg->spill) != 0 || fseek(seg->spill, 0, SEEK_SET) != 0)
        return -1;
    for (;;) {
        uint32_t n[4];
        size_t total = 0, at = 0;
        host_record rec;
        const char *p;

        /* Read the four fields, growing buf as needed. */
        for (int i = 0; i < 4; i++) {
            size_t need;

            if (fread(&n[i], sizeof(n[i]), 1, seg->spill) != 1) {
                if (i == 0 && feof(seg->spill))
                    goto out;
                rc = -1;
                goto out;
            }
            need = at + sizeof(n[i]) + n[i] + 1;
            if (need > cap) {
                size_t size = cap > 0 ? cap : 64 * 1024;
                char *q;

                while (size < need)
                    size *= 2;
                q = realloc(buf, size);
                if (q == NULL) {
                    rc = -1;
                    goto out;
                }
                buf = q;
                cap = size;
            }
            memcpy(buf + at, &n[i], sizeof(n[i]));
            at += sizeof(n[i]);
            if (fread(buf + at, 1, (size_t)n[i] + 1, seg->spill) != (size_t)n[i] + 1) {
                rc = -1;
                goto out;
            }
            at += (size_t)n[i] + 1;
        }
        total = at;
        p = buf;
        if (read_entry(&p, buf + total, &rec) != 0) {
            rc = -1;
            goto out;
        }
        rc = fn(user, &rec);
        if (rc != 0)
            goto out;
    }
out:
    free(buf);
    return rc;
}

int host_segment_each(host_segment *seg, int (*fn)(void *user, const host_record *rec),
                      void *user)
{
    const char *p, *end;
    host_record rec;
    int rc;

    if (seg == NULL)
        return 0;
    if (seg->spill != NULL) {
        rc = each_spilled(seg, fn, user);
        if (rc != 0)
            return rc;
    }
    p = seg->mem;
    end = seg->mem + seg->mem_len;
    while (p != NULL && p < end) {
        if (read_entry(&p, end, &rec) != 0)
            return -1;
        rc = fn(user, &rec);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void host_segment_reset(host_segment *seg)
{
    if (seg == NULL)
        return;
    seg->mem_len = 0;
    seg->count = 0;
    seg->bytes = 0;
    if (seg->spill != NULL) {
        fclose(seg->spill);
        seg->spill = NULL;
    }
    /* Give back a buffer that grew far past the usual page. */
    if (seg->mem_alloc > 4 * 1024 * 1024) {
        free(seg->mem);
        seg->mem = NULL;
        seg->mem_alloc = 0;
    }
}
