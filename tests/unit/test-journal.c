/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The patch journal: package sets and their differences, entries written
 * atomically and read back strictly, history listed in order, and a
 * damaged entry refused with its location. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "patching/journal.h"
#include "tests/unit/scratch-dir.h"

#define PLAN "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6d7e8f90123456789abcdef0123456789"

static void test_package_set(void **state _unused_) {
        PackageSet s = {}, t = {};

        assert_int_equal(package_set_put(&s, "openssl", "amd64", "3.0.11-1~deb12u1"), 0);
        assert_int_equal(package_set_put(&s, "bash", "amd64", "5.2.15-2+b2"), 0);
        assert_int_equal(package_set_put(&s, "libc6", "i386", "2.36-9"), 0);
        assert_int_equal(package_set_put(&s, "libc6", "amd64", "2.36-9"), 0);
        assert_int_equal(s.n, 4);
        /* sorted by name, then arch */
        assert_string_equal(s.items[0].name, "bash");
        assert_string_equal(s.items[1].arch, "amd64");
        assert_string_equal(s.items[2].arch, "i386");
        assert_string_equal(s.items[3].name, "openssl");
        /* replacing a version keeps one entry */
        assert_int_equal(package_set_put(&s, "bash", "amd64", "5.2.15-2+b7"), 0);
        assert_int_equal(s.n, 4);
        assert_string_equal(package_set_find(&s, "bash", "amd64")->version, "5.2.15-2+b7");
        assert_null(package_set_find(&s, "bash", "i386"));
        assert_int_equal(package_set_put(&s, "bad name", "amd64", "1"), -EINVAL);
        assert_int_equal(package_set_put(&s, "x", "", "1"), -EINVAL);
        assert_int_equal(package_set_put(&s, "x", "amd64", "1\n"), -EINVAL);

        for (size_t i = s.n; i > 0; i--)
                assert_int_equal(package_set_put(&t, s.items[i - 1].name, s.items[i - 1].arch,
                                                 s.items[i - 1].version), 0);
        assert_true(package_set_equal(&s, &t));
        assert_int_equal(package_set_put(&t, "openssl", "amd64", "3.0.13-1~deb12u1"), 0);
        assert_false(package_set_equal(&s, &t));
        package_set_done(&s);
        package_set_done(&t);
        package_set_done(&t); /* twice is harmless */
}

static void test_diff(void **state _unused_) {
        PackageSet before = {}, after = {};
        PackageDiff d;

        assert_int_equal(package_set_put(&before, "bash", "amd64", "5.2.15-2+b2"), 0);
        assert_int_equal(package_set_put(&before, "openssl", "amd64", "3.0.11-1"), 0);
        assert_int_equal(package_set_put(&before, "old-tool", "all", "1.0"), 0);
        assert_int_equal(package_set_put(&after, "bash", "amd64", "5.2.15-2+b2"), 0);
        assert_int_equal(package_set_put(&after, "openssl", "amd64", "3.0.13-1"), 0);
        assert_int_equal(package_set_put(&after, "linux-image-6.1.0-27-amd64", "amd64", "6.1.115-1"), 0);

        /* rolling back: after -> before */
        assert_int_equal(package_set_diff(&after, &before, &d), 0);
        assert_int_equal(d.install.n, 2); /* openssl downgraded, old-tool back */
        assert_string_equal(package_set_find(&d.install, "openssl", "amd64")->version, "3.0.11-1");
        assert_non_null(package_set_find(&d.install, "old-tool", "all"));
        assert_int_equal(d.remove.n, 1); /* what the upgrade added */
        assert_string_equal(d.remove.items[0].name, "linux-image-6.1.0-27-amd64");
        package_diff_done(&d);

        assert_int_equal(package_set_diff(&before, &before, &d), 0);
        assert_int_equal(d.install.n + d.remove.n, 0);
        package_diff_done(&d);
        package_set_done(&before);
        package_set_done(&after);
}

static JournalEntry *sample(uint64_t started) {
        JournalEntry *e = NULL;

        assert_int_equal(journal_entry_new(PLAN, "apt", "/srv/root", started, &e), 0);
        assert_int_equal(package_set_put(&e->before, "openssl", "amd64", "3.0.11-1"), 0);
        assert_int_equal(package_set_put(&e->before, "bash", "amd64", "5.2.15-2+b2"), 0);
        return e;
}

static void test_write_and_read(void **state) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        JournalEntry *e = sample(1764065700123456), *back = NULL;
        JournalError err = {};
        struct stat st;

        assert_true(asprintf(&dir, "%s/journal", (char *) *state) > 0);
        assert_string_equal(e->id, "20251125T101500Z-3f2a9c0d1e4b");
        assert_int_equal(e->state, JOURNAL_APPLYING);
        assert_int_equal(journal_write(dir, e), 0);
        assert_true(asprintf(&path, "%s/%s.json", dir, e->id) > 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* the end of the transaction rewrites the same entry */
        e->state = JOURNAL_APPLIED;
        e->finished_usec = e->started_usec + 5000000;
        free(e->message);
        e->message = strdup("2 packages upgraded");
        assert_int_equal(package_set_put(&e->after, "openssl", "amd64", "3.0.13-1"), 0);
        assert_int_equal(journal_write(dir, e), 0);

        e->interrupted = true;
        assert_int_equal(journal_write(dir, e), 0);
        assert_int_equal(journal_read(path, &back, &err), 0);
        assert_true(back->interrupted);
        journal_entry_free(back);
        back = NULL;
        e->interrupted = false;
        assert_int_equal(journal_write(dir, e), 0);
        assert_int_equal(journal_read(path, &back, &err), 0);
        assert_false(back->interrupted);
        assert_string_equal(back->id, e->id);
        assert_string_equal(back->plan, PLAN);
        assert_string_equal(back->backend, "apt");
        assert_string_equal(back->root, "/srv/root");
        assert_int_equal(back->state, JOURNAL_APPLIED);
        assert_true(back->started_usec == 1764065700123456);
        assert_true(back->finished_usec == 1764065705123456);
        assert_string_equal(back->message, "2 packages upgraded");
        assert_true(package_set_equal(&back->before, &e->before));
        assert_true(package_set_equal(&back->after, &e->after));
        journal_entry_free(back);
        journal_entry_free(e);

        assert_int_equal(journal_entry_new("not-hex", "apt", "/", 1, &e), -EINVAL);
        assert_int_equal(journal_entry_new(PLAN, "zypper", "/", 1, &e), -EINVAL);
        assert_int_equal(journal_entry_new(PLAN, "rpm", "relative", 1, &e), -EINVAL);
}

static void parse_bad(const char *text, unsigned line, unsigned column, const char *path, const char *needle) {
        JournalEntry *e = NULL;
        JournalError err = {};

        assert_true(journal_parse(text, strlen(text), &e, &err) < 0);
        assert_null(e);
        if (err.line != line || err.column != column || !STREQ(err.path, path) || !strstr(err.message, needle))
                fail_msg("for %s\n  got %u:%u '%s' '%s'", text, err.line, err.column, err.path, err.message);
}

#define HEAD "{\"version\": 1, \"id\": \"20251125T101500Z-3f2a9c0d1e4b\", \"plan\": \"3f2a9c0d1e4b\",\n"
#define MID " \"backend\": \"apt\", \"root\": \"/\", \"state\": \"applied\", \"started\": 10, \"finished\": 20,\n"

static void test_corrupt_entries(void **state _unused_) {
        JournalEntry *e = NULL;
        JournalError err = {};
        const char *good = HEAD MID " \"message\": \"\", \"before\": [[\"bash\", \"amd64\", \"5.2\"]], \"after\": []}";

        assert_int_equal(journal_parse(good, strlen(good), &e, &err), 0);
        assert_false(e->interrupted); /* absent: entries written before it existed */
        journal_entry_free(e);
        const char *interrupted = HEAD MID " \"interrupted\": true, \"message\": \"\", \"before\": [], \"after\": []}";
        assert_int_equal(journal_parse(interrupted, strlen(interrupted), &e, &err), 0);
        assert_true(e->interrupted);
        journal_entry_free(e);
        parse_bad(HEAD MID " \"interrupted\": 1, \"message\": \"\", \"before\": [], \"after\": []}", 3, 17, "interrupted",
                  "expected boolean, got number");

        parse_bad(HEAD MID " \"message\": \"\", \"before\": [[\"bash\", \"amd64\", \"5.2\"]], \"after\": [", 3, 65, "",
                  "unexpected end of input");
        parse_bad("{\"version\": 2}", 1, 13, "version", "unsupported journal version 2");
        parse_bad(HEAD MID " \"message\": \"\", \"before\": [], \"after\": [], \"extra\": 1}", 3, 44, "extra",
                  "unknown key");
        parse_bad(HEAD MID " \"message\": \"\", \"before\": [[\"bash\", \"amd64\"]], \"after\": []}", 3, 28,
                  "before[0]", "expected [name, arch, version]");
        parse_bad(HEAD MID " \"message\": \"\", \"before\": [[\"bash\", \"amd64\", \"\"]], \"after\": []}", 3, 46,
                  "before[0][2]", "non-empty string");
        parse_bad(HEAD MID " \"message\": \"\", \"before\": [], \"after\": [[\"a\", \"all\", \"1\"], [\"a\", \"all\", \"2\"]]}",
                  3, 60, "after[1]", "a:all is listed twice");
        parse_bad(HEAD " \"backend\": \"apt\", \"root\": \"/\", \"state\": \"done\", \"started\": 10, \"finished\": 20,\n"
                  " \"message\": \"\", \"before\": [], \"after\": []}", 2, 42, "state", "unknown state \"done\"");
        parse_bad(HEAD " \"backend\": \"apt\", \"root\": \"/\", \"state\": \"applied\", \"started\": 10, \"finished\": 5,\n"
                  " \"message\": \"\", \"before\": [], \"after\": []}", 2, 80, "finished", "before the start");
        parse_bad(HEAD MID " \"message\": \"\", \"after\": []}", 1, 1, "before", "missing");
        parse_bad("{\"version\": 1, \"id\": \"../../etc/passwd\"}", 1, 22, "id", "not a journal ID");
}

static void test_list(void **state) {
        _cleanup_free_ char *dir = NULL, *bad = NULL, *tmp = NULL;
        JournalEntry **list = NULL, *a = sample(2000000000000000), *b = sample(1000000000000000);
        JournalError err = {};
        char *error_file = NULL;
        size_t n = 99;

        assert_true(asprintf(&dir, "%s/history", (char *) *state) > 0);
        /* no directory yet: an empty history */
        assert_int_equal(journal_list(dir, &list, &n, &err, &error_file), 0);
        assert_int_equal(n, 0);
        assert_int_equal(journal_write(dir, a), 0);
        assert_int_equal(journal_write(dir, b), 0);
        /* an interrupted write leaves a temporary file: not an entry */
        assert_true(asprintf(&tmp, "%s/%s.json.tmp.123", dir, a->id) > 0);
        assert_int_equal(write_file_atomic(tmp, "{", 1, 0600), 0);

        assert_int_equal(journal_list(dir, &list, &n, &err, &error_file), 0);
        assert_int_equal(n, 2);
        assert_string_equal(list[0]->id, b->id); /* oldest first */
        assert_string_equal(list[1]->id, a->id);
        journal_list_free(list, n);

        /* a damaged entry fails the listing, naming the file */
        assert_true(asprintf(&bad, "%s/20300101T000000Z-000000000000.json", dir) > 0);
        assert_int_equal(write_file_atomic(bad, "{\"version\": 1,", 14, 0600), 0);
        assert_int_equal(journal_list(dir, &list, &n, &err, &error_file), -EINVAL);
        assert_string_equal(error_file, bad);
        assert_int_equal(err.line, 1);
        free(error_file);
        journal_entry_free(a);
        journal_entry_free(b);
}

static void test_format_and_free_null(void **state _unused_) {
        JournalError err = { .line = 3, .column = 9, .path = "before[2]" };
        char buf[256];

        snprintf(err.message, sizeof(err.message), "expected [name, arch, version]");
        located_error_format(&err, "/var/lib/hostd/patching/x.json", buf, sizeof(buf));
        assert_string_equal(buf, "/var/lib/hostd/patching/x.json:3:9: before[2]: expected [name, arch, version]");
        assert_null(journal_entry_free(NULL));
        journal_list_free(NULL, 0);
        assert_string_equal(journal_state_to_string(JOURNAL_ROLLED_BACK), "rolled-back");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_package_set),
                cmocka_unit_test(test_diff),
                cmocka_unit_test(test_write_and_read),
                cmocka_unit_test(test_corrupt_entries),
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_format_and_free_null),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
