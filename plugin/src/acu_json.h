/* acu_json.h - parsing untrusted JSON text with json-c, with positions. */
#ifndef ACU_JSON_H
#define ACU_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "conn_abi.h"

/* Largest JSON document the plugin parses in one piece (settings, one
 * record, one response page). Larger input is refused, not truncated. */
#define ACU_JSON_MAX_BYTES (64u * 1024u * 1024u)

/* Parse exactly one JSON value from text[0..len) into *out (caller puts it
 * with json_object_put). On malformed input returns CONN_INVALID with a
 * message "<what>: <reason> at line L, column C"; trailing non-space text is
 * an error too. `what` names the document (e.g. "settings"). */
conn_status acu_json_parse(const char *text, size_t len, const char *what,
                           json_object **out, conn_error *err);

/* Call fn(user, element, index) for each element of the JSON array in
 * text[0..len), parsing one element at a time: a large page never exists
 * as one tree, and each element is freed when fn returns (fn takes a
 * reference with json_object_get to keep it). Malformed text is
 * CONN_INVALID with the line and column, as acu_json_parse; *count (may be
 * NULL) receives the number of elements seen. A non-OK status from fn stops
 * the walk and is returned. */
conn_status acu_json_array_each(const char *text, size_t len, const char *what,
                                conn_status (*fn)(void *user, json_object *elem,
                                                  size_t index),
                                void *user, size_t *count, conn_error *err);

/* Line and column (both 1-based, column counted in bytes) of byte offset
 * `offset` in text. */
void acu_json_position(const char *text, size_t offset, int *line, int *column);

#endif
