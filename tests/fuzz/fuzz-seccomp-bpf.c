/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness holding hostd's seccomp BPF to libseccomp's: any
 * profile that parses compiles both ways for x86_64 (with x86 and x32 when
 * mapped), x86, x32, arm64 and arm, or fails both ways; both programs pass
 * the kernel's static checks; and where hostd's generator built the
 * program, both give the same verdict for the syscall numbers the profile
 * names (and their neighbours) in every architecture, with each argument
 * through the values the profile tests. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>

#include "policy/seccomp-bpf.h"
#include "policy/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t audit_arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM };
static const uint32_t scmp_arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_AARCH64,
                                        SCMP_ARCH_ARM };

static void same(const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb,
                 const SeccompBpfInput *in) {
        uint32_t va = 0, vb = 0;

        if (seccomp_bpf_run(a, na, in, &va) < 0 || seccomp_bpf_run(b, nb, in, &vb) < 0 || va != vb)
                __builtin_trap();
}

static void compare(const SeccompProfile *p, const SeccompCompiled *own, const SeccompCompiled *lib) {
        const struct sock_filter *a, *b;
        size_t na, nb;

        seccomp_compiled_program(own, &a, &na);
        seccomp_compiled_program(lib, &b, &nb);
        /* what the kernel checks before it runs a program */
        if (seccomp_bpf_check(a, na) < 0 || seccomp_bpf_check(b, nb) < 0)
                __builtin_trap();
        for (size_t r = 0; r < p->n_rules; r++)
                for (size_t k = 0; k < p->rules[r].n_names; k++)
                        for (size_t s = 0; s < sizeof(scmp_arches) / sizeof(scmp_arches[0]); s++) {
                                int nr = seccomp_syscall_resolve_name_arch(scmp_arches[s], p->rules[r].names[k]);
                                /* x86's socket calls reach socketcall/ipc too */
                                int extra[] = { nr, nr - 1, nr + 1, 102, 117, -1 };

                                for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++)
                                        for (size_t ai = 0; ai < sizeof(audit_arches) / sizeof(audit_arches[0]); ai++) {
                                                SeccompBpfInput in = { .nr = (uint32_t) extra[e], .arch = audit_arches[ai] };

                                                same(a, na, b, nb, &in);
                                                for (size_t x = 0; x < p->n_rules; x++)
                                                        for (size_t y = 0; y < p->rules[x].n_args; y++) {
                                                                const SeccompArg *g = &p->rules[x].args[y];
                                                                uint64_t vals[] = { g->value, g->value + 1, g->value - 1,
                                                                                    g->value_two, g->value_two | ~g->value,
                                                                                    g->value ^ (1ull << 32) };

                                                                for (size_t v = 0; v < 6; v++) {
                                                                        memset(in.args, 0, sizeof(in.args));
                                                                        in.args[g->index] = vals[v];
                                                                        same(a, na, b, nb, &in);
                                                                        /* and on every argument at once */
                                                                        for (int j = 0; j < 6; j++)
                                                                                in.args[j] = vals[v];
                                                                        same(a, na, b, nb, &in);
                                                                }
                                                        }
                                        }
                        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const targets[] = { "amd64", "x86", "x32", "arm64", "arm" };
        SeccompProfile *p = NULL;
        SeccompError error = {};

        if (seccomp_profile_parse((const char *) data, size, &p, &error) < 0)
                return 0;
        /* compiling twice is slow: small profiles keep the fuzzer's pace */
        if (p->n_rules > 12 || !p->has_default) {
                seccomp_profile_free(p);
                return 0;
        }
        for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
                SeccompCompiled *own = NULL, *lib = NULL;
                SeccompTarget target;
                SeccompStats st;
                int r_own, r_lib;

                seccomp_target_host(&target);
                target.arch = targets[t];
                r_own = seccomp_compile_with(p, &target, SECCOMP_COMPILER_AUTO, &own, &error);
                r_lib = seccomp_compile_with(p, &target, SECCOMP_COMPILER_LIBSECCOMP, &lib, &error);
                /* a profile libseccomp (and so runc) refuses is refused */
                if ((r_own < 0) != (r_lib < 0))
                        __builtin_trap();
                if (r_own >= 0) {
                        seccomp_compiled_stats(own, &st);
                        if (strcmp(st.compiler, "hostd") == 0)
                                compare(p, own, lib);
                }
                seccomp_compiled_free(own);
                seccomp_compiled_free(lib);
        }
        seccomp_profile_free(p);
        return 0;
}
