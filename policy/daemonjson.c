/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "policy/daemonjson.h"

#define DAEMON_JSON_MAX (4 * 1024 * 1024)
/* the backup of a daemon.json that did not exist: restoring removes it */
#define ABSENT_MARKER "# hostd: no daemon.json existed before\n"

static int load(const char *path, json_t **ret, char **text, size_t *size, char *err,
                size_t err_size) {
        json_error_t jerr;
        json_t *j;
        int r;

        r = read_file(path, DAEMON_JSON_MAX, text, size);
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        j = json_loadb(*text, *size, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                snprintf(err, err_size, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
                return -EINVAL;
        }
        if (!json_is_object(j)) {
                json_decref(j);
                snprintf(err, err_size, "%s: expected a JSON object", path);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

int daemon_json_get_seccomp(const char *path, char **ret, char *err, size_t err_size) {
        _cleanup_free_ char *text = NULL;
        json_t *j = NULL;
        const json_t *v;
        size_t size;
        int r;

        *ret = NULL;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = load(path, &j, &text, &size, err, err_size);
        if (r < 0)
                return r;
        v = json_object_get(j, "seccomp-profile");
        if (v && !json_is_string(v)) {
                json_decref(j);
                snprintf(err, err_size, "%s: \"seccomp-profile\" is not a string", path);
                return -EINVAL;
        }
        if (v && !(*ret = strdup(json_string_value(v)))) {
                json_decref(j);
                return -ENOMEM;
        }
        json_decref(j);
        return 0;
}

/* Writes data over path keeping its mode and owner (or 0644 root for a new
 * file): a temporary file, fsync, rename. */
static int replace_file(const char *path, const char *data, size_t size, const struct stat *st) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t done = 0;
        int r = 0;

        if (asprintf(&tmp, "%s.hostd-tmp", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        while (done < size) {
                ssize_t n = write(fd, data + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        break;
                }
                done += (size_t) n;
        }
        if (r >= 0 && st && fchown(fd, st->st_uid, st->st_gid) < 0)
                r = negative_errno();
        if (r >= 0 && fchmod(fd, st ? st->st_mode & 07777 : 0644) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                unlink(tmp);
        return r;
}

int daemon_json_set_seccomp(const char *path, const char *value, char *err, size_t err_size) {
        _cleanup_free_ char *text = NULL, *backup = NULL, *out = NULL;
        struct stat st;
        bool exists;
        json_t *j = NULL;
        const json_t *old;
        size_t size = 0;
        int r;

        if (!STREQ(value, "builtin") && !STREQ(value, "unconfined") && value[0] != '/') {
                snprintf(err, err_size, "\"%s\": expected builtin, unconfined or an absolute path", value);
                return -EINVAL;
        }
        exists = stat(path, &st) == 0;
        if (!exists && errno != ENOENT) {
                r = negative_errno();
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        if (exists) {
                r = load(path, &j, &text, &size, err, err_size);
                if (r < 0)
                        return r;
        } else if (!(j = json_object()))
                return -ENOMEM;

        old = json_object_get(j, "seccomp-profile");
        if (old && json_is_string(old) && STREQ(json_string_value(old), value)) {
                json_decref(j);
                return 0;
        }
        json_object_set_new(j, "seccomp-profile", json_string(value));
        /* jansson keeps insertion order: every other key stays where it was */
        out = json_dumps(j, JSON_INDENT(2));
        json_decref(j);
        if (!out)
                return -ENOMEM;
        size_t out_size = strlen(out);
        char *terminated = realloc(out, out_size + 2);
        if (!terminated)
                return -ENOMEM;
        out = terminated;
        strcat(out, "\n");

        if (asprintf(&backup, "%s%s", path, DAEMON_JSON_BACKUP_SUFFIX) < 0) {
                backup = NULL;
                return -ENOMEM;
        }
        /* the first edit keeps the original; later edits leave it alone */
        if (access(backup, F_OK) < 0) {
                r = exists ? write_file_atomic(backup, text, size, 0600)
                           : write_file_atomic(backup, ABSENT_MARKER, strlen(ABSENT_MARKER), 0600);
                if (r < 0) {
                        snprintf(err, err_size, "cannot keep the original as %s: %s", backup, strerror(-r));
                        return r;
                }
        }
        r = replace_file(path, out, strlen(out), exists ? &st : NULL);
        if (r < 0) {
                snprintf(err, err_size, "cannot write %s: %s", path, strerror(-r));
                return r;
        }
        return 1;
}

int daemon_json_restore(const char *path, char *err, size_t err_size) {
        _cleanup_free_ char *backup = NULL, *text = NULL;
        struct stat st;
        size_t size;
        int r;

        if (asprintf(&backup, "%s%s", path, DAEMON_JSON_BACKUP_SUFFIX) < 0) {
                backup = NULL;
                return -ENOMEM;
        }
        r = read_file(backup, DAEMON_JSON_MAX, &text, &size);
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", backup, strerror(-r));
                return r;
        }
        if (size == strlen(ABSENT_MARKER) && memcmp(text, ABSENT_MARKER, size) == 0) {
                if (unlink(path) < 0 && errno != ENOENT) {
                        r = negative_errno();
                        snprintf(err, err_size, "cannot remove %s: %s", path, strerror(-r));
                        return r;
                }
        } else {
                r = replace_file(path, text, size, stat(path, &st) == 0 ? &st : NULL);
                if (r < 0) {
                        snprintf(err, err_size, "cannot write %s: %s", path, strerror(-r));
                        return r;
                }
        }
        unlink(backup);
        return 0;
}
