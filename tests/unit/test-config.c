/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <syslog.h>

#include "policy/config.h"

static HostdConfig *parse_ok(const char *text) {
        HostdConfig *c = NULL;
        ConfigError e = {};
        int r = config_parse(text, strlen(text), &c, &e);

        if (r < 0)
                print_error("unexpected error: %u:%u %s: %s\n", e.line, e.column, e.path, e.message);
        assert_int_equal(r, 0);
        assert_non_null(c);
        return c;
}

/* Expects a rejection at line:column whose message contains `needle` and
 * whose key path is `path`. */
static void parse_bad(const char *text, unsigned line, unsigned column, const char *path,
                      const char *needle) {
        HostdConfig *c = NULL;
        ConfigError e = {};
        int r = config_parse(text, strlen(text), &c, &e);

        assert_true(r < 0);
        assert_null(c);
        if (!strstr(e.message, needle) || e.line != line || e.column != column ||
            !STREQ(e.path, path))
                fail_msg("for %s: got %u:%u path '%s' message '%s'", text, e.line, e.column,
                         e.path, e.message);
}

static void test_empty_object_is_all_defaults(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");

        assert_null(c->docker_socket);
        assert_int_equal(c->docker_request_timeout_sec, 30);
        assert_int_equal(c->swarm_refresh_sec, 10);
        assert_int_equal(c->log_level, -1);
        assert_string_equal(c->state_directory, "/var/lib/hostd");
        config_free(c);
}

static void test_full_config(void **state _unused_) {
        HostdConfig *c = parse_ok("{\n"
                                  "  \"docker\": {\"socket\": \"unix:///run/d.sock\",\n"
                                  "              \"request-timeout-seconds\": 5},\n"
                                  "  \"swarm\": {\"refresh-seconds\": 3600},\n"
                                  "  \"log-level\": \"debug\",\n"
                                  "  \"state-directory\": \"/srv/hostd\"\n"
                                  "}\n");

        assert_string_equal(c->docker_socket, "/run/d.sock");
        assert_int_equal(c->docker_request_timeout_sec, 5);
        assert_int_equal(c->swarm_refresh_sec, 3600);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_string_equal(c->state_directory, "/srv/hostd");
        config_free(c);

        c = parse_ok("{\"swarm\": {\"refresh-seconds\": 1e3}}");
        assert_int_equal(c->swarm_refresh_sec, 1000);
        config_free(c);
}

static void test_socket_plain_path(void **state _unused_) {
        HostdConfig *c = parse_ok("{\"docker\":{\"socket\":\"/var/run/docker.sock\"}}");

        assert_string_equal(c->docker_socket, "/var/run/docker.sock");
        config_free(c);
}

static void test_unknown_keys(void **state _unused_) {
        parse_bad("{\"dokcer\": {}}", 1, 2, "dokcer", "unknown key \"dokcer\"");
        parse_bad("{\n  \"docker\": {\n    \"sockett\": \"/x\"\n  }\n}", 3, 5, "docker.sockett",
                  "unknown key");
        parse_bad("{\"swarm\": {\"refresh\": 1}}", 1, 12, "swarm.refresh", "unknown key");
}

static void test_wrong_types(void **state _unused_) {
        parse_bad("[]", 1, 1, "", "expected an object, got array");
        parse_bad("{\"docker\": 1}", 1, 12, "docker", "expected an object, got number");
        parse_bad("{\"docker\": {\"socket\": true}}", 1, 23, "docker.socket",
                  "expected a string, got boolean");
        parse_bad("{\"swarm\": {\"refresh-seconds\": \"10\"}}", 1, 31, "swarm.refresh-seconds",
                  "expected an integer, got string");
        parse_bad("{\"swarm\": {\"refresh-seconds\": 1.5}}", 1, 31, "swarm.refresh-seconds",
                  "expected an integer, got a fraction");
        parse_bad("{\"log-level\": 3}", 1, 15, "log-level", "expected a string");
}

static void test_out_of_range(void **state _unused_) {
        parse_bad("{\"swarm\": {\"refresh-seconds\": 0}}", 1, 31, "swarm.refresh-seconds",
                  "0 is out of range 1..3600");
        parse_bad("{\"docker\": {\"request-timeout-seconds\": 3601}}", 1, 40,
                  "docker.request-timeout-seconds", "out of range");
        parse_bad("{\"swarm\": {\"refresh-seconds\": -1}}", 1, 31, "swarm.refresh-seconds",
                  "out of range");
        parse_bad("{\"swarm\": {\"refresh-seconds\": 99999999999999999999}}", 1, 31,
                  "swarm.refresh-seconds", "out of range");
        parse_bad("{\"swarm\": {\"refresh-seconds\": 1e4}}", 1, 31, "swarm.refresh-seconds",
                  "10000 is out of range");
        parse_bad("{\"log-level\": \"loud\"}", 1, 15, "log-level", "is not one of");
}

static void test_bad_paths(void **state _unused_) {
        parse_bad("{\"docker\": {\"socket\": \"docker.sock\"}}", 1, 23, "docker.socket",
                  "not an absolute path");
        parse_bad("{\"docker\": {\"socket\": \"tcp://0.0.0.0:2375\"}}", 1, 23, "docker.socket",
                  "only unix sockets");
        parse_bad("{\"state-directory\": \"var/lib\"}", 1, 21, "state-directory",
                  "not an absolute path");

        char long_socket[256];
        memset(long_socket, 'a', sizeof(long_socket));
        long_socket[0] = '/';
        long_socket[200] = 0;
        char text[400];
        snprintf(text, sizeof(text), "{\"docker\": {\"socket\": \"%s\"}}", long_socket);
        parse_bad(text, 1, 23, "docker.socket", "longer than 107");
}

static void test_syntax_errors_are_located(void **state _unused_) {
        parse_bad("{\n  \"docker\": {,}\n}", 2, 14, "", "");
        parse_bad("", 1, 1, "", "");
        parse_bad("{} {}", 1, 4, "", "");
        parse_bad("{\"log-level\": \"info\", \"log-level\": \"debug\"}", 1, 23, "", "duplicate");
}

static void test_oversized(void **state _unused_) {
        size_t n = CONFIG_MAX_SIZE + 10;
        char *text = malloc(n);
        HostdConfig *c = NULL;
        ConfigError e = {};

        assert_non_null(text);
        memset(text, ' ', n);
        text[0] = '{';
        text[n - 1] = '}';
        assert_int_equal(config_parse(text, n, &c, &e), -E2BIG);
        assert_null(c);
        assert_non_null(strstr(e.message, "larger than"));
        free(text);
}

static void test_load_errors(void **state _unused_) {
        HostdConfig *c = NULL;
        ConfigError e = {};
        char buf[512];

        assert_int_equal(config_load("/nonexistent/hostd.json", &c, &e), -ENOENT);
        assert_non_null(strstr(e.message, "cannot open"));
        located_error_format(&e, "/nonexistent/hostd.json", buf, sizeof(buf));
        assert_non_null(strstr(buf, "/nonexistent/hostd.json: cannot open"));

        assert_int_equal(config_load("/", &c, &e), -EINVAL);
        assert_string_equal(e.message, "not a regular file");
}

static void test_load_file_and_format(void **state _unused_) {
        char path[] = "/tmp/test-config-XXXXXX";
        int fd = mkstemp(path);
        const char *text = "{\n  \"swarm\": {\"refresh-seconds\": 0}\n}\n";
        HostdConfig *c = NULL;
        ConfigError e = {};
        char buf[512];

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        assert_int_equal(config_load(path, &c, &e), -EINVAL);
        located_error_format(&e, path, buf, sizeof(buf));
        char expected[512];
        snprintf(expected, sizeof(expected),
                 "%s:2:32: swarm.refresh-seconds: 0 is out of range 1..3600", path);
        assert_string_equal(buf, expected);
        unlink(path);
}

static void test_docker_socket_resolution(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");
        char why[256] = "";
        char *p = NULL;

        assert_int_equal(config_docker_socket(c, NULL, &p, why, sizeof(why)), 0);
        assert_string_equal(p, "/var/run/docker.sock");
        free(p);
        assert_int_equal(config_docker_socket(c, "unix:///tmp/x.sock", &p, why, sizeof(why)), 0);
        assert_string_equal(p, "/tmp/x.sock");
        free(p);
        assert_int_equal(config_docker_socket(c, "tcp://1.2.3.4:2375", &p, why, sizeof(why)),
                         -EINVAL);
        assert_non_null(strstr(why, "only unix"));
        config_free(c);

        c = parse_ok("{\"docker\":{\"socket\":\"/cfg.sock\"}}");
        assert_int_equal(config_docker_socket(c, "unix:///tmp/x.sock", &p, why, sizeof(why)), 0);
        assert_string_equal(p, "/cfg.sock"); /* the config wins over DOCKER_HOST */
        free(p);
        config_free(c);
}

static void test_seccomp_section(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");

        assert_int_equal(c->seccomp_enforcement, SECCOMP_ENFORCE_REPORT);
        assert_string_equal(c->seccomp_installed_profile, SECCOMP_INSTALLED_PROFILE_DEFAULT);
        assert_string_equal(c->seccomp_daemon_json, "/etc/docker/daemon.json");
        config_free(c);
        c = parse_ok("{\"seccomp\": {\"installed-profile\": \"/srv/p.json\", \"daemon-json\": \"/srv/d.json\"}}");
        assert_string_equal(c->seccomp_installed_profile, "/srv/p.json");
        assert_string_equal(c->seccomp_daemon_json, "/srv/d.json");
        config_free(c);
        parse_bad("{\"seccomp\": {\"daemon-json\": \"daemon.json\"}}", 1, 29,
                  "seccomp.daemon-json", "not an absolute path");
        parse_bad("{\"seccomp\": {\"installed-profile\": \"p.json\"}}", 1, 35,
                  "seccomp.installed-profile", "not an absolute path");
        c = parse_ok("{\"seccomp\": {\"enforcement\": \"stop\"}}");
        assert_int_equal(c->seccomp_enforcement, SECCOMP_ENFORCE_STOP);
        config_free(c);
        parse_bad("{\"seccomp\": {\"enforcement\": \"kill\"}}", 1, 29, "seccomp.enforcement",
                  "\"kill\" is not one of report, stop");
        parse_bad("{\"seccomp\": {\"enforcement\": 1}}", 1, 29, "seccomp.enforcement",
                  "expected a string");
        parse_bad("{\"seccomp\": {\"mode\": 1}}", 1, 14, "seccomp.mode", "unknown key");
}

static void test_patching_section(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");

        assert_string_equal(c->patching.root, "/");
        assert_true(c->patching.security_only);
        assert_null(c->patching.allow[0]);
        assert_null(c->patching.hold[0]);
        assert_int_equal(c->patching.minimum_age_hours, 0);
        assert_int_equal(c->patching.check_hours, 6);
        config_free(c);
        c = parse_ok("{\"patching\": {\"root\": \"/srv/root\", \"security-only\": false, \"allow\": [\"openssl*\"],"
                     " \"deny\": [\"linux-image-*\", \"libc6\"], \"hold\": [\"postgresql-15\"], \"minimum-age-hours\": 72}}");
        assert_string_equal(c->patching.root, "/srv/root");
        assert_false(c->patching.security_only);
        assert_string_equal(c->patching.allow[0], "openssl*");
        assert_string_equal(c->patching.deny[1], "libc6");
        assert_null(c->patching.deny[2]);
        assert_string_equal(c->patching.hold[0], "postgresql-15");
        assert_int_equal(c->patching.minimum_age_hours, 72);
        config_free(c);
        parse_bad("{\"patching\": {\"hold\": [\"bash\", \"a b\"]}}", 1, 32, "patching.hold[1]",
                  "\"a b\" is not a package name or glob");
        parse_bad("{\"patching\": {\"deny\": \"bash\"}}", 1, 23, "patching.deny", "expected an array");
        parse_bad("{\"patching\": {\"minimum-age-hours\": 9000}}", 1, 36, "patching.minimum-age-hours", "");
        parse_bad("{\"patching\": {\"root\": \"root\"}}", 1, 23, "patching.root", "not an absolute path");
        parse_bad("{\"patching\": {\"window\": 1}}", 1, 15, "patching.window", "unknown key");
        parse_bad("{\"patching\": {\"check-hours\": 200}}", 1, 30, "patching.check-hours", "out of range 0..168");
}

static void test_wave_section(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");

        assert_true(c->wave.agent);
        assert_string_equal(c->wave.group, "default");
        assert_null(c->wave.reboot_command[0]);
        assert_string_equal(c->wave.docker_restart_command[0], "/usr/bin/systemctl");
        assert_string_equal(c->wave.docker_restart_command[2], "docker.service");
        assert_null(c->wave.docker_restart_command[3]);
        assert_string_equal(c->wave.boot_id_file, "/proc/sys/kernel/random/boot_id");
        assert_null(c->wave.health_commands[0]);
        assert_int_equal(c->wave.health_timeout_sec, 300);
        config_free(c);
        c = parse_ok("{\"wave\": {\"agent\": false, \"group\": \"db-1\", \"reboot-command\": [\"/usr/local/sbin/hook\", \"reboot\"],"
                     " \"boot-id-file\": \"/run/boot\", \"health-commands\": [[\"/bin/true\"], [\"/usr/bin/curl\", \"-f\", \"x\"]],"
                     " \"health-timeout-seconds\": 60}}");
        assert_false(c->wave.agent);
        assert_string_equal(c->wave.group, "db-1");
        assert_string_equal(c->wave.reboot_command[1], "reboot");
        assert_null(c->wave.reboot_command[2]);
        assert_string_equal(c->wave.boot_id_file, "/run/boot");
        assert_string_equal(c->wave.health_commands[1][2], "x");
        assert_null(c->wave.health_commands[1][3]);
        assert_null(c->wave.health_commands[2]);
        assert_int_equal(c->wave.health_timeout_sec, 60);
        config_free(c);
        c = parse_ok("{\"wave\": {\"docker-restart-command\": []}}");
        assert_null(c->wave.docker_restart_command[0]);
        config_free(c);
        parse_bad("{\"wave\": {\"docker-restart-command\": [\"systemctl\"]}}", 1, 38, "wave.docker-restart-command[0]",
                  "\"systemctl\" is not an absolute path");
        parse_bad("{\"wave\": {\"group\": \"A B\"}}", 1, 20, "wave.group", "is not a group name");
        parse_bad("{\"wave\": {\"reboot-command\": [\"reboot\"]}}", 1, 30, "wave.reboot-command[0]",
                  "\"reboot\" is not an absolute path");
        parse_bad("{\"wave\": {\"health-commands\": [[]]}}", 1, 31, "wave.health-commands[0]", "empty command");
        parse_bad("{\"wave\": {\"health-commands\": [[\"/bin/true\", 1]]}}", 1, 45, "wave.health-commands[0][1]",
                  "expected a string");
        parse_bad("{\"wave\": {\"health-timeout-seconds\": 0}}", 1, 37, "wave.health-timeout-seconds", "");
        parse_bad("{\"wave\": {\"canary\": 1}}", 1, 11, "wave.canary", "unknown key");

        /* the alert gate */
        c = parse_ok("{}");
        assert_null(c->wave.alertmanager.url);
        assert_null(c->wave.alertmanager.matchers[0]);
        assert_int_equal(c->wave.alertmanager.timeout_sec, 5);
        config_free(c);
        c = parse_ok("{\"wave\": {\"alertmanager\": {\"url\": \"http://10.0.0.9:9093/\", \"matchers\": "
                     "[\"severity=\\\"critical\\\"\", \"env!~dev|test\"], \"timeout-seconds\": 3}}}");
        assert_string_equal(c->wave.alertmanager.url, "http://10.0.0.9:9093"); /* without the slash */
        assert_string_equal(c->wave.alertmanager.matchers[0], "severity=\"critical\"");
        assert_string_equal(c->wave.alertmanager.matchers[1], "env!~dev|test");
        assert_null(c->wave.alertmanager.matchers[2]);
        assert_int_equal(c->wave.alertmanager.timeout_sec, 3);
        config_free(c);
        parse_bad("{\"wave\": {\"alertmanager\": {\"url\": \"10.0.0.9:9093\"}}}", 1, 35, "wave.alertmanager.url",
                  "expected Alertmanager's URL, http:// or https://, with no query and no credentials");
        parse_bad("{\"wave\": {\"alertmanager\": {\"url\": \"http://am/?x=1\"}}}", 1, 35, "wave.alertmanager.url",
                  "with no query");
        parse_bad("{\"wave\": {\"alertmanager\": {\"matchers\": [\"severity\"]}}}", 1, 41,
                  "wave.alertmanager.matchers[0]", "alert matcher \"severity\": expected =, !=, =~ or !~ after severity");
        parse_bad("{\"wave\": {\"alertmanager\": {\"url\": \"http://user:pw@am:9093\"}}}", 1, 35,
                  "wave.alertmanager.url", "no credentials");
        parse_bad("{\"wave\": {\"alertmanager\": {\"timeout-seconds\": 0}}}", 1, 47, "wave.alertmanager.timeout-seconds",
                  "out of range");
        parse_bad("{\"wave\": {\"alertmanager\": {\"receiver\": 1}}}", 1, 28, "wave.alertmanager.receiver", "unknown key");
        parse_bad("{\"wave\": {\"alertmanager\": \"http://am\"}}", 1, 27, "wave.alertmanager", "expected an object");
}

static void test_posture_section(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");

        assert_null(c->posture_textfile);
        assert_int_equal(c->posture_textfile_sec, 60);
        assert_int_equal(c->posture_report_sec, 60);
        config_free(c);
        c = parse_ok("{\"posture\": {\"report-seconds\": 0}}");
        assert_int_equal(c->posture_report_sec, 0);
        config_free(c);
        c = parse_ok("{\"posture\": {\"textfile\": \"/var/lib/prometheus/node-exporter/hostd.prom\", \"textfile-seconds\": 30}}");
        assert_string_equal(c->posture_textfile, "/var/lib/prometheus/node-exporter/hostd.prom");
        assert_int_equal(c->posture_textfile_sec, 30);
        config_free(c);
        parse_bad("{\"posture\": {\"textfile\": \"hostd.prom\"}}", 1, 26, "posture.textfile", "not an absolute path");
        parse_bad("{\"posture\": {\"textfile-seconds\": 1}}", 1, 34, "posture.textfile-seconds", "out of range 10..3600");
        parse_bad("{\"posture\": {\"report-seconds\": 3601}}", 1, 32, "posture.report-seconds", "out of range 0..3600");
}

static void test_load_balancer_section(void **state _unused_) {
        HostdConfig *c = parse_ok("{}");

        assert_int_equal(c->load_balancer.health_port, 0);
        assert_int_equal(c->firewall.lb_health_port, 0);
        assert_int_equal(c->load_balancer.deregistration_delay_sec, 0);
        config_free(c);
        c = parse_ok("{\"load-balancer\": {\"health-port\": 8080, \"sources\": [\"10.77.0.200/32\", \"fd00::/64\"],"
                     " \"serving-ports\": [443], \"deregistration-delay-seconds\": 10}}");
        assert_int_equal(c->load_balancer.health_port, 8080);
        assert_int_equal(c->load_balancer.n_serving_ports, 1);
        assert_int_equal(c->load_balancer.serving_ports[0], 443);
        assert_int_equal(c->load_balancer.deregistration_delay_sec, 10);
        /* the firewall admits the port from the sources */
        assert_int_equal(c->firewall.lb_health_port, 8080);
        assert_int_equal(c->firewall.n_lb_sources, 2);
        /* and the stored policy keeps both */
        json_t *stored = firewall_policy_to_json(&c->firewall);
        char *text = json_dumps(stored, 0);
        JsonValue *v = NULL;
        ConfigError e = {};
        FirewallPolicy back;
        assert_int_equal(jv_parse_document(text, strlen(text), &v, &e), 0);
        assert_int_equal(firewall_policy_from_value(v, &back, &e), 0);
        assert_true(firewall_policy_equal(&back, &c->firewall));
        firewall_policy_done(&back);
        jv_free(v);
        free(text);
        json_decref(stored);
        config_free(c);
        /* a policy without it is stored as before it existed */
        c = parse_ok("{}");
        stored = firewall_policy_to_json(&c->firewall);
        assert_null(json_object_get(stored, "load-balancer-health-port"));
        json_decref(stored);
        config_free(c);

        parse_bad("{\"load-balancer\": {\"health-port\": 8080}}", 1, 19, "load-balancer.sources",
                  "the load balancer's sources (CIDRs) are needed with health-port");
        parse_bad("{\"load-balancer\": {\"sources\": [\"10.0.0.0/8\"]}}", 1, 31, "load-balancer.sources",
                  "sources without a health-port");
        parse_bad("{\"load-balancer\": {\"health-port\": 443, \"sources\": [\"10.0.0.0/8\"]}}", 1, 35,
                  "load-balancer.health-port", "port 443 is also in firewall.public-tcp-ports");
        parse_bad("{\"load-balancer\": {\"health-port\": 9443, \"sources\": [\"10.0.0.0/8\"]}}", 1, 35,
                  "load-balancer.health-port", "port 9443 is also in firewall.peer-tcp-ports");
        parse_bad("{\"load-balancer\": {\"health-port\": 22, \"sources\": [\"10.0.0.0/8\"]}}", 1, 35,
                  "load-balancer.health-port", "port 22 is also in firewall.ssh-port");
        parse_bad("{\"load-balancer\": {\"health-port\": 8080, \"sources\": [\"10.0.0.0/8\"], \"serving-ports\": [8080]}}",
                  1, 35, "load-balancer.health-port", "port 8080 is also in load-balancer.serving-ports");
        parse_bad("{\"load-balancer\": {\"deregistration-delay-seconds\": 3601}}", 1, 52,
                  "load-balancer.deregistration-delay-seconds", "out of range 0..3600");
        parse_bad("{\"load-balancer\": {\"health-port\": 8080, \"sources\": [\"10.0.0.300/8\"]}}", 1, 53,
                  "load-balancer.sources[0]", "");
        parse_bad("{\"load-balancer\": {\"weight\": 1}}", 1, 20, "load-balancer.weight", "unknown key");
        /* the stored form's members are not the configuration's */
        parse_bad("{\"firewall\": {\"load-balancer-health-port\": 8080}}", 1, 15,
                  "firewall.load-balancer-health-port", "unknown key");
}

static void test_free_null(void **state _unused_) {
        assert_null(config_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_object_is_all_defaults),
                cmocka_unit_test(test_full_config),
                cmocka_unit_test(test_socket_plain_path),
                cmocka_unit_test(test_unknown_keys),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_out_of_range),
                cmocka_unit_test(test_bad_paths),
                cmocka_unit_test(test_syntax_errors_are_located),
                cmocka_unit_test(test_oversized),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_load_file_and_format),
                cmocka_unit_test(test_docker_socket_resolution),
                cmocka_unit_test(test_seccomp_section),
                cmocka_unit_test(test_patching_section),
                cmocka_unit_test(test_wave_section),
                cmocka_unit_test(test_posture_section),
                cmocka_unit_test(test_load_balancer_section),
                cmocka_unit_test(test_free_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
