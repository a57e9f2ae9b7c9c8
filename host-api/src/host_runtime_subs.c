/* host_runtime_subs.c - the runtime's subscription table: each
 * subscription made from its host-file entry, with its flows' schedule and
 * what it should run (want); reload applies a new host file to the table
 * (SIGHUP). The instance changes themselves run on a worker
 * (host_runtime_swap.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host_pull.h"
#include "host_runtime_int.h"

/* The plugin's log lines, with the subscription and the run they belong
 * to. Called on the worker thread of the call. */
static void plugin_log(void *user, const char *subscription, conn_log_level level,
                       const char *flow, const char *message)
{
    rt_sub *sub = user;

    host_log_write(sub->rt->log, level, subscription, flow, atomic_load(&sub->run_id), message);
}

/* Free n flows and the array. */
static void free_flows(rt_flow *flows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(flows[i].flow);
    free(flows);
}

/* The subscription's flows from its host-file entry, keeping the next run
 * time of the flows it already had; new flows are due now. Under mu. */
static int set_flows(rt_sub *sub, const host_sub_config *sc, int64_t now)
{
    rt_flow *flows = calloc(sc->nflows > 0 ? sc->nflows : 1, sizeof(*flows));

    if (flows == NULL)
        return -1;
    for (size_t i = 0; i < sc->nflows; i++) {
        flows[i].flow = strdup(sc->flows[i].flow);
        if (flows[i].flow == NULL) {
            free_flows(flows, i);
            return -1;
        }
        flows[i].push = sc->flows[i].push;
        flows[i].every_ms = sc->flows[i].every_ms;
        flows[i].batch_size = sc->flows[i].batch_size;
        flows[i].next_ms = now;
        for (size_t j = 0; j < sub->nflows; j++) {
            if (strcmp(sub->flows[j].flow, flows[i].flow) == 0 &&
                sub->flows[j].push == flows[i].push) {
                /* Same flow, maybe a new schedule: keep when it last ran. */
                int64_t last = sub->flows[j].next_ms - sub->flows[j].every_ms;

                flows[i].next_ms = last + flows[i].every_ms;
            }
        }
    }
    free_flows(sub->flows, sub->nflows);
    sub->flows = flows;
    sub->nflows = sc->nflows;
    return 0;
}

/* Point the subscription at a host-file entry: what it should run. Under
 * mu. Returns 1 when that differs from what runs (an op is then pending),
 * 0 when not, -1 when out of memory. */
int rt_want(rt_sub *sub, const char *version, const char *settings, size_t settings_len)
{
    char *v = strdup(version), *s = dup_bytes(settings, settings_len);

    if (v == NULL || s == NULL) {
        free(v);
        free_secret(s, settings_len);
        return -1;
    }
    free(sub->want_version);
    free_secret(sub->want_settings, sub->want_settings_len);
    sub->want_version = v;
    sub->want_settings = s;
    sub->want_settings_len = settings_len;
    if (sub->inst != NULL && streq(sub->version, version) &&
        same_settings(sub->settings, sub->settings_len, settings, settings_len)) {
        if (sub->op == OP_RECONF)
            sub->op = OP_NONE;
        return 0;
    }
    sub->want_gen++;
    if (sub->op != OP_REMOVE)
        sub->op = sub->inst != NULL ? OP_RECONF : OP_START;
    return 1;
}

void rt_free_sub(rt_sub *sub)
{
    if (sub == NULL)
        return;
    host_ctx_free(sub->ctx);
    free(sub->name);
    free(sub->version);
    free(sub->want_version);
    free_secret(sub->settings, sub->settings_len);
    free_secret(sub->want_settings, sub->want_settings_len);
    free_flows(sub->flows, sub->nflows);
    free(sub);
}

/* A new subscription from its host-file entry, to be started. Under mu. */
rt_sub *rt_new_sub(host_runtime *rt, const host_sub_config *sc, int64_t now)
{
    rt_sub *sub = calloc(1, sizeof(*sub));
    conn_error err;

    if (sub == NULL)
        return NULL;
    sub->rt = rt;
    atomic_init(&sub->run_id, 0);
    sub->name = strdup(sc->name);
    if (sub->name == NULL || host_ctx_new(sc->name, rt->state, &sub->ctx, &err) != CONN_OK ||
        set_flows(sub, sc, now) != 0 ||
        rt_want(sub, sc->plugin_version, sc->settings, sc->settings_len) < 0) {
        rt_free_sub(sub);
        return NULL;
    }
    host_ctx_set_log(sub->ctx, plugin_log, sub, CONN_LOG_DEBUG);
    sub->op = OP_START;
    return sub;
}

rt_sub *rt_find_sub(host_runtime *rt, const char *name)
{
    for (rt_sub *s = rt->subs; s != NULL; s = s->next)
        if (s->removed == 0 && strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* ---- reload (SIGHUP) -------------------------------------------------- */

void rt_reload(host_runtime *rt)
{
    host_config *cfg = NULL;
    host_buf problems;
    conn_error err;
    conn_status st;
    int64_t now;

    host_buf_init(&problems, 256 * 1024);
    pthread_mutex_unlock(&rt->mu);
    rt_log(rt, CONN_LOG_INFO, NULL, NULL, 0, "re-reading %s", rt->opts->config_path);
    st = host_config_load(rt->opts->config_path, rt->opts->default_plugin_dir, 0, &cfg, &problems,
                          &err);
    if (st != CONN_OK) {
        rt_log(rt, CONN_LOG_ERROR, NULL, NULL, 0, "%s; keeping the running configuration",
               err.message);
        for (char *line = problems.data; line != NULL && *line != '\0';) {
            char *nl = strchr(line, '\n');

            if (nl != NULL)
                *nl = '\0';
            rt_log(rt, CONN_LOG_ERROR, NULL, NULL, 0, "%s", line);
            line = nl != NULL ? nl + 1 : NULL;
        }
        host_buf_free(&problems);
        pthread_mutex_lock(&rt->mu);
        return;
    }
    host_buf_free(&problems);
    if (host_log_reopen(rt->log, cfg->log_file, cfg->log_format, cfg->log_level, &err) !=
        CONN_OK)
        rt_log(rt, CONN_LOG_ERROR, NULL, NULL, 0, "%s; the log stays where it was",
               err.message);
    if (cfg->workers != rt->cfg->workers)
        rt_log(rt, CONN_LOG_WARN, NULL, NULL, 0,
               "workers changed from %u to %u: that takes effect at the next start",
               rt->cfg->workers, cfg->workers);
    if ((cfg->state_path == NULL) != (rt->cfg->state_path == NULL) ||
        (cfg->state_path != NULL && strcmp(cfg->state_path, rt->cfg->state_path) != 0))
        rt_log(rt, CONN_LOG_WARN, NULL, NULL, 0,
               "the state file changed: that takes effect at the next start");

    pthread_mutex_lock(&rt->mu);
    now = host_mono_ms();
    for (size_t i = 0; i < cfg->nsubs; i++) {
        const host_sub_config *sc = &cfg->subs[i];
        rt_sub *sub = rt_find_sub(rt, sc->name);

        if (sub == NULL) {
            sub = rt_new_sub(rt, sc, now);
            if (sub == NULL)
                continue;
            sub->next = rt->subs;
            rt->subs = sub;
            rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "added (plugin version %s)",
                   sc->plugin_version);
            continue;
        }
        if (set_flows(sub, sc, now) != 0)
            rt_log(rt, CONN_LOG_ERROR, sub, NULL, 0, "out of memory updating the flows");
        if (sub->op == OP_REMOVE) {
            if (sub->busy)
                continue; /* removal under way; schedule() starts it again */
            sub->op = OP_NONE; /* back in the file before its removal ran */
        }
        if (rt_want(sub, sc->plugin_version, sc->settings, sc->settings_len) > 0)
            rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "%s",
                   streq(sub->version, sc->plugin_version)
                       ? "settings changed: re-init when its call in flight ends"
                       : "plugin version changed: swap when its call in flight ends");
        if (sub->inst == NULL)
            sub->start_retry_ms = now; /* try a failed start again at once */
    }
    for (rt_sub *sub = rt->subs; sub != NULL; sub = sub->next) {
        if (sub->removed != 0 || host_config_find(cfg, sub->name) != NULL)
            continue;
        sub->op = OP_REMOVE;
        sub->want_gen++;
        if (sub->inst == NULL && !sub->busy) {
            sub->removed = 2;
            rt_complete_waiters(rt, sub, 0, 1, 0, "the subscription was removed");
        }
        rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "removed from the host file");
    }
    host_config_free(rt->cfg);
    rt->cfg = cfg;
}
