/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The wave coordinator against a fake Docker Engine (fake-docker.h) on the
 * test's event loop: a wave over a Swarm of 3 managers and 2 workers taken
 * through every step of every node; the same with the coordinator replaced
 * after every step (a restart, or another manager's hostd taking over),
 * resuming from the stored wave; a drain whose answer is lost, a wave write
 * whose answer is lost after Swarm stored it, a write that loses a race, a
 * report sent twice, a deadline passed while the coordinator was away, a
 * leader that steps down mid-wave, and a new coordinator while a drained
 * node's tasks still run and after an activation whose answer was lost.
 * Time is the test's (event-clock.h): a node whose tasks never stop fails
 * at its one-hour deadline, not before, with the coordinator running; and
 * the wave waits out its soak after the canary before the next node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "hostd/change-log.h"
#include "hostd/event-clock.h"
#include "hostd/wave-coordinator.h"
#include "tests/unit/fake-docker.h"
#include "tests/unit/scratch-dir.h"

static const char *const NODES[][3] = {
        /* id, hostname, role */
        { "m1", "manager-1", "leader" }, { "m2", "manager-2", "manager" }, { "m3", "manager-3", "manager" },
        { "w1", "worker-1", "worker" },  { "w2", "worker-2", "worker" },
};
#define N_NODES ELEMENTSOF(NODES)

typedef struct Env {
        sd_event *event;
        EventClock *clock;
        FakeDocker *fake;
        DockerClient *docker;
        Coordinator *coordinator;
        char socket[256];
} Env;

typedef struct Answer {
        bool done;
        int error;
        bool transient;
        int may_patch;
        char message[256];
        char wave[65536];
} Answer;

static void on_answer(const CoordinatorAnswer *a, void *userdata) {
        Answer *out = userdata;
        char *text = a->wave ? json_dumps(a->wave, JSON_COMPACT) : NULL;

        out->done = true;
        out->error = a->error;
        out->transient = a->transient;
        out->may_patch = a->may_patch;
        snprintf(out->message, sizeof(out->message), "%s", a->message ? a->message : "");
        snprintf(out->wave, sizeof(out->wave), "%s", text ? text : "");
        free(text);
}

/* Runs the loop until flag is set (or fails after 10 s of loop time). */
static void run_until(Env *env, const bool *flag) {
        uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + 10 * 1000000ULL;

        while (!*flag) {
                assert_true(clock_usec(CLOCK_MONOTONIC) < deadline);
                assert_true(sd_event_run(env->event, 100 * 1000) >= 0);
        }
}

/* Runs the loop until nothing is left to do for a moment. */
static void settle(Env *env) {
        for (int idle = 0; idle < 3;)
                idle = sd_event_run(env->event, 20 * 1000) == 0 ? idle + 1 : 0;
}

static void coordinator_start(Env *env, bool leader) {
        assert_int_equal(coordinator_new(env->event, env->clock, env->docker, NULL, &env->coordinator), 0);
        coordinator_set_leader(env->coordinator, leader);
        settle(env);
}

static void coordinator_restart(Env *env, bool leader) {
        env->coordinator = coordinator_free(env->coordinator);
        coordinator_start(env, leader);
}

static Env *env_new(const char *dir) {
        static const char *const web[] = { "m2", "w1", "w2", NULL };
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        assert_int_equal(sd_event_new(&env->event), 0);
        assert_int_equal(event_clock_new(env->event, &env->clock), 0);
        snprintf(env->socket, sizeof(env->socket), "%s/docker.sock", dir);
        assert_int_equal(fake_docker_new(env->event, env->socket, &env->fake), 0);
        for (size_t i = 0; i < N_NODES; i++) {
                char addr[32];
                snprintf(addr, sizeof(addr), "10.0.0.%zu", i + 1);
                fake_docker_add_node(env->fake, NODES[i][0], NODES[i][1], !STREQ(NODES[i][2], "worker"),
                                     STREQ(NODES[i][2], "leader"), addr);
        }
        fake_docker_add_service(env->fake, "svc-web", "web", web);
        assert_int_equal(docker_client_new(env->event, env->socket, 5, &env->docker), 0);
        coordinator_start(env, true);
        return env;
}

static void env_free(Env *env) {
        env->coordinator = coordinator_free(env->coordinator);
        env->docker = docker_client_free(env->docker);
        env->fake = fake_docker_free(env->fake);
        event_clock_free(env->clock);
        sd_event_unref(env->event);
        free(env);
}

static void request(Env *env, const WaveRequest *req, Answer *a) {
        *a = (Answer){};
        assert_int_equal(coordinator_request(env->coordinator, req, on_answer, a), 0);
        run_until(env, &a->done);
}

/* The stored wave, parsed from the Swarm spec's label. */
static Wave *stored(Env *env) {
        const char *text = fake_docker_wave_label(env->fake);
        LocatedError e = {};
        Wave *w = NULL;

        assert_non_null(text);
        assert_int_equal(wave_parse(text, strlen(text), &w, &e), 0);
        return w;
}

static const WaveNode *node_of(const Wave *w, const char *id) {
        for (size_t i = 0; i < w->n_nodes; i++)
                if (STREQ(w->nodes[i].id, id))
                        return &w->nodes[i];
        fail_msg("node %s not in the wave", id);
        return NULL;
}

static NodeStep step_of(Env *env, const char *id) {
        _cleanup_(wave_freep) Wave *w = stored(env);
        return node_of(w, id)->step;
}

static void start_wave_with(Env *env, const WaveOptions *options) {
        Answer a;

        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_START, .start = *options }, &a);
        assert_int_equal(a.error, 0);
        assert_non_null(fake_docker_wave_label(env->fake));
}

static void start_wave(Env *env) {
        start_wave_with(env, &(WaveOptions){ .max_unavailable = 1 });
}

/* Moves the test's clock on in steps of step_usec, running the loop
 * between, until node id's availability is want (fails after limit_usec). */
static void advance_until_availability(Env *env, const char *id, const char *want, uint64_t step_usec,
                                       uint64_t limit_usec) {
        uint64_t start = event_clock_now(env->clock, CLOCK_MONOTONIC);

        while (!STREQ(fake_docker_availability(env->fake, id), want)) {
                assert_true(event_clock_now(env->clock, CLOCK_MONOTONIC) - start < limit_usec);
                event_clock_advance(env->clock, step_usec);
                settle(env);
        }
}

/* What a node's agent does for its turn: asks until it may patch, then
 * reports. */
static void node_turn(Env *env, const char *id, bool restart_between) {
        Answer a;

        /* drained by the leader, its tasks gone: it may patch */
        assert_string_equal(fake_docker_availability(env->fake, id), "drain");
        if (restart_between)
                coordinator_restart(env, true);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = id }, &a);
        assert_int_equal(a.error, 0);
        assert_int_equal(a.may_patch, 0);
        assert_int_equal(step_of(env, id), NODE_PATCHING);
        if (restart_between)
                coordinator_restart(env, true);
        request(env,
                &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = id, .ok = true, .healthy = true,
                                .message = "patched", .transaction = "tx-1" },
                &a);
        assert_int_equal(a.error, 0);
        if (restart_between)
                coordinator_restart(env, true);
        settle(env);
        /* dockerd's node event for the activation: the daemon kicks */
        coordinator_kick(env->coordinator);
        settle(env);
        /* activated again, and done */
        assert_string_equal(fake_docker_availability(env->fake, id), "active");
        assert_int_equal(step_of(env, id), NODE_DONE);
}

/* The wave's order: workers by hostname, then managers. */
static const char *const ORDER[] = { "w1", "w2", "m1", "m2", "m3" };

static void whole_wave(bool restart_between) {
        char dir[] = "/tmp/hostd-unit-coord-XXXXXX";
        Env *env;

        assert_non_null(mkdtemp(dir));
        env = env_new(dir);
        start_wave(env);
        settle(env);
        for (size_t i = 0; i < ELEMENTSOF(ORDER); i++) {
                /* one node held at a time: every other node active */
                for (size_t k = 0; k < N_NODES; k++)
                        if (!STREQ(NODES[k][0], ORDER[i]))
                                assert_string_equal(fake_docker_availability(env->fake, NODES[k][0]), "active");
                node_turn(env, ORDER[i], restart_between);
        }
        _cleanup_(wave_freep) Wave *w = stored(env);
        assert_int_equal(w->status, WAVE_DONE);
        assert_int_equal(w->max_held, 1);
        assert_string_equal(node_of(w, "w1")->transaction, "tx-1");
        env_free(env);
        rmdir(dir);
}

static void test_every_step(void **state _unused_) {
        whole_wave(false);
}

static void test_restart_at_every_step(void **state _unused_) {
        whole_wave(true);
}

/* The drained node's services: how long each took to run all its tasks
 * elsewhere, a change record of the leader that drained it; a node
 * drained before this coordinator led is said to be so, not timed. */
static void test_replacement_recorded(void **state) {
        Env *env = env_new(*state);
        ChangeLog *log = NULL;
        Answer a;
        char path[4096], *text = NULL;
        size_t size = 0;

        assert_int_equal(change_log_open(*state, &log), 0);
        env->coordinator = coordinator_free(env->coordinator);
        assert_int_equal(coordinator_new(env->event, env->clock, env->docker, log, &env->coordinator), 0);
        coordinator_set_leader(env->coordinator, true);
        settle(env);
        start_wave(env);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "drain");
        /* its web task was moved by the fake Swarm to another active node */
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.may_patch, 0);
        settle(env);
        env->coordinator = coordinator_free(env->coordinator);
        change_log_free(log);
        snprintf(path, sizeof(path), "%s/changes.jsonl", (const char *) *state);
        assert_int_equal(read_file(path, 1 << 20, &text, &size), 0);
        assert_non_null(strstr(text, "\"kind\":\"node-tasks-replaced\""));
        assert_non_null(strstr(text, "\"replaced\":\"web "));
        if (!strstr(text, "\"node\":\"worker-1\""))
                fail_msg("no record for worker-1 in %s", text);
        free(text);
        coordinator_start(env, true);
        env_free(env);
}

static void test_drain_answer_lost(void **state) {
        Env *env = env_new(*state);
        Answer a;

        /* the first drain never answers: the node stays pending-or-draining
         * in the stored wave and the next cycle drains it again */
        fake_docker_drop_next(env->fake, "POST /nodes/w1/update", false);
        start_wave(env);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "active");
        coordinator_kick(env->coordinator);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "drain");
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.may_patch, 0);
        env_free(env);
}

static void test_write_answer_lost_after_stored(void **state) {
        Env *env = env_new(*state);
        Answer a;
        unsigned writes;

        start_wave(env);
        settle(env);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        /* Swarm stores the report's wave, but the answer is lost: the
         * coordinator must read the stored wave again, not write it twice
         * over a newer version */
        fake_docker_drop_next(env->fake, "POST /swarm/update", true);
        a = (Answer){};
        assert_int_equal(coordinator_request(env->coordinator,
                                             &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "w1",
                                                             .ok = true, .healthy = true, .message = "patched" },
                                             on_answer, &a),
                         0);
        run_until(env, &a.done);
        /* the coordinator could not know the write was stored: it says so,
         * as its own failure (ask again), not the report's */
        assert_int_not_equal(a.error, 0);
        assert_true(a.transient);
        assert_int_equal(step_of(env, "w1"), NODE_ACTIVATING);
        writes = fake_docker_count(env->fake, "POST /swarm/update");
        /* the next cycles read the stored wave (a newer version) and go on
         * from it: w1 activated and done, the report applied once */
        for (int i = 0; i < 2; i++) {
                coordinator_kick(env->coordinator);
                settle(env);
        }
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "active");
        _cleanup_(wave_freep) Wave *w = stored(env);
        assert_int_equal(node_of(w, "w1")->step, NODE_DONE);
        assert_string_equal(node_of(w, "w1")->message, "patched");
        assert_true(fake_docker_count(env->fake, "POST /swarm/update") > writes);
        env_free(env);
}

/* A late report of another (aborted) wave is refused, as the request's
 * own answer (final), and does not move this wave's node. */
static void test_report_of_another_wave(void **state) {
        Env *env = env_new(*state);
        Answer a;

        start_wave(env);
        settle(env);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.may_patch, 0);
        request(env,
                &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "w1", .ok = true, .healthy = true,
                                .message = "late", .wave_id = "w-20200101T000000.000Z" },
                &a);
        assert_int_equal(a.error, -ESTALE);
        assert_false(a.transient);
        assert_non_null(strstr(a.message, "the report is for wave w-20200101T000000.000Z"));
        settle(env);
        assert_int_equal(step_of(env, "w1"), NODE_PATCHING);
        /* its own wave's report is taken */
        _cleanup_(wave_freep) Wave *w = stored(env);
        request(env,
                &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "w1", .ok = true, .healthy = true,
                                .message = "patched", .wave_id = w->id },
                &a);
        assert_int_equal(a.error, 0);
        settle(env);
        assert_true(step_of(env, "w1") == NODE_ACTIVATING || step_of(env, "w1") == NODE_DONE);
        env_free(env);
}

static void test_write_loses_race(void **state) {
        Env *env = env_new(*state);
        Answer a;
        unsigned writes;

        start_wave(env);
        settle(env);
        /* another manager writes the Swarm between this coordinator's read
         * and its write: the write is refused (update out of sequence), and
         * the coordinator reads again and redoes it, never forces it */
        writes = fake_docker_count(env->fake, "POST /swarm/update");
        fake_docker_race_next(env->fake, "POST /swarm/update");
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.error, 0);
        assert_int_equal(a.may_patch, 0);
        assert_int_equal(step_of(env, "w1"), NODE_PATCHING);
        /* the refused write and the one redone after reading again */
        assert_int_equal(fake_docker_count(env->fake, "POST /swarm/update"), writes + 2);
        json_t *status = coordinator_status(env->coordinator);
        assert_true(json_integer_value(json_object_get(status, "conflicts")) >= 1);
        json_decref(status);
        env_free(env);
}

static void test_report_twice(void **state) {
        Env *env = env_new(*state);
        Answer a;
        WaveRequest report = { .kind = WAVE_REQUEST_REPORT, .node_id = "w1", .ok = true, .healthy = true,
                               .message = "patched" };

        start_wave(env);
        settle(env);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        request(env, &report, &a);
        assert_int_equal(a.error, 0);
        settle(env);
        /* the same report again (its answer was lost on the node's side):
         * answered as taken, and the wave is not moved by it */
        request(env, &report, &a);
        assert_int_equal(a.error, 0);
        settle(env);
        assert_int_equal(step_of(env, "w1"), NODE_DONE);
        /* a plain FleetLock client releasing a lock it does not hold (at
         * boot): nothing to release, no error, nothing moved */
        NodeStep m1 = step_of(env, "m1");
        assert_int_equal(m1, NODE_PENDING); /* managers last */
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "m1", .ok = true, .healthy = true }, &a);
        assert_int_equal(a.error, 0);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "not-a-node", .ok = true }, &a);
        assert_int_equal(a.error, 0);
        settle(env);
        assert_int_equal(step_of(env, "m1"), m1);
        /* hostd's own agent names its wave: out of step is an error */
        _cleanup_(wave_freep) Wave *w = stored(env);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "m1", .ok = true, .healthy = true,
                                     .wave_id = w->id }, &a);
        assert_int_equal(a.error, -EPROTO);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "not-a-node", .ok = true,
                                     .wave_id = w->id }, &a);
        assert_int_equal(a.error, -ENOENT);
        settle(env);
        assert_int_equal(step_of(env, "m1"), m1);
        /* and asking again says there is nothing more to do */
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.may_patch, -ESTALE);
        env_free(env);
}

static void test_deadline_passed_while_away(void **state) {
        Env *env = env_new(*state);
        _cleanup_(wave_freep) Wave *w = NULL;
        _cleanup_free_ char *text = NULL;
        json_t *labels;

        fake_docker_set_tasks_linger(env->fake, true);
        start_wave(env);
        settle(env);
        /* the coordinator goes away while w1 drains; when the next one
         * comes, the step started two hours ago: past its deadline (one
         * hour), the node fails and the wave halts */
        env->coordinator = coordinator_free(env->coordinator);
        w = stored(env);
        for (size_t i = 0; i < w->n_nodes; i++)
                if (STREQ(w->nodes[i].id, "w1"))
                        w->nodes[i].step_since_usec -= 2 * 3600 * 1000000ULL;
        text = wave_to_json(w);
        labels = json_object_get(json_object_get(fake_docker_swarm(env->fake), "Spec"), "Labels");
        json_object_set_new(labels, "io.hostd.wave", json_string(text));
        coordinator_start(env, true);
        coordinator_kick(env->coordinator);
        settle(env);
        wave_free(w);
        w = stored(env);
        assert_int_equal(node_of(w, "w1")->step, NODE_FAILED);
        assert_int_equal(w->status, WAVE_HALTED);
        /* never forgotten, and no other node drained */
        assert_string_equal(fake_docker_availability(env->fake, "w2"), "active");
        env_free(env);
}

static void test_leader_steps_down(void **state) {
        Env *env = env_new(*state);
        Answer a;

        start_wave(env);
        settle(env);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        /* the leader's manager disappears: this coordinator is no longer
         * the leader and must not drain or activate anything */
        coordinator_set_leader(env->coordinator, false);
        unsigned updates = fake_docker_count(env->fake, "POST /nodes/");
        request(env,
                &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "w1", .ok = true, .healthy = true,
                                .message = "patched" },
                &a);
        settle(env);
        assert_int_equal(fake_docker_count(env->fake, "POST /nodes/"), updates);
        /* another manager's hostd becomes leader: it resumes the stored wave */
        coordinator_restart(env, true);
        coordinator_kick(env->coordinator);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "active");
        assert_int_equal(step_of(env, "w1"), NODE_DONE);
        assert_string_equal(fake_docker_availability(env->fake, "w2"), "drain");
        env_free(env);
}

static void test_restart_while_draining(void **state) {
        Env *env = env_new(*state);
        Answer a;

        fake_docker_set_tasks_linger(env->fake, true);
        start_wave(env);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "drain");
        /* a new coordinator while w1's tasks still run: it waits for them,
         * drains nothing else, and lets w1 patch once they are gone */
        coordinator_restart(env, true);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.may_patch, -EAGAIN);
        assert_int_equal(step_of(env, "w1"), NODE_DRAINING);
        assert_string_equal(fake_docker_availability(env->fake, "w2"), "active");
        fake_docker_stop_tasks(env->fake, "w1");
        coordinator_restart(env, true);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        assert_int_equal(a.may_patch, 0);
        assert_int_equal(step_of(env, "w1"), NODE_PATCHING);
        env_free(env);
}

static void test_restart_after_activation_unanswered(void **state) {
        Env *env = env_new(*state);
        Answer a;

        start_wave(env);
        settle(env);
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_MAY_PATCH, .node_id = "w1" }, &a);
        /* the activation is made, but its answer is lost, and the
         * coordinator goes away with it */
        fake_docker_drop_next(env->fake, "POST /nodes/w1/update", true);
        request(env,
                &(WaveRequest){ .kind = WAVE_REQUEST_REPORT, .node_id = "w1", .ok = true, .healthy = true,
                                .message = "patched" },
                &a);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "active");
        assert_int_equal(step_of(env, "w1"), NODE_ACTIVATING);
        coordinator_restart(env, true);
        coordinator_kick(env->coordinator);
        settle(env);
        /* the next one finds it active: done, and the wave goes on to w2 */
        assert_int_equal(step_of(env, "w1"), NODE_DONE);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "active");
        assert_string_equal(fake_docker_availability(env->fake, "w2"), "drain");
        env_free(env);
}

#define MINUTE_USEC (60 * 1000000ULL)

static void test_deadline_passes_while_draining(void **state) {
        Env *env = env_new(*state);
        _cleanup_(wave_freep) Wave *w = NULL;

        /* w1's tasks never stop: it stays draining, and nothing else moves,
         * until its step is an hour old; then it fails and the wave halts */
        fake_docker_set_tasks_linger(env->fake, true);
        start_wave(env);
        settle(env);
        assert_string_equal(fake_docker_availability(env->fake, "w1"), "drain");
        uint64_t start = event_clock_now(env->clock, CLOCK_REALTIME);
        /* 55 minutes, then to ten seconds short of the hour */
        for (int i = 0; i < 12; i++) {
                event_clock_advance(env->clock, i < 11 ? 5 * MINUTE_USEC : 5 * MINUTE_USEC - 10000000ULL);
                settle(env);
                assert_int_equal(step_of(env, "w1"), NODE_DRAINING);
                assert_string_equal(fake_docker_availability(env->fake, "w2"), "active");
        }
        while (step_of(env, "w1") == NODE_DRAINING) {
                assert_true(event_clock_now(env->clock, CLOCK_REALTIME) - start < 70 * MINUTE_USEC);
                event_clock_advance(env->clock, 1000000ULL);
                settle(env);
        }
        assert_true(event_clock_now(env->clock, CLOCK_REALTIME) - start >= 60 * MINUTE_USEC);
        w = stored(env);
        assert_int_equal(node_of(w, "w1")->step, NODE_FAILED);
        assert_int_equal(w->status, WAVE_HALTED);
        assert_string_equal(fake_docker_availability(env->fake, "w2"), "active");
        env_free(env);
}

static void test_soak_after_canary(void **state) {
        static const char *const canaries[] = { "w2", NULL };
        Env *env = env_new(*state);

        /* w2 goes first; the next node waits 30 minutes after it */
        start_wave_with(env, &(WaveOptions){ .max_unavailable = 1, .soak_usec = 30 * MINUTE_USEC,
                                             .canaries = canaries });
        settle(env);
        node_turn(env, "w2", false);
        uint64_t done = event_clock_now(env->clock, CLOCK_REALTIME);
        for (int i = 0; i < 6; i++) {
                event_clock_advance(env->clock, i < 5 ? 5 * MINUTE_USEC : 5 * MINUTE_USEC - 10000000ULL);
                settle(env);
                for (size_t k = 0; k < N_NODES; k++)
                        assert_string_equal(fake_docker_availability(env->fake, NODES[k][0]), "active");
        }
        advance_until_availability(env, "w1", "drain", 1000000ULL, 10 * MINUTE_USEC);
        assert_true(event_clock_now(env->clock, CLOCK_REALTIME) - done >= 30 * MINUTE_USEC);
        node_turn(env, "w1", false);
        env_free(env);
}

static uint64_t cycles(Env *env) {
        json_t *status = coordinator_status(env->coordinator);
        uint64_t n = (uint64_t) json_integer_value(json_object_get(status, "cycles"));

        json_decref(status);
        return n;
}

static void test_window(void **state) {
        Env *env = env_new(*state);
        WaveSchedule sched = { .zone = "UTC", .n_windows = 1 };
        Answer a;

        /* a window every day from three hours on, for three hours */
        uint64_t now = event_clock_now(env->clock, CLOCK_REALTIME);
        uint64_t opens = (now / MINUTE_USEC + 180 + 1) * MINUTE_USEC;
        unsigned minute = (unsigned) (opens / MINUTE_USEC % (24 * 60));
        sched.windows[0] = (WaveWindow){ .days = 0x7f, .start_minute = minute, .length_minutes = 180 };
        start_wave_with(env, &(WaveOptions){ .max_unavailable = 1, .node_deadline_usec = 30 * MINUTE_USEC,
                                             .schedule = &sched });
        settle(env);
        for (size_t k = 0; k < N_NODES; k++)
                assert_string_equal(fake_docker_availability(env->fake, NODES[k][0]), "active");
        request(env, &(WaveRequest){ .kind = WAVE_REQUEST_READ }, &a);
        assert_non_null(strstr(a.wave, "\"schedule\":{\"zone\":\"UTC\""));

        /* waiting, it reads the Swarm no more: its timer is set to the window */
        uint64_t before = cycles(env), until = clock_usec(CLOCK_MONOTONIC) + 700000;
        while (clock_usec(CLOCK_MONOTONIC) < until)
                assert_true(sd_event_run(env->event, 100 * 1000) >= 0);
        assert_true(cycles(env) == before);

        /* ten seconds before the window: nothing; then the first node at its opening */
        event_clock_advance(env->clock, opens - event_clock_now(env->clock, CLOCK_REALTIME) - 10000000ULL);
        settle(env);
        for (size_t k = 0; k < N_NODES; k++)
                assert_string_equal(fake_docker_availability(env->fake, NODES[k][0]), "active");
        advance_until_availability(env, "w1", "drain", 1000000ULL, MINUTE_USEC);
        uint64_t drained = event_clock_now(env->clock, CLOCK_REALTIME);
        assert_true(drained >= opens && drained < opens + 2000000ULL);
        node_turn(env, "w1", false);
        env_free(env);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_step),
                cmocka_unit_test(test_restart_at_every_step),
                cmocka_unit_test(test_drain_answer_lost),
                cmocka_unit_test(test_replacement_recorded),
                cmocka_unit_test(test_write_answer_lost_after_stored),
                cmocka_unit_test(test_report_of_another_wave),
                cmocka_unit_test(test_write_loses_race),
                cmocka_unit_test(test_report_twice),
                cmocka_unit_test(test_deadline_passed_while_away),
                cmocka_unit_test(test_leader_steps_down),
                cmocka_unit_test(test_restart_while_draining),
                cmocka_unit_test(test_restart_after_activation_unanswered),
                cmocka_unit_test(test_deadline_passes_while_draining),
                cmocka_unit_test(test_soak_after_canary),
                cmocka_unit_test(test_window),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
