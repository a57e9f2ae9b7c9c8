/* host_cli.h - the command line of connector-host: the subcommand table
 * entry, the options every subcommand shares, and one option parser.
 *
 * A subcommand is one file (host_cmd_<group>.c) defining
 *     int host_cmd_<name>(const host_command *cmd, int argc, char **argv,
 *                         host_global *g);
 * and one line in host_commands.def. argv[0] is the subcommand's name. The
 * function returns a host_exit code. */
#ifndef HOST_CLI_H
#define HOST_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "host_exit.h"
#include "host_hostfile.h"

#define HOST_PROGRAM "connector-host"

/* Options that every subcommand accepts, before or after its name. */
typedef struct host_global {
    const char *state_path;   /* --state FILE; NULL: the default path */
    const char *subscription; /* --subscription NAME; NULL: derived */
    const char *plugin_dir;   /* where bare plugin file names are looked up */
} host_global;

typedef struct host_command host_command;

struct host_command {
    const char *name;     /* "describe" */
    const char *summary;  /* one line for the command list */
    int (*run)(const host_command *cmd, int argc, char **argv, host_global *g);
};

/* One option of a subcommand: --name VALUE (value != NULL) or --name
 * (flag != NULL). The parser also accepts --name=VALUE. */
typedef struct host_option {
    const char *name;     /* without the dashes */
    const char *arg;      /* the value's placeholder in help ("FILE") */
    const char *help;     /* one line */
    const char **value;   /* receives the value */
    int *flag;            /* set to 1 */
    int required;         /* usage error when missing */
} host_option;

/* What a subcommand's help prints besides its options. */
typedef struct host_usage {
    const char *synopsis;    /* "--plugin FILE [--config FILE]" */
    const char *description; /* a paragraph, may hold newlines */
} host_usage;

/* Parse argv (argv[0] is the subcommand) against opts (terminated by an
 * entry with name NULL) and the global options, which go into g. No
 * positional arguments are accepted. Returns HOST_EXIT_OK to go on, -1 when
 * --help was given (help printed on stdout: the caller exits 0), or
 * HOST_EXIT_USAGE after printing the problem on stderr. */
int host_cli_parse(const host_command *cmd, const host_usage *usage, const host_option *opts,
                   int argc, char **argv, host_global *g);

/* Print a subcommand's help. */
void host_cli_help(const host_command *cmd, const host_usage *usage, const host_option *opts,
                   FILE *out);

/* "connector-host <cmd>: <message>" on stderr. */
void host_cli_error(const host_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Print err's message (each line prefixed) on stderr and return the exit
 * code for its status. */
int host_cli_fail(const host_command *cmd, conn_status status, const char *message);

/* The path to open for --plugin P: P itself when it names an existing file
 * or holds a '/', otherwise P inside g->plugin_dir. *out is malloc'd. */
int host_cli_plugin_path(const host_global *g, const char *plugin, char **out);

/* --config HOST.json of the commands that only find things through the
 * host file (enqueue, queue, status, swap): load it without resolving
 * secrets. *cfg is NULL when path is NULL. Returns HOST_EXIT_OK, or an
 * exit code after printing the file's problems and the failure. */
int host_cli_load_hostfile(const host_command *cmd, const host_global *g, const char *path,
                           host_config **cfg);

/* The state file of those commands: --state, else the host file's (cfg may
 * be NULL), else NULL for the default. */
const char *host_cli_state_path(const host_global *g, const host_config *cfg);

/* ms since the epoch as local time "YYYY-MM-DD HH:MM:SS" in buf, or "-"
 * when ms is 0 or less. */
void host_cli_format_time(int64_t ms, char *buf, size_t cap);

/* The plugin's traffic for a command's summary, one line on stderr:
 * "connector-host <call>: <sub> <flow>: 14 requests (1 retry, 0 answers
 * 429), throttle waits 3 (1.2 s), 912.0 KiB in, 3.1 KiB out". Nothing when
 * the counters (a host_ctx counters object) name no requests. */
void host_cli_print_traffic(const char *call, const char *sub, const char *flow,
                           const char *counters);

#endif
