/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the located JSON reader: any input parses or is
 * rejected with a position; parsed trees keep their invariants. */
#include <stdint.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const JsonValue *v, unsigned depth) {
        if (!v || v->line == 0 || v->column == 0 || depth > JV_MAX_DEPTH)
                __builtin_trap();
        switch (v->type) {
        case JV_STRING:
                if (strlen(v->string.chars) != v->string.length)
                        __builtin_trap();
                break;
        case JV_NUMBER:
                if (v->number.is_integer && (double) v->number.integer != v->number.real)
                        __builtin_trap();
                break;
        case JV_ARRAY:
                for (size_t i = 0; i < v->array.count; i++)
                        check(v->array.items[i], depth + 1);
                break;
        case JV_OBJECT:
                for (size_t i = 0; i < v->object.count; i++) {
                        const JsonMember *m = &v->object.members[i];
                        if (!m->key || m->line == 0 || jv_object_member(v, m->key) != m)
                                __builtin_trap(); /* duplicates were rejected */
                        check(m->value, depth + 1);
                }
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        JsonValue *v = NULL;
        JsonError e = {};
        int r = jv_parse((const char *) data, size, &v, &e);

        if (r == 0)
                check(v, 1);
        else if (v || e.line == 0 || e.column == 0 || e.message[0] == 0)
                __builtin_trap();
        jv_free(v);
        return 0;
}
