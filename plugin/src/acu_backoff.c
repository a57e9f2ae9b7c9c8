/* acu_backoff.c - retry delays and Retry-After. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "acu_backoff.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const acu_backoff_policy acu_backoff_default = {
    .max_attempts = 5,
    .base_ms = 500,
    .cap_ms = 30000,
    .max_ms = 120000,
};

int64_t acu_backoff_delay(const acu_backoff_policy *policy, acu_prng *prng,
                          int retry, int64_t retry_after_ms)
{
    int64_t ceiling = policy->base_ms;

    if (retry_after_ms >= 0) {
        if (retry_after_ms > policy->max_ms)
            return -1;
        return retry_after_ms + (int64_t)acu_prng_below(prng, (uint64_t)(retry_after_ms / 10 + 1));
    }
    for (int i = 1; i < retry && ceiling < policy->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > policy->cap_ms)
        ceiling = policy->cap_ms;
    return (int64_t)acu_prng_below(prng, (uint64_t)ceiling + 1);
}

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", read without the locale
 * (strptime's %a and %b follow LC_TIME, which belongs to the host). */
static int parse_imf_fixdate(const char *p, struct tm *tm)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    int day, year, hh, mm, ss, n = 0;
    const char *m;

    if (strlen(p) < 29 || p[3] != ',' || p[4] != ' ')
        return -1;
    if (sscanf(p + 5, "%2d %3c %4d %2d:%2d:%2d GMT%n", &day, mon, &year, &hh, &mm, &ss,
               &n) != 6 || n == 0)
        return -1;
    mon[3] = '\0';
    m = strstr(months, mon);
    if (m == NULL || (m - months) % 3 != 0 || day < 1 || day > 31 || hh > 23 || mm > 59 ||
        ss > 60)
        return -1;
    for (const char *q = p + 5 + n; *q != '\0'; q++)
        if (!isspace((unsigned char)*q))
            return -1;
    memset(tm, 0, sizeof(*tm));
    tm->tm_mday = day;
    tm->tm_mon = (int)((m - months) / 3);
    tm->tm_year = year - 1900;
    tm->tm_hour = hh;
    tm->tm_min = mm;
    tm->tm_sec = ss;
    return 0;
}

static int64_t delay_until(struct tm *tm, int64_t now_ms)
{
    int64_t ms = (int64_t)timegm(tm) * 1000 - now_ms;

    return ms > 0 ? ms : 0;
}

int64_t acu_retry_after_parse(const char *value, int64_t now_ms)
{
    /* The obsolete forms a recipient must still accept (RFC 9110 5.6.7). */
    static const char *const formats[] = {
        "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
        "%a %b %d %H:%M:%S %Y",      /* asctime */
    };
    struct tm tm;
    const char *p = value;
    int64_t secs = 0;

    if (value == NULL)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (isdigit((unsigned char)*p)) {
        while (isdigit((unsigned char)*p)) {
            if (secs > 100000000)
                return -1;
            secs = secs * 10 + (*p++ - '0');
        }
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        return *p == '\0' ? secs * 1000 : -1;
    }
    if (parse_imf_fixdate(p, &tm) == 0)
        return delay_until(&tm, now_ms);
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        const char *end;

        memset(&tm, 0, sizeof(tm));
        end = strptime(p, formats[i], &tm);
        if (end == NULL)
            continue;
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end != '\0')
            continue;
        return delay_until(&tm, now_ms);
    }
    return -1;
}
