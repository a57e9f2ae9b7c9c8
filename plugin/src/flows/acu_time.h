/* acu_time.h - instants as epoch milliseconds, and their text in Acumatica
 * filters and cursors. A thin layer over the mapping engine's date code,
 * so the plugin reads and writes dates one way. */
#ifndef ACU_TIME_H
#define ACU_TIME_H

#include <stddef.h>
#include <stdint.h>

/* RFC 3339 text of an instant, in UTC with "Z" (utc_z nonzero) or in the
 * fixed offset offset_min (minutes east of UTC):
 * "2024-07-15T10:31:28.402-05:00"; milliseconds only when non-zero. */
void acu_time_format(int64_t ms, int offset_min, int utc_z, char *buf,
                     size_t cap);

/* Parse RFC 3339 / ISO 8601 / Acumatica ("12/14/2023 19:57:08") date-time
 * text to epoch milliseconds; text without an offset is local_offset_min.
 * 0 on success, -1 when it is not a date-time. */
int acu_time_parse(const char *text, int local_offset_min, int64_t *ms);

/* Epoch milliseconds of local midnight `days` days before the local day
 * that contains now_ms, in the offset offset_min. */
int64_t acu_time_local_days_back(int64_t now_ms, int offset_min, int days);

#endif
