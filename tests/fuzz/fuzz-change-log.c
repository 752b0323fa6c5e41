/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the change log's readers: a line of changes.jsonl
 * parses into a record of a known kind or is rejected with a reason, and a
 * --since value parses or is rejected (first byte chooses which). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/change-log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char why[160] = "";

        if (size == 0)
                return 0;
        if (data[0] == '!') {
                char *s = strndup((const char *) data + 1, size - 1);
                uint64_t t = 12345;

                if (!s)
                        return 0;
                if (change_since_parse(s, 1764000000ull * 1000000u, &t) < 0 && t != 12345)
                        __builtin_trap(); /* a rejected value leaves the result alone */
                free(s);
                return 0;
        }
        json_t *rec = NULL;
        int r = change_record_parse((const char *) data, size, &rec, why, sizeof(why));
        if (r == 0) {
                const char *kind = json_string_value(json_object_get(rec, "kind"));
                int k = change_kind_from_string(kind);
                if (k < 0 || strcmp(json_string_value(json_object_get(rec, "message_id")),
                                    change_kind_message_id((ChangeKind) k)) != 0)
                        __builtin_trap();
                json_decref(rec);
        } else if (r != -EINVAL || !why[0] || rec)
                __builtin_trap();
        return 0;
}
