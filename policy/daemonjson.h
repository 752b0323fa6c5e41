/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Edits Docker's daemon.json for the one key hostd owns there,
 * "seccomp-profile", and leaves everything else as the administrator wrote
 * it: every other key and its order, the file's mode and owner. The first
 * edit keeps the original bytes next to it (PATH.hostd-orig) so the change
 * can be undone by hand or by daemon_json_restore(). */

#include <stdbool.h>
#include <stddef.h>

#define DAEMON_JSON_DEFAULT_PATH "/etc/docker/daemon.json"
#define DAEMON_JSON_BACKUP_SUFFIX ".hostd-orig"

/* Reads "seccomp-profile" from daemon.json: *ret is NULL when the key or the
 * file is absent. -EINVAL with a located message in err when the file is not
 * a JSON object. */
int daemon_json_get_seccomp(const char *path, char **ret, char *err, size_t err_size);

/* Sets "seccomp-profile" to value ("builtin", "unconfined" or an absolute
 * path). Returns 1 when the file changed, 0 when it already said so, or a
 * negative errno with the reason in err; on error the file is untouched.
 * A missing file is created (mode 0644). */
int daemon_json_set_seccomp(const char *path, const char *value, char *err, size_t err_size);

/* The same on a document's bytes, for what has them in memory (and the
 * fuzzer): read gives "seccomp-profile" (*ret NULL when absent); edit gives
 * 1 and the new document in *ret (free it), 0 when it already says value,
 * or -EINVAL with the reason in err. name is what messages call the
 * document; text NULL is no document yet. */
int daemon_json_read(const char *name, const char *text, size_t size, char **ret, char *err, size_t err_size);
int daemon_json_edit(const char *name, const char *text, size_t size, const char *value, char **ret, char *err,
                     size_t err_size);

/* Puts back the bytes saved by the first edit (or removes the file when
 * hostd created it). -ENOENT when there is nothing to restore. */
int daemon_json_restore(const char *path, char *err, size_t err_size);
