/* acu_instance.c - making and ending a plugin instance. */
#include "acu_instance.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_auth.h"
#include "acu_error.h"
#include "acu_http.h"
#include "acu_json.h"
#include "acu_map.h"

/* The host table must be of our major and hold every mandatory service. */
static conn_status check_host_api(const conn_host_api *host, conn_error *err)
{
    if (host == NULL)
        return acu_err_set(err, CONN_INVALID, "init: the host services table is missing");
    if (host->abi_major != CONN_ABI_MAJOR)
        return acu_err_set(err, CONN_UNSUPPORTED,
                           "init: the host speaks ABI %u; this plugin speaks ABI %d",
                           (unsigned)host->abi_major, CONN_ABI_MAJOR);
    if (!CONN_HOST_HAS(host, log) || !CONN_HOST_HAS(host, state_get) ||
        !CONN_HOST_HAS(host, state_put) || !CONN_HOST_HAS(host, state_cas) ||
        !CONN_HOST_HAS(host, emit) || !CONN_HOST_HAS(host, checkpoint) ||
        !CONN_HOST_HAS(host, report) || !CONN_HOST_HAS(host, should_stop) ||
        !CONN_HOST_HAS(host, now_ms))
        return acu_err_set(err, CONN_INVALID,
                           "init: the host services table lacks a mandatory function");
    return CONN_OK;
}

/* Settings warnings go to the host log. */
static void warn_to_log(void *user, const char *text)
{
    acu_log(user, CONN_LOG_WARN, NULL, "%s", text);
}

static conn_status make_transport(conn_instance *inst, conn_error *err)
{
    const acu_settings *s = &inst->settings;
    acu_http_config cfg;
    size_t nbase, nua;

    nbase = strlen(s->api_url) + strlen("/entity/Default/") + strlen(s->endpoint_version) + 1;
    nua = strlen("acumatica-connector/") + strlen(inst->version) + 1;
    inst->endpoint_base = malloc(nbase);
    inst->user_agent = malloc(nua);
    if (inst->endpoint_base == NULL || inst->user_agent == NULL)
        return acu_err_set(err, CONN_NOMEM, "init: out of memory");
    snprintf(inst->endpoint_base, nbase, "%s/entity/Default/%s", s->api_url,
             s->endpoint_version);
    snprintf(inst->user_agent, nua, "acumatica-connector/%s", inst->version);
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = inst->host;
    cfg.ctx = inst->ctx;
    cfg.user_agent = inst->user_agent;
    cfg.ca_file = s->ca_file;
    cfg.allow_http = s->allow_http_loopback;
    cfg.concurrent_connections = s->concurrent_connections;
    cfg.throttle_limit = s->api_throttle_limit;
    cfg.throttle_seconds = s->api_throttle_seconds;
    cfg.request_timeout_s = s->request_timeout;
    cfg.endpoint_version = s->endpoint_version;
    return acu_http_new(&cfg, &inst->http, err);
}

/* The settings problem line for `key` in msg ("<key> (<Title>): ...")? */
static int names_setting(const char *msg, const char *key)
{
    size_t n = strlen(key);

    for (const char *p = msg; p != NULL && *p != '\0';) {
        if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == ':'))
            return 1;
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return 0;
}

/* The most mapping problems init looks at after a settings failure. */
#define INIT_MAP_PROBLEMS_MAX 1024

/* Room kept in err for the closing "(N more problems; ...)" line. */
#define NOTE_ROOM 96

/* How many settings problems err lists, and how many more acu_settings_parse
 * logged without listing (its last line is then "(N more problems; every
 * one is in the host log)", which is cut off here). */
static size_t settings_listed(conn_error *err, size_t *more)
{
    char *last = strrchr(err->message, '\n');
    size_t lines = err->message[0] != '\0';
    unsigned long m = 0;

    for (const char *p = err->message; *p != '\0'; p++)
        lines += *p == '\n';
    last = last != NULL ? last + 1 : err->message;
    *more = 0;
    if (last[0] == '(' && strstr(last, "host log") != NULL && sscanf(last, "(%lu more", &m) == 1) {
        *more = (size_t)m;
        last[last > err->message ? -1 : 0] = '\0';
        lines--;
    }
    return lines;
}

/* err holds the settings' problems (CONN_INVALID), one per line. Check the
 * mappings too and add their problems - but not those about a setting err
 * names already. When everything fits in err's 1 KiB, the message lists it
 * all. Otherwise every problem goes to the host log as a warning (the
 * settings' too, unless acu_settings_parse logged them already) and the
 * message lists what fits and ends with "(N more problems; every one is in
 * the host log)" - what `connector-host validate` reads. */
static void add_mapping_problems(conn_instance *inst, conn_error *err)
{
    acu_map_diags *d = acu_map_diags_new();
    acu_mapset *set = NULL;
    conn_error merr;
    char line[1100];
    unsigned char keep[INIT_MAP_PROBLEMS_MAX];
    size_t n, need = 0, fresh = 0, listed, more, used, shown = 0;

    acu_err_clear(&merr);
    if (d == NULL || acu_mapset_load_settings(inst->settings_json, d, &set, &merr) == CONN_OK) {
        acu_mapset_free(set);
        acu_map_diags_free(d);
        return;
    }
    listed = settings_listed(err, &more);
    n = acu_map_diags_count(d);
    n = n < INIT_MAP_PROBLEMS_MAX ? n : INIT_MAP_PROBLEMS_MAX;
    for (size_t i = 0; i < n; i++) {
        const acu_map_diag *g = acu_map_diags_get(d, i);

        keep[i] = !(g->file != NULL && strcmp(g->file, "settings") == 0 && g->pointer != NULL &&
                    g->pointer[0] == '/' && names_setting(err->message, g->pointer + 1));
        fresh += keep[i];
        if (keep[i])
            need += strlen(acu_map_diag_format(g, line, sizeof(line))) + 1;
    }
    used = strnlen(err->message, sizeof(err->message));
    if (more == 0 && used + need < sizeof(err->message)) {
        for (size_t i = 0; i < n; i++)
            if (keep[i])
                acu_err_append(err, "%s",
                               acu_map_diag_format(acu_map_diags_get(d, i), line, sizeof(line)));
        goto out;
    }
    if (more == 0) {
        /* The settings' problems were not logged yet. */
        for (const char *p = err->message; p != NULL && *p != '\0';) {
            const char *nl = strchr(p, '\n');

            snprintf(line, sizeof(line), "%.*s",
                     (int)(nl != NULL ? (size_t)(nl - p) : strlen(p)), p);
            warn_to_log(inst, line);
            p = nl != NULL ? nl + 1 : NULL;
        }
    }
    /* Keep room for the note; settings lines may go (they are logged). */
    while ((used = strnlen(err->message, sizeof(err->message))) + NOTE_ROOM >=
               sizeof(err->message) && listed > 0) {
        char *cut = strrchr(err->message, '\n');

        *(cut != NULL ? cut : err->message) = '\0';
        listed--;
        more++;
    }
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        acu_map_diag_format(acu_map_diags_get(d, i), line, sizeof(line));
        warn_to_log(inst, line);
        if (used + strlen(line) + 1 + NOTE_ROOM < sizeof(err->message)) {
            acu_err_append(err, "%s", line);
            used += strlen(line) + 1;
            shown++;
        }
    }
    more += fresh - shown;
    acu_err_append(err, "(%zu more problem%s; every one is in the host log)", more,
                   more == 1 ? "" : "s");
out:
    acu_map_diags_free(d);
}

conn_status acu_instance_init(const conn_host_api *host, conn_host_ctx *ctx,
                              const char *version, const char *settings_json,
                              size_t len, conn_instance **out, conn_error *err)
{
    conn_instance *inst = NULL;
    json_object *settings = NULL;
    conn_status st;

    *out = NULL;
    st = check_host_api(host, err);
    if (st != CONN_OK)
        goto out;
    st = acu_json_parse(settings_json, len, "settings", &settings, err);
    if (st != CONN_OK)
        goto out;
    inst = calloc(1, sizeof(*inst));
    if (inst == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "init: out of memory");
        goto out;
    }
    inst->host = host;
    inst->ctx = ctx;
    inst->version = version;
    inst->settings_json = settings;
    settings = NULL;
    st = acu_settings_parse(inst->settings_json, &inst->settings, warn_to_log, inst, err);
    if (st == CONN_INVALID) {
        /* The mappings are still checked, so that one run names every
         * problem: the settings' and the mappings' together. */
        add_mapping_problems(inst, err);
        goto out;
    }
    if (st != CONN_OK)
        goto out;
    /* Every mapping problem at once, with file, pointer and sentence. */
    st = acu_mapset_load_settings(inst->settings_json, NULL, &inst->mapset, err);
    if (st != CONN_OK)
        goto out;
    st = make_transport(inst, err);
    if (st != CONN_OK)
        goto out;
    st = acu_auth_new(inst, &inst->auth, err);
    if (st != CONN_OK)
        goto out;
    *out = inst;
    inst = NULL;
out:
    json_object_put(settings);
    acu_instance_free(inst);
    return st;
}

void acu_instance_free(conn_instance *inst)
{
    if (inst == NULL)
        return;
    /* Sign-out needs the transport, so credentials end first. */
    acu_auth_free(inst->auth);
    acu_http_free(inst->http);
    acu_mapset_free(inst->mapset);
    acu_settings_free(&inst->settings);
    json_object_put(inst->settings_json);
    free(inst->endpoint_base);
    free(inst->user_agent);
    free(inst);
}

void acu_log(const conn_instance *inst, conn_log_level level, const char *flow,
             const char *fmt, ...)
{
    char line[2048];
    va_list ap;

    if (inst == NULL || inst->host == NULL || inst->host->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    inst->host->log(inst->ctx, level, flow, line);
}

int64_t acu_now_ms(const conn_instance *inst)
{
    return inst->host->now_ms(inst->ctx);
}

void acu_call_begin(conn_instance *inst)
{
    acu_http_counters_reset(inst->http);
}

void acu_progress(conn_instance *inst, const char *flow, uint64_t pages, uint64_t records)
{
    const acu_http_counters *c;
    char json[512];
    int n;

    if (inst == NULL || inst->http == NULL || !CONN_HOST_HAS(inst->host, progress))
        return;
    c = acu_http_counters_get(inst->http);
    n = snprintf(json, sizeof(json),
                 "{\"pages\":%" PRIu64 ",\"records\":%" PRIu64 ",\"requests\":%" PRIu64
                 ",\"retries\":%" PRIu64 ",\"status_429\":%" PRIu64 ",\"failures\":%" PRIu64
                 ",\"throttle_waits\":%" PRIu64 ",\"throttle_wait_ms\":%" PRId64
                 ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"max_in_flight\":%d}",
                 pages, records, c->requests, c->retries, c->status_429, c->failures,
                 c->throttle_waits, c->throttle_wait_ms > 0 ? c->throttle_wait_ms : 0,
                 c->bytes_in, c->bytes_out, c->max_in_flight > 0 ? c->max_in_flight : 0);
    if (n > 0 && (size_t)n < sizeof(json))
        inst->host->progress(inst->ctx, flow, json, (size_t)n);
}

void acu_call_end(conn_instance *inst, const char *flow, const char *call, uint64_t pages,
                  uint64_t records)
{
    acu_progress(inst, flow, pages, records);
    acu_http_log_counters(inst->http, flow, call);
}
