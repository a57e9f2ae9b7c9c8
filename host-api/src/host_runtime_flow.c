/* host_runtime_flow.c - one run of a flow on a worker: a pull (records to
 * the records table and, with output_dir, a JSON-lines file, committed
 * with the cursor at each checkpoint) or one drain of a push flow's queue
 * (claim, push, settle every record in one transaction), each with its
 * run summary row; and the pruning of old done queue records. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_ctx.h"
#include "host_exit.h"
#include "host_pull.h"
#include "host_push.h"
#include "host_runtime_int.h"
#include "host_store.h"

/* How often done queue records older than done_retention are deleted. */
#define PRUNE_EVERY_MS 3600000

/* The pull engine's own notes (a repaired file, discarded records, a
 * broken contract), logged with the run. */
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

/* One pull of job->flow into the records table (and output_dir), then its
 * run summary; the outcome goes to job. */
static void run_pull(host_runtime *rt, rt_job *job, int64_t run_id)
{
    rt_sub *sub = job->sub;
    host_pull_opts o;
    host_pull_stats stats;
    host_run_end end;
    conn_error err, e2;
    char counts[HOST_PULL_COUNTS_MAX], *path = NULL, *subdir = NULL, *real = NULL;
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
    host_pull_counts(&stats, counts, sizeof(counts));
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

/* One drain: claim up to job->batch due records, push them and settle
 * each; the run summary row is finished when records were claimed or the
 * drain failed. The outcome goes to job. */
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
    char counts[512 + HOST_COUNTERS_MAX];
    const char *traffic = "{}";
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
    traffic = host_ctx_counters(host_instance_ctx(sub->inst));
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
                 "\"retry\":%zu,\"plugin\":%s}",
                 by[CONN_OUT_CREATED], by[CONN_OUT_UPDATED], by[CONN_OUT_DUPLICATE],
                 by[CONN_OUT_SKIPPED], by[CONN_OUT_REJECTED], by[CONN_OUT_FAILED],
                 by[CONN_OUT_CANCELLED], qc.done, qc.dead, qc.retry, traffic);
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

void rt_run_flow(host_runtime *rt, rt_job *job)
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
