/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A patch worker's request and report (patch-protocol.h). */

#include <stdio.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "hostd/patch-protocol.h"

static const char *const op_names[] = {
        [PATCH_OP_PLAN] = "plan",         [PATCH_OP_STAGE] = "stage",     [PATCH_OP_APPLY] = "apply",
        [PATCH_OP_ROLLBACK] = "rollback", [PATCH_OP_HISTORY] = "history",
};

const char *patch_op_to_string(PatchOp op) {
        return op < _PATCH_OP_MAX ? op_names[op] : "?";
}

void patch_report_write(int fd, json_t *j) {
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        size_t n, done = 0;

        json_decref(j);
        if (fd < 0 || !text)
                return;
        n = strlen(text);
        text[n++] = '\n'; /* replaces the terminator: written by length */
        while (done < n) {
                /* a reader gone (hostd killed) must not end the transaction:
                 * no SIGPIPE, which the package scripts keep as default */
                ssize_t w = send(fd, text + done, n - done, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                done += w;
        }
}

/* A progress value as the worker writes it. */
static bool progress_ok(const json_t *v) {
        return json_is_string(json_object_get(v, "package")) && json_is_integer(json_object_get(v, "done")) &&
               json_is_integer(json_object_get(v, "total")) && json_is_string(json_object_get(v, "action"));
}

int patch_worker_parse_line(const char *text, PatchWorkerLine *ret, char *err, size_t err_size) {
        static const char *const keys[] = {
                [PATCH_LINE_PROGRESS] = "progress", [PATCH_LINE_RESULT] = "result", [PATCH_LINE_ERROR] = "error"
        };
        json_error_t jerr;
        json_t *line = json_loads(text, 0, &jerr);
        const json_t *v;

        if (!line) {
                snprintf(err, err_size, "%s", jerr.text);
                return -EBADMSG;
        }
        if (!json_is_object(line) || json_object_size(line) != 1) {
                json_decref(line);
                snprintf(err, err_size, "expected an object of one member: progress, result or error");
                return -EBADMSG;
        }
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                if (!(v = json_object_get(line, keys[k])))
                        continue;
                if (k == PATCH_LINE_ERROR ? !json_is_string(v) :
                    k == PATCH_LINE_PROGRESS ? !progress_ok(v) : !json_is_object(v)) {
                        json_decref(line);
                        snprintf(err, err_size, "%s: %s", keys[k],
                                 k == PATCH_LINE_ERROR ? "expected a string" :
                                 k == PATCH_LINE_PROGRESS ? "expected {package, done, total, action}" :
                                                            "expected an object");
                        return -EBADMSG;
                }
                *ret = (PatchWorkerLine){ .kind = (PatchWorkerLineKind) k, .line = line, .value = v };
                return 0;
        }
        json_decref(line);
        snprintf(err, err_size, "neither progress, result nor error");
        return -EBADMSG;
}

