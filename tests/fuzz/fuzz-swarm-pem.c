/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the stripping of the RFC 1421 headers Swarm writes
 * into its node key (fleetlock_pem_strip_headers), on any text as
 * read_file gives it (NUL-terminated; a NUL ends it). An encrypted key is
 * refused with a reason naming the file and the text left unchanged; else
 * the output is the input's lines less exactly the header lines and blank
 * lines inside BEGIN/END, so it is never longer, and stripping it again
 * changes nothing. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/wave-fleetlock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The line at *p (through its '\n', if any), advancing *p; 0 at the end. */
static size_t next_line(const char **p, const char **line) {
        const char *nl = strchr(*p, '\n');
        size_t len = nl ? (size_t) (nl - *p) + 1 : strlen(*p);

        *line = *p;
        *p += len;
        return len;
}

static bool is_blank(const char *line, size_t len) {
        return (len == 1 && line[0] == '\n') || (len == 2 && line[0] == '\r' && line[1] == '\n');
}

/* Whether out is in with the header and blank lines of its blocks left out. */
static bool stripped_from(const char *in, const char *out) {
        const char *p = in, *q = out, *line, *kept;
        bool inside = false;
        size_t len, klen;

        while ((len = next_line(&p, &line)) > 0) {
                bool drop = false;
                if (strncmp(line, "-----BEGIN", 10) == 0)
                        inside = true;
                else if (strncmp(line, "-----END", 8) == 0)
                        inside = false;
                else if (inside)
                        drop = memchr(line, ':', len) || is_blank(line, len);
                if (drop)
                        continue;
                klen = next_line(&q, &kept);
                if (klen != len || memcmp(kept, line, len) != 0)
                        return false;
        }
        return *q == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char why[256] = "", *text, *orig, *again;
        int r;

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        orig = strdup(text);
        if (!orig) {
                free(text);
                return 0;
        }

        r = fleetlock_pem_strip_headers(text, "swarm-node.key", why, sizeof(why));
        if (r < 0) {
                if (r != -EKEYREJECTED || !strstr(why, "swarm-node.key") || !STREQ(text, orig))
                        __builtin_trap();
        } else {
                if (r != 0 || strlen(text) > strlen(orig) || !stripped_from(orig, text))
                        __builtin_trap();
                again = strdup(text);
                if (again) {
                        if (fleetlock_pem_strip_headers(again, "swarm-node.key", why, sizeof(why)) != 0 ||
                            !STREQ(again, text))
                                __builtin_trap();
                        free(again);
                }
        }
        free(orig);
        free(text);
        return 0;
}
