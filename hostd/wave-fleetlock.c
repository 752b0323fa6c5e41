/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "hostd/api-requests.h"
#include "hostd/api-server.h"
#include "hostd/wave-fleetlock.h"
#include "hostd/log.h"

/* A call the coordinator has not answered yet. */
typedef struct Pending {
        FleetLockServer *server;
        ControlCall *call;
        char speaker[128]; /* the client certificate's node */
        struct Pending *next;
} Pending;

struct FleetLockServer {
        ControlServer *server;
        FleetLockParts parts;     /* not owned */
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
        SwarmPeers *peers = p->server->parts.peers;
        bool reported = peers && swarm_peers_has_report(peers, p->speaker);

        for (Pending **l = &p->server->pending; *l; l = &(*l)->next)
                if (*l == p) {
                        *l = p->next;
                        break;
                }
        free(p);

        if (a->error) {
                /* 409: the request's own answer, final; 503: ask again
                 * (not the leader's coordinator, a Swarm read or write
                 * failed, or hostd stops) */
                reply_kind(call, a->transient || a->error == -EPERM ? 503 : 409, "coordinator", "%s",
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
                           json_pack("{s:O?, s:s, s:I, s:b, s:s, s:o*, s:b, s:I}", "wave", a->wave ? a->wave : json_null(),
                                     "blocked", a->blocked ? a->blocked : "", "version", (json_int_t) a->version,
                                     "leader", a->leader, "leader_address", a->leader_address ? a->leader_address : "",
                                     "peers", peers && swarm_peers_known(peers) ? swarm_peers_to_json(peers) : NULL,
                                     "reported",
                                     reported, "peers_digest", (json_int_t) (peers ? swarm_peers_digest(peers) : 0)));
}

int fleetlock_call_from_path(const char *path) {
        static const char *const paths[_FLEETLOCK_CALL_MAX] = {
                [FLEETLOCK_PRE_REBOOT] = "/v1/pre-reboot",
                [FLEETLOCK_STEADY_STATE] = "/v1/steady-state",
                [FLEETLOCK_POSTURE] = "/v1/posture",
        };

        for (size_t i = 0; path && i < ELEMENTSOF(paths); i++)
                if (STREQ(path, paths[i]))
                        return (int) i;
        return -ENOENT;
}

int fleetlock_request_from_json(FleetLockCall call, const json_t *body, const char *speaker, FleetLockRequest *ret,
                                char *err, size_t err_size) {
        const json_t *params = json_object_get(body, "client_params"), *report, *posture;
        FleetLockRequest req = { .call = call };

        if ((unsigned) call >= _FLEETLOCK_CALL_MAX) {
                snprintf(err, err_size, "not a call of the node protocol");
                return -EINVAL;
        }
        if (!json_is_string(json_object_get(params, "id")) || !json_is_string(json_object_get(params, "group"))) {
                snprintf(err, err_size, "expected {\"client_params\": {\"id\": NODE_ID, \"group\": GROUP}}");
                return -EINVAL;
        }
        req.node_id = json_string_value(json_object_get(params, "id"));
        req.group = json_string_value(json_object_get(params, "group"));
        if (speaker && !STREQ(req.node_id, speaker)) {
                snprintf(err, err_size, "the client certificate is node %s's: it cannot speak for node %s", speaker,
                         req.node_id);
                return -EPERM;
        }
        req.addresses = json_object_get(body, "addresses");
        if (req.addresses && swarm_peers_check_report(req.addresses, err, err_size) < 0)
                return -EINVAL;
        posture = json_object_get(body, "posture");
        /* /v1/posture says something: a summary, or addresses alone */
        if (posture || (call == FLEETLOCK_POSTURE && !req.addresses)) {
                if (posture_summary_validate(posture, err, err_size) < 0)
                        return -EINVAL;
                req.posture = posture;
        }
        if (call == FLEETLOCK_STEADY_STATE) {
                report = json_object_get(body, "wave");
                req.ok = req.healthy = true;
                if (report) {
                        if (!json_is_object(report) || !json_is_string(json_object_get(report, "id")) ||
                            !json_is_boolean(json_object_get(report, "ok")) ||
                            !json_is_boolean(json_object_get(report, "healthy"))) {
                                snprintf(err, err_size,
                                         "wave: expected {\"id\": string, \"ok\": bool, \"healthy\": bool, "
                                         "\"message\": string, \"transaction\": string}");
                                return -EINVAL;
                        }
                        req.wave_id = json_string_value(json_object_get(report, "id"));
                        if (strlen(req.wave_id) == 0 || strlen(req.wave_id) >= WAVE_ID_MAX) {
                                snprintf(err, err_size, "wave.id: expected a wave ID of 1..%d characters",
                                         WAVE_ID_MAX - 1);
                                return -EINVAL;
                        }
                        req.ok = json_is_true(json_object_get(report, "ok"));
                        req.healthy = json_is_true(json_object_get(report, "healthy"));
                        req.message = json_string_value(json_object_get(report, "message"));
                        req.transaction = json_string_value(json_object_get(report, "transaction"));
                }
        }
        *ret = req;
        return 0;
}

int fleetlock_request_parse(FleetLockCall call, const char *data, size_t size, const char *speaker,
                            json_t **ret_body, FleetLockRequest *ret, char *err, size_t err_size) {
        json_t *body = NULL;
        int r;

        r = control_parse_body(data, size, &body, err, err_size);
        if (r < 0)
                return r;
        r = fleetlock_request_from_json(call, body, speaker, ret, err, err_size);
        if (r < 0) {
                json_decref(body);
                return r;
        }
        *ret_body = body;
        return 0;
}

static uint64_t hold_until(void) {
        return clock_usec(CLOCK_MONOTONIC) + FLEETLOCK_HOLD_USEC;
}

/* The caller is a node of this Swarm speaking the protocol; else replied. */
static const ControlPeerCert *authenticate(FleetLockServer *s, ControlCall *call) {
        const char *why = NULL, *header;
        const ControlPeerCert *cert = control_call_peer_cert(call, &why);

        if (!cert) {
                reply_kind(call, 401, "client_certificate",
                           "a client certificate issued by this Swarm's CA is required: %s", why ? why : "none");
                return NULL;
        }
        if (!STREQ(cert->organization, s->cluster_id)) {
                reply_kind(call, 403, "wrong_cluster", "the client certificate is of Swarm %s, not of this one (%s)",
                           cert->organization, s->cluster_id);
                return NULL;
        }
        header = control_call_header(call, "fleet-lock-protocol");
        if (!header || !STREQ(header, "true")) {
                reply_kind(call, 400, "missing_header", "the header \"fleet-lock-protocol: true\" is required");
                return NULL;
        }
        return cert;
}

/* GET /v1/wave[?wait=VERSION]: a read, or a watch. false: replied. */
static bool wave_read_request(FleetLockServer *s, ControlCall *call, WaveRequest *req) {
        const char *wait = control_call_query(call, "wait"), *peers = control_call_query(call, "peers");
        uint64_t digest;

        *req = (WaveRequest){ .kind = WAVE_REQUEST_READ };
        if (!wait)
                return true;
        if (!api_parse_u64(wait, &req->known_version)) {
                reply_kind(call, 400, "bad_request", "wait: expected a Swarm version, got \"%.64s\"", wait);
                return false;
        }
        if (peers && !api_parse_u64(peers, &digest)) {
                reply_kind(call, 400, "bad_request", "peers: expected a peer set digest, got \"%.64s\"", peers);
                return false;
        }
        /* the node's peer set is not this manager's: it gets it now */
        if (peers && s->parts.peers && swarm_peers_known(s->parts.peers) && digest != swarm_peers_digest(s->parts.peers))
                return true;
        req->kind = WAVE_REQUEST_WATCH;
        req->hold_until_usec = hold_until();
        return true;
}

/* A node's POST: its posture kept, and its question or report in req
 * (pointing into fr). false: answered already (posture alone, or an
 * error). */
static bool node_request(FleetLockServer *s, ControlCall *call, const char *speaker, FleetLockRequest *fr,
                         WaveRequest *req) {
        const char *method = control_call_method(call), *path = control_call_path(call);
        char bad[512];
        int r;

        if (!STREQ(method, "POST") || (r = fleetlock_call_from_path(path)) < 0) {
                reply_kind(call, 404, "not_found", "no such endpoint: %s %s", method, path);
                return false;
        }
        r = fleetlock_request_from_json((FleetLockCall) r, control_call_body(call), speaker, fr, bad, sizeof(bad));
        if (r < 0) {
                reply_kind(call, r == -EPERM ? 403 : 400, r == -EPERM ? "wrong_node" : "bad_request", "%s", bad);
                return false;
        }
        /* the node's posture summary, sent alone or with a wave call */
        if (fr->posture) {
                r = posture_board_put(s->parts.board, fr->node_id, fr->posture, clock_usec(CLOCK_MONOTONIC));
                if (r < 0) {
                        reply_kind(call, 500, "internal", "%s", strerror(-r));
                        return false;
                }
        }
        /* the node's own addresses, for every node's firewall */
        if (fr->addresses && s->parts.peers) {
                r = swarm_peers_put_report(s->parts.peers, fr->node_id, fr->addresses, bad, sizeof(bad));
                if (r < 0) {
                        reply_kind(call, r == -ENOMEM ? 500 : 400, r == -ENOMEM ? "internal" : "bad_request", "%s",
                                   r == -ENOMEM ? strerror(-r) : bad);
                        return false;
                }
                if (r > 0) {
                        log_info("Node %s reported its addresses: the Swarm's peer set changed", fr->node_id);
                        if (s->parts.peers_changed)
                                s->parts.peers_changed(s->parts.userdata);
                }
        }
        if (fr->call == FLEETLOCK_POSTURE) {
                control_call_reply(call, 200, json_object());
                return false;
        }
        if (fr->call == FLEETLOCK_PRE_REBOOT) {
                *req = (WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = fr->node_id,
                                      .hold_until_usec = hold_until() };
                return true;
        }
        *req = (WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = fr->node_id, .ok = fr->ok,
                              .healthy = fr->healthy, .message = fr->message, .transaction = fr->transaction,
                              .wave_id = fr->wave_id };
        log_info("Node %s reports steady state: %s%s%s", req->node_id, req->ok ? "patched" : "failed",
                 req->message ? ": " : "", req->message ? req->message : "");
        return true;
}

/* Hands req to the coordinator; its answer replies to call. */
static void forward(FleetLockServer *s, ControlCall *call, const char *speaker, const WaveRequest *req) {
        Pending *p = calloc(1, sizeof(Pending));
        int r;

        if (!p) {
                reply_kind(call, 500, "internal", "out of memory");
                return;
        }
        *p = (Pending){ .server = s, .call = call };
        snprintf(p->speaker, sizeof(p->speaker), "%s", speaker ? speaker : "");
        r = coordinator_request(s->parts.coordinator, req, on_answer, p);
        if (r < 0) {
                free(p);
                reply_kind(call, 500, "internal", "%s", strerror(-r));
                return;
        }
        p->next = s->pending;
        s->pending = p;
}

static void on_call(ControlCall *call, void *userdata) {
        FleetLockServer *s = userdata;
        const ControlPeerCert *cert = authenticate(s, call);
        FleetLockRequest fr;
        WaveRequest req;

        if (!cert)
                return;
        if (STREQ(control_call_method(call), "GET") && STREQ(control_call_path(call), "/v1/wave")) {
                if (wave_read_request(s, call, &req))
                        forward(s, call, cert->common_name, &req);
                return;
        }
        if (node_request(s, call, cert->common_name, &fr, &req))
                forward(s, call, cert->common_name, &req);
}

/* Swarm writes its node key as PEM with RFC 1421 headers ("kek-version: 0",
 * "raft-dek: ..."), which GnuTLS does not accept. One pass over text: drops
 * the header lines and the blank line after them when strip, else only
 * looks for an encrypted key (an autolocked Swarm), which is refused. */
static int pem_headers(char *text, bool strip) {
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
                        if (strncmp(line, "Proc-Type:", 10) == 0 || strncmp(line, "DEK-Info:", 9) == 0)
                                return -EKEYREJECTED;
                        continue;
                } else if (inside && (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n')))
                        continue; /* the blank line after headers */
                if (strip)
                        memmove(out, line, len);
                out += len;
        }
        if (strip)
                *out = '\0';
        return 0;
}

int fleetlock_pem_strip_headers(char *text, const char *path, char *err, size_t err_size) {
        /* looked at whole first, so that a refused key is left as it is */
        if (pem_headers(text, false) < 0) {
                snprintf(err, err_size, "%s: the key is encrypted (is the Swarm autolocked?)", path);
                return -EKEYREJECTED;
        }
        return pem_headers(text, true);
}

int fleetlock_read_pem(const char *dir, const char *name, char **ret, char *err, size_t err_size) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size;
        int r;

        *ret = NULL;
        if (asprintf(&path, "%s/swarm/certificates/%s", dir, name) < 0)
                return -ENOMEM;
        r = read_file(path, 1024 * 1024, &text, &size);
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        r = fleetlock_pem_strip_headers(text, path, err, err_size);
        if (r < 0) {
                explicit_bzero(text, size);
                return r;
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int fleetlock_server_new(sd_event *event, uint16_t port, const char *docker_root, const char *cluster_id,
                         const FleetLockParts *parts, FleetLockServer **ret, char *err, size_t err_size) {
        _cleanup_(fleetlock_server_freep) FleetLockServer *s = calloc(1, sizeof(FleetLockServer));
        _cleanup_free_ char *cert = NULL, *key = NULL, *ca = NULL;
        int r;

        if (!s)
                return -ENOMEM;
        if (!cluster_id || !*cluster_id || strlen(cluster_id) >= sizeof(s->cluster_id)) {
                snprintf(err, err_size, "the Swarm's cluster ID is not known");
                return -EINVAL;
        }
        snprintf(s->cluster_id, sizeof(s->cluster_id), "%s", cluster_id);
        s->parts = *parts;
        if ((r = fleetlock_read_pem(docker_root, "swarm-node.crt", &cert, err, err_size)) < 0 ||
            (r = fleetlock_read_pem(docker_root, "swarm-node.key", &key, err, err_size)) < 0 ||
            (r = fleetlock_read_pem(docker_root, "swarm-root-ca.crt", &ca, err, err_size)) < 0)
                return r;
        r = control_server_new_tls(event, port, &(ControlTls){ .cert_pem = cert, .key_pem = key, .trust_pem = ca },
                                   on_call, s, &s->server);
        if (r < 0) {
                snprintf(err, err_size, "cannot serve HTTPS on port %u: %s", port, strerror(-r));
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
                coordinator_cancel(s->parts.coordinator, p);
                free(p);
        }
        control_server_free(s->server);
        free(s);
        return NULL;
}

uint16_t fleetlock_server_port(const FleetLockServer *s) {
        return control_server_port(s->server);
}
