/* acu_buf.h - a growable byte buffer with a hard cap (curl's dynbuf idea).
 *
 * Every buffer that grows from untrusted input (a response body, a JSON
 * document being written) has an explicit maximum; going past it is an
 * error the caller reports, never a silent truncation. The data is always
 * NUL-terminated so text can be handed to string functions. */
#ifndef ACU_BUF_H
#define ACU_BUF_H

#include <stddef.h>

#include "acu_error.h"

typedef enum acu_buf_rc {
    ACU_BUF_OK = 0,
    ACU_BUF_NOMEM = 1,  /* malloc failed */
    ACU_BUF_TOO_BIG = 2 /* the addition would pass the cap; nothing added */
} acu_buf_rc;

typedef struct acu_buf {
    char *data; /* NULL until the first addition; then NUL-terminated */
    size_t len; /* bytes held, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* the most len may ever be */
    int failed; /* an addition failed (no memory, past max): sticky until
                   acu_buf_reset, and acu_buf_take then gives NULL, so a
                   chain of additions needs one check at the end */
} acu_buf;

/* Start an empty buffer that may hold at most `max` bytes. */
void acu_buf_init(acu_buf *b, size_t max);

/* Append n bytes. On error the buffer is unchanged. */
acu_buf_rc acu_buf_add(acu_buf *b, const void *data, size_t n);

/* Append a NUL-terminated string. */
acu_buf_rc acu_buf_adds(acu_buf *b, const char *s);

/* Append printf-style text. */
acu_buf_rc acu_buf_addf(acu_buf *b, const char *fmt, ...) ACU_PRINTF(2, 3);

/* Forget the content (and a failure) but keep the allocation. */
void acu_buf_reset(acu_buf *b);

/* Hand over the data (NUL-terminated) and leave the buffer empty; the
 * caller frees the result. NULL when an addition failed since the last
 * reset (the content is then incomplete and is freed) or out of memory. */
char *acu_buf_take(acu_buf *b, size_t *len);

/* Release the memory, leaving an empty buffer with the same cap. Accepts
 * NULL. */
void acu_buf_free(acu_buf *b);

#endif
