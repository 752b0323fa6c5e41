/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The wave agent (a node's part in a wave) against a fake Docker Engine
 * that also plays the managers' node protocol (fake-docker.h), with patch
 * jobs answered by the test: every step from a wave naming the node to its
 * report (staged, waiting, applying, rebooting, verifying, reporting); the
 * agent replaced at every step, as a restart or the reboot does, resuming
 * from its on-disk record (STATE/wave-node.json) and the wave the manager
 * serves; a restart in the middle of the apply, read back from the patch
 * journal, while its question waits, and while it reports; a node left
 * unhealthy by its patches, rolled back and checked again; a question whose
 * answer is lost; a report answered twice; and a manager that is gone.
 * Time is the test's (event-clock.h): every manager gone, the watch backs
 * off from 0.5 s to 10 s and starts over once one answers; a node unhealthy
 * after its patches is rolled back at the default 300 s, not before.
 * A seccomp install waiting for dockerd's restart: with no reboot, the
 * agent runs the Docker restart command while the node is drained, again
 * after a restart of hostd only while the old dockerd still runs, and
 * reports healthy only once the installed default is in force; a failed
 * restart or a default not in force by the deadline is reported, and the
 * patches are kept (a rollback would not change Docker's default). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "hostd/event-clock.h"
#include "hostd/wave-agent.h"
#include "tests/unit/fake-docker.h"
#include "tests/unit/scratch-dir.h"

typedef struct Job {
        PatchOp op;
        PatchJobDone done;
        void *done_userdata;
        sd_event_source *defer;
} Job;

typedef struct Env {
        char dir[256], socket[300], record[300], boot_file[300], reboot_flag[300];
        char docker_restarted[300], restart_fails[300];
        sd_event *event;
        EventClock *clock;
        FakeDocker *fake;
        DockerClient *docker;
        HostdConfig *config;
        WaveAgent *agent;
        DockerSwarmInfo swarm;
        json_t *info;
        /* the manager */
        json_t *wave;
        uint64_t version;
        bool grant;             /* answer pre-reboot with yes */
        unsigned asked, reports, report_conflicts;
        json_t *report;
        bool first_manager_gone, all_managers_gone;
        uint64_t opened_usec[64];  /* when each client to a manager was opened */
        size_t n_opened, opened_wanted;
        /* patch jobs */
        PatchOp ops[32];
        size_t n_ops;
        Job job;
        bool hold_apply;        /* the apply never ends (hostd dies in it) */
        unsigned health;        /* what the daemon sees; after patching until rolled back */
        bool unhealthy_after_apply;
        json_t *history;        /* what PATCH_OP_HISTORY answers */
        bool no_reboot;         /* the apply needs no reboot */
        bool apply_fails;       /* the apply answers "failed" */
        unsigned report_unavailable; /* steady-states answered 503 first */
        int restart_pending;    /* what seccomp_restart_pending answers */
        json_t *approved;       /* the stored wave's approved set (NULL: none) */
        bool stage_busy_once;   /* the first stage finds another job running */
        bool stage_missing;     /* the stage cannot have a package: its version is offered no more */
        size_t approved_n[32];  /* each job's: packages in it, or SIZE_MAX for none */
        char approved_version[32][64]; /* and openssl-t's version in it */
} Env;

/* ---- the manager's node protocol ------------------------------------- */

static void set_step(Env *env, const char *step) {
        json_decref(env->wave);
        env->wave = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "id", "wave-1", "status", "running", "nodes", "id", "w1",
                              "step", step);
        if (env->approved)
                json_object_set(env->wave, "approved", env->approved);
        env->version++;
        fake_docker_retry_held(env->fake);
}

static int on_manager(void *userdata, const char *method, const char *path, const char *query,
                      const json_t *body, json_t **ret) {
        Env *env = userdata;
        uint64_t wait;

        if (STREQ(method, "GET") && STREQ(path, "/v1/wave")) {
                if (query && sscanf(query, "wait=%" SCNu64, &wait) == 1 && wait == env->version)
                        return 0; /* held until the wave changes */
                *ret = json_pack("{s:O?, s:I, s:b}", "wave", env->wave, "version", (json_int_t) env->version,
                                 "leader", true);
                return 200;
        }
        assert_string_equal(json_string_value(json_object_get(json_object_get(body, "client_params"), "id")),
                            "w1");
        if (STREQ(path, "/v1/pre-reboot")) {
                env->asked++;
                if (!env->grant) {
                        *ret = json_pack("{s:s}", "message", "not yet");
                        return 409;
                }
                set_step(env, "patching");
                *ret = json_object();
                return 200;
        }
        if (STREQ(path, "/v1/steady-state")) {
                env->reports++;
                if (env->report_unavailable > 0) {
                        /* the coordinator's own failure (a Swarm write during an election) */
                        env->report_unavailable--;
                        *ret = json_pack("{s:s}", "message", "cannot store the wave: Swarm is electing a leader");
                        return 503;
                }
                if (env->report) {
                        /* taken already: the coordinator says so */
                        env->report_conflicts++;
                        *ret = json_pack("{s:s}", "message", "node w1 is activating, not patching");
                        return 409;
                }
                env->report = json_deep_copy(body);
                set_step(env, "activating");
                *ret = json_object();
                return 200;
        }
        if (STREQ(path, "/v1/posture")) {
                *ret = json_object();
                return 200;
        }
        *ret = json_pack("{s:s}", "message", "no such route");
        return 404;
}

/* ---- what the daemon gives the agent ---------------------------------- */

static unsigned on_health(void *userdata, const char *node_id) {
        Env *env = userdata;

        return STREQ(node_id, "w1") ? env->health : env->health & ~NODE_HEALTH_NODE;
}

static int on_job_done(sd_event_source *s _unused_, void *userdata) {
        Env *env = userdata;
        Job job = env->job;
        json_t *result;

        env->job.defer = sd_event_source_disable_unref(env->job.defer);
        switch (job.op) {
        case PATCH_OP_STAGE:
                if (env->stage_missing)
                        result = json_pack("{s:{s:s}, s:{s:b, s:[{s:s, s:s, s:s, s:s}]}}", "plan", "id", "plan-1", "stage",
                                           "complete", false, "apply", "name", "openssl-t", "arch", "amd64", "version",
                                           "3.0.13-1", "error", "no repository has this version and apt's cache has no "
                                           "copy"); /* apt-shim.cc's words */
                else
                        result = json_pack("{s:{s:s}, s:{s:b}}", "plan", "id", "plan-1", "stage", "complete", true);
                break;
        case PATCH_OP_ROLLBACK:
                /* back on the old versions: the firewall is in place again */
                env->health = NODE_HEALTH_ALL;
                result = json_pack("{s:{s:s, s:s}}", "entry", "id", "tx-1-rollback", "state", "rolled-back");
                break;
        case PATCH_OP_APPLY:
                if (env->unhealthy_after_apply)
                        env->health = NODE_HEALTH_ALL & ~NODE_HEALTH_FIREWALL;
                result = json_pack("{s:{s:s, s:s, s:s}, s:{s:b, s:s}}", "entry", "id", "tx-1", "state",
                                   env->apply_fails ? "failed" : "applied",
                                   "message", "upgraded 1 package", "reboot", "required", !env->no_reboot,
                                   "reasons", env->no_reboot ? "" : "linux-image-amd64");
                break;
        case PATCH_OP_HISTORY:
                result = json_incref(env->history);
                break;
        default:
                result = json_object();
        }
        job.done(result, NULL, job.done_userdata);
        json_decref(result);
        return 0;
}

static int on_start_patch(void *userdata, PatchOp op, const char *expected_plan, const char *entry_id _unused_,
                          const PackageSet *approved, PatchJobDone done, void *done_userdata) {
        Env *env = userdata;

        if (env->job.defer)
                return -EBUSY;
        if (op == PATCH_OP_STAGE && env->stage_busy_once) {
                env->stage_busy_once = false;
                return -EBUSY; /* an operator's job */
        }
        assert_true(env->n_ops < ELEMENTSOF(env->ops));
        env->approved_n[env->n_ops] = approved ? approved->n : SIZE_MAX;
        const PackageVersion *v = approved ? package_set_find(approved, "openssl-t", "amd64") : NULL;
        snprintf(env->approved_version[env->n_ops], sizeof(env->approved_version[0]), "%s", v ? v->version : "");
        env->ops[env->n_ops++] = op;
        if (op == PATCH_OP_APPLY)
                assert_string_equal(expected_plan, "plan-1");
        env->job = (Job){ .op = op, .done = done, .done_userdata = done_userdata };
        if (op == PATCH_OP_APPLY && env->hold_apply)
                return 0; /* never ends: the test restarts the agent */
        assert_int_equal(sd_event_add_defer(env->event, &env->job.defer, on_job_done, env), 0);
        return 0;
}

static int on_open_peer(void *userdata, const char *address, DockerClient **ret) {
        Env *env = userdata;
        char gone[320];

        if (env->n_opened < ELEMENTSOF(env->opened_usec))
                env->opened_usec[env->n_opened++] = event_clock_now(env->clock, CLOCK_MONOTONIC);
        if (env->all_managers_gone || (env->first_manager_gone && STREQ(address, "10.0.0.1"))) {
                snprintf(gone, sizeof(gone), "%s/gone.sock", env->dir);
                return docker_client_new(env->event, gone, 5, ret);
        }
        return docker_client_new(env->event, env->socket, 5, ret);
}

static void on_posture_report(void *userdata _unused_) {
}

static int on_restart_pending(void *userdata) {
        Env *env = userdata;

        return env->restart_pending;
}

/* ---- the loop --------------------------------------------------------- */

static bool record_is(Env *env, WaveNodeStep step) {
        WaveNodeRecord rec;
        LocatedError e = {};

        return wave_node_record_load(env->record, &rec, &e) >= 0 && rec.step == step && STREQ(rec.wave, "wave-1");
}

static WaveNodeRecord record_of(Env *env) {
        WaveNodeRecord rec;
        LocatedError e = {};

        assert_int_equal(wave_node_record_load(env->record, &rec, &e), 0);
        return rec;
}

/* Runs the loop until the record is at step (fails after 10 s). */
static void run_until_step(Env *env, WaveNodeStep step) {
        uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + 10 * 1000000ULL;

        while (!record_is(env, step)) {
                if (clock_usec(CLOCK_MONOTONIC) >= deadline)
                        fail_msg("the agent never reached step %s (it is at %s)", wave_node_step_to_string(step),
                                 wave_node_step_to_string(record_of(env).step));
                assert_true(sd_event_run(env->event, 50 * 1000) >= 0);
        }
}

/* The reboot command runs detached: waits for what it leaves. */
static void wait_rebooted(Env *env) {
        uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + 10 * 1000000ULL;

        while (access(env->reboot_flag, F_OK) < 0) {
                assert_true(clock_usec(CLOCK_MONOTONIC) < deadline);
                assert_true(sd_event_run(env->event, 20 * 1000) >= 0);
        }
}

static void settle(Env *env) {
        for (int idle = 0; idle < 3;)
                idle = sd_event_run(env->event, 20 * 1000) == 0 ? idle + 1 : 0;
}

/* Moves the test's clock on in steps of step_usec, running the loop
 * between, until cond(env) holds (fails after limit_usec of clock time). */
static void advance_until(Env *env, bool (*cond)(Env *env), uint64_t step_usec, uint64_t limit_usec) {
        uint64_t start = event_clock_now(env->clock, CLOCK_MONOTONIC);

        while (!cond(env)) {
                assert_true(event_clock_now(env->clock, CLOCK_MONOTONIC) - start < limit_usec);
                event_clock_advance(env->clock, step_usec);
                for (int idle = 0; idle < 2;)
                        idle = sd_event_run(env->event, 5 * 1000) == 0 ? idle + 1 : 0;
        }
}

static void agent_start(Env *env) {
        WaveAgentHost host = {
                .event = env->event,
                .clock = env->clock,
                .config = (const HostdConfig *const *) &env->config,
                .docker = &env->docker,
                .control_socket = env->socket,
                .health = on_health,
                .start_patch = on_start_patch,
                .open_peer = on_open_peer,
                .posture_report = on_posture_report,
                .seccomp_restart_pending = on_restart_pending,
                .userdata = env,
        };

        assert_int_equal(wave_agent_new(&host, &env->agent), 0);
        wave_agent_swarm_changed(env->agent, env->info, &env->swarm);
}

/* hostd stops (or the node reboots) and starts again: a new agent from the
 * record on disk; a job under way dies with it */
static void agent_restart(Env *env) {
        env->agent = wave_agent_free(env->agent);
        env->job.defer = sd_event_source_disable_unref(env->job.defer);
        env->job = (Job){};
        agent_start(env);
}

static Env *env_new(const char *dir) {
        static const char *const tasks[] = { "w1", "w2", NULL };
        _cleanup_free_ char *conf = NULL;
        char path[320];
        ConfigError error = {};
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        snprintf(env->dir, sizeof(env->dir), "%s/%ld", dir, (long) clock_usec(CLOCK_MONOTONIC));
        assert_int_equal(mkdir_p(env->dir, 0755), 0);
        snprintf(env->socket, sizeof(env->socket), "%s/docker.sock", env->dir);
        snprintf(env->record, sizeof(env->record), "%s/wave-node.json", env->dir);
        snprintf(env->boot_file, sizeof(env->boot_file), "%s/boot_id", env->dir);
        snprintf(env->reboot_flag, sizeof(env->reboot_flag), "%s/rebooted", env->dir);
        snprintf(env->docker_restarted, sizeof(env->docker_restarted), "%s/docker-restarted", env->dir);
        snprintf(env->restart_fails, sizeof(env->restart_fails), "%s/restart-fails", env->dir);
        assert_int_equal(write_file_atomic(env->boot_file, "boot-1\n", 7, 0644), 0);
        /* the reboot command: a new boot ID, as a reboot gives */
        assert_true(asprintf(&conf,
                             "{\"state-directory\": \"%s\", \"wave\": {\"health-timeout-seconds\": 1, \"boot-id-file\": \"%s\", "
                             "\"reboot-command\": [\"/bin/sh\", \"-c\", \"echo boot-2 > %s; touch %s\"], "
                             "\"docker-restart-command\": [\"/bin/sh\", \"-c\", \"echo >> %s; test ! -e %s\"]}}",
                             env->dir, env->boot_file, env->boot_file, env->reboot_flag, env->docker_restarted,
                             env->restart_fails) > 0);
        snprintf(path, sizeof(path), "%s/hostd.json", env->dir);
        assert_int_equal(write_file_atomic(path, conf, strlen(conf), 0644), 0);
        assert_int_equal(config_load(path, &env->config, &error), 0);

        assert_int_equal(sd_event_new(&env->event), 0);
        assert_int_equal(event_clock_new(env->event, &env->clock), 0);
        assert_int_equal(fake_docker_new(env->event, env->socket, &env->fake), 0);
        fake_docker_add_node(env->fake, "m1", "manager-1", true, true, "10.0.0.1");
        fake_docker_add_node(env->fake, "m2", "manager-2", true, false, "10.0.0.2");
        fake_docker_add_node(env->fake, "w1", "worker-1", false, false, "10.0.0.4");
        fake_docker_add_node(env->fake, "w2", "worker-2", false, false, "10.0.0.5");
        fake_docker_add_service(env->fake, "svc-web", "web", tasks);
        fake_docker_set_local_node(env->fake, "w1");
        fake_docker_set_handler(env->fake, on_manager, env);
        assert_int_equal(docker_client_new(env->event, env->socket, 5, &env->docker), 0);

        env->swarm = (DockerSwarmInfo){ .role = SWARM_ROLE_WORKER };
        snprintf(env->swarm.node_id, sizeof(env->swarm.node_id), "w1");
        snprintf(env->swarm.local_state, sizeof(env->swarm.local_state), "active");
        snprintf(env->swarm.root_dir, sizeof(env->swarm.root_dir), "%s", env->dir);
        env->info = json_pack("{s:{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}}", "Swarm", "NodeID", "w1",
                              "LocalNodeState", "active", "RemoteManagers", "NodeID", "m1", "Addr",
                              "10.0.0.1:2377", "NodeID", "m2", "Addr", "10.0.0.2:2377");
        env->version = 1;
        env->grant = true;
        env->health = NODE_HEALTH_ALL;
        env->history = json_pack("{s:[]}", "entries");
        agent_start(env);
        return env;
}

static void env_free(Env *env) {
        env->agent = wave_agent_free(env->agent);
        env->job.defer = sd_event_source_disable_unref(env->job.defer);
        env->docker = docker_client_free(env->docker);
        env->fake = fake_docker_free(env->fake);
        event_clock_free(env->clock);
        sd_event_unref(env->event);
        config_free(env->config);
        json_decref(env->info);
        json_decref(env->wave);
        json_decref(env->report);
        json_decref(env->history);
        json_decref(env->approved);
        free(env);
}

/* dockerd's event for the node's task container stopping */
static void task_died(Env *env) {
        json_t *event = json_pack("{s:s, s:{s:{s:s}}, s:I}", "Action", "die", "Actor", "Attributes",
                                  "com.docker.swarm.task.id", "w1.1", "timeNano", (json_int_t) 1);

        fake_docker_stop_tasks(env->fake, "w1");
        wave_agent_container_event(env->agent, event);
        json_decref(event);
}

/* A wave names the node, drains it and grants its turn: staged, applied,
 * and rebooted (the reboot command has run). */
static void until_rebooted(Env *env) {
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        task_died(env);
        run_until_step(env, AGENT_REBOOTING);
        wait_rebooted(env);
}

/* The node's turn, with the agent replaced after each step when asked. */
static void whole_turn(Env *env, bool restart_at_every_step) {
        /* a wave names the node: it stages */
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        assert_string_equal(record_of(env).plan, "plan-1");
        if (restart_at_every_step)
                agent_restart(env);
        /* drained: its tasks stop, it asks, is granted, applies */
        set_step(env, "draining");
        task_died(env);
        run_until_step(env, AGENT_REBOOTING);
        wait_rebooted(env);
        assert_string_equal(record_of(env).boot_id, "boot-1");
        assert_string_equal(record_of(env).transaction, "tx-1");
        if (restart_at_every_step) {
                /* the reboot command did not get through before hostd
                 * stopped: the same boot, so it reboots again */
                assert_int_equal(write_file_atomic(env->boot_file, "boot-1\n", 7, 0644), 0);
                unlink(env->reboot_flag);
                agent_restart(env);
                wait_rebooted(env);
                assert_true(record_is(env, AGENT_REBOOTING));
        }
        /* the node comes back: a new boot, a new hostd */
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        assert_non_null(env->report);
        assert_string_equal(json_string_value(json_object_get(json_object_get(env->report, "wave"), "transaction")), "tx-1");
        assert_true(json_is_true(json_object_get(json_object_get(env->report, "wave"), "ok")));
        assert_true(json_is_true(json_object_get(json_object_get(env->report, "wave"), "healthy")));
        assert_int_equal(env->reports, 1);
}

static void test_every_step(void **state) {
        Env *env = env_new(*state);

        whole_turn(env, false);
        /* stage then apply, nothing else: no rollback, no second apply */
        assert_int_equal(env->n_ops, 2);
        assert_int_equal(env->ops[0], PATCH_OP_STAGE);
        assert_int_equal(env->ops[1], PATCH_OP_APPLY);
        assert_int_equal(env->asked, 1);
        env_free(env);
}

static void test_restart_at_every_step(void **state) {
        Env *env = env_new(*state);

        whole_turn(env, true);
        assert_int_equal(env->ops[0], PATCH_OP_STAGE);
        assert_int_equal(env->ops[1], PATCH_OP_APPLY);
        assert_int_equal(env->n_ops, 2);
        env_free(env);
}

static void test_restart_during_apply(void **state) {
        Env *env = env_new(*state);
        char entries[512];

        env->hold_apply = true;
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        fake_docker_stop_tasks(env->fake, "w1");
        agent_restart(env); /* counts the tasks anew */
        run_until_step(env, AGENT_APPLYING);
        /* hostd dies in the transaction, which the journal says ended applied */
        env->hold_apply = false;
        json_decref(env->history);
        snprintf(entries, sizeof(entries),
                 "{\"entries\": [{\"id\": \"tx-7\", \"plan\": \"plan-1\", \"state\": \"applied\", "
                 "\"started\": %" PRIu64 ", \"message\": \"upgraded 1 package\"}], "
                 "\"reboot\": {\"required\": true, \"reasons\": \"linux-image-amd64\"}}",
                 record_of(env).updated_usec + 1);
        env->history = json_loads(entries, 0, NULL);
        agent_restart(env);
        run_until_step(env, AGENT_REBOOTING);
        wait_rebooted(env);
        /* the journal's transaction, not a second apply */
        assert_string_equal(record_of(env).transaction, "tx-7");
        assert_int_equal(env->ops[env->n_ops - 1], PATCH_OP_HISTORY);
        size_t applies = 0;
        for (size_t i = 0; i < env->n_ops; i++)
                applies += env->ops[i] == PATCH_OP_APPLY;
        assert_int_equal(applies, 1);
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        assert_string_equal(json_string_value(json_object_get(json_object_get(env->report, "wave"), "transaction")), "tx-7");
        env_free(env);
}

/* The machine lost power in the transaction (hostd, the worker and dpkg
 * all killed): the history job the restarted agent runs finds it
 * interrupted and rolls it back (patch_recover); the node is reported
 * failed, rolled back, as any failed node, and nothing is applied again. */
/* A wave with an approved set: the stage and the apply get it, the apply
 * also after a restart between them, from the set kept at the turn's start
 * (whatever the stored wave says by then). */
static void test_approved_set_kept(void **state) {
        Env *env = env_new(*state);

        env->approved = json_loads("[{\"name\": \"bash-t\", \"arch\": \"amd64\", \"version\": \"5.2-2\", \"security\": false},"
                                   " {\"name\": \"openssl-t\", \"arch\": \"amd64\", \"version\": \"3.0.13-1\", "
                                   "\"security\": true}]", 0, NULL);
        assert_non_null(env->approved);
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        assert_int_equal(env->ops[0], PATCH_OP_STAGE);
        assert_int_equal(env->approved_n[0], 2);
        assert_string_equal(env->approved_version[0], "3.0.13-1");
        /* restarted; the wave as read now names no set: the kept one holds */
        json_decref(env->approved);
        env->approved = NULL;
        set_step(env, "draining");
        fake_docker_stop_tasks(env->fake, "w1");
        agent_restart(env);
        run_until_step(env, AGENT_REBOOTING);
        assert_int_equal(env->ops[1], PATCH_OP_APPLY);
        assert_int_equal(env->approved_n[1], 2);
        assert_string_equal(env->approved_version[1], "3.0.13-1");
        env_free(env);

        /* a wave without a set: none is passed */
        env = env_new(*state);
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        assert_true(env->approved_n[0] == SIZE_MAX);
        env_free(env);
}

/* The turn's stage found another job running: it is started again later,
 * not forgotten. */
static void test_stage_busy_is_retried(void **state) {
        Env *env = env_new(*state);

        env->stage_busy_once = true;
        set_step(env, "pending");
        for (int i = 0; i < 20; i++)
                assert_true(sd_event_run(env->event, 10 * 1000) >= 0);
        assert_int_equal(env->n_ops, 0);
        event_clock_advance(env->clock, 120 * 1000000ULL); /* past the retry */
        run_until_step(env, AGENT_STAGED);
        assert_int_equal(env->ops[0], PATCH_OP_STAGE);
        env_free(env);
}

/* An approved version the repositories no longer offer: the node fails
 * with that reason, naming the package, and applies nothing. */
static void test_approved_version_gone(void **state) {
        Env *env = env_new(*state);

        env->stage_missing = true;
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        assert_false(record_of(env).ok);
        assert_string_equal(record_of(env).message, "staging is incomplete: openssl-t 3.0.13-1 (amd64): no repository "
                                                    "has this version and apt's cache has no copy");
        env_free(env);
}

static void test_power_loss_during_apply(void **state) {
        Env *env = env_new(*state);
        char entries[768];

        env->hold_apply = true;
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        fake_docker_stop_tasks(env->fake, "w1");
        agent_restart(env);
        run_until_step(env, AGENT_APPLYING);
        env->hold_apply = false;
        json_decref(env->history);
        snprintf(entries, sizeof(entries),
                 "{\"entries\": [{\"id\": \"tx-9\", \"plan\": \"plan-1\", \"state\": \"rolled-back\", "
                 "\"interrupted\": true, \"started\": %" PRIu64 ", \"message\": \"interrupted while applying (its "
                 "process died); rolled back to the recorded set (verified)\"}], "
                 "\"recovered\": [{\"id\": \"tx-9\", \"state\": \"rolled-back\"}], "
                 "\"reboot\": {\"required\": false, \"reasons\": \"\"}}",
                 record_of(env).updated_usec + 1);
        env->history = json_loads(entries, 0, NULL);
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        const json_t *w = json_object_get(env->report, "wave");
        assert_false(json_is_true(json_object_get(w, "ok")));
        assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "interrupted while applying"));
        assert_string_equal(record_of(env).transaction, "tx-9");
        size_t applies = 0;
        for (size_t i = 0; i < env->n_ops; i++)
                applies += env->ops[i] == PATCH_OP_APPLY;
        assert_int_equal(applies, 1);
        env_free(env);
}

static void test_question_answer_lost(void **state) {
        Env *env = env_new(*state);

        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        /* the first question's connection closes without an answer: the
         * agent asks again (the next manager, then back) */
        fake_docker_drop_next(env->fake, "POST /v1/pre-reboot", false);
        set_step(env, "draining");
        fake_docker_stop_tasks(env->fake, "w1");
        agent_restart(env);
        run_until_step(env, AGENT_REBOOTING);
        assert_int_equal(fake_docker_count(env->fake, "POST /v1/pre-reboot"), 2);
        assert_int_equal(env->asked, 1);
        env_free(env);
}

static void test_report_answered_twice(void **state) {
        Env *env = env_new(*state);

        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        fake_docker_stop_tasks(env->fake, "w1");
        agent_restart(env);
        run_until_step(env, AGENT_REBOOTING);
        wait_rebooted(env);
        agent_restart(env);
        /* the report is taken, but its answer is lost: the agent reports
         * again, and the coordinator answers that it has it (409) */
        fake_docker_drop_next(env->fake, "POST /v1/steady-state", true);
        run_until_step(env, AGENT_IDLE);
        assert_int_equal(env->reports, 2);
        assert_int_equal(env->report_conflicts, 1);
        env_free(env);
}

static void test_not_yet(void **state) {
        Env *env = env_new(*state);

        env->grant = false;
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        fake_docker_stop_tasks(env->fake, "w1");
        agent_restart(env);
        run_until_step(env, AGENT_WAITING);
        settle(env);
        /* "not yet" is asked again only when something moves */
        assert_int_equal(env->asked, 1);
        assert_int_equal(env->n_ops, 1);
        env->grant = true;
        set_step(env, "patching");
        run_until_step(env, AGENT_REBOOTING);
        assert_int_equal(env->asked, 2);
        env_free(env);
}

static void test_manager_disappears(void **state) {
        Env *env = env_new(*state);

        /* the first manager is gone (its address refuses): the agent
         * watches and asks the other one */
        env->first_manager_gone = true;
        agent_restart(env);
        until_rebooted(env);
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        assert_int_equal(env->reports, 1);
        env_free(env);
}

static void test_other_wave_and_foreign_node(void **state) {
        Env *env = env_new(*state);

        /* a wave that does not name this node leaves it idle */
        json_decref(env->wave);
        env->wave = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "id", "wave-2", "status", "running", "nodes", "id",
                              "w2", "step", "pending");
        env->version++;
        fake_docker_retry_held(env->fake);
        settle(env);
        assert_int_equal(env->n_ops, 0);
        assert_false(access(env->record, F_OK) == 0 && !record_is(env, AGENT_IDLE));
        env_free(env);
}

static void test_restart_while_waiting(void **state) {
        Env *env = env_new(*state);

        env->grant = false;
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        task_died(env);
        run_until_step(env, AGENT_WAITING);
        settle(env);
        assert_int_equal(env->asked, 1); /* "not yet" */
        /* hostd restarts while its turn has not come: it asks again, from
         * the record, and goes on once granted */
        agent_restart(env);
        settle(env);
        assert_true(record_is(env, AGENT_WAITING));
        assert_int_equal(env->asked, 2);
        env->grant = true;
        set_step(env, "draining");
        run_until_step(env, AGENT_REBOOTING);
        assert_int_equal(env->n_ops, 2);
        assert_int_equal(env->ops[0], PATCH_OP_STAGE);
        assert_int_equal(env->ops[1], PATCH_OP_APPLY);
        env_free(env);
}

static void test_restart_while_reporting(void **state) {
        Env *env = env_new(*state);

        until_rebooted(env);
        /* the first report never gets through: hostd stops with the record
         * at reporting, and the next one reports from it */
        fake_docker_drop_next(env->fake, "POST /v1/steady-state", false);
        agent_restart(env);
        run_until_step(env, AGENT_REPORTING);
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        assert_int_equal(env->reports, 1);
        assert_string_equal(json_string_value(json_object_get(json_object_get(env->report, "wave"), "transaction")),
                            "tx-1");
        env_free(env);
}

static void test_unhealthy_after_patching_rolls_back(void **state) {
        Env *env = env_new(*state);

        env->unhealthy_after_apply = true;
        until_rebooted(env);
        agent_restart(env);
        /* after the reboot the firewall is not in place: the transaction is
         * rolled back, checked again, and the failure reported */
        run_until_step(env, AGENT_IDLE);
        assert_int_equal(env->ops[env->n_ops - 1], PATCH_OP_ROLLBACK);
        const json_t *w = json_object_get(env->report, "wave");
        assert_false(json_is_true(json_object_get(w, "ok")));
        assert_true(json_is_true(json_object_get(w, "healthy")));
        assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "firewall"));
        env_free(env);
}

static bool opened_enough(Env *env) {
        return env->n_opened >= env->opened_wanted;
}

static bool is_staged(Env *env) {
        return record_is(env, AGENT_STAGED);
}

static void test_managers_gone_backoff(void **state) {
        /* each round asks both managers, then waits: 0.5 s, doubling to 10 s */
        static const uint64_t waits_ms[] = { 500, 1000, 2000, 4000, 8000, 10000, 10000 };
        Env *env = env_new(*state);

        env->all_managers_gone = true;
        env->n_opened = 0;
        agent_restart(env);
        settle(env);
        assert_int_equal(env->n_opened, 2);
        for (size_t i = 0; i < ELEMENTSOF(waits_ms); i++) {
                uint64_t last = env->opened_usec[env->n_opened - 1], wait = waits_ms[i] * 1000;

                /* nothing until the wait is nearly over */
                size_t before = env->n_opened;
                event_clock_advance(env->clock, wait - 250 * 1000);
                settle(env);
                assert_int_equal(env->n_opened, before);
                env->opened_wanted = env->n_opened + 2;
                advance_until(env, opened_enough, 50 * 1000, 20 * 1000000ULL);
                uint64_t gap = env->opened_usec[env->n_opened - 2] - last;
                /* never sooner; later only by the test's steps and the loop */
                assert_true(gap >= wait);
                assert_true(gap < wait + 400 * 1000);
                /* the round's second manager at once */
                assert_true(env->opened_usec[env->n_opened - 1] - env->opened_usec[env->n_opened - 2] < 300 * 1000);
        }
        /* a manager answers again: the wave is read and followed */
        env->all_managers_gone = false;
        set_step(env, "pending");
        advance_until(env, is_staged, 250 * 1000, 20 * 1000000ULL);
        /* and the next outage starts from the shortest wait again: the
         * manager watched goes (its next answer lost), the other is gone */
        env->all_managers_gone = true;
        fake_docker_drop_next(env->fake, "GET /v1/wave", false);
        size_t before = env->n_opened;
        env->version++;
        fake_docker_retry_held(env->fake);
        settle(env);
        assert_int_equal(env->n_opened, before + 1);
        uint64_t last = env->opened_usec[env->n_opened - 1];
        env->opened_wanted = env->n_opened + 1;
        advance_until(env, opened_enough, 50 * 1000, 20 * 1000000ULL);
        assert_true(env->opened_usec[env->n_opened - 1] - last >= 500 * 1000);
        assert_true(env->opened_usec[env->n_opened - 1] - last < 500 * 1000 + 400 * 1000);
        env_free(env);
}

static bool rolled_back(Env *env) {
        return env->n_ops > 0 && env->ops[env->n_ops - 1] == PATCH_OP_ROLLBACK;
}

static void test_unhealthy_until_the_default_timeout(void **state) {
        Env *env = env_new(*state);

        env->config->wave.health_timeout_sec = 300; /* the default */
        env->unhealthy_after_apply = true;
        until_rebooted(env);
        agent_restart(env);
        run_until_step(env, AGENT_VERIFYING);
        uint64_t start = event_clock_now(env->clock, CLOCK_MONOTONIC);
        /* the firewall may yet come: it is checked every second, and the
         * patches stay for the whole health timeout */
        for (int i = 0; i < 29; i++) {
                event_clock_advance(env->clock, 10 * 1000000ULL);
                settle(env);
                assert_false(rolled_back(env));
                assert_true(record_is(env, AGENT_VERIFYING));
        }
        advance_until(env, rolled_back, 1000000ULL, 20 * 1000000ULL);
        assert_true(event_clock_now(env->clock, CLOCK_MONOTONIC) - start >= 300 * 1000000ULL);
        run_until_step(env, AGENT_IDLE);
        const json_t *w = json_object_get(env->report, "wave");
        assert_false(json_is_true(json_object_get(w, "ok")));
        assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "firewall"));
        env_free(env);
}

/* How many times the Docker restart command ran. */
static int docker_restarts(Env *env) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        if (read_file(env->docker_restarted, 4096, &text, &n) < 0)
                return 0;
        return (int) n;
}

static bool restarted_once(Env *env) {
        return docker_restarts(env) >= 1;
}

/* An install waits for dockerd: no reboot follows the patches. */
static void set_install_pending(Env *env) {
        env->no_reboot = true;
        env->restart_pending = 1;
        /* as the daemon sees it: dockerd's default is not the installed
         * profile yet, so seccomp is not compliant either */
        env->health = NODE_HEALTH_ALL & ~(NODE_HEALTH_SECCOMP | NODE_HEALTH_SECCOMP_DEFAULT);
}

/* A wave names the node and drains it: the agent runs until step. */
static void turn_until(Env *env, WaveNodeStep step) {
        set_step(env, "pending");
        run_until_step(env, AGENT_STAGED);
        set_step(env, "draining");
        task_died(env);
        run_until_step(env, step);
}

static Env *env_install_pending(void **state, bool restart_fails) {
        Env *env = env_new(*state);

        if (restart_fails)
                assert_int_equal(write_file_atomic(env->restart_fails, "", 0, 0644), 0);
        set_install_pending(env);
        turn_until(env, AGENT_DOCKER_RESTART);
        return env;
}

/* dockerd is back, started after the install, with the profile */
static void docker_back(Env *env) {
        env->restart_pending = 0;
        env->health = NODE_HEALTH_ALL;
        wave_agent_kick(env->agent);
}

static void test_docker_restart_for_seccomp_install(void **state) {
        Env *env = env_install_pending(state, false);

        assert_true(record_of(env).docker_restart);
        advance_until(env, restarted_once, 10 * 1000, 1000000ULL);
        settle(env);
        /* still the old dockerd: it waits, and restarts it only once */
        assert_true(record_is(env, AGENT_DOCKER_RESTART));
        assert_int_equal(docker_restarts(env), 1);
        docker_back(env);
        run_until_step(env, AGENT_IDLE);
        const json_t *w = json_object_get(env->report, "wave");
        assert_true(json_is_true(json_object_get(w, "ok")));
        assert_true(json_is_true(json_object_get(w, "healthy")));
        assert_int_equal(docker_restarts(env), 1);
        assert_int_equal(env->n_ops, 2); /* stage, apply: no rollback */
        env_free(env);
}

static void test_docker_restart_resumed(void **state) {
        Env *env = env_install_pending(state, false);

        advance_until(env, restarted_once, 10 * 1000, 1000000ULL);
        /* hostd restarts while the old dockerd still runs: restart it again */
        agent_restart(env);
        advance_until(env, restarted_once, 10 * 1000, 1000000ULL);
        settle(env);
        assert_int_equal(docker_restarts(env), 2);
        /* and once dockerd is the new one, a restart of hostd goes on to verify */
        docker_back(env);
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        assert_int_equal(docker_restarts(env), 2);
        assert_true(json_is_true(json_object_get(json_object_get(env->report, "wave"), "healthy")));
        env_free(env);
}

static void test_docker_restart_fails(void **state) {
        Env *env = env_install_pending(state, true);

        run_until_step(env, AGENT_IDLE);
        const json_t *w = json_object_get(env->report, "wave");
        assert_false(json_is_true(json_object_get(w, "healthy")));
        assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "cannot restart Docker"));
        assert_int_equal(env->ops[env->n_ops - 1], PATCH_OP_APPLY); /* the patches are kept */
        env_free(env);
}

static void test_default_not_in_force(void **state) {
        Env *env = env_install_pending(state, false);

        advance_until(env, restarted_once, 10 * 1000, 1000000ULL);
        /* a new dockerd, but its default is not the installed profile */
        env->restart_pending = 0;
        env->health = NODE_HEALTH_ALL & ~(NODE_HEALTH_SECCOMP | NODE_HEALTH_SECCOMP_DEFAULT);
        wave_agent_kick(env->agent);
        run_until_step(env, AGENT_VERIFYING);
        event_clock_advance(env->clock, 2 * 1000000ULL); /* past health-timeout-seconds */
        run_until_step(env, AGENT_IDLE);
        const json_t *w = json_object_get(env->report, "wave");
        assert_true(json_is_true(json_object_get(w, "ok")));
        assert_false(json_is_true(json_object_get(w, "healthy")));
        assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "seccomp profile"));
        assert_int_equal(env->ops[env->n_ops - 1], PATCH_OP_APPLY);
        env_free(env);
}

/* The apply fails with an install pending: nothing to restart Docker for,
 * and the report does not wait for the installed default. */
static void test_install_pending_apply_fails(void **state) {
        Env *env = env_new(*state);

        env->config->wave.health_timeout_sec = 300;
        env->apply_fails = true;
        set_install_pending(env);
        turn_until(env, AGENT_IDLE); /* no clock moved: no wait */
        assert_int_equal(docker_restarts(env), 0);
        const json_t *w = json_object_get(env->report, "wave");
        assert_false(json_is_true(json_object_get(w, "ok")));
        assert_true(json_is_true(json_object_get(w, "healthy")));
        env_free(env);
}

/* hostd restarts in the docker-restart step, before it restarted Docker,
 * and the wave no longer holds the node drained (reactivated, aborted):
 * Docker is not restarted under its tasks. */
static void test_docker_restart_not_drained(void **state) {
        Env *env = env_new(*state);

        set_install_pending(env);
        assert_int_equal(write_file_atomic(env->restart_fails, "", 0, 0644), 0);
        /* the record of a hostd that stopped right after writing the step */
        WaveNodeRecord rec = { .step = AGENT_DOCKER_RESTART, .ok = true, .docker_restart = true,
                               .baseline = NODE_HEALTH_DOCKER | NODE_HEALTH_NODE | NODE_HEALTH_FIREWALL };
        snprintf(rec.wave, sizeof(rec.wave), "wave-1");
        snprintf(rec.plan, sizeof(rec.plan), "plan-1");
        snprintf(rec.transaction, sizeof(rec.transaction), "tx-1");
        assert_int_equal(wave_node_record_save(env->record, &rec), 0);
        set_step(env, "done");
        agent_restart(env);
        run_until_step(env, AGENT_IDLE);
        assert_int_equal(docker_restarts(env), 0);
        assert_false(record_of(env).docker_restart);
        env_free(env);
}

static bool reported(Env *env) {
        return env->report != NULL && record_is(env, AGENT_IDLE);
}

/* The coordinator could not take the report (503: a Swarm write failed):
 * the agent reports again, to the wave it is for, instead of dropping it. */
static void test_report_unavailable_is_retried(void **state) {
        Env *env = env_new(*state);

        env->report_unavailable = 2;
        until_rebooted(env);
        agent_restart(env);
        advance_until(env, reported, 100 * 1000, 30 * 1000000ULL);
        assert_int_equal(env->reports, 3);
        const json_t *w = json_object_get(env->report, "wave");
        assert_string_equal(json_string_value(json_object_get(w, "id")), "wave-1");
        assert_true(json_is_true(json_object_get(w, "ok")));
        env_free(env);
}

static bool process_with_arg(const char *arg) {
        _cleanup_free_ char *cmd = NULL;

        assert_true(asprintf(&cmd, "pgrep -f -x '/bin/sleep %s' >/dev/null", arg) > 0);
        return system(cmd) == 0;
}

/* A health command that never ends is killed when the checks' time is up
 * (with what it started), and counts as failed. */
static void test_health_command_killed_at_deadline(void **state) {
        Env *env = env_new(*state);
        _cleanup_free_ char *text = NULL;
        char path[320];
        ConfigError error = {};
        json_t *conf;

        snprintf(path, sizeof(path), "%s/hostd.json", env->dir);
        conf = json_load_file(path, 0, NULL);
        assert_non_null(conf);
        json_object_set_new(json_object_get(conf, "wave"), "health-commands",
                            json_pack("[[s, s, s]]", "/bin/sh", "-c", "/bin/sleep 4242.5; true"));
        assert_int_equal(json_dump_file(conf, path, 0), 0);
        json_decref(conf);
        config_free(env->config);
        env->config = NULL;
        assert_int_equal(config_load(path, &env->config, &error), 0);

        until_rebooted(env);
        agent_restart(env);
        run_until_step(env, AGENT_VERIFYING);
        settle(env);
        assert_true(process_with_arg("4242.5"));
        advance_until(env, reported, 100 * 1000, 30 * 1000000ULL);
        const json_t *w = json_object_get(env->report, "wave");
        assert_false(json_is_true(json_object_get(w, "healthy")));
        assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "did not finish in time and was killed"));
        /* the shell and the sleep it started are gone */
        settle(env);
        assert_false(process_with_arg("4242.5"));
        env_free(env);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_step),
                cmocka_unit_test(test_restart_at_every_step),
                cmocka_unit_test(test_restart_during_apply),
                cmocka_unit_test(test_approved_set_kept),
                cmocka_unit_test(test_stage_busy_is_retried),
                cmocka_unit_test(test_approved_version_gone),
                cmocka_unit_test(test_power_loss_during_apply),
                cmocka_unit_test(test_question_answer_lost),
                cmocka_unit_test(test_report_answered_twice),
                cmocka_unit_test(test_not_yet),
                cmocka_unit_test(test_manager_disappears),
                cmocka_unit_test(test_other_wave_and_foreign_node),
                cmocka_unit_test(test_restart_while_waiting),
                cmocka_unit_test(test_restart_while_reporting),
                cmocka_unit_test(test_unhealthy_after_patching_rolls_back),
                cmocka_unit_test(test_managers_gone_backoff),
                cmocka_unit_test(test_unhealthy_until_the_default_timeout),
                cmocka_unit_test(test_docker_restart_for_seccomp_install),
                cmocka_unit_test(test_docker_restart_resumed),
                cmocka_unit_test(test_docker_restart_fails),
                cmocka_unit_test(test_default_not_in_force),
                cmocka_unit_test(test_report_unavailable_is_retried),
                cmocka_unit_test(test_install_pending_apply_fails),
                cmocka_unit_test(test_docker_restart_not_drained),
                cmocka_unit_test(test_health_command_killed_at_deadline),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
