/* host_cmd_enqueue.c - `enqueue`: put records (JSON lines) in the push
 * queue of a subscription's flow, for `connector-host run` to send. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_cli.h"
#include "host_error.h"
#include "host_exit.h"
#include "host_hostfile.h"
#include "host_jsonl.h"
#include "host_queue.h"
#include "host_state.h"

int host_cmd_enqueue(const host_command *cmd, int argc, char **argv, host_global *g);

#define ENQUEUE_LINE_MAX (1024u * 1024u)
/* Records per enqueue; a larger file is enqueued in several runs. */
#define ENQUEUE_MAX 1000000u

int host_cmd_enqueue(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--subscription NAME --flow NAME --in FILE [--config HOST.json]",
        "Checks every line of --in (one JSON object per line; '-' reads standard input)\n"
        "and puts all the records in the push queue of the subscription's flow in one\n"
        "transaction - all or none. The runtime sends them on the flow's schedule. With\n"
        "--config, the state file is the host file's and the subscription must have that\n"
        "push flow."};
    const char *flow = NULL, *in_arg = NULL, *config = NULL;
    host_option opts[] = {
        {"flow", "NAME", "the push flow (sales_orders, customers, ...)", &flow, NULL, 1},
        {"in", "FILE", "the records, one JSON object per line ('-': standard input)", &in_arg,
         NULL, 1},
        {"config", "FILE", "the host file (for its state file, and to check the flow)",
         &config, NULL, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_config *cfg = NULL;
    host_jsonl *in = NULL;
    host_state *state = NULL;
    conn_buf *recs = NULL;
    size_t n = 0, cap = 0;
    int64_t first = 0;
    conn_error err;
    conn_status st;
    int rc;

    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    if (g->subscription == NULL) {
        host_cli_error(cmd, "missing the required option --subscription");
        return HOST_EXIT_USAGE;
    }
    if (!host_name_ok(g->subscription)) {
        host_cli_error(cmd, "the subscription name is not usable");
        return HOST_EXIT_USAGE;
    }
    rc = host_cli_load_hostfile(cmd, g, config, &cfg);
    if (rc != HOST_EXIT_OK)
        goto out;
    if (cfg != NULL) {
        const host_sub_config *sc = host_config_find(cfg, g->subscription);
        int found = 0;

        for (size_t i = 0; sc != NULL && i < sc->nflows; i++)
            found |= sc->flows[i].push && strcmp(sc->flows[i].flow, flow) == 0;
        if (!found) {
            host_cli_error(cmd, "%s has no push flow '%s' for subscription '%s'; nothing would "
                                "send these records",
                           config, flow, g->subscription);
            rc = HOST_EXIT_USAGE;
            goto out;
        }
    }
    st = host_jsonl_open(in_arg, ENQUEUE_LINE_MAX, &in, &err);
    if (st != CONN_OK) {
        host_cli_error(cmd, "%s", err.message);
        rc = HOST_EXIT_OTHER;
        goto out;
    }
    for (;;) {
        const char *line;
        size_t len, lineno;

        st = host_jsonl_next(in, &line, &len, &lineno, &err);
        if (st == CONN_NOT_FOUND)
            break;
        if (st != CONN_OK) {
            host_cli_error(cmd, "%s", err.message);
            host_cli_error(cmd, "nothing was enqueued");
            rc = st == CONN_INVALID ? HOST_EXIT_USAGE : HOST_EXIT_OTHER;
            goto out;
        }
        if (n == ENQUEUE_MAX) {
            host_cli_error(cmd, "more than %u records; split the file", ENQUEUE_MAX);
            rc = HOST_EXIT_USAGE;
            goto out;
        }
        if (n == cap) {
            size_t size = cap > 0 ? cap * 2 : 256;
            conn_buf *p = realloc(recs, size * sizeof(*recs));

            if (p == NULL)
                goto nomem;
            recs = p;
            cap = size;
        }
        recs[n].data = malloc(len + 1);
        if (recs[n].data == NULL)
            goto nomem;
        memcpy((char *)recs[n].data, line, len + 1);
        recs[n].len = len;
        n++;
    }
    if (n == 0) {
        host_cli_error(cmd, "%s holds no records", in_arg);
        rc = HOST_EXIT_USAGE;
        goto out;
    }
    st = host_state_new(host_cli_state_path(g, cfg), &state, &err);
    if (st == CONN_OK)
        st = host_queue_enqueue(state, g->subscription, flow, recs, n, &first, &err);
    if (st != CONN_OK) {
        rc = host_cli_fail(cmd, st, err.message);
        goto out;
    }
    printf("enqueued %zu record%s for %s %s (queue ids %lld to %lld)\n", n, n == 1 ? "" : "s",
           g->subscription, flow, (long long)first, (long long)(first + (int64_t)n - 1));
    rc = HOST_EXIT_OK;
    goto out;
nomem:
    host_cli_error(cmd, "out of memory");
    rc = HOST_EXIT_OTHER;
out:
    for (size_t i = 0; i < n; i++)
        free((char *)recs[i].data);
    free(recs);
    host_jsonl_close(in);
    host_state_free(state);
    host_config_free(cfg);
    return rc;
}
