/* host_session.c - a plugin instance for the one-shot commands. */
#include "host_session.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_error.h"
#include "host_file.h"

#define HOST_SETTINGS_MAX (1024u * 1024u)

void host_session_default_subscription(const char *config, char *buf, size_t cap)
{
    const char *base = strrchr(config, '/');
    const char *dot;
    size_t n;

    base = base != NULL ? base + 1 : config;
    dot = strrchr(base, '.');
    n = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n == 0 || n >= cap) {
        snprintf(buf, cap, "default");
        return;
    }
    memcpy(buf, base, n);
    buf[n] = '\0';
}

/* Wipe and free the settings: they hold the subscription's passwords and
 * client secret. */
static void drop_settings(host_session *s)
{
    if (s->settings != NULL)
        OPENSSL_cleanse(s->settings, s->settings_len);
    free(s->settings);
    s->settings = NULL;
    s->settings_len = 0;
}

int host_session_prepare(host_session *s, const host_command *cmd, const host_global *g,
                         const char *plugin, const char *config)
{
    char *path = NULL;
    conn_error err;
    conn_status st;
    int rc = HOST_EXIT_OK;

    memset(s, 0, sizeof(*s));
    if (g->subscription != NULL)
        snprintf(s->subscription, sizeof(s->subscription), "%s", g->subscription);
    else
        host_session_default_subscription(config, s->subscription, sizeof(s->subscription));
    if (host_cli_plugin_path(g, plugin, &path) != 0) {
        host_cli_error(cmd, "out of memory");
        return HOST_EXIT_OTHER;
    }
    host_err_clear(&err);
    st = host_read_file(config, HOST_SETTINGS_MAX, &s->settings, &s->settings_len, &err);
    if (st == CONN_OK)
        st = host_module_open(path, &s->mod, &err);
    if (st == CONN_OK)
        st = host_state_new(g->state_path, &s->state, &err);
    if (st == CONN_OK)
        st = host_ctx_new(s->subscription, s->state, &s->ctx, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        host_session_close(s);
    }
    free(path);
    return rc;
}

conn_status host_session_init(host_session *s, conn_error *err)
{
    conn_status st = host_instance_new(s->mod, s->ctx, s->settings, s->settings_len, &s->inst,
                                       err);

    drop_settings(s);
    return st;
}

int host_session_open(host_session *s, const host_command *cmd, const host_global *g,
                      const char *plugin, const char *config)
{
    conn_error err;
    conn_status st;
    int rc;

    rc = host_session_prepare(s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        return rc;
    st = host_session_init(s, &err);
    if (st == CONN_INVALID) {
        const char *line = err.message;

        while (line != NULL && *line != '\0') {
            const char *nl = strchr(line, '\n');
            int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);

            if (n > 0)
                host_cli_error(cmd, "%s: %.*s", config, n, line);
            line = nl != NULL ? nl + 1 : NULL;
        }
        rc = HOST_EXIT_INVALID;
    } else if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
    }
    if (rc != HOST_EXIT_OK)
        host_session_close(s);
    return rc;
}

void host_session_close(host_session *s)
{
    drop_settings(s);
    host_instance_free(s->inst);
    host_ctx_free(s->ctx);
    host_state_free(s->state);
    host_module_close(s->mod);
    s->inst = NULL;
    s->ctx = NULL;
    s->state = NULL;
    s->mod = NULL;
}

/* The one context a signal stops; set before the handlers go in. */
static host_ctx *_Atomic stop_ctx;
static volatile sig_atomic_t stop_signal;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
    host_ctx *ctx = atomic_load(&stop_ctx);

    stop_signal = sig;
    if (ctx != NULL)
        host_ctx_request_stop(ctx);
}

void host_session_signals(host_ctx *ctx)
{
    struct sigaction sa;

    atomic_store(&stop_ctx, ctx);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* The first signal asks politely; the handler is then reset, so a
     * second one ends the process. */
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void host_session_signals_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    atomic_store(&stop_ctx, NULL);
}

int host_session_stop_signal(void)
{
    return (int)stop_signal;
}
