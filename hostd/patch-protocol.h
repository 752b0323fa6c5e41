/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a patch worker (patch-worker.h) is asked, and the report it writes:
 * one JSON object per line on a socket,
 *   {"progress": {"package": "openssl", "done": 3, "total": 9,
 *                 "action": "Configuring openssl"}}      any number
 *   {"result": {...}}  or  {"error": "what went wrong"}  last
 * Apart from the worker, so that a reader of reports (hostctl) links no
 * package manager. */

#include <jansson.h>
#include <stdbool.h>

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
        const char *entry_id;      /* rollback: NULL for the newest that changed the host */
        bool in_process;           /* history read in the caller's process (hostd's
                                    * loop): never waits for the patch lock, never
                                    * recovers; unfinished entries are said to be
                                    * running or interrupted */
} PatchRequest;

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

/* Writes one line of a report to fd (nothing for fd < 0), taking j; never
 * SIGPIPE: a reader gone (hostd killed) must not end the transaction. */
void patch_report_write(int fd, json_t *j);
