/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What every package backend speaks of (backend.h is the interface, apt.h
 * and rpm.h its two implementations): an update on offer, a package file
 * fetched, the progress of a transaction. In C, apart from the backends, so
 * that programs without the C++ shim can free them too. */

#include <stdbool.h>
#include <stddef.h>

#include "patching/journal.h"

typedef struct PackageUpdate {
        char *name, *arch;
        char *from;     /* installed version; NULL for a new package */
        char *to;       /* candidate version */
        bool security;  /* from a security archive (label or suite) */
        char *origin;   /* "Debian", as the archive's Release says */
        char *suite;    /* "bookworm-security" */
} PackageUpdate;

/* Frees one update's strings; and the strings of each update and the
 * array. */
void package_update_done(PackageUpdate *u);
void package_updates_free(PackageUpdate *u, size_t n);

/* dpkg's or rpm's progress through a transaction, as it happens. */
typedef void (*BackendProgressFn)(void *userdata, const char *package, unsigned done, unsigned total,
                                  const char *action);

/* One package file fetched (or not) into a directory. */
typedef struct FetchResult {
        char *file;  /* absolute path; NULL when it could not be had */
        char *error; /* why not, for people */
} FetchResult;

void fetch_results_free(FetchResult *r, size_t n);
