/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control API's routes. Each answers JSON; errors are {"message": ...}
 * with a 4xx/5xx status, as the Docker Engine API does. */

#include "hostd/api-routes.h"
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
                           json_pack("{s:b, s:s, s:I}", "reloaded", 1, "config", d->config_path,
                                     "reloads", (json_int_t) d->reloads));
}

static void get_firewall(Daemon *d, ControlCall *call) {
        json_t *status;
        char *text;

        if (!d->firewall) {
                control_call_reply(call, 200, json_pack("{s:b, s:b}", "enabled", 0, "applied", 0));
                return;
        }
        status = firewall_manager_status(d->firewall, true);
        if (!status) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        text = firewall_manager_render(d->firewall);
        json_object_set_new(status, "desired_nft", text ? json_string(text) : json_null());
        free(text);
        control_call_reply(call, 200, status);
}

static void post_firewall_apply(Daemon *d, ControlCall *call) {
        const json_t *body = control_call_body(call), *timeout;
        json_int_t seconds = 0;
        char why[512];
        int r;

        timeout = json_object_get(body, "confirm_timeout");
        if (timeout) {
                if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
                    json_integer_value(timeout) > 3600) {
                        control_call_reply_error(call, 400, "confirm_timeout: expected an integer 1..3600");
                        return;
                }
                seconds = json_integer_value(timeout);
        }
        if (json_object_size(body) > (timeout ? 1u : 0u)) {
                control_call_reply_error(call, 400, "unknown field in body: only confirm_timeout is accepted");
                return;
        }
        r = daemon_firewall_apply(d, (unsigned) seconds, why, sizeof(why));
        if (r < 0) {
                control_call_reply_error(call, r == -EINVAL || r == -E2BIG || r == -EBUSY ? 400 : 500,
                                         "%s", why);
                return;
        }
        control_call_reply(call, 200, json_pack("{s:b, s:I}", "applied", 1, "confirm_timeout", seconds));
}

static void post_firewall_confirm(Daemon *d, ControlCall *call) {
        char why[256];

        if (!d->firewall || firewall_manager_confirm(d->firewall, why, sizeof(why)) < 0) {
                control_call_reply_error(call, 409, "%s", d->firewall ? why : "firewall not managed");
                return;
        }
        control_call_reply(call, 200, json_pack("{s:b}", "confirmed", 1));
}

static void post_firewall_rollback(Daemon *d, ControlCall *call) {
        char why[256];

        if (!d->firewall ||
            firewall_manager_rollback(d->firewall, "hostctl firewall rollback", why, sizeof(why)) < 0) {
                control_call_reply_error(call, 409, "%s", d->firewall ? why : "firewall not managed");
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
        const json_t *body = control_call_body(call), *profile;
        json_t *reply = NULL;
        char why[768];
        int r;

        profile = json_object_get(body, "profile");
        if (!json_is_string(profile) || json_string_value(profile)[0] != '/') {
                control_call_reply_error(call, 400, "profile: expected the absolute path of a profile");
                return;
        }
        if (json_object_size(body) != 1) {
                control_call_reply_error(call, 400, "unknown field in body: only profile is accepted");
                return;
        }
        log_info("Seccomp install of %s requested over the control API by uid %u pid %d",
                 json_string_value(profile), (unsigned) control_call_uid(call),
                 (int) control_call_pid(call));
        r = daemon_seccomp_install(d, json_string_value(profile), &reply, why, sizeof(why));
        if (r < 0) {
                control_call_reply_error(call, r == -ENOMEM || r == -EIO ? 500 : 400, "%s", why);
                return;
        }
        control_call_reply(call, 200, reply);
}

/* POST /v1/patch/{plan,stage,apply,rollback}: starts the job; its
 * progress and result come from GET /v1/patch/job. */
static void post_patch(Daemon *d, ControlCall *call, PatchOp op) {
        const json_t *body = control_call_body(call), *v;
        _cleanup_free_ char *state_dir = NULL;
        PatchRequest req;
        unsigned id;
        const char *key;
        int r;

        json_object_foreach((json_t *) body, key, v) {
                bool ok = (STREQ(key, "refresh") && json_is_boolean(v) && op != PATCH_OP_ROLLBACK) ||
                          (STREQ(key, "plan") && json_is_string(v) && (op == PATCH_OP_STAGE || op == PATCH_OP_APPLY)) ||
                          (STREQ(key, "id") && json_is_string(v) && op == PATCH_OP_ROLLBACK);
                if (!ok) {
                        control_call_reply_error(call, 400, "%s: not a field of a patch %s request (%s)", key,
                                                 patch_op_to_string(op),
                                                 op == PATCH_OP_ROLLBACK ? "id: string" :
                                                 op == PATCH_OP_PLAN     ? "refresh: boolean" :
                                                                           "refresh: boolean, plan: string");
                        return;
                }
        }
        r = daemon_patch_request(d, op, &req, &state_dir);
        if (r < 0) {
                control_call_reply_error(call, 500, "%s", strerror(-r));
                return;
        }
        req.refresh = json_is_true(json_object_get(body, "refresh"));
        req.expected_plan = json_string_value(json_object_get(body, "plan"));
        req.entry_id = json_string_value(json_object_get(body, "id"));
        log_info("Patch %s requested over the control API by uid %u pid %d", patch_op_to_string(op),
                 (unsigned) control_call_uid(call), (int) control_call_pid(call));
        r = patch_jobs_start(d->patch_jobs, &req, &id);
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

/* A non-negative decimal integer, all of s. */
static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;

        if (!s || !*s || *s == '-')
                return false;
        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno == 0 && *end == 0;
}

static bool parse_index(const char *s, unsigned long *ret) {
        uint64_t v;

        if (!parse_u64(s, &v) || v >= UINT32_MAX)
                return false;
        *ret = (unsigned long) v;
        return true;
}

/* GET /v1/patch/job?id=N&after=K: answered once there is progress after K
 * or the job has finished. */
static void get_patch_job(Daemon *d, ControlCall *call) {
        unsigned long id, after = 0;

        if (!parse_index(control_call_query(call, "id"), &id) ||
            (control_call_query(call, "after") && !parse_index(control_call_query(call, "after"), &after))) {
                control_call_reply_error(call, 400, "expected ?id=JOB[&after=INDEX] (non-negative integers)");
                return;
        }
        patch_jobs_wait(d->patch_jobs, (unsigned) id, after, call);
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
        const char *kind = control_call_query(call, "kind");
        uint64_t since = 0, limit = 0;
        int r;

        if ((control_call_query(call, "since") && !parse_u64(control_call_query(call, "since"), &since)) ||
            (control_call_query(call, "limit") && !parse_u64(control_call_query(call, "limit"), &limit))) {
                control_call_reply_error(call, 400, "expected ?since=USEC&limit=N (non-negative integers)");
                return;
        }
        if (kind && change_kind_from_string(kind) < 0) {
                control_call_reply_error(call, 400, "kind: \"%s\" is not a kind of change", kind);
                return;
        }
        r = change_log_read(d->config->state_directory, since, kind, (size_t) limit, &records, &damaged);
        if (r < 0) {
                control_call_reply_error(call, 500, "cannot read the change log under %s: %s",
                                         d->config->state_directory, strerror(-r));
                return;
        }
        control_call_reply(call, 200, json_pack("{sOsO}", "changes", records, "damaged", damaged));
}

/* ---- waves ------------------------------------------------------------ */

static void on_wave_answer(const CoordinatorAnswer *a, void *userdata) {
        ControlCall *call = userdata;
        unsigned status;

        if (a->error) {
                status = a->error == -EBUSY || a->error == -EPROTO   ? 409 :
                         a->error == -ENOENT                          ? 404 :
                         a->error == -EINVAL                          ? 400 :
                         a->error == -EPERM || a->error == -ENOTCONN  ? 409 :
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

        if (!d->coordinator) {
                control_call_reply_error(call, 503, "Docker is not set up yet");
                return;
        }
        r = coordinator_request(d->coordinator, req, on_wave_answer, call);
        if (r < 0)
                control_call_reply_error(call, 500, "%s", strerror(-r));
}

static bool body_keys(ControlCall *call, const char *const *allowed) {
        const json_t *body = control_call_body(call), *v;
        const char *key;

        json_object_foreach((json_t *) body, key, v) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        ok = ok || STREQ(*a, key);
                if (!ok) {
                        control_call_reply_error(call, 400, "unknown field in body: %s", key);
                        return false;
                }
        }
        return true;
}

static bool get_seconds(ControlCall *call, const char *key, json_int_t min, json_int_t max, uint64_t *usec) {
        const json_t *v = json_object_get(control_call_body(call), key);

        if (!v)
                return true;
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
                control_call_reply_error(call, 400, "%s: expected an integer %lld..%lld", key, (long long) min,
                                         (long long) max);
                return false;
        }
        *usec = (uint64_t) json_integer_value(v) * 1000000ULL;
        return true;
}

static void post_wave_start(Daemon *d, ControlCall *call) {
        static const char *const keys[] = { "max_unavailable", "soak_seconds", "deadline_seconds", "label",
                                            "canaries", "on_failure", NULL };
        const json_t *body = control_call_body(call), *v, *c;
        const char *canaries[33] = {};
        WaveRequest req = { .kind = WAVE_REQUEST_START };
        size_t i;

        if (!body_keys(call, keys) || !get_seconds(call, "soak_seconds", 0, 7 * 86400, &req.start.soak_usec) ||
            !get_seconds(call, "deadline_seconds", 1, 2 * 86400, &req.start.node_deadline_usec))
                return;
        if ((v = json_object_get(body, "max_unavailable"))) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > WAVE_MAX_NODES) {
                        control_call_reply_error(call, 400, "max_unavailable: expected an integer 1..%d", WAVE_MAX_NODES);
                        return;
                }
                req.start.max_unavailable = (unsigned) json_integer_value(v);
        }
        if ((v = json_object_get(body, "on_failure"))) {
                int f = wave_on_failure_from_string(json_string_value(v));
                if (f < 0) {
                        control_call_reply_error(call, 400, "on_failure: expected \"halt\" or \"continue\"");
                        return;
                }
                req.start.on_failure = (WaveOnFailure) f;
        }
        if ((v = json_object_get(body, "label"))) {
                if (!json_is_string(v) || !strchr(json_string_value(v), '=')) {
                        control_call_reply_error(call, 400, "label: expected \"key=value\"");
                        return;
                }
                req.start.label = json_string_value(v);
        }
        if ((v = json_object_get(body, "canaries"))) {
                if (!json_is_array(v) || json_array_size(v) > 32) {
                        control_call_reply_error(call, 400, "canaries: expected an array of at most 32 node IDs or hostnames");
                        return;
                }
                json_array_foreach(v, i, c) {
                        if (!json_is_string(c)) {
                                control_call_reply_error(call, 400, "canaries[%zu]: expected a string", i);
                                return;
                        }
                        canaries[i] = json_string_value(c);
                }
                req.start.canaries = canaries;
        }
        log_info("Wave start requested over the control API by uid %u pid %d", (unsigned) control_call_uid(call),
                 (int) control_call_pid(call));
        wave_request(d, call, &req);
}

/* GET /v1/wave[?wait=VERSION]: with wait, answered once the Swarm's
 * version is another (a long poll for `hostctl wave watch`). */
static void get_wave(Daemon *d, ControlCall *call) {
        const char *wait = control_call_query(call, "wait");
        unsigned long long v = 0;
        char *end;

        if (wait) {
                errno = 0;
                v = strtoull(wait, &end, 10);
                if (errno || end == wait || *end || *wait == '-') {
                        control_call_reply_error(call, 400, "wait: expected the version of the last answer");
                        return;
                }
        }
        wave_request(d, call,
                     &(WaveRequest){ .kind = wait ? WAVE_REQUEST_WATCH : WAVE_REQUEST_READ, .known_version = v });
}

static void wave_control(Daemon *d, ControlCall *call, WaveRequestKind kind) {
        static const char *const keys[] = { "reason", NULL };
        const json_t *reason = json_object_get(control_call_body(call), "reason");

        if (!body_keys(call, keys))
                return;
        if (reason && !json_is_string(reason)) {
                control_call_reply_error(call, 400, "reason: expected a string");
                return;
        }
        wave_request(d, call, &(WaveRequest){ .kind = kind, .reason = json_string_value(reason) });
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
