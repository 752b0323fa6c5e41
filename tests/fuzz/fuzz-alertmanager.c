/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the wave's alert gate (policy/alert-gate.h): any
 * text is read as an Alertmanager matcher and as Alertmanager's answer;
 * a matcher is taken or refused with a message, and an answer counts no
 * more alerts than it has, with the names cut within their buffer, or is
 * refused with a message. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/alert-gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const gate[] = { "severity=\"critical\"", "alertname=~\"Node.*|Disk.*\"", "env!~\"dev|test\"",
                                            NULL };
        char *text = malloc(size + 1), err[256], names[64];
        AlertFilter f;
        unsigned n = 12345;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        const char *one[] = { text, NULL };
        err[0] = '\0';
        if (alert_filter_parse(one, &f, err, sizeof(err)) == 0)
                alert_filter_done(&f);
        else if (!err[0])
                abort();

        json_t *answer = json_loadb((const char *) data, size, JSON_DECODE_ANY, NULL);
        if (answer && alert_filter_parse(gate, &f, err, sizeof(err)) == 0) {
                int r = alert_filter_firing(&f, answer, &n, names, sizeof(names), err, sizeof(err));
                if (r == 0 && (n > json_array_size(answer) || strlen(names) >= sizeof(names)))
                        abort();
                if (r < 0 && (r != -EBADMSG || n != 12345 || !err[0]))
                        abort();
                alert_filter_done(&f);
        }
        json_decref(answer);
        free(text);
        return 0;
}
