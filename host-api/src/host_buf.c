/* host_buf.c - a growing byte buffer with a hard cap. */
#include "host_buf.h"

#include <stdlib.h>
#include <string.h>

void host_buf_init(host_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->len = 0;
    buf->alloc = 0;
    buf->max = max;
}

void host_buf_free(host_buf *buf)
{
    if (buf == NULL)
        return;
    free(buf->data);
    host_buf_init(buf, buf->max);
}

int host_buf_append(host_buf *buf, const char *data, size_t len)
{
    size_t need, size;
    char *p;

    if (len > buf->max || buf->len > buf->max - len)
        return -1;
    need = buf->len + len + 1;
    if (need > buf->alloc) {
        size = buf->alloc > 0 ? buf->alloc : 256;
        while (size < need)
            size = size > ((size_t)-1) / 2 ? need : size * 2;
        p = realloc(buf->data, size);
        if (p == NULL)
            return -1;
        buf->data = p;
        buf->alloc = size;
    }
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int host_buf_write(void *user, const char *data, size_t len)
{
    return host_buf_append(user, data, len);
}
