/* host_hostfile.h - the host file of `connector-host run`: parsing, every
 * problem named (file, JSON pointer, sentence), secret references resolved.
 *
 * The format is documented in host-api/README.md ("The host file"). The
 * parsed form is plain C data the runtime copies what it needs from; the
 * resolved settings hold secrets and are wiped when freed. */
#ifndef HOST_HOSTFILE_H
#define HOST_HOSTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"
#include "host_buf.h"

/* The largest host file and settings file read, and a secret file. */
#define HOST_CONFIG_FILE_MAX (4u * 1024u * 1024u)
#define HOST_SECRET_FILE_MAX (64u * 1024u)

/* Bounds of the numeric keys. */
#define HOST_WORKERS_DEFAULT 4u
#define HOST_WORKERS_MAX 64u
#define HOST_BATCH_DEFAULT 100u
#define HOST_BATCH_MAX 10000u
#define HOST_RETRY_UNIT_MS_DEFAULT 60000
#define HOST_MAX_ATTEMPTS_DEFAULT 10u
#define HOST_GRACE_MS_DEFAULT 30000
#define HOST_DONE_RETENTION_MS_DEFAULT (7 * 24 * 3600 * (int64_t)1000)

typedef enum host_log_format {
    HOST_LOG_AUTO = 0, /* text on a terminal, JSON lines otherwise */
    HOST_LOG_JSON = 1,
    HOST_LOG_TEXT = 2
} host_log_format;

typedef struct host_flow_config {
    char *flow;        /* "customers" */
    int push;          /* 1: a push flow draining the queue; 0: a pull flow */
    int64_t every_ms;  /* the schedule */
    size_t batch_size; /* push: records per call; 0 = the file's push_batch_size */
} host_flow_config;

typedef struct host_sub_config {
    char *name;
    char *plugin_version;
    char *plugin_path;    /* <plugin_dir>/acumatica-<version>.so */
    char *settings;       /* the resolved settings JSON (holds secrets) */
    size_t settings_len;
    host_flow_config *flows;
    size_t nflows;
} host_sub_config;

typedef struct host_config {
    char *path;           /* the host file as given */
    char *plugin_dir;
    char *state_path;     /* NULL: the default state file */
    char *control_socket; /* NULL: derived from the state file */
    char *output_dir;     /* NULL: records go to the state database only */
    char *log_file;       /* NULL: stderr */
    host_log_format log_format;
    conn_log_level log_level;
    unsigned workers;
    int64_t shutdown_grace_ms;
    size_t push_batch_size;
    int64_t retry_unit_ms;
    unsigned max_attempts;
    int64_t done_retention_ms;
    host_sub_config *subs;
    size_t nsubs;
} host_config;

/* Flags of host_config_load. */
#define HOST_CONFIG_NO_SECRETS 0x1u /* leave {"env"}/{"file"} references unresolved
                                     * and plugin files unchecked: for commands that
                                     * only need the state file and the flow list */

/* Read and check the host file at path. default_plugin_dir is used when
 * the file has no plugin_dir (NULL: then plugin_dir is required).
 * CONN_OK: *out is the parsed file (free with host_config_free).
 * CONN_INVALID: problems holds every problem, one per line, each
 * "<file>: <JSON pointer>: <sentence>" (a syntax error is
 * "<file>:<line>:<column>: <sentence>"); *out is NULL. Other statuses
 * (file missing, out of memory) fill err. Secret values never appear in a
 * problem. */
conn_status host_config_load(const char *path, const char *default_plugin_dir, unsigned flags,
                             host_config **out, host_buf *problems, conn_error *err);

/* Free a parsed file, wiping the resolved settings. Accepts NULL. */
void host_config_free(host_config *cfg);

/* Find a subscription by name; NULL when absent. */
const host_sub_config *host_config_find(const host_config *cfg, const char *name);

/* Parse a duration: a positive number followed by ms, s, m, h or d, or a
 * plain number of seconds ("500ms", "30s", "5m", "1h", "7d", "90").
 * Returns 0 and sets *ms, or -1 when the text is not a duration or is
 * outside 1 ms .. 365 days. */
int host_parse_duration(const char *text, int64_t *ms);

/* The plugin file of a version: "<dir>/acumatica-<version>.so" (malloc'd),
 * or NULL when out of memory or the version is not a plain version string
 * (letters, digits, '.', '-', '+', '_'; no '/'). */
char *host_plugin_file(const char *dir, const char *version);

/* Nonzero when `version` is a plain version string (see above). */
int host_version_ok(const char *version);

/* Nonzero when `name` is a usable subscription or flow name: 1 to 128
 * bytes, no control characters. */
int host_name_ok(const char *name);

#endif
