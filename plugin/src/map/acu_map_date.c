/* acu_map_date.c - dates and times for the expression language.
 *
 * Written out by hand (civil-from-days arithmetic) rather than with
 * timegm/strftime/strptime, so the result never depends on the process's
 * TZ, locale or C library, and every input is bounded and checked. A date
 * is an instant (Unix seconds + milliseconds) and the offset it is written
 * in; times without an offset are the business's local time (the
 * subscription's Time Zone Offset). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acu_map_internal.h"

static const char *const month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"};
static const char *const day_names[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* Broken-down local fields -> d. */
static int make(acu_datetime *d, int64_t y, int mo, int day, int h, int mi,
                int s, int ms, int offset, int has_time)
{
    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || day < 1 ||
        day > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 60 || ms < 0 || ms > 999 || offset < -18 * 60 ||
        offset > 18 * 60)
        return -1;
    if (s == 60)
        s = 59; /* a leap second reads as the second before */
    d->seconds = days_from_civil(y, mo, day) * 86400 + h * 3600 + mi * 60 + s -
                 (int64_t)offset * 60;
    d->millis = ms;
    d->offset_min = offset;
    d->has_time = (uint8_t)has_time;
    d->utc_z = 0;
    return 0;
}

typedef struct scan {
    const char *s;
    size_t len;
    size_t i;
} scan;

static int digits(scan *c, int min, int max, int *out)
{
    int n = 0, v = 0;

    while (c->i < c->len && n < max && isdigit((unsigned char)c->s[c->i])) {
        v = v * 10 + (c->s[c->i] - '0');
        c->i++;
        n++;
    }
    if (n < min)
        return -1;
    *out = v;
    return 0;
}

static int lit(scan *c, char ch)
{
    if (c->i < c->len && c->s[c->i] == ch) {
        c->i++;
        return 0;
    }
    return -1;
}

/* Fraction digits after '.', as milliseconds (extra digits ignored). */
static int fraction(scan *c, int *ms)
{
    int n = 0, v = 0;

    while (c->i < c->len && isdigit((unsigned char)c->s[c->i])) {
        if (n < 3)
            v = v * 10 + (c->s[c->i] - '0');
        if (++n > 12)
            return -1;
        c->i++;
    }
    if (n == 0)
        return -1;
    for (int k = n; k < 3; k++)
        v *= 10;
    *ms = v;
    return 0;
}

/* Z, +HH:MM, +HHMM, +HH */
static int zone(scan *c, int *offset, int *z)
{
    int sign, h = 0, m = 0;

    *z = 0;
    if (c->i < c->len && (c->s[c->i] == 'Z' || c->s[c->i] == 'z')) {
        c->i++;
        *offset = 0;
        *z = 1;
        return 0;
    }
    if (c->i >= c->len || (c->s[c->i] != '+' && c->s[c->i] != '-'))
        return -1;
    sign = c->s[c->i] == '-' ? -1 : 1;
    c->i++;
    if (digits(c, 2, 2, &h) != 0)
        return -1;
    if (c->i < c->len && c->s[c->i] == ':')
        c->i++;
    if (c->i < c->len && isdigit((unsigned char)c->s[c->i])) {
        if (digits(c, 2, 2, &m) != 0)
            return -1;
    }
    if (h > 18 || m > 59)
        return -1;
    *offset = sign * (h * 60 + m);
    return 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

int acu_map_date_parse(const char *s, size_t len, int local_offset_min,
                   acu_datetime *out)
{
    scan c;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = local_offset_min, z = 0;

    trim(&s, &len);
    c.s = s;
    c.len = len;
    c.i = 0;
    if (len == 0 || len > 64)
        return -1;
    /* Acumatica's M/D/YYYY [H:MM[:SS]] [AM|PM] */
    if (memchr(s, '/', len) != NULL) {
        int pm = -1;
        if (digits(&c, 1, 2, &mo) || lit(&c, '/') || digits(&c, 1, 2, &d) ||
            lit(&c, '/') || digits(&c, 4, 4, &y))
            return -1;
        if (c.i < c.len) {
            if (lit(&c, ' ') || digits(&c, 1, 2, &h) || lit(&c, ':') ||
                digits(&c, 2, 2, &mi))
                return -1;
            if (c.i < c.len && c.s[c.i] == ':') {
                c.i++;
                if (digits(&c, 2, 2, &sec))
                    return -1;
            }
            if (c.i < c.len) {
                if (lit(&c, ' ') || c.len - c.i != 2)
                    return -1;
                if (strncasecmp(c.s + c.i, "AM", 2) == 0)
                    pm = 0;
                else if (strncasecmp(c.s + c.i, "PM", 2) == 0)
                    pm = 1;
                else
                    return -1;
                c.i += 2;
                if (h < 1 || h > 12)
                    return -1;
                h = (h % 12) + (pm ? 12 : 0);
            }
            return make(out, y, mo, d, h, mi, sec, 0, local_offset_min, 1);
        }
        return make(out, y, mo, d, 0, 0, 0, 0, local_offset_min, 0);
    }
    if (digits(&c, 4, 4, &y) || lit(&c, '-') || digits(&c, 2, 2, &mo) ||
        lit(&c, '-') || digits(&c, 2, 2, &d))
        return -1;
    if (c.i == c.len)
        return make(out, y, mo, d, 0, 0, 0, 0, local_offset_min, 0);
    if (c.s[c.i] != 'T' && c.s[c.i] != 't' && c.s[c.i] != ' ')
        return -1;
    c.i++;
    if (digits(&c, 2, 2, &h) || lit(&c, ':') || digits(&c, 2, 2, &mi))
        return -1;
    if (c.i < c.len && c.s[c.i] == ':') {
        c.i++;
        if (digits(&c, 2, 2, &sec))
            return -1;
        if (c.i < c.len && (c.s[c.i] == '.' || c.s[c.i] == ',')) {
            c.i++;
            if (fraction(&c, &ms))
                return -1;
        }
    }
    if (c.i < c.len && zone(&c, &off, &z))
        return -1;
    if (c.i != c.len)
        return -1;
    if (make(out, y, mo, d, h, mi, sec, ms, off, 1))
        return -1;
    out->utc_z = (uint8_t)z;
    return 0;
}

/* The local broken-down time of d in its own offset. */
static void local_fields(const acu_datetime *d, int64_t *y, int *mo, int *day,
                         int *h, int *mi, int *s, int *wday, int *yday)
{
    int64_t t = d->seconds + (int64_t)d->offset_min * 60;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;

    civil_from_days(days, y, mo, day);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
    *wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    *yday = (int)(days - days_from_civil(*y, 1, 1));
}

int acu_map_date_year_ok(const acu_datetime *d)
{
    int64_t y;
    int mo, day, h, mi, s, wd, yd;

    local_fields(d, &y, &mo, &day, &h, &mi, &s, &wd, &yd);
    return y >= 1 && y <= 9999;
}

int acu_map_date_format_rfc3339(const acu_datetime *d, char *buf, size_t cap)
{
    int64_t y;
    int mo, day, h, mi, s, wd, yd, n;
    char frac[16] = "";
    char zonebuf[16];

    local_fields(d, &y, &mo, &day, &h, &mi, &s, &wd, &yd);
    if (d->millis > 0) {
        snprintf(frac, sizeof(frac), ".%03d", (int)d->millis);
        for (int k = 3; k > 1 && frac[k] == '0'; k--)
            frac[k] = '\0';
    }
    if (d->offset_min == 0 && d->utc_z)
        snprintf(zonebuf, sizeof(zonebuf), "Z");
    else
        snprintf(zonebuf, sizeof(zonebuf), "%c%02d:%02d",
                 d->offset_min < 0 ? '-' : '+', (d->offset_min < 0 ? -d->offset_min : d->offset_min) / 60,
                 (d->offset_min < 0 ? -d->offset_min : d->offset_min) % 60);
    n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", (int)y, mo,
                 day, h, mi, s, frac, zonebuf);
    return n;
}

int acu_map_date_format(const acu_datetime *d, const char *fmt, char *buf,
                    size_t cap)
{
    int64_t y;
    int mo, day, h, mi, s, wd, yd;
    size_t o = 0;

    local_fields(d, &y, &mo, &day, &h, &mi, &s, &wd, &yd);
#define PUT(...)                                                              \
    do {                                                                      \
        int n_ = snprintf(buf + o, cap - o, __VA_ARGS__);                     \
        if (n_ < 0 || (size_t)n_ >= cap - o)                                  \
            return -1;                                                        \
        o += (size_t)n_;                                                      \
    } while (0)
    if (cap == 0)
        return -1;
    buf[0] = '\0';
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            PUT("%c", *f);
            continue;
        }
        f++;
        switch (*f) {
        case 'Y': PUT("%04d", (int)y); break;
        case 'y': PUT("%02d", (int)(y % 100)); break;
        case 'm': PUT("%02d", mo); break;
        case 'd': PUT("%02d", day); break;
        case 'e': PUT("%d", day); break;
        case 'H': PUT("%02d", h); break;
        case 'I': PUT("%02d", h % 12 == 0 ? 12 : h % 12); break;
        case 'M': PUT("%02d", mi); break;
        case 'S': PUT("%02d", s); break;
        case 'p': PUT("%s", h < 12 ? "AM" : "PM"); break;
        case 'f': PUT("%03d", (int)d->millis); break;
        case 'j': PUT("%03d", yd + 1); break;
        case 'b': PUT("%.3s", month_names[mo - 1]); break;
        case 'B': PUT("%s", month_names[mo - 1]); break;
        case 'a': PUT("%.3s", day_names[wd]); break;
        case 'A': PUT("%s", day_names[wd]); break;
        case 'F': PUT("%04d-%02d-%02d", (int)y, mo, day); break;
        case 'T': PUT("%02d:%02d:%02d", h, mi, s); break;
        case 'z': {
            int a = d->offset_min < 0 ? -d->offset_min : d->offset_min;
            PUT("%c%02d%02d", d->offset_min < 0 ? '-' : '+', a / 60, a % 60);
            break;
        }
        case ':':
            if (f[1] == 'z') {
                int a = d->offset_min < 0 ? -d->offset_min : d->offset_min;
                f++;
                PUT("%c%02d:%02d", d->offset_min < 0 ? '-' : '+', a / 60, a % 60);
                break;
            }
            return -1;
        case '%': PUT("%%"); break;
        default: return -1;
        }
    }
#undef PUT
    return (int)o;
}

int acu_map_date_parse_format(const char *s, size_t len, const char *fmt,
                          int local_offset_min, acu_datetime *out)
{
    scan c = {s, len, 0};
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0;
    int off = local_offset_min, pm = -1, has_time = 0, z = 0;

    for (const char *f = fmt; *f; f++) {
        if (isspace((unsigned char)*f)) {
            while (c.i < c.len && isspace((unsigned char)c.s[c.i]))
                c.i++;
            continue;
        }
        if (*f != '%') {
            if (lit(&c, *f))
                return -1;
            continue;
        }
        f++;
        switch (*f) {
        case 'Y': if (digits(&c, 4, 4, &y)) return -1; break;
        case 'y': if (digits(&c, 2, 2, &y)) return -1; y += y < 70 ? 2000 : 1900; break;
        case 'm': if (digits(&c, 1, 2, &mo)) return -1; break;
        case 'd': case 'e': if (digits(&c, 1, 2, &d)) return -1; break;
        case 'H': if (digits(&c, 1, 2, &h)) return -1; has_time = 1; break;
        case 'I': if (digits(&c, 1, 2, &h)) return -1; has_time = 1; break;
        case 'M': if (digits(&c, 1, 2, &mi)) return -1; has_time = 1; break;
        case 'S': if (digits(&c, 1, 2, &sec)) return -1; has_time = 1; break;
        case 'f': if (fraction(&c, &ms)) return -1; break;
        case 'p':
            if (c.len - c.i < 2)
                return -1;
            if (strncasecmp(c.s + c.i, "AM", 2) == 0)
                pm = 0;
            else if (strncasecmp(c.s + c.i, "PM", 2) == 0)
                pm = 1;
            else
                return -1;
            c.i += 2;
            break;
        case 'b': case 'B': {
            int found = -1;
            for (int k = 0; k < 12 && found < 0; k++) {
                size_t full = strlen(month_names[k]);
                if (c.len - c.i >= full && strncasecmp(c.s + c.i, month_names[k], full) == 0) {
                    c.i += full;
                    found = k;
                } else if (c.len - c.i >= 3 && strncasecmp(c.s + c.i, month_names[k], 3) == 0) {
                    c.i += 3;
                    found = k;
                }
            }
            if (found < 0)
                return -1;
            mo = found + 1;
            break;
        }
        case 'z': if (zone(&c, &off, &z)) return -1; break;
        case '%': if (lit(&c, '%')) return -1; break;
        default: return -1;
        }
    }
    if (c.i != c.len)
        return -1;
    if (pm >= 0) {
        if (h < 1 || h > 12)
            return -1;
        h = (h % 12) + (pm ? 12 : 0);
    }
    if (make(out, y, mo, d, h, mi, sec, ms, off, has_time))
        return -1;
    out->utc_z = (uint8_t)z;
    return 0;
}
