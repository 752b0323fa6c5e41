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
        uint64_t v[1024];
        size_t n;
} Values;

static void values_add(Values *vs, uint64_t x) {
        for (size_t i = 0; i < vs->n; i++)
                if (vs->v[i] == x)
                        return;
        if (vs->n == ELEMENTSOF(vs->v))
                fail_msg("more than %zu values to try for one argument", ELEMENTSOF(vs->v));
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

/* Lighter than compare_programs, for many profiles: every architecture,
 * the numbers of the syscalls the profile names in each ABI and their
 * neighbours, and arguments drawn from the values it tests. */
static void compare_sampled(const char *what, const SeccompProfile *p, const SeccompCompiled *own,
                            const SeccompCompiled *lib, unsigned seed) {
        static const uint32_t scmp_arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32,
                                                SCMP_ARCH_AARCH64, SCMP_ARCH_ARM };
        static const uint32_t extra[] = { 102, 117, UINT32_MAX, X32_BIT, X32_BIT - 1, 0 };
        Programs ps = { .what = what };
        Values vs[6];

        seccomp_compiled_program(own, &ps.a, &ps.na);
        seccomp_compiled_program(lib, &ps.b, &ps.nb);
        assert_int_equal(seccomp_bpf_check(ps.a, ps.na), 0);
        values_collect(p, vs);
        for (size_t r = 0; r < p->n_rules + 1; r++)
                for (size_t k = 0; k < (r < p->n_rules ? p->rules[r].n_names : 1); k++)
                        for (size_t s = 0; s < ELEMENTSOF(scmp_arches); s++) {
                                int nr = r < p->n_rules ? seccomp_syscall_resolve_name_arch(scmp_arches[s], p->rules[r].names[k])
                                                        : (int) extra[s];
                                uint32_t nrs[] = { (uint32_t) nr, (uint32_t) nr + 1, (uint32_t) nr - 1,
                                                   (uint32_t) nr | X32_BIT };

                                for (size_t n = 0; n < ELEMENTSOF(nrs); n++)
                                        for (size_t ai = 0; ai < ELEMENTSOF(audit_arches); ai++) {
                                                SeccompBpfInput in = { .nr = nrs[n], .arch = audit_arches[ai] };

                                                if (!same_verdict(&ps, &in))
                                                        continue;
                                                for (unsigned trial = 0; trial < 200; trial++) {
                                                        for (unsigned j = 0; j < 6; j++)
                                                                in.args[j] = rand_r(&seed) % 3 == 0 ? 0 : vs[j].v[rand_r(&seed) % vs[j].n];
                                                        same_verdict(&ps, &in);
                                                }
                                        }
                        }
        assert_true(ps.tried > 0);
}

/* Which compiler must build a profile for a target. */
typedef enum Builder {
        BY_HOSTD,
        BY_LIBSECCOMP,
        BY_EITHER, /* compared when hostd built it */
} Builder;

/* Compiles p for t both ways, checks who built it, checks both programs
 * pass the kernel's static checks, and compares them. */
static void check_equivalent(const char *what, const SeccompProfile *p, const SeccompTarget *t,
                             Builder builder) {
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *own = NULL, *lib = NULL;
        const struct sock_filter *prog;
        SeccompError e = {};
        SeccompStats st;
        size_t n;

        if (seccomp_compile_with(p, t, SECCOMP_COMPILER_LIBSECCOMP, &lib, &e) < 0)
                fail_msg("%s: libseccomp: %s: %s", what, e.path, e.message);
        if (seccomp_compile_with(p, t, SECCOMP_COMPILER_AUTO, &own, &e) < 0)
                fail_msg("%s: hostd: %s: %s", what, e.path, e.message);
        seccomp_compiled_stats(own, &st);
        if ((builder == BY_HOSTD && !STREQ(st.compiler, "hostd")) ||
            (builder == BY_LIBSECCOMP && !STREQ(st.compiler, "libseccomp")))
                fail_msg("%s for %s: compiled by %s", what, t->arch, st.compiler);
        seccomp_compiled_program(own, &prog, &n);
        assert_int_equal(seccomp_bpf_check(prog, n), 0);
        seccomp_compiled_program(lib, &prog, &n);
        assert_int_equal(seccomp_bpf_check(prog, n), 0);
        if (STREQ(st.compiler, "hostd"))
                assert_true(compare_programs(what, p, own, lib) > 0);
}

static SeccompProfile *parse_ok(const char *text) {
        SeccompProfile *p = NULL;
        SeccompError e = {};

        if (seccomp_profile_parse(text, strlen(text), &p, &e) < 0)
                fail_msg("%u:%u %s: %s", e.line, e.column, e.path, e.message);
        return p;
}

static void check_text(const char *text, const char *arch, bool all_caps, Builder builder) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = parse_ok(text);
        SeccompTarget t;

        seccomp_target_host(&t);
        t.arch = arch;
        if (all_caps)
                t.caps = seccomp_all_caps;
        check_equivalent(text, p, &t, builder);
}

static const char *const arches_all[] = { "amd64", "x86", "x32", "arm64", "arm" };

static void check_file(const char *path, Builder builder) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        SeccompError e = {};
        SeccompTarget t;

        if (seccomp_profile_load(path, &p, &e) < 0)
                fail_msg("%s: %u:%u %s: %s", path, e.line, e.column, e.path, e.message);
        for (size_t i = 0; i < ELEMENTSOF(arches_all); i++)
                for (int caps = 0; caps < 2; caps++) {
                        char what[512];

                        seccomp_target_host(&t);
                        t.arch = arches_all[i];
                        t.caps = caps ? seccomp_all_caps : seccomp_docker_default_caps;
                        snprintf(what, sizeof(what), "%s for %s with %s capabilities", path, t.arch,
                                 caps ? "all" : "Docker's default");
                        check_equivalent(what, p, &t, builder);
                }
}

/* Docker's and Podman's defaults are built by hostd for every target;
 * Docker's small fixtures, where libseccomp's list may lose the syscall
 * number (see seccomp_bpf_build), by whichever may. */
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
                check_file(path, strstr(de->d_name, "-default.json") ? BY_HOSTD : BY_EITHER);
                n++;
        }
        closedir(d);
        /* Docker's default, Podman's, and Docker's fixtures */
        assert_true(n >= 4);
}

static void test_hardened_profile(void **state _unused_) {
        check_file("policy/profiles/hostd-hardened.json", BY_HOSTD);
}

#define HEAD "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [" \
        "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}," \
        "{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}], \"syscalls\": ["

/* 35 syscalls of every ABI here, used by no test's own rules: with them a
 * profile has more than 32 rules, and libseccomp builds its binary tree
 * instead of its list. */
#define PAD "{\"names\": [\"dup\", \"dup3\", \"pipe2\", \"openat\", \"mkdirat\", \"fchdir\", \"chdir\"," \
        " \"umask\", \"getuid\", \"getgid\", \"geteuid\", \"getegid\", \"setuid\", \"setgid\", \"getpgid\"," \
        " \"setpgid\", \"getsid\", \"setsid\", \"getcwd\", \"fsync\", \"fdatasync\", \"flock\", \"truncate\"," \
        " \"ftruncate\", \"lseek\", \"readv\", \"writev\", \"pread64\", \"pwrite64\", \"sched_yield\"," \
        " \"nanosleep\", \"uname\", \"sysinfo\", \"times\", \"getrusage\"], \"action\": \"SCMP_ACT_LOG\"}"

/* body for every target, as it is (libseccomp's list) and with PAD (its
 * tree). */
static void check_all_arches(const char *body, Builder list, Builder tree) {
        char text[16384];

        for (size_t i = 0; i < ELEMENTSOF(arches_all); i++) {
                snprintf(text, sizeof(text), HEAD "%s]}", body);
                check_text(text, arches_all[i], false, list);
                snprintf(text, sizeof(text), HEAD "%s, " PAD "]}", body);
                check_text(text, arches_all[i], false, tree);
        }
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
                        check_all_arches(body, BY_HOSTD, BY_HOSTD);
                }
}

static void test_masks(void **state _unused_) {
        /* masks: both halves, high only, low only, nothing (always true) */
        check_all_arches("{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                         "{\"names\": [\"fcntl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13, \"args\": ["
                         "{\"index\": 2, \"value\": 18446744069414584320, \"valueTwo\": 8589934592, \"op\": \"SCMP_CMP_MASKED_EQ\"},"
                         "{\"index\": 3, \"value\": 255, \"valueTwo\": 4096, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                         "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_LOG\", \"args\": ["
                         "{\"index\": 1, \"value\": 0, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
                         "{\"names\": [\"futex\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 1, \"value\": 18446744069414584320, \"valueTwo\": 1, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}",
                         BY_HOSTD, BY_HOSTD);
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
                         BY_HOSTD, BY_HOSTD);
        check_all_arches("{\"names\": [\"write\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 4, \"value\": 4294967296, \"op\": \"SCMP_CMP_GT\"},"
                         "{\"index\": 4, \"value\": 3, \"op\": \"SCMP_CMP_LT\"}]}",
                         BY_LIBSECCOMP, BY_LIBSECCOMP);
        check_all_arches("{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 1, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]}",
                         BY_LIBSECCOMP, BY_LIBSECCOMP);
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
                         BY_HOSTD, BY_HOSTD);
}

/* Conditional rules of different actions for one syscall: libseccomp's
 * tree merge decides, or it refuses them, so libseccomp compiles. */
static void test_mixed_actions_fall_back(void **state _unused_) {
        check_all_arches("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 1, \"value\": 3, \"op\": \"SCMP_CMP_GT\"}]}",
                         BY_LIBSECCOMP, BY_LIBSECCOMP);
        /* even when a rule without conditions comes after them */
        check_all_arches("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": ["
                         "{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\", \"args\": ["
                         "{\"index\": 0, \"value\": 4, \"op\": \"SCMP_CMP_EQ\"}]},"
                         "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}",
                         BY_LIBSECCOMP, BY_LIBSECCOMP);
}

/* Profiles libseccomp refuses, and so runc, hostd refuses too. */
static void test_refused_alike(void **state _unused_) {
        static const struct {
                const char *text, *arch;
        } cases[] = {
                /* the same conditions with two actions: -EEXIST */
                { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
                  "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
                  "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
                  "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRAP\"}]}", "amd64" },
                /* x86: socket's socketcall(1) rule, then socketcall's own */
                { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
                  "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_TRACE\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
                  "{\"names\": [\"socketcall\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}", "x86" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(seccomp_profile_freep) SeccompProfile *p = parse_ok(cases[i].text);
                SeccompCompiled *c = NULL;
                SeccompError e = {};
                SeccompTarget t;
                int lib, own;

                seccomp_target_host(&t);
                t.arch = cases[i].arch;
                lib = seccomp_compile_with(p, &t, SECCOMP_COMPILER_LIBSECCOMP, &c, &e);
                c = seccomp_compiled_free(c);
                own = seccomp_compile_with(p, &t, SECCOMP_COMPILER_AUTO, &c, &e);
                c = seccomp_compiled_free(c);
                if (lib >= 0 || own >= 0)
                        fail_msg("%s for %s: libseccomp %d, hostd %d", cases[i].text, t.arch, lib, own);
                assert_non_null(strstr(e.message, "libseccomp refused"));
        }
}

/* x86's socket and ipc calls, also through socketcall(2) and ipc(2), with
 * a condition on argument 0 replaced and one on argument 1 kept. Some of
 * these names are missing from some ABIs (send and recv from x86_64,
 * socketcall and ipc from all but x86), which libseccomp's list may not
 * survive: hostd builds those with the tree only. */
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
                check_all_arches(body, BY_EITHER, BY_HOSTD);
                snprintf(body, sizeof(body),
                         "{\"names\": [\"%s\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                         "{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"},"
                         "{\"index\": 1, \"value\": 2, \"op\": \"SCMP_CMP_LE\"}]},"
                         "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}",
                         names[i]);
                check_all_arches(body, BY_EITHER, BY_HOSTD);
        }
        /* on x86 socketcall then has "a0 == 1" from socket and "a0 != 40"
         * of its own: not equality alone, so libseccomp builds it */
        for (size_t i = 0; i < ELEMENTSOF(arches_all); i++) {
                bool x86 = STREQ(arches_all[i], "amd64") || STREQ(arches_all[i], "x86");

                check_text(HEAD "{\"names\": [\"socket\", \"socketcall\"], \"action\": \"SCMP_ACT_ALLOW\","
                           " \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"}]},"
                           "{\"names\": [\"ipc\", \"shmget\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}, " PAD "]}",
                           arches_all[i], false, x86 ? BY_LIBSECCOMP : BY_HOSTD);
        }
}

/* A name an ABI lacks, in a small profile (libseccomp's list): libseccomp
 * 2.5.4 may lose the load of the syscall number, so it compiles; with
 * more than 32 rules (its tree) hostd builds the same rules. */
static void test_names_an_abi_lacks(void **state _unused_) {
        static const struct {
                const char *rules, *arch;
        } cases[] = {
                /* create_module is not an arm64 syscall */
                { "{\"names\": [\"create_module\"], \"action\": \"SCMP_ACT_ERRNO\"},"
                  "{\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0,"
                  " \"value\": 268435456, \"valueTwo\": 268435456, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}", "arm64" },
                { "{\"names\": [\"open\"], \"action\": \"SCMP_ACT_TRAP\"},"
                  "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_TRAP\", \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}",
                  "arm64" },
                /* semop reaches x86 only through ipc(2) */
                { "{\"names\": [\"semop\"], \"action\": \"SCMP_ACT_TRAP\"}", "x86" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[4096];

                snprintf(text, sizeof(text), "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [%s]}",
                         cases[i].rules);
                check_text(text, cases[i].arch, false, BY_LIBSECCOMP);
                snprintf(text, sizeof(text), "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [%s, " PAD "]}",
                         cases[i].rules);
                check_text(text, cases[i].arch, false, BY_HOSTD);
        }
        /* x86_64 alone loads the number for its x32 check: hostd builds it */
        check_text("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mmap2\", \"getppid\"],"
                   " \"action\": \"SCMP_ACT_ERRNO\"}]}", "amd64", false, BY_HOSTD);
}

/* x86_64 alone, x32 alone, and x86 alone, with "architectures". */
static void test_architecture_sets(void **state _unused_) {
        static const char *const sets[] = {
                "[\"SCMP_ARCH_X86_64\"]", "[\"SCMP_ARCH_X32\"]", "[\"SCMP_ARCH_X86\"]",
                "[\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X32\"]", "[\"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\"]",
        };

        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                for (size_t a = 0; a < ELEMENTSOF(arches_all); a++)
                        for (int pad = 0; pad < 2; pad++) {
                                char text[4096];

                                snprintf(text, sizeof(text),
                                         "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": %s,"
                                         " \"syscalls\": [{\"names\": [\"getppid\", \"rt_sigaction\", \"io_uring_setup\","
                                         " \"socket\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}%s]}",
                                         sets[i], pad ? ", " PAD : "");
                                check_text(text, arches_all[a], true, BY_HOSTD);
                        }
}

/* Profiles made up from a seed: rules of a few names (some missing from
 * some ABIs, x86's multiplexed ones among them), actions, and conditions
 * of every kind; for every target both compilers refuse the same ones, and
 * where hostd builds, the two programs agree on the syscalls named and on
 * arguments drawn from the values tested. */
static void test_random_profiles(void **state _unused_) {
        static const char *const names[] = {
                "read", "write", "open", "personality", "socket", "bind", "accept", "recv", "semop",
                "shmget", "ipc", "socketcall", "mmap", "mmap2", "clone", "arch_prctl", "create_module",
                "fcntl64", "ioctl", "getpid", "kill", "setsockopt", "sendmsg", "io_uring_setup", "futex",
                "close", "sendto", "msgget",
        };
        static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_TRAP",
                                               "SCMP_ACT_LOG", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRACE" };
        static const char *const ops[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" };
        static const uint64_t values[] = { 0, 1, 2, 3, 5, 8, 0xff, 0x7fffffff, 0x80000000, 0xffffffff,
                                           0x100000000ull, 0x100000005ull, 0xffffffff00000000ull,
                                           UINT64_MAX, 0x8000000000000000ull, 0x1ffffffffull };
        static const char *const arch_sets[] = {
                "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},"
                " {\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}],",
                "", "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X32\"],",
                "\"architectures\": [\"SCMP_ARCH_X86\"],",
        };
        size_t built = 0, refused = 0;

        for (unsigned seed = 1; seed <= 600; seed++) {
                _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
                unsigned r = seed;
                char text[8192];
                size_t o = 0;
                unsigned n_rules = 1 + rand_r(&r) % 5;
                SeccompError e = {};

                o += (size_t) snprintf(text + o, sizeof(text) - o, "{\"defaultAction\": \"%s\", %s \"syscalls\": [",
                                       actions[rand_r(&r) % 3], arch_sets[rand_r(&r) % ELEMENTSOF(arch_sets)]);
                for (unsigned k = 0; k < n_rules; k++) {
                        unsigned n_names = 1 + rand_r(&r) % 3, action = rand_r(&r) % ELEMENTSOF(actions);
                        unsigned n_args = rand_r(&r) % 4 == 0 ? 0 : rand_r(&r) % 3;
                        bool same_index = rand_r(&r) % 2, equality = rand_r(&r) % 2;
                        unsigned index0 = rand_r(&r) % 3;

                        o += (size_t) snprintf(text + o, sizeof(text) - o, "%s{\"names\": [", k ? ", " : "");
                        for (unsigned j = 0; j < n_names; j++)
                                o += (size_t) snprintf(text + o, sizeof(text) - o, "%s\"%s\"", j ? ", " : "",
                                                       names[rand_r(&r) % ELEMENTSOF(names)]);
                        o += (size_t) snprintf(text + o, sizeof(text) - o, "], \"action\": \"%s\"", actions[action]);
                        if (n_args > 0) {
                                o += (size_t) snprintf(text + o, sizeof(text) - o, ", \"args\": [");
                                for (unsigned j = 0; j < n_args; j++) {
                                        unsigned op = equality ? (rand_r(&r) % 2 ? 3 : 6) : rand_r(&r) % ELEMENTSOF(ops);
                                        o += (size_t) snprintf(text + o, sizeof(text) - o,
                                                               "%s{\"index\": %u, \"value\": %" PRIu64 ", \"valueTwo\": %" PRIu64 ", \"op\": \"%s\"}",
                                                               j ? ", " : "", same_index ? index0 : (unsigned) rand_r(&r) % 6,
                                                               values[rand_r(&r) % ELEMENTSOF(values)],
                                                               values[rand_r(&r) % ELEMENTSOF(values)], ops[op]);
                                }
                                o += (size_t) snprintf(text + o, sizeof(text) - o, "]");
                        }
                        o += (size_t) snprintf(text + o, sizeof(text) - o, "}");
                }
                o += (size_t) snprintf(text + o, sizeof(text) - o, "]}");
                assert_true(o < sizeof(text));
                if (seccomp_profile_parse(text, o, &p, &e) < 0)
                        continue; /* e.g. errnoRet where the action takes none */
                for (size_t a = 0; a < ELEMENTSOF(arches_all); a++) {
                        _cleanup_(seccomp_compiled_freep) SeccompCompiled *own = NULL, *lib = NULL;
                        SeccompTarget t;
                        SeccompStats st;
                        int r_own, r_lib;

                        seccomp_target_host(&t);
                        t.arch = arches_all[a];
                        r_lib = seccomp_compile_with(p, &t, SECCOMP_COMPILER_LIBSECCOMP, &lib, &e);
                        r_own = seccomp_compile_with(p, &t, SECCOMP_COMPILER_AUTO, &own, &e);
                        if ((r_own < 0) != (r_lib < 0))
                                fail_msg("%s for %s: libseccomp %d, hostd %d", text, t.arch, r_lib, r_own);
                        if (r_own < 0) {
                                refused++;
                                continue;
                        }
                        seccomp_compiled_stats(own, &st);
                        if (!STREQ(st.compiler, "hostd"))
                                continue;
                        built++;
                        compare_sampled(text, p, own, lib, seed);
                }
        }
        /* most are built by hostd; some refused alike */
        assert_true(built > 1000);
        assert_true(refused > 0);
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
                cmocka_unit_test(test_refused_alike),
                cmocka_unit_test(test_x86_multiplexed),
                cmocka_unit_test(test_names_an_abi_lacks),
                cmocka_unit_test(test_architecture_sets),
                cmocka_unit_test(test_hardened_profile),
                cmocka_unit_test(test_upstream_profiles),
                cmocka_unit_test(test_random_profiles),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
