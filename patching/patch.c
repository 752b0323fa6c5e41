/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "patching/patch.h"

int patch_state_dir_for_root(const char *root, char **ret) {
        size_t n = strlen(root);

        while (n > 1 && root[n - 1] == '/')
                n--;
        if (asprintf(ret, "%.*s/var/lib/hostd/patches", STREQ(root, "/") ? 0 : (int) n, root) < 0)
                return -ENOMEM;
        return 0;
}

static char *path_join(const char *a, const char *b, const char *c) {
        char *p;

        if (asprintf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
                return NULL;
        return p;
}

/* Appends ", VERB name version (arch)" for each package of s; buf is not
 * empty. */
static void describe_set(const char *verb, const PackageSet *s, char *buf, size_t size) {
        size_t used = strlen(buf);

        for (size_t i = 0; i < s->n && used + 1 < size; i++)
                used += snprintf(buf + used, size - used, "%s%s %s %s (%s)", buf[used - 1] == ':' ? " " : ", ", verb,
                                 s->items[i].name, s->items[i].version, s->items[i].arch);
}

/* ---- stage -------------------------------------------------------- */

StageReport *stage_report_free(StageReport *r) {
        if (!r)
                return NULL;
        fetch_results_free(r->apply_results, r->apply.n);
        fetch_results_free(r->rollback_results, r->rollback.n);
        package_set_done(&r->apply);
        package_set_done(&r->rollback);
        free(r);
        return NULL;
}

static size_t count_missing(const FetchResult *r, size_t n) {
        size_t missing = 0;

        for (size_t i = 0; i < n; i++)
                missing += !r[i].file;
        return missing;
}

int patch_stage(PackageBackend *b, const Plan *plan, const char *state_dir, StageReport **ret, char *err,
                size_t err_size) {
        _cleanup_(stage_report_freep) StageReport *report = calloc(1, sizeof(StageReport));
        _cleanup_free_ char *apply_dir = NULL, *rollback_dir = NULL, *plan_dir = NULL;
        int r;

        if (!report)
                return -ENOMEM;
        snprintf(report->plan, sizeof(report->plan), "%s", plan->id);
        if ((r = plan_target_set(plan, &report->apply)) < 0 ||
            (r = plan_replaced_set(plan, &report->rollback)) < 0)
                return r;
        report->apply_results = calloc(MAX(report->apply.n, (size_t) 1), sizeof(FetchResult));
        report->rollback_results = calloc(MAX(report->rollback.n, (size_t) 1), sizeof(FetchResult));
        plan_dir = path_join(state_dir, "stage", plan->id);
        if (!report->apply_results || !report->rollback_results || !plan_dir)
                return -ENOMEM;
        apply_dir = path_join(plan_dir, "apply", NULL);
        rollback_dir = path_join(plan_dir, "rollback", NULL);
        if (!apply_dir || !rollback_dir)
                return -ENOMEM;
        r = mkdir_p(plan_dir, 0700);
        if (r < 0) {
                snprintf(err, err_size, "cannot create %s: %s", plan_dir, strerror(-r));
                return r;
        }
        r = backend_fetch(b, &report->apply, apply_dir, report->apply_results, err, err_size);
        if (r < 0)
                return r;
        r = backend_fetch(b, &report->rollback, rollback_dir, report->rollback_results, err, err_size);
        if (r < 0)
                return r;
        report->n_apply_missing = count_missing(report->apply_results, report->apply.n);
        report->n_rollback_missing = count_missing(report->rollback_results, report->rollback.n);
        *ret = TAKE_PTR(report);
        return 0;
}

/* ---- journal helpers --------------------------------------------- */

static int entry_finish(JournalEntry *e, const char *journal_dir, JournalState state, uint64_t now_usec,
                        const char *format, ...) _printf_(5, 6);
static int entry_finish(JournalEntry *e, const char *journal_dir, JournalState state, uint64_t now_usec,
                        const char *format, ...) {
        va_list ap;
        char *message;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        free(e->message);
        e->message = message;
        e->state = state;
        /* now_usec is when the operation started; it ends now */
        e->finished_usec = state == JOURNAL_ROLLING_BACK || state == JOURNAL_APPLYING ?
                                   0 :
                                   MAX(now_usec, clock_usec(CLOCK_REALTIME));
        return journal_write(journal_dir, e);
}

/* The package manager's output for a transaction: DIR/ID.log. */
static int open_log(const char *journal_dir, const char *id, char *err, size_t err_size) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s.log", journal_dir, id) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0) {
                fd = negative_errno();
                snprintf(err, err_size, "cannot open the transaction log %s: %s", path, strerror(-fd));
        }
        return fd;
}

/* What returning to a recorded set takes: the package files of the
 * versions to put back, and the packages to remove. */
typedef struct RestorePlan {
        PackageDiff diff;
        FetchResult *files;
        char **paths;
} RestorePlan;

static void restore_plan_done(RestorePlan *p) {
        fetch_results_free(p->files, p->diff.install.n);
        free(p->paths);
        package_diff_done(&p->diff);
        *p = (RestorePlan){};
}

/* Gets everything first, so that a missing file refuses the rollback
 * before anything is touched (-ENOENT). Files come from dir, fetched there
 * when they are not yet. */
static int restore_prepare(PackageBackend *b, const PackageSet *target, const char *dir, RestorePlan *ret,
                           char *err, size_t err_size) {
        RestorePlan p = {};
        PackageSet now = {};
        int r;

        r = backend_installed(b, &now);
        if (r >= 0)
                r = package_set_diff(&now, target, &p.diff);
        package_set_done(&now);
        if (r < 0)
                return r;
        p.files = calloc(MAX(p.diff.install.n, (size_t) 1), sizeof(FetchResult));
        p.paths = calloc(MAX(p.diff.install.n, (size_t) 1), sizeof(char *));
        if (!p.files || !p.paths) {
                restore_plan_done(&p);
                return -ENOMEM;
        }
        if (p.diff.install.n > 0 && (r = backend_fetch(b, &p.diff.install, dir, p.files, err, err_size)) < 0) {
                restore_plan_done(&p);
                return r;
        }
        for (size_t i = 0; i < p.diff.install.n; i++) {
                const PackageVersion *v = &p.diff.install.items[i];
                if (!p.files[i].file) {
                        snprintf(err, err_size, "no package file for %s %s (%s): %s", v->name, v->version, v->arch,
                                 p.files[i].error);
                        restore_plan_done(&p);
                        return -ENOENT;
                }
                p.paths[i] = p.files[i].file;
        }
        *ret = p;
        return 0;
}

/* Runs the restore and compares the result with target; *equal false and
 * err saying what still differs otherwise. */
static int restore_run(PackageBackend *b, const RestorePlan *p, const PackageSet *target, int log_fd, bool *equal,
                       char *err, size_t err_size) {
        PackageSet after = {};
        PackageDiff left = {};
        int r;

        *equal = false;
        r = backend_restore(b, p->paths, p->diff.install.n, &p->diff.remove, log_fd, err, err_size);
        if (r < 0)
                return r;
        if ((r = backend_installed(b, &after)) < 0)
                return r;
        *equal = package_set_equal(&after, target);
        if (!*equal && (r = package_set_diff(&after, target, &left)) >= 0) {
                snprintf(err, err_size, "the installed set still differs from the record:");
                describe_set("need", &left.install, err, err_size);
                describe_set("extra", &left.remove, err, err_size);
        }
        package_diff_done(&left);
        package_set_done(&after);
        return r;
}

/* Records how a restore ended: the installed set now, and the entry
 * rolled-back (verified equal to the record) or failed with why. cause: what
 * led to the rollback, first in the message; NULL for an operator's. */
static int restore_record(PackageBackend *b, JournalEntry *e, const char *journal_dir, uint64_t now_usec, bool restored,
                          const char *cause, const char *why) {
        package_set_done(&e->after);
        if (backend_installed(b, &e->after) < 0)
                e->after = (PackageSet){};
        if (restored)
                return entry_finish(e, journal_dir, JOURNAL_ROLLED_BACK, now_usec,
                                    "%s%srolled back to the recorded set (verified)", cause ? cause : "",
                                    cause ? "; " : "");
        return entry_finish(e, journal_dir, JOURNAL_FAILED, now_usec, "%s%sthe rollback failed: %s", cause ? cause : "",
                            cause ? "; " : "", why);
}

/* ---- apply -------------------------------------------------------- */

int patch_apply(PackageBackend *b, const Plan *plan, const char *state_dir, uint64_t now_usec,
                BackendProgressFn progress, PatchCheckpointFn checkpoint, void *userdata, JournalEntry **ret,
                char *err, size_t err_size) {
        _cleanup_(journal_entry_freep) JournalEntry *e = NULL;
        _cleanup_free_ char *journal_dir = path_join(state_dir, "journal", NULL);
        _cleanup_free_ char *plan_dir = path_join(state_dir, "stage", plan->id);
        _cleanup_free_ char *apply_dir = NULL, *rollback_dir = NULL;
        _cleanup_close_ int log_fd = -1;
        PackageSet target = {};
        char why[2048] = "";
        bool equal;
        int r, q;

        *ret = NULL;
        if (!journal_dir || !plan_dir)
                return -ENOMEM;
        if (plan->n_included == 0)
                return 0;
        apply_dir = path_join(plan_dir, "apply", NULL);
        rollback_dir = path_join(plan_dir, "rollback", NULL);
        if (!apply_dir || !rollback_dir)
                return -ENOMEM;
        if ((r = mkdir_p(journal_dir, 0700)) < 0 || (r = mkdir_p(plan_dir, 0700)) < 0) {
                snprintf(err, err_size, "cannot create the patch state under %s: %s", state_dir, strerror(-r));
                return r;
        }
        r = backend_prepare(b, err, err_size);
        if (r < 0)
                return r;
        r = journal_entry_new(plan->id, backend_kind_to_string(backend_kind(b)), backend_root(b), now_usec, &e);
        if (r < 0)
                return r;
        if ((r = backend_installed(b, &e->before)) < 0 || (r = plan_target_set(plan, &target)) < 0)
                goto finish;
        /* the record comes first: whatever happens next, it says where we were */
        r = journal_write(journal_dir, e);
        if (r < 0) {
                snprintf(err, err_size, "cannot write the journal entry in %s: %s; nothing was changed",
                         journal_dir, strerror(-r));
                goto finish;
        }
        log_fd = open_log(journal_dir, e->id, why, sizeof(why));
        if (log_fd < 0) {
                /* the entry says "applying": it must say how it ended */
                r = log_fd;
                backend_installed(b, &e->after);
                entry_finish(e, journal_dir, JOURNAL_FAILED, now_usec, "%s; nothing was changed", why);
                snprintf(err, err_size, "%s", e->message);
                goto finish;
        }

        if (checkpoint)
                checkpoint(userdata, "recorded");
        r = backend_apply(b, &target, apply_dir, log_fd, progress, userdata, why, sizeof(why));
        if (checkpoint)
                checkpoint(userdata, "returned");
        package_set_done(&e->after);
        if ((q = backend_installed(b, &e->after)) < 0) {
                /* the package manager ran: the entry must say how it ended,
                 * and the host may differ from the record */
                e->after = (PackageSet){};
                entry_finish(e, journal_dir, JOURNAL_FAILED, now_usec,
                             "%s%sthe installed packages cannot be read after the transaction (%s): the host "
                             "may differ from the record; `hostctl patch rollback` returns it there",
                             r < 0 ? why : "", r < 0 ? "; " : "", strerror(-q));
                snprintf(err, err_size, "%s", e->message);
                r = q;
                goto finish;
        }
        if (r >= 0) {
                /* verify: every target version is what is installed now */
                for (size_t i = 0; i < target.n; i++) {
                        const PackageVersion *now = package_set_find(&e->after, target.items[i].name,
                                                                     target.items[i].arch);
                        if (!now || !STREQ(now->version, target.items[i].version)) {
                                snprintf(why, sizeof(why), "%s %s (%s) is not installed after the transaction",
                                         target.items[i].name, target.items[i].version, target.items[i].arch);
                                r = -EIO;
                                break;
                        }
                }
        }
        if (checkpoint)
                checkpoint(userdata, "finishing");
        if (r >= 0) {
                r = entry_finish(e, journal_dir, JOURNAL_APPLIED, now_usec, "%zu package(s) installed",
                                 target.n);
                goto finish;
        }

        if (package_set_equal(&e->after, &e->before)) {
                q = entry_finish(e, journal_dir, JOURNAL_FAILED, now_usec, "%s; nothing was changed", why);
                snprintf(err, err_size, "%s", e->message);
                r = q < 0 ? q : r;
                goto finish;
        }

        /* part-way: go back to the record */
        q = entry_finish(e, journal_dir, JOURNAL_ROLLING_BACK, now_usec, "%s; rolling back", why);
        if (q < 0) {
                r = q;
                goto finish;
        }
        char rollback_why[2048] = "";
        RestorePlan restore = {};
        q = restore_prepare(b, &e->before, rollback_dir, &restore, rollback_why, sizeof(rollback_why));
        if (q >= 0)
                q = restore_run(b, &restore, &e->before, log_fd, &equal, rollback_why, sizeof(rollback_why));
        restore_plan_done(&restore);
        q = restore_record(b, e, journal_dir, now_usec, q >= 0 && equal, why, rollback_why);
        snprintf(err, err_size, "%s", e->message);
        if (q < 0)
                r = q;
finish:
        package_set_done(&target);
        if (e && e->started_usec)
                *ret = TAKE_PTR(e);
        return r;
}

/* The journal's entries, or the error naming the damaged one's file, line
 * and field. */
static int read_journal(const char *journal_dir, JournalEntry ***ret, size_t *ret_n, char *err, size_t err_size) {
        _cleanup_free_ char *error_file = NULL;
        JournalError jerr = {};
        char where[1024];
        int r;

        r = journal_list(journal_dir, ret, ret_n, &jerr, &error_file);
        if (r < 0) {
                located_error_format(&jerr, error_file ? error_file : journal_dir, where, sizeof(where));
                snprintf(err, err_size, "the patch journal cannot be read: %s; nothing was changed", where);
        }
        return r;
}

/* ---- rollback ----------------------------------------------------- */

/* A transaction that left the host other than its record: applied, or
 * failed with the installed set not the one recorded (a rollback that did
 * not finish, the set unreadable after the package manager ran), or
 * interrupted and not recovered (the package manager's own state may be
 * half-done even where the versions match). */
static bool changed_host(const JournalEntry *e) {
        return e->state == JOURNAL_APPLIED ||
               (e->state == JOURNAL_FAILED && (e->interrupted || !package_set_equal(&e->before, &e->after)));
}

int patch_rollback(PackageBackend *b, const char *state_dir, const char *id, uint64_t now_usec,
                   JournalEntry **ret, char *err, size_t err_size) {
        _cleanup_free_ char *journal_dir = path_join(state_dir, "journal", NULL);
        _cleanup_free_ char *rollback_dir = NULL, *plan_dir = NULL;
        _cleanup_close_ int log_fd = -1;
        JournalEntry **list = NULL;
        JournalEntry *e = NULL;
        size_t n = 0, at = SIZE_MAX;
        char why[2048] = "";
        bool equal;
        int r;

        *ret = NULL;
        if (!journal_dir)
                return -ENOMEM;
        r = read_journal(journal_dir, &list, &n, err, err_size);
        if (r < 0)
                return r;
        for (size_t i = n; i-- > 0;)
                if (id ? STREQ(list[i]->id, id) : changed_host(list[i])) {
                        at = i;
                        break;
                }
        if (at == SIZE_MAX) {
                snprintf(err, err_size,
                         id ? "no transaction %s in %s" : "no transaction in %s changed the host (applied, or failed part-way)",
                         id ? id : journal_dir, journal_dir);
                r = -ENOENT;
                goto finish;
        }
        e = list[at];
        if (e->state == JOURNAL_ROLLED_BACK) {
                snprintf(err, err_size, "transaction %s was already rolled back", e->id);
                r = -EALREADY;
                goto finish;
        }
        for (size_t i = at + 1; i < n; i++)
                if (changed_host(list[i])) {
                        snprintf(err, err_size, "transaction %s changed the host after %s: roll it back first",
                                 list[i]->id, e->id);
                        r = -EBUSY;
                        goto finish;
                }
        if ((r = backend_prepare(b, err, err_size)) < 0)
                goto finish;
        plan_dir = path_join(state_dir, "stage", e->plan);
        rollback_dir = plan_dir ? path_join(plan_dir, "rollback", NULL) : NULL;
        if (!rollback_dir) {
                r = -ENOMEM;
                goto finish;
        }
        if ((r = mkdir_p(plan_dir, 0700)) < 0) {
                snprintf(err, err_size, "cannot create %s: %s", plan_dir, strerror(-r));
                goto finish;
        }
        log_fd = open_log(journal_dir, e->id, err, err_size);
        if (log_fd < 0) {
                r = log_fd;
                goto finish;
        }
        /* a recovery that failed: what dpkg or rpm left half-done first */
        if (e->interrupted && (r = backend_check_idle(b, err, err_size)) < 0)
                goto finish;
        if (e->interrupted && (r = backend_finish_interrupted(b, &e->before, log_fd, why, sizeof(why))) < 0) {
                snprintf(err, err_size, "cannot roll back %s: finishing what the package manager left: %s", e->id,
                         why);
                goto finish;
        }
        RestorePlan restore = {};
        r = restore_prepare(b, &e->before, rollback_dir, &restore, why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "cannot roll back %s: %s; nothing was changed", e->id, why);
                goto finish;
        }
        r = entry_finish(e, journal_dir, JOURNAL_ROLLING_BACK, now_usec, "rolling back");
        if (r >= 0)
                r = restore_run(b, &restore, &e->before, log_fd, &equal, why, sizeof(why));
        restore_plan_done(&restore);
        if (r >= 0 && equal)
                r = restore_record(b, e, journal_dir, now_usec, true, NULL, why);
        else {
                restore_record(b, e, journal_dir, now_usec, false, NULL, why);
                snprintf(err, err_size, "%s", e->message);
                r = r < 0 ? r : -EIO;
        }
finish:
        if (e && r >= 0) {
                *ret = e;
                list[at] = NULL;
        }
        journal_list_free(list, n);
        return r;
}

/* ---- recovery ----------------------------------------------------- */

bool journal_entry_unfinished(const JournalEntry *e) {
        return e->state == JOURNAL_APPLYING || e->state == JOURNAL_ROLLING_BACK;
}

/* One interrupted entry: named so first, the package manager's own
 * half-done state finished, then the root returned to the record. */
static int recover_entry(PackageBackend *b, JournalEntry *e, const char *state_dir, const char *journal_dir,
                         uint64_t now_usec, char *err, size_t err_size) {
        _cleanup_free_ char *plan_dir = path_join(state_dir, "stage", e->plan);
        _cleanup_free_ char *rollback_dir = plan_dir ? path_join(plan_dir, "rollback", NULL) : NULL;
        _cleanup_close_ int log_fd = -1;
        const char *was = journal_state_to_string(e->state);
        char cause[160], why[2048] = "";
        RestorePlan restore = {};
        bool equal = false;
        int r;

        if (!rollback_dir)
                return -ENOMEM;
        /* died again in a recovery: the first cause stands */
        const char *again = e->interrupted && e->message ? strstr(e->message, "; recovering") : NULL;
        if (again && strncmp(e->message, "interrupted while ", 18) == 0)
                snprintf(cause, sizeof(cause), "%.*s", (int) (again - e->message), e->message);
        else
                snprintf(cause, sizeof(cause), "interrupted while %s (its process died)", was);
        e->interrupted = true;
        /* durable before anything is touched: a second death here is found
         * again, still interrupted */
        r = entry_finish(e, journal_dir, JOURNAL_ROLLING_BACK, now_usec, "%s; recovering", cause);
        if (r < 0) {
                snprintf(err, err_size, "cannot write the journal entry %s: %s; nothing was changed", e->id,
                         strerror(-r));
                return r;
        }
        if ((r = mkdir_p(plan_dir, 0700)) < 0) {
                snprintf(why, sizeof(why), "cannot create %s: %s", plan_dir, strerror(-r));
                goto record;
        }
        log_fd = open_log(journal_dir, e->id, why, sizeof(why));
        if (log_fd < 0) {
                r = log_fd;
                goto record;
        }
        r = backend_prepare(b, why, sizeof(why));
        if (r >= 0)
                r = backend_finish_interrupted(b, &e->before, log_fd, why, sizeof(why));
        if (r >= 0)
                r = restore_prepare(b, &e->before, rollback_dir, &restore, why, sizeof(why));
        if (r >= 0)
                r = restore_run(b, &restore, &e->before, log_fd, &equal, why, sizeof(why));
        restore_plan_done(&restore);
record:
        r = restore_record(b, e, journal_dir, now_usec, r >= 0 && equal, cause, why);
        if (r < 0)
                return r;
        if (!equal) {
                snprintf(err, err_size, "%s: %s", e->id, e->message);
                return -EIO;
        }
        return 0;
}

int patch_recover(PackageBackend *b, const char *state_dir, uint64_t now_usec, JournalEntry ***ret, size_t *ret_n,
                  char *err, size_t err_size) {
        _cleanup_free_ char *journal_dir = path_join(state_dir, "journal", NULL);
        JournalEntry **list = NULL, **recovered = NULL;
        size_t n = 0, n_recovered = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!journal_dir)
                return -ENOMEM;
        r = read_journal(journal_dir, &list, &n, err, err_size);
        if (r < 0)
                return r;
        recovered = calloc(MAX(n, (size_t) 1), sizeof(JournalEntry *));
        if (!recovered) {
                journal_list_free(list, n);
                return -ENOMEM;
        }
        /* a dpkg or rpm still running (its worker killed, not the
         * machine): not interrupted, only unwatched; nothing is touched */
        bool any = false;
        for (size_t i = 0; i < n; i++)
                any = any || journal_entry_unfinished(list[i]);
        if (any && (r = backend_check_idle(b, err, err_size)) < 0) {
                journal_list_free(list, n);
                free(recovered);
                return r;
        }
        /* newest first: each returns the root to the set before it, so the
         * oldest interrupted one, the last state known whole, decides
         * where the root ends */
        for (size_t i = n; r >= 0 && i-- > 0;) {
                if (!journal_entry_unfinished(list[i]))
                        continue;
                r = recover_entry(b, list[i], state_dir, journal_dir, now_usec, err, err_size);
                recovered[n_recovered++] = TAKE_PTR(list[i]);
        }
        journal_list_free(list, n);
        *ret = recovered;
        *ret_n = n_recovered;
        return r;
}

/* ---- reboot ------------------------------------------------------- */

static void add_reason(RebootStatus *s, const char *format, ...) _printf_(2, 3);
static void add_reason(RebootStatus *s, const char *format, ...) {
        size_t used = strlen(s->reasons);
        va_list ap;

        s->required = true;
        if (used + 3 >= sizeof(s->reasons))
                return;
        if (used)
                used += snprintf(s->reasons + used, sizeof(s->reasons) - used, "; ");
        va_start(ap, format);
        vsnprintf(s->reasons + used, sizeof(s->reasons) - used, format, ap);
        va_end(ap);
}

/* The newest kernel version installed under ROOT/boot (vmlinuz-VERSION). */
static int newest_kernel(PackageBackend *b, char *ret, size_t size) {
        _cleanup_free_ char *boot = path_join(backend_root(b), "boot", NULL);
        DIR *d;
        struct dirent *de;

        ret[0] = '\0';
        if (!boot)
                return -ENOMEM;
        d = opendir(boot);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "vmlinuz-", 8) == 0 &&
                    (!ret[0] || backend_version_compare(backend_kind(b), de->d_name + 8, ret) > 0))
                        snprintf(ret, size, "%s", de->d_name + 8);
        closedir(d);
        return 0;
}

/* Packages whose update needs more than restarting a service: everything
 * runs on them. */
static const char *const core_packages[] = {
        "libc6", "glibc", "systemd", "libsystemd0", "systemd-libs", "dbus", "dbus-daemon", "dbus-broker",
        "libssl3", "openssl-libs", "linux-image-*", "kernel", "kernel-core", NULL,
};

int patch_reboot_required(PackageBackend *b, const char *state_dir, const char *running_kernel,
                          RebootStatus *ret) {
        _cleanup_free_ char *journal_dir = path_join(state_dir, "journal", NULL);
        _cleanup_free_ char *error_file = NULL;
        const char *root = backend_root(b);
        RebootStatus s = {};
        JournalEntry **list = NULL;
        JournalError jerr = {};
        size_t n = 0;
        char newest[256];
        int r;

        if (!journal_dir)
                return -ENOMEM;
        for (const char *const *f = (const char *const[]) { "run/reboot-required", "var/run/reboot-required", NULL };
             *f; f++) {
                _cleanup_free_ char *path = path_join(root, *f, NULL), *pkgs = NULL;
                _cleanup_free_ char *pkgs_path = NULL;
                size_t size;

                if (!path || asprintf(&pkgs_path, "%s.pkgs", path) < 0)
                        return -ENOMEM;
                if (access(path, F_OK) < 0)
                        continue;
                if (read_file(pkgs_path, 64 * 1024, &pkgs, &size) >= 0) {
                        for (char *c = pkgs; *c; c++)
                                if (*c == '\n')
                                        *c = c[1] ? ' ' : '\0';
                        add_reason(&s, "/%s exists (%s)", *f, pkgs);
                } else
                        add_reason(&s, "/%s exists", *f);
                break;
        }

        if ((r = newest_kernel(b, newest, sizeof(newest))) < 0)
                return r;
        if (newest[0] && running_kernel && !STREQ(newest, running_kernel) &&
            backend_version_compare(backend_kind(b), newest, running_kernel) > 0)
                add_reason(&s, "kernel %s is installed, %s is running", newest, running_kernel);

        /* the last applied transaction, if it changed a core package */
        r = journal_list(journal_dir, &list, &n, &jerr, &error_file);
        if (r < 0)
                return r;
        for (size_t i = n; i-- > 0;) {
                JournalEntry *e = list[i];
                PackageDiff d = {};
                if (e->state != JOURNAL_APPLIED)
                        continue;
                if ((r = package_set_diff(&e->before, &e->after, &d)) < 0)
                        break;
                for (size_t k = 0; k < d.install.n; k++)
                        for (const char *const *c = core_packages; *c; c++)
                                if (fnmatch(*c, d.install.items[k].name, 0) == 0) {
                                        add_reason(&s, "%s was updated by %s", d.install.items[k].name, e->id);
                                        break;
                                }
                package_diff_done(&d);
                break;
        }
        journal_list_free(list, n);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}
