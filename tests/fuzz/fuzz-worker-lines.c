/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the patch worker's report lines, which hostd reads
 * from the worker process (patch_worker_parse_line): any line is one of
 * progress (with the four fields hostctl prints), result or error, and
 * nothing else, or -EBADMSG with a message; never a crash or a leak. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/patch-protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), err[256] = "";
        PatchWorkerLine line;
        int r;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = patch_worker_parse_line(text, &line, err, sizeof(err));
        if (r < 0) {
                if (r != -EBADMSG || !err[0])
                        __builtin_trap();
        } else {
                const json_t *v = line.value;
                bool ok = line.line && v && json_object_size(line.line) == 1 &&
                          (line.kind == PATCH_LINE_ERROR ? json_is_string(v) : json_is_object(v)) &&
                          (line.kind != PATCH_LINE_PROGRESS ||
                           (json_string_value(json_object_get(v, "package")) &&
                            json_string_value(json_object_get(v, "action")) &&
                            json_is_integer(json_object_get(v, "done")) && json_is_integer(json_object_get(v, "total")))) &&
                          (line.kind == PATCH_LINE_PROGRESS || line.kind == PATCH_LINE_RESULT ||
                           line.kind == PATCH_LINE_ERROR);
                if (!ok)
                        __builtin_trap();
                json_decref(line.line);
        }
        free(text);
        return 0;
}
