/* host_state.c - the host's persistent state: one SQLite file in WAL mode. */
#include "host_state.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_crypto.h"
#include "host_error.h"
#include "host_sql.h"
#include "host_state_int.h"

struct host_state {
    pthread_mutex_t lock; /* every operation; SQLite handles are per thread here */
    char *path;           /* the database file */
    char *key_path;       /* the secret key file */
    sqlite3 *db;          /* NULL until first use */
    host_key key;         /* valid when key_loaded */
    int key_loaded;
};

/* Schema migrations: entry i moves a file from user_version i to i + 1.
 * Append only; never edit an entry that has shipped. */
static const char *const migrations[HOST_STATE_SCHEMA_VERSION] = {
    /* 0 -> 1: the key-value store behind state_get/put/cas. */
    "CREATE TABLE state ("
    "  subscription TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  secret INTEGER NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (subscription, key)"
    ") WITHOUT ROWID;",
    /* 1 -> 2: the runtime's tables (host_store.h): the committed cursor of
     * each pulled flow with the JSON-lines file it was last written to,
     * pulled records (upserted by id), the push queue with its dead
     * letters, one summary row per run, and each subscription's plugin
     * version and last error as the runtime last saw them. */
    "CREATE TABLE cursors ("
    "  subscription TEXT NOT NULL,"
    "  flow TEXT NOT NULL,"
    "  cursor BLOB,"
    "  out_path TEXT,"
    "  out_size INTEGER,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (subscription, flow)"
    ") WITHOUT ROWID;"
    "CREATE TABLE records ("
    "  subscription TEXT NOT NULL,"
    "  flow TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  record_type TEXT NOT NULL,"
    "  record BLOB NOT NULL,"
    "  run_id INTEGER,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (subscription, flow, id)"
    ");"
    "CREATE TABLE queue ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  subscription TEXT NOT NULL,"
    "  flow TEXT NOT NULL,"
    "  record BLOB NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'dead')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_ms INTEGER NOT NULL,"
    "  enqueued_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  outcome TEXT,"
    "  result BLOB,"
    "  run_id INTEGER"
    ");"
    "CREATE INDEX queue_due ON queue (subscription, flow, state, next_ms, id);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  subscription TEXT NOT NULL,"
    "  flow TEXT NOT NULL,"
    "  direction TEXT NOT NULL,"
    "  plugin_version TEXT,"
    "  start_ms INTEGER NOT NULL,"
    "  end_ms INTEGER,"
    "  outcome TEXT NOT NULL,"
    "  records INTEGER NOT NULL DEFAULT 0,"
    "  counts TEXT,"
    "  cursor BLOB,"
    "  error TEXT"
    ");"
    "CREATE INDEX runs_last ON runs (subscription, flow, direction, id);"
    "CREATE TABLE subscriptions ("
    "  subscription TEXT PRIMARY KEY,"
    "  plugin_version TEXT,"
    "  state TEXT,"
    "  error TEXT,"
    "  updated_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",
};

static void state_lock(host_state *st)
{
    if (pthread_mutex_lock(&st->lock) != 0)
        abort();
}

static void state_unlock(host_state *st)
{
    if (pthread_mutex_unlock(&st->lock) != 0)
        abort();
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

conn_status host_state_default_path(char **out, conn_error *err)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home;
    struct passwd *pw;

    *out = NULL;
    /* The XDG spec says to ignore a relative XDG_STATE_HOME. */
    if (xdg != NULL && xdg[0] == '/') {
        *out = join(xdg, "/connector-host/state.db");
    } else {
        home = getenv("HOME");
        if (home == NULL || home[0] != '/') {
            pw = getpwuid(geteuid());
            home = pw != NULL ? pw->pw_dir : NULL;
        }
        if (home == NULL || home[0] != '/')
            return host_err_set(err, CONN_INVALID,
                                "no home directory for the state file; give one with --state");
        *out = join(home, "/.local/state/connector-host/state.db");
    }
    if (*out == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    return CONN_OK;
}

conn_status host_state_new(const char *db_path, host_state **out, conn_error *err)
{
    host_state *st = NULL;
    size_t n;
    conn_status rc = CONN_OK;

    *out = NULL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return host_err_set(err, CONN_INTERNAL, "cannot make a mutex for the state file");
    }
    if (db_path == NULL) {
        rc = host_state_default_path(&st->path, err);
        if (rc != CONN_OK)
            goto out;
    } else if (db_path[0] == '\0') {
        rc = host_err_set(err, CONN_INVALID, "the state file path is empty");
        goto out;
    } else {
        st->path = strdup(db_path);
    }
    if (st->path == NULL) {
        rc = host_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    n = strlen(st->path);
    if (n > 3 && strcmp(st->path + n - 3, ".db") == 0) {
        st->key_path = malloc(n + 2);
        if (st->key_path != NULL) {
            memcpy(st->key_path, st->path, n - 3);
            memcpy(st->key_path + n - 3, ".key", 5);
        }
    } else {
        st->key_path = join(st->path, ".key");
    }
    if (st->key_path == NULL) {
        rc = host_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    *out = st;
    st = NULL;
out:
    host_state_free(st);
    return rc;
}

void host_state_free(host_state *st)
{
    if (st == NULL)
        return;
    /* sqlite3_close_v2 waits for nothing: every statement is finalized by
     * the operation that prepared it. */
    sqlite3_close_v2(st->db);
    host_key_wipe(&st->key);
    pthread_mutex_destroy(&st->lock);
    free(st->path);
    free(st->key_path);
    free(st);
}

const char *host_state_path(const host_state *st)
{
    return st != NULL ? st->path : NULL;
}

const char *host_state_key_path(const host_state *st)
{
    return st != NULL ? st->key_path : NULL;
}

/* mkdir -p for the directory part of path, new directories with mode 0700
 * (they will hold the key file). Existing directories are left as they are. */
static conn_status make_parent_dirs(const char *path, conn_error *err)
{
    char *dir = strdup(path);
    conn_status rc = CONN_OK;
    char *slash;

    if (dir == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        goto out;
    *slash = '\0';
    /* Make each prefix of dir in turn: "/a", "/a/b", ..., then dir. */
    for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
        if (p != NULL)
            *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            rc = host_err_set(err, CONN_INTERNAL,
                              "the directory %s for the state file cannot be made: %s", dir,
                              strerror(errno));
            goto out;
        }
        if (p == NULL)
            break;
        *p = '/';
    }
out:
    free(dir);
    return rc;
}

/* Run one statement with no result rows wanted. */
static conn_status exec_sql(host_state *st, const char *sql, conn_error *err)
{
    char *msg = NULL;
    conn_status rc = CONN_OK;
    int src = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

    if (src == SQLITE_BUSY)
        rc = host_err_set(err, CONN_RETRY,
                          "the state file %s stayed locked by another process for %d ms",
                          st->path, HOST_STATE_BUSY_TIMEOUT_MS);
    else if (src != SQLITE_OK)
        rc = host_err_set(err, CONN_INTERNAL, "the state file %s: %s", st->path,
                          msg != NULL ? msg : sqlite3_errstr(src));
    sqlite3_free(msg);
    return rc;
}

static conn_status db_error(host_state *st, int src, const char *doing, conn_error *err)
{
    if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
        return host_err_set(err, CONN_RETRY,
                            "the state file %s stayed locked by another process for %d ms",
                            st->path, HOST_STATE_BUSY_TIMEOUT_MS);
    return host_err_set(err, CONN_INTERNAL, "the state file %s cannot %s: %s", st->path, doing,
                        sqlite3_errmsg(st->db));
}

static conn_status read_user_version(host_state *st, int *version, conn_error *err)
{
    int64_t v = 0;
    conn_status rc = host_sql_int64(st, st->db, "be read", err, &v, "PRAGMA user_version", "");

    if (rc == CONN_OK)
        *version = (int)v;
    return rc;
}

/* Bring the schema to HOST_STATE_SCHEMA_VERSION in one immediate
 * transaction, so two processes opening a new file do not both migrate. */
static conn_status migrate(host_state *st, conn_error *err)
{
    char sql[64];
    conn_status rc;
    int version = 0;

    rc = exec_sql(st, "BEGIN IMMEDIATE", err);
    if (rc != CONN_OK)
        return rc;
    rc = read_user_version(st, &version, err);
    if (rc != CONN_OK)
        goto out;
    if (version > HOST_STATE_SCHEMA_VERSION || version < 0) {
        rc = host_err_set(err, CONN_INVALID,
                          "the state file %s has schema version %d, written by a newer "
                          "connector-host; this one knows versions up to %d",
                          st->path, version, HOST_STATE_SCHEMA_VERSION);
        goto out;
    }
    for (int v = version; v < HOST_STATE_SCHEMA_VERSION; v++) {
        rc = exec_sql(st, migrations[v], err);
        if (rc != CONN_OK)
            goto out;
    }
    if (version < HOST_STATE_SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", HOST_STATE_SCHEMA_VERSION);
        rc = exec_sql(st, sql, err);
        if (rc != CONN_OK)
            goto out;
    }
    rc = exec_sql(st, "COMMIT", err);
out:
    if (rc != CONN_OK && !sqlite3_get_autocommit(st->db))
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Switch the file to write-ahead logging (a no-op when it already is).
 * On a new file two processes may race to switch it; the loser's statement
 * holds a read lock while it wants the write lock, so SQLite answers BUSY at
 * once instead of calling the busy handler (that would deadlock). Retry
 * here, for as long as the busy timeout. */
static conn_status use_wal(host_state *st, conn_error *err)
{
    sqlite3_stmt *stmt = NULL;
    const unsigned char *mode;
    int src, waited = 0;

    for (;;) {
        src = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
        if (src == SQLITE_OK)
            src = sqlite3_step(stmt);
        if (src != SQLITE_BUSY || waited >= HOST_STATE_BUSY_TIMEOUT_MS)
            break;
        sqlite3_finalize(stmt);
        stmt = NULL;
        waited += sqlite3_sleep(10);
    }
    if (src != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return db_error(st, src, "be opened", err);
    }
    mode = sqlite3_column_text(stmt, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        sqlite3_finalize(stmt);
        return host_err_set(err, CONN_INTERNAL,
                            "the state file %s cannot use write-ahead logging "
                            "(is it on a network file system?)",
                            st->path);
    }
    sqlite3_finalize(stmt);
    return CONN_OK;
}

/* Open the database on first use; under the lock. */
static conn_status ensure_open(host_state *st, conn_error *err)
{
    conn_status rc;
    int fd, src;

    if (st->db != NULL)
        return CONN_OK;
    rc = make_parent_dirs(st->path, err);
    if (rc != CONN_OK)
        return rc;
    /* Create the file ourselves so it is private from the start; SQLite
     * gives its -wal and -shm files the database file's mode. */
    fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return host_err_set(err, CONN_INTERNAL, "the state file %s cannot be opened: %s",
                            st->path, strerror(errno));
    close(fd);
    src = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        rc = host_err_set(err, CONN_INTERNAL, "the state file %s cannot be opened: %s",
                          st->path, st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(src));
        goto fail;
    }
    sqlite3_busy_timeout(st->db, HOST_STATE_BUSY_TIMEOUT_MS);
    rc = use_wal(st, err);
    if (rc != CONN_OK)
        goto fail;
    /* FULL: a rotated refresh token must survive a power cut, or the next
     * run needs a person to authorize again. */
    rc = exec_sql(st, "PRAGMA synchronous=FULL", err);
    if (rc != CONN_OK)
        goto fail;
    rc = migrate(st, err);
    if (rc != CONN_OK)
        goto fail;
    return CONN_OK;
fail:
    sqlite3_close_v2(st->db);
    st->db = NULL;
    return rc;
}

conn_status host_state_open(host_state *st, conn_error *err)
{
    conn_status rc;

    if (st == NULL)
        return host_err_set(err, CONN_INVALID, "no state file");
    state_lock(st);
    rc = ensure_open(st, err);
    state_unlock(st);
    return rc;
}

static conn_status check_names(const char *subscription, const char *key, conn_error *err)
{
    size_t n;

    if (subscription == NULL || subscription[0] == '\0')
        return host_err_set(err, CONN_INVALID, "host state: no subscription name");
    if (strnlen(subscription, HOST_STATE_SUBSCRIPTION_MAX + 1) > HOST_STATE_SUBSCRIPTION_MAX)
        return host_err_set(err, CONN_INVALID,
                            "host state: the subscription name is longer than %d bytes",
                            HOST_STATE_SUBSCRIPTION_MAX);
    if (key == NULL || key[0] == '\0')
        return host_err_set(err, CONN_INVALID, "host state: the key is empty");
    n = strnlen(key, HOST_STATE_KEY_MAX + 1);
    if (n > HOST_STATE_KEY_MAX)
        return host_err_set(err, CONN_INVALID, "host state: a key is longer than %d bytes",
                            HOST_STATE_KEY_MAX);
    return CONN_OK;
}

/* The additional authenticated data of a secret: a fixed label, the
 * subscription and the key, NUL-separated (neither can contain NUL). */
static size_t secret_aad(char *buf, size_t cap, const char *subscription, const char *key)
{
    static const char label[] = "connector-host secret v1";
    size_t ls = strlen(subscription), lk = strlen(key);
    size_t need = sizeof(label) + ls + 1 + lk;

    if (need > cap)
        return 0;
    memcpy(buf, label, sizeof(label));
    memcpy(buf + sizeof(label), subscription, ls + 1);
    memcpy(buf + sizeof(label) + ls + 1, key, lk);
    return need;
}

/* Load the key file into the handle when not yet loaded; under the lock. */
static conn_status ensure_key(host_state *st, int create, conn_error *err)
{
    conn_status rc;

    if (st->key_loaded)
        return CONN_OK;
    rc = host_key_load(st->key_path, create, &st->key, err);
    if (rc == CONN_OK)
        st->key_loaded = 1;
    return rc;
}

/* Read the current value of (subscription, key), decrypting a secret.
 * *value is malloc'd (NUL-terminated) or NULL when absent. Under the lock. */
static conn_status read_value(host_state *st, const char *subscription, const char *key,
                              char **value, size_t *len, conn_error *err)
{
    sqlite3_stmt *stmt = NULL;
    const unsigned char *blob;
    char aad[64 + HOST_STATE_SUBSCRIPTION_MAX + HOST_STATE_KEY_MAX];
    size_t blob_len, aad_len;
    conn_error key_err;
    conn_status rc = CONN_OK;
    int src, secret, opened;

    *value = NULL;
    *len = 0;
    src = host_sql_prepare(st->db, &stmt,
                           "SELECT value, secret FROM state WHERE subscription = ?1 AND key = ?2",
                           "tt", subscription, key);
    if (src == SQLITE_OK)
        src = sqlite3_step(stmt);
    if (src == SQLITE_DONE)
        goto out; /* absent */
    if (src != SQLITE_ROW) {
        rc = db_error(st, src, "be read", err);
        goto out;
    }
    blob = sqlite3_column_blob(stmt, 0);
    blob_len = (size_t)sqlite3_column_bytes(stmt, 0);
    secret = sqlite3_column_int(stmt, 1);
    if (!secret) {
        *value = malloc(blob_len + 1);
        if (*value == NULL) {
            rc = host_err_set(err, CONN_NOMEM, "out of memory reading host state");
            goto out;
        }
        if (blob_len > 0)
            memcpy(*value, blob, blob_len);
        (*value)[blob_len] = '\0';
        *len = blob_len;
        goto out;
    }
    rc = ensure_key(st, 0, &key_err);
    if (rc != CONN_OK) {
        rc = host_err_set(err, CONN_INTERNAL,
                          "the secret '%s' of subscription '%s' cannot be decrypted: %s", key,
                          subscription, key_err.message);
        goto out;
    }
    aad_len = secret_aad(aad, sizeof(aad), subscription, key);
    opened = host_unseal(&st->key, aad, aad_len, blob, blob_len, value, len);
    if (opened < 0) {
        rc = host_err_set(err, CONN_INTERNAL,
                          "the secret '%s' of subscription '%s' cannot be decrypted: "
                          "out of memory or OpenSSL failed",
                          key, subscription);
    } else if (opened == 0) {
        rc = host_err_set(err, CONN_INTERNAL,
                          "the secret '%s' of subscription '%s' cannot be decrypted: the key "
                          "file %s does not match or the value was tampered with",
                          key, subscription, st->key_path);
    }
out:
    sqlite3_finalize(stmt);
    return rc;
}

static void free_plain(char *value, size_t len)
{
    if (value == NULL)
        return;
    OPENSSL_cleanse(value, len);
    free(value);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Store or delete (value == NULL) inside the caller's transaction or as one
 * statement; under the lock. */
static conn_status write_value(host_state *st, const char *subscription, const char *key,
                               const char *value, size_t len, unsigned flags, conn_error *err)
{
    unsigned char *sealed = NULL;
    size_t sealed_len = 0, aad_len;
    char aad[64 + HOST_STATE_SUBSCRIPTION_MAX + HOST_STATE_KEY_MAX];
    int secret = (flags & CONN_STATE_SECRET) != 0;
    conn_status rc = CONN_OK;

    if (value == NULL) {
        rc = host_sql_run(st, st->db, "be written", err,
                          "DELETE FROM state WHERE subscription = ?1 AND key = ?2", "tt",
                          subscription, key);
        goto out;
    }
    if (secret) {
        rc = ensure_key(st, 1, err);
        if (rc != CONN_OK)
            goto out;
        aad_len = secret_aad(aad, sizeof(aad), subscription, key);
        rc = host_seal(&st->key, aad, aad_len, value, len, &sealed, &sealed_len, err);
        if (rc != CONN_OK)
            goto out;
    }
    /* A zero-length blob must not bind as NULL (value is NOT NULL): the
     * blob type binds a non-NULL pointer of length 0 as an empty blob. */
    rc = host_sql_run(st, st->db, "be written", err,
                      "INSERT INTO state (subscription, key, value, secret, updated_ms) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT (subscription, key) DO UPDATE SET "
                      "value = excluded.value, secret = excluded.secret, "
                      "updated_ms = excluded.updated_ms",
                      "ttbii", subscription, key, secret ? (const char *)sealed : value,
                      secret ? sealed_len : len, (int64_t)secret, wall_ms());
out:
    free(sealed);
    return rc;
}

static conn_status check_value(const char *key, const char *value, size_t len, conn_error *err)
{
    if (value != NULL && len > HOST_STATE_VALUE_MAX)
        return host_err_set(err, CONN_INVALID,
                            "host state: the value for '%s' is %zu bytes; the limit is %u", key,
                            len, HOST_STATE_VALUE_MAX);
    return CONN_OK;
}

conn_status host_state_get(host_state *st, const char *subscription, const char *key,
                           char *buf, size_t cap, size_t *len, conn_error *err)
{
    char *value = NULL;
    size_t vlen = 0;
    conn_status rc;

    if (st == NULL || len == NULL || (buf == NULL && cap > 0))
        return host_err_set(err, CONN_INVALID, "state_get: invalid arguments");
    *len = 0;
    rc = check_names(subscription, key, err);
    if (rc != CONN_OK)
        return rc;
    state_lock(st);
    rc = ensure_open(st, err);
    if (rc == CONN_OK)
        rc = read_value(st, subscription, key, &value, &vlen, err);
    state_unlock(st);
    if (rc != CONN_OK)
        goto out;
    if (value == NULL) {
        rc = CONN_NOT_FOUND;
        host_err_set(err, CONN_NOT_FOUND, "host state: no value for '%s'", key);
        goto out;
    }
    *len = vlen;
    if (vlen <= cap && vlen > 0)
        memcpy(buf, value, vlen);
out:
    free_plain(value, vlen);
    return rc;
}

conn_status host_state_put(host_state *st, const char *subscription, const char *key,
                           const char *value, size_t len, unsigned flags, conn_error *err)
{
    conn_status rc;

    if (st == NULL)
        return host_err_set(err, CONN_INVALID, "state_put: no state file");
    rc = check_names(subscription, key, err);
    if (rc == CONN_OK)
        rc = check_value(key, value, len, err);
    if (rc != CONN_OK)
        return rc;
    state_lock(st);
    rc = ensure_open(st, err);
    if (rc == CONN_OK)
        rc = write_value(st, subscription, key, value, len, flags, err);
    state_unlock(st);
    return rc;
}

conn_status host_state_cas(host_state *st, const char *subscription, const char *key,
                           const char *expected, size_t expected_len, const char *value,
                           size_t len, unsigned flags, int *swapped, conn_error *err)
{
    char *current = NULL;
    size_t cur_len = 0;
    conn_status rc;
    int equal, in_tx = 0;

    if (st == NULL || swapped == NULL)
        return host_err_set(err, CONN_INVALID, "state_cas: invalid arguments");
    *swapped = 0;
    rc = check_names(subscription, key, err);
    if (rc == CONN_OK)
        rc = check_value(key, value, len, err);
    if (rc != CONN_OK)
        return rc;
    state_lock(st);
    rc = ensure_open(st, err);
    if (rc != CONN_OK)
        goto out;
    /* IMMEDIATE takes the write lock before the read, so no other process
     * can change the value between our compare and our write. */
    rc = exec_sql(st, "BEGIN IMMEDIATE", err);
    if (rc != CONN_OK)
        goto out;
    in_tx = 1;
    rc = read_value(st, subscription, key, &current, &cur_len, err);
    if (rc != CONN_OK)
        goto out;
    if (expected == NULL)
        equal = current == NULL;
    else
        equal = current != NULL && cur_len == expected_len &&
                (expected_len == 0 || memcmp(current, expected, expected_len) == 0);
    if (equal) {
        rc = write_value(st, subscription, key, value, len, flags, err);
        if (rc != CONN_OK)
            goto out;
    }
    rc = exec_sql(st, "COMMIT", err);
    if (rc != CONN_OK)
        goto out;
    in_tx = 0;
    *swapped = equal;
out:
    if (in_tx && !sqlite3_get_autocommit(st->db))
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    state_unlock(st);
    free_plain(current, cur_len);
    return rc;
}

conn_status host_state_acquire(host_state *st, sqlite3 **db, conn_error *err)
{
    conn_status rc;

    *db = NULL;
    if (st == NULL)
        return host_err_set(err, CONN_INVALID, "no state file");
    state_lock(st);
    rc = ensure_open(st, err);
    if (rc != CONN_OK) {
        state_unlock(st);
        return rc;
    }
    *db = st->db;
    return CONN_OK;
}

conn_status host_state_begin(host_state *st, sqlite3 **db, conn_error *err)
{
    conn_status rc = host_state_acquire(st, db, err);

    if (rc != CONN_OK)
        return rc;
    rc = exec_sql(st, "BEGIN IMMEDIATE", err);
    if (rc != CONN_OK)
        host_state_release(st);
    return rc;
}

void host_state_release(host_state *st)
{
    if (st == NULL)
        return;
    /* A caller that failed half-way through a transaction must not leave
     * it open for the next holder. */
    if (st->db != NULL && !sqlite3_get_autocommit(st->db))
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    state_unlock(st);
}

conn_status host_state_sql_error(host_state *st, int src, const char *doing, conn_error *err)
{
    return db_error(st, src, doing, err);
}

conn_status host_state_exec(host_state *st, const char *sql, conn_error *err)
{
    return exec_sql(st, sql, err);
}
