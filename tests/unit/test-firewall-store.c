/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The firewall's saved state (hostd/firewall-store.h): each transition is on
 * disk when the call returns, a new store reads back exactly what the last
 * one wrote, and a damaged file is named and read as empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "hostd/firewall-store.h"
#include "scratch-dir.h"

/* a policy from a "firewall" section's JSON */
static HostdConfig *policy(const char *firewall_json) {
        HostdConfig *c = NULL;
        ConfigError e = {};
        char text[512];

        snprintf(text, sizeof(text), "{\"firewall\": %s}", firewall_json);
        assert_int_equal(config_parse(text, strlen(text), &c, &e), 0);
        return c;
}

static FirewallStore *reopen(const char *dir) {
        FirewallStore *s = NULL;
        char err[512] = "";

        assert_int_equal(firewall_store_open(dir, &s, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        return s;
}

static void fresh_dir(void **state, char *dir, size_t size, const char *name) {
        snprintf(dir, size, "%s/%s", (const char *) *state, name);
        assert_int_equal(mkdir(dir, 0700), 0);
}

static void test_empty_then_good(void **state) {
        _cleanup_(config_freep) HostdConfig *a = policy("{\"management-sources\": [\"10.0.0.1/32\"]}");
        char dir[256];
        FirewallStore *s;
        bool held = true;

        fresh_dir(state, dir, sizeof(dir), "good");
        s = reopen(dir);
        assert_null(firewall_store_good(s));
        assert_null(firewall_store_pending(s, NULL));
        assert_null(firewall_store_held(s, NULL, NULL));
        assert_ptr_equal(firewall_store_choose(s, &a->firewall, &held), &a->firewall);
        assert_false(held);
        assert_int_equal(firewall_store_set_good(s, &a->firewall, true), 0);
        firewall_store_free(s);

        s = reopen(dir);
        assert_non_null(firewall_store_good(s));
        assert_true(firewall_policy_equal(firewall_store_good(s), &a->firewall));
        firewall_store_free(s);
}

/* apply with a window, hostd gone inside it: the next store finds the
 * pending apply; rolled back it is held, and choosing for the same file
 * policy gives the good one until an explicit apply forgets the hold */
static void test_pending_rolled_back_and_held(void **state) {
        _cleanup_(config_freep) HostdConfig *a = policy("{\"management-sources\": [\"10.0.0.1/32\"]}");
        _cleanup_(config_freep) HostdConfig *b = policy("{\"management-sources\": [\"10.9.9.9/32\"]}");
        _cleanup_(config_freep) HostdConfig *c = policy("{\"ssh-port\": 2222}");
        const char *reason = NULL;
        uint64_t deadline = 0, since = 0;
        char dir[256];
        FirewallStore *s;
        bool held = false;

        fresh_dir(state, dir, sizeof(dir), "pending");
        s = reopen(dir);
        assert_int_equal(firewall_store_set_good(s, &a->firewall, true), 0);
        assert_int_equal(firewall_store_begin_pending(s, &b->firewall, 1700000000000000ULL), 0);
        firewall_store_free(s); /* killed inside the window */

        s = reopen(dir);
        assert_non_null(firewall_store_pending(s, &deadline));
        assert_true(deadline == 1700000000000000ULL);
        assert_true(firewall_policy_equal(firewall_store_pending(s, NULL), &b->firewall));
        assert_true(firewall_policy_equal(firewall_store_good(s), &a->firewall));
        assert_int_equal(firewall_store_roll_back(s, "hostd restarted inside the confirmation window", 42), 0);
        assert_int_equal(firewall_store_roll_back(s, "twice", 43), -ENOENT);
        firewall_store_free(s);

        s = reopen(dir);
        assert_null(firewall_store_pending(s, NULL));
        assert_non_null(firewall_store_held(s, &reason, &since));
        assert_string_equal(reason, "hostd restarted inside the confirmation window");
        assert_true(since == 42);
        /* the file still says b: a is what goes in */
        assert_ptr_equal(firewall_store_choose(s, &b->firewall, &held), firewall_store_good(s));
        assert_true(held);
        /* the file changed since: its policy goes in */
        assert_ptr_equal(firewall_store_choose(s, &c->firewall, &held), &c->firewall);
        assert_false(held);
        /* set_good without clearing (a reload while held) keeps the hold */
        assert_int_equal(firewall_store_set_good(s, &a->firewall, false), 0);
        assert_non_null(firewall_store_held(s, NULL, NULL));
        /* an explicit apply of b */
        assert_int_equal(firewall_store_set_good(s, &b->firewall, true), 0);
        firewall_store_free(s);

        s = reopen(dir);
        assert_null(firewall_store_held(s, NULL, NULL));
        assert_true(firewall_policy_equal(firewall_store_good(s), &b->firewall));
        firewall_store_free(s);
}

static void test_confirm_and_cancel(void **state) {
        _cleanup_(config_freep) HostdConfig *a = policy("{}");
        _cleanup_(config_freep) HostdConfig *b = policy("{\"public-tcp-ports\": [443, 8443]}");
        char dir[256];
        FirewallStore *s;

        fresh_dir(state, dir, sizeof(dir), "confirm");
        s = reopen(dir);
        assert_int_equal(firewall_store_confirm(s), -ENOENT);
        assert_int_equal(firewall_store_set_good(s, &a->firewall, true), 0);
        assert_int_equal(firewall_store_begin_pending(s, &b->firewall, 5), 0);
        assert_int_equal(firewall_store_cancel_pending(s), 0);
        firewall_store_free(s);
        s = reopen(dir);
        assert_null(firewall_store_pending(s, NULL));
        assert_true(firewall_policy_equal(firewall_store_good(s), &a->firewall));
        assert_int_equal(firewall_store_begin_pending(s, &b->firewall, 5), 0);
        assert_int_equal(firewall_store_confirm(s), 0);
        firewall_store_free(s);
        s = reopen(dir);
        assert_null(firewall_store_pending(s, NULL));
        assert_true(firewall_policy_equal(firewall_store_good(s), &b->firewall));
        firewall_store_free(s);
}

/* a transition whose write fails changes nothing, in memory or on disk:
 * the pending apply is still pending, so a rollback still holds it */
static void test_failed_write_changes_nothing(void **state) {
        _cleanup_(config_freep) HostdConfig *a = policy("{}");
        _cleanup_(config_freep) HostdConfig *b = policy("{\"public-tcp-ports\": [443, 8443]}");
        char dir[256], path[512], blocker[600];
        FirewallStore *s;

        fresh_dir(state, dir, sizeof(dir), "failed-write");
        s = reopen(dir);
        assert_int_equal(firewall_store_set_good(s, &a->firewall, true), 0);
        assert_int_equal(firewall_store_begin_pending(s, &b->firewall, 5), 0);
        /* a non-empty directory where the file goes: rename() onto it fails */
        snprintf(path, sizeof(path), "%s/%s", dir, FIREWALL_STATE_FILE);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(blocker, sizeof(blocker), "%s/x", path);
        assert_int_equal(write_file_atomic(blocker, "x", 1, 0600), 0);

        assert_true(firewall_store_confirm(s) < 0);
        assert_true(firewall_policy_equal(firewall_store_pending(s, NULL), &b->firewall));
        assert_true(firewall_policy_equal(firewall_store_good(s), &a->firewall));
        assert_true(firewall_store_roll_back(s, "unconfirmed", 7) < 0);
        assert_non_null(firewall_store_pending(s, NULL));
        assert_null(firewall_store_held(s, NULL, NULL));
        assert_true(firewall_store_cancel_pending(s) < 0);
        assert_non_null(firewall_store_pending(s, NULL));
        assert_true(firewall_store_set_good(s, &b->firewall, true) < 0);
        assert_true(firewall_policy_equal(firewall_store_good(s), &a->firewall));

        /* the disk back: the same rollback now holds the pending policy */
        assert_int_equal(unlink(blocker), 0);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(firewall_store_roll_back(s, "unconfirmed", 7), 0);
        firewall_store_free(s);
        s = reopen(dir);
        assert_true(firewall_policy_equal(firewall_store_held(s, NULL, NULL), &b->firewall));
        assert_true(firewall_policy_equal(firewall_store_good(s), &a->firewall));
        firewall_store_free(s);
}

/* a damaged file: the error names file, line and member; the store is
 * empty, and its first change replaces the file */
static void test_damaged(void **state) {
        static const struct {
                const char *text, *expect;
        } cases[] = {
                { "{\"good\": {\"ssh-port\": 0}}", "firewall-state.json:1:23: good.ssh-port:" },
                { "{\"pending\": {\"deadline\": -1, \"policy\": {}}}", "pending.deadline" },
                { "{\"pending\": {\"deadline\": 1}}", "pending.policy" },
                { "{\"held\": {\"reason\": 3, \"since\": 1, \"policy\": {}}}", "held.reason" },
                { "{\"held\": {\"reason\": \"x\", \"since\": 1, \"policy\": {\"peers\": [\"1.2.3.4/33\"]}}}",
                  "held.policy.peers[0]" },
                { "{\"goood\": null}", "goood: unknown member" },
                { "[]", "expected an object" },
                { "{\"good\": ", "firewall-state.json:1:" },
        };
        _cleanup_(config_freep) HostdConfig *a = policy("{}");
        char dir[256], path[300], err[512];
        FirewallStore *s;

        fresh_dir(state, dir, sizeof(dir), "damaged");
        snprintf(path, sizeof(path), "%s/%s", dir, FIREWALL_STATE_FILE);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                err[0] = '\0';
                assert_int_equal(write_file_atomic(path, cases[i].text, strlen(cases[i].text), 0600), 0);
                s = NULL;
                assert_int_equal(firewall_store_open(dir, &s, err, sizeof(err)), -EINVAL);
                assert_non_null(s);
                if (!strstr(err, cases[i].expect))
                        fail_msg("%s: expected '%s' in: %s", cases[i].text, cases[i].expect, err);
                assert_non_null(strstr(err, path));
                assert_null(firewall_store_good(s));
                assert_null(firewall_store_pending(s, NULL));
                assert_null(firewall_store_held(s, NULL, NULL));
                firewall_store_free(s);
        }
        /* the next change rewrites it whole */
        assert_int_equal(firewall_store_open(dir, &s, err, sizeof(err)), -EINVAL);
        assert_int_equal(firewall_store_set_good(s, &a->firewall, true), 0);
        firewall_store_free(s);
        s = reopen(dir);
        assert_non_null(firewall_store_good(s));
        firewall_store_free(s);
}

/* the text a store writes (every member filled) reads back into the same
 * text and the same policies */
static void test_text_round_trip(void **state) {
        _cleanup_(config_freep) HostdConfig *a =
                policy("{\"peers\": [\"10.1.0.0/16\", \"fd00::1/128\"], \"management-sources\": [\"192.0.2.7/32\"],"
                       " \"public-tcp-ports\": [443, 8443], \"ssh-port\": 2222}");
        _cleanup_(config_freep) HostdConfig *b = policy("{\"enabled\": false}");
        _cleanup_(firewall_store_freep) FirewallStore *s = NULL, *back = NULL;
        _cleanup_free_ char *text = NULL, *again = NULL;
        char dir[256], err[512] = "";

        fresh_dir(state, dir, sizeof(dir), "text");
        s = reopen(dir);
        assert_int_equal(firewall_store_set_good(s, &a->firewall, true), 0);
        assert_int_equal(firewall_store_begin_pending(s, &b->firewall, 7), 0);
        assert_int_equal(firewall_store_roll_back(s, "not confirmed within 30 s", 9), 0);
        assert_int_equal(firewall_store_begin_pending(s, &a->firewall, 11), 0);
        /* begin_pending is an explicit apply: it forgets the hold */
        assert_null(firewall_store_held(s, NULL, NULL));
        assert_int_equal(firewall_store_roll_back(s, "the node restarted inside the confirmation window", 12), 0);
        assert_int_equal(firewall_store_begin_pending(s, &b->firewall, 13), 0);
        text = firewall_store_to_text(s);
        assert_non_null(text);
        assert_int_equal(firewall_store_from_text("/x/firewall-state.json", text, strlen(text), &back, err,
                                                  sizeof(err)),
                         0);
        assert_true(firewall_policy_equal(firewall_store_good(back), &a->firewall));
        assert_true(firewall_policy_equal(firewall_store_pending(back, NULL), &b->firewall));
        again = firewall_store_to_text(back);
        assert_string_equal(text, again);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_then_good),
                cmocka_unit_test(test_pending_rolled_back_and_held),
                cmocka_unit_test(test_confirm_and_cancel),
                cmocka_unit_test(test_failed_write_changes_nothing),
                cmocka_unit_test(test_damaged),
                cmocka_unit_test(test_text_round_trip),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
