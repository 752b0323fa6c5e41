/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <stdarg.h>

#include "common/json.h"

typedef struct Parser {
        const char *text;
        size_t length;
        size_t pos;
        unsigned line, column;
        unsigned depth;
        JsonError *error;
} Parser;

static int parser_fail(Parser *p, int r, const char *format, ...) _printf_(3, 4);

static int parser_fail(Parser *p, int r, const char *format, ...) {
        va_list ap;

        if (p->error) {
                p->error->line = p->line;
                p->error->column = p->column;
                va_start(ap, format);
                vsnprintf(p->error->message, sizeof(p->error->message), format, ap);
                va_end(ap);
        }
        return r;
}

static bool at_end(const Parser *p) {
        return p->pos >= p->length;
}

static int peek(const Parser *p) {
        return at_end(p) ? -1 : (unsigned char) p->text[p->pos];
}

/* Advances over bytes that are not newlines (columns count bytes). */
static void advance(Parser *p, size_t n) {
        p->pos += n;
        p->column += (unsigned) n;
}

static void skip_whitespace(Parser *p) {
        while (!at_end(p)) {
                char c = p->text[p->pos];

                if (c == '\n') {
                        p->pos++;
                        p->line++;
                        p->column = 1;
                } else if (c == ' ' || c == '\t' || c == '\r')
                        advance(p, 1);
                else
                        break;
        }
}

static int fail_unexpected(Parser *p, const char *context) {
        int c = peek(p);

        if (c < 0)
                return parser_fail(p, -EINVAL, "unexpected end of input%s", context);
        if (c >= 0x20 && c < 0x7f)
                return parser_fail(p, -EINVAL, "unexpected character '%c'%s", c, context);
        return parser_fail(p, -EINVAL, "unexpected byte 0x%02x%s", (unsigned) c, context);
}

static JsonValue *value_new(JsonType type, unsigned line, unsigned column) {
        JsonValue *v = calloc(1, sizeof(*v));

        if (v) {
                v->type = type;
                v->line = line;
                v->column = column;
        }
        return v;
}

void jv_free(JsonValue *v) {
        if (!v)
                return;
        switch (v->type) {
        case JV_STRING:
                free(v->string.chars);
                break;
        case JV_ARRAY:
                for (size_t i = 0; i < v->array.count; i++)
                        jv_free(v->array.items[i]);
                free(v->array.items);
                break;
        case JV_OBJECT:
                for (size_t i = 0; i < v->object.count; i++) {
                        free(v->object.members[i].key);
                        jv_free(v->object.members[i].value);
                }
                free(v->object.members);
                break;
        default:
                break;
        }
        free(v);
}

/* Length of a valid UTF-8 sequence at s (max n bytes), 0 if invalid:
 * overlong forms, UTF-16 surrogates and code points past U+10FFFF are all
 * invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
        unsigned c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if (c == 0xe0 && s[1] < 0xa0)
                        return 0; /* overlong */
                if (c == 0xed && s[1] >= 0xa0)
                        return 0; /* surrogate */
                return 3;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
                    (s[3] & 0xc0) != 0x80)
                        return 0;
                if (c == 0xf0 && s[1] < 0x90)
                        return 0; /* overlong */
                if (c == 0xf4 && s[1] >= 0x90)
                        return 0; /* past U+10FFFF */
                return 4;
        }
        return 0;
}

static size_t utf8_encode(unsigned cp, char out[4]) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

static int hex4(Parser *p, unsigned *ret) {
        unsigned v = 0;

        if (p->length - p->pos < 4) {
                advance(p, p->length - p->pos);
                return parser_fail(p, -EINVAL, "unterminated string");
        }
        for (int i = 0; i < 4; i++) {
                char c = p->text[p->pos];
                unsigned d;

                if (c >= '0' && c <= '9')
                        d = (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        d = (unsigned) (c - 'A' + 10);
                else
                        return parser_fail(p, -EINVAL, "invalid hex digit in \\u escape");
                v = v * 16 + d;
                advance(p, 1);
        }
        *ret = v;
        return 0;
}

/* Parses a string at p->pos (on the opening quote). The decoded length is
 * never longer than the source, so one allocation of the source span
 * suffices once the closing quote is found. */
static int parse_string(Parser *p, char **ret, size_t *ret_length) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0, end;

        advance(p, 1); /* the opening quote */

        /* Find the closing quote to size the buffer; escapes are skipped. */
        for (end = p->pos; end < p->length && p->text[end] != '"'; end++)
                if (p->text[end] == '\\')
                        end++;
        out = malloc((end < p->length ? end - p->pos : p->length - p->pos) + 1);
        if (!out)
                return -ENOMEM;

        for (;;) {
                int c = peek(p);

                if (c < 0)
                        return parser_fail(p, -EINVAL, "unterminated string");
                if (c == '"') {
                        advance(p, 1);
                        break;
                }
                if (c < 0x20) {
                        if (c == '\n')
                                return parser_fail(p, -EINVAL, "unterminated string (newline in string)");
                        return parser_fail(p, -EINVAL,
                                           "control character 0x%02x in string must be escaped", (unsigned) c);
                }
                if (c == '\\') {
                        unsigned cp;
                        int e;

                        if (p->pos + 1 >= p->length) {
                                advance(p, 1);
                                return parser_fail(p, -EINVAL, "unterminated string");
                        }
                        e = (unsigned char) p->text[p->pos + 1];
                        switch (e) {
                        case '"': out[n++] = '"'; break;
                        case '\\': out[n++] = '\\'; break;
                        case '/': out[n++] = '/'; break;
                        case 'b': out[n++] = '\b'; break;
                        case 'f': out[n++] = '\f'; break;
                        case 'n': out[n++] = '\n'; break;
                        case 'r': out[n++] = '\r'; break;
                        case 't': out[n++] = '\t'; break;
                        case 'u': {
                                unsigned escape_column = p->column;
                                int r;

                                advance(p, 2);
                                r = hex4(p, &cp);
                                if (r < 0)
                                        return r;
                                if (cp >= 0xdc00 && cp <= 0xdfff) {
                                        p->column = escape_column;
                                        return parser_fail(p, -EINVAL, "lone low surrogate \\u%04x", cp);
                                }
                                if (cp >= 0xd800 && cp <= 0xdbff) {
                                        unsigned low;

                                        if (p->length - p->pos < 2 || p->text[p->pos] != '\\' ||
                                            p->text[p->pos + 1] != 'u') {
                                                p->column = escape_column;
                                                return parser_fail(p, -EINVAL,
                                                                   "high surrogate \\u%04x not followed by a low surrogate", cp);
                                        }
                                        advance(p, 2);
                                        r = hex4(p, &low);
                                        if (r < 0)
                                                return r;
                                        if (low < 0xdc00 || low > 0xdfff) {
                                                p->column = escape_column;
                                                return parser_fail(p, -EINVAL,
                                                                   "high surrogate \\u%04x not followed by a low surrogate", cp);
                                        }
                                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                                }
                                if (cp == 0) {
                                        p->column = escape_column;
                                        return parser_fail(p, -EINVAL, "\\u0000 is not allowed in strings");
                                }
                                n += utf8_encode(cp, out + n);
                                continue; /* already advanced */
                        }
                        default:
                                if (e >= 0x20 && e < 0x7f)
                                        return parser_fail(p, -EINVAL, "invalid escape '\\%c'", e);
                                return parser_fail(p, -EINVAL, "invalid escape");
                        }
                        advance(p, 2);
                        continue;
                }
                if (c < 0x80) {
                        out[n++] = (char) c;
                        advance(p, 1);
                        continue;
                }
                size_t len = utf8_sequence((const unsigned char *) p->text + p->pos,
                                           p->length - p->pos);
                if (len == 0)
                        return parser_fail(p, -EINVAL, "invalid UTF-8");
                memcpy(out + n, p->text + p->pos, len);
                n += len;
                advance(p, len);
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_length = n;
        return 0;
}

static bool is_digit(int c) {
        return c >= '0' && c <= '9';
}

static int parse_number(Parser *p, JsonValue *v) {
        size_t start = p->pos;
        unsigned start_column = p->column;
        bool fraction = false;
        char buf[64], *copy = buf, *end;
        size_t n;

        if (peek(p) == '-')
                advance(p, 1);
        if (peek(p) == '0') {
                advance(p, 1);
                if (is_digit(peek(p)))
                        return parser_fail(p, -EINVAL, "leading zeros are not allowed in numbers");
        } else if (is_digit(peek(p))) {
                while (is_digit(peek(p)))
                        advance(p, 1);
        } else
                return fail_unexpected(p, " in number");

        if (peek(p) == '.') {
                fraction = true;
                advance(p, 1);
                if (!is_digit(peek(p)))
                        return fail_unexpected(p, ": expected a digit after '.'");
                while (is_digit(peek(p)))
                        advance(p, 1);
        }
        if (peek(p) == 'e' || peek(p) == 'E') {
                fraction = true;
                advance(p, 1);
                if (peek(p) == '+' || peek(p) == '-')
                        advance(p, 1);
                if (!is_digit(peek(p)))
                        return fail_unexpected(p, ": expected a digit in the exponent");
                while (is_digit(peek(p)))
                        advance(p, 1);
        }

        /* strtod needs a NUL-terminated copy; the input is a bounded span. */
        n = p->pos - start;
        if (n >= sizeof(buf)) {
                copy = malloc(n + 1);
                if (!copy)
                        return -ENOMEM;
        }
        memcpy(copy, p->text + start, n);
        copy[n] = 0;

        v->number.real = strtod(copy, &end);
        if (!fraction) {
                errno = 0;
                long long i = strtoll(copy, &end, 10);
                if (errno == 0 && *end == 0) {
                        v->number.is_integer = true;
                        v->number.integer = i;
                }
        }
        if (copy != buf)
                free(copy);
        if (!isfinite(v->number.real)) {
                p->column = start_column;
                return parser_fail(p, -EINVAL, "number out of range");
        }
        return 0;
}

static int parse_literal(Parser *p, const char *word) {
        size_t n = strlen(word);

        for (size_t i = 0; i < n; i++) {
                if (p->pos + i >= p->length || p->text[p->pos + i] != word[i]) {
                        advance(p, i);
                        return fail_unexpected(p, "");
                }
        }
        advance(p, n);
        return 0;
}

static int parse_value(Parser *p, JsonValue **ret);

static int compare_member_keys(const void *a, const void *b) {
        const JsonMember *x = *(const JsonMember *const *) a, *y = *(const JsonMember *const *) b;
        int c = strcmp(x->key, y->key);

        if (c != 0)
                return c;
        /* equal keys: document order, so the later one is reported */
        return x < y ? -1 : x > y;
}

/* Rejects duplicate keys in O(n log n), reporting the later occurrence. */
static int check_duplicates(Parser *p, const JsonValue *object) {
        _cleanup_free_ const JsonMember **index = NULL;
        size_t n = object->object.count;
        const JsonMember *dup = NULL;

        if (n < 2)
                return 0;
        index = malloc(n * sizeof(*index));
        if (!index)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                index[i] = &object->object.members[i];
        qsort(index, n, sizeof(*index), compare_member_keys);
        for (size_t i = 1; i < n; i++)
                if (STREQ(index[i - 1]->key, index[i]->key) && (!dup || index[i] < dup))
                        dup = index[i];
        if (!dup)
                return 0;
        p->line = dup->line;
        p->column = dup->column;
        return parser_fail(p, -EINVAL, "duplicate key \"%.100s\"", dup->key);
}

static int parse_object(Parser *p, JsonValue *v) {
        size_t capacity = 0;
        int r;

        advance(p, 1); /* { */
        skip_whitespace(p);
        if (peek(p) == '}') {
                advance(p, 1);
                return 0;
        }
        for (;;) {
                JsonMember *m;

                skip_whitespace(p);
                if (peek(p) != '"')
                        return fail_unexpected(p, ": expected a string as object key");
                if (v->object.count == capacity) {
                        size_t c = capacity ? capacity * 2 : 4;
                        JsonMember *grown = realloc(v->object.members, c * sizeof(*grown));
                        if (!grown)
                                return -ENOMEM;
                        v->object.members = grown;
                        capacity = c;
                }
                m = &v->object.members[v->object.count];
                *m = (JsonMember){ .line = p->line, .column = p->column };
                size_t key_length;
                r = parse_string(p, &m->key, &key_length);
                if (r < 0)
                        return r;
                v->object.count++; /* owned now, freed with the object */

                skip_whitespace(p);
                if (peek(p) != ':')
                        return fail_unexpected(p, ": expected ':' after object key");
                advance(p, 1);
                skip_whitespace(p);
                r = parse_value(p, &m->value);
                if (r < 0)
                        return r;

                skip_whitespace(p);
                if (peek(p) == ',') {
                        advance(p, 1);
                        continue;
                }
                if (peek(p) == '}') {
                        advance(p, 1);
                        break;
                }
                return fail_unexpected(p, ": expected ',' or '}' after object member");
        }
        return check_duplicates(p, v);
}

static int parse_array(Parser *p, JsonValue *v) {
        size_t capacity = 0;
        int r;

        advance(p, 1); /* [ */
        skip_whitespace(p);
        if (peek(p) == ']') {
                advance(p, 1);
                return 0;
        }
        for (;;) {
                if (v->array.count == capacity) {
                        size_t c = capacity ? capacity * 2 : 4;
                        JsonValue **grown = realloc(v->array.items, c * sizeof(*grown));
                        if (!grown)
                                return -ENOMEM;
                        v->array.items = grown;
                        capacity = c;
                }
                skip_whitespace(p);
                r = parse_value(p, &v->array.items[v->array.count]);
                if (r < 0)
                        return r;
                v->array.count++;

                skip_whitespace(p);
                if (peek(p) == ',') {
                        advance(p, 1);
                        continue;
                }
                if (peek(p) == ']') {
                        advance(p, 1);
                        return 0;
                }
                return fail_unexpected(p, ": expected ',' or ']' after array element");
        }
}

static int parse_value(Parser *p, JsonValue **ret) {
        _cleanup_(jv_freep) JsonValue *v = NULL;
        int c = peek(p), r;
        JsonType type;

        switch (c) {
        case '{': type = JV_OBJECT; break;
        case '[': type = JV_ARRAY; break;
        case '"': type = JV_STRING; break;
        case 't':
        case 'f': type = JV_BOOLEAN; break;
        case 'n': type = JV_NULL; break;
        default:
                if (c == '-' || is_digit(c)) {
                        type = JV_NUMBER;
                        break;
                }
                return fail_unexpected(p, "");
        }

        v = value_new(type, p->line, p->column);
        if (!v)
                return -ENOMEM;

        switch (type) {
        case JV_OBJECT:
        case JV_ARRAY:
                if (p->depth >= JV_MAX_DEPTH)
                        return parser_fail(p, -E2BIG, "nesting deeper than %d levels", JV_MAX_DEPTH);
                p->depth++;
                r = type == JV_OBJECT ? parse_object(p, v) : parse_array(p, v);
                p->depth--;
                break;
        case JV_STRING:
                r = parse_string(p, &v->string.chars, &v->string.length);
                break;
        case JV_BOOLEAN:
                v->boolean = c == 't';
                r = parse_literal(p, c == 't' ? "true" : "false");
                break;
        case JV_NULL:
                r = parse_literal(p, "null");
                break;
        default:
                r = parse_number(p, v);
                break;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int jv_parse(const char *text, size_t length, JsonValue **ret, JsonError *error) {
        Parser p = { .text = text, .length = length, .line = 1, .column = 1, .error = error };
        _cleanup_(jv_freep) JsonValue *v = NULL;
        int r;

        if (error)
                *error = (JsonError){};
        /* A UTF-8 byte order mark is tolerated, as editors write one. */
        if (length >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                p.pos = 3;
        skip_whitespace(&p);
        if (at_end(&p))
                return parser_fail(&p, -EINVAL, "empty document");
        r = parse_value(&p, &v);
        if (r < 0)
                return r;
        skip_whitespace(&p);
        if (!at_end(&p))
                return parser_fail(&p, -EINVAL, "trailing characters after JSON value");
        *ret = TAKE_PTR(v);
        return 0;
}

const JsonMember *jv_object_member(const JsonValue *object, const char *key) {
        if (!object || object->type != JV_OBJECT)
                return NULL;
        for (size_t i = 0; i < object->object.count; i++)
                if (STREQ(object->object.members[i].key, key))
                        return &object->object.members[i];
        return NULL;
}

const JsonValue *jv_object_get(const JsonValue *object, const char *key) {
        const JsonMember *m = jv_object_member(object, key);
        return m ? m->value : NULL;
}

const char *jv_type_name(JsonType type) {
        switch (type) {
        case JV_NULL: return "null";
        case JV_BOOLEAN: return "boolean";
        case JV_NUMBER: return "number";
        case JV_STRING: return "string";
        case JV_ARRAY: return "array";
        case JV_OBJECT: return "object";
        }
        return "unknown";
}

int located_error_setv(LocatedError *error, unsigned line, unsigned column, const char *path,
                       const char *format, va_list ap) {
        if (!error)
                return -EINVAL;
        *error = (LocatedError){ .line = line, .column = column };
        snprintf(error->path, sizeof(error->path), "%s", path ? path : "");
        vsnprintf(error->message, sizeof(error->message), format, ap);
        return -EINVAL;
}

int located_error_at(LocatedError *error, const JsonValue *at, const char *path, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = located_error_setv(error, at ? at->line : 0, at ? at->column : 0, path, format, ap);
        va_end(ap);
        return r;
}

void located_error_format(const LocatedError *error, const char *filename, char *buf, size_t size) {
        char where[32] = "";

        if (error->line > 0)
                snprintf(where, sizeof(where), ":%u:%u", error->line, error->column);
        snprintf(buf, size, "%s%s: %s%s%s", filename ? filename : "<document>", where, error->path,
                 error->path[0] ? ": " : "", error->message);
}

int jv_parse_document(const char *text, size_t length, JsonValue **ret, LocatedError *error) {
        JsonError jerr = {};
        int r;

        r = jv_parse(text, length, ret, &jerr);
        if (r < 0 && r != -ENOMEM && error) {
                *error = (LocatedError){ .line = jerr.line, .column = jerr.column };
                snprintf(error->message, sizeof(error->message), "%s", jerr.message);
        }
        return r;
}
