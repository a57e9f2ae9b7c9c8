/* host_exit.c - status classes to exit codes and names. */
#include "host_exit.h"

host_exit host_exit_from_status(conn_status status)
{
    switch (status) {
    case CONN_OK:
        return HOST_EXIT_OK;
    case CONN_INVALID:
        return HOST_EXIT_INVALID;
    case CONN_AUTH:
        return HOST_EXIT_AUTH;
    case CONN_RETRY:
    case CONN_CANCELLED:
        return HOST_EXIT_TRANSIENT;
    case CONN_REJECTED:
    case CONN_NOMEM:
    case CONN_UNSUPPORTED:
    case CONN_INTERNAL:
    case CONN_NOT_FOUND:
        return HOST_EXIT_OTHER;
    }
    return HOST_EXIT_OTHER;
}

const char *host_status_name(conn_status status)
{
    switch (status) {
    case CONN_OK:
        return "OK";
    case CONN_INVALID:
        return "INVALID";
    case CONN_AUTH:
        return "AUTH";
    case CONN_RETRY:
        return "RETRY";
    case CONN_REJECTED:
        return "REJECTED";
    case CONN_CANCELLED:
        return "CANCELLED";
    case CONN_NOMEM:
        return "NOMEM";
    case CONN_UNSUPPORTED:
        return "UNSUPPORTED";
    case CONN_INTERNAL:
        return "INTERNAL";
    case CONN_NOT_FOUND:
        return "NOT_FOUND";
    }
    return "UNKNOWN";
}
