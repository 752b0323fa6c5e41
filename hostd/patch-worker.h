/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Patch operations in a worker process. Package transactions block for
 * minutes and the package managers keep process-wide state, so each
 * operation runs in a child of its own that reports on a socket (a pipe
 * that cannot SIGPIPE it: the transaction goes on if its reader dies) as
 * patch-protocol.h says, and exits 0 when the operation succeeded, 1 otherwise. hostd reads the
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

#include "hostd/patch-protocol.h"
#include "patching/plan.h"

/* Starts the worker. *ret_fd is the read end of its report socket
 * (O_CLOEXEC); reap *ret_pid with waitpid. Operations on one root wait for
 * each other (a lock in its patch state directory). */
int patch_worker_start(const PatchRequest *req, pid_t *ret_pid, int *ret_fd);

/* The worker's side, in the calling process: the operation run and its
 * result or error written to report_fd as the last line; the exit status
 * the worker ends with (0 or 1). Run by patch_worker_start's child, and by
 * hostd-patch-worker, the program `hostctl patch --root` starts. */
int patch_worker_run(const PatchRequest *req, int report_fd);

/* What a worker does, in the calling process: the result object, or NULL
 * with the error in err. progress_fd receives the progress lines (-1: none). */
json_t *patch_run(const PatchRequest *req, int progress_fd, char *err, size_t err_size);

/* {"id", "included", "security", "packages": [{"name", "arch", "from",
 * "to", "security", "origin", "suite", "included", "reason", "matched",
 * "first_seen"}]} */
json_t *patch_plan_to_json(const Plan *plan);
