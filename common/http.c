/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An HTTP/1.1 answer read to its end, split (http.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "common/http.h"

/* The value of header name in the header block head (lines ending in
 * CRLF), or NULL; *ret_len is its length. */
static const char *header_value(const char *head, const char *name, size_t *ret_len) {
        size_t len = strlen(name);

        for (const char *line = head; line && *line;) {
                const char *eol = strstr(line, "\r\n");

                if (!eol)
                        break;
                if ((size_t) (eol - line) > len && strncasecmp(line, name, len) == 0 && line[len] == ':') {
                        const char *v = line + len + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        *ret_len = (size_t) (eol - v);
                        return v;
                }
                line = eol + 2;
        }
        return NULL;
}

/* Decodes a chunked body in place; its new size, or -EBADMSG. */
static ssize_t unchunk(char *body, size_t size) {
        size_t in = 0, out = 0;

        for (;;) {
                char *end;
                unsigned long chunk;
                const char *eol;

                if (in >= size)
                        return -EBADMSG;
                /* hex digits only: no sign, blanks or 0x, which strtoul takes */
                size_t digits = strspn(body + in, "0123456789abcdefABCDEF");
                if (digits == 0 || digits > 8)
                        return -EBADMSG;
                errno = 0;
                chunk = strtoul(body + in, &end, 16);
                if (errno || end != body + in + digits)
                        return -EBADMSG;
                eol = memmem(end, size - (size_t) (end - body), "\r\n", 2);
                if (!eol)
                        return -EBADMSG;
                in = (size_t) (eol - body) + 2;
                if (chunk == 0)
                        return (ssize_t) out;
                if (chunk > size - in || size - in - chunk < 2 || memcmp(body + in + chunk, "\r\n", 2) != 0)
                        return -EBADMSG;
                memmove(body + out, body + in, chunk);
                out += chunk;
                in += chunk + 2;
        }
}

int http_response_split(char *data, size_t *size, long *ret_status) {
        char *head_end = data ? strstr(data, "\r\n\r\n") : NULL, *body;
        size_t body_size, len;
        const char *v;
        long status;

        /* "HTTP/1.x NNN" then a space or the end of the line; a final
         * answer, not an interim 1xx one */
        if (!head_end || strncmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ' || strspn(data + 9, "0123456789") != 3 ||
            (data[12] != ' ' && data[12] != '\r'))
                return -EBADMSG;
        status = strtol(data + 9, NULL, 10);
        if (status < 200 || status > 599)
                return -EBADMSG;
        head_end[2] = 0; /* the header block keeps its last CRLF */
        body = head_end + 4;
        body_size = *size - (size_t) (body - data);
        if ((v = header_value(strchr(data, '\n') + 1, "Transfer-Encoding", &len))) {
                /* chunked alone: no other coding is asked for, or read */
                if (len != 7 || strncasecmp(v, "chunked", 7) != 0)
                        return -EBADMSG;
                ssize_t n = unchunk(body, body_size);
                if (n < 0)
                        return (int) n;
                body_size = (size_t) n;
        } else if ((v = header_value(strchr(data, '\n') + 1, "Content-Length", &len))) {
                unsigned long long n;
                if (len == 0 || len > 19 || strspn(v, "0123456789") != len)
                        return -EBADMSG;
                n = strtoull(v, NULL, 10);
                if (n > body_size)
                        return -EBADMSG; /* the connection ended early */
                body_size = (size_t) n;
        }
        memmove(data, body, body_size);
        *size = body_size;
        data[*size] = 0;
        *ret_status = status;
        return 0;
}

