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
 *                          "wave": {"ok": bool, "healthy": bool,
 *                          "message": "...", "transaction": "..."} it reports
 *                          how (plain FleetLock: ok and healthy)
 *   POST /v1/posture       (extension) the node's posture summary,
 *                          {"client_params": ..., "posture": {...}}
 *                          (hostd/posture-board.h), kept for the cluster
 *                          view; pre-reboot and steady-state may carry
 *                          "posture" too
 *   GET  /v1/wave          (extension) the wave, {"wave", "blocked",
 *                          "version", "leader", "leader_address" (the
 *                          Raft leader's, as this manager sees it)}; with
 *                          ?wait=VERSION
 *                          answered once the Swarm's version is another
 *                          (the wave may have changed), or after
 *                          FLEETLOCK_HOLD_USEC with the same one
 * pre-reboot from a node that is draining is answered once its tasks have
 * stopped (or "not yet" after FLEETLOCK_HOLD_USEC). "leader" says whether
 * this manager's hostd is the coordinator: nodes ask the leader, whose
 * answers move first.
 * Errors are FleetLock's {"kind": "...", "value": "..."}: client_certificate
 * (401), wrong_cluster and wrong_node (403), missing_header and bad_request
 * (400), not_now (409), and coordinator errors. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "common/macro.h"
#include "hostd/wave-coordinator.h"
#include "hostd/posture-board.h"

#define FLEETLOCK_HOLD_USEC (25 * 1000000ULL)

typedef struct FleetLockServer FleetLockServer;

/* A PEM file of the node's Swarm certificates
 * (docker_root/swarm/certificates/name), with the RFC 1421 header lines
 * Swarm writes into its key removed (GnuTLS refuses them); an encrypted
 * key (an autolocked Swarm) is -EKEYREJECTED. why names the file. */
int fleetlock_read_pem(const char *docker_root, const char *name, char **ret, char *why, size_t why_size);

/* Reads the certificates under docker_root/swarm/certificates. port 0
 * picks one. -ENOENT etc. with why naming the file. */
int fleetlock_server_new(sd_event *event, uint16_t port, const char *docker_root, const char *cluster_id,
                         Coordinator *coordinator, PostureBoard *board, FleetLockServer **ret, char *why,
                         size_t why_size);
FleetLockServer *fleetlock_server_free(FleetLockServer *s);
DEFINE_CLEANUP_FUNC(FleetLockServer, fleetlock_server_free);

uint16_t fleetlock_server_port(const FleetLockServer *s);
