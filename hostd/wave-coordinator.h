/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The wave coordinator: keeps the wave (patching/wave.h) in the Swarm's
 * Raft store, as the label "io.hostd.wave" of the Swarm's spec, written
 * through POST /swarm/update?version=N. A write that lost a race (-ESTALE)
 * is re-read and redone, never forced. No other store and no consensus of
 * our own: whichever manager is the Raft leader advances the wave, and a
 * new leader's hostd resumes from what is stored.
 *
 * Every request (an operator's start, pause, resume, abort or read; a
 * node's question or report) is queued and served by the next cycle:
 *   read /swarm, /nodes, /services, /tasks  ->  apply the requests  ->
 *   (on the leader) advance the wave  ->  write it if it changed  ->
 *   drain or activate nodes  ->  answer the requests.
 * The wave is written before a node is drained or activated, so a
 * coordinator that dies between the two leaves a stored step that the next
 * one completes (the actions are idempotent), and never a drained node the
 * stored wave does not know about. Any manager serves operators' requests;
 * only the leader drains and activates. */

#include <jansson.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "common/macro.h"
#include "hostd/change-log.h"
#include "hostd/docker-client.h"
#include "hostd/event-clock.h"
#include "patching/wave.h"
#include "policy/config.h"

#define WAVE_LABEL "io.hostd.wave"

typedef struct Coordinator Coordinator;

/* clock is the time of deadlines, soak and held questions; changes (may
 * be NULL) gets the wave's starts and node moves. */
int coordinator_new(sd_event *event, EventClock *clock, DockerClient *docker, ChangeLog *changes,
                    Coordinator **ret);
/* Answers queued requests with -ECANCELED. */
Coordinator *coordinator_free(Coordinator *c);
DEFINE_CLEANUP_FUNC(Coordinator, coordinator_free);

/* The alert gate (g NULL or without a URL: none): on the leader, each
 * cycle of a wave that may move a node asks Alertmanager first; a firing
 * alert that matches, or no answer, holds the drain of a new node and the
 * activation of a patched one (patching/wave.h ClusterView.hold), asked
 * again every 5 s. -EINVAL with err for a matcher that is not one. */
int coordinator_set_alert_gate(Coordinator *c, const AlertGateConfig *g, char *err, size_t err_size);

/* Whether this node is the Raft leader now; becoming it starts a cycle. */
void coordinator_set_leader(Coordinator *c, bool leader);

/* Something happened (a node or service event, the refresh timer): run a
 * cycle (on the leader, or anywhere while someone watches; several kicks
 * while one runs make one more). */
void coordinator_kick(Coordinator *c);

/* The Swarm's peer set changed (hostd/swarm-peers.h): the watchers are
 * answered now, so that every node's firewall admits a new node, and drops
 * one gone, without waiting for the hold to end. */
void coordinator_peers_changed(Coordinator *c);

/* The answer to a request: error 0 or negative errno with message; wave is
 * the stored wave after the cycle (NULL when there is none), valid during
 * the call; for WAVE_REQUEST_MAY_PATCH, may_patch is wave_node_may_patch's
 * result. */
typedef struct CoordinatorAnswer {
        int error;
        bool transient;      /* the error is the coordinator's (a Swarm read or write
                              * failed, hostd stops), not the request's: ask again */
        const char *message;
        const json_t *wave;
        const char *blocked; /* why no further node could start, or "" */
        int may_patch;
        uint64_t version;    /* the Swarm object's version the wave was read at */
        bool leader;         /* this coordinator is the Raft leader's */
        const char *leader_address; /* the Raft leader's address, "" unknown */
} CoordinatorAnswer;

typedef void (*CoordinatorDone)(const CoordinatorAnswer *answer, void *userdata);

typedef enum WaveRequestKind {
        WAVE_REQUEST_READ,
        WAVE_REQUEST_START,
        WAVE_REQUEST_PAUSE,
        WAVE_REQUEST_RESUME,
        WAVE_REQUEST_ABORT,
        WAVE_REQUEST_MAY_PATCH, /* a node asks (FleetLock pre-reboot) */
        WAVE_REQUEST_REPORT,    /* a node reports (FleetLock steady-state) */
        WAVE_REQUEST_WATCH,     /* READ, answered once the Swarm's version
                                 * is not known_version (the wave may have
                                 * changed) */
} WaveRequestKind;

typedef struct WaveRequest {
        WaveRequestKind kind;
        WaveOptions start;        /* START; strings copied */
        const char *reason;       /* PAUSE, ABORT */
        const char *node_id;      /* MAY_PATCH, REPORT */
        bool ok, healthy;         /* REPORT */
        const char *message, *transaction; /* REPORT */
        const char *wave_id;               /* REPORT: the wave it is for; NULL: the current one (plain FleetLock) */
        uint64_t known_version;   /* WATCH */
        /* WATCH: answered at the latest then (the clock's CLOCK_MONOTONIC;
         * 0: no limit). MAY_PATCH: a node that is draining is answered once its
         * tasks have stopped, or "not yet" then: its tasks' states reach
         * the Raft store with no event to tell us, so the cluster is read
         * again after 50 ms, then every 100 ms (four reads of ~5 ms), while such a question
         * waits (0: answered at once). */
        uint64_t hold_until_usec;
} WaveRequest;

/* Queues a request (copied); done is called exactly once, from the event
 * loop, unless the coordinator is freed first (then with -ECANCELED). */
int coordinator_request(Coordinator *c, const WaveRequest *req, CoordinatorDone done, void *userdata);

/* Forgets every request queued with this userdata, without calling done:
 * for a server whose calls went away before their answers. */
void coordinator_cancel(Coordinator *c, void *userdata);

/* {"leader", "cycles", "writes", "conflicts", "blocked", "last_error"} */
json_t *coordinator_status(const Coordinator *c);
