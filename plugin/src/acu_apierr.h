/* acu_apierr.h - reading Acumatica's error answers and putting them in a
 * status class.
 *
 * Shapes understood (API-NOTES section 3.1 and 1.8):
 *   - HttpError: message, exceptionMessage, exceptionType, modelState,
 *     messageDetail, innerException (nested);
 *   - 422 entity bodies: the record echoed back with a top-level "error" and
 *     "error" beside the "value" of each refused field, also inside detail
 *     lines, reported as paths like Details[2].InventoryID;
 *   - OAuth token-endpoint errors: error, error_description;
 *   - anything else (HTML from IIS or a proxy, plain text): the text with
 *     tags stripped, shortened.
 * Nothing is trusted: every string is bounded, control characters are
 * replaced, and nesting is walked to a fixed depth. */
#ifndef ACU_APIERR_H
#define ACU_APIERR_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"

/* Longest text kept of any one message, and most field errors kept. */
#define ACU_APIERR_TEXT_MAX 400
#define ACU_APIERR_FIELDS_MAX 64

/* The fixed sentence for Acumatica's "API Login Limit". */
#define ACU_LOGIN_LIMIT_TEXT                                                      \
    "all API-user seats of the Acumatica license are in use (API Login Limit) - "  \
    "sign out other sessions or wait for them to expire (about 10 minutes for "    \
    "cookie sessions, up to an hour for OAuth)"

/* One refused field of a 422 answer. */
typedef struct acu_field_error {
    char *path;    /* "Details[2].InventoryID"; "" for the record itself */
    char *message; /* Acumatica's text */
    char *value;   /* the refused value as Acumatica echoed it, or NULL */
} acu_field_error;

typedef struct acu_apierr {
    conn_status status;   /* the class */
    int http_status;      /* 0 when no response */
    char *message;        /* the main text (exceptionMessage, error, ...) */
    char *detail;         /* a second line (inner exception), may be NULL */
    char *type;           /* exceptionType or the OAuth error code, may be NULL */
    acu_field_error *fields;
    size_t nfields;
    size_t nfields_dropped; /* field errors beyond ACU_APIERR_FIELDS_MAX */
    int login_limit;      /* the body names the API Login Limit */
    int transient;        /* waiting and sending again may help (429, 5xx) */
    int not_processed;    /* the server declined before doing anything (429,
                             401, login limit): safe to send again even for
                             a create */
    int html;             /* the body was an HTML page, not the API's JSON */
    char *version;        /* the endpoint version the site does not serve
                             (status INVALID), else NULL */
} acu_apierr;

/* Read an error answer. `endpoint_version` (may be NULL) lets an "unknown
 * endpoint" answer be named. Always fills *out (status INTERNAL with a
 * message when even the shape is unknown); returns CONN_NOMEM only when
 * memory ran out, else CONN_OK. */
conn_status acu_apierr_parse(int http_status, const char *content_type,
                             const char *body, size_t len,
                             const char *endpoint_version, acu_apierr *out);

/* Fill err from e: status, a message starting with `what` ("GET Customer"),
 * the detail type, the HTTP status and retry_after_ms (may be -1). Field
 * errors are listed on the following lines while they fit. */
void acu_apierr_to_conn(const acu_apierr *e, const char *what,
                        int64_t retry_after_ms, conn_error *err);

/* Free the strings and the field list; accepts NULL. */
void acu_apierr_free(acu_apierr *e);

/* Copy at most `max` bytes of untrusted text into a new string, replacing
 * control characters with spaces, collapsing runs of white space and, when
 * strip_tags is set, dropping <...> tags. Never cuts a UTF-8 sequence in
 * two. NULL when out of memory. */
char *acu_text_clean(const char *s, size_t len, size_t max, int strip_tags);

#endif
