/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The answer to one HTTP/1.1 request on a connection read to its end
 * ("Connection: close"): hostctl's calls to hostd's control socket need no
 * more of HTTP than this. */

#include <stddef.h>

/* Splits the answer in data (size bytes, and a NUL after them) into its
 * status and its body: the body, decoded when it came chunked and cut to
 * its Content-Length otherwise, is moved to the start of data, *size set
 * to its length and a NUL put after it. -EBADMSG, data left in any state,
 * for what is not such an answer: no status line of three digits, no end
 * of the headers, a status outside 200-599 (an interim 1xx is never the
 * answer: hostctl sends no Expect), a transfer coding other than chunked, a
 * bad chunk, a Content-Length that is not digits, a body shorter than its
 * Content-Length. */
int http_response_split(char *data, size_t *size, long *ret_status);
