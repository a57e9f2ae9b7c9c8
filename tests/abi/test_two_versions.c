/* test_two_versions.c - two versions of the plugin, built from the same
 * source with different version strings, loaded side by side in one process.
 *
 *   test_two_versions PLUGIN_A VERSION_A PLUGIN_B VERSION_B SETTINGS ROUNDS
 *
 * Phase 1: both modules loaded; one thread per version runs describe /
 * version / init / shutdown loops at the same time, each checking that it
 * talks to its own version. Phase 2: thread B keeps looping while the main
 * thread unloads version A (it must really leave the address space: the
 * plugin's can_unload says yes) and loads it again, several times. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi_test_util.h"
#include "host_buf.h"
#include "host_ctx.h"
#include "host_file.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_state.h"

struct worker {
    host_module *mod;
    const char *version;
    const char *subscription;
    const char *settings;
    size_t settings_len;
    host_state *state;
    int rounds;             /* phase 1: fixed number of rounds */
    atomic_int *keep_going; /* phase 2: loop until cleared (NULL: phase 1) */
    pthread_barrier_t *start;
    int done;
};

/* One round: describe, version, init, a state write, shutdown. */
static void one_round(struct worker *w, host_ctx *ctx)
{
    const conn_plugin_api *api = host_module_api(w->mod);
    host_instance *inst = NULL;
    host_buf out;
    conn_error err;
    char needle[64];
    conn_status st;

    CHECK(strcmp(api->version(), w->version) == 0);
    CHECK(strcmp(api->name(), "acumatica") == 0);
    CHECK(strstr(api->build_info(), w->version) != NULL);

    host_buf_init(&out, 1u << 22);
    st = api->describe(host_buf_write, &out, &err);
    CHECK_MSG(st == CONN_OK, "describe: %s", err.message);
    snprintf(needle, sizeof(needle), "\"%s\"", w->version);
    CHECK_MSG(out.data != NULL && strstr(out.data, needle) != NULL,
              "describe of %s does not name its version", w->version);
    host_buf_free(&out);

    /* The services table, shared by both threads' contexts and one state. */
    st = host_services()->state_put(ctx, "last-version", w->version, strlen(w->version), 0,
                                    &err);
    CHECK_MSG(st == CONN_OK, "state_put: %s", err.message);

    st = host_instance_new(w->mod, ctx, w->settings, w->settings_len, &inst, &err);
    CHECK_MSG(st == CONN_OK, "init of %s: %s", w->version, err.message);
    CHECK(host_instance_module(inst) == w->mod);
    host_instance_free(inst);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    host_ctx *ctx = NULL;
    conn_error err;

    CHECK_MSG(host_ctx_new(w->subscription, w->state, &ctx, &err) == CONN_OK, "%s",
              err.message);
    host_ctx_set_log(ctx, NULL, NULL, CONN_LOG_ERROR);
    pthread_barrier_wait(w->start);
    if (w->keep_going == NULL) {
        for (int i = 0; i < w->rounds; i++)
            one_round(w, ctx);
        w->done = w->rounds;
    } else {
        while (atomic_load(w->keep_going))
            one_round(w, ctx), w->done++;
    }
    host_ctx_free(ctx);
    return NULL;
}

static host_module *open_checked(const char *path, const char *version)
{
    host_module *mod = NULL;
    conn_error err;

    CHECK_MSG(host_module_open(path, &mod, &err) == CONN_OK, "%s", err.message);
    CHECK(strcmp(host_module_version(mod), version) == 0);
    CHECK(strcmp(host_module_name(mod), "acumatica") == 0);
    CHECK(abi_file_is_mapped(host_module_path(mod)) == 1);
    return mod;
}

int main(int argc, char **argv)
{
    const char *path_a, *ver_a, *path_b, *ver_b;
    host_module *a, *b, *a_again;
    host_state *state = NULL;
    char *settings = NULL, *real_a = NULL;
    char state_dir[] = "/tmp/abi-two-versions-XXXXXX";
    char state_path[256];
    size_t settings_len = 0;
    pthread_t ta, tb;
    pthread_barrier_t start;
    atomic_int keep_going;
    struct worker wa, wb;
    conn_error err;
    int rounds, reloads;

    if (argc != 7) {
        fprintf(stderr, "usage: %s PLUGIN_A VERSION_A PLUGIN_B VERSION_B SETTINGS ROUNDS\n",
                argv[0]);
        return 2;
    }
    path_a = argv[1];
    ver_a = argv[2];
    path_b = argv[3];
    ver_b = argv[4];
    rounds = atoi(argv[6]);
    CHECK(rounds > 0);
    reloads = rounds < 10 ? rounds : 10;
    CHECK(strcmp(ver_a, ver_b) != 0);
    CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    CHECK_MSG(host_read_file(argv[5], 1u << 20, &settings, &settings_len, &err) == CONN_OK,
              "%s", err.message);
    CHECK(mkdtemp(state_dir) != NULL);
    snprintf(state_path, sizeof(state_path), "%s/state.db", state_dir);
    CHECK(host_state_new(state_path, &state, &err) == CONN_OK);

    /* Phase 1: side by side. */
    a = open_checked(path_a, ver_a);
    b = open_checked(path_b, ver_b);
    CHECK(a != b);
    CHECK(host_module_api(a) != host_module_api(b));
    CHECK(host_module_api(a)->describe != host_module_api(b)->describe);
    CHECK(host_loader_is_mapped("acumatica", ver_a) && host_loader_is_mapped("acumatica", ver_b));
    /* The same (name, version) opened again is the same module. */
    a_again = open_checked(path_a, ver_a);
    CHECK(a_again == a);
    host_module_close(a_again);

    CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
    wa = (struct worker){a, ver_a, "subscription-a", settings, settings_len, state, rounds,
                         NULL, &start, 0};
    wb = (struct worker){b, ver_b, "subscription-b", settings, settings_len, state, rounds,
                         NULL, &start, 0};
    CHECK(pthread_create(&ta, NULL, worker_main, &wa) == 0);
    CHECK(pthread_create(&tb, NULL, worker_main, &wb) == 0);
    CHECK(pthread_join(ta, NULL) == 0);
    CHECK(pthread_join(tb, NULL) == 0);
    CHECK(wa.done == rounds && wb.done == rounds);
    CHECK(pthread_barrier_destroy(&start) == 0);

    /* Phase 2: B runs on while A is unloaded and loaded again. */
    atomic_init(&keep_going, 1);
    CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
    wb.keep_going = &keep_going;
    wb.done = 0;
    CHECK(pthread_create(&tb, NULL, worker_main, &wb) == 0);
    pthread_barrier_wait(&start);
    real_a = strdup(host_module_path(a));
    CHECK(real_a != NULL);
    for (int i = 0; i < reloads; i++) {
        host_module_close(a);
        CHECK_MSG(abi_file_is_mapped(real_a) == 0, "%s is still mapped after the last close",
                  real_a);
        CHECK(!host_loader_is_mapped("acumatica", ver_a));
        a = open_checked(path_a, ver_a);
        wa.mod = a;
        wa.keep_going = NULL;
        wa.rounds = 1;
        {
            host_ctx *ctx = NULL;

            CHECK(host_ctx_new("subscription-a", state, &ctx, &err) == CONN_OK);
            host_ctx_set_log(ctx, NULL, NULL, CONN_LOG_ERROR);
            one_round(&wa, ctx);
            host_ctx_free(ctx);
        }
    }
    atomic_store(&keep_going, 0);
    CHECK(pthread_join(tb, NULL) == 0);
    CHECK(pthread_barrier_destroy(&start) == 0);
    CHECK(wb.done > 0);
    CHECK(abi_file_is_mapped(host_module_path(b)) == 1);

    host_module_close(a);
    CHECK(abi_file_is_mapped(real_a) == 0);
    host_module_close(b);
    CHECK(host_loader_mapped_count() == 0);
    printf("two versions: %s and %s, %d concurrent rounds each, %d reloads of %s while %s ran "
           "%d more rounds\n",
           ver_a, ver_b, rounds, reloads, ver_a, ver_b, wb.done);

    {
        char buf[64];
        size_t len = 0;
        host_ctx *ctx = NULL;

        CHECK(host_ctx_new("subscription-b", state, &ctx, &err) == CONN_OK);
        CHECK(host_services()->state_get(ctx, "last-version", buf, sizeof(buf), &len, &err) ==
              CONN_OK);
        CHECK(len == strlen(ver_b) && memcmp(buf, ver_b, len) == 0);
        host_ctx_free(ctx);
    }
    host_state_free(state);
    for (size_t i = 0; i < 3; i++) {
        static const char *const suffix[] = {"", "-wal", "-shm"};
        char p[300];

        snprintf(p, sizeof(p), "%s%s", state_path, suffix[i]);
        unlink(p);
    }
    rmdir(state_dir);
    free(real_a);
    free(settings);
    curl_global_cleanup();
    return 0;
}
