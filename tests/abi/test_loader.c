/* test_loader.c - the loader's checks against small test plugins built to
 * break the contract in one way each (tests/abi/plugins/), and its module
 * bookkeeping with the real plugin.
 *
 *   test_loader TEST_PLUGIN_DIR REAL_PLUGIN SETTINGS */
#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi_test_util.h"
#include "host_buf.h"
#include "host_ctx.h"
#include "host_file.h"
#include "host_instance.h"
#include "host_loader.h"

static const char *test_dir;
static const char *real_plugin;
static const char *settings_path;
static char *settings;
static size_t settings_len;

/* test_dir/name, in a static buffer (tests run one at a time). */
static const char *plugin_path(const char *name)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", test_dir, name);
    return path;
}

/* Opening `name` must fail with `status` and exactly `message`, and leave
 * nothing mapped. */
static void expect_refusal(const char *name, conn_status status, const char *message)
{
    host_module *mod = (host_module *)&mod; /* must be reset to NULL */
    char real[PATH_MAX];
    conn_error err;

    assert_non_null(realpath(plugin_path(name), real));
    assert_int_equal(host_module_open(plugin_path(name), &mod, &err), status);
    assert_null(mod);
    assert_int_equal(err.status, status);
    assert_string_equal(err.message, message);
    assert_int_equal(abi_file_is_mapped(real), 0);
}

static void test_wrong_major_refused(void **state)
{
    (void)state;
    expect_refusal("acumatica-9.0.0.so", CONN_UNSUPPORTED,
                   "acumatica-9.0.0.so speaks ABI 2; this host speaks ABI 1");
}

static void test_v2_symbol_only_refused(void **state)
{
    (void)state;
    expect_refusal("acumatica-8.0.0.so", CONN_UNSUPPORTED,
                   "acumatica-8.0.0.so speaks ABI 2; this host speaks ABI 1");
}

static void test_missing_mandatory_slot_refused(void **state)
{
    (void)state;
    expect_refusal("acumatica-1.0.0.so", CONN_INVALID,
                   "acumatica-1.0.0.so lacks the mandatory function 'pull'");
}

static void test_short_table_refused(void **state)
{
    char want[256];

    (void)state;
    /* 8 header bytes and the nine 1.0 slots on LP64. */
    assert_int_equal(HOST_PLUGIN_API_MIN_SIZE, 8 + 9 * sizeof(void *));
    snprintf(want, sizeof(want),
             "acumatica-0.0.1.so has a function table of 40 bytes; ABI 1.0 needs at least %zu",
             (size_t)HOST_PLUGIN_API_MIN_SIZE);
    expect_refusal("acumatica-0.0.1.so", CONN_INVALID, want);
}

static void test_not_a_plugin_refused(void **state)
{
    (void)state;
    expect_refusal("acumatica-0.0.0.so", CONN_INVALID,
                   "acumatica-0.0.0.so is not a connector plugin: it does not export "
                   "conn_plugin_entry_v1");
}

/* Every symbol is bound at load time (RTLD_NOW): a plugin that needs a
 * function nothing defines is refused by the loader, not at its first call. */
static void test_unresolved_symbol_refused_at_load(void **state)
{
    host_module *mod = NULL;
    char real[PATH_MAX];
    conn_error err;

    (void)state;
    assert_non_null(realpath(plugin_path("acumatica-0.0.2.so"), real));
    assert_int_equal(host_module_open(plugin_path("acumatica-0.0.2.so"), &mod, &err),
                     CONN_INVALID);
    assert_null(mod);
    assert_non_null(strstr(err.message, "acumatica-0.0.2.so cannot be loaded: "));
    assert_non_null(strstr(err.message, "undefined symbol: host_test_no_such_function"));
    assert_int_equal(abi_file_is_mapped(real), 0);
}

static void test_missing_file(void **state)
{
    host_module *mod = NULL;
    conn_error err;

    (void)state;
    assert_int_equal(host_module_open(plugin_path("acumatica-404.so"), &mod, &err),
                     CONN_NOT_FOUND);
    assert_null(mod);
    assert_non_null(strstr(err.message, "no such plugin file"));
}

/* Run init, describe and shutdown on a module through the host's path. */
static void exercise(host_module *mod, const char *version)
{
    static const char any_object[] = "{}"; /* the test plugins accept anything */
    host_instance *inst = NULL;
    host_ctx *ctx = NULL;
    host_buf out;
    conn_error err;

    host_buf_init(&out, 1u << 20);
    assert_int_equal(host_module_api(mod)->describe(host_buf_write, &out, &err), CONN_OK);
    assert_non_null(strstr(out.data, version));
    host_buf_free(&out);
    assert_int_equal(host_ctx_new("loader-test", NULL, &ctx, &err), CONN_OK);
    assert_int_equal(host_instance_new(mod, ctx, any_object, sizeof(any_object) - 1, &inst, &err),
                     CONN_OK);
    host_instance_free(inst);
    host_ctx_free(ctx);
}

static void test_old_minor_accepted_newer_slots_absent(void **state)
{
    host_module *mod = NULL, *again = NULL;
    const conn_plugin_api *api;
    char real[PATH_MAX];
    conn_error err;

    (void)state;
    assert_non_null(realpath(plugin_path("acumatica-0.9.0.so"), real));
    assert_int_equal(host_module_open(plugin_path("acumatica-0.9.0.so"), &mod, &err), CONN_OK);
    api = host_module_api(mod);
    assert_int_equal(api->struct_size, offsetof(conn_plugin_api, can_unload));
    assert_int_equal(host_module_abi_minor(mod), 0);
    /* The bytes past struct_size are non-NULL trap pointers: these must
     * still read as absent. */
    assert_false(CONN_PLUGIN_HAS(api, can_unload));
    assert_false(CONN_PLUGIN_HAS(api, mappings));
    exercise(mod, "0.9.0");
    /* No can_unload: kept mapped after the last close (the trap would
     * abort the process if the loader called it). */
    host_module_close(mod);
    assert_int_equal(abi_file_is_mapped(real), 1);
    assert_true(host_loader_is_mapped("acumatica", "0.9.0"));
    /* ... and it is still the module of (acumatica, 0.9.0). */
    assert_int_equal(host_module_open(plugin_path("acumatica-0.9.0.so"), &again, &err), CONN_OK);
    assert_ptr_equal(again, mod);
    host_module_close(again);
}

static void test_new_minor_accepted_and_unloaded(void **state)
{
    host_module *mod = NULL;
    char real[PATH_MAX];
    conn_error err;

    (void)state;
    assert_non_null(realpath(plugin_path("acumatica-1.1.0.so"), real));
    assert_int_equal(host_module_open(plugin_path("acumatica-1.1.0.so"), &mod, &err), CONN_OK);
    assert_int_equal(host_module_abi_minor(mod), CONN_ABI_MINOR + 1);
    assert_true(CONN_PLUGIN_HAS(host_module_api(mod), can_unload));
    exercise(mod, "1.1.0");
    host_module_close(mod);
    assert_int_equal(abi_file_is_mapped(real), 0);
    assert_false(host_loader_is_mapped("acumatica", "1.1.0"));
}

static void test_can_unload_zero_keeps_module(void **state)
{
    host_module *mod = NULL;
    char real[PATH_MAX];
    conn_error err;

    (void)state;
    assert_non_null(realpath(plugin_path("acumatica-0.8.0.so"), real));
    assert_int_equal(host_module_open(plugin_path("acumatica-0.8.0.so"), &mod, &err), CONN_OK);
    exercise(mod, "0.8.0");
    host_module_close(mod);
    assert_int_equal(abi_file_is_mapped(real), 1);
}

/* An instance holds its module: closing the opener first does not unload. */
static void test_instance_holds_module(void **state)
{
    host_module *mod = NULL;
    host_instance *inst = NULL;
    host_ctx *ctx = NULL;
    char real[PATH_MAX];
    conn_error err;
    conn_status st;

    (void)state;
    assert_non_null(realpath(real_plugin, real));
    assert_int_equal(host_module_open(real_plugin, &mod, &err), CONN_OK);
    assert_int_equal(host_ctx_new("loader-test", NULL, &ctx, &err), CONN_OK);
    host_ctx_set_log(ctx, NULL, NULL, CONN_LOG_ERROR);
    st = host_instance_new(mod, ctx, settings, settings_len, &inst, &err);
    if (st != CONN_OK)
        fail_msg("init with %s: %s", settings_path, err.message);
    host_module_close(mod);
    assert_int_equal(abi_file_is_mapped(real), 1);
    host_instance_free(inst);
    assert_int_equal(abi_file_is_mapped(real), 0);
    host_ctx_free(ctx);
}

static int progress_calls;

static void count_progress(conn_host_ctx *ctx, const char *flow, const char *json, size_t len)
{
    (void)ctx;
    (void)flow;
    (void)json;
    (void)len;
    progress_calls++;
}

/* Init the real plugin with `table`, run one pull (it fails: no host state
 * and nothing listens at the settings' URL) and return how many times the
 * plugin called progress. */
static int progress_calls_of_a_pull(host_module *mod, const conn_host_api *table)
{
    static const char req[] = "{\"flow\":\"locations\"}";
    const conn_plugin_api *api = host_module_api(mod);
    conn_instance *handle = NULL;
    host_ctx *ctx = NULL;
    conn_error err;

    assert_int_equal(host_ctx_new("loader-test", NULL, &ctx, &err), CONN_OK);
    host_ctx_set_log(ctx, NULL, NULL, CONN_LOG_ERROR);
    if (api->init(table, ctx, settings, settings_len, &handle, &err) != CONN_OK)
        fail_msg("init with %s: %s", settings_path, err.message);
    progress_calls = 0;
    assert_int_not_equal(api->pull(handle, req, sizeof(req) - 1, &err), CONN_OK);
    api->shutdown(handle);
    host_ctx_free(ctx);
    return progress_calls;
}

/* The real plugin uses a 1.1 host service (progress) when the host's table
 * has it, and leaves it alone when the table is a 1.0 one - even when the
 * bytes behind struct_size hold a function pointer. */
static void test_real_plugin_with_older_host_table(void **state)
{
    host_module *mod = NULL;
    conn_host_api table = *host_services();
    conn_error err;

    (void)state;
    assert_int_equal(host_module_open(real_plugin, &mod, &err), CONN_OK);
    table.progress = count_progress;
    assert_true(progress_calls_of_a_pull(mod, &table) >= 1);
    table.abi_minor = 0;
    table.struct_size = (uint32_t)offsetof(conn_host_api, progress);
    assert_int_equal(progress_calls_of_a_pull(mod, &table), 0);
    host_module_close(mod);
}

/* A failed init leaves no reference behind: the module unloads at close. */
static void test_failed_init_holds_nothing(void **state)
{
    static const char bad[] = "{\"api_url\": ";
    host_module *mod = NULL;
    host_instance *inst = NULL;
    host_ctx *ctx = NULL;
    char real[PATH_MAX];
    conn_error err;

    (void)state;
    assert_non_null(realpath(real_plugin, real));
    assert_int_equal(host_module_open(real_plugin, &mod, &err), CONN_OK);
    assert_int_equal(host_ctx_new("loader-test", NULL, &ctx, &err), CONN_OK);
    host_ctx_set_log(ctx, NULL, NULL, CONN_LOG_ERROR);
    assert_int_equal(host_instance_new(mod, ctx, bad, sizeof(bad) - 1, &inst, &err),
                     CONN_INVALID);
    assert_null(inst);
    assert_non_null(strstr(err.message, "line 1"));
    host_module_close(mod);
    assert_int_equal(abi_file_is_mapped(real), 0);
    host_ctx_free(ctx);
}

/* The same (name, version) from another file is the same module; the
 * second file does not stay mapped. */
static void test_same_version_other_file(void **state)
{
    char dir[] = "/tmp/abi-loader-XXXXXX", copy[PATH_MAX], cmd[2 * PATH_MAX];
    host_module *a = NULL, *b = NULL;
    conn_error err;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(copy, sizeof(copy), "%s/acumatica-copy.so", dir);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", real_plugin, copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(host_module_open(real_plugin, &a, &err), CONN_OK);
    assert_int_equal(host_module_open(copy, &b, &err), CONN_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(abi_file_is_mapped(copy), 0);
    host_module_close(b);
    host_module_close(a);
    assert_non_null(realpath(real_plugin, copy));
    assert_int_equal(abi_file_is_mapped(copy), 0);
    snprintf(copy, sizeof(copy), "%s/acumatica-copy.so", dir);
    unlink(copy);
    rmdir(dir);
}

struct churn {
    const char *path;
    int rounds;
};

static void *churn_main(void *arg)
{
    struct churn *c = arg;

    for (int i = 0; i < c->rounds; i++) {
        host_module *mod = NULL;
        conn_error err;

        CHECK_MSG(host_module_open(c->path, &mod, &err) == CONN_OK, "%s", err.message);
        CHECK(host_module_api(mod)->name() != NULL);
        host_module_close(mod);
    }
    return NULL;
}

/* Opens and closes from several threads at once: libltdl is only ever
 * entered under the loader mutex, so nothing breaks. */
static void test_concurrent_open_close(void **state)
{
    struct churn c[3] = {{NULL, 40}, {NULL, 40}, {NULL, 40}};
    pthread_t t[3];

    (void)state;
    c[0].path = real_plugin;
    c[1].path = real_plugin;
    c[2].path = plugin_path("acumatica-1.1.0.so");
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_false(host_loader_is_mapped("acumatica", "1.1.0"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_major_refused),
        cmocka_unit_test(test_v2_symbol_only_refused),
        cmocka_unit_test(test_missing_mandatory_slot_refused),
        cmocka_unit_test(test_short_table_refused),
        cmocka_unit_test(test_not_a_plugin_refused),
        cmocka_unit_test(test_unresolved_symbol_refused_at_load),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_old_minor_accepted_newer_slots_absent),
        cmocka_unit_test(test_new_minor_accepted_and_unloaded),
        cmocka_unit_test(test_can_unload_zero_keeps_module),
        cmocka_unit_test(test_instance_holds_module),
        cmocka_unit_test(test_real_plugin_with_older_host_table),
        cmocka_unit_test(test_failed_init_holds_nothing),
        cmocka_unit_test(test_same_version_other_file),
        cmocka_unit_test(test_concurrent_open_close),
    };
    conn_error err;
    int failed;

    if (argc != 4) {
        fprintf(stderr, "usage: %s TEST_PLUGIN_DIR REAL_PLUGIN SETTINGS\n", argv[0]);
        return 2;
    }
    test_dir = argv[1];
    real_plugin = argv[2];
    settings_path = argv[3];
    if (host_read_file(settings_path, 1u << 20, &settings, &settings_len, &err) != CONN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    free(settings);
    return failed;
}
