/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "common/hex.h"
#include "hostd/docker-client.h"
#include "hostd/seccomp-install.h"
#include "policy/daemonjson.h"

static int sha256_hex(const void *data, size_t size, char ret[static PROFILE_DIGEST_HEX]) {
        unsigned char sum[32];

        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, size, sum) < 0)
                return -EIO;
        hex_encode(sum, sizeof(sum), ret);
        return 0;
}

/* The value of --seccomp-profile on a NUL-separated command line, or NULL. */
static const char *seccomp_flag(const char *cmdline, size_t size) {
        static const char flag[] = "--seccomp-profile";

        for (size_t at = 0; at < size; at += strlen(cmdline + at) + 1) {
                const char *arg = cmdline + at;

                if (strncmp(arg, flag, sizeof(flag) - 1) != 0)
                        continue;
                if (arg[sizeof(flag) - 1] == '=')
                        return arg + sizeof(flag);
                if (arg[sizeof(flag) - 1] == '\0')
                        return at + strlen(arg) + 1 < size ? arg + strlen(arg) + 1 : "";
        }
        return NULL;
}

int profile_install(const char *source, const char *installed_path, const char *daemon_json,
                    const char *dockerd_cmdline, ProfileInstall *ret) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *profile = NULL;
        _cleanup_free_ char *text = NULL, *previous = NULL, *current = NULL;
        size_t size, previous_size = 0;
        SeccompError error = {};
        char why[512];
        int r;

        *ret = (ProfileInstall){};
        r = read_file(source, SECCOMP_PROFILE_MAX_SIZE, &text, &size);
        if (r < 0) {
                snprintf(ret->error, sizeof(ret->error), "%s: %s", source,
                         r == -E2BIG ? "larger than 4 MiB" : strerror(-r));
                return r;
        }
        r = seccomp_profile_parse(text, size, &profile, &error);
        if (r >= 0)
                r = seccomp_profile_verify(profile, &ret->stats, &error);
        if (r < 0) {
                located_error_format(&error, source, ret->error, sizeof(ret->error));
                return r == -ENOMEM ? r : -EINVAL;
        }
        /* the flag and daemon.json both: the next dockerd would not start */
        if (dockerd_cmdline) {
                _cleanup_free_ char *cmdline = NULL;
                size_t n = 0;
                const char *flag;

                r = read_file(dockerd_cmdline, 256 * 1024, &cmdline, &n);
                if (r < 0 && r != -ENOENT) {
                        snprintf(ret->error, sizeof(ret->error), "cannot read dockerd's command line %s: %s",
                                 dockerd_cmdline, strerror(-r));
                        return r;
                }
                flag = r >= 0 ? seccomp_flag(cmdline, n) : NULL;
                if (flag) {
                        snprintf(ret->error, sizeof(ret->error),
                                 "dockerd runs with --seccomp-profile %s on its command line (%s): setting "
                                 "\"seccomp-profile\" in %s as well would stop dockerd from starting (a setting "
                                 "given both as a flag and in daemon.json); remove the flag first; nothing was "
                                 "changed",
                                 flag, dockerd_cmdline, daemon_json);
                        return -EEXIST;
                }
        }
        r = sha256_hex(text, size, ret->digest);
        if (r < 0) {
                snprintf(ret->error, sizeof(ret->error), "cannot compute the SHA-256 of %s", source);
                return r;
        }
        /* daemon.json must be readable as an object before anything changes */
        r = daemon_json_get_seccomp(daemon_json, &current, why, sizeof(why));
        if (r < 0) {
                snprintf(ret->error, sizeof(ret->error), "%s", why);
                return r;
        }

        r = read_file(installed_path, SECCOMP_PROFILE_MAX_SIZE, &previous, &previous_size);
        if (r < 0 && r != -ENOENT) {
                snprintf(ret->error, sizeof(ret->error), "%s: %s", installed_path, strerror(-r));
                return r;
        }
        if (!previous || previous_size != size || memcmp(previous, text, size) != 0) {
                r = mkdir_parents(installed_path, 0755);
                if (r >= 0)
                        r = write_file_atomic(installed_path, text, size, 0644);
                if (r < 0) {
                        snprintf(ret->error, sizeof(ret->error), "cannot write %s: %s", installed_path,
                                 strerror(-r));
                        return r;
                }
                ret->profile_changed = true;
        }

        r = daemon_json_set_seccomp(daemon_json, installed_path, why, sizeof(why));
        if (r < 0) {
                snprintf(ret->error, sizeof(ret->error), "%s", why);
                if (ret->profile_changed) {
                        if (previous)
                                (void) write_file_atomic(installed_path, previous, previous_size, 0644);
                        else
                                (void) unlink(installed_path);
                        ret->profile_changed = false;
                }
                return r;
        }
        ret->daemon_json_changed = r > 0;
        return 0;
}

int profile_digest_record(const char *state_directory, const char *installed_path, const char *digest) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        int n;

        if (asprintf(&path, "%s/%s", state_directory, PROFILE_DIGEST_FILE) < 0)
                return -ENOMEM;
        n = asprintf(&text, "%s  %s\n", digest, installed_path);
        if (n < 0)
                return -ENOMEM;
        return write_file_atomic(path, text, (size_t) n, 0600);
}

int profile_digest_verify(const char *state_directory, const char *installed_path, char *why, size_t why_size) {
        _cleanup_free_ char *path = NULL, *record = NULL, *content = NULL;
        char recorded[PROFILE_DIGEST_HEX], now[PROFILE_DIGEST_HEX];
        size_t size = 0, record_size = 0;
        int r;

        if (asprintf(&path, "%s/%s", state_directory, PROFILE_DIGEST_FILE) < 0)
                return -ENOMEM;
        r = read_file(path, 8192, &record, &record_size);
        if (r == -ENOENT) {
                snprintf(why, why_size, "no digest of %s was recorded at install (%s): install it with hostctl "
                         "seccomp install", installed_path, path);
                return r;
        }
        if (r < 0) {
                snprintf(why, why_size, "cannot read %s: %s", path, strerror(-r));
                return r;
        }
        /* "HEX  PATH\n", for this path only: the configuration may name another */
        size_t hex_len = strspn(record, "0123456789abcdef");
        if (hex_len != PROFILE_DIGEST_HEX - 1 || strncmp(record + hex_len, "  ", 2) != 0 ||
            strcspn(record + hex_len + 2, "\n") != strlen(installed_path) ||
            strncmp(record + hex_len + 2, installed_path, strlen(installed_path)) != 0) {
                snprintf(why, why_size, "%s records no digest of %s: install it with hostctl seccomp install", path,
                         installed_path);
                return -ENOENT;
        }
        snprintf(recorded, sizeof(recorded), "%.*s", (int) hex_len, record);
        r = read_file(installed_path, SECCOMP_PROFILE_MAX_SIZE, &content, &size);
        if (r < 0) {
                snprintf(why, why_size, "cannot read %s: %s", installed_path,
                         r == -E2BIG ? "larger than 4 MiB" : strerror(-r));
                return r;
        }
        r = sha256_hex(content, size, now);
        if (r < 0) {
                snprintf(why, why_size, "cannot compute the SHA-256 of %s", installed_path);
                return r;
        }
        if (!STREQ(now, recorded)) {
                snprintf(why, why_size, "%s changed since hostd installed it: SHA-256 %s, recorded %s", installed_path,
                         now, recorded);
                return -EBADMSG;
        }
        return 0;
}

static int read_boot_id(char ret[static 37]) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_file("/proc/sys/kernel/random/boot_id", 64, &text, NULL);
        if (r < 0)
                return r;
        snprintf(ret, 37, "%.36s", text);
        return 0;
}

int profile_pending_record(const char *state_directory, const char *installed_path) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        char boot_id[37];
        int r, n;

        r = read_boot_id(boot_id);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s", state_directory, PROFILE_PENDING_FILE) < 0)
                return -ENOMEM;
        n = asprintf(&text, "%s %" PRIu64 " %s\n", boot_id, clock_usec(CLOCK_BOOTTIME), installed_path);
        if (n < 0)
                return -ENOMEM;
        return write_file_atomic(path, text, (size_t) n, 0600);
}

int process_start_boottime_usec(const char *proc_root, pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        unsigned long long ticks;
        const char *p;
        long hz = sysconf(_SC_CLK_TCK);
        int r;

        if (asprintf(&path, "%s/%d/stat", proc_root, (int) pid) < 0)
                return -ENOMEM;
        r = read_file(path, 4096, &text, NULL);
        if (r < 0)
                return r;
        /* the command name may hold spaces and parentheses: skip past the last ')' */
        p = strrchr(text, ')');
        if (!p || hz <= 0)
                return -EBADMSG;
        /* fields after ")": state(3) ... starttime(22) */
        if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                   &ticks) != 1)
                return -EBADMSG;
        *ret = (uint64_t) ticks * 1000000u / (uint64_t) hz;
        return 0;
}

int profile_restart_pending(const char *state_directory, const char *docker_socket, const char *dockerd_pidfile) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        char boot_id[37], recorded_boot[37];
        unsigned long long installed_at;
        uint64_t started;
        pid_t pid;
        int r;

        if (asprintf(&path, "%s/%s", state_directory, PROFILE_PENDING_FILE) < 0)
                return -ENOMEM;
        r = read_file(path, 8192, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (sscanf(text, "%36s %llu", recorded_boot, &installed_at) != 2) {
                unlink(path); /* unreadable: a restart cannot be proven pending */
                return 0;
        }
        r = read_boot_id(boot_id);
        if (r < 0)
                return r;
        if (STREQ(boot_id, recorded_boot)) {
                r = docker_daemon_pid(docker_socket, dockerd_pidfile, &pid);
                if (r >= 0)
                        r = process_start_boottime_usec("/proc", pid, &started);
                if (r < 0)
                        return r;
                if (started < installed_at)
                        return 1;
        }
        unlink(path);
        return 0;
}
