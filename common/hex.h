/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* Lower-case hexadecimal of data[0..n) into out, which holds 2n+1 bytes
 * (plan IDs and sha256 checksums as repositories write them). */
static inline void hex_encode(const unsigned char *data, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 0xf];
        }
        out[2 * n] = '\0';
}
