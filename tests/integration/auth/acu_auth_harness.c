/* acu_auth_harness.c - drives the plugin's authenticate steps through the
 * reference host's real loader, state and services, for the integration
 * tests in this directory (test_auth.py).
 *
 *   acu_auth_harness --plugin P --config C --state S [--subscription N]
 *                    [--clock-offset-ms N] [--log FILE] STEP...
 *
 * A STEP is an authenticate request (JSON text), or a directive:
 *   @sleep:MS                 wait
 *   @wait-file:PATH           wait (up to 30 s) until PATH exists: a barrier
 *                             between processes started by the test
 *   @touch:PATH               create PATH
 *   @stop-after:MS            the host asks the next step to stop after MS
 *   @clock:MS                 set the clock offset (the host's now_ms)
 *   @post URL JSON            POST JSON to URL (the simulator's control
 *                             interface); two more arguments
 *   @save-refresh             remember the refresh token now stored
 *   @replay-saved-refresh     spend the remembered refresh token at the
 *                             token endpoint, as a stale process would
 *   @export-secrets:FILE      append the stored token values and a pending
 *                             verifier to FILE (mode 0600) so the secret
 *                             scan knows what to look for
 *
 * Each step prints one JSON line on stdout:
 *   {"step":N,"request":"step <name>","status":"OK","answer":{...}|null,
 *    "error":"...","http_status":N,"detail_type":"..."}
 * Secrets are never printed: only the scan file receives them. */
#include <curl/curl.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_buf.h"
#include "host_ctx.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_file.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_state.h"

#define SETTINGS_MAX (1024u * 1024u)

typedef struct harness {
    host_state *state;
    host_ctx *ctx;
    host_instance *inst;
    const char *subscription;
    json_object *settings;
    int64_t clock_offset_ms;
    char *saved_refresh;
    FILE *log;
    int stop_after_ms;
} harness;

static int64_t offset_clock(void *user)
{
    harness *h = user;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + h->clock_offset_ms;
}

static void log_to_file(void *user, const char *subscription, conn_log_level level,
                        const char *flow, const char *message)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    harness *h = user;

    fprintf(h->log, "%s [%s] %s%s%s\n", names[level <= CONN_LOG_DEBUG ? level : 3],
            subscription, flow != NULL ? flow : "", flow != NULL ? ": " : "", message);
    fflush(h->log);
}

/* Only the step's name is echoed: a request may carry a code. */
static void print_result(int n, const char *request, conn_status st, const host_buf *answer,
                         const conn_error *err)
{
    json_object *o = json_object_new_object(), *ans = NULL, *req = json_tokener_parse(request),
                *name = NULL;
    char label[64];

    if (json_object_object_get_ex(req, "step", &name))
        snprintf(label, sizeof(label), "step %s", json_object_get_string(name));
    else
        snprintf(label, sizeof(label), "%.40s", strchr(request, '{') == NULL ? request : "?");
    json_object_put(req);
    request = label;

    if (answer != NULL && answer->len > 0)
        ans = json_tokener_parse(answer->data);
    json_object_object_add(o, "step", json_object_new_int(n));
    json_object_object_add(o, "request", json_object_new_string(request));
    json_object_object_add(o, "status", json_object_new_string(host_status_name(st)));
    json_object_object_add(o, "answer", ans);
    json_object_object_add(o, "error", json_object_new_string(st == CONN_OK ? "" : err->message));
    json_object_object_add(o, "http_status", json_object_new_int(st == CONN_OK ? 0 : err->http_status));
    json_object_object_add(o, "detail_type",
                           json_object_new_string(st == CONN_OK ? "" : err->detail_type));
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(o);
}

static void *stopper(void *arg)
{
    harness *h = arg;
    struct timespec ts = {h->stop_after_ms / 1000, (long)(h->stop_after_ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
    host_ctx_request_stop(h->ctx);
    return NULL;
}

static void run_authenticate(harness *h, int n, const char *request)
{
    const conn_plugin_api *api = host_instance_api(h->inst);
    host_buf answer;
    conn_error err;
    conn_status st;
    pthread_t tid;
    int stopping = h->stop_after_ms > 0;

    host_buf_init(&answer, 4u << 20);
    host_err_clear(&err);
    if (stopping)
        pthread_create(&tid, NULL, stopper, h);
    st = api->authenticate(host_instance_handle(h->inst), request, strlen(request),
                           host_buf_write, &answer, &err);
    if (stopping) {
        pthread_join(tid, NULL);
        host_ctx_clear_stop(h->ctx);
        h->stop_after_ms = 0;
    }
    print_result(n, request, st, &answer, &err);
    host_buf_free(&answer);
}

/* The stored tokens object (the plugin's acu.oauth.tokens), or NULL. */
static json_object *stored(harness *h, const char *key)
{
    char buf[65536];
    size_t len = 0;
    conn_error err;

    host_err_clear(&err);
    if (host_state_get(h->state, h->subscription, key, buf, sizeof(buf) - 1, &len, &err) !=
            CONN_OK || len >= sizeof(buf))
        return NULL;
    buf[len] = '\0';
    return json_tokener_parse(buf);
}

static const char *setting(harness *h, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(h->settings, key, &v))
        return NULL;
    return json_object_get_string(v);
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static size_t keep(char *p, size_t s, size_t n, void *u)
{
    host_buf_append(u, p, s * n);
    return s * n;
}

/* POST body to url; returns the HTTP status (0 on failure). */
static long post(const char *url, const char *ctype, const char *body, host_buf *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hd = NULL;
    char header[128];
    long code = 0;

    if (c == NULL)
        return 0;
    snprintf(header, sizeof(header), "Content-Type: %s", ctype);
    hd = curl_slist_append(hd, header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, out != NULL ? keep : discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    return code;
}

static void save_refresh(harness *h, int n)
{
    json_object *t = stored(h, "acu.oauth.tokens"), *v;

    free(h->saved_refresh);
    h->saved_refresh = NULL;
    if (t != NULL && json_object_object_get_ex(t, "refresh_token", &v) &&
        json_object_is_type(v, json_type_string))
        h->saved_refresh = strdup(json_object_get_string(v));
    printf("{\"step\":%d,\"request\":\"@save-refresh\",\"saved\":%s}\n", n,
           h->saved_refresh != NULL ? "true" : "false");
    fflush(stdout);
    json_object_put(t);
}

static void replay_refresh(harness *h, int n)
{
    CURL *c = curl_easy_init();
    char *form = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL, url[2048];
    host_buf out;
    long code = 0;
    json_object *ans = NULL, *err = NULL;

    host_buf_init(&out, 65536);
    if (c == NULL || h->saved_refresh == NULL)
        goto done;
    e1 = curl_easy_escape(c, setting(h, "client_id"), 0);
    e2 = curl_easy_escape(c, setting(h, "client_secret"), 0);
    e3 = curl_easy_escape(c, h->saved_refresh, 0);
    form = malloc(strlen(e1) + strlen(e2) + strlen(e3) + 128);
    sprintf(form, "grant_type=refresh_token&client_id=%s&client_secret=%s&refresh_token=%s", e1,
            e2, e3);
    snprintf(url, sizeof(url), "%s/identity/connect/token", setting(h, "api_url"));
    code = post(url, "application/x-www-form-urlencoded", form, &out);
    if (out.len > 0)
        ans = json_tokener_parse(out.data);
    json_object_object_get_ex(ans, "error", &err);
done:
    printf("{\"step\":%d,\"request\":\"@replay-saved-refresh\",\"http_status\":%ld,"
           "\"error\":\"%s\"}\n", n, code, err != NULL ? json_object_get_string(err) : "");
    fflush(stdout);
    if (form != NULL)
        OPENSSL_cleanse(form, strlen(form));
    free(form);
    curl_free(e1);
    curl_free(e2);
    curl_free(e3);
    json_object_put(ans);
    host_buf_free(&out);
    curl_easy_cleanup(c);
}

static void export_secrets(harness *h, const char *path)
{
    static const char *const token_keys[] = {"access_token", "refresh_token"};
    json_object *t = stored(h, "acu.oauth.tokens"), *p = stored(h, "acu.oauth.pending"), *v;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

    if (f != NULL) {
        for (size_t i = 0; i < 2; i++)
            if (t != NULL && json_object_object_get_ex(t, token_keys[i], &v) &&
                json_object_is_type(v, json_type_string))
                fprintf(f, "%s\n", json_object_get_string(v));
        if (p != NULL && json_object_object_get_ex(p, "verifier", &v))
            fprintf(f, "%s\n", json_object_get_string(v));
        fclose(f);
    } else if (fd >= 0) {
        close(fd);
    }
    json_object_put(t);
    json_object_put(p);
}

static int wait_file(const char *path)
{
    for (int i = 0; i < 3000; i++) {
        struct stat sb;
        struct timespec ts = {0, 10000000L};

        if (stat(path, &sb) == 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: acu_auth_harness --plugin P --config C --state S "
                    "[--subscription N] [--clock-offset-ms N] [--log FILE] STEP...\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *plugin = NULL, *config = NULL, *state_path = NULL, *log_path = NULL;
    harness h;
    host_module *mod = NULL;
    char *settings = NULL;
    size_t len = 0;
    conn_error err;
    conn_status st;
    int i, n = 0, rc = 1;

    memset(&h, 0, sizeof(h));
    h.subscription = "harness";
    h.log = stderr;
    for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--plugin") == 0)
            plugin = argv[i + 1];
        else if (strcmp(argv[i], "--config") == 0)
            config = argv[i + 1];
        else if (strcmp(argv[i], "--state") == 0)
            state_path = argv[i + 1];
        else if (strcmp(argv[i], "--subscription") == 0)
            h.subscription = argv[i + 1];
        else if (strcmp(argv[i], "--clock-offset-ms") == 0)
            h.clock_offset_ms = strtoll(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--log") == 0)
            log_path = argv[i + 1];
        else
            return usage();
    }
    if (plugin == NULL || config == NULL || state_path == NULL)
        return usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (log_path != NULL && (h.log = fopen(log_path, "a")) == NULL) {
        perror(log_path);
        return 1;
    }
    host_err_clear(&err);
    st = host_read_file(config, SETTINGS_MAX, &settings, &len, &err);
    if (st == CONN_OK) {
        h.settings = json_tokener_parse(settings);
        st = host_module_open(plugin, &mod, &err);
    }
    if (st == CONN_OK)
        st = host_state_new(state_path, &h.state, &err);
    if (st == CONN_OK)
        st = host_ctx_new(h.subscription, h.state, &h.ctx, &err);
    if (st == CONN_OK) {
        host_ctx_set_log(h.ctx, log_to_file, &h, CONN_LOG_DEBUG);
        host_ctx_set_clock(h.ctx, offset_clock, &h);
        st = host_instance_new(mod, h.ctx, settings, len, &h.inst, &err);
    }
    if (st != CONN_OK) {
        print_result(0, "init", st, NULL, &err);
        rc = 0; /* the test reads the line */
        goto out;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];

        n++;
        if (strncmp(a, "@sleep:", 7) == 0) {
            long ms = strtol(a + 7, NULL, 10);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

            nanosleep(&ts, NULL);
        } else if (strncmp(a, "@wait-file:", 11) == 0) {
            if (wait_file(a + 11) != 0)
                fprintf(stderr, "harness: %s never appeared\n", a + 11);
        } else if (strncmp(a, "@touch:", 7) == 0) {
            FILE *f = fopen(a + 7, "a");

            if (f != NULL)
                fclose(f);
        } else if (strncmp(a, "@stop-after:", 12) == 0) {
            h.stop_after_ms = atoi(a + 12);
        } else if (strncmp(a, "@clock:", 7) == 0) {
            h.clock_offset_ms = strtoll(a + 7, NULL, 10);
        } else if (strcmp(a, "@post") == 0 && i + 2 < argc) {
            long code = post(argv[i + 1], "application/json", argv[i + 2], NULL);

            printf("{\"step\":%d,\"request\":\"@post\",\"http_status\":%ld}\n", n, code);
            fflush(stdout);
            i += 2;
        } else if (strcmp(a, "@save-refresh") == 0) {
            save_refresh(&h, n);
        } else if (strcmp(a, "@replay-saved-refresh") == 0) {
            replay_refresh(&h, n);
        } else if (strncmp(a, "@export-secrets:", 16) == 0) {
            export_secrets(&h, a + 16);
        } else {
            run_authenticate(&h, n, a);
        }
    }
    rc = 0;
out:
    host_instance_free(h.inst);
    host_ctx_free(h.ctx);
    host_state_free(h.state);
    host_module_close(mod);
    json_object_put(h.settings);
    if (h.saved_refresh != NULL)
        OPENSSL_cleanse(h.saved_refresh, strlen(h.saved_refresh));
    free(h.saved_refresh);
    if (settings != NULL)
        OPENSSL_cleanse(settings, len);
    free(settings);
    if (h.log != NULL && h.log != stderr)
        fclose(h.log);
    curl_global_cleanup();
    return rc;
}
