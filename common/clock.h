/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

/* A clock now, in microseconds: CLOCK_REALTIME for times recorded in
 * journals and stored waves, CLOCK_BOOTTIME for comparisons within a boot. */
static inline uint64_t clock_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}
