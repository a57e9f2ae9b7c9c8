/* host_test_util.h - temporary directories and file helpers for the host's
 * unit tests (header-only). */
#ifndef HOST_TEST_UTIL_H
#define HOST_TEST_UTIL_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh private directory under $TMPDIR (or /tmp); *out is malloc'd. */
static inline char *host_test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(PATH_MAX);

    if (dir == NULL)
        return NULL;
    snprintf(dir, PATH_MAX, "%s/host-%s-XXXXXX",
             base != NULL && base[0] == '/' ? base : "/tmp", tag);
    if (mkdtemp(dir) == NULL) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* rm -r of a directory tree made by a test (no symlinks followed). */
static inline void host_test_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    struct stat sb;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);

        if (n < 0 || (size_t)n >= sizeof(path))
            continue;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            host_test_rmtree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Nonzero when `needle` (n bytes) occurs in the file at path. */
static inline int host_test_file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;
    int found = 0;

    if (f == NULL)
        return 0;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size);
        if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size)
            for (size_t i = 0; !found && n > 0 && i + n <= (size_t)size; i++)
                found = memcmp(buf + i, needle, n) == 0;
    }
    free(buf);
    fclose(f);
    return found;
}

#endif
