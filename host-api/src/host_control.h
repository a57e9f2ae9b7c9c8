/* host_control.h - the control channel of `connector-host run`: a Unix
 * stream socket (mode 0600, next to the state file by default) on which
 * the runtime answers one JSON request per connection with one JSON line:
 *
 *   {"op":"swap","subscription":"acme","plugin_version":"0.2.0"}
 *   {"op":"status"}
 *   {"op":"reload"}
 *
 * Only the runtime's own user (or root) may connect (SO_PEERCRED). Each
 * connection is served on its own thread, so a swap that waits for a call
 * in flight does not hold up a status request. */
#ifndef HOST_CONTROL_H
#define HOST_CONTROL_H

#include <stddef.h>

#include "conn_abi.h"
#include "host_buf.h"

/* The longest request and reply. */
#define HOST_CONTROL_MSG_MAX (1024u * 1024u)

typedef struct host_control host_control;

/* Answer one request (len bytes, NUL-terminated) by appending a JSON
 * object to reply. Called on a connection thread; may block. */
typedef void (*host_control_fn)(void *user, const char *request, size_t len,
                                host_buf *reply);

/* Bind the socket at path (a stale socket left by a dead runtime is
 * replaced; a live one is an error) and start serving. */
conn_status host_control_listen(const char *path, host_control_fn fn, void *user,
                                host_control **out, conn_error *err);

/* Stop accepting, wait for the connections being served, remove the
 * socket file and free. Accepts NULL. */
void host_control_stop(host_control *c);

/* The client: connect to path, send request, read the reply (one line,
 * without the newline) into reply, waiting up to timeout_ms.
 * CONN_NOT_FOUND when no runtime listens there. */
conn_status host_control_request(const char *path, const char *request, int timeout_ms,
                                 host_buf *reply, conn_error *err);

/* The default socket for a state file: ".db" replaced by ".sock" (or
 * ".sock" appended). malloc'd. */
char *host_control_default_path(const char *state_path);

#endif
