/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The rpm backend: librpm for the package database and transactions of a
 * root, and the root's yum/dnf repositories read directly, since librpm
 * has no repository layer (dnf's is Python and libdnf's is C++):
 *   ROOT/etc/yum.repos.d/ID.repo  [ID] sections: baseurl= (file://, http://,
 *                                 https://), enabled= (default 1),
 *                                 gpgcheck= (default 1: rpm verifies
 *                                 package signatures with the root's keys)
 *   refresh                       fetches repodata/repomd.xml and the
 *                                 primary and updateinfo files it names,
 *                                 each checked against its sha256, into
 *                                 ROOT/var/cache/hostd/rpm/ID/
 *   upgrades                      the newest version of each installed
 *                                 (name, arch) in the repositories; security
 *                                 when an updateinfo advisory of type
 *                                 "security" lists that version
 *   fetch                         package files checked against the sha256
 *                                 of the primary metadata
 * The database is the root's /var/lib/rpm. Versions are rpm's EVR strings
 * ("1.0-2", "1:2.3-4"). Not handled: install-only packages (several kernels
 * side by side), obsoletes, zstd-compressed metadata; see the README.
 *
 * Same contract as backend.h; these are its rpm implementations. */

#include <stddef.h>

#include "patching/package.h"

typedef struct RpmSession RpmSession;

int rpm_session_open(const char *root, RpmSession **ret, char *err, size_t err_size);
void rpm_session_close(RpmSession *s);
int rpm_refresh(RpmSession *s, char *err, size_t err_size);
int rpm_installed(RpmSession *s, PackageSet *ret);
int rpm_plan_upgrade(RpmSession *s, PackageUpdate **ret, size_t *ret_n, char *err, size_t err_size);
int rpm_fetch(RpmSession *s, const PackageSet *want, const char *dir, FetchResult *results, char *err,
              size_t err_size);
int rpm_apply(RpmSession *s, const PackageSet *want, const char *archives, int log_fd, BackendProgressFn progress,
              void *userdata, char *err, size_t err_size);
int rpm_restore(RpmSession *s, char *const *files, size_t n_files, const PackageSet *remove, int log_fd, char *err,
                size_t err_size);
int rpm_version_compare(const char *a, const char *b);
/* backend_finish_interrupted for rpm: every (name, arch) the database lists
 * more than once, whose newest copy is not the version in record, keeps
 * that newest copy, the others are erased; install-only packages (kernels)
 * are left alone. */
int rpm_finish_interrupted(RpmSession *s, const PackageSet *record, int log_fd, char *err, size_t err_size);

/* One metadata file read from memory (DATA, SIZE bytes, called NAME in error
 * messages) into S as the session reads its files from the root: a .repo
 * file's repositories, a primary's packages, an updateinfo's advisories on
 * them (both as repository 0), or a repomd.xml, only checked. For the
 * fuzzer, which must not pay a file system round trip per input. */
typedef enum RpmMetadataKind {
        RPM_REPO_FILE,
        RPM_REPOMD,
        RPM_PRIMARY,
        RPM_UPDATEINFO,
} RpmMetadataKind;

int rpm_metadata_read(RpmSession *s, RpmMetadataKind kind, const char *name, const void *data, size_t size, char *err,
                      size_t err_size);
