/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the HTTP/1.1 answers hostctl reads from hostd's
 * control socket (http_response_split): any input is split into a status
 * of 200-599 and a body no longer than the input, terminated, or refused
 * with -EBADMSG; never a crash, an overread or a leak. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        size_t n = size;
        long status = 0;
        int r;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = http_response_split(text, &n, &status);
        if (r < 0 ? r != -EBADMSG : (status < 200 || status > 599 || n > size || text[n] != '\0'))
                __builtin_trap();
        free(text);
        return 0;
}
