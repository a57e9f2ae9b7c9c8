/* acu_settings.c - the settings descriptor table, validation and schema. */
#include "acu_settings.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acu_buf.h"
#include "acu_error.h"
#include "acu_url.h"

typedef enum desc_type {
    T_STRING, /* char * */
    T_INT,    /* int, with min/max */
    T_BOOL,   /* bool */
    T_ENUM,   /* one of choices; stored as char * or, for grant_type, acu_grant */
    T_LIST    /* json_object * array of strings or objects */
} desc_type;

#define F_SECRET 0x1u   /* never echoed; writeOnly in the schema */
#define F_REQUIRED 0x2u /* required whatever the grant type */
#define F_GRANT 0x4u    /* the grant_type enum, stored as acu_grant */

/* A format check for a string value: 0 when fine, else -1 with a reason. */
typedef int (*check_fn)(const char *value, char *why, size_t whycap);

typedef struct desc {
    const char *key;
    const char *title;
    const char *description;
    desc_type type;
    unsigned flags;
    unsigned required_for; /* ACU_GRANT_BIT mask */
    const char *def_str;   /* T_STRING/T_ENUM default, NULL for none */
    int def_int;           /* T_INT/T_BOOL default */
    int min, max;          /* T_INT range */
    const char *const *choices; /* T_ENUM, NULL-terminated */
    const char *pattern;   /* JSON Schema pattern (the check implements it) */
    const char *format;    /* JSON Schema format */
    check_fn check;
    size_t off;            /* offsetof(acu_settings, ...) */
} desc;

static const char *const grant_choices[] = {"authorization_code", "password", "cookie", NULL};
static const char *const version_choices[] = {"20.200.001", "22.200.001", "23.200.001",
                                              "24.200.001", NULL};

static int check_tz(const char *value, char *why, size_t whycap);
static int check_scope(const char *value, char *why, size_t whycap);
static int check_redirect(const char *value, char *why, size_t whycap);
static int check_client_id(const char *value, char *why, size_t whycap);
static int check_ca_file(const char *value, char *why, size_t whycap);

#define OFF(m) offsetof(acu_settings, m)
#define AC ACU_GRANT_BIT(ACU_GRANT_AUTHORIZATION_CODE)
#define PW ACU_GRANT_BIT(ACU_GRANT_PASSWORD)
#define CK ACU_GRANT_BIT(ACU_GRANT_COOKIE)

/* The one table. Order is the order a person sees in a settings form. */
static const desc table[] = {
    {"api_url", "API URL",
     "Address of your Acumatica site, including the site path, e.g. "
     "https://yourcompany.acumatica.com or https://erp.example.com/AcumaticaERP. "
     "Must be https.",
     T_STRING, F_REQUIRED, 0, NULL, 0, 0, 0, NULL, NULL, "uri", NULL, OFF(api_url)},
    {"grant_type", "Grant Type",
     "How the connector signs in: authorization_code (recommended: a person approves "
     "the connector once in Acumatica), password (the connected application signs in "
     "with a user name and password) or cookie (a direct sign-in with user name and "
     "password, which Acumatica plans to retire).",
     T_ENUM, F_GRANT, 0, "authorization_code", 0, 0, 0, grant_choices, NULL, NULL, NULL,
     OFF(grant_type)},
    {"client_id", "Client ID",
     "The Client ID of the connected application registered on the Connected "
     "Applications form (SM303010) in Acumatica; it looks like GUID@Tenant.",
     T_STRING, 0, AC | PW, NULL, 0, 0, 0, NULL, NULL, NULL, check_client_id,
     OFF(client_id)},
    {"client_secret", "Client Secret",
     "A shared secret of that connected application (the Secrets tab of the "
     "Connected Applications form).",
     T_STRING, F_SECRET, AC | PW, NULL, 0, 0, 0, NULL, NULL, NULL, NULL,
     OFF(client_secret)},
    {"username", "Username",
     "The Acumatica user the connector signs in as (password and cookie sign-in).",
     T_STRING, 0, PW | CK, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, OFF(username)},
    {"password", "Password", "The password of that Acumatica user.",
     T_STRING, F_SECRET, PW | CK, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, OFF(password)},
    {"scope", "Scope",
     "OAuth scopes requested, separated by spaces. Must include api; keep "
     "offline_access so the connector can renew its access without asking you again.",
     T_STRING, 0, 0, "api offline_access", 0, 0, 0, NULL, NULL, NULL, check_scope,
     OFF(scope)},
    {"redirect_url", "Redirect URL",
     "Where Acumatica sends the browser back after you approve the connector; it must "
     "be one of the Redirect URIs of the connected application, exactly.",
     T_STRING, 0, AC, NULL, 0, 0, 0, NULL, NULL, "uri", check_redirect, OFF(redirect_url)},
    {"endpoint_version", "Acumatica Version",
     "Version of the Default contract-based REST endpoint the connector uses.",
     T_ENUM, 0, 0, "22.200.001", 0, 0, 0, version_choices, NULL, NULL, NULL,
     OFF(endpoint_version)},
    {"tenant", "Tenant",
     "Tenant (company) login name for cookie sign-in on a multi-tenant site; leave "
     "empty for the default tenant.",
     T_STRING, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, OFF(tenant)},
    {"branch", "Branch",
     "Branch ID to sign in to with cookie sign-in; leave empty for the user's default.",
     T_STRING, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, OFF(branch)},
    {"time_zone_offset", "Time Zone Offset",
     "Your business's offset from UTC, like -05:00 or +05:30; dates sent to and "
     "compared in Acumatica use it.",
     T_STRING, F_REQUIRED, 0, NULL, 0, 0, 0, NULL, "^[+-](0[0-9]|1[0-4]):[0-5][0-9]$",
     NULL, check_tz, OFF(time_zone_offset)},
    {"tracking_poll_days", "Transaction Tracking Number Poll Search Days",
     "How many days back the first search for shipment tracking numbers looks.",
     T_INT, 0, 0, NULL, 4, 1, 365, NULL, NULL, NULL, NULL, OFF(tracking_poll_days)},
    {"sales_order_duplicate_checking", "Sales Order Duplicate Checking",
     "Before creating a sales order, look it up by the order number it has in your "
     "platform and skip it when it already exists.",
     T_BOOL, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL,
     OFF(sales_order_duplicate_checking)},
    {"api_throttle_limit", "API Throttle Limit",
     "Most requests the connector starts within one throttle window; keep it below your "
     "Acumatica license's requests-per-minute limit (use 5 during initial setup).",
     T_INT, 0, 0, NULL, 500, 1, 100000, NULL, NULL, NULL, NULL, OFF(api_throttle_limit)},
    {"api_throttle_seconds", "API Throttle Seconds",
     "Length of the throttle window in seconds.",
     T_INT, 0, 0, NULL, 60, 1, 3600, NULL, NULL, NULL, NULL, OFF(api_throttle_seconds)},
    {"concurrent_connections", "Concurrent Connections",
     "Most HTTP requests in flight at once; keep it at or below your license's "
     "concurrent-request limit.",
     T_INT, 0, 0, NULL, 5, 1, 10, NULL, NULL, NULL, NULL, OFF(concurrent_connections)},
    {"concurrent_batch_executions", "Concurrent Batch Executions",
     "Most records processed at once within one run.",
     T_INT, 0, 0, NULL, 5, 1, 10, NULL, NULL, NULL, NULL,
     OFF(concurrent_batch_executions)},
    {"create_default_mappings", "Create Default Mappings",
     "Start from the connector's shipped field mappings.",
     T_BOOL, 0, 0, NULL, 1, 0, 0, NULL, NULL, NULL, NULL, OFF(create_default_mappings)},
    {"mapping_overrides", "Mapping Overrides",
     "Your changes to the default mappings: a list of overlay files (paths) or inline "
     "overlay objects, applied in order.",
     T_LIST, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, OFF(mapping_overrides)},
    {"page_size", "Page Size",
     "Records asked for in one page when reading from Acumatica.",
     T_INT, 0, 0, NULL, 500, 1, 5000, NULL, NULL, NULL, NULL, OFF(page_size)},
    {"request_timeout", "Request Timeout",
     "Seconds one request may take in total. Acumatica queues requests over the "
     "license limits for up to 10 minutes before refusing them, so the default "
     "leaves room for that wait plus the work itself.",
     T_INT, 0, 0, NULL, 900, 30, 3600, NULL, NULL, NULL, NULL, OFF(request_timeout)},
    {"ca_file", "CA File",
     "Path of a PEM file with the certificate authority that signed your Acumatica "
     "site's certificate, when it is not a public one.",
     T_STRING, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, check_ca_file, OFF(ca_file)},
    {"allow_http_loopback", "Allow Plain HTTP to Loopback",
     "Allow an http:// API URL when it points at this machine (127.0.0.1, ::1, "
     "localhost), for local testing; https is always required otherwise.",
     T_BOOL, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, OFF(allow_http_loopback)},
};

#define NDESC (sizeof(table) / sizeof(table[0]))

const char *acu_grant_name(acu_grant g)
{
    if ((unsigned)g < 3)
        return grant_choices[g];
    return "unknown";
}

int acu_scope_has(const char *scope, const char *word)
{
    size_t n = strlen(word);
    const char *p = scope;

    if (scope == NULL)
        return 0;
    while (*p != '\0') {
        size_t len;

        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

int acu_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char prev[65], cur[65];

    if (la > 64 || lb > 64)
        return 255;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (unsigned char)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                     tolower((unsigned char)b[j - 1]));
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            int m = sub < del ? sub : del;

            cur[j] = (unsigned char)(m < ins ? m : ins);
        }
        memcpy(prev, cur, lb + 1);
    }
    return prev[lb];
}

int acu_tz_offset_parse(const char *t, int *minutes)
{
    int h, m;

    if (t == NULL || strlen(t) != 6 || (t[0] != '+' && t[0] != '-') || t[3] != ':' ||
        !isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[2]) ||
        !isdigit((unsigned char)t[4]) || !isdigit((unsigned char)t[5]))
        return -1;
    h = (t[1] - '0') * 10 + (t[2] - '0');
    m = (t[4] - '0') * 10 + (t[5] - '0');
    if (m > 59 || h * 60 + m > 14 * 60)
        return -1;
    *minutes = (t[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

static int check_tz(const char *value, char *why, size_t whycap)
{
    int m;

    if (acu_tz_offset_parse(value, &m) == 0)
        return 0;
    snprintf(why, whycap,
             "\"%.40s\" is not an offset like -05:00 or +05:30 (-14:00 to +14:00)",
             value);
    return -1;
}

static int check_scope(const char *value, char *why, size_t whycap)
{
    if (acu_scope_has(value, "api"))
        return 0;
    snprintf(why, whycap,
             "\"%.100s\" lacks the scope api, without which there is no access to the "
             "REST API", value);
    return -1;
}

static int check_redirect(const char *value, char *why, size_t whycap)
{
    char reason[256];

    /* A browser comes back here: https, or http to this machine (RFC 8252
     * loopback redirect for a command-line authorization). */
    if (acu_url_check(value, 1, 0, NULL, reason, sizeof(reason)) == 0)
        return 0;
    snprintf(why, whycap, "%s", reason);
    return -1;
}

static int check_client_id(const char *value, char *why, size_t whycap)
{
    /* Acumatica's ids are GUID@Tenant; a missing tenant part is a common
     * copy-paste slip, but some installations use bare GUIDs, so only the
     * shape of the GUID part is checked. */
    size_t n = strcspn(value, "@");

    if (n >= 8 && n <= 64)
        return 0;
    snprintf(why, whycap,
             "does not look like a Client ID from the Connected Applications form "
             "(GUID@Tenant)");
    return -1;
}

static int check_ca_file(const char *value, char *why, size_t whycap)
{
    if (access(value, R_OK) == 0)
        return 0;
    snprintf(why, whycap, "the file \"%.200s\" cannot be read", value);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Problems are collected, then written into err in one go, in the order
 * of the table (a person reads them top to bottom like the form), unknown
 * keys last. */

#define MAX_PROBLEMS 128

typedef struct problem_line {
    int order;  /* index of the descriptor; NDESC for unknown keys */
    char *text;
} problem_line;

typedef struct problems {
    problem_line lines[MAX_PROBLEMS];
    int count;   /* lines kept */
    int total;   /* problems found, kept or not */
    int nomem;
} problems;

static int desc_index(const desc *d);

static void problem(problems *p, const desc *d, const char *fmt, ...) ACU_PRINTF(3, 4);

static void problem(problems *p, const desc *d, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n = 0;

    p->total++;
    if (p->count >= MAX_PROBLEMS)
        return;
    if (d != NULL)
        n = snprintf(line, sizeof(line), "%s (%s): ", d->key, d->title);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    p->lines[p->count].order = d != NULL ? desc_index(d) : (int)NDESC;
    p->lines[p->count].text = strdup(line);
    if (p->lines[p->count].text == NULL) {
        p->nomem = 1;
        return;
    }
    p->count++;
}

static void problems_free(problems *p)
{
    for (int i = 0; i < p->count; i++)
        free(p->lines[i].text);
    p->count = 0;
}

/* Write the problems into err: as many whole lines as fit, then a last line
 * saying how many more there are; every line also goes to warn (the host
 * log), so none is lost. */
static conn_status problems_report(problems *p, void (*warn)(void *, const char *),
                                   void *user, conn_error *err)
{
    char more[96];
    size_t used = 0, cap = sizeof(err->message);
    int shown = 0;

    /* Stable insertion sort by table order (the list is short). */
    for (int i = 1; i < p->count; i++) {
        problem_line x = p->lines[i];
        int j = i - 1;

        while (j >= 0 && p->lines[j].order > x.order) {
            p->lines[j + 1] = p->lines[j];
            j--;
        }
        p->lines[j + 1] = x;
    }
    acu_err_set(err, CONN_INVALID, "%s", "");
    for (int i = 0; i < p->count; i++) {
        size_t n = strlen(p->lines[i].text) + (used > 0 ? 1 : 0);

        /* Keep room for the "more" line unless this is the last one. */
        if (used + n + (i + 1 < p->total ? sizeof(more) : 0) >= cap)
            break;
        acu_err_append(err, "%s", p->lines[i].text);
        used += n;
        shown++;
    }
    if (shown < p->total) {
        snprintf(more, sizeof(more), "(%d more problem%s; every one is in the host log)",
                 p->total - shown, p->total - shown == 1 ? "" : "s");
        acu_err_append(err, "%s", more);
        for (int i = 0; warn != NULL && i < p->count; i++)
            warn(user, p->lines[i].text);
    }
    return CONN_INVALID;
}

static int desc_index(const desc *d)
{
    return (int)(d - table);
}

static const desc *find_desc(const char *key)
{
    for (size_t i = 0; i < NDESC; i++)
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

static void unknown_key(problems *p, const char *key)
{
    const desc *best = NULL;
    int bestd = 255;
    size_t klen = strlen(key);

    for (size_t i = 0; i < NDESC; i++) {
        int d = acu_edit_distance(key, table[i].key);

        if (d < bestd) {
            bestd = d;
            best = &table[i];
        }
    }
    /* A suggestion only when it is plausibly a typo. */
    if (best != NULL && (bestd <= 2 || (size_t)bestd * 3 <= klen))
        problem(p, NULL, "unknown setting \"%.64s\"; did you mean \"%s\" (%s)?", key,
                best->key, best->title);
    else
        problem(p, NULL, "unknown setting \"%.64s\"; the settings are listed by describe",
                key);
}

static char **str_slot(acu_settings *s, const desc *d)
{
    return (char **)(void *)((char *)s + d->off);
}

static int *int_slot(acu_settings *s, const desc *d)
{
    return (int *)(void *)((char *)s + d->off);
}

static bool *bool_slot(acu_settings *s, const desc *d)
{
    return (bool *)(void *)((char *)s + d->off);
}

static json_object **list_slot(acu_settings *s, const desc *d)
{
    return (json_object **)(void *)((char *)s + d->off);
}

/* Set the default of one setting. Returns -1 when out of memory. */
static int set_default(acu_settings *s, const desc *d)
{
    switch (d->type) {
    case T_STRING:
    case T_ENUM:
        if (d->flags & F_GRANT) {
            *(acu_grant *)(void *)((char *)s + d->off) = ACU_GRANT_AUTHORIZATION_CODE;
        } else if (d->def_str != NULL) {
            *str_slot(s, d) = strdup(d->def_str);
            if (*str_slot(s, d) == NULL)
                return -1;
        }
        break;
    case T_INT:
        *int_slot(s, d) = d->def_int;
        break;
    case T_BOOL:
        *bool_slot(s, d) = d->def_int != 0;
        break;
    case T_LIST:
        *list_slot(s, d) = json_object_new_array();
        if (*list_slot(s, d) == NULL)
            return -1;
        break;
    }
    return 0;
}

static const char *json_kind(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "true/false";
    case json_type_double: return "a decimal number";
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "a list";
    case json_type_string: return "text";
    }
    return "something else";
}

/* Read one given value. Problems go to p; -1 only when out of memory. */
static int read_value(acu_settings *s, const desc *d, json_object *v, problems *p)
{
    char why[384];

    switch (d->type) {
    case T_STRING: {
        const char *str;
        size_t len;

        if (!json_object_is_type(v, json_type_string)) {
            problem(p, d, "expected text, got %s", json_kind(v));
            return 0;
        }
        str = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        if (len == 0)
            return 0; /* empty = not set; the default stays */
        if (len > 4096 || strlen(str) != len) {
            problem(p, d, "the value is too long or contains a NUL character");
            return 0;
        }
        if (d->check != NULL && d->check(str, why, sizeof(why)) != 0) {
            /* Secrets are never echoed; the checks above do not apply to them. */
            problem(p, d, "%s", why);
            return 0;
        }
        free(*str_slot(s, d));
        *str_slot(s, d) = strdup(str);
        return *str_slot(s, d) == NULL ? -1 : 0;
    }
    case T_ENUM: {
        const char *str;
        size_t i;
        char list[256] = "";

        for (i = 0; d->choices[i] != NULL; i++) {
            if (i > 0)
                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
            strncat(list, d->choices[i], sizeof(list) - strlen(list) - 1);
        }
        if (!json_object_is_type(v, json_type_string)) {
            problem(p, d, "expected one of %s, got %s", list, json_kind(v));
            return 0;
        }
        str = json_object_get_string(v);
        for (i = 0; d->choices[i] != NULL; i++)
            if (strcmp(d->choices[i], str) == 0)
                break;
        if (d->choices[i] == NULL) {
            problem(p, d, "\"%.64s\" is not one of %s", str, list);
            return 0;
        }
        if (d->flags & F_GRANT) {
            *(acu_grant *)(void *)((char *)s + d->off) = (acu_grant)i;
        } else {
            free(*str_slot(s, d));
            *str_slot(s, d) = strdup(str);
            if (*str_slot(s, d) == NULL)
                return -1;
        }
        return 0;
    }
    case T_INT: {
        int64_t n;

        if (!json_object_is_type(v, json_type_int)) {
            problem(p, d, "expected a whole number from %d to %d, got %s", d->min, d->max,
                    json_kind(v));
            return 0;
        }
        n = json_object_get_int64(v);
        if (n < d->min || n > d->max) {
            problem(p, d, "%lld is out of range; allowed %d to %d", (long long)n, d->min,
                    d->max);
            return 0;
        }
        *int_slot(s, d) = (int)n;
        return 0;
    }
    case T_BOOL:
        if (!json_object_is_type(v, json_type_boolean)) {
            problem(p, d, "expected true or false, got %s", json_kind(v));
            return 0;
        }
        *bool_slot(s, d) = json_object_get_boolean(v) != 0;
        return 0;
    case T_LIST: {
        size_t n;

        if (!json_object_is_type(v, json_type_array)) {
            problem(p, d, "expected a list of file paths or overlay objects, got %s",
                    json_kind(v));
            return 0;
        }
        n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            json_object *item = json_object_array_get_idx(v, i);

            if (json_object_is_type(item, json_type_string) &&
                json_object_get_string_len(item) > 0)
                continue;
            if (json_object_is_type(item, json_type_object))
                continue;
            problem(p, d, "item %zu: expected a file path or an overlay object, got %s", i,
                    json_kind(item));
        }
        json_object_put(*list_slot(s, d));
        *list_slot(s, d) = json_object_get(v);
        return 0;
    }
    }
    return 0;
}

/* Read every member of the settings object. -1 only when out of memory. */
static int read_all(acu_settings *s, json_object *obj, problems *p)
{
    json_object_object_foreach(obj, key, val) {
        const desc *d = find_desc(key);

        if (d == NULL) {
            unknown_key(p, key);
            continue;
        }
        if (val == NULL || json_object_is_type(val, json_type_null))
            continue; /* null = not set */
        if (read_value(s, d, val, p) != 0)
            return -1;
    }
    return 0;
}

static int is_set(acu_settings *s, const desc *d)
{
    if (d->type == T_STRING)
        return *str_slot(s, d) != NULL;
    return 1;
}

conn_status acu_settings_parse(json_object *obj, acu_settings *out,
                               void (*warn)(void *user, const char *text),
                               void *user, conn_error *err)
{
    problems p;
    conn_status st = CONN_OK;
    unsigned grant_bit;
    char why[384];

    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    if (!json_object_is_type(obj, json_type_object)) {
        st = acu_err_set(err, CONN_INVALID,
                         "settings: expected one JSON object with the subscription's settings");
        goto out;
    }
    for (size_t i = 0; i < NDESC; i++) {
        if (set_default(out, &table[i]) != 0)
            goto nomem;
    }
    if (read_all(out, obj, &p) != 0)
        goto nomem;
    /* Requirements, now that the grant type is known. */
    grant_bit = ACU_GRANT_BIT(out->grant_type);
    for (size_t i = 0; i < NDESC; i++) {
        const desc *d = &table[i];

        json_object *given = NULL;

        /* A value that was given but refused is already reported. */
        if (is_set(out, d) || (json_object_object_get_ex(obj, d->key, &given) &&
                               !json_object_is_type(given, json_type_null)))
            continue;
        if (d->flags & F_REQUIRED)
            problem(&p, d, "required");
        else if (d->required_for & grant_bit)
            problem(&p, d, "required when grant_type is \"%s\"",
                    acu_grant_name(out->grant_type));
    }
    /* Checks across settings. */
    if (out->api_url != NULL) {
        char *norm = NULL;

        if (acu_url_check(out->api_url, out->allow_http_loopback, 1, &norm, why,
                          sizeof(why)) != 0) {
            problem(&p, find_desc("api_url"), "%s", why);
        } else {
            free(out->api_url);
            out->api_url = norm;
        }
    }
    if (out->time_zone_offset != NULL)
        (void)acu_tz_offset_parse(out->time_zone_offset, &out->time_zone_offset_minutes);
    if (p.nomem)
        goto nomem;
    if (p.total > 0) {
        st = problems_report(&p, warn, user, err);
        goto out;
    }
    if ((grant_bit & ACU_GRANTS_OAUTH) && !acu_scope_has(out->scope, "offline_access") &&
        warn != NULL) {
        warn(user, "scope (Scope) does not include offline_access: Acumatica will issue "
                   "no refresh token, so access ends when the access token expires (about "
                   "an hour) and must then be granted again");
    }
    goto out;
nomem:
    st = acu_err_set(err, CONN_NOMEM, "settings: out of memory");
out:
    problems_free(&p);
    if (st != CONN_OK)
        acu_settings_free(out);
    return st;
}

void acu_settings_free(acu_settings *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < NDESC; i++) {
        const desc *d = &table[i];

        if (d->type == T_STRING || (d->type == T_ENUM && !(d->flags & F_GRANT))) {
            char **slot = str_slot(s, d);

            /* Secrets are wiped before the memory goes back. */
            if ((d->flags & F_SECRET) && *slot != NULL)
                memset(*slot, 0, strlen(*slot));
            free(*slot);
            *slot = NULL;
        } else if (d->type == T_LIST) {
            json_object_put(*list_slot(s, d));
            *list_slot(s, d) = NULL;
        }
    }
}

/* ------------------------------------------------------------------ */
/* The JSON Schema. */

static int add(json_object *o, const char *k, json_object *v)
{
    if (v == NULL)
        return -1;
    if (json_object_object_add(o, k, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* Append v to an array; a NULL v (out of memory) is an error. */
static int push(json_object *arr, json_object *v)
{
    if (v == NULL)
        return -1;
    if (json_object_array_add(arr, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

static json_object *property_schema(const desc *d)
{
    json_object *p = json_object_new_object();
    json_object *arr;
    int rc = 0;

    if (p == NULL)
        return NULL;
    rc |= add(p, "title", json_object_new_string(d->title));
    rc |= add(p, "description", json_object_new_string(d->description));
    switch (d->type) {
    case T_STRING:
        rc |= add(p, "type", json_object_new_string("string"));
        if (d->def_str != NULL)
            rc |= add(p, "default", json_object_new_string(d->def_str));
        break;
    case T_ENUM:
        rc |= add(p, "type", json_object_new_string("string"));
        arr = json_object_new_array();
        rc |= add(p, "enum", arr);
        for (size_t i = 0; arr != NULL && d->choices[i] != NULL; i++)
            rc |= push(arr, json_object_new_string(d->choices[i]));
        rc |= add(p, "default", json_object_new_string(d->def_str));
        break;
    case T_INT:
        rc |= add(p, "type", json_object_new_string("integer"));
        rc |= add(p, "default", json_object_new_int(d->def_int));
        rc |= add(p, "minimum", json_object_new_int(d->min));
        rc |= add(p, "maximum", json_object_new_int(d->max));
        break;
    case T_BOOL:
        rc |= add(p, "type", json_object_new_string("boolean"));
        rc |= add(p, "default", json_object_new_boolean(d->def_int != 0));
        break;
    case T_LIST:
        rc |= add(p, "type", json_object_new_string("array"));
        rc |= add(p, "items",
                  json_tokener_parse("{\"anyOf\":[{\"type\":\"string\",\"minLength\":1},"
                                     "{\"type\":\"object\"}]}"));
        rc |= add(p, "default", json_object_new_array());
        break;
    }
    if (d->pattern != NULL)
        rc |= add(p, "pattern", json_object_new_string(d->pattern));
    if (d->format != NULL)
        rc |= add(p, "format", json_object_new_string(d->format));
    if (d->flags & F_SECRET) {
        rc |= add(p, "writeOnly", json_object_new_boolean(1));
        rc |= add(p, "x-secret", json_object_new_boolean(1));
    }
    if (d->required_for != 0) {
        arr = json_object_new_array();
        rc |= add(p, "x-required-for-grant-types", arr);
        for (unsigned g = 0; arr != NULL && g < 3; g++)
            if (d->required_for & ACU_GRANT_BIT(g))
                rc |= push(arr, json_object_new_string(grant_choices[g]));
    }
    if (rc != 0) {
        json_object_put(p);
        return NULL;
    }
    return p;
}

/* {"if": {grant_type is g}, "then": {"required": [...]}}; absent grant_type
 * means the default, so only the default's "if" matches an absent key. */
static json_object *grant_rule(unsigned g)
{
    json_object *rule = json_object_new_object(), *iff = json_object_new_object(),
                *props = json_object_new_object(), *gt = json_object_new_object(),
                *then = json_object_new_object(), *req = json_object_new_array();
    int rc = 0;

    if (rule == NULL || iff == NULL || props == NULL || gt == NULL || then == NULL ||
        req == NULL) {
        json_object_put(rule);
        json_object_put(iff);
        json_object_put(props);
        json_object_put(gt);
        json_object_put(then);
        json_object_put(req);
        return NULL;
    }
    rc |= add(gt, "const", json_object_new_string(grant_choices[g]));
    rc |= add(props, "grant_type", gt);
    rc |= add(iff, "properties", props);
    if (g != ACU_GRANT_AUTHORIZATION_CODE) {
        json_object *r = json_object_new_array();

        rc |= add(iff, "required", r);
        if (r != NULL)
            rc |= push(r, json_object_new_string("grant_type"));
    }
    for (size_t i = 0; i < NDESC; i++)
        if (table[i].required_for & ACU_GRANT_BIT(g))
            rc |= push(req, json_object_new_string(table[i].key));
    rc |= add(then, "required", req);
    rc |= add(rule, "if", iff);
    rc |= add(rule, "then", then);
    if (rc != 0) {
        json_object_put(rule);
        return NULL;
    }
    return rule;
}

json_object *acu_settings_schema(void)
{
    json_object *s = json_object_new_object();
    json_object *props = json_object_new_object();
    json_object *req = json_object_new_array();
    json_object *all = json_object_new_array();
    int rc = 0;

    if (s == NULL || props == NULL || req == NULL || all == NULL) {
        json_object_put(s);
        json_object_put(props);
        json_object_put(req);
        json_object_put(all);
        return NULL;
    }
    rc |= add(s, "$schema", json_object_new_string("https://json-schema.org/draft/2020-12/schema"));
    rc |= add(s, "title", json_object_new_string("Acumatica connector settings"));
    rc |= add(s, "type", json_object_new_string("object"));
    rc |= add(s, "additionalProperties", json_object_new_boolean(0));
    rc |= add(s, "properties", props);
    rc |= add(s, "required", req);
    rc |= add(s, "allOf", all);
    for (size_t i = 0; i < NDESC; i++) {
        rc |= add(props, table[i].key, property_schema(&table[i]));
        if (table[i].flags & F_REQUIRED)
            rc |= push(req, json_object_new_string(table[i].key));
    }
    for (unsigned g = 0; g < 3; g++)
        rc |= push(all, grant_rule(g));
    if (rc != 0) {
        json_object_put(s);
        return NULL;
    }
    return s;
}
