/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control API's routes. Each answers JSON; errors are {"message": ...}
 * with a 4xx/5xx status, as the Docker Engine API does. */

#include "hostd/api-routes.h"
#include "hostd/api-requests.h"
#include "hostd/daemon.h"
#include "hostd/log.h"

typedef void (*RouteHandler)(Daemon *d, ControlCall *call);

typedef struct Route {
        const char *method;
        const char *path;
        RouteHandler handler;
} Route;

static void get_status(Daemon *d, ControlCall *call) {
        json_t *status = daemon_status_json(d);

        if (!status) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        control_call_reply(call, 200, status);
}

static void post_reload(Daemon *d, ControlCall *call) {
        char why[512];
        int r;

        log_info("Reload requested over the control API by uid %u pid %d",
                 (unsigned) control_call_uid(call), (int) control_call_pid(call));
        r = daemon_reload(d, why, sizeof(why));
        if (r < 0) {
                control_call_reply_error(call, r == -EINVAL || r == -E2BIG ? 400 : 500, "%s", why);
                return;
        }
        control_call_reply(call, 200,
                           json_pack("{s:b, s:s, s:I}", "reloaded", 1, "config", daemon_config_path(d),
                                     "reloads", (json_int_t) daemon_reloads(d)));
}

static void get_firewall(Daemon *d, ControlCall *call) {
        json_t *status;
        char *text;

        if (!daemon_firewall(d)) {
                control_call_reply(call, 200, json_pack("{s:b, s:b}", "enabled", 0, "applied", 0));
                return;
        }
        status = firewall_manager_status(daemon_firewall(d), true);
        if (!status) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        text = firewall_manager_render(daemon_firewall(d));
        json_object_set_new(status, "desired_nft", text ? json_string(text) : json_null());
        free(text);
        control_call_reply(call, 200, status);
}

static void post_firewall_apply(Daemon *d, ControlCall *call) {
        unsigned seconds;
        char why[512];
        int r;

        if (api_firewall_apply_parse(control_call_body(call), &seconds, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        r = daemon_firewall_apply(d, seconds, why, sizeof(why));
        if (r < 0) {
                control_call_reply_error(call, r == -EINVAL || r == -E2BIG || r == -EBUSY ? 400 : 500,
                                         "%s", why);
                return;
        }
        control_call_reply(call, 200, json_pack("{s:b, s:I}", "applied", 1, "confirm_timeout", (json_int_t) seconds));
}

static void post_firewall_confirm(Daemon *d, ControlCall *call) {
        char why[256];

        if (!daemon_firewall(d) || firewall_manager_confirm(daemon_firewall(d), why, sizeof(why)) < 0) {
                control_call_reply_error(call, 409, "%s", daemon_firewall(d) ? why : "firewall not managed");
                return;
        }
        control_call_reply(call, 200, json_pack("{s:b}", "confirmed", 1));
}

static void post_firewall_rollback(Daemon *d, ControlCall *call) {
        char why[256];

        if (!daemon_firewall(d) ||
            firewall_manager_rollback(daemon_firewall(d), "hostctl firewall rollback", why, sizeof(why)) < 0) {
                control_call_reply_error(call, 409, "%s", daemon_firewall(d) ? why : "firewall not managed");
                return;
        }
        control_call_reply(call, 200, json_pack("{s:b}", "rolled_back", 1));
}

static void get_seccomp_audit(Daemon *d, ControlCall *call) {
        json_t *j = daemon_seccomp_audit_json(d);

        if (!j) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        control_call_reply(call, 200, j);
}

static void post_seccomp_install(Daemon *d, ControlCall *call) {
        const char *profile;
        json_t *reply = NULL;
        char why[768];
        int r;

        if (api_seccomp_install_parse(control_call_body(call), &profile, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        log_info("Seccomp install of %s requested over the control API by uid %u pid %d", profile,
                 (unsigned) control_call_uid(call), (int) control_call_pid(call));
        r = daemon_seccomp_install(d, profile, &reply, why, sizeof(why));
        if (r < 0) {
                control_call_reply_error(call, r == -ENOMEM || r == -EIO ? 500 : 400, "%s", why);
                return;
        }
        control_call_reply(call, 200, reply);
}

/* POST /v1/patch/{plan,stage,apply,rollback}: starts the job; its
 * progress and result come from GET /v1/patch/job. */
static void post_patch(Daemon *d, ControlCall *call, PatchOp op) {
        _cleanup_free_ char *state_dir = NULL;
        PatchRequest req;
        ApiPatchBody body;
        char why[512];
        unsigned id;
        int r;

        if (api_patch_parse(op, control_call_body(call), &body, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        r = daemon_patch_request(d, op, &req, &state_dir);
        if (r < 0) {
                control_call_reply_error(call, 500, "%s", strerror(-r));
                return;
        }
        req.refresh = body.refresh;
        req.expected_plan = body.plan;
        req.entry_id = body.id;
        log_info("Patch %s requested over the control API by uid %u pid %d", patch_op_to_string(op),
                 (unsigned) control_call_uid(call), (int) control_call_pid(call));
        r = patch_jobs_start(daemon_patch_jobs(d), &req, &id);
        if (r == -EBUSY) {
                control_call_reply_error(call, 409, "another patch job is running");
                return;
        }
        if (r < 0) {
                control_call_reply_error(call, 500, "cannot start the patch worker: %s", strerror(-r));
                return;
        }
        control_call_reply(call, 202, json_pack("{s:I, s:s}", "job", (json_int_t) id, "op", patch_op_to_string(op)));
}

static void post_patch_plan(Daemon *d, ControlCall *call) {
        post_patch(d, call, PATCH_OP_PLAN);
}
static void post_patch_stage(Daemon *d, ControlCall *call) {
        post_patch(d, call, PATCH_OP_STAGE);
}
static void post_patch_apply(Daemon *d, ControlCall *call) {
        post_patch(d, call, PATCH_OP_APPLY);
}
static void post_patch_rollback(Daemon *d, ControlCall *call) {
        post_patch(d, call, PATCH_OP_ROLLBACK);
}

/* GET /v1/patch/job?id=N&after=K: answered once there is progress after K
 * or the job has finished. */
static void get_patch_job(Daemon *d, ControlCall *call) {
        size_t after;
        unsigned id;
        char why[512];

        if (api_patch_job_query_parse(control_call_query(call, "id"), control_call_query(call, "after"), &id, &after,
                                      why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        patch_jobs_wait(daemon_patch_jobs(d), id, after, call);
}

static void get_patch_history(Daemon *d, ControlCall *call) {
        _cleanup_free_ char *state_dir = NULL;
        PatchRequest req;
        char why[2048] = "";
        json_t *j;

        if (daemon_patch_request(d, PATCH_OP_HISTORY, &req, &state_dir) < 0) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        /* read here, in the loop: never waits for a job's lock */
        req.in_process = true;
        j = patch_run(&req, -1, why, sizeof(why));
        if (!j) {
                control_call_reply_error(call, 500, "%s", why);
                return;
        }
        control_call_reply(call, 200, j);
}

/* ---- change records --------------------------------------------------- */

/* GET /v1/changes?since=USEC&limit=N&kind=KIND: the change log, oldest
 * first; since is realtime microseconds (hostctl parses what people type). */
static void get_changes(Daemon *d, ControlCall *call) {
        _cleanup_(json_decrefp) json_t *records = NULL, *damaged = NULL;
        ApiChangesQuery q;
        char why[512];
        int r;

        if (api_changes_query_parse(control_call_query(call, "since"), control_call_query(call, "limit"),
                                    control_call_query(call, "kind"), &q, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        r = change_log_read(daemon_config(d)->state_directory, q.since_usec, q.kind, q.limit, &records, &damaged);
        if (r < 0) {
                control_call_reply_error(call, 500, "cannot read the change log under %s: %s",
                                         daemon_config(d)->state_directory, strerror(-r));
                return;
        }
        control_call_reply(call, 200, json_pack("{sOsO}", "changes", records, "damaged", damaged));
}

/* ---- waves ------------------------------------------------------------ */

static void on_wave_answer(const CoordinatorAnswer *a, void *userdata) {
        ControlCall *call = userdata;
        unsigned status;

        if (a->error) {
                /* a worker, or no Swarm: final; else the coordinator's own
                 * failure (a Swarm read or write): try again */
                status = a->error == -EPERM || a->error == -ENOTCONN  ? 409 :
                         a->transient                                 ? 503 :
                         a->error == -EBUSY || a->error == -EPROTO   ? 409 :
                         a->error == -ENOENT                          ? 404 :
                         a->error == -EINVAL                          ? 400 :
                         a->error == -ECANCELED                       ? 503 :
                                                                        500;
                control_call_reply_error(call, status, "%s",
                                         a->error == -EPERM      ? "waves are run from managers; this node is a worker" :
                                         a->error == -ENOTCONN   ? "this node is not in a Swarm" :
                                         a->message ? a->message : strerror(-a->error));
                return;
        }
        control_call_reply(call, 200,
                           json_pack("{s:O?, s:s, s:I}", "wave", a->wave ? a->wave : json_null(), "blocked",
                                     a->blocked ? a->blocked : "", "version", (json_int_t) a->version));
}

static void wave_request(Daemon *d, ControlCall *call, const WaveRequest *req) {
        int r;

        if (!daemon_coordinator(d)) {
                control_call_reply_error(call, 503, "Docker is not set up yet");
                return;
        }
        r = coordinator_request(daemon_coordinator(d), req, on_wave_answer, call);
        if (r < 0)
                control_call_reply_error(call, 500, "%s", strerror(-r));
}

static void post_wave_start(Daemon *d, ControlCall *call) {
        const char *canaries[API_WAVE_MAX_CANARIES + 1] = {};
        WaveSchedule schedule;
        WaveRequest req = { .kind = WAVE_REQUEST_START };
        char why[512];

        if (api_wave_start_parse(control_call_body(call), canaries, &schedule, &req.start, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        /* the load balancer's delay, as this manager is configured, unless asked otherwise */
        if (!json_object_get(control_call_body(call), "deregistration_seconds"))
                req.start.deregistration_usec =
                        (uint64_t) daemon_config(d)->load_balancer.deregistration_delay_sec * 1000000ULL;
        log_info("Wave start requested over the control API by uid %u pid %d", (unsigned) control_call_uid(call),
                 (int) control_call_pid(call));
        /* the nodes' latest plans, as this manager has them: the approved set is frozen from them */
        _cleanup_(json_decrefp) json_t *plans = NULL;
        if (req.start.approve) {
                plans = daemon_posture_board(d) ? posture_board_plans(daemon_posture_board(d)) : json_object();
                if (!plans) {
                        control_call_reply_error(call, 500, "out of memory");
                        return;
                }
                req.start.plans = plans;
        }
        wave_request(d, call, &req);
}

/* GET /v1/wave[?wait=VERSION]: with wait, answered once the Swarm's
 * version is another (a long poll for `hostctl wave watch`). */
static void get_wave(Daemon *d, ControlCall *call) {
        uint64_t version;
        char why[512];
        bool watch;

        if (api_wave_query_parse(control_call_query(call, "wait"), &watch, &version, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        wave_request(d, call,
                     &(WaveRequest){ .kind = watch ? WAVE_REQUEST_WATCH : WAVE_REQUEST_READ, .known_version = version });
}

static void wave_control(Daemon *d, ControlCall *call, WaveRequestKind kind) {
        const char *reason;
        char why[512];

        if (api_wave_control_parse(control_call_body(call), &reason, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 400, "%s", why);
                return;
        }
        wave_request(d, call, &(WaveRequest){ .kind = kind, .reason = reason });
}

static void post_wave_pause(Daemon *d, ControlCall *call) {
        wave_control(d, call, WAVE_REQUEST_PAUSE);
}
static void post_wave_resume(Daemon *d, ControlCall *call) {
        wave_control(d, call, WAVE_REQUEST_RESUME);
}
static void post_wave_abort(Daemon *d, ControlCall *call) {
        wave_control(d, call, WAVE_REQUEST_ABORT);
}

static const Route routes[] = {
        { "GET", "/v1/status", get_status },
        { "POST", "/v1/reload", post_reload },
        { "GET", "/v1/firewall", get_firewall },
        { "POST", "/v1/firewall/apply", post_firewall_apply },
        { "POST", "/v1/firewall/confirm", post_firewall_confirm },
        { "POST", "/v1/firewall/rollback", post_firewall_rollback },
        { "GET", "/v1/seccomp/audit", get_seccomp_audit },
        { "POST", "/v1/seccomp/install", post_seccomp_install },
        { "POST", "/v1/patch/plan", post_patch_plan },
        { "POST", "/v1/patch/stage", post_patch_stage },
        { "POST", "/v1/patch/apply", post_patch_apply },
        { "POST", "/v1/patch/rollback", post_patch_rollback },
        { "GET", "/v1/patch/job", get_patch_job },
        { "GET", "/v1/patch/history", get_patch_history },
        { "POST", "/v1/wave/start", post_wave_start },
        { "GET", "/v1/wave", get_wave },
        { "POST", "/v1/wave/pause", post_wave_pause },
        { "POST", "/v1/wave/resume", post_wave_resume },
        { "POST", "/v1/wave/abort", post_wave_abort },
        { "GET", "/v1/posture", daemon_posture },
        { "GET", "/v1/posture/cluster", daemon_posture_cluster },
        { "GET", "/v1/metrics", daemon_metrics },
        { "GET", "/v1/changes", get_changes },
};

void api_dispatch(ControlCall *call, void *userdata) {
        Daemon *d = userdata;
        const char *method = control_call_method(call), *path = control_call_path(call);
        bool path_known = false;

        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                if (!STREQ(routes[i].path, path))
                        continue;
                path_known = true;
                if (STREQ(routes[i].method, method)) {
                        routes[i].handler(d, call);
                        return;
                }
        }
        if (path_known)
                control_call_reply_error(call, 405, "%s not allowed on %s", method, path);
        else
                control_call_reply_error(call, 404, "no such endpoint: %s %s", method, path);
}
