/* acu_error.c - filling the caller-owned conn_error. */
#include "acu_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void acu_err_clear(conn_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
    err->status = CONN_OK;
    err->retry_after_ms = -1;
}

conn_status acu_err_set(conn_error *err, conn_status status, const char *fmt,
                        ...)
{
    va_list ap;

    if (err == NULL)
        return status;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}

void acu_err_append(conn_error *err, const char *fmt, ...)
{
    va_list ap;
    size_t used;

    if (err == NULL)
        return;
    used = strnlen(err->message, sizeof(err->message));
    if (used > 0 && used + 1 < sizeof(err->message)) {
        err->message[used++] = '\n';
        err->message[used] = '\0';
    }
    if (used + 1 >= sizeof(err->message))
        return;
    va_start(ap, fmt);
    vsnprintf(err->message + used, sizeof(err->message) - used, fmt, ap);
    va_end(ap);
}

const char *acu_status_name(conn_status status)
{
    switch (status) {
    case CONN_OK: return "OK";
    case CONN_INVALID: return "INVALID";
    case CONN_AUTH: return "AUTH";
    case CONN_RETRY: return "RETRY";
    case CONN_REJECTED: return "REJECTED";
    case CONN_CANCELLED: return "CANCELLED";
    case CONN_NOMEM: return "NOMEM";
    case CONN_UNSUPPORTED: return "UNSUPPORTED";
    case CONN_INTERNAL: return "INTERNAL";
    case CONN_NOT_FOUND: return "NOT_FOUND";
    }
    return "UNKNOWN";
}
