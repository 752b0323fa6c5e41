/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/text.h"
#include "common/timezone.h"

#define TZIF_MAX_SIZE (1024 * 1024)
#define TZIF_MAX_TRANSITIONS 20000
#define DAY 86400

/* A POSIX TZ rule's date: Jn (julian, no Feb 29), n (zero-based day of
 * the year) or Mm.w.d (day d of week w of month m, 5 = the last). */
typedef struct RuleDate {
        char kind; /* 'J', 'D' (n) or 'M' */
        int day, week, month;
        int32_t time; /* seconds after local midnight; may be negative or > 24 h */
} RuleDate;

typedef struct Footer {
        bool present;         /* else: the last transition's type holds on */
        int32_t std_offset;   /* seconds east of UTC */
        bool has_dst;
        int32_t dst_offset;
        bool has_rule;        /* a DST with no rule: DST all the time */
        RuleDate start, end;  /* DST starts (in standard time), ends (in DST) */
} Footer;

struct TimeZone {
        int64_t *times;   /* ascending */
        int32_t *offsets; /* in effect from times[i] */
        size_t n;
        int32_t initial;  /* before the first transition: type 0 */
        Footer footer;
};

TimeZone *timezone_free(TimeZone *tz) {
        if (!tz)
                return NULL;
        free(tz->times);
        free(tz->offsets);
        free(tz);
        return NULL;
}

/* ---- civil dates ------------------------------------------------------- */

/* Howard Hinnant's days_from_civil and civil_from_days */
int64_t days_from_civil(int year, unsigned month, unsigned day) {
        int64_t y = (int64_t) year - (month <= 2);
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + (int64_t) doe - 719468;
}

void civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day) {
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;

        *year = (int) ((int64_t) yoe + era * 400 + (m <= 2));
        *month = m;
        *day = d;
}

unsigned weekday_from_days(int64_t days) {
        return (unsigned) (((days + 4) % 7 + 7) % 7);
}

static int64_t floor_div(int64_t a, int64_t b) {
        return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool leap_year(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- the footer: a POSIX TZ string ------------------------------------ */

static const char *parse_name(const char *s) {
        const char *p = s;

        if (*p == '<') {
                while (*++p && *p != '>')
                        if (!(*p == '+' || *p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                              (*p >= 'a' && *p <= 'z')))
                                return NULL;
                return *p == '>' && p - s >= 4 ? p + 1 : NULL;
        }
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
                p++;
        return p - s >= 3 ? p : NULL;
}

static const char *parse_number(const char *s, int max, int *ret) {
        int v = 0;

        if (*s < '0' || *s > '9')
                return NULL;
        for (; *s >= '0' && *s <= '9'; s++) {
                v = v * 10 + (*s - '0');
                if (v > max)
                        return NULL;
        }
        *ret = v;
        return s;
}

/* [+-]hh[:mm[:ss]], hh up to max_hours */
static const char *parse_hms(const char *s, int max_hours, int32_t *ret) {
        int sign = 1, h, m = 0, sec = 0;

        if (*s == '+' || *s == '-')
                sign = *s++ == '-' ? -1 : 1;
        if (!(s = parse_number(s, max_hours, &h)))
                return NULL;
        if (*s == ':' && !(s = parse_number(s + 1, 59, &m)))
                return NULL;
        if (*s == ':' && !(s = parse_number(s + 1, 59, &sec)))
                return NULL;
        *ret = sign * (h * 3600 + m * 60 + sec);
        return s;
}

static const char *parse_rule_date(const char *s, RuleDate *d) {
        if (*s == 'J') {
                d->kind = 'J';
                if (!(s = parse_number(s + 1, 365, &d->day)) || d->day < 1)
                        return NULL;
        } else if (*s == 'M') {
                d->kind = 'M';
                if (!(s = parse_number(s + 1, 12, &d->month)) || d->month < 1 || *s != '.' ||
                    !(s = parse_number(s + 1, 5, &d->week)) || d->week < 1 || *s != '.' ||
                    !(s = parse_number(s + 1, 6, &d->day)))
                        return NULL;
        } else {
                d->kind = 'D';
                if (!(s = parse_number(s, 365, &d->day)))
                        return NULL;
        }
        d->time = 2 * 3600;
        if (*s == '/' && !(s = parse_hms(s + 1, 167, &d->time)))
                return NULL;
        return s;
}

static int parse_footer(const char *s, Footer *f) {
        int32_t off;

        *f = (Footer){ .present = *s != '\0' };
        if (!*s)
                return 0;
        if (!(s = parse_name(s)) || !(s = parse_hms(s, 24, &off)))
                return -EINVAL;
        f->std_offset = -off; /* POSIX counts west of UTC */
        if (!*s)
                return 0;
        if (!(s = parse_name(s)))
                return -EINVAL;
        f->has_dst = true;
        f->dst_offset = f->std_offset + 3600;
        if (*s && *s != ',') {
                if (!(s = parse_hms(s, 24, &off)))
                        return -EINVAL;
                f->dst_offset = -off;
        }
        if (!*s)
                return 0; /* DST with no rule: tzcode takes "M3.2.0,M11.1.0"; TZif footers always have one */
        if (*s != ',' || !(s = parse_rule_date(s + 1, &f->start)) || *s != ',' ||
            !(s = parse_rule_date(s + 1, &f->end)) || *s)
                return -EINVAL;
        f->has_rule = true;
        return 0;
}

/* Days since the epoch of a rule's date in year */
static int64_t rule_day(const RuleDate *d, int year) {
        int64_t jan1 = days_from_civil(year, 1, 1);

        switch (d->kind) {
        case 'J': /* 1..365, Feb 29 never counted */
                return jan1 + d->day - 1 + (leap_year(year) && d->day >= 60);
        case 'D':
                return jan1 + d->day;
        default: {
                static const unsigned month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
                int64_t first = days_from_civil(year, (unsigned) d->month, 1);
                unsigned length = month_days[d->month - 1] + (d->month == 2 && leap_year(year));
                int64_t day = first + (d->day - (int) weekday_from_days(first) + 7) % 7 + (d->week - 1) * 7;
                while (day >= first + length)
                        day -= 7;
                return day;
        }
        }
}

static int64_t rule_instant(const RuleDate *d, int year, int32_t offset) {
        return rule_day(d, year) * DAY + d->time - offset;
}

static int32_t footer_offset(const Footer *f, int64_t t) {
        int year;
        unsigned m, d;

        if (!f->has_dst)
                return f->std_offset;
        if (!f->has_rule)
                return f->dst_offset;
        civil_from_days(floor_div(t + f->std_offset, DAY), &year, &m, &d);
        /* each year's DST period, from its start (told in standard time) to
         * its end (told in DST): inside the year in the north, into the next
         * one in the south; the neighbours' too, for rules near new year */
        for (int y = year - 2; y <= year + 1; y++) {
                int64_t start = rule_instant(&f->start, y, f->std_offset);
                int64_t end = rule_instant(&f->end, y, f->dst_offset);

                if (end <= start)
                        end = rule_instant(&f->end, y + 1, f->dst_offset);
                if (t >= start && t < end)
                        return f->dst_offset;
        }
        return f->std_offset;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) {
        return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

typedef struct Header {
        char version;
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} Header;

static int read_header(const uint8_t *p, size_t left, Header *h, char *err, size_t err_size) {
        if (left < 44 || memcmp(p, "TZif", 4) != 0)
                return text_refuse(err, err_size, "not TZif data (no \"TZif\" header)");
        h->version = (char) p[4];
        h->isutcnt = be32(p + 20);
        h->isstdcnt = be32(p + 24);
        h->leapcnt = be32(p + 28);
        h->timecnt = be32(p + 32);
        h->typecnt = be32(p + 36);
        h->charcnt = be32(p + 40);
        if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 || h->charcnt > 65536 ||
            h->timecnt > TZIF_MAX_TRANSITIONS || h->leapcnt > 1000 || (h->isutcnt && h->isutcnt != h->typecnt) ||
            (h->isstdcnt && h->isstdcnt != h->typecnt))
                return text_refuse(err, err_size, "TZif header: impossible counts (%u types, %u transitions)", h->typecnt,
                            h->timecnt);
        return 0;
}

static size_t block_size(const Header *h, size_t time_size) {
        return (size_t) h->timecnt * time_size + h->timecnt + (size_t) h->typecnt * 6 + h->charcnt +
               (size_t) h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

int timezone_parse(const void *data, size_t size, TimeZone **ret, char *err, size_t err_size) {
        const uint8_t *p = data, *end = p + size;
        _cleanup_(timezone_freep) TimeZone *tz = NULL;
        Header h;
        int r;

        if ((r = read_header(p, size, &h, err, err_size)) < 0)
                return r;
        if (h.version < '2')
                return text_refuse(err, err_size, "TZif version 1 has no 64-bit data: not supported");
        if (block_size(&h, 4) > size - 44)
                return text_refuse(err, err_size, "TZif data is cut short (version 1 block)");
        p += 44 + block_size(&h, 4);
        if ((r = read_header(p, (size_t) (end - p), &h, err, err_size)) < 0)
                return r;
        p += 44;
        if (block_size(&h, 8) > (size_t) (end - p))
                return text_refuse(err, err_size, "TZif data is cut short (64-bit block)");
        if (h.leapcnt)
                return text_refuse(err, err_size, "a zone with leap seconds (right/) is not supported");

        const uint8_t *times = p, *indices = times + (size_t) h.timecnt * 8, *types = indices + h.timecnt;
        const uint8_t *chars = types + (size_t) h.typecnt * 6;
        int32_t offsets[256];

        for (uint32_t i = 0; i < h.typecnt; i++) {
                int32_t utoff = (int32_t) be32(types + i * 6);
                /* RFC 8536: -2^31 is invalid; real offsets are within a day */
                if (utoff <= -25 * 3600 || utoff >= 26 * 3600 || types[i * 6 + 4] > 1 ||
                    types[i * 6 + 5] >= h.charcnt)
                        return text_refuse(err, err_size, "TZif local time type %u is invalid", i);
                offsets[i] = utoff;
        }
        if (chars[h.charcnt - 1] != '\0')
                return text_refuse(err, err_size, "TZif abbreviations are not NUL-terminated");

        tz = calloc(1, sizeof(TimeZone));
        if (!tz || !(tz->times = calloc(MAX(h.timecnt, 1u), sizeof(int64_t))) ||
            !(tz->offsets = calloc(MAX(h.timecnt, 1u), sizeof(int32_t))))
                return -ENOMEM;
        for (uint32_t i = 0; i < h.timecnt; i++) {
                tz->times[i] = be64(times + (size_t) i * 8);
                if (i > 0 && tz->times[i] <= tz->times[i - 1])
                        return text_refuse(err, err_size, "TZif transition %u is not after the one before", i);
                if (indices[i] >= h.typecnt)
                        return text_refuse(err, err_size, "TZif transition %u names type %u of %u", i, indices[i], h.typecnt);
                tz->offsets[i] = offsets[indices[i]];
        }
        tz->n = h.timecnt;
        tz->initial = offsets[0];
        p += block_size(&h, 8);

        /* the footer: "\n" TZ-string "\n" */
        char footer[128];
        const uint8_t *nl;
        if (p >= end || *p != '\n' || !(nl = memchr(p + 1, '\n', (size_t) (end - p - 1))) ||
            (size_t) (nl - p - 1) >= sizeof(footer))
                return text_refuse(err, err_size, "TZif footer is missing or not one line");
        memcpy(footer, p + 1, (size_t) (nl - p - 1));
        footer[nl - p - 1] = '\0';
        if (memchr(footer, '\0', (size_t) (nl - p - 1)) || parse_footer(footer, &tz->footer) < 0)
                return text_refuse(err, err_size, "TZif footer \"%.64s\" is not a POSIX TZ rule hostd reads", footer);
        *ret = TAKE_PTR(tz);
        return 0;
}

static bool valid_name(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n >= TIMEZONE_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
                return false;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                      *c == '_' || *c == '-' || *c == '+' || *c == '/' || *c == '.'))
                        return false;
        /* no "." or ".." component, no empty one */
        for (const char *c = name; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
                if (*c == '/' || (c[0] == '.' && (c[1] == '/' || !c[1] || (c[1] == '.' && (c[2] == '/' || !c[2])))))
                        return false;
        return true;
}

int timezone_load(const char *directory, const char *name, TimeZone **ret, char *err, size_t err_size) {
        _cleanup_free_ char *data = NULL;
        char path[512], why[192];
        size_t size;
        int r;

        if (!name || !valid_name(name))
                return text_refuse(err, err_size, "\"%.64s\" is not a time zone name (like Europe/Berlin or UTC)",
                            name ? name : "");
        snprintf(path, sizeof(path), "%s/%s", directory ? directory : TIMEZONE_DIRECTORY, name);
        r = read_file(path, TZIF_MAX_SIZE, &data, &size);
        if (r < 0) {
                bool unknown = r == -ENOENT || r == -ENOTDIR || r == -EINVAL; /* -EINVAL: not a file (a region's directory) */
                if (err_size)
                        snprintf(err, err_size, "time zone %s: %s: %s", name, path,
                                 unknown ? "no such zone (is tzdata installed?)" : strerror(-r));
                return unknown ? -ENOENT : r;
        }
        r = timezone_parse(data, size, ret, why, sizeof(why));
        if (r < 0 && err_size)
                snprintf(err, err_size, "time zone %s: %s: %s", name, path, why);
        return r;
}

int32_t timezone_offset(const TimeZone *tz, int64_t t) {
        size_t lo = 0, hi = tz->n;

        if (tz->n == 0 || t < tz->times[0])
                return tz->n == 0 && tz->footer.present ? footer_offset(&tz->footer, t) : tz->initial;
        if (t >= tz->times[tz->n - 1] && tz->footer.present)
                return footer_offset(&tz->footer, t);
        /* the last transition at or before t */
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (tz->times[mid] <= t)
                        lo = mid;
                else
                        hi = mid;
        }
        return tz->offsets[lo];
}

/* The first instant after t at which the zone's table or its footer rule
 * may change the offset (a candidate; the offset may stay the same). */
static int64_t next_boundary(const TimeZone *tz, int64_t t) {
        int64_t best = INT64_MAX;

        if (tz->n > 0 && t < tz->times[tz->n - 1]) {
                size_t lo = 0, hi = tz->n - 1; /* the first time > t */
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (tz->times[mid] > t)
                                hi = mid;
                        else
                                lo = mid + 1;
                }
                return tz->times[lo];
        }
        if (tz->footer.present && tz->footer.has_dst && tz->footer.has_rule) {
                const Footer *f = &tz->footer;
                int year;
                unsigned m, d;
                civil_from_days(floor_div(t + f->std_offset, DAY), &year, &m, &d);
                for (int y = year - 2; y <= year + 2; y++) {
                        int64_t start = rule_instant(&f->start, y, f->std_offset);
                        int64_t end = rule_instant(&f->end, y, f->dst_offset);
                        if (start > t)
                                best = MIN(best, start);
                        if (end > t)
                                best = MIN(best, end);
                }
        }
        return best;
}

/* Where the offset changes after t, up to limit (INT64_MAX: it does not). */
static int64_t next_change(const TimeZone *tz, int64_t t, int64_t limit) {
        int32_t off = timezone_offset(tz, t);

        for (int64_t c = next_boundary(tz, t); c <= limit; c = next_boundary(tz, c))
                if (timezone_offset(tz, c) != off)
                        return c;
        return INT64_MAX;
}

int64_t timezone_from_local(const TimeZone *tz, int64_t local) {
        /* an instant showing local is within a day and two hours of it:
         * offsets are; look at each span of one offset there, in order */
        const int64_t from = local - 26 * 3600, to = local + 26 * 3600;
        int64_t skipped = INT64_MAX;

        for (int64_t start = from; start <= to;) {
                int32_t off = timezone_offset(tz, start);
                int64_t end = next_change(tz, start, to), t = local - off;

                if (t >= start && t < end && timezone_offset(tz, t) == off)
                        return t; /* the first showing */
                /* the clock jumps over local at end */
                if (end != INT64_MAX && skipped == INT64_MAX && end - 1 + off < local &&
                    end + timezone_offset(tz, end) > local)
                        skipped = end;
                if (end == INT64_MAX)
                        break;
                start = end;
        }
        if (skipped != INT64_MAX)
                return skipped;
        return local - timezone_offset(tz, local); /* not reached for a zone's data: offsets are within a day */
}
