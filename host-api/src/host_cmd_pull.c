/* host_cmd_pull.c - `pull`: run one pull flow of a plugin and write the
 * records as JSON lines, with the cursor kept in host state so the next
 * pull continues where this one committed. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_cli.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_file.h"
#include "host_pull.h"
#include "host_session.h"
#include "host_store.h"

int host_cmd_pull(const host_command *cmd, int argc, char **argv, host_global *g);

/* The most ids one manual pull takes, and the largest --ids-file. */
#define HOST_IDS_MAX 10000
#define HOST_IDS_FILE_MAX (4u * 1024u * 1024u)

/* The progress line on a terminal, and log lines that must not tear it. */
typedef struct cli_view {
    const char *flow;
    int tty;
    int shown;      /* a progress line is on screen */
    int64_t last_ms;
} cli_view;

static void clear_line(cli_view *v)
{
    if (v->shown) {
        fputs("\r\033[K", stderr);
        v->shown = 0;
    }
}

static void show_progress(void *user, const host_pull_progress *p)
{
    cli_view *v = user;
    int64_t now = host_mono_ms();
    double secs = (double)p->elapsed_ms / 1000.0;

    if (!v->tty || now - v->last_ms < 200)
        return;
    v->last_ms = now;
    fprintf(stderr,
            "\r\033[K%s: %lld pages, %llu records, %llu committed in %llu checkpoints, %.0f/s, "
            "throttle waits %lld (%.1f s), %d:%02d",
            v->flow, (long long)host_counter(p->counters, "pages"),
            (unsigned long long)p->emitted, (unsigned long long)p->committed,
            (unsigned long long)p->checkpoints, secs > 0 ? (double)p->emitted / secs : 0.0,
            (long long)host_counter(p->counters, "throttle_waits"),
            (double)host_counter(p->counters, "throttle_wait_ms") / 1000.0, (int)(secs / 60),
            (int)secs % 60);
    v->shown = 1;
}

static void on_note(void *user, conn_log_level level, const char *message)
{
    cli_view *v = user;

    clear_line(v);
    fprintf(stderr, "%s pull: %s%s\n", HOST_PROGRAM,
            level == CONN_LOG_ERROR ? "error: " : level == CONN_LOG_WARN ? "warning: " : "",
            message);
}

static void on_log(void *user, const char *subscription, conn_log_level level,
                   const char *flow, const char *message)
{
    clear_line(user);
    host_log_stderr(NULL, subscription, level, flow, message);
}

/* --ids a,b,c or the lines of --ids-file, as a JSON array (malloc'd). */
static int ids_to_json(const host_command *cmd, const char *list, const char *file,
                       char **out)
{
    json_object *arr = json_object_new_array();
    char *text = NULL, *save = NULL, *tok;
    const char *sep = file != NULL ? "\r\n" : ",";
    size_t len = 0, n = 0;
    conn_error err;
    int rc = HOST_EXIT_OK;

    *out = NULL;
    if (arr == NULL)
        goto nomem;
    if (file != NULL) {
        if (host_read_file(file, HOST_IDS_FILE_MAX, &text, &len, &err) != CONN_OK) {
            host_cli_error(cmd, "%s", err.message);
            rc = HOST_EXIT_USAGE;
            goto out;
        }
    } else if ((text = strdup(list)) == NULL) {
        goto nomem;
    }
    for (tok = strtok_r(text, sep, &save); tok != NULL; tok = strtok_r(NULL, sep, &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        if (*tok == '\0')
            continue;
        if (++n > HOST_IDS_MAX) {
            host_cli_error(cmd, "more than %d ids; pull them in several runs", HOST_IDS_MAX);
            rc = HOST_EXIT_USAGE;
            goto out;
        }
        if (json_object_array_add(arr, json_object_new_string(tok)) != 0)
            goto nomem;
    }
    if (n == 0) {
        host_cli_error(cmd, "no ids given");
        rc = HOST_EXIT_USAGE;
        goto out;
    }
    *out = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    if (*out == NULL)
        goto nomem;
    goto out;
nomem:
    host_cli_error(cmd, "out of memory");
    rc = HOST_EXIT_OTHER;
out:
    json_object_put(arr);
    free(text);
    return rc;
}

/* A cursor shown to a person: printable, at most 60 characters. */
static void short_cursor(const char *c, size_t len, char *buf, size_t cap)
{
    size_t n = 0;

    if (c == NULL) {
        snprintf(buf, cap, "(none)");
        return;
    }
    for (size_t i = 0; i < len && n + 4 < cap && i < 60; i++)
        buf[n++] = ((unsigned char)c[i] < 0x20 || c[i] == 0x7f) ? '?' : c[i];
    if (len > 60 && n + 4 < cap) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

int host_cmd_pull(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE --flow NAME [--full] [--ids A,B | --ids-file FILE]\n"
        "                           [--out FILE]",
        "Runs one pull of a flow (customers, products, locations, inventory, tracking) and\n"
        "writes each record as one JSON line {\"flow\",\"record_type\",\"id\",\"record\"} to\n"
        "--out (appended) or standard output. The request carries the cursor last committed\n"
        "for this subscription and flow in host state, so a pull continues where the last\n"
        "one ended. Records become durable together with the checkpoint after them: when\n"
        "the pull fails or is interrupted (Ctrl-C, SIGTERM: the plugin stops at the next\n"
        "page), records after the last checkpoint are discarded and the next pull reads\n"
        "them again - nothing is lost and nothing is written twice. A progress line is\n"
        "shown when standard error is a terminal."};
    const char *plugin = NULL, *config = NULL, *flow = NULL, *ids = NULL, *ids_file = NULL;
    const char *out_arg = NULL;
    int full = 0, verbose = 0, no_progress = 0;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {"flow", "NAME", "the flow to pull", &flow, NULL, 1},
        {"full", NULL, "read everything again instead of continuing from the cursor", NULL,
         &full, 0},
        {"ids", "A,B", "pull only these records (manual sync), by their Acumatica key: CustomerID, InventoryID, WarehouseID, ShipmentNbr", &ids, NULL, 0},
        {"ids-file", "FILE", "pull only the ids listed in FILE, one per line", &ids_file, NULL,
         0},
        {"out", "FILE", "append the records to FILE (default: standard output)", &out_arg,
         NULL, 0},
        {"no-progress", NULL, "no progress line, even on a terminal", NULL, &no_progress, 0},
        {"verbose", NULL, "show the plugin's debug log lines", NULL, &verbose, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_session s;
    host_pull_opts o;
    host_pull_stats stats;
    cli_view view;
    char *ids_json = NULL, *out_real = NULL, cur[128], counts[HOST_PULL_COUNTS_MAX];
    FILE *out = NULL;
    int64_t run_id = 0;
    conn_error err;
    conn_status st;
    host_run_end end;
    int rc, fd;

    memset(&s, 0, sizeof(s));
    memset(&stats, 0, sizeof(stats));
    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (ids != NULL && ids_file != NULL) {
        host_cli_error(cmd, "give --ids or --ids-file, not both");
        return HOST_EXIT_USAGE;
    }
    if ((ids != NULL || ids_file != NULL) &&
        (rc = ids_to_json(cmd, ids, ids_file, &ids_json)) != HOST_EXIT_OK)
        return rc;
    if (out_arg != NULL && strcmp(out_arg, "-") != 0) {
        fd = open(out_arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        out = fd >= 0 ? fdopen(fd, "a") : NULL;
        out_real = out != NULL ? realpath(out_arg, NULL) : NULL;
        if (out == NULL || out_real == NULL) {
            host_cli_error(cmd, "%s cannot be opened for writing: %s", out_arg,
                           strerror(errno));
            if (out == NULL && fd >= 0)
                close(fd);
            rc = HOST_EXIT_OTHER;
            goto out;
        }
    }
    rc = host_session_open(&s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        goto out;
    memset(&view, 0, sizeof(view));
    view.flow = flow;
    view.tty = !no_progress && isatty(STDERR_FILENO);
    host_ctx_set_log(s.ctx, on_log, &view, verbose ? CONN_LOG_DEBUG : CONN_LOG_INFO);

    host_err_clear(&err);
    st = host_store_run_begin(s.state, s.subscription, flow, 0, host_module_version(s.mod),
                              &run_id, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.sub = s.subscription;
    o.flow = flow;
    o.full = full;
    o.ids_json = ids_json;
    o.out = out != NULL ? out : stdout;
    o.out_path = out_real;
    o.run_id = run_id;
    o.progress = show_progress;
    o.note = on_note;
    o.user = &view;
    host_session_signals(s.ctx);
    st = host_pull_run(s.inst, s.state, &o, &stats, &err);
    host_session_signals_restore();
    clear_line(&view);

    host_pull_counts(&stats, counts, sizeof(counts));
    memset(&end, 0, sizeof(end));
    end.outcome = host_status_name(st);
    end.records = (int64_t)stats.committed;
    end.counts = counts;
    end.cursor = stats.cursor;
    end.cursor_len = stats.cursor_len;
    end.error = st != CONN_OK ? err.message : NULL;
    {
        conn_error e2;

        if (host_store_run_end(s.state, run_id, &end, &e2) != CONN_OK)
            host_cli_error(cmd, "the run summary cannot be stored: %s", e2.message);
    }
    short_cursor(stats.cursor, stats.cursor_len, cur, sizeof(cur));
    {
        double secs = (double)stats.elapsed_ms / 1000.0;

        fprintf(stderr,
                "%s pull: %s %s: %llu record%s committed in %llu checkpoint%s, %.1f s "
                "(%.0f records/s); cursor %s%s%s\n",
                HOST_PROGRAM, s.subscription, flow, (unsigned long long)stats.committed,
                stats.committed == 1 ? "" : "s", (unsigned long long)stats.checkpoints,
                stats.checkpoints == 1 ? "" : "s", secs,
                secs > 0 ? (double)stats.committed / secs : 0.0, cur,
                out_real != NULL ? "; records in " : "", out_real != NULL ? out_real : "");
        host_cli_print_traffic("pull", s.subscription, flow, stats.counters);
    }
    if (st == CONN_CANCELLED)
        host_cli_error(cmd, "interrupted (signal %d); the next pull continues from the last "
                            "checkpoint",
                       host_session_stop_signal());
    rc = st == CONN_OK ? HOST_EXIT_OK : host_cli_fail(cmd, st, err.message);
out:
    host_pull_stats_clear(&stats);
    host_session_close(&s);
    if (out != NULL && fclose(out) != 0 && rc == HOST_EXIT_OK) {
        host_cli_error(cmd, "%s cannot be written: %s", out_arg, strerror(errno));
        rc = HOST_EXIT_OTHER;
    }
    if (out == NULL && fflush(stdout) != 0 && rc == HOST_EXIT_OK)
        rc = HOST_EXIT_OTHER;
    free(out_real);
    free(ids_json);
    return rc;
}
