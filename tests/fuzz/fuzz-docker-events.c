/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the splitting of Docker's /events stream into
 * events (docker_events_split): the body after the first byte is split
 * whole, and again as the client gets it, in chunks (their sizes drawn from
 * the first byte) with the unfinished line kept for the next one. Only JSON
 * objects come out, no more than there are lines, the same events in the
 * same order however the body was cut, and what is left over is the last
 * line, unfinished; never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/docker-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
        do {                              \
                if (!(x))                 \
                        __builtin_trap(); \
        } while (0)

static void collect(const json_t *event, void *userdata) {
        CHECK(json_is_object(event));
        if (json_array_append((json_t *) userdata, (json_t *) event) < 0)
                abort();
}

/* What is used ends a line, and what is not has no end of line in it. */
static void check_used(const char *buf, size_t size, size_t used) {
        CHECK(used <= size);
        CHECK(used == 0 || buf[used - 1] == '\n');
        CHECK(!memchr(buf + used, '\n', size - used));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *whole = json_array(), *chunked = json_array();
        const char *body = (const char *) data + 1;
        size_t n, used, used_whole, lines = 0, at = 0, kept = 0;
        char *buf;

        if (size < 1 || !whole || !chunked)
                goto out;
        n = size - 1;
        buf = malloc(n + 1);
        if (!buf)
                abort();

        used_whole = docker_events_split(body, n, collect, whole);
        check_used(body, n, used_whole);
        for (size_t i = 0; i < n; i++)
                lines += body[i] == '\n';
        CHECK(json_array_size(whole) <= lines);

        /* as on_write: each chunk appended to what was kept, then split */
        for (unsigned k = 0; at < n; k++) {
                size_t chunk = MIN(n - at, (size_t) 1 + (data[0] * (k + 7) + k * k) % 97);

                memcpy(buf + kept, body + at, chunk);
                kept += chunk;
                at += chunk;
                used = docker_events_split(buf, kept, collect, chunked);
                check_used(buf, kept, used);
                memmove(buf, buf + used, kept - used);
                kept -= used;
        }
        CHECK(json_equal(whole, chunked));
        /* what is left is the unfinished last line */
        CHECK(kept == n - used_whole && memcmp(buf, body + used_whole, kept) == 0);
        free(buf);
out:
        json_decref(whole);
        json_decref(chunked);
        return 0;
}
