/* acu_crypto.h - randomness, base64url, SHA-256 and constant-time compare,
 * all from OpenSSL, plus a small per-instance PRNG for jitter.
 *
 * Secrets (PKCE verifiers, OAuth state) come from RAND_bytes directly. The
 * PRNG only spreads retry delays; it is seeded from RAND_bytes so two
 * processes never retry in lock step, and it lives in the instance because
 * the plugin keeps no mutable globals. */
#ifndef ACU_CRYPTO_H
#define ACU_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"

/* Fill buf with n cryptographically strong random bytes. CONN_INTERNAL
 * (with a message) when OpenSSL's generator fails. */
conn_status acu_random_bytes(unsigned char *buf, size_t n, conn_error *err);

/* Space needed for the base64url text of n bytes, NUL included. */
#define ACU_B64URL_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode n bytes as unpadded base64url (RFC 4648 section 5) into out
 * (cap bytes). Returns the text length, or 0 when cap is too small. */
size_t acu_b64url_encode(const unsigned char *data, size_t n, char *out,
                         size_t cap);

/* A random token of `nbytes` random bytes as base64url text into out.
 * 32 bytes give 43 characters (the PKCE verifier minimum). */
conn_status acu_random_token(size_t nbytes, char *out, size_t cap,
                             conn_error *err);

/* Room for a PKCE challenge while it is encoded (43 characters, NUL, and
 * the padding EVP_EncodeBlock writes before it is trimmed). */
#define ACU_PKCE_CHALLENGE_SIZE ACU_B64URL_LEN(32)

/* The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)),
 * 43 characters plus NUL. */
conn_status acu_pkce_challenge(const char *verifier,
                               char out[ACU_PKCE_CHALLENGE_SIZE], conn_error *err);

/* Nonzero when the two byte strings are equal. The time taken depends only
 * on the lengths, not on where the contents differ. */
int acu_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* xoshiro256** state, seeded from RAND_bytes. */
typedef struct acu_prng {
    uint64_t s[4];
} acu_prng;

/* Seed from the system's strong generator. */
conn_status acu_prng_seed(acu_prng *p, conn_error *err);

/* Seed deterministically (tests). */
void acu_prng_seed_fixed(acu_prng *p, uint64_t seed);

/* A uniform value in [0, bound); bound 0 gives 0. */
uint64_t acu_prng_below(acu_prng *p, uint64_t bound);

#endif
