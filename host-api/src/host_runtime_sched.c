/* host_runtime_sched.c - the job list, the worker pool and the scheduler.
 * The main thread looks at each subscription under the mutex and queues a
 * job for what is due (an instance change first, else its longest-waiting
 * flow); a worker runs it without the mutex, then computes the flow's next
 * run (backoff, Retry-After, draining) under it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_pull.h"
#include "host_runtime_int.h"

/* The longest a failing flow waits before it is tried again. */
#define BACKOFF_MAX_MS (5 * 60 * 1000)
/* The scheduler wakes at least this often. */
#define SCHED_IDLE_MS 1000

/* Accepts NULL; settings are wiped. */
static void free_job(rt_job *job)
{
    if (job == NULL)
        return;
    free(job->flow);
    free(job->output_dir);
    free(job->version);
    free(job->plugin_path);
    free_secret(job->settings, job->settings_len);
    free(job->res_version);
    free_secret(job->res_settings, job->res_settings_len);
    free(job);
}

/* Queue a job for the workers and mark the subscription busy. Under mu. */
static void dispatch(host_runtime *rt, rt_job *job)
{
    job->sub->busy = 1;
    rt->busy++;
    /* A stop asked of an earlier call must not end this one. */
    host_ctx_clear_stop(job->sub->ctx);
    job->next = NULL;
    if (rt->jobs_tail != NULL)
        rt->jobs_tail->next = job;
    else
        rt->jobs = job;
    rt->jobs_tail = job;
    pthread_cond_signal(&rt->job_cond);
}

/* ---- finishing a job (under mu) --------------------------------------- */

/* The subscription's flow by name and direction, or NULL. */
static rt_flow *find_flow(rt_sub *sub, const char *flow, int push)
{
    for (size_t i = 0; i < sub->nflows; i++)
        if (sub->flows[i].push == push && strcmp(sub->flows[i].flow, flow) == 0)
            return &sub->flows[i];
    return NULL;
}

/* Under mu, when a run ends: the subscription's last error and the
 * flow's next run. */
static void finish_run(host_runtime *rt, rt_job *job, int64_t now)
{
    rt_flow *f = find_flow(job->sub, job->flow, job->push);

    (void)rt;
    if (job->error[0] != '\0')
        textf(job->sub->last_error, sizeof(job->sub->last_error), "%s %s: %s",
              job->push ? "push" : "pull", job->flow, job->error);
    if (f == NULL)
        return; /* the flow left the host file meanwhile */
    /* Every `every` from the start of the last run; a run longer than that
     * is followed by the next at once, not by a burst of missed ones. A
     * flow that keeps failing (settings, authorization, an unsupported
     * flow) backs off: 2, 4 ... 64 times its period, at most 5 minutes
     * (or its own period when longer), so the log is not flooded. */
    if (job->status == CONN_OK || job->status == CONN_CANCELLED)
        f->failures = 0;
    else if (f->failures < 6)
        f->failures++;
    f->next_ms = job->start_ms + f->every_ms;
    if (f->failures > 0) {
        int64_t backoff = f->every_ms << f->failures;
        int64_t cap = f->every_ms > BACKOFF_MAX_MS ? f->every_ms : BACKOFF_MAX_MS;

        f->next_ms = job->start_ms + (backoff < cap ? backoff : cap);
    }
    if (f->next_ms < now)
        f->next_ms = now;
    if (job->more)
        f->next_ms = now;
    if (job->retry_after_ms > 0 && f->next_ms < now + job->retry_after_ms)
        f->next_ms = now + job->retry_after_ms;
}

/* ---- workers ---------------------------------------------------------- */

void *rt_worker_main(void *arg)
{
    host_runtime *rt = arg;

    for (;;) {
        rt_job *job;

        pthread_mutex_lock(&rt->mu);
        while (rt->jobs == NULL && !rt->quit_workers)
            pthread_cond_wait(&rt->job_cond, &rt->mu);
        job = rt->jobs;
        if (job == NULL) {
            pthread_mutex_unlock(&rt->mu);
            break;
        }
        rt->jobs = job->next;
        if (rt->jobs == NULL)
            rt->jobs_tail = NULL;
        pthread_mutex_unlock(&rt->mu);

        if (job->kind == JOB_RUN)
            rt_run_flow(rt, job);
        else
            rt_run_op(rt, job);

        pthread_mutex_lock(&rt->mu);
        if (job->kind == JOB_RUN)
            finish_run(rt, job, host_mono_ms());
        else
            rt_finish_op(rt, job, host_mono_ms());
        job->sub->busy = 0;
        rt->busy--;
        pthread_cond_broadcast(&rt->sched_cond);
        pthread_mutex_unlock(&rt->mu);
        free_job(job);
    }
    return NULL;
}

/* ---- the scheduler (main thread, under mu) ---------------------------- */

/* A zeroed job of kind for sub; NULL when out of memory. */
static rt_job *new_job(rt_sub *sub, job_kind kind)
{
    rt_job *job = calloc(1, sizeof(*job));

    if (job != NULL) {
        job->kind = kind;
        job->sub = sub;
    }
    return job;
}

/* Queue the subscription's pending instance change, with a copy of its
 * target. Under mu; out of memory: nothing is queued (tried again). */
static void dispatch_op(host_runtime *rt, rt_sub *sub)
{
    rt_job *job = new_job(sub, JOB_OP);

    if (job == NULL)
        return;
    job->op = sub->op;
    job->gen = sub->want_gen;
    if (sub->op != OP_REMOVE) {
        job->version = strdup(sub->want_version);
        job->plugin_path = host_plugin_file(rt->cfg->plugin_dir, sub->want_version);
        job->settings = dup_bytes(sub->want_settings, sub->want_settings_len);
        job->settings_len = sub->want_settings_len;
        if (job->version == NULL || job->settings == NULL) {
            free_job(job);
            return;
        }
    }
    dispatch(rt, job);
}

/* Queue a run of flow f with the host file's settings for it. Under mu;
 * out of memory: nothing is queued (tried again). */
static void dispatch_run(host_runtime *rt, rt_sub *sub, rt_flow *f, int64_t now)
{
    rt_job *job = new_job(sub, JOB_RUN);

    if (job == NULL)
        return;
    job->flow = strdup(f->flow);
    job->push = f->push;
    job->batch = f->batch_size > 0 ? f->batch_size : rt->cfg->push_batch_size;
    job->output_dir = rt->cfg->output_dir != NULL ? strdup(rt->cfg->output_dir) : NULL;
    job->retry.unit_ms = rt->cfg->retry_unit_ms;
    job->retry.max_attempts = rt->cfg->max_attempts;
    job->done_retention_ms = rt->cfg->done_retention_ms;
    job->start_ms = now;
    if (job->flow == NULL || (rt->cfg->output_dir != NULL && job->output_dir == NULL)) {
        free_job(job);
        return;
    }
    dispatch(rt, job);
}

/* Start what is due; returns when the scheduler should look again. */
static int64_t schedule(host_runtime *rt, int64_t now)
{
    int64_t wake = now + SCHED_IDLE_MS;
    rt_sub **link = &rt->subs;

    while (*link != NULL) {
        rt_sub *sub = *link;
        rt_flow *best = NULL;

        if (sub->removed == 2 && !sub->busy) {
            const host_sub_config *sc = host_config_find(rt->cfg, sub->name);

            *link = sub->next;
            /* Put back in the host file while its removal ran: it starts
             * again, fresh. */
            if (sc != NULL && rt_find_sub(rt, sc->name) == NULL) {
                rt_sub *again = rt_new_sub(rt, sc, now);

                if (again != NULL) {
                    again->next = *link;
                    *link = again;
                }
            }
            rt_free_sub(sub);
            continue;
        }
        link = &sub->next;
        if (sub->busy)
            continue;
        if (sub->op == OP_REMOVE || sub->op == OP_RECONF ||
            (sub->op == OP_START && (sub->inst != NULL || sub->start_retry_ms <= now))) {
            dispatch_op(rt, sub);
            continue;
        }
        if (sub->inst == NULL) {
            if (sub->start_retry_ms <= now) {
                sub->op = OP_START;
                dispatch_op(rt, sub);
            } else if (sub->start_retry_ms < wake) {
                wake = sub->start_retry_ms;
            }
            continue;
        }
        for (size_t i = 0; i < sub->nflows; i++)
            if (best == NULL || sub->flows[i].next_ms < best->next_ms)
                best = &sub->flows[i];
        if (best == NULL)
            continue;
        if (best->next_ms <= now)
            dispatch_run(rt, sub, best, now);
        else if (best->next_ms < wake)
            wake = best->next_ms;
    }
    return wake;
}

/* Wait on sched_cond until until_ms (monotonic) or a wake-up. Under mu. */
static void wait_until(host_runtime *rt, int64_t until_ms)
{
    struct timespec ts;

    if (until_ms <= host_mono_ms())
        return;
    ts.tv_sec = (time_t)(until_ms / 1000);
    ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
    pthread_cond_timedwait(&rt->sched_cond, &rt->mu, &ts);
}

/* ---- stop ------------------------------------------------------------- */

/* Drop the jobs no worker has started (at stop). Under mu. */
void rt_drop_queued_jobs(host_runtime *rt)
{
    while (rt->jobs != NULL) {
        rt_job *job = rt->jobs;

        rt->jobs = job->next;
        job->sub->busy = 0;
        rt->busy--;
        free_job(job);
    }
    rt->jobs_tail = NULL;
}

void rt_scheduler_loop(host_runtime *rt)
{
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        int64_t now = host_mono_ms();

        if (rt->hup_requested && !rt->stopping) {
            rt->hup_requested = 0;
            rt_reload(rt);
            continue;
        }
        if (rt->stop_requested && !rt->stopping) {
            rt->stopping = 1;
            rt->deadline_ms = now + rt->cfg->shutdown_grace_ms;
            rt_drop_queued_jobs(rt);
            rt_complete_waiters(rt, NULL, 0, 1, 0, "the runtime is stopping");
            rt_log(rt, CONN_LOG_INFO, NULL, NULL, 0,
                   "stopping: %u call%s in flight may run for up to %lld ms more", rt->busy,
                   rt->busy == 1 ? "" : "s", (long long)rt->cfg->shutdown_grace_ms);
        }
        if (rt->stopping) {
            if (rt->busy == 0)
                break;
            if (!rt->cancel_sent && (rt->stop_now || now >= rt->deadline_ms)) {
                for (rt_sub *sub = rt->subs; sub != NULL; sub = sub->next)
                    if (sub->busy)
                        host_ctx_request_stop(sub->ctx);
                rt->cancel_sent = 1;
                rt_log(rt, CONN_LOG_INFO, NULL, NULL, 0,
                       "asking %u call%s in flight to stop (should_stop)", rt->busy,
                       rt->busy == 1 ? "" : "s");
            }
            wait_until(rt, rt->cancel_sent ? now + SCHED_IDLE_MS : rt->deadline_ms);
            continue;
        }
        wait_until(rt, schedule(rt, now));
    }
    pthread_mutex_unlock(&rt->mu);
}
