/* host_pull.c - one pull call with the checkpoint promise kept. */
#include "host_pull.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_ctx.h"
#include "host_error.h"
#include "host_log.h"
#include "host_segment.h"
#include "host_store.h"

typedef struct pull_ctx {
    const host_pull_opts *o;
    host_state *st;
    host_instance *inst;
    host_segment *seg;
    host_pull_stats *stats;
    int64_t t0;
    int fd;               /* of o->out, or -1 */
    int is_file;          /* o->out is a regular file we track */
    off_t committed_size; /* its size at the last commit */
    conn_error host_err;  /* the first thing the host refused */
    int host_failed;
    char *cursor;         /* the committed cursor */
    size_t cursor_len;
} pull_ctx;

int64_t host_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void host_pull_stats_clear(host_pull_stats *stats)
{
    if (stats == NULL)
        return;
    free(stats->cursor);
    memset(stats, 0, sizeof(*stats));
}

void host_pull_counts(const host_pull_stats *stats, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "{\"emitted\":%llu,\"committed\":%llu,\"discarded\":%llu,\"checkpoints\":%llu,"
             "\"plugin\":%s}",
             (unsigned long long)stats->emitted, (unsigned long long)stats->committed,
             (unsigned long long)stats->discarded, (unsigned long long)stats->checkpoints,
             stats->counters[0] != '\0' ? stats->counters : "{}");
}

static void note(pull_ctx *p, conn_log_level level, const char *fmt, ...) HOST_PRINTF(3, 4);

static void note(pull_ctx *p, conn_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (p->o->note == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->o->note(p->o->user, level, msg);
}

/* Remember the first refusal; the pull's status becomes this. */
static conn_status refuse(pull_ctx *p, conn_status st, const char *fmt, ...) HOST_PRINTF(3, 4);

static conn_status refuse(pull_ctx *p, conn_status st, const char *fmt, ...)
{
    char msg[sizeof(p->host_err.message)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!p->host_failed) {
        host_err_set(&p->host_err, st, "%s", msg);
        p->host_failed = 1;
    }
    note(p, CONN_LOG_ERROR, "%s", msg);
    return st;
}

static void progress(pull_ctx *p)
{
    host_pull_progress pr;

    if (p->o->progress == NULL)
        return;
    pr.emitted = p->stats->emitted;
    pr.committed = p->stats->committed;
    pr.checkpoints = p->stats->checkpoints;
    pr.elapsed_ms = host_mono_ms() - p->t0;
    pr.counters = host_ctx_counters(host_instance_ctx(p->inst));
    p->o->progress(p->o->user, &pr);
}

static void on_progress(void *user, const char *flow, const char *counters)
{
    (void)flow;
    (void)counters;
    progress(user);
}

/* Text a person can read in a message: control characters as '?', cut. */
static const char *shown(const char *s, char *buf, size_t cap)
{
    size_t i = 0;

    for (; s != NULL && s[i] != '\0' && i + 1 < cap; i++)
        buf[i] = ((unsigned char)s[i] < 0x20) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static int name_ok(const char *s, size_t max)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return 0;
    return 1;
}

static conn_status on_emit(void *user, const char *flow, const char *record_type,
                           const char *id, const char *json, size_t len)
{
    pull_ctx *p = user;
    const char *plugin = host_module_name(host_instance_module(p->inst));
    json_object *doc = NULL;
    conn_error err;
    conn_status st;
    size_t i = 0;
    char b1[80], b2[80];

    if (p->host_failed)
        return p->host_err.status;
    if (flow == NULL || strcmp(flow, p->o->flow) != 0)
        return refuse(p, CONN_INTERNAL, "%s emitted a record of flow '%s' during a pull of '%s'",
                      plugin, shown(flow, b1, sizeof(b1)), p->o->flow);
    if (!name_ok(id, HOST_ID_MAX))
        return refuse(p, CONN_INTERNAL,
                      "%s emitted a record of flow '%s' without a usable id (1 to %d "
                      "characters, no control characters)",
                      plugin, p->o->flow, HOST_ID_MAX);
    if (!name_ok(record_type, HOST_RECORD_TYPE_MAX))
        return refuse(p, CONN_INTERNAL, "%s emitted record '%s' without a usable record type",
                      plugin, shown(id, b2, sizeof(b2)));
    if (json == NULL || len > HOST_RECORD_MAX)
        return refuse(p, CONN_INTERNAL, "%s emitted record '%s' of %zu bytes; the limit is %u",
                      plugin, shown(id, b2, sizeof(b2)), len, HOST_RECORD_MAX);
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    if (i >= len || json[i] != '{' || memchr(json, '\0', len) != NULL)
        return refuse(p, CONN_INTERNAL, "%s emitted record '%s', which is not a JSON object",
                      plugin, shown(id, b2, sizeof(b2)));
    /* One record per line: a record written over several lines (legal
     * JSON) is parsed and written again on one. */
    if (memchr(json, '\n', len) != NULL || memchr(json, '\r', len) != NULL) {
        json_tokener *tok = json_tokener_new();

        if (tok != NULL && len <= INT32_MAX)
            doc = json_tokener_parse_ex(tok, json, (int)len);
        json_tokener_free(tok);
        if (!json_object_is_type(doc, json_type_object)) {
            json_object_put(doc);
            return refuse(p, CONN_INTERNAL, "%s emitted record '%s', which is not valid JSON",
                          plugin, shown(id, b2, sizeof(b2)));
        }
        json = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
        len = json != NULL ? strlen(json) : 0;
    }
    st = host_segment_add(p->seg, flow, record_type, id, json != NULL ? json : "{}", len, &err);
    json_object_put(doc);
    if (st != CONN_OK)
        return refuse(p, st, "%s", err.message);
    p->stats->emitted++;
    progress(p);
    return CONN_OK;
}

typedef struct writer {
    FILE *out;
    uint64_t bytes;
    int failed;
} writer;

static int write_line(void *user, const host_record *rec)
{
    writer *w = user;
    char head[3 * 1024 + 8 * HOST_ID_MAX];
    size_t n = 0;

    memcpy(head + n, "{\"flow\":\"", 9);
    n += 9;
    n = host_json_escape(head, sizeof(head) - 32, n, rec->flow);
    memcpy(head + n, "\",\"record_type\":\"", 17);
    n += 17;
    n = host_json_escape(head, sizeof(head) - 32, n, rec->record_type);
    memcpy(head + n, "\",\"id\":\"", 8);
    n += 8;
    n = host_json_escape(head, sizeof(head) - 32, n, rec->id);
    memcpy(head + n, "\",\"record\":", 11);
    n += 11;
    if (fwrite(head, 1, n, w->out) != n || fwrite(rec->json, 1, rec->json_len, w->out) !=
                                               rec->json_len ||
        fwrite("}\n", 1, 2, w->out) != 2) {
        w->failed = errno != 0 ? errno : EIO;
        return 1;
    }
    w->bytes += n + rec->json_len + 2;
    return 0;
}

/* Make the segment durable with (set_cursor) the cursor: output first,
 * then one database transaction. On failure nothing is committed and the
 * output file is cut back. */
static conn_status commit(pull_ctx *p, int set_cursor, const char *cursor, size_t len)
{
    const host_pull_opts *o = p->o;
    host_pull_commit c;
    writer w = {o->out, 0, 0};
    conn_error err;
    conn_status st;
    off_t before = p->committed_size;

    if (o->out != NULL && host_segment_count(p->seg) > 0) {
        errno = 0;
        if (host_segment_each(p->seg, write_line, &w) != 0 && w.failed == 0)
            w.failed = EIO;
        if (w.failed == 0 && fflush(o->out) != 0)
            w.failed = errno != 0 ? errno : EIO;
        if (w.failed == 0 && p->is_file && fdatasync(p->fd) != 0)
            w.failed = errno;
        if (w.failed != 0) {
            if (p->is_file && ftruncate(p->fd, before) != 0)
                note(p, CONN_LOG_ERROR, "%s cannot be cut back to %lld bytes: %s",
                     o->out_path, (long long)before, strerror(errno));
            return refuse(p, CONN_INTERNAL, "the records cannot be written to %s: %s",
                          o->out_path != NULL ? o->out_path : "the output",
                          strerror(w.failed));
        }
    }
    memset(&c, 0, sizeof(c));
    c.sub = o->sub;
    c.flow = o->flow;
    c.seg = p->seg;
    c.to_table = o->to_table;
    c.run_id = o->run_id;
    c.set_cursor = set_cursor;
    c.cursor = cursor;
    c.cursor_len = len;
    c.set_out = o->out != NULL;
    c.out_path = p->is_file ? o->out_path : NULL;
    c.out_size = p->is_file ? (int64_t)(before + (off_t)w.bytes) : -1;
    st = host_store_commit_pull(p->st, &c, &err);
    if (st != CONN_OK) {
        if (p->is_file && w.bytes > 0 && ftruncate(p->fd, before) != 0)
            note(p, CONN_LOG_ERROR, "%s cannot be cut back to %lld bytes: %s", o->out_path,
                 (long long)before, strerror(errno));
        return refuse(p, st, "the checkpoint cannot be committed: %s", err.message);
    }
    if (p->is_file)
        p->committed_size = before + (off_t)w.bytes;
    p->stats->committed += host_segment_count(p->seg);
    host_segment_reset(p->seg);
    if (set_cursor) {
        char *copy = malloc(len + 1);

        if (copy == NULL)
            return refuse(p, CONN_NOMEM, "out of memory");
        memcpy(copy, cursor, len);
        copy[len] = '\0';
        free(p->cursor);
        p->cursor = copy;
        p->cursor_len = len;
    }
    return CONN_OK;
}

static conn_status on_checkpoint(void *user, const char *flow, const char *cursor, size_t len)
{
    pull_ctx *p = user;
    const char *plugin = host_module_name(host_instance_module(p->inst));
    char b1[80];
    conn_status st;

    if (p->host_failed)
        return p->host_err.status;
    if (flow == NULL || strcmp(flow, p->o->flow) != 0)
        return refuse(p, CONN_INTERNAL, "%s checkpointed flow '%s' during a pull of '%s'",
                      plugin, shown(flow, b1, sizeof(b1)), p->o->flow);
    if (cursor == NULL || len > HOST_STATE_VALUE_MAX)
        return refuse(p, CONN_INTERNAL, "%s checkpointed a cursor of %zu bytes; the limit is %u",
                      plugin, len, HOST_STATE_VALUE_MAX);
    st = commit(p, 1, cursor, len);
    if (st == CONN_OK) {
        p->stats->checkpoints++;
        progress(p);
    }
    return st;
}

/* Cut an uncommitted tail off the output file (a crash between writing
 * records and committing their checkpoint) and note the file's size. */
static conn_status prepare_output(pull_ctx *p, const host_cursor *cur, conn_error *err)
{
    const host_pull_opts *o = p->o;
    struct stat sb;

    p->fd = -1;
    if (o->out == NULL)
        return CONN_OK;
    p->fd = fileno(o->out);
    if (o->out_path == NULL || fstat(p->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return CONN_OK;
    p->is_file = 1;
    if (cur->out_path != NULL && strcmp(cur->out_path, o->out_path) == 0 && cur->out_size >= 0) {
        if (sb.st_size > (off_t)cur->out_size) {
            if (fflush(o->out) != 0 || ftruncate(p->fd, (off_t)cur->out_size) != 0)
                return host_err_set(err, CONN_INTERNAL,
                                    "%s holds %lld bytes written after its last committed "
                                    "checkpoint and cannot be cut back: %s",
                                    o->out_path, (long long)(sb.st_size - cur->out_size),
                                    strerror(errno));
            p->stats->repaired_bytes = (uint64_t)(sb.st_size - cur->out_size);
            note(p, CONN_LOG_WARN,
                 "%s: cut %lld bytes written after the last committed checkpoint (a run "
                 "that did not finish); those records are read again now",
                 o->out_path, (long long)(sb.st_size - cur->out_size));
            sb.st_size = (off_t)cur->out_size;
        } else if (sb.st_size < (off_t)cur->out_size) {
            note(p, CONN_LOG_WARN,
                 "%s is shorter than at its last commit (%lld < %lld bytes): was it "
                 "truncated or rotated? New records are appended",
                 o->out_path, (long long)sb.st_size, (long long)cur->out_size);
        }
    }
    p->committed_size = sb.st_size;
    return CONN_OK;
}

/* {"flow":..,"cursor":..|null,"full":..[,"ids":[..]]} */
static conn_status build_request(const host_pull_opts *o, const char *cursor, size_t len,
                                 char **out, size_t *out_len, conn_error *err)
{
    json_object *req = json_object_new_object(), *ids = NULL, *v;
    const char *text;
    conn_status st = CONN_OK;
    int rc = 0;

    *out = NULL;
    if (req == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    v = json_object_new_string(o->flow);
    rc |= v == NULL || json_object_object_add(req, "flow", v) != 0;
    v = cursor != NULL ? json_object_new_string_len(cursor, (int)len) : NULL;
    rc |= (cursor != NULL && v == NULL) || json_object_object_add(req, "cursor", v) != 0;
    v = json_object_new_boolean(o->full != 0);
    rc |= v == NULL || json_object_object_add(req, "full", v) != 0;
    if (o->ids_json != NULL) {
        ids = json_tokener_parse(o->ids_json);
        if (!json_object_is_type(ids, json_type_array)) {
            json_object_put(ids);
            st = host_err_set(err, CONN_INVALID, "the ids are not a JSON array");
            goto out;
        }
        rc |= json_object_object_add(req, "ids", ids) != 0;
    }
    if (rc != 0) {
        st = host_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    *out = text != NULL ? strdup(text) : NULL;
    if (*out == NULL) {
        st = host_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    *out_len = strlen(*out);
out:
    json_object_put(req);
    return st;
}

conn_status host_pull_run(host_instance *inst, host_state *st, const host_pull_opts *o,
                          host_pull_stats *stats, conn_error *err)
{
    const conn_plugin_api *api = host_instance_api(inst);
    host_ctx *ctx = host_instance_ctx(inst);
    host_cursor cur;
    pull_ctx p;
    host_sinks sinks;
    char *req = NULL;
    size_t req_len = 0;
    conn_status rc;

    memset(stats, 0, sizeof(*stats));
    memcpy(stats->counters, "{}", 3);
    memset(&p, 0, sizeof(p));
    memset(&cur, 0, sizeof(cur));
    host_err_clear(err);
    host_err_clear(&p.host_err);
    p.o = o;
    p.st = st;
    p.inst = inst;
    p.stats = stats;
    p.t0 = host_mono_ms();
    p.fd = -1;
    rc = host_segment_new(o->mem_max, &p.seg, err);
    if (rc != CONN_OK)
        return rc;
    rc = host_store_cursor_get(st, o->sub, o->flow, &cur, err);
    if (rc != CONN_OK)
        goto out;
    p.cursor = cur.cursor;
    p.cursor_len = cur.len;
    cur.cursor = NULL;
    rc = prepare_output(&p, &cur, err);
    if (rc != CONN_OK)
        goto out;
    rc = build_request(o, p.cursor, p.cursor_len, &req, &req_len, err);
    if (rc != CONN_OK)
        goto out;

    sinks.emit = on_emit;
    sinks.checkpoint = on_checkpoint;
    sinks.report = NULL;
    sinks.progress = on_progress;
    sinks.user = &p;
    host_ctx_clear_counters(ctx);
    host_ctx_set_sinks(ctx, &sinks);
    rc = api->pull(host_instance_handle(inst), req, req_len, err);
    host_ctx_set_sinks(ctx, NULL);
    if (err != NULL) {
        err->message[sizeof(err->message) - 1] = '\0';
        err->detail_type[sizeof(err->detail_type) - 1] = '\0';
        if (rc != CONN_OK && err->status == CONN_OK)
            err->status = rc;
        if (rc != CONN_OK && err->message[0] == '\0')
            host_err_set(err, rc, "%s %s: pull failed (%d) without a message",
                         host_module_name(host_instance_module(inst)),
                         host_module_version(host_instance_module(inst)), (int)rc);
    }
    /* The plugin ran to the end: records after its last checkpoint are
     * delivered too (without moving the cursor). */
    if (rc == CONN_OK && !p.host_failed && host_segment_count(p.seg) > 0)
        (void)commit(&p, 0, NULL, 0);
    if (p.host_failed) {
        if (err != NULL)
            *err = p.host_err;
        rc = p.host_err.status;
    }
    if (host_segment_count(p.seg) > 0) {
        stats->discarded = host_segment_count(p.seg);
        note(&p, CONN_LOG_INFO,
             "%llu record(s) emitted after the last checkpoint were discarded; the next pull "
             "reads them again from the last committed cursor",
             (unsigned long long)stats->discarded);
        host_segment_reset(p.seg);
    }
out:
    snprintf(stats->counters, sizeof(stats->counters), "%s", host_ctx_counters(ctx));
    stats->cursor = p.cursor;
    stats->cursor_len = p.cursor_len;
    stats->elapsed_ms = host_mono_ms() - p.t0;
    host_cursor_clear(&cur);
    host_segment_free(p.seg);
    free(req);
    return rc;
}
