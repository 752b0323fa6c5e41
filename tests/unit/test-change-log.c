/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "hostd/change-log.h"
#include "hostd/log.h"
#include "scratch-dir.h"

static char *log_path(const char *dir, const char *suffix) {
        char *p;

        assert_true(asprintf(&p, "%s/%s%s", dir, CHANGE_LOG_FILE, suffix) > 0);
        return p;
}

static void remove_logs(const char *dir) {
        _cleanup_free_ char *a = log_path(dir, ""), *b = log_path(dir, ".1");

        unlink(a);
        unlink(b);
}

static void test_kinds(void **state _unused_) {
        for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++) {
                const char *id = change_kind_message_id(k);

                assert_non_null(change_kind_to_string(k));
                assert_int_equal(change_kind_from_string(change_kind_to_string(k)), k);
                assert_int_equal(strlen(id), 32);
                assert_int_equal(strspn(id, "0123456789abcdef"), 32);
                for (ChangeKind j = 0; j < k; j++) {
                        assert_string_not_equal(change_kind_to_string(j), change_kind_to_string(k));
                        assert_string_not_equal(change_kind_message_id(j), id);
                }
        }
        assert_int_equal(change_kind_from_string("firewall"), -EINVAL);
        assert_int_equal(change_kind_from_string(NULL), -EINVAL);
        assert_null(change_kind_to_string(_CHANGE_KIND_MAX));
}

/* the schema shipped for GET /v1/changes names every kind, in order */
static void test_schema_kinds(void **state _unused_) {
        json_error_t error;
        _cleanup_(json_decrefp) json_t *schema = json_load_file("docs/changes.schema.json", 0, &error);
        const json_t *kinds;

        assert_non_null(schema);
        kinds = schema;
        for (const char *const *key = (const char *const[]){ "properties", "changes", "items", "properties", "kind",
                                                              "enum", NULL };
             *key; key++)
                kinds = json_object_get(kinds, *key);
        assert_int_equal(json_array_size(kinds), _CHANGE_KIND_MAX);
        for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++)
                assert_string_equal(json_string_value(json_array_get(kinds, k)), change_kind_to_string(k));
}

static void test_record_and_read(void **state) {
        const char *dir = *state;
        _cleanup_(json_decrefp) json_t *records = NULL, *damaged = NULL;
        ChangeLog *log = NULL;
        const json_t *rec;

        remove_logs(dir);
        assert_int_equal(change_log_open(dir, &log), 0);
        change_record(log, LOG_NOTICE, CHANGE_FIREWALL_APPLY,
                      LOG_FIELDS("HOSTD_REASON=hostd started", "HOSTD_SUBSYSTEM=firewall", "HOSTD_CHANGE=x"),
                      "Firewall applied: %d rules", 12);
        change_record(log, LOG_INFO, CHANGE_CONFIG_RELOAD, NULL, "Configuration reloaded");
        change_log_free(log);

        /* reopened: the sequence goes on */
        assert_int_equal(change_log_open(dir, &log), 0);
        change_record(log, LOG_NOTICE, CHANGE_NODE_DRAIN, LOG_FIELDS("HOSTD_WAVE=w1", "HOSTD_NODE=n1"),
                      "drained \"n1\"");
        change_log_free(log);

        assert_int_equal(change_log_read(dir, 0, NULL, 0, &records, &damaged), 0);
        assert_int_equal(json_array_size(records), 3);
        assert_int_equal(json_array_size(damaged), 0);
        rec = json_array_get(records, 0);
        assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 1);
        assert_string_equal(json_string_value(json_object_get(rec, "kind")), "firewall-apply");
        assert_string_equal(json_string_value(json_object_get(rec, "message_id")),
                            change_kind_message_id(CHANGE_FIREWALL_APPLY));
        assert_string_equal(json_string_value(json_object_get(rec, "message")), "Firewall applied: 12 rules");
        assert_string_equal(json_string_value(json_object_get(rec, "priority")), "notice");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "reason")),
                            "hostd started");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "subsystem")),
                            "firewall");
        /* the kind is the record's own, not a field */
        assert_null(json_object_get(json_object_get(rec, "fields"), "change"));
        rec = json_array_get(records, 2);
        assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 3);
        assert_string_equal(json_string_value(json_object_get(rec, "message")), "drained \"n1\"");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "node")), "n1");

        /* filters: kind, limit (the newest), since */
        json_decref(records);
        json_decref(damaged);
        assert_int_equal(change_log_read(dir, 0, "config-reload", 0, &records, &damaged), 0);
        assert_int_equal(json_array_size(records), 1);
        json_decref(records);
        json_decref(damaged);
        assert_int_equal(change_log_read(dir, 0, NULL, 2, &records, &damaged), 0);
        assert_int_equal(json_array_size(records), 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(records, 0), "seq")), 2);
        json_decref(records);
        json_decref(damaged);
        assert_int_equal(change_log_read(dir, UINT64_MAX / 2, NULL, 0, &records, &damaged), 0);
        assert_int_equal(json_array_size(records), 0);
}

static void test_damaged_lines(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *path = log_path(dir, "");
        _cleanup_(json_decrefp) json_t *records = NULL, *damaged = NULL;
        ChangeLog *log = NULL;
        FILE *f;

        remove_logs(dir);
        assert_int_equal(change_log_open(dir, &log), 0);
        change_record(log, LOG_NOTICE, CHANGE_PATCH_APPLY, NULL, "one");
        change_log_free(log);
        f = fopen(path, "a");
        assert_non_null(f);
        fputs("{\"seq\": 7, \"kind\": \"firewall-apply\"}\n", f); /* no time */
        fputs("{\"seq\":9,\"time_usec\":1,\"time\":\"x\",\"kind\":\"patch-apply\",\"message_id\":"
              "\"0000\",\"priority\":\"info\",\"message\":\"m\",\"fields\":{}}\n", f); /* wrong ID */
        fputs("not json\n", f);
        fputs("{\"seq\":12,\"time_usec\":", f); /* torn last line */
        fclose(f);

        /* the damaged lines are named; the good records are kept: the
         * torn line was ended before the next record, which follows the
         * largest valid sequence */
        assert_int_equal(change_log_open(dir, &log), 0);
        change_record(log, LOG_NOTICE, CHANGE_PATCH_ROLLBACK, NULL, "two");
        change_log_free(log);
        assert_int_equal(change_log_read(dir, 0, NULL, 0, &records, &damaged), 0);
        assert_int_equal(json_array_size(damaged), 4);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(damaged, 0), "line")), 2);
        assert_non_null(strstr(json_string_value(json_object_get(json_array_get(damaged, 0), "error")), "time_usec"));
        assert_non_null(strstr(json_string_value(json_object_get(json_array_get(damaged, 1), "error")), "message_id"));
        assert_int_equal(json_integer_value(json_object_get(json_array_get(damaged, 2), "line")), 4);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(damaged, 3), "line")), 5);
        assert_int_equal(json_array_size(records), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(records, 0), "message")), "one");
        assert_string_equal(json_string_value(json_object_get(json_array_get(records, 1), "message")), "two");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(records, 1), "seq")), 2);
}

/* hostd --oneshot may append while the daemon has the log open */
static void test_two_writers(void **state) {
        const char *dir = *state;
        _cleanup_(json_decrefp) json_t *records = NULL, *damaged = NULL;
        ChangeLog *a = NULL, *b = NULL;
        const json_t *rec;
        size_t i;

        remove_logs(dir);
        assert_int_equal(change_log_open(dir, &a), 0);
        assert_int_equal(change_log_open(dir, &b), 0);
        change_record(a, LOG_NOTICE, CHANGE_FIREWALL_APPLY, NULL, "a1");
        change_record(b, LOG_NOTICE, CHANGE_FIREWALL_APPLY, NULL, "b1");
        change_record(b, LOG_NOTICE, CHANGE_FIREWALL_APPLY, NULL, "b2");
        change_record(a, LOG_NOTICE, CHANGE_FIREWALL_APPLY, NULL, "a2");
        change_log_free(a);
        change_log_free(b);
        assert_int_equal(change_log_read(dir, 0, NULL, 0, &records, &damaged), 0);
        assert_int_equal(json_array_size(records), 4);
        json_array_foreach(records, i, rec)
                assert_int_equal(json_integer_value(json_object_get(rec, "seq")), (json_int_t) i + 1);
}

static void test_parse_rejects(void **state _unused_) {
        static const char *const bad[] = {
                "[]",
                "{}",
                "{\"seq\":0}",
                "{\"seq\":1,\"time_usec\":-5}",
                "{\"seq\":1,\"time_usec\":5,\"kind\":\"nope\"}",
                "{\"seq\":1,\"time_usec\":5,\"kind\":\"node-drain\",\"message_id\":\"3625d13eb4cd47e28046a74793decb6d\","
                "\"priority\":\"info\",\"message\":\"m\",\"fields\":{\"a\":1}}",
                "{\"seq\":1,\"seq\":2}",
        };
        json_t *rec = NULL;
        char why[128];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                why[0] = 0;
                assert_int_equal(change_record_parse(bad[i], strlen(bad[i]), &rec, why, sizeof(why)), -EINVAL);
                assert_true(why[0] != 0);
        }
        const char *good = "{\"seq\":1,\"time_usec\":5,\"kind\":\"node-drain\",\"message_id\":"
                           "\"3625d13eb4cd47e28046a74793decb6d\",\"priority\":\"info\",\"message\":\"m\","
                           "\"fields\":{\"a\":\"b\"}}";
        assert_int_equal(change_record_parse(good, strlen(good), &rec, why, sizeof(why)), 0);
        json_decref(rec);
}

static void test_rotation(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *path = log_path(dir, ""), *rotated = log_path(dir, ".1");
        _cleanup_(json_decrefp) json_t *records = NULL, *damaged = NULL;
        ChangeLog *log = NULL;
        struct stat st;

        remove_logs(dir);
        assert_int_equal(change_log_open(dir, &log), 0);
        change_record(log, LOG_NOTICE, CHANGE_WAVE_START, NULL, "before");
        /* fill the file up to the limit with blank lines, which readers skip */
        assert_int_equal(truncate(path, 0), 0);
        {
                FILE *f = fopen(path, "a");
                assert_non_null(f);
                for (unsigned i = 0; i < CHANGE_LOG_ROTATE_BYTES; i++)
                        fputc('\n', f);
                fclose(f);
        }
        change_record(log, LOG_NOTICE, CHANGE_WAVE_START, NULL, "after");
        change_log_free(log);

        assert_int_equal(stat(rotated, &st), 0);
        assert_int_equal(st.st_size, CHANGE_LOG_ROTATE_BYTES);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size < 1024);
        assert_int_equal(change_log_read(dir, 0, NULL, 0, &records, &damaged), 0);
        assert_int_equal(json_array_size(records), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(records, 0), "message")), "after");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(records, 0), "seq")), 2);
}

static void test_since(void **state _unused_) {
        const uint64_t now = 1764000000ull * 1000000u + 123456u; /* 2025-11-24 16:00:00.123456 UTC */
        uint64_t t;

        assert_int_equal(change_since_parse("@1700000000", now, &t), 0);
        assert_int_equal(t, 1700000000ull * 1000000u);
        assert_int_equal(change_since_parse("-2h", now, &t), 0);
        assert_int_equal(t, now - 2 * 3600ull * 1000000u);
        assert_int_equal(change_since_parse("90s", now, &t), 0);
        assert_int_equal(t, now - 90ull * 1000000u);
        assert_int_equal(change_since_parse("7d", now, &t), 0);
        assert_int_equal(t, now - 7 * 86400ull * 1000000u);
        assert_int_equal(change_since_parse("15min", now, &t), 0);
        assert_int_equal(t, now - 15 * 60ull * 1000000u);
        assert_int_equal(change_since_parse("2025-11-24 10:00:00Z", now, &t), 0);
        assert_int_equal(t, (1764000000ull - 6 * 3600) * 1000000u);
        assert_int_equal(change_since_parse("2025-11-24T10:00Z", now, &t), 0);
        assert_int_equal(t, (1764000000ull - 6 * 3600) * 1000000u);
        /* local time; TZ is UTC here */
        assert_int_equal(change_since_parse("2025-11-24", now, &t), 0);
        assert_int_equal(t, (1764000000ull - 16 * 3600) * 1000000u);
        assert_int_equal(change_since_parse("today", now, &t), 0);
        assert_int_equal(t, (1764000000ull - 16 * 3600) * 1000000u);
        assert_int_equal(change_since_parse("yesterday", now, &t), 0);
        assert_int_equal(t, (1764000000ull - 40 * 3600) * 1000000u);
        assert_int_equal(change_since_parse("99999d", 5, &t), 0);
        assert_int_equal(t, 0); /* before the epoch: from the start */

        static const char *const bad[] = { "",  "-",           "@",          "@x1",         "abc",
                                           "2h ago", "5 parsecs", "2025-13-01", "2025-11-24 10:00x",
                                           "2025-11-24 25:00", "-@5", "1e3s" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(change_since_parse(bad[i], now, &t), -EINVAL);
        assert_int_equal(change_since_parse(NULL, now, &t), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kinds),
                cmocka_unit_test(test_schema_kinds),
                cmocka_unit_test(test_record_and_read),
                cmocka_unit_test(test_damaged_lines),
                cmocka_unit_test(test_two_writers),
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_rotation),
                cmocka_unit_test(test_since),
        };

        setenv("TZ", "UTC", 1);
        arg_log_level = LOG_WARNING; /* the records' own messages are not the test's output */
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
