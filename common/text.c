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
        if (sep)
                memcpy(buf + used, separator, sep);
        used += sep;
        va_start(ap, format);
        vsnprintf(buf + used, size - used, format, ap);
        va_end(ap);
        utf8_trim_partial(buf + used);
}

char *utf8_trim_partial(char *s) {
        size_t n = strlen(s), start = n, need;
        unsigned char lead;

        /* back to the last lead byte: at most 3 continuation bytes */
        while (start > 0 && n - start < 4 && ((unsigned char) s[start - 1] & 0xc0) == 0x80)
                start--;
        if (start == 0 || (start == n && ((unsigned char) s[n - 1] & 0x80) == 0))
                return s;
        lead = (unsigned char) s[start - 1];
        need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if ((lead & 0x80) && n - (start - 1) < need)
                s[start - 1] = '\0';
        return s;
}

int text_refuse(char *err, size_t err_size, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        if (err_size) {
                vsnprintf(err, err_size, format, ap);
                utf8_trim_partial(err);
        }
        va_end(ap);
        return -EINVAL;
}
