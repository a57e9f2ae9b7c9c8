/* host_cmd_push.c - `push`: send records (JSON lines) to a plugin's push
 * flow in batches and write one result line per record. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_cli.h"
#include "host_ctx.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_jsonl.h"
#include "host_log.h"
#include "host_push.h"
#include "host_queue.h"
#include "host_session.h"
#include "host_store.h"

int host_cmd_push(const host_command *cmd, int argc, char **argv, host_global *g);

#define PUSH_BATCH_DEFAULT 100
#define PUSH_LINE_MAX_DEFAULT (1024u * 1024u)
/* Rejections printed on stderr; the rest are in the results. */
#define PUSH_SHOW_REJECTED 20

typedef struct push_totals {
    size_t by_outcome[CONN_OUT_CANCELLED + 1];
    size_t records;
    size_t shown;
} push_totals;

/* The sentence of a result: its "message" member when it has one. */
static void result_message(const char *result, size_t len, char *buf, size_t cap)
{
    json_object *doc = NULL, *msg;
    json_tokener *tok;

    buf[0] = '\0';
    if (result == NULL || len == 0 || len > 1024 * 1024)
        return;
    tok = json_tokener_new();
    if (tok != NULL)
        doc = json_tokener_parse_ex(tok, result, (int)len);
    json_tokener_free(tok);
    if (json_object_object_get_ex(doc, "message", &msg) &&
        json_object_is_type(msg, json_type_string))
        snprintf(buf, cap, "%s", json_object_get_string(msg));
    else
        snprintf(buf, cap, "%.*s", (int)(len < 300 ? len : 300), result);
    json_object_put(doc);
}

/* {"line":n,"outcome":"...","result":{...}} */
static int write_result(FILE *out, size_t line, conn_outcome outcome, const char *result,
                        size_t len)
{
    if (fprintf(out, "{\"line\":%zu,\"outcome\":\"%s\",\"result\":", line,
                host_outcome_name(outcome)) < 0)
        return -1;
    if (result != NULL && len > 0) {
        if (fwrite(result, 1, len, out) != len)
            return -1;
    } else if (fputs("{}", out) == EOF) {
        return -1;
    }
    return fputs("}\n", out) == EOF ? -1 : 0;
}

static void count(push_totals *t, const host_command *cmd, size_t line, conn_outcome o,
                  const char *result, size_t len)
{
    char msg[512];

    t->by_outcome[(unsigned)o <= CONN_OUT_CANCELLED ? o : CONN_OUT_FAILED]++;
    t->records++;
    if ((o == CONN_OUT_REJECTED || o == CONN_OUT_FAILED) && t->shown < PUSH_SHOW_REJECTED) {
        result_message(result, len, msg, sizeof(msg));
        host_cli_error(cmd, "line %zu: %s: %s", line, host_outcome_name(o),
                       msg[0] != '\0' ? msg : "(no message)");
        t->shown++;
    }
}

/* Check every line first: a malformed line stops the push before any
 * record is sent. *n receives the number of records. */
static int check_input(const host_command *cmd, host_jsonl *in, size_t *n)
{
    const char *line;
    size_t len, lineno;
    conn_error err;
    conn_status st;

    *n = 0;
    while ((st = host_jsonl_next(in, &line, &len, &lineno, &err)) == CONN_OK)
        (*n)++;
    if (st != CONN_NOT_FOUND) {
        host_cli_error(cmd, "%s", err.message);
        host_cli_error(cmd, "nothing was sent");
        return st == CONN_INVALID ? HOST_EXIT_USAGE : HOST_EXIT_OTHER;
    }
    if (host_jsonl_rewind(in, &err) != CONN_OK) {
        host_cli_error(cmd, "%s", err.message);
        return HOST_EXIT_OTHER;
    }
    return HOST_EXIT_OK;
}

int host_cmd_push(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE --flow NAME --in FILE [--results FILE]\n"
        "                           [--batch-size N]",
        "Sends the records of --in (one JSON object per line; '-' reads standard input) to\n"
        "the flow (customers, sales_orders, tracking) in batches, and writes one result\n"
        "line per record, in input order, to --results or standard output:\n"
        "  {\"line\": N, \"outcome\": \"created|updated|duplicate|skipped|rejected|failed|"
        "cancelled\",\n"
        "   \"result\": {...the plugin's result: Acumatica ids, or the message...}}\n"
        "Every line is checked before anything is sent; a malformed line is named by its\n"
        "number. Exit codes: 0 when every record succeeded (created, updated, duplicate or\n"
        "skipped), 6 when some were rejected (fix the data: see the results), 5 when some\n"
        "failed transiently or were not sent (interrupted: run those again later), 1 when\n"
        "the plugin broke the one-report-per-record promise; 3/4 as for every command."};
    const char *plugin = NULL, *config = NULL, *flow = NULL, *in_arg = NULL;
    const char *results_arg = NULL, *batch_arg = NULL, *line_arg = NULL;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {"flow", "NAME", "the flow to push", &flow, NULL, 1},
        {"in", "FILE", "the records, one JSON object per line ('-': standard input)", &in_arg,
         NULL, 1},
        {"results", "FILE", "write the result lines here (default: standard output)",
         &results_arg, NULL, 0},
        {"batch-size", "N", "records per push call (default 100)", &batch_arg, NULL, 0},
        {"max-line-bytes", "N", "the longest input line accepted (default 1048576)", &line_arg,
         NULL, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_session s;
    host_jsonl *in = NULL;
    FILE *results = NULL;
    conn_buf *recs = NULL;
    char **copies = NULL;
    size_t *lines = NULL;
    host_push_result *res = NULL;
    size_t batch = PUSH_BATCH_DEFAULT, max_line = PUSH_LINE_MAX_DEFAULT, total = 0, n = 0;
    push_totals t;
    conn_error err;
    conn_status st, call_status = CONN_OK;
    int64_t run_id = 0;
    int rc, contract_broken = 0, stopped = 0;
    char stop_reason[sizeof(((conn_error *)0)->message) + 32] = "";
    char counts[512 + HOST_COUNTERS_MAX], traffic[HOST_COUNTERS_MAX + 1] = "";

    memset(&s, 0, sizeof(s));
    memset(&t, 0, sizeof(t));
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (batch_arg != NULL) {
        char *end;
        unsigned long v = strtoul(batch_arg, &end, 10);

        if (*end != '\0' || v == 0 || v > 10000) {
            host_cli_error(cmd, "--batch-size takes 1 to 10000, not %s", batch_arg);
            return HOST_EXIT_USAGE;
        }
        batch = v;
    }
    if (line_arg != NULL) {
        char *end;
        unsigned long v = strtoul(line_arg, &end, 10);

        if (*end != '\0' || v < 2 || v > 64ul * 1024 * 1024) {
            host_cli_error(cmd, "--max-line-bytes takes 2 to 67108864, not %s", line_arg);
            return HOST_EXIT_USAGE;
        }
        max_line = v;
    }
    st = host_jsonl_open(in_arg, max_line, &in, &err);
    if (st != CONN_OK) {
        host_cli_error(cmd, "%s", err.message);
        return HOST_EXIT_OTHER;
    }
    rc = check_input(cmd, in, &total);
    if (rc != HOST_EXIT_OK)
        goto out;
    if (results_arg != NULL && strcmp(results_arg, "-") != 0) {
        int fd = open(results_arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        results = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (results == NULL) {
            host_cli_error(cmd, "%s cannot be opened for writing: %s", results_arg,
                           strerror(errno));
            if (fd >= 0)
                close(fd);
            rc = HOST_EXIT_OTHER;
            goto out;
        }
    }
    rc = host_session_open(&s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        goto out;
    recs = calloc(batch, sizeof(*recs));
    copies = calloc(batch, sizeof(*copies));
    lines = calloc(batch, sizeof(*lines));
    res = calloc(batch, sizeof(*res));
    if (recs == NULL || copies == NULL || lines == NULL || res == NULL) {
        host_cli_error(cmd, "out of memory");
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    host_err_clear(&err);
    st = host_store_run_begin(s.state, s.subscription, flow, 1, host_module_version(s.mod),
                              &run_id, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    host_session_signals(s.ctx);
    for (;;) {
        const char *line;
        size_t len, lineno;
        host_push_check check;

        n = 0;
        while (n < batch && (st = host_jsonl_next(in, &line, &len, &lineno, &err)) == CONN_OK) {
            copies[n] = malloc(len + 1);
            if (copies[n] == NULL)
                break;
            memcpy(copies[n], line, len + 1);
            recs[n].data = copies[n];
            recs[n].len = len;
            lines[n] = lineno;
            n++;
        }
        if (n < batch && st == CONN_OK) {
            host_cli_error(cmd, "out of memory");
            rc = HOST_EXIT_OTHER;
            break;
        }
        if (st != CONN_OK && st != CONN_NOT_FOUND) {
            host_cli_error(cmd, "%s", err.message); /* the file changed under us */
            rc = HOST_EXIT_OTHER;
            break;
        }
        if (n == 0)
            break;
        if (stopped) {
            /* Not sent: each still gets its line. */
            for (size_t i = 0; i < n; i++) {
                char note[sizeof(stop_reason) * 6 + 64];
                int k = snprintf(note, sizeof(note), "{\"host_note\":\"not sent: ");

                k = (int)host_json_escape(note, sizeof(note) - 3, (size_t)k, stop_reason);
                memcpy(note + k, "\"}", 3);
                write_result(results != NULL ? results : stdout, lines[i], CONN_OUT_CANCELLED,
                             note, strlen(note));
                count(&t, cmd, lines[i], CONN_OUT_CANCELLED, NULL, 0);
            }
        } else {
            st = host_push_call(s.inst, flow, recs, n, res, &check, &err);
            host_counters_add(traffic, sizeof(traffic),
                              host_ctx_counters(host_instance_ctx(s.inst)));
            if (host_push_check_failed(&check)) {
                char msg[512];

                host_push_check_message(s.inst, &check, msg, sizeof(msg));
                host_cli_error(cmd, "INTERNAL: %s", msg);
                contract_broken = 1;
            }
            for (size_t i = 0; i < n; i++) {
                if (write_result(results != NULL ? results : stdout, lines[i], res[i].outcome,
                                 res[i].result, res[i].result_len) != 0) {
                    host_cli_error(cmd, "the results cannot be written: %s", strerror(errno));
                    rc = HOST_EXIT_OTHER;
                }
                count(&t, cmd, lines[i], res[i].outcome, res[i].result, res[i].result_len);
            }
            host_push_results_clear(res, n);
            if (st != CONN_OK) {
                /* The rest is not sent: the same failure would meet it. */
                call_status = st;
                stopped = 1;
                snprintf(stop_reason, sizeof(stop_reason), "%s: %s", host_status_name(st),
                         err.message);
                if (st != CONN_CANCELLED)
                    host_cli_error(cmd, "%s", err.message);
            }
        }
        if (fflush(results != NULL ? results : stdout) != 0 && rc == HOST_EXIT_OK) {
            host_cli_error(cmd, "the results cannot be written: %s", strerror(errno));
            rc = HOST_EXIT_OTHER;
        }
        for (size_t i = 0; i < n; i++) {
            free(copies[i]);
            copies[i] = NULL;
        }
        n = 0;
        if (rc != HOST_EXIT_OK)
            break;
    }
    host_session_signals_restore();
    for (size_t i = 0; i < n; i++)
        free(copies[i]);

    snprintf(counts, sizeof(counts),
             "{\"created\":%zu,\"updated\":%zu,\"duplicate\":%zu,\"skipped\":%zu,"
             "\"rejected\":%zu,\"failed\":%zu,\"cancelled\":%zu,\"plugin\":%s}",
             t.by_outcome[CONN_OUT_CREATED], t.by_outcome[CONN_OUT_UPDATED],
             t.by_outcome[CONN_OUT_DUPLICATE], t.by_outcome[CONN_OUT_SKIPPED],
             t.by_outcome[CONN_OUT_REJECTED], t.by_outcome[CONN_OUT_FAILED],
             t.by_outcome[CONN_OUT_CANCELLED], traffic[0] != '\0' ? traffic : "{}");
    {
        host_run_end end;
        conn_error e2;

        memset(&end, 0, sizeof(end));
        end.outcome = contract_broken ? "INTERNAL" : host_status_name(call_status);
        end.records = (int64_t)t.records;
        end.counts = counts;
        end.error = call_status != CONN_OK ? stop_reason : NULL;
        if (host_store_run_end(s.state, run_id, &end, &e2) != CONN_OK)
            host_cli_error(cmd, "the run summary cannot be stored: %s", e2.message);
    }
    fprintf(stderr,
            "%s push: %s %s: %zu record%s: %zu created, %zu updated, %zu duplicate, "
            "%zu skipped, %zu rejected, %zu failed, %zu cancelled\n",
            HOST_PROGRAM, s.subscription, flow, t.records, t.records == 1 ? "" : "s",
            t.by_outcome[CONN_OUT_CREATED], t.by_outcome[CONN_OUT_UPDATED],
            t.by_outcome[CONN_OUT_DUPLICATE], t.by_outcome[CONN_OUT_SKIPPED],
            t.by_outcome[CONN_OUT_REJECTED], t.by_outcome[CONN_OUT_FAILED],
            t.by_outcome[CONN_OUT_CANCELLED]);
    host_cli_print_traffic("push", s.subscription, flow, traffic);
    if (rc != HOST_EXIT_OK)
        goto out;
    if (t.records != total) {
        host_cli_error(cmd, "INTERNAL: %zu records read, %zu results", total, t.records);
        rc = HOST_EXIT_OTHER;
    } else if (call_status != CONN_OK && call_status != CONN_CANCELLED &&
               call_status != CONN_RETRY) {
        rc = (int)host_exit_from_status(call_status);
    } else if (contract_broken) {
        rc = HOST_EXIT_OTHER;
    } else if (t.by_outcome[CONN_OUT_REJECTED] > 0) {
        rc = HOST_EXIT_REJECTED;
    } else if (t.by_outcome[CONN_OUT_FAILED] > 0 || t.by_outcome[CONN_OUT_CANCELLED] > 0 ||
               call_status != CONN_OK) {
        rc = HOST_EXIT_TRANSIENT;
    }
out:
    host_session_close(&s);
    if (results != NULL && fclose(results) != 0 && rc == HOST_EXIT_OK) {
        host_cli_error(cmd, "%s cannot be written: %s", results_arg, strerror(errno));
        rc = HOST_EXIT_OTHER;
    }
    host_jsonl_close(in);
    free(recs);
    free(copies);
    free(lines);
    free(res);
    return rc;
}
