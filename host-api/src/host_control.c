/* host_control.c - the runtime's control channel on a Unix socket. */
#define _GNU_SOURCE 1 /* struct ucred, SO_PEERCRED */
#include "host_control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "host_error.h"

/* How long a client may take to send its request. */
#define REQUEST_TIMEOUT_MS 5000

struct host_control {
    char *path;
    int fd;            /* listening socket */
    int wake[2];       /* self-pipe: stop */
    host_control_fn fn;
    void *user;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    unsigned active;   /* connections being served */
};

typedef struct conn_job {
    host_control *c;
    int fd;
} conn_job;

char *host_control_default_path(const char *state_path)
{
    size_t n = strlen(state_path);
    char *p = malloc(n + 6);

    if (p == NULL)
        return NULL;
    if (n > 3 && strcmp(state_path + n - 3, ".db") == 0) {
        memcpy(p, state_path, n - 3);
        memcpy(p + n - 3, ".sock", 6);
    } else {
        memcpy(p, state_path, n);
        memcpy(p + n, ".sock", 6);
    }
    return p;
}

static conn_status make_addr(const char *path, struct sockaddr_un *sa, conn_error *err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return host_err_set(err, CONN_INVALID,
                            "the control socket path %s is longer than %zu bytes; set "
                            "control_socket in the host file to a shorter path",
                            path, sizeof(sa->sun_path) - 1);
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return CONN_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until a newline or EOF, at most HOST_CONTROL_MSG_MAX bytes, within
 * timeout_ms. Returns 0 with the text in buf (newline removed), -1 on a
 * timeout, an error or an oversized message. */
static int read_line(int fd, host_buf *buf, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    char chunk[4096];

    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - mono_ms();
        ssize_t n;
        char *nl;

        if (left <= 0)
            return -1;
        if (poll(&p, 1, (int)left) <= 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return buf->len > 0 ? 0 : -1;
        nl = memchr(chunk, '\n', (size_t)n);
        if (host_buf_append(buf, chunk, nl != NULL ? (size_t)(nl - chunk) : (size_t)n) != 0)
            return -1;
        if (nl != NULL)
            return 0;
    }
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void *serve_one(void *arg)
{
    conn_job *job = arg;
    host_control *c = job->c;
    host_buf req, reply;
    struct ucred cred;
    socklen_t len = sizeof(cred);

    host_buf_init(&req, HOST_CONTROL_MSG_MAX);
    host_buf_init(&reply, HOST_CONTROL_MSG_MAX);
    if (getsockopt(job->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        static const char no[] = "{\"ok\":false,\"error\":\"not allowed\"}\n";

        (void)write_all(job->fd, no, sizeof(no) - 1);
        goto out;
    }
    if (read_line(job->fd, &req, REQUEST_TIMEOUT_MS) != 0)
        goto out;
    c->fn(c->user, req.data != NULL ? req.data : "", req.len, &reply);
    if (reply.len == 0)
        (void)host_buf_append(&reply, "{\"ok\":false,\"error\":\"no answer\"}", 32);
    if (write_all(job->fd, reply.data, reply.len) == 0)
        (void)write_all(job->fd, "\n", 1);
out:
    close(job->fd);
    host_buf_free(&req);
    host_buf_free(&reply);
    free(job);
    pthread_mutex_lock(&c->mu);
    c->active--;
    pthread_cond_broadcast(&c->idle);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void *accept_loop(void *arg)
{
    host_control *c = arg;

    for (;;) {
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->wake[0], POLLIN, 0}};
        conn_job *job;
        pthread_t t;
        pthread_attr_t attr;
        int fd;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents != 0)
            break;
        fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        job = malloc(sizeof(*job));
        if (job == NULL) {
            close(fd);
            continue;
        }
        job->c = c;
        job->fd = fd;
        pthread_mutex_lock(&c->mu);
        c->active++;
        pthread_mutex_unlock(&c->mu);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve_one, job) != 0) {
            close(fd);
            free(job);
            pthread_mutex_lock(&c->mu);
            c->active--;
            pthread_mutex_unlock(&c->mu);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

conn_status host_control_listen(const char *path, host_control_fn fn, void *user,
                                host_control **out, conn_error *err)
{
    struct sockaddr_un sa;
    host_control *c = NULL;
    conn_status st;
    mode_t old_mask;
    int probe;

    *out = NULL;
    st = make_addr(path, &sa, err);
    if (st != CONN_OK)
        return st;
    /* A socket file already there: live runtime, or left by a dead one. */
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(probe);
        return host_err_set(err, CONN_INVALID,
                            "another connector-host run answers on %s; stop it first", path);
    }
    if (probe >= 0)
        close(probe);
    (void)unlink(path);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory");
    c->fd = -1;
    c->wake[0] = c->wake[1] = -1;
    c->fn = fn;
    c->user = user;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->idle, NULL);
    c->path = strdup(path);
    if (c->path == NULL) {
        st = host_err_set(err, CONN_NOMEM, "out of memory");
        goto fail;
    }
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || pipe2(c->wake, O_CLOEXEC) != 0) {
        st = host_err_set(err, CONN_INTERNAL, "the control socket cannot be made: %s",
                          strerror(errno));
        goto fail;
    }
    /* Private from the first moment: bind under a umask of 077. The umask
     * is process-wide; the runtime binds before it starts other threads. */
    old_mask = umask(077);
    if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        umask(old_mask);
        st = host_err_set(err, CONN_INTERNAL, "the control socket %s cannot be made: %s", path,
                          strerror(errno));
        goto fail;
    }
    umask(old_mask);
    if (chmod(path, 0600) != 0 || listen(c->fd, 16) != 0) {
        st = host_err_set(err, CONN_INTERNAL, "the control socket %s cannot be used: %s", path,
                          strerror(errno));
        (void)unlink(path);
        goto fail;
    }
    if (pthread_create(&c->thread, NULL, accept_loop, c) != 0) {
        st = host_err_set(err, CONN_INTERNAL, "the control thread cannot start");
        (void)unlink(path);
        goto fail;
    }
    *out = c;
    return CONN_OK;
fail:
    if (c->fd >= 0)
        close(c->fd);
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->idle);
    free(c->path);
    free(c);
    return st;
}

void host_control_stop(host_control *c)
{
    if (c == NULL)
        return;
    (void)unlink(c->path);
    if (write(c->wake[1], "x", 1) != 1)
        (void)0;
    pthread_join(c->thread, NULL);
    close(c->fd);
    /* Requests being served finish (the runtime makes a waiting swap
     * answer when it stops). */
    pthread_mutex_lock(&c->mu);
    while (c->active > 0)
        pthread_cond_wait(&c->idle, &c->mu);
    pthread_mutex_unlock(&c->mu);
    close(c->wake[0]);
    close(c->wake[1]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->idle);
    free(c->path);
    free(c);
}

conn_status host_control_request(const char *path, const char *request, int timeout_ms,
                                 host_buf *reply, conn_error *err)
{
    struct sockaddr_un sa;
    conn_status st;
    int fd;

    st = make_addr(path, &sa, err);
    if (st != CONN_OK)
        return st;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return host_err_set(err, CONN_INTERNAL, "a socket cannot be made: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;

        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return host_err_set(err, CONN_NOT_FOUND,
                                "no connector-host run is listening on %s (is it running, with "
                                "this state file?)",
                                path);
        return host_err_set(err, CONN_INTERNAL, "%s cannot be reached: %s", path, strerror(e));
    }
    if (write_all(fd, request, strlen(request)) != 0 || write_all(fd, "\n", 1) != 0) {
        close(fd);
        return host_err_set(err, CONN_INTERNAL, "the request cannot be sent to %s", path);
    }
    if (read_line(fd, reply, timeout_ms) != 0) {
        close(fd);
        return host_err_set(err, CONN_RETRY,
                            "no answer from the runtime on %s within %d s", path,
                            timeout_ms / 1000);
    }
    close(fd);
    return CONN_OK;
}
