/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

void text_printf(Text *t, const char *format, ...) {
        va_list ap;
        int n;

        if (t->failed)
                return;
        for (;;) {
                va_start(ap, format);
                n = vsnprintf(t->data ? t->data + t->size : NULL, t->data ? t->capacity - t->size : 0, format, ap);
                va_end(ap);
                if (n < 0) {
                        t->failed = true;
                        return;
                }
                if (t->data && t->size + (size_t) n < t->capacity) {
                        t->size += (size_t) n;
                        return;
                }
                size_t c = MAX(t->capacity * 2, t->size + (size_t) n + 256);
                char *grown = realloc(t->data, c);
                if (!grown) {
                        t->failed = true;
                        return;
                }
                t->data = grown;
                t->capacity = c;
        }
}

char *text_take(Text *t) {
        char *s = t->data;

        if (t->failed) {
                free(s);
                s = NULL;
        }
        *t = (Text){};
        return s;
}

void text_append(char *buf, size_t size, const char *separator, const char *format, ...) {
        size_t used = strnlen(buf, size), sep = used && separator ? strlen(separator) : 0;
        va_list ap;

        if (used + sep + 2 > size)
                return;
        memcpy(buf + used, separator, sep);
        used += sep;
        va_start(ap, format);
        vsnprintf(buf + used, size - used, format, ap);
        va_end(ap);
}
