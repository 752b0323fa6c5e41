/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the patch state files: any input is a journal
 * entry whose package sets are sorted and distinct, or a located error; a
 * first-seen record or an error naming the file; and a node's wave record
 * or a located error; never a crash or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "patching/journal.h"
#include "patching/plan.h"
#include "patching/wave-node.h"

/* The same bytes as a first-seen record, read from a memfd. */
static void fuzz_first_seen(const uint8_t *data, size_t size) {
        int fd = memfd_create("first-seen", MFD_CLOEXEC);
        char path[64], err[1024] = "";
        FirstSeen seen = {};
        int r;

        if (fd < 0)
                return;
        if (write(fd, data, size) == (ssize_t) size) {
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                r = first_seen_load(path, &seen, err, sizeof(err));
                if (r < 0 && (seen.n != 0 || (r == -EINVAL && !err[0])))
                        __builtin_trap();
                for (size_t i = 1; i < seen.n; i++)
                        if (strcmp(seen.items[i - 1].key, seen.items[i].key) > 0)
                                __builtin_trap();
                first_seen_done(&seen);

                /* and as a node's wave record */
                WaveNodeRecord rec;
                LocatedError e = {};
                r = wave_node_record_load(path, &rec, &e);
                if (r == -EINVAL && !e.message[0])
                        __builtin_trap();
                if (r == 0 && rec.step >= _AGENT_STEP_MAX)
                        __builtin_trap();
        }
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        JournalEntry *e = NULL;
        JournalError error = {};
        PackageDiff diff;
        char text[600];
        int r;

        fuzz_first_seen(data, size);
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
