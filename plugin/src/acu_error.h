/* acu_error.h - filling the caller-owned conn_error. */
#ifndef ACU_ERROR_H
#define ACU_ERROR_H

#include "conn_abi.h"

#if defined(__GNUC__)
#define ACU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ACU_PRINTF(f, a)
#endif

/* Reset err to "no error" (status OK, empty strings, retry_after -1).
 * Accepts NULL. */
void acu_err_clear(conn_error *err);

/* Set err->status and err->message (printf-style, truncated to fit) and
 * return status, so callers can write `return acu_err_set(err, ...)`.
 * Other members are left as they are. Accepts a NULL err. */
conn_status acu_err_set(conn_error *err, conn_status status, const char *fmt,
                        ...) ACU_PRINTF(3, 4);

/* Append one more line ("\n" + text) to err->message, keeping the status.
 * Used to report every problem of a validation at once. */
void acu_err_append(conn_error *err, const char *fmt, ...) ACU_PRINTF(2, 3);

/* The fixed English name of a status class ("RETRY"). */
const char *acu_status_name(conn_status status);

#endif
