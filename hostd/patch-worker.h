/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Patch operations in a worker process. Package transactions block for
 * minutes and the package managers keep process-wide state, so each
 * operation runs in a child of its own that reports on a socket (a pipe
 * that cannot SIGPIPE it: the transaction goes on if its reader dies), one
 * JSON object per line:
 *   {"progress": {"package": "openssl", "done": 3, "total": 9,
 *                 "action": "Configuring openssl"}}      any number
 *   {"result": {...}}  or  {"error": "what went wrong"}  last
 * and exits 0 when the operation succeeded, 1 otherwise. hostd reads the
 * pipe from its event loop; hostctl --root reads it directly.
 *
 * The result of each operation:
 *   plan:     {"plan": PLAN}
 *   stage:    {"plan": PLAN, "stage": STAGE}
 *   apply:    {"plan": PLAN, "entry": ENTRY or null, "reboot": REBOOT}
 *   rollback: {"entry": ENTRY, "reboot": REBOOT}
 *   history:  {"entries": [ENTRY...], "reboot": REBOOT (when the root has
 *             a package database)}
 * PLAN is patch_plan_to_json()'s, ENTRY the journal's format (journal.h),
 * REBOOT {"required": bool, "reasons": "..."}. */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "patching/plan.h"

typedef enum PatchOp {
        PATCH_OP_PLAN,
        PATCH_OP_STAGE,
        PATCH_OP_APPLY,
        PATCH_OP_ROLLBACK,
        PATCH_OP_HISTORY,
        _PATCH_OP_MAX,
} PatchOp;

const char *patch_op_to_string(PatchOp op);

typedef struct PatchRequest {
        PatchOp op;
        const char *root;          /* "/" for the host */
        const char *state_dir;     /* NULL: the root's (patch_state_dir_for_root) */
        PatchPolicy policy;
        bool refresh;              /* update the package metadata first */
        const char *expected_plan; /* stage/apply: refuse unless the plan has this ID
                                    * (or an ID prefix of 12+ characters) */
        const char *entry_id;      /* rollback: NULL for the newest applied */
} PatchRequest;

/* Starts the worker. *ret_fd is the read end of its report socket
 * (O_CLOEXEC); reap *ret_pid with waitpid. Operations on one root wait for
 * each other (a lock in its patch state directory). */
int patch_worker_start(const PatchRequest *req, pid_t *ret_pid, int *ret_fd);

/* One line of a worker's report, decoded. */
typedef enum PatchWorkerLineKind {
        PATCH_LINE_PROGRESS, /* value: {"package", "done", "total", "action"} */
        PATCH_LINE_RESULT,   /* value: the operation's result object */
        PATCH_LINE_ERROR,    /* value: the error message (a string) */
} PatchWorkerLineKind;

typedef struct PatchWorkerLine {
        PatchWorkerLineKind kind;
        json_t *line;        /* the parsed line, owned: json_decref it */
        const json_t *value; /* inside line */
} PatchWorkerLine;

/* -EBADMSG with err for a line that is not one of the three: an object of
 * one member, progress with its four fields, result an object, error a
 * string. */
int patch_worker_parse_line(const char *text, PatchWorkerLine *ret, char *err, size_t err_size);

/* What a worker does, in the calling process: the result object, or NULL
 * with the error in err. progress_fd receives the progress lines (-1: none). */
json_t *patch_run(const PatchRequest *req, int progress_fd, char *err, size_t err_size);

/* {"id", "included", "security", "packages": [{"name", "arch", "from",
 * "to", "security", "origin", "suite", "included", "reason", "matched",
 * "first_seen"}]} */
json_t *patch_plan_to_json(const Plan *plan);
