/* test_host_hostfile.c - the host file of `connector-host run`: a good
 * file parsed with defaults and relative paths, every problem of a bad
 * file named by file and JSON pointer, secret references resolved (and
 * never shown), durations, plugin file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_buf.h"
#include "host_hostfile.h"
#include "host_test_util.h"

typedef struct fixture {
    char *dir;
    char plugins[PATH_MAX];
} fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    fx->dir = host_test_tmpdir("hostfile");
    assert_non_null(fx->dir);
    snprintf(fx->plugins, sizeof(fx->plugins), "%s/plugins", fx->dir);
    assert_int_equal(mkdir(fx->plugins, 0700), 0);
    /* The validator only checks that the plugin file exists. */
    write_file(fx->plugins, "acumatica-1.0.0.so", "not really a plugin");
    write_file(fx->plugins, "acumatica-2.0.0.so", "not really a plugin");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    host_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Load dir/name; *problems receives the text (caller frees). */
static conn_status load(fixture *fx, const char *name, unsigned flags, host_config **cfg,
                        char **problems)
{
    char path[PATH_MAX];
    host_buf buf;
    conn_error err;
    conn_status st;

    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    host_buf_init(&buf, 1024 * 1024);
    st = host_config_load(path, NULL, flags, cfg, &buf, &err);
    *problems = buf.data != NULL ? strdup(buf.data) : strdup("");
    host_buf_free(&buf);
    return st;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void test_good_file(void **state)
{
    fixture *fx = *state;
    host_config *cfg = NULL;
    char *problems, expect[PATH_MAX * 2];
    const host_sub_config *a, *b;

    write_file(fx->dir, "globex.settings.json",
               "{\"api_url\": \"https://g.example.com\", \"password\": {\"file\": \"pw.txt\"}}\n");
    write_file(fx->dir, "pw.txt", "file-secret-42\n");
    setenv("HOSTFILE_TEST_SECRET", "env-secret-17", 1);
    write_file(fx->dir, "host.json",
               "{\n"
               "  \"plugin_dir\": \"plugins\",\n"
               "  \"state\": \"state/state.db\",\n"
               "  \"workers\": 3,\n"
               "  \"log\": {\"format\": \"json\", \"level\": \"debug\", \"file\": \"run.log\"},\n"
               "  \"retry\": {\"unit_seconds\": 0.5, \"max_attempts\": 4},\n"
               "  \"shutdown_grace\": \"10s\",\n"
               "  \"subscriptions\": [\n"
               "    {\"name\": \"acme\", \"plugin_version\": \"1.0.0\",\n"
               "     \"settings\": {\"api_url\": \"https://a.example.com\",\n"
               "                   \"client_secret\": {\"env\": \"HOSTFILE_TEST_SECRET\"},\n"
               "                   \"nested\": [{\"x\": {\"env\": \"HOSTFILE_TEST_SECRET\"}}]},\n"
               "     \"flows\": [{\"flow\": \"customers\", \"direction\": \"pull\", \"every\": \"5m\"},\n"
               "               {\"flow\": \"sales_orders\", \"direction\": \"push\", \"every\": 30,\n"
               "                \"batch_size\": 25},\n"
               "               {\"flow\": \"customers\", \"direction\": \"push\", \"every\": \"500ms\"}]},\n"
               "    {\"name\": \"globex\", \"plugin_version\": \"2.0.0\",\n"
               "     \"settings_file\": \"globex.settings.json\",\n"
               "     \"flows\": [{\"flow\": \"locations\", \"direction\": \"pull\", \"every\": \"1h\"}]}\n"
               "  ]\n"
               "}\n");
    assert_int_equal(load(fx, "host.json", 0, &cfg, &problems), CONN_OK);
    assert_string_equal(problems, "");
    free(problems);
    assert_int_equal(cfg->workers, 3);
    assert_int_equal(cfg->retry_unit_ms, 500);
    assert_int_equal(cfg->max_attempts, 4);
    assert_int_equal(cfg->shutdown_grace_ms, 10000);
    assert_int_equal(cfg->push_batch_size, 100);
    assert_int_equal(cfg->log_format, HOST_LOG_JSON);
    assert_int_equal(cfg->log_level, CONN_LOG_DEBUG);
    /* Relative paths are the host file's directory's. */
    snprintf(expect, sizeof(expect), "%s/state/state.db", fx->dir);
    assert_string_equal(cfg->state_path, expect);
    snprintf(expect, sizeof(expect), "%s/run.log", fx->dir);
    assert_string_equal(cfg->log_file, expect);
    assert_string_equal(cfg->plugin_dir, fx->plugins);
    assert_int_equal(cfg->nsubs, 2);
    a = host_config_find(cfg, "acme");
    b = host_config_find(cfg, "globex");
    assert_non_null(a);
    assert_non_null(b);
    assert_null(host_config_find(cfg, "nobody"));
    snprintf(expect, sizeof(expect), "%s/acumatica-1.0.0.so", fx->plugins);
    assert_string_equal(a->plugin_path, expect);
    assert_int_equal(a->nflows, 3);
    assert_string_equal(a->flows[0].flow, "customers");
    assert_int_equal(a->flows[0].push, 0);
    assert_int_equal(a->flows[0].every_ms, 300000);
    assert_int_equal(a->flows[1].push, 1);
    assert_int_equal(a->flows[1].every_ms, 30000);
    assert_int_equal(a->flows[1].batch_size, 25);
    assert_int_equal(a->flows[2].every_ms, 500);
    /* References resolved, at any depth. */
    assert_non_null(strstr(a->settings, "\"client_secret\":\"env-secret-17\""));
    assert_non_null(strstr(a->settings, "\"x\":\"env-secret-17\""));
    assert_null(strstr(a->settings, "\"env\""));
    /* settings_file, and a {"file"} reference relative to the host file,
     * with its trailing newline removed. */
    assert_non_null(strstr(b->settings, "\"password\":\"file-secret-42\""));
    assert_non_null(strstr(b->settings, "g.example.com"));
    host_config_free(cfg);

    /* Without secrets (status, queue): references stay as written. */
    unsetenv("HOSTFILE_TEST_SECRET");
    assert_int_equal(load(fx, "host.json", HOST_CONFIG_NO_SECRETS, &cfg, &problems), CONN_OK);
    free(problems);
    assert_non_null(strstr(host_config_find(cfg, "acme")->settings, "HOSTFILE_TEST_SECRET"));
    host_config_free(cfg);
}

static void test_every_problem_named(void **state)
{
    fixture *fx = *state;
    host_config *cfg = (host_config *)0x1;
    char *problems, line[1024];

    write_file(fx->dir, "secret.txt", "do-not-show-this-secret\n");
    setenv("HOSTFILE_SHOWN_SECRET", "neither-this-one", 1);
    write_file(fx->dir, "bad.json",
               "{\n"
               "  \"plugin_dir\": \"plugins\",\n"
               "  \"workerz\": 2,\n"
               "  \"workers\": 0,\n"
               "  \"log\": {\"format\": \"xml\"},\n"
               "  \"subscriptions\": [\n"
               "    {\"name\": \"acme\", \"plugin_version\": \"9.9.9\",\n"
               "     \"settings\": {\"a\": {\"env\": \"HOSTFILE_NOT_SET_ANYWHERE\"},\n"
               "                   \"b\": {\"file\": \"secret.txt\"},\n"
               "                   \"c\": {\"env\": \"HOSTFILE_SHOWN_SECRET\"}},\n"
               "     \"flows\": [{\"flow\": \"customers\", \"direction\": \"sideways\", \"every\": \"5x\"},\n"
               "               {\"flow\": \"items\", \"direction\": \"pull\", \"every\": \"1m\",\n"
               "                \"batch_size\": 5},\n"
               "               {\"flow\": \"Bad Name\", \"direction\": \"pull\", \"every\": \"1m\"}]},\n"
               "    {\"name\": \"acme\", \"plugin_version\": \"../evil\", \"settings\": {},\n"
               "     \"settings_file\": \"x.json\", \"flows\": []},\n"
               "    {\"name\": \"beta\", \"plugin_version\": \"1.0.0\", \"flows\": [\n"
               "      {\"flow\": \"items\", \"direction\": \"pull\", \"every\": \"1m\"},\n"
               "      {\"flow\": \"items\", \"direction\": \"pull\", \"every\": \"2m\"}]},\n"
               "    \"not an object\"\n"
               "  ]\n"
               "}\n");
    assert_int_equal(load(fx, "bad.json", 0, &cfg, &problems), CONN_INVALID);
    assert_null(cfg);
#define EXPECT(ptr, words)                                                                 \
    do {                                                                                   \
        snprintf(line, sizeof(line), "%s/bad.json: %s: ", fx->dir, ptr);                   \
        assert_non_null(strstr(problems, line));                                           \
        assert_non_null(strstr(strstr(problems, line), words));                            \
    } while (0)
    EXPECT("/workerz", "unknown key");
    EXPECT("/workers", "out of range");
    EXPECT("/log/format", "\"xml\" is not a log format");
    EXPECT("/subscriptions/0/plugin_version", "no plugin file acumatica-9.9.9.so");
    EXPECT("/subscriptions/0/settings/a", "HOSTFILE_NOT_SET_ANYWHERE is not set");
    EXPECT("/subscriptions/0/flows/0/direction", "\"sideways\" is not a direction");
    EXPECT("/subscriptions/0/flows/0/every", "\"5x\" is not a duration");
    EXPECT("/subscriptions/0/flows/1/batch_size", "only push flows");
    EXPECT("/subscriptions/0/flows/2/flow", "is not a flow name");
    EXPECT("/subscriptions/1/name", "defined twice");
    EXPECT("/subscriptions/1/plugin_version", "is not a version");
    EXPECT("/subscriptions/1/settings_file", "not both");
    EXPECT("/subscriptions/1/flows", "non-empty array");
    EXPECT("/subscriptions/2", "neither settings nor settings_file");
    EXPECT("/subscriptions/2/flows/1", "listed twice");
    EXPECT("/subscriptions/3", "must be an object");
#undef EXPECT
    assert_int_equal(count_lines(problems), 16);
    /* Resolved secrets never appear, even next to other problems. */
    assert_null(strstr(problems, "do-not-show-this-secret"));
    assert_null(strstr(problems, "neither-this-one"));
    free(problems);
    unsetenv("HOSTFILE_SHOWN_SECRET");
}

static void test_syntax_error(void **state)
{
    fixture *fx = *state;
    host_config *cfg = NULL;
    char *problems;

    write_file(fx->dir, "syntax.json", "{\n  \"workers\": 2,\n  \"subscriptions\": [,]\n}\n");
    assert_int_equal(load(fx, "syntax.json", 0, &cfg, &problems), CONN_INVALID);
    assert_non_null(strstr(problems, "not valid JSON at line 3, column"));
    assert_int_equal(count_lines(problems), 1);
    free(problems);

    write_file(fx->dir, "array.json", "[1, 2]");
    assert_int_equal(load(fx, "array.json", 0, &cfg, &problems), CONN_INVALID);
    assert_non_null(strstr(problems, "must be one JSON object, not an array"));
    free(problems);

    write_file(fx->dir, "trailing.json", "{\"subscriptions\": []} x");
    assert_int_equal(load(fx, "trailing.json", 0, &cfg, &problems), CONN_INVALID);
    assert_non_null(strstr(problems, "not valid JSON at line 1"));
    free(problems);

    /* A settings file's own syntax error names that file. */
    write_file(fx->dir, "broken.settings.json", "{\"a\": }");
    write_file(fx->dir, "uses-broken.json",
               "{\"plugin_dir\": \"plugins\", \"subscriptions\": [{\"name\": \"x\", "
               "\"plugin_version\": \"1.0.0\", \"settings_file\": \"broken.settings.json\", "
               "\"flows\": [{\"flow\": \"a\", \"direction\": \"pull\", \"every\": \"1s\"}]}]}");
    assert_int_equal(load(fx, "uses-broken.json", 0, &cfg, &problems), CONN_INVALID);
    assert_non_null(strstr(problems, "broken.settings.json: (top): not valid JSON at line 1"));
    free(problems);

    /* A missing host file is not a list of problems. */
    assert_int_equal(load(fx, "absent.json", 0, &cfg, &problems), CONN_NOT_FOUND);
    free(problems);
}

static void test_durations(void **state)
{
    int64_t ms = 0;

    (void)state;
    assert_int_equal(host_parse_duration("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(host_parse_duration("30s", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(host_parse_duration("5m", &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(host_parse_duration("1h", &ms), 0);
    assert_int_equal(ms, 3600000);
    assert_int_equal(host_parse_duration("7d", &ms), 0);
    assert_int_equal(ms, 7 * 86400000LL);
    assert_int_equal(host_parse_duration("90", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(host_parse_duration("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(host_parse_duration("0s", &ms), -1);
    assert_int_equal(host_parse_duration("-5s", &ms), -1);
    assert_int_equal(host_parse_duration("5x", &ms), -1);
    assert_int_equal(host_parse_duration("s", &ms), -1);
    assert_int_equal(host_parse_duration("", &ms), -1);
    assert_int_equal(host_parse_duration("400d", &ms), -1);
    assert_int_equal(host_parse_duration("0.1ms", &ms), -1);
    assert_int_equal(host_parse_duration(NULL, &ms), -1);
}

static void test_plugin_file_names(void **state)
{
    char *p;

    (void)state;
    p = host_plugin_file("/usr/lib/x/plugins", "0.2.0");
    assert_string_equal(p, "/usr/lib/x/plugins/acumatica-0.2.0.so");
    free(p);
    assert_null(host_plugin_file("/d", "../../etc/evil"));
    assert_null(host_plugin_file("/d", ""));
    assert_null(host_plugin_file("/d", ".hidden"));
    assert_true(host_version_ok("1.2.3-rc.1+build_7"));
    assert_false(host_version_ok("1.2/3"));
    assert_true(host_name_ok("acme corp"));
    assert_false(host_name_ok(""));
    assert_false(host_name_ok("a\nb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_problem_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_plugin_file_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
