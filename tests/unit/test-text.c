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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_growing_text),
                cmocka_unit_test(test_append),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
