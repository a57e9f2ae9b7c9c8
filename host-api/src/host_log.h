/* host_log.h - the runtime's log: one line per event, as JSON lines
 * ({"time","level","subscription","flow","run","message"}) or, on a
 * terminal, as text, to stderr or a file. Safe from any thread. */
#ifndef HOST_LOG_H
#define HOST_LOG_H

#include <stdint.h>

#include "conn_abi.h"
#include "host_error.h"
#include "host_hostfile.h"

typedef struct host_log host_log;

/* A log writing to `file` (appended, created with mode 0640) or to stderr
 * when file is NULL. HOST_LOG_AUTO picks text when the destination is a
 * terminal, JSON lines otherwise. Lines less severe than `level` are
 * dropped. */
conn_status host_log_new(const char *file, host_log_format format, conn_log_level level,
                         host_log **out, conn_error *err);

/* Close the file (not stderr). Accepts NULL. */
void host_log_free(host_log *log);

/* Point the log at another (or the same: rotation) file, format and level.
 * On failure the log keeps its old destination. */
conn_status host_log_reopen(host_log *log, const char *file, host_log_format format,
                            conn_log_level level, conn_error *err);

/* Write one line. sub, flow may be NULL; run_id <= 0 means no run. The
 * message is escaped (JSON) or has control characters replaced (text). */
void host_log_write(host_log *log, conn_log_level level, const char *sub, const char *flow,
                    int64_t run_id, const char *message);

void host_log_printf(host_log *log, conn_log_level level, const char *sub, const char *flow,
                     int64_t run_id, const char *fmt, ...) HOST_PRINTF(6, 7);

/* Nonzero when lines of `level` would be written. */
int host_log_enabled(const host_log *log, conn_log_level level);

/* Append s to buf (cap bytes, always NUL-terminated) as the inside of a
 * JSON string; returns the new length. Used for log lines and results. */
size_t host_json_escape(char *buf, size_t cap, size_t at, const char *s);

#endif
