/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the apt.conf reader (patching/auto-upgrades.h):
 * whatever a root's apt.conf holds, it is read or refused with a message
 * naming the file and a line within it, never past the text; a refusal
 * leaves the settings as they were; and a text read twice gives what it
 * gave once (a later file overrides an earlier one). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patching/auto-upgrades.h"

#define NAME "/etc/apt/apt.conf.d/50fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        AptPeriodic before = { .unattended = "7", .enable = "1" }, c = before, twice = before;
        char what[512] = "", what2[512] = "";
        unsigned line = 0, lines = 1;
        int r, r2;

        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        r = apt_conf_periodic(NAME, (const char *) data, size, &c, what, sizeof(what));
        if (r < 0) {
                if (r != -EINVAL && r != -EOPNOTSUPP && r != -E2BIG)
                        abort();
                if (strncmp(what, NAME ":", strlen(NAME) + 1) != 0 ||
                    sscanf(what + strlen(NAME) + 1, "%u", &line) != 1 || line < 1 || line > lines)
                        abort();
                if (memcmp(&c, &before, sizeof(c)) != 0)
                        abort();
                return 0;
        }
        if (strlen(c.unattended) >= sizeof(c.unattended) || strlen(c.enable) >= sizeof(c.enable))
                abort();
        /* the same text again: the same settings */
        twice = c;
        r2 = apt_conf_periodic(NAME, (const char *) data, size, &twice, what2, sizeof(what2));
        if (r2 != 0 || memcmp(&twice, &c, sizeof(c)) != 0)
                abort();
        return 0;
}
