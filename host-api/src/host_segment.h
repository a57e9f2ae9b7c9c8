/* host_segment.h - the records a pull emitted since its last checkpoint.
 *
 * emit copies each record here; a checkpoint makes the whole segment
 * durable together with the cursor and empties it; a failed or cancelled
 * pull discards it. The segment keeps up to mem_max bytes in memory and
 * spills the rest to an unlinked temporary file, so a plugin that emits
 * many records between checkpoints costs disk, not memory. */
#ifndef HOST_SEGMENT_H
#define HOST_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "conn_abi.h"

/* The largest record accepted from emit. */
#define HOST_RECORD_MAX (16u * 1024u * 1024u)

typedef struct host_segment host_segment;

/* One record as stored; the strings are NUL-terminated and valid only
 * inside the host_segment_each callback. */
typedef struct host_record {
    const char *flow;
    const char *record_type;
    const char *id;
    const char *json;
    size_t json_len;
} host_record;

/* A segment keeping at most mem_max bytes in memory (0: a default of
 * 8 MiB). */
conn_status host_segment_new(size_t mem_max, host_segment **out, conn_error *err);

/* Accepts NULL. */
void host_segment_free(host_segment *seg);

/* Copy one record in. CONN_NOMEM or CONN_INTERNAL (the temporary file
 * cannot be written) with err filled. */
conn_status host_segment_add(host_segment *seg, const char *flow, const char *record_type,
                             const char *id, const char *json, size_t len, conn_error *err);

/* Records held, and their JSON bytes. */
size_t host_segment_count(const host_segment *seg);
uint64_t host_segment_bytes(const host_segment *seg);

/* Call fn for each record in the order added; a nonzero return stops the
 * walk and is returned. -1 when the temporary file cannot be read back. */
int host_segment_each(host_segment *seg, int (*fn)(void *user, const host_record *rec),
                      void *user);

/* Forget every record (after a commit, or to discard them). */
void host_segment_reset(host_segment *seg);

#endif
