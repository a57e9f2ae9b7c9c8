/* fuzz_apierr.c - libFuzzer target for Acumatica's error answers
 * (acu_apierr_parse and acu_apierr_to_conn) and the Retry-After parser.
 *
 * Input: byte 0 picks the HTTP status and content type, the rest is the
 * body (and, NUL-terminated, a Retry-After value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acu_apierr.h"
#include "acu_backoff.h"
#include "acu_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = {200, 400, 401, 403, 404, 408, 412, 422,
                                   429, 500, 502, 503, 504, 411, 418, 302};
    static const char *const types[] = {"application/json; charset=utf-8", "text/html", NULL,
                                        "text/plain"};
    acu_apierr e;
    conn_error err;
    char *text;
    int status;
    const char *ctype;

    if (size < 1)
        return 0;
    status = statuses[data[0] & 0x0f];
    ctype = types[(data[0] >> 4) & 0x03];
    if (acu_apierr_parse(status, ctype, (const char *)data + 1, size - 1,
                         (data[0] & 0x40) ? "22.200.001" : NULL, &e) == CONN_OK) {
        acu_err_clear(&err);
        acu_apierr_to_conn(&e, "GET Fuzz", -1, &err);
        if (strnlen(err.message, sizeof(err.message)) >= sizeof(err.message))
            abort(); /* the message must stay NUL-terminated */
        for (size_t i = 0; i < e.nfields; i++)
            if (e.fields[i].path == NULL || e.fields[i].message == NULL)
                abort();
    }
    acu_apierr_free(&e);
    /* The same bytes as a Retry-After header value. */
    text = malloc(size);
    if (text != NULL) {
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        (void)acu_retry_after_parse(text, 1700000000000LL);
        free(text);
    }
    return 0;
}
