/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "common/text.h"
#include "patching/wave-window.h"

#define DAY 86400
#define USEC 1000000LL
#define HORIZON_DAYS 380 /* a year, and the longest window */

static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

bool wave_schedule_active(const WaveSchedule *s) {
        return s->n_windows > 0 || s->n_blackouts > 0;
}

static int day_index(const char *s) {
        for (int d = 0; d < 7; d++)
                if (strncasecmp(s, day_names[d], 3) == 0)
                        return d;
        return -1;
}

/* "Mon-Fri", "Sat,Sun", "Mon,Wed-Fri", "*" up to the first space */
static const char *parse_days(const char *s, uint8_t *ret) {
        uint8_t days = 0;

        if (*s == '*') {
                *ret = 0x7f;
                return s + 1;
        }
        for (;;) {
                int a = day_index(s), b;
                if (a < 0)
                        return NULL;
                s += 3;
                b = a;
                if (*s == '-') {
                        if ((b = day_index(s + 1)) < 0)
                                return NULL;
                        s += 4;
                }
                /* Fri-Mon wraps over the week's end */
                for (int d = a;; d = (d + 1) % 7) {
                        days |= (uint8_t) (1u << d);
                        if (d == b)
                                break;
                }
                if (*s != ',')
                        break;
                s++;
        }
        *ret = days;
        return s;
}

static const char *parse_uint(const char *s, unsigned max, unsigned *ret) {
        unsigned v = 0;

        if (*s < '0' || *s > '9')
                return NULL;
        for (; *s >= '0' && *s <= '9'; s++)
                if ((v = v * 10 + (unsigned) (*s - '0')) > max)
                        return NULL;
        *ret = v;
        return s;
}

/* "4h", "90m", "1h30m", "2d" */
static const char *parse_length(const char *s, unsigned *ret) {
        unsigned total = 0, v;
        bool any = false;

        while (*s && *s != ' ') {
                if (!(s = parse_uint(s, 7 * 24 * 60, &v)))
                        return NULL;
                switch (*s++) {
                case 'd': v *= 24 * 60; break;
                case 'h': v *= 60; break;
                case 'm': break;
                default: return NULL;
                }
                total += v;
                any = true;
                if (total > 7 * 24 * 60)
                        return NULL;
        }
        if (!any)
                return NULL;
        *ret = total;
        return s;
}

int wave_window_parse(const char *spec, WaveWindow *ret, char *err, size_t err_size) {
        const char *s = spec;
        WaveWindow w = {};
        unsigned h, m;

        if (!spec || strlen(spec) >= WAVE_WINDOW_SPEC_MAX)
                return text_refuse(err, err_size, "window: expected \"DAYS HH:MM LENGTH\" (like \"Mon-Fri 22:00 4h\")");
        if (!(s = parse_days(s, &w.days)) || *s != ' ')
                return text_refuse(err, err_size,
                            "window \"%s\": the days are not days of the week (like \"Mon-Fri\", \"Sat,Sun\" or \"*\")",
                            spec);
        while (*s == ' ')
                s++;
        if (!(s = parse_uint(s, 23, &h)) || *s != ':' || !(s = parse_uint(s + 1, 59, &m)) || *s != ' ')
                return text_refuse(err, err_size, "window \"%s\": the start is not a time HH:MM (00:00..23:59)", spec);
        w.start_minute = h * 60 + m;
        while (*s == ' ')
                s++;
        if (!(s = parse_length(s, &w.length_minutes)) || w.length_minutes == 0 || *s)
                return text_refuse(err, err_size,
                            "window \"%s\": the length is not a duration of 1m..7d (like \"4h\", \"90m\" or \"1h30m\")",
                            spec);
        *ret = w;
        return 0;
}

static const char *parse_date(const char *s, int64_t *ret) {
        unsigned y, m, d;
        static const unsigned month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        if (!(s = parse_uint(s, 9999, &y)) || y < 1970 || *s != '-' || !(s = parse_uint(s + 1, 12, &m)) || m < 1 ||
            *s != '-' || !(s = parse_uint(s + 1, 31, &d)) || d < 1 || d > month_days[m - 1])
                return NULL;
        if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                return NULL;
        *ret = days_from_civil((int) y, m, d);
        return s;
}

int wave_blackout_parse(const char *spec, WaveBlackout *ret, char *err, size_t err_size) {
        const char *s = spec;
        WaveBlackout b;

        if (!spec || !(s = parse_date(s, &b.first_day)))
                return text_refuse(err, err_size, "blackout \"%.64s\": expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD",
                            spec ? spec : "");
        b.last_day = b.first_day;
        if (s[0] == '.' && s[1] == '.' && !(s = parse_date(s + 2, &b.last_day)))
                return text_refuse(err, err_size, "blackout \"%.64s\": the range's end is not a date YYYY-MM-DD", spec);
        if (*s)
                return text_refuse(err, err_size, "blackout \"%.64s\": expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD",
                            spec);
        if (b.last_day < b.first_day || b.last_day - b.first_day >= 366)
                return text_refuse(err, err_size, "blackout \"%.64s\": the range ends before it starts or is longer than a year",
                            spec);
        *ret = b;
        return 0;
}

void wave_window_format(const WaveWindow *w, char *buf, size_t size) {
        char days[64] = "";
        size_t n = 0;

        if (w->days == 0x7f)
                snprintf(days, sizeof(days), "*");
        else
                /* runs of days, Monday to Sunday: "Mon-Fri", "Sat,Sun", "Mon,Wed" */
                for (int i = 0; i < 7;) {
                        if (!(w->days & (1u << ((i + 1) % 7)))) {
                                i++;
                                continue;
                        }
                        int j = i;
                        while (j + 1 < 7 && (w->days & (1u << ((j + 2) % 7))))
                                j++;
                        n += (size_t) snprintf(days + n, sizeof(days) - n, "%s%s", n ? "," : "", day_names[(i + 1) % 7]);
                        if (j > i)
                                n += (size_t) snprintf(days + n, sizeof(days) - n, "%s%s", j == i + 1 ? "," : "-",
                                                       day_names[(j + 1) % 7]);
                        i = j + 1;
                }
        unsigned len = w->length_minutes;
        char length[32];
        if (len % (24 * 60) == 0)
                snprintf(length, sizeof(length), "%ud", len / (24 * 60));
        else if (len % 60 == 0)
                snprintf(length, sizeof(length), "%uh", len / 60);
        else if (len > 60)
                snprintf(length, sizeof(length), "%uh%um", len / 60, len % 60);
        else
                snprintf(length, sizeof(length), "%um", len);
        snprintf(buf, size, "%s %02u:%02u %s", days, w->start_minute / 60, w->start_minute % 60, length);
}

static void format_date(int64_t days, char *buf, size_t size) {
        int y;
        unsigned m, d;

        civil_from_days(days, &y, &m, &d);
        snprintf(buf, size, "%04d-%02u-%02u", y, m, d);
}

void wave_blackout_format(const WaveBlackout *b, char *buf, size_t size) {
        char first[16], last[16];

        format_date(b->first_day, first, sizeof(first));
        format_date(b->last_day, last, sizeof(last));
        if (b->first_day == b->last_day)
                snprintf(buf, size, "%s", first);
        else
                snprintf(buf, size, "%s..%s", first, last);
}

/* ---- when ------------------------------------------------------------ */

typedef struct Interval {
        int64_t start, end; /* seconds, [start, end) */
} Interval;

static int by_start(const void *a, const void *b) {
        const Interval *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

int wave_schedule_next_start(const WaveSchedule *s, const TimeZone *tz, uint64_t now_usec, uint64_t need_usec,
                             uint64_t *ret_start, uint64_t *ret_close) {
        int64_t now = (int64_t) (now_usec / USEC), need = (int64_t) ((need_usec + USEC - 1) / USEC);
        int64_t today = (now + timezone_offset(tz, now)) / DAY;
        size_t n = 0, max = s->n_windows ? (HORIZON_DAYS + 8) * s->n_windows : 1;
        _cleanup_free_ Interval *open = calloc(max, sizeof(Interval));

        if (!open)
                return -ENOMEM;
        if (s->n_windows == 0)
                open[n++] = (Interval){ now, now + (int64_t) HORIZON_DAYS * DAY };
        /* every window's openings from a week back (the longest window) on */
        for (int64_t day = today - 8; day < today + HORIZON_DAYS && s->n_windows; day++)
                for (size_t i = 0; i < s->n_windows; i++) {
                        const WaveWindow *w = &s->windows[i];
                        if (!(w->days & (1u << weekday_from_days(day))))
                                continue;
                        int64_t local = day * DAY + w->start_minute * 60;
                        Interval v = { timezone_from_local(tz, local),
                                       timezone_from_local(tz, local + (int64_t) w->length_minutes * 60) };
                        if (v.end > v.start && v.end > now)
                                open[n++] = v;
                }
        qsort(open, n, sizeof(Interval), by_start);

        /* merged, then each cut by the blackouts, looking for the first fit */
        for (size_t i = 0; i < n;) {
                Interval merged = open[i++];
                for (; i < n && open[i].start <= merged.end; i++)
                        merged.end = MAX(merged.end, open[i].end);

                /* the pieces the blackouts leave of it, in order */
                int64_t from = MAX(merged.start, now);
                while (from < merged.end) {
                        bool moved = true;
                        while (moved) { /* out of any blackout it is in */
                                moved = false;
                                for (size_t b = 0; b < s->n_blackouts; b++) {
                                        int64_t bs = timezone_from_local(tz, s->blackouts[b].first_day * DAY);
                                        int64_t be = timezone_from_local(tz, (s->blackouts[b].last_day + 1) * DAY);
                                        if (bs <= from && from < be) {
                                                from = be;
                                                moved = true;
                                        }
                                }
                        }
                        if (from >= merged.end)
                                break;
                        int64_t to = merged.end; /* up to the next blackout */
                        for (size_t b = 0; b < s->n_blackouts; b++) {
                                int64_t bs = timezone_from_local(tz, s->blackouts[b].first_day * DAY);
                                if (bs > from && bs < to)
                                        to = bs;
                        }
                        if (to - from >= need) {
                                *ret_start = (uint64_t) from * USEC;
                                *ret_close = (uint64_t) to * USEC;
                                return 0;
                        }
                        from = to;
                }
        }
        return -ENOENT;
}

void wave_schedule_format_time(const TimeZone *tz, uint64_t usec, char *buf, size_t size) {
        int64_t t = (int64_t) (usec / USEC);
        int32_t off = timezone_offset(tz, t);
        int64_t local = t + off;
        int64_t day = local >= 0 ? local / DAY : -((-local + DAY - 1) / DAY);
        int64_t sec = local - day * DAY;
        char date[16];
        unsigned aoff = (unsigned) (off < 0 ? -off : off);

        format_date(day, date, sizeof(date));
        snprintf(buf, size, "%s %02u:%02u %c%02u:%02u", date, (unsigned) (sec / 3600), (unsigned) (sec % 3600 / 60),
                 off < 0 ? '-' : '+', aoff / 3600, aoff % 3600 / 60);
}
