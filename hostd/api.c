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

static const Route routes[] = {
        { "GET", "/v1/status", get_status },
        { "POST", "/v1/reload", post_reload },
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
