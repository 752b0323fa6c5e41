/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control API's routes. Each answers JSON; errors are {"message": ...}
 * with a 4xx/5xx status, as the Docker Engine API does. */

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

static const Route routes[] = {
        { "GET", "/v1/status", get_status },
        { "POST", "/v1/reload", post_reload },
        { "GET", "/v1/firewall", get_firewall },
        { "POST", "/v1/firewall/apply", post_firewall_apply },
        { "POST", "/v1/firewall/confirm", post_firewall_confirm },
        { "POST", "/v1/firewall/rollback", post_firewall_rollback },
        { "GET", "/v1/seccomp/audit", get_seccomp_audit },
        { "POST", "/v1/seccomp/install", post_seccomp_install },
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
