/* host_sql.c - statement boilerplate for the state database (host_sql.h). */
#include "host_sql.h"

#include <stdarg.h>
#include <stddef.h>

#include "host_state_int.h"

static int vbind(sqlite3_stmt *stmt, const char *types, va_list ap)
{
    int src = SQLITE_OK;

    for (int i = 1; src == SQLITE_OK && types[i - 1] != '\0'; i++) {
        switch (types[i - 1]) {
        case 't': {
            const char *s = va_arg(ap, const char *);

            src = s != NULL ? sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC)
                            : sqlite3_bind_null(stmt, i);
            break;
        }
        case 'b': {
            const char *s = va_arg(ap, const char *);
            size_t len = va_arg(ap, size_t);

            src = s != NULL ? sqlite3_bind_blob64(stmt, i, len > 0 ? s : "",
                                                  (sqlite3_uint64)len, SQLITE_STATIC)
                            : sqlite3_bind_null(stmt, i);
            break;
        }
        case 'i':
            src = sqlite3_bind_int64(stmt, i, (sqlite3_int64)va_arg(ap, int64_t));
            break;
        case 'I': {
            const int64_t *v = va_arg(ap, const int64_t *);

            src = v != NULL ? sqlite3_bind_int64(stmt, i, (sqlite3_int64)*v)
                            : sqlite3_bind_null(stmt, i);
            break;
        }
        default:
            src = SQLITE_MISUSE;
            break;
        }
    }
    return src;
}

int host_sql_bind(sqlite3_stmt *stmt, const char *types, ...)
{
    va_list ap;
    int src;

    va_start(ap, types);
    src = vbind(stmt, types, ap);
    va_end(ap);
    return src;
}

/* Prepare and bind; the va_list form of host_sql_prepare. */
static int vprepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql, const char *types,
                    va_list ap)
{
    int src;

    *stmt = NULL;
    src = sqlite3_prepare_v2(db, sql, -1, stmt, NULL);
    if (src == SQLITE_OK)
        src = vbind(*stmt, types, ap);
    return src;
}

int host_sql_prepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql, const char *types, ...)
{
    va_list ap;
    int src;

    va_start(ap, types);
    src = vprepare(db, stmt, sql, types, ap);
    va_end(ap);
    return src;
}

/* Prepare, bind and take the first step; the statement is left in *stmt
 * for the caller to read and finalize. Returns SQLITE_DONE, SQLITE_ROW or
 * the code of the first call that failed. */
static int vstep(sqlite3 *db, sqlite3_stmt **stmt, const char *sql, const char *types,
                 va_list ap)
{
    int src = vprepare(db, stmt, sql, types, ap);

    if (src == SQLITE_OK)
        src = sqlite3_step(*stmt);
    return src;
}

/* host_sql_run with a va_list. */
static conn_status vrun(host_state *st, sqlite3 *db, const char *doing, conn_error *err,
                        const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *stmt;
    conn_status rc = CONN_OK;
    int src = vstep(db, &stmt, sql, types, ap);

    /* The message is taken before the statement is finalized. */
    if (src != SQLITE_DONE)
        rc = host_state_sql_error(st, src, doing, err);
    sqlite3_finalize(stmt);
    return rc;
}

conn_status host_sql_run(host_state *st, sqlite3 *db, const char *doing, conn_error *err,
                         const char *sql, const char *types, ...)
{
    conn_status rc;
    va_list ap;

    va_start(ap, types);
    rc = vrun(st, db, doing, err, sql, types, ap);
    va_end(ap);
    return rc;
}

conn_status host_sql_write(host_state *st, int64_t *changes, conn_error *err, const char *sql,
                           const char *types, ...)
{
    sqlite3 *db;
    conn_status rc;
    va_list ap;

    if (changes != NULL)
        *changes = 0;
    rc = host_state_acquire(st, &db, err);
    if (rc != CONN_OK)
        return rc;
    va_start(ap, types);
    rc = vrun(st, db, "be written", err, sql, types, ap);
    va_end(ap);
    /* Still under the lock: no other statement ran on db since. */
    if (rc == CONN_OK && changes != NULL)
        *changes = sqlite3_changes(db);
    host_state_release(st);
    return rc;
}

conn_status host_sql_int64(host_state *st, sqlite3 *db, const char *doing, conn_error *err,
                           int64_t *out, const char *sql, const char *types, ...)
{
    sqlite3_stmt *stmt;
    conn_status rc = CONN_OK;
    va_list ap;
    int src;

    va_start(ap, types);
    src = vstep(db, &stmt, sql, types, ap);
    va_end(ap);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else
        rc = host_state_sql_error(st, src, doing, err);
    sqlite3_finalize(stmt);
    return rc;
}

const char *host_sql_column_text(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL
               ? NULL
               : (const char *)sqlite3_column_text(stmt, col);
}
