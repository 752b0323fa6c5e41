/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The alert gate's matchers, and what they say of answers shaped as
 * Alertmanager 0.25's GET /api/v2/alerts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/macro.h"
#include "policy/alert-gate.h"

static json_t *alert(const char *labels_json, const char *state) {
        json_t *labels = json_loads(labels_json, 0, NULL);

        assert_non_null(labels);
        return json_pack("{s:o, s:{s:s, s:[], s:[]}, s:s, s:s, s:[{s:s}]}", "labels", labels, "status", "state", state,
                         "silencedBy", "inhibitedBy", "startsAt", "2026-12-04T19:00:00.000Z", "fingerprint",
                         "0123456789abcdef", "receivers", "name", "null");
}

static unsigned firing(const char *const *matchers, const json_t *answer, char *names) {
        AlertFilter f;
        unsigned n = 0;
        char err[256];

        assert_int_equal(alert_filter_parse(matchers, &f, err, sizeof(err)), 0);
        assert_int_equal(alert_filter_firing(&f, answer, &n, names, 160, err, sizeof(err)), 0);
        alert_filter_done(&f);
        return n;
}

static void test_matchers(void **state _unused_) {
        json_t *answer = json_pack("[o, o, o, o, o]",
                                   alert("{\"alertname\": \"NodeDown\", \"severity\": \"critical\", \"instance\": \"node-3\"}",
                                         "active"),
                                   alert("{\"alertname\": \"DiskFull\", \"severity\": \"warning\"}", "active"),
                                   alert("{\"alertname\": \"NodeDownSoon\", \"severity\": \"critical\"}", "suppressed"),
                                   alert("{\"alertname\": \"NodeFlapping\", \"severity\": \"critical\", \"env\": \"dev\"}",
                                         "unprocessed"),
                                   alert("{\"alertname\": \"Watchdog\"}", "active"));
        char names[160];

        /* no matcher: every alert that fires (not the silenced one) */
        assert_int_equal(firing((const char *const[]){ NULL }, answer, names), 4);
        assert_int_equal(firing((const char *const[]){ "severity=\"critical\"", NULL }, answer, names), 2);
        assert_string_equal(names, "NodeDown{instance=\"node-3\"}, NodeFlapping");
        /* bare values, and several matchers: all of them */
        assert_int_equal(firing((const char *const[]){ "severity=critical", "env!=dev", NULL }, answer, names), 1);
        assert_string_equal(names, "NodeDown{instance=\"node-3\"}");
        /* regular expressions are anchored: Node.* matches NodeDown, not XNodeDown; "Node" alone matches none */
        assert_int_equal(firing((const char *const[]){ "alertname=~\"Node.*\"", NULL }, answer, names), 2);
        assert_int_equal(firing((const char *const[]){ "alertname=~\"Node\"", NULL }, answer, names), 0);
        assert_string_equal(names, "");
        assert_int_equal(firing((const char *const[]){ "alertname!~\"Node.*|Watchdog\"", NULL }, answer, names), 1);
        assert_string_equal(names, "DiskFull");
        /* a missing label is empty: env="" matches the alerts without one */
        assert_int_equal(firing((const char *const[]){ "env=\"\"", NULL }, answer, names), 3);
        json_decref(answer);
}

static void test_bad_matchers(void **state _unused_) {
        static const char *const bad[][2] = {
                { "", "expected a label name" },
                { "9severity=critical", "expected a label name" },
                { "severity", "expected =, !=, =~ or !~ after severity" },
                { "severity=crit\"ical", "the value is not one" },
                { "severity=\"critical", "the quoted value does not end" },
                { "severity=\"critical\" x", "something follows the value" },
                { "alertname=~\"(\"", "not a regular expression" },
                { "alertname=~\"a{100}\"", "counted repetitions" },
                { "alertname=~\"a++\"", "a repetition of a repetition" },
                { "alertname=~\"(a+)*\"", "a repetition of a repetition" },
                { "alertname=~\"((x|a+)b)+\"", "a repetition of a repetition" },
                { "alertname=~\"a*b*c*d*e*f*g*h*i*\"", "more than 8 repetitions" },
        };
        AlertFilter f;
        char err[256];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *one[] = { bad[i][0], NULL };
                err[0] = '\0';
                assert_int_equal(alert_filter_parse(one, &f, err, sizeof(err)), -EINVAL);
                if (!strstr(err, bad[i][1]) || !strstr(err, "alert matcher"))
                        fail_msg("\"%s\": %s", bad[i][0], err);
        }
        /* escaped quotes in a quoted value */
        const char *quoted[] = { "summary=\"say \\\"hi\\\"\"", NULL };
        assert_int_equal(alert_filter_parse(quoted, &f, err, sizeof(err)), 0);
        assert_string_equal(f.matchers[0].value, "say \"hi\"");
        alert_filter_done(&f);
        /* a repeated group without a repetition inside is fine */
        const char *grouped[] = { "alertname=~\"(Node|Disk)+Down\"", NULL };
        assert_int_equal(alert_filter_parse(grouped, &f, err, sizeof(err)), 0);
        alert_filter_done(&f);
}

static void test_bad_answers(void **state _unused_) {
        static const char *const bad[] = { "{}", "[1]", "[{\"labels\": {}}]", "[{\"status\": {\"state\": \"active\"}}]",
                                           "[{\"labels\": [], \"status\": {\"state\": \"active\"}}]" };
        AlertFilter f = {};
        unsigned n = 7;
        char names[64], err[256];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_t *j = json_loads(bad[i], 0, NULL);
                assert_non_null(j);
                err[0] = '\0';
                assert_int_equal(alert_filter_firing(&f, j, &n, names, sizeof(names), err, sizeof(err)), -EBADMSG);
                assert_true(err[0] != '\0');
                assert_int_equal(n, 7); /* nothing said */
                json_decref(j);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_matchers),
                cmocka_unit_test(test_bad_matchers),
                cmocka_unit_test(test_bad_answers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
