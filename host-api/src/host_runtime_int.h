/* host_runtime_int.h - what the runtime's files share (host_runtime.h is
 * the public side): the runtime, its subscriptions, jobs and swap waiters,
 * a few small helpers, and the functions one file calls in another.
 *
 *   host_runtime.c          start and stop: host_runtime_main, the state
 *                           file's lock, the log
 *   host_runtime_subs.c     the subscription table: made from the host
 *                           file, what each should run, reload (SIGHUP)
 *   host_runtime_swap.c     instance changes on a worker (start, hot swap,
 *                           re-init, removal) and their publication
 *   host_runtime_flow.c     one pull or push run with its state commits
 *   host_runtime_sched.c    the job list, the worker pool and the scheduler
 *   host_runtime_control.c  the control channel's requests and the signal
 *                           thread
 *   host_runtime_check.c    run --check
 *
 * Locking: one mutex (rt->mu) guards the job list, the subscription list
 * and every field of a subscription that other threads read (what it
 * should run, its schedule, its last error). A worker that holds a
 * subscription's job (sub->busy) is the only thread that touches its
 * instance; the results are published under the mutex when the job ends.
 * The mutex is never held during a plugin call, a database write or a log
 * write. */
#ifndef HOST_RUNTIME_INT_H
#define HOST_RUNTIME_INT_H

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_abi.h"
#include "host_buf.h"
#include "host_control.h"
#include "host_ctx.h"
#include "host_error.h"
#include "host_hostfile.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_log.h"
#include "host_queue.h"
#include "host_runtime.h"
#include "host_state.h"

typedef enum sub_op { OP_NONE = 0, OP_START, OP_RECONF, OP_REMOVE } sub_op;

typedef struct rt_flow {
    char *flow;
    int push;
    int64_t every_ms;
    size_t batch_size; /* 0: the host file's push_batch_size */
    int64_t next_ms;   /* monotonic */
    unsigned failures; /* runs in a row that failed: the schedule backs off */
} rt_flow;

typedef struct host_runtime host_runtime;

typedef struct rt_sub {
    struct rt_sub *next;
    host_runtime *rt;
    char *name;
    host_ctx *ctx;
    /* What runs. Written only by the worker holding the subscription, and
     * then under rt->mu; read under rt->mu by others. */
    host_module *mod; /* one reference, held while inst exists */
    host_instance *inst;
    char *version;
    char *settings;
    size_t settings_len;
    /* What should run (the host file, or a swap); under rt->mu. */
    char *want_version;
    char *want_settings;
    size_t want_settings_len;
    unsigned want_gen;
    sub_op op;
    int busy;
    int removed; /* 2: its removal is done; free it */
    int64_t start_retry_ms;
    rt_flow *flows;
    size_t nflows;
    char last_error[1024];
    /* The run in progress, for the plugin's log lines. */
    _Atomic int64_t run_id;
} rt_sub;

typedef enum job_kind { JOB_RUN, JOB_OP } job_kind;

typedef struct rt_job {
    struct rt_job *next;
    job_kind kind;
    rt_sub *sub;
    /* JOB_RUN */
    char *flow;
    int push;
    size_t batch;
    char *output_dir;
    host_retry_policy retry;
    int64_t done_retention_ms;
    int64_t start_ms; /* monotonic */
    /* JOB_OP: the target, copied when dispatched */
    sub_op op;
    unsigned gen;
    char *version;
    char *plugin_path;
    char *settings;
    size_t settings_len;
    /* Results */
    conn_status status;
    int64_t retry_after_ms;
    int more; /* push: the batch was full; more may be due */
    int replaced; /* op: the old instance is gone; res_* is what runs now */
    host_module *res_mod;
    host_instance *res_inst;
    char *res_version;
    char *res_settings;
    size_t res_settings_len;
    char error[1200];
} rt_job;

typedef struct rt_waiter {
    struct rt_waiter *next;
    rt_sub *sub;
    unsigned gen;
    int done;
    int ok;
    char message[1300];
} rt_waiter;

struct host_runtime {
    pthread_mutex_t mu;
    pthread_cond_t sched_cond; /* the scheduler waits here (monotonic clock) */
    pthread_cond_t job_cond;   /* workers wait here */
    pthread_cond_t ctl_cond;   /* swap requests wait here */
    rt_job *jobs;
    rt_job *jobs_tail;
    rt_sub *subs;
    rt_waiter *waiters;
    unsigned busy;
    int quit_workers;
    int stop_requested; /* SIGTERM/SIGINT seen */
    int stop_now;       /* a second one: cancel at once */
    int hup_requested;
    int stopping;
    int cancel_sent;
    int64_t deadline_ms;
    pthread_t *threads;
    unsigned nthreads;
    pthread_t sig_thread;
    int sig_started;
    atomic_int sig_quit;
    host_config *cfg; /* under mu */
    const host_runtime_opts *opts;
    host_state *state;
    host_log *log;
    host_control *control;
    int lock_fd;
    char *state_path;
    char *socket_path;
    _Atomic int64_t last_prune_ms;
};

/* ---- small helpers ---------------------------------------------------- */

/* A NUL-terminated copy of n bytes; NULL for NULL or out of memory. */
static inline char *dup_bytes(const char *s, size_t n)
{
    char *p;

    if (s == NULL)
        return NULL;
    p = malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* snprintf for messages that may be cut to fit (an error quoted inside
 * another); truncation is intended. */
static inline void textf(char *buf, size_t cap, const char *fmt, ...) HOST_PRINTF(3, 4);

static inline void textf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* Wipe and free settings (they hold passwords). Accepts NULL. */
static inline void free_secret(char *s, size_t n)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, n);
    free(s);
}

static inline int streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static inline int same_settings(const char *a, size_t la, const char *b, size_t lb)
{
    return a != NULL && b != NULL && la == lb && memcmp(a, b, la) == 0;
}

/* One line in the runtime's log, with the subscription (sub may be NULL),
 * flow and run it belongs to. (host_runtime.c) */
void rt_log(host_runtime *rt, conn_log_level level, const rt_sub *sub, const char *flow,
            int64_t run_id, const char *fmt, ...) HOST_PRINTF(6, 7);

/* ---- the subscription table (host_runtime_subs.c) -------------------- */

/* A new subscription from its host-file entry, to be started. Under mu.
 * NULL when out of memory. */
rt_sub *rt_new_sub(host_runtime *rt, const host_sub_config *sc, int64_t now);

/* Free a subscription (its instance is already gone). Accepts NULL. */
void rt_free_sub(rt_sub *sub);

/* The subscription called name, or NULL; one whose removal is done
 * (removed == 2) does not count. Under mu. */
rt_sub *rt_find_sub(host_runtime *rt, const char *name);

/* Point the subscription at a host-file entry: what it should run. Under
 * mu. Returns 1 when that differs from what runs (an op is then pending),
 * 0 when not, -1 when out of memory. */
int rt_want(rt_sub *sub, const char *version, const char *settings, size_t settings_len);

/* SIGHUP: read the host file again and apply it (new, removed and changed
 * subscriptions, schedules, the log); a file with problems changes
 * nothing. Called under mu; drops it while the file is read. */
void rt_reload(host_runtime *rt);

/* ---- instance changes (host_runtime_swap.c) -------------------------- */

/* On a worker holding the subscription: start, swap, re-init or remove
 * its instance as job->op says; the outcome goes to job (res_*, error)
 * and to the state database's subscriptions table (for status). */
void rt_run_op(host_runtime *rt, rt_job *job);

/* Under mu, when that job ends: publish what the subscription runs now
 * and answer the swap requests waiting for it. */
void rt_finish_op(host_runtime *rt, rt_job *job, int64_t now);

/* Answer the swap requests waiting on sub (NULL: every subscription) up to
 * generation gen (all: whatever their generation) with ok and message.
 * Under mu. */
void rt_complete_waiters(host_runtime *rt, rt_sub *sub, unsigned gen, int all, int ok,
                         const char *message);

/* ---- flow runs (host_runtime_flow.c) --------------------------------- */

/* On a worker holding the subscription: one pull, or one drain of the push
 * queue, with its run summary row; the outcome goes to job (status,
 * error, retry_after_ms, more). */
void rt_run_flow(host_runtime *rt, rt_job *job);

/* ---- workers and scheduler (host_runtime_sched.c) -------------------- */

/* A worker thread: take jobs until quit_workers is set and none is left. */
void *rt_worker_main(void *arg);

/* The main thread (takes mu itself): start what is due, reload on SIGHUP,
 * and on SIGTERM or SIGINT stop as README.md says; returns when no call is
 * in flight. */
void rt_scheduler_loop(host_runtime *rt);

/* Drop the jobs no worker has started (at stop). Under mu. */
void rt_drop_queued_jobs(host_runtime *rt);

/* ---- requests from outside (host_runtime_control.c) ------------------ */

/* The control channel's handler (host_control_fn): status, swap, reload. */
void rt_on_control(void *user, const char *request, size_t len, host_buf *reply);

/* The thread that takes SIGTERM, SIGINT and SIGHUP (blocked in every other
 * thread) until sig_quit is set. */
void *rt_signal_main(void *arg);

/* ---- run --check (host_runtime_check.c) ------------------------------ */

/* Load each subscription's plugin, run init (no network) and compare the
 * flows with the plugin's description. Returns an exit code. */
int rt_check_config(const host_config *cfg, host_state *state);

#endif
