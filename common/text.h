/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Strings built with printf: a growable one (text_printf, then text_take),
 * and appending to a fixed buffer (text_append). */

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"

typedef struct Text {
        char *data;
        size_t size, capacity;
        bool failed; /* an allocation failed: later calls do nothing */
} Text;

void text_printf(Text *t, const char *format, ...) _printf_(2, 3);

/* The string, for the caller to free; NULL (and nothing to free) when an
 * allocation failed on the way. */
char *text_take(Text *t);

/* Appends to buf (NUL-terminated, size bytes), with separator first when
 * buf is not empty; truncated at the end of buf, never inside a UTF-8
 * character; nothing at all when no room is left for the separator and a
 * character. */
void text_append(char *buf, size_t size, const char *separator, const char *format, ...) _printf_(4, 5);

/* Writes the message into err (err_size bytes; 0: none) and returns
 * -EINVAL: a parser's "refused, and why" in one statement. */
int text_refuse(char *err, size_t err_size, const char *format, ...) _printf_(3, 4);

/* Cuts s before a UTF-8 character its end leaves incomplete (what a
 * truncating snprintf into a fixed buffer may leave), so that JSON
 * encoders take it. Returns s. */
char *utf8_trim_partial(char *s);
