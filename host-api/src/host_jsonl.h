/* host_jsonl.h - reading JSON lines (one JSON object per line) with a
 * bounded line length, for push and enqueue. Problems name the file and
 * the line number. */
#ifndef HOST_JSONL_H
#define HOST_JSONL_H

#include <stddef.h>

#include "conn_abi.h"

typedef struct host_jsonl host_jsonl;

/* Open path ("-": standard input, spooled to a temporary file). Lines longer than max_line bytes are
 * refused. */
conn_status host_jsonl_open(const char *path, size_t max_line, host_jsonl **out,
                            conn_error *err);

/* The next non-blank line, checked to be one JSON object: CONN_OK with
 * *line (NUL-terminated, without the newline; valid until the next call),
 * *len and *lineno (1-based); CONN_NOT_FOUND at the end; CONN_INVALID for a
 * line that is too long or not one JSON object, with the message
 * "<file>:<line>: ..."; CONN_INTERNAL for a read error. */
conn_status host_jsonl_next(host_jsonl *r, const char **line, size_t *len, size_t *lineno,
                            conn_error *err);

/* Go back to the first line (the input is read twice: checked, then
 * sent). */
conn_status host_jsonl_rewind(host_jsonl *r, conn_error *err);

/* Accepts NULL. */
void host_jsonl_close(host_jsonl *r);

/* Check that text (len bytes) is exactly one JSON object (white space
 * around it allowed). 0 when it is; otherwise -1 with a sentence (naming
 * the column) in why. */
int host_json_check_object(const char *text, size_t len, char *why, size_t cap);

#endif
