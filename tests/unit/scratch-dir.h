/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A cmocka group fixture: a fresh directory under /tmp, its path as the
 * tests' state, removed with its contents afterwards. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int scratch_dir_setup(void **state) {
        char *dir = strdup("/tmp/hostd-unit-XXXXXX");

        if (!dir || !mkdtemp(dir)) {
                free(dir);
                return -1;
        }
        *state = dir;
        return 0;
}

static inline int scratch_dir_teardown(void **state) {
        char cmd[128];
        int r;

        snprintf(cmd, sizeof(cmd), "rm -rf %s", (char *) *state);
        r = system(cmd);
        free(*state);
        return r == 0 ? 0 : -1;
}
