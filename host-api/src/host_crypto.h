/* host_crypto.h - the secret key file and AES-256-GCM sealing of secrets.
 *
 * Secrets in host state are sealed with AES-256-GCM under a 32-byte key kept
 * in a file of its own (mode 0600, beside the state database), so a copy of
 * the database alone reveals no secret. Each value gets a fresh random
 * 12-byte nonce; the additional authenticated data binds the value to its
 * subscription and key name, so a sealed value moved to another key or
 * subscription fails to open instead of decrypting. */
#ifndef HOST_CRYPTO_H
#define HOST_CRYPTO_H

#include <stddef.h>

#include "conn_abi.h"

#define HOST_KEY_BYTES 32
#define HOST_NONCE_BYTES 12
#define HOST_TAG_BYTES 16
/* Layout of a sealed value: version byte, nonce, ciphertext, tag. */
#define HOST_SEALED_VERSION 1
#define HOST_SEALED_OVERHEAD (1 + HOST_NONCE_BYTES + HOST_TAG_BYTES)

typedef struct host_key {
    unsigned char bytes[HOST_KEY_BYTES];
} host_key;

/* Read the key file at `path`. When it does not exist and `create` is
 * nonzero, make it: 32 random bytes, mode 0600, published atomically (a
 * concurrent creator in another process ends up with the same key).
 * Refuses, with a sentence naming the file, a key file that is not a regular
 * file, belongs to another user, is readable or writable by group or others,
 * or does not hold exactly 32 bytes. CONN_NOT_FOUND when absent and !create. */
conn_status host_key_load(const char *path, int create, host_key *key, conn_error *err);

/* Overwrite the key bytes. Accepts NULL. */
void host_key_wipe(host_key *key);

/* Seal plaintext (len bytes) with aad. *out (malloc'd, caller frees) gets
 * len + HOST_SEALED_OVERHEAD bytes. */
conn_status host_seal(const host_key *key, const char *aad, size_t aad_len,
                      const char *plain, size_t len, unsigned char **out,
                      size_t *out_len, conn_error *err);

/* Open a sealed value. Returns 1 and sets *out (malloc'd, NUL-terminated
 * for convenience, caller frees) and *out_len on success; 0 when the value
 * does not authenticate (wrong key, other aad, tampered or truncated bytes)
 * and -1 when out of memory or OpenSSL fails. Never returns unauthenticated
 * bytes. */
int host_unseal(const host_key *key, const char *aad, size_t aad_len,
                const unsigned char *sealed, size_t sealed_len, char **out,
                size_t *out_len);

#endif
