/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "hostd/api-server.h"
#include "hostd/wave-fleetlock.h"
#include "hostd/log.h"

/* A call the coordinator has not answered yet. */
typedef struct Pending {
        FleetLockServer *server;
        ControlCall *call;
        struct Pending *next;
} Pending;

struct FleetLockServer {
        ControlServer *server;
        Coordinator *coordinator;
        PostureBoard *board;      /* not owned */
        char cluster_id[128];
        Pending *pending; /* forgotten by the coordinator when the server goes */
};

static void reply_kind(ControlCall *call, unsigned status, const char *kind, const char *format, ...) _printf_(4, 5);
static void reply_kind(ControlCall *call, unsigned status, const char *kind, const char *format, ...) {
        char value[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(value, sizeof(value), format, ap);
        va_end(ap);
        control_call_reply(call, status, json_pack("{s:s, s:s}", "kind", kind, "value", value));
}

static const char *may_patch_reason(int r) {
        switch (r) {
        case -EAGAIN: return "not yet: the node is waiting for its turn or its tasks are still stopping";
        case -ENOENT: return "the node is not in a wave";
        case -ESTALE: return "the node has nothing to do in the wave now";
        default: return "refused";
        }
}

static void on_answer(const CoordinatorAnswer *a, void *userdata) {
        Pending *p = userdata;
        ControlCall *call = p->call;
        const char *path = control_call_path(call);

        for (Pending **l = &p->server->pending; *l; l = &(*l)->next)
                if (*l == p) {
                        *l = p->next;
                        break;
                }
        free(p);

        if (a->error) {
                reply_kind(call, a->error == -EPERM ? 503 : 409, "coordinator", "%s",
                           a->message ? a->message : strerror(-a->error));
                return;
        }
        if (STREQ(path, "/v1/pre-reboot")) {
                if (a->may_patch == 0)
                        control_call_reply(call, 200, json_object());
                else
                        reply_kind(call, 409, "not_now", "%s", may_patch_reason(a->may_patch));
                return;
        }
        control_call_reply(call, 200,
                           json_pack("{s:O?, s:s, s:I, s:b, s:s}", "wave", a->wave ? a->wave : json_null(), "blocked",
                                     a->blocked ? a->blocked : "", "version", (json_int_t) a->version, "leader",
                                     a->leader, "leader_address", a->leader_address ? a->leader_address : ""));
}

static uint64_t hold_until(void) {
        return clock_usec(CLOCK_MONOTONIC) + FLEETLOCK_HOLD_USEC;
}

static void on_call(ControlCall *call, void *userdata) {
        FleetLockServer *s = userdata;
        const char *method = control_call_method(call), *path = control_call_path(call), *why = NULL;
        const ControlPeerCert *cert = control_call_peer_cert(call, &why);
        const json_t *body = control_call_body(call), *params, *report, *posture;
        WaveRequest req = {};
        int r;

        if (!cert) {
                reply_kind(call, 401, "client_certificate",
                           "a client certificate issued by this Swarm's CA is required: %s", why ? why : "none");
                return;
        }
        if (!STREQ(cert->organization, s->cluster_id)) {
                reply_kind(call, 403, "wrong_cluster", "the client certificate is of Swarm %s, not of this one (%s)",
                           cert->organization, s->cluster_id);
                return;
        }
        const char *header = control_call_header(call, "fleet-lock-protocol");
        if (!header || !STREQ(header, "true")) {
                reply_kind(call, 400, "missing_header", "the header \"fleet-lock-protocol: true\" is required");
                return;
        }
        if (STREQ(method, "GET") && STREQ(path, "/v1/wave")) {
                const char *wait = control_call_query(call, "wait");
                req.kind = WAVE_REQUEST_READ;
                if (wait) {
                        char *end;
                        errno = 0;
                        req.known_version = strtoull(wait, &end, 10);
                        if (errno || end == wait || *end) {
                                reply_kind(call, 400, "bad_request", "wait: expected a Swarm version, got \"%.64s\"",
                                           wait);
                                return;
                        }
                        req.kind = WAVE_REQUEST_WATCH;
                        req.hold_until_usec = hold_until();
                }
                goto send;
        }
        if (!STREQ(method, "POST") ||
            (!STREQ(path, "/v1/pre-reboot") && !STREQ(path, "/v1/steady-state") && !STREQ(path, "/v1/posture"))) {
                reply_kind(call, 404, "not_found", "no such endpoint: %s %s", method, path);
                return;
        }
        params = json_object_get(body, "client_params");
        if (!json_is_string(json_object_get(params, "id")) || !json_is_string(json_object_get(params, "group"))) {
                reply_kind(call, 400, "bad_request", "expected {\"client_params\": {\"id\": NODE_ID, \"group\": GROUP}}");
                return;
        }
        req.node_id = json_string_value(json_object_get(params, "id"));
        if (!STREQ(req.node_id, cert->common_name)) {
                reply_kind(call, 403, "wrong_node", "the client certificate is node %s's: it cannot speak for node %s",
                           cert->common_name, req.node_id);
                return;
        }
        /* the node's posture summary, sent alone or with a wave call */
        posture = json_object_get(body, "posture");
        if (posture || STREQ(path, "/v1/posture")) {
                char bad[160];

                if (posture_summary_validate(posture, bad, sizeof(bad)) < 0) {
                        reply_kind(call, 400, "bad_request", "%s", bad);
                        return;
                }
                r = posture_board_put(s->board, req.node_id, posture, clock_usec(CLOCK_MONOTONIC));
                if (r < 0) {
                        reply_kind(call, 500, "internal", "%s", strerror(-r));
                        return;
                }
                if (STREQ(path, "/v1/posture")) {
                        control_call_reply(call, 200, json_object());
                        return;
                }
        }
        if (STREQ(path, "/v1/pre-reboot")) {
                req.kind = WAVE_REQUEST_MAY_PATCH;
                req.hold_until_usec = hold_until();
        } else {
                report = json_object_get(body, "wave");
                req.kind = WAVE_REQUEST_REPORT;
                req.ok = req.healthy = true;
                if (report) {
                        if (!json_is_object(report) || !json_is_boolean(json_object_get(report, "ok")) ||
                            !json_is_boolean(json_object_get(report, "healthy"))) {
                                reply_kind(call, 400, "bad_request",
                                           "wave: expected {\"ok\": bool, \"healthy\": bool, \"message\": string, "
                                           "\"transaction\": string}");
                                return;
                        }
                        req.ok = json_is_true(json_object_get(report, "ok"));
                        req.healthy = json_is_true(json_object_get(report, "healthy"));
                        req.message = json_string_value(json_object_get(report, "message"));
                        req.transaction = json_string_value(json_object_get(report, "transaction"));
                }
                log_info("Node %s reports steady state: %s%s%s", req.node_id, req.ok ? "patched" : "failed",
                         req.message ? ": " : "", req.message ? req.message : "");
        }
send:;
        Pending *p = calloc(1, sizeof(Pending));
        if (!p) {
                reply_kind(call, 500, "internal", "out of memory");
                return;
        }
        *p = (Pending){ .server = s, .call = call };
        r = coordinator_request(s->coordinator, &req, on_answer, p);
        if (r < 0) {
                free(p);
                reply_kind(call, 500, "internal", "%s", strerror(-r));
                return;
        }
        p->next = s->pending;
        s->pending = p;
}

/* Swarm writes its node key as PEM with RFC 1421 headers ("kek-version: 0",
 * "raft-dek: ..."), which GnuTLS does not accept: drop the header lines.
 * An encrypted key (an autolocked Swarm) is refused. */
static int pem_strip_headers(char *text, char *why, size_t why_size, const char *path) {
        char *out = text;
        bool inside = false;

        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                size_t len = next ? (size_t) (next - line) + 1 : strlen(line);
                if (next)
                        next++;
                if (strncmp(line, "-----BEGIN", 10) == 0)
                        inside = true;
                else if (strncmp(line, "-----END", 8) == 0)
                        inside = false;
                else if (inside && memchr(line, ':', len)) {
                        if (strncmp(line, "Proc-Type:", 10) == 0 || strncmp(line, "DEK-Info:", 9) == 0) {
                                snprintf(why, why_size, "%s: the key is encrypted (is the Swarm autolocked?)", path);
                                return -EKEYREJECTED;
                        }
                        continue;
                } else if (inside && len <= 1)
                        continue; /* the blank line after headers */
                memmove(out, line, len);
                out += len;
        }
        *out = '\0';
        return 0;
}

int fleetlock_read_pem(const char *dir, const char *name, char **ret, char *why, size_t why_size) {
        _cleanup_free_ char *path = NULL;
        size_t size;
        int r;

        if (asprintf(&path, "%s/swarm/certificates/%s", dir, name) < 0)
                return -ENOMEM;
        r = read_file(path, 1024 * 1024, ret, &size);
        if (r < 0) {
                snprintf(why, why_size, "%s: %s", path, strerror(-r));
                return r;
        }
        return pem_strip_headers(*ret, why, why_size, path);
}

int fleetlock_server_new(sd_event *event, uint16_t port, const char *docker_root, const char *cluster_id,
                         Coordinator *coordinator, PostureBoard *board, FleetLockServer **ret, char *why,
                         size_t why_size) {
        _cleanup_(fleetlock_server_freep) FleetLockServer *s = calloc(1, sizeof(FleetLockServer));
        _cleanup_free_ char *cert = NULL, *key = NULL, *ca = NULL;
        int r;

        if (!s)
                return -ENOMEM;
        if (!cluster_id || !*cluster_id || strlen(cluster_id) >= sizeof(s->cluster_id)) {
                snprintf(why, why_size, "the Swarm's cluster ID is not known");
                return -EINVAL;
        }
        snprintf(s->cluster_id, sizeof(s->cluster_id), "%s", cluster_id);
        s->coordinator = coordinator;
        s->board = board;
        if ((r = fleetlock_read_pem(docker_root, "swarm-node.crt", &cert, why, why_size)) < 0 ||
            (r = fleetlock_read_pem(docker_root, "swarm-node.key", &key, why, why_size)) < 0 ||
            (r = fleetlock_read_pem(docker_root, "swarm-root-ca.crt", &ca, why, why_size)) < 0)
                return r;
        r = control_server_new_tls(event, port, &(ControlTls){ .cert_pem = cert, .key_pem = key, .trust_pem = ca },
                                   on_call, s, &s->server);
        if (r < 0) {
                snprintf(why, why_size, "cannot serve HTTPS on port %u: %s", port, strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

FleetLockServer *fleetlock_server_free(FleetLockServer *s) {
        if (!s)
                return NULL;
        /* the server answers its pending calls with 503 as it goes */
        while (s->pending) {
                Pending *p = s->pending;
                s->pending = p->next;
                coordinator_cancel(s->coordinator, p);
                free(p);
        }
        control_server_free(s->server);
        free(s);
        return NULL;
}

uint16_t fleetlock_server_port(const FleetLockServer *s) {
        return control_server_port(s->server);
}
