/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Whole-file reads and crash-safe writes for hostd's state files. */

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path atomically: a temporary file in the same directory,
 * fsync'd, renamed over path, and the directory fsync'd, so a crash leaves
 * either the old or the new content, never a mix. Creates the directory
 * (mode 0700) when missing. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/* Reads a regular file of at most max bytes into a NUL-terminated buffer. */
int read_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* Creates every directory above path that is missing (mode), not path. */
int mkdir_parents(const char *path, mode_t mode);

/* Creates path and every directory above it that is missing. */
int mkdir_p(const char *path, mode_t mode);

/* Whether a process holds a write lock (fcntl, as dpkg's and rpm's locks
 * are) on path: 1 with its pid in *ret_pid, 0 when none does or the file
 * does not exist, or a negative errno. */
int file_lock_holder(const char *path, pid_t *ret_pid);
