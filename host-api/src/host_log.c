/* host_log.c - the runtime's log. */
#include "host_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The longest line written; longer messages are cut. */
#define LOG_LINE_MAX 8192

struct host_log {
    pthread_mutex_t lock;
    int fd;      /* 2 for stderr, else our file */
    int own_fd;  /* close fd when freed */
    int json;    /* JSON lines, else text */
    atomic_int level; /* read without the lock: changed by a reopen */
};

static const char *level_word(conn_log_level level)
{
    switch (level) {
    case CONN_LOG_ERROR:
        return "error";
    case CONN_LOG_WARN:
        return "warn";
    case CONN_LOG_INFO:
        return "info";
    case CONN_LOG_DEBUG:
        return "debug";
    }
    return "info";
}

/* Open the destination; *fd is 2 for stderr. */
static conn_status open_dest(const char *file, int *fd, conn_error *err)
{
    if (file == NULL) {
        *fd = STDERR_FILENO;
        return CONN_OK;
    }
    *fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (*fd < 0)
        return host_err_set(err, CONN_INVALID, "the log file %s cannot be opened: %s", file,
                            strerror(errno));
    return CONN_OK;
}

static int pick_json(int fd, host_log_format format)
{
    if (format == HOST_LOG_JSON)
        return 1;
    if (format == HOST_LOG_TEXT)
        return 0;
    return !isatty(fd);
}

conn_status host_log_new(const char *file, host_log_format format, conn_log_level level,
                         host_log **out, conn_error *err)
{
    host_log *log;
    conn_status st;

    *out = NULL;
    log = calloc(1, sizeof(*log));
    if (log == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    if (pthread_mutex_init(&log->lock, NULL) != 0) {
        free(log);
        return host_err_set(err, CONN_INTERNAL, "cannot make a mutex for the log");
    }
    st = open_dest(file, &log->fd, err);
    if (st != CONN_OK) {
        pthread_mutex_destroy(&log->lock);
        free(log);
        return st;
    }
    log->own_fd = file != NULL;
    log->json = pick_json(log->fd, format);
    atomic_init(&log->level, (int)level);
    *out = log;
    return CONN_OK;
}

void host_log_free(host_log *log)
{
    if (log == NULL)
        return;
    if (log->own_fd)
        close(log->fd);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

conn_status host_log_reopen(host_log *log, const char *file, host_log_format format,
                            conn_log_level level, conn_error *err)
{
    int fd, old_fd, old_own;
    conn_status st = open_dest(file, &fd, err);

    if (st != CONN_OK)
        return st;
    pthread_mutex_lock(&log->lock);
    old_fd = log->fd;
    old_own = log->own_fd;
    log->fd = fd;
    log->own_fd = file != NULL;
    log->json = pick_json(fd, format);
    atomic_store(&log->level, (int)level);
    pthread_mutex_unlock(&log->lock);
    if (old_own)
        close(old_fd);
    return CONN_OK;
}

int host_log_enabled(const host_log *log, conn_log_level level)
{
    return log != NULL && (int)level <= atomic_load(&log->level);
}

size_t host_json_escape(char *buf, size_t cap, size_t at, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    if (cap == 0)
        return 0;
    for (; s != NULL && *s != '\0' && at + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            buf[at++] = '\\';
            buf[at++] = (char)c;
        } else if (c == '\n') {
            buf[at++] = '\\';
            buf[at++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(buf + at, "\\u00", 4);
            buf[at + 4] = hex[c >> 4];
            buf[at + 5] = hex[c & 15];
            at += 6;
        } else {
            buf[at++] = (char)c;
        }
    }
    buf[at < cap ? at : cap - 1] = '\0';
    return at;
}

/* Append text with control characters shown as '?'. */
static size_t text_append(char *buf, size_t cap, size_t at, const char *s)
{
    for (; s != NULL && *s != '\0' && at + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        buf[at++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[at] = '\0';
    return at;
}

static size_t put(char *buf, size_t cap, size_t at, const char *fmt, ...) HOST_PRINTF(4, 5);

static size_t put(char *buf, size_t cap, size_t at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (at >= cap)
        return at;
    va_start(ap, fmt);
    n = vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
    if (n < 0)
        return at;
    return at + (size_t)n < cap ? at + (size_t)n : cap - 1;
}

void host_log_write(host_log *log, conn_log_level level, const char *sub, const char *flow,
                    int64_t run_id, const char *message)
{
    char line[LOG_LINE_MAX], stamp[64];
    struct timespec ts;
    struct tm tm;
    size_t n = 0;

    if (!host_log_enabled(log, level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&log->lock);
    if (log->json) {
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        n = put(line, sizeof(line), n, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", stamp,
                ts.tv_nsec / 1000000, level_word(level));
        if (sub != NULL) {
            n = put(line, sizeof(line), n, ",\"subscription\":\"");
            n = host_json_escape(line, sizeof(line) - 64, n, sub);
            n = put(line, sizeof(line), n, "\"");
        }
        if (flow != NULL) {
            n = put(line, sizeof(line), n, ",\"flow\":\"");
            n = host_json_escape(line, sizeof(line) - 64, n, flow);
            n = put(line, sizeof(line), n, "\"");
        }
        if (run_id > 0)
            n = put(line, sizeof(line), n, ",\"run\":%lld", (long long)run_id);
        n = put(line, sizeof(line), n, ",\"message\":\"");
        n = host_json_escape(line, sizeof(line) - 4, n, message);
        n = put(line, sizeof(line), n, "\"}\n");
    } else {
        strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
        n = put(line, sizeof(line), n, "%s.%03ld %-5s ", stamp, ts.tv_nsec / 1000000,
                level_word(level));
        if (sub != NULL) {
            n = put(line, sizeof(line), n, "[");
            n = text_append(line, sizeof(line) - 64, n, sub);
            n = put(line, sizeof(line), n, "] ");
        }
        if (flow != NULL) {
            n = text_append(line, sizeof(line) - 64, n, flow);
            n = put(line, sizeof(line), n, run_id > 0 ? " " : ": ");
        }
        if (run_id > 0)
            n = put(line, sizeof(line), n, "#%lld: ", (long long)run_id);
        n = text_append(line, sizeof(line) - 2, n, message);
        n = put(line, sizeof(line), n, "\n");
    }
    /* One write per line: lines from several threads or processes sharing
     * the file (O_APPEND) never interleave. */
    for (size_t off = 0; off < n;) {
        ssize_t w = write(log->fd, line + off, n - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    pthread_mutex_unlock(&log->lock);
}

void host_log_printf(host_log *log, conn_log_level level, const char *sub, const char *flow,
                     int64_t run_id, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;

    if (!host_log_enabled(log, level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    host_log_write(log, level, sub, flow, run_id, msg);
}
