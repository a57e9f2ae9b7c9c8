/*
 * conn_abi.h - the connector ABI, version 1.1.
 *
 * The contract between an integration host and a connector plugin loaded at
 * run time as a shared object. It needs nothing beyond the C standard library.
 *
 * Shape
 *   The plugin exports exactly one symbol, conn_plugin_entry_v1(). The host
 *   calls it with the ABI version it speaks and receives the plugin's function
 *   table. The host hands the plugin a table of host services in init().
 *   Both tables begin with abi_major, abi_minor and struct_size.
 *
 * Versioning
 *   - abi_major must match exactly. A major bump renames the entry symbol
 *     (conn_plugin_entry_v2), so an old host cannot even find a new plugin.
 *   - A minor bump only appends members to the end of a table. A reader tests
 *     CONN_HOST_HAS / CONN_PLUGIN_HAS - struct_size covers the member and the slot is
 *     not NULL - before using anything newer than 1.0.
 *   - Records and requests cross as UTF-8 JSON text, so their shape can grow
 *     without touching this header.
 *   - History: 1.0 the first release; 1.1 appended conn_host_api.progress.
 *
 * Memory
 *   Everything passed into a call is borrowed for the duration of that call.
 *   Results leave through host callbacks, which copy what they keep. Nothing is
 *   freed by the other side, and no library object (json_object, CURL, FILE)
 *   ever crosses the boundary.
 *
 * Threads
 *   The host never calls one plugin instance from two threads at once; it may
 *   call different instances from different threads at the same time. The
 *   plugin starts no threads: concurrency inside a call (HTTP requests in
 *   flight, record pipelines) is multiplexed on the calling thread. Host
 *   services may be called from inside any plugin call, on the calling thread.
 *
 * Process-wide state belongs to the host: the host calls curl_global_init()
 *   once before loading plugins. A plugin never calls curl_global_cleanup(),
 *   OPENSSL_cleanup(), atexit(), signal(), setlocale() or changes global
 *   json-c options, and it keeps no mutable globals.
 */
#ifndef CONN_ABI_H
#define CONN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONN_ABI_MAJOR 1
#define CONN_ABI_MINOR 1

/* The exported entry symbol, as a string for dlsym-style lookups. */
#define CONN_ENTRY_SYMBOL "conn_plugin_entry_v1"

/*
 * CONN_HOST_HAS(table, member) and CONN_PLUGIN_HAS(table, member): true when
 * a host or plugin table is large enough to contain `member` and the member
 * is set. Use them before touching any member added after 1.0, and for the
 * optional ones (alloc/free, can_unload).
 */
#define CONN_TABLE_HAS_(type, table, member)                                   \
    ((table) != NULL &&                                                        \
     (table)->struct_size >= offsetof(type, member) + sizeof((table)->member) && \
     (table)->member != NULL)
#define CONN_HOST_HAS(table, member)                                           \
    CONN_TABLE_HAS_(conn_host_api, table, member)
#define CONN_PLUGIN_HAS(table, member)                                         \
    CONN_TABLE_HAS_(conn_plugin_api, table, member)

/*
 * Status classes. Every fallible call returns one; the host's scheduler acts
 * on the class, the person reads conn_error.message.
 */
typedef enum conn_status {
    CONN_OK = 0,
    CONN_INVALID = 1,     /* bad settings or arguments: fix the configuration */
    CONN_AUTH = 2,        /* (re-)authorization needed: a person must act */
    CONN_RETRY = 3,       /* transient: timeout, 429, 5xx; try again later */
    CONN_REJECTED = 4,    /* Acumatica refused these data (422, 412) */
    CONN_CANCELLED = 5,   /* should_stop() said stop; state is consistent */
    CONN_NOMEM = 6,       /* out of memory */
    CONN_UNSUPPORTED = 7, /* this plugin version cannot do that */
    CONN_INTERNAL = 8,    /* a bug or an impossible state; see the message */
    CONN_NOT_FOUND = 9    /* the thing asked for does not exist */
} conn_status;

/* Log levels for conn_host_api.log. */
typedef enum conn_log_level {
    CONN_LOG_ERROR = 0,
    CONN_LOG_WARN = 1,
    CONN_LOG_INFO = 2,
    CONN_LOG_DEBUG = 3
} conn_log_level;

/* The outcome of one pushed record, reported through conn_host_api.report. */
typedef enum conn_outcome {
    CONN_OUT_CREATED = 0,   /* a new Acumatica record was made */
    CONN_OUT_UPDATED = 1,   /* an existing record was changed */
    CONN_OUT_DUPLICATE = 2, /* already there (duplicate checking); not written */
    CONN_OUT_SKIPPED = 3,   /* the mapping's skip filter matched */
    CONN_OUT_REJECTED = 4,  /* Acumatica or the mapping refused the record */
    CONN_OUT_FAILED = 5,    /* transient failure: retry the record later */
    CONN_OUT_CANCELLED = 6  /* not attempted because the call was cancelled */
} conn_outcome;

/*
 * The caller-owned error. The caller provides it (zeroed or not) and the
 * callee fills it when it returns anything but CONN_OK. Strings are always
 * NUL-terminated and truncated to fit. Never contains a secret.
 */
typedef struct conn_error {
    conn_status status;
    /* A sentence a person can act on, naming the setting, file or record. */
    char message[1024];
    /* Acumatica's exceptionType or OAuth error code, when there is one. */
    char detail_type[128];
    /* HTTP status of the failing response, 0 when no response was received. */
    int http_status;
    /* Milliseconds the server asked to wait (Retry-After), -1 when none. */
    int64_t retry_after_ms;
} conn_error;

/* A borrowed byte string (UTF-8 JSON unless a member says otherwise). */
typedef struct conn_buf {
    const char *data;
    size_t len;
} conn_buf;

/*
 * A sink for variable-length output (describe, authenticate). The callee may
 * call it several times; the bytes concatenate. Returns 0 to continue, any
 * other value to make the callee stop with CONN_NOMEM.
 */
typedef int (*conn_write_fn)(void *user, const char *data, size_t len);

/* Opaque per-instance host context, given at init and passed back. */
typedef struct conn_host_ctx conn_host_ctx;

/* Opaque plugin instance, made by init and ended by shutdown. */
typedef struct conn_instance conn_instance;

/* State flags for state_put / state_cas. */
#define CONN_STATE_SECRET 0x1u /* the host encrypts the value at rest */

/*
 * Host services, handed to the plugin in init(). The table and the ctx stay
 * valid until shutdown() returns. Every function is called only from inside
 * a plugin call, on the thread of that call; ctx identifies the instance
 * (the subscription), so keys are per instance.
 */
typedef struct conn_host_api {
    uint16_t abi_major;   /* CONN_ABI_MAJOR of the host */
    uint16_t abi_minor;   /* CONN_ABI_MINOR of the host */
    uint32_t struct_size; /* sizeof(conn_host_api) as the host compiled it */

    /* Write one log line. `flow` may be NULL. The message must never hold a
     * secret; the host may add time, level, subscription and run id. */
    void (*log)(conn_host_ctx *ctx, conn_log_level level, const char *flow,
                const char *message);

    /* Read the value stored under `key` into buf (cap bytes, not
     * NUL-terminated). *len receives the full length of the value even when
     * it does not fit; then nothing is copied and the call returns
     * CONN_OK with *len > cap, so the caller can retry with a larger buffer.
     * Returns CONN_NOT_FOUND when the key is absent, CONN_INTERNAL (with a
     * message in err) when the store or the secret key cannot be read or a
     * secret was tampered with. */
    conn_status (*state_get)(conn_host_ctx *ctx, const char *key, char *buf,
                             size_t cap, size_t *len, conn_error *err);

    /* Store `value` under `key`, replacing any value. CONN_STATE_SECRET in
     * flags: encrypted at rest. A NULL value deletes the key. */
    conn_status (*state_put)(conn_host_ctx *ctx, const char *key,
                             const char *value, size_t len, unsigned flags,
                             conn_error *err);

    /* Compare-and-swap, atomic across processes sharing the host state:
     * when the current value equals `expected` (expected == NULL: the key is
     * absent), store `value` (NULL: delete) and set *swapped = 1; otherwise
     * leave it and set *swapped = 0. Used for refresh-token rotation. */
    conn_status (*state_cas)(conn_host_ctx *ctx, const char *key,
                             const char *expected, size_t expected_len,
                             const char *value, size_t len, unsigned flags,
                             int *swapped, conn_error *err);

    /* Deliver one pulled record (UTF-8 JSON object) of `record_type` with its
     * stable `id` for `flow`. CONN_OK: the host accepted (copied) it. Any
     * other status: the host refused it; the plugin stops the pull without
     * moving the cursor past this record and returns that status. */
    conn_status (*emit)(conn_host_ctx *ctx, const char *flow,
                        const char *record_type, const char *id,
                        const char *json, size_t len);

    /* A new cursor for `flow`, to be committed by the host only after every
     * record emitted before it. The cursor is opaque text for the host; the
     * next pull request carries the last committed one. */
    conn_status (*checkpoint)(conn_host_ctx *ctx, const char *flow,
                              const char *cursor, size_t len);

    /* The outcome of pushed record number `index` (0-based, in the order the
     * push call received them). Called exactly once per record. `result` is a
     * JSON object with Acumatica identifiers and, for REJECTED/FAILED, the
     * message and field paths; it may be NULL. */
    void (*report)(conn_host_ctx *ctx, size_t index, conn_outcome outcome,
                   const char *result, size_t len);

    /* Nonzero when the host wants the current call to end soon (shutdown,
     * swap, deadline). The plugin polls it between and during transfers and
     * returns CONN_CANCELLED with its state consistent. */
    int (*should_stop)(conn_host_ctx *ctx);

    /* Wall-clock milliseconds since the Unix epoch, as the host sees them
     * (a test host may move them). */
    int64_t (*now_ms)(conn_host_ctx *ctx);

    /* Optional (test with CONN_HOST_HAS): an allocator the host wants used for
     * the plugin's large buffers. Both or neither are set. */
    void *(*alloc)(conn_host_ctx *ctx, size_t size);
    void (*free)(conn_host_ctx *ctx, void *ptr);

    /* Added in 1.1; optional (test with CONN_HOST_HAS). The running totals
     * of the current call for `flow` (NULL outside a flow), as one JSON
     * object of non-negative integers of at most 1024 bytes, for instance
     * {"pages":12,"records":6000,"requests":14,"retries":1,"status_429":0,
     * "throttle_waits":3,"throttle_wait_ms":1200,"bytes_in":912345}. Each
     * call replaces the previous totals; the plugin calls it after each page
     * and once at the end of a call. For display and run summaries only:
     * the host ignores what it cannot read, and nothing else depends on it. */
    void (*progress)(conn_host_ctx *ctx, const char *flow, const char *json,
                     size_t len);
} conn_host_api;

/*
 * The plugin's table, returned by the entry point. It is static const in the
 * plugin and lives as long as the plugin is loaded.
 */
typedef struct conn_plugin_api {
    uint16_t abi_major;   /* CONN_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* CONN_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(conn_plugin_api) as the plugin compiled it */

    /* Static strings owned by the plugin; any thread, any time. name is the
     * plugin's family ("acumatica"), version its semantic version, and
     * build_info a human line with the git revision and library versions. */
    const char *(*name)(void);
    const char *(*version)(void);
    const char *(*build_info)(void);

    /* Write a JSON document describing the plugin to `out`: the settings
     * JSON Schema, the flows with their directions and record types, and the
     * capabilities. Any thread, no instance needed. */
    conn_status (*describe)(conn_write_fn out, void *user, conn_error *err);

    /* Make an instance from the settings JSON (one object). Validates every
     * setting and reports every problem at once in err->message (one per
     * line) with CONN_INVALID. `host` and `ctx` are kept until shutdown.
     * Makes no network call. *out is set only with CONN_OK; on any other
     * status it is NULL and there is nothing to shut down. */
    conn_status (*init)(const conn_host_api *host, conn_host_ctx *ctx,
                        const char *settings_json, size_t len,
                        conn_instance **out, conn_error *err);

    /* Authentication steps, requested as JSON, e.g. {"step":"begin"} (returns
     * the authorization URL), {"step":"complete","redirect_url":"..."},
     * {"step":"login"} or {"step":"check"}. The answer, a JSON object, goes to
     * `out`. Tokens are kept in host state, never written to `out`. */
    conn_status (*authenticate)(conn_instance *inst, const char *request,
                                size_t len, conn_write_fn out, void *user,
                                conn_error *err);

    /* Pull one flow to the host. The request is JSON:
     * {"flow":"customers","cursor":<last committed cursor or null>,
     *  "full":false,"ids":[...]}. Records go to host->emit, cursors to
     * host->checkpoint. */
    conn_status (*pull)(conn_instance *inst, const char *request, size_t len,
                        conn_error *err);

    /* Push `count` records (each a JSON object) of `flow` to Acumatica. Every
     * record gets exactly one host->report call, whatever the return value;
     * the return value summarises the call (CONN_OK when it ran to the end,
     * even if some records were rejected). */
    conn_status (*push)(conn_instance *inst, const char *flow,
                        const conn_buf *records, size_t count,
                        conn_error *err);

    /* End the instance: sign out where needed and free everything. The
     * instance pointer is invalid afterwards. Accepts NULL. */
    void (*shutdown)(conn_instance *inst);

    /* Optional: asked only when the host holds no instance of this plugin;
     * nonzero when the code may then be unmapped (no thread, timer, atexit
     * handler or other process-wide hook of the plugin remains). When absent,
     * the host keeps the module mapped until it exits. */
    int (*can_unload)(void);

    /* Optional: the mapping tools, with no network. The request is JSON:
     * {"op":"validate"} (every problem of the instance's mappings),
     * {"op":"show","flow":"sales_orders","direction":"from_host"} (the
     * effective mapping after overlays) or {"op":"test","flow":...,
     * "direction":...,"records":[...]} (each record mapped, with per-field
     * errors). The answer, a JSON object, goes to `out`. */
    conn_status (*mappings)(conn_instance *inst, const char *request,
                            size_t len, conn_write_fn out, void *user,
                            conn_error *err);
} conn_plugin_api;

/*
 * The one exported symbol. The host passes the ABI version it speaks; the
 * plugin sets *api to its table and returns CONN_OK, or returns
 * CONN_UNSUPPORTED (and sets *api to its table anyway when it can, so the host
 * can name the versions in its message) when the majors differ.
 */
typedef conn_status (*conn_plugin_entry_fn)(uint16_t host_major,
                                            uint16_t host_minor,
                                            const conn_plugin_api **api);

conn_status conn_plugin_entry_v1(uint16_t host_major, uint16_t host_minor,
                                 const conn_plugin_api **api);

#ifdef __cplusplus
}
#endif

#endif /* CONN_ABI_H */
