/* host_state_int.h - direct access to the state database for the host's own
 * tables (host_store.c, host_queue.c): the handle's lock and its sqlite3
 * connection. Not for plugins; they see only state_get/put/cas. */
#ifndef HOST_STATE_INT_H
#define HOST_STATE_INT_H

#include <sqlite3.h>

#include "host_state.h"

/* Take the handle's lock, open the database when not yet open (schema
 * migrated), and set *db. Every CONN_OK must be paired with exactly one
 * host_state_release; on failure the lock is not held. */
conn_status host_state_acquire(host_state *st, sqlite3 **db, conn_error *err);

/* host_state_acquire, then BEGIN IMMEDIATE: the file's write lock is taken
 * now, so the transaction cannot fail later for want of it. On failure the
 * lock is not held. Commit with host_state_exec(st, "COMMIT"); either way
 * end with host_state_release, which rolls back what was not committed. */
conn_status host_state_begin(host_state *st, sqlite3 **db, conn_error *err);

/* Roll back any transaction the holder left open and drop the lock.
 * Accepts NULL. */
void host_state_release(host_state *st);

/* err for a failed SQLite call: CONN_RETRY when the file stayed locked by
 * another process, CONN_INTERNAL otherwise, naming the file and `doing`
 * ("be read", "be written"). Under the lock. */
conn_status host_state_sql_error(host_state *st, int src, const char *doing, conn_error *err);

/* Run statements with no result rows (BEGIN IMMEDIATE, COMMIT). Under the
 * lock. */
conn_status host_state_exec(host_state *st, const char *sql, conn_error *err);

#endif
