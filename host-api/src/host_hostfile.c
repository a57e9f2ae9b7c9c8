/* host_hostfile.c - the host file of `connector-host run`: parsing and
 * checking, with every problem named. */
#include "host_hostfile.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_error.h"
#include "host_file.h"
#include "host_state.h"

/* A JSON pointer long enough for any key this file uses; longer keys are
 * cut (the pointer only names the place for a person). */
#define PTR_MAX 512

/* What the checks below share: where problems go and which file they are
 * about. */
typedef struct checker {
    host_buf *problems;
    const char *file; /* the file the current pointers are in */
    const char *dir;  /* the host file's directory, for relative paths */
    size_t count;
    int nomem;
    unsigned flags;
} checker;

static void problem(checker *ck, const char *ptr, const char *fmt, ...) HOST_PRINTF(3, 4);

/* Append "<file>: <ptr>: <sentence>\n" to the problem list. */
static void problem(checker *ck, const char *ptr, const char *fmt, ...)
{
    char line[1024];
    int n;
    va_list ap;

    n = snprintf(line, sizeof(line), "%s: %s: ", ck->file, ptr[0] != '\0' ? ptr : "(top)");
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    ck->count++;
    if (host_buf_append(ck->problems, line, strlen(line)) != 0 ||
        host_buf_append(ck->problems, "\n", 1) != 0)
        ck->nomem = 1;
}

/* ptr + "/" + key, with '~' and '/' escaped as RFC 6901 says. */
static void ptr_key(char *out, size_t cap, const char *ptr, const char *key)
{
    size_t n = (size_t)snprintf(out, cap, "%s/", ptr);

    for (; *key != '\0' && n + 3 < cap; key++) {
        if (*key == '~' || *key == '/') {
            out[n++] = '~';
            out[n++] = *key == '~' ? '0' : '1';
        } else {
            out[n++] = *key;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

/* ptr + "/" + idx; a pointer too long for out is cut (it only names a
 * place in a message). */
static void ptr_idx(char *out, size_t cap, const char *ptr, size_t idx)
{
    int n = snprintf(out, cap, "%s/%zu", ptr, idx);

    if (n < 0 && cap > 0)
        out[0] = '\0';
}

int host_name_ok(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    n = strnlen(name, HOST_STATE_SUBSCRIPTION_MAX + 1);
    if (n == 0 || n > HOST_STATE_SUBSCRIPTION_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

int host_version_ok(const char *version)
{
    size_t n;

    if (version == NULL)
        return 0;
    n = strnlen(version, 65);
    if (n == 0 || n > 64 || version[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = version[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '+' || c == '_'))
            return 0;
    }
    return 1;
}

char *host_plugin_file(const char *dir, const char *version)
{
    size_t n;
    char *path;

    if (dir == NULL || !host_version_ok(version))
        return NULL;
    n = strlen(dir) + strlen(version) + sizeof("/acumatica-.so");
    path = malloc(n);
    if (path != NULL)
        snprintf(path, n, "%s/acumatica-%s.so", dir, version);
    return path;
}

int host_parse_duration(const char *text, int64_t *ms)
{
    static const struct {
        const char *suffix;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"", 1000}};
    const int64_t max = 365 * (int64_t)86400000;
    char *end = NULL;
    double v;

    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || end == text || !(v > 0))
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            double total = v * (double)units[i].ms;

            if (total < 1 || total > (double)max)
                return -1;
            *ms = (int64_t)(total + 0.5);
            return 0;
        }
    }
    return -1;
}

/* A path from the host file: absolute as it is, relative to the host
 * file's directory otherwise. malloc'd. */
static char *resolve_path(const checker *ck, const char *path)
{
    size_t n;
    char *out;

    if (path[0] == '/' || ck->dir == NULL)
        return strdup(path);
    n = strlen(ck->dir) + strlen(path) + 2;
    out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s/%s", ck->dir, path);
    return out;
}

/* Parse text as one JSON document. On a syntax error, a problem
 * "<file>:<line>:<column>: ..." is added and NULL returned. */
static json_object *parse_json(checker *ck, const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *doc = NULL;
    size_t end, line = 1, col = 1;
    enum json_tokener_error jerr;
    char where[64];

    if (tok == NULL || len > INT_MAX) {
        ck->nomem = tok == NULL;
        if (tok != NULL)
            problem(ck, "", "the file is too large");
        json_tokener_free(tok);
        return NULL;
    }
    doc = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (doc == NULL && jerr == json_tokener_continue)
        jerr = json_tokener_error_parse_eof;
    if (doc != NULL && jerr == json_tokener_success) {
        /* Only white space may follow the document. */
        for (size_t i = end; i < len; i++) {
            if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
                end = i;
                jerr = json_tokener_error_parse_unexpected;
                json_object_put(doc);
                doc = NULL;
                break;
            }
        }
    }
    if (doc == NULL) {
        for (size_t i = 0; i < end && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
        problem(ck, "", "not valid JSON at %s: %s", where, json_tokener_error_desc(jerr));
    }
    json_tokener_free(tok);
    return doc;
}

/* Allowed keys of an object; every other key is a problem. */
static void check_keys(checker *ck, json_object *obj, const char *ptr, const char *const *keys)
{
    json_object_object_foreach(obj, key, val)
    {
        int known = 0;
        char p[PTR_MAX];

        (void)val;
        for (const char *const *k = keys; *k != NULL; k++)
            known |= strcmp(*k, key) == 0;
        if (!known) {
            ptr_key(p, sizeof(p), ptr, key);
            problem(ck, p, "unknown key (a typo?); the keys here are documented in "
                           "host-api/README.md");
        }
    }
}

static const char *type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
    case json_type_int:
        return "a number";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "a value";
}

/* obj[key] as a string: NULL when absent (a problem when required) or not
 * a string (always a problem). */
static const char *get_string(checker *ck, json_object *obj, const char *ptr, const char *key,
                              int required)
{
    json_object *v;
    char p[PTR_MAX];

    ptr_key(p, sizeof(p), ptr, key);
    if (!json_object_object_get_ex(obj, key, &v)) {
        if (required)
            problem(ck, p, "missing; it is required");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        problem(ck, p, "must be a string, not %s", type_name(v));
        return NULL;
    }
    if (json_object_get_string_len(v) == 0) {
        problem(ck, p, "must not be empty");
        return NULL;
    }
    return json_object_get_string(v);
}

/* obj[key] as an integer in [min, max]; *out keeps its default when absent.
 * Returns 0, or -1 after a problem. */
static int get_int(checker *ck, json_object *obj, const char *ptr, const char *key,
                   int64_t min, int64_t max, int64_t *out)
{
    json_object *v;
    char p[PTR_MAX];
    int64_t n;

    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    ptr_key(p, sizeof(p), ptr, key);
    if (!json_object_is_type(v, json_type_int)) {
        problem(ck, p, "must be a whole number from %lld to %lld, not %s", (long long)min,
                (long long)max, type_name(v));
        return -1;
    }
    n = json_object_get_int64(v);
    if (n < min || n > max) {
        problem(ck, p, "%lld is out of range; use %lld to %lld", (long long)n, (long long)min,
                (long long)max);
        return -1;
    }
    *out = n;
    return 0;
}

/* obj[key] as a duration (string or number of seconds); *out keeps its
 * default when absent. */
static int get_duration(checker *ck, json_object *obj, const char *ptr, const char *key,
                        int required, int64_t *out)
{
    json_object *v;
    char p[PTR_MAX], text[64];

    ptr_key(p, sizeof(p), ptr, key);
    if (!json_object_object_get_ex(obj, key, &v)) {
        if (required) {
            problem(ck, p, "missing; it is required (a duration such as \"30s\" or \"5m\")");
            return -1;
        }
        return 0;
    }
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        snprintf(text, sizeof(text), "%.17g", json_object_get_double(v));
    } else if (json_object_is_type(v, json_type_string)) {
        snprintf(text, sizeof(text), "%s", json_object_get_string(v));
    } else {
        problem(ck, p, "must be a duration such as \"30s\" or \"5m\", not %s", type_name(v));
        return -1;
    }
    if (host_parse_duration(text, out) != 0) {
        problem(ck, p, "\"%s\" is not a duration; write a positive number with ms, s, m, h or "
                       "d (\"30s\", \"5m\", \"1h\"), up to 365 days",
                text);
        return -1;
    }
    return 0;
}

/* Read a secret file for a {"file": ...} reference: the whole content with
 * one trailing newline removed. A problem (never the content) on failure. */
static json_object *secret_from_file(checker *ck, const char *ptr, const char *path)
{
    char *full = resolve_path(ck, path), *text = NULL;
    size_t len = 0;
    conn_error err;
    conn_status st;
    json_object *v = NULL;

    if (full == NULL) {
        ck->nomem = 1;
        return NULL;
    }
    st = host_read_file(full, HOST_SECRET_FILE_MAX, &text, &len, &err);
    if (st != CONN_OK) {
        problem(ck, ptr, "the secret file cannot be read: %s", err.message);
        goto out;
    }
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0 && text[len - 1] == '\r')
        len--;
    if (memchr(text, '\0', len) != NULL) {
        problem(ck, ptr, "the secret file %s holds a NUL byte", full);
        goto out;
    }
    v = json_object_new_string_len(text, (int)len);
    if (v == NULL)
        ck->nomem = 1;
out:
    if (text != NULL)
        OPENSSL_cleanse(text, len);
    free(text);
    free(full);
    return v;
}

/* When v is a secret reference ({"env": NAME} or {"file": PATH}, nothing
 * else), return the value it names (a new string object) and set *is_ref;
 * NULL with *is_ref set means the reference could not be resolved (a
 * problem was added). */
static json_object *resolve_ref(checker *ck, json_object *v, const char *ptr, int *is_ref)
{
    json_object *name = NULL;
    const char *env;
    char p[PTR_MAX];

    *is_ref = 0;
    if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) != 1)
        return NULL;
    if (json_object_object_get_ex(v, "env", &name)) {
        *is_ref = 1;
        ptr_key(p, sizeof(p), ptr, "env");
        if (!json_object_is_type(name, json_type_string) ||
            json_object_get_string_len(name) == 0) {
            problem(ck, p, "must name an environment variable");
            return NULL;
        }
        env = getenv(json_object_get_string(name));
        if (env == NULL) {
            problem(ck, ptr, "the environment variable %s is not set",
                    json_object_get_string(name));
            return NULL;
        }
        return json_object_new_string(env);
    }
    if (json_object_object_get_ex(v, "file", &name)) {
        *is_ref = 1;
        ptr_key(p, sizeof(p), ptr, "file");
        if (!json_object_is_type(name, json_type_string) ||
            json_object_get_string_len(name) == 0) {
            problem(ck, p, "must name a file");
            return NULL;
        }
        return secret_from_file(ck, ptr, json_object_get_string(name));
    }
    return NULL;
}

/* Replace every secret reference inside v (any depth) with its value. */
static void resolve_refs(checker *ck, json_object *v, const char *ptr)
{
    char p[PTR_MAX];

    if (json_object_is_type(v, json_type_object)) {
        size_t n = (size_t)json_object_object_length(v), i = 0;
        const char **keys = calloc(n > 0 ? n : 1, sizeof(*keys));

        if (keys == NULL) {
            ck->nomem = 1;
            return;
        }
        /* Collect the keys first: replacing values while iterating is not
         * something json-c promises to allow. */
        json_object_object_foreach(v, key, val)
        {
            (void)val;
            if (i < n)
                keys[i++] = key;
        }
        for (size_t k = 0; k < i; k++) {
            json_object *child = json_object_object_get(v, keys[k]), *value;
            int is_ref;

            ptr_key(p, sizeof(p), ptr, keys[k]);
            value = resolve_ref(ck, child, p, &is_ref);
            if (value != NULL) {
                if (json_object_object_add(v, keys[k], value) != 0) {
                    json_object_put(value);
                    ck->nomem = 1;
                }
            } else if (!is_ref) {
                resolve_refs(ck, child, p);
            }
        }
        free(keys);
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *child = json_object_array_get_idx(v, i), *value;
            int is_ref;

            ptr_idx(p, sizeof(p), ptr, i);
            value = resolve_ref(ck, child, p, &is_ref);
            if (value != NULL) {
                if (json_object_array_put_idx(v, i, value) != 0) {
                    json_object_put(value);
                    ck->nomem = 1;
                }
            } else if (!is_ref) {
                resolve_refs(ck, child, p);
            }
        }
    }
}

/* The settings object of a subscription, references resolved, as JSON
 * text in sub->settings. */
static void load_settings(checker *ck, json_object *s, const char *ptr, host_sub_config *sub)
{
    json_object *inline_settings = NULL, *own = NULL;
    const char *file = NULL, *text;
    char p[PTR_MAX], *full = NULL, *data = NULL;
    size_t len = 0;
    conn_error err;
    checker sub_ck;

    json_object_object_get_ex(s, "settings", &inline_settings);
    if (json_object_object_get_ex(s, "settings_file", NULL))
        file = get_string(ck, s, ptr, "settings_file", 0);
    if (inline_settings != NULL && file != NULL) {
        ptr_key(p, sizeof(p), ptr, "settings_file");
        problem(ck, p, "give either settings or settings_file, not both");
        return;
    }
    if (inline_settings == NULL && file == NULL) {
        if (!json_object_object_get_ex(s, "settings_file", NULL))
            problem(ck, ptr, "has neither settings nor settings_file");
        return;
    }
    if (inline_settings != NULL) {
        ptr_key(p, sizeof(p), ptr, "settings");
        if (!json_object_is_type(inline_settings, json_type_object)) {
            problem(ck, p, "must be an object, not %s", type_name(inline_settings));
            return;
        }
        own = json_object_get(inline_settings);
        if (!(ck->flags & HOST_CONFIG_NO_SECRETS))
            resolve_refs(ck, own, p);
    } else {
        ptr_key(p, sizeof(p), ptr, "settings_file");
        full = resolve_path(ck, file);
        if (full == NULL) {
            ck->nomem = 1;
            return;
        }
        if (host_read_file(full, HOST_CONFIG_FILE_MAX, &data, &len, &err) != CONN_OK) {
            problem(ck, p, "%s", err.message);
            goto out;
        }
        /* Problems inside the settings file name that file. */
        sub_ck = *ck;
        sub_ck.file = full;
        own = parse_json(&sub_ck, data, len);
        if (own != NULL && !json_object_is_type(own, json_type_object))
            problem(&sub_ck, "", "the settings must be one JSON object, not %s",
                    type_name(own));
        else if (own != NULL && !(ck->flags & HOST_CONFIG_NO_SECRETS))
            resolve_refs(&sub_ck, own, "");
        ck->count = sub_ck.count;
        ck->nomem = sub_ck.nomem;
        if (own == NULL || !json_object_is_type(own, json_type_object))
            goto out;
    }
    text = json_object_to_json_string_ext(own, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text == NULL || (sub->settings = strdup(text)) == NULL) {
        ck->nomem = 1;
        goto out;
    }
    sub->settings_len = strlen(sub->settings);
out:
    json_object_put(own);
    if (data != NULL)
        OPENSSL_cleanse(data, len);
    free(data);
    free(full);
}

static int is_flow_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

static void load_flows(checker *ck, json_object *s, const char *ptr, host_sub_config *sub)
{
    static const char *const keys[] = {"flow", "direction", "every", "batch_size", NULL};
    json_object *flows;
    char p[PTR_MAX], fp[PTR_MAX], kp[PTR_MAX];
    size_t n;

    ptr_key(p, sizeof(p), ptr, "flows");
    if (!json_object_object_get_ex(s, "flows", &flows)) {
        problem(ck, p, "missing; list the flows to run, e.g. "
                       "[{\"flow\": \"customers\", \"direction\": \"pull\", \"every\": \"5m\"}]");
        return;
    }
    if (!json_object_is_type(flows, json_type_array) || json_object_array_length(flows) == 0) {
        problem(ck, p, "must be a non-empty array of flows");
        return;
    }
    n = json_object_array_length(flows);
    sub->flows = calloc(n, sizeof(*sub->flows));
    if (sub->flows == NULL) {
        ck->nomem = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(flows, i);
        host_flow_config *fc = &sub->flows[sub->nflows];
        const char *name, *dir;
        int64_t batch = 0, every = 0;
        int ok = 1;

        ptr_idx(fp, sizeof(fp), p, i);
        if (!json_object_is_type(f, json_type_object)) {
            problem(ck, fp, "must be an object, not %s", type_name(f));
            continue;
        }
        check_keys(ck, f, fp, keys);
        name = get_string(ck, f, fp, "flow", 1);
        dir = get_string(ck, f, fp, "direction", 1);
        if (name != NULL && !is_flow_name(name)) {
            ptr_key(kp, sizeof(kp), fp, "flow");
            problem(ck, kp, "\"%s\" is not a flow name (lower-case letters, digits, '_')", name);
            ok = 0;
        }
        if (dir != NULL && strcmp(dir, "pull") != 0 && strcmp(dir, "push") != 0) {
            ptr_key(kp, sizeof(kp), fp, "direction");
            problem(ck, kp, "\"%s\" is not a direction; use \"pull\" or \"push\"", dir);
            ok = 0;
        }
        if (get_duration(ck, f, fp, "every", 1, &every) != 0)
            ok = 0;
        if (get_int(ck, f, fp, "batch_size", 1, HOST_BATCH_MAX, &batch) != 0)
            ok = 0;
        if (batch > 0 && dir != NULL && strcmp(dir, "pull") == 0) {
            ptr_key(kp, sizeof(kp), fp, "batch_size");
            problem(ck, kp, "only push flows have a batch size");
            ok = 0;
        }
        if (!ok || name == NULL || dir == NULL)
            continue;
        for (size_t j = 0; j < sub->nflows; j++) {
            if (strcmp(sub->flows[j].flow, name) == 0 &&
                sub->flows[j].push == (strcmp(dir, "push") == 0)) {
                problem(ck, fp, "the %s flow \"%s\" is listed twice", dir, name);
                ok = 0;
            }
        }
        if (!ok)
            continue;
        fc->flow = strdup(name);
        if (fc->flow == NULL) {
            ck->nomem = 1;
            return;
        }
        fc->push = strcmp(dir, "push") == 0;
        fc->every_ms = every;
        fc->batch_size = (size_t)batch;
        sub->nflows++;
    }
}

static void load_subscription(checker *ck, json_object *s, const char *ptr,
                              const char *plugin_dir, host_config *cfg)
{
    static const char *const keys[] = {"name",     "plugin_version", "settings",
                                       "settings_file", "flows", NULL};
    host_sub_config *sub = &cfg->subs[cfg->nsubs];
    const char *name, *version;
    char p[PTR_MAX];
    size_t before = ck->count;
    struct stat sb;

    if (!json_object_is_type(s, json_type_object)) {
        problem(ck, ptr, "a subscription must be an object, not %s", type_name(s));
        return;
    }
    check_keys(ck, s, ptr, keys);
    name = get_string(ck, s, ptr, "name", 1);
    if (name != NULL && !host_name_ok(name)) {
        ptr_key(p, sizeof(p), ptr, "name");
        problem(ck, p, "a subscription name has 1 to %d characters and no control characters",
                HOST_STATE_SUBSCRIPTION_MAX);
        name = NULL;
    }
    if (name != NULL && host_config_find(cfg, name) != NULL) {
        ptr_key(p, sizeof(p), ptr, "name");
        problem(ck, p, "the subscription \"%s\" is defined twice", name);
        name = NULL;
    }
    version = get_string(ck, s, ptr, "plugin_version", 1);
    ptr_key(p, sizeof(p), ptr, "plugin_version");
    if (version != NULL && !host_version_ok(version)) {
        problem(ck, p, "\"%s\" is not a version (letters, digits, '.', '-', '+', '_')", version);
        version = NULL;
    }
    if (version != NULL && plugin_dir != NULL) {
        sub->plugin_path = host_plugin_file(plugin_dir, version);
        if (sub->plugin_path == NULL)
            ck->nomem = 1;
        else if (!(ck->flags & HOST_CONFIG_NO_SECRETS) &&
                 (stat(sub->plugin_path, &sb) != 0 || !S_ISREG(sb.st_mode)))
            problem(ck, p, "there is no plugin file acumatica-%s.so in %s", version, plugin_dir);
    }
    load_settings(ck, s, ptr, sub);
    load_flows(ck, s, ptr, sub);
    if (name != NULL)
        sub->name = strdup(name);
    if (version != NULL)
        sub->plugin_version = strdup(version);
    /* Keep the entry (so it is freed) and count it; a file with problems is
     * thrown away as a whole anyway. */
    cfg->nsubs++;
    if (ck->count == before &&
        (sub->name == NULL || sub->plugin_version == NULL || sub->settings == NULL))
        ck->nomem = 1;
}

static void load_log(checker *ck, json_object *top, host_config *cfg)
{
    static const char *const keys[] = {"file", "format", "level", NULL};
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    json_object *log;
    const char *file, *format, *level;

    if (!json_object_object_get_ex(top, "log", &log))
        return;
    if (!json_object_is_type(log, json_type_object)) {
        problem(ck, "/log", "must be an object such as {\"file\": \"/var/log/x.log\"}, not %s",
                type_name(log));
        return;
    }
    check_keys(ck, log, "/log", keys);
    file = get_string(ck, log, "/log", "file", 0);
    if (file != NULL && (cfg->log_file = resolve_path(ck, file)) == NULL)
        ck->nomem = 1;
    format = get_string(ck, log, "/log", "format", 0);
    if (format != NULL) {
        if (strcmp(format, "json") == 0)
            cfg->log_format = HOST_LOG_JSON;
        else if (strcmp(format, "text") == 0)
            cfg->log_format = HOST_LOG_TEXT;
        else
            problem(ck, "/log/format", "\"%s\" is not a log format; use \"json\" or \"text\"",
                    format);
    }
    level = get_string(ck, log, "/log", "level", 0);
    if (level != NULL) {
        int found = 0;

        for (int i = 0; i < 4; i++) {
            if (strcmp(level, levels[i]) == 0) {
                cfg->log_level = (conn_log_level)i;
                found = 1;
            }
        }
        if (!found)
            problem(ck, "/log/level",
                    "\"%s\" is not a log level; use error, warn, info or debug", level);
    }
}

static void load_retry(checker *ck, json_object *top, host_config *cfg)
{
    static const char *const keys[] = {"unit_seconds", "max_attempts", NULL};
    json_object *r, *unit;
    int64_t attempts = cfg->max_attempts;

    if (!json_object_object_get_ex(top, "retry", &r))
        return;
    if (!json_object_is_type(r, json_type_object)) {
        problem(ck, "/retry", "must be an object such as {\"unit_seconds\": 60}, not %s",
                type_name(r));
        return;
    }
    check_keys(ck, r, "/retry", keys);
    if (json_object_object_get_ex(r, "unit_seconds", &unit)) {
        double v = json_object_get_double(unit);

        if ((!json_object_is_type(unit, json_type_int) &&
             !json_object_is_type(unit, json_type_double)) ||
            !(v >= 0.001 && v <= 86400))
            problem(ck, "/retry/unit_seconds",
                    "must be a number of seconds from 0.001 to 86400 (default 60)");
        else
            cfg->retry_unit_ms = (int64_t)(v * 1000 + 0.5);
    }
    if (get_int(ck, r, "/retry", "max_attempts", 1, 1000, &attempts) == 0)
        cfg->max_attempts = (unsigned)attempts;
}

/* The directory part of path, malloc'd ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    dir = malloc((size_t)(slash - path) + 1);
    if (dir != NULL) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    return dir;
}

static void load_top(checker *ck, json_object *top, const char *default_plugin_dir,
                     host_config *cfg)
{
    static const char *const keys[] = {
        "subscriptions", "plugin_dir",      "state",          "workers",
        "log",           "output_dir",      "shutdown_grace", "push_batch_size",
        "retry",         "control_socket",  "done_retention", NULL};
    const char *s;
    json_object *subs;
    int64_t n;
    char p[PTR_MAX];

    check_keys(ck, top, "", keys);
    s = get_string(ck, top, "", "plugin_dir", 0);
    if (s != NULL)
        cfg->plugin_dir = resolve_path(ck, s);
    else if (default_plugin_dir != NULL)
        cfg->plugin_dir = strdup(default_plugin_dir);
    else if (!json_object_object_get_ex(top, "plugin_dir", NULL))
        problem(ck, "/plugin_dir", "missing; this host has no default plugin directory");
    s = get_string(ck, top, "", "state", 0);
    if (s != NULL && (cfg->state_path = resolve_path(ck, s)) == NULL)
        ck->nomem = 1;
    s = get_string(ck, top, "", "output_dir", 0);
    if (s != NULL && (cfg->output_dir = resolve_path(ck, s)) == NULL)
        ck->nomem = 1;
    s = get_string(ck, top, "", "control_socket", 0);
    if (s != NULL && (cfg->control_socket = resolve_path(ck, s)) == NULL)
        ck->nomem = 1;
    n = cfg->workers;
    if (get_int(ck, top, "", "workers", 1, HOST_WORKERS_MAX, &n) == 0)
        cfg->workers = (unsigned)n;
    n = (int64_t)cfg->push_batch_size;
    if (get_int(ck, top, "", "push_batch_size", 1, HOST_BATCH_MAX, &n) == 0)
        cfg->push_batch_size = (size_t)n;
    get_duration(ck, top, "", "shutdown_grace", 0, &cfg->shutdown_grace_ms);
    get_duration(ck, top, "", "done_retention", 0, &cfg->done_retention_ms);
    load_log(ck, top, cfg);
    load_retry(ck, top, cfg);

    if (!json_object_object_get_ex(top, "subscriptions", &subs)) {
        problem(ck, "/subscriptions", "missing; list at least one subscription");
        return;
    }
    if (!json_object_is_type(subs, json_type_array) || json_object_array_length(subs) == 0) {
        problem(ck, "/subscriptions", "must be a non-empty array of subscriptions");
        return;
    }
    cfg->subs = calloc(json_object_array_length(subs), sizeof(*cfg->subs));
    if (cfg->subs == NULL) {
        ck->nomem = 1;
        return;
    }
    for (size_t i = 0; i < json_object_array_length(subs) && !ck->nomem; i++) {
        ptr_idx(p, sizeof(p), "/subscriptions", i);
        load_subscription(ck, json_object_array_get_idx(subs, i), p, cfg->plugin_dir, cfg);
    }
}

conn_status host_config_load(const char *path, const char *default_plugin_dir, unsigned flags,
                             host_config **out, host_buf *problems, conn_error *err)
{
    host_config *cfg = NULL;
    json_object *top = NULL;
    char *text = NULL, *dir = NULL;
    size_t len = 0;
    checker ck;
    conn_status st;

    *out = NULL;
    host_err_clear(err);
    st = host_read_file(path, HOST_CONFIG_FILE_MAX, &text, &len, err);
    if (st != CONN_OK)
        return st;
    cfg = calloc(1, sizeof(*cfg));
    dir = dir_of(path);
    if (cfg == NULL || dir == NULL || (cfg->path = strdup(path)) == NULL) {
        st = host_err_set(err, CONN_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    cfg->workers = HOST_WORKERS_DEFAULT;
    cfg->push_batch_size = HOST_BATCH_DEFAULT;
    cfg->retry_unit_ms = HOST_RETRY_UNIT_MS_DEFAULT;
    cfg->max_attempts = HOST_MAX_ATTEMPTS_DEFAULT;
    cfg->shutdown_grace_ms = HOST_GRACE_MS_DEFAULT;
    cfg->done_retention_ms = HOST_DONE_RETENTION_MS_DEFAULT;
    cfg->log_level = CONN_LOG_INFO;
    cfg->log_format = HOST_LOG_AUTO;
    ck.problems = problems;
    ck.file = path;
    ck.dir = dir;
    ck.count = 0;
    ck.nomem = 0;
    ck.flags = flags;
    top = parse_json(&ck, text, len);
    if (top != NULL && !json_object_is_type(top, json_type_object))
        problem(&ck, "", "the host file must be one JSON object, not %s", type_name(top));
    else if (top != NULL)
        load_top(&ck, top, default_plugin_dir, cfg);
    if (ck.nomem) {
        st = host_err_set(err, CONN_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (ck.count > 0) {
        st = host_err_set(err, CONN_INVALID, "%s has %zu problem%s", path, ck.count,
                          ck.count == 1 ? "" : "s");
        goto out;
    }
    *out = cfg;
    cfg = NULL;
out:
    json_object_put(top);
    host_config_free(cfg);
    free(text);
    free(dir);
    return st;
}

void host_config_free(host_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->nsubs; i++) {
        host_sub_config *s = &cfg->subs[i];

        free(s->name);
        free(s->plugin_version);
        free(s->plugin_path);
        if (s->settings != NULL)
            OPENSSL_cleanse(s->settings, s->settings_len);
        free(s->settings);
        for (size_t j = 0; j < s->nflows; j++)
            free(s->flows[j].flow);
        free(s->flows);
    }
    free(cfg->subs);
    free(cfg->path);
    free(cfg->plugin_dir);
    free(cfg->state_path);
    free(cfg->control_socket);
    free(cfg->output_dir);
    free(cfg->log_file);
    free(cfg);
}

const host_sub_config *host_config_find(const host_config *cfg, const char *name)
{
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->nsubs; i++)
        if (cfg->subs[i].name != NULL && strcmp(cfg->subs[i].name, name) == 0)
            return &cfg->subs[i];
    return NULL;
}
