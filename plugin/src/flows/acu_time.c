/* acu_time.c - instants as epoch milliseconds; see acu_time.h. */
#include "acu_time.h"

#include <string.h>

#include "acu_map_internal.h"

void acu_time_format(int64_t ms, int offset_min, int utc_z, char *buf,
                     size_t cap)
{
    acu_datetime d;
    int n;
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);

    memset(&d, 0, sizeof(d));
    d.seconds = sec;
    d.millis = (int32_t)(ms - sec * 1000);
    d.offset_min = utc_z ? 0 : offset_min;
    d.has_time = 1;
    d.utc_z = utc_z ? 1 : 0;
    n = acu_map_date_format_rfc3339(&d, buf, cap);
    if ((n < 0 || (size_t)n >= cap) && cap > 0)
        buf[0] = '\0';
}

int acu_time_parse(const char *text, int local_offset_min, int64_t *ms)
{
    acu_datetime d;

    if (text == NULL ||
        acu_map_date_parse(text, strlen(text), local_offset_min, &d) != 0)
        return -1;
    *ms = d.seconds * 1000 + d.millis;
    return 0;
}

int64_t acu_time_local_days_back(int64_t now_ms, int offset_min, int days)
{
    const int64_t day_ms = 86400000;
    int64_t local = now_ms + (int64_t)offset_min * 60000;
    int64_t midnight = local >= 0 ? local - local % day_ms
                                  : local - ((local % day_ms) + day_ms) % day_ms;

    return midnight - (int64_t)days * day_ms - (int64_t)offset_min * 60000;
}
