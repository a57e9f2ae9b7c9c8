/* fuzz_token.c - libFuzzer target for the OAuth token-endpoint answer
 * (acu_token_parse) and the stored-tokens value read back from host state
 * (acu_tokens_decode), which another process may have written.
 *
 * Input: byte 0 picks the parser, the rest is the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acu_auth_store.h"
#include "acu_error.h"
#include "acu_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text;
    size_t len;

    if (size < 1)
        return 0;
    text = (const char *)data + 1;
    len = size - 1;
    if (data[0] & 1) {
        acu_tokens t;

        if (acu_tokens_decode(text, len, &t) == CONN_OK) {
            size_t n = 0;
            char *again = acu_tokens_encode(&t, &n);

            if (again != NULL && strlen(again) != n)
                abort();
            free(again);
        }
        acu_tokens_free(&t);
    } else {
        acu_token t;
        conn_error err;

        acu_err_clear(&err);
        if (acu_token_parse(text, len, &t, &err) == CONN_OK) {
            /* What was accepted is bounded, visible ASCII. */
            if (t.access_token == NULL || strlen(t.access_token) > ACU_TOKEN_MAX ||
                t.expires_in <= 0)
                abort();
        } else if (t.access_token != NULL || strnlen(err.message, sizeof(err.message)) ==
                                                 sizeof(err.message)) {
            abort();
        }
        acu_token_free(&t);
    }
    return 0;
}
