/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The load balancer's health answer: out of service from the moment a wave
 * chooses the node until it is active and serving again, and the ports a
 * container publishes, read from a real dockerd 20.10 inspect body of a
 * Swarm task published in host mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/macro.h"
#include "hostd/lb-health.h"

static json_t *wave_with(const char *status, const char *step) {
        json_t *w = json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "id", "w-1", "status", status, "nodes", "id",
                              "other", "step", "patching", "id", "me", "step", step);
        assert_non_null(w);
        return w;
}

static unsigned decide(const json_t *wave, bool docker, const uint16_t *serving, size_t n_serving,
                       const uint16_t *published, size_t n_published, char *why) {
        LbHealthInput in = { .wave = wave, .node_id = "me", .docker_reachable = docker, .serving_ports = serving,
                             .n_serving_ports = n_serving, .published = published, .n_published = n_published };
        return lb_health_decide(&in, why, 256);
}

static void test_wave_steps(void **state _unused_) {
        static const struct {
                const char *status, *step;
                unsigned expected;
                const char *why;
        } cases[] = {
                { "running", "pending", 200, "in service" },
                { "running", "draining", 503, "out of service: draining in wave w-1" },
                { "running", "patching", 503, "out of service: patching in wave w-1" },
                { "running", "activating", 503, "out of service: activating in wave w-1" },
                { "running", "done", 200, "in service" },
                { "halted", "failed", 503, "out of service: failed in wave w-1 (halted)" },
                { "aborted", "failed", 200, "in service" },
                { "done", "failed", 200, "in service" },
                /* aborted with the node still under way: held until it is done */
                { "aborted", "patching", 503, "out of service: patching in wave w-1" },
        };
        char why[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *w = wave_with(cases[i].status, cases[i].step);
                unsigned got = decide(w, true, NULL, 0, NULL, 0, why);
                if (got != cases[i].expected || !STREQ(why, cases[i].why))
                        fail_msg("case %zu (%s, %s): %u %s", i, cases[i].status, cases[i].step, got, why);
                json_decref(w);
        }
        /* another node's step is not this one's */
        json_t *w = wave_with("running", "pending");
        LbHealthInput in = { .wave = w, .node_id = "other", .docker_reachable = true };
        assert_int_equal(lb_health_decide(&in, why, sizeof(why)), 503);
        /* no wave, or not a Swarm node: in service */
        in = (LbHealthInput){ .docker_reachable = true };
        assert_int_equal(lb_health_decide(&in, why, sizeof(why)), 200);
        /* just restarted, no wave heard yet: its own record decides */
        static const struct {
                const char *step;
                unsigned expected;
        } agent[] = { { "idle", 200 }, { "staged", 200 }, { "waiting", 503 }, { "applying", 503 },
                      { "rebooting", 503 }, { "docker-restart", 503 }, { "verifying", 503 }, { "reporting", 503 } };
        for (size_t i = 0; i < ELEMENTSOF(agent); i++) {
                in = (LbHealthInput){ .docker_reachable = true, .node_id = "me", .agent_step = agent[i].step };
                if (lb_health_decide(&in, why, sizeof(why)) != agent[i].expected)
                        fail_msg("agent %s: %s", agent[i].step, why);
        }
        assert_string_equal(why, "out of service: this node's wave agent is reporting");
        json_decref(w);
}

static void test_serving_ports(void **state _unused_) {
        const uint16_t serving[] = { 443 }, published_443[] = { 8080, 443 }, published_other[] = { 8080 };
        json_t *w = wave_with("running", "pending");
        char why[256];

        assert_int_equal(decide(w, true, serving, 1, published_443, 2, why), 200);
        assert_string_equal(why, "in service: a container publishes 443");
        /* a node just made active runs no task yet */
        assert_int_equal(decide(w, true, serving, 1, published_other, 1, why), 503);
        assert_string_equal(why, "out of service: no running container publishes 443");
        assert_int_equal(decide(w, true, serving, 1, NULL, 0, why), 503);
        /* Docker down: what runs is not known */
        assert_int_equal(decide(w, false, serving, 1, published_443, 2, why), 503);
        assert_string_equal(why, "out of service: Docker cannot be reached");
        json_decref(w);
}

static void test_published_ports(void **state _unused_) {
        json_error_t e;
        json_t *inspect = json_load_file("tests/unit/fixtures/container-host-published.json", 0, &e);
        uint16_t ports[8];

        if (!inspect)
                fail_msg("fixture: %s", e.text);
        assert_int_equal(lb_published_tcp_ports(inspect, ports, ELEMENTSOF(ports)), 1);
        assert_int_equal(ports[0], 443);
        json_decref(inspect);

        /* IPv4 and IPv6 bindings of one port count once; UDP and unbound
         * exposed ports do not; a malformed port is skipped */
        inspect = json_pack("{s:{s:{s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s}], s:n, s:[{s:s}], s:[{s:s}], s:[{s:s}, {s:s}]}}}",
                            "NetworkSettings", "Ports", "80/tcp", "HostIp", "0.0.0.0", "HostPort", "443", "HostIp", "::",
                            "HostPort", "443", "53/udp", "HostPort", "53", "8080/tcp", "81/tcp", "HostPort", "x1",
                            "82/tcp", "HostPort", "70000", "83/tcp", "HostPort", "0443", "HostPort", "+44");
        assert_int_equal(lb_published_tcp_ports(inspect, ports, ELEMENTSOF(ports)), 1);
        assert_int_equal(ports[0], 443);
        json_decref(inspect);
        /* no NetworkSettings at all */
        inspect = json_object();
        assert_int_equal(lb_published_tcp_ports(inspect, ports, ELEMENTSOF(ports)), 0);
        json_decref(inspect);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_wave_steps),
                cmocka_unit_test(test_serving_ports),
                cmocka_unit_test(test_published_ports),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
