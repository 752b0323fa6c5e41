/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Swarm's peer set (hostd/swarm-peers.h): made from Docker's node list
 * and the nodes' reports, a node's report dropped with the node, a
 * manager's list read back exactly and a bad one refused whole, naming the
 * element; a node's own addresses from its docker-state.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "hostd/swarm-peers.h"
#include "scratch-dir.h"

static json_t *parse(const char *text) {
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        assert_non_null(v);
        return v;
}

/* the set as text, "a b c" */
static void expect_set(const SwarmPeers *p, const char *expected) {
        char got[1024] = "", one[64];
        size_t n;
        const Cidr *list = swarm_peers_list(p, &n);

        for (size_t i = 0; i < n; i++) {
                cidr_format(&list[i], one, sizeof(one));
                if (i)
                        strcat(got, " ");
                strcat(got, one);
        }
        assert_string_equal(got, expected);
}

static const char *THREE_NODES =
        "[{\"ID\": \"m1\", \"Status\": {\"Addr\": \"10.0.0.1\"}, \"ManagerStatus\": {\"Addr\": \"10.0.0.1:2377\"}},"
        " {\"ID\": \"w1\", \"Status\": {\"Addr\": \"10.0.0.2\"}},"
        " {\"ID\": \"w2\", \"Status\": {\"Addr\": \"fd00::3\"}}]";

static void test_set_from_nodes_and_reports(void **state) {
        (void) state;
        _cleanup_(swarm_peers_freep) SwarmPeers *p = NULL;
        json_t *nodes = parse(THREE_NODES), *report = parse("[\"10.1.0.2\", \"10.0.0.2\"]");
        char err[256] = "";

        assert_int_equal(swarm_peers_new(&p), 0);
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 1);
        expect_set(p, "10.0.0.1 10.0.0.2 fd00::3");
        /* the same list again changes nothing */
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 0);

        /* w1's data-path address joins the set */
        assert_false(swarm_peers_has_report(p, "w1"));
        assert_int_equal(swarm_peers_put_report(p, "w1", report, err, sizeof(err)), 1);
        assert_true(swarm_peers_has_report(p, "w1"));
        expect_set(p, "10.0.0.1 10.0.0.2 10.1.0.2 fd00::3");
        assert_int_equal(swarm_peers_put_report(p, "w1", report, err, sizeof(err)), 0);

        json_t *out = swarm_peers_to_json(p);
        char *text = json_dumps(out, JSON_COMPACT);
        assert_string_equal(text, "[\"10.0.0.1\",\"10.0.0.2\",\"10.1.0.2\",\"fd00::3\"]");
        free(text);
        json_decref(out);

        /* w1 leaves the Swarm: its addresses and its report go */
        json_t *two = parse("[{\"ID\": \"m1\", \"Status\": {\"Addr\": \"10.0.0.1\"}},"
                            " {\"ID\": \"w2\", \"Status\": {\"Addr\": \"fd00::3\"}}]");
        assert_int_equal(swarm_peers_set_nodes(p, two), 1);
        expect_set(p, "10.0.0.1 fd00::3");
        assert_false(swarm_peers_has_report(p, "w1"));
        /* when it joins again, it must report again */
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 1);
        expect_set(p, "10.0.0.1 10.0.0.2 fd00::3");
        json_decref(nodes);
        json_decref(two);
        json_decref(report);
}

static void test_report_before_listed(void **state) {
        (void) state;
        _cleanup_(swarm_peers_freep) SwarmPeers *p = NULL;
        json_t *nodes = parse(THREE_NODES), *report = parse("[\"10.9.0.9\"]");
        json_t *four = parse("[{\"ID\": \"m1\", \"Status\": {\"Addr\": \"10.0.0.1\"}}, {\"ID\": \"w9\"}]");
        char err[256];

        assert_int_equal(swarm_peers_new(&p), 0);
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 1);
        /* a node the list does not name yet: kept, not admitted */
        assert_int_equal(swarm_peers_put_report(p, "w9", report, err, sizeof(err)), 0);
        expect_set(p, "10.0.0.1 10.0.0.2 fd00::3");
        /* listed, with no address of its own in the list: its report is its address */
        assert_int_equal(swarm_peers_set_nodes(p, four), 1);
        expect_set(p, "10.0.0.1 10.9.0.9");
        json_decref(nodes);
        json_decref(report);
        json_decref(four);
}

static void test_bad_node_list_changes_nothing(void **state) {
        (void) state;
        _cleanup_(swarm_peers_freep) SwarmPeers *p = NULL;
        json_t *nodes = parse(THREE_NODES);
        static const char *const bad[] = { "{}", "[{\"Status\": {\"Addr\": \"10.0.0.5\"}}]", "[1]",
                                           "[{\"ID\": \"\"}]" };

        assert_int_equal(swarm_peers_new(&p), 0);
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 1);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                json_t *v = parse(bad[i]);
                assert_int_equal(swarm_peers_set_nodes(p, v), -EPROTO);
                expect_set(p, "10.0.0.1 10.0.0.2 fd00::3");
                json_decref(v);
        }
        json_decref(nodes);
}

static void expect_refused(const char *list, const char *message) {
        json_t *v = parse(list);
        Cidr *peers = NULL;
        size_t n = 99;
        char err[256] = "";

        assert_int_equal(swarm_peers_parse(v, &peers, &n, err, sizeof(err)), -EINVAL);
        assert_null(peers);
        assert_int_equal(n, 99);
        assert_string_equal(err, message);
        json_decref(v);
}

static void test_parse_list(void **state) {
        (void) state;
        json_t *v = parse("[\"10.0.0.2\", \"fd00::1\", \"10.0.0.1\", \"10.0.0.2\"]");
        Cidr *peers = NULL;
        size_t n = 0;
        char err[256] = "", text[64];

        assert_int_equal(swarm_peers_parse(v, &peers, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 3);
        cidr_format(&peers[0], text, sizeof(text));
        assert_string_equal(text, "10.0.0.1");
        cidr_format(&peers[2], text, sizeof(text));
        assert_string_equal(text, "fd00::1");
        free(peers);
        json_decref(v);

        expect_refused("{}", "peers: expected an array of addresses");
        expect_refused("[\"10.0.0.1\", 7]", "peers[1]: expected a string");
        expect_refused("[\"10.0.0.0/8\"]", "peers[0]: \"10.0.0.0/8\" is not an IPv4 or IPv6 address");
        expect_refused("[\"10.0.0.1\", \"ten\"]", "peers[1]: \"ten\" is not an IPv4 or IPv6 address");
        expect_refused("[\"::\"]", "peers[0]: \"::\" is the unspecified address");
}

static void test_oversized_list_refused(void **state) {
        (void) state;
        json_t *big = json_array();
        Cidr *peers = NULL;
        size_t n = 0;
        char err[256] = "", expected[128];

        for (size_t i = 0; i <= SWARM_PEERS_MAX; i++) {
                char a[32];
                snprintf(a, sizeof(a), "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                json_array_append_new(big, json_string(a));
        }
        assert_int_equal(swarm_peers_parse(big, &peers, &n, err, sizeof(err)), -EINVAL);
        snprintf(expected, sizeof(expected), "peers: %d addresses, more than the %d allowed", SWARM_PEERS_MAX + 1,
                 SWARM_PEERS_MAX);
        assert_string_equal(err, expected);
        assert_null(peers);
        /* one less is taken */
        json_array_remove(big, 0);
        assert_int_equal(swarm_peers_parse(big, &peers, &n, err, sizeof(err)), 0);
        assert_int_equal(n, SWARM_PEERS_MAX);
        free(peers);
        json_decref(big);
}

static void test_bad_report_changes_nothing(void **state) {
        (void) state;
        _cleanup_(swarm_peers_freep) SwarmPeers *p = NULL;
        json_t *nodes = parse(THREE_NODES), *bad = parse("[\"10.1.0.2\", \"0.0.0.0/0\"]");
        json_t *many = json_array();
        char err[256] = "";

        assert_int_equal(swarm_peers_new(&p), 0);
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 1);
        assert_int_equal(swarm_peers_put_report(p, "w1", bad, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "addresses[1]: \"0.0.0.0/0\" is not an IPv4 or IPv6 address");
        assert_false(swarm_peers_has_report(p, "w1"));
        for (int i = 0; i <= SWARM_NODE_ADDRESSES_MAX; i++) {
                char a[32];
                snprintf(a, sizeof(a), "10.2.0.%d", i + 1);
                json_array_append_new(many, json_string(a));
        }
        assert_int_equal(swarm_peers_check_report(many, err, sizeof(err)), -EINVAL);
        assert_int_equal(swarm_peers_put_report(p, "w1", many, err, sizeof(err)), -EINVAL);
        expect_set(p, "10.0.0.1 10.0.0.2 fd00::3");
        json_decref(nodes);
        json_decref(bad);
        json_decref(many);
}

/* a manager's saved reports read back into a new set, as after its restart */
static void test_reports_saved_and_loaded(void **state) {
        (void) state;
        _cleanup_(swarm_peers_freep) SwarmPeers *p = NULL, *q = NULL;
        json_t *nodes = parse(THREE_NODES), *report = parse("[\"10.1.0.2\"]"), *saved, *bad;
        char err[256] = "";

        assert_int_equal(swarm_peers_new(&p), 0);
        assert_int_equal(swarm_peers_set_nodes(p, nodes), 1);
        assert_int_equal(swarm_peers_put_report(p, "w1", report, err, sizeof(err)), 1);
        saved = swarm_peers_reports_to_json(p);
        char *text = json_dumps(saved, JSON_COMPACT);
        assert_string_equal(text, "{\"w1\":[\"10.1.0.2\"]}");
        free(text);

        assert_int_equal(swarm_peers_new(&q), 0);
        assert_false(swarm_peers_known(q));
        assert_int_equal(swarm_peers_reports_from_json(q, saved, err, sizeof(err)), 0);
        assert_int_equal(swarm_peers_set_nodes(q, nodes), 1);
        assert_true(swarm_peers_known(q));
        expect_set(q, "10.0.0.1 10.0.0.2 10.1.0.2 fd00::3");

        bad = parse("{\"w2\": [\"10.0.0.0/8\"]}");
        assert_int_equal(swarm_peers_reports_from_json(q, bad, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "node w2: addresses[0]: \"10.0.0.0/8\" is not an IPv4 or IPv6 address");
        expect_set(q, "10.0.0.1 10.0.0.2 10.1.0.2 fd00::3");
        json_decref(bad);
        json_decref(saved);
        json_decref(nodes);
        json_decref(report);
}

static void test_local_addresses(void **state) {
        const char *dir = *state;
        char path[512], err[512] = "";
        json_t *list = NULL;
        char *text;

        /* no state file: the advertise address alone */
        assert_int_equal(swarm_local_addresses(dir, "10.0.0.7", &list, err, sizeof(err)), 0);
        text = json_dumps(list, JSON_COMPACT);
        assert_string_equal(text, "[\"10.0.0.7\"]");
        free(text);
        json_decref(list);

        snprintf(path, sizeof(path), "%s/swarm", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/swarm/docker-state.json", dir);
        const char *state_json = "{\"AdvertiseAddr\": \"10.0.0.7\", \"DataPathAddr\": \"10.1.0.7\"}";
        assert_int_equal(write_file_atomic(path, state_json, strlen(state_json), 0600), 0);
        assert_int_equal(swarm_local_addresses(dir, "10.0.0.7", &list, err, sizeof(err)), 0);
        text = json_dumps(list, JSON_COMPACT);
        assert_string_equal(text, "[\"10.0.0.7\",\"10.1.0.7\"]");
        free(text);
        json_decref(list);

        /* an interface name: its addresses (lo's here) */
        state_json = "{\"DataPathAddr\": \"lo\"}";
        assert_int_equal(write_file_atomic(path, state_json, strlen(state_json), 0600), 0);
        assert_int_equal(swarm_local_addresses(dir, "", &list, err, sizeof(err)), 0);
        text = json_dumps(list, JSON_COMPACT);
        assert_non_null(strstr(text, "\"127.0.0.1\""));
        free(text);
        json_decref(list);

        state_json = "{\"DataPathAddr\": \"nosuchif0\"}";
        assert_int_equal(write_file_atomic(path, state_json, strlen(state_json), 0600), 0);
        list = NULL;
        assert_int_equal(swarm_local_addresses(dir, "10.0.0.7", &list, err, sizeof(err)), -ENODEV);
        assert_string_equal(err, "data-path interface nosuchif0 has no address");
        assert_null(list);

        state_json = "{\"DataPathAddr\": ";
        assert_int_equal(write_file_atomic(path, state_json, strlen(state_json), 0600), 0);
        assert_int_equal(swarm_local_addresses(dir, "10.0.0.7", &list, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "/swarm/docker-state.json:1:"));
        assert_null(list);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_from_nodes_and_reports),
                cmocka_unit_test(test_report_before_listed),
                cmocka_unit_test(test_bad_node_list_changes_nothing),
                cmocka_unit_test(test_parse_list),
                cmocka_unit_test(test_oversized_list_refused),
                cmocka_unit_test(test_bad_report_changes_nothing),
                cmocka_unit_test(test_reports_saved_and_loaded),
                cmocka_unit_test_setup_teardown(test_local_addresses, scratch_dir_setup, scratch_dir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
