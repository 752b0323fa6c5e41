/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "hostd/log.h"
#include "hostd/patch-jobs.h"

#define JOB_MAX_PROGRESS 100000
#define JOB_MAX_LINE (16u << 20)

typedef struct Waiter {
        ControlCall *call;
        size_t after;
        struct Waiter *next;
} Waiter;

struct PatchJobs {
        sd_event *event;
        ChangeLog *changes; /* not owned */
        unsigned last_id;
        /* the running job, or the last one */
        PatchOp op;
        pid_t pid;
        sd_event_source *io;
        json_t *progress; /* array of progress objects */
        json_t *result;   /* once finished successfully */
        char *error;      /* once finished with an error */
        bool running;
        char *line;       /* a partial line from the pipe */
        size_t line_size;
        Waiter *waiters;
        PatchJobDone done; /* of the running job */
        json_t *last_plan;  /* of the last plan or stage job that succeeded */
        uint64_t last_plan_usec;
        uint64_t last_change_usec; /* when an apply or a rollback last ended (CLOCK_REALTIME) */
        void *done_userdata;
};

static json_t *job_reply(const PatchJobs *j, size_t after) {
        json_t *lines = json_array();
        size_t n = json_array_size(j->progress);

        for (size_t i = after; lines && i < n; i++)
                json_array_append(lines, json_array_get(j->progress, i));
        return json_pack("{s:I, s:s, s:o, s:I, s:b, s:O?, s:s?}", "job", (json_int_t) j->last_id, "op",
                         patch_op_to_string(j->op), "progress", lines, "next", (json_int_t) n, "finished",
                         !j->running, "result", j->result, "error", j->error);
}

/* Answers every waiter that has something new. */
static void wake_waiters(PatchJobs *j) {
        Waiter **w = &j->waiters;

        while (*w) {
                Waiter *cur = *w;
                if (j->running && cur->after >= json_array_size(j->progress)) {
                        w = &cur->next;
                        continue;
                }
                *w = cur->next;
                control_call_reply(cur->call, 200, job_reply(j, cur->after));
                free(cur);
        }
}

static void log_outcome(PatchJobs *j) {
        const json_t *entry = j->result ? json_object_get(j->result, "entry") : NULL;
        const json_t *plan = j->result ? json_object_get(j->result, "plan") : NULL;
        const char *state = json_string_value(json_object_get(entry, "state"));
        const char *id = json_string_value(json_object_get(entry, "id"));
        const char *plan_id = json_string_value(json_object_get(plan, "id"));
        _cleanup_free_ char *f_plan = NULL, *f_tx = NULL;
        char f_op[64];

        if (asprintf(&f_plan, "HOSTD_PLAN=%s", plan_id ? plan_id : "") < 0 ||
            asprintf(&f_tx, "HOSTD_TRANSACTION=%s", id ? id : "") < 0)
                return;
        if (j->error) {
                snprintf(f_op, sizeof(f_op), "HOSTD_OPERATION=%s", patch_op_to_string(j->op));
                change_record(j->changes, LOG_ERR, CHANGE_PATCH_FAILED, LOG_FIELDS(f_plan, f_tx, f_op),
                              "Patch %s failed: %s", patch_op_to_string(j->op), j->error);
                return;
        }
        switch (j->op) {
        case PATCH_OP_APPLY:
                if (entry && !json_is_null(entry))
                        change_record(j->changes, LOG_NOTICE, CHANGE_PATCH_APPLY, LOG_FIELDS(f_plan, f_tx),
                                   "Patch transaction %s %s: %s", id, state,
                                   json_string_value(json_object_get(entry, "message")));
                break;
        case PATCH_OP_ROLLBACK:
                change_record(j->changes, LOG_NOTICE, CHANGE_PATCH_ROLLBACK, LOG_FIELDS(f_plan, f_tx),
                           "Patch transaction %s %s: %s", id, state,
                           json_string_value(json_object_get(entry, "message")));
                break;
        case PATCH_OP_STAGE:
                change_record(j->changes, LOG_INFO, CHANGE_PATCH_STAGE, LOG_FIELDS(f_plan),
                           "Patch plan %.12s staged: %s, %s", plan_id ? plan_id : "?",
                           json_is_true(json_object_get(json_object_get(j->result, "stage"), "complete")) ?
                                   "complete" :
                                   "incomplete",
                           json_is_true(json_object_get(json_object_get(j->result, "stage"), "reversible")) ?
                                   "reversible" :
                                   "not reversible");
                break;
        default:
                break;
        }
}

static void handle_line(PatchJobs *j, const char *text) {
        PatchWorkerLine l;
        char why[160];

        if (patch_worker_parse_line(text, &l, why, sizeof(why)) < 0) {
                log_warning("Patch worker sent a malformed line: %s", why);
                return;
        }
        switch (l.kind) {
        case PATCH_LINE_PROGRESS:
                if (json_array_size(j->progress) < JOB_MAX_PROGRESS)
                        json_array_append(j->progress, (json_t *) l.value);
                break;
        case PATCH_LINE_RESULT:
                json_decref(j->result);
                j->result = json_incref((json_t *) l.value);
                break;
        case PATCH_LINE_ERROR:
                free(j->error);
                j->error = strdup(json_string_value(l.value));
                break;
        }
        json_decref(l.line);
}

static void job_finish(PatchJobs *j) {
        int status = 0;

        j->io = sd_event_source_disable_unref(j->io);
        /* the pipe closes as the worker exits: this wait is short */
        while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!j->result && !j->error) {
                char why[96];
                if (WIFSIGNALED(status))
                        snprintf(why, sizeof(why), "the patch worker was killed by signal %d", WTERMSIG(status));
                else
                        snprintf(why, sizeof(why), "the patch worker exited with status %d without a report",
                                 WEXITSTATUS(status));
                j->error = strdup(why);
        }
        j->running = false;
        j->pid = 0;
        if ((j->op == PATCH_OP_PLAN || j->op == PATCH_OP_STAGE) && json_is_object(json_object_get(j->result, "plan"))) {
                json_decref(j->last_plan);
                j->last_plan = json_incref(json_object_get(j->result, "plan"));
                j->last_plan_usec = clock_usec(CLOCK_REALTIME);
        }
        /* the packages may have changed, whatever the outcome: plans before it are out of date */
        if (j->op == PATCH_OP_APPLY || j->op == PATCH_OP_ROLLBACK)
                j->last_change_usec = clock_usec(CLOCK_REALTIME);
        log_outcome(j);
        wake_waiters(j);
        if (j->done) {
                PatchJobDone done = j->done;
                j->done = NULL;
                done(j->result, j->error, j->done_userdata);
        }
}

static int on_worker_io(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        PatchJobs *j = userdata;
        char buf[16384];
        ssize_t n = read(fd, buf, sizeof(buf));
        size_t before = json_array_size(j->progress);

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                job_finish(j);
                return 0;
        }
        if (j->line_size + n > JOB_MAX_LINE) {
                log_error("Patch worker sent a line over %u bytes; stopping it", JOB_MAX_LINE);
                /* its group: dpkg and the scripts with it, none left
                 * running unwatched */
                kill(-j->pid, SIGKILL);
                j->line_size = 0;
                return 0;
        }
        char *grown = realloc(j->line, j->line_size + n + 1);
        if (!grown)
                return log_error_errno(ENOMEM, "Out of memory");
        j->line = grown;
        memcpy(j->line + j->line_size, buf, n);
        j->line_size += n;
        j->line[j->line_size] = 0;
        for (char *nl; (nl = memchr(j->line, '\n', j->line_size));) {
                *nl = 0;
                handle_line(j, j->line);
                j->line_size -= (size_t) (nl + 1 - j->line);
                memmove(j->line, nl + 1, j->line_size + 1);
        }
        if (json_array_size(j->progress) != before)
                wake_waiters(j);
        return 0;
}

int patch_jobs_new(sd_event *event, ChangeLog *changes, PatchJobs **ret) {
        PatchJobs *j = calloc(1, sizeof(PatchJobs));

        if (!j)
                return -ENOMEM;
        j->event = sd_event_ref(event);
        j->changes = changes;
        *ret = j;
        return 0;
}

PatchJobs *patch_jobs_free(PatchJobs *j) {
        if (!j)
                return NULL;
        while (j->waiters) {
                Waiter *w = j->waiters;
                j->waiters = w->next;
                control_call_reply_error(w->call, 503, "hostd is shutting down");
                free(w);
        }
        if (j->running)
                log_warning("Leaving patch worker %d to finish its %s", (int) j->pid, patch_op_to_string(j->op));
        sd_event_source_disable_unref(j->io);
        json_decref(j->progress);
        json_decref(j->result);
        json_decref(j->last_plan);
        free(j->error);
        free(j->line);
        sd_event_unref(j->event);
        free(j);
        return NULL;
}

int patch_jobs_start_then(PatchJobs *j, const PatchRequest *req, PatchJobDone done, void *userdata,
                          unsigned *ret_id) {
        int r = patch_jobs_start(j, req, ret_id);

        if (r >= 0) {
                j->done = done;
                j->done_userdata = userdata;
        }
        return r;
}

int patch_jobs_start(PatchJobs *j, const PatchRequest *req, unsigned *ret_id) {
        _cleanup_close_ int fd = -1;
        json_t *progress = json_array();
        pid_t pid;
        int r;

        if (j->running) {
                json_decref(progress);
                return -EBUSY;
        }
        if (!progress)
                return -ENOMEM;
        r = patch_worker_start(req, &pid, &fd);
        if (r < 0) {
                json_decref(progress);
                return r;
        }
        r = sd_event_add_io(j->event, &j->io, fd, EPOLLIN, on_worker_io, j);
        if (r < 0) {
                /* the worker runs on; its pipe is gone, its journal remains */
                json_decref(progress);
                return r;
        }
        sd_event_source_set_io_fd_own(j->io, true);
        TAKE_FD(fd);
        json_decref(j->progress);
        json_decref(j->result);
        free(j->error);
        j->progress = progress;
        j->result = NULL;
        j->error = NULL;
        j->line_size = 0;
        j->op = req->op;
        j->done = NULL;
        j->pid = pid;
        j->running = true;
        *ret_id = ++j->last_id;
        log_info("Patch %s started in worker %d (job %u)", patch_op_to_string(req->op), (int) pid, j->last_id);
        return 0;
}

void patch_jobs_wait(PatchJobs *j, unsigned id, size_t after, ControlCall *call) {
        Waiter *w;

        if (id == 0 || id != j->last_id) {
                control_call_reply_error(call, 404, "no patch job %u (the last one is %u)", id, j->last_id);
                return;
        }
        if (!j->running || after < json_array_size(j->progress)) {
                control_call_reply(call, 200, job_reply(j, after));
                return;
        }
        w = calloc(1, sizeof(Waiter));
        if (!w) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        *w = (Waiter){ .call = call, .after = after, .next = j->waiters };
        j->waiters = w;
}

const json_t *patch_jobs_current_plan(const PatchJobs *j, uint64_t *ret_usec) {
        uint64_t usec = 0;
        const json_t *plan = patch_jobs_last_plan(j, &usec);

        if (!plan || usec <= j->last_change_usec)
                return NULL;
        if (ret_usec)
                *ret_usec = usec;
        return plan;
}

const json_t *patch_jobs_last_plan(const PatchJobs *j, uint64_t *ret_usec) {
        if (ret_usec)
                *ret_usec = j->last_plan_usec;
        return j->last_plan;
}

json_t *patch_jobs_status(const PatchJobs *j) {
        return json_pack("{s:b, s:I, s:s}", "running", j->running, "job", (json_int_t) j->last_id, "op",
                         j->last_id ? patch_op_to_string(j->op) : "");
}
