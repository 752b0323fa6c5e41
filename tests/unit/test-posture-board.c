/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostd/posture-board.h"

#define SEC 1000000ull

static json_t *report(int fail) {
        return json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:{s:i, s:i, s:i, s:i}, s:b}", "checks", "id",
                         "firewall.table", "status", "pass", "id", "firewall.exposed", "status", fail ? "fail" : "pass",
                         "id", "docker.userns", "status", "warn", "summary", "pass", fail ? 1 : 2, "fail", fail,
                         "warn", 1, "not-applicable", 0, "compliant", fail == 0);
}

static void test_summary(void **state _unused_) {
        _cleanup_(json_decrefp) json_t *r = report(1), *s = posture_summary_new(r, "node1", 60, 5 * SEC);
        char why[160];

        assert_non_null(s);
        assert_int_equal(posture_summary_validate(s, why, sizeof(why)), 0);
        assert_false(json_is_true(json_object_get(s, "compliant")));
        assert_int_equal(json_integer_value(json_object_get(s, "fail")), 1);
        assert_int_equal(json_integer_value(json_object_get(s, "warn")), 1);
        assert_int_equal(json_array_size(json_object_get(s, "failing")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(s, "failing"), 0)), "firewall.exposed");
        assert_string_equal(json_string_value(json_object_get(s, "hostname")), "node1");
        assert_int_equal(json_integer_value(json_object_get(s, "interval_seconds")), 60);
}

static void test_validate_rejects(void **state _unused_) {
        static const struct {
                const char *key;
                const char *value; /* JSON */
                const char *says;
        } bad[] = {
                { "compliant", "1", "posture.compliant" },
                { "compliant", "true", "disagrees with posture.fail" },
                { "fail", "-1", "posture.fail" },
                { "pass", "\"3\"", "posture.pass" },
                { "failing", "[1]", "posture.failing[0]" },
                { "failing", "{}", "posture.failing" },
                { "interval_seconds", "0", "posture.interval_seconds" },
                { "generated_usec", "-4", "posture.generated_usec" },
                { "hostname", "null", "posture.hostname" },
                { "extra", "1", "posture.extra: not a member" },
                { "plan", "[]", "posture.plan: not {" },
                { "plan", "{\"id\": \"p\", \"generated_usec\": 1}", "posture.plan: not {" },
                { "plan", "{\"id\": \"p\", \"generated_usec\": 1, \"packages\": {}}", "posture.plan.packages: not an array" },
                { "plan", "{\"id\": \"p\", \"generated_usec\": 1, \"packages\": [{\"name\": \"a b\", \"arch\": \"amd64\", "
                          "\"from\": null, \"to\": \"1\", \"security\": true}]}", "posture.plan.packages[0]" },
                { "plan", "{\"id\": \"p\", \"generated_usec\": 1, \"packages\": [{\"name\": \"a\", \"arch\": \"amd64\", "
                          "\"from\": 3, \"to\": \"1\", \"security\": true}]}", "posture.plan.packages[0]" },
        };
        char why[160];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(json_decrefp) json_t *r = report(1), *s = posture_summary_new(r, "n", 60, 0);
                json_t *v = json_loads(bad[i].value, JSON_DECODE_ANY, NULL);

                assert_non_null(v);
                json_object_set_new(s, bad[i].key, v);
                why[0] = 0;
                assert_int_equal(posture_summary_validate(s, why, sizeof(why)), -EINVAL);
                assert_non_null(strstr(why, bad[i].says));
        }
        assert_int_equal(posture_summary_validate(NULL, why, sizeof(why)), -EINVAL);
        json_t *arr = json_array();
        assert_int_equal(posture_summary_validate(arr, why, sizeof(why)), -EINVAL);
        json_decref(arr);
}

/* A node's plan travels with its summary: its included updates only; the
 * board keeps it apart, for a wave's approved set, and the view says which. */
static json_t *node(const char *id, const char *hostname, const char *role);
static const json_t *row(const json_t *view, const char *hostname);

static void test_plan(void **state _unused_) {
        _cleanup_(json_decrefp) json_t *r = report(0), *s = posture_summary_new(r, "n", 60, 0);
        _cleanup_(json_decrefp) json_t *plan = json_loads(
                "{\"id\": \"abc\", \"included\": 1, \"security\": 1, \"packages\": ["
                "{\"name\": \"openssl-t\", \"arch\": \"amd64\", \"from\": \"3.0.11-1\", \"to\": \"3.0.13-1\", \"security\": true,"
                " \"origin\": \"Debian\", \"suite\": \"bookworm-security\", \"included\": true, \"reason\": \"included\"},"
                "{\"name\": \"bash-t\", \"arch\": \"amd64\", \"from\": \"5.2-1\", \"to\": \"5.2-2\", \"security\": false,"
                " \"included\": false, \"reason\": \"not a security update\"}]}", 0, NULL);
        _cleanup_(posture_board_freep) PostureBoard *b = NULL;
        _cleanup_(json_decrefp) json_t *nodes = json_pack("[o, o]", node("id-a", "a", "manager"), node("id-b", "b", "worker"));
        char why[160];

        assert_non_null(plan);
        json_object_set_new(s, "plan", posture_summary_plan(plan, 7 * SEC));
        assert_int_equal(posture_summary_validate(s, why, sizeof(why)), 0);
        const json_t *p = json_object_get(s, "plan");
        assert_string_equal(json_string_value(json_object_get(p, "id")), "abc");
        assert_int_equal(json_array_size(json_object_get(p, "packages")), 1); /* the included only */
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "packages"), 0), "to")),
                            "3.0.13-1");
        assert_int_equal(posture_board_new(&b), 0);
        assert_int_equal(posture_board_put(b, "id-a", s, 1 * SEC), 0);
        assert_non_null(posture_board_plan(b, "id-a"));
        assert_null(posture_board_plan(b, "id-b"));
        _cleanup_(json_decrefp) json_t *plans = posture_board_plans(b);
        assert_int_equal(json_object_size(plans), 1);
        assert_non_null(json_object_get(plans, "id-a"));
        _cleanup_(json_decrefp) json_t *view = posture_cluster_view(b, nodes, 2 * SEC);
        assert_null(json_object_get(json_object_get(row(view, "a"), "summary"), "plan")); /* kept apart */
        assert_int_equal(json_integer_value(json_object_get(json_object_get(row(view, "a"), "plan"), "packages")), 1);
        assert_true(json_is_null(json_object_get(row(view, "b"), "plan")));
        /* a later summary without a plan: none */
        json_object_del(s, "plan");
        assert_int_equal(posture_board_put(b, "id-a", s, 3 * SEC), 0);
        assert_null(posture_board_plan(b, "id-a"));
}

static json_t *node(const char *id, const char *hostname, const char *role) {
        return json_pack("{s:s, s:{s:s}, s:{s:s, s:s}, s:{s:s}}", "ID", id, "Description", "Hostname", hostname, "Spec",
                         "Role", role, "Availability", "active", "Status", "State", "ready");
}

static const json_t *row(const json_t *view, const char *hostname) {
        const json_t *r;
        size_t i;

        json_array_foreach(json_object_get(view, "nodes"), i, r)
                if (strcmp(json_string_value(json_object_get(r, "hostname")), hostname) == 0)
                        return r;
        fail_msg("no row for %s", hostname);
        return NULL;
}

static void test_view(void **state _unused_) {
        _cleanup_(posture_board_freep) PostureBoard *b = NULL;
        _cleanup_(json_decrefp) json_t *nodes = json_pack("[o, o, o, o]", node("id-c", "c", "worker"),
                                                          node("id-a", "a", "manager"), node("id-b", "b", "worker"),
                                                          node("id-d", "d", "worker"));
        _cleanup_(json_decrefp) json_t *ok = report(0), *bad = report(1);
        _cleanup_(json_decrefp) json_t *s_ok = posture_summary_new(ok, "a", 10, 0), *s_bad = posture_summary_new(bad, "b", 10, 0);
        json_t *view;

        assert_int_equal(posture_board_new(&b), 0);
        assert_int_equal(posture_board_put(b, "id-a", s_ok, 100 * SEC), 0);
        assert_int_equal(posture_board_put(b, "id-b", s_bad, 100 * SEC), 0);
        assert_int_equal(posture_board_put(b, "id-c", s_ok, 60 * SEC), 0);
        /* a node that left the Swarm: on the board, not in the view */
        assert_int_equal(posture_board_put(b, "id-gone", s_bad, 100 * SEC), 0);

        view = posture_cluster_view(b, nodes, 105 * SEC);
        assert_non_null(view);
        assert_int_equal(json_array_size(json_object_get(view, "nodes")), 4);
        /* sorted by hostname */
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(view, "nodes"), 0), "hostname")), "a");
        assert_string_equal(json_string_value(json_object_get(row(view, "a"), "status")), "pass");
        assert_string_equal(json_string_value(json_object_get(row(view, "a"), "role")), "manager");
        assert_int_equal(json_integer_value(json_object_get(row(view, "a"), "age_seconds")), 5);
        assert_string_equal(json_string_value(json_object_get(row(view, "b"), "status")), "fail");
        /* 45 s old, interval 10 s: stale after 30 s */
        assert_string_equal(json_string_value(json_object_get(row(view, "c"), "status")), "stale");
        assert_string_equal(json_string_value(json_object_get(row(view, "d"), "status")), "missing");
        assert_true(json_is_null(json_object_get(row(view, "d"), "summary")));
        assert_false(json_is_true(json_object_get(view, "compliant")));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(view, "counts"), "missing")), 1);
        json_decref(view);

        /* a newer summary replaces the older */
        assert_int_equal(posture_board_put(b, "id-b", s_ok, 104 * SEC), 0);
        assert_int_equal(posture_board_put(b, "id-c", s_ok, 104 * SEC), 0);
        assert_int_equal(posture_board_put(b, "id-d", s_ok, 104 * SEC), 0);
        view = posture_cluster_view(b, nodes, 105 * SEC);
        assert_true(json_is_true(json_object_get(view, "compliant")));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(view, "counts"), "pass")), 4);
        json_decref(view);

        /* no nodes: nothing is compliant */
        json_t *none = json_array();
        view = posture_cluster_view(b, none, 105 * SEC);
        assert_false(json_is_true(json_object_get(view, "compliant")));
        json_decref(view);
        json_decref(none);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_summary),
                cmocka_unit_test(test_validate_rejects),
                cmocka_unit_test(test_view),
                cmocka_unit_test(test_plan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
