/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl status, hostctl reload. */

#include "common/text.h"
#include "hostd/hostctl/hostctl.h"

int cmd_status(int argc, char *argv[] _unused_) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *docker, *swarm;
        char uptime[64];
        long status;

        if (argc > 1) {
                fprintf(stderr, "hostctl: status takes no arguments\n");
                return EXIT_USAGE;
        }
        status = call_hostd("GET", "/v1/status", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);

        docker = json_object_get(reply, "docker");
        swarm = json_object_get(reply, "swarm");
        format_duration(json_integer_value(json_object_get(reply, "uptime_seconds")), uptime,
                        sizeof(uptime));
        printf("%-12s %s (pid %lld)\n", "hostd", str(reply, "version"),
               (long long) json_integer_value(json_object_get(reply, "pid")));
        printf("%-12s %s\n", "config", str(reply, "config"));
        printf("%-12s %s (since %s)\n", "uptime", uptime, str(reply, "started"));
        if (json_is_true(json_object_get(docker, "reachable")))
                printf("%-12s reachable at %s (Docker %s)\n", "docker", str(docker, "socket"),
                       str(docker, "server_version"));
        else
                printf("%-12s UNREACHABLE at %s: %s\n", "docker", str(docker, "socket"),
                       str(docker, "error"));
        if (!json_is_object(swarm)) {
                printf("%-12s unknown\n", "swarm");
                return 0;
        }
        printf("%-12s %s\n", "swarm", str(swarm, "state"));
        printf("%-12s %s (%s)\n", "node", str(swarm, "node_id"), str(swarm, "hostname"));
        printf("%-12s %s\n", "role", str(swarm, "role"));
        printf("%-12s %s\n", "leader", json_is_true(json_object_get(swarm, "leader")) ? "yes" : "no");
        return 0;
}

int cmd_reload(int argc, char *argv[] _unused_) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        long status;

        if (argc > 1) {
                fprintf(stderr, "hostctl: reload takes no arguments\n");
                return EXIT_USAGE;
        }
        status = call_hostd("POST", "/v1/reload", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);
        printf("Reloaded %s\n", str(reply, "config"));
        return 0;
}
