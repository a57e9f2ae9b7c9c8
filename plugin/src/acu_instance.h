/* acu_instance.h - one plugin instance: a subscription's settings, the
 * host services it was given, its transport and its credentials. Every
 * mutable thing the plugin has lives here. */
#ifndef ACU_INSTANCE_H
#define ACU_INSTANCE_H

#include <json-c/json.h>
#include <stdint.h>

#include "acu_settings.h"
#include "conn_abi.h"

struct acu_http;
struct acu_auth;
struct acu_mapset;

struct conn_instance {
    const conn_host_api *host; /* borrowed until shutdown */
    conn_host_ctx *ctx;        /* borrowed until shutdown */
    const char *version;       /* the plugin's version string (static) */
    json_object *settings_json; /* the settings object as given (owned) */
    acu_settings settings;     /* validated, defaults filled in */
    char *endpoint_base;       /* <api_url>/entity/Default/<endpoint_version> */
    char *user_agent;          /* acumatica-connector/<version> */
    struct acu_http *http;     /* the transport (acu_http.h) */
    struct acu_auth *auth;     /* credentials (acu_auth.h) */
    /* The compiled mappings (plugin/src/map), loaded once in init. */
    struct acu_mapset *mapset;
};

/* Make an instance from the settings JSON; see conn_plugin_api.init. */
conn_status acu_instance_init(const conn_host_api *host, conn_host_ctx *ctx,
                              const char *version, const char *settings_json,
                              size_t len, conn_instance **out, conn_error *err);

/* Sign out where needed and free everything the instance owns. Accepts
 * NULL. */
void acu_instance_free(conn_instance *inst);

/* Log through the host, when the host gave a log function. */
void acu_log(const conn_instance *inst, conn_log_level level, const char *flow,
             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The host's wall clock (ms since the epoch). */
int64_t acu_now_ms(const conn_instance *inst);

/* Begin and end a plugin call that uses the network: resets the per-call
 * counters, and at the end hands the totals to the host (acu_progress) and
 * logs them ("authenticate check: 7 requests, ..."). pages and records:
 * the call's own progress so far (0 when it has none). */
void acu_call_begin(conn_instance *inst);
void acu_call_end(conn_instance *inst, const char *flow, const char *call, uint64_t pages,
                  uint64_t records);

/* The running totals of the current call through the host's progress
 * service (ABI 1.1; nothing with an older host): pages and records so far
 * and the transport's counters (requests, retries, 429s, throttle waits,
 * bytes). */
void acu_progress(conn_instance *inst, const char *flow, uint64_t pages, uint64_t records);

#endif
