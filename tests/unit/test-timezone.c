/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TZif reader against glibc's, on the system's real zones: the offset
 * at instants from 1900 to 2100 (past 2037, the footer rule), and the
 * instant a wall-clock time is shown, around real DST changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/timezone.h"

static const char *const zones[] = {
        "UTC",              "Europe/Berlin",     "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
        "Asia/Kolkata",     "Pacific/Chatham",   "America/Sao_Paulo", "Africa/Casablanca", "Europe/Dublin",
        "America/St_Johns", "Pacific/Kiritimati", "America/Santiago", "Asia/Tehran",      "Antarctica/Troll",
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void use_zone(const char *zone) {
        char tz[80];

        snprintf(tz, sizeof(tz), ":%s", zone);
        setenv("TZ", tz, 1);
        tzset();
}

/* in the zone use_zone set */
static long glibc_offset(int64_t t) {
        struct tm tm;
        time_t tt = (time_t) t;

        assert_non_null(localtime_r(&tt, &tm));
        return tm.tm_gmtoff;
}

static void test_offsets_match_glibc(void **state _unused_) {
        const int64_t from = -2208988800LL /* 1900 */, to = 4102444800LL /* 2100 */;

        for (size_t z = 0; z < ELEMENTSOF(zones); z++) {
                TimeZone *tz = NULL;
                char err[256];

                assert_int_equal(timezone_load(NULL, zones[z], &tz, err, sizeof(err)), 0);
                use_zone(zones[z]);
                for (int i = 0; i < 5000; i++) {
                        int64_t t = from + (int64_t) (next_random() % (uint64_t) (to - from));
                        long expected = glibc_offset(t);
                        if (timezone_offset(tz, t) != expected)
                                fail_msg("%s at %lld: %d, glibc %ld", zones[z], (long long) t, timezone_offset(tz, t),
                                         expected);
                }
                /* both sides of every change in 2020..2099, to the second
                 * (changes are months apart: at most one in 6 hours) */
                for (int64_t t = 1577836800LL; t < to; t += 6 * 3600) {
                        long a = glibc_offset(t), b = glibc_offset(t + 6 * 3600);
                        if (a == b)
                                continue;
                        int64_t lo = t, hi = t + 6 * 3600;
                        while (hi - lo > 1) {
                                int64_t mid = lo + (hi - lo) / 2;
                                if (glibc_offset(mid) == a)
                                        lo = mid;
                                else
                                        hi = mid;
                        }
                        assert_int_equal(timezone_offset(tz, lo), a);
                        assert_int_equal(timezone_offset(tz, hi), glibc_offset(hi));
                }
                timezone_free(tz);
        }
}

static int64_t local_of(int y, unsigned mo, unsigned d, unsigned h, unsigned mi) {
        return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static void test_wall_clock_to_instant(void **state _unused_) {
        TimeZone *tz = NULL;
        char err[256];

        assert_int_equal(timezone_load(NULL, "Europe/Berlin", &tz, err, sizeof(err)), 0);
        /* 2027-03-28: 02:00 CET -> 03:00 CEST; 02:30 is never shown: the change at 01:00 UTC */
        assert_int_equal(timezone_from_local(tz, local_of(2027, 3, 28, 2, 30)), local_of(2027, 3, 28, 1, 0));
        assert_int_equal(timezone_from_local(tz, local_of(2027, 3, 28, 1, 59)), local_of(2027, 3, 28, 0, 59));
        assert_int_equal(timezone_from_local(tz, local_of(2027, 3, 28, 3, 0)), local_of(2027, 3, 28, 1, 0));
        /* 2027-10-31: 03:00 CEST -> 02:00 CET; 02:30 is shown twice: the first, 00:30 UTC */
        assert_int_equal(timezone_from_local(tz, local_of(2027, 10, 31, 2, 30)), local_of(2027, 10, 31, 0, 30));
        assert_int_equal(timezone_from_local(tz, local_of(2027, 10, 31, 3, 0)), local_of(2027, 10, 31, 2, 0));
        /* past 2037: the footer's rule, 2040-03-25 */
        assert_int_equal(timezone_from_local(tz, local_of(2040, 3, 25, 2, 15)), local_of(2040, 3, 25, 1, 0));
        timezone_free(tz);

        /* Lord Howe moves by 30 minutes: 2027-04-04 02:00 (+11) -> 01:30 (+10:30) */
        assert_int_equal(timezone_load(NULL, "Australia/Lord_Howe", &tz, err, sizeof(err)), 0);
        assert_int_equal(timezone_from_local(tz, local_of(2027, 4, 4, 1, 45)), local_of(2027, 4, 3, 14, 45));
        timezone_free(tz);

        /* every hour's wall time of two years: shown first at the instant given, or skipped there */
        for (size_t z = 0; z < ELEMENTSOF(zones); z++) {
                assert_int_equal(timezone_load(NULL, zones[z], &tz, err, sizeof(err)), 0);
                for (int64_t local = local_of(2026, 1, 1, 0, 7); local < local_of(2028, 1, 1, 0, 0); local += 3600) {
                        int64_t t = timezone_from_local(tz, local);
                        int64_t shown = t + timezone_offset(tz, t);
                        if (shown == local) {
                                /* shown: and no earlier instant within a day shows it */
                                for (int64_t e = t - 86400; e < t; e += 900)
                                        assert_true(e + timezone_offset(tz, e) != local);
                        } else {
                                /* skipped: the clock jumps over it at t */
                                assert_true(shown > local);
                                assert_true(t - 1 + timezone_offset(tz, t - 1) < local);
                        }
                }
                timezone_free(tz);
        }
        unsetenv("TZ");
        tzset();
}

static void test_calendar(void **state _unused_) {
        for (int i = 0; i < 100000; i++) {
                int64_t days = (int64_t) (next_random() % 200000) - 100000;
                time_t t = (time_t) (days * 86400);
                struct tm tm;
                int y;
                unsigned m, d;

                gmtime_r(&t, &tm);
                civil_from_days(days, &y, &m, &d);
                assert_int_equal(y, tm.tm_year + 1900);
                assert_int_equal(m, (unsigned) tm.tm_mon + 1);
                assert_int_equal(d, (unsigned) tm.tm_mday);
                assert_int_equal(weekday_from_days(days), (unsigned) tm.tm_wday);
                assert_int_equal(days_from_civil(y, m, d), days);
        }
}

static void test_bad_zones(void **state _unused_) {
        static const char *const names[] = { "", "/etc/passwd", "../../etc/passwd", "Europe/../../../etc/shadow",
                                             "Europe/", "Europe//Berlin", "./UTC", "Europe/Ber lin", "Europe/.." };
        TimeZone *tz = NULL;
        char err[256];

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                assert_int_equal(timezone_load(NULL, names[i], &tz, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "is not a time zone name"));
        }
        assert_int_equal(timezone_load(NULL, "Mars/Olympus_Mons", &tz, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "Mars/Olympus_Mons"));
        assert_int_equal(timezone_load(NULL, "Europe", &tz, err, sizeof(err)), -ENOENT); /* a directory */
        assert_null(tz);

        /* damaged data: every cut of a real file, and a few bytes changed */
        char *data;
        size_t size;
        assert_int_equal(read_file(TIMEZONE_DIRECTORY "/Europe/Berlin", 1 << 20, &data, &size), 0);
        for (size_t cut = 0; cut + 1 < size; cut++) {
                assert_int_equal(timezone_parse(data, cut, &tz, err, sizeof(err)), -EINVAL);
                assert_true(err[0] != '\0');
        }
        assert_int_equal(timezone_parse(data, size, &tz, err, sizeof(err)), 0);
        tz = timezone_free(tz);
        data[4] = '1'; /* version 1 */
        assert_int_equal(timezone_parse(data, size, &tz, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "version 1"));
        data[4] = '2';
        memcpy(data + size - 8, "M13.5.0", 7); /* the footer's rule */
        assert_int_equal(timezone_parse(data, size, &tz, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "footer"));
        free(data);
        assert_null(tz);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_offsets_match_glibc),
                cmocka_unit_test(test_wall_clock_to_instant),
                cmocka_unit_test(test_calendar),
                cmocka_unit_test(test_bad_zones),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
