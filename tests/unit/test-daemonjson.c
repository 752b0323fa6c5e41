/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Editing daemon.json: only "seccomp-profile" changes; keys, order, mode and
 * the original bytes are kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "policy/daemonjson.h"
#include "tests/unit/scratch-dir.h"

static const char original[] = "{\n    \"log-driver\": \"journald\",\n    \"live-restore\": false,\n"
                               "    \"icc\": false\n}\n";

static char *path_in(void **state, const char *name) {
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s", (char *) *state, name) > 0);
        return p;
}

/* not inlined: gcc 12 then mistakes strstr results for pointers to its local */
__attribute__((noinline)) static char *slurp(const char *path) {
        char *text = NULL;

        assert_int_equal(read_file(path, 1 << 20, &text, NULL), 0);
        return text;
}

/* other keys kept, in their order, the new key last */
static bool keys_in_order(const char *path) {
        static const char *const in_order[] = {
                "\"log-driver\": \"journald\"", "\"live-restore\": false", "\"icc\": false",
                "\"seccomp-profile\": \"/etc/docker/hostd-seccomp.json\"",
        };
        _cleanup_free_ char *edited = slurp(path);
        size_t last = 0;

        for (size_t i = 0; i < ELEMENTSOF(in_order); i++) {
                const char *at = strstr(edited, in_order[i]);
                if (!at || (size_t) (at - edited) < last) {
                        print_error("%s missing or out of order in:\n%s", in_order[i], edited);
                        return false;
                }
                last = (size_t) (at - edited);
        }
        return true;
}

static void test_edit_keeps_everything_else(void **state) {
        _cleanup_free_ char *path = path_in(state, "daemon.json");
        _cleanup_free_ char *backup = path_in(state, "daemon.json" DAEMON_JSON_BACKUP_SUFFIX);
        char err[256] = "", *value = NULL, *text;
        struct stat st;

        assert_int_equal(write_file_atomic(path, original, strlen(original), 0640), 0);
        assert_int_equal(daemon_json_set_seccomp(path, "/etc/docker/hostd-seccomp.json", err, sizeof(err)), 1);
        assert_true(keys_in_order(path));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        text = slurp(backup);
        assert_string_equal(text, original);
        free(text);

        assert_int_equal(daemon_json_get_seccomp(path, &value, err, sizeof(err)), 0);
        assert_string_equal(value, "/etc/docker/hostd-seccomp.json");
        free(value);

        /* the same value again: nothing written */
        assert_int_equal(daemon_json_set_seccomp(path, "/etc/docker/hostd-seccomp.json", err, sizeof(err)), 0);
        /* another value: the backup still holds the original */
        assert_int_equal(daemon_json_set_seccomp(path, "builtin", err, sizeof(err)), 1);
        text = slurp(backup);
        assert_string_equal(text, original);
        free(text);

        assert_int_equal(daemon_json_restore(path, err, sizeof(err)), 0);
        text = slurp(path);
        assert_string_equal(text, original);
        free(text);
        assert_int_equal(access(backup, F_OK), -1);
        assert_int_equal(daemon_json_restore(path, err, sizeof(err)), -ENOENT);
}

static void test_missing_file(void **state) {
        _cleanup_free_ char *path = path_in(state, "absent.json");
        char err[256] = "", *value = (char *) 1;
        struct stat st;

        assert_int_equal(daemon_json_get_seccomp(path, &value, err, sizeof(err)), 0);
        assert_null(value);
        assert_int_equal(daemon_json_set_seccomp(path, "/p.json", err, sizeof(err)), 1);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(daemon_json_restore(path, err, sizeof(err)), 0);
        assert_int_equal(access(path, F_OK), -1); /* hostd created it, so it is gone again */
}

static void test_bad_input_changes_nothing(void **state) {
        _cleanup_free_ char *path = path_in(state, "bad.json");
        _cleanup_free_ char *backup = path_in(state, "bad.json" DAEMON_JSON_BACKUP_SUFFIX);
        const char broken[] = "{\n  \"icc\": false,\n}\n";
        char err[256] = "", *text;

        assert_int_equal(write_file_atomic(path, broken, strlen(broken), 0644), 0);
        assert_int_equal(daemon_json_set_seccomp(path, "/p.json", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "bad.json:3:"));
        text = slurp(path);
        assert_string_equal(text, broken);
        free(text);
        assert_int_equal(access(backup, F_OK), -1);

        assert_int_equal(write_file_atomic(path, "[1]", 3, 0644), 0);
        assert_int_equal(daemon_json_set_seccomp(path, "/p.json", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "expected a JSON object"));

        assert_int_equal(write_file_atomic(path, "{}", 2, 0644), 0);
        assert_int_equal(daemon_json_set_seccomp(path, "relative.json", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "expected builtin, unconfined or an absolute path"));
        text = slurp(path);
        assert_string_equal(text, "{}");
        free(text);

        /* a value dockerd would refuse is not overwritten either (found by
         * fuzz-daemon-json) */
        assert_int_equal(write_file_atomic(path, "{\"seccomp-profile\": 7}", 22, 0644), 0);
        assert_int_equal(daemon_json_set_seccomp(path, "/p.json", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "\"seccomp-profile\" is not a string"));
        text = slurp(path);
        assert_string_equal(text, "{\"seccomp-profile\": 7}");
        free(text);
        assert_int_equal(access(backup, F_OK), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_edit_keeps_everything_else),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_bad_input_changes_nothing),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
