/* host_cmd_run.c - `run`: the runtime (host_runtime.h). */
#include <stdio.h>

#include "host_cli.h"
#include "host_exit.h"
#include "host_runtime.h"

int host_cmd_run(const host_command *cmd, int argc, char **argv, host_global *g);

int host_cmd_run(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--config HOST.json [--check]",
        "Serves every subscription of the host file (format: host-api/README.md): pull\n"
        "flows poll on their schedule, push flows drain the queue filled by 'enqueue'.\n"
        "Logs go to the host file's log (JSON lines, or text on a terminal). SIGTERM or\n"
        "SIGINT: no new calls; calls in flight get shutdown_grace to finish, then are asked\n"
        "to stop; exits 0. SIGHUP: re-read the host file (added and removed subscriptions,\n"
        "schedules, settings, plugin versions: a changed version is a hot swap of that\n"
        "subscription only). 'connector-host swap' swaps one subscription through the\n"
        "control socket. With --check: load each subscription's plugin, run its init (no\n"
        "network) and compare the flows with what the plugin offers, then exit."};
    const char *config = NULL;
    int check = 0;
    host_option opts[] = {
        {"config", "FILE", "the host file", &config, NULL, 1},
        {"check", NULL, "check the host file and every subscription's settings, then exit",
         NULL, &check, 0},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_runtime_opts o;
    int rc;

    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    o.config_path = config;
    o.state_override = g->state_path;
    o.default_plugin_dir = g->plugin_dir;
    o.check_only = check;
    return host_runtime_main(&o);
}
