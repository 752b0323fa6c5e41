/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing of Docker Engine API bodies (shapes as dockerd 20.10 sends them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hostd/docker-client.h"

static json_t *load(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);

        if (!j)
                fail_msg("fixture: %s", e.text);
        return j;
}

static void test_info_manager(void **state _unused_) {
        json_t *j = load("{\"Name\":\"node1\",\"ServerVersion\":\"20.10.24+dfsg1\","
                         "\"SecurityOptions\":[\"name=apparmor\",\"name=seccomp,profile=/etc/docker/p.json\"],"
                         "\"Swarm\":{\"NodeID\":\"k3x9q1\",\"NodeAddr\":\"10.77.0.11\","
                         "\"LocalNodeState\":\"active\",\"ControlAvailable\":true,"
                         "\"Cluster\":{\"ID\":\"c0ffee\"},"
                         "\"RemoteManagers\":[{\"NodeID\":\"k3x9q1\",\"Addr\":\"10.77.0.11:2377\"}]}}");
        DockerSwarmInfo info;
        const char *what = NULL;

        assert_int_equal(docker_parse_info(j, &info, &what), 0);
        assert_string_equal(info.node_id, "k3x9q1");
        assert_string_equal(info.node_addr, "10.77.0.11");
        assert_string_equal(info.cluster_id, "c0ffee");
        assert_string_equal(info.hostname, "node1");
        assert_string_equal(info.server_version, "20.10.24+dfsg1");
        assert_string_equal(info.seccomp_profile, "/etc/docker/p.json");
        assert_string_equal(info.local_state, "active");
        assert_int_equal(info.role, SWARM_ROLE_MANAGER);
        assert_string_equal(swarm_role_to_string(info.role), "manager");
        json_decref(j);
}

static void test_info_worker_and_inactive(void **state _unused_) {
        json_t *j = load("{\"Swarm\":{\"NodeID\":\"w1\",\"LocalNodeState\":\"active\","
                         "\"ControlAvailable\":false}}");
        DockerSwarmInfo info;
        const char *what = NULL;

        assert_int_equal(docker_parse_info(j, &info, &what), 0);
        assert_int_equal(info.role, SWARM_ROLE_WORKER);
        assert_string_equal(info.seccomp_profile, ""); /* seccomp not reported */
        json_decref(j);

        j = load("{\"Swarm\":{\"NodeID\":\"\",\"LocalNodeState\":\"inactive\","
                 "\"ControlAvailable\":false}}");
        assert_int_equal(docker_parse_info(j, &info, &what), 0);
        assert_int_equal(info.role, SWARM_ROLE_NONE);
        assert_string_equal(info.node_id, "");
        assert_string_equal(swarm_role_to_string(info.role), "none");
        json_decref(j);
}

static void test_info_malformed(void **state _unused_) {
        DockerSwarmInfo info;
        const char *what = NULL;
        json_t *j;

        j = load("[]");
        assert_int_equal(docker_parse_info(j, &info, &what), -EPROTO);
        assert_string_equal(what, "response is not an object");
        json_decref(j);

        j = load("{\"Name\":\"x\"}");
        assert_int_equal(docker_parse_info(j, &info, &what), -EPROTO);
        assert_string_equal(what, "Swarm is missing or not an object");
        json_decref(j);

        j = load("{\"Swarm\":{\"NodeID\":\"x\"}}");
        assert_int_equal(docker_parse_info(j, &info, &what), -EPROTO);
        assert_string_equal(what, "Swarm.LocalNodeState is missing");
        json_decref(j);

        j = load("{\"Swarm\":{\"NodeID\":\"x\",\"LocalNodeState\":\"active\"}}");
        assert_int_equal(docker_parse_info(j, &info, &what), -EPROTO);
        assert_string_equal(what, "Swarm.ControlAvailable is missing");
        json_decref(j);
}

/* A string that does not fit its field is refused, never cut: a cut
 * LocalNodeState, node ID or DockerRootDir would name something else. */
static void test_info_too_long(void **state _unused_) {
        static const struct {
                const char *member; /* JSON with X where the long string goes */
                const char *what;
        } cases[] = {
                { "{\"Name\":\"X\",\"Swarm\":{\"LocalNodeState\":\"inactive\"}}", "Name is too long" },
                { "{\"DockerRootDir\":\"X\",\"Swarm\":{\"LocalNodeState\":\"inactive\"}}", "DockerRootDir is too long" },
                { "{\"SecurityOptions\":[\"name=seccomp,profile=X\"],\"Swarm\":{\"LocalNodeState\":\"inactive\"}}",
                  "SecurityOptions' seccomp profile is too long" },
                { "{\"Swarm\":{\"LocalNodeState\":\"X\"}}", "Swarm.LocalNodeState is too long" },
                { "{\"Swarm\":{\"LocalNodeState\":\"active\",\"NodeID\":\"X\",\"ControlAvailable\":true}}",
                  "Swarm.NodeID is too long" },
                { "{\"Swarm\":{\"LocalNodeState\":\"active\",\"Cluster\":{\"ID\":\"X\"}}}", "Swarm.Cluster.ID is too long" },
        };
        char long_string[301];

        memset(long_string, 'a', sizeof(long_string) - 1);
        long_string[sizeof(long_string) - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *x = strchr(cases[i].member, 'X');
                char text[512];
                DockerSwarmInfo info, before;
                const char *what = NULL;
                json_t *j;

                snprintf(text, sizeof(text), "%.*s%s%s", (int) (x - cases[i].member), cases[i].member, long_string, x + 1);
                j = load(text);
                memset(&info, 0x5a, sizeof(info));
                before = info;
                assert_int_equal(docker_parse_info(j, &info, &what), -EPROTO);
                assert_string_equal(what, cases[i].what);
                assert_memory_equal(&info, &before, sizeof(info));
                json_decref(j);
        }

        /* a state longer than the field was cut to its first 15 characters */
        json_t *j = load("{\"Swarm\":{\"LocalNodeState\":\"inactive-but-longer\"}}");
        DockerSwarmInfo info;
        const char *what = NULL;
        assert_int_equal(docker_parse_info(j, &info, &what), -EPROTO);
        assert_string_equal(what, "Swarm.LocalNodeState is too long");
        json_decref(j);
}

static void test_leader_and_version(void **state _unused_) {
        json_t *leader = load("{\"ID\":\"a\",\"Version\":{\"Index\":42},"
                              "\"ManagerStatus\":{\"Leader\":true,\"Reachability\":\"reachable\"}}");
        json_t *follower = load("{\"ID\":\"b\",\"Version\":{\"Index\":7},"
                                "\"ManagerStatus\":{\"Reachability\":\"reachable\"}}");
        json_t *worker = load("{\"ID\":\"c\",\"Version\":{}}");
        uint64_t v = 0;

        assert_true(docker_node_is_leader(leader));
        assert_false(docker_node_is_leader(follower));
        assert_false(docker_node_is_leader(worker));
        assert_false(docker_node_is_leader(NULL));
        assert_int_equal(docker_object_version(leader, &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(docker_object_version(follower, &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(docker_object_version(worker, &v), -EPROTO);
        json_decref(leader);
        json_decref(follower);
        json_decref(worker);
}

static void test_bad_ids_refused(void **state _unused_) {
        sd_event *e = NULL;
        DockerClient *c = NULL;
        json_t *spec = json_object();

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(docker_client_new(e, "/nonexistent.sock", 5, &c), 0);
        assert_string_equal(docker_client_socket(c), "/nonexistent.sock");
        /* IDs go into the URL path: anything but alphanumerics is refused */
        assert_int_equal(docker_inspect_node(c, "../containers/x", NULL, NULL), -EINVAL);
        assert_int_equal(docker_inspect_node(c, "", NULL, NULL), -EINVAL);
        assert_int_equal(docker_update_node(c, "a b", 1, spec, NULL, NULL), -EINVAL);
        assert_int_equal(docker_update_node(c, "abc", 1, NULL, NULL, NULL), -EINVAL);
        assert_int_equal(docker_list_tasks(c, "x?y", NULL, NULL), -EINVAL);
        assert_int_equal(docker_call(c, "GET", "info", NULL, NULL, NULL), -EINVAL);
        json_decref(spec);
        docker_client_free(c);
        sd_event_unref(e);
        assert_null(docker_client_free(NULL));
}

typedef struct Outcome {
        sd_event *event;
        int error;
        int calls;
} Outcome;

static void on_reply(const DockerReply *reply, void *userdata) {
        Outcome *o = userdata;

        o->error = reply->error;
        o->calls++;
        sd_event_exit(o->event, 0);
}

/* With no dockerd at the socket the call fails asynchronously with ENOENT,
 * and never from inside the call itself. */
static void test_absent_socket_reported(void **state _unused_) {
        Outcome o = {};
        DockerClient *c = NULL;

        assert_int_equal(sd_event_new(&o.event), 0);
        assert_int_equal(docker_client_new(o.event, "/nonexistent-dir/docker.sock", 5, &c), 0);
        assert_int_equal(docker_get_info(c, on_reply, &o), 0);
        assert_int_equal(o.calls, 0);
        assert_int_equal(sd_event_loop(o.event), 0);
        assert_int_equal(o.calls, 1);
        assert_int_equal(o.error, -ENOENT);
        docker_client_free(c);
        sd_event_unref(o.event);
}

static void test_peer_addresses(void **state _unused_) {
        json_t *nodes = load("[{\"ID\":\"a\",\"Status\":{\"State\":\"ready\",\"Addr\":\"10.77.0.11\"}},"
                             "{\"ID\":\"b\",\"Status\":{\"State\":\"down\",\"Addr\":\"0.0.0.0\"}},"
                             "{\"ID\":\"c\",\"Status\":{\"Addr\":\"fd77::13\"}},"
                             "{\"ID\":\"d\",\"Status\":{\"Addr\":\"10.77.0.11\"}},"
                             "{\"ID\":\"e\",\"Status\":{}}, {\"ID\":\"f\"}]");
        json_t *info = load("{\"Swarm\":{\"RemoteManagers\":[{\"NodeID\":\"a\",\"Addr\":\"10.77.0.11:2377\"},"
                            "{\"NodeID\":\"b\",\"Addr\":\"[fd77::12]:2377\"},{\"Addr\":\"garbage\"}]}}");
        json_t *no_swarm = load("{\"Swarm\":{\"RemoteManagers\":null}}");
        Cidr *list = NULL;
        char buf[64];
        int n;

        n = docker_nodes_addresses(nodes, &list);
        assert_int_equal(n, 2); /* 0.0.0.0 skipped, duplicate folded, missing ignored */
        cidr_format(&list[0], buf, sizeof(buf));
        assert_string_equal(buf, "10.77.0.11");
        cidr_format(&list[1], buf, sizeof(buf));
        assert_string_equal(buf, "fd77::13");
        free(list);

        n = docker_info_manager_addresses(info, &list);
        assert_int_equal(n, 2);
        cidr_format(&list[0], buf, sizeof(buf));
        assert_string_equal(buf, "10.77.0.11");
        cidr_format(&list[1], buf, sizeof(buf));
        assert_string_equal(buf, "fd77::12");
        free(list);

        assert_int_equal(docker_info_manager_addresses(no_swarm, &list), 0);
        free(list);
        assert_int_equal(docker_nodes_addresses(info, &list), -EPROTO);
        json_decref(nodes);
        json_decref(info);
        json_decref(no_swarm);
}

/* A prefix where a node's address goes is not a peer: "128.0.0.0/1" would
 * have let half of IPv4 through the firewall as Swarm peers. */
static void test_peer_prefix_refused(void **state _unused_) {
        json_t *nodes = load("[{\"ID\":\"a\",\"Status\":{\"Addr\":\"128.0.0.0/1\"}},"
                             "{\"ID\":\"b\",\"Status\":{\"Addr\":\"[fd00::/8]:2377\"}},"
                             "{\"ID\":\"c\",\"Status\":{\"Addr\":\"10.77.0.0/24:2377\"}},"
                             "{\"ID\":\"d\",\"Status\":{\"Addr\":\"10.77.0.13\"}}]");
        json_t *info = load("{\"Swarm\":{\"RemoteManagers\":[{\"Addr\":\"[0.0.0.0/2]:2377\"},"
                            "{\"Addr\":\"10.77.0.11:2377\"}]}}");
        Cidr *list = NULL;
        char buf[64];

        assert_int_equal(docker_nodes_addresses(nodes, &list), 1);
        cidr_format(&list[0], buf, sizeof(buf));
        assert_string_equal(buf, "10.77.0.13");
        free(list);
        assert_int_equal(docker_info_manager_addresses(info, &list), 1);
        cidr_format(&list[0], buf, sizeof(buf));
        assert_string_equal(buf, "10.77.0.11");
        free(list);
        assert_int_equal(docker_address_host("10.0.0.0/8", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(docker_address_host("[fd00::/64]:2377", buf, sizeof(buf)), -EINVAL);
        json_decref(nodes);
        json_decref(info);
}

static void collect_event(const json_t *event, void *userdata) {
        json_array_append((json_t *) userdata, (json_t *) event);
}

/* The /events body: one object a line, whatever the chunks it comes in. */
static void test_events_split(void **state _unused_) {
        const char body[] = "{\"Type\":\"container\",\"Action\":\"start\"}\n"
                            "\n"
                            "not json\n"
                            "[1,2]\n"
                            "{\"Type\":\"node\",\"Action\":\"update\"}\r\n"
                            "{\"Type\":\"serv";
        json_t *events = json_array();
        size_t used;

        used = docker_events_split(body, strlen(body), collect_event, events);
        assert_int_equal(used, strlen(body) - strlen("{\"Type\":\"serv"));
        assert_int_equal(json_array_size(events), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "Action")), "start");
        assert_string_equal(json_string_value(json_object_get(json_array_get(events, 1), "Type")), "node");

        /* a line that has not ended yet is left whole */
        json_array_clear(events);
        assert_int_equal(docker_events_split("{\"Type\":", 9, collect_event, events), 0);
        assert_int_equal(docker_events_split("", 0, collect_event, events), 0);
        assert_int_equal(json_array_size(events), 0);
        json_decref(events);
}

static void test_address_host(void **state _unused_) {
        char buf[64];

        assert_int_equal(docker_address_host("10.77.0.11:2377", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "10.77.0.11");
        assert_int_equal(docker_address_host("[fd00::0b]:2377", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "fd00::b"); /* canonical, as the agent's manager list */
        assert_int_equal(docker_address_host("10.77.0.12", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "10.77.0.12");
        assert_int_equal(docker_address_host("swarm-manager:2377", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(docker_address_host(NULL, buf, sizeof(buf)), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_info_manager),
                cmocka_unit_test(test_info_worker_and_inactive),
                cmocka_unit_test(test_info_malformed),
                cmocka_unit_test(test_info_too_long),
                cmocka_unit_test(test_leader_and_version),
                cmocka_unit_test(test_bad_ids_refused),
                cmocka_unit_test(test_absent_socket_reported),
                cmocka_unit_test(test_peer_addresses),
                cmocka_unit_test(test_peer_prefix_refused),
                cmocka_unit_test(test_events_split),
                cmocka_unit_test(test_address_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
