/* host_runtime_control.c - requests from outside the runtime: the control
 * channel's ops (status, swap, reload; the socket itself is
 * host_control.c) and the thread that takes SIGTERM, SIGINT and SIGHUP.
 * Both only set flags or targets under the mutex and wake the scheduler;
 * a swap request then waits for its job to end. */
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_pull.h"
#include "host_runtime_int.h"

/* The longest a swap request waits for its answer. */
#define SWAP_WAIT_MS (30 * 60 * 1000)

/* The pending instance change as status shows it. */
static const char *op_word(sub_op op)
{
    switch (op) {
    case OP_START:
        return "starting";
    case OP_RECONF:
        return "swapping";
    case OP_REMOVE:
        return "removing";
    case OP_NONE:
        break;
    }
    return "idle";
}

/* ---- the control channel ---------------------------------------------- */

/* {"ok":false,"error":message} into reply. */
static void reply_error(host_buf *reply, const char *message)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(message));
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    (void)host_buf_append(reply, t, strlen(t));
    json_object_put(o);
}

/* o as one line into reply; takes o's reference. */
static void reply_json(host_buf *reply, json_object *o)
{
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);

    if (t != NULL)
        (void)host_buf_append(reply, t, strlen(t));
    json_object_put(o);
}

/* {"ok":true,"message":message} into reply. */
static void reply_ok(host_buf *reply, const char *message)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "ok", json_object_new_boolean(1));
    json_object_object_add(o, "message", json_object_new_string(message));
    reply_json(reply, o);
}

/* {"op":"status"}: every subscription as the scheduler sees it now. */
static void control_status(host_runtime *rt, host_buf *reply)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    int64_t now;

    pthread_mutex_lock(&rt->mu);
    now = host_mono_ms();
    for (rt_sub *sub = rt->subs; sub != NULL; sub = sub->next) {
        json_object *s = json_object_new_object(), *flows = json_object_new_array();

        if (sub->removed != 0)
            continue;
        json_object_object_add(s, "name", json_object_new_string(sub->name));
        json_object_object_add(s, "plugin_version",
                               sub->version != NULL ? json_object_new_string(sub->version)
                                                    : NULL);
        json_object_object_add(s, "wanted_version", json_object_new_string(sub->want_version));
        json_object_object_add(s, "running", json_object_new_boolean(sub->inst != NULL));
        json_object_object_add(s, "busy", json_object_new_boolean(sub->busy));
        json_object_object_add(s, "pending", json_object_new_string(op_word(sub->op)));
        json_object_object_add(s, "last_error", sub->last_error[0] != '\0'
                                                    ? json_object_new_string(sub->last_error)
                                                    : NULL);
        for (size_t i = 0; i < sub->nflows; i++) {
            json_object *f = json_object_new_object();
            int64_t in = sub->flows[i].next_ms - now;

            json_object_object_add(f, "flow", json_object_new_string(sub->flows[i].flow));
            json_object_object_add(f, "direction",
                                   json_object_new_string(sub->flows[i].push ? "push" : "pull"));
            json_object_object_add(f, "every_ms", json_object_new_int64(sub->flows[i].every_ms));
            json_object_object_add(f, "next_in_ms", json_object_new_int64(in > 0 ? in : 0));
            json_object_array_add(flows, f);
        }
        json_object_object_add(s, "flows", flows);
        json_object_array_add(arr, s);
    }
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid()));
    json_object_object_add(o, "stopping", json_object_new_boolean(rt->stopping));
    json_object_object_add(o, "subscriptions", arr);
    pthread_mutex_unlock(&rt->mu);
    reply_json(reply, o);
}

/* {"op":"swap"}: point the subscription at the version and wait (up to
 * SWAP_WAIT_MS) until its swap job has run; the answer says how it went. */
static void control_swap(host_runtime *rt, json_object *req, host_buf *reply)
{
    json_object *v;
    const char *name = NULL, *version = NULL;
    rt_waiter w;
    rt_sub *sub;
    struct timespec ts;
    int64_t deadline;

    if (json_object_object_get_ex(req, "subscription", &v))
        name = json_object_get_string(v);
    if (json_object_object_get_ex(req, "plugin_version", &v))
        version = json_object_get_string(v);
    if (name == NULL || version == NULL || !host_version_ok(version)) {
        reply_error(reply, "a swap needs a subscription and a plugin version");
        return;
    }
    memset(&w, 0, sizeof(w));
    pthread_mutex_lock(&rt->mu);
    sub = rt_find_sub(rt, name);
    if (sub == NULL || sub->op == OP_REMOVE) {
        pthread_mutex_unlock(&rt->mu);
        snprintf(w.message, sizeof(w.message), "there is no subscription '%s'", name);
        reply_error(reply, w.message);
        return;
    }
    if (rt->stopping) {
        pthread_mutex_unlock(&rt->mu);
        reply_error(reply, "the runtime is stopping");
        return;
    }
    if (sub->inst != NULL && streq(sub->version, version) && sub->op == OP_NONE) {
        snprintf(w.message, sizeof(w.message), "%s already runs version %s", name, version);
        pthread_mutex_unlock(&rt->mu);
        reply_ok(reply, w.message);
        return;
    }
    switch (rt_want(sub, version, sub->want_settings, sub->want_settings_len)) {
    case -1:
        pthread_mutex_unlock(&rt->mu);
        reply_error(reply, "out of memory");
        return;
    case 0:
        snprintf(w.message, sizeof(w.message), "%s already runs version %s", name, version);
        pthread_mutex_unlock(&rt->mu);
        reply_ok(reply, w.message);
        return;
    default:
        break;
    }
    sub->start_retry_ms = 0;
    rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "swap to version %s requested", version);
    w.sub = sub;
    w.gen = sub->want_gen;
    w.next = rt->waiters;
    rt->waiters = &w;
    pthread_cond_broadcast(&rt->sched_cond);
    deadline = host_mono_ms() + SWAP_WAIT_MS;
    while (!w.done && host_mono_ms() < deadline) {
        ts.tv_sec = (time_t)(deadline / 1000);
        ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
        pthread_cond_timedwait(&rt->ctl_cond, &rt->mu, &ts);
    }
    for (rt_waiter **link = &rt->waiters; *link != NULL; link = &(*link)->next) {
        if (*link == &w) {
            *link = w.next;
            break;
        }
    }
    pthread_mutex_unlock(&rt->mu);
    if (!w.done) {
        reply_error(reply, "the swap did not finish in time; see the log and status");
    } else if (!w.ok) {
        reply_error(reply, w.message);
    } else {
        reply_ok(reply, w.message);
    }
}

void rt_on_control(void *user, const char *request, size_t len, host_buf *reply)
{
    host_runtime *rt = user;
    json_tokener *tok = json_tokener_new();
    json_object *req = NULL, *op;
    const char *word;

    if (tok != NULL && len < INT32_MAX)
        req = json_tokener_parse_ex(tok, request, (int)len);
    json_tokener_free(tok);
    if (!json_object_is_type(req, json_type_object) ||
        !json_object_object_get_ex(req, "op", &op)) {
        reply_error(reply, "the request is not a JSON object with an op");
        goto out;
    }
    word = json_object_get_string(op);
    if (streq(word, "status")) {
        control_status(rt, reply);
    } else if (streq(word, "swap")) {
        control_swap(rt, req, reply);
    } else if (streq(word, "reload")) {
        json_object *o = json_object_new_object();

        pthread_mutex_lock(&rt->mu);
        rt->hup_requested = 1;
        pthread_cond_broadcast(&rt->sched_cond);
        pthread_mutex_unlock(&rt->mu);
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        reply_json(reply, o);
    } else {
        reply_error(reply, "unknown op; use status, swap or reload");
    }
out:
    json_object_put(req);
}

/* ---- signals ---------------------------------------------------------- */

void *rt_signal_main(void *arg)
{
    host_runtime *rt = arg;
    sigset_t set;
    struct timespec tick = {0, 200 * 1000000L};

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    while (!atomic_load(&rt->sig_quit)) {
        int sig = sigtimedwait(&set, NULL, &tick);

        if (sig < 0)
            continue;
        pthread_mutex_lock(&rt->mu);
        if (sig == SIGHUP) {
            rt->hup_requested = 1;
        } else if (rt->stop_requested) {
            rt->stop_now = 1;
        } else {
            rt->stop_requested = 1;
        }
        pthread_cond_broadcast(&rt->sched_cond);
        pthread_mutex_unlock(&rt->mu);
    }
    return NULL;
}
