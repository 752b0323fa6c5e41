/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A strict JSON reader (RFC 8259) that remembers where every value and key
 * came from, so that configuration and profile errors can name the file,
 * line and column of the offending value. jansson, used elsewhere for
 * building JSON and reading Docker's responses, keeps no positions.
 *
 * Strict means: one value per document (surrounding whitespace allowed),
 * no comments, no trailing commas, no NaN/Infinity, no leading zeros,
 * valid UTF-8 only, no unescaped control characters in strings, no "\u0000"
 * (values are C strings), paired surrogates only, duplicate object keys
 * rejected. Nesting depth is bounded by JV_MAX_DEPTH.
 *
 * Lines and columns are 1-based; columns count bytes.
 *
 * The jv_/JV_ prefix keeps clear of jansson's json_/JSON_ names: both are
 * linked into the same programs. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define JV_MAX_DEPTH 64

typedef enum JsonType {
        JV_NULL,
        JV_BOOLEAN,
        JV_NUMBER,
        JV_STRING,
        JV_ARRAY,
        JV_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;

typedef struct JsonMember {
        char *key;
        unsigned line, column; /* of the key's opening quote */
        JsonValue *value;
} JsonMember;

struct JsonValue {
        JsonType type;
        unsigned line, column; /* of the value's first character */
        union {
                bool boolean;
                struct {
                        double real;
                        /* true when the literal has no fraction or exponent
                         * and fits in int64_t; then integer holds it */
                        bool is_integer;
                        int64_t integer;
                } number;
                struct {
                        char *chars; /* NUL-terminated, no interior NUL */
                        size_t length;
                } string;
                struct {
                        JsonValue **items;
                        size_t count;
                } array;
                struct {
                        JsonMember *members; /* in document order */
                        size_t count;
                } object;
        };
};

typedef struct JsonError {
        unsigned line, column;
        char message[160];
} JsonError;

/* Parses text[0..length). text need not be NUL-terminated and may contain NUL
 * bytes (which are a syntax error). On success returns 0 and *ret owns the
 * tree. On malformed input returns -EINVAL and fills *error (if non-NULL)
 * with the position and a message such as "expected ',' or '}' after object
 * member". -ENOMEM on allocation failure. -E2BIG when nesting exceeds
 * JV_MAX_DEPTH (error filled too). */
int jv_parse(const char *text, size_t length, JsonValue **ret, JsonError *error);

/* An error in a JSON document as its readers report it (configuration,
 * seccomp profiles, the patch journal): where, at which key path, what. */
typedef struct LocatedError {
        unsigned line, column; /* 0 when the error has no position (I/O) */
        char path[128];        /* key path such as "docker.socket", or "" */
        char message[256];
} LocatedError;

/* Fills *error (when non-NULL) with the position of at (or none), path
 * and the message; returns -EINVAL, so callers can `return` it. */
int located_error_at(LocatedError *error, const JsonValue *at, const char *path, const char *format, ...)
        _printf_(4, 5);
int located_error_setv(LocatedError *error, unsigned line, unsigned column, const char *path,
                       const char *format, va_list ap) _printf_(5, 0);

/* "FILE:LINE:COL: PATH: MESSAGE", the position and path left out when
 * absent. */
void located_error_format(const LocatedError *error, const char *filename, char *buf, size_t size);

/* jv_parse, with a syntax error reported as a LocatedError. */
int jv_parse_document(const char *text, size_t length, JsonValue **ret, LocatedError *error);

/* Frees a tree; accepts NULL. */
void jv_free(JsonValue *value);
DEFINE_CLEANUP_FUNC(JsonValue, jv_free);

/* The member value for key in an object, or NULL (also when value is not an
 * object). */
const JsonValue *jv_object_get(const JsonValue *object, const char *key);

/* The member (with the key's position) for key, or NULL. */
const JsonMember *jv_object_member(const JsonValue *object, const char *key);

/* "null", "boolean", "number", "string", "array", "object". */
const char *jv_type_name(JsonType type);
