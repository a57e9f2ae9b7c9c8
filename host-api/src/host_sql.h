/* host_sql.h - the statement boilerplate of the state database's users
 * (host_state.c, host_store.c, host_queue.c, host_cmd_status.c): bind a
 * statement's parameters from a short type string, prepare and bind in
 * one call, run a statement to its end, read one integer. Every call but
 * host_sql_write is made under the state handle's lock (host_state_int.h),
 * like every other use of its connection.
 *
 * The type string has one letter per parameter ?1, ?2, ... in order; each
 * letter takes the arguments listed, of exactly these types (variadic
 * arguments are not converted: cast an int or a size_t to int64_t):
 *
 *   t   const char *           text; NULL binds NULL
 *   b   const char *, size_t   blob; NULL binds NULL, length 0 an empty blob
 *   i   int64_t                integer
 *   I   const int64_t *        integer; NULL binds NULL
 */
#ifndef HOST_SQL_H
#define HOST_SQL_H

#include <sqlite3.h>
#include <stdint.h>

#include "conn_abi.h"
#include "host_state.h"

/* Bind the parameters of stmt from types (above). Returns SQLITE_OK, or
 * the code of the first bind that failed (SQLITE_MISUSE for a letter not
 * listed above). */
int host_sql_bind(sqlite3_stmt *stmt, const char *types, ...);

/* sqlite3_prepare_v2 of sql on db, then host_sql_bind. Returns SQLITE_OK
 * or the code of the first step that failed; *stmt is set either way (NULL
 * when the prepare failed) and the caller finalizes it. */
int host_sql_prepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql, const char *types, ...);

/* Prepare sql on db (st's connection), bind types, step it to its end (a
 * statement that returns no rows) and finalize it. A failure is
 * host_state_sql_error(st, code, doing, err): "the state file F cannot
 * <doing>: ...", or CONN_RETRY when the file stayed locked. */
conn_status host_sql_run(host_state *st, sqlite3 *db, const char *doing, conn_error *err,
                         const char *sql, const char *types, ...);

/* One statement that writes, on its own: take st's lock, host_sql_run it
 * ("be written"), set *changes (when not NULL; 0 on failure) to the number
 * of rows it changed, and drop the lock. Not under the lock. */
conn_status host_sql_write(host_state *st, int64_t *changes, conn_error *err, const char *sql,
                           const char *types, ...);

/* The same for a statement whose first row's first column is wanted
 * (count(*), PRAGMA user_version): *out receives it. No row is a failure
 * too. */
conn_status host_sql_int64(host_state *st, sqlite3 *db, const char *doing, conn_error *err,
                           int64_t *out, const char *sql, const char *types, ...);

/* Column col of the current row as text, NULL for SQL NULL. */
const char *host_sql_column_text(sqlite3_stmt *stmt, int col);

#endif
