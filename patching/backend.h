/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One interface for a package backend: apt (libapt-pkg, through the shim
 * in apt.h) and rpm (librpm). A backend acts on a root ("/" for the host, a
 * sandbox directory for tests and image builds) as apt's and rpm's own root
 * options do. The package managers keep process-wide state, so a process
 * has one backend open at a time; hostd runs them in a worker process.
 *
 * Operations return 0 or a negative errno with the package manager's own
 * words in err. Nothing here logs. */

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"
#include "patching/journal.h"
#include "patching/package.h"

typedef enum BackendKind {
        BACKEND_APT,
        BACKEND_RPM,
        _BACKEND_KIND_MAX,
} BackendKind;

const char *backend_kind_to_string(BackendKind k);

/* The backend of a root: the one whose database it has (dpkg's status file
 * or an rpm database). -ENOENT when it has neither. */
int backend_detect(const char *root, BackendKind *ret);

typedef struct PackageBackend PackageBackend;

int backend_open(BackendKind kind, const char *root, PackageBackend **ret, char *err, size_t err_size);
PackageBackend *backend_close(PackageBackend *b);
DEFINE_CLEANUP_FUNC(PackageBackend, backend_close);

BackendKind backend_kind(const PackageBackend *b);
const char *backend_root(const PackageBackend *b);

/* Updates the package metadata from the root's repositories. */
int backend_refresh(PackageBackend *b, char *err, size_t err_size);

/* Every installed package. */
int backend_installed(PackageBackend *b, PackageSet *ret);

/* The upgrades available, each classified; sorted by name, arch. */
int backend_upgrades(PackageBackend *b, PackageUpdate **ret, size_t *ret_n, char *err, size_t err_size);

/* Fetches the exact versions in `want` into dir (created if missing), each
 * verified against the repository's hashes: results[i] says where
 * want->items[i] is, or why it could not be had. A file already in dir
 * with the right hash is kept. Returns <0 only when nothing could be tried. */
int backend_fetch(PackageBackend *b, const PackageSet *want, const char *dir, FetchResult *results,
                  char *err, size_t err_size);

/* Installs exactly the versions in `want` (upgrades and new packages), with
 * files from archives (fetched there when missing). The transaction must
 * change nothing else: a dependency outside `want` is an error naming it,
 * before anything is touched. The package manager's own output goes to
 * log_fd. On failure the root may be part-way: the caller rolls back. */
int backend_apply(PackageBackend *b, const PackageSet *want, const char *archives, int log_fd,
                  BackendProgressFn progress, void *userdata, char *err, size_t err_size);

/* Returns the root to a recorded set: installs the package files given
 * (downgrades and reinstalls, any order) and removes the packages in
 * `remove`. Output to log_fd. */
int backend_restore(PackageBackend *b, char *const *files, size_t n_files, const PackageSet *remove,
                    int log_fd, char *err, size_t err_size);

/* Checks what changing the root needs before anything changes: -ENOENT or
 * -ENOTDIR naming what a package database cannot be without; directories
 * the package manager writes to and would create itself (apt's log and
 * download directories, which minimal roots lack) are created. */
int backend_prepare(PackageBackend *b, char *err, size_t err_size);

/* Finishes what the package manager itself left half-done when its
 * process died: `dpkg --configure --pending` (what `dpkg --configure -a`
 * does) on a Debian root; on an rpm root, the packages the database lists
 * twice (a new version installed, the old one not yet erased: the newest
 * copy is not the one in record) are reduced to one. Output to log_fd. Only the package manager's own state: the
 * caller then returns the root to its record. */
int backend_finish_interrupted(PackageBackend *b, const PackageSet *record, int log_fd, char *err,
                               size_t err_size);

/* -EBUSY, naming the process, while the package manager's own lock on the
 * root is held: a dpkg or rpm still running (one whose worker was killed
 * goes on). Its transaction is then not interrupted, only unwatched. */
int backend_check_idle(PackageBackend *b, char *err, size_t err_size);

/* Whether version a is older (<0), the same (0) or newer (>0) than b, by
 * the backend's rules (dpkg's or rpm's). */
int backend_version_compare(BackendKind kind, const char *a, const char *b);
