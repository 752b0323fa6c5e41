/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Time for hostd to validate and compile a profile, in process: parse and
 * validate (every syscall name looked up in libseccomp), resolve for the
 * host with Docker's default capabilities and generate the BPF, with
 * hostd's own generator and with libseccomp (what runc runs); and the
 * first plus loading it in a child, as an install does. Prints
 * "PARSE_US COMPILE_US LIBSECCOMP_US VERIFY_US", medians over N runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fileio.h"
#include "policy/seccomp.h"

static double now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
        qsort(v, (size_t) n, sizeof(double), cmp_double);
        return v[n / 2];
}

int main(int argc, char *argv[]) {
        int runs = argc > 2 ? atoi(argv[2]) : 200;
        double *parse = calloc((size_t) runs, sizeof(double)), *compile = calloc((size_t) runs, sizeof(double));
        double *verify = calloc((size_t) runs, sizeof(double)), *libseccomp = calloc((size_t) runs, sizeof(double));
        char *text = NULL;
        size_t size;
        SeccompTarget target;

        if (argc < 2 || runs < 1 || !parse || !compile || !verify || !libseccomp || read_file(argv[1], SECCOMP_PROFILE_MAX_SIZE, &text, &size) < 0) {
                fprintf(stderr, "usage: seccomp-compile PROFILE [RUNS]\n");
                return 2;
        }
        seccomp_target_host(&target);
        for (int i = 0; i < runs; i++) {
                SeccompProfile *p = NULL;
                SeccompCompiled *c = NULL;
                SeccompError e = {};
                SeccompStats st;
                double t0 = now_us(), t1, t2, t3, t4;

                if (seccomp_profile_parse(text, size, &p, &e) < 0) {
                        fprintf(stderr, "%s: %s: %s\n", argv[1], e.path, e.message);
                        return 1;
                }
                t1 = now_us();
                if (seccomp_compile(p, &target, &c, &e) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[1], e.message);
                        return 1;
                }
                t2 = now_us();
                seccomp_compiled_stats(c, &st);
                if (i == 0 && strcmp(st.compiler, "hostd") != 0) {
                        fprintf(stderr, "%s: compiled by %s, not hostd\n", argv[1], st.compiler);
                        return 1;
                }
                c = seccomp_compiled_free(c);
                t3 = now_us();
                if (seccomp_compile_with(p, &target, SECCOMP_COMPILER_LIBSECCOMP, &c, &e) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[1], e.message);
                        return 1;
                }
                libseccomp[i] = now_us() - t3 + (t1 - t0);
                c = seccomp_compiled_free(c);
                t4 = now_us();
                if (seccomp_profile_verify(p, &st, &e) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[1], e.message);
                        return 1;
                }
                verify[i] = now_us() - t4 + (t1 - t0);
                parse[i] = t1 - t0;
                compile[i] = t2 - t0;
                seccomp_profile_free(p);
        }
        printf("%.0f %.0f %.0f %.0f\n", median(parse, runs), median(compile, runs), median(libseccomp, runs),
               median(verify, runs));
        free(text);
        free(parse);
        free(compile);
        free(verify);
        free(libseccomp);
        return 0;
}
