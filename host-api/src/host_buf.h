/* host_buf.h - a growing byte buffer with a hard cap, for output a plugin
 * writes through a conn_write_fn (describe, authenticate, mappings). */
#ifndef HOST_BUF_H
#define HOST_BUF_H

#include <stddef.h>

typedef struct host_buf {
    char *data;  /* NUL-terminated while len < cap; NULL when empty */
    size_t len;
    size_t alloc;
    size_t max;  /* the cap: appends past it fail */
} host_buf;

/* An empty buffer that will hold at most max bytes. */
void host_buf_init(host_buf *buf, size_t max);

/* Free the bytes and make the buffer empty again. Accepts NULL. */
void host_buf_free(host_buf *buf);

/* Append len bytes. 0 on success, -1 when the cap would be passed or memory
 * runs out (the buffer is then unchanged). */
int host_buf_append(host_buf *buf, const char *data, size_t len);

/* A conn_write_fn appending to the host_buf given as user. */
int host_buf_write(void *user, const char *data, size_t len);

#endif
