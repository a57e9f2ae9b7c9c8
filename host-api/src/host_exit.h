/* host_exit.h - the exit codes of connector-host, and the one place where a
 * plugin's status class becomes one. Scripts and checks outside the tests
 * rely on these numbers: never renumber them. */
#ifndef HOST_EXIT_H
#define HOST_EXIT_H

#include "conn_abi.h"

typedef enum host_exit {
    HOST_EXIT_OK = 0,        /* the command did what was asked */
    HOST_EXIT_OTHER = 1,     /* any other failure (see the message) */
    HOST_EXIT_USAGE = 2,     /* the command line is wrong */
    HOST_EXIT_INVALID = 3,   /* the settings are invalid: fix the configuration */
    HOST_EXIT_AUTH = 4,      /* authentication needed: a person must act */
    HOST_EXIT_TRANSIENT = 5, /* transient failure (or interrupted): run again later */
    HOST_EXIT_REJECTED = 6   /* push: some records were rejected (see the results) */
} host_exit;

/* The exit code for a status class returned by a plugin or the host:
 * OK 0, INVALID 3, AUTH 4, RETRY and CANCELLED 5, everything else 1. */
host_exit host_exit_from_status(conn_status status);

/* The fixed English name of a status class ("RETRY"), "UNKNOWN" for values
 * outside the enum (a plugin may return anything). */
const char *host_status_name(conn_status status);

#endif
