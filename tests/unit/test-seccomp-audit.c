/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Judging containers from Docker's inspect body and /proc/PID/status, with
 * a fake /proc root (the real one is exercised in test-seccomp-audit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "common/macro.h"
#include "hostd/seccomp-audit.h"
#include "tests/unit/scratch-dir.h"

static void write_status(const char *proc_root, int pid, const char *content) {
        char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%d", proc_root, pid);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

/* A fake /proc in a scratch directory, its path passed as the state. */
static int setup(void **state) {
        const char *proc_root;

        if (scratch_dir_setup(state) < 0)
                return -1;
        proc_root = *state;
        write_status(proc_root, 100, "Name:\tsleep\nSeccomp:\t2\nSeccomp_filters:\t1\nSpeculation_Store_Bypass:\tthread force mitigated\n");
        write_status(proc_root, 200, "Name:\tsh\nSeccomp:\t0\nSeccomp_filters:\t0\n");
        write_status(proc_root, 300, "Name:\told\n"); /* kernel without seccomp lines */
        return 0;
}

static json_t *inspect(int pid, bool running, bool privileged, const char *opt) {
        json_t *j = json_pack("{s:s, s:s, s:{s:b, s:i}, s:{s:b, s:[]}}", "Id",
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                              "Name", "/web", "State", "Running", running, "Pid", pid, "HostConfig",
                              "Privileged", privileged, "SecurityOpt");
        if (opt)
                json_array_append_new(json_object_get(json_object_get(j, "HostConfig"), "SecurityOpt"),
                                      json_string(opt));
        return j;
}

static void test_proc_status(void **state) {
        const char *proc_root = *state;
        int mode;
        unsigned filters;

        assert_int_equal(proc_seccomp_status(proc_root, 100, &mode, &filters), 0);
        assert_int_equal(mode, 2);
        assert_int_equal(filters, 1);
        assert_int_equal(proc_seccomp_status(proc_root, 300, &mode, &filters), 0);
        assert_int_equal(mode, -1);
        assert_int_equal(proc_seccomp_status(proc_root, 999, &mode, &filters), -ENOENT);
        /* the real thing: this test process runs without a filter */
        assert_int_equal(proc_seccomp_status("/proc", getpid(), &mode, &filters), 0);
        assert_true(mode == 0 || mode == 2);
}

static void test_confined_container(void **state) {
        const char *proc_root = *state;
        json_t *j = inspect(100, true, false, NULL);
        ContainerFinding f;

        assert_int_equal(container_assess(j, proc_root, NULL, &f), 0);
        assert_true(f.compliant);
        assert_string_equal(f.name, "web");
        assert_int_equal(f.pid, 100);
        assert_int_equal(f.seccomp_mode, 2);
        assert_int_equal(f.problem[0], 0);
        json_t *out = container_finding_json(&f);
        assert_true(json_is_true(json_object_get(out, "compliant")));
        assert_true(json_is_null(json_object_get(out, "problem")) || !json_object_get(out, "problem"));
        json_decref(out);
        json_decref(j);
}

static void test_unconfined_container(void **state) {
        const char *proc_root = *state;
        json_t *j = inspect(200, true, false, "seccomp=unconfined");
        ContainerFinding f;

        assert_int_equal(container_assess(j, proc_root, NULL, &f), 0);
        assert_false(f.compliant);
        assert_true(f.seccomp_unconfined);
        assert_non_null(strstr(f.problem, "runs without a seccomp filter (Seccomp: 0)"));
        assert_non_null(strstr(f.problem, "seccomp=unconfined"));
        json_decref(j);

        j = inspect(200, true, true, NULL);
        assert_int_equal(container_assess(j, proc_root, NULL, &f), 0);
        assert_false(f.compliant);
        assert_non_null(strstr(f.problem, "started privileged"));
        json_decref(j);
}

static void test_privileged_with_filter_still_flagged(void **state) {
        const char *proc_root = *state;
        /* a privileged container given a profile explicitly has a filter,
         * but privileged is itself outside the posture */
        json_t *j = inspect(100, true, true, "seccomp=/etc/p.json");
        ContainerFinding f;

        assert_int_equal(container_assess(j, proc_root, NULL, &f), 0);
        assert_false(f.compliant);
        assert_string_equal(f.problem, "started privileged");
        json_decref(j);
}

static void test_not_running_or_gone(void **state) {
        const char *proc_root = *state;
        ContainerFinding f;
        json_t *j = inspect(100, false, false, NULL);

        assert_int_equal(container_assess(j, proc_root, NULL, &f), -ESRCH);
        json_decref(j);
        j = inspect(999, true, false, NULL); /* exited since the inspect */
        assert_int_equal(container_assess(j, proc_root, NULL, &f), -ESRCH);
        json_decref(j);
}

static void test_malformed_inspect(void **state) {
        const char *proc_root = *state;
        ContainerFinding f;
        json_t *j = json_pack("{s:s}", "Id", "abc");

        assert_int_equal(container_assess(j, proc_root, NULL, &f), -EPROTO);
        json_decref(j);
        j = json_array();
        assert_int_equal(container_assess(j, proc_root, NULL, &f), -EPROTO);
        json_decref(j);
        j = json_pack("{s:s, s:{s:b, s:s}, s:{}}", "Id", "abc", "State", "Running", 1, "Pid", "1",
                      "HostConfig");
        assert_int_equal(container_assess(j, proc_root, NULL, &f), -EPROTO);
        json_decref(j);
}

/* What a cut would make another container or process is refused: an Id
 * longer than Docker's 64 characters, a Pid beyond pid_t (4294967396 was
 * read as pid 100). A long name is cut, but at a character boundary. */
static void test_inspect_out_of_range(void **state) {
        const char *proc_root = *state;
        ContainerFinding f, before;
        json_t *j = inspect(100, true, false, NULL);

        json_object_set_new(j, "Id", json_string("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
        memset(&f, 0x5a, sizeof(f));
        before = f;
        assert_int_equal(container_assess(j, proc_root, NULL, &f), -EPROTO);
        assert_memory_equal(&f, &before, sizeof(f));
        json_decref(j);

        j = inspect(100, true, false, NULL);
        json_object_set_new(json_object_get(j, "State"), "Pid", json_integer(4294967396LL));
        assert_int_equal(container_assess(j, proc_root, NULL, &f), -EPROTO);
        assert_memory_equal(&f, &before, sizeof(f));
        json_decref(j);

        /* 130 bytes: "/" and 64 two-byte characters, then "x" */
        char name[160] = "/";
        for (int i = 0; i < 64; i++)
                strcat(name, "\xc3\xa9");
        strcat(name, "x");
        j = inspect(100, true, false, NULL);
        json_object_set_new(j, "Name", json_string(name));
        assert_int_equal(container_assess(j, proc_root, NULL, &f), 0);
        assert_int_equal(strlen(f.name), 126);
        assert_memory_equal(f.name, name + 1, 126);
        json_t *out = container_finding_json(&f);
        assert_non_null(out);
        assert_string_equal(json_string_value(json_object_get(out, "name")), f.name);
        json_decref(out);
        json_decref(j);
}

/* A container under a profile of its own: judged by what it allows against
 * the baseline (here Docker's current default profile) */
static void test_own_profile_judged(void **state) {
        const char *proc_root = *state;
        _cleanup_(seccomp_profile_freep) SeccompProfile *docker = NULL;
        SeccompAllowed docker_allowed = {};
        SeccompError e = {};
        SeccompTarget host;
        ContainerFinding f;
        json_t *j;

        assert_int_equal(seccomp_profile_load("tests/seccomp/upstream/moby-default.json", &docker, &e), 0);
        seccomp_target_host(&host);
        assert_int_equal(seccomp_allowed(docker, &host, &docker_allowed), 0);
        assert_true(docker_allowed.n_names > 300);
        SeccompBaseline baseline = { .name = "Docker's default profile", .allowed = &docker_allowed };

        /* allow by default, one harmless syscall denied: in effect unconfined */
        j = inspect(100, true, false,
                    "seccomp={\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
                    "\"action\": \"SCMP_ACT_ERRNO\"}]}");
        assert_int_equal(container_assess(j, proc_root, &baseline, &f), 0);
        assert_false(f.compliant);
        assert_true(f.own_profile);
        assert_non_null(strstr(f.problem, "allows every syscall it does not name (defaultAction SCMP_ACT_ALLOW)"));
        json_decref(j);

        /* deny by default, but allowing what Docker's default denies */
        j = inspect(100, true, false,
                    "seccomp={\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", "
                    "\"kexec_load\", \"add_key\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
        assert_int_equal(container_assess(j, proc_root, &baseline, &f), 0);
        assert_false(f.compliant);
        assert_string_equal(f.problem, "its seccomp profile allows 2 syscalls Docker's default profile denies: add_key, kexec_load");
        json_decref(j);

        /* no more than the baseline: compliant */
        j = inspect(100, true, false,
                    "seccomp={\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", "
                    "\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
        assert_int_equal(container_assess(j, proc_root, &baseline, &f), 0);
        assert_true(f.compliant);
        json_decref(j);

        /* a profile hostd cannot read: never passed, the error located */
        j = inspect(100, true, false, "seccomp={\"defaultAction\": \"SCMP_ACT_NOPE\"}");
        assert_int_equal(container_assess(j, proc_root, &baseline, &f), 0);
        assert_false(f.compliant);
        assert_non_null(strstr(f.problem, "cannot be read, so it cannot be judged: HostConfig.SecurityOpt:1:19"));
        json_decref(j);

        /* the baseline unreadable: not passed either */
        SeccompBaseline missing = { .name = "Docker's default profile", .error = "No such file or directory" };
        j = inspect(100, true, false,
                    "seccomp={\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
                    "\"action\": \"SCMP_ACT_ALLOW\"}]}");
        assert_int_equal(container_assess(j, proc_root, &missing, &f), 0);
        assert_false(f.compliant);
        assert_non_null(strstr(f.problem, "Docker's default profile cannot be read (No such file or directory)"));
        json_decref(j);
        seccomp_allowed_done(&docker_allowed);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_own_profile_judged),
                cmocka_unit_test(test_proc_status),
                cmocka_unit_test(test_confined_container),
                cmocka_unit_test(test_unconfined_container),
                cmocka_unit_test(test_privileged_with_filter_still_flagged),
                cmocka_unit_test(test_not_running_or_gone),
                cmocka_unit_test(test_malformed_inspect),
                cmocka_unit_test(test_inspect_out_of_range),
        };
        return cmocka_run_group_tests(tests, setup, scratch_dir_teardown);
}
