/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the stored wave (read back from the Swarm's Raft
 * store): any input is a wave that survives a write-read round trip
 * unchanged, or a located error; never a crash or a leak. */
#include <stdint.h>

#include "patching/wave.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Wave *w = NULL, *again = NULL;
        LocatedError error = {};
        char *text, *text2;
        int r;

        r = wave_parse((const char *) data, size, &w, &error);
        if (r < 0) {
                if (w || (r == -EINVAL && !error.message[0]))
                        __builtin_trap();
                return 0;
        }
        text = wave_to_json(w);
        if (!text || wave_parse(text, strlen(text), &again, &error) < 0)
                __builtin_trap();
        text2 = wave_to_json(again);
        if (!text2 || strcmp(text, text2) != 0)
                __builtin_trap();
        free(text);
        free(text2);
        wave_free(w);
        wave_free(again);
        return 0;
}
