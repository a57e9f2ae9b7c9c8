/* test_host_pull.c - the pull and push engines (host_pull.h, host_push.h)
 * through the real loader and a synthetic plugin: records become durable
 * only together with the checkpoint after them, so a failure, a cancel or
 * a crash between checkpoints loses nothing and repeats nothing; a torn
 * output file is cut back; a plugin breaking the contract is caught.
 *
 * Usage: test_host_pull <synth plugin .so> */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "host_ctx.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_pull.h"
#include "host_push.h"
#include "host_state.h"
#include "host_test_util.h"

static const char *plugin_path;

typedef struct fixture {
    char *dir;
    char db[PATH_MAX];
    char out[PATH_MAX];
    host_state *st;
    host_module *mod;
    host_ctx *ctx;
    host_instance *inst;
    char notes[4096];
    uint64_t stop_after; /* ask the pull to stop after this many checkpoints; 0: never */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    conn_error err;

    fx->dir = host_test_tmpdir("pull");
    snprintf(fx->db, sizeof(fx->db), "%s/state.db", fx->dir);
    snprintf(fx->out, sizeof(fx->out), "%s/records.jsonl", fx->dir);
    assert_int_equal(host_state_new(fx->db, &fx->st, &err), CONN_OK);
    assert_int_equal(host_module_open(plugin_path, &fx->mod, &err), CONN_OK);
    assert_int_equal(host_ctx_new("acme", fx->st, &fx->ctx, &err), CONN_OK);
    host_ctx_set_log(fx->ctx, NULL, NULL, CONN_LOG_ERROR);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    host_instance_free(fx->inst);
    host_ctx_free(fx->ctx);
    host_module_close(fx->mod);
    host_state_free(fx->st);
    host_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void make_instance(fixture *fx, const char *settings)
{
    conn_error err;

    host_instance_free(fx->inst);
    fx->inst = NULL;
    assert_int_equal(host_instance_new(fx->mod, fx->ctx, settings, strlen(settings), &fx->inst,
                                       &err),
                     CONN_OK);
}

static void on_note(void *user, conn_log_level level, const char *message)
{
    fixture *fx = user;
    size_t n = strlen(fx->notes);

    (void)level;
    snprintf(fx->notes + n, sizeof(fx->notes) - n, "%s\n", message);
}

/* One pull of flow "items" into fx->out (when to_file) and the table. */
/* The host's progress callback: the stop request comes after a given
 * number of committed pages - a cancel in the middle, whatever the pace. */
static void stop_when_due(void *user, const host_pull_progress *p)
{
    fixture *fx = user;

    if (fx->stop_after > 0 && p->checkpoints >= fx->stop_after)
        host_ctx_request_stop(fx->ctx);
}

static conn_status pull(fixture *fx, int to_file, size_t mem_max, const char *ids,
                        host_pull_stats *stats, conn_error *err)
{
    host_pull_opts o;
    FILE *out = NULL;
    char *real = NULL;
    conn_status st;

    memset(&o, 0, sizeof(o));
    if (to_file) {
        out = fopen(fx->out, "a");
        assert_non_null(out);
        real = realpath(fx->out, NULL);
        assert_non_null(real);
    }
    o.sub = "acme";
    o.flow = "items";
    o.to_table = 1;
    o.out = out;
    o.out_path = real;
    o.ids_json = ids;
    o.mem_max = mem_max;
    o.note = on_note;
    o.progress = stop_when_due;
    o.user = fx;
    st = host_pull_run(fx->inst, fx->st, &o, stats, err);
    if (out != NULL)
        assert_int_equal(fclose(out), 0);
    free(real);
    return st;
}

/* How many lines of the output file name each record r000000..r(n-1),
 * checking each line is one envelope whose record matches its id. Fails
 * on any id outside the range. */
static void file_counts(fixture *fx, int *counts, int n)
{
    FILE *f = fopen(fx->out, "r");
    char line[4096];

    memset(counts, 0, sizeof(int) * (size_t)n);
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        json_object *doc = json_tokener_parse(line), *rec, *id, *num;
        long i;

        assert_non_null(doc);
        assert_true(json_object_object_get_ex(doc, "id", &id));
        assert_true(json_object_object_get_ex(doc, "record", &rec));
        assert_true(json_object_object_get_ex(rec, "n", &num));
        assert_string_equal(json_object_get_string(
                                json_object_object_get(doc, "flow")),
                            "items");
        assert_string_equal(json_object_get_string(
                                json_object_object_get(doc, "record_type")),
                            "item");
        i = strtol(json_object_get_string(id) + 1, NULL, 10);
        assert_int_equal(i, json_object_get_int64(num));
        assert_true(i >= 0 && i < n);
        counts[i]++;
        json_object_put(doc);
    }
    fclose(f);
}

static void assert_once(fixture *fx, int n)
{
    int *counts = calloc((size_t)n, sizeof(int));

    file_counts(fx, counts, n);
    for (int i = 0; i < n; i++) {
        if (counts[i] != 1)
            fail_msg("record r%06d is in the output %d times", i, counts[i]);
    }
    free(counts);
}

static int64_t table_rows(fixture *fx)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int64_t n = -1;

    assert_int_equal(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), count(DISTINCT id) FROM records "
                                        "WHERE subscription = 'acme' AND flow = 'items'",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    n = sqlite3_column_int64(stmt, 0);
    assert_int_equal(n, sqlite3_column_int64(stmt, 1));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static size_t file_lines(fixture *fx)
{
    FILE *f = fopen(fx->out, "r");
    size_t n = 0;
    int c;

    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_pull_file_and_table(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;

    make_instance(fx, "{\"total\": 95, \"page\": 10}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.emitted, 95);
    assert_int_equal(s.committed, 95);
    assert_int_equal(s.checkpoints, 10);
    assert_int_equal(s.discarded, 0);
    assert_string_equal(s.cursor, "idx:95");
    host_pull_stats_clear(&s);
    assert_once(fx, 95);
    assert_int_equal(table_rows(fx), 95);
    /* The next pull continues from the committed cursor: nothing new. */
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.emitted, 0);
    assert_string_equal(s.cursor, "idx:95");
    host_pull_stats_clear(&s);
    assert_int_equal(file_lines(fx), 95);
}

static void test_failure_discards_uncommitted(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;

    make_instance(fx, "{\"total\": 120, \"page\": 10, \"fail_once_at\": 57}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_RETRY);
    assert_non_null(strstr(err.message, "fail_once_at"));
    /* 57 emitted; 50 made durable with checkpoint idx:50; 7 discarded. */
    assert_int_equal(s.emitted, 57);
    assert_int_equal(s.committed, 50);
    assert_int_equal(s.discarded, 7);
    assert_string_equal(s.cursor, "idx:50");
    host_pull_stats_clear(&s);
    assert_int_equal(file_lines(fx), 50);
    assert_int_equal(table_rows(fx), 50);
    assert_non_null(strstr(fx->notes, "7 record(s) emitted after the last checkpoint were "
                                      "discarded"));
    /* The next pull resumes at idx:50: no gap, no duplicate. */
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.committed, 70);
    host_pull_stats_clear(&s);
    assert_once(fx, 120);
    assert_int_equal(table_rows(fx), 120);
}

static void test_cancel_and_resume(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;

    make_instance(fx, "{\"total\": 400, \"page\": 10, \"page_delay_ms\": 10}");
    fx->stop_after = 3;
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_CANCELLED);
    fx->stop_after = 0;
    /* Stopped at a page boundary: what it emitted is committed. */
    assert_true(s.committed >= 30 && s.committed < 400);
    assert_int_equal(s.committed % 10, 0);
    assert_int_equal(s.emitted, s.committed);
    host_pull_stats_clear(&s);
    host_ctx_clear_stop(fx->ctx);
    make_instance(fx, "{\"total\": 400, \"page\": 10}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    host_pull_stats_clear(&s);
    assert_once(fx, 400);
    assert_int_equal(table_rows(fx), 400);
}

static void test_crash_and_torn_file(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;
    pid_t pid;
    int status = 0;
    FILE *f;
    static const char torn[] = "{\"flow\":\"items\",\"record_type\":\"item\",\"id\":\"r0000";

    /* A process dies at record 33, with 3 records after checkpoint idx:30
     * held in memory: they never reach the file or the table. */
    make_instance(fx, "{\"total\": 60, \"page\": 10, \"exit_at\": 33}");
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        host_pull_stats cs;
        conn_error cerr;

        (void)pull(fx, 1, 0, NULL, &cs, &cerr);
        _exit(0); /* not reached: the plugin _exits at record 33 */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 99);
    assert_int_equal(file_lines(fx), 30);
    assert_int_equal(table_rows(fx), 30);
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.committed, 30);
    host_pull_stats_clear(&s);
    assert_once(fx, 60);

    /* A crash between writing a checkpoint's records and committing it
     * leaves a tail past the committed size: the next pull cuts it. */
    f = fopen(fx->out, "a");
    assert_non_null(f);
    fputs(torn, f);
    fclose(f);
    make_instance(fx, "{\"total\": 80, \"page\": 10}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.repaired_bytes, sizeof(torn) - 1);
    assert_int_equal(s.committed, 20);
    host_pull_stats_clear(&s);
    assert_non_null(strstr(fx->notes, "written after the last committed checkpoint"));
    assert_once(fx, 80);
    assert_int_equal(table_rows(fx), 80);
}

static void test_trailing_records_on_success(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;

    /* No checkpoint at all, but the call succeeded: the records are
     * delivered, the cursor does not move. */
    make_instance(fx, "{\"total\": 30, \"page\": 10, \"no_checkpoint\": true}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.committed, 30);
    assert_int_equal(s.checkpoints, 0);
    assert_null(s.cursor);
    host_pull_stats_clear(&s);
    assert_once(fx, 30);
    /* A manual pull of two ids: those records, cursor untouched. */
    make_instance(fx, "{\"total\": 30}");
    assert_int_equal(pull(fx, 0, 0, "[\"r000003\",\"r000007\"]", &s, &err), CONN_OK);
    assert_int_equal(s.committed, 2);
    assert_null(s.cursor);
    host_pull_stats_clear(&s);
}

static void test_spill_to_disk(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;

    /* One checkpoint for 500 records, 1 KiB of memory: the segment
     * spills to its temporary file and reads back intact. */
    make_instance(fx, "{\"total\": 500, \"page\": 500}");
    assert_int_equal(pull(fx, 1, 1024, NULL, &s, &err), CONN_OK);
    assert_int_equal(s.committed, 500);
    assert_int_equal(s.checkpoints, 1);
    host_pull_stats_clear(&s);
    assert_once(fx, 500);
    assert_int_equal(table_rows(fx), 500);
}

static void test_refused_emits(void **state)
{
    fixture *fx = *state;
    host_pull_stats s;
    conn_error err;

    make_instance(fx, "{\"total\": 20, \"page\": 10, \"emit_bad\": \"flow\"}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_INTERNAL);
    assert_non_null(strstr(err.message, "emitted a record of flow 'not-this-flow' during a "
                                        "pull of 'items'"));
    assert_int_equal(s.committed, 0);
    host_pull_stats_clear(&s);
    make_instance(fx, "{\"total\": 20, \"page\": 10, \"emit_bad\": \"id\"}");
    assert_int_equal(pull(fx, 1, 0, NULL, &s, &err), CONN_INTERNAL);
    assert_non_null(strstr(err.message, "without a usable id"));
    host_pull_stats_clear(&s);
    assert_int_equal(file_lines(fx), 0);
    assert_int_equal(table_rows(fx), 0);
}

static void push(fixture *fx, const char *const *records, size_t n, host_push_result *res,
                 host_push_check *check, conn_status expect)
{
    conn_buf bufs[8];
    conn_error err;

    for (size_t i = 0; i < n; i++) {
        bufs[i].data = records[i];
        bufs[i].len = strlen(records[i]);
    }
    assert_int_equal(host_push_call(fx->inst, "orders", bufs, n, res, check, &err), expect);
}

static void test_push_outcomes_and_contract(void **state)
{
    fixture *fx = *state;
    static const char *const recs[] = {
        "{\"id\":\"o1\",\"do\":\"ok\"}",     "{\"id\":\"o2\",\"do\":\"reject\"}",
        "{\"id\":\"o3\",\"do\":\"dup\"}",    "{\"id\":\"o4\",\"do\":\"skip\"}",
        "{\"id\":\"o5\",\"do\":\"fail\"}",
    };
    host_push_result res[5];
    host_push_check check;

    make_instance(fx, "{}");
    push(fx, recs, 5, res, &check, CONN_OK);
    assert_false(host_push_check_failed(&check));
    assert_int_equal(res[0].outcome, CONN_OUT_CREATED);
    assert_string_equal(res[0].result, "{\"id\":\"o1\",\"by\":\"1.0.0\"}");
    assert_int_equal(res[1].outcome, CONN_OUT_REJECTED);
    assert_non_null(strstr(res[1].result, "Inventory ID 'NOPE-o2' was not found."));
    assert_int_equal(res[2].outcome, CONN_OUT_DUPLICATE);
    assert_int_equal(res[3].outcome, CONN_OUT_SKIPPED);
    assert_null(res[3].result);
    assert_int_equal(res[4].outcome, CONN_OUT_FAILED);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(res[i].reports, 1);
    host_push_results_clear(res, 5);

    /* A record never reported: failed, with a note, and the check says
     * who broke the promise. */
    make_instance(fx, "{\"report_bug\": \"skip_first\"}");
    push(fx, recs, 2, res, &check, CONN_OK);
    assert_true(host_push_check_failed(&check));
    assert_int_equal(check.unreported, 1);
    assert_int_equal(res[0].outcome, CONN_OUT_FAILED);
    assert_non_null(strstr(res[0].result, "never reported"));
    {
        char msg[512];

        host_push_check_message(fx->inst, &check, msg, sizeof(msg));
        assert_non_null(strstr(msg, "synth 1.0.0 broke the push contract"));
        assert_non_null(strstr(msg, "1 record(s) never reported"));
    }
    host_push_results_clear(res, 2);
    /* A record reported twice: the first report stands. */
    make_instance(fx, "{\"report_bug\": \"double_first\"}");
    push(fx, recs, 1, res, &check, CONN_OK);
    assert_int_equal(check.duplicated, 1);
    assert_int_equal(res[0].outcome, CONN_OUT_CREATED);
    assert_int_equal(res[0].reports, 2);
    host_push_results_clear(res, 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pull_file_and_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_discards_uncommitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_and_torn_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_records_on_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spill_to_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_emits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_outcomes_and_contract, setup, teardown),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s <synth plugin .so>\n", argv[0]);
        return 2;
    }
    plugin_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
