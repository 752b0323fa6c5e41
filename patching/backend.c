/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "patching/apt.h"
#include "patching/backend.h"
#include "patching/rpm.h"

struct PackageBackend {
        BackendKind kind;
        char *root;
        AptSession *apt;
        RpmSession *rpm;
};

const char *backend_kind_to_string(BackendKind k) {
        switch (k) {
        case BACKEND_APT: return "apt";
        case BACKEND_RPM: return "rpm";
        default: return "?";
        }
}

static bool exists_in(const char *root, const char *path) {
        char p[PATH_MAX];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", root, path);
        return stat(p, &st) == 0;
}

int backend_detect(const char *root, BackendKind *ret) {
        if (exists_in(root, "var/lib/dpkg/status")) {
                *ret = BACKEND_APT;
                return 0;
        }
        if (exists_in(root, "var/lib/rpm/rpmdb.sqlite") || exists_in(root, "var/lib/rpm/Packages") ||
            exists_in(root, "usr/lib/sysimage/rpm/rpmdb.sqlite")) {
                *ret = BACKEND_RPM;
                return 0;
        }
        return -ENOENT;
}

int backend_open(BackendKind kind, const char *root, PackageBackend **ret, char *err, size_t err_size) {
        _cleanup_free_ PackageBackend *b = calloc(1, sizeof(PackageBackend));
        int r;

        if (!b)
                return -ENOMEM;
        b->kind = kind;
        switch (kind) {
        case BACKEND_APT:
                r = apt_session_open(root, &b->apt, err, err_size);
                break;
        case BACKEND_RPM:
                r = rpm_session_open(root, &b->rpm, err, err_size);
                break;
        default:
                snprintf(err, err_size, "the %s backend is not available in this build",
                         backend_kind_to_string(kind));
                r = -EOPNOTSUPP;
        }
        if (r < 0)
                return r;
        b->root = strdup(root);
        if (!b->root) {
                apt_session_close(b->apt);
                rpm_session_close(b->rpm);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(b);
        return 0;
}

PackageBackend *backend_close(PackageBackend *b) {
        if (!b)
                return NULL;
        apt_session_close(b->apt);
        rpm_session_close(b->rpm);
        free(b->root);
        free(b);
        return NULL;
}

BackendKind backend_kind(const PackageBackend *b) {
        return b->kind;
}

const char *backend_root(const PackageBackend *b) {
        return b->root;
}

int backend_refresh(PackageBackend *b, char *err, size_t err_size) {
        return b->apt ? apt_refresh(b->apt, err, err_size) : rpm_refresh(b->rpm, err, err_size);
}

int backend_installed(PackageBackend *b, PackageSet *ret) {
        return b->apt ? apt_installed(b->apt, ret) : rpm_installed(b->rpm, ret);
}

int backend_upgrades(PackageBackend *b, PackageUpdate **ret, size_t *ret_n, char *err, size_t err_size) {
        return b->apt ? apt_plan_upgrade(b->apt, ret, ret_n, err, err_size) :
                        rpm_plan_upgrade(b->rpm, ret, ret_n, err, err_size);
}

int backend_fetch(PackageBackend *b, const PackageSet *want, const char *dir, FetchResult *results, char *err,
                  size_t err_size) {
        return b->apt ? apt_fetch(b->apt, want, dir, results, err, err_size) :
                        rpm_fetch(b->rpm, want, dir, results, err, err_size);
}

int backend_apply(PackageBackend *b, const PackageSet *want, const char *archives, int log_fd,
                  BackendProgressFn progress, void *userdata, char *err, size_t err_size) {
        return b->apt ? apt_apply(b->apt, want, archives, log_fd, progress, userdata, err, err_size) :
                        rpm_apply(b->rpm, want, archives, log_fd, progress, userdata, err, err_size);
}

int backend_version_compare(BackendKind kind, const char *a, const char *b) {
        switch (kind) {
        case BACKEND_APT: return apt_version_compare(a, b);
        case BACKEND_RPM: return rpm_version_compare(a, b);
        default: return strverscmp(a, b);
        }
}

/* Runs argv with stdout to log_fd and stderr both to log_fd and into err
 * (its "error" lines, the ones that say what went wrong). */
static int run_logged(char *const argv[], int log_fd, char *err, size_t err_size) {
        posix_spawn_file_actions_t actions;
        int pipe_fds[2], status, r;
        pid_t pid;
        char buf[4096];
        size_t used = 0;
        ssize_t n;
        _cleanup_free_ char *collected = NULL;
        size_t collected_size = 0;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
        char *envp[] = { "DEBIAN_FRONTEND=noninteractive", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        r = posix_spawn(&pid, argv[0], &actions, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&actions);
        close(pipe_fds[1]);
        if (r != 0) {
                close(pipe_fds[0]);
                snprintf(err, err_size, "cannot run %s: %s", argv[0], strerror(r));
                return -r;
        }
        FILE *mem = open_memstream(&collected, &collected_size);
        while ((n = read(pipe_fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0) {
                        (void) !write(log_fd, buf, n);
                        if (mem)
                                fwrite(buf, 1, n, mem);
                }
        close(pipe_fds[0]);
        if (mem)
                fclose(mem);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;

        used = snprintf(err, err_size, "%s %s", argv[0],
                        WIFEXITED(status) ? "failed" : "was killed");
        for (char *line = collected ? strtok(collected, "\n") : NULL; line && used < err_size;
             line = strtok(NULL, "\n"))
                if (strstr(line, "error"))
                        used += snprintf(err + used, err_size - used, "%s%s", used ? "; " : "", line);
        return -EIO;
}

/* dpkg on the backend's root: --root and chrootless scripts for a sandbox */
static size_t dpkg_base(const PackageBackend *b, char *args[], char *storage, size_t storage_size) {
        size_t n = 0;

        args[n++] = "/usr/bin/dpkg";
        if (!STREQ(b->root, "/")) {
                int w = snprintf(storage, storage_size, "--root=%s", b->root);
                args[n++] = storage;
                snprintf(storage + w + 1, storage_size - w - 1, "--log=%s/var/log/dpkg.log", b->root);
                args[n++] = storage + w + 1;
                args[n++] = "--force-script-chrootless";
        }
        args[n++] = "--force-confdef";
        args[n++] = "--force-confold";
        return n;
}


/* What dpkg and apt write to on a Debian root: what a package database
 * cannot be without is refused, naming it; the directories apt and dpkg
 * keep their logs and downloads in, which a minimal root may lack and which
 * apt itself would create, are created. */
static int prepare_dpkg_root(const PackageBackend *b, char *err, size_t err_size) {
        static const char *const needed[] = { "var/lib/dpkg", "var/lib/dpkg/info", "var/lib/dpkg/updates", NULL };
        static const struct {
                const char *path;
                mode_t mode;
        } created[] = {
                { "var/log/apt", 0755 },
                { "var/cache/apt/archives/partial", 0700 },
                { "var/lib/apt/lists/partial", 0700 },
        };
        char path[PATH_MAX];
        struct stat st;
        int r;

        for (const char *const *n = needed; *n; n++) {
                snprintf(path, sizeof(path), "%s%s%s", b->root, STREQ(b->root, "/") ? "" : "/", *n);
                if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        r = stat(path, &st) < 0 ? negative_errno() : -ENOTDIR;
                        snprintf(err, err_size, "%s: %s: not a dpkg database hostd can change; nothing was changed",
                                 path, strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(created); i++) {
                snprintf(path, sizeof(path), "%s%s%s", b->root, STREQ(b->root, "/") ? "" : "/", created[i].path);
                r = mkdir_p(path, created[i].mode);
                if (r < 0) {
                        snprintf(err, err_size, "cannot create %s: %s; nothing was changed", path, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int backend_prepare(PackageBackend *b, char *err, size_t err_size) {
        return b->apt ? prepare_dpkg_root(b, err, err_size) : 0;
}

int backend_restore(PackageBackend *b, char *const *files, size_t n_files, const PackageSet *remove, int log_fd,
                    char *err, size_t err_size) {
        char storage[2 * PATH_MAX + 32];
        _cleanup_free_ char **args = calloc(n_files + remove->n + 8, sizeof(char *));
        _cleanup_free_ char **names = calloc(remove->n + 1, sizeof(char *));
        size_t n;
        int r = 0;

        if (b->rpm)
                return rpm_restore(b->rpm, files, n_files, remove, log_fd, err, err_size);
        if (!args || !names)
                return -ENOMEM;
        if (n_files > 0) {
                /* dpkg orders the unpacks and configures itself; downgrades are allowed */
                n = dpkg_base(b, args, storage, sizeof(storage));
                args[n++] = "--install";
                for (size_t i = 0; i < n_files; i++)
                        args[n++] = files[i];
                args[n] = NULL;
                r = run_logged(args, log_fd, err, err_size);
                if (r < 0)
                        return r;
        }
        if (remove->n > 0) {
                n = dpkg_base(b, args, storage, sizeof(storage));
                args[n++] = "--purge";
                for (size_t i = 0; i < remove->n; i++) {
                        if (asprintf(&names[i], "%s:%s", remove->items[i].name, remove->items[i].arch) < 0) {
                                names[i] = NULL;
                                r = -ENOMEM;
                                break;
                        }
                        args[n++] = names[i];
                }
                args[n] = NULL;
                if (r == 0)
                        r = run_logged(args, log_fd, err, err_size);
                for (size_t i = 0; i < remove->n; i++)
                        free(names[i]);
        }
        /* dpkg changed the root behind the session's back */
        char ignored[256];
        int q = apt_reload(b->apt, r < 0 ? ignored : err, r < 0 ? sizeof(ignored) : err_size);
        return r < 0 ? r : q;
}

int backend_check_idle(PackageBackend *b, char *err, size_t err_size) {
        /* each package manager's own locks (fcntl locks, both) */
        static const char *const dpkg_locks[] = { "var/lib/dpkg/lock-frontend", "var/lib/dpkg/lock", NULL };
        static const char *const rpm_locks[] = { "var/lib/rpm/.rpm.lock", "usr/lib/sysimage/rpm/.rpm.lock", NULL };
        char path[PATH_MAX];
        pid_t pid = 0;

        for (const char *const *l = b->rpm ? rpm_locks : dpkg_locks; *l; l++) {
                snprintf(path, sizeof(path), "%s%s%s", b->root, STREQ(b->root, "/") ? "" : "/", *l);
                if (file_lock_holder(path, &pid) > 0) {
                        snprintf(err, err_size, "%s is still running on %s (process %d holds %s)",
                                 b->rpm ? "rpm" : "dpkg", b->root, (int) pid, path);
                        return -EBUSY;
                }
        }
        return 0;
}

int backend_finish_interrupted(PackageBackend *b, const PackageSet *record, int log_fd, char *err,
                               size_t err_size) {
        char storage[2 * PATH_MAX + 32], *args[12];
        size_t n;
        int r;

        if (b->rpm)
                return rpm_finish_interrupted(b->rpm, record, log_fd, err, err_size);
        /* what `dpkg --configure -a` does: every package dpkg left unpacked
         * or half-configured is configured */
        n = dpkg_base(b, args, storage, sizeof(storage));
        args[n++] = "--configure";
        args[n++] = "--pending";
        args[n] = NULL;
        r = run_logged(args, log_fd, err, err_size);
        char ignored[256];
        int q = apt_reload(b->apt, r < 0 ? ignored : err, r < 0 ? sizeof(ignored) : err_size);
        return r < 0 ? r : q;
}
