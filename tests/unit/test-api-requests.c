/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control API's request parsers: what each route accepts, the 400
 * message of what it refuses, and results left alone on a refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hostd/api-requests.h"
#include "hostd/patch-worker.h"

static json_t *body(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);

        assert_non_null(j);
        return j;
}

static void test_parse_u64(void **state _unused_) {
        static const char *const refused[] = {
                "", " 5", "+5", "-1", " -5", "\t7", "5 ", "0x10", "1e3", "18446744073709551616", "99999999999999999999",
        };
        uint64_t v = 42;

        assert_false(api_parse_u64(NULL, &v));
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                assert_false(api_parse_u64(refused[i], &v));
                assert_int_equal(v, 42); /* unchanged */
        }
        assert_true(api_parse_u64("0", &v));
        assert_int_equal(v, 0);
        assert_true(api_parse_u64("007", &v));
        assert_int_equal(v, 7);
        assert_true(api_parse_u64("18446744073709551615", &v));
        assert_true(v == UINT64_MAX);
}

static void test_firewall_apply(void **state _unused_) {
        unsigned seconds = 9;
        char why[512];
        json_t *j;

        assert_int_equal(api_firewall_apply_parse(NULL, &seconds, why, sizeof(why)), 0);
        assert_int_equal(seconds, 0);
        j = body("{\"confirm_timeout\": 120}");
        assert_int_equal(api_firewall_apply_parse(j, &seconds, why, sizeof(why)), 0);
        assert_int_equal(seconds, 120);
        json_decref(j);

        seconds = 9;
        j = body("{\"confirm_timeout\": 3601}");
        assert_int_equal(api_firewall_apply_parse(j, &seconds, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "confirm_timeout: expected an integer 1..3600");
        assert_int_equal(seconds, 9);
        json_decref(j);
        j = body("{\"confirm_timeout\": 30, \"force\": true}");
        assert_int_equal(api_firewall_apply_parse(j, &seconds, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "unknown field in body: only confirm_timeout is accepted");
        json_decref(j);
}

static void test_seccomp_install(void **state _unused_) {
        const char *profile = NULL;
        char why[512];
        json_t *j;

        j = body("{\"profile\": \"/etc/hostd/seccomp.json\"}");
        assert_int_equal(api_seccomp_install_parse(j, &profile, why, sizeof(why)), 0);
        assert_string_equal(profile, "/etc/hostd/seccomp.json");
        json_decref(j);
        profile = NULL;
        j = body("{\"profile\": \"seccomp.json\"}");
        assert_int_equal(api_seccomp_install_parse(j, &profile, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "profile: expected the absolute path of a profile");
        assert_null(profile);
        json_decref(j);
        assert_int_equal(api_seccomp_install_parse(NULL, &profile, why, sizeof(why)), -EINVAL);
        j = body("{\"profile\": \"/p.json\", \"restart\": true}");
        assert_int_equal(api_seccomp_install_parse(j, &profile, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "unknown field in body: only profile is accepted");
        json_decref(j);
}

static void test_patch(void **state _unused_) {
        ApiPatchBody p;
        char why[512], expected[128];
        json_t *j;

        /* the message names a request as its route does, as patch_op_to_string does */
        for (PatchOp op = PATCH_OP_PLAN; op <= PATCH_OP_ROLLBACK; op++) {
                j = body("{\"nope\": 1}");
                assert_int_equal(api_patch_parse(op, j, &p, why, sizeof(why)), -EINVAL);
                snprintf(expected, sizeof(expected), "nope: not a field of a patch %s request (", patch_op_to_string(op));
                assert_memory_equal(why, expected, strlen(expected));
                json_decref(j);
        }
        assert_int_equal(api_patch_parse(PATCH_OP_HISTORY, NULL, &p, why, sizeof(why)), -EINVAL);

        j = body("{\"refresh\": true, \"plan\": \"3f2a9c1b7d4e\"}");
        assert_int_equal(api_patch_parse(PATCH_OP_APPLY, j, &p, why, sizeof(why)), 0);
        assert_true(p.refresh);
        assert_string_equal(p.plan, "3f2a9c1b7d4e");
        assert_null(p.id);
        assert_int_equal(api_patch_parse(PATCH_OP_PLAN, j, &p, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "plan: not a field of a patch plan request (refresh: boolean)");
        json_decref(j);
        j = body("{\"plan\": 7}");
        assert_int_equal(api_patch_parse(PATCH_OP_APPLY, j, &p, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "plan: not a field of a patch apply request (refresh: boolean, plan: string)");
        json_decref(j);
        j = body("{\"id\": \"20251201-apply\"}");
        assert_int_equal(api_patch_parse(PATCH_OP_ROLLBACK, j, &p, why, sizeof(why)), 0);
        assert_string_equal(p.id, "20251201-apply");
        assert_false(p.refresh);
        json_decref(j);
        assert_int_equal(api_patch_parse(PATCH_OP_PLAN, NULL, &p, why, sizeof(why)), 0);
        assert_false(p.refresh);
        assert_null(p.plan);
}

static void test_patch_job_query(void **state _unused_) {
        unsigned id = 5;
        size_t after = 6;
        char why[512];

        assert_int_equal(api_patch_job_query_parse("3", NULL, &id, &after, why, sizeof(why)), 0);
        assert_int_equal(id, 3);
        assert_int_equal(after, 0);
        assert_int_equal(api_patch_job_query_parse("3", "17", &id, &after, why, sizeof(why)), 0);
        assert_int_equal(after, 17);
        assert_int_equal(api_patch_job_query_parse(NULL, NULL, &id, &after, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "expected ?id=JOB[&after=INDEX] (non-negative integers)");
        assert_int_equal(api_patch_job_query_parse("4294967295", NULL, &id, &after, why, sizeof(why)), -EINVAL);
        assert_int_equal(api_patch_job_query_parse("3", "+1", &id, &after, why, sizeof(why)), -EINVAL);
        assert_int_equal(id, 3);
        assert_int_equal(after, 17);
}

static void test_changes_query(void **state _unused_) {
        ApiChangesQuery q = { .since_usec = 1 };
        char why[512];

        assert_int_equal(api_changes_query_parse(NULL, NULL, NULL, &q, why, sizeof(why)), 0);
        assert_int_equal(q.since_usec, 0);
        assert_int_equal(q.limit, 0);
        assert_null(q.kind);
        assert_int_equal(api_changes_query_parse("1764000000000000", "20", "firewall-apply", &q, why, sizeof(why)), 0);
        assert_true(q.since_usec == 1764000000000000ull);
        assert_int_equal(q.limit, 20);
        assert_string_equal(q.kind, "firewall-apply");
        /* ?since=%20-5 was read as 2^64 - 5: every record is older */
        assert_int_equal(api_changes_query_parse(" -5", NULL, NULL, &q, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "expected ?since=USEC&limit=N (non-negative integers)");
        assert_int_equal(api_changes_query_parse(NULL, "+5", NULL, &q, why, sizeof(why)), -EINVAL);
        assert_true(q.since_usec == 1764000000000000ull);
        assert_int_equal(api_changes_query_parse(NULL, NULL, "nope", &q, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "kind: \"nope\" is not a kind of change");
}

static void test_wave_start(void **state _unused_) {
        const char *canaries[API_WAVE_MAX_CANARIES + 1];
        WaveSchedule schedule;
        WaveOptions o = { .max_unavailable = 77 };
        char why[512];
        json_t *j;

        assert_int_equal(api_wave_start_parse(NULL, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_int_equal(o.max_unavailable, 0);
        assert_true(o.approve); /* an approved set unless asked for any version */
        assert_null(o.canaries);
        j = body("{\"max_unavailable\": 2, \"soak_seconds\": 300, \"deadline_seconds\": 3600, \"label\": \"patch=yes\","
                 " \"canaries\": [\"w1\", \"w2\"], \"on_failure\": \"continue\"}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_int_equal(o.max_unavailable, 2);
        assert_true(o.soak_usec == 300 * 1000000ull);
        assert_true(o.node_deadline_usec == 3600 * 1000000ull);
        assert_string_equal(o.label, "patch=yes");
        assert_ptr_equal(o.canaries, canaries);
        assert_string_equal(o.canaries[0], "w1");
        assert_string_equal(o.canaries[1], "w2");
        assert_null(o.canaries[2]);
        assert_int_equal(o.on_failure, wave_on_failure_from_string("continue"));
        json_decref(j);
        /* the error budget: a number of nodes, or a percentage of the wave's */
        j = body("{\"max_errors\": 2}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_int_equal(o.max_errors, 2);
        assert_int_equal(o.max_errors_percent, 0);
        json_decref(j);
        j = body("{\"max_errors\": \"25%\"}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_int_equal(o.max_errors_percent, 25);
        assert_null(o.schedule);
        json_decref(j);
        /* a schedule: windows and blackouts in a zone, UTC when none is named */
        j = body("{\"windows\": [\"Mon-Fri 22:00 4h\", \"Sat 01:00 90m\"], \"blackouts\": [\"2026-12-24..2026-12-26\"],"
                 " \"zone\": \"Europe/Berlin\"}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_ptr_equal(o.schedule, &schedule);
        assert_string_equal(schedule.zone, "Europe/Berlin");
        assert_int_equal(schedule.n_windows, 2);
        assert_int_equal(schedule.windows[1].length_minutes, 90);
        assert_int_equal(schedule.n_blackouts, 1);
        json_decref(j);
        j = body("{\"any_version\": true}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_false(o.approve);
        json_decref(j);
        j = body("{\"deregistration_seconds\": 12}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_true(o.deregistration_usec == 12 * 1000000ull);
        json_decref(j);
        j = body("{\"blackouts\": [\"2026-12-24\"]}");
        assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), 0);
        assert_string_equal(o.schedule->zone, "UTC");
        assert_int_equal(o.schedule->n_windows, 0);
        json_decref(j);

        static const struct {
                const char *body, *why;
        } refused[] = {
                { "{\"max\": 1}", "unknown field in body: max" },
                { "{\"soak_seconds\": -1}", "soak_seconds: expected an integer 0..604800" },
                { "{\"deadline_seconds\": 0}", "deadline_seconds: expected an integer 1..172800" },
                { "{\"deregistration_seconds\": 3601}", "deregistration_seconds: expected an integer 0..3600" },
                { "{\"deregistration_seconds\": \"10s\"}", "deregistration_seconds: expected an integer 0..3600" },
                { "{\"max_unavailable\": 1025}", "max_unavailable: expected an integer 1..1024" },
                { "{\"on_failure\": 1}", "on_failure: expected \"halt\" or \"continue\"" },
                { "{\"max_errors\": -1}", "max_errors: expected an integer 0..1024 or a percentage \"1%\"..\"100%\"" },
                { "{\"max_errors\": \"0%\"}", "max_errors: expected an integer 0..1024 or a percentage \"1%\"..\"100%\"" },
                { "{\"max_errors\": \"25\"}", "max_errors: expected an integer 0..1024 or a percentage \"1%\"..\"100%\"" },
                { "{\"max_errors\": \"101%\"}", "max_errors: expected an integer 0..1024 or a percentage \"1%\"..\"100%\"" },
                { "{\"max_errors\": 1, \"on_failure\": \"continue\"}", "max_errors: not with on_failure \"continue\" (no budget: it goes on past every failed node that is healthy)" },
                { "{\"label\": \"patch\"}", "label: expected \"key=value\"" },
                { "{\"canaries\": \"w1\"}", "canaries: expected an array of at most 32 node IDs or hostnames" },
                { "{\"canaries\": [\"w1\", 2]}", "canaries[1]: expected a string" },
                { "{\"windows\": \"Mon 22:00 1h\"}", "windows: expected an array of at most 16 strings" },
                { "{\"windows\": [\"Mon 25:00 1h\"]}",
                  "windows[0]: window \"Mon 25:00 1h\": the start is not a time HH:MM (00:00..23:59)" },
                { "{\"windows\": [\"Mon 22:00 1h\", 7]}", "windows[1]: expected a string" },
                { "{\"blackouts\": [\"2026-02-30\"]}",
                  "blackouts[0]: blackout \"2026-02-30\": expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD" },
                { "{\"zone\": \"Europe/Berlin\"}", "zone: only with windows or blackouts" },
                { "{\"any_version\": 1}", "any_version: expected true or false" },
                { "{\"windows\": [\"Mon 22:00 1h\"], \"zone\": 5}",
                  "zone: expected an IANA time zone name (like \"Europe/Berlin\")" },
        };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                WaveOptions before;
                j = body(refused[i].body);
                memset(&o, 0x5a, sizeof(o));
                before = o;
                assert_int_equal(api_wave_start_parse(j, canaries, &schedule, &o, why, sizeof(why)), -EINVAL);
                assert_string_equal(why, refused[i].why);
                assert_memory_equal(&o, &before, sizeof(o));
                json_decref(j);
        }
}

static void test_wave_control_and_query(void **state _unused_) {
        const char *reason = "x";
        uint64_t version = 9;
        bool watch = false;
        char why[512];
        json_t *j;

        assert_int_equal(api_wave_control_parse(NULL, &reason, why, sizeof(why)), 0);
        assert_null(reason);
        j = body("{\"reason\": \"kernel regression\"}");
        assert_int_equal(api_wave_control_parse(j, &reason, why, sizeof(why)), 0);
        assert_string_equal(reason, "kernel regression");
        json_decref(j);
        j = body("{\"reason\": 1}");
        assert_int_equal(api_wave_control_parse(j, &reason, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "reason: expected a string");
        json_decref(j);
        j = body("{\"why\": \"x\"}");
        assert_int_equal(api_wave_control_parse(j, &reason, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "unknown field in body: why");
        json_decref(j);

        assert_int_equal(api_wave_query_parse(NULL, &watch, &version, why, sizeof(why)), 0);
        assert_false(watch);
        assert_int_equal(version, 0);
        assert_int_equal(api_wave_query_parse("118", &watch, &version, why, sizeof(why)), 0);
        assert_true(watch);
        assert_int_equal(version, 118);
        assert_int_equal(api_wave_query_parse(" 5", &watch, &version, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "wait: expected the version of the last answer");
        assert_int_equal(version, 118);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_u64),
                cmocka_unit_test(test_firewall_apply),
                cmocka_unit_test(test_seccomp_install),
                cmocka_unit_test(test_patch),
                cmocka_unit_test(test_patch_job_query),
                cmocka_unit_test(test_changes_query),
                cmocka_unit_test(test_wave_start),
                cmocka_unit_test(test_wave_control_and_query),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
