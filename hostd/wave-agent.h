/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* This node's part in patch waves, run by hostd on every node (managers
 * too). It speaks the node protocol (hostd/wave-fleetlock.h) to the managers'
 * hostd over HTTPS with this node's own Swarm certificate, and keeps its
 * step in STATE/wave-node.json (patching/wave-node.h) before acting, so a
 * crash or reboot at any step resumes there.
 *
 *   watch   GET /v1/wave?wait=VERSION on the leader's hostd (found by
 *           asking the managers /info lists; "leader" in the answer);
 *           its answers also carry the Swarm's peer set, handed to the
 *           daemon for the firewall
 *   staged  when a wave names this node: plan and stage its patches
 *           (a worker process, hostd/patch-jobs.h)
 *   waiting once the coordinator drained it and the node's own Swarm task
 *           containers have stopped (Docker events): POST /v1/pre-reboot,
 *           held by the coordinator until the Raft store agrees
 *   applying the staged plan, exactly; the checks that pass now are
 *           recorded first: they must pass afterwards too
 *   rebooting when the apply says so: logind's Reboot over the system bus,
 *           or wave.reboot-command (a test hook that restarts dockerd and
 *           hostd and changes wave.boot-id-file)
 *   docker-restart  no reboot, but a seccomp install waits for dockerd's
 *           restart: wave.docker-restart-command, then wait until the
 *           dockerd that answers started after the install (the verify
 *           then requires the installed default in force)
 *   verifying Docker up, the node an active Swarm member, the firewall and
 *           seccomp as before, and wave.health-commands; on failure the
 *           transaction is rolled back and verified again
 *   reporting POST /v1/steady-state with {ok, healthy, message,
 *           transaction}; the coordinator activates the node (or halts the
 *           wave), and the agent is idle again.
 * Each step is a change record in the journal. */

#include <jansson.h>
#include <systemd/sd-event.h>

#include "common/macro.h"
#include "hostd/change-log.h"
#include "hostd/docker-client.h"
#include "hostd/event-clock.h"
#include "hostd/patch-jobs.h"
#include "hostd/patch-worker.h"
#include "patching/wave-node.h"
#include "policy/config.h"

typedef struct WaveAgent WaveAgent;

/* What the agent uses of the daemon, passed in. config and docker point at
 * the daemon's own pointers, which a reload replaces; the callbacks give
 * what only the daemon knows, with userdata. */
typedef struct WaveAgentHost {
        sd_event *event;
        EventClock *clock;                /* the time of steps and retries */
        const HostdConfig *const *config;
        DockerClient *const *docker;
        ChangeLog *changes;               /* may be NULL */
        const char *control_socket;       /* the key copy is SOCKET.node-key */
        /* NODE_HEALTH_* in force now; NODE_HEALTH_NODE only when the daemon
         * knows the node as an active Swarm member with ID node_id */
        unsigned (*health)(void *userdata, const char *node_id);
        /* starts a patch job of the configuration's root and policy
         * (hostd/patch-jobs.h): op, for expected_plan (stage, apply) or
         * entry_id (rollback), within the wave's approved set (NULL: none;
         * valid during the call); done(result, error, done_userdata) when
         * it ends; -EBUSY while another job runs */
        int (*start_patch)(void *userdata, PatchOp op, const char *expected_plan, const char *entry_id,
                           const PackageSet *approved, PatchJobDone done, void *done_userdata);
        /* a client for the node protocol to the manager at address; NULL:
         * HTTPS with this node's Swarm certificate (wave-fleetlock.h) */
        int (*open_peer)(void *userdata, const char *address, DockerClient **ret);
        /* the managers are known anew: send them this node's posture */
        void (*posture_report)(void *userdata);
        /* whether a seccomp install waits for dockerd's restart (1), not
         * (0), or cannot be told now (negative: dockerd not reached) */
        int (*seccomp_restart_pending)(void *userdata);
        /* a manager's answer carried the Swarm's peer set ("peers", not
         * checked yet: hostd/swarm-peers.h) */
        void (*peers)(void *userdata, const json_t *peers, const char *manager);
        void *userdata;
} WaveAgentHost;

/* Loads the node record; a damaged one is logged and the agent then does
 * nothing (never guesses). host is copied. */
int wave_agent_new(const WaveAgentHost *host, WaveAgent **ret);
WaveAgent *wave_agent_free(WaveAgent *a);
DEFINE_CLEANUP_FUNC(WaveAgent, wave_agent_free);

/* The daemon read /info (and parsed it into swarm): the node's Swarm
 * membership and its managers. */
void wave_agent_swarm_changed(WaveAgent *a, const json_t *info, const DockerSwarmInfo *swarm);

/* A container event from dockerd (its Swarm tasks stopping). */
void wave_agent_container_event(WaveAgent *a, const json_t *event);

/* The daemon replaced its Docker client (a reload naming another socket):
 * requests under way on the old one were dropped. */
void wave_agent_docker_replaced(WaveAgent *a);

/* Sends this node's posture summary (hostd/posture-board.h) to every
 * manager, and keeps it for the wave calls. */
void wave_agent_send_posture(WaveAgent *a, const json_t *summary);

/* This node's own addresses (swarm_local_addresses), sent with every
 * POST to the managers for the Swarm's peer set; sent to every manager now
 * when they changed, and again to one whose answer says it has none. */
void wave_agent_set_addresses(WaveAgent *a, const json_t *addresses);

/* Something the health checks look at changed. */
void wave_agent_kick(WaveAgent *a);

/* This node's record: its last wave (idle) or the step it is at. */
const WaveNodeRecord *wave_agent_record(const WaveAgent *a);

/* The wave as last read from the coordinator, or NULL. */
const json_t *wave_agent_wave(const WaveAgent *a);

/* {"step", "wave", "manager", "leader", "message"} for the status document. */
json_t *wave_agent_status(const WaveAgent *a);
