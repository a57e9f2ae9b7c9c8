/* host_cmd_validate.c - `validate`: run a plugin's init on a settings file
 * and print every problem it reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_cli.h"
#include "host_ctx.h"
#include "host_exit.h"
#include "host_loader.h"
#include "host_session.h"

int host_cmd_validate(const host_command *cmd, int argc, char **argv, host_global *g);

/* Log lines the plugin writes during init, held until the problems are
 * printed (at most INIT_LOG_MAX; later ones go straight to stderr). */
#define INIT_LOG_MAX 1024

typedef struct init_line {
    conn_log_level level;
    char *flow;    /* NULL: none */
    char *message;
    int problem;   /* printed as a problem: not repeated on stderr */
} init_line;

typedef struct init_log {
    init_line lines[INIT_LOG_MAX];
    size_t n;
} init_log;

/* host_log_fn: keep the line (a copy) for after init. */
static void init_log_keep(void *user, const char *subscription, conn_log_level level,
                          const char *flow, const char *message)
{
    init_log *log = user;
    init_line *l;

    if (log->n >= INIT_LOG_MAX) {
        host_log_stderr(NULL, subscription, level, flow, message);
        return;
    }
    l = &log->lines[log->n];
    l->level = level;
    l->flow = flow != NULL ? strdup(flow) : NULL;
    l->message = strdup(message);
    l->problem = 0;
    if (l->message == NULL || (flow != NULL && l->flow == NULL)) {
        free(l->flow);
        free(l->message);
        host_log_stderr(NULL, subscription, level, flow, message);
        return;
    }
    log->n++;
}

/* Pass the kept lines that were not printed as problems on to stderr, and
 * free them all. */
static void init_log_flush(init_log *log, const char *subscription)
{
    for (size_t i = 0; i < log->n; i++) {
        if (!log->lines[i].problem)
            host_log_stderr(NULL, subscription, log->lines[i].level, log->lines[i].flow,
                            log->lines[i].message);
        free(log->lines[i].flow);
        free(log->lines[i].message);
    }
    log->n = 0;
}

/* Is the message line (len bytes, raw) the logged line `logged` (which the
 * host cleaned: control characters shown as '?')? */
static int same_line(const char *line, size_t len, const char *logged)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        char want = (c < 0x20 || c == 0x7f) ? '?' : (char)c;

        if (logged[i] != want)
            return 0;
    }
    return logged[len] == '\0';
}

/* The kept warning that is this message line and not yet claimed, or NULL. */
static init_line *logged_as(init_log *log, const char *line, size_t len)
{
    for (size_t i = 0; i < log->n; i++) {
        init_line *l = &log->lines[i];

        if (l->level <= CONN_LOG_WARN && !l->problem && same_line(line, len, l->message))
            return l;
    }
    return NULL;
}

/* Print one problem as "<config>: <line>", control characters as '?'. */
static void print_problem(const char *config, const char *line, size_t len)
{
    printf("%s: ", config);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        putchar((c < 0x20 || c == 0x7f) ? '?' : (int)c);
    }
    putchar('\n');
}

/* Does the message (its k lines) end with a note that the rest of the
 * problems are in the host log? So it does when its last line is not among
 * the warnings logged during init, each other line is, and some logged
 * warning is not in the message (see print_problems). */
static int rest_in_log(init_log *log, const char *const *lines, const size_t *lens,
                       size_t k)
{
    size_t i = 0;
    int more = 0;

    if (k == 0 || logged_as(log, lines[k - 1], lens[k - 1]) != NULL)
        return 0;
    for (; i + 1 < k; i++) {
        init_line *l = logged_as(log, lines[i], lens[i]);

        if (l == NULL)
            break;
        l->problem = 1; /* a line repeated in the message needs two warnings */
    }
    for (size_t j = 0; j < log->n; j++) {
        if (log->lines[j].level <= CONN_LOG_WARN && !log->lines[j].problem)
            more = 1;
        log->lines[j].problem = 0;
    }
    return i + 1 == k && more;
}

/* Print every problem of init's message, one per line, and return how many.
 *
 * init reports every problem in err->message, one per line; the message
 * holds 1 KiB. A plugin with more puts as many as fit, then a last line
 * saying the rest are in the host log, and logs every problem as a
 * warning. Then the problems are the message's lines but that note, and
 * the logged warnings the message did not hold. The warnings printed are
 * marked so init_log_flush does not repeat them on stderr. */
static size_t print_problems(const char *config, const char *message, init_log *log)
{
    const char *lines[512]; /* a 1 KiB message has no more non-empty lines */
    size_t lens[512], k = 0, count = 0;
    int overflow;

    for (const char *p = message; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

        if (n > 0 && k < sizeof(lines) / sizeof(lines[0])) {
            lines[k] = p;
            lens[k++] = n;
        }
        p = nl != NULL ? nl + 1 : NULL;
    }
    overflow = rest_in_log(log, lines, lens, k);
    for (size_t i = 0; i < (overflow ? k - 1 : k); i++) {
        init_line *l;

        print_problem(config, lines[i], lens[i]);
        count++;
        if (overflow && (l = logged_as(log, lines[i], lens[i])) != NULL)
            l->problem = 1;
    }
    for (size_t j = 0; overflow && j < log->n; j++) {
        init_line *l = &log->lines[j];

        if (l->level <= CONN_LOG_WARN && !l->problem) {
            print_problem(config, l->message, strlen(l->message));
            l->problem = 1;
            count++;
        }
    }
    return count;
}

int host_cmd_validate(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE",
        "Loads the plugin and runs its init with the settings file, without any network\n"
        "call. Prints every problem, one per line, prefixed with the file name, and exits\n"
        "with 3 when the settings are invalid. A bare plugin file name is looked up in the\n"
        "plugin directory. The subscription defaults to the settings file's name without\n"
        "its extension."};
    const char *plugin = NULL, *config = NULL;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_session s;
    init_log *log;
    size_t problems;
    conn_error err;
    conn_status st;
    int rc;

    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    /* The state file is opened only if the plugin touches state. */
    rc = host_session_prepare(&s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        return rc;
    /* The plugin's log lines during init are held until its problems are
     * printed: those it could only log are printed with them. */
    log = calloc(1, sizeof(*log));
    if (log == NULL) {
        host_session_close(&s);
        return host_cli_fail(cmd, CONN_NOMEM, "out of memory");
    }
    host_ctx_set_log(s.ctx, init_log_keep, log, CONN_LOG_INFO);
    st = host_session_init(&s, &err);
    host_ctx_set_log(s.ctx, host_log_stderr, NULL, CONN_LOG_INFO);
    if (st == CONN_OK) {
        init_log_flush(log, s.subscription);
        printf("%s: valid settings for %s %s\n", config, host_module_name(s.mod),
               host_module_version(s.mod));
        rc = HOST_EXIT_OK;
    } else if (st == CONN_INVALID) {
        problems = print_problems(config, err.message, log);
        fflush(stdout);
        init_log_flush(log, s.subscription);
        host_cli_error(cmd, "%s is invalid: %zu problem%s", config, problems,
                       problems == 1 ? "" : "s");
        rc = HOST_EXIT_INVALID;
    } else {
        init_log_flush(log, s.subscription);
        rc = host_cli_fail(cmd, st, err.message);
    }
    free(log);
    host_session_close(&s);
    return rc;
}
