/* host_error.c - filling the caller-owned conn_error in the reference host. */
#include "host_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void host_err_clear(conn_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
    err->status = CONN_OK;
    err->retry_after_ms = -1;
}

conn_status host_err_set(conn_error *err, conn_status status, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return status;
    host_err_clear(err);
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}
