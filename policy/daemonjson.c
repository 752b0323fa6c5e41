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

static int parse(const char *name, const char *text, size_t size, json_t **ret, char *err, size_t err_size) {
        json_error_t jerr;
        json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);

        if (!j) {
                snprintf(err, err_size, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
                return -EINVAL;
        }
        if (!json_is_object(j)) {
                json_decref(j);
                snprintf(err, err_size, "%s: expected a JSON object", name);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

/* The profile the document names, NULL for none; -EINVAL for a value that
 * is not a string. */
static int profile_of(const char *name, const json_t *j, const char **ret, char *err, size_t err_size) {
        const json_t *v = json_object_get(j, "seccomp-profile");

        if (v && !json_is_string(v)) {
                snprintf(err, err_size, "%s: \"seccomp-profile\" is not a string", name);
                return -EINVAL;
        }
        *ret = v ? json_string_value(v) : NULL;
        return 0;
}

int daemon_json_read(const char *name, const char *text, size_t size, char **ret, char *err, size_t err_size) {
        json_t *j = NULL;
        const char *v;
        int r;

        *ret = NULL;
        r = parse(name, text, size, &j, err, err_size);
        if (r >= 0)
                r = profile_of(name, j, &v, err, err_size);
        if (r >= 0 && v && !(*ret = strdup(v)))
                r = -ENOMEM;
        json_decref(j);
        return r;
}

int daemon_json_edit(const char *name, const char *text, size_t size, const char *value, char **ret, char *err,
                     size_t err_size) {
        json_t *j = NULL;
        const char *old;
        char *out;
        int r;

        *ret = NULL;
        if (!STREQ(value, "builtin") && !STREQ(value, "unconfined") && value[0] != '/') {
                snprintf(err, err_size, "\"%s\": expected builtin, unconfined or an absolute path", value);
                return -EINVAL;
        }
        if (text)
                r = parse(name, text, size, &j, err, err_size);
        else
                r = (j = json_object()) ? 0 : -ENOMEM;
        /* a value dockerd itself would refuse is the administrator's to fix */
        if (r >= 0)
                r = profile_of(name, j, &old, err, err_size);
        if (r < 0 || (old && STREQ(old, value))) {
                json_decref(j);
                return r < 0 ? r : 0;
        }
        json_object_set_new(j, "seccomp-profile", json_string(value));
        /* jansson keeps insertion order: every other key stays where it was */
        out = json_dumps(j, JSON_INDENT(2));
        json_decref(j);
        if (!out)
                return -ENOMEM;
        size_t out_size = strlen(out);
        char *terminated = realloc(out, out_size + 2);
        if (!terminated) {
                free(out);
                return -ENOMEM;
        }
        memcpy(terminated + out_size, "\n", 2);
        *ret = terminated;
        return 1;
}

int daemon_json_get_seccomp(const char *path, char **ret, char *err, size_t err_size) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        *ret = NULL;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = read_file(path, DAEMON_JSON_MAX, &text, &size);
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        return daemon_json_read(path, text, size, ret, err, err_size);
}

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
        size_t size = 0;
        int r;

        exists = stat(path, &st) == 0;
        if (!exists && errno != ENOENT) {
                r = negative_errno();
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        if (exists && (r = read_file(path, DAEMON_JSON_MAX, &text, &size)) < 0) {
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        r = daemon_json_edit(path, exists ? text : NULL, size, value, &out, err, err_size);
        if (r <= 0)
                return r;

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
