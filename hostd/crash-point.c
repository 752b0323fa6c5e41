/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hostd/crash-point.h"

void crash_point(const char *point) {
        const char *dir = getenv("HOSTD_TEST_CRASH_DIR");
        char path[4096];

        if (!dir || !*dir)
                return;
        snprintf(path, sizeof(path), "%s/%s", dir, point);
        /* removed first: the restarted hostd goes on past it */
        if (unlink(path) == 0) {
                fprintf(stderr, "hostd: test crash point %s: killed\n", point);
                kill(getpid(), SIGKILL);
        }
}
