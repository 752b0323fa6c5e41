/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The wave state machine and its guards, over many generated clusters: a
 * simulated Swarm (drains move tasks, nodes patch and report) runs each
 * wave to its end, with the wave written to its stored form and read back
 * at every step, as a new coordinator would; the guards are checked at
 * every step. Plus the single rules, one by one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <cmocka.h>

#include "patching/wave.h"

#define SEC 1000000ULL
#define MAX_NODES 16
#define MAX_SERVICES 6
#define MAX_TASKS 64

typedef struct Sim {
        ClusterNode nodes[MAX_NODES];
        char ids[MAX_NODES][32], hostnames[MAX_NODES][32], zone[MAX_NODES][16];
        const char *labels[MAX_NODES][2];
        size_t n_nodes;
        ClusterService services[MAX_SERVICES];
        char names[MAX_SERVICES][32];
        const char *constraints[MAX_SERVICES][2];
        const char *task_nodes[MAX_SERVICES][MAX_TASKS + 1];
        size_t replicas[MAX_SERVICES];
        uint64_t lag_until[MAX_SERVICES]; /* a task moved off a drained node runs again then */
        uint64_t now;
        size_t n_services;
        uint64_t patch_done_at[MAX_NODES]; /* when a patching node reports */
        unsigned seed;
} Sim;

static unsigned rnd(Sim *s, unsigned n) {
        s->seed = s->seed * 1103515245u + 12345u;
        return (s->seed >> 16) % n;
}

static bool eligible(const Sim *s, const ClusterService *svc, const ClusterNode *n) {
        if (!n->ready || n->availability != AVAILABILITY_ACTIVE)
                return false;
        for (const char *const *k = svc->constraints; k && *k; k++)
                if (wave_constraint_matches(*k, n) != 1)
                        return false;
        (void) s;
        return true;
}

/* Places every service's replicas on eligible nodes, round robin, as the
 * Swarm scheduler would (well enough for the guards). */
static void schedule(Sim *s) {
        for (size_t i = 0; i < s->n_nodes; i++)
                s->nodes[i].running_tasks = 0;
        for (size_t k = 0; k < s->n_services; k++) {
                size_t t = 0, start = k;
                size_t n_eligible = 0;
                for (size_t i = 0; i < s->n_nodes; i++)
                        n_eligible += eligible(s, &s->services[k], &s->nodes[i]);
                for (size_t r = 0; n_eligible && r < s->replicas[k]; r++) {
                        for (size_t step = 0; step < s->n_nodes; step++) {
                                ClusterNode *n = &s->nodes[(start + step) % s->n_nodes];
                                if (eligible(s, &s->services[k], n)) {
                                        s->task_nodes[k][t++] = n->id;
                                        n->running_tasks++;
                                        start = (start + step + 1) % s->n_nodes;
                                        break;
                                }
                        }
                }
                s->task_nodes[k][t] = NULL;
        }
}

static void sim_new(Sim *s, unsigned seed) {
        static const char *const constraint_kinds[] = { NULL, "node.role==worker", "node.labels.zone==a",
                                                        "node.role!=worker", "node.labels.zone != b" };
        memset(s, 0, sizeof(*s));
        s->seed = seed;
        s->n_nodes = 3 + rnd(s, 10);
        size_t managers = s->n_nodes >= 5 && rnd(s, 2) ? 5 : (s->n_nodes >= 3 && rnd(s, 3) ? 3 : 1);
        for (size_t i = 0; i < s->n_nodes; i++) {
                ClusterNode *n = &s->nodes[i];
                snprintf(s->ids[i], sizeof(s->ids[i]), "id%02u", (unsigned) i);
                snprintf(s->hostnames[i], sizeof(s->hostnames[i]), "node-%02u", (unsigned) i);
                snprintf(s->zone[i], sizeof(s->zone[i]), "zone=%c", rnd(s, 2) ? 'a' : 'b');
                s->labels[i][0] = s->zone[i];
                *n = (ClusterNode){ .id = s->ids[i], .hostname = s->hostnames[i], .manager = i < managers,
                                    .manager_reachable = i < managers, .ready = true,
                                    .availability = AVAILABILITY_ACTIVE, .labels = s->labels[i] };
        }
        s->n_services = rnd(s, MAX_SERVICES);
        for (size_t k = 0; k < s->n_services; k++) {
                snprintf(s->names[k], sizeof(s->names[k]), "svc%u", (unsigned) k);
                s->constraints[k][0] = constraint_kinds[rnd(s, ELEMENTSOF(constraint_kinds))];
                s->replicas[k] = 1 + rnd(s, 4);
                s->services[k] = (ClusterService){ .name = s->names[k], .replicated = true,
                                                   .constraints = s->constraints[k], .task_nodes = s->task_nodes[k] };
        }
        schedule(s);
        /* a service placed nowhere at the start is not checked for convergence
         * (Swarm would show it short of its replicas from the start) */
        for (size_t k = 0; k < s->n_services; k++)
                s->services[k].desired = s->task_nodes[k][0] ? (unsigned) s->replicas[k] : 0;
}

/* The tasks each service runs now: a task moved off a drained node starts
 * elsewhere a few seconds later. */
static void count_running(Sim *s) {
        for (size_t k = 0; k < s->n_services; k++) {
                unsigned placed = 0;
                while (s->task_nodes[k][placed])
                        placed++;
                s->services[k].running = placed - (placed && s->now < s->lag_until[k]);
        }
}

static bool converged(const ClusterView *cv) {
        for (size_t k = 0; k < cv->n_services; k++)
                if (cv->services[k].desired && cv->services[k].running < cv->services[k].desired)
                        return false;
        return true;
}

static ClusterView view(Sim *s) {
        count_running(s);
        return (ClusterView){ .nodes = s->nodes, .n_nodes = s->n_nodes, .services = s->services,
                              .n_services = s->n_services };
}

static ClusterNode *sim_node(Sim *s, const char *id) {
        for (size_t i = 0; i < s->n_nodes; i++)
                if (STREQ(s->nodes[i].id, id))
                        return &s->nodes[i];
        fail_msg("no node %s", id);
        return NULL;
}

/* Writes the wave to its stored form and reads it back: what a new
 * coordinator would start from. */
static Wave *reload(Wave *w) {
        char *text = wave_to_json(w);
        LocatedError e = {};
        Wave *again = NULL;

        assert_non_null(text);
        if (wave_parse(text, strlen(text), &again, &e) < 0)
                fail_msg("stored wave not readable: %u:%u %s: %s\n%s", e.line, e.column, e.path, e.message, text);
        free(text);
        wave_free(w);
        return again;
}

/* The services that could run somewhere at the start keep a running task
 * at every step. */
static size_t services_running(const Sim *s) {
        size_t n = 0;

        for (size_t k = 0; k < s->n_services; k++)
                n += s->task_nodes[k][0] != NULL;
        return n;
}

typedef struct RunResult {
        unsigned steps, max_held;
        unsigned held_for_replacement; /* steps a drained node waited for its services elsewhere */
        WaveStatus status;
        char blocked[256];
} RunResult;

/* Runs a wave over the simulated cluster to its end, checking the guards
 * at every step. fail_node: index in wave order of a node that reports a
 * failure (or SIZE_MAX). */
static RunResult run_wave_policy(Sim *s, unsigned max_unavailable, size_t fail_node, bool healthy_after_failure,
                                 WaveOnFailure on_failure) {
        ClusterView cv = view(s);
        WaveOptions o = { .max_unavailable = max_unavailable, .node_deadline_usec = 600 * SEC, .on_failure = on_failure };
        Wave *w = NULL;
        char why[256], blocked[256];
        uint64_t now = 1000 * SEC;
        size_t running_at_start = services_running(s);
        RunResult res = {};

        assert_int_equal(wave_new("w1", &o, &cv, NULL, now, &w, why, sizeof(why)), 0);
        for (res.steps = 0; res.steps < 2000; res.steps++) {
                WaveAction actions[MAX_NODES * 2];
                NodeStep before[MAX_NODES];
                size_t n_actions;
                bool changed;

                s->now = now;
                cv = view(s);
                for (size_t i = 0; i < w->n_nodes; i++)
                        before[i] = w->nodes[i].step;
                assert_int_equal(wave_advance(w, &cv, NULL, now, actions, ELEMENTSOF(actions), &n_actions, &changed, blocked,
                                              sizeof(blocked)),
                                 0);
                /* chosen only while every service runs all its tasks; patched
                 * only once what it ran runs elsewhere */
                for (size_t i = 0; i < w->n_nodes; i++) {
                        if (before[i] == NODE_PENDING && w->nodes[i].step == NODE_DRAINING)
                                assert_true(converged(&cv));
                        if (before[i] == NODE_DRAINING && w->nodes[i].step == NODE_PATCHING)
                                assert_true(converged(&cv));
                        if (before[i] == NODE_DRAINING && w->nodes[i].step == NODE_DRAINING &&
                            sim_node(s, w->nodes[i].id)->availability == AVAILABILITY_DRAIN &&
                            sim_node(s, w->nodes[i].id)->running_tasks == 0 && !converged(&cv))
                                res.held_for_replacement++;
                }
                for (size_t a = 0; a < n_actions; a++) {
                        ClusterNode *n = sim_node(s, w->nodes[actions[a].node].id);
                        if (actions[a].kind == WAVE_ACTION_DRAIN && n->availability != AVAILABILITY_DRAIN) {
                                /* its tasks start elsewhere 1 to 3 s later */
                                for (size_t k = 0; k < s->n_services; k++)
                                        for (size_t t = 0; s->task_nodes[k][t]; t++)
                                                if (STREQ(s->task_nodes[k][t], n->id))
                                                        s->lag_until[k] = now + (1 + rnd(s, 3)) * SEC;
                        }
                        if (actions[a].kind == WAVE_ACTION_DRAIN) {
                                /* the guard held: every manager reachable when a manager goes */
                                if (n->manager)
                                        for (size_t i = 0; i < s->n_nodes; i++)
                                                assert_true(!s->nodes[i].manager || s->nodes[i].manager_reachable);
                                n->availability = AVAILABILITY_DRAIN;
                        } else
                                n->availability = AVAILABILITY_ACTIVE;
                }
                schedule(s);

                /* the guards, every step */
                unsigned held = wave_held(w), managers_held = 0, drained = 0;
                for (size_t i = 0; i < w->n_nodes; i++)
                        if (w->nodes[i].manager && (w->nodes[i].step == NODE_DRAINING || w->nodes[i].step == NODE_PATCHING ||
                                                    w->nodes[i].step == NODE_ACTIVATING))
                                managers_held++;
                for (size_t i = 0; i < s->n_nodes; i++)
                        drained += s->nodes[i].availability == AVAILABILITY_DRAIN;
                assert_true(held <= w->max_unavailable);
                assert_true(drained <= w->max_unavailable);
                assert_true(managers_held <= 1);
                if (services_running(s) != running_at_start) {
                        for (size_t k = 0; k < s->n_services; k++)
                                print_message("svc%zu constraint %s replicas %zu first task %s\n", k,
                                              s->constraints[k][0] ? s->constraints[k][0] : "-", s->replicas[k],
                                              s->task_nodes[k][0] ? s->task_nodes[k][0] : "NONE");
                        for (size_t i = 0; i < s->n_nodes; i++)
                                print_message("%s manager %d avail %d %s\n", s->nodes[i].id, s->nodes[i].manager,
                                              s->nodes[i].availability, s->labels[i][0]);
                        fail_msg("seed %u step %u: a service lost its last task", s->seed, res.steps);
                }
                res.max_held = MAX(res.max_held, drained);

                /* nodes that may patch do so, and report a little later */
                for (size_t i = 0; i < w->n_nodes; i++) {
                        int r = wave_node_may_patch(w, w->nodes[i].id);
                        if (r != 0)
                                continue;
                        if (!s->patch_done_at[i])
                                s->patch_done_at[i] = now + (1 + rnd(s, 5)) * SEC;
                        else if (now >= s->patch_done_at[i]) {
                                bool ok = i != fail_node;
                                assert_int_equal(wave_node_report(w, w->nodes[i].id, ok, ok || healthy_after_failure,
                                                                  ok ? "applied" : "postinst failed", "tx", now),
                                                 0);
                        }
                }
                if (w->finished_usec != 0 && wave_held(w) == 0)
                        break;
                w = reload(w);
                now += SEC;
        }
        res.status = w->status;
        snprintf(res.blocked, sizeof(res.blocked), "%s", blocked);
        if (res.status == WAVE_DONE)
                for (size_t i = 0; i < w->n_nodes; i++)
                        assert_int_equal(w->nodes[i].step, i == fail_node ? NODE_FAILED : NODE_DONE);
        wave_free(w);
        return res;
}

static RunResult run_wave(Sim *s, unsigned max_unavailable, size_t fail_node, bool healthy_after_failure) {
        return run_wave_policy(s, max_unavailable, fail_node, healthy_after_failure, WAVE_ON_FAILURE_HALT);
}

static void test_generated_clusters(void **state _unused_) {
        unsigned done = 0, waited = 0, held_for_replacement = 0;

        for (unsigned seed = 1; seed <= 400; seed++) {
                Sim s;
                sim_new(&s, seed);
                unsigned max_unavailable = 1 + seed % 3;
                RunResult r = run_wave(&s, max_unavailable, SIZE_MAX, true);
                held_for_replacement += r.held_for_replacement;
                assert_true(r.max_held <= max_unavailable);
                if (r.status == WAVE_DONE) {
                        done++;
                        /* every node active again at the end */
                        for (size_t i = 0; i < s.n_nodes; i++)
                                assert_int_equal(s.nodes[i].availability, AVAILABILITY_ACTIVE);
                } else {
                        /* a node a service cannot leave: the wave waits, never forces */
                        assert_int_equal(r.status, WAVE_RUNNING);
                        assert_non_null(strstr(r.blocked, "has no other node it may run on"));
                        waited++;
                }
        }
        /* most generated clusters can be patched whole */
        assert_true(done > 300);
        print_message("generated clusters: %u patched whole, %u waiting on a service guard; drained nodes held %u "
                      "step(s) for their services to run elsewhere\n", done, waited, held_for_replacement);
        /* the replacement gate was met, not only passed through */
        assert_true(held_for_replacement > 0);
}

static void test_failure_halts(void **state _unused_) {
        for (unsigned seed = 1; seed <= 100; seed++) {
                Sim s;
                sim_new(&s, seed);
                s.n_services = 0; /* nothing keeps the first node waiting */
                schedule(&s);
                RunResult r = run_wave(&s, 1, 0, seed % 2);
                assert_int_equal(r.status, WAVE_HALTED);
                /* healthy after rollback: made active again; unhealthy: left drained */
                size_t drained = 0;
                for (size_t i = 0; i < s.n_nodes; i++)
                        drained += s.nodes[i].availability == AVAILABILITY_DRAIN;
                assert_int_equal(drained, seed % 2 ? 0 : 1);
        }
}

/* on_failure=continue: a node that failed and is healthy on its old state
 * is made active and the wave goes on; one that is not healthy halts it */
static void test_failure_continue(void **state _unused_) {
        for (unsigned seed = 1; seed <= 100; seed++) {
                Sim s;
                sim_new(&s, seed);
                s.n_services = 0;
                schedule(&s);
                bool healthy = seed % 2;
                RunResult r = run_wave_policy(&s, 1 + seed % 3, 0, healthy, WAVE_ON_FAILURE_CONTINUE);
                assert_int_equal(r.status, healthy ? WAVE_DONE : WAVE_HALTED);
                size_t drained = 0;
                for (size_t i = 0; i < s.n_nodes; i++)
                        drained += s.nodes[i].availability == AVAILABILITY_DRAIN;
                assert_int_equal(drained, healthy ? 0 : 1);
        }
        assert_string_equal(wave_on_failure_to_string(WAVE_ON_FAILURE_CONTINUE), "continue");
        assert_int_equal(wave_on_failure_from_string("halt"), WAVE_ON_FAILURE_HALT);
        assert_int_equal(wave_on_failure_from_string("retry"), -EINVAL);
}

static Wave *three_nodes(Sim *s, const WaveOptions *o) {
        ClusterView cv;
        Wave *w = NULL;
        char why[256];

        sim_new(s, 7);
        s->n_nodes = 3;
        s->n_services = 0;
        for (size_t i = 0; i < 3; i++) {
                s->nodes[i].manager = s->nodes[i].manager_reachable = i == 0;
                s->nodes[i].running_tasks = 1;
        }
        cv = view(s);
        assert_int_equal(wave_new("w", o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), 0);
        return w;
}

static void advance(Wave *w, Sim *s, uint64_t now, WaveAction *a, size_t *n, char *blocked) {
        ClusterView cv = view(s);
        bool changed;

        assert_int_equal(wave_advance(w, &cv, NULL, now, a, 8, n, &changed, blocked, 256), 0);
}

static void test_deadline(void **state _unused_) {
        WaveOptions o = { .node_deadline_usec = 60 * SEC };
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n;
        char blocked[256];

        /* workers first, managers last */
        assert_string_equal(w->nodes[0].hostname, "node-01");
        assert_true(w->nodes[2].manager);
        advance(w, &s, 100 * SEC, a, &n, blocked);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].kind, WAVE_ACTION_DRAIN);
        s.nodes[1].availability = AVAILABILITY_DRAIN; /* its task never stops */
        advance(w, &s, 150 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_DRAINING);
        assert_int_equal(wave_node_may_patch(w, "id01"), -EAGAIN);
        advance(w, &s, 161 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_FAILED);
        assert_int_equal(w->status, WAVE_HALTED);
        assert_non_null(strstr(w->reason, "node-01 missed its deadline: draining for more than 60 s"));
        /* halted: nothing new starts */
        advance(w, &s, 170 * SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        assert_int_equal(w->nodes[1].step, NODE_PENDING);
        wave_free(w);
}

static void test_manager_guard(void **state _unused_) {
        WaveOptions o = { .max_unavailable = 3 };
        Sim s;
        Wave *w = NULL;
        WaveAction a[8];
        size_t n;
        char blocked[256], why[256];

        sim_new(&s, 3);
        s.n_nodes = 3;
        s.n_services = 0;
        for (size_t i = 0; i < 3; i++) {
                s.nodes[i].manager = s.nodes[i].manager_reachable = true;
                s.nodes[i].running_tasks = 0;
        }
        s.nodes[2].manager_reachable = false;
        ClusterView cv = view(&s);
        assert_int_equal(wave_new("w", &o, &cv, NULL, 0, &w, why, sizeof(why)), 0);
        advance(w, &s, SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        assert_string_equal(blocked, "manager node-00 waits: manager node-02 is not reachable");
        s.nodes[2].manager_reachable = true;
        advance(w, &s, 2 * SEC, a, &n, blocked);
        /* one manager at a time, even with three slots */
        assert_int_equal(n, 1);
        assert_string_equal(blocked, "manager node-01 waits for manager node-00: managers go one at a time");
        wave_free(w);
}

static void test_service_guard(void **state _unused_) {
        WaveOptions o = {};
        Sim s;
        Wave *w = NULL;
        WaveAction a[8];
        size_t n;
        char blocked[256], why[256];

        sim_new(&s, 5);
        s.n_nodes = 3;
        for (size_t i = 0; i < 3; i++) {
                s.nodes[i].manager = s.nodes[i].manager_reachable = i == 2;
                s.labels[i][0] = i == 0 ? "zone=a" : "zone=b";
        }
        s.n_services = 1;
        s.constraints[0][0] = "node.labels.zone==a";
        s.replicas[0] = 1;
        s.services[0].desired = 1;
        schedule(&s);
        ClusterView cv = view(&s);
        assert_int_equal(wave_new("w", &o, &cv, NULL, 0, &w, why, sizeof(why)), 0);
        /* a service short of its tasks holds every drain, and is named */
        s.services[0].desired = 2;
        advance(w, &s, SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        assert_string_equal(blocked, "node node-00 waits: service svc0 runs 1 of its 2 tasks (not converged)");
        s.services[0].desired = 1;
        advance(w, &s, SEC, a, &n, blocked);
        /* node-00 is the only zone=a node: it waits, and so does the wave */
        assert_int_equal(n, 0);
        assert_string_equal(blocked, "node node-00 waits: service svc0 has no other node it may run on");
        /* a second zone=a node: it may go */
        s.labels[1][0] = "zone=a";
        advance(w, &s, 2 * SEC, a, &n, blocked);
        assert_int_equal(n, 1);
        assert_string_equal(w->nodes[a[0].node].hostname, "node-00");
        wave_free(w);
}

/* With a deregistration delay a chosen node is drained only once the
 * delay has passed since it was chosen (its health endpoint answering 503
 * meanwhile), also under a new coordinator; the drain's time is kept. */
static void test_deregistration(void **state _unused_) {
        WaveOptions o = { .node_deadline_usec = 60 * SEC, .deregistration_usec = 10 * SEC };
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n, first = SIZE_MAX;
        char blocked[256], why[256];

        advance(w, &s, 100 * SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        for (size_t i = 0; i < w->n_nodes; i++)
                if (w->nodes[i].step == NODE_DRAINING)
                        first = i;
        assert_true(first != SIZE_MAX);
        assert_true(w->nodes[first].drained_usec == 0);
        assert_non_null(strstr(w->nodes[first].message, "out of the load balancers first, drained in 10 s"));
        assert_int_equal(wave_node_may_patch(w, w->nodes[first].id), -EAGAIN);
        /* a new coordinator keeps the delay */
        w = reload(w);
        assert_true(w->deregistration_usec == 10 * SEC);
        advance(w, &s, 109 * SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        /* at the end of the delay the guards are checked again: a node
         * gone not ready holds the drain (the chosen one stays held) */
        ClusterNode *chosen = sim_node(&s, w->nodes[first].id);
        chosen->ready = false;
        advance(w, &s, 110 * SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        assert_int_equal(w->nodes[first].step, NODE_DRAINING);
        assert_true(w->nodes[first].drained_usec == 0);
        assert_non_null(strstr(w->nodes[first].message, "chosen; its drain waits: node"));
        assert_int_equal(wave_held(w), 1);
        chosen->ready = true;
        advance(w, &s, 110 * SEC, a, &n, blocked);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].kind, WAVE_ACTION_DRAIN);
        assert_int_equal(a[0].node, first);
        assert_true(w->nodes[first].drained_usec == 110 * SEC);
        w = reload(w);
        assert_true(w->nodes[first].drained_usec == 110 * SEC);
        /* the drain not written yet: asked for again, its time kept */
        advance(w, &s, 111 * SEC, a, &n, blocked);
        assert_int_equal(n, 1);
        assert_true(w->nodes[first].drained_usec == 110 * SEC);
        ClusterNode *cn = sim_node(&s, w->nodes[first].id);
        cn->availability = AVAILABILITY_DRAIN;
        cn->running_tasks = 0;
        advance(w, &s, 112500000ULL, a, &n, blocked);
        assert_int_equal(w->nodes[first].step, NODE_PATCHING);
        assert_string_equal(w->nodes[first].message, "its tasks run elsewhere, 2.5 s after its drain");
        char *text = wave_to_json(w);
        assert_non_null(strstr(text, "\"version\":3"));
        assert_non_null(strstr(text, "\"deregistration_delay\":10000000"));
        free(text);
        wave_free(w);

        /* the delay counts against the drain's deadline: it must be shorter */
        ClusterView cv = view(&s);
        o.deregistration_usec = 60 * SEC;
        w = NULL;
        assert_int_equal(wave_new("w2", &o, &cv, NULL, 0, &w, why, sizeof(why)), -EINVAL);
        assert_null(w);
        assert_non_null(strstr(why, "the deregistration delay (60 s) must be shorter than the node deadline (60 s)"));
}

static void test_canaries_and_soak(void **state _unused_) {
        static const char *const canaries[] = { "node-02", NULL };
        WaveOptions o = { .max_unavailable = 2, .soak_usec = 30 * SEC, .canaries = canaries };
        Sim s;
        Wave *w;
        WaveAction a[8];
        size_t n;
        char blocked[256];

        w = three_nodes(&s, &o);
        for (size_t i = 0; i < 3; i++)
                s.nodes[i].running_tasks = 0;
        assert_string_equal(w->nodes[0].hostname, "node-02");
        assert_true(w->nodes[0].canary);
        advance(w, &s, 100 * SEC, a, &n, blocked);
        assert_int_equal(n, 1); /* only the canary, though two slots are free */
        assert_string_equal(blocked, "");
        s.nodes[2].availability = AVAILABILITY_DRAIN;
        advance(w, &s, 101 * SEC, a, &n, blocked);
        assert_string_equal(blocked, "waiting for the canaries");
        assert_int_equal(wave_node_may_patch(w, "id02"), 0);
        assert_int_equal(wave_node_report(w, "id02", true, true, "ok", "tx1", 105 * SEC), 0);
        assert_int_equal(wave_node_report(w, "id02", true, true, "ok", "tx1", 105 * SEC), -EPROTO);
        advance(w, &s, 106 * SEC, a, &n, blocked);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].kind, WAVE_ACTION_ACTIVATE);
        s.nodes[2].availability = AVAILABILITY_ACTIVE;
        advance(w, &s, 107 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_DONE);
        assert_string_equal(blocked, "soaking after the canaries: 30 s left");
        advance(w, &s, 137 * SEC, a, &n, blocked);
        /* two slots: both workers... but node-00 is a manager and goes last, alone */
        assert_int_equal(n, 2);
        assert_int_equal(wave_node_may_patch(w, "nope"), -ENOENT);
        wave_free(w);
}

/* An error budget of one node: the wave goes on past the first failed node
 * (healthy on its old state, made active), and halts at the second. */
static void test_error_budget(void **state _unused_) {
        WaveOptions o = { .node_deadline_usec = 600 * SEC, .max_errors_percent = 34 };
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n;
        char blocked[256], why[256];
        _cleanup_free_ char *text = NULL;
        _cleanup_(wave_freep) Wave *back = NULL;
        LocatedError e = {};

        assert_int_equal(w->max_errors, 1); /* 34% of 3, rounded down */
        for (size_t i = 0; i < 3; i++)
                s.nodes[i].running_tasks = 0;
        advance(w, &s, 100 * SEC, a, &n, blocked);
        s.nodes[1].availability = AVAILABILITY_DRAIN;
        advance(w, &s, 101 * SEC, a, &n, blocked);
        assert_int_equal(wave_node_report(w, "id01", false, true, "postinst failed; rolled back", "tx1", 102 * SEC), 0);
        assert_int_equal(w->status, WAVE_RUNNING);
        assert_int_equal(wave_errors(w), 1);
        advance(w, &s, 103 * SEC, a, &n, blocked);
        assert_int_equal(a[0].kind, WAVE_ACTION_ACTIVATE);
        s.nodes[1].availability = AVAILABILITY_ACTIVE;
        advance(w, &s, 104 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_FAILED);
        assert_int_equal(n, 1); /* the next node drains */
        assert_int_equal(a[0].kind, WAVE_ACTION_DRAIN);
        s.nodes[2].availability = AVAILABILITY_DRAIN;
        advance(w, &s, 105 * SEC, a, &n, blocked);
        assert_int_equal(wave_node_report(w, "id02", false, true, "postinst failed; rolled back", "tx2", 106 * SEC), 0);
        assert_int_equal(w->status, WAVE_HALTED);
        assert_non_null(strstr(w->reason, "node-02 failed and was rolled back: 2 failed node(s), more than the error "
                                          "budget of 1"));
        /* the budget is stored with the wave */
        text = wave_to_json(w);
        assert_non_null(text);
        assert_int_equal(wave_parse(text, strlen(text), &back, &e), 0);
        assert_int_equal(back->max_errors, 1);
        wave_free(w);

        /* a failed canary halts whatever the budget: the rest waits on it */
        static const char *const canaries[] = { "node-02", NULL };
        WaveOptions oc = { .node_deadline_usec = 600 * SEC, .max_errors = 2, .canaries = canaries };
        w = three_nodes(&s, &oc);
        for (size_t i = 0; i < 3; i++)
                s.nodes[i].running_tasks = 0;
        advance(w, &s, 100 * SEC, a, &n, blocked);
        s.nodes[2].availability = AVAILABILITY_DRAIN;
        advance(w, &s, 101 * SEC, a, &n, blocked);
        assert_int_equal(wave_node_report(w, "id02", false, true, "failed", "tx", 102 * SEC), 0);
        assert_int_equal(w->status, WAVE_HALTED);
        wave_free(w);

        /* more than every node is refused */
        ClusterView cv = view(&s);
        o.max_errors_percent = 101;
        assert_int_equal(wave_new("w2", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "error budget of 101%"));
        /* a percentage that rounds down to no node is refused, not taken as none */
        o.max_errors_percent = 20;
        w = NULL;
        assert_int_equal(wave_new("w3", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), -EINVAL);
        assert_null(w);
        assert_string_equal(why, "an error budget of 20% of 3 node(s) rounds down to no node: give a number of nodes, "
                                 "or at least 34%");
        o.max_errors_percent = 34;
        assert_int_equal(wave_new("w4", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), 0);
        assert_int_equal(w->max_errors, 1);
        wave_free(w);
}

/* A leader whose clock is behind the one that stored the steps: a step
 * "since" in the future is no time spent, not a missed deadline, and the
 * soak is not skipped. */
static void test_clock_behind(void **state _unused_) {
        static const char *const canaries[] = { "node-02", NULL };
        WaveOptions o = { .node_deadline_usec = 60 * SEC, .soak_usec = 30 * SEC, .canaries = canaries };
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n;
        char blocked[256];

        for (size_t i = 0; i < 3; i++)
                s.nodes[i].running_tasks = 0;
        advance(w, &s, 200 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_DRAINING);
        s.nodes[2].availability = AVAILABILITY_DRAIN;
        /* the next leader's clock is 30 s behind */
        advance(w, &s, 170 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_PATCHING);
        assert_int_equal(w->status, WAVE_RUNNING);
        assert_int_equal(wave_node_report(w, "id02", true, true, "ok", "tx1", 171 * SEC), 0);
        s.nodes[2].availability = AVAILABILITY_ACTIVE;
        advance(w, &s, 230 * SEC, a, &n, blocked); /* activated, canaries done at 230 */
        advance(w, &s, 231 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[0].step, NODE_DONE);
        /* clock behind again: the soak is still to come, not over */
        advance(w, &s, 200 * SEC, a, &n, blocked);
        assert_non_null(strstr(blocked, "soaking after the canaries: 30 s left"));
        assert_int_equal(n, 0);
        wave_free(w);
}

/* Messages are cut by bytes, never inside a UTF-8 character: the node
 * stays in the stored wave. */
static void test_message_cut_utf8(void **state _unused_) {
        WaveOptions o = { .node_deadline_usec = 60 * SEC };
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n;
        char blocked[256], message[600] = "";
        _cleanup_free_ char *text = NULL;

        for (size_t i = 0; i < 3; i++)
                s.nodes[i].running_tasks = 0;
        advance(w, &s, 100 * SEC, a, &n, blocked);
        s.nodes[1].availability = AVAILABILITY_DRAIN;
        advance(w, &s, 101 * SEC, a, &n, blocked);
        /* "xy" then two-byte characters: byte 255 falls inside one */
        strcat(message, "xy");
        for (int i = 0; i < 200; i++)
                strcat(message, "\xc3\xa9");
        assert_int_equal(wave_node_report(w, "id01", false, true, message, "tx1", 102 * SEC), 0);
        assert_true(strlen(w->nodes[0].message) < WAVE_MESSAGE_MAX);
        assert_int_equal(strlen(w->nodes[0].message), 254); /* "xy" and whole characters */
        text = wave_to_json(w);
        assert_non_null(text);
        json_t *j = json_loads(text, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3);
        assert_non_null(strstr(json_string_value(json_object_get(j, "reason")), "node-01 failed"));
        json_decref(j);
        wave_free(w);
}

static void test_pause_resume_abort(void **state _unused_) {
        WaveOptions o = {};
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n;
        char blocked[256];

        assert_int_equal(wave_pause(w, "change freeze"), 0);
        assert_int_equal(wave_pause(w, "again"), -EPROTO);
        advance(w, &s, 101 * SEC, a, &n, blocked);
        assert_int_equal(n, 0);
        assert_int_equal(wave_node_may_patch(w, "id01"), -ESTALE);
        assert_int_equal(wave_resume(w), 0);
        advance(w, &s, 102 * SEC, a, &n, blocked);
        assert_int_equal(n, 1);
        assert_int_equal(wave_abort(w, "operator", 103 * SEC), 0);
        assert_int_equal(w->status, WAVE_ABORTED);
        /* the node under way finishes; nothing else starts */
        s.nodes[1].availability = AVAILABILITY_DRAIN;
        s.nodes[1].running_tasks = 0;
        advance(w, &s, 104 * SEC, a, &n, blocked);
        assert_int_equal(wave_node_report(w, "id01", true, true, "ok", "", 105 * SEC), 0);
        advance(w, &s, 106 * SEC, a, &n, blocked);
        assert_int_equal(a[0].kind, WAVE_ACTION_ACTIVATE);
        s.nodes[1].availability = AVAILABILITY_ACTIVE;
        advance(w, &s, 107 * SEC, a, &n, blocked);
        assert_int_equal(w->nodes[1].step, NODE_PENDING);
        assert_true(w->finished_usec != 0);
        wave_free(w);
}

static void test_constraints(void **state _unused_) {
        const char *labels[] = { "zone=a", "tier=db", NULL };
        ClusterNode n = { .id = "abc", .hostname = "node-1", .manager = true, .labels = labels };

        assert_int_equal(wave_constraint_matches("node.role==manager", &n), 1);
        assert_int_equal(wave_constraint_matches("node.role != manager", &n), 0);
        assert_int_equal(wave_constraint_matches("node.hostname==NODE-1", &n), 1);
        assert_int_equal(wave_constraint_matches("node.id==abc", &n), 1);
        assert_int_equal(wave_constraint_matches("node.labels.zone==a", &n), 1);
        assert_int_equal(wave_constraint_matches("node.labels.zone==b", &n), 0);
        assert_int_equal(wave_constraint_matches("node.labels.rack==1", &n), 0);
        assert_int_equal(wave_constraint_matches("node.labels.rack!=1", &n), 1);
        assert_int_equal(wave_constraint_matches("engine.labels.x==1", &n), -EINVAL);
        assert_int_equal(wave_constraint_matches("node.role", &n), -EINVAL);
}

static void test_new_errors(void **state _unused_) {
        static const char *const bad[] = { "node-99", NULL };
        static const char *const twice[] = { "node-01", "id01", NULL };
        WaveOptions o = { .canaries = bad };
        Sim s;
        Wave *w = NULL;
        char why[256];

        sim_new(&s, 11);
        ClusterView cv = view(&s);
        assert_int_equal(wave_new("w", &o, &cv, NULL, 0, &w, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "canary node-99 is not a node of the wave");
        o.canaries = twice;
        assert_int_equal(wave_new("w", &o, &cv, NULL, 0, &w, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "canary id01 is given twice");
        o = (WaveOptions){ .label = "zone=c" };
        assert_int_equal(wave_new("w", &o, &cv, NULL, 0, &w, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "no node has the label zone=c");
        assert_null(w);
        assert_null(wave_free(NULL));
}

static uint64_t utc(int y, unsigned mo, unsigned d, unsigned h, unsigned mi) {
        return (uint64_t) (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * SEC;
}

static void test_schedule(void **state _unused_) {
        WaveSchedule sched = { .zone = "Europe/Berlin" };
        WaveOptions o = { .node_deadline_usec = 30 * 60 * SEC, .schedule = &sched };
        TimeZone *tz = NULL;
        Sim s;
        Wave *w = NULL, *again = NULL;
        WaveAction a[8];
        size_t n;
        bool changed;
        char why[256], blocked[256];
        LocatedError e = {};

        assert_int_equal(timezone_load(NULL, "Europe/Berlin", &tz, why, sizeof(why)), 0);
        assert_int_equal(wave_window_parse("Sun 01:00 3h", &sched.windows[sched.n_windows++], why, sizeof(why)), 0);
        assert_int_equal(wave_blackout_parse("2027-04-11", &sched.blackouts[sched.n_blackouts++], why, sizeof(why)), 0);
        sim_new(&s, 7);
        s.n_nodes = 3;
        s.n_services = 0;
        for (size_t i = 0; i < 3; i++) {
                s.nodes[i].manager = s.nodes[i].manager_reachable = i == 0;
                s.nodes[i].running_tasks = 1;
        }
        ClusterView cv = view(&s);
        /* Saturday noon: the window opens on Sunday at 01:00 CET */
        assert_int_equal(wave_new("w", &o, &cv, tz, utc(2027, 3, 27, 12, 0), &w, why, sizeof(why)), 0);
        assert_int_equal(wave_advance(w, &cv, tz, utc(2027, 3, 27, 12, 0), a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 0);
        assert_string_equal(blocked, "waiting for the maintenance window: the next node may start at 2027-03-28 01:00 "
                                     "+01:00 (Europe/Berlin); windows: Sun 01:00 3h");
        assert_true(w->window_opens_usec == utc(2027, 3, 28, 0, 0));

        /* stored and read back: version 2, the same schedule */
        char *text = wave_to_json(w);
        assert_non_null(strstr(text, "\"version\":2"));
        assert_non_null(strstr(text, "\"schedule\":{\"zone\":\"Europe/Berlin\",\"windows\":[\"Sun 01:00 3h\"],"
                                     "\"blackouts\":[\"2027-04-11\"]}"));
        assert_int_equal(wave_parse(text, strlen(text), &again, &e), 0);
        assert_string_equal(again->schedule.zone, "Europe/Berlin");
        assert_int_equal(again->schedule.n_windows, 1);
        assert_int_equal(again->schedule.windows[0].start_minute, 60);
        assert_true(again->schedule.blackouts[0].first_day == sched.blackouts[0].first_day);
        free(text);
        wave_free(again);

        /* a leader that cannot read the zone starts no node */
        assert_int_equal(wave_advance(w, &cv, NULL, utc(2027, 3, 28, 0, 0), a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 0);
        assert_non_null(strstr(blocked, "time zone Europe/Berlin cannot be read here"));

        /* the window opens (a DST day: 01:00 CET to 04:00 CEST, two hours) */
        assert_int_equal(wave_advance(w, &cv, tz, utc(2027, 3, 28, 0, 0), a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].kind, WAVE_ACTION_DRAIN);
        ClusterNode *first = sim_node(&s, w->nodes[a[0].node].id);
        first->availability = AVAILABILITY_DRAIN;
        first->running_tasks = 0;
        cv = view(&s);
        assert_int_equal(wave_advance(w, &cv, tz, utc(2027, 3, 28, 0, 10), a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(w->nodes[0].step, NODE_PATCHING);
        assert_int_equal(wave_node_report(w, w->nodes[0].id, true, true, "ok", "t1", utc(2027, 3, 28, 0, 40)), 0);
        first->availability = AVAILABILITY_ACTIVE;
        cv = view(&s);
        /* 01:01 UTC: 59 minutes left, a node may take an hour: the next Sunday */
        assert_int_equal(wave_advance(w, &cv, tz, utc(2027, 3, 28, 1, 1), a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(w->nodes[0].step, NODE_DONE);
        assert_int_equal(n, 0);
        assert_int_equal(w->nodes[1].step, NODE_PENDING);
        assert_true(w->window_opens_usec == utc(2027, 4, 3, 23, 0));
        assert_non_null(strstr(blocked, "2027-04-04 01:00 +02:00"));
        /* the next Sunday: the next node starts */
        assert_int_equal(wave_advance(w, &cv, tz, utc(2027, 4, 3, 23, 0), a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 1);
        assert_int_equal(w->nodes[1].step, NODE_DRAINING);
        wave_free(w);

        /* no window holds a node's hour */
        w = NULL;
        sched.windows[0].length_minutes = 45;
        assert_int_equal(wave_new("w", &o, &cv, tz, utc(2027, 3, 27, 12, 0), &w, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "no window within a year holds a node's time (60 min: twice the node deadline) "
                                 "outside the blackouts; windows: Sun 01:00 45m");
        assert_null(w);
        timezone_free(tz);
}

/* The alert gate holds both the drain of a new node and the activation of
 * a patched one; when it lets go, both go on. */
static void test_gate_holds(void **state _unused_) {
        WaveOptions o = { .max_unavailable = 1 };
        Sim s;
        Wave *w = three_nodes(&s, &o);
        WaveAction a[8];
        size_t n;
        bool changed;
        char blocked[256];
        ClusterView cv = view(&s);

        cv.hold = "1 alert(s) firing that the gate matches: NodeDown";
        assert_int_equal(wave_advance(w, &cv, NULL, 100 * SEC, a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 0);
        assert_string_equal(blocked, "1 alert(s) firing that the gate matches: NodeDown");
        cv.hold = NULL;
        assert_int_equal(wave_advance(w, &cv, NULL, 101 * SEC, a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 1);
        ClusterNode *first = sim_node(&s, w->nodes[0].id);
        first->availability = AVAILABILITY_DRAIN;
        first->running_tasks = 0;
        cv = view(&s);
        assert_int_equal(wave_advance(w, &cv, NULL, 102 * SEC, a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(w->nodes[0].step, NODE_PATCHING);
        assert_int_equal(wave_node_report(w, w->nodes[0].id, true, true, "ok", "t", 103 * SEC), 0);
        /* patched, but an alert fires: left drained, the wave waits */
        cv.hold = "1 alert(s) firing that the gate matches: NodeDown";
        assert_int_equal(wave_advance(w, &cv, NULL, 104 * SEC, a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 0);
        assert_int_equal(w->nodes[0].step, NODE_ACTIVATING);
        assert_non_null(strstr(blocked, "waits to be made active: 1 alert(s) firing"));
        cv.hold = NULL;
        assert_int_equal(wave_advance(w, &cv, NULL, 105 * SEC, a, 8, &n, &changed, blocked, 256), 0);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].kind, WAVE_ACTION_ACTIVATE);
        wave_free(w);
}

/* The approved set: frozen from the covered nodes' plans, one version per
 * package, kept in the stored wave. */
static void test_approved_set(void **state _unused_) {
        WaveOptions o = { .approve = true };
        Sim s;
        Wave *w = NULL, *again = NULL;
        char why[512];
        LocatedError e = {};

        sim_new(&s, 7);
        s.n_nodes = 3;
        s.n_services = 0;
        ClusterView cv = view(&s);
        json_t *plans = json_loads("{\"id00\": {\"id\": \"p1\", \"generated_usec\": 1, \"packages\": ["
                                   "{\"name\": \"openssl\", \"arch\": \"amd64\", \"from\": \"3.0.11-1\", \"to\": \"3.0.13-1\", \"security\": true},"
                                   "{\"name\": \"bash\", \"arch\": \"amd64\", \"from\": \"5.2-1\", \"to\": \"5.2-2\", \"security\": false}]},"
                                   "\"id01\": {\"id\": \"p2\", \"generated_usec\": 1, \"packages\": ["
                                   "{\"name\": \"openssl\", \"arch\": \"amd64\", \"from\": \"3.0.9-1\", \"to\": \"3.0.13-1\", \"security\": true}]},"
                                   "\"id02\": {\"id\": \"p3\", \"generated_usec\": 1, \"packages\": []}}", 0, NULL);
        assert_non_null(plans);
        o.plans = plans;
        assert_int_equal(wave_new("w", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), 0);
        assert_true(w->has_approved);
        assert_int_equal(w->n_approved, 2);
        assert_string_equal(w->approved[0].name, "bash"); /* sorted */
        assert_string_equal(wave_approved_find(w, "openssl", "amd64")->version, "3.0.13-1");
        assert_true(wave_approved_find(w, "openssl", "amd64")->security);
        assert_null(wave_approved_find(w, "openssl", "i386"));
        char *text = wave_to_json(w);
        assert_non_null(strstr(text, "\"version\":2"));
        assert_int_equal(wave_parse(text, strlen(text), &again, &e), 0);
        assert_int_equal(again->n_approved, 2);
        assert_string_equal(again->approved[1].version, "3.0.13-1");
        free(text);
        wave_free(again);
        w = wave_free(w);

        /* nodes that disagree, or a node with no plan: refused, saying which */
        json_object_set_new(json_object_get(plans, "id02"), "packages",
                            json_loads("[{\"name\": \"openssl\", \"arch\": \"amd64\", \"from\": null, \"to\": \"3.0.14-1\", "
                                       "\"security\": true}]", 0, NULL));
        assert_int_equal(wave_new("w", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "the nodes' plans disagree on openssl (amd64): 3.0.13-1 and 3.0.14-1; refresh their "
                                 "plans from the same repositories, or start with any version");
        json_object_del(plans, "id02");
        assert_int_equal(wave_new("w", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "no patch plan from 1 node(s) of the wave (node-02) reached this manager"));
        assert_null(w);
        /* no approval: no set, version 1 */
        o.approve = false;
        assert_int_equal(wave_new("w", &o, &cv, NULL, 100 * SEC, &w, why, sizeof(why)), 0);
        assert_false(w->has_approved);
        text = wave_to_json(w);
        assert_non_null(strstr(text, "\"version\":1"));
        free(text);
        wave_free(w);
        json_decref(plans);
}

static void test_parse_errors(void **state _unused_) {
        static const struct {
                const char *text, *path, *message;
                unsigned line;
        } cases[] = {
                { "[]", "", "expected an object", 1 },
                { "{\"version\": 2}", "schedule", "version 2 has a schedule or an approved set: neither is there", 1 },
                { "{\"version\": 1, \"schedule\": {}}", "schedule", "a schedule or an approved set needs version 2", 1 },
                { "{\"version\": 1, \"approved\": []}", "schedule", "a schedule or an approved set needs version 2", 1 },
                /* a hostd that reads version 2 would ignore the delay: it needs its own */
                { "{\"version\": 2, \"approved\": [], \"deregistration_delay\": 5000000}", "deregistration_delay",
                  "a deregistration delay needs version 3", 1 },
                { "{\"version\": 1, \"deregistration_delay\": 5000000}", "deregistration_delay",
                  "a deregistration delay needs version 3", 1 },
                { "{\"version\": 3}", "deregistration_delay", "version 3 has a deregistration delay: it is not there", 1 },
                { "{\"version\": 3,\n\"deregistration_delay\": 0}", "deregistration_delay", "expected a delay above 0", 2 },
                { "{\"version\": 3, \"deregistration_delay\": -1}", "deregistration_delay", "", 1 },
                { "{\"version\": 4}", "version", "unsupported wave version 4", 1 },
                { "{\"version\": 2, \"approved\": [{\"name\": \"open ssl\", \"arch\": \"amd64\", \"version\": \"1\", "
                  "\"security\": true}]}", "approved[0]", "expected {\"name\", \"arch\", \"version\", \"security\"}", 1 },
                { "{\"version\": 2, \"approved\": [{\"name\": \"b\", \"arch\": \"amd64\", \"version\": \"1\", "
                  "\"security\": true},\n{\"name\": \"a\", \"arch\": \"amd64\", \"version\": \"1\", \"security\": true}]}",
                  "approved[1]", "not after the one before", 2 },
                { "{\"version\": 2, \"schedule\": {\"zone\": \"UTC\", \"windows\": [\"Mon 22:00 1h\", \"Tue 9:00\"],\n"
                  " \"blackouts\": []}}", "schedule.windows[1]", "the start is not a time HH:MM", 1 },
                { "{\"version\": 2, \"schedule\": {\"zone\": \"UTC\", \"windows\": [],\n"
                  " \"blackouts\": [\"2026-12-24..2026-12-01\"]}}", "schedule.blackouts[0]", "ends before it starts", 2 },
                { "{\"version\": 2, \"schedule\": {\"zone\": \"UTC\", \"windows\": [], \"blackouts\": []}}",
                  "schedule", "not none", 1 },
                { "{\"version\": 1, \"id\": \"w\", \"status\": \"sleeping\"}", "status", "unknown value \"sleeping\"", 1 },
                { "{\"version\": 1, \"id\": \"w\", \"status\": \"running\", \"reason\": \"\", \"max_unavailable\": 0}",
                  "max_unavailable", "expected 1..1024", 1 },
                { "{\"version\": 1, \"id\": \"w\", \"status\": \"running\", \"reason\": \"\", \"max_unavailable\": 1,\n"
                  " \"on_failure\": \"retry\"}",
                  "on_failure", "unknown value \"retry\"", 2 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                LocatedError e = {};
                Wave *w = NULL;
                assert_int_equal(wave_parse(cases[i].text, strlen(cases[i].text), &w, &e), -EINVAL);
                assert_null(w);
                if (!STREQ(e.path, cases[i].path) || !strstr(e.message, cases[i].message) || e.line != cases[i].line)
                        fail_msg("case %zu: got %u:%u %s: %s", i, e.line, e.column, e.path, e.message);
        }
        /* a stored wave with a node listed twice */
        Sim s;
        WaveOptions o = {};
        Wave *w = three_nodes(&s, &o);
        snprintf(w->nodes[1].id, sizeof(w->nodes[1].id), "%s", w->nodes[0].id);
        char *text = wave_to_json(w);
        LocatedError e = {};
        Wave *again = NULL;
        assert_int_equal(wave_parse(text, strlen(text), &again, &e), -EINVAL);
        assert_string_equal(e.path, "nodes[1]");
        free(text);
        wave_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_generated_clusters),
                cmocka_unit_test(test_failure_halts),
                cmocka_unit_test(test_failure_continue),
                cmocka_unit_test(test_deadline),
                cmocka_unit_test(test_manager_guard),
                cmocka_unit_test(test_service_guard),
                cmocka_unit_test(test_deregistration),
                cmocka_unit_test(test_canaries_and_soak),
                cmocka_unit_test(test_error_budget),
                cmocka_unit_test(test_clock_behind),
                cmocka_unit_test(test_message_cut_utf8),
                cmocka_unit_test(test_pause_resume_abort),
                cmocka_unit_test(test_constraints),
                cmocka_unit_test(test_new_errors),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_schedule),
                cmocka_unit_test(test_approved_set),
                cmocka_unit_test(test_gate_holds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
