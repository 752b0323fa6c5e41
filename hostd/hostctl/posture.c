/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl posture [--prometheus | --cluster]. */

#include "common/text.h"
#include "hostd/hostctl/hostctl.h"

/* One row per node of the Swarm, from a manager's hostd. */
static int posture_cluster(void) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *n, *counts;
        long status;
        size_t i;

        status = call_hostd("GET", "/v1/posture/cluster", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                print_json(reply);
        else {
                printf("%-24s %-8s %-7s %-8s %5s %5s %7s  %s\n", "NODE", "ROLE", "STATE", "POSTURE", "PASS", "FAIL",
                       "AGE", "FAILING");
                json_array_foreach(json_object_get(reply, "nodes"), i, n) {
                        const json_t *s = json_object_get(n, "summary"), *id;
                        char age[32] = "-", failing[512] = "", pass[16] = "-", fail[16] = "-";
                        size_t k;

                        if (s) {
                                snprintf(pass, sizeof(pass), "%lld", (long long) json_integer_value(json_object_get(s, "pass")));
                                snprintf(fail, sizeof(fail), "%lld", (long long) json_integer_value(json_object_get(s, "fail")));
                        }
                        if (json_is_integer(json_object_get(n, "age_seconds")))
                                format_duration(json_integer_value(json_object_get(n, "age_seconds")), age, sizeof(age));
                        json_array_foreach(json_object_get(s, "failing"), k, id)
                                text_append(failing, sizeof(failing), ", ", "%s", json_string_value(id));
                        const char *st = str(n, "status");
                        printf("%-24s %-8s %-7s %-8s %5s %5s %7s  %s\n", str(n, "hostname"), str(n, "role"),
                               str(n, "state"), STREQ(st, "pass") ? "pass" : STREQ(st, "fail") ? "FAIL" : st, pass, fail,
                               age, failing);
                }
                counts = json_object_get(reply, "counts");
                printf("\n%lld pass, %lld fail, %lld stale, %lld missing\n",
                       (long long) json_integer_value(json_object_get(counts, "pass")),
                       (long long) json_integer_value(json_object_get(counts, "fail")),
                       (long long) json_integer_value(json_object_get(counts, "stale")),
                       (long long) json_integer_value(json_object_get(counts, "missing")));
        }
        /* compliant only when every node reported, recently, and passes */
        return json_is_true(json_object_get(reply, "compliant")) ? 0 : EXIT_FAILED;
}

int cmd_posture(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *checks, *c, *summary;
        long status;
        size_t i;

        if (argc == 2 && STREQ(argv[1], "--cluster"))
                return posture_cluster();
        if (argc == 2 && STREQ(argv[1], "--prometheus")) {
                /* the metrics as hostd serves them to a scraper */
                Buffer text = {};
                status = call_hostd_raw("GET", "/v1/metrics", NULL, 600, &text);
                if (status < 0)
                        return EXIT_UNREACHABLE;
                fwrite(text.data ? text.data : "", 1, text.size, stdout);
                free(text.data);
                return status == 200 ? 0 : EXIT_FAILED;
        }
        if (argc != 1) {
                fputs("hostctl: usage: hostctl posture [--json | --prometheus | --cluster]\n", stderr);
                return EXIT_USAGE;
        }
        status = call_hostd("GET", "/v1/posture", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        checks = json_object_get(reply, "checks");
        summary = json_object_get(reply, "summary");
        if (arg_json)
                print_json(reply);
        else {
                printf("%-24s %-15s %-10s %s\n", "CHECK", "STATUS", "CIS", "EVIDENCE");
                json_array_foreach(checks, i, c) {
                        const char *st = str(c, "status");
                        printf("%-24s %-15s %-10s %s\n", str(c, "id"), STREQ(st, "fail") ? "FAIL" : st,
                               json_string_value(json_object_get(c, "cis")) ?: "-", str(c, "evidence"));
                        if (STREQ(st, "fail") && *str(c, "remediation"))
                                printf("%-24s %-15s %-10s -> %s\n", "", "", "", str(c, "remediation"));
                }
                printf("\n%lld pass, %lld fail, %lld warn, %lld not applicable\n",
                       (long long) json_integer_value(json_object_get(summary, "pass")),
                       (long long) json_integer_value(json_object_get(summary, "fail")),
                       (long long) json_integer_value(json_object_get(summary, "warn")),
                       (long long) json_integer_value(json_object_get(summary, "not-applicable")));
        }
        /* a compliance check for scripts: 1 when any check failed */
        return json_is_true(json_object_get(reply, "compliant")) ? 0 : EXIT_FAILED;
}
