/* acu_settings.h - the subscription's settings: one table of descriptors
 * from which both the `describe` JSON Schema and the validation in `init`
 * are produced, so a default or a range exists in exactly one place.
 *
 * The keys are a fixed interface (snake_case, see issue 4); titles and
 * descriptions are what a customer reads. */
#ifndef ACU_SETTINGS_H
#define ACU_SETTINGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "conn_abi.h"

/* How the plugin signs in. The bit values are used in "required for"
 * masks of the descriptor table. */
typedef enum acu_grant {
    ACU_GRANT_AUTHORIZATION_CODE = 0,
    ACU_GRANT_PASSWORD = 1,
    ACU_GRANT_COOKIE = 2
} acu_grant;
#define ACU_GRANT_BIT(g) (1u << (g))
#define ACU_GRANTS_OAUTH (ACU_GRANT_BIT(ACU_GRANT_AUTHORIZATION_CODE) | ACU_GRANT_BIT(ACU_GRANT_PASSWORD))

/* The settings after validation. Strings are malloc'd and NULL when not set
 * (an empty string counts as not set). */
typedef struct acu_settings {
    char *api_url; /* without trailing '/', e.g. https://host/AcumaticaERP */
    char *username;
    char *password; /* secret */
    char *client_id;
    char *client_secret; /* secret */
    char *scope;         /* space-separated; always set (default) */
    acu_grant grant_type;
    char *endpoint_version; /* "22.200.001"; always set */
    char *redirect_url;
    int tracking_poll_days;
    char *time_zone_offset;       /* as given: "-05:00" */
    int time_zone_offset_minutes; /* the same, in minutes east of UTC */
    bool sales_order_duplicate_checking;
    int api_throttle_limit;
    int api_throttle_seconds;
    int concurrent_connections;
    int concurrent_batch_executions;
    bool create_default_mappings;
    char *tenant;
    char *branch;
    char *ca_file;
    bool allow_http_loopback;
    int page_size;
    int request_timeout; /* seconds, whole request including Acumatica's queue */
    /* A JSON array (owned reference, never NULL after parsing); each item a
     * file path (string) or an inline overlay (object). The mapping engine
     * checks what they contain. */
    json_object *mapping_overrides;
} acu_settings;

/* Parse and validate the settings object. Every problem is reported at
 * once: err->message gets one line per problem naming the key and its
 * title, and CONN_INVALID is returned. Warnings (a scope without
 * offline_access) are written through warn(user, text) when warn is not
 * NULL. On success *out holds every value (defaults filled in). */
conn_status acu_settings_parse(json_object *obj, acu_settings *out,
                               void (*warn)(void *user, const char *text),
                               void *user, conn_error *err);

/* Free the strings and the overrides; accepts NULL. */
void acu_settings_free(acu_settings *s);

/* The settings as a JSON Schema (draft 2020-12) object, made from the
 * descriptor table. The caller puts the result. NULL when out of memory. */
json_object *acu_settings_schema(void);

/* The name of a grant type as used in the settings ("password"). */
const char *acu_grant_name(acu_grant g);

/* Nonzero when the space-separated scope contains the word `word`. */
int acu_scope_has(const char *scope, const char *word);

/* Edit (Levenshtein) distance between two short strings, capped at 255. */
int acu_edit_distance(const char *a, const char *b);

/* Parse "+05:30" / "-05:00" into minutes east of UTC; -1 on success is
 * impossible, so it returns 0 on success and -1 on a bad format. The range
 * is -14:00..+14:00. */
int acu_tz_offset_parse(const char *text, int *minutes);

#endif
