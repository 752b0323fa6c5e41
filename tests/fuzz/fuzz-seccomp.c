/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for Docker-format seccomp profiles: any input is either
 * a profile (which then compiles for the host, or fails with a located
 * error) or a located error, never a crash, a leak or an error without a
 * message. */
#include <stdint.h>

#include "policy/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SeccompProfile *p = NULL;
        SeccompCompiled *c = NULL;
        SeccompError error = {};
        SeccompTarget target;
        char text[800];
        int r;

        r = seccomp_profile_parse((const char *) data, size, &p, &error);
        if (r < 0) {
                if (p || (r == -EINVAL && error.message[0] == 0))
                        __builtin_trap();
                located_error_format(&error, "fuzz.json", text, sizeof(text));
                return 0;
        }
        if (!p)
                __builtin_trap();
        /* compiling is slower than parsing: only small profiles, to keep
         * the fuzzer's pace */
        if (p->n_rules <= 16) {
                seccomp_target_host(&target);
                error = (SeccompError){};
                r = seccomp_compile(p, &target, &c, &error);
                if (r == -EINVAL && error.message[0] == 0)
                        __builtin_trap();
                seccomp_compiled_free(c);
        }
        seccomp_profile_free(p);
        return 0;
}
