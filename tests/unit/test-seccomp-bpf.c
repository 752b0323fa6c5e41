/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostd's own seccomp BPF against libseccomp's: the same profile compiled
 * both ways must give every syscall the same verdict, for each
 * architecture in the filter, for syscall numbers across and beyond each
 * table, and for argument values at and around every value the profile
 * tests. Profiles: Docker's and Podman's defaults and Docker's fixtures
 * (HOSTD_UPSTREAM names their directory), hostd's hardened profile, and
 * small ones made to reach each rule of libseccomp's that decides a
 * verdict. The kernel loads these programs in test-seccomp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <stdlib.h>

#include "common/fileio.h"
#include "policy/seccomp-bpf.h"
#include "policy/seccomp.h"

#define X32_BIT 0x40000000u

static const uint32_t audit_arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64,
                                         AUDIT_ARCH_ARM, 0x12345678 };

/* Values each argument is tried with: around each value and mask the
 * profile tests it with, with its halves moved, and the edges. */
typedef struct Values {
        uint64_t v[256];
        size_t n;
} Values;

static void values_add(Values *vs, uint64_t x) {
        for (size_t i = 0; i < vs->n; i++)
                if (vs->v[i] == x)
                        return;
        if (vs->n < ELEMENTSOF(vs->v))
                vs->v[vs->n++] = x;
}

static void values_collect(const SeccompProfile *p, Values vs[6]) {
        static const uint64_t edges[] = { 0, 1, UINT32_MAX, (uint64_t) UINT32_MAX + 1, UINT64_MAX,
                                          0x8000000000000000ull, 0xffffffff00000000ull };

        for (size_t a = 0; a < 6; a++) {
                vs[a] = (Values){};
                for (size_t i = 0; i < ELEMENTSOF(edges); i++)
                        values_add(&vs[a], edges[i]);
        }
        /* the call numbers of x86's socketcall(2) and ipc(2) */
        for (uint64_t call = 0; call <= 25; call++)
                values_add(&vs[0], call);
        for (size_t i = 0; i < p->n_rules; i++)
                for (size_t j = 0; j < p->rules[i].n_args; j++) {
                        const SeccompArg *a = &p->rules[i].args[j];
                        Values *v = &vs[a->index];
                        uint64_t both[] = { a->value, a->value_two };

                        for (size_t k = 0; k < 2; k++) {
                                uint64_t x = both[k];
                                values_add(v, x);
                                values_add(v, x - 1);
                                values_add(v, x + 1);
                                values_add(v, x ^ (1ull << 32));
                                values_add(v, x | 0xffffffff00000000ull);
                                values_add(v, x & UINT32_MAX);
                                values_add(v, (x & 0xffffffff00000000ull) | ((uint32_t) x + 1));
                                values_add(v, (x & 0xffffffff00000000ull) | ((uint32_t) x - 1));
                                values_add(v, ~x);
                        }
                        /* a masked test's datum with bits outside the mask */
                        if (a->op == SECCOMP_OP_MASKED_EQ) {
                                values_add(v, a->value_two | ~a->value);
                                values_add(v, a->value_two | (~a->value & 0xffffffff00000000ull));
                                values_add(v, a->value_two | (~a->value & UINT32_MAX));
                        }
                }
}

typedef struct Programs {
        const char *what;
        const struct sock_filter *a, *b;
        size_t na, nb;
        size_t tried;
} Programs;

/* Both verdicts for one input; whether either read an argument. */
static bool same_verdict(Programs *ps, const SeccompBpfInput *in) {
        uint32_t va = 0, vb = 0;
        int ra = seccomp_bpf_run(ps->a, ps->na, in, &va), rb = seccomp_bpf_run(ps->b, ps->nb, in, &vb);

        if (ra < 0 || rb < 0)
                fail_msg("%s: a program runs to no verdict (nr %#x arch %#x)", ps->what, in->nr, in->arch);
        ps->tried++;
        if (va != vb)
                fail_msg("%s: nr %#x arch %#x args %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64
                         " %#" PRIx64 " %#" PRIx64 ": hostd %#x, libseccomp %#x",
                         ps->what, in->nr, in->arch, in->args[0], in->args[1], in->args[2], in->args[3],
                         in->args[4], in->args[5], va, vb);
        return ra > 0 || rb > 0;
}

/* Every architecture, syscall numbers across and past the tables (x32's
 * with their bit, -1, pseudo numbers, ARM's private ones); where a verdict
 * reads arguments, each pair of arguments through their values, and
 * random mixes of all six. */
static size_t compare_programs(const char *what, const SeccompProfile *p, const SeccompCompiled *own,
                               const SeccompCompiled *lib) {
        static const uint32_t odd_numbers[] = { UINT32_MAX, X32_BIT - 1, 0x7fffffff, UINT32_MAX - 1,
                                                0x80000000, (uint32_t) -101, (uint32_t) -10100, 0x0f0002 };
        Programs ps = { .what = what };
        Values vs[6];
        unsigned seed = 1;

        seccomp_compiled_program(own, &ps.a, &ps.na);
        seccomp_compiled_program(lib, &ps.b, &ps.nb);
        values_collect(p, vs);
        for (size_t ai = 0; ai < ELEMENTSOF(audit_arches); ai++)
                for (uint32_t i = 0; i < 2 * 1024 + ELEMENTSOF(odd_numbers); i++) {
                        SeccompBpfInput in = { .arch = audit_arches[ai] };

                        in.nr = i < 1024 ? i : i < 2048 ? (i - 1024) | X32_BIT : odd_numbers[i - 2048];
                        if (!same_verdict(&ps, &in))
                                continue;
                        for (unsigned x = 0; x < 6; x++)
                                for (unsigned y = x + 1; y < 6; y++)
                                        for (size_t vx = 0; vx < vs[x].n; vx++)
                                                for (size_t vy = 0; vy < vs[y].n; vy++) {
                                                        memset(in.args, 0, sizeof(in.args));
                                                        in.args[x] = vs[x].v[vx];
                                                        in.args[y] = vs[y].v[vy];
                                                        same_verdict(&ps, &in);
                                                }
                        for (unsigned k = 0; k < 2000; k++) {
                                for (unsigned j = 0; j < 6; j++)
                                        in.args[j] = vs[j].v[rand_r(&seed) % vs[j].n];
                                same_verdict(&ps, &in);
                        }
                }
        return ps.tried;
}

/* Compiles p for t both ways, checks the builder took it (unless
 * expect_fallback), and compares. */
static void check_equivalent(const char *what, const SeccompProfile *p, const SeccompTarget *t,
                             bool expect_fallback) {
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *own = NULL, *lib = NULL;
        SeccompError e = {};
        SeccompStats st;

        if (seccomp_compile_with(p, t, SECCOMP_COMPILER_LIBSECCOMP, &lib, &e) < 0)
                fail_msg("%s: libseccomp: %s: %s", what, e.path, e.message);
        if (seccomp_compile_with(p, t, SECCOMP_COMPILER_AUTO, &own, &e) < 0)
                fail_msg("%s: hostd: %s: %s", what, e.path, e.message);
        seccomp_compiled_stats(own, &st);
        if (!STREQ(st.compiler, expect_fallback ? "libseccomp" : "hostd"))
                fail_msg("%s for %s: compiled by %s", what, t->arch, st.compiler);
        if (expect_fallback)
                return;
        compare_programs(what, p, own, lib);
}

static SeccompProfile *parse_ok(const char *text) {
        SeccompProfile *p = NULL;
        SeccompError e = {};

        if (seccomp_profile_parse(text, strlen(text), &p, &e) < 0)
                fail_msg("%u:%u %s: %s", e.line, e.column, e.path, e.message);
        return p;
}

static void check_text(const char *text, const char *arch, bool all_caps, bool expect_fallback) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = parse_ok(text);
        SeccompTarget t;

        seccomp_target_host(&t);
        t.arch = arch;
        if (all_caps)
                t.caps = seccomp_all_caps;
        check_equivalent(text, p, &t, expect_fallback);
}

static void check_file(const char *path) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        static const char *const arches[] = { "amd64", "x86", "x32", "arm64", "arm" };
        SeccompError e = {};
        SeccompTarget t;

        if (seccomp_profile_load(path, &p, &e) < 0)
                fail_msg("%s: %u:%u %s: %s", path, e.line, e.column, e.path, e.message);
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                for (int caps = 0; caps < 2; caps++) {
                        char what[512];

                        seccomp_target_host(&t);
                        t.arch = arches[i];
                        t.caps = caps ? seccomp_all_caps : seccomp_docker_default_caps;
                        snprintf(what, sizeof(what), "%s for %s with %s capabilities", path, t.arch,
                                 caps ? "all" : "Docker's default");
                        check_equivalent(what, p, &t, false);
                }
}

static void test_upstream_profiles(void **state _unused_) {
        const char *dir = getenv("HOSTD_UPSTREAM");
        DIR *d;
        struct dirent *de;
        size_t n = 0;

        /* make check-unit fetches them; a run without them proves little */
        if (!dir)
                fail_msg("HOSTD_UPSTREAM is not set: run through make check-unit");
        d = opendir(dir);
        if (!d)
                fail_msg("%s: %m", dir);
        while ((de = readdir(d))) {
                char path[PATH_MAX];

                if (!strstr(de->d_name, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                check_file(path);
                n++;
        }
        closedir(d);
        /* Docker's default, Podman's, and Docker's fixtures */
        assert_true(n >= 4);
}

static void test_hardened_profile(void **state _unused_) {
        check_file("policy/profiles/hostd-hardened.json");
}

#define HEAD "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [" \
        "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}," \
        "{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}], \"syscalls\": ["

static const char *const arches_all[] = { "amd64", "x86", "x32", "arm64", "arm" };

static void check_all_arches(const char *body, bool expect_fallback) {
        char text[8192];

        snprintf(text, sizeof(text), HEAD "%s]}", body);
        for (size_t i = 0; i < ELEMENTSOF(arches_all); i++)
                check_text(text, arches_all[i], false, expect_fallback);
}

/* Each comparison, on both halves of 64-bit values and on the low half of
 * 32-bit ABIs, alone and ANDed on several arguments. */
static void test_comparisons(void **state _unused_) {
        static const char *const ops[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                           "SCMP_CMP_GE", "SCMP_CMP_GT" };
        static const char *const values[] = { "0", "5", "4294967295", "4294967296", "4294967301",
                                              "18446744073709551615", "9223372036854775808" };

        for (size_t o = 0; o < ELEMENTSOF(ops); o++)
                for (size_t v = 0; v < ELEMENTSOF(values); v++) {
                        char body[1024];

                        snprintf(body, sizeof(body),
                                 "{\"names\": [\"personality\", \"read\"], \"action\": \"SCMP_ACT_ALLOW\","
                                 " \"args\": [{\"index\": 0, \"value\": %s, \"op\": \"%s\"}]},"
                                 "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_TRAP\","
                                 " \"args\": [{\"index\": 1, \"value\": %s, \"op\": \"%s\"},"
                                 " {\"index\": 5, \"value\": 7, \"op\": \"SCMP_CMP_GT\"},"
                                 " {\"index\": 2, \"value\": %s, \"op\": \"SCMP_CMP_NE\"}]}",
                                 values[v], ops[o], values[v], ops[o], values[(v + 3) % ELEMENTSOF(values)]);
                        check_all_arches(body, false);
                }
}

static void test_masks(void **state _unused_) {
        /* masks: both halves, high only, low only, nothing (always true) */
        check_all_arches("{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                         "{\"names\": [\"mmap\", \"mmap2\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13, \"args\": ["
                         "{\"index\": 2, \"value\": 18446744069414584320, \"valueTwo\": 8589934592, \"op\": \"SCMP_CMP_MASKED_EQ\"},"
                         "{\"index\": 3, \"value\": 255, \"valueTwo\": 4096, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                         "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_LOG\", \"args\": ["
                         "{\"index\": 1, \"value\": 0, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                         "{\"names\": [\"fcntl\", \"fcntl64\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 1, \"value\": 18446744069414584320, \"valueTwo\": 1, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}",
                         false);
}

/* Several tests of one argument become rules of their own, ORed: hostd
 * builds equality tests of one argument; ranges, or tests of other
 * arguments, go to libseccomp, whose merge of them is not the OR. */
static void test_or_of_rules(void **state _unused_) {
        check_all_arches("{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},"
                         "{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
                         "{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 4294967296, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 18446744069414584320, \"valueTwo\": 4294967296, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}",
                         false);
        check_all_arches("{\"names\": [\"write\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 4, \"value\": 4294967296, \"op\": \"SCMP_CMP_GT\"},"
                         "{\"index\": 4, \"value\": 3, \"op\": \"SCMP_CMP_LT\"}]}",
                         true);
        check_all_arches("{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 1, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]}",
                         true);
}

/* The first rule without conditions decides; conditions before it are
 * dropped, and so is everything after it. */
static void test_first_unconditional_wins(void **state _unused_) {
        check_all_arches("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
                         "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
                         "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7}",
                         false);
}

/* Conditional rules of different actions for one syscall: libseccomp's
 * tree merge decides, so libseccomp compiles. */
static void test_mixed_actions_fall_back(void **state _unused_) {
        check_all_arches("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 1, \"value\": 3, \"op\": \"SCMP_CMP_GT\"}]}",
                         true);
}

/* x86's socket and ipc calls, also through socketcall(2) and ipc(2), with
 * a condition on argument 0 replaced and one on argument 1 kept. Each is
 * listed with read: libseccomp 2.5.4 loses the load of the syscall number
 * in a filter whose only syscalls are ipc(2) and one without a direct
 * call (semop alone compares the architecture with ipc's number, so ipc
 * never matches); hostd's program is right there, and no real profile is
 * that small. */
static void test_x86_multiplexed(void **state _unused_) {
        static const char *const names[] = {
                "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername",
                "socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt",
                "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg", "semop",
                "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat",
                "shmdt", "shmget", "shmctl",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char body[512];

                snprintf(body, sizeof(body), "{\"names\": [\"%s\", \"read\"], \"action\": \"SCMP_ACT_ALLOW\"}", names[i]);
                check_all_arches(body, false);
                snprintf(body, sizeof(body),
                         "{\"names\": [\"%s\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"},"
                         "{\"index\": 1, \"value\": 2, \"op\": \"SCMP_CMP_LE\"}]},"
                         "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}",
                         names[i]);
                check_all_arches(body, false);
        }
        /* on x86 socketcall then has "a0 == 1" from socket and "a0 != 40"
         * of its own: not equality alone, so libseccomp builds it */
        for (size_t i = 0; i < ELEMENTSOF(arches_all); i++)
                check_text(HEAD "{\"names\": [\"socket\", \"socketcall\"], \"action\": \"SCMP_ACT_ALLOW\","
                           " \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"}]},"
                           "{\"names\": [\"ipc\", \"shmget\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
                           arches_all[i], false, STREQ(arches_all[i], "amd64") || STREQ(arches_all[i], "x86"));
}

/* x86_64 alone, x32 alone, and x86 alone, with "architectures". */
static void test_architecture_sets(void **state _unused_) {
        static const char *const sets[] = {
                "[\"SCMP_ARCH_X86_64\"]", "[\"SCMP_ARCH_X32\"]", "[\"SCMP_ARCH_X86\"]",
                "[\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X32\"]", "[\"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\"]",
        };

        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                for (size_t a = 0; a < ELEMENTSOF(arches_all); a++) {
                        char text[1024];

                        snprintf(text, sizeof(text),
                                 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": %s,"
                                 " \"syscalls\": [{\"names\": [\"getppid\", \"rt_sigaction\", \"io_uring_setup\","
                                 " \"socket\", \"arch_prctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]}",
                                 sets[i]);
                        check_text(text, arches_all[a], true, false);
                }
}

/* The interpreter the comparisons rest on refuses what the kernel would. */
static void test_interpreter(void **state _unused_) {
        const struct sock_filter jump_out[] = { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0),
                                                BPF_STMT(BPF_RET | BPF_K, 1) };
        const struct sock_filter no_ret[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0) };
        const struct sock_filter bad_load[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64),
                                                BPF_STMT(BPF_RET | BPF_K, 1) };
        const struct sock_filter good[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 20),
                                            BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 1),
                                            BPF_STMT(BPF_RET | BPF_K, 7),
                                            BPF_STMT(BPF_RET | BPF_K, 9) };
        SeccompBpfInput in = { .nr = 1, .args = { 0x100000002ull } };
        uint32_t v;

        assert_int_equal(seccomp_bpf_run(jump_out, 2, &in, &v), -EINVAL);
        assert_int_equal(seccomp_bpf_run(no_ret, 1, &in, &v), -EINVAL);
        assert_int_equal(seccomp_bpf_run(bad_load, 2, &in, &v), -EINVAL);
        /* offset 20 is the high half of argument 0: the verdict read it */
        assert_int_equal(seccomp_bpf_run(good, 4, &in, &v), 1);
        assert_int_equal(v, 9);
        in.args[0] = 0x200000000ull;
        assert_int_equal(seccomp_bpf_run(good, 4, &in, &v), 1);
        assert_int_equal(v, 7);
}

static void test_builder_errors(void **state _unused_) {
        _cleanup_(seccomp_bpf_freep) SeccompBpf *b = NULL;
        struct scmp_arg_cmp twice[] = { SCMP_A0(SCMP_CMP_EQ, 1), SCMP_A0(SCMP_CMP_EQ, 2) };
        struct scmp_arg_cmp bad_index = { .arg = 6, .op = SCMP_CMP_EQ };

        assert_int_equal(seccomp_bpf_new(SCMP_ACT_ERRNO(1), SCMP_ACT_KILL_THREAD, &b), 0);
        assert_int_equal(seccomp_bpf_add_arch(b, SCMP_ARCH_PPC64LE), -EOPNOTSUPP);
        assert_int_equal(seccomp_bpf_add_arch(b, SCMP_ARCH_X86_64), 0);
        assert_int_equal(seccomp_bpf_add_arch(b, SCMP_ARCH_X86_64), 0);
        assert_int_equal(seccomp_bpf_add_rule(b, "read", SCMP_ACT_ALLOW, twice, 2), -EINVAL);
        assert_int_equal(seccomp_bpf_add_rule(b, "read", SCMP_ACT_ALLOW, &bad_index, 1), -EINVAL);
        assert_int_equal(seccomp_bpf_add_rule(b, "read", SCMP_ACT_ALLOW, NULL, 0), 0);
        /* architectures come first */
        assert_int_equal(seccomp_bpf_add_arch(b, SCMP_ARCH_X86), -EOPNOTSUPP);
        assert_null(seccomp_bpf_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_interpreter),
                cmocka_unit_test(test_builder_errors),
                cmocka_unit_test(test_comparisons),
                cmocka_unit_test(test_masks),
                cmocka_unit_test(test_or_of_rules),
                cmocka_unit_test(test_first_unconditional_wins),
                cmocka_unit_test(test_mixed_actions_fall_back),
                cmocka_unit_test(test_x86_multiplexed),
                cmocka_unit_test(test_architecture_sets),
                cmocka_unit_test(test_hardened_profile),
                cmocka_unit_test(test_upstream_profiles),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
