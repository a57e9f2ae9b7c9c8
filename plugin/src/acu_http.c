/* acu_http.c - the asynchronous HTTP transport on a curl multi handle. */
#include "acu_http.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acu_buf.h"
#include "acu_error.h"
#include "acu_url.h"

/* The loop wakes at least this often to ask the host's should_stop. */
#define POLL_SLICE_MS 200

typedef enum req_state {
    RS_QUEUED,    /* in the throttle queue */
    RS_AUTH_WAIT, /* parked until the authority settles */
    RS_BACKOFF,   /* waiting out a retry delay */
    RS_RUNNING,   /* on the multi handle */
    RS_DONE       /* in the completed list, callback not yet run */
} req_state;

typedef struct slot {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    struct acu_req *req; /* NULL when free */
} slot;

typedef struct acu_req {
    acu_throttle_waiter w;          /* the throttle's queue link */
    struct acu_req *prev_all, *next_all; /* every live request */
    struct acu_req *next;           /* auth-wait, backoff or done list */
    acu_http *h;
    req_state state;
    /* What to send (copies). */
    char *method, *url, *ctype, *body, *what;
    size_t body_len;
    struct curl_slist *extra;
    int idempotent, authorized, endpoint;
    int max_attempts;
    long timeout_ms;
    acu_http_done_fn done;
    void *user;
    /* The current attempt. */
    int attempts;
    int auth_retried;
    unsigned generation;
    char *auth_header; /* secret: wiped when freed */
    struct curl_slist *hdrs;
    slot *slot;
    int64_t started_ms;
    int64_t due_ms; /* RS_BACKOFF: when to queue it again */
    acu_buf in;
    char *location, *content_type;
    int64_t retry_after_ms;
    int too_big, stalled, answer_started;
    curl_off_t last_dl, last_ul;
    int64_t last_move_ms;
    /* The result, once RS_DONE. */
    acu_resp *resp;
} acu_req;

struct acu_http {
    const conn_host_api *host;
    conn_host_ctx *ctx;
    char *user_agent, *ca_file, *endpoint_version;
    int allow_http;
    long timeout_ms;
    acu_backoff_policy policy;
    CURLM *multi;
    CURLSH *share;
    slot *slots;
    int nslots;
    acu_throttle throttle;
    acu_req *all;                   /* live requests, any state */
    acu_req *auth_head, *auth_tail; /* RS_AUTH_WAIT, in order */
    acu_req *backoff;               /* RS_BACKOFF, unordered */
    acu_req *done_head, *done_tail; /* RS_DONE, in completion order */
    size_t live;
    acu_http_authority auth;
    int has_auth;
    int running;    /* inside acu_http_run */
    int ignore_stop;
    int cancelling; /* ending every request */
    acu_prng prng;
    acu_http_counters counters;
    /* The server's clock minus the host's, from the last Date header
     * (whole seconds); valid when has_server_clock. */
    int64_t server_clock_offset_ms;
    int has_server_clock;
};

int64_t acu_http_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hlog(acu_http *h, conn_log_level level, const char *fmt, ...) ACU_PRINTF(3, 4);

static void hlog(acu_http *h, conn_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (h->host == NULL || h->host->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    h->host->log(h->ctx, level, NULL, line);
}

static char *dupz(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* ------------------------------------------------------------------ */
/* Making and ending */

conn_status acu_http_new(const acu_http_config *cfg, acu_http **out,
                         conn_error *err)
{
    acu_http *h = NULL;
    conn_status st = CONN_OK;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return acu_err_set(err, CONN_NOMEM, "transport: out of memory");
    h->host = cfg->host;
    h->ctx = cfg->ctx;
    h->allow_http = cfg->allow_http;
    h->timeout_ms = (long)cfg->request_timeout_s * 1000L;
    h->policy = cfg->policy != NULL ? *cfg->policy : acu_backoff_default;
    h->user_agent = dupz(cfg->user_agent);
    h->ca_file = dupz(cfg->ca_file);
    h->endpoint_version = dupz(cfg->endpoint_version);
    h->nslots = cfg->concurrent_connections;
    h->slots = calloc((size_t)h->nslots, sizeof(*h->slots));
    if (h->user_agent == NULL || (cfg->ca_file != NULL && h->ca_file == NULL) ||
        (cfg->endpoint_version != NULL && h->endpoint_version == NULL) || h->slots == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "transport: out of memory");
        goto out;
    }
    st = acu_throttle_init(&h->throttle, cfg->throttle_limit,
                           (int64_t)cfg->throttle_seconds * 1000, cfg->concurrent_connections);
    if (st != CONN_OK) {
        acu_err_set(err, st, "transport: cannot set up the throttle");
        goto out;
    }
    st = acu_prng_seed(&h->prng, err);
    if (st != CONN_OK)
        goto out;
    h->multi = curl_multi_init();
    h->share = curl_share_init();
    if (h->multi == NULL || h->share == NULL) {
        st = acu_err_set(err, CONN_INTERNAL, "transport: libcurl could not start");
        goto out;
    }
    /* One instance is used by one thread at a time: no lock callbacks. */
    if (curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK ||
        curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        st = acu_err_set(err, CONN_INTERNAL, "transport: libcurl cannot share cookies");
        goto out;
    }
    if (curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          (long)cfg->concurrent_connections) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
                          (long)cfg->concurrent_connections) != CURLM_OK) {
        st = acu_err_set(err, CONN_INTERNAL, "transport: libcurl refused the pool size");
        goto out;
    }
    *out = h;
    h = NULL;
out:
    acu_http_free(h);
    return st;
}

static void req_free(acu_req *r)
{
    if (r == NULL)
        return;
    free(r->method);
    free(r->url);
    free(r->ctype);
    if (r->body != NULL)
        OPENSSL_cleanse(r->body, r->body_len); /* may hold a password */
    free(r->body);
    free(r->what);
    curl_slist_free_all(r->extra);
    curl_slist_free_all(r->hdrs);
    wipe_free(r->auth_header);
    acu_buf_free(&r->in);
    free(r->location);
    free(r->content_type);
    acu_resp_free(r->resp);
    free(r);
}

void acu_resp_free(acu_resp *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->location);
    free(r->content_type);
    acu_apierr_free(&r->apierr);
    free(r);
}

static void unlink_all(acu_http *h, acu_req *r)
{
    if (r->prev_all != NULL)
        r->prev_all->next_all = r->next_all;
    else
        h->all = r->next_all;
    if (r->next_all != NULL)
        r->next_all->prev_all = r->prev_all;
    r->prev_all = r->next_all = NULL;
    h->live--;
}

static void remove_from(acu_req **head, acu_req **tail, acu_req *r)
{
    acu_req *prev = NULL;

    for (acu_req *p = *head; p != NULL; prev = p, p = p->next) {
        if (p != r)
            continue;
        if (prev != NULL)
            prev->next = r->next;
        else
            *head = r->next;
        if (tail != NULL && *tail == r)
            *tail = prev;
        r->next = NULL;
        return;
    }
}

/* Take r off whatever it waits in, or off the multi handle. */
static void detach(acu_http *h, acu_req *r)
{
    switch (r->state) {
    case RS_QUEUED:
        acu_throttle_remove(&h->throttle, &r->w);
        break;
    case RS_AUTH_WAIT:
        remove_from(&h->auth_head, &h->auth_tail, r);
        break;
    case RS_BACKOFF:
        remove_from(&h->backoff, NULL, r);
        break;
    case RS_RUNNING:
        if (r->slot != NULL) {
            curl_multi_remove_handle(h->multi, r->slot->easy);
            r->slot->req = NULL;
            r->slot = NULL;
        }
        acu_throttle_done(&h->throttle);
        break;
    case RS_DONE:
        remove_from(&h->done_head, &h->done_tail, r);
        break;
    }
}

/* Build the response of r and put r in the completed list. The status and
 * message come from st/fmt; apierr (may be NULL) is moved in. */
static void complete(acu_http *h, acu_req *r, conn_status st, int unknown, long code,
                     acu_apierr *apierr, const conn_error *err)
{
    acu_resp *resp = calloc(1, sizeof(*resp));

    if (resp != NULL) {
        resp->status = st;
        resp->outcome_unknown = unknown;
        resp->attempts = r->attempts;
        resp->body = acu_buf_take(&r->in, &resp->body_len);
        resp->location = r->location;
        resp->content_type = r->content_type;
        r->location = r->content_type = NULL;
        if (apierr != NULL) {
            resp->apierr = *apierr;
            memset(apierr, 0, sizeof(*apierr));
        }
        resp->http_status = code;
        acu_err_clear(&resp->err);
        if (err != NULL)
            resp->err = *err;
        resp->err.status = st;
        if (resp->err.http_status == 0)
            resp->err.http_status = (int)code;
        if (resp->body == NULL) {
            acu_resp_free(resp);
            resp = NULL;
        }
    }
    if (apierr != NULL)
        acu_apierr_free(apierr);
    r->resp = resp;
    r->state = RS_DONE;
    r->next = NULL;
    if (h->done_tail != NULL)
        h->done_tail->next = r;
    else
        h->done_head = r;
    h->done_tail = r;
    if (st != CONN_OK)
        h->counters.failures++;
}

/* Run the callbacks of completed requests, in order. Returns nonzero when
 * until(user) became true. */
static int deliver(acu_http *h, int (*until)(void *), void *user)
{
    while (h->done_head != NULL) {
        acu_req *r = h->done_head;
        acu_resp *resp = r->resp;
        acu_http_done_fn done = r->done;
        void *cb_user = r->user;

        h->done_head = r->next;
        if (h->done_head == NULL)
            h->done_tail = NULL;
        r->resp = NULL;
        unlink_all(h, r);
        req_free(r);
        if (resp == NULL) {
            /* Out of memory building the response: the callback still runs,
             * with the smallest answer that can be made. */
            resp = calloc(1, sizeof(*resp));
            if (resp == NULL)
                continue; /* nothing more can be done without memory */
            resp->status = CONN_NOMEM;
            acu_err_clear(&resp->err);
            acu_err_set(&resp->err, CONN_NOMEM, "transport: out of memory");
            resp->body = strdup("");
        }
        done(cb_user, resp);
        if (until != NULL && until(user))
            return 1;
    }
    return 0;
}

static void cancel_all(acu_http *h, const char *why)
{
    conn_error e;

    h->cancelling = 1;
    for (acu_req *r = h->all; r != NULL; r = r->next_all) {
        int unknown;

        if (r->state == RS_DONE)
            continue;
        /* A request on the wire that could create something may have done
         * so. */
        unknown = r->state == RS_RUNNING && !r->idempotent;
        detach(h, r);
        acu_err_clear(&e);
        acu_err_set(&e, CONN_CANCELLED, "%s: %s", r->what, why);
        complete(h, r, CONN_CANCELLED, unknown, 0, NULL, &e);
    }
}

void acu_http_free(acu_http *h)
{
    if (h == NULL)
        return;
    if (h->all != NULL) {
        cancel_all(h, "cancelled because the instance is ending");
        (void)deliver(h, NULL, NULL);
    }
    for (int i = 0; h->slots != NULL && i < h->nslots; i++) {
        if (h->slots[i].easy != NULL) {
            curl_multi_remove_handle(h->multi, h->slots[i].easy);
            curl_easy_cleanup(h->slots[i].easy);
        }
    }
    free(h->slots);
    if (h->multi != NULL)
        curl_multi_cleanup(h->multi);
    if (h->share != NULL)
        curl_share_cleanup(h->share);
    acu_throttle_free(&h->throttle);
    free(h->user_agent);
    free(h->ca_file);
    free(h->endpoint_version);
    free(h);
}

void acu_http_set_authority(acu_http *h, const acu_http_authority *a)
{
    if (a != NULL) {
        h->auth = *a;
        h->has_auth = 1;
    } else {
        memset(&h->auth, 0, sizeof(h->auth));
        h->has_auth = 0;
    }
}

/* ------------------------------------------------------------------ */
/* libcurl callbacks: they only record; decisions are made in the loop. */

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    acu_req *r = userp;
    size_t len = size * n;

    r->answer_started = 1;
    if (acu_buf_add(&r->in, data, len) != ACU_BUF_OK) {
        r->too_big = r->in.len + len > r->in.max;
        acu_buf_reset(&r->in); /* the part kept is of no use */
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

static char *header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name), end;
    const char *v;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    v = line + n + 1;
    end = len - n - 1;
    while (end > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        end--;
    }
    while (end > 0 && (v[end - 1] == '\r' || v[end - 1] == '\n' || v[end - 1] == ' '))
        end--;
    if (end > 4096)
        return NULL;
    return strndup(v, end);
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    acu_req *r = userp;
    size_t len = size * n;
    char *v;

    r->answer_started = 1;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new answer (after a 100 Continue): forget the last one's. */
        free(r->location);
        free(r->content_type);
        r->location = r->content_type = NULL;
        r->retry_after_ms = -1;
        return len;
    }
    if ((v = header_value(data, len, "Location")) != NULL) {
        free(r->location);
        r->location = v;
    } else if ((v = header_value(data, len, "Content-Type")) != NULL) {
        free(r->content_type);
        r->content_type = v;
    } else if ((v = header_value(data, len, "Date")) != NULL) {
        time_t t = curl_getdate(v, NULL);

        if (t > 0 && r->h->host != NULL && r->h->host->now_ms != NULL) {
            r->h->server_clock_offset_ms =
                (int64_t)t * 1000 - r->h->host->now_ms(r->h->ctx);
            r->h->has_server_clock = 1;
        }
        free(v);
    } else if ((v = header_value(data, len, "Retry-After")) != NULL) {
        int64_t now = r->h->host != NULL && r->h->host->now_ms != NULL ?
                          r->h->host->now_ms(r->h->ctx) : (int64_t)time(NULL) * 1000;

        r->retry_after_ms = acu_retry_after_parse(v, now);
        free(v);
    }
    return len;
}

/* The stall rule: once bytes move (the body going up, the answer coming
 * down), a pause longer than ACU_HTTP_STALL_MS ends the transfer. The wait
 * between a fully sent request and the first byte of its answer is not a
 * stall: Acumatica may be holding the request in its license queue. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    acu_req *r = userp;
    int64_t now = acu_http_now_ms();
    int uploading = ulnow > 0 && ulnow < ultotal;

    (void)dltotal;
    if (dlnow != r->last_dl || ulnow != r->last_ul) {
        r->last_dl = dlnow;
        r->last_ul = ulnow;
        r->last_move_ms = now;
        return 0;
    }
    if ((r->answer_started || uploading) && now - r->last_move_ms > ACU_HTTP_STALL_MS) {
        r->stalled = 1;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Starting a request */

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK)                         \
            goto fail;                                                         \
    } while (0)

/* What every request of the instance shares, set once when the handle is
 * made. The handles are never curl_easy_reset: libcurl 7.88 loses the
 * pending cookie-file list on a reset (a leak), and everything that varies
 * per request is set again in configure() anyway. */
static conn_status setup_handle(acu_http *h, slot *s, conn_error *err)
{
    CURL *e = s->easy;

    SET(CURLOPT_ERRORBUFFER, s->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, h->allow_http ? "http,https" : "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SHARE, h->share);
    SET(CURLOPT_COOKIEFILE, ""); /* the in-memory cookie engine */
    SET(CURLOPT_USERAGENT, h->user_agent);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)ACU_HTTP_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 60L);
    SET(CURLOPT_TCP_KEEPINTVL, 30L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_file != NULL)
        SET(CURLOPT_CAINFO, h->ca_file);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_NOPROGRESS, 0L);
    return CONN_OK;
fail:
    return acu_err_set(err, CONN_INTERNAL, "transport: libcurl refused an option (%s)",
                       s->errbuf[0] ? s->errbuf : "no detail");
}

/* What varies per request: every one of these is set on every request, so
 * nothing of the previous request on this handle remains. */
static conn_status configure(acu_http *h, acu_req *r, slot *s, conn_error *err)
{
    CURL *e = s->easy;
    struct curl_slist *l = NULL;
    char ct[160];

    s->errbuf[0] = '\0';
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : h->timeout_ms);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_XFERINFODATA, r);
    SET(CURLOPT_PRIVATE, r);
    /* libcurl sends a request again by itself, on a new connection, when a
     * reused keep-alive connection dies before any byte of the answer -
     * even a POST or PUT whose body was sent and perhaps processed. A
     * request that must not run twice therefore goes on a fresh
     * connection, where libcurl never does that. */
    SET(CURLOPT_FRESH_CONNECT, r->idempotent ? 0L : 1L);
    if (strcmp(r->method, "GET") == 0) {
        /* Forget the last request's body (freed with it), then GET. */
        SET(CURLOPT_POSTFIELDS, (char *)NULL);
        SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_CUSTOMREQUEST, strcmp(r->method, "POST") == 0 ? NULL : r->method);
        /* A bodiless POST still says Content-Length: 0 (IIS answers 411
         * otherwise). */
        SET(CURLOPT_POSTFIELDS, r->body != NULL ? r->body : "");
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    }
    l = curl_slist_append(l, "Accept: application/json");
    if (l != NULL)
        l = curl_slist_append(l, "Expect:");
    if (l != NULL && r->ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", r->ctype);
        l = curl_slist_append(l, ct);
    } else if (l != NULL && strcmp(r->method, "GET") != 0) {
        /* Without this libcurl would label the body as a form. */
        l = curl_slist_append(l, "Content-Type:");
    }
    for (struct curl_slist *x = r->extra; l != NULL && x != NULL; x = x->next)
        l = curl_slist_append(l, x->data);
    if (l != NULL && r->auth_header != NULL)
        l = curl_slist_append(l, r->auth_header);
    if (l == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", r->what);
    curl_slist_free_all(r->hdrs);
    r->hdrs = l;
    l = NULL;
    SET(CURLOPT_HTTPHEADER, r->hdrs);
    return CONN_OK;
fail:
    curl_slist_free_all(l);
    return acu_err_set(err, CONN_INTERNAL, "%s: libcurl refused an option (%s)", r->what,
                       s->errbuf[0] ? s->errbuf : "no detail");
}

static slot *free_slot(acu_http *h, conn_error *err)
{
    for (int i = 0; i < h->nslots; i++) {
        slot *s = &h->slots[i];

        if (s->req != NULL)
            continue;
        if (s->easy == NULL) {
            s->easy = curl_easy_init();
            if (s->easy == NULL) {
                acu_err_set(err, CONN_NOMEM, "transport: libcurl could not make a handle");
                return NULL;
            }
            if (setup_handle(h, s, err) != CONN_OK) {
                curl_easy_cleanup(s->easy);
                s->easy = NULL;
                return NULL;
            }
        }
        return s;
    }
    acu_err_set(err, CONN_INTERNAL, "transport: no free connection (a bug)");
    return NULL;
}

/* Start an admitted request; on failure it completes. */
static void start(acu_http *h, acu_req *r, int64_t now)
{
    conn_error e;
    slot *s;
    conn_status st;

    acu_err_clear(&e);
    s = free_slot(h, &e);
    if (s == NULL) {
        acu_throttle_done(&h->throttle);
        complete(h, r, e.status, 0, 0, NULL, &e);
        return;
    }
    acu_buf_free(&r->in);
    acu_buf_init(&r->in, ACU_HTTP_MAX_BODY);
    free(r->location);
    free(r->content_type);
    r->location = r->content_type = NULL;
    r->retry_after_ms = -1;
    r->too_big = r->stalled = r->answer_started = 0;
    r->last_dl = r->last_ul = 0;
    r->last_move_ms = now;
    st = configure(h, r, s, &e);
    if (st == CONN_OK && curl_multi_add_handle(h->multi, s->easy) != CURLM_OK)
        st = acu_err_set(&e, CONN_INTERNAL, "%s: libcurl would not start it", r->what);
    if (st != CONN_OK) {
        acu_throttle_done(&h->throttle);
        complete(h, r, st, 0, 0, NULL, &e);
        return;
    }
    s->req = r;
    r->slot = s;
    r->state = RS_RUNNING;
    r->started_ms = now;
    r->attempts++;
    h->counters.requests++;
    h->counters.bytes_out += r->body_len;
    if (r->attempts > 1)
        h->counters.retries++;
    if (h->throttle.inflight > h->counters.max_in_flight)
        h->counters.max_in_flight = h->throttle.inflight;
}

static void park(acu_http *h, acu_req *r)
{
    r->state = RS_AUTH_WAIT;
    r->next = NULL;
    if (h->auth_tail != NULL)
        h->auth_tail->next = r;
    else
        h->auth_head = r;
    h->auth_tail = r;
}

static void enqueue(acu_http *h, acu_req *r, int front, int64_t now)
{
    r->state = RS_QUEUED;
    if (front) {
        /* Insert at the head; the throttle wait counts from now (time
         * parked for credentials is not the throttle's). */
        r->w.enqueued_ms = now;
        r->w.refusals = h->throttle.refusals;
        r->w.next = h->throttle.head;
        r->w.queued = 1;
        h->throttle.head = &r->w;
        if (h->throttle.tail == NULL)
            h->throttle.tail = &r->w;
    } else {
        acu_throttle_enqueue(&h->throttle, &r->w, now);
    }
}

static acu_req *from_waiter(acu_throttle_waiter *w)
{
    return (acu_req *)(void *)((char *)w - offsetof(acu_req, w));
}

/* Admit and start what the throttle allows. *wait_ms: how long until the
 * next start could happen (-1: not bounded by the window). */
static void pump(acu_http *h, int64_t *wait_ms)
{
    acu_throttle_waiter *w;

    *wait_ms = -1;
    while ((w = acu_throttle_peek(&h->throttle)) != NULL) {
        acu_req *r = from_waiter(w);
        char *hdr = NULL;
        unsigned gen = 0;
        int64_t now = acu_http_now_ms(), wait = -1;

        if (r->authorized && h->has_auth) {
            conn_error e;
            acu_auth_state as;

            acu_err_clear(&e);
            as = h->auth.prepare(h->auth.self, &hdr, &gen, &e);
            if (as == ACU_AUTH_BUSY) {
                acu_throttle_remove(&h->throttle, w);
                park(h, r);
                continue;
            }
            if (as == ACU_AUTH_FAILED) {
                acu_throttle_remove(&h->throttle, w);
                complete(h, r, e.status != CONN_OK ? e.status : CONN_AUTH, 0, 0, NULL, &e);
                continue;
            }
        }
        if (acu_throttle_admit(&h->throttle, now, &wait) == NULL) {
            wipe_free(hdr);
            *wait_ms = wait;
            return;
        }
        wipe_free(r->auth_header);
        r->auth_header = hdr;
        r->generation = gen;
        start(h, r, now);
    }
}

/* ------------------------------------------------------------------ */
/* Finishing an attempt */

static void schedule_retry(acu_http *h, acu_req *r, int64_t delay, const char *reason)
{
    int64_t now = acu_http_now_ms();

    hlog(h, CONN_LOG_WARN, "%s: sending again in %lld ms (attempt %d of %d): %s", r->what,
         (long long)delay, r->attempts + 1, r->max_attempts, reason);
    r->state = RS_BACKOFF;
    r->due_ms = now + delay;
    r->next = h->backoff;
    h->backoff = r;
}

/* A transport failure: was anything sent, is it worth another try? */
static void transport_failed(acu_http *h, acu_req *r, CURLcode rc, const char *errbuf,
                             long request_size)
{
    conn_error e;
    conn_status st = CONN_RETRY;
    int sent = request_size > 0;
    int transient = 1;
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);

    acu_err_clear(&e);
    if (r->too_big) {
        st = acu_err_set(&e, CONN_INVALID,
                         "%s: the answer is larger than %u MiB, the most the connector "
                         "accepts - lower page_size (Page Size)",
                         r->what, ACU_HTTP_MAX_BODY >> 20);
        transient = 0;
    } else if (r->stalled) {
        acu_err_set(&e, st, "%s: the transfer stalled for %d s", r->what,
                    ACU_HTTP_STALL_MS / 1000);
    } else {
        switch (rc) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            st = acu_err_set(&e, CONN_INVALID,
                             "%s: the TLS certificate of the Acumatica site could not be "
                             "verified (%s) - when the site uses a private certificate "
                             "authority, set ca_file (CA File) to its PEM file",
                             r->what, detail);
            snprintf(e.detail_type, sizeof(e.detail_type), "%s", ACU_DETAIL_TLS);
            transient = 0;
            sent = 0;
            break;
        case CURLE_UNSUPPORTED_PROTOCOL:
            st = acu_err_set(&e, CONN_INVALID,
                             "%s: the protocol is not allowed (%s) - the API URL must be "
                             "https", r->what, detail);
            transient = 0;
            sent = 0;
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            acu_err_set(&e, st, "%s: the host name of the API URL cannot be resolved (%s)",
                        r->what, detail);
            sent = 0;
            break;
        case CURLE_COULDNT_CONNECT:
            acu_err_set(&e, st, "%s: cannot connect to the Acumatica site (%s)", r->what,
                        detail);
            sent = 0;
            break;
        case CURLE_SSL_CONNECT_ERROR:
            acu_err_set(&e, st, "%s: the TLS handshake with the Acumatica site failed (%s)",
                        r->what, detail);
            sent = 0;
            break;
        case CURLE_OPERATION_TIMEDOUT:
            acu_err_set(&e, st, "%s: no complete answer within the time allowed (%s)",
                        r->what, detail);
            break;
        case CURLE_ABORTED_BY_CALLBACK:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_BAD_CONTENT_ENCODING:
            acu_err_set(&e, st, "%s: the connection failed during the exchange (%s)",
                        r->what, detail);
            break;
        case CURLE_OUT_OF_MEMORY:
            st = acu_err_set(&e, CONN_NOMEM, "%s: out of memory", r->what);
            transient = 0;
            break;
        default:
            st = acu_err_set(&e, CONN_INTERNAL, "%s: transfer failed (%s)", r->what, detail);
            transient = 0;
            break;
        }
    }
    if (transient && (r->idempotent || !sent) && r->attempts < r->max_attempts) {
        int64_t delay = acu_backoff_delay(&h->policy, &h->prng, r->attempts, -1);

        schedule_retry(h, r, delay, e.message);
        return;
    }
    complete(h, r, st, st == CONN_RETRY && sent && !r->idempotent, 0, NULL, &e);
}

static void http_answered(acu_http *h, acu_req *r, long code)
{
    acu_apierr ae;
    conn_error e;
    int64_t now = acu_http_now_ms();

    h->counters.bytes_in += r->in.len;
    if (code >= 200 && code < 300) {
        memset(&ae, 0, sizeof(ae));
        ae.http_status = (int)code;
        ae.status = CONN_OK;
        complete(h, r, CONN_OK, 0, code, &ae, NULL);
        return;
    }
    if (code == 401 && r->authorized && h->has_auth && !r->auth_retried) {
        acu_auth_state as;

        acu_err_clear(&e);
        r->auth_retried = 1;
        as = h->auth.unauthorized(h->auth.self, r->generation, &e);
        if (as == ACU_AUTH_BUSY) {
            hlog(h, CONN_LOG_INFO, "%s: 401, renewing the credentials once", r->what);
            park(h, r);
            return;
        }
        if (as == ACU_AUTH_READY) {
            enqueue(h, r, 1, now);
            return;
        }
        complete(h, r, e.status != CONN_OK ? e.status : CONN_AUTH, 0, code, NULL, &e);
        return;
    }
    if (acu_apierr_parse((int)code, r->content_type, r->in.data, r->in.len,
                         r->endpoint ? h->endpoint_version : NULL, &ae) != CONN_OK) {
        acu_err_clear(&e);
        acu_err_set(&e, CONN_NOMEM, "%s: out of memory reading the answer", r->what);
        complete(h, r, CONN_NOMEM, 0, code, &ae, &e);
        return;
    }
    if (code == 429) {
        h->counters.status_429++;
        /* A full set of API-user seats is no reason to send slower. */
        if (!ae.login_limit && acu_throttle_on_429(&h->throttle, now, r->started_ms))
            hlog(h, CONN_LOG_WARN,
                 "429 from Acumatica: slowing down to %d requests per %lld s for a while",
                 h->throttle.eff_limit, (long long)(h->throttle.window_ms / 1000));
    }
    acu_err_clear(&e);
    acu_apierr_to_conn(&ae, r->what, r->retry_after_ms, &e);
    if (ae.transient && !ae.login_limit && (r->idempotent || ae.not_processed) &&
        r->attempts < r->max_attempts) {
        int64_t delay = acu_backoff_delay(&h->policy, &h->prng, r->attempts, r->retry_after_ms);

        if (delay >= 0) {
            schedule_retry(h, r, delay, e.message);
            acu_apierr_free(&ae);
            return;
        }
    }
    complete(h, r, ae.status, ae.status == CONN_RETRY && !r->idempotent && !ae.not_processed,
             code, &ae, &e);
}

static void finished(acu_http *h, CURL *easy, CURLcode rc)
{
    acu_req *r = NULL;
    long code = 0, request_size = 0;
    slot *s;
    char errbuf[CURL_ERROR_SIZE];

    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)(void *)&r) != CURLE_OK || r == NULL)
        return;
    s = r->slot;
    memcpy(errbuf, s->errbuf, sizeof(errbuf));
    errbuf[sizeof(errbuf) - 1] = '\0';
    (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    (void)curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
    curl_multi_remove_handle(h->multi, easy);
    s->req = NULL;
    r->slot = NULL;
    acu_throttle_done(&h->throttle);
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    if (rc == CURLE_OK && code >= 100)
        http_answered(h, r, code);
    else
        transport_failed(h, r, rc, errbuf, request_size);
}

/* ------------------------------------------------------------------ */
/* The public surface */

void acu_req_get(acu_req_spec *spec, const char *url, const char *what)
{
    memset(spec, 0, sizeof(*spec));
    spec->method = "GET";
    spec->url = url;
    spec->what = what;
    spec->idempotent = 1;
    spec->authorized = 1;
    spec->endpoint = 1;
}

conn_status acu_http_submit(acu_http *h, const acu_req_spec *spec, int priority,
                            acu_http_done_fn done, void *user, conn_error *err)
{
    acu_req *r;
    const char *what = spec->what != NULL ? spec->what : spec->method;
    char why[256];

    if (h->cancelling)
        return acu_err_set(err, CONN_CANCELLED, "%s: the call is being cancelled", what);
    if (acu_url_check(spec->url, h->allow_http, 0, NULL, why, sizeof(why)) != 0)
        return acu_err_set(err, CONN_INVALID, "%s: the URL %s", what, why);
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", what);
    r->h = h;
    r->method = strdup(spec->method);
    r->url = strdup(spec->url);
    r->what = strdup(what);
    r->ctype = dupz(spec->content_type);
    if (spec->body != NULL) {
        r->body = malloc(spec->body_len + 1);
        if (r->body != NULL) {
            memcpy(r->body, spec->body, spec->body_len);
            r->body[spec->body_len] = '\0';
        }
        r->body_len = spec->body_len;
    }
    acu_buf_init(&r->in, ACU_HTTP_MAX_BODY);
    if (r->method == NULL || r->url == NULL || r->what == NULL ||
        (spec->content_type != NULL && r->ctype == NULL) ||
        (spec->body != NULL && r->body == NULL))
        goto nomem;
    for (const char *const *x = spec->headers; x != NULL && *x != NULL; x++) {
        struct curl_slist *l = curl_slist_append(r->extra, *x);

        if (l == NULL)
            goto nomem;
        r->extra = l;
    }
    r->idempotent = spec->idempotent;
    r->authorized = spec->authorized;
    r->endpoint = spec->endpoint;
    r->max_attempts = spec->max_attempts > 0 ? spec->max_attempts : h->policy.max_attempts;
    r->timeout_ms = spec->timeout_ms;
    r->done = done;
    r->user = user;
    r->retry_after_ms = -1;
    r->next_all = h->all;
    if (h->all != NULL)
        h->all->prev_all = r;
    h->all = r;
    h->live++;
    if (spec->delay_ms > 0) {
        /* Waits like a retry backoff, then takes its turn in the queue. */
        r->state = RS_BACKOFF;
        r->due_ms = acu_http_now_ms() + spec->delay_ms;
        r->next = h->backoff;
        h->backoff = r;
        return CONN_OK;
    }
    enqueue(h, r, priority, acu_http_now_ms());
    return CONN_OK;
nomem:
    req_free(r);
    return acu_err_set(err, CONN_NOMEM, "%s: out of memory", what);
}

void acu_http_auth_settled(acu_http *h, const conn_error *err)
{
    acu_req *list = h->auth_head, *r;
    acu_req *rev = NULL;
    int64_t now = acu_http_now_ms();

    h->auth_head = h->auth_tail = NULL;
    if (err != NULL) {
        while ((r = list) != NULL) {
            list = r->next;
            r->next = NULL;
            complete(h, r, err->status != CONN_OK ? err->status : CONN_AUTH, 0, 0, NULL, err);
        }
        return;
    }
    /* Back to the front of the queue, keeping their order. */
    while ((r = list) != NULL) {
        list = r->next;
        r->next = rev;
        rev = r;
    }
    while ((r = rev) != NULL) {
        rev = r->next;
        r->next = NULL;
        enqueue(h, r, 1, now);
    }
}

/* Move due backoffs to the queue; return ms until the next is due (-1:
 * none). */
static int64_t promote_backoffs(acu_http *h, int64_t now)
{
    acu_req **pp = &h->backoff;
    int64_t next = -1;

    while (*pp != NULL) {
        acu_req *r = *pp;

        if (r->due_ms <= now) {
            *pp = r->next;
            r->next = NULL;
            enqueue(h, r, 0, now);
            continue;
        }
        if (next < 0 || r->due_ms - now < next)
            next = r->due_ms - now;
        pp = &r->next;
    }
    return next;
}

void acu_http_ignore_stop(acu_http *h, int on)
{
    h->ignore_stop = on;
}

static int should_stop(acu_http *h)
{
    return !h->ignore_stop && h->host != NULL && h->host->should_stop != NULL && h->host->should_stop(h->ctx);
}

conn_status acu_http_run(acu_http *h, int (*until)(void *user), void *user,
                         conn_error *err)
{
    conn_status st = CONN_OK;

    if (h->running)
        return acu_err_set(err, CONN_INTERNAL, "transport: the run loop was entered twice");
    h->running = 1;
    for (;;) {
        int64_t now, wait, next_backoff, timeout;
        int still = 0, msgs = 0;
        CURLMsg *m;

        if (should_stop(h)) {
            cancel_all(h, "cancelled: the host asked the call to stop");
            (void)deliver(h, NULL, NULL);
            h->cancelling = 0;
            st = acu_err_set(err, CONN_CANCELLED, "cancelled: the host asked the call to stop");
            break;
        }
        if (deliver(h, until, user))
            break;
        if (until != NULL && until(user))
            break;
        if (h->live == 0)
            break;
        now = acu_http_now_ms();
        next_backoff = promote_backoffs(h, now);
        pump(h, &wait);
        if (curl_multi_perform(h->multi, &still) != CURLM_OK) {
            cancel_all(h, "the transport failed");
            (void)deliver(h, NULL, NULL);
            h->cancelling = 0;
            st = acu_err_set(err, CONN_INTERNAL, "transport: curl_multi_perform failed");
            break;
        }
        while ((m = curl_multi_info_read(h->multi, &msgs)) != NULL)
            if (m->msg == CURLMSG_DONE)
                finished(h, m->easy_handle, m->data.result);
        if (h->done_head != NULL)
            continue;
        if (h->throttle.head != NULL && h->throttle.inflight < h->throttle.max_inflight &&
            wait < 0) {
            /* Something became admissible (e.g. a slot freed): go round. */
            continue;
        }
        timeout = POLL_SLICE_MS;
        if (wait >= 0 && wait < timeout)
            timeout = wait;
        if (next_backoff >= 0 && next_backoff < timeout)
            timeout = next_backoff;
        if (curl_multi_poll(h->multi, NULL, 0, (int)timeout, NULL) != CURLM_OK) {
            cancel_all(h, "the transport failed");
            (void)deliver(h, NULL, NULL);
            h->cancelling = 0;
            st = acu_err_set(err, CONN_INTERNAL, "transport: curl_multi_poll failed");
            break;
        }
    }
    h->running = 0;
    return st;
}

typedef struct sync_wait {
    acu_resp *resp;
    int done;
} sync_wait;

static void sync_done(void *user, acu_resp *resp)
{
    sync_wait *w = user;

    w->resp = resp;
    w->done = 1;
}

static int sync_until(void *user)
{
    return ((sync_wait *)user)->done;
}

conn_status acu_http_request(acu_http *h, const acu_req_spec *spec,
                             acu_resp **out, conn_error *err)
{
    sync_wait w = {NULL, 0};
    conn_status st;

    *out = NULL;
    st = acu_http_submit(h, spec, 0, sync_done, &w, err);
    if (st != CONN_OK)
        return st;
    st = acu_http_run(h, sync_until, &w, err);
    if (!w.done) {
        /* The loop ended without our answer (cancelled or failed); the
         * callback has run if the request was cancelled. */
        return st != CONN_OK ? st : acu_err_set(err, CONN_INTERNAL, "transport: no answer");
    }
    *out = w.resp;
    if (w.resp->status != CONN_OK && err != NULL)
        *err = w.resp->err;
    return w.resp->status;
}

void acu_http_cancel(acu_http *h, const char *why)
{
    if (h == NULL || h->all == NULL)
        return;
    cancel_all(h, why);
    (void)deliver(h, NULL, NULL);
    h->cancelling = 0;
}

int64_t acu_http_server_time_ms(const acu_http *h)
{
    if (!h->has_server_clock || h->host == NULL || h->host->now_ms == NULL)
        return INT64_MIN;
    return h->host->now_ms(h->ctx) + h->server_clock_offset_ms;
}

size_t acu_http_pending(const acu_http *h)
{
    return h->live;
}

const acu_http_counters *acu_http_counters_get(const acu_http *h)
{
    ((acu_http *)h)->counters.throttle_wait_ms = h->throttle.wait_ms;
    ((acu_http *)h)->counters.throttle_waits = h->throttle.waited;
    return &h->counters;
}

void acu_http_counters_reset(acu_http *h)
{
    memset(&h->counters, 0, sizeof(h->counters));
    h->throttle.wait_ms = 0;
    h->throttle.waited = 0;
    h->throttle.starts = 0;
}

void acu_http_log_counters(acu_http *h, const char *flow, const char *call)
{
    const acu_http_counters *c = acu_http_counters_get(h);
    char line[512];

    snprintf(line, sizeof(line),
             "%s: %llu requests, %llu retries, %llu answers 429, %llu failed, throttle "
             "wait %lld ms over %llu requests, %llu bytes in, %llu bytes out, at most %d "
             "in flight",
             call, (unsigned long long)c->requests, (unsigned long long)c->retries,
             (unsigned long long)c->status_429, (unsigned long long)c->failures,
             (long long)c->throttle_wait_ms, (unsigned long long)c->throttle_waits,
             (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
             c->max_in_flight);
    if (h->host != NULL && h->host->log != NULL)
        h->host->log(h->ctx, CONN_LOG_INFO, flow, line);
}

void acu_http_clear_cookies(acu_http *h)
{
    CURL *e = curl_easy_init();

    if (e == NULL)
        return;
    if (curl_easy_setopt(e, CURLOPT_SHARE, h->share) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, "") == CURLE_OK)
        (void)curl_easy_setopt(e, CURLOPT_COOKIELIST, "ALL");
    curl_easy_cleanup(e);
}

acu_prng *acu_http_prng(acu_http *h)
{
    return &h->prng;
}
