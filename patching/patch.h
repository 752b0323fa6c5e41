/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Patch operations over a backend: stage, apply with a journal and
 * automatic rollback, rollback to a recorded set, reboot detection. These
 * block for as long as the package manager does: hostd runs them in a
 * worker process (worker.h).
 *
 * A root's patch state lives in one directory (/var/lib/hostd/patches for
 * the host, ROOT/var/lib/hostd/patches for a sandbox root):
 *   journal/ID.json      one entry per transaction (journal.h)
 *   journal/ID.log       the package manager's own output for it
 *   stage/PLAN/apply/    the package files the plan installs
 *   stage/PLAN/rollback/ the files of the versions it replaces
 *   first-seen.json      when each update was first offered (plan.h)
 */

#include <stdbool.h>
#include <stdint.h>

#include "patching/backend.h"
#include "patching/journal.h"
#include "patching/plan.h"

/* ROOT/var/lib/hostd/patches, or "/var/lib/hostd/patches" for "/". */
int patch_state_dir_for_root(const char *root, char **ret);

typedef struct StageReport {
        char plan[65];
        PackageSet apply;             /* what the plan installs (name, arch, to) */
        FetchResult *apply_results;   /* one per apply item */
        PackageSet rollback;          /* what it replaces (name, arch, from) */
        FetchResult *rollback_results;
        size_t n_apply_missing, n_rollback_missing;
} StageReport;

StageReport *stage_report_free(StageReport *r);
DEFINE_CLEANUP_FUNC(StageReport, stage_report_free);

/* Every package the plan installs can be installed without the network. */
static inline bool stage_complete(const StageReport *r) {
        return r->n_apply_missing == 0;
}
/* Every version the plan replaces can be put back. */
static inline bool stage_reversible(const StageReport *r) {
        return r->n_rollback_missing == 0;
}

/* Downloads and verifies what the plan needs, and what going back needs,
 * into STATE/stage/PLAN. Staging twice keeps what is already there. */
int patch_stage(PackageBackend *b, const Plan *plan, const char *state_dir, StageReport **ret, char *err,
                size_t err_size);

/* The points of an apply between which no package manager runs, in order,
 * for fault tests to aim at (checkpoint may be NULL): "recorded" (the
 * "applying" entry is durable, nothing changed yet), "returned" (the
 * package manager returned, nothing recorded of it), "finishing" (the
 * final record is about to replace "applying"). */
typedef void (*PatchCheckpointFn)(void *userdata, const char *point);

/* Applies the plan's included updates. Before anything changes, the
 * installed set is recorded in a journal entry ("applying"); at the end
 * the entry says "applied", or "failed" (nothing was changed), or, when the
 * transaction failed part-way, the host is returned to the recorded set
 * and the entry says "rolled-back" (verified) or "failed" (with what still
 * differs). *ret is that entry; NULL with 0 when the plan is empty.
 * Returns <0 whenever the plan was not applied, with the whole story in
 * err. */
int patch_apply(PackageBackend *b, const Plan *plan, const char *state_dir, uint64_t now_usec,
                BackendProgressFn progress, PatchCheckpointFn checkpoint, void *userdata, JournalEntry **ret,
                char *err, size_t err_size);

/* Returns the root to the set recorded before transaction `id` (NULL: the
 * newest applied one), and verifies it. Refused, changing nothing, when a
 * newer transaction was applied after it, when it was already rolled back,
 * or when a needed package file cannot be had. */
int patch_rollback(PackageBackend *b, const char *state_dir, const char *id, uint64_t now_usec,
                   JournalEntry **ret, char *err, size_t err_size);

/* Whether the entry's transaction had not ended when it was last written:
 * "applying" or "rolling-back". Under the root's patch lock (which every
 * operation holds while it runs), such an entry was interrupted: its
 * process died (a power loss, SIGKILL). */
bool journal_entry_unfinished(const JournalEntry *e);

/* Recovers every interrupted transaction; the caller holds the root's
 * patch lock. Each entry is first marked interrupted and "rolling-back"
 * (durably, before anything changes), then the package manager's own
 * half-done state is finished (backend_finish_interrupted: what `dpkg
 * --configure -a` does), then the root is returned to the entry's recorded
 * set and compared with it, as a rollback does: the entry ends
 * "rolled-back" (verified) or "failed" saying what still differs. Rolling
 * back, never forward: the record is the one state known to be whole.
 * *ret gets the entries recovered (free with journal_list_free), possibly
 * none; <0 with err when one could not be recovered or the journal cannot
 * be read (nothing changed then). */
int patch_recover(PackageBackend *b, const char *state_dir, uint64_t now_usec, JournalEntry ***ret, size_t *ret_n,
                  char *err, size_t err_size);

/* Whether the root needs a reboot, from the platform's signals: Debian's
 * reboot-required file, a kernel newer than the running one installed,
 * core libraries or services changed by the last applied transaction.
 * reasons: "; "-separated, for people. */
typedef struct RebootStatus {
        bool required;
        char reasons[1024];
} RebootStatus;

int patch_reboot_required(PackageBackend *b, const char *state_dir, const char *running_kernel,
                          RebootStatus *ret);
