/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "common/clock.h"
#include "hostd/docker-cluster.h"
#include "common/text.h"
#include "hostd/wave-coordinator.h"
#include "hostd/crash-point.h"
#include "hostd/log.h"
#include "policy/alert-gate.h"

#define MAX_CANARIES 32
#define RECHECK_MIN_USEC 50000ULL
#define RECHECK_MAX_USEC 100000ULL

typedef struct Request {
        WaveRequest req;
        /* owned copies of the request's strings */
        char *reason, *node_id, *message, *transaction, *label, *wave_id;
        char *canaries[MAX_CANARIES + 1];
        WaveSchedule schedule;
        json_t *plans;
        CoordinatorDone done;
        void *userdata;
        int error;
        char error_message[WAVE_MESSAGE_MAX];
        uint64_t held_since_usec; /* MAY_PATCH: first held (CLOCK_MONOTONIC) */
        unsigned rereads;         /* cycles it was held through */
        uint64_t peers_generation; /* the peer set's, when it came in */
        struct Request *next;
} Request;

struct Coordinator {
        sd_event *event;
        DockerClient *docker;
        ChangeLog *changes; /* not owned */
        bool leader;
        bool running, again;
        Request *queue;    /* waiting for the next cycle */
        Request *inflight; /* served by the running cycle */
        Request *watchers; /* WATCH requests waiting for a change */
        /* the running cycle's reads */
        json_t *swarm, *nodes, *services;
        uint64_t swarm_version;
        ClusterSnapshot *snapshot;
        /* the services each drained node ran, and when each ran all its
         * tasks elsewhere: recorded when the node goes on to patch (kept
         * in memory only: a new leader records what it saw) */
        struct Replacement {
                char wave[WAVE_ID_MAX];
                char node[WAVE_NODE_ID_MAX];
                char service[128];
                uint64_t drained_usec, replaced_usec;
        } *replacements;
        size_t n_replacements;
        Wave *wave;
        WaveAction actions[WAVE_MAX_NODES];
        size_t n_actions, next_action;
        EventClock *clock;
        sd_event_source *defer;
        EventClockTimer *timer;
        EventClockTimer *recheck;  /* held questions and bounded watches */
        uint64_t recheck_backoff_usec;
        char blocked[WAVE_MESSAGE_MAX], last_error[WAVE_MESSAGE_MAX];
        uint64_t cycles, writes, conflicts;
        bool wrote; /* this cycle stored the wave: watchers see it now */
        char stored_id[WAVE_ID_MAX];          /* the wave as read this cycle */
        NodeStep stored_steps[WAVE_MAX_NODES];
        bool leadership_moved; /* watchers see it now (nodes ask the leader) */
        uint64_t peers_generation; /* counts peer set changes: a watch that
                                    * came in before the last one is answered */
        char leader_address[64]; /* the Raft leader's, from /nodes */
        TimeZone *zone;          /* the last schedule's zone, read once */
        char zone_name[TIMEZONE_NAME_MAX];
        /* the alert gate (wave.alertmanager): its client, its matchers, and
         * what it says this cycle ("" nothing holds) */
        DockerClient *alerts;
        AlertFilter filter;
        char alerts_url[512];
        /* a new gate, taken at the next cycle's start (the old one may have a call out) */
        bool gate_changed;
        DockerClient *next_alerts;
        AlertFilter next_filter;
        char next_url[512];
        char hold[WAVE_MESSAGE_MAX], last_hold[WAVE_MESSAGE_MAX];
        uint64_t gate_usec;      /* when it last answered (CLOCK_MONOTONIC) */
        char gate_wave[WAVE_ID_MAX]; /* for which wave */
        bool requests_changed;   /* this cycle's requests changed the wave */
        char zone_error[WAVE_MESSAGE_MAX];
};

/* The zone named, read from the system's zoneinfo once while waves use
 * it; NULL with why when it cannot be read (then no node starts). */
static const TimeZone *schedule_zone(Coordinator *c, const char *name, char *why, size_t why_size) {
        TimeZone *tz = NULL;

        if (c->zone && STREQ(c->zone_name, name))
                return c->zone;
        if (timezone_load(NULL, name, &tz, why, why_size) < 0)
                return NULL;
        timezone_free(c->zone);
        c->zone = tz;
        snprintf(c->zone_name, sizeof(c->zone_name), "%s", name);
        return tz;
}

static void request_free(Request *r) {
        free(r->reason);
        free(r->node_id);
        free(r->message);
        free(r->transaction);
        free(r->wave_id);
        free(r->label);
        for (size_t i = 0; i < MAX_CANARIES; i++)
                free(r->canaries[i]);
        json_decref(r->plans);
        free(r);
}

static bool node_draining(const Wave *w, const char *node_id) {
        for (size_t i = 0; w && i < w->n_nodes; i++)
                if (STREQ(w->nodes[i].id, node_id))
                        return w->nodes[i].step == NODE_DRAINING;
        return false;
}

/* Held questions are asked again soon; bounded watches at their limit. */
static void arm_recheck(Coordinator *c, bool questions_held, uint64_t watch_limit) {
        uint64_t now = event_clock_now(c->clock, CLOCK_MONOTONIC), due = watch_limit;

        if (questions_held) {
                c->recheck_backoff_usec = c->recheck_backoff_usec == 0 ?
                                                  RECHECK_MIN_USEC :
                                                  MIN(c->recheck_backoff_usec * 2, RECHECK_MAX_USEC);
                due = MIN(due, now + c->recheck_backoff_usec);
        } else
                c->recheck_backoff_usec = 0;
        if (due == UINT64_MAX) {
                event_clock_timer_off(c->recheck);
                return;
        }
        event_clock_timer_set(c->recheck, MAX(due, now));
}

static void answer_all(Coordinator *c, Request **list, int error, const char *message) {
        json_t *wave = c->wave ? wave_to_json_value(c->wave) : NULL;
        bool questions_held = false;
        uint64_t now = event_clock_now(c->clock, CLOCK_MONOTONIC), watch_limit = UINT64_MAX;

        while (*list) {
                Request *r = *list;
                bool hold = false;

                if (!error && r->req.kind == WAVE_REQUEST_WATCH && r->req.known_version == c->swarm_version &&
                    !c->wrote && !c->leadership_moved && r->peers_generation == c->peers_generation &&
                    (r->req.hold_until_usec == 0 || r->req.hold_until_usec > now)) {
                        /* nothing new yet: keep watching */
                        hold = true;
                        if (r->req.hold_until_usec)
                                watch_limit = MIN(watch_limit, r->req.hold_until_usec);
                }
                if (!error && !r->error && r->req.kind == WAVE_REQUEST_MAY_PATCH && r->req.hold_until_usec > now &&
                    c->wave && wave_node_may_patch(c->wave, r->req.node_id) == -EAGAIN &&
                    node_draining(c->wave, r->req.node_id)) {
                        /* its tasks are stopping: answer once they have */
                        hold = true;
                        if (!r->held_since_usec)
                                r->held_since_usec = now;
                        r->rereads++;
                        questions_held = true;
                        watch_limit = MIN(watch_limit, r->req.hold_until_usec);
                }
                if (hold) {
                        *list = r->next;
                        r->next = c->watchers;
                        c->watchers = r;
                        continue;
                }
                CoordinatorAnswer a = {
                        .error = error ? error : r->error,
                        .transient = error != 0,
                        .message = error ? message : r->error ? r->error_message : NULL,
                        .wave = wave,
                        .blocked = c->blocked,
                        .may_patch = -ENOENT,
                        .version = c->swarm_version,
                        .leader = c->leader,
                        .leader_address = c->leader_address,
                };
                *list = r->next;
                if (!a.error && r->req.kind == WAVE_REQUEST_MAY_PATCH) {
                        a.may_patch = c->wave ? wave_node_may_patch(c->wave, r->req.node_id) : -ENOENT;
                        if (r->held_since_usec && a.may_patch == 0)
                                log_info("Node %s may patch: the Raft store has its tasks stopped %.0f ms after "
                                         "it asked (%u more read(s) of the cluster)",
                                         r->req.node_id, (double) (now - r->held_since_usec) / 1000.0, r->rereads);
                }
                r->done(&a, r->userdata);
                request_free(r);
        }
        json_decref(wave);
        if (c->recheck && error != -ECANCELED)
                arm_recheck(c, questions_held, watch_limit);
}

static void cycle_reset(Coordinator *c) {
        json_decref(c->swarm);
        json_decref(c->nodes);
        json_decref(c->services);
        c->swarm = c->nodes = c->services = NULL;
        c->snapshot = cluster_snapshot_free(c->snapshot);
        c->wave = wave_free(c->wave);
        c->n_actions = c->next_action = 0;
        c->wrote = false;
}

static void schedule_cycle(Coordinator *c);

/* Ends the cycle: answers its requests (error: all of them), and starts
 * another if more came in. */
static void cycle_end(Coordinator *c, int error, const char *message) {
        if (error) {
                snprintf(c->last_error, sizeof(c->last_error), "%s", message);
                utf8_trim_partial(c->last_error);
                log_warning("Wave coordinator: %s", message);
        }
        answer_all(c, &c->inflight, error, message);
        c->leadership_moved = false;
        cycle_reset(c);
        c->running = false;
        if (c->again || c->queue) {
                c->again = false;
                schedule_cycle(c);
        }
}

/* A lost race: read everything again, the same requests still to serve. */
static void cycle_restart(Coordinator *c) {
        c->conflicts++;
        cycle_reset(c);
        c->running = false;
        /* the inflight requests go first again */
        Request **tail = &c->inflight;
        while (*tail)
                tail = &(*tail)->next;
        *tail = c->queue;
        c->queue = c->inflight;
        c->inflight = NULL;
        schedule_cycle(c);
}

static void set_timer(Coordinator *c) {
        uint64_t due = UINT64_MAX, now = event_clock_now(c->clock, CLOCK_REALTIME);

        if (!c->leader || !c->wave || c->wave->finished_usec)
                return;
        /* the next deadline, or the end of the soak */
        for (size_t i = 0; i < c->wave->n_nodes; i++) {
                const WaveNode *n = &c->wave->nodes[i];
                if (n->step == NODE_DRAINING || n->step == NODE_PATCHING)
                        due = MIN(due, n->step_since_usec + c->wave->node_deadline_usec + 1000000);
        }
        /* A draining node's tasks stop with no event the leader sees (the
         * node asks, but maybe another manager): look every 250 ms. */
        for (size_t i = 0; i < c->wave->n_nodes; i++)
                if (c->wave->nodes[i].step == NODE_DRAINING)
                        due = MIN(due, now + 250000);
        if (c->wave->canaries_done_usec && c->wave->soak_usec)
                due = MIN(due, c->wave->canaries_done_usec + c->wave->soak_usec + 1000);
        /* held back by the schedule: until it lets the next node start */
        if (c->wave->window_opens_usec)
                due = MIN(due, MAX(c->wave->window_opens_usec, now + 1000));
        /* A wave held back by a guard waits for the Swarm to settle (a
         * rebooted manager reachable again, a node ready): Swarm sends no
         * event for a manager's reachability, so look again soon. */
        /* held by the gate: Alertmanager tells nobody when an alert ends, so ask again in 5 s */
        if (c->hold[0])
                due = MIN(due, now + 5000000);
        if (due == UINT64_MAX || due <= now)
                due = now + (c->blocked[0] && wave_held(c->wave) == 0 ? 250000 : 1000000);
        if (c->timer)
                event_clock_timer_set(c->timer, event_clock_now(c->clock, CLOCK_MONOTONIC) + (due - now));
}

/* ---- actions: drain or activate, one after another ------------------- */

static void next_action(Coordinator *c);

/* One entry more; service "" marks the node as drained by this hostd. */
static int replacement_add(Coordinator *c, const char *node_id, const char *service, uint64_t now) {
        struct Replacement *grown = reallocarray(c->replacements, c->n_replacements + 1, sizeof(*grown));

        if (!grown)
                return -ENOMEM;
        c->replacements = grown;
        struct Replacement *r = &c->replacements[c->n_replacements++];
        *r = (struct Replacement){ .drained_usec = now };
        snprintf(r->wave, sizeof(r->wave), "%s", c->wave->id);
        snprintf(r->node, sizeof(r->node), "%s", node_id);
        snprintf(r->service, sizeof(r->service), "%s", service);
        return 0;
}

/* The node's drain is written: the services with a task on it now. */
static void replacements_begin(Coordinator *c, const WaveNode *n, uint64_t now) {
        const ClusterView *v = cluster_snapshot_view(c->snapshot);
        size_t kept = 0;

        /* another wave's entries are over (aborted, its node failed) */
        for (size_t i = 0; i < c->n_replacements; i++)
                if (STREQ(c->replacements[i].wave, c->wave->id))
                        c->replacements[kept++] = c->replacements[i];
        c->n_replacements = kept;
        for (size_t i = 0; i < c->n_replacements; i++)
                if (STREQ(c->replacements[i].node, n->id))
                        return; /* drained again (a lost answer): the first time counts */
        /* an entry without a service: this hostd drained it (and it ran
         * no replicated task, unless entries for its services follow) */
        if (replacement_add(c, n->id, "", now) < 0)
                return;
        for (size_t i = 0; i < v->n_services; i++)
                if (v->services[i].replicated && wave_service_on_node(&v->services[i], n->id) &&
                    replacement_add(c, n->id, v->services[i].name, now) < 0)
                        return; /* not recorded, nothing else lost */
}

/* Each cycle: a service replaced once it runs all its tasks, none on the
 * drained node. */
static void replacements_update(Coordinator *c, uint64_t now) {
        const ClusterView *v = cluster_snapshot_view(c->snapshot);

        for (size_t i = 0; i < c->n_replacements; i++) {
                struct Replacement *r = &c->replacements[i];
                if (r->replaced_usec || !r->service[0])
                        continue;
                for (size_t k = 0; k < v->n_services; k++)
                        if (STREQ(v->services[k].name, r->service) && !wave_service_on_node(&v->services[k], r->node) &&
                            wave_service_converged(&v->services[k]))
                                r->replaced_usec = now;
        }
}

/* The node goes on to patch: how long each of its services took. */
static void replacements_record(Coordinator *c, const WaveNode *n) {
        uint64_t now = event_clock_now(c->clock, CLOCK_REALTIME);
        Text replaced = {};
        size_t kept = 0;
        bool tracked = false;
        char f_wave[96], f_node[160];

        text_printf(&replaced, "HOSTD_REPLACED=");
        for (size_t i = 0; i < c->n_replacements; i++) {
                struct Replacement *r = &c->replacements[i];
                if (!STREQ(r->node, n->id) || !STREQ(r->wave, c->wave->id)) {
                        c->replacements[kept++] = *r;
                        continue;
                }
                tracked = true;
                if (!r->service[0])
                        continue;
                /* not seen replaced (its cycle missed): until the move on */
                text_printf(&replaced, "%s%s %.1f s", replaced.size > strlen("HOSTD_REPLACED=") ? ", " : "", r->service,
                            (double) (MAX(r->replaced_usec ? r->replaced_usec : now, r->drained_usec) - r->drained_usec) / 1e6);
        }
        c->n_replacements = kept;
        _cleanup_free_ char *f_replaced = text_take(&replaced);
        if (!f_replaced)
                return;
        snprintf(f_wave, sizeof(f_wave), "HOSTD_WAVE=%s", c->wave->id);
        snprintf(f_node, sizeof(f_node), "HOSTD_NODE=%s", n->hostname);
        if (!tracked) {
                /* drained before this hostd led (a restart, a new leader) */
                log_info("Wave %s: node %s's services run all their tasks elsewhere (not timed here: drained "
                         "before this hostd led the wave)", c->wave->id, n->hostname);
                return;
        }
        change_record(c->changes, LOG_INFO, CHANGE_NODE_TASKS_REPLACED, LOG_FIELDS(f_wave, f_node, f_replaced),
                      "Wave %s: node %s's services run all their tasks elsewhere (%s)", c->wave->id, n->hostname,
                      f_replaced[strlen("HOSTD_REPLACED=")] ? f_replaced + strlen("HOSTD_REPLACED=") :
                                                               "it ran no task of a replicated service");
}

static void on_node_updated(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;
        const WaveAction *a = &c->actions[c->next_action - 1];
        const WaveNode *n = &c->wave->nodes[a->node];
        char f_wave[96], f_node[160];

        snprintf(f_wave, sizeof(f_wave), "HOSTD_WAVE=%s", c->wave->id);
        snprintf(f_node, sizeof(f_node), "HOSTD_NODE=%s", n->hostname);
        if (reply->error)
                /* the stored step stays; the next cycle does it again */
                log_warning("Cannot %s node %s: %s", a->kind == WAVE_ACTION_DRAIN ? "drain" : "activate", n->hostname,
                            reply->message);
        else {
                if (a->kind == WAVE_ACTION_DRAIN)
                        replacements_begin(c, n, event_clock_now(c->clock, CLOCK_REALTIME));
                change_record(c->changes, LOG_NOTICE, a->kind == WAVE_ACTION_DRAIN ? CHANGE_NODE_DRAIN : CHANGE_NODE_ACTIVATE,
                              LOG_FIELDS(f_wave, f_node), "Wave %s: node %s set to %s", c->wave->id, n->hostname,
                              a->kind == WAVE_ACTION_DRAIN ? "drain" : "active");
        }
        next_action(c);
}

static void next_action(Coordinator *c) {
        while (c->next_action < c->n_actions) {
                const WaveAction *a = &c->actions[c->next_action++];
                const WaveNode *n = &c->wave->nodes[a->node];
                const json_t *node = cluster_snapshot_node(c->snapshot, n->id);
                uint64_t version;
                json_t *spec;
                int r;

                if (!node || docker_object_version(node, &version) < 0)
                        continue;
                spec = json_deep_copy(json_object_get(node, "Spec"));
                if (!spec)
                        continue;
                json_object_set_new(spec, "Availability",
                                    json_string(a->kind == WAVE_ACTION_DRAIN ? "drain" : "active"));
                r = docker_update_node(c->docker, n->id, version, spec, on_node_updated, c);
                json_decref(spec);
                if (r >= 0)
                        return;
        }
        set_timer(c);
        cycle_end(c, 0, NULL);
}

/* ---- the stored wave -------------------------------------------------- */

static void on_written(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;

        if (reply->error == -ESTALE) {
                log_debug("Wave write lost a race; reading again");
                cycle_restart(c);
                return;
        }
        if (reply->error) {
                char msg[WAVE_MESSAGE_MAX];
                snprintf(msg, sizeof(msg), "cannot store the wave: %s", reply->message);
                cycle_end(c, -EIO, msg);
                return;
        }
        c->writes++;
        c->wrote = true;
        /* each node's move, stored, in the journal of the hostd that made it */
        for (size_t i = 0; STREQ(c->stored_id, c->wave->id) && i < c->wave->n_nodes; i++)
                if (c->wave->nodes[i].step != c->stored_steps[i]) {
                        log_info("Wave %s: node %s %s -> %s", c->wave->id, c->wave->nodes[i].hostname,
                                 node_step_to_string(c->stored_steps[i]), node_step_to_string(c->wave->nodes[i].step));
                        if (c->stored_steps[i] == NODE_DRAINING && c->wave->nodes[i].step == NODE_PATCHING)
                                replacements_record(c, &c->wave->nodes[i]);
                }
        /* the fault tests' points, once every move of the write is logged;
         * a write that starts a node as another ends offers the start first */
        for (NodeStep step = NODE_DRAINING; STREQ(c->stored_id, c->wave->id) && step < _NODE_STEP_MAX; step++)
                for (size_t i = 0; i < c->wave->n_nodes; i++)
                        if (c->wave->nodes[i].step == step && c->stored_steps[i] != step) {
                                char point[64];
                                snprintf(point, sizeof(point), "coordinator-stored-%s", node_step_to_string(step));
                                crash_point(point);
                        }
        for (Request *r = c->inflight; r; r = r->next)
                if (r->req.kind == WAVE_REQUEST_START && !r->error) {
                        char f_wave[96];

                        snprintf(f_wave, sizeof(f_wave), "HOSTD_WAVE=%s", c->wave->id);
                        /* the approved set, as reviewed: "name arch version" each */
                        Text approved = {};
                        text_printf(&approved, "HOSTD_APPROVED=");
                        for (size_t i = 0; i < c->wave->n_approved; i++)
                                text_printf(&approved, "%s%s %s %s", i ? ", " : "", c->wave->approved[i].name,
                                            c->wave->approved[i].arch, c->wave->approved[i].version);
                        _cleanup_free_ char *f_approved = text_take(&approved);
                        if (c->wave->has_approved && f_approved)
                                change_record(c->changes, LOG_NOTICE, CHANGE_WAVE_START, LOG_FIELDS(f_wave, f_approved),
                                              "Wave %s started over %zu node(s), within an approved set of %zu "
                                              "package(s)", c->wave->id, c->wave->n_nodes, c->wave->n_approved);
                        else
                                change_record(c->changes, LOG_NOTICE, CHANGE_WAVE_START, LOG_FIELDS(f_wave),
                                              "Wave %s started over %zu node(s), each installing what it is offered "
                                              "at its turn", c->wave->id, c->wave->n_nodes);
                }
        next_action(c);
}

static int write_wave(Coordinator *c) {
        _cleanup_free_ char *text = wave_to_json(c->wave);
        json_t *spec, *labels;
        int r;

        if (!text)
                return -ENOMEM;
        spec = json_deep_copy(json_object_get(c->swarm, "Spec"));
        if (!spec)
                return -ENOMEM;
        labels = json_object_get(spec, "Labels");
        if (!json_is_object(labels)) {
                labels = json_object();
                json_object_set_new(spec, "Labels", labels);
        }
        json_object_set_new(labels, WAVE_LABEL, json_string(text));
        r = docker_update_swarm(c->docker, c->swarm_version, spec, on_written, c);
        json_decref(spec);
        return r;
}

/* ---- requests --------------------------------------------------------- */

static void fail_request(Request *r, int error, const char *format, ...) _printf_(3, 4);
static void fail_request(Request *r, int error, const char *format, ...) {
        va_list ap;

        r->error = error;
        va_start(ap, format);
        vsnprintf(r->error_message, sizeof(r->error_message), format, ap);
        va_end(ap);
        utf8_trim_partial(r->error_message);
}

/* A wave an operator has yet to see through: running, paused, or halted
 * (a failed node wants attention: abort the wave to start another). */
static bool wave_unfinished(const Wave *w) {
        return w && (w->finished_usec == 0 || wave_held(w) > 0 || w->status == WAVE_HALTED);
}

/* Applies one request to c->wave; returns whether it changed it. */
static bool apply_request(Coordinator *c, Request *r, uint64_t now) {
        char why[WAVE_MESSAGE_MAX], id[WAVE_ID_MAX];
        Wave *w = NULL;
        int q;

        switch (r->req.kind) {
        case WAVE_REQUEST_READ:
        case WAVE_REQUEST_WATCH:
                return false;
        case WAVE_REQUEST_START: {
                if (wave_unfinished(c->wave)) {
                        if (c->wave->status == WAVE_ABORTED)
                                fail_request(r, -EBUSY,
                                             "wave %s is aborted, but %u node(s) are still under way: "
                                             "they finish (or miss their deadline) first",
                                             c->wave->id, wave_held(c->wave));
                        else
                                fail_request(r, -EBUSY, "wave %s is %s: abort it first", c->wave->id,
                                             wave_status_to_string(c->wave->status));
                        return false;
                }
                time_t t = (time_t) (now / 1000000);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(id, sizeof(id), "w-%Y%m%dT%H%M%S", &tm);
                /* milliseconds: two waves in one second stay apart */
                snprintf(id + strlen(id), sizeof(id) - strlen(id), ".%03uZ", (unsigned) (now / 1000 % 1000));
                const TimeZone *tz = NULL;
                const WaveSchedule *sched = r->req.start.schedule;
                if (sched && wave_schedule_active(sched) && !(tz = schedule_zone(c, sched->zone, why, sizeof(why)))) {
                        fail_request(r, -EINVAL, "%s", why);
                        return false;
                }
                q = wave_new(id, &r->req.start, cluster_snapshot_view(c->snapshot), tz, now, &w, why, sizeof(why));
                if (q < 0) {
                        fail_request(r, q, "%s", q == -ENOMEM ? "out of memory" : why);
                        return false;
                }
                wave_free(c->wave);
                c->wave = w;
                return true; /* logged once stored: a write that loses a race started nothing */
        }
        case WAVE_REQUEST_PAUSE:
        case WAVE_REQUEST_RESUME:
        case WAVE_REQUEST_ABORT:
                if (!c->wave) {
                        fail_request(r, -ENOENT, "there is no wave");
                        return false;
                }
                q = r->req.kind == WAVE_REQUEST_PAUSE  ? wave_pause(c->wave, r->reason) :
                    r->req.kind == WAVE_REQUEST_RESUME ? wave_resume(c->wave) :
                                                         wave_abort(c->wave, r->reason, now);
                if (q < 0) {
                        fail_request(r, -EPROTO, "wave %s is %s", c->wave->id, wave_status_to_string(c->wave->status));
                        return false;
                }
                log_notice("Wave %s is now %s%s%s", c->wave->id, wave_status_to_string(c->wave->status),
                           c->wave->reason[0] ? ": " : "", c->wave->reason);
                return true;
        case WAVE_REQUEST_MAY_PATCH:
                return false; /* answered from the wave after advancing */
        case WAVE_REQUEST_REPORT:
                /* A plain FleetLock client (no wave ID: Zincati) releases its
                 * lock at every boot: holding none, there is nothing to
                 * release, and that is no error, or it would ask for ever. */
                if (!c->wave) {
                        if (!r->wave_id)
                                return false;
                        fail_request(r, -ENOENT, "there is no wave");
                        return false;
                }
                /* a late report of another (aborted) wave is not this one's */
                if (r->wave_id && !STREQ(r->wave_id, c->wave->id)) {
                        fail_request(r, -ESTALE, "the report is for wave %s, not for wave %s", r->wave_id,
                                     c->wave->id);
                        return false;
                }
                q = wave_node_may_patch(c->wave, r->node_id);
                if (q < 0 && !r->wave_id)
                        return false; /* a plain release of a lock it does not hold */
                /* reported already (its answer lost on the way): taken once, answered again;
                 * a node failed without a report (its deadline) is told so */
                const WaveNode *n = NULL;
                for (size_t i = 0; i < c->wave->n_nodes && !n; i++)
                        if (STREQ(c->wave->nodes[i].id, r->node_id))
                                n = &c->wave->nodes[i];
                if (n && (n->step == NODE_ACTIVATING || n->step == NODE_DONE || (n->step == NODE_FAILED && n->failed)) &&
                    STREQ(n->transaction, r->transaction ? r->transaction : ""))
                        return false;
                q = wave_node_report(c->wave, r->node_id, r->req.ok, r->req.healthy, r->message, r->transaction, now);
                if (q == -ENOENT)
                        fail_request(r, q, "node %s is not in wave %s", r->node_id, c->wave->id);
                else if (q < 0)
                        fail_request(r, q, "node %s is not patching in wave %s", r->node_id, c->wave->id);
                return q >= 0;
        }
        return false;
}

static void serve_advance(Coordinator *c);
static void ask_gate(Coordinator *c);
static void take_gate(Coordinator *c);

/* The cycle's reads are in: the stored wave, the requests applied to it,
 * then (on the leader, for a wave that may move a node) the alert gate,
 * then the advance. */
static void serve(Coordinator *c) {
        const json_t *labels = json_object_get(json_object_get(c->swarm, "Spec"), "Labels");
        const char *stored = json_string_value(json_object_get(labels, WAVE_LABEL));
        uint64_t now = event_clock_now(c->clock, CLOCK_REALTIME);
        bool changed = false;
        char why[WAVE_MESSAGE_MAX], where[512];
        LocatedError e = {};

        c->cycles++;
        if (stored && wave_parse(stored, strlen(stored), &c->wave, &e) < 0) {
                /* never overwrite what we cannot read */
                located_error_format(&e, "Swarm label " WAVE_LABEL, where, sizeof(where));
                snprintf(why, sizeof(why), "the stored wave is damaged: %.200s", where);
                cycle_end(c, -EBADMSG, why);
                return;
        }
        c->stored_id[0] = '\0';
        if (c->wave) {
                snprintf(c->stored_id, sizeof(c->stored_id), "%s", c->wave->id);
                for (size_t i = 0; i < c->wave->n_nodes; i++)
                        c->stored_steps[i] = c->wave->nodes[i].step;
        }
        for (Request *q = c->inflight; q; q = q->next)
                changed = apply_request(c, q, now) || changed;
        c->requests_changed = changed;
        /* asked after the requests: a wave started now is gated in this very cycle */
        take_gate(c);
        if (c->alerts && c->leader && c->wave && c->wave->finished_usec == 0) {
                ask_gate(c);
                return;
        }
        c->hold[0] = '\0';
        serve_advance(c);
}

static void serve_advance(Coordinator *c) {
        uint64_t now = event_clock_now(c->clock, CLOCK_REALTIME);
        bool changed = c->requests_changed;
        char why[WAVE_MESSAGE_MAX];
        int r;

        if (c->leader && c->wave) {
                bool advanced = false;
                char before[sizeof(c->blocked)];

                memcpy(before, c->blocked, sizeof(before));
                const TimeZone *tz = NULL;
                if (wave_schedule_active(&c->wave->schedule) &&
                    !(tz = schedule_zone(c, c->wave->schedule.zone, why, sizeof(why)))) {
                        /* once per reason: it holds the wave until it is fixed */
                        if (!STREQ(why, c->zone_error))
                                log_warning("Wave %s: %s", c->wave->id, why);
                        snprintf(c->zone_error, sizeof(c->zone_error), "%s", why);
                } else
                        c->zone_error[0] = '\0';
                ClusterView view = *cluster_snapshot_view(c->snapshot);
                view.hold = c->hold[0] ? c->hold : NULL;
                if (!STREQ(c->hold, c->last_hold)) {
                        if (c->hold[0])
                                log_notice("Wave %s held by the alert gate: %s", c->wave->id, c->hold);
                        else if (c->last_hold[0])
                                log_notice("Wave %s: the alert gate holds it no more", c->wave->id);
                        memcpy(c->last_hold, c->hold, sizeof(c->hold));
                }
                r = wave_advance(c->wave, &view, tz, now, c->actions, ELEMENTSOF(c->actions),
                                 &c->n_actions, &advanced, c->blocked, sizeof(c->blocked));
                if (r < 0) {
                        cycle_end(c, r, "cannot advance the wave");
                        return;
                }
                /* why the wave waits, once per reason */
                if (c->blocked[0] && !STREQ(before, c->blocked))
                        log_info("Wave %s waits: %s", c->wave->id, c->blocked);
                changed = changed || advanced;
        }
        if (changed) {
                r = write_wave(c);
                if (r < 0)
                        cycle_end(c, r, "cannot store the wave");
                return;
        }
        next_action(c);
}

static void on_alerts(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;
        char names[160], why[160];
        unsigned firing = 0;

        /* fail closed: an answer not had, or not understood, holds the wave */
        /* the words stay the same while the fault does (curl's carry times): said once */
        if (reply->error && reply->status >= 400)
                snprintf(c->hold, sizeof(c->hold), "Alertmanager at %.120s cannot be read: HTTP status %ld",
                         c->alerts_url, (long) reply->status);
        else if (reply->error)
                snprintf(c->hold, sizeof(c->hold), "Alertmanager at %.120s cannot be read: %s", c->alerts_url,
                         strerror(-reply->error));
        else if (alert_filter_firing(&c->filter, reply->json, &firing, names, sizeof(names), why, sizeof(why)) < 0)
                snprintf(c->hold, sizeof(c->hold), "Alertmanager at %.120s: %.100s", c->alerts_url, why);
        else if (firing)
                snprintf(c->hold, sizeof(c->hold), "%u alert(s) firing that the gate matches: %s", firing, names);
        else
                c->hold[0] = '\0';
        utf8_trim_partial(c->hold);
        c->gate_usec = event_clock_now(c->clock, CLOCK_MONOTONIC);
        snprintf(c->gate_wave, sizeof(c->gate_wave), "%s", c->wave ? c->wave->id : "");
        serve_advance(c);
}

/* At a cycle's start, when no call to the old gate is out. */
static void take_gate(Coordinator *c) {
        if (!c->gate_changed)
                return;
        docker_client_free(c->alerts);
        alert_filter_done(&c->filter);
        c->alerts = TAKE_PTR(c->next_alerts);
        c->filter = c->next_filter;
        c->next_filter = (AlertFilter){};
        memcpy(c->alerts_url, c->next_url, sizeof(c->alerts_url));
        c->gate_changed = false;
        c->gate_usec = 0;
}

/* The gate's answer of the last second is the answer: a draining node's
 * held question re-reads the cluster every 100 ms, Alertmanager need not
 * be asked as often. */
static void ask_gate(Coordinator *c) {
        uint64_t mono = event_clock_now(c->clock, CLOCK_MONOTONIC);

        /* never for a wave just started, resumed or another one: asked anew */
        if (c->gate_usec && mono - c->gate_usec < 1000000 && !c->requests_changed &&
            STREQ(c->gate_wave, c->wave->id)) {
                serve_advance(c);
                return;
        }
        if (docker_call(c->alerts, "GET", "/api/v2/alerts?active=true&silenced=false&inhibited=false", NULL, on_alerts,
                        c) < 0) {
                snprintf(c->hold, sizeof(c->hold), "Alertmanager at %.120s cannot be asked", c->alerts_url);
                serve_advance(c);
        }
}

static void on_tasks(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;
        char why[WAVE_MESSAGE_MAX], msg[WAVE_MESSAGE_MAX + 32];

        if (reply->error) {
                snprintf(msg, sizeof(msg), "cannot list tasks: %s", reply->message);
                cycle_end(c, reply->error, msg);
                return;
        }
        if (cluster_snapshot_new(c->nodes, c->services, (json_t *) reply->json, &c->snapshot, why, sizeof(why)) < 0) {
                snprintf(msg, sizeof(msg), "unexpected answer from dockerd: %s", why);
                cycle_end(c, -EPROTO, msg);
                return;
        }
        replacements_update(c, event_clock_now(c->clock, CLOCK_REALTIME));
        serve(c);
}

static void on_services(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;
        char msg[WAVE_MESSAGE_MAX];

        if (reply->error) {
                snprintf(msg, sizeof(msg), "cannot list services: %s", reply->message);
                cycle_end(c, reply->error, msg);
                return;
        }
        c->services = json_incref((json_t *) reply->json);
        if (docker_list_tasks(c->docker, NULL, on_tasks, c) < 0)
                cycle_end(c, -ENOMEM, "cannot list tasks");
}

/* Which manager leads, as this one sees it: nodes follow it, so a move
 * answers the watchers (any manager's). */
static void note_leader(Coordinator *c) {
        const json_t *n;
        size_t i;
        char address[sizeof(c->leader_address)] = "";

        json_array_foreach(c->nodes, i, n) {
                const json_t *ms = json_object_get(n, "ManagerStatus");
                if (json_is_true(json_object_get(ms, "Leader")) &&
                    docker_address_host(json_string_value(json_object_get(ms, "Addr")), address, sizeof(address)) < 0)
                        address[0] = '\0';
        }
        if (!STREQ(address, c->leader_address)) {
                snprintf(c->leader_address, sizeof(c->leader_address), "%s", address);
                if (c->watchers || c->inflight)
                        c->leadership_moved = true;
        }
}

static void on_nodes(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;
        char msg[WAVE_MESSAGE_MAX];

        if (reply->error) {
                snprintf(msg, sizeof(msg), "cannot list nodes: %s", reply->message);
                cycle_end(c, reply->error, msg);
                return;
        }
        c->nodes = json_incref((json_t *) reply->json);
        note_leader(c);
        if (docker_call(c->docker, "GET", "/services", NULL, on_services, c) < 0)
                cycle_end(c, -ENOMEM, "cannot list services");
}

static void on_swarm(const DockerReply *reply, void *userdata) {
        Coordinator *c = userdata;
        char msg[WAVE_MESSAGE_MAX];

        if (reply->error) {
                snprintf(msg, sizeof(msg), "cannot read the Swarm: %s", reply->message);
                cycle_end(c, reply->error, msg);
                return;
        }
        if (docker_object_version(reply->json, &c->swarm_version) < 0) {
                cycle_end(c, -EPROTO, "the Swarm object has no Version.Index");
                return;
        }
        c->swarm = json_incref((json_t *) reply->json);
        if (docker_list_nodes(c->docker, on_nodes, c) < 0)
                cycle_end(c, -ENOMEM, "cannot list nodes");
}

static int on_defer(sd_event_source *s _unused_, void *userdata) {
        Coordinator *c = userdata;

        sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        if (c->running)
                return 0;
        c->running = true;
        c->inflight = c->queue;
        c->queue = NULL;
        /* the watchers look again */
        Request **tail = &c->inflight;
        while (*tail)
                tail = &(*tail)->next;
        *tail = c->watchers;
        c->watchers = NULL;
        c->last_error[0] = '\0';
        if (docker_inspect_swarm(c->docker, on_swarm, c) < 0)
                cycle_end(c, -ENOMEM, "cannot read the Swarm");
        return 0;
}

/* From the loop, never from inside a caller's call. */
static void schedule_cycle(Coordinator *c) {
        if (c->running) {
                c->again = true;
                return;
        }
        sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static void on_timer(void *userdata) {
        coordinator_kick(userdata);
}

static void on_recheck(void *userdata) {
        schedule_cycle(userdata);
}

int coordinator_new(sd_event *event, EventClock *clock, DockerClient *docker, ChangeLog *changes,
                    Coordinator **ret) {
        _cleanup_(coordinator_freep) Coordinator *c = calloc(1, sizeof(Coordinator));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->clock = clock;
        c->docker = docker;
        c->changes = changes;
        r = sd_event_add_defer(event, &c->defer, on_defer, c);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        r = event_clock_timer_new(clock, 100000, on_timer, c, &c->timer);
        if (r < 0)
                return r;
        r = event_clock_timer_new(clock, 1000, on_recheck, c, &c->recheck);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

Coordinator *coordinator_free(Coordinator *c) {
        if (!c)
                return NULL;
        answer_all(c, &c->inflight, -ECANCELED, "hostd is shutting down");
        answer_all(c, &c->queue, -ECANCELED, "hostd is shutting down");
        answer_all(c, &c->watchers, -ECANCELED, "hostd is shutting down");
        cycle_reset(c);
        sd_event_source_disable_unref(c->defer);
        event_clock_timer_free(c->timer);
        event_clock_timer_free(c->recheck);
        timezone_free(c->zone);
        free(c->replacements);
        docker_client_free(c->alerts);
        alert_filter_done(&c->filter);
        docker_client_free(c->next_alerts);
        alert_filter_done(&c->next_filter);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

int coordinator_set_alert_gate(Coordinator *c, const AlertGateConfig *g, char *err, size_t err_size) {
        _cleanup_(docker_client_freep) DockerClient *client = NULL;
        AlertFilter filter = {};
        int r;

        if (g && g->url) {
                if ((r = alert_filter_parse((const char *const *) g->matchers, &filter, err, err_size)) < 0)
                        return r;
                r = docker_client_new_url(c->event, g->url, g->timeout_sec ? g->timeout_sec : 5, &client);
                if (r < 0) {
                        alert_filter_done(&filter);
                        snprintf(err, err_size, "cannot make a client for %s: %s", g->url, strerror(-r));
                        return r;
                }
        }
        docker_client_free(c->next_alerts);
        alert_filter_done(&c->next_filter);
        c->next_alerts = TAKE_PTR(client);
        c->next_filter = filter;
        snprintf(c->next_url, sizeof(c->next_url), "%s", g && g->url ? g->url : "");
        c->gate_changed = true;
        schedule_cycle(c);
        return 0;
}

void coordinator_set_leader(Coordinator *c, bool leader) {
        bool was = c->leader;

        c->leader = leader;
        if (leader != was && c->watchers)
                c->leadership_moved = true;
        if ((leader && !was) || c->leadership_moved)
                schedule_cycle(c);
        if (!leader && c->timer)
                event_clock_timer_off(c->timer);
}

void coordinator_kick(Coordinator *c) {
        if (c->leader || c->watchers)
                schedule_cycle(c);
}

void coordinator_peers_changed(Coordinator *c) {
        c->peers_generation++;
        if (c->watchers || c->inflight || c->queue)
                schedule_cycle(c);
}

static char *dup_or_null(const char *s, bool *failed) {
        char *d = s ? strdup(s) : NULL;

        if (s && !d)
                *failed = true;
        return d;
}

int coordinator_request(Coordinator *c, const WaveRequest *req, CoordinatorDone done, void *userdata) {
        Request *r = calloc(1, sizeof(Request)), **tail;
        bool failed = false;
        size_t i = 0;

        if (!r)
                return -ENOMEM;
        r->req = *req;
        r->done = done;
        r->userdata = userdata;
        r->peers_generation = c->peers_generation;
        r->reason = dup_or_null(req->reason, &failed);
        r->node_id = dup_or_null(req->node_id, &failed);
        r->message = dup_or_null(req->message, &failed);
        r->transaction = dup_or_null(req->transaction, &failed);
        r->wave_id = dup_or_null(req->wave_id, &failed);
        r->label = dup_or_null(req->start.label, &failed);
        for (const char *const *cn = req->start.canaries; cn && *cn && i < MAX_CANARIES; cn++, i++)
                r->canaries[i] = dup_or_null(*cn, &failed);
        if (failed || (req->start.canaries && req->start.canaries[i])) {
                request_free(r);
                return failed ? -ENOMEM : -E2BIG;
        }
        r->req.reason = r->reason;
        r->req.node_id = r->node_id;
        r->req.message = r->message;
        r->req.transaction = r->transaction;
        r->req.wave_id = r->wave_id;
        r->req.start.label = r->label;
        r->req.start.canaries = (const char *const *) r->canaries;
        if (req->start.schedule) {
                r->schedule = *req->start.schedule;
                r->req.start.schedule = &r->schedule;
        }
        /* the plans as they were asked with (the board replaces, never changes, them) */
        r->plans = json_incref((json_t *) req->start.plans);
        r->req.start.plans = r->plans;
        for (tail = &c->queue; *tail; tail = &(*tail)->next)
                ;
        *tail = r;
        schedule_cycle(c);
        return 0;
}

static void cancel_in(Request **list, void *userdata) {
        while (*list) {
                Request *r = *list;
                if (r->userdata == userdata) {
                        *list = r->next;
                        request_free(r);
                } else
                        list = &r->next;
        }
}

void coordinator_cancel(Coordinator *c, void *userdata) {
        cancel_in(&c->queue, userdata);
        cancel_in(&c->inflight, userdata);
        cancel_in(&c->watchers, userdata);
}

json_t *coordinator_status(const Coordinator *c) {
        return json_pack("{s:b, s:I, s:I, s:I, s:s, s:s}", "leader", c->leader, "cycles", (json_int_t) c->cycles,
                         "writes", (json_int_t) c->writes, "conflicts", (json_int_t) c->conflicts, "blocked",
                         c->blocked, "last_error", c->last_error);
}
