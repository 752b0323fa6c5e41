/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for patch journal entries: any input is an entry that
 * survives a write-read round trip unchanged in its package sets, or a
 * located error; never a crash or a leak. */
#include <stdint.h>

#include "patching/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        JournalEntry *e = NULL;
        JournalError error = {};
        PackageDiff diff;
        char text[600];
        int r;

        r = journal_parse((const char *) data, size, &e, &error);
        if (r < 0) {
                if (e || (r == -EINVAL && error.message[0] == 0))
                        __builtin_trap();
                located_error_format(&error, "fuzz.json", text, sizeof(text));
                return 0;
        }
        /* a parsed entry's sets are sorted and distinct, so diffing a set
         * with itself finds nothing */
        if (package_set_diff(&e->before, &e->before, &diff) == 0) {
                if (diff.install.n != 0 || diff.remove.n != 0)
                        __builtin_trap();
                package_diff_done(&diff);
        }
        for (size_t i = 1; i < e->after.n; i++)
                if (strcmp(e->after.items[i - 1].name, e->after.items[i].name) > 0)
                        __builtin_trap();
        journal_entry_free(e);
        return 0;
}
