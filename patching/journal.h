/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The patch journal: for every package transaction, the exact package set
 * of the host before it (name, architecture, version of every installed
 * package), what the transaction was meant to do, and how it ended. It is
 * what a rollback returns the host to, and what `hostctl patch history`
 * shows, so it is written atomically (temporary file, fsync, rename,
 * directory fsync) before the transaction starts and again when it ends,
 * and read back strictly: a damaged entry is an error naming the file,
 * line, column and field, never a guess.
 *
 * One entry per file, DIR/ID.json, ID being "YYYYmmddTHHMMSSZ-PLANID12".
 * The format (version 1):
 *   {
 *     "version": 1,
 *     "id": "20261125T101500Z-3f2a9c0d1e4b",
 *     "plan": "3f2a9c0d1e4b...",          the plan's ID (sha256 hex)
 *     "backend": "apt",                    "apt" or "rpm"
 *     "root": "/",                         the root acted on
 *     "state": "applying",                 see JournalState
 *     "interrupted": false,                its process died part-way (a
 *                                          power loss): found and recovered
 *                                          later (optional; false if absent)
 *     "started": 1764065700000000,         CLOCK_REALTIME microseconds
 *     "finished": 0,                       0 while not finished
 *     "message": "",                       what happened, for people
 *     "before": [["bash", "amd64", "5.2.15-2+b2"], ...],
 *     "after": [...]                       once known
 *   }
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/json.h"

#define JOURNAL_VERSION 1
#define JOURNAL_MAX_SIZE (64u << 20)

typedef LocatedError JournalError; /* path: e.g. "before[12][2]"; printed with
                                    * located_error_format() */

typedef struct PackageVersion {
        char *name, *arch, *version;
} PackageVersion;

/* Installed packages, kept sorted by (name, arch); one version each. */
typedef struct PackageSet {
        PackageVersion *items;
        size_t n, allocated;
} PackageSet;

/* Adds or replaces (name, arch). -EINVAL for an empty or malformed field
 * (whitespace, control characters). */
int package_set_put(PackageSet *s, const char *name, const char *arch, const char *version);
const PackageVersion *package_set_find(const PackageSet *s, const char *name, const char *arch);
void package_set_done(PackageSet *s);
bool package_set_equal(const PackageSet *a, const PackageSet *b);

/* What turns `from` into `to`: packages to install or change (with the
 * version `to` has) and packages to remove (present only in `from`). */
typedef struct PackageDiff {
        PackageSet install; /* absent from `from`, or another version there */
        PackageSet remove;  /* present in `from` only */
} PackageDiff;

int package_set_diff(const PackageSet *from, const PackageSet *to, PackageDiff *ret);
void package_diff_done(PackageDiff *d);

typedef enum JournalState {
        JOURNAL_APPLYING,     /* recorded before the transaction starts */
        JOURNAL_APPLIED,
        JOURNAL_FAILED,       /* failed; the host is as "after" says */
        JOURNAL_ROLLING_BACK,
        JOURNAL_ROLLED_BACK,  /* the host equals "before" again, verified */
        _JOURNAL_STATE_MAX,
} JournalState;

const char *journal_state_to_string(JournalState s);

typedef struct JournalEntry {
        char id[64];
        char plan[65];
        char backend[8];
        char *root;
        JournalState state;
        bool interrupted;
        uint64_t started_usec, finished_usec;
        char *message;
        PackageSet before, after;
} JournalEntry;

JournalEntry *journal_entry_free(JournalEntry *e);
DEFINE_CLEANUP_FUNC(JournalEntry, journal_entry_free);

/* A new entry for a transaction starting now; id made from the time and
 * the plan ID. */
int journal_entry_new(const char *plan, const char *backend, const char *root, uint64_t now_usec,
                      JournalEntry **ret);

/* The entry as written to its file (a new reference; NULL on ENOMEM). */
typedef struct json_t json_t;
json_t *journal_entry_to_json(const JournalEntry *e);

/* Writes DIR/ID.json atomically (mode 0600); creates DIR (0700). */
int journal_write(const char *dir, const JournalEntry *e);

/* Parses an entry; -EINVAL/-E2BIG with *error located. */
int journal_parse(const char *text, size_t length, JournalEntry **ret, JournalError *error);
int journal_read(const char *path, JournalEntry **ret, JournalError *error);

/* Every entry in DIR, oldest first. A damaged entry fails the whole list
 * with its error (*error_file names it): history is never shown with a
 * hole in it. An absent DIR is an empty history. */
int journal_list(const char *dir, JournalEntry ***ret, size_t *ret_n, JournalError *error,
                 char **error_file);
void journal_list_free(JournalEntry **list, size_t n);
