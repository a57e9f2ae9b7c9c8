/* host_runtime_swap.c - instance changes: a subscription's instance is
 * started, swapped to another plugin version, re-initialised with new
 * settings or removed, on a worker that holds the subscription (so never
 * during one of its calls); the result is published under the mutex and
 * answers the swap requests waiting for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_runtime_int.h"
#include "host_store.h"

/* A subscription whose instance could not start is tried again after
 * this long (a SIGHUP or a swap tries at once). */
#define START_RETRY_MS 60000

/* ---- jobs: instance changes ------------------------------------------- */

/* Make an instance of the plugin at path with settings; on success the
 * job's res_* hold the module (one reference) and the instance. */
static conn_status start_instance(rt_job *job, const char *path, host_module *reuse,
                                  const char *settings, size_t len, conn_error *err)
{
    host_module *mod = reuse;
    host_instance *inst = NULL;
    conn_status st;

    if (mod == NULL) {
        st = host_module_open(path, &mod, err);
        if (st != CONN_OK)
            return st;
    } else {
        host_module_ref(mod);
    }
    st = host_instance_new(mod, job->sub->ctx, settings, len, &inst, err);
    if (st != CONN_OK) {
        host_module_close(mod);
        return st;
    }
    job->res_mod = mod;
    job->res_inst = inst;
    return CONN_OK;
}

/* One line from a multi-line init message (every settings problem). */
static void flatten(char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '\n')
            *s = ';';
}

/* The job's target (version and settings) is what runs now: move it to
 * res_*. */
static void take_target(rt_job *job)
{
    job->res_version = job->version;
    job->version = NULL;
    job->res_settings = job->settings;
    job->res_settings_len = job->settings_len;
    job->settings = NULL;
}

/* Start the subscription's instance on the job's target. */
static void op_start(host_runtime *rt, rt_job *job)
{
    conn_error err;
    conn_status st;

    if (job->plugin_path == NULL) {
        textf(job->error, sizeof(job->error), "no plugin file for version '%s'",
              job->version != NULL ? job->version : "?");
        job->status = CONN_INVALID;
        return;
    }
    st = start_instance(job, job->plugin_path, NULL, job->settings, job->settings_len, &err);
    job->status = st;
    if (st != CONN_OK) {
        flatten(err.message);
        textf(job->error, sizeof(job->error), "%s %s cannot start: %s",
              "plugin version", job->version, err.message);
        return;
    }
    job->replaced = 1;
    take_target(job);
    rt_log(rt, CONN_LOG_INFO, job->sub, NULL, 0, "started on %s %s",
           host_module_name(job->res_mod), host_module_version(job->res_mod));
}

/* Swap or re-initialise: load the target, shut the old instance down,
 * start the new one; when that fails, start the old one again. */
static void op_reconf(host_runtime *rt, rt_job *job)
{
    rt_sub *sub = job->sub;
    host_module *old_mod = sub->mod, *new_mod = NULL;
    int same = streq(job->version, sub->version);
    char old_name[160], old_version[160];
    conn_error err, err2;
    conn_status st;

    if (sub->inst == NULL) {
        op_start(rt, job);
        return;
    }
    snprintf(old_name, sizeof(old_name), "%s", host_module_name(old_mod));
    snprintf(old_version, sizeof(old_version), "%s", host_module_version(old_mod));
    /* 1. The new version must load before anything changes. */
    if (!same) {
        st = job->plugin_path != NULL ? host_module_open(job->plugin_path, &new_mod, &err)
                                      : host_err_set(&err, CONN_INVALID, "no such version");
        if (st != CONN_OK) {
            job->status = st;
            textf(job->error, sizeof(job->error),
                  "the swap to version %s failed; the subscription stays on %s %s: %s",
                  job->version, old_name, old_version, err.message);
            return;
        }
    }
    rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "%s: shutting down %s %s",
           same ? "re-init" : "swap", old_name, old_version);
    /* 2. Shut the old instance down (its call in flight has ended: this
     * job holds the subscription). */
    host_instance_free(sub->inst);
    job->replaced = 1;
    /* 3. The new instance, with the target settings. */
    st = start_instance(job, NULL, same ? old_mod : new_mod, job->settings, job->settings_len,
                        &err);
    if (st == CONN_OK) {
        job->status = CONN_OK;
        take_target(job);
        host_module_close(new_mod); /* start_instance took its own reference */
        host_module_close(old_mod); /* the subscription's reference to the old one */
        if (same)
            rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "re-initialised %s %s with new settings",
                   old_name, old_version);
        else
            rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "swapped from %s %s to %s %s%s",
                   old_name, old_version, host_module_name(job->res_mod),
                   host_module_version(job->res_mod),
                   host_loader_is_mapped(old_name, old_version) ? ""
                                                                : " (the old version is unloaded)");
        return;
    }
    /* 4. The new one did not start: the old one again, as it was. */
    flatten(err.message);
    job->status = st;
    st = start_instance(job, NULL, old_mod, sub->settings, sub->settings_len, &err2);
    host_module_close(new_mod);
    if (st == CONN_OK) {
        host_module_close(old_mod); /* start_instance took its own */
        job->res_version = strdup(sub->version);
        job->res_settings = dup_bytes(sub->settings, sub->settings_len);
        job->res_settings_len = sub->settings_len;
        textf(job->error, sizeof(job->error),
              "version %s cannot start; the subscription stays on %s %s: %s",
              job->version != NULL ? job->version : "?", old_name, old_version,
              err.message);
        return;
    }
    flatten(err2.message);
    host_module_close(old_mod);
    textf(job->error, sizeof(job->error),
          "version %s cannot start (%s), and the old version %s no longer starts either "
          "(%s); the subscription is stopped and will be tried again",
          job->version != NULL ? job->version : "?", err.message, old_version,
          err2.message);
}

/* Shut the instance of a subscription removed from the host file down. */
static void op_remove(host_runtime *rt, rt_job *job)
{
    rt_sub *sub = job->sub;

    if (sub->inst != NULL) {
        rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "removed from the host file: shutting down");
        host_instance_free(sub->inst);
        host_module_close(sub->mod);
    }
    job->status = CONN_OK;
}

void rt_run_op(host_runtime *rt, rt_job *job)
{
    conn_error err;
    const char *state;

    job->error[0] = '\0';
    switch (job->op) {
    case OP_START:
        op_start(rt, job);
        break;
    case OP_RECONF:
        op_reconf(rt, job);
        break;
    case OP_REMOVE:
        op_remove(rt, job);
        break;
    case OP_NONE:
        break;
    }
    if (job->error[0] != '\0')
        rt_log(rt, CONN_LOG_ERROR, job->sub, NULL, 0, "%s", job->error);
    state = job->op == OP_REMOVE ? "removed" : job->res_inst != NULL ? "running" : "failed";
    if (host_store_sub_status(rt->state, job->sub->name,
                              job->res_inst != NULL ? host_module_version(job->res_mod)
                                                    : job->version,
                              state, job->error, &err) != CONN_OK)
        rt_log(rt, CONN_LOG_WARN, job->sub, NULL, 0, "the status cannot be stored: %s",
               err.message);
}

/* ---- finishing a job (under mu) --------------------------------------- */

void rt_complete_waiters(host_runtime *rt, rt_sub *sub, unsigned gen, int all, int ok,
                         const char *message)
{
    for (rt_waiter *w = rt->waiters; w != NULL; w = w->next) {
        if (w->done || (sub != NULL && w->sub != sub) || (!all && w->gen > gen))
            continue;
        w->done = 1;
        w->ok = ok;
        snprintf(w->message, sizeof(w->message), "%s", message);
    }
    pthread_cond_broadcast(&rt->ctl_cond);
}

void rt_finish_op(host_runtime *rt, rt_job *job, int64_t now)
{
    rt_sub *sub = job->sub;
    char msg[1300];

    if (job->op == OP_REMOVE) {
        sub->inst = NULL;
        sub->mod = NULL;
        sub->removed = 2;
        rt_complete_waiters(rt, sub, 0, 1, 0, "the subscription was removed from the host file");
        return;
    }
    if (job->replaced) {
        /* What runs now (possibly the old version again, or nothing). */
        sub->inst = job->res_inst;
        sub->mod = job->res_mod;
        free(sub->version);
        free_secret(sub->settings, sub->settings_len);
        sub->version = job->res_version;
        sub->settings = job->res_settings;
        sub->settings_len = job->res_settings_len;
        job->res_version = NULL;
        job->res_settings = NULL;
        job->res_inst = NULL;
    }
    if (job->error[0] != '\0')
        textf(sub->last_error, sizeof(sub->last_error), "%s", job->error);
    if (sub->want_gen == job->gen && sub->op != OP_REMOVE)
        sub->op = OP_NONE;
    if (sub->inst == NULL) {
        sub->start_retry_ms = now + START_RETRY_MS;
        if (sub->op == OP_RECONF)
            sub->op = OP_START;
    }
    if (job->error[0] != '\0')
        textf(msg, sizeof(msg), "%s", job->error);
    else
        snprintf(msg, sizeof(msg), "%s now runs %s %s", sub->name,
                 sub->mod != NULL ? host_module_name(sub->mod) : "?",
                 sub->version != NULL ? sub->version : "?");
    rt_complete_waiters(rt, sub, job->gen, 0, job->error[0] == '\0', msg);
}
