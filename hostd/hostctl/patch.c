/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl patch plan | stage | apply | rollback | history. */

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "hostd/hostctl/hostctl.h"
#include "patching/journal.h"

static void print_plan(const json_t *plan) {
        size_t i, n_packages = json_array_size(json_object_get(plan, "packages"));
        uint64_t now = clock_usec(CLOCK_REALTIME);
        json_t *p;

        printf("%-32s %-22s %-22s %-8s %s\n", "PACKAGE", "FROM", "TO", "SECURITY", "REASON");
        json_array_foreach(json_object_get(plan, "packages"), i, p) {
                const char *from = json_string_value(json_object_get(p, "from"));
                const char *suite = json_string_value(json_object_get(p, "suite"));
                const char *matched = json_string_value(json_object_get(p, "matched"));
                const char *reason = json_string_value(json_object_get(p, "reason"));
                char why[192], age[32];

                if (json_is_true(json_object_get(p, "included")))
                        snprintf(why, sizeof(why), "%s (%s)", from ? "upgrade" : "new", suite ? suite : "?");
                else if (STREQ(reason, "newer than the minimum age")) {
                        uint64_t seen = (uint64_t) json_integer_value(json_object_get(p, "first_seen"));
                        format_duration((json_int_t) ((now - seen) / 1000000), age, sizeof(age));
                        snprintf(why, sizeof(why), "skipped: %s (offered %s ago)", reason, age);
                } else
                        snprintf(why, sizeof(why), "skipped: %s%s%s%s", reason, matched ? " (" : "",
                                 matched ? matched : "", matched ? ")" : "");
                printf("%-32s %-22s %-22s %-8s %s\n", json_string_value(json_object_get(p, "name")),
                       from ? from : "-", json_string_value(json_object_get(p, "to")),
                       json_is_true(json_object_get(p, "security")) ? "yes" : "no", why);
        }
        printf("\nplan %.12s: %" JSON_INTEGER_FORMAT " of %zu updates included, %" JSON_INTEGER_FORMAT
               " security\n",
               json_string_value(json_object_get(plan, "id")), json_integer_value(json_object_get(plan, "included")),
               n_packages, json_integer_value(json_object_get(plan, "security")));
}

static bool print_fetched(const char *what, const json_t *list) {
        bool all = true;
        size_t i;
        json_t *f;

        json_array_foreach(list, i, f) {
                const char *error = json_string_value(json_object_get(f, "error"));
                printf("%-9s %-32s %-22s %s%s\n", what, json_string_value(json_object_get(f, "name")),
                       json_string_value(json_object_get(f, "version")), error ? "NOT STAGED: " : "staged",
                       error ? error : "");
                all = all && !error;
        }
        return all;
}

static void print_entry(const json_t *e) {
        printf("transaction %s: %s: %s\n", json_string_value(json_object_get(e, "id")),
               json_string_value(json_object_get(e, "state")), json_string_value(json_object_get(e, "message")));
}

static void print_reboot(const json_t *r) {
        if (json_is_true(json_object_get(r, "required")))
                printf("reboot required: %s\n", json_string_value(json_object_get(r, "reasons")));
        else if (json_is_false(json_object_get(r, "required")))
                printf("no reboot required\n");
        else
                printf("reboot: %s\n", json_string_value(json_object_get(r, "reasons")));
}

static void print_history(const json_t *entries) {
        size_t i;
        json_t *e;

        printf("%-30s %-13s %-20s %-8s %s\n", "TRANSACTION", "STATE", "STARTED (UTC)", "PACKAGES", "MESSAGE");
        json_array_foreach(entries, i, e) {
                time_t t = (time_t) (json_integer_value(json_object_get(e, "started")) / 1000000);
                struct tm tm;
                char when[32];
                PackageSet before = {}, after = {};
                PackageDiff diff = {};
                size_t k;
                json_t *p;

                gmtime_r(&t, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                json_array_foreach(json_object_get(e, "before"), k, p)
                        package_set_put(&before, json_string_value(json_array_get(p, 0)),
                                        json_string_value(json_array_get(p, 1)), json_string_value(json_array_get(p, 2)));
                json_array_foreach(json_object_get(e, "after"), k, p)
                        package_set_put(&after, json_string_value(json_array_get(p, 0)),
                                        json_string_value(json_array_get(p, 1)), json_string_value(json_array_get(p, 2)));
                /* the packages the transaction changed, as the host is now recorded */
                if (package_set_diff(&before, &after, &diff) < 0)
                        diff = (PackageDiff){};
                printf("%-30s %-13s %-20s %-8zu %s\n", json_string_value(json_object_get(e, "id")),
                       json_string_value(json_object_get(e, "state")), when, diff.install.n + diff.remove.n,
                       json_string_value(json_object_get(e, "message")));
                package_diff_done(&diff);
                package_set_done(&before);
                package_set_done(&after);
        }
        if (json_array_size(entries) == 0)
                printf("(no transactions)\n");
}

static void print_progress(const json_t *p, bool tty) {
        printf(tty ? "\r\033[K[%3" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "] %s" :
                     "[%3" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "] %s\n",
               json_integer_value(json_object_get(p, "done")), json_integer_value(json_object_get(p, "total")),
               json_string_value(json_object_get(p, "action")));
        fflush(stdout);
}

/* Reads the worker's report: progress as it comes, then the result. */
static json_t *read_worker(int fd, pid_t pid, bool show_progress, char *err, size_t err_size) {
        _cleanup_fclose_ FILE *f = fdopen(fd, "re");
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;
        json_t *result = NULL;
        bool tty = isatty(STDOUT_FILENO), progress_shown = false;
        int status;

        if (!f)
                close(fd); /* the worker then ends on a closed socket */

        snprintf(err, err_size, "the patch worker ended without a report");
        while (f && getline(&line, &allocated, f) > 0) {
                PatchWorkerLine l;
                char why[160];

                if (patch_worker_parse_line(line, &l, why, sizeof(why)) < 0)
                        continue;
                if (l.kind == PATCH_LINE_PROGRESS && show_progress) {
                        print_progress(l.value, tty);
                        progress_shown = true;
                } else if (l.kind == PATCH_LINE_RESULT) {
                        json_decref(result);
                        result = json_incref((json_t *) l.value);
                } else if (l.kind == PATCH_LINE_ERROR)
                        snprintf(err, err_size, "%s", json_string_value(l.value));
                json_decref(l.line);
        }
        if (tty && progress_shown)
                printf("\n");
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return result;
}

/* Starts the job in hostd and follows it to its end. Returns 0 with the
 * result, or the exit code (message printed). */
static int patch_via_hostd(const PatchRequest *req, json_t **ret) {
        _cleanup_(json_decrefp) json_t *reply = NULL, *body = json_object();
        char path[128];
        json_int_t job, next = 0;
        bool tty = isatty(STDOUT_FILENO), shown = false;
        long status;

        if (req->op == PATCH_OP_HISTORY) {
                status = call_hostd("GET", "/v1/patch/history", NULL, &reply);
                if (status != 200)
                        return reply_error(status, reply);
                *ret = TAKE_PTR(reply);
                return 0;
        }
        if (!body)
                return EXIT_FAILED;
        if (req->refresh)
                json_object_set_new(body, "refresh", json_true());
        if (req->expected_plan)
                json_object_set_new(body, "plan", json_string(req->expected_plan));
        if (req->entry_id)
                json_object_set_new(body, "id", json_string(req->entry_id));
        snprintf(path, sizeof(path), "/v1/patch/%s", patch_op_to_string(req->op));
        status = call_hostd("POST", path, body, &reply);
        if (status != 202)
                return reply_error(status, reply);
        job = json_integer_value(json_object_get(reply, "job"));
        for (;;) {
                size_t i;
                json_t *p;

                json_decref(reply);
                reply = NULL;
                /* answered as soon as there is news: a long poll, no sleeping */
                snprintf(path, sizeof(path), "/v1/patch/job?id=%" JSON_INTEGER_FORMAT "&after=%" JSON_INTEGER_FORMAT,
                         job, next);
                status = call_hostd_timeout("GET", path, NULL, &reply, 0);
                if (status != 200)
                        return reply_error(status, reply);
                json_array_foreach(json_object_get(reply, "progress"), i, p) {
                        if (!arg_json)
                                print_progress(p, tty);
                        shown = true;
                }
                next = json_integer_value(json_object_get(reply, "next"));
                if (json_is_true(json_object_get(reply, "finished")))
                        break;
        }
        if (tty && shown && !arg_json)
                printf("\n");
        if (json_is_object(json_object_get(reply, "result"))) {
                *ret = json_incref(json_object_get(reply, "result"));
                return 0;
        }
        fprintf(stderr, "hostctl: hostd: %s\n", json_string_value(json_object_get(reply, "error")));
        return EXIT_FAILED;
}

/* hostd-patch-worker, opened (O_PATH): next to hostctl when it is there (a
 * build tree) and owned by root or the caller and writable by no one else,
 * else where the packages install it. Executed through this descriptor:
 * the file checked is the file run. */
static int open_worker_program(char *path, size_t size) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        struct stat st;
        char *slash;
        int fd;

        if (n > 0) {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash && (size_t) (slash - self) + sizeof("/hostd-patch-worker") <= size) {
                        memcpy(path, self, (size_t) (slash - self));
                        strcpy(path + (slash - self), "/hostd-patch-worker");
                        fd = open(path, O_PATH | O_CLOEXEC);
                        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                            (st.st_uid == 0 || st.st_uid == geteuid()) && !(st.st_mode & (S_IWGRP | S_IWOTH)))
                                return fd;
                        if (fd >= 0)
                                close(fd);
                }
        }
        snprintf(path, size, "%s/hostd-patch-worker", HOSTD_LIBEXECDIR);
        fd = open(path, O_PATH | O_CLOEXEC);
        return fd >= 0 ? fd : -errno;
}

/* Starts hostd-patch-worker on the same arguments, its report on fd 3: the
 * package managers' libraries are loaded only by the operations that use
 * them, and hostctl's other verbs start without them. */
static int start_worker(char *argv[], pid_t *ret_pid, int *ret_fd) {
        char program[PATH_MAX];
        _cleanup_close_ int program_fd = -1;
        int fds[2];
        pid_t pid;

        program_fd = open_worker_program(program, sizeof(program));
        if (program_fd < 0) {
                fprintf(stderr, "hostctl: %s: %s\n", program, strerror(-program_fd));
                return program_fd;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(fds[0]);
                close(fds[1]);
                return r;
        }
        if (pid == 0) {
                int null, report, moved;

                /* the report socket on fd 3, open across the exec; the
                 * program on fd 4; nothing else but stdin, stdout (away
                 * from the terminal and from hostctl's own output) and
                 * stderr. Both are first moved above where they go, so
                 * that neither lands on the other, whatever descriptors
                 * hostctl started with. */
                report = fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
                moved = fcntl(program_fd, F_DUPFD_CLOEXEC, 10);
                if (report < 0 || moved < 0 || dup2(report, 3) < 0 || dup3(moved, 4, O_CLOEXEC) < 0)
                        _exit(127);
                close_range(5, ~0U, 0);
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
                        _exit(127);
                argv[0] = (char *) "hostd-patch-worker";
                execveat(4, "", argv, environ, AT_EMPTY_PATH);
                fprintf(stderr, "hostctl: cannot run %s: %m\n", program);
                _exit(127);
        }
        close(fds[1]);
        *ret_pid = pid;
        *ret_fd = fds[0];
        return 0;
}

/* The operation's result: through hostd without --root, else from a
 * worker process. 0 or an exit code (said). */
static int run_patch(const PatchRequest *req, char *argv[], json_t **ret) {
        char err[4096] = "";
        pid_t pid = 0;
        int fd = -1, r;

        if (!req->root) {
                r = patch_via_hostd(req, ret);
                if (r == 0 && !*ret) {
                        fprintf(stderr, "hostctl: hostd answered without a result\n");
                        return EXIT_FAILED;
                }
                return r;
        }
        r = start_worker(argv, &pid, &fd);
        if (r < 0) {
                fprintf(stderr, "hostctl: cannot start the patch worker: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        *ret = read_worker(fd, pid, !arg_json, err, sizeof(err));
        if (!*ret) {
                fprintf(stderr, "hostctl: %s: %s\n", req->root, err);
                return EXIT_FAILED;
        }
        return 0;
}

/* The result as a table; the exit code (a stage not complete fails). */
static int print_patch_result(PatchOp op, const json_t *result) {
        const json_t *stage = json_object_get(result, "stage");

        switch (op) {
        case PATCH_OP_PLAN:
                print_plan(json_object_get(result, "plan"));
                return 0;
        case PATCH_OP_STAGE:
                print_fetched("apply", json_object_get(stage, "apply"));
                print_fetched("rollback", json_object_get(stage, "rollback"));
                printf("\nplan %.12s: %s, %s\n", json_string_value(json_object_get(json_object_get(result, "plan"), "id")),
                       json_is_true(json_object_get(stage, "complete")) ? "staged completely" : "NOT staged completely",
                       json_is_true(json_object_get(stage, "reversible")) ? "reversible" :
                                                                            "NOT reversible (see the rollback lines)");
                return json_is_true(json_object_get(stage, "complete")) ? 0 : EXIT_FAILED;
        case PATCH_OP_APPLY:
                if (json_is_null(json_object_get(result, "entry"))) {
                        printf("nothing to apply: the plan includes no update\n");
                        return 0;
                }
                print_entry(json_object_get(result, "entry"));
                print_reboot(json_object_get(result, "reboot"));
                return 0;
        case PATCH_OP_ROLLBACK:
                print_entry(json_object_get(result, "entry"));
                print_reboot(json_object_get(result, "reboot"));
                return 0;
        case PATCH_OP_HISTORY:
                print_history(json_object_get(result, "entries"));
                return 0;
        default:
                return EXIT_FAILED;
        }
}

int cmd_patch(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *result = NULL;
        PatchArgs args = {};
        int r;

        r = patch_args_parse(argc, argv, &args);
        if (r != 0)
                return r;
        r = run_patch(&args.req, argv, &result);
        if (r != 0)
                return r;
        if (arg_json && args.req.op == PATCH_OP_PLAN)
                return print_json(json_object_get(result, "plan"));
        if (arg_json)
                return print_json(result) == 0 &&
                                       (args.req.op != PATCH_OP_STAGE ||
                                        json_is_true(json_object_get(json_object_get(result, "stage"), "complete")))
                               ? 0
                               : EXIT_FAILED;
        return print_patch_result(args.req.op, result);
}
