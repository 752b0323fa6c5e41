/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/macro.h"

static int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

/* fsync of the directory holding path: what makes an entry created or
 * renamed in it durable */
static int fsync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = -1;

        if (!copy)
                return -ENOMEM;
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *dir_copy = strdup(path), *tmp = NULL;
        _cleanup_close_ int fd = -1, dir_fd = -1;
        const char *dir;
        int r;

        if (!dir_copy)
                return -ENOMEM;
        dir = dirname(dir_copy);
        if (mkdir(dir, 0700) < 0) {
                if (errno != EEXIST)
                        return negative_errno();
        } else if ((r = fsync_parent(dir)) < 0)
                return r; /* the new directory itself must survive a power loss */
        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, data, size);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        /* the rename is durable only once the directory is */
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || fsync(dir_fd) < 0)
                return negative_errno();
        return 0;
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + size, max + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *p = '/';
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        int r = mkdir_parents(path, mode);

        if (r < 0)
                return r;
        if (mkdir(path, mode) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        /* a journal written in it next must not vanish with it */
        return fsync_parent(path);
}

int file_lock_holder(const char *path, pid_t *ret_pid) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (fcntl(fd, F_GETLK, &l) < 0)
                return negative_errno();
        if (l.l_type == F_UNLCK)
                return 0;
        *ret_pid = l.l_pid;
        return 1;
}
