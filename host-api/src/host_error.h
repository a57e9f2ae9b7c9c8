/* host_error.h - filling the caller-owned conn_error in the reference host. */
#ifndef HOST_ERROR_H
#define HOST_ERROR_H

#include "conn_abi.h"

#if defined(__GNUC__)
#define HOST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HOST_PRINTF(f, a)
#endif

/* Reset err to "no error" (status OK, empty strings, http 0, retry -1).
 * Accepts NULL. */
void host_err_clear(conn_error *err);

/* Set err->status and err->message (printf-style, truncated to fit) and
 * return status, so callers can write `return host_err_set(err, ...)`.
 * Accepts a NULL err. */
conn_status host_err_set(conn_error *err, conn_status status, const char *fmt,
                         ...) HOST_PRINTF(3, 4);

#endif
