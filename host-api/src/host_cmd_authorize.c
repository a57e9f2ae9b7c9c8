/* host_cmd_authorize.c - `authorize`: run the OAuth authorization-code flow
 * for a subscription (the plugin's authenticate steps begin and complete).
 *
 * The plugin makes the authorization URL; a person opens it and approves.
 * Acumatica then sends the browser to the Redirect URL with a code. When
 * that URL is a loopback http://127.0.0.1:PORT/path (RFC 8252 section 7.3),
 * this command listens there itself, takes that one request and answers a
 * short page; otherwise the person pastes the URL the browser ended on. The
 * plugin checks the state, exchanges the code and stores the tokens in host
 * state, where later commands find them.
 *
 * The code in the redirect is a secret: it is never printed. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host_buf.h"
#include "host_cli.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_instance.h"
#include "host_session.h"

int host_cmd_authorize(const host_command *cmd, int argc, char **argv, host_global *g);

#define HOST_ANSWER_MAX (1024u * 1024u)
#define REQUEST_MAX 16384     /* the redirect request's head */
#define PASTE_MAX 16384       /* a pasted redirect URL */
#define CLIENT_TIMEOUT_MS 10000

/* The loopback redirect to listen on. */
typedef struct loopback {
    char host[64]; /* as in the URL: "127.0.0.1", "localhost", "[::1]" */
    char port[8];
    char *path;    /* "/callback" */
    char *base;    /* "http://127.0.0.1:8765/callback", without query */
} loopback;

static void loopback_free(loopback *lb)
{
    curl_free(lb->path);
    free(lb->base);
    memset(lb, 0, sizeof(*lb));
}

/* Nonzero (and lb filled) when url is http:// to a loopback host with an
 * explicit port. */
static int parse_loopback(const char *url, loopback *lb)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = 0;

    memset(lb, 0, sizeof(*lb));
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &lb->path, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(scheme, "http") != 0 || strlen(host) >= sizeof(lb->host) ||
        strlen(port) >= sizeof(lb->port))
        goto out;
    if (strcmp(host, "127.0.0.1") != 0 && strcasecmp(host, "localhost") != 0 &&
        strcmp(host, "[::1]") != 0 && strncmp(host, "127.", 4) != 0)
        goto out;
    snprintf(lb->host, sizeof(lb->host), "%s", host);
    snprintf(lb->port, sizeof(lb->port), "%s", port);
    lb->base = malloc(strlen(host) + strlen(port) + strlen(lb->path) + 16);
    if (lb->base == NULL)
        goto out;
    sprintf(lb->base, "http://%s:%s%s", host, port, lb->path);
    ok = 1;
out:
    if (!ok) {
        curl_free(lb->path);
        lb->path = NULL;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

/* Listen on the loopback address; -1 with a message on failure. */
static int listen_loopback(const loopback *lb, char *why, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    char host[64];
    size_t n = strlen(lb->host);
    int fd = -1, one = 1, rc;

    /* getaddrinfo wants an IPv6 literal without brackets. */
    if (lb->host[0] == '[' && n > 2) {
        memcpy(host, lb->host + 1, n - 2);
        host[n - 2] = '\0';
    } else {
        snprintf(host, sizeof(host), "%s", lb->host);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, lb->port, &hints, &res);
    if (rc != 0) {
        snprintf(why, cap, "cannot resolve %s: %s", lb->host, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 4) != 0) {
        snprintf(why, cap, "cannot listen on %s:%s for the redirect: %s", lb->host, lb->port,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reply(int fd, int status, const char *title, const char *text)
{
    char page[1024], head[256];
    int n = snprintf(page, sizeof(page),
                     "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title>"
                     "</head><body><h1>%s</h1><p>%s</p></body></html>\n", title, title, text);
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Not Found", n);

    if (write(fd, head, (size_t)h) == h)
        (void)!write(fd, page, (size_t)n);
}

/* Read one request head from fd; *target gets the request-target (malloc'd)
 * of a GET. 0 on success. */
static int read_request(int fd, char **target)
{
    char *buf = malloc(REQUEST_MAX + 1);
    size_t len = 0;
    int64_t deadline = mono_ms() + CLIENT_TIMEOUT_MS;
    char *sp1, *sp2;
    int rc = -1;

    *target = NULL;
    if (buf == NULL)
        return -1;
    while (len < REQUEST_MAX) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - mono_ms();
        ssize_t got;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            goto out;
        got = read(fd, buf + len, REQUEST_MAX - len);
        if (got <= 0)
            goto out;
        len += (size_t)got;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
            break;
    }
    buf[len] = '\0';
    if (strncmp(buf, "GET ", 4) != 0)
        goto out;
    sp1 = buf + 4;
    sp2 = strchr(sp1, ' ');
    if (sp2 == NULL)
        goto out;
    *target = strndup(sp1, (size_t)(sp2 - sp1));
    rc = *target != NULL ? 0 : -1;
out:
    OPENSSL_cleanse(buf, REQUEST_MAX + 1);
    free(buf);
    return rc;
}

/* Wait for the redirect on the listening socket; *redirect gets the full
 * URL (base + query). 0 on success, -1 on timeout or error (why says). */
static int accept_redirect(int lfd, const loopback *lb, int timeout_s, char **redirect,
                           char *why, size_t cap)
{
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    size_t plen = strlen(lb->path);

    *redirect = NULL;
    for (;;) {
        struct pollfd p = {lfd, POLLIN, 0};
        int64_t left = deadline - mono_ms();
        char *target = NULL;
        int fd;

        if (left <= 0) {
            snprintf(why, cap, "no redirect arrived within %d s", timeout_s);
            return -1;
        }
        if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
            continue;
        fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        if (read_request(fd, &target) != 0) {
            close(fd);
            continue;
        }
        /* Only the registered path with a query is the redirect; anything
         * else (a favicon) gets a 404 and the wait goes on. */
        if (strncmp(target, lb->path, plen) != 0 || target[plen] != '?') {
            reply(fd, 404, "Not found", "This address only receives the authorization.");
            close(fd);
            free(target);
            continue;
        }
        *redirect = malloc(strlen(lb->base) + strlen(target + plen) + 1);
        if (*redirect != NULL)
            sprintf(*redirect, "%s%s", lb->base, target + plen);
        reply(fd, 200, "Authorization received",
              "The connector received Acumatica's answer. You can close this window and "
              "return to the terminal.");
        close(fd);
        OPENSSL_cleanse(target, strlen(target));
        free(target);
        if (*redirect == NULL) {
            snprintf(why, cap, "out of memory");
            return -1;
        }
        return 0;
    }
}

/* Read one line (the pasted redirect URL) from stdin. */
static char *read_pasted(void)
{
    char *line = malloc(PASTE_MAX + 2);
    size_t n;

    if (line == NULL)
        return NULL;
    if (fgets(line, PASTE_MAX + 2, stdin) == NULL) {
        free(line);
        return NULL;
    }
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    return line;
}

/* The string member `key` of a JSON answer, or NULL. */
static const char *answer_str(json_object *doc, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *parse_answer(const host_buf *b)
{
    if (b->len == 0 || b->len > (size_t)INT32_MAX)
        return NULL;
    return json_tokener_parse(b->data);
}

int host_cmd_authorize(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE [--timeout SECONDS] [--paste]",
        "Authorizes the connector with the OAuth authorization-code flow (grant_type\n"
        "authorization_code) and stores the tokens in host state for later commands.\n"
        "Prints the authorization URL to open in a browser. When the Redirect URL is a\n"
        "loopback http://127.0.0.1:PORT/path, waits there for the browser to come back;\n"
        "otherwise (or with --paste) reads the URL the browser ended on from stdin."};
    static const char begin[] = "{\"step\":\"begin\"}";
    const char *plugin = NULL, *config = NULL, *timeout_arg = NULL;
    int paste = 0;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {"timeout", "SECONDS", "how long to wait for the redirect (default 600)", &timeout_arg,
         NULL, 0},
        {"paste", NULL, "read the redirect URL from stdin even for a loopback Redirect URL",
         NULL, &paste, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    char why[512];
    host_session s;
    const conn_plugin_api *api;
    char *redirect = NULL, *request = NULL;
    json_object *ans = NULL, *req = NULL;
    const char *url, *redirect_url;
    loopback lb;
    host_buf answer;
    conn_error err;
    conn_status st;
    int rc, lfd = -1, timeout_s = 600;

    memset(&s, 0, sizeof(s));
    memset(&lb, 0, sizeof(lb));
    host_buf_init(&answer, HOST_ANSWER_MAX);
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (timeout_arg != NULL) {
        char *end = NULL;
        long t = strtol(timeout_arg, &end, 10);

        if (end == timeout_arg || *end != '\0' || t < 1 || t > 86400) {
            host_cli_error(cmd, "--timeout must be a number of seconds from 1 to 86400");
            return HOST_EXIT_USAGE;
        }
        timeout_s = (int)t;
    }
    rc = host_session_prepare(&s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        goto out;
    host_err_clear(&err);
    st = host_session_init(&s, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    api = host_instance_api(s.inst);
    /* 1. The authorization URL. */
    st = api->authenticate(host_instance_handle(s.inst), begin, sizeof(begin) - 1,
                           host_buf_write, &answer, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    ans = parse_answer(&answer);
    url = answer_str(ans, "authorization_url");
    redirect_url = answer_str(ans, "redirect_url");
    if (url == NULL || redirect_url == NULL) {
        host_cli_error(cmd, "the plugin's answer to begin has no authorization_url");
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    /* 2. Listen before anyone can follow the URL. */
    if (!paste && parse_loopback(redirect_url, &lb)) {
        lfd = listen_loopback(&lb, why, sizeof(why));
        if (lfd < 0) {
            host_cli_error(cmd, "%s (use --paste to paste the redirect URL instead)", why);
            rc = HOST_EXIT_OTHER;
            goto out;
        }
    }
    printf("Open this address in a browser and allow the connector access:\n%s\n", url);
    if (lfd >= 0)
        printf("Waiting for the browser to return to %s ...\n", lb.base);
    else
        printf("Then paste the whole address the browser was sent to, and press Enter:\n");
    fflush(stdout);
    /* 3. The redirect. */
    if (lfd >= 0) {
        if (accept_redirect(lfd, &lb, timeout_s, &redirect, why, sizeof(why)) != 0) {
            host_cli_error(cmd, "%s", why);
            rc = HOST_EXIT_TRANSIENT;
            goto out;
        }
    } else {
        redirect = read_pasted();
        if (redirect == NULL || redirect[0] == '\0') {
            host_cli_error(cmd, "no redirect URL was given");
            rc = HOST_EXIT_USAGE;
            goto out;
        }
    }
    /* 4. Complete: the plugin checks the state and stores the tokens. */
    req = json_object_new_object();
    if (req == NULL ||
        json_object_object_add(req, "step", json_object_new_string("complete")) != 0 ||
        json_object_object_add(req, "redirect_url", json_object_new_string(redirect)) != 0 ||
        (request = strdup(json_object_to_json_string_ext(
             req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))) == NULL) {
        host_cli_error(cmd, "out of memory");
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    host_buf_free(&answer);
    host_buf_init(&answer, HOST_ANSWER_MAX);
    json_object_put(ans);
    ans = NULL;
    host_err_clear(&err);
    st = api->authenticate(host_instance_handle(s.inst), request, strlen(request),
                           host_buf_write, &answer, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    ans = parse_answer(&answer);
    {
        json_object *v;
        long long expires = 0;
        int refresh = 0;

        if (json_object_object_get_ex(ans, "expires_in", &v))
            expires = (long long)json_object_get_int64(v);
        if (json_object_object_get_ex(ans, "refresh_token", &v))
            refresh = json_object_get_boolean(v);
        printf("authorized: tokens stored for subscription %s (access valid for %lld s, %s)\n",
               s.subscription, expires, refresh ? "refresh token stored" : "no refresh token");
    }
    rc = HOST_EXIT_OK;
out:
    if (lfd >= 0)
        close(lfd);
    loopback_free(&lb);
    if (request != NULL)
        OPENSSL_cleanse(request, strlen(request));
    free(request);
    if (redirect != NULL)
        OPENSSL_cleanse(redirect, strlen(redirect));
    free(redirect);
    json_object_put(req);
    json_object_put(ans);
    host_session_close(&s);
    host_buf_free(&answer);
    return rc;
}
