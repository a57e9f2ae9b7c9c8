/* host_file.h - reading a whole (small) file, such as a settings file. */
#ifndef HOST_FILE_H
#define HOST_FILE_H

#include <stddef.h>

#include "conn_abi.h"

/* Read the file at path, at most max bytes, into *out (malloc'd,
 * NUL-terminated, caller frees) and *len. CONN_NOT_FOUND when it does not
 * exist, CONN_INVALID when it is not a regular file or larger than max,
 * CONN_INTERNAL for other errors; the message names the file. */
conn_status host_read_file(const char *path, size_t max, char **out, size_t *len,
                           conn_error *err);

#endif
