/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A node's own wave record: round trip through its file, located errors
 * for a damaged one, and where a restarted agent picks up from each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "patching/wave-node.h"
#include "scratch-dir.h"

static void put(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_round_trip(void **state) {
        WaveNodeRecord r = { .step = AGENT_REBOOTING, .ok = true, .healthy = false, .baseline = NODE_HEALTH_DOCKER | NODE_HEALTH_FIREWALL,
                              .docker_restart = true, .updated_usec = 1764065700000000 },
                        back;
        LocatedError e = {};
        char path[256];

        snprintf(path, sizeof(path), "%s/wave-node.json", (char *) *state);
        assert_int_equal(wave_node_record_load(path, &back, &e), 0); /* absent: idle */
        assert_int_equal(back.step, AGENT_IDLE);
        snprintf(r.wave, sizeof(r.wave), "w-20261125T101500Z");
        snprintf(r.transaction, sizeof(r.transaction), "20261125T101600Z-3f2a9c0d1e4b");
        snprintf(r.boot_id, sizeof(r.boot_id), "0b6f1c62-7d3e-4c1a-9f0e-2f5c8d7a1b3e");
        snprintf(r.message, sizeof(r.message), "3 package(s) installed");
        assert_int_equal(wave_node_record_save(path, &r), 0);
        assert_int_equal(wave_node_record_load(path, &back, &e), 0);
        assert_memory_equal(&r, &back, sizeof(r));
        assert_string_equal(wave_node_step_to_string(back.step), "rebooting");
}

static void test_damaged(void **state) {
        static const struct {
                const char *text, *path, *message;
                unsigned line;
        } cases[] = {
                { "{\"version\": 1,\n \"wave\": \"w\",\n \"step\": \"dancing\"}", "step", "unknown step \"dancing\"", 3 },
                { "{\"version\": 2}", "version", "unsupported version", 1 },
                { "{\"version\": 1, \"colour\": 1}", "colour", "unknown key", 1 },
                { "{\"version\": 1,\n \"wave\": \"\",\n \"step\": \"waiting\"}", "wave", "empty while the step is waiting", 2 },
                { "{\"version\": 1, \"wave\": \"w\", \"step\": \"rebooting\", \"plan\": \"\", \"transaction\": \"\", "
                  "\"message\": \"\", \"boot_id\": \"\", \"ok\": true, \"healthy\": true, \"baseline\": 3, \"updated\": 1}",
                  "boot_id", "empty while the step is rebooting", 1 },
                { "{\"version\": 1, \"wave\": \"w\", \"step\": \"idle\", \"plan\": \"\", \"transaction\": \"\", "
                  "\"message\": \"\", \"boot_id\": \"\", \"ok\": true, \"healthy\": true,\n \"baseline\": 32, \"updated\": 1}",
                  "baseline", "expected health check bits 0..31", 2 },
                { "{\"version\": 1, \"wave\": \"w\", \"step\": \"docker-restart\", \"plan\": \"\", \"transaction\": \"\", "
                  "\"message\": \"\", \"boot_id\": \"\", \"ok\": true, \"healthy\": true, \"baseline\": 3,\n "
                  "\"docker_restart\": 1, \"updated\": 1}",
                  "docker_restart", "expected boolean, got number", 2 },
                { "{\"version\": 1,", "", "", 1 },
        };
        char path[256];

        snprintf(path, sizeof(path), "%s/damaged.json", (char *) *state);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                WaveNodeRecord r;
                LocatedError e = {};
                put(path, cases[i].text);
                assert_int_equal(wave_node_record_load(path, &r, &e), -EINVAL);
                if (!STREQ(e.path, cases[i].path) || !strstr(e.message, cases[i].message) || e.line != cases[i].line)
                        fail_msg("case %zu: got %u:%u %s: %s", i, e.line, e.column, e.path, e.message);
        }
}

static void test_resume(void **state _unused_) {
        WaveNodeRecord r = {};

        snprintf(r.boot_id, sizeof(r.boot_id), "boot-a");
        r.step = AGENT_IDLE;
        assert_int_equal(wave_node_resume(&r, "boot-a"), RESUME_NOTHING);
        r.step = AGENT_STAGED;
        assert_int_equal(wave_node_resume(&r, "boot-a"), RESUME_ASK);
        r.step = AGENT_WAITING;
        assert_int_equal(wave_node_resume(&r, "boot-a"), RESUME_ASK);
        r.step = AGENT_APPLYING;
        assert_int_equal(wave_node_resume(&r, "boot-b"), RESUME_CHECK_APPLY);
        r.step = AGENT_REBOOTING;
        /* still the same boot: the reboot never happened */
        assert_int_equal(wave_node_resume(&r, "boot-a"), RESUME_REBOOT);
        assert_int_equal(wave_node_resume(&r, "boot-b"), RESUME_VERIFY);
        r.step = AGENT_DOCKER_RESTART;
        assert_int_equal(wave_node_resume(&r, "boot-a"), RESUME_DOCKER_RESTART);
        assert_string_equal(wave_node_step_to_string(r.step), "docker-restart");
        r.step = AGENT_VERIFYING;
        assert_int_equal(wave_node_resume(&r, "boot-b"), RESUME_VERIFY);
        r.step = AGENT_REPORTING;
        assert_int_equal(wave_node_resume(&r, "boot-b"), RESUME_REPORT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_damaged),
                cmocka_unit_test(test_resume),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
