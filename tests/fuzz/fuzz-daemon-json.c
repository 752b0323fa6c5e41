/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for daemon.json editing (policy/daemonjson.h), on the
 * document's bytes as daemon_json_set_seccomp edits them: whatever the
 * administrator's file holds, the edit either fails with a message naming
 * the file (and so leaves it as it was), or gives a document with every
 * other key as it was and "seccomp-profile" set, which read gives back and a
 * second edit leaves alone. A document read refuses is never edited. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/daemonjson.h"

#define NAME "/etc/docker/daemon.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the document without "seccomp-profile" */
static json_t *others(const char *text, size_t size) {
        json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);

        if (j)
                json_object_del(j, "seccomp-profile");
        return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const values[] = { "/usr/share/hostd/seccomp/hostd-hardened.json", "builtin", "unconfined" };
        const char *text = (const char *) data, *value;
        char err[1024] = "", *profile = NULL, *edited = NULL, *again = NULL;
        int read, r;

        if (size < 1)
                return 0;
        value = values[data[0] % 3];
        text++;
        size--;
        read = daemon_json_read(NAME, text, size, &profile, err, sizeof(err));
        if (read < 0 && (read != -EINVAL || strncmp(err, NAME ":", strlen(NAME ":")) != 0))
                __builtin_trap();

        err[0] = '\0';
        r = daemon_json_edit(NAME, text, size, value, &edited, err, sizeof(err));
        if (r < 0) {
                if (r != -EINVAL || strncmp(err, NAME ":", strlen(NAME ":")) != 0 || edited || read >= 0)
                        __builtin_trap();
                goto out;
        }
        /* what read refuses is not edited; what says value already stays */
        if (read < 0 || (r == 0) != (profile && strcmp(profile, value) == 0) || (r == 0) != !edited)
                __builtin_trap();
        if (r == 1) {
                char *back = NULL;
                json_t *before = others(text, size), *after = others(edited, strlen(edited));

                if (!before || !after || !json_equal(before, after))
                        __builtin_trap();
                json_decref(before);
                json_decref(after);
                if (daemon_json_read(NAME, edited, strlen(edited), &back, err, sizeof(err)) < 0 || !back ||
                    strcmp(back, value) != 0)
                        __builtin_trap();
                free(back);
                if (daemon_json_edit(NAME, edited, strlen(edited), value, &again, err, sizeof(err)) != 0)
                        __builtin_trap();
        }
out:
        free(profile);
        free(edited);
        free(again);
        return 0;
}
