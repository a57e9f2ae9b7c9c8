/* acu_auth_store.h - what the plugin keeps in host state about sign-in.
 *
 * Keys (per instance; the host scopes them by subscription):
 *
 *   acu.oauth.tokens   SECRET. The OAuth tokens, one JSON object:
 *                      {"v":1, "grant":"authorization_code"|"password",
 *                       "client_id":..., "api_url":...,
 *                       "access_token":..., "expires_at":<ms since epoch>,
 *                       "lifetime_s":<expires_in as issued>,
 *                       "refresh_token":...|null, "scope":...,
 *                       "obtained_at":<ms>}
 *                      Replaced with state_cas whenever a refresh token is
 *                      spent (expected = the exact bytes that held the spent
 *                      token), so two processes sharing the subscription
 *                      never both keep using one rotated token; the token is
 *                      claimed (acu.oauth.refresh_claim) before it is spent,
 *                      so they never both spend it either. Tokens stored
 *                      for another client_id, API URL or grant are ignored.
 *
 *   acu.oauth.refresh_claim  Not secret. The claim of the process about to
 *                      spend the refresh token (acu_auth_claim.c):
 *                      {"v":1, "by":<random claimant id>,
 *                       "token":<base64url SHA-256 of the refresh token>,
 *                       "until":<ms since the epoch>}
 *                      Written and removed with state_cas; while it lives,
 *                      other processes wait for the rotated tokens instead
 *                      of spending the same refresh token.
 *
 *   acu.oauth.pending  SECRET. An authorization-code flow in progress:
 *                      {"v":1, "state":..., "verifier":..., "redirect_uri":...,
 *                       "client_id":..., "expires_at":<ms>}
 *                      Written by step begin, removed by step complete.
 *
 * Cookie sessions are not stored: they live in the instance's cookie
 * engine and end at shutdown. */
#ifndef ACU_AUTH_STORE_H
#define ACU_AUTH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "acu_instance.h"

#define ACU_KEY_TOKENS "acu.oauth.tokens"
#define ACU_KEY_PENDING "acu.oauth.pending"
#define ACU_KEY_REFRESH_CLAIM "acu.oauth.refresh_claim"

/* Read a key into a malloc'd NUL-terminated buffer. CONN_NOT_FOUND when
 * absent (then *val is NULL). */
conn_status acu_store_get(conn_instance *inst, const char *key, char **val,
                          size_t *len, conn_error *err);

/* Write (val NULL: delete) a secret key. */
conn_status acu_store_put_secret(conn_instance *inst, const char *key,
                                 const char *val, size_t len, conn_error *err);

/* Compare-and-swap a secret key; *swapped says whether it happened. */
conn_status acu_store_cas_secret(conn_instance *inst, const char *key,
                                 const char *expected, size_t elen,
                                 const char *val, size_t len, int *swapped,
                                 conn_error *err);

/* Compare-and-swap a key that holds no secret (val NULL: delete). */
conn_status acu_store_cas(conn_instance *inst, const char *key, const char *expected,
                          size_t elen, const char *val, size_t len, int *swapped,
                          conn_error *err);

/* The decoded acu.oauth.tokens. */
typedef struct acu_tokens {
    char *grant;
    char *client_id;
    char *api_url;
    char *access_token;  /* secret */
    char *refresh_token; /* secret, may be NULL */
    char *scope;         /* may be NULL */
    int64_t expires_at;  /* ms since the epoch */
    int64_t lifetime_s;
    int64_t obtained_at;
} acu_tokens;

/* Decode; CONN_INVALID when the text is not a tokens object. */
conn_status acu_tokens_decode(const char *text, size_t len, acu_tokens *out);

/* Encode into a malloc'd string (*len set); NULL when out of memory. */
char *acu_tokens_encode(const acu_tokens *t, size_t *len);

/* Wipe and free; accepts NULL. */
void acu_tokens_free(acu_tokens *t);

/* Wipe a malloc'd secret string and free it; accepts NULL. */
void acu_secret_free(char *s);

#endif
