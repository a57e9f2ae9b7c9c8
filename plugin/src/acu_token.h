/* acu_token.h - reading a successful OAuth token-endpoint answer
 * (RFC 6749 section 5.1): access_token, token_type, expires_in,
 * refresh_token, scope.
 *
 * The input is untrusted. Token values are checked to be printable ASCII
 * without spaces (RFC 6750's b64token alphabet is narrower; Acumatica's
 * tokens are opaque, so any visible character is accepted) and bounded.
 * No error text ever contains a token value. */
#ifndef ACU_TOKEN_H
#define ACU_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"

#define ACU_TOKEN_MAX 8192 /* longest access or refresh token accepted */

typedef struct acu_token {
    char *access_token;  /* secret */
    char *refresh_token; /* secret; NULL when none was issued */
    char *scope;         /* NULL when the answer had none */
    int64_t expires_in;  /* seconds; 3600 when the answer had none */
} acu_token;

/* Parse body[0..len). CONN_OK and *out filled, or CONN_AUTH/CONN_INTERNAL
 * with a message (naming the field, never its value) when the answer is
 * not a usable token response, or CONN_NOMEM. */
conn_status acu_token_parse(const char *body, size_t len, acu_token *out,
                            conn_error *err);

/* Wipe and free the strings; accepts NULL. */
void acu_token_free(acu_token *t);

#endif
