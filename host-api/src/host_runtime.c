/* host_runtime.c - `connector-host run`: scheduler, worker pool, queue
 * drains, hot swap, reload and shutdown.
 *
 * Locking: one mutex (rt->mu) guards the job list, the subscription list
 * and every field of a subscription that other threads read (what it
 * should run, its schedule, its last error). A worker that holds a
 * subscription's job (sub->busy) is the only thread that touches its
 * instance; the results are published under the mutex when the job ends.
 * The mutex is never held during a plugin call, a database write or a log
 * write. */
#include "host_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_buf.h"
#include "host_control.h"
#include "host_ctx.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_hostfile.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_log.h"
#include "host_pull.h"
#include "host_push.h"
#include "host_queue.h"
#include "host_state.h"
#include "host_store.h"

/* A subscription whose instance could not start is tried again after
 * this long (a SIGHUP or a swap tries at once). */
#define START_RETRY_MS 60000
/* How often done queue records older than done_retention are deleted. */
#define PRUNE_EVERY_MS 3600000
/* The longest a swap request waits for its answer. */
#define SWAP_WAIT_MS (30 * 60 * 1000)
/* The longest a failing flow waits before it is tried again. */
#define BACKOFF_MAX_MS (5 * 60 * 1000)
/* The scheduler wakes at least this often. */
#define SCHED_IDLE_MS 1000

typedef enum sub_op { OP_NONE = 0, OP_START, OP_RECONF, OP_REMOVE } sub_op;

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

static char *dup_bytes(const char *s, size_t n)
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
static void textf(char *buf, size_t cap, const char *fmt, ...) HOST_PRINTF(3, 4);

static void textf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

static void free_secret(char *s, size_t n)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, n);
    free(s);
}

static int streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int same_settings(const char *a, size_t la, const char *b, size_t lb)
{
    return a != NULL && b != NULL && la == lb && memcmp(a, b, la) == 0;
}

static void rt_log(host_runtime *rt, conn_log_level level, const rt_sub *sub, const char *flow,
                   int64_t run_id, const char *fmt, ...) HOST_PRINTF(6, 7);

static void rt_log(host_runtime *rt, conn_log_level level, const rt_sub *sub, const char *flow,
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

/* The plugin's log lines, with the subscription and the run they belong
 * to. Called on the worker thread of the call. */
static void plugin_log(void *user, const char *subscription, conn_log_level level,
                       const char *flow, const char *message)
{
    rt_sub *sub = user;

    host_log_write(sub->rt->log, level, subscription, flow, atomic_load(&sub->run_id), message);
}

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
static int want(rt_sub *sub, const char *version, const char *settings, size_t settings_len)
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

static void free_sub(rt_sub *sub)
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
static rt_sub *new_sub(host_runtime *rt, const host_sub_config *sc, int64_t now)
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
        want(sub, sc->plugin_version, sc->settings, sc->settings_len) < 0) {
        free_sub(sub);
        return NULL;
    }
    host_ctx_set_log(sub->ctx, plugin_log, sub, CONN_LOG_DEBUG);
    sub->op = OP_START;
    return sub;
}

static rt_sub *find_sub(host_runtime *rt, const char *name)
{
    for (rt_sub *s = rt->subs; s != NULL; s = s->next)
        if (s->removed == 0 && strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

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

static void complete_waiters(host_runtime *rt, rt_sub *sub, unsigned gen, int all, int ok,
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

/* ---- jobs: instance changes ------------------------------------------ */

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
    job->res_version = job->version;
    job->version = NULL;
    job->res_settings = job->settings;
    job->res_settings_len = job->settings_len;
    job->settings = NULL;
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
        job->res_version = job->version;
        job->version = NULL;
        job->res_settings = job->settings;
        job->res_settings_len = job->settings_len;
        job->settings = NULL;
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

static void run_op(host_runtime *rt, rt_job *job)
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

/* ---- jobs: flow runs -------------------------------------------------- */

static void pull_note(void *user, conn_log_level level, const char *message)
{
    rt_job *job = user;

    host_log_write(job->sub->rt->log, level, job->sub->name, job->flow,
                   atomic_load(&job->sub->run_id), message);
}

/* mkdir -p with mode 0700. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    int rc = 0;

    if (p == NULL)
        return -1;
    for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
        if (s != NULL)
            *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        if (s == NULL)
            break;
        *s = '/';
    }
    free(p);
    return rc;
}

/* <output_dir>/<subscription>/<flow>.jsonl, the subscription's name made
 * safe as a directory name (characters other than letters, digits, '.',
 * '-', '_' become '_'; no leading dot). */
static char *output_file(const char *dir, const char *sub, const char *flow, char **subdir)
{
    size_t n = strlen(dir) + strlen(sub) * 1 + strlen(flow) + 16;
    char *path = malloc(n), *safe = malloc(strlen(sub) + 2);
    size_t k = 0;

    *subdir = NULL;
    if (path == NULL || safe == NULL) {
        free(path);
        free(safe);
        return NULL;
    }
    if (sub[0] == '.')
        safe[k++] = '_';
    for (const char *c = sub; *c != '\0'; c++)
        safe[k++] = ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_')
                        ? *c
                        : '_';
    safe[k] = '\0';
    snprintf(path, n, "%s/%s", dir, safe);
    *subdir = strdup(path);
    snprintf(path, n, "%s/%s/%s.jsonl", dir, safe, flow);
    free(safe);
    if (*subdir == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static void run_pull(host_runtime *rt, rt_job *job, int64_t run_id)
{
    rt_sub *sub = job->sub;
    host_pull_opts o;
    host_pull_stats stats;
    host_run_end end;
    conn_error err, e2;
    char counts[256], *path = NULL, *subdir = NULL, *real = NULL;
    FILE *out = NULL;
    int fd;

    memset(&o, 0, sizeof(o));
    memset(&stats, 0, sizeof(stats));
    host_err_clear(&err);
    if (job->output_dir != NULL) {
        path = output_file(job->output_dir, sub->name, job->flow, &subdir);
        if (path == NULL || make_dirs(subdir) != 0 ||
            (fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
            job->status = host_err_set(&err, CONN_INTERNAL,
                                       "the output file %s cannot be opened: %s",
                                       path != NULL ? path : "?", strerror(errno));
            goto done;
        }
        out = fdopen(fd, "a");
        real = out != NULL ? realpath(path, NULL) : NULL;
        if (out == NULL || real == NULL) {
            if (out == NULL)
                close(fd);
            job->status = host_err_set(&err, CONN_INTERNAL,
                                       "the output file %s cannot be opened: %s", path,
                                       strerror(errno));
            goto done;
        }
    }
    o.sub = sub->name;
    o.flow = job->flow;
    o.to_table = 1;
    o.out = out;
    o.out_path = real;
    o.run_id = run_id;
    o.note = pull_note;
    o.user = job;
    job->status = host_pull_run(sub->inst, rt->state, &o, &stats, &err);
    if (job->status == CONN_RETRY && err.retry_after_ms > 0)
        job->retry_after_ms = err.retry_after_ms;
done:
    if (out != NULL && fclose(out) != 0 && job->status == CONN_OK)
        job->status = host_err_set(&err, CONN_INTERNAL, "%s cannot be written: %s", path,
                                   strerror(errno));
    snprintf(counts, sizeof(counts),
             "{\"emitted\":%llu,\"committed\":%llu,\"discarded\":%llu,\"checkpoints\":%llu}",
             (unsigned long long)stats.emitted, (unsigned long long)stats.committed,
             (unsigned long long)stats.discarded, (unsigned long long)stats.checkpoints);
    memset(&end, 0, sizeof(end));
    end.outcome = host_status_name(job->status);
    end.records = (int64_t)stats.committed;
    end.counts = counts;
    end.cursor = stats.cursor;
    end.cursor_len = stats.cursor_len;
    end.error = job->status != CONN_OK ? err.message : NULL;
    if (host_store_run_end(rt->state, run_id, &end, &e2) != CONN_OK)
        rt_log(rt, CONN_LOG_WARN, sub, job->flow, run_id, "the run summary cannot be stored: %s",
               e2.message);
    if (job->status == CONN_OK)
        rt_log(rt, stats.committed > 0 ? CONN_LOG_INFO : CONN_LOG_DEBUG, sub, job->flow,
               run_id, "pull OK: %llu records in %llu checkpoints, %lld ms",
               (unsigned long long)stats.committed, (unsigned long long)stats.checkpoints,
               (long long)stats.elapsed_ms);
    else
        rt_log(rt, job->status == CONN_CANCELLED ? CONN_LOG_INFO : CONN_LOG_ERROR, sub,
               job->flow, run_id, "pull %s after %llu records: %s",
               host_status_name(job->status), (unsigned long long)stats.committed,
               err.message);
    if (job->status != CONN_OK)
        textf(job->error, sizeof(job->error), "%s: %s", host_status_name(job->status),
                 err.message);
    host_pull_stats_clear(&stats);
    free(path);
    free(subdir);
    free(real);
}

static void run_push(host_runtime *rt, rt_job *job, int64_t run_id)
{
    rt_sub *sub = job->sub;
    host_queue_batch b = {NULL, 0};
    host_push_result *res = NULL;
    host_settle *settle = NULL;
    conn_buf *recs = NULL;
    host_push_check check;
    host_queue_counts qc;
    host_run_end end;
    conn_error err, e2;
    char counts[512];
    size_t by[CONN_OUT_CANCELLED + 1] = {0};

    memset(&qc, 0, sizeof(qc));
    host_err_clear(&err);
    job->status = host_queue_claim(rt->state, sub->name, job->flow, job->batch, host_wall_ms(),
                                   run_id, &b, &err);
    if (job->status != CONN_OK || b.n == 0)
        goto done;
    recs = calloc(b.n, sizeof(*recs));
    res = calloc(b.n, sizeof(*res));
    settle = calloc(b.n, sizeof(*settle));
    if (recs == NULL || res == NULL || settle == NULL) {
        /* Put the claimed records back before giving up. */
        for (size_t i = 0; settle != NULL && i < b.n; i++)
            settle[i].outcome = CONN_OUT_CANCELLED;
        job->status = host_err_set(&err, CONN_NOMEM, "out of memory");
        if (settle != NULL)
            (void)host_queue_settle(rt->state, &b, settle, host_wall_ms(), &job->retry, &qc,
                                    &e2);
        goto done;
    }
    for (size_t i = 0; i < b.n; i++) {
        recs[i].data = b.items[i].record;
        recs[i].len = b.items[i].len;
    }
    job->status = host_push_call(sub->inst, job->flow, recs, b.n, res, &check, &err);
    if (host_push_check_failed(&check)) {
        char msg[600];

        host_push_check_message(sub->inst, &check, msg, sizeof(msg));
        rt_log(rt, CONN_LOG_ERROR, sub, job->flow, run_id, "INTERNAL: %s", msg);
    }
    if (job->status == CONN_RETRY && err.retry_after_ms > 0)
        job->retry_after_ms = err.retry_after_ms;
    for (size_t i = 0; i < b.n; i++) {
        settle[i].outcome = res[i].outcome;
        settle[i].result = res[i].result;
        settle[i].result_len = res[i].result_len;
        by[(unsigned)res[i].outcome <= CONN_OUT_CANCELLED ? res[i].outcome : CONN_OUT_FAILED]++;
        if (res[i].outcome == CONN_OUT_REJECTED)
            rt_log(rt, CONN_LOG_WARN, sub, job->flow, run_id,
                   "queue record %lld rejected: %.*s", (long long)b.items[i].id,
                   (int)(res[i].result_len < 600 ? res[i].result_len : 600),
                   res[i].result != NULL ? res[i].result : "");
    }
    if (host_queue_settle(rt->state, &b, settle, host_wall_ms(), &job->retry, &qc, &e2) !=
        CONN_OK) {
        rt_log(rt, CONN_LOG_ERROR, sub, job->flow, run_id,
               "the outcomes cannot be stored (the records stay in flight and are sent again "
               "after a restart): %s",
               e2.message);
        if (job->status == CONN_OK)
            job->status = e2.status;
    }
    job->more = b.n == job->batch && job->status == CONN_OK;
done:
    if (b.n > 0 || job->status != CONN_OK) {
        snprintf(counts, sizeof(counts),
                 "{\"created\":%zu,\"updated\":%zu,\"duplicate\":%zu,\"skipped\":%zu,"
                 "\"rejected\":%zu,\"failed\":%zu,\"cancelled\":%zu,\"done\":%zu,\"dead\":%zu,"
                 "\"retry\":%zu}",
                 by[CONN_OUT_CREATED], by[CONN_OUT_UPDATED], by[CONN_OUT_DUPLICATE],
                 by[CONN_OUT_SKIPPED], by[CONN_OUT_REJECTED], by[CONN_OUT_FAILED],
                 by[CONN_OUT_CANCELLED], qc.done, qc.dead, qc.retry);
        memset(&end, 0, sizeof(end));
        end.outcome = host_status_name(job->status);
        end.records = (int64_t)b.n;
        end.counts = counts;
        end.error = job->status != CONN_OK ? err.message : NULL;
        if (host_store_run_end(rt->state, run_id, &end, &e2) != CONN_OK)
            rt_log(rt, CONN_LOG_WARN, sub, job->flow, run_id,
                   "the run summary cannot be stored: %s", e2.message);
        rt_log(rt, job->status == CONN_OK ? CONN_LOG_INFO : CONN_LOG_ERROR, sub, job->flow,
               run_id, "push %s: %zu records: %zu done, %zu to retry, %zu dead letters%s%s",
               host_status_name(job->status), b.n, qc.done, qc.retry, qc.dead,
               job->status != CONN_OK ? ": " : "", job->status != CONN_OK ? err.message : "");
        if (job->status != CONN_OK)
            textf(job->error, sizeof(job->error), "%s: %s", host_status_name(job->status),
                     err.message);
    }
    host_push_results_clear(res, b.n);
    free(res);
    free(settle);
    free(recs);
    host_queue_batch_free(&b);
}

/* Delete old done records now and then. */
static void maybe_prune(host_runtime *rt, int64_t retention_ms)
{
    int64_t now = host_mono_ms(), last = atomic_load(&rt->last_prune_ms), n = 0;
    conn_error err;

    if (now - last < PRUNE_EVERY_MS && last != 0)
        return;
    if (!atomic_compare_exchange_strong(&rt->last_prune_ms, &last, now))
        return;
    if (host_queue_prune(rt->state, host_wall_ms() - retention_ms, &n, &err) != CONN_OK)
        rt_log(rt, CONN_LOG_WARN, NULL, NULL, 0, "old queue records cannot be deleted: %s",
               err.message);
    else if (n > 0)
        rt_log(rt, CONN_LOG_INFO, NULL, NULL, 0, "deleted %lld done queue records", (long long)n);
}

static void run_flow(host_runtime *rt, rt_job *job)
{
    rt_sub *sub = job->sub;
    int64_t run_id = 0, due = 0;
    conn_error err;

    job->error[0] = '\0';
    job->status = CONN_OK;
    if (job->push) {
        maybe_prune(rt, job->done_retention_ms);
        /* No run row when nothing is due (most drains, most of the time). */
        if (host_queue_due(rt->state, sub->name, job->flow, host_wall_ms(), &due, &err) ==
                CONN_OK &&
            due == 0)
            return;
    }
    if (host_store_run_begin(rt->state, sub->name, job->flow, job->push,
                             host_module_version(sub->mod), &run_id, &err) != CONN_OK) {
        job->status = err.status;
        textf(job->error, sizeof(job->error), "the run cannot be recorded: %s", err.message);
        rt_log(rt, CONN_LOG_ERROR, sub, job->flow, 0, "%s", job->error);
        return;
    }
    atomic_store(&sub->run_id, run_id);
    if (job->push)
        run_push(rt, job, run_id);
    else
        run_pull(rt, job, run_id);
    atomic_store(&sub->run_id, 0);
}

/* ---- finishing a job (under mu) --------------------------------------- */

static rt_flow *find_flow(rt_sub *sub, const char *flow, int push)
{
    for (size_t i = 0; i < sub->nflows; i++)
        if (sub->flows[i].push == push && strcmp(sub->flows[i].flow, flow) == 0)
            return &sub->flows[i];
    return NULL;
}

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

static void finish_op(host_runtime *rt, rt_job *job, int64_t now)
{
    rt_sub *sub = job->sub;
    char msg[1300];

    if (job->op == OP_REMOVE) {
        sub->inst = NULL;
        sub->mod = NULL;
        sub->removed = 2;
        complete_waiters(rt, sub, 0, 1, 0, "the subscription was removed from the host file");
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
    complete_waiters(rt, sub, job->gen, 0, job->error[0] == '\0', msg);
}

static void *worker_main(void *arg)
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
            run_flow(rt, job);
        else
            run_op(rt, job);

        pthread_mutex_lock(&rt->mu);
        if (job->kind == JOB_RUN)
            finish_run(rt, job, host_mono_ms());
        else
            finish_op(rt, job, host_mono_ms());
        job->sub->busy = 0;
        rt->busy--;
        pthread_cond_broadcast(&rt->sched_cond);
        pthread_mutex_unlock(&rt->mu);
        free_job(job);
    }
    return NULL;
}

/* ---- the scheduler (main thread, under mu) ---------------------------- */

static rt_job *new_job(rt_sub *sub, job_kind kind)
{
    rt_job *job = calloc(1, sizeof(*job));

    if (job != NULL) {
        job->kind = kind;
        job->sub = sub;
    }
    return job;
}

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
            if (sc != NULL && find_sub(rt, sc->name) == NULL) {
                rt_sub *again = new_sub(rt, sc, now);

                if (again != NULL) {
                    again->next = *link;
                    *link = again;
                }
            }
            free_sub(sub);
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

static void wait_until(host_runtime *rt, int64_t until_ms)
{
    struct timespec ts;

    if (until_ms <= host_mono_ms())
        return;
    ts.tv_sec = (time_t)(until_ms / 1000);
    ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
    pthread_cond_timedwait(&rt->sched_cond, &rt->mu, &ts);
}

/* ---- reload (SIGHUP) -------------------------------------------------- */

static void reload(host_runtime *rt)
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
        rt_sub *sub = find_sub(rt, sc->name);

        if (sub == NULL) {
            sub = new_sub(rt, sc, now);
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
        if (want(sub, sc->plugin_version, sc->settings, sc->settings_len) > 0)
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
            complete_waiters(rt, sub, 0, 1, 0, "the subscription was removed");
        }
        rt_log(rt, CONN_LOG_INFO, sub, NULL, 0, "removed from the host file");
    }
    host_config_free(rt->cfg);
    rt->cfg = cfg;
}

/* ---- the control channel --------------------------------------------- */

static void reply_error(host_buf *reply, const char *message)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(message));
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    (void)host_buf_append(reply, t, strlen(t));
    json_object_put(o);
}

static void reply_json(host_buf *reply, json_object *o)
{
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);

    if (t != NULL)
        (void)host_buf_append(reply, t, strlen(t));
    json_object_put(o);
}

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
    sub = find_sub(rt, name);
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
        json_object *o = json_object_new_object();

        snprintf(w.message, sizeof(w.message), "%s already runs version %s", name, version);
        pthread_mutex_unlock(&rt->mu);
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "message", json_object_new_string(w.message));
        reply_json(reply, o);
        return;
    }
    switch (want(sub, version, sub->want_settings, sub->want_settings_len)) {
    case -1:
        pthread_mutex_unlock(&rt->mu);
        reply_error(reply, "out of memory");
        return;
    case 0: {
        json_object *o = json_object_new_object();

        snprintf(w.message, sizeof(w.message), "%s already runs version %s", name, version);
        pthread_mutex_unlock(&rt->mu);
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "message", json_object_new_string(w.message));
        reply_json(reply, o);
        return;
    }
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
        json_object *o = json_object_new_object();

        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "message", json_object_new_string(w.message));
        reply_json(reply, o);
    }
}

static void on_control(void *user, const char *request, size_t len, host_buf *reply)
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

static void *signal_main(void *arg)
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

/* ---- run --check ------------------------------------------------------ */

/* Problems with the subscription's flows as the plugin describes them. */
static size_t check_flows(const host_config *cfg, size_t si, host_module *mod)
{
    const host_sub_config *sc = &cfg->subs[si];
    const conn_plugin_api *api = host_module_api(mod);
    host_buf doc;
    json_object *d = NULL, *flows = NULL;
    conn_error err;
    size_t problems = 0;

    host_buf_init(&doc, 4 * 1024 * 1024);
    if (api->describe(host_buf_write, &doc, &err) != CONN_OK || doc.len == 0) {
        fprintf(stderr, "%s: /subscriptions/%zu: %s %s cannot describe itself: %s\n",
                cfg->path, si, host_module_name(mod), host_module_version(mod), err.message);
        host_buf_free(&doc);
        return 1;
    }
    d = json_tokener_parse(doc.data);
    if (!json_object_object_get_ex(d, "flows", &flows) ||
        !json_object_is_type(flows, json_type_array)) {
        fprintf(stderr, "%s: /subscriptions/%zu: %s %s describes no flows\n", cfg->path, si,
                host_module_name(mod), host_module_version(mod));
        problems++;
        goto out;
    }
    for (size_t i = 0; i < sc->nflows; i++) {
        const char *dir = sc->flows[i].push ? "from_host" : "to_host";
        int found = 0, directed = 0;

        for (size_t k = 0; k < json_object_array_length(flows); k++) {
            json_object *f = json_object_array_get_idx(flows, k), *name, *dirs;

            if (!json_object_object_get_ex(f, "name", &name) ||
                !streq(json_object_get_string(name), sc->flows[i].flow))
                continue;
            found = 1;
            if (json_object_object_get_ex(f, "directions", &dirs))
                for (size_t j = 0; j < json_object_array_length(dirs); j++)
                    directed |= streq(json_object_get_string(json_object_array_get_idx(dirs, j)),
                                      dir);
        }
        if (!found || !directed) {
            fprintf(stderr, "%s: /subscriptions/%zu/flows/%zu: %s %s has no %s flow '%s'\n",
                    cfg->path, si, i, host_module_name(mod), host_module_version(mod),
                    sc->flows[i].push ? "push" : "pull", sc->flows[i].flow);
            problems++;
        }
    }
out:
    json_object_put(d);
    host_buf_free(&doc);
    return problems;
}

/* Load each subscription's plugin, run init (no network) and compare the
 * flows with the plugin's description. Returns an exit code. */
static int check_config(const host_config *cfg, host_state *state)
{
    size_t problems = 0;

    for (size_t i = 0; i < cfg->nsubs; i++) {
        const host_sub_config *sc = &cfg->subs[i];
        host_module *mod = NULL;
        host_ctx *ctx = NULL;
        host_instance *inst = NULL;
        conn_error err;
        size_t before = problems;

        if (host_module_open(sc->plugin_path, &mod, &err) != CONN_OK ||
            host_ctx_new(sc->name, state, &ctx, &err) != CONN_OK) {
            fprintf(stderr, "%s: /subscriptions/%zu/plugin_version: %s\n", cfg->path, i,
                    err.message);
            problems++;
            goto next;
        }
        if (host_instance_new(mod, ctx, sc->settings, sc->settings_len, &inst, &err) !=
            CONN_OK) {
            for (char *line = err.message; line != NULL && *line != '\0';) {
                char *nl = strchr(line, '\n');

                if (nl != NULL)
                    *nl = '\0';
                fprintf(stderr, "%s: /subscriptions/%zu/settings: %s\n", cfg->path, i, line);
                problems++;
                line = nl != NULL ? nl + 1 : NULL;
            }
            goto next;
        }
        problems += check_flows(cfg, i, mod);
    next:
        if (problems == before)
            printf("%s: ok: %s %s, %zu flow%s\n", sc->name, host_module_name(mod),
                   host_module_version(mod), sc->nflows, sc->nflows == 1 ? "" : "s");
        host_instance_free(inst);
        host_ctx_free(ctx);
        host_module_close(mod);
    }
    if (problems > 0) {
        fprintf(stderr, "%s run: %s: %zu problem%s\n", "connector-host", cfg->path, problems,
                problems == 1 ? "" : "s");
        return HOST_EXIT_INVALID;
    }
    printf("%s: every subscription starts\n", cfg->path);
    return HOST_EXIT_OK;
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

/* Drop the jobs no worker has started (at stop). Under mu. */
static void drop_queued_jobs(host_runtime *rt)
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

static void scheduler_loop(host_runtime *rt)
{
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        int64_t now = host_mono_ms();

        if (rt->hup_requested && !rt->stopping) {
            rt->hup_requested = 0;
            reload(rt);
            continue;
        }
        if (rt->stop_requested && !rt->stopping) {
            rt->stopping = 1;
            rt->deadline_ms = now + rt->cfg->shutdown_grace_ms;
            drop_queued_jobs(rt);
            complete_waiters(rt, NULL, 0, 1, 0, "the runtime is stopping");
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
        rc = check_config(rt.cfg, rt.state);
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
    st = host_control_listen(rt.socket_path, on_control, &rt, &rt.control, &err);
    if (st != CONN_OK) {
        fprintf(stderr, "connector-host run: %s\n", err.message);
        goto out;
    }
    for (size_t i = rt.cfg->nsubs; i > 0; i--) {
        rt_sub *sub = new_sub(&rt, &rt.cfg->subs[i - 1], host_mono_ms());

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
    if (pthread_create(&rt.sig_thread, NULL, signal_main, &rt) != 0)
        goto out;
    rt.sig_started = 1;
    for (unsigned i = 0; i < rt.cfg->workers; i++) {
        if (pthread_create(&rt.threads[i], NULL, worker_main, &rt) != 0)
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
    scheduler_loop(&rt);
    rc = HOST_EXIT_OK;
out:
    if (sync_ok) {
        pthread_mutex_lock(&rt.mu);
        rt.quit_workers = 1;
        rt.stopping = 1;
        drop_queued_jobs(&rt);
        complete_waiters(&rt, NULL, 0, 1, 0, "the runtime is stopping");
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
        free_sub(sub);
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
