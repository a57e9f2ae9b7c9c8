/* test_host_state.c - host state: get/put/cas semantics, namespacing,
 * secrets at rest (round trip, not in clear, tampering, wrong key, key file
 * permissions), schema version and file modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host_crypto.h"
#include "host_state.h"
#include "host_test_util.h"

struct fixture {
    char *dir;
    char db[PATH_MAX];
    char key[PATH_MAX];
    host_state *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    conn_error err;

    if (f == NULL)
        return -1;
    f->dir = host_test_tmpdir("state");
    if (f->dir == NULL)
        return -1;
    /* A directory that does not exist yet: open must make it (0700). */
    snprintf(f->db, sizeof(f->db), "%s/sub/dir/state.db", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/sub/dir/state.key", f->dir);
    if (host_state_new(f->db, &f->st, &err) != CONN_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    host_state_free(f->st);
    host_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A second, independent handle on the same files (as another process
 * would have). */
static host_state *reopen(struct fixture *f)
{
    host_state *st = NULL;
    conn_error err;

    assert_int_equal(host_state_new(f->db, &st, &err), CONN_OK);
    return st;
}

static void put(host_state *st, const char *sub, const char *key, const char *value,
                unsigned flags)
{
    conn_error err;
    conn_status rc = host_state_put(st, sub, key, value, value != NULL ? strlen(value) : 0,
                                    flags, &err);

    if (rc != CONN_OK)
        fail_msg("put %s: %s", key, err.message);
}

/* Get into a fresh buffer and compare with want (NULL: absent). */
static void check_stored(host_state *st, const char *sub, const char *key, const char *want)
{
    char buf[256];
    size_t len = 12345;
    conn_error err;
    conn_status rc = host_state_get(st, sub, key, buf, sizeof(buf), &len, &err);

    if (want == NULL) {
        assert_int_equal(rc, CONN_NOT_FOUND);
        return;
    }
    if (rc != CONN_OK)
        fail_msg("get %s: %s", key, err.message);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static void test_paths_and_lazy_open(void **state)
{
    struct fixture *f = *state;
    struct stat sb;

    assert_string_equal(host_state_path(f->st), f->db);
    assert_string_equal(host_state_key_path(f->st), f->key);
    /* Nothing exists before the first operation. */
    assert_int_not_equal(stat(f->db, &sb), 0);
    check_stored(f->st, "s", "k", NULL);
    assert_int_equal(stat(f->db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    {
        char dir[PATH_MAX];

        snprintf(dir, sizeof(dir), "%s/sub/dir", f->dir);
        assert_int_equal(stat(dir, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);
    }
    /* Only a secret makes the key file. */
    assert_int_not_equal(stat(f->key, &sb), 0);
}

static void test_absent_put_replace_delete(void **state)
{
    struct fixture *f = *state;
    size_t len = 99;
    conn_error err;

    assert_int_equal(host_state_get(f->st, "s", "cursor", NULL, 0, &len, &err), CONN_NOT_FOUND);
    assert_int_equal(len, 0);
    assert_int_equal(err.status, CONN_NOT_FOUND);
    put(f->st, "s", "cursor", "one", 0);
    check_stored(f->st, "s", "cursor", "one");
    put(f->st, "s", "cursor", "two-longer", 0);
    check_stored(f->st, "s", "cursor", "two-longer");
    put(f->st, "s", "cursor", NULL, 0); /* delete */
    check_stored(f->st, "s", "cursor", NULL);
    put(f->st, "s", "cursor", NULL, 0); /* deleting the absent is fine */
    /* An empty value is a value, not an absence. */
    put(f->st, "s", "empty", "", 0);
    check_stored(f->st, "s", "empty", "");
}

static void test_buffer_too_small(void **state)
{
    struct fixture *f = *state;
    char buf[8];
    size_t len = 0;
    conn_error err;

    put(f->st, "s", "token", "0123456789abcdef", 0);
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(host_state_get(f->st, "s", "token", buf, 4, &len, &err), CONN_OK);
    assert_int_equal(len, 16);
    /* Nothing copied when it does not fit. */
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'X');
    /* Size query with no buffer. */
    len = 0;
    assert_int_equal(host_state_get(f->st, "s", "token", NULL, 0, &len, &err), CONN_OK);
    assert_int_equal(len, 16);
    /* Exactly fitting. */
    {
        char exact[16];

        assert_int_equal(host_state_get(f->st, "s", "token", exact, sizeof(exact), &len, &err),
                         CONN_OK);
        assert_int_equal(len, 16);
        assert_memory_equal(exact, "0123456789abcdef", 16);
    }
}

static void test_binary_values_and_namespaces(void **state)
{
    struct fixture *f = *state;
    static const char bin[] = {'a', '\0', 'b', '\xff', '\0'};
    char buf[16];
    size_t len = 0;
    conn_error err;

    assert_int_equal(host_state_put(f->st, "s", "bin", bin, sizeof(bin), 0, &err), CONN_OK);
    assert_int_equal(host_state_get(f->st, "s", "bin", buf, sizeof(buf), &len, &err), CONN_OK);
    assert_int_equal(len, sizeof(bin));
    assert_memory_equal(buf, bin, sizeof(bin));
    /* Keys are per subscription. */
    put(f->st, "acme", "cursor", "acme-1", 0);
    put(f->st, "globex", "cursor", "globex-1", 0);
    check_stored(f->st, "acme", "cursor", "acme-1");
    check_stored(f->st, "globex", "cursor", "globex-1");
    check_stored(f->st, "initech", "cursor", NULL);
    put(f->st, "acme", "cursor", NULL, 0);
    check_stored(f->st, "globex", "cursor", "globex-1");
}

static void test_limits(void **state)
{
    struct fixture *f = *state;
    char key[HOST_STATE_KEY_MAX + 2];
    char *big;
    conn_error err;

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(host_state_put(f->st, "s", key, "v", 1, 0, &err), CONN_INVALID);
    assert_int_equal(host_state_put(f->st, "s", "", "v", 1, 0, &err), CONN_INVALID);
    assert_int_equal(host_state_put(f->st, "", "k", "v", 1, 0, &err), CONN_INVALID);
    assert_int_equal(host_state_put(f->st, NULL, "k", "v", 1, 0, &err), CONN_INVALID);
    big = malloc(HOST_STATE_VALUE_MAX + 1);
    assert_non_null(big);
    memset(big, 'v', HOST_STATE_VALUE_MAX + 1);
    assert_int_equal(host_state_put(f->st, "s", "big", big, HOST_STATE_VALUE_MAX + 1, 0, &err),
                     CONN_INVALID);
    assert_non_null(strstr(err.message, "limit"));
    assert_int_equal(host_state_put(f->st, "s", "big", big, HOST_STATE_VALUE_MAX, 0, &err),
                     CONN_OK);
    free(big);
}

static void cas(host_state *st, const char *key, const char *expected, const char *value,
                unsigned flags, int want_swapped)
{
    conn_error err;
    int swapped = -1;
    conn_status rc = host_state_cas(st, "s", key, expected, expected ? strlen(expected) : 0,
                                    value, value ? strlen(value) : 0, flags, &swapped, &err);

    if (rc != CONN_OK)
        fail_msg("cas %s: %s", key, err.message);
    assert_int_equal(swapped, want_swapped);
}

static void test_cas_semantics(void **state)
{
    struct fixture *f = *state;

    cas(f->st, "rt", NULL, "r1", 0, 1);      /* absent -> r1 */
    check_stored(f->st, "s", "rt", "r1");
    cas(f->st, "rt", NULL, "r2", 0, 0);      /* not absent any more */
    check_stored(f->st, "s", "rt", "r1");
    cas(f->st, "rt", "r0", "r2", 0, 0);      /* wrong expectation */
    cas(f->st, "rt", "r", "r2", 0, 0);       /* a prefix is not equal */
    cas(f->st, "rt", "r1x", "r2", 0, 0);     /* nor a longer string */
    check_stored(f->st, "s", "rt", "r1");
    cas(f->st, "rt", "r1", "r2", 0, 1);      /* r1 -> r2 */
    check_stored(f->st, "s", "rt", "r2");
    cas(f->st, "rt", "r2", NULL, 0, 1);      /* r2 -> deleted */
    check_stored(f->st, "s", "rt", NULL);
    cas(f->st, "rt", "r2", "r3", 0, 0);      /* expecting a value on absent */
    check_stored(f->st, "s", "rt", NULL);
    cas(f->st, "rt", NULL, NULL, 0, 1);      /* absent -> absent */
    /* A CAS seen from another handle. */
    {
        host_state *other = reopen(f);

        cas(other, "rt", NULL, "from-other", 0, 1);
        host_state_free(other);
    }
    check_stored(f->st, "s", "rt", "from-other");
}

static void test_secret_round_trip_not_in_clear(void **state)
{
    struct fixture *f = *state;
    static const char secret[] = "refresh-token-5f1c2e9a-SECRET";
    static const char plain[] = "cursor-value-PLAINTEXT-7d3e";
    char wal[PATH_MAX + 8];
    struct stat sb;
    host_state *other;

    put(f->st, "acme", "oauth.refresh_token", secret, CONN_STATE_SECRET);
    put(f->st, "acme", "cursor", plain, 0);
    check_stored(f->st, "acme", "oauth.refresh_token", secret);
    /* The key file: made on first use, private. */
    assert_int_equal(stat(f->key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, HOST_KEY_BYTES);
    /* Another handle decrypts it too. */
    other = reopen(f);
    check_stored(other, "acme", "oauth.refresh_token", secret);
    host_state_free(other);
    /* On disk (database and write-ahead log), the plaintext cursor shows
     * (so the search works) and the secret does not. */
    snprintf(wal, sizeof(wal), "%s-wal", f->db);
    assert_true(host_test_file_contains(f->db, plain, strlen(plain)) ||
                host_test_file_contains(wal, plain, strlen(plain)));
    assert_false(host_test_file_contains(f->db, secret, strlen(secret)));
    assert_false(host_test_file_contains(wal, secret, strlen(secret)));
    /* Sealing twice gives different bytes (fresh nonce). */
    put(f->st, "acme", "second", secret, CONN_STATE_SECRET);
    {
        sqlite3 *db;
        sqlite3_stmt *stmt;
        const void *b1, *b2;

        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT a.value, b.value, a.secret FROM state a, "
                                            "state b WHERE a.key = 'oauth.refresh_token' AND "
                                            "b.key = 'second'",
                                            -1, &stmt, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        b1 = sqlite3_column_blob(stmt, 0);
        b2 = sqlite3_column_blob(stmt, 1);
        assert_int_equal(sqlite3_column_bytes(stmt, 0), strlen(secret) + HOST_SEALED_OVERHEAD);
        assert_int_equal(sqlite3_column_int(stmt, 2), 1);
        assert_memory_not_equal(b1, b2, strlen(secret) + HOST_SEALED_OVERHEAD);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
    }
    /* A secret can be replaced by a plain value and back. */
    put(f->st, "acme", "second", "now-plain", 0);
    check_stored(f->st, "acme", "second", "now-plain");
}

/* Run SQL on the database behind the host's back (the attacker's view). */
static void tamper_sql(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

/* Flip the lowest bit of byte `offset` of the stored value of acme/key. */
static void tamper_flip(struct fixture *f, const char *key, int offset)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    unsigned char buf[512];
    int n;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT value FROM state WHERE subscription = 'acme' "
                                        "AND key = ?1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    n = sqlite3_column_bytes(stmt, 0);
    assert_true(n > offset && (size_t)n <= sizeof(buf));
    memcpy(buf, sqlite3_column_blob(stmt, 0), (size_t)n);
    sqlite3_finalize(stmt);
    buf[offset] ^= 1;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "UPDATE state SET value = ?1 WHERE subscription = "
                                        "'acme' AND key = ?2",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(stmt, 1, buf, n, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void expect_undecryptable(host_state *st, const char *sub, const char *key,
                                 const char *why)
{
    char buf[256];
    size_t len = 0;
    conn_error err;

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(host_state_get(st, sub, key, buf, sizeof(buf), &len, &err), CONN_INTERNAL);
    assert_int_equal(err.status, CONN_INTERNAL);
    assert_non_null(strstr(err.message, "cannot be decrypted"));
    assert_non_null(strstr(err.message, key));
    assert_non_null(strstr(err.message, why));
    /* Never bytes. */
    assert_int_equal(len, 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'X');
}

static void test_tampered_secret_detected(void **state)
{
    struct fixture *f = *state;
    host_state *other;

    put(f->st, "acme", "token", "the-access-token", CONN_STATE_SECRET);
    put(f->st, "acme", "other", "another-token", CONN_STATE_SECRET);
    /* One ciphertext bit flipped (byte 20 is inside the ciphertext), then
     * one tag bit, then one nonce bit. */
    for (int offset = 20, i = 0; i < 3; i++) {
        tamper_flip(f, "token", offset);
        other = reopen(f);
        expect_undecryptable(other, "acme", "token", "tampered with");
        host_state_free(other);
        tamper_flip(f, "token", offset); /* back to the original */
        other = reopen(f);
        check_stored(other, "acme", "token", "the-access-token");
        host_state_free(other);
        offset = i == 0 ? 1 + HOST_NONCE_BYTES + 16 + 3 : 5;
    }
    tamper_flip(f, "token", 20);
    other = reopen(f);
    expect_undecryptable(other, "acme", "token", "tampered with");
    check_stored(other, "acme", "other", "another-token");
    host_state_free(other);
    /* A valid sealed value moved to another key fails (the key name is in
     * the authenticated data). */
    tamper_sql(f, "UPDATE state SET value = (SELECT value FROM state WHERE key = 'other') "
                  "WHERE key = 'token'");
    other = reopen(f);
    expect_undecryptable(other, "acme", "token", "tampered with");
    host_state_free(other);
    /* ... or to another subscription. */
    tamper_sql(f, "INSERT INTO state SELECT 'globex', key, value, secret, updated_ms "
                  "FROM state WHERE subscription = 'acme' AND key = 'other'");
    other = reopen(f);
    expect_undecryptable(other, "globex", "other", "tampered with");
    host_state_free(other);
    /* A truncated value. */
    tamper_sql(f, "UPDATE state SET value = substr(value, 1, 10) WHERE key = 'other' AND "
                  "subscription = 'acme'");
    other = reopen(f);
    expect_undecryptable(other, "acme", "other", "tampered with");
    host_state_free(other);
}

static void write_key_file(const char *path, unsigned char fill, mode_t mode)
{
    unsigned char bytes[HOST_KEY_BYTES];
    int fd;

    memset(bytes, fill, sizeof(bytes));
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, sizeof(bytes)), sizeof(bytes));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_wrong_key_detected(void **state)
{
    struct fixture *f = *state;
    host_state *other;

    put(f->st, "acme", "token", "the-access-token", CONN_STATE_SECRET);
    write_key_file(f->key, 0x5a, 0600);
    other = reopen(f);
    expect_undecryptable(other, "acme", "token", "does not match");
    /* The message names the key file. */
    {
        char buf[64];
        size_t len;
        conn_error err;

        host_state_get(other, "acme", "token", buf, sizeof(buf), &len, &err);
        assert_non_null(strstr(err.message, f->key));
        assert_null(strstr(err.message, "the-access-token"));
    }
    host_state_free(other);
}

static void test_key_file_permissions(void **state)
{
    struct fixture *f = *state;
    host_state *other;
    char buf[64];
    size_t len;
    conn_error err;

    put(f->st, "acme", "token", "the-access-token", CONN_STATE_SECRET);
    assert_int_equal(chmod(f->key, 0640), 0);
    other = reopen(f);
    assert_int_equal(host_state_get(other, "acme", "token", buf, sizeof(buf), &len, &err),
                     CONN_INTERNAL);
    assert_non_null(strstr(err.message, "mode 0640"));
    assert_non_null(strstr(err.message, "chmod 600"));
    /* Writing a secret is refused too: the key is not trusted. */
    assert_int_equal(host_state_put(other, "acme", "t2", "x", 1, CONN_STATE_SECRET, &err),
                     CONN_INTERNAL);
    assert_non_null(strstr(err.message, "chmod 600"));
    /* Plain values are unaffected. */
    put(other, "acme", "cursor", "c1", 0);
    host_state_free(other);
    /* A key file of the wrong size. */
    unlink(f->key);
    {
        int fd = open(f->key, O_WRONLY | O_CREAT | O_EXCL, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "short", 5), 5);
        close(fd);
    }
    other = reopen(f);
    assert_int_equal(host_state_get(other, "acme", "token", buf, sizeof(buf), &len, &err),
                     CONN_INTERNAL);
    assert_non_null(strstr(err.message, "exactly 32 bytes"));
    host_state_free(other);
    /* No key file at all: the secret cannot be read, and reading does not
     * make a new key. */
    unlink(f->key);
    other = reopen(f);
    assert_int_equal(host_state_get(other, "acme", "token", buf, sizeof(buf), &len, &err),
                     CONN_INTERNAL);
    assert_non_null(strstr(err.message, "does not exist"));
    assert_int_not_equal(access(f->key, F_OK), 0);
    host_state_free(other);
}

static void test_cas_on_secret(void **state)
{
    struct fixture *f = *state;

    cas(f->st, "rt", NULL, "refresh-1", CONN_STATE_SECRET, 1);
    cas(f->st, "rt", "refresh-0", "refresh-2", CONN_STATE_SECRET, 0);
    cas(f->st, "rt", "refresh-1", "refresh-2", CONN_STATE_SECRET, 1);
    check_stored(f->st, "s", "rt", "refresh-2");
    assert_false(host_test_file_contains(f->db, "refresh-2", 9));
}

static void test_schema_version(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;
    sqlite3_stmt *stmt;
    host_state *other;
    conn_error err;

    put(f->st, "s", "k", "v", 0);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), HOST_STATE_SCHEMA_VERSION);
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    /* A file from a newer host is refused, not damaged. */
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    other = reopen(f);
    assert_int_equal(host_state_open(other, &err), CONN_INVALID);
    assert_non_null(strstr(err.message, "schema version 99"));
    host_state_free(other);
}

static void test_default_path(void **state)
{
    char *path = NULL;
    char *old_xdg = getenv("XDG_STATE_HOME") ? strdup(getenv("XDG_STATE_HOME")) : NULL;
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    conn_error err;

    (void)state;
    setenv("XDG_STATE_HOME", "/xdg/state", 1);
    assert_int_equal(host_state_default_path(&path, &err), CONN_OK);
    assert_string_equal(path, "/xdg/state/connector-host/state.db");
    free(path);
    setenv("XDG_STATE_HOME", "relative/ignored", 1);
    setenv("HOME", "/home/someone", 1);
    assert_int_equal(host_state_default_path(&path, &err), CONN_OK);
    assert_string_equal(path, "/home/someone/.local/state/connector-host/state.db");
    free(path);
    unsetenv("XDG_STATE_HOME");
    assert_int_equal(host_state_default_path(&path, &err), CONN_OK);
    assert_string_equal(path, "/home/someone/.local/state/connector-host/state.db");
    free(path);
    {
        host_state *st = NULL;

        assert_int_equal(host_state_new("/x/y/state.sqlite", &st, &err), CONN_OK);
        assert_string_equal(host_state_key_path(st), "/x/y/state.sqlite.key");
        host_state_free(st);
    }
    if (old_xdg != NULL)
        setenv("XDG_STATE_HOME", old_xdg, 1);
    if (old_home != NULL)
        setenv("HOME", old_home, 1);
    free(old_xdg);
    free(old_home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paths_and_lazy_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_put_replace_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_values_and_namespaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cas_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_round_trip_not_in_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_secret_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cas_on_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
        cmocka_unit_test(test_default_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
