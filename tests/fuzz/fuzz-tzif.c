/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the TZif reader (common/timezone.h): any data is
 * read or refused with a message; a zone read gives offsets within a day
 * at every instant, and turns a wall-clock time into an instant that shows
 * it or, when skipped, one after which the clock is past it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timezone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        TimeZone *tz = NULL;
        char err[256] = "";
        int r = timezone_parse(data, size, &tz, err, sizeof(err));

        if (r < 0) {
                if (r != -EINVAL || tz || !err[0])
                        abort();
                return 0;
        }
        /* instants from 1900 to 2100, and at the edges of int32 time */
        static const int64_t instants[] = { -2208988800LL, -2147483648LL, 0, 1798761600LL, 2147483647LL,
                                            2240524800LL, 4102444800LL };
        for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
                int64_t t = instants[i];
                int32_t off = timezone_offset(tz, t);
                if (off <= -25 * 3600 || off >= 26 * 3600)
                        abort();
                int64_t local = t + off, back = timezone_from_local(tz, local);
                int64_t shown = back + timezone_offset(tz, back);
                /* the instant given shows the time, or the clock jumped over it there */
                if (shown != local && !(shown > local && back - 1 + timezone_offset(tz, back - 1) < local))
                        abort();
                if (back > t)
                        abort(); /* t shows local: the first instant showing it is not later */
        }
        timezone_free(tz);
        return 0;
}
