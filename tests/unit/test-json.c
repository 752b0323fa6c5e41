/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The located JSON reader: values, positions, and every rejection with
 * the position it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/json.h"

static JsonValue *ok(const char *text) {
        JsonValue *v = NULL;
        JsonError e = {};

        if (jv_parse(text, strlen(text), &v, &e) < 0)
                fail_msg("rejected %s: %u:%u %s", text, e.line, e.column, e.message);
        return v;
}

static void rejected(const char *text, size_t length, int expected, unsigned line, unsigned column,
                     const char *needle) {
        JsonValue *v = NULL;
        JsonError e = {};
        int r = jv_parse(text, length, &v, &e);

        if (r != expected || v || e.line != line || e.column != column || !strstr(e.message, needle))
                fail_msg("'%.*s': got %d at %u:%u '%s', expected %d at %u:%u '%s'", (int) length, text,
                         r, e.line, e.column, e.message, expected, line, column, needle);
}
#define REJECT(text, line, column, needle) rejected(text, strlen(text), -EINVAL, line, column, needle)

static void test_values_and_positions(void **state _unused_) {
        JsonValue *v = ok("{\n  \"a\": [1, -2.5, true, null],\n  \"b\": {\"c\": \"x\\u00e9\\ud83d\\ude00\"}\n}");
        const JsonMember *a = jv_object_member(v, "a");
        const JsonValue *arr = jv_object_get(v, "a"), *b, *c;

        assert_int_equal(v->type, JV_OBJECT);
        assert_int_equal(v->line, 1);
        assert_int_equal(v->column, 1);
        assert_int_equal(a->line, 2);
        assert_int_equal(a->column, 3);
        assert_int_equal(arr->type, JV_ARRAY);
        assert_int_equal(arr->line, 2);
        assert_int_equal(arr->column, 8);
        assert_int_equal(arr->array.count, 4);
        assert_true(arr->array.items[0]->number.is_integer);
        assert_int_equal(arr->array.items[0]->number.integer, 1);
        assert_int_equal(arr->array.items[1]->column, 12);
        assert_false(arr->array.items[1]->number.is_integer);
        assert_true(arr->array.items[1]->number.real == -2.5);
        assert_int_equal(arr->array.items[2]->type, JV_BOOLEAN);
        assert_true(arr->array.items[2]->boolean);
        assert_int_equal(arr->array.items[3]->type, JV_NULL);
        b = jv_object_get(v, "b");
        c = jv_object_get(b, "c");
        assert_int_equal(c->line, 3);
        assert_int_equal(c->column, 14);
        assert_string_equal(c->string.chars, "x\xc3\xa9\xf0\x9f\x98\x80");
        assert_int_equal(c->string.length, 7);
        assert_null(jv_object_get(v, "missing"));
        assert_null(jv_object_get(arr, "a")); /* not an object */
        jv_free(v);
}

static void test_numbers(void **state _unused_) {
        JsonValue *v = ok("[0, -0, 9223372036854775807, 9223372036854775808, 1e2, 1.0, -9223372036854775808]");

        assert_true(v->array.items[0]->number.is_integer);
        assert_true(v->array.items[1]->number.is_integer);
        assert_true(v->array.items[2]->number.is_integer);
        assert_int_equal(v->array.items[2]->number.integer, INT64_MAX);
        assert_false(v->array.items[3]->number.is_integer); /* overflows int64 */
        assert_true(v->array.items[3]->number.real > 9.2e18);
        assert_false(v->array.items[4]->number.is_integer); /* has an exponent */
        assert_true(v->array.items[4]->number.real == 100.0);
        assert_false(v->array.items[5]->number.is_integer);
        assert_true(v->array.items[6]->number.is_integer);
        assert_int_equal(v->array.items[6]->number.integer, INT64_MIN);
        jv_free(v);
}

static void test_rejections(void **state _unused_) {
        REJECT("", 1, 1, "empty document");
        REJECT("  \n ", 2, 2, "empty document");
        REJECT("{} x", 1, 4, "trailing characters");
        REJECT("{\"a\":1,}", 1, 8, "expected a string as object key");
        REJECT("[1,]", 1, 4, "unexpected character ']'");
        REJECT("{\"a\" 1}", 1, 6, "expected ':' after object key");
        REJECT("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}'");
        REJECT("[1 2]", 1, 4, "expected ',' or ']'");
        REJECT("\"abc", 1, 5, "unterminated string");
        REJECT("\"a\nb\"", 1, 3, "newline in string");
        REJECT("\"a\tb\"", 1, 3, "control character 0x09");
        REJECT("\"\\q\"", 1, 2, "invalid escape '\\q'");
        REJECT("\"\\u12G4\"", 1, 6, "invalid hex digit");
        REJECT("\"\\u0000\"", 1, 2, "\\u0000 is not allowed");
        REJECT("\"\\udc00\"", 1, 2, "lone low surrogate");
        REJECT("\"\\ud800x\"", 1, 2, "not followed by a low surrogate");
        REJECT("\"\\ud800\\u0041\"", 1, 2, "not followed by a low surrogate");
        REJECT("\"\xc0\xaf\"", 1, 2, "invalid UTF-8");         /* overlong '/' */
        REJECT("\"\xed\xa0\x80\"", 1, 2, "invalid UTF-8");     /* UTF-16 surrogate */
        REJECT("\"\xf4\x90\x80\x80\"", 1, 2, "invalid UTF-8"); /* past U+10FFFF */
        REJECT("\"\xe2\x82\"", 1, 2, "invalid UTF-8");         /* truncated */
        REJECT("01", 1, 2, "leading zeros");
        REJECT("+1", 1, 1, "unexpected character '+'");
        REJECT(".5", 1, 1, "unexpected character '.'");
        REJECT("1.", 1, 3, "expected a digit after '.'");
        REJECT("1e", 1, 3, "expected a digit in the exponent");
        REJECT("-", 1, 2, "unexpected end of input");
        REJECT("NaN", 1, 1, "unexpected character 'N'");
        REJECT("1e999", 1, 1, "number out of range");
        REJECT("tru", 1, 4, "unexpected end of input");
        REJECT("nul1", 1, 4, "unexpected character '1'");
        REJECT("// c\n{}", 1, 1, "unexpected character '/'");
        REJECT("{\"a\":1,\n \"a\":2}", 2, 2, "duplicate key \"a\"");
        REJECT("{\"b\":1, \"a\":2, \"b\":3, \"a\":4}", 1, 16, "duplicate key \"b\"");
        rejected("[1,\0 2]", 7, -EINVAL, 1, 4, "unexpected byte 0x00");
}

static void test_depth_limit(void **state _unused_) {
        char deep[2 * JV_MAX_DEPTH + 10];
        JsonValue *v = NULL;
        size_t n = 0;

        for (int i = 0; i < JV_MAX_DEPTH; i++)
                deep[n++] = '[';
        for (int i = 0; i < JV_MAX_DEPTH; i++)
                deep[n++] = ']';
        assert_int_equal(jv_parse(deep, n, &v, NULL), 0);
        jv_free(v);

        n = 0;
        for (int i = 0; i <= JV_MAX_DEPTH; i++)
                deep[n++] = '[';
        rejected(deep, n, -E2BIG, 1, JV_MAX_DEPTH + 1, "nesting deeper than 64 levels");
}

static void test_not_nul_terminated(void **state _unused_) {
        const char text[] = "{\"a\": 1}GARBAGE";
        JsonValue *v = NULL;

        assert_int_equal(jv_parse(text, 8, &v, NULL), 0);
        assert_int_equal(jv_object_get(v, "a")->number.integer, 1);
        jv_free(v);
        /* a number at the very end of the buffer must not read past it */
        assert_int_equal(jv_parse("12345", 3, &v, NULL), 0);
        assert_int_equal(v->number.integer, 123);
        jv_free(v);
}

static void test_misc(void **state _unused_) {
        JsonValue *v = ok("\xef\xbb\xbf {\"x\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}");

        assert_string_equal(jv_object_get(v, "x")->string.chars, "\"\\/\b\f\n\r\t");
        jv_free(v);
        assert_string_equal(jv_type_name(JV_NULL), "null");
        assert_string_equal(jv_type_name(JV_BOOLEAN), "boolean");
        assert_string_equal(jv_type_name(JV_NUMBER), "number");
        assert_string_equal(jv_type_name(JV_STRING), "string");
        assert_string_equal(jv_type_name(JV_ARRAY), "array");
        assert_string_equal(jv_type_name(JV_OBJECT), "object");
        jv_free(NULL);
}

static void test_large_object(void **state _unused_) {
        /* many keys: duplicate detection must stay fast and correct */
        size_t n = 20000, size = n * 16 + 16, off = 0;
        char *text = malloc(size);
        JsonValue *v = NULL;
        JsonError e = {};

        assert_non_null(text);
        text[off++] = '{';
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(text + off, size - off, "%s\"k%zu\":%zu", i ? "," : "", i, i);
        text[off++] = '}';
        assert_int_equal(jv_parse(text, off, &v, &e), 0);
        assert_int_equal(v->object.count, n);
        assert_int_equal(jv_object_get(v, "k19999")->number.integer, 19999);
        jv_free(v);
        /* the same with one duplicate at the end */
        off--;
        off += (size_t) snprintf(text + off, size - off, ",\"k7\":0}");
        assert_int_equal(jv_parse(text, off, &v, &e), -EINVAL);
        assert_non_null(strstr(e.message, "duplicate key \"k7\""));
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values_and_positions),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_rejections),
                cmocka_unit_test(test_depth_limit),
                cmocka_unit_test(test_not_nul_terminated),
                cmocka_unit_test(test_misc),
                cmocka_unit_test(test_large_object),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
