/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seccomp-path PID SYSCALL...: what a syscall costs under the seccomp
 * filters that confine process PID (a container's init), as runc built
 * them with libseccomp: the filters are read back from the kernel
 * (PTRACE_SECCOMP_GET_FILTER) and run here on x86-64 for each syscall
 * number given, with arguments 0. Prints, per syscall:
 *   NR INSTRUCTIONS cached|filter VERDICT
 * "cached" is the kernel's own shortcut (Linux 5.11, seccomp's action
 * cache): a syscall the filters allow whatever its arguments, deciding on
 * the number and the architecture alone, is allowed without running any
 * filter, so its cost does not depend on the profile; INSTRUCTIONS is then
 * 0. Otherwise every filter runs, and INSTRUCTIONS is how many BPF
 * instructions that takes. A last line gives the filters' sizes. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#define MAX_FILTERS 8

typedef struct Run {
        unsigned steps;
        bool constant; /* only what the kernel's action cache can decide on */
        uint32_t verdict;
} Run;

static int run(const struct sock_filter *f, size_t n, const struct seccomp_data *d, Run *ret) {
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
        size_t pc = 0;

        *ret = (Run){ .constant = true };
        while (pc < n) {
                const struct sock_filter *i = &f[pc++];

                ret->steps++;
                switch (i->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (i->k > sizeof(*d) - 4 || i->k % 4)
                                return -EINVAL;
                        memcpy(&a, (const char *) d + i->k, 4);
                        /* the cache decides on nr and arch only */
                        if (i->k != offsetof(struct seccomp_data, nr) && i->k != offsetof(struct seccomp_data, arch))
                                ret->constant = false;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += i->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == i->k ? i->jt : i->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += a > i->k ? i->jt : i->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += a >= i->k ? i->jt : i->jf;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        pc += (a & i->k) ? i->jt : i->jf;
                        break;
                case BPF_RET | BPF_K:
                        ret->verdict = i->k;
                        return 0;
                default:
                        ret->constant = false;
                        switch (i->code) {
                        case BPF_LD | BPF_IMM: a = i->k; break;
                        case BPF_LDX | BPF_IMM: x = i->k; break;
                        case BPF_LD | BPF_MEM: a = mem[i->k % BPF_MEMWORDS]; break;
                        case BPF_LDX | BPF_MEM: x = mem[i->k % BPF_MEMWORDS]; break;
                        case BPF_ST: mem[i->k % BPF_MEMWORDS] = a; break;
                        case BPF_STX: mem[i->k % BPF_MEMWORDS] = x; break;
                        case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
                        case BPF_ALU | BPF_OR | BPF_K: a |= i->k; break;
                        case BPF_MISC | BPF_TAX: x = a; break;
                        case BPF_MISC | BPF_TXA: a = x; break;
                        case BPF_RET | BPF_A: ret->verdict = a; return 0;
                        default: return -EOPNOTSUPP;
                        }
                }
        }
        return -EINVAL;
}

static const char *verdict_name(uint32_t v) {
        switch (v & SECCOMP_RET_ACTION_FULL) {
        case SECCOMP_RET_ALLOW: return "allow";
        case SECCOMP_RET_ERRNO: return "errno";
        case SECCOMP_RET_KILL_THREAD: return "kill";
        case SECCOMP_RET_KILL_PROCESS: return "kill";
        case SECCOMP_RET_TRAP: return "trap";
        case SECCOMP_RET_LOG: return "log";
        default: return "other";
        }
}

int main(int argc, char **argv) {
        struct sock_filter *filters[MAX_FILTERS];
        size_t lengths[MAX_FILTERS], n_filters = 0;
        pid_t pid;
        int status;

        if (argc < 3) {
                fprintf(stderr, "usage: seccomp-path PID SYSCALL_NR...\n");
                return 2;
        }
        pid = atoi(argv[1]);
        if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
            waitpid(pid, &status, __WALL) < 0) {
                fprintf(stderr, "seccomp-path: cannot stop process %d: %s\n", pid, strerror(errno));
                return 1;
        }
        for (; n_filters < MAX_FILTERS; n_filters++) {
                long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) n_filters, NULL);

                if (n <= 0)
                        break;
                filters[n_filters] = calloc((size_t) n, sizeof(struct sock_filter));
                lengths[n_filters] = (size_t) n;
                if (!filters[n_filters] ||
                    ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) n_filters, filters[n_filters]) != n) {
                        fprintf(stderr, "seccomp-path: cannot read filter %zu of process %d\n", n_filters, pid);
                        return 1;
                }
        }
        ptrace(PTRACE_DETACH, pid, 0, 0);
        if (n_filters == 0) {
                fprintf(stderr, "seccomp-path: process %d has no seccomp filter\n", pid);
                return 1;
        }
        for (int i = 2; i < argc; i++) {
                struct seccomp_data d = { .nr = (int) strtol(argv[i], NULL, 0), .arch = AUDIT_ARCH_X86_64 };
                unsigned steps = 0;
                bool constant = true;
                uint32_t verdict = SECCOMP_RET_ALLOW;

                /* every filter runs; the most restrictive verdict wins: the
                 * lowest action, compared signed as the kernel does
                 * (SECCOMP_RET_KILL_PROCESS is 0x80000000) */
                for (size_t k = 0; k < n_filters; k++) {
                        Run r;
                        int e = run(filters[k], lengths[k], &d, &r);

                        if (e < 0) {
                                fprintf(stderr, "seccomp-path: filter %zu: %s\n", k, strerror(-e));
                                return 1;
                        }
                        steps += r.steps;
                        constant = constant && r.constant;
                        if ((int32_t) (r.verdict & SECCOMP_RET_ACTION_FULL) <
                            (int32_t) (verdict & SECCOMP_RET_ACTION_FULL))
                                verdict = r.verdict;
                }
                /* the cache holds the native table's numbers only, not x32's */
                bool cached = constant && (verdict & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW &&
                              !(d.nr & 0x40000000);
                printf("%d %u %s %s\n", d.nr, cached ? 0 : steps, cached ? "cached" : "filter", verdict_name(verdict));
        }
        printf("filters %zu:", n_filters);
        for (size_t k = 0; k < n_filters; k++)
                printf(" %zu", lengths[k]);
        printf(" instructions\n");
        return 0;
}
