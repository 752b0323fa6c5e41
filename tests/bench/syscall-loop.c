/* SPDX-License-Identifier: GPL-2.0-or-later */
/* syscall-loop getppid|personality N: calls the syscall N times through
 * syscall(2), so every call really enters the kernel and crosses the
 * seccomp filter, in 20 batches, and prints nanoseconds per call in the
 * fastest batch: what the call costs, without the batches another task or
 * the hypervisor took the CPU from. getppid is allowed by
 * number alone (the kernel's seccomp action cache skips the filter);
 * personality(0xffffffff), the query, is allowed by an argument rule, so
 * the filter runs for every call. Built static, to run in the busybox test
 * image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        long n = argc > 2 ? atol(argv[2]) : 1000000;
        int personality = argc > 1 && strcmp(argv[1], "personality") == 0;
        double best = 0;

        if (argc < 2 || (!personality && strcmp(argv[1], "getppid") != 0) || n <= 0) {
                fprintf(stderr, "usage: syscall-loop getppid|personality N\n");
                return 2;
        }
        for (int batch = 0; batch < 20; batch++) {
                long calls = n / 20 > 0 ? n / 20 : 1;
                struct timespec a, b;
                double ns;

                clock_gettime(CLOCK_MONOTONIC, &a);
                if (personality)
                        for (long i = 0; i < calls; i++)
                                syscall(SYS_personality, 0xffffffffUL);
                else
                        for (long i = 0; i < calls; i++)
                                syscall(SYS_getppid);
                clock_gettime(CLOCK_MONOTONIC, &b);
                ns = ((double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec)) / (double) calls;
                if (batch == 0 || ns < best)
                        best = ns;
        }
        printf("%.1f\n", best);
        return 0;
}
