/* host_runtime.c - `connector-host run`: start and stop. Reads the host
 * file, opens the state file and the log, takes the state file's lock,
 * recovers what the last process left in flight, starts the control
 * channel, the signal thread and the workers, runs the scheduler, and at
 * the end shuts every instance down. The pieces and their locking:
 * host_runtime_int.h. */
#include "host_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "host_exit.h"
#include "host_pull.h"
#include "host_runtime_int.h"
#include "host_store.h"

/* ---- the log ---------------------------------------------------------- */

void rt_log(host_runtime *rt, conn_log_level level, const rt_sub *sub, const char *flow,
            int64_t run_id, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;

    if (!host_log_enabled(rt->log, level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    host_log_write(rt->log, level, sub != NULL ? sub->name : NULL, flow, run_id, msg);
}

/* ---- start and stop --------------------------------------------------- */

/* One runtime per state file: an exclusive lock on <state>.lock. */
static conn_status lock_state(host_runtime *rt, conn_error *err)
{
    size_t n = strlen(rt->state_path);
    char *path = malloc(n + 6);

    if (path == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    if (n > 3 && strcmp(rt->state_path + n - 3, ".db") == 0)
        snprintf(path, n + 6, "%.*s.lock", (int)(n - 3), rt->state_path);
    else
        snprintf(path, n + 6, "%s.lock", rt->state_path);
    rt->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (rt->lock_fd < 0) {
        host_err_set(err, CONN_INTERNAL, "%s cannot be opened: %s", path, strerror(errno));
        free(path);
        return CONN_INTERNAL;
    }
    if (flock(rt->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        host_err_set(err, CONN_INVALID,
                     "another connector-host run serves the state file %s (it holds %s)",
                     rt->state_path, path);
        free(path);
        return CONN_INVALID;
    }
    free(path);
    return CONN_OK;
}

/* The host file's problems on stderr, one per line. */
static void print_problems(const char *text)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);

        if (n > 0)
            fprintf(stderr, "%.*s\n", n, line);
        line = nl != NULL ? nl + 1 : NULL;
    }
}

/* The mutex and the condition variables; -1 when they cannot be made. */
static int init_sync(host_runtime *rt)
{
    pthread_condattr_t attr;

    if (pthread_mutex_init(&rt->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    /* Deadlines are monotonic: a clock step must not stall the scheduler. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_cond_init(&rt->sched_cond, &attr) != 0 ||
        pthread_cond_init(&rt->ctl_cond, &attr) != 0 ||
        pthread_cond_init(&rt->job_cond, NULL) != 0) {
        pthread_condattr_destroy(&attr);
        return -1;
    }
    pthread_condattr_destroy(&attr);
    return 0;
}

int host_runtime_main(const host_runtime_opts *o)
{
    host_runtime rt;
    host_buf problems;
    conn_error err;
    conn_status st;
    sigset_t set;
    int rc = HOST_EXIT_OTHER, sync_ok = 0;
    int64_t n = 0;
    const char *state_path;

    memset(&rt, 0, sizeof(rt));
    rt.opts = o;
    rt.lock_fd = -1;
    atomic_init(&rt.sig_quit, 0);
    atomic_init(&rt.last_prune_ms, 0);
    host_buf_init(&problems, 256 * 1024);
    st = host_config_load(o->config_path, o->default_plugin_dir, 0, &rt.cfg, &problems, &err);
    if (st != CONN_OK) {
        print_problems(problems.data);
        fprintf(stderr, "connector-host run: %s\n", err.message);
        host_buf_free(&problems);
        return st == CONN_INVALID ? HOST_EXIT_INVALID : HOST_EXIT_OTHER;
    }
    host_buf_free(&problems);
    state_path = o->state_override != NULL ? o->state_override : rt.cfg->state_path;
    st = host_state_new(state_path, &rt.state, &err);
    if (st == CONN_OK && o->check_only) {
        rc = rt_check_config(rt.cfg, rt.state);
        goto out;
    }
    if (st == CONN_OK)
        st = host_state_open(rt.state, &err);
    if (st == CONN_OK)
        st = host_log_new(rt.cfg->log_file, rt.cfg->log_format, rt.cfg->log_level, &rt.log,
                          &err);
    if (st != CONN_OK) {
        fprintf(stderr, "connector-host run: %s\n", err.message);
        goto out;
    }
    rt.state_path = strdup(host_state_path(rt.state));
    rt.socket_path = rt.cfg->control_socket != NULL
                         ? strdup(rt.cfg->control_socket)
                         : host_control_default_path(host_state_path(rt.state));
    if (rt.state_path == NULL || rt.socket_path == NULL || init_sync(&rt) != 0) {
        fprintf(stderr, "connector-host run: out of memory\n");
        goto out;
    }
    sync_ok = 1;
    st = lock_state(&rt, &err);
    if (st != CONN_OK) {
        fprintf(stderr, "connector-host run: %s\n", err.message);
        goto out;
    }
    /* Signals are taken by one thread (sigtimedwait): every thread made
     * from here on inherits the mask, plugins' calls included. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (host_queue_recover(rt.state, &n, &err) == CONN_OK && n > 0)
        rt_log(&rt, CONN_LOG_WARN, NULL, NULL, 0,
               "%lld queue record(s) were in flight when the last run ended; they are sent "
               "again (the plugin's duplicate check keeps that from making copies)",
               (long long)n);
    if (host_store_runs_interrupted(rt.state, &n, &err) == CONN_OK && n > 0)
        rt_log(&rt, CONN_LOG_WARN, NULL, NULL, 0, "%lld run(s) of the last process were cut off",
               (long long)n);
    st = host_control_listen(rt.socket_path, rt_on_control, &rt, &rt.control, &err);
    if (st != CONN_OK) {
        fprintf(stderr, "connector-host run: %s\n", err.message);
        goto out;
    }
    for (size_t i = rt.cfg->nsubs; i > 0; i--) {
        rt_sub *sub = rt_new_sub(&rt, &rt.cfg->subs[i - 1], host_mono_ms());

        if (sub == NULL) {
            fprintf(stderr, "connector-host run: out of memory\n");
            goto out;
        }
        sub->next = rt.subs;
        rt.subs = sub;
    }
    rt.threads = calloc(rt.cfg->workers, sizeof(*rt.threads));
    if (rt.threads == NULL)
        goto out;
    if (pthread_create(&rt.sig_thread, NULL, rt_signal_main, &rt) != 0)
        goto out;
    rt.sig_started = 1;
    for (unsigned i = 0; i < rt.cfg->workers; i++) {
        if (pthread_create(&rt.threads[i], NULL, rt_worker_main, &rt) != 0)
            break;
        rt.nthreads++;
    }
    if (rt.nthreads == 0) {
        fprintf(stderr, "connector-host run: no worker thread can start\n");
        goto out;
    }
    rt_log(&rt, CONN_LOG_INFO, NULL, NULL, 0,
           "running %zu subscription%s on %u worker%s; state %s; control %s (pid %ld)",
           rt.cfg->nsubs, rt.cfg->nsubs == 1 ? "" : "s", rt.nthreads,
           rt.nthreads == 1 ? "" : "s", rt.state_path, rt.socket_path, (long)getpid());
    rt_scheduler_loop(&rt);
    rc = HOST_EXIT_OK;
out:
    if (sync_ok) {
        pthread_mutex_lock(&rt.mu);
        rt.quit_workers = 1;
        rt.stopping = 1;
        rt_drop_queued_jobs(&rt);
        rt_complete_waiters(&rt, NULL, 0, 1, 0, "the runtime is stopping");
        pthread_cond_broadcast(&rt.job_cond);
        pthread_mutex_unlock(&rt.mu);
    }
    for (unsigned i = 0; i < rt.nthreads; i++)
        pthread_join(rt.threads[i], NULL);
    free(rt.threads);
    /* No job runs now: shut every instance down (cursors are committed;
     * tokens and the queue are in the state file). */
    while (rt.subs != NULL) {
        rt_sub *sub = rt.subs;
        char version[160];

        rt.subs = sub->next;
        snprintf(version, sizeof(version), "%s", sub->version != NULL ? sub->version : "");
        if (sub->inst != NULL) {
            host_instance_free(sub->inst);
            host_module_close(sub->mod);
            if (host_store_sub_status(rt.state, sub->name, version, "stopped", "", &err) !=
                CONN_OK)
                rt_log(&rt, CONN_LOG_WARN, sub, NULL, 0, "the status cannot be stored: %s",
                       err.message);
        }
        rt_free_sub(sub);
    }
    host_control_stop(rt.control);
    if (rt.sig_started) {
        atomic_store(&rt.sig_quit, 1);
        pthread_join(rt.sig_thread, NULL);
    }
    /* The signal mask is left blocked: a second SIGTERM that arrived after
     * the signal thread ended would otherwise kill the process on its way
     * out, turning a clean stop into exit 143. The process ends next. */
    if (rt.log != NULL)
        rt_log(&rt, rc == HOST_EXIT_OK ? CONN_LOG_INFO : CONN_LOG_ERROR, NULL, NULL, 0,
               rc == HOST_EXIT_OK ? "stopped" : "could not start");
    if (sync_ok) {
        pthread_mutex_destroy(&rt.mu);
        pthread_cond_destroy(&rt.sched_cond);
        pthread_cond_destroy(&rt.job_cond);
        pthread_cond_destroy(&rt.ctl_cond);
    }
    if (rt.lock_fd >= 0)
        close(rt.lock_fd);
    host_log_free(rt.log);
    host_state_free(rt.state);
    host_config_free(rt.cfg);
    free(rt.state_path);
    free(rt.socket_path);
    return rc;
}
