/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The coordinator's view of the Swarm, from /nodes, /services and /tasks
 * as a real dockerd 20.10 answered them (two managers, one worker labelled
 * zone=a; "web" constrained to workers, "sleeper" anywhere), and the
 * wave's guards over it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "hostd/docker-cluster.h"

static json_t *fixture(const char *name) {
        char path[256];
        json_error_t e;
        json_t *j;

        snprintf(path, sizeof(path), "tests/unit/fixtures/swarm-%s.json", name);
        j = json_load_file(path, 0, &e);
        if (!j)
                fail_msg("%s: %s", path, e.text);
        return j;
}

static ClusterSnapshot *load(json_t *nodes, json_t *services, json_t *tasks) {
        ClusterSnapshot *s = NULL;
        char why[256] = "";

        if (cluster_snapshot_new(nodes, services, tasks, &s, why, sizeof(why)) < 0)
                fail_msg("%s", why);
        json_decref(nodes);
        json_decref(services);
        json_decref(tasks);
        return s;
}

static const ClusterNode *by_hostname(const ClusterView *v, const char *h) {
        for (size_t i = 0; i < v->n_nodes; i++)
                if (STREQ(v->nodes[i].hostname, h))
                        return &v->nodes[i];
        fail_msg("no node %s", h);
        return NULL;
}

static void test_real_swarm(void **state _unused_) {
        ClusterSnapshot *s = load(fixture("nodes"), fixture("services"), fixture("tasks"));
        const ClusterView *v = cluster_snapshot_view(s);
        const ClusterNode *n1 = by_hostname(v, "hostd-fxn1"), *n3 = by_hostname(v, "hostd-fxn3");

        assert_int_equal(v->n_nodes, 3);
        assert_true(n1->manager && n1->manager_reachable && n1->ready);
        assert_int_equal(n1->availability, AVAILABILITY_ACTIVE);
        assert_false(n3->manager);
        assert_string_equal(n3->labels[0], "zone=a");
        assert_null(n3->labels[1]);
        /* three web tasks on the worker, sleeper's two on the managers */
        assert_int_equal(n3->running_tasks, 3);
        assert_int_equal(n1->running_tasks + by_hostname(v, "hostd-fxn2")->running_tasks, 2);
        assert_int_equal(v->n_services, 2);
        for (size_t i = 0; i < v->n_services; i++) {
                const ClusterService *svc = &v->services[i];
                assert_true(svc->replicated);
                /* converged: every replica it wants runs */
                assert_int_equal(svc->desired, STREQ(svc->name, "web") ? 3 : 2);
                assert_int_equal(svc->running, svc->desired);
                if (STREQ(svc->name, "web")) {
                        assert_string_equal(svc->constraints[0], "node.role==worker");
                        assert_string_equal(svc->task_nodes[0], n3->id);
                }
        }
        assert_non_null(cluster_snapshot_node(s, n1->id));
        assert_null(cluster_snapshot_node(s, "nope"));
        cluster_snapshot_free(s);

        /* a task still running but meant to stop (its node drained) holds
         * its node, and no longer counts toward the service's replicas */
        json_t *tasks = fixture("tasks");
        json_t *t;
        size_t i;
        json_array_foreach(tasks, i, t)
                if (STREQ_PTR(json_string_value(json_object_get(json_object_get(t, "Status"), "State")), "running")) {
                        json_object_set_new(t, "DesiredState", json_string("shutdown"));
                        break;
                }
        s = load(fixture("nodes"), fixture("services"), tasks);
        v = cluster_snapshot_view(s);
        unsigned running = 0, desired = 0, holding = 0;
        for (i = 0; i < v->n_services; i++) {
                running += v->services[i].running;
                desired += v->services[i].desired;
        }
        for (i = 0; i < v->n_nodes; i++)
                holding += v->nodes[i].running_tasks;
        assert_int_equal(desired, 5);
        assert_int_equal(running, 4);
        assert_int_equal(holding, 5);
        cluster_snapshot_free(s);
}

/* The guards on the real cluster: the only worker cannot go (web has no
 * other node), the managers go one at a time. */
static void test_guards_on_real_swarm(void **state _unused_) {
        ClusterSnapshot *s = load(fixture("nodes"), fixture("services"), fixture("tasks"));
        const ClusterView *v = cluster_snapshot_view(s);
        WaveOptions o = { .max_unavailable = 3 };
        WaveAction a[8];
        size_t n;
        bool changed;
        char why[256], blocked[256];
        Wave *w = NULL;

        assert_int_equal(wave_new("w", &o, v, NULL, 0, &w, why, sizeof(why)), 0);
        assert_string_equal(w->nodes[0].hostname, "hostd-fxn3"); /* the worker first */
        assert_int_equal(wave_advance(w, v, NULL, 1, a, 8, &n, &changed, blocked, sizeof(blocked)), 0);
        assert_int_equal(n, 0);
        assert_string_equal(blocked, "node hostd-fxn3 waits: service web has no other node it may run on");
        wave_free(w);

        /* a manager as the canary: it goes first, and alone */
        o.label = NULL;
        const char *const canaries[] = { "hostd-fxn1", NULL };
        o.canaries = canaries;
        assert_int_equal(wave_new("w", &o, v, NULL, 0, &w, why, sizeof(why)), 0);
        assert_int_equal(wave_advance(w, v, NULL, 1, a, 8, &n, &changed, blocked, sizeof(blocked)), 0);
        assert_int_equal(n, 1);
        assert_string_equal(w->nodes[a[0].node].hostname, "hostd-fxn1");
        wave_free(w);
        cluster_snapshot_free(s);
}

static void test_malformed(void **state _unused_) {
        ClusterSnapshot *s = NULL;
        char why[256];
        json_t *nodes = fixture("nodes"), *services = fixture("services"), *tasks = fixture("tasks");

        json_t *not_an_array = json_object();
        assert_int_equal(cluster_snapshot_new(nodes, not_an_array, tasks, &s, why, sizeof(why)), -EPROTO);
        json_decref(not_an_array);
        assert_string_equal(why, "/nodes, /services and /tasks must each be an array");
        json_object_set_new(json_object_get(json_array_get(nodes, 1), "Spec"), "Availability", json_string("gone"));
        assert_int_equal(cluster_snapshot_new(nodes, services, tasks, &s, why, sizeof(why)), -EPROTO);
        assert_non_null(strstr(why, "/nodes[1] ("));
        assert_non_null(strstr(why, "unknown availability \"gone\""));
        json_object_del(json_object_get(json_array_get(nodes, 1), "Spec"), "Availability");
        assert_int_equal(cluster_snapshot_new(nodes, services, tasks, &s, why, sizeof(why)), -EPROTO);
        assert_non_null(strstr(why, "no ID, Spec.Role, Spec.Availability or Status.State"));
        assert_null(s);
        /* a label that is not a string is named, not left unexplained */
        json_object_set_new(json_object_get(json_array_get(nodes, 1), "Spec"), "Availability", json_string("active"));
        json_object_set_new(json_object_get(json_object_get(json_array_get(nodes, 1), "Spec"), "Labels"), "zone",
                            json_integer(1));
        why[0] = '\0';
        assert_int_equal(cluster_snapshot_new(nodes, services, tasks, &s, why, sizeof(why)), -EPROTO);
        assert_non_null(strstr(why, "/nodes[1] ("));
        assert_non_null(strstr(why, "label \"zone\" is not a string"));
        assert_null(s);
        json_decref(nodes);
        json_decref(services);
        json_decref(tasks);
        assert_true(task_state_active("running"));
        assert_true(task_state_active("preparing"));
        assert_false(task_state_active("shutdown"));
        assert_false(task_state_active(NULL));
        assert_null(cluster_snapshot_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_swarm),
                cmocka_unit_test(test_guards_on_real_swarm),
                cmocka_unit_test(test_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
