/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A rolling patch wave across the Swarm, as pure logic: no I/O here. The
 * coordinator (hostd on the Raft leader) keeps a Wave in the Swarm's Raft
 * store as JSON (wave_to_json/wave_parse), reads the cluster into a
 * ClusterView, and calls wave_advance() whenever something happened (a
 * Docker event, a node's call, a timer); it performs the actions returned
 * (drain or activate a node, both idempotent) and writes the wave back.
 * Because the whole state is in the stored wave, a new coordinator resumes
 * where the last one stopped without repeating a finished step.
 *
 * A node's way through the wave:
 *   pending -> draining (chosen: out of the load balancers first, for the
 *                       wave's deregistration delay; then availability=drain,
 *                       its tasks stopping)
 *           -> patching (its tasks are gone, and every replicated service
 *                        runs all its tasks elsewhere: it may apply, reboot,
 *                        verify)
 *           -> activating (it reported steady state: set active again)
 *           -> done
 * A node that reports a failure was rolled back by itself: if it is healthy
 * on its old state it is activated and ends "failed"; if not, it stays
 * drained and ends "failed". Either halts the wave (the default policy). A
 * node that misses its deadline in draining or patching is failed, and the
 * wave halts: never forgotten.
 *
 * Guards, checked before a node is drained:
 *   - at most max_unavailable nodes held by the wave (draining, patching,
 *     activating) at any moment;
 *   - managers one at a time, and only while every manager is reachable
 *     and ready (the Raft quorum is never put at risk);
 *   - canaries first; the others only once every canary is done and the
 *     soak time has passed;
 *   - no alert of the gate fires (ClusterView.hold): it holds both the
 *     drain of a new node and the activation of a patched one;
 *   - inside the wave's maintenance windows and outside its blackouts
 *     (patching/wave-window.h), and only when the window stays open for
 *     the node's time: both its steps' deadlines (2 x node_deadline); a
 *     node under way when the window closes finishes;
 *   - every replicated service runs all the tasks it wants (converged):
 *     otherwise the wave waits and says which service;
 *   - every replicated service that has a task keeps, with the node
 *     drained, another node it may run on (ready, active, not held by the
 *     wave, meeting its placement constraints); otherwise the wave waits
 *     and says why. Draining a node that runs none of its tasks counts
 *     too: it takes away a place the tasks could move to.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/json.h"
#include "common/timezone.h"
#include "patching/wave-window.h"

typedef struct json_t json_t;

#define WAVE_MAX_NODES 1024
#define WAVE_ID_MAX 40
#define WAVE_NODE_ID_MAX 64
#define WAVE_MESSAGE_MAX 256

typedef enum WaveStatus {
        WAVE_RUNNING,
        WAVE_PAUSED,  /* no new node starts; nodes under way finish */
        WAVE_HALTED,  /* a node failed: no new node starts */
        WAVE_ABORTED, /* stopped by the operator */
        WAVE_DONE,
        _WAVE_STATUS_MAX,
} WaveStatus;

typedef enum NodeStep {
        NODE_PENDING,
        NODE_DRAINING,
        NODE_PATCHING,
        NODE_ACTIVATING,
        NODE_DONE,
        NODE_FAILED,
        _NODE_STEP_MAX,
} NodeStep;

const char *wave_status_to_string(WaveStatus s);
const char *node_step_to_string(NodeStep s);

/* What a node that reports a failure does to the wave. Either way the node
 * rolled back, and is made active again only if healthy; a node that is
 * not healthy, or misses its deadline, always halts the wave. */
typedef enum WaveOnFailure {
        WAVE_ON_FAILURE_HALT,     /* no new node starts (the default) */
        WAVE_ON_FAILURE_CONTINUE, /* the wave goes on without it */
        _WAVE_ON_FAILURE_MAX,
} WaveOnFailure;

const char *wave_on_failure_to_string(WaveOnFailure f);
int wave_on_failure_from_string(const char *s); /* -EINVAL when unknown */

typedef struct WaveNode {
        char id[WAVE_NODE_ID_MAX];       /* Swarm node ID */
        char hostname[WAVE_NODE_ID_MAX];
        bool manager;
        bool canary;
        NodeStep step;
        uint64_t step_since_usec;   /* CLOCK_REALTIME, when it entered step */
        bool failed;                /* reported a failure (activating, then failed) */
        bool was_active;            /* availability before the drain: only
                                     * then is it made active again */
        uint64_t drained_usec;      /* when its drain was first asked for (0: not yet) */
        char message[WAVE_MESSAGE_MAX];
        char transaction[WAVE_NODE_ID_MAX]; /* the node's patch journal entry */
} WaveNode;

/* One package of a wave's approved set: the version every node that
 * upgrades it installs. */
typedef struct WaveApproved {
        char *name, *arch, *version;
        bool security;
} WaveApproved;

#define WAVE_MAX_APPROVED 8192

typedef struct Wave {
        char id[WAVE_ID_MAX];
        WaveStatus status;
        char reason[WAVE_MESSAGE_MAX]; /* why halted, aborted or paused */
        unsigned max_unavailable;      /* >= 1 */
        uint64_t soak_usec;            /* after the canaries, before the rest */
        uint64_t node_deadline_usec;   /* per step, draining and patching */
        uint64_t deregistration_usec;  /* from a node's choosing to its drain: the load
                                        * balancers take it out (its health endpoint
                                        * answers 503); stored as version 2 when set */
        WaveOnFailure on_failure;
        unsigned max_errors;           /* failed nodes (healthy on their old state) the wave
                                        * goes on past; one more halts it */
        uint64_t started_usec, canaries_done_usec, finished_usec;
        unsigned max_held;             /* most nodes held at once so far */
        WaveSchedule schedule;         /* when nodes may start; stored as version 2 when active */
        bool has_approved;             /* the approved set was frozen at the start (version 2) */
        WaveApproved *approved;        /* sorted by name, arch */
        size_t n_approved;
        uint64_t window_opens_usec;    /* not stored: set by wave_advance when the schedule
                                        * holds the next node back, to when it may start */
        WaveNode *nodes;               /* in wave order, canaries first */
        size_t n_nodes;
} Wave;

Wave *wave_free(Wave *w);
DEFINE_CLEANUP_FUNC(Wave, wave_free);

/* ---- the cluster as the coordinator sees it --------------------------- */

typedef enum NodeAvailability {
        AVAILABILITY_ACTIVE,
        AVAILABILITY_PAUSE,
        AVAILABILITY_DRAIN,
} NodeAvailability;

typedef struct ClusterNode {
        const char *id, *hostname;
        bool manager;
        bool manager_reachable; /* managers: Swarm's ManagerStatus.Reachability */
        bool ready;             /* Status.State == ready */
        NodeAvailability availability;
        const char *const *labels; /* "key=value", NULL-terminated; may be NULL */
        size_t running_tasks;   /* tasks still running on it */
} ClusterNode;

typedef struct ClusterService {
        const char *name;
        bool replicated;        /* replicated (not global) with replicas > 0 */
        const char *const *constraints; /* Swarm placement constraints; may be NULL */
        const char *const *task_nodes;  /* node IDs its running tasks are on */
        unsigned desired;       /* replicated: the replicas it wants; 0: not known (not checked) */
        unsigned running;       /* its tasks running now that are meant to (desired state running) */
} ClusterService;

typedef struct ClusterView {
        const ClusterNode *nodes;
        size_t n_nodes;
        const ClusterService *services;
        size_t n_services;
        /* why no node may start, nor be made active, now (the alert gate:
         * alerts firing, or Alertmanager not answering); NULL: nothing holds */
        const char *hold;
} ClusterView;

/* Whether node meets one Swarm placement constraint ("node.role==manager",
 * "node.labels.zone!=a", "node.hostname==x", "node.id==..."). Returns 1 or
 * 0, or -EINVAL for a constraint this cannot evaluate (then the guard
 * counts the node as not eligible: never drain on a guess). */
int wave_constraint_matches(const char *constraint, const ClusterNode *node);

/* Whether a service runs all the tasks it wants: not replicated, its
 * replicas not known, or as many running as it wants. */
bool wave_service_converged(const ClusterService *s);

/* Whether one of the service's live tasks is on the node. */
bool wave_service_on_node(const ClusterService *s, const char *node_id);

/* ---- the wave ------------------------------------------------------- */

typedef struct WaveOptions {
        unsigned max_unavailable;     /* 0: 1 */
        uint64_t soak_usec;
        uint64_t node_deadline_usec;  /* 0: one hour */
        uint64_t deregistration_usec; /* below node_deadline_usec */
        const char *label;            /* "key=value": only nodes with it; NULL: all */
        const char *const *canaries;  /* node IDs or hostnames, first, in order */
        WaveOnFailure on_failure;
        unsigned max_errors;          /* the error budget, in nodes... */
        unsigned max_errors_percent;  /* ...or, when not 0, in percent of the wave's nodes (rounded down) */
        const WaveSchedule *schedule; /* NULL: nodes start at any time */
        /* Freeze an approved set from the covered nodes' patch plans: plans
         * is {node ID: {"id", "generated_usec", "packages": [{"name",
         * "arch", "from", "to", "security"}]}} (posture-board.h's, checked);
         * every covered node must have one, and nodes must agree on each
         * package's version. Without it each node plans for itself. */
        bool approve;
        const json_t *plans;
} WaveOptions;

/* The approved package of (name, arch), or NULL. */
const WaveApproved *wave_approved_find(const Wave *w, const char *name, const char *arch);

/* What a node may take, from its drain to its report: the schedule's
 * cutoff. */
uint64_t wave_node_time(const Wave *w);

/* A new wave over the cluster's nodes: canaries first in the order given,
 * then managers last (each manager drained costs the quorum a member), the
 * rest by hostname. -EINVAL with err for a canary that is not a node of the
 * wave, no node at all, or a schedule no node's time fits in within a
 * year. tz is the schedule's zone (NULL without a schedule). */
int wave_new(const char *id, const WaveOptions *options, const ClusterView *cluster, const TimeZone *tz,
             uint64_t now_usec, Wave **ret, char *err, size_t err_size);

typedef enum WaveActionKind {
        WAVE_ACTION_DRAIN,
        WAVE_ACTION_ACTIVATE,
} WaveActionKind;

typedef struct WaveAction {
        WaveActionKind kind;
        size_t node; /* index in wave->nodes */
} WaveAction;

/* Moves the wave as far as the cluster allows now. Fills actions (at most
 * max) for the coordinator; sets *changed when the wave changed and must
 * be written back; blocked says why no further node could start (empty when
 * none was waiting). tz is the schedule's zone: NULL when the wave has no
 * schedule, or when its zone cannot be read here (then no node starts). */
int wave_advance(Wave *w, const ClusterView *cluster, const TimeZone *tz, uint64_t now_usec, WaveAction *actions,
                 size_t max, size_t *n_actions, bool *changed, char *blocked, size_t blocked_size);

/* The node is asking whether it may patch now (FleetLock pre-reboot): 0 yes
 * (it is in "patching"), -EAGAIN not yet (pending or draining), -ENOENT it
 * is not in the wave, -ESTALE it has nothing more to do in it. */
int wave_node_may_patch(const Wave *w, const char *node_id);

/* Failed nodes so far: reported failed (rolled back) or failed by the
 * coordinator (deadline). */
unsigned wave_errors(const Wave *w);

/* The node reports (FleetLock steady-state): ok, or failed and rolled back,
 * and whether it is healthy now. Only from "patching". -ENOENT, -EPROTO for
 * a node in another step. A failed node healthy on its old state is made
 * active; the wave goes on past it while the failed nodes are within
 * max_errors (or on_failure is continue), else halts. */
int wave_node_report(Wave *w, const char *node_id, bool ok, bool healthy, const char *message,
                     const char *transaction, uint64_t now_usec);

/* Operator control: pause (no new node starts), resume, abort (no new node
 * starts; nodes under way finish). -EPROTO when not applicable. */
int wave_pause(Wave *w, const char *reason);
int wave_resume(Wave *w);
int wave_abort(Wave *w, const char *reason, uint64_t now_usec);

/* Nodes held by the wave now (draining, patching, activating). */
unsigned wave_held(const Wave *w);

/* Stored form: a JSON document, read strictly (located errors). */
char *wave_to_json(const Wave *w);
/* The same as a jansson value (a new reference; NULL on ENOMEM). */
json_t *wave_to_json_value(const Wave *w);
int wave_parse(const char *text, size_t length, Wave **ret, LocatedError *error);
