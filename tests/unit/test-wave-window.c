/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Maintenance windows and blackouts on a fake clock, in real zones: DST
 * changes both ways, a window over midnight, a blackout, the cutoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patching/wave-window.h"

#define MIN_USEC (60ULL * 1000000ULL)
#define HOUR_USEC (60 * MIN_USEC)

/* a UTC instant */
static uint64_t utc(int y, unsigned mo, unsigned d, unsigned h, unsigned mi) {
        return (uint64_t) (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000000ULL;
}

static TimeZone *zone(const char *name) {
        TimeZone *tz = NULL;
        char err[256];

        assert_int_equal(timezone_load(NULL, name, &tz, err, sizeof(err)), 0);
        return tz;
}

static void schedule(WaveSchedule *s, const char *zone_name, const char *const *windows, const char *const *blackouts) {
        char err[256];

        *s = (WaveSchedule){};
        snprintf(s->zone, sizeof(s->zone), "%s", zone_name);
        for (; windows && *windows; windows++)
                assert_int_equal(wave_window_parse(*windows, &s->windows[s->n_windows++], err, sizeof(err)), 0);
        for (; blackouts && *blackouts; blackouts++)
                assert_int_equal(wave_blackout_parse(*blackouts, &s->blackouts[s->n_blackouts++], err, sizeof(err)), 0);
}

/* next start and close as UTC instants */
static void expect(const WaveSchedule *s, const TimeZone *tz, uint64_t now, uint64_t need, uint64_t start,
                   uint64_t close) {
        uint64_t got_start = 0, got_close = 0;

        assert_int_equal(wave_schedule_next_start(s, tz, now, need, &got_start, &got_close), 0);
        if (got_start != start || got_close != close) {
                char a[64], b[64], c[64], d[64];
                wave_schedule_format_time(tz, got_start, a, sizeof(a));
                wave_schedule_format_time(tz, got_close, b, sizeof(b));
                wave_schedule_format_time(tz, start, c, sizeof(c));
                wave_schedule_format_time(tz, close, d, sizeof(d));
                fail_msg("got %s .. %s, expected %s .. %s", a, b, c, d);
        }
}

static void test_parse_and_format(void **state _unused_) {
        static const char *const specs[][2] = {
                { "Mon-Fri 22:00 4h", "Mon-Fri 22:00 4h" },   { "sat,sun 01:30 90m", "Sat,Sun 01:30 1h30m" },
                { "* 03:00 1h30m", "* 03:00 1h30m" },         { "Fri-Mon 23:00 2d", "Mon,Fri-Sun 23:00 2d" },
                { "Sun,Mon 00:00 7d", "Mon,Sun 00:00 7d" },   { "Tue   04:05   45m", "Tue 04:05 45m" },
                { "Mon,Wed,Fri 12:00 1h", "Mon,Wed,Fri 12:00 1h" }, { "Mon-Sun 00:00 1m", "* 00:00 1m" },
        };
        static const char *const bad[] = {
                "", "Mon", "Mon 22:00", "Mon 24:00 1h", "Mon 22:60 1h", "Mon 22:00 0h", "Mon 22:00 8d",
                "Mon 22:00 4x", "Moon 22:00 1h", "Mon-Fry 22:00 1h", "Mon 22:00 1h extra", "Mon 2200 1h",
                "Mon 22:00 h", "Mon,,Tue 22:00 1h",
        };
        static const char *const bad_blackouts[] = { "", "2026-13-01", "2026-02-29", "2026-12-24..2026-12-23",
                                                     "2026-12-24..", "24.12.2026", "2026-12-24..2028-01-01",
                                                     "2026-12-24 ", "1969-12-31" };
        char err[256], out[WAVE_WINDOW_SPEC_MAX];
        WaveWindow w, again;
        WaveBlackout b;

        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                assert_int_equal(wave_window_parse(specs[i][0], &w, err, sizeof(err)), 0);
                wave_window_format(&w, out, sizeof(out));
                assert_string_equal(out, specs[i][1]);
                assert_int_equal(wave_window_parse(out, &again, err, sizeof(err)), 0);
                assert_true(w.days == again.days && w.start_minute == again.start_minute &&
                            w.length_minutes == again.length_minutes);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                assert_int_equal(wave_window_parse(bad[i], &w, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "window"));
        }
        assert_int_equal(wave_blackout_parse("2028-02-29", &b, err, sizeof(err)), 0);
        wave_blackout_format(&b, out, sizeof(out));
        assert_string_equal(out, "2028-02-29");
        assert_int_equal(wave_blackout_parse("2026-12-24..2026-12-26", &b, err, sizeof(err)), 0);
        assert_int_equal(b.last_day - b.first_day, 2);
        wave_blackout_format(&b, out, sizeof(out));
        assert_string_equal(out, "2026-12-24..2026-12-26");
        for (size_t i = 0; i < ELEMENTSOF(bad_blackouts); i++) {
                err[0] = '\0';
                assert_int_equal(wave_blackout_parse(bad_blackouts[i], &b, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "blackout"));
        }
}

static void test_dst_forward(void **state _unused_) {
        TimeZone *tz = zone("Europe/Berlin");
        WaveSchedule s;

        /* 2027-03-28, 02:00 CET -> 03:00 CEST (01:00 UTC) */
        schedule(&s, "Europe/Berlin", (const char *const[]){ "Sun 01:00 3h", NULL }, NULL);
        /* 01:00 CET .. 04:00 CEST: two hours, not three */
        expect(&s, tz, utc(2027, 3, 27, 12, 0), HOUR_USEC, utc(2027, 3, 28, 0, 0), utc(2027, 3, 28, 2, 0));
        /* the two hours do not hold 2h30 of work: the next Sunday's three do */
        expect(&s, tz, utc(2027, 3, 27, 12, 0), 150 * MIN_USEC, utc(2027, 4, 3, 23, 0), utc(2027, 4, 4, 2, 0));

        /* a window wholly inside the skipped hour never opens that day */
        schedule(&s, "Europe/Berlin", (const char *const[]){ "Sun 02:15 30m", NULL }, NULL);
        expect(&s, tz, utc(2027, 3, 27, 12, 0), MIN_USEC, utc(2027, 4, 4, 0, 15), utc(2027, 4, 4, 0, 45));
        /* one starting in it opens at the change */
        schedule(&s, "Europe/Berlin", (const char *const[]){ "Sun 02:30 1h", NULL }, NULL);
        expect(&s, tz, utc(2027, 3, 27, 12, 0), MIN_USEC, utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 1, 30));
        timezone_free(tz);
}

static void test_dst_back(void **state _unused_) {
        TimeZone *tz = zone("Europe/Berlin");
        WaveSchedule s;

        /* 2027-10-31, 03:00 CEST -> 02:00 CET (01:00 UTC) */
        schedule(&s, "Europe/Berlin", (const char *const[]){ "Sun 01:00 3h", NULL }, NULL);
        /* 01:00 CEST .. 04:00 CET: four hours */
        expect(&s, tz, utc(2027, 10, 30, 12, 0), 4 * HOUR_USEC, utc(2027, 10, 30, 23, 0), utc(2027, 10, 31, 3, 0));
        /* 02:30 is shown twice: the window opens at the first, closes at 03:30 CET */
        schedule(&s, "Europe/Berlin", (const char *const[]){ "Sun 02:30 1h", NULL }, NULL);
        expect(&s, tz, utc(2027, 10, 30, 12, 0), 2 * HOUR_USEC, utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 2, 30));
        timezone_free(tz);

        /* New York, 2027-11-07 02:00 EDT -> 01:00 EST: a window at 01:30 opens at the first 01:30 */
        tz = zone("America/New_York");
        schedule(&s, "America/New_York", (const char *const[]){ "Sun 01:30 30m", NULL }, NULL);
        expect(&s, tz, utc(2027, 11, 6, 12, 0), 30 * MIN_USEC, utc(2027, 11, 7, 5, 30), utc(2027, 11, 7, 7, 0));
        timezone_free(tz);
}

static void test_midnight_and_cutoff(void **state _unused_) {
        TimeZone *tz = zone("UTC");
        WaveSchedule s;

        /* 2026-12-05 is a Saturday */
        schedule(&s, "UTC", (const char *const[]){ "Sat 23:00 3h", NULL }, NULL);
        expect(&s, tz, utc(2026, 12, 5, 23, 30), HOUR_USEC, utc(2026, 12, 5, 23, 30), utc(2026, 12, 6, 2, 0));
        expect(&s, tz, utc(2026, 12, 6, 0, 45), HOUR_USEC, utc(2026, 12, 6, 0, 45), utc(2026, 12, 6, 2, 0));
        /* the cutoff: at 01:01 less than an hour is left: the next Saturday */
        expect(&s, tz, utc(2026, 12, 6, 1, 1), HOUR_USEC, utc(2026, 12, 12, 23, 0), utc(2026, 12, 13, 2, 0));
        /* exactly an hour left fits */
        expect(&s, tz, utc(2026, 12, 6, 1, 0), HOUR_USEC, utc(2026, 12, 6, 1, 0), utc(2026, 12, 6, 2, 0));
        /* closed: the next opening */
        expect(&s, tz, utc(2026, 12, 6, 2, 0), HOUR_USEC, utc(2026, 12, 12, 23, 0), utc(2026, 12, 13, 2, 0));

        /* windows that touch are one: Mon 22:00-24:00 and Tue 00:00-02:00 hold three hours from 23:00 */
        schedule(&s, "UTC", (const char *const[]){ "Mon 22:00 2h", "Tue 00:00 2h", NULL }, NULL);
        expect(&s, tz, utc(2026, 12, 7, 23, 0), 3 * HOUR_USEC, utc(2026, 12, 7, 23, 0), utc(2026, 12, 8, 2, 0));

        /* no window a node's work fits in */
        schedule(&s, "UTC", (const char *const[]){ "Mon 22:00 1h", NULL }, NULL);
        uint64_t a, b;
        assert_int_equal(wave_schedule_next_start(&s, tz, utc(2026, 12, 7, 0, 0), 2 * HOUR_USEC, &a, &b), -ENOENT);
        timezone_free(tz);
}

static void test_blackouts(void **state _unused_) {
        TimeZone *tz = zone("Europe/Berlin");
        WaveSchedule s;

        /* every night 22:00-02:00, but not on 24 December (local) */
        schedule(&s, "Europe/Berlin", (const char *const[]){ "* 22:00 4h", NULL }, (const char *const[]){ "2026-12-24", NULL });
        /* 23 Dec 23:00 CET: open until the blackout begins at midnight */
        expect(&s, tz, utc(2026, 12, 23, 22, 0), 30 * MIN_USEC, utc(2026, 12, 23, 22, 0), utc(2026, 12, 23, 23, 0));
        /* two hours do not fit before midnight; the 24th is dark; the night's
         * window goes on after it: 25 Dec 00:00-02:00 local */
        expect(&s, tz, utc(2026, 12, 23, 22, 0), 2 * HOUR_USEC, utc(2026, 12, 24, 23, 0), utc(2026, 12, 25, 1, 0));
        /* inside the blackout: the same */
        expect(&s, tz, utc(2026, 12, 24, 21, 0), HOUR_USEC, utc(2026, 12, 24, 23, 0), utc(2026, 12, 25, 1, 0));

        /* no window, blackouts only: open but for them */
        schedule(&s, "Europe/Berlin", NULL, (const char *const[]){ "2026-12-24..2026-12-26", "2026-12-31", NULL });
        expect(&s, tz, utc(2026, 12, 20, 10, 0), HOUR_USEC, utc(2026, 12, 20, 10, 0), utc(2026, 12, 23, 23, 0));
        expect(&s, tz, utc(2026, 12, 25, 10, 0), HOUR_USEC, utc(2026, 12, 26, 23, 0), utc(2026, 12, 30, 23, 0));
        timezone_free(tz);
}

static void test_format_time(void **state _unused_) {
        TimeZone *tz = zone("America/St_Johns");
        char buf[64];

        wave_schedule_format_time(tz, utc(2026, 12, 5, 1, 0), buf, sizeof(buf));
        assert_string_equal(buf, "2026-12-04 21:30 -03:30");
        timezone_free(tz);
        tz = zone("Asia/Kolkata");
        wave_schedule_format_time(tz, utc(2026, 12, 5, 20, 0), buf, sizeof(buf));
        assert_string_equal(buf, "2026-12-06 01:30 +05:30");
        timezone_free(tz);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_format), cmocka_unit_test(test_dst_forward),
                cmocka_unit_test(test_dst_back),         cmocka_unit_test(test_midnight_and_cutoff),
                cmocka_unit_test(test_blackouts),        cmocka_unit_test(test_format_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
