/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Installing a profile as dockerd's default: validated first, nothing
 * changed on any error, daemon.json keeps its other keys; the pending
 * restart is settled by the start time of the process behind the socket;
 * the installed content is recorded by its SHA-256 (sha256sum's format)
 * and a file changed behind hostd's back is told apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "hostd/docker-client.h"
#include "hostd/seccomp-install.h"
#include "tests/unit/scratch-dir.h"

static const char good_profile[] =
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
        " {\"names\": [\"read\", \"write\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}]}\n";
static const char bad_profile[] =
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
        " {\"names\": [\"read\", \"wrte\"], \"action\": \"SCMP_ACT_ALLOW\"}]}\n";
static const char daemon_json_text[] = "{\n  \"log-driver\": \"journald\",\n  \"icc\": false\n}\n";

static char *path_in(void **state, const char *name) {
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s", (char *) *state, name) > 0);
        return p;
}

__attribute__((noinline)) static char *slurp(const char *path) {
        char *text = NULL;

        assert_int_equal(read_file(path, 1 << 20, &text, NULL), 0);
        return text;
}

static void put(const char *path, const char *text, mode_t mode) {
        assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
}

static void test_install_and_reinstall(void **state) {
        _cleanup_free_ char *src = path_in(state, "src.json"), *dst = path_in(state, "etc/docker/seccomp/p.json");
        _cleanup_free_ char *dj = path_in(state, "daemon.json"), *text = NULL;
        ProfileInstall res;
        struct stat st;

        put(src, good_profile, 0600);
        put(dj, daemon_json_text, 0640);
        assert_int_equal(profile_install(src, dst, dj, NULL, &res), 0);
        assert_true(res.profile_changed);
        assert_true(res.daemon_json_changed);
        assert_int_equal(res.stats.syscalls_added, 3);
        text = slurp(dst);
        assert_string_equal(text, good_profile);
        assert_int_equal(stat(dst, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644); /* dockerd and auditors read it */
        free(text);
        text = slurp(dj);
        assert_non_null(strstr(text, "\"log-driver\": \"journald\""));
        assert_non_null(strstr(text, "\"icc\": false"));
        assert_non_null(strstr(text, "\"seccomp-profile\": \""));
        assert_non_null(strstr(text, dst));
        assert_int_equal(stat(dj, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);

        /* the same again changes nothing */
        assert_int_equal(profile_install(src, dst, dj, NULL, &res), 0);
        assert_false(res.profile_changed);
        assert_false(res.daemon_json_changed);
}

static void test_bad_profile_changes_nothing(void **state) {
        _cleanup_free_ char *src = path_in(state, "bad.json"), *dst = path_in(state, "bad-dst.json");
        _cleanup_free_ char *dj = path_in(state, "daemon-bad.json"), *text = NULL;
        ProfileInstall res;

        put(src, bad_profile, 0600);
        put(dj, daemon_json_text, 0644);
        assert_int_equal(profile_install(src, dst, dj, NULL, &res), -EINVAL);
        /* FILE:LINE:COL: PATH: MESSAGE */
        assert_non_null(strstr(res.error, "bad.json:2:21: syscalls[0].names[1]: unknown syscall \"wrte\""));
        assert_int_equal(access(dst, F_OK), -1);
        text = slurp(dj);
        assert_string_equal(text, daemon_json_text);
}

static void test_bad_daemon_json_changes_nothing(void **state) {
        _cleanup_free_ char *src = path_in(state, "src2.json"), *dst = path_in(state, "dst2.json");
        _cleanup_free_ char *dj = path_in(state, "daemon-broken.json"), *text = NULL;
        ProfileInstall res;

        put(src, good_profile, 0600);
        put(dst, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n", 0644);
        put(dj, "{\"icc\": false,", 0644);
        assert_true(profile_install(src, dst, dj, NULL, &res) < 0);
        assert_non_null(strstr(res.error, "daemon-broken.json"));
        /* the previously installed profile is still there, unchanged */
        text = slurp(dst);
        assert_string_equal(text, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n");
        free(text);
        text = slurp(dj);
        assert_string_equal(text, "{\"icc\": false,");
        free(text);

        /* valid JSON, but not an object */
        put(dj, "[\"icc\", false]\n", 0644);
        assert_true(profile_install(src, dst, dj, NULL, &res) < 0);
        assert_non_null(strstr(res.error, "daemon-broken.json"));
        assert_non_null(strstr(res.error, "object"));
        text = slurp(dst);
        assert_string_equal(text, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n");
        free(text);
        text = slurp(dj);
        assert_string_equal(text, "[\"icc\", false]\n");
}

static void test_missing_source(void **state) {
        _cleanup_free_ char *dst = path_in(state, "dst3.json"), *dj = path_in(state, "daemon3.json");
        ProfileInstall res;

        assert_int_equal(profile_install("/nonexistent/p.json", dst, dj, NULL, &res), -ENOENT);
        assert_string_equal(res.error, "/nonexistent/p.json: No such file or directory");
        assert_int_equal(access(dj, F_OK), -1);
}

static void test_process_start_time(void **state _unused_) {
        struct timespec ts;
        uint64_t started, now;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        now = (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
        assert_int_equal(process_start_boottime_usec("/proc", getpid(), &started), 0);
        assert_true(started > 0 && started <= now);
        assert_int_equal(process_start_boottime_usec("/proc", 0x7ffffff0, &started), -ENOENT);
}

/* A stand-in for dockerd (named so): a process that listens on path (NULL:
 * none, a socket systemd holds) until killed. */
static pid_t serve_socket(const char *path) {
        int ready[2];
        pid_t pid;
        char c;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                prctl(PR_SET_NAME, "dockerd");
                if (!path) {
                        (void) !write(ready[1], "x", 1);
                        for (;;)
                                pause();
                }
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
                unlink(path);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
                        _exit(1);
                (void) !write(ready[1], "x", 1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        return pid;
}

static void stop(pid_t pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void test_restart_pending(void **state) {
        _cleanup_free_ char *sock = path_in(state, "docker.sock"), *record = path_in(state, PROFILE_PENDING_FILE);
        const char *dir = *state;
        pid_t old_dockerd, new_dockerd;

        assert_int_equal(profile_restart_pending(dir, sock, NULL), 0); /* nothing recorded */

        old_dockerd = serve_socket(sock);
        /* /proc counts start times in clock ticks: keep the install a tick apart */
        usleep(30 * 1000);
        assert_int_equal(profile_pending_record(dir, "/etc/docker/seccomp/p.json"), 0);
        assert_int_equal(profile_restart_pending(dir, sock, NULL), 1);
        stop(old_dockerd);
        /* dockerd not running: undecided, the record stays */
        assert_true(profile_restart_pending(dir, sock, NULL) < 0);
        assert_int_equal(access(record, F_OK), 0);

        usleep(30 * 1000);
        new_dockerd = serve_socket(sock);
        assert_int_equal(profile_restart_pending(dir, sock, NULL), 0);
        assert_int_equal(access(record, F_OK), -1); /* settled: the record is gone */
        stop(new_dockerd);
}

/* dockerd started with --seccomp-profile: the install would stop the next
 * dockerd from starting, so it is refused, naming the flag, and nothing is
 * written */
static void test_flag_on_dockerd_command_line(void **state) {
        _cleanup_free_ char *src = path_in(state, "src.json"), *dst = path_in(state, "etc/docker/seccomp/flag.json");
        _cleanup_free_ char *dj = path_in(state, "daemon-flag.json"), *cmdline = path_in(state, "cmdline");
        _cleanup_free_ char *text = NULL;
        static const char with_space[] = "/usr/sbin/dockerd\0-H\0fd://\0--seccomp-profile\0/etc/docker/mine.json\0";
        static const char with_equals[] = "dockerd\0--seccomp-profile=/etc/docker/mine.json\0";
        static const char without[] = "dockerd\0--seccomp-profiles-are-not-this\0-H\0fd://\0";
        ProfileInstall res;
        struct stat st;

        put(src, good_profile, 0600);
        put(dj, daemon_json_text, 0640);
        assert_int_equal(write_file_atomic(cmdline, with_space, sizeof(with_space) - 1, 0600), 0);
        assert_int_equal(profile_install(src, dst, dj, cmdline, &res), -EEXIST);
        assert_non_null(strstr(res.error, "dockerd runs with --seccomp-profile /etc/docker/mine.json"));
        assert_non_null(strstr(res.error, "nothing was changed"));
        assert_int_equal(stat(dst, &st), -1);
        text = slurp(dj);
        assert_string_equal(text, daemon_json_text);

        assert_int_equal(write_file_atomic(cmdline, with_equals, sizeof(with_equals) - 1, 0600), 0);
        assert_int_equal(profile_install(src, dst, dj, cmdline, &res), -EEXIST);
        assert_non_null(strstr(res.error, "--seccomp-profile /etc/docker/mine.json"));

        /* another flag that starts the same is not it */
        assert_int_equal(write_file_atomic(cmdline, without, sizeof(without) - 1, 0600), 0);
        assert_int_equal(profile_install(src, dst, dj, cmdline, &res), 0);
        assert_true(res.daemon_json_changed);
}

static void test_digest(void **state) {
        _cleanup_free_ char *src = path_in(state, "digest-src.json"), *dst = path_in(state, "etc/docker/seccomp/d.json");
        _cleanup_free_ char *dj = path_in(state, "daemon-digest.json"), *dir = path_in(state, "digest-state");
        _cleanup_free_ char *record = NULL, *cmd = NULL;
        char why[512];
        ProfileInstall res;
        FILE *f;

        assert_int_equal(mkdir_p(dir, 0700), 0);
        put(src, good_profile, 0600);
        put(dj, daemon_json_text, 0640);
        assert_int_equal(profile_install(src, dst, dj, NULL, &res), 0);
        assert_int_equal(strlen(res.digest), 64);
        /* nothing recorded yet: never passes */
        assert_int_equal(profile_digest_verify(dir, dst, why, sizeof(why)), -ENOENT);
        assert_non_null(strstr(why, "no digest of"));
        assert_int_equal(profile_digest_record(dir, dst, res.digest), 0);
        assert_int_equal(profile_digest_verify(dir, dst, why, sizeof(why)), 0);
        /* the record is what sha256sum -c checks */
        assert_true(asprintf(&cmd, "cd / && sha256sum --status -c %s/%s", dir, PROFILE_DIGEST_FILE) > 0);
        assert_int_equal(system(cmd), 0);
        /* recorded for another path: not this one's */
        assert_int_equal(profile_digest_verify(dir, src, why, sizeof(why)), -ENOENT);
        assert_non_null(strstr(why, "records no digest of"));

        /* one byte changed behind hostd's back */
        f = fopen(dst, "a");
        assert_non_null(f);
        fputs(" ", f);
        fclose(f);
        assert_int_equal(profile_digest_verify(dir, dst, why, sizeof(why)), -EBADMSG);
        assert_non_null(strstr(why, "changed since hostd installed it"));
        assert_non_null(strstr(why, res.digest));
        assert_int_not_equal(system(cmd), 0);
        /* removed */
        assert_int_equal(unlink(dst), 0);
        assert_int_equal(profile_digest_verify(dir, dst, why, sizeof(why)), -ENOENT);
        assert_non_null(strstr(why, "cannot read"));
        /* a damaged record */
        assert_true(asprintf(&record, "%s/%s", dir, PROFILE_DIGEST_FILE) > 0);
        put(record, "not a digest\n", 0600);
        assert_int_equal(profile_digest_verify(dir, dst, why, sizeof(why)), -ENOENT);
        assert_non_null(strstr(why, "records no digest"));
}

/* docker.socket: systemd listens (here the test process, not a dockerd),
 * dockerd -H fd:// serves: the peer is not dockerd, its pidfile names it. */
static void test_socket_activated(void **state) {
        _cleanup_free_ char *sock = path_in(state, "activated.sock"), *pidfile = path_in(state, "docker.pid");
        _cleanup_free_ char *dir = path_in(state, "activated-state"), *text = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        pid_t dockerd, found = 0, not_dockerd = getpid();

        assert_int_equal(mkdir_p(dir, 0700), 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
        assert_true(listener >= 0);
        assert_int_equal(bind(listener, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(listener, 4), 0);
        /* the listener is not dockerd, and there is no pidfile: not told */
        assert_int_equal(docker_daemon_pid(sock, pidfile, &found), -ESRCH);
        assert_int_equal(docker_daemon_pid(sock, NULL, &found), -ESRCH);
        /* a pidfile naming a process that is not dockerd: not told either */
        assert_true(asprintf(&text, "%d\n", (int) not_dockerd) > 0);
        put(pidfile, text, 0644);
        assert_int_equal(docker_daemon_pid(sock, pidfile, &found), -ESRCH);

        usleep(30 * 1000);
        assert_int_equal(profile_pending_record(dir, "/etc/docker/seccomp/p.json"), 0);
        usleep(30 * 1000);
        dockerd = serve_socket(NULL);
        free(text);
        text = NULL;
        assert_true(asprintf(&text, "%d\n", (int) dockerd) > 0);
        put(pidfile, text, 0644);
        assert_int_equal(docker_daemon_pid(sock, pidfile, &found), 0);
        assert_int_equal(found, dockerd);
        /* started after the install: settled by the pidfile's dockerd, not
         * by the older listener */
        assert_int_equal(profile_restart_pending(dir, sock, pidfile), 0);
        stop(dockerd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_flag_on_dockerd_command_line),
                cmocka_unit_test(test_install_and_reinstall),
                cmocka_unit_test(test_bad_profile_changes_nothing),
                cmocka_unit_test(test_bad_daemon_json_changes_nothing),
                cmocka_unit_test(test_missing_source),
                cmocka_unit_test(test_process_start_time),
                cmocka_unit_test(test_restart_pending),
                cmocka_unit_test(test_digest),
                cmocka_unit_test(test_socket_activated),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
