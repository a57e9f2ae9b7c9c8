/* acu_describe.h - the document `describe` returns: the plugin's identity,
 * the settings JSON Schema, the flows with their directions and the
 * capabilities. */
#ifndef ACU_DESCRIBE_H
#define ACU_DESCRIBE_H

#include "conn_abi.h"

/* Write the describe document to out. name/version/build_info are the
 * plugin build's static strings. */
conn_status acu_describe_write(const char *name, const char *version,
                               const char *build_info, conn_write_fn out,
                               void *user, conn_error *err);

#endif
