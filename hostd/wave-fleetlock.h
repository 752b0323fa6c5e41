/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The node protocol of patch waves, served by hostd on managers: FleetLock
 * (the reboot-lock protocol Fedora CoreOS' Zincati speaks) over HTTPS with
 * the Swarm's own certificates, extended for waves.
 *
 * TLS: the server presents this manager's Swarm node certificate (its
 * names include "swarm-manager") and asks every client for one issued by
 * the Swarm's CA (DOCKER_ROOT/swarm/certificates: swarm-node.crt,
 * swarm-node.key, swarm-root-ca.crt). Its subject says who speaks:
 * O = the cluster ID, OU = swarm-manager or swarm-worker, CN = the node ID.
 *
 * Every request carries the header "fleet-lock-protocol: true"; POSTs carry
 * {"client_params": {"id": NODE_ID, "group": GROUP}}, and id must be the
 * certificate's CN: a node speaks only for itself.
 *   POST /v1/pre-reboot    may this node patch (and reboot) now? 200 yes,
 *                          409 not yet or not at all (the reason in the body)
 *   POST /v1/steady-state  the node is done; with the extension
 *                          "wave": {"id": WAVE, "ok": bool, "healthy": bool,
 *                          "message": "...", "transaction": "..."} it reports
 *                          how, for that wave only (a report of another
 *                          wave is refused); plain FleetLock: ok and
 *                          healthy, for the current wave. Errors: 409 the
 *                          request's own answer (final), 503 ask again
 *   POST /v1/posture       (extension) the node's posture summary,
 *                          {"client_params": ..., "posture": {...}}
 *                          (hostd/posture-board.h), kept for the cluster
 *                          view; pre-reboot and steady-state may carry
 *                          "posture" too. Any POST may carry "addresses":
 *                          the node's own (advertise, data path), for the
 *                          Swarm's peer set
 *   GET  /v1/wave          (extension) the wave, {"wave", "blocked",
 *                          "version", "leader", "leader_address" (the
 *                          Raft leader's, as this manager sees it),
 *                          "peers" (the Swarm's peers, hostd/swarm-peers.h;
 *                          left out until this manager has read the node
 *                          list),
 *                          "reported" (whether this manager holds the
 *                          asking node's report of its addresses),
 *                          "peers_digest" (swarm_peers_digest)}; with
 *                          ?wait=VERSION
 *                          answered once the Swarm's version is another
 *                          (the wave may have changed), or after
 *                          FLEETLOCK_HOLD_USEC with the same one, or at
 *                          once when the peer set changed; with
 *                          &peers=DIGEST, at once when this manager's set
 *                          is not that one
 * pre-reboot from a node that is draining is answered once its tasks have
 * stopped (or "not yet" after FLEETLOCK_HOLD_USEC). "leader" says whether
 * this manager's hostd is the coordinator: nodes ask the leader, whose
 * answers move first.
 * Errors are FleetLock's {"kind": "...", "value": "..."}: client_certificate
 * (401), wrong_cluster and wrong_node (403), missing_header and bad_request
 * (400), not_now (409), and coordinator errors. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "common/macro.h"
#include "hostd/wave-coordinator.h"
#include "hostd/posture-board.h"
#include "hostd/swarm-peers.h"

#define FLEETLOCK_HOLD_USEC (25 * 1000000ULL)

typedef struct FleetLockServer FleetLockServer;

/* Removes, in place, the RFC 1421 header lines Swarm writes into its node
 * key's PEM ("kek-version: 0", "raft-dek: ...": a line with a ':' between
 * -----BEGIN and -----END) and the blank line after them (any line there
 * that is only "\n" or "\r\n"), which GnuTLS refuses; every other line
 * is kept as it is, so text only gets shorter.
 * An encrypted key (Proc-Type: or DEK-Info:, an autolocked Swarm) is
 * -EKEYREJECTED with err naming path, and text unchanged. */
int fleetlock_pem_strip_headers(char *text, const char *path, char *err, size_t err_size);

/* A PEM file of the node's Swarm certificates
 * (docker_root/swarm/certificates/name), with its headers stripped
 * (fleetlock_pem_strip_headers). err names the file; *ret is NULL on
 * failure. */
int fleetlock_read_pem(const char *docker_root, const char *name, char **ret, char *err, size_t err_size);

/* The POSTs a node makes. */
typedef enum FleetLockCall {
        FLEETLOCK_PRE_REBOOT,   /* POST /v1/pre-reboot */
        FLEETLOCK_STEADY_STATE, /* POST /v1/steady-state */
        FLEETLOCK_POSTURE,      /* POST /v1/posture */
        _FLEETLOCK_CALL_MAX,
} FleetLockCall;

/* The FleetLockCall of a POST's path, or -ENOENT. */
int fleetlock_call_from_path(const char *path);

/* A node's POST, read from its body; strings and posture point into it. */
typedef struct FleetLockRequest {
        FleetLockCall call;
        const char *node_id;               /* client_params.id */
        const char *group;                 /* client_params.group */
        const json_t *posture;             /* a valid summary; NULL when the body has none */
        bool ok, healthy;                  /* steady-state: the "wave" report's, true without one */
        const char *message, *transaction; /* steady-state: the report's strings, or NULL */
        const char *wave_id;               /* steady-state: the wave reported on; NULL: plain FleetLock */
        const json_t *addresses;           /* the node's own addresses, checked; NULL: none sent */
} FleetLockRequest;

/* Reads the JSON body (NULL: empty) of a node's call: {"client_params":
 * {"id": string, "group": string}}, with "posture" (a summary,
 * posture_summary_validate; required for FLEETLOCK_POSTURE unless
 * "addresses" is there, optional otherwise), "addresses"
 * (swarm_peers_check_report) and, for steady-state, "wave": {"ok": bool, "healthy": bool,
 * "message", "transaction"}; other members are ignored, as FleetLock
 * does. speaker is the node the client certificate names (NULL: not
 * checked). Fills *ret only on success. Errors, in the order checked and
 * answered: -EINVAL (400 bad_request) for missing client_params, -EPERM
 * (403 wrong_node) when id is not speaker, -EINVAL for a posture the
 * board refuses (its reason) or a malformed wave report; err says what is
 * wrong. */
int fleetlock_request_from_json(FleetLockCall call, const json_t *body, const char *speaker, FleetLockRequest *ret,
                                char *err, size_t err_size);

/* The same from the body's bytes, read as the server reads them
 * (control_parse_body): also -EINVAL for malformed JSON or a body that is
 * not an object. On success *ret_body is the parsed body ret points into
 * (NULL for an empty one), for the caller to json_decref. */
int fleetlock_request_parse(FleetLockCall call, const char *data, size_t size, const char *speaker,
                            json_t **ret_body, FleetLockRequest *ret, char *err, size_t err_size);

/* What the server answers from and writes to, owned by the caller. */
typedef struct FleetLockParts {
        Coordinator *coordinator;
        PostureBoard *board;
        SwarmPeers *peers;
        /* a node's report changed the peer set */
        void (*peers_changed)(void *userdata);
        void *userdata;
} FleetLockParts;

/* Reads the certificates under docker_root/swarm/certificates. port 0
 * picks one. -ENOENT etc. with err naming the file. parts is copied. */
int fleetlock_server_new(sd_event *event, uint16_t port, const char *docker_root, const char *cluster_id,
                         const FleetLockParts *parts, FleetLockServer **ret, char *err, size_t err_size);
FleetLockServer *fleetlock_server_free(FleetLockServer *s);
DEFINE_CLEANUP_FUNC(FleetLockServer, fleetlock_server_free);

uint16_t fleetlock_server_port(const FleetLockServer *s);
