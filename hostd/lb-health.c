/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "hostd/lb-health.h"

static const json_t *my_node(const json_t *wave, const char *node_id) {
        const json_t *n;
        size_t i;

        json_array_foreach(json_object_get(wave, "nodes"), i, n)
                if (STREQ_PTR(json_string_value(json_object_get(n, "id")), node_id))
                        return n;
        return NULL;
}

unsigned lb_health_decide(const LbHealthInput *in, char *why, size_t size) {
        const char *wave_id = json_string_value(json_object_get(in->wave, "id"));
        const char *status = json_string_value(json_object_get(in->wave, "status"));
        const json_t *me = in->node_id && in->node_id[0] ? my_node(in->wave, in->node_id) : NULL;
        const char *step = json_string_value(json_object_get(me, "step"));

        if (step && (STREQ(step, "draining") || STREQ(step, "patching") || STREQ(step, "activating"))) {
                snprintf(why, size, "out of service: %s in wave %s", step, wave_id ? wave_id : "?");
                return 503;
        }
        if (in->agent_step && !STREQ(in->agent_step, "idle") && !STREQ(in->agent_step, "staged")) {
                snprintf(why, size, "out of service: this node's wave agent is %s", in->agent_step);
                return 503;
        }
        if (step && STREQ(step, "failed") && status &&
            (STREQ(status, "running") || STREQ(status, "paused") || STREQ(status, "halted"))) {
                snprintf(why, size, "out of service: failed in wave %s (%s)", wave_id ? wave_id : "?", status);
                return 503;
        }
        if (!in->docker_reachable) {
                snprintf(why, size, "out of service: Docker cannot be reached");
                return 503;
        }
        for (size_t i = 0; i < in->n_serving_ports; i++)
                for (size_t k = 0; k < in->n_published; k++)
                        if (in->serving_ports[i] == in->published[k]) {
                                snprintf(why, size, "in service: a container publishes %u",
                                         (unsigned) in->serving_ports[i]);
                                return 200;
                        }
        if (in->n_serving_ports > 0) {
                snprintf(why, size, "out of service: no running container publishes %u%s",
                         (unsigned) in->serving_ports[0], in->n_serving_ports > 1 ? " or another serving port" : "");
                return 503;
        }
        snprintf(why, size, "in service");
        return 200;
}

size_t lb_published_tcp_ports(const json_t *inspect, uint16_t *ports, size_t max) {
        const json_t *bindings = json_object_get(json_object_get(inspect, "NetworkSettings"), "Ports");
        const char *key;
        const json_t *list;
        size_t n = 0;

        json_object_foreach((json_t *) bindings, key, list) {
                const json_t *b;
                size_t i;
                size_t len = strlen(key);

                if (len < 4 || !STREQ(key + len - 4, "/tcp"))
                        continue;
                json_array_foreach(list, i, b) {
                        const char *text = json_string_value(json_object_get(b, "HostPort"));
                        char *end;
                        unsigned long port;
                        bool seen = false;

                        /* as dockerd writes it: decimal, no sign, space or leading zero */
                        if (!text || text[0] < '1' || text[0] > '9' || strlen(text) > 5 ||
                            strspn(text, "0123456789") != strlen(text))
                                continue;
                        port = strtoul(text, &end, 10);
                        if (port > 65535)
                                continue;
                        for (size_t k = 0; k < n; k++)
                                seen = seen || ports[k] == port;
                        if (!seen && n < max)
                                ports[n++] = (uint16_t) port;
                }
        }
        return n;
}
