/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A seccomp BPF program built straight from a profile's resolved rules.
 *
 * Docker's runtime (runc) compiles profiles with libseccomp, and hostd
 * still does where this builder cannot. libseccomp 2.5 spends about 15 ms
 * on Docker's default profile for x86_64 with x86 and x32, most of it in
 * its rule database and BPF generator; this builder takes a fraction of a
 * millisecond. What it must keep is libseccomp's verdict: for every
 * architecture, syscall number and argument values, its program returns
 * what libseccomp's program for the same rules returns. The unit tests and
 * a fuzzer run both programs side by side to hold it to that. The rules
 * that decide a verdict, as libseccomp 2.5 applies them:
 *
 *  - A name is resolved in each architecture's table; a name that does
 *    not exist there adds nothing for it. On x86 a socket or SysV ipc call
 *    also matches socketcall(2)/ipc(2) with argument 0 equal to its call
 *    number. That test replaces a condition on argument 0; conditions on
 *    other arguments stay and test socketcall's own arguments.
 *  - For one syscall, the first rule without conditions decides, and the
 *    rules with conditions are dropped. One rule with conditions ANDs
 *    them. Several rules with conditions are ORed only when each tests
 *    the same argument for equality (masked or not), as Docker's
 *    personality rules do: anything else gets its verdict from
 *    libseccomp's tree merge, whose result for ranges is not the OR of
 *    the rules (libseccomp 2.5.4 gives "a4 > 2^32 or a4 < 3" a match for
 *    a4 = 2^32-1), and different actions depend on the order it merges
 *    in. Those are -EOPNOTSUPP, and the caller uses libseccomp.
 *  - 64-bit ABIs (x86_64, aarch64) compare both 32-bit halves, unsigned.
 *    32-bit ABIs (x86, x32, arm) compare the low half of the argument with
 *    the low half of the value. A masked test with an empty mask holds.
 *  - x86_64 without x32 gives the bad-architecture action to syscall
 *    numbers with the x32 bit (except -1); x32 without x86_64 to those
 *    without it. Pseudo syscall numbers (names an ABI lacks) never match.
 *
 * Architectures: x86_64, x32, x86, aarch64, arm, on a little-endian host.
 * Others, and SCMP_ACT_NOTIFY (which needs a listener flag at load), are
 * the caller's to hand to libseccomp. */

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

typedef struct SeccompBpf SeccompBpf;

/* Actions are SECCOMP_RET_* values, as libseccomp's SCMP_ACT_* are. */
int seccomp_bpf_new(uint32_t default_action, uint32_t badarch_action, SeccompBpf **ret);
SeccompBpf *seccomp_bpf_free(SeccompBpf *b);
DEFINE_CLEANUP_FUNC(SeccompBpf, seccomp_bpf_free);

/* SCMP_ARCH_*: 0 (also when already added), -EOPNOTSUPP for one the
 * builder lacks. Add every architecture before the first rule. Creating a
 * builder on a big-endian host is -EOPNOTSUPP. */
int seccomp_bpf_add_arch(SeccompBpf *b, uint32_t scmp_arch);

/* Adds a rule for NAME in every architecture: the conditions (at most one
 * per argument, ANDed) as seccomp_rule_add_array() takes them. 0, or
 * -EINVAL for a bad condition. Rules with the default action add nothing
 * in libseccomp's eyes either: skip them before calling. */
int seccomp_bpf_add_rule(SeccompBpf *b, const char *name, uint32_t action,
                         const struct scmp_arg_cmp *conds, unsigned n_conds);

/* Builds the program; *ret stays owned by b. tree: whether libseccomp
 * would build its binary tree (SCMP_FLTATR_CTL_OPTIMIZE 2, as hostd and
 * runc's newer releases ask above 32 rules) or its list. -EOPNOTSUPP when
 * libseccomp's verdict is not the one the rules say, or it may refuse
 * them:
 *  - its tree merge decides (see above);
 *  - conditional rules of different actions for one syscall precede the
 *    one that decides (libseccomp refuses some with -EEXIST);
 *  - a list (no tree) with a name an ABI lacks, in a section that does
 *    not load the syscall number for an ABI check of its own (all but
 *    x86_64 alone and x32 alone): libseccomp 2.5.4 loads the number with
 *    the list's first entry, which may be that name's pseudo syscall, and
 *    then compares the architecture with syscall numbers.
 * -E2BIG beyond the kernel's 4096 instructions, -ENOMEM. */
int seccomp_bpf_build(SeccompBpf *b, bool tree, const struct sock_filter **ret, size_t *ret_n);

/* Whether the kernel's checks of a seccomp program (bpf_check_classic and
 * seccomp_check_filter) pass for the instructions these programs use:
 * 1..4096 instructions, loads of aligned words inside struct
 * seccomp_data, jumps inside the program, a return at the end. 0 or
 * -EINVAL. */
int seccomp_bpf_check(const struct sock_filter *prog, size_t n);

/* The verdict of a seccomp program for one syscall, as the kernel reaches
 * it (classic BPF over struct seccomp_data), for tests and fuzzers, which
 * compare programs. 0, or 1 when the verdict came by way of reading an
 * argument; -EINVAL for an instruction seccomp does not allow, a jump or
 * load out of bounds, or no verdict at the end. */
typedef struct SeccompBpfInput {
        uint32_t nr, arch;
        uint64_t args[6];
} SeccompBpfInput;
int seccomp_bpf_run(const struct sock_filter *prog, size_t n, const SeccompBpfInput *in, uint32_t *ret);
