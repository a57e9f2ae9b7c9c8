/* abi_test_util.h - small helpers shared by the ABI tests (header-only). */
#ifndef ABI_TEST_UTIL_H
#define ABI_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A check that works on any thread (cmocka's assertions do not): print
 * where and why, then end the process with failure. */
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                           \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* Nonzero when /proc/self/maps shows a mapping of the file at path (an
 * absolute, resolved path): the real proof that a module is (un)loaded. */
static inline int abi_file_is_mapped(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    size_t n = strlen(path);
    int found = 0;

    if (f == NULL)
        return -1;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        char *p = strchr(line, '/');
        size_t l;

        if (p == NULL)
            continue;
        l = strcspn(p, "\n");
        found = l == n && strncmp(p, path, n) == 0;
    }
    fclose(f);
    return found;
}

#endif
