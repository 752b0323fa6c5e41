/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* hostd's patch operations: one at a time, each in a worker process
 * (patch-worker.h) whose report socket the event loop reads. Progress is kept
 * for the running job and the last one, so that hostctl can follow a job
 * by long-polling (an answer as soon as there is something new: no
 * polling with sleeps). Every finished job is a change record in the
 * journal. */

#include <jansson.h>
#include <systemd/sd-event.h>

#include "common/macro.h"
#include "hostd/change-log.h"
#include "hostd/api-server.h"
#include "hostd/patch-worker.h"

typedef struct PatchJobs PatchJobs;

/* changes (may be NULL) gets each job's outcome and must outlive the jobs. */
int patch_jobs_new(sd_event *event, ChangeLog *changes, PatchJobs **ret);
/* Answers waiting calls with 503. A worker still running is left to
 * finish its transaction (its journal entry records the outcome). */
PatchJobs *patch_jobs_free(PatchJobs *j);
DEFINE_CLEANUP_FUNC(PatchJobs, patch_jobs_free);

/* Starts a job; the request is used only during the call. -EBUSY while
 * another job runs. */
int patch_jobs_start(PatchJobs *j, const PatchRequest *req, unsigned *ret_id);

/* The same, for hostd's own use (the wave agent): done is called once
 * from the event loop when the job ends, with its result object or its
 * error (one of the two is NULL), unless the jobs are freed first. */
typedef void (*PatchJobDone)(const json_t *result, const char *error, void *userdata);
int patch_jobs_start_then(PatchJobs *j, const PatchRequest *req, PatchJobDone done, void *userdata,
                          unsigned *ret_id);

/* Answers call with {"job", "op", "progress": [lines after `after`],
 * "next": index for the next wait, "finished", and once finished "result"
 * or "error"}, as soon as there is a line after `after` or the job is
 * finished. 404 for a job that is neither the running nor the last one. */
void patch_jobs_wait(PatchJobs *j, unsigned id, size_t after, ControlCall *call);

/* The plan of the last plan or stage job that succeeded (whoever started
 * it), and when it finished (CLOCK_REALTIME); NULL when none did yet. */
const json_t *patch_jobs_last_plan(const PatchJobs *j, uint64_t *ret_usec);

/* The same, unless an apply or a rollback has ended since (the packages
 * it was made from may have changed): what a wave may be approved from. */
const json_t *patch_jobs_current_plan(const PatchJobs *j, uint64_t *ret_usec);

/* {"running": bool, "job": N, "op": "..."} for the status document. */
json_t *patch_jobs_status(const PatchJobs *j);
