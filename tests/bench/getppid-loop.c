/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calls getppid(2) N times through syscall(2), so every call really enters
 * the kernel and crosses the seccomp filter, and prints nanoseconds per
 * call. Built static, to run in the busybox test image. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        long n = argc > 1 ? atol(argv[1]) : 1000000;
        struct timespec a, b;

        if (n <= 0)
                return 2;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++)
                syscall(SYS_getppid);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.1f\n", ((double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec)) / (double) n);
        return 0;
}
