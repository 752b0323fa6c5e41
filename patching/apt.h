/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The apt backend's view of a Debian root through libapt-pkg, behind a C
 * interface (libapt-pkg's API is C++; patching/apt-shim.cc is the only C++
 * in hostd). It reads a root the way apt-get -o Dir=ROOT/ does: ROOT's
 * sources, lists, dpkg status and preferences, with apt's own methods from
 * the host. libapt-pkg keeps its configuration in process-wide state, so a
 * process has one session at a time: hostd runs package work in a worker
 * process, and hostctl --root in its own. */

#include <stdbool.h>
#include <stddef.h>

#include "patching/package.h"

typedef struct AptSession AptSession;

/* Opens the package cache of root ("/" for the host). -EINVAL, -ENOENT or
 * -EIO with apt's own message in err. */
int apt_session_open(const char *root, AptSession **ret, char *err, size_t err_size);
void apt_session_close(AptSession *s);

/* apt-get update for the root; the cache is reopened afterwards. A source
 * that fails is an error naming it. */
int apt_refresh(AptSession *s, char *err, size_t err_size);

/* Every installed package (dpkg's "installed" state): name, arch, version. */
int apt_installed(AptSession *s, PackageSet *ret);

/* What `apt upgrade` would do (upgrades, and new packages they need, such
 * as a new kernel; nothing removed), each with its origin. Sorted by name. */
int apt_plan_upgrade(AptSession *s, PackageUpdate **ret, size_t *ret_n, char *err, size_t err_size);

/* backend_fetch, backend_apply and backend_version_compare for apt; see
 * backend.h. */
int apt_fetch(AptSession *s, const PackageSet *want, const char *dir, FetchResult *results, char *err,
              size_t err_size);
int apt_apply(AptSession *s, const PackageSet *want, const char *archives, int log_fd,
              BackendProgressFn progress, void *userdata, char *err, size_t err_size);
int apt_version_compare(const char *a, const char *b);

/* Reads the package state again, after dpkg ran outside the session. */
int apt_reload(AptSession *s, char *err, size_t err_size);
