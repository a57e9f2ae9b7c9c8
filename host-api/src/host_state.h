/* host_state.h - the host's persistent state: one SQLite file in WAL mode.
 *
 * Values are keyed by (subscription, key). Values stored with
 * CONN_STATE_SECRET are sealed with AES-256-GCM (host_crypto.h) under the key
 * file beside the database. Compare-and-swap runs in a BEGIN IMMEDIATE
 * transaction, so it is atomic across every process sharing the file.
 *
 * The database is opened on first use, so a command that never touches
 * state creates no file. One host_state may be shared by threads: every
 * operation holds the handle's mutex. Each process opens its own. */
#ifndef HOST_STATE_H
#define HOST_STATE_H

#include <stddef.h>

#include "conn_abi.h"

typedef struct host_state host_state;

/* The schema this host writes (PRAGMA user_version). A later host migrates
 * older files forward; this one refuses a newer file. */
#define HOST_STATE_SCHEMA_VERSION 2

/* Longest subscription name and key, and largest value, in bytes. Values are
 * tokens and cursors; the cap stops a runaway plugin from filling the disk. */
#define HOST_STATE_SUBSCRIPTION_MAX 128
#define HOST_STATE_KEY_MAX 256
#define HOST_STATE_VALUE_MAX (1024u * 1024u)

/* How long a writer waits for another process's transaction, in ms. */
#define HOST_STATE_BUSY_TIMEOUT_MS 10000

/* The default database path: $XDG_STATE_HOME/connector-host/state.db when
 * XDG_STATE_HOME is an absolute path, else ~/.local/state/connector-host/
 * state.db. *out is malloc'd (caller frees). */
conn_status host_state_default_path(char **out, conn_error *err);

/* A handle for the database at db_path (NULL: the default path). The key
 * file is db_path with ".db" replaced by ".key" (or ".key" appended). Nothing
 * is opened or created until the first operation. */
conn_status host_state_new(const char *db_path, host_state **out, conn_error *err);

/* Close the database and wipe the cached key. Accepts NULL. */
void host_state_free(host_state *st);

/* The database and key file paths. */
const char *host_state_path(const host_state *st);
const char *host_state_key_path(const host_state *st);

/* Open (creating the directories with mode 0700, the file with 0600, and
 * the schema) now rather than on first use. Idempotent. */
conn_status host_state_open(host_state *st, conn_error *err);

/* conn_host_api.state_get for `subscription`: copies the value into buf when
 * it fits in cap; *len is always the full length. CONN_NOT_FOUND when absent.
 * A secret that does not decrypt is CONN_INTERNAL, never bytes. */
conn_status host_state_get(host_state *st, const char *subscription, const char *key,
                           char *buf, size_t cap, size_t *len, conn_error *err);

/* conn_host_api.state_put: store (value != NULL) or delete (value == NULL).
 * CONN_STATE_SECRET in flags seals the value, creating the key file on first
 * use. */
conn_status host_state_put(host_state *st, const char *subscription, const char *key,
                           const char *value, size_t len, unsigned flags, conn_error *err);

/* conn_host_api.state_cas: in one immediate transaction, compare the current
 * (decrypted) value with expected (NULL: absent) and, when equal, store value
 * (NULL: delete) with flags; *swapped says which happened. */
conn_status host_state_cas(host_state *st, const char *subscription, const char *key,
                           const char *expected, size_t expected_len, const char *value,
                           size_t len, unsigned flags, int *swapped, conn_error *err);

#endif
