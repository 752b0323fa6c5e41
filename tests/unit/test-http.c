/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/http.h: the answers hostctl reads from hostd's control socket, as
 * libmicrohttpd writes them (Content-Length, or chunked), and what is not
 * an answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/http.h"
#include "common/macro.h"

/* split(TEXT): the result of http_response_split on a copy; *body gets the
 * body (malloc'd) on success. */
static int split(const char *text, long *status, char **body, size_t *body_size) {
        size_t size = strlen(text);
        char *copy = malloc(size + 1);
        int r;

        assert_non_null(copy);
        memcpy(copy, text, size + 1);
        r = http_response_split(copy, &size, status);
        if (r == 0) {
                assert_int_equal(copy[size], 0);
                *body = copy;
                *body_size = size;
        } else
                free(copy);
        return r;
}

static void test_content_length(void **state _unused_) {
        long status = 0;
        size_t size;
        char *body;

        assert_int_equal(split("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\n"
                               "\r\n{\"a\": true}",
                               &status, &body, &size),
                         0);
        assert_int_equal(status, 200);
        assert_int_equal(size, 11);
        assert_string_equal(body, "{\"a\": true}");
        free(body);

        /* what follows the body is not part of it */
        assert_int_equal(split("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}junk", &status, &body, &size), 0);
        assert_int_equal(status, 404);
        assert_string_equal(body, "{}");
        free(body);

        /* no length: to the end of the stream */
        assert_int_equal(split("HTTP/1.0 202 Accepted\r\n\r\n{\"job\": 1}", &status, &body, &size), 0);
        assert_int_equal(status, 202);
        assert_string_equal(body, "{\"job\": 1}");
        free(body);

        /* an empty body */
        assert_int_equal(split("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", &status, &body, &size), 0);
        assert_int_equal(size, 0);
        assert_string_equal(body, "");
        free(body);
}

static void test_chunked(void **state _unused_) {
        long status = 0;
        size_t size;
        char *body;

        assert_int_equal(split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "4\r\n{\"a\"\r\nA;ext=1\r\n: [1, 2]}\n\r\n0\r\n\r\n",
                               &status, &body, &size),
                         0);
        assert_int_equal(status, 200);
        assert_string_equal(body, "{\"a\": [1, 2]}\n");
        assert_int_equal(size, 14);
        free(body);
}

static void test_not_an_answer(void **state _unused_) {
        static const char *const bad[] = {
                "",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",          /* the headers never end */
                "SSH-2.0-OpenSSH_9.2\r\n\r\n",                          /* not HTTP */
                "HTTP/1.1 999 Odd\r\n\r\n",                             /* no such status */
                "HTTP/1.1 20\r\n\r\n",                                  /* two digits */
                "HTTP/1.1 \r\n\r\n200 x",                             /* the status not on its line */
                "HTTP/1.1 100 Continue\r\n\r\n",                      /* an interim answer */
                "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",   /* not digits */
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedXYZ\r\n\r\n0\r\n\r\n", /* no such coding */
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n", /* 0x */
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n -2\r\n{}\r\n0\r\n\r\n", /* a sign */
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",     /* ended early */
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /* no chunk size */
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort\r\n0\r\n\r\n", /* short chunk */
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}",                 /* no last chunk */
        };
        long status = 0;
        size_t size;
        char *body;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(split(bad[i], &status, &body, &size), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_content_length),
                cmocka_unit_test(test_chunked),
                cmocka_unit_test(test_not_an_answer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
