/* host_file.c - reading a whole (small) file. */
#include "host_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_error.h"

conn_status host_read_file(const char *path, size_t max, char **out, size_t *len,
                           conn_error *err)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    conn_status st = CONN_OK;
    int fd;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return host_err_set(err, CONN_NOT_FOUND, "%s: no such file", path);
        return host_err_set(err, CONN_INTERNAL, "%s cannot be opened: %s", path,
                            strerror(errno));
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = host_err_set(err, CONN_INVALID, "%s is not a regular file", path);
        goto out;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        st = host_err_set(err, CONN_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    /* Read up to max + 1 bytes: one more than allowed proves "too large"
     * even when the size changed after fstat. */
    for (;;) {
        ssize_t n = read(fd, buf + got, max + 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = host_err_set(err, CONN_INTERNAL, "%s cannot be read: %s", path,
                              strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > max) {
            st = host_err_set(err, CONN_INVALID, "%s is larger than %zu bytes", path, max);
            goto out;
        }
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return st;
}
