/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "hostd/patch-worker.h"
#include "patching/patch.h"

json_t *patch_plan_to_json(const Plan *plan) {
        json_t *items = json_array();

        for (size_t i = 0; items && i < plan->n; i++) {
                const PlanItem *it = &plan->items[i];
                json_array_append_new(items,
                                      json_pack("{s:s, s:s, s:s?, s:s, s:b, s:s?, s:s?, s:b, s:s, s:s?, s:I}",
                                                "name", it->update.name, "arch", it->update.arch, "from",
                                                it->update.from, "to", it->update.to, "security",
                                                it->update.security, "origin", it->update.origin, "suite",
                                                it->update.suite, "included", it->decision == PLAN_INCLUDED,
                                                "reason", plan_decision_to_string(it->decision), "matched",
                                                it->matched, "first_seen", (json_int_t) it->first_seen_usec));
        }
        return json_pack("{s:s, s:I, s:I, s:o}", "id", plan->id, "included", (json_int_t) plan->n_included,
                         "security", (json_int_t) plan->n_security, "packages", items);
}

/* HOSTD_TEST_CRASH_AT=POINT: at that point of an apply, the worker's
 * whole process group is killed, as a power loss would end it: how the
 * fault tests reach the points between two of the worker's own steps. */
static void on_checkpoint(void *userdata _unused_, const char *point) {
        const char *at = getenv("HOSTD_TEST_CRASH_AT");

        if (at && STREQ(at, point))
                kill(0, SIGKILL);
}

static void on_progress(void *userdata, const char *package, unsigned done, unsigned total, const char *action) {
        int fd = *(int *) userdata;

        patch_report_write(fd, json_pack("{s:{s:s, s:i, s:i, s:s}}", "progress", "package", package, "done", done, "total",
                                 total, "action", action));
}

static bool is_glob(const char *s) {
        return strpbrk(s, "*?[") != NULL;
}

static bool known(const char *name, const PackageSet *installed, const PackageUpdate *u, size_t n) {
        for (size_t i = 0; i < installed->n; i++)
                if (STREQ(installed->items[i].name, name))
                        return true;
        for (size_t i = 0; i < n; i++)
                if (STREQ(u[i].name, name))
                        return true;
        return false;
}

/* A policy that names a package the root neither has nor is offered is a
 * mistake (a typo would otherwise hold nothing): refuse it. Globs may
 * match nothing. */
static int check_policy_names(const PatchPolicy *policy, const PackageSet *installed, const PackageUpdate *u,
                              size_t n, char *err, size_t err_size) {
        const struct {
                const char *key;
                const char *const *names;
        } lists[] = { { "hold", policy->held }, { "allow", policy->allow }, { "deny", policy->deny } };

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t i = 0; lists[l].names && lists[l].names[i]; i++)
                        if (!is_glob(lists[l].names[i]) && !known(lists[l].names[i], installed, u, n)) {
                                snprintf(err, err_size,
                                         "patching.%s[%zu]: no package \"%s\" is installed or offered here",
                                         lists[l].key, i, lists[l].names[i]);
                                return -ENOENT;
                        }
        return 0;
}

static bool plan_matches(const Plan *plan, const char *expected) {
        size_t n = strlen(expected);

        return n >= 12 && n <= 64 && strncmp(plan->id, expected, n) == 0;
}

static json_t *reboot_json(PackageBackend *b, const char *state_dir) {
        RebootStatus s = {};
        struct utsname u;

        uname(&u);
        if (patch_reboot_required(b, state_dir, u.release, &s) < 0)
                return json_pack("{s:n, s:s}", "required", "reasons", "unknown: the patch journal cannot be read");
        return json_pack("{s:b, s:s}", "required", s.required, "reasons", s.reasons);
}

static json_t *fetch_json(const PackageSet *set, const FetchResult *r) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < set->n; i++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "name", set->items[i].name,
                                                   "arch", set->items[i].arch, "version", set->items[i].version,
                                                   "file", r[i].file, "error", r[i].error));
        return a;
}

/* running: an operation holds the root's patch lock, so an unfinished
 * entry is its transaction, going on; otherwise an unfinished entry was
 * interrupted and not yet recovered */
static json_t *history(const char *state_dir, bool running, char *err, size_t err_size) {
        _cleanup_free_ char *dir = NULL, *error_file = NULL;
        JournalEntry **list = NULL;
        JournalError jerr = {};
        size_t n = 0;
        json_t *entries;
        int r;

        if (asprintf(&dir, "%s/journal", state_dir) < 0)
                return NULL;
        r = journal_list(dir, &list, &n, &jerr, &error_file);
        if (r < 0) {
                char where[1024];
                located_error_format(&jerr, error_file ? error_file : dir, where, sizeof(where));
                snprintf(err, err_size, "the patch journal cannot be read: %s", where);
                return NULL;
        }
        entries = json_array();
        for (size_t i = 0; entries && i < n; i++) {
                json_t *e = journal_entry_to_json(list[i]);

                if (e && journal_entry_unfinished(list[i])) {
                        json_object_set_new(e, "running", json_boolean(running));
                        if (!running)
                                json_object_set_new(e, "interrupted", json_true());
                }
                json_array_append_new(entries, e);
        }
        journal_list_free(list, n);
        return json_pack("{s:o}", "entries", entries);
}

/* One patch operation at a time on a root, whoever runs it (hostd's
 * workers, hostctl --root): an exclusive lock on STATE/lock, waited for.
 * A worker left running by a hostd that was killed keeps it until its
 * transaction ends, so the journal read after a restart shows how it
 * ended, not "applying". The kernel drops the lock of a dead worker. */
static int lock_state(const char *state_dir, const PatchRequest *req, int *ret_fd, char *err, size_t err_size) {
        _cleanup_free_ char *path = NULL;
        PatchOp op = req->op;
        int fd, r;

        *ret_fd = -1;
        if (op == PATCH_OP_HISTORY || op == PATCH_OP_PLAN) {
                if (access(state_dir, F_OK) < 0)
                        return 0; /* nothing ever ran here: nothing to wait for */
        } else if ((r = mkdir_p(state_dir, 0700)) < 0) {
                snprintf(err, err_size, "cannot create %s: %s", state_dir, strerror(-r));
                return r;
        }
        if (asprintf(&path, "%s/lock", state_dir) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                snprintf(err, err_size, "cannot open %s: %m", path);
                return -errno;
        }
        while (flock(fd, LOCK_EX | (req->in_process ? LOCK_NB : 0)) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno == EWOULDBLOCK) {
                        /* read in hostd's loop: not waited for (-EAGAIN, fd -1) */
                        close(fd);
                        return -EAGAIN;
                }
                r = -errno;
                snprintf(err, err_size, "cannot lock %s: %m", path);
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* The state directory of the request's root, locked for its operation. */
static int open_state(const PatchRequest *req, char **ret_state_dir, int *ret_lock_fd, char *err, size_t err_size) {
        _cleanup_free_ char *state_dir = NULL;
        int r;

        if (!req->root || req->root[0] != '/') {
                snprintf(err, err_size, "root \"%s\" is not an absolute path", req->root ? req->root : "");
                return -EINVAL;
        }
        if (req->state_dir)
                state_dir = strdup(req->state_dir);
        else if (patch_state_dir_for_root(req->root, &state_dir) < 0)
                state_dir = NULL;
        if (!state_dir) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        r = lock_state(state_dir, req, ret_lock_fd, err, err_size);
        if (r == -EAGAIN) {
                *ret_state_dir = TAKE_PTR(state_dir);
                return r; /* another operation runs: readable, not locked */
        }
        if (r < 0) {
                if (!err[0])
                        snprintf(err, err_size, "out of memory");
                return -EBUSY;
        }
        *ret_state_dir = TAKE_PTR(state_dir);
        return 0;
}

/* The journal, and whether the root needs a reboot now: what a wave's node
 * asks when it resumes after its hostd died in a transaction. */
static json_t *run_history(const PatchRequest *req, const char *state_dir, bool running, char *err,
                           size_t err_size) {
        _cleanup_(backend_closep) PackageBackend *b = NULL;
        json_t *h = history(state_dir, running, err, err_size);
        BackendKind kind;

        if (h && backend_detect(req->root, &kind) >= 0 && backend_open(kind, req->root, &b, err, err_size) >= 0)
                json_object_set_new(h, "reboot", reboot_json(b, state_dir));
        if (h)
                err[0] = '\0'; /* no package database is no error here */
        return h;
}

/* Recovers what a dead process left half-done on the root (patch_recover),
 * before the operation asked for: *ret gets the entries recovered (a JSON
 * array, possibly empty). <0 with err when one could not be recovered:
 * nothing else is done on the root then. */
static int recover(PackageBackend *b, const char *state_dir, uint64_t now, json_t **ret, char *err,
                   size_t err_size) {
        JournalEntry **list = NULL;
        size_t n = 0;
        json_t *a;
        int r;

        r = patch_recover(b, state_dir, now, &list, &n, err, err_size);
        a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, journal_entry_to_json(list[i]));
        journal_list_free(list, n);
        if (r < 0) {
                json_decref(a);
                return r;
        }
        *ret = a;
        return a ? 0 : -ENOMEM;
}

/* The plan of what the backend offers now (refreshed first when asked),
 * under the request's policy; the first-seen record updated. */
static int build_plan(PackageBackend *b, const PatchRequest *req, const char *state_dir, uint64_t now, Plan **ret,
                      char *err, size_t err_size) {
        _cleanup_free_ char *seen_path = NULL;
        PackageUpdate *updates = NULL;
        PackageSet installed = {};
        FirstSeen seen = {};
        size_t n_updates = 0;
        int r;

        if (asprintf(&seen_path, "%s/first-seen.json", state_dir) < 0) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        if (req->refresh && (r = backend_refresh(b, err, err_size)) < 0)
                return r;
        if (backend_installed(b, &installed) < 0 || backend_upgrades(b, &updates, &n_updates, err, err_size) < 0) {
                if (!err[0])
                        snprintf(err, err_size, "cannot read the installed packages");
                package_set_done(&installed);
                return -EIO;
        }
        r = check_policy_names(&req->policy, &installed, updates, n_updates, err, err_size);
        package_set_done(&installed);
        if (r >= 0)
                r = first_seen_load(seen_path, &seen, err, err_size);
        if (r < 0) {
                package_updates_free(updates, n_updates);
                return r;
        }
        PatchPolicy policy = req->policy;
        policy.backend = backend_kind(b); /* the approved set's versions compare as this root's */
        r = plan_build(updates, n_updates, &policy, &seen, now, ret);
        if (r >= 0 && (r = mkdir_p(state_dir, 0700)) >= 0)
                r = first_seen_save(&seen, seen_path);
        first_seen_done(&seen);
        if (r < 0) {
                snprintf(err, err_size, "cannot plan: %s", strerror(-r));
                return r;
        }
        return 0;
}

json_t *patch_run(const PatchRequest *req, int progress_fd, char *err, size_t err_size) {
        _cleanup_(backend_closep) PackageBackend *b = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_(stage_report_freep) StageReport *staged = NULL;
        _cleanup_(journal_entry_freep) JournalEntry *entry = NULL;
        _cleanup_free_ char *state_dir = NULL;
        _cleanup_close_ int lock_fd = -1;
        BackendKind kind;
        uint64_t now;

        _cleanup_(json_decrefp) json_t *recovered = NULL;
        int r;

        r = open_state(req, &state_dir, &lock_fd, err, err_size);
        if (r < 0 && r != -EAGAIN)
                return NULL;
        now = clock_usec(CLOCK_REALTIME);
        /* in hostd's loop: the journal alone, no package manager opened
         * (apt's cache is rebuilt after every change of dpkg's status) */
        if (req->op == PATCH_OP_HISTORY && req->in_process)
                return history(state_dir, r == -EAGAIN, err, err_size);
        if (r < 0)
                return NULL; /* only an in-process read does not wait */

        if (backend_detect(req->root, &kind) < 0) {
                if (req->op == PATCH_OP_HISTORY)
                        return run_history(req, state_dir, false, err, err_size);
                snprintf(err, err_size, "%s has no package database (neither dpkg's nor rpm's)", req->root);
                return NULL;
        }
        if (backend_open(kind, req->root, &b, err, err_size) < 0)
                return NULL;
        /* whatever was asked, a transaction a dead process left half-done
         * is recovered first: every operation then starts from a root that
         * matches its journal */
        if (recover(b, state_dir, now, &recovered, err, err_size) < 0)
                return NULL;
        if (req->op == PATCH_OP_HISTORY) {
                json_t *h = run_history(req, state_dir, false, err, err_size);
                if (h)
                        json_object_set(h, "recovered", recovered);
                return h;
        }

        if (req->op == PATCH_OP_ROLLBACK) {
                if (patch_rollback(b, state_dir, req->entry_id, now, &entry, err, err_size) < 0)
                        return NULL;
                return json_pack("{s:o, s:o, s:O}", "entry", journal_entry_to_json(entry), "reboot",
                                 reboot_json(b, state_dir), "recovered", recovered);
        }

        if (build_plan(b, req, state_dir, now, &plan, err, err_size) < 0)
                return NULL;
        if (req->op == PATCH_OP_PLAN)
                return json_pack("{s:o, s:O}", "plan", patch_plan_to_json(plan), "recovered", recovered);

        if (req->expected_plan && !plan_matches(plan, req->expected_plan)) {
                snprintf(err, err_size, "the plan is now %.12s, not %s: the updates offered changed; nothing was done",
                         plan->id, req->expected_plan);
                return NULL;
        }
        if (req->op == PATCH_OP_STAGE) {
                if (patch_stage(b, plan, state_dir, &staged, err, err_size) < 0)
                        return NULL;
                return json_pack("{s:o, s:{s:b, s:b, s:o, s:o}}", "plan", patch_plan_to_json(plan), "stage",
                                 "complete", stage_complete(staged), "reversible", stage_reversible(staged), "apply",
                                 fetch_json(&staged->apply, staged->apply_results), "rollback",
                                 fetch_json(&staged->rollback, staged->rollback_results));
        }

        /* apply: stage first (a no-op for what is staged already) so that
         * the versions replaced can be put back if it fails part-way; what
         * cannot be staged, the apply fetches or reports itself */
        (void) patch_stage(b, plan, state_dir, &staged, err, err_size);
        err[0] = '\0';
        if (patch_apply(b, plan, state_dir, now, on_progress, on_checkpoint, &progress_fd, &entry, err, err_size) < 0)
                return NULL;
        return json_pack("{s:o, s:o, s:o, s:O}", "plan", patch_plan_to_json(plan), "entry",
                         entry ? journal_entry_to_json(entry) : json_null(), "reboot", reboot_json(b, state_dir),
                         "recovered", recovered);
}

int patch_worker_run(const PatchRequest *req, int report_fd) {
        char err[4096] = "";
        json_t *result = patch_run(req, report_fd, err, sizeof(err));

        if (result)
                patch_report_write(report_fd, json_pack("{s:o}", "result", result));
        else
                patch_report_write(report_fd, json_pack("{s:s}", "error", err[0] ? err : "failed"));
        return result ? 0 : 1;
}

int patch_worker_start(const PatchRequest *req, pid_t *ret_pid, int *ret_fd) {
        int fds[2];
        pid_t pid;

        /* a socket rather than a pipe: send() can refuse SIGPIPE */
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
                int null;

                /* a process group of its own: the worker, dpkg and the
                 * scripts are stopped together (a report too long, a crash
                 * point), never hostd with them */
                (void) setpgid(0, 0);
                /* nothing of the daemon's but the report socket: a worker that
                 * outlives a killed hostd must not hold its control socket or
                 * its ports, or the restarted hostd could not serve them */
                if (fds[1] != 3) {
                        /* close-on-exec still: dpkg's scripts must not keep it */
                        if (dup3(fds[1], 3, O_CLOEXEC) < 0)
                                _exit(1);
                        fds[1] = 3;
                }
                close_range(4, ~0U, 0);
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                /* the daemon's blocked signals are not the package scripts' */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        dup2(null, STDOUT_FILENO);
                }
                setenv("DEBIAN_FRONTEND", "noninteractive", 1);
                _exit(patch_worker_run(req, fds[1]));
        }
        (void) setpgid(pid, pid); /* as the child does: whichever runs first */
        close(fds[1]);
        *ret_pid = pid;
        *ret_fd = fds[0];
        return 0;
}
