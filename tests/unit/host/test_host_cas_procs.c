/* test_host_cas_procs.c - state_cas is atomic across processes.
 *
 *   test_host_cas_procs [INCREMENTS_PER_PROCESS [PROCESSES]]
 *
 * Forked processes, each with its own host_state handle on one database,
 * increment a counter with read + compare-and-swap (retrying when another
 * process won the race) INCREMENTS times each. Lost updates would leave the
 * final value short of PROCESSES * INCREMENTS. The counter is stored once
 * as a plain value and once as a secret (each swap then decrypts and
 * re-seals). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_state.h"
#include "host_test_util.h"

/* One child: count to `n` swaps on `key`; returns the number of lost races. */
static int count_up(const char *db, const char *key, unsigned flags, int n, long *races)
{
    host_state *st = NULL;
    conn_error err;
    int done = 0;

    if (host_state_new(db, &st, &err) != CONN_OK) {
        fprintf(stderr, "child: %s\n", err.message);
        return -1;
    }
    *races = 0;
    while (done < n) {
        char cur[32], next[32];
        size_t len = 0;
        long value = 0;
        int swapped = 0;
        conn_status rc;

        rc = host_state_get(st, "counter-test", key, cur, sizeof(cur) - 1, &len, &err);
        if (rc == CONN_OK && len < sizeof(cur)) {
            cur[len] = '\0';
            value = strtol(cur, NULL, 10);
        } else if (rc != CONN_NOT_FOUND) {
            fprintf(stderr, "child get: %s\n", err.message);
            host_state_free(st);
            return -1;
        }
        snprintf(next, sizeof(next), "%ld", value + 1);
        rc = host_state_cas(st, "counter-test", key, rc == CONN_OK ? cur : NULL, len, next,
                            strlen(next), flags, &swapped, &err);
        if (rc != CONN_OK) {
            fprintf(stderr, "child cas: %s\n", err.message);
            host_state_free(st);
            return -1;
        }
        if (swapped)
            done++;
        else
            (*races)++;
    }
    host_state_free(st);
    return 0;
}

static int run_round(const char *db, const char *key, unsigned flags, int per_process,
                     int processes)
{
    pid_t pids[16];
    char buf[32];
    size_t len = 0;
    host_state *st = NULL;
    conn_error err;
    struct timespec t0, t1;
    long expected = (long)per_process * processes, got;
    int failed = 0, gate[2];

    /* The children wait on this pipe until all exist, then start at once
     * (first use creates the database: they race for that too). */
    if (pipe(gate) != 0) {
        perror("pipe");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < processes; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            return 1;
        }
        if (pids[i] == 0) {
            long races = 0;
            char c;
            int rc;

            close(gate[1]);
            while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                ;
            rc = count_up(db, key, flags, per_process, &races);

            if (rc == 0)
                printf("  process %d: %d swaps, %ld lost races\n", i, per_process, races);
            fflush(stdout);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    close(gate[0]);
    close(gate[1]); /* end of file for every child: go */
    for (int i = 0; i < processes; i++) {
        int status = 0;

        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (failed) {
        fprintf(stderr, "FAIL: a counting process failed\n");
        return 1;
    }
    if (host_state_new(db, &st, &err) != CONN_OK ||
        host_state_get(st, "counter-test", key, buf, sizeof(buf) - 1, &len, &err) != CONN_OK) {
        fprintf(stderr, "FAIL: %s\n", err.message);
        host_state_free(st);
        return 1;
    }
    host_state_free(st);
    buf[len] = '\0';
    got = strtol(buf, NULL, 10);
    printf("%s counter (%s): %ld after %d processes x %d swaps in %.2f s\n", key,
           flags ? "secret" : "plain", got, processes, per_process,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (got != expected) {
        fprintf(stderr, "FAIL: expected exactly %ld\n", expected);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int per_process = argc > 1 ? atoi(argv[1]) : 500;
    int processes = argc > 2 ? atoi(argv[2]) : 2;
    char *dir = host_test_tmpdir("cas");
    char db[PATH_MAX];
    int rc;

    if (dir == NULL || per_process <= 0 || processes <= 0 || processes > 16)
        return 2;
    snprintf(db, sizeof(db), "%s/state.db", dir);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = run_round(db, "plain", 0, per_process, processes);
    if (rc == 0)
        rc = run_round(db, "sealed", CONN_STATE_SECRET, per_process, processes);
    host_test_rmtree(dir);
    free(dir);
    return rc;
}
