/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp profiles: parsing with located errors, resolution per target as
 * Docker does it, and filters compiled (by hostd's own generator and by
 * libseccomp) and loaded by the kernel in child processes, where denied
 * calls must fail with the errno the profile says and allowed ones must
 * work, the same under both programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "policy/seccomp.h"
#include "policy/syscall-table.h"

static SeccompProfile *parse_ok(const char *text) {
        SeccompProfile *p = NULL;
        SeccompError e = {};
        int r = seccomp_profile_parse(text, strlen(text), &p, &e);

        if (r < 0)
                fail_msg("unexpected error: %u:%u %s: %s", e.line, e.column, e.path, e.message);
        assert_non_null(p);
        return p;
}

/* A rejection at line:column, for path, with a message containing needle. */
static void parse_bad(const char *text, unsigned line, unsigned column, const char *path,
                      const char *needle) {
        SeccompProfile *p = NULL;
        SeccompError e = {};
        int r = seccomp_profile_parse(text, strlen(text), &p, &e);

        assert_true(r < 0);
        assert_null(p);
        if (!strstr(e.message, needle) || e.line != line || e.column != column || !STREQ(e.path, path))
                fail_msg("for %s:\n  got %u:%u path '%s' message '%s'", text, e.line, e.column, e.path,
                         e.message);
}

static void test_parse_fields(void **state _unused_) {
        SeccompProfile *p = parse_ok(
                "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrno\": \"ENOSYS\",\n"
                " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\",\n"
                "              \"subArchitectures\": [\"SCMP_ARCH_X86\"]}],\n"
                " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
                " \"syscalls\": [\n"
                "  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"io\"},\n"
                "  {\"name\": \"personality\", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13,\n"
                "   \"args\": [{\"index\": 0, \"value\": 18446744073709551615, \"op\": \"SCMP_CMP_NE\"}],\n"
                "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"arches\": [\"amd64\"], \"minKernel\": \"4.8\"},\n"
                "   \"excludes\": {\"arches\": [\"arm64\"]}}\n"
                " ]}\n");

        assert_true(p->has_default);
        assert_int_equal(p->default_action, SECCOMP_ACTION_ERRNO);
        assert_true(p->has_default_errno);
        assert_int_equal(p->default_errno_ret, ENOSYS);
        assert_int_equal(p->n_arch_map, 1);
        assert_string_equal(p->arch_map[0].architecture, "SCMP_ARCH_X86_64");
        assert_string_equal(p->arch_map[0].sub_architectures[0], "SCMP_ARCH_X86");
        assert_int_equal(p->n_flags, 1);
        assert_int_equal(p->n_rules, 2);
        assert_int_equal(p->rules[0].n_names, 2);
        assert_string_equal(p->rules[0].comment, "io");
        assert_int_equal(p->rules[0].line, 6);
        assert_string_equal(p->rules[1].names[0], "personality");
        assert_int_equal(p->rules[1].errno_ret, 13);
        assert_int_equal(p->rules[1].n_args, 1);
        /* 2^64-1 survives: Docker decodes a uint64, not a double */
        assert_true(p->rules[1].args[0].value == UINT64_MAX);
        assert_int_equal(p->rules[1].args[0].op, SECCOMP_OP_NE);
        assert_int_equal(p->rules[1].includes.min_kernel_major, 4);
        assert_int_equal(p->rules[1].includes.min_kernel_minor, 8);
        assert_string_equal(p->rules[1].includes.caps[0], "CAP_SYS_ADMIN");
        assert_string_equal(p->rules[1].excludes.arches[0], "arm64");
        assert_int_equal(p->n_warnings, 0);
        seccomp_profile_free(p);
}

static void test_unconfined_and_empty(void **state _unused_) {
        SeccompProfile *p = parse_ok("{}");
        SeccompCompiled *c = NULL;
        SeccompTarget t;
        SeccompError e = {};

        assert_false(p->has_default);
        seccomp_target_host(&t);
        /* Docker reads this as "seccomp disabled": never something to install */
        assert_int_equal(seccomp_compile(p, &t, &c, &e), -EINVAL);
        assert_null(c);
        assert_non_null(strstr(e.message, "seccomp disabled"));
        seccomp_profile_free(p);
        p = parse_ok("{\"defaultAction\": \"\", \"syscalls\": null}");
        assert_false(p->has_default);
        seccomp_profile_free(p);
}

static void test_warnings(void **state _unused_) {
        SeccompProfile *p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
                                     " {\"names\": [\"read\", \"mseal\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                                     "  \"includes\": {\"arches\": [\"amd64\", \"vax\"]}}]}");

        /* a syscall newer than libseccomp, an arch Docker never reports */
        assert_int_equal(p->n_warnings, 2);
        assert_string_equal(p->warnings[0].path, "syscalls[0].names[1]");
        assert_int_equal(p->warnings[0].line, 2);
        assert_int_equal(p->warnings[0].column, 21);
        assert_string_equal(p->warnings[1].path, "syscalls[0].includes.arches[1]");
        assert_non_null(strstr(p->warnings[1].message, "never matches"));
        seccomp_profile_free(p);
}

/* The syscalls each Linux release since 5.10 added (from the kernel's own
 * tables; releases that added none are left out): every one is a known
 * name, with the version the table gives it, and a profile naming them all
 * is accepted, each one this libseccomp lacks left out with a warning. */
static const struct {
        unsigned major, minor;
        const char *names[5];
} added_by_release[] = {
        { 5, 10, { "process_madvise" } },
        { 5, 11, { "epoll_pwait2" } },
        { 5, 12, { "mount_setattr" } },
        { 5, 13, { "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self" } },
        { 5, 14, { "memfd_secret", "quotactl_fd" } },
        { 5, 15, { "process_mrelease" } },
        { 5, 16, { "futex_waitv" } },
        { 5, 17, { "set_mempolicy_home_node" } },
        { 6, 5, { "cachestat" } },
        { 6, 6, { "fchmodat2", "map_shadow_stack" } },
        { 6, 7, { "futex_wake", "futex_wait", "futex_requeue" } },
        { 6, 8, { "statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules" } },
        { 6, 10, { "mseal" } },
        { 6, 11, { "uretprobe" } },
        { 6, 13, { "setxattrat", "getxattrat", "listxattrat", "removexattrat" } },
        { 6, 15, { "open_tree_attr" } },
        { 6, 17, { "file_getattr", "file_setattr" } },
};

static void test_syscall_names_by_release(void **state _unused_) {
        char text[8192];
        size_t used = 0, n = 0;
        SeccompProfile *p;

        used += snprintf(text + used, sizeof(text) - used,
                         "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"");
        for (size_t i = 0; i < ELEMENTSOF(added_by_release); i++)
                for (size_t k = 0; k < ELEMENTSOF(added_by_release[i].names) && added_by_release[i].names[k]; k++) {
                        const char *name = added_by_release[i].names[k];
                        const SyscallName *s = syscall_table_find(name);

                        if (!s)
                                fail_msg("%s (Linux %u.%u) is not in the syscall table", name,
                                         added_by_release[i].major, added_by_release[i].minor);
                        /* inexact: the first table listing it, never earlier */
                        if (s->exact ? s->major != added_by_release[i].major || s->minor != added_by_release[i].minor
                                     : s->major * 100u + s->minor < added_by_release[i].major * 100u + added_by_release[i].minor)
                                fail_msg("%s: the table says Linux %u.%u%s, the kernel %u.%u", name, s->major,
                                         s->minor, s->exact ? "" : " or earlier", added_by_release[i].major,
                                         added_by_release[i].minor);
                        used += snprintf(text + used, sizeof(text) - used, ", \"%s\"", name);
                        n++;
                }
        snprintf(text + used, sizeof(text) - used, "], \"action\": \"SCMP_ACT_ALLOW\"}]}");
        assert_true(n >= 30);
        p = parse_ok(text);
        /* each name this libseccomp lacks is a warning naming it and its release */
        for (size_t i = 0; i < MIN(p->n_warnings, (size_t) SECCOMP_MAX_WARNINGS); i++)
                assert_non_null(strstr(p->warnings[i].message, "is unknown to this libseccomp"));
        seccomp_profile_free(p);

        /* the table is sorted (it is searched), and has what every kernel has */
        for (size_t i = 1; i < syscall_table_size; i++)
                assert_true(strcmp(syscall_table[i - 1].name, syscall_table[i].name) < 0);
        assert_non_null(syscall_table_find("read"));
        assert_true(syscall_table_find("read")->arches & SYSCALL_ARCH_X86_64);
        assert_true(syscall_table_find("riscv_hwprobe")->arches == SYSCALL_ARCH_RISCV64);
        assert_null(syscall_table_find("cachestatt"));
        assert_null(syscall_table_find(""));
}

/* Docker's and Podman's current default profiles, as upstream ships them
 * today (tests/seccomp/upstream): accepted, the syscalls newer than this
 * libseccomp left out with warnings, never refused. */
static void test_current_upstream_profiles(void **state _unused_) {
        static const char *const files[] = {
                "tests/seccomp/upstream/moby-default.json",
                "tests/seccomp/upstream/containers-common-seccomp.json",
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                SeccompProfile *p = NULL;
                SeccompError e = {};
                SeccompStats st = {};
                SeccompTarget host;

                if (seccomp_profile_load(files[i], &p, &e) < 0)
                        fail_msg("%s:%u:%u: %s: %s", files[i], e.line, e.column, e.path, e.message);
                for (size_t k = 0; k < MIN(p->n_warnings, (size_t) SECCOMP_MAX_WARNINGS); k++)
                        if (strstr(p->warnings[k].path, "names") &&
                            !strstr(p->warnings[k].message, "is unknown to this libseccomp"))
                                fail_msg("%s: %s", files[i], p->warnings[k].message);
                seccomp_target_host(&host);
                assert_int_equal(seccomp_check_target(p, &host, &st, &e), 0);
                assert_true(st.syscalls_added > 300);
                seccomp_profile_free(p);
        }
}

static void test_parse_errors(void **state _unused_) {
        const char *head = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n";
        char text[1024];

        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\",}", 1, 36, "", "expected");
        parse_bad("[]", 1, 1, "", "expected an object");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_DENY\"}", 1, 19, "defaultAction",
                  "unknown action \"SCMP_ACT_DENY\"");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultActon\": 1}", 1, 37, "defaultActon",
                  "unknown key");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"cachestatt\"], \"action\": "
                  "\"SCMP_ACT_ALLOW\"}]}",
                  1, 61, "syscalls[0].names[0]", "unknown syscall \"cachestatt\": no Linux up to");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", 1, 19, "defaultAction",
                  "cannot be the default");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}", 1, 56,
                  "defaultErrnoRet", "applies only to");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 5000}", 1, 56,
                  "defaultErrnoRet", "out of range");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1, \"defaultErrno\": \"ENOSYS\"}",
                  1, 75, "defaultErrno", "but defaultErrnoRet says 1");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrno\": \"EWHATEVER\"}", 1, 53,
                  "defaultErrno", "unknown errno name");
        parse_bad("{\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", 1, 1,
                  "defaultAction", "missing, but syscalls are listed");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"],\n"
                  " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
                  2, 13, "archMap", "use one");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_VAX\"]}", 1, 55,
                  "architectures[0]", "unknown architecture");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X86\"]}",
                  1, 72, "architectures[1]", "listed twice");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_FAST\"]}", 1, 47,
                  "flags[0]", "unknown flag");

        snprintf(text, sizeof(text), "%s {\"names\": [\"read\", \"raed\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", head);
        parse_bad(text, 2, 21, "syscalls[0].names[1]", "unknown syscall \"raed\"");
        snprintf(text, sizeof(text), "%s {\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}", head);
        parse_bad(text, 2, 2, "syscalls[0]", "no syscall named");
        snprintf(text, sizeof(text), "%s {\"name\": \"read\", \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", head);
        parse_bad(text, 2, 11, "syscalls[0]", "use one");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"]}]}", head);
        parse_bad(text, 2, 2, "syscalls[0].action", "missing");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}", head);
        parse_bad(text, 2, 62, "syscalls[0].errnoRet", "applies only to SCMP_ACT_ERRNO");
        /* libseccomp, and so runc, refuses ERRNO(4095) */
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 4095}]}", head);
        parse_bad(text, 2, 62, "syscalls[0].errnoRet", "out of range 0..4094");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"argz\": []}]}", head);
        parse_bad(text, 2, 50, "syscalls[0].argz", "unknown key");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}", head);
        parse_bad(text, 3, 22, "syscalls[0].args[0].index", "out of range 0..5");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQUAL\"}]}]}", head);
        parse_bad(text, 3, 43, "syscalls[0].args[0].op", "unknown operator");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}", head);
        parse_bad(text, 3, 34, "syscalls[0].args[0].value", "expected an unsigned integer");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"args\": [{\"index\": 0, \"value\": 1.5, \"op\": \"SCMP_CMP_EQ\"}]}]}", head);
        parse_bad(text, 3, 34, "syscalls[0].args[0].value", "expected an unsigned integer");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"args\": [{\"index\": 0, \"value\": 18446744073709551616, \"op\": \"SCMP_CMP_EQ\"}]}]}", head);
        parse_bad(text, 3, 34, "syscalls[0].args[0].value", "does not fit in 64 bits");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"args\": [{\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}", head);
        parse_bad(text, 3, 12, "syscalls[0].args[0].index", "missing");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                 "  \"includes\": {\"caps\": [\"CAP_SYS_ADMN\"]}}]}", head);
        parse_bad(text, 3, 25, "syscalls[0].includes.caps[0]", "unknown capability \"CAP_SYS_ADMN\"");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                 "  \"excludes\": {\"minKernel\": \"4\"}}]}", head);
        parse_bad(text, 3, 29, "syscalls[0].excludes.minKernel", "invalid kernel version");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                 "  \"excludes\": {\"minKernel\": \"0.0\"}}]}", head);
        parse_bad(text, 3, 29, "syscalls[0].excludes.minKernel", "cannot be 0.0");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                 "  \"includes\": {\"arches\": [\"x86_64\"]}}]}", head);
        parse_bad(text, 3, 27, "syscalls[0].includes.arches[0]", "use \"amd64\"");
        snprintf(text, sizeof(text), "%s {\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}", head);
        parse_bad(text, 1, 1, "listenerPath", "missing");
        parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"listenerPath\": \"/run/agent.sock\"}", 1, 53,
                  "listenerPath", "no rule uses SCMP_ACT_NOTIFY");
}

static void test_error_format(void **state _unused_) {
        SeccompError e = { .line = 3, .column = 7, .path = "syscalls[1].action" };
        char buf[256];

        snprintf(e.message, sizeof(e.message), "unknown action \"X\"");
        located_error_format(&e, "p.json", buf, sizeof(buf));
        assert_string_equal(buf, "p.json:3:7: syscalls[1].action: unknown action \"X\"");
        e = (SeccompError){};
        snprintf(e.message, sizeof(e.message), "No such file or directory");
        located_error_format(&e, "p.json", buf, sizeof(buf));
        assert_string_equal(buf, "p.json: No such file or directory");
}

/* ---- filters in the kernel ------------------------------------------ */

typedef long (*Probe)(void);

/* Compiles text for the host, loads it in a child and runs probe there.
 * Returns the child's wait status; the probe's result is its exit code:
 * 0 when the call succeeded, the errno otherwise. */
static int run_under_with(const char *text, const char *const *caps, Probe probe, SeccompCompiler compiler) {
        SeccompProfile *p = parse_ok(text);
        SeccompCompiled *c = NULL;
        SeccompTarget t;
        SeccompError e = {};
        SeccompStats st;
        int status = 0;
        pid_t pid;

        seccomp_target_host(&t);
        if (caps)
                t.caps = caps;
        if (seccomp_compile_with(p, &t, compiler, &c, &e) < 0)
                fail_msg("compile: %s: %s", e.path, e.message);
        seccomp_compiled_stats(c, &st);
        assert_string_equal(st.compiler, compiler == SECCOMP_COMPILER_AUTO ? "hostd" : "libseccomp");
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                long r;
                if (seccomp_compiled_load(c) < 0)
                        _exit(255); /* no filter yet */
                r = probe();
                /* not _exit(): sanitizers hook noreturn calls with syscalls
                 * of their own, which the filter under test may deny */
                syscall(SYS_exit_group, r == -1 ? (errno & 0xff) : 0);
                __builtin_trap();
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        seccomp_compiled_free(c);
        seccomp_profile_free(p);
        return status;
}

/* The same in the kernel with hostd's program and with libseccomp's. */
static int run_under(const char *text, const char *const *caps, Probe probe) {
        int own = run_under_with(text, caps, probe, SECCOMP_COMPILER_AUTO);
        int lib = run_under_with(text, caps, probe, SECCOMP_COMPILER_LIBSECCOMP);

        if (own != lib)
                fail_msg("hostd's program: status %#x, libseccomp's: %#x, for\n%s", (unsigned) own,
                         (unsigned) lib, text);
        return own;
}

static int exit_code(int status) {
        if (!WIFEXITED(status))
                fail_msg("child did not exit normally (status 0x%x)", (unsigned) status);
        return WEXITSTATUS(status);
}

static long probe_getppid(void) { return syscall(SYS_getppid); }
static long probe_getpid(void) { return syscall(SYS_getpid); }
static long probe_personality_linux32(void) { return syscall(SYS_personality, PER_LINUX32); }
static long probe_personality_query(void) { return syscall(SYS_personality, 0xffffffffUL); }
static long probe_getpriority_0(void) { return syscall(SYS_getpriority, 0, 0); }
static long probe_getpriority_1(void) { return syscall(SYS_getpriority, 1, 0); }
static long probe_getpriority_2(void) { return syscall(SYS_getpriority, 2, 0); }
static long probe_clone_newuser(void) { return syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */); }

static void test_denied_calls_return_the_profiles_errno(void **state _unused_) {
        const char *profile = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                              " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42}]}";

        assert_int_equal(exit_code(run_under(profile, NULL, probe_getppid)), 42);
        assert_int_equal(exit_code(run_under(profile, NULL, probe_getpid)), 0);
        /* no errnoRet: EPERM, as runc does */
        assert_int_equal(exit_code(run_under("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                                             " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
                                             NULL, probe_getppid)),
                         EPERM);
        /* Podman's errno names */
        assert_int_equal(exit_code(run_under("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                                             " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errno\": \"ENOSYS\"}]}",
                                             NULL, probe_getppid)),
                         ENOSYS);
}

static void test_default_errno(void **state _unused_) {
        /* an allow list: everything else answers the default errno */
        const char *profile = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,\n"
                              " \"syscalls\": [{\"names\": [\"getpid\", \"exit\", \"exit_group\"],\n"
                              "                \"action\": \"SCMP_ACT_ALLOW\"}]}";

        assert_int_equal(exit_code(run_under(profile, NULL, probe_getpid)), 0);
        assert_int_equal(exit_code(run_under(profile, NULL, probe_getppid)), ENOSYS);
}

static void test_kill_process(void **state _unused_) {
        int status = run_under("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                               " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}]}",
                               NULL, probe_getppid);

        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_argument_conditions(void **state _unused_) {
        /* personality: only the query and PER_LINUX allowed, as in the hardened profile */
        const char *personality =
                "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
                " {\"names\": [\"exit\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
                " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                "  \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]}]}";
        /* two tests of one argument: runc adds a rule for each, so they OR */
        const char *same_index =
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                " {\"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5,\n"
                "  \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},\n"
                "            {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}";
        /* Docker's namespace guard: (flags & CLONE_NEWUSER...) == 0 passes */
        const char *masked =
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                " {\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 7,\n"
                "  \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}";

        assert_int_equal(exit_code(run_under(personality, NULL, probe_personality_query)), 0);
        assert_int_equal(exit_code(run_under(personality, NULL, probe_personality_linux32)), EPERM);
        assert_int_equal(exit_code(run_under(same_index, NULL, probe_getpriority_0)), 5);
        assert_int_equal(exit_code(run_under(same_index, NULL, probe_getpriority_1)), 5);
        assert_int_not_equal(exit_code(run_under(same_index, NULL, probe_getpriority_2)), 5);
        /* CLONE_NEWUSER is in the mask: the masked value is not 0, so no match */
        assert_int_not_equal(exit_code(run_under(masked, NULL, probe_clone_newuser)), 7);
}

static void test_capability_resolution(void **state _unused_) {
        /* Docker's pattern: a call allowed only with a capability */
        const char *profile =
                "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
                " {\"names\": [\"exit\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
                " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                "  \"includes\": {\"caps\": [\"CAP_SYS_PTRACE\"]}},\n"
                " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38,\n"
                "  \"excludes\": {\"caps\": [\"CAP_SYS_PTRACE\"]}}]}";
        static const char *const with_ptrace[] = { "CAP_CHOWN", "CAP_SYS_PTRACE", NULL };

        assert_int_equal(exit_code(run_under(profile, NULL, probe_getppid)), ENOSYS);
        assert_int_equal(exit_code(run_under(profile, with_ptrace, probe_getppid)), 0);
}

static void test_resolution_stats(void **state _unused_) {
        SeccompProfile *p = parse_ok(
                "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [\n"
                "  {\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},\n"
                "  {\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}],\n"
                " \"syscalls\": [\n"
                "  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
                "  {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": [\"amd64\"]}},\n"
                "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},\n"
                "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4.8\"}},\n"
                "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\"},\n"
                "  {\"names\": [\"mseal\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
        static const char *const admin[] = { "CAP_SYS_ADMIN", NULL };
        SeccompTarget t = { .arch = "amd64", .caps = seccomp_docker_default_caps, .kernel_major = 5,
                            .kernel_minor = 10 };
        SeccompCompiled *c = NULL;
        SeccompError e = {};
        SeccompStats st;

        assert_int_equal(seccomp_compile(p, &t, &c, &e), 0);
        seccomp_compiled_stats(c, &st);
        assert_int_equal(st.rules_in_profile, 6);
        assert_int_equal(st.rules_selected, 5);   /* not mount */
        assert_int_equal(st.syscalls_added, 4);   /* read, write, arch_prctl, ptrace */
        assert_int_equal(st.syscalls_skipped, 1); /* kill: same as the default */
        assert_int_equal(st.syscalls_unknown, 1); /* mseal */
        assert_int_equal(st.architectures, 3);
        assert_true(st.bpf_instructions > 4 && st.bpf_bytes == st.bpf_instructions * 8);
        c = seccomp_compiled_free(c);

        t = (SeccompTarget){ .arch = "arm64", .caps = admin, .kernel_major = 4, .kernel_minor = 4 };
        assert_int_equal(seccomp_compile(p, &t, &c, &e), 0);
        seccomp_compiled_stats(c, &st);
        assert_int_equal(st.rules_selected, 4); /* mount yes; arch_prctl and ptrace no */
        assert_int_equal(st.architectures, 2);
        /* another architecture's filter cannot go into this kernel */
        assert_int_equal(seccomp_compiled_load(c), -EXDEV);
        assert_int_equal(seccomp_compiled_prove_load(c), -EXDEV);
        seccomp_compiled_free(c);
        seccomp_profile_free(p);
}

static void test_verify_and_notify(void **state _unused_) {
        SeccompProfile *p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/a.sock\",\n"
                                     " \"syscalls\": [{\"names\": [\"mknod\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}");
        SeccompError e = {};
        SeccompStats st;

        /* compiled, not loaded: loading would wait for an agent that is not there */
        assert_int_equal(seccomp_profile_verify(p, &st, &e), 1);
        assert_int_equal(st.syscalls_added, 1);
        seccomp_profile_free(p);

        p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
                     " {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
        /* denies exit_group too: the proving child dies by a signal, still "loaded" */
        assert_int_equal(seccomp_profile_verify(p, &st, &e), 0);
        seccomp_profile_free(p);
}

static void test_caps_parse(void **state _unused_) {
        const char **caps = NULL;
        char err[128];
        size_t n = 0;

        assert_int_equal(seccomp_caps_parse("default,sys_admin,CAP_NET_ADMIN", &caps, err, sizeof(err)), 0);
        while (caps[n])
                n++;
        assert_int_equal(n, 16);
        assert_string_equal(caps[14], "CAP_SYS_ADMIN");
        assert_string_equal(caps[15], "CAP_NET_ADMIN");
        free(caps);
        assert_int_equal(seccomp_caps_parse("all", &caps, err, sizeof(err)), 0);
        n = 0;
        while (caps[n])
                n++;
        assert_int_equal(n, 41);
        free(caps);
        assert_int_equal(seccomp_caps_parse("chown,cap_fly", &caps, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "unknown capability \"cap_fly\"");
        assert_int_equal(seccomp_caps_parse("", &caps, err, sizeof(err)), 0);
        assert_null(caps[0]);
        free(caps);
}

static void test_arch_names(void **state _unused_) {
        assert_string_equal(seccomp_docker_arch("x86_64"), "amd64");
        assert_string_equal(seccomp_docker_arch("SCMP_ARCH_AARCH64"), "arm64");
        assert_string_equal(seccomp_docker_arch("SCMP_ARCH_MIPSEL64N32"), "mips3l64n32");
        assert_null(seccomp_docker_arch("vax"));
        assert_string_equal(seccomp_action_name(SECCOMP_ACTION_KILL_THREAD), "SCMP_ACT_KILL_THREAD");
}

static void test_free_null(void **state _unused_) {
        assert_null(seccomp_profile_free(NULL));
        assert_null(seccomp_compiled_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_fields),
                cmocka_unit_test(test_unconfined_and_empty),
                cmocka_unit_test(test_warnings),
                cmocka_unit_test(test_syscall_names_by_release),
                cmocka_unit_test(test_current_upstream_profiles),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_error_format),
                cmocka_unit_test(test_denied_calls_return_the_profiles_errno),
                cmocka_unit_test(test_default_errno),
                cmocka_unit_test(test_kill_process),
                cmocka_unit_test(test_argument_conditions),
                cmocka_unit_test(test_capability_resolution),
                cmocka_unit_test(test_resolution_stats),
                cmocka_unit_test(test_verify_and_notify),
                cmocka_unit_test(test_caps_parse),
                cmocka_unit_test(test_arch_names),
                cmocka_unit_test(test_free_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
