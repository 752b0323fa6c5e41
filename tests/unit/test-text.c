/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"

static void test_growing_text(void **state _unused_) {
        Text t = {};
        char *s;

        for (int i = 0; i < 1000; i++)
                text_printf(&t, "%04d,", i);
        s = text_take(&t);
        assert_non_null(s);
        assert_int_equal(strlen(s), 5000);
        assert_memory_equal(s, "0000,0001,", 10);
        assert_string_equal(s + 4995, "0999,");
        assert_null(t.data); /* taken */
        free(s);
}

static void test_append(void **state _unused_) {
        char buf[16] = "";

        text_append(buf, sizeof(buf), "; ", "a=%d", 1); /* empty: no separator */
        assert_string_equal(buf, "a=1");
        text_append(buf, sizeof(buf), "; ", "b=%d", 2);
        assert_string_equal(buf, "a=1; b=2");
        text_append(buf, sizeof(buf), "; ", "a long %s", "tail");
        assert_string_equal(buf, "a=1; b=2; a lon"); /* truncated, terminated */
        text_append(buf, sizeof(buf), "; ", "more");
        assert_string_equal(buf, "a=1; b=2; a lon"); /* no room: unchanged */
        text_append(buf, sizeof(buf), NULL, "x");
        assert_string_equal(buf, "a=1; b=2; a lon");
}

static void test_utf8_cut(void **state _unused_) {
        char buf[8] = "";
        char s[16];

        /* "aé" is 3 bytes, "€" 3, "😀" 4: cut by bytes, never inside one */
        text_append(buf, sizeof(buf), NULL, "ab\xe2\x82\xac\xe2\x82\xac");
        assert_string_equal(buf, "ab\xe2\x82\xac"); /* 7 bytes room: the second euro sign would be cut */
        snprintf(s, sizeof(s), "%s", "x\xf0\x9f\x98");
        assert_string_equal(utf8_trim_partial(s), "x");
        snprintf(s, sizeof(s), "%s", "x\xf0\x9f\x98\x80");
        assert_string_equal(utf8_trim_partial(s), "x\xf0\x9f\x98\x80"); /* complete: kept */
        snprintf(s, sizeof(s), "%s", "\xc3");
        assert_string_equal(utf8_trim_partial(s), "");
        snprintf(s, sizeof(s), "%s", "plain");
        assert_string_equal(utf8_trim_partial(s), "plain");
        snprintf(s, sizeof(s), "%s", "");
        assert_string_equal(utf8_trim_partial(s), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_growing_text),
                cmocka_unit_test(test_append),
                cmocka_unit_test(test_utf8_cut),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
