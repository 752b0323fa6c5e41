/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firewall/build.h"
#include "hostd/posture-checks.h"

static const Check *get(const Posture *p, const char *id) {
        for (size_t i = 0; i < p->n; i++)
                if (STREQ(p->checks[i].id, id))
                        return &p->checks[i];
        fail_msg("no check %s", id);
        return NULL;
}

static void test_firewall_judged_by_the_table(void **state _unused_) {
        HostdConfig *c = NULL;
        ConfigError e = {};
        Ruleset *table = NULL;
        const char *const ifs[] = { "eth0", NULL };
        const ExposedPort ports[] = {
                { .l4proto = IPPROTO_TCP, .port = 443, .family = AF_UNSPEC, .what = "[::] nginx (pid 10)" },
                { .l4proto = IPPROTO_TCP, .port = 8080, .family = AF_INET, .what = "0.0.0.0 python3 (pid 11)" },
                { .l4proto = IPPROTO_TCP, .port = 5432, .family = AF_INET, .loopback_only = true, .what = "127.0.0.1 postgres" },
                { .l4proto = IPPROTO_UDP, .port = 4789, .family = AF_INET, .what = "0.0.0.0 dockerd" },
        };
        FirewallFacts f = { .enabled = true, .exists = true, .matches = true, .public_interfaces = ifs,
                            .ports = ports, .n_ports = ELEMENTSOF(ports) };
        Posture p = {};

        assert_int_equal(config_parse("{}", 2, &c, &e), 0);
        assert_int_equal(firewall_build(&c->firewall, NULL, 0, &table), 0);
        f.table = table;
        f.allowed_tcp = c->firewall.public_tcp_ports;
        f.n_allowed_tcp = c->firewall.n_public_tcp_ports;
        posture_check_firewall(&p, &f);
        assert_int_equal(get(&p, "firewall.policy")->status, CHECK_PASS);
        assert_int_equal(get(&p, "firewall.table")->status, CHECK_PASS);
        assert_int_equal(get(&p, "firewall.default-drop")->status, CHECK_PASS);
        /* with the table, only 443 gets through: pass */
        assert_int_equal(get(&p, "firewall.exposed")->status, CHECK_PASS);
        assert_non_null(strstr(get(&p, "firewall.exposed")->evidence, "tcp/443 reachable on eth0"));
        assert_null(strstr(get(&p, "firewall.exposed")->evidence, "8080"));

        /* the table is not in the kernel: everything bound publicly is reachable */
        p = (Posture){};
        f.exists = false;
        posture_check_firewall(&p, &f);
        assert_int_equal(get(&p, "firewall.table")->status, CHECK_FAIL);
        assert_int_equal(get(&p, "firewall.exposed")->status, CHECK_FAIL);
        const char *ev = get(&p, "firewall.exposed")->evidence;
        assert_non_null(strstr(ev, "tcp/8080 REACHABLE from outside on eth0: 0.0.0.0 python3 (pid 11)"));
        assert_non_null(strstr(ev, "udp/4789 REACHABLE"));
        assert_null(strstr(ev, "5432"));
        assert_int_equal(posture_exit_code(&p), 1);

        /* an apply waits for its confirmation: warn; one rolled back and held: fail, naming why */
        p = (Posture){};
        f.exists = true;
        f.pending = true;
        f.pending_seconds = 42;
        posture_check_firewall(&p, &f);
        assert_int_equal(get(&p, "firewall.policy")->status, CHECK_WARN);
        assert_non_null(strstr(get(&p, "firewall.policy")->evidence, "42 s"));
        p = (Posture){};
        f.pending = false;
        f.held = "not confirmed within 30 s";
        posture_check_firewall(&p, &f);
        assert_int_equal(get(&p, "firewall.policy")->status, CHECK_FAIL);
        assert_non_null(strstr(get(&p, "firewall.policy")->evidence, "not confirmed within 30 s"));
        assert_int_equal(posture_exit_code(&p), 1);
        ruleset_free(table);
        config_free(c);
}

static void test_seccomp_and_docker(void **state _unused_) {
        const ContainerFacts containers[] = {
                { .name = "web.1", .filtered = true },
                { .name = "debug", .filtered = false, .unconfined = true },
                { .name = "agent", .filtered = true, .privileged = true },
        };
        Posture p = {};
        json_t *info = json_pack("{s:[s, s], s:s, s:b, s:{s:s}}", "SecurityOptions", "name=seccomp,profile=builtin",
                                 "name=userns", "LoggingDriver", "none", "LiveRestoreEnabled", 0, "Swarm",
                                 "LocalNodeState", "active");

        posture_check_seccomp(&p, &(SeccompFacts){ .daemon_profile_ours = false, .daemon_profile = "builtin",
                                                   .containers = containers, .n_containers = 3 });
        assert_int_equal(get(&p, "seccomp.daemon-profile")->status, CHECK_FAIL);
        assert_non_null(strstr(get(&p, "seccomp.daemon-profile")->evidence, "builtin"));
        {
                Posture q = {};
                /* named by dockerd, but its content changed since the install */
                posture_check_seccomp(&q, &(SeccompFacts){ .named_ours = true, .daemon_profile = "/etc/docker/p.json",
                                                           .profile_problem = "/etc/docker/p.json changed since hostd "
                                                                              "installed it" });
                assert_int_equal(get(&q, "seccomp.daemon-profile")->status, CHECK_FAIL);
                assert_non_null(strstr(get(&q, "seccomp.daemon-profile")->evidence, "changed since"));
        }
        assert_int_equal(get(&p, "seccomp.containers")->status, CHECK_FAIL);
        assert_non_null(strstr(get(&p, "seccomp.containers")->evidence, "debug: seccomp=unconfined"));
        assert_int_equal(get(&p, "containers.privileged")->status, CHECK_FAIL);
        assert_non_null(strstr(get(&p, "containers.privileged")->evidence, "agent: privileged"));

        posture_check_docker(&p, info, 0, "0.0.0.0:2375");
        assert_int_equal(get(&p, "docker.tcp-socket")->status, CHECK_FAIL);
        assert_non_null(strstr(get(&p, "docker.tcp-socket")->evidence, "0.0.0.0:2375"));
        assert_int_equal(get(&p, "docker.userns")->status, CHECK_PASS);
        assert_int_equal(get(&p, "docker.icc")->status, CHECK_PASS);
        assert_int_equal(get(&p, "docker.live-restore")->status, CHECK_NOT_APPLICABLE);
        assert_int_equal(get(&p, "docker.log-driver")->status, CHECK_FAIL);

        json_t *j = posture_to_json(&p);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "summary"), "fail")), 5);
        assert_false(json_is_true(json_object_get(j, "compliant")));
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "checks"), 0), "cis")),
                            "CIS 5.21");
        json_decref(j);
        json_decref(info);

        json_t *wave = json_pack("{s:s, s:[{s:s}, {s:s}, {s:s}]}", "id", "w-1", "nodes", "step", "done", "step", "done",
                                 "step", "patching");
        char *text = posture_to_prometheus(&p, NULL, NULL, wave);
        assert_non_null(text);
        assert_non_null(strstr(text, "hostd_posture_check{id=\"containers.privileged\",status=\"fail\"} 1\n"));
        assert_non_null(strstr(text, "hostd_posture_check{id=\"containers.privileged\",status=\"pass\"} 0\n"));
        assert_non_null(strstr(text, "hostd_posture_compliant 0\n"));
        assert_non_null(strstr(text, "hostd_wave_nodes{wave=\"w-1\",step=\"done\"} 2\n"));
        assert_non_null(strstr(text, "hostd_wave_nodes{wave=\"w-1\",step=\"patching\"} 1\n"));
        free(text);
        json_decref(wave);
        assert_string_equal(check_status_to_string(CHECK_NOT_APPLICABLE), "not-applicable");
}

static void test_patches(void **state _unused_) {
        const uint64_t day = 86400ULL * 1000000ULL, now = 100 * day;
        json_t *plan = json_pack("{s:[{s:s, s:s, s:s, s:b, s:b, s:I}, {s:s, s:s, s:s, s:b, s:b, s:I}]}", "packages",
                                 "name", "openssl", "from", "3.0.11", "to", "3.0.13", "security", 1, "included", 1,
                                 "first_seen", (json_int_t) (now - 5 * day), "name", "tzdata", "from", "a", "to", "b",
                                 "security", 0, "included", 1, "first_seen", (json_int_t) (now - 9 * day));
        Posture p = {};

        posture_check_patches(&p, &(PatchFacts){ .plan = plan, .plan_usec = now - 3600ULL * 1000000ULL * 3,
                                                 .now_usec = now, .running_kernel = "6.1.0-9-amd64",
                                                 .newest_kernel = "6.1.0-13-amd64", .last_wave = "w-1",
                                                 .last_wave_ok = false, .last_wave_healthy = true,
                                                 .last_wave_message = "postinst failed; rolled back",
                                                 .last_wave_usec = now - day * 2 });
        assert_int_equal(get(&p, "patches.security-pending")->status, CHECK_FAIL);
        assert_string_equal(get(&p, "patches.security-pending")->evidence,
                            "1 security update(s) pending; the oldest, openssl 3.0.11 -> 3.0.13, offered for 5 days "
                            "(planned 3 hours ago)");
        assert_int_equal(get(&p, "patches.reboot")->status, CHECK_PASS);
        /* 13 is newer than 9: versions, not strings */
        assert_int_equal(get(&p, "patches.kernel")->status, CHECK_FAIL);
        assert_int_equal(get(&p, "patches.last-wave")->status, CHECK_FAIL);
        assert_non_null(strstr(get(&p, "patches.last-wave")->evidence, "wave w-1, 2 days ago: failed, healthy; postinst"));
        json_decref(plan);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_firewall_judged_by_the_table),
                cmocka_unit_test(test_seccomp_and_docker),
                cmocka_unit_test(test_patches),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
