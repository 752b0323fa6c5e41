/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Drives hostd's Docker client against a real dockerd, for the integration
 * tests:
 *
 *   docker-client SOCKET info                  /info (+ leadership) as JSON
 *   docker-client SOCKET node-conflict NODE    update a node with its version,
 *                                              again with the now stale version
 *                                              (must conflict), then re-read
 *                                              and retry (must succeed)
 *   docker-client SOCKET swarm-conflict        the same on /swarm/update
 *   docker-client SOCKET tasks NODE            number of tasks on NODE
 *
 * Exit status 0 when every step behaved as the Engine API documents. */

#include <curl/curl.h>

#include "hostd/docker-client.h"

typedef struct Test {
        sd_event *event;
        DockerClient *docker;
        const char *node_id;
        int step;
        uint64_t version;
        json_t *spec;
        int failures;
        DockerSwarmInfo info;
} Test;

static void finish(Test *t, int failures) {
        t->failures += failures;
        sd_event_exit(t->event, 0);
}

static bool check(Test *t, bool ok, const char *what) {
        printf("%s %s\n", ok ? "ok  " : "FAIL", what);
        if (!ok)
                finish(t, 1);
        return ok;
}

/* --- info --- */

static void on_node(const DockerReply *reply, void *userdata) {
        Test *t = userdata;
        json_t *out = json_pack("{s:s, s:s, s:s, s:b}", "node_id", t->info.node_id, "role",
                                swarm_role_to_string(t->info.role), "hostname", t->info.hostname,
                                "leader", !reply->error && docker_node_is_leader(reply->json));
        char *s = json_dumps(out, JSON_COMPACT);

        printf("%s\n", s);
        free(s);
        json_decref(out);
        finish(t, 0);
}

static void on_info(const DockerReply *reply, void *userdata) {
        Test *t = userdata;
        const char *what = NULL;

        if (!check(t, reply->error == 0, "GET /info"))
                return;
        if (!check(t, docker_parse_info(reply->json, &t->info, &what) == 0, "parse /info"))
                return;
        if (t->info.role == SWARM_ROLE_MANAGER)
                docker_inspect_node(t->docker, t->info.node_id, on_node, t);
        else {
                DockerReply none = { .error = -EPERM };
                on_node(&none, t);
        }
}

/* --- node update conflict --- */

static void node_step(const DockerReply *reply, void *userdata);

static json_t *labelled_spec(const json_t *node, int value) {
        json_t *spec = json_deep_copy(json_object_get(node, "Spec"));
        json_t *labels;
        char v[16];

        if (!spec)
                return NULL;
        labels = json_object_get(spec, "Labels");
        if (!json_is_object(labels)) {
                labels = json_object();
                json_object_set_new(spec, "Labels", labels);
        }
        snprintf(v, sizeof(v), "%d", value);
        json_object_set_new(labels, "hostd.test.step", json_string(v));
        return spec;
}

static void node_step(const DockerReply *reply, void *userdata) {
        Test *t = userdata;
        char what[512];

        switch (t->step++) {
        case 0: /* read */
                if (!check(t, reply->error == 0, "inspect node") ||
                    !check(t, docker_object_version(reply->json, &t->version) == 0, "node version"))
                        return;
                json_decref(t->spec);
                t->spec = labelled_spec(reply->json, 1);
                printf("     node %s at version %llu\n", t->node_id, (unsigned long long) t->version);
                docker_update_node(t->docker, t->node_id, t->version, t->spec, node_step, t);
                break;
        case 1: /* first update with the fresh version */
                snprintf(what, sizeof(what), "update with fresh version %llu: %s",
                         (unsigned long long) t->version, reply->message ? reply->message : "accepted");
                if (!check(t, reply->error == 0, what))
                        return;
                /* the same version again is now stale */
                docker_update_node(t->docker, t->node_id, t->version, t->spec, node_step, t);
                break;
        case 2:
                snprintf(what, sizeof(what), "update with stale version %llu refused as conflict (-ESTALE): %s",
                         (unsigned long long) t->version, reply->message ? reply->message : "ACCEPTED");
                if (!check(t, reply->error == -ESTALE, what))
                        return;
                docker_inspect_node(t->docker, t->node_id, node_step, t);
                break;
        case 3: /* re-read and retry */
                if (!check(t, reply->error == 0, "re-read node") ||
                    !check(t, docker_object_version(reply->json, &t->version) == 0, "new version"))
                        return;
                json_decref(t->spec);
                t->spec = labelled_spec(reply->json, 2);
                docker_update_node(t->docker, t->node_id, t->version, t->spec, node_step, t);
                break;
        case 4:
                snprintf(what, sizeof(what), "retry with re-read version %llu: %s",
                         (unsigned long long) t->version, reply->message ? reply->message : "accepted");
                if (!check(t, reply->error == 0, what))
                        return;
                docker_inspect_node(t->docker, t->node_id, node_step, t);
                break;
        case 5: {
                const char *label = json_string_value(json_object_get(
                        json_object_get(json_object_get(reply->json, "Spec"), "Labels"), "hostd.test.step"));
                check(t, label && STREQ(label, "2"), "label written by the retry is stored");
                finish(t, 0);
                break;
        }
        }
}

/* --- swarm update conflict --- */

static void swarm_step(const DockerReply *reply, void *userdata) {
        Test *t = userdata;
        char what[512];

        switch (t->step++) {
        case 0:
                if (!check(t, reply->error == 0, "inspect swarm") ||
                    !check(t, docker_object_version(reply->json, &t->version) == 0, "swarm version"))
                        return;
                json_decref(t->spec);
                t->spec = json_deep_copy(json_object_get(reply->json, "Spec"));
                docker_update_swarm(t->docker, t->version, t->spec, swarm_step, t);
                break;
        case 1:
                if (!check(t, reply->error == 0, "swarm update with fresh version"))
                        return;
                docker_update_swarm(t->docker, t->version, t->spec, swarm_step, t);
                break;
        case 2:
                snprintf(what, sizeof(what), "swarm update with stale version refused (-ESTALE): %s",
                         reply->message ? reply->message : "ACCEPTED");
                if (!check(t, reply->error == -ESTALE, what))
                        return;
                docker_inspect_swarm(t->docker, swarm_step, t);
                break;
        case 3:
                if (!check(t, reply->error == 0, "re-read swarm") ||
                    !check(t, docker_object_version(reply->json, &t->version) == 0, "new version"))
                        return;
                docker_update_swarm(t->docker, t->version, t->spec, swarm_step, t);
                break;
        case 4:
                check(t, reply->error == 0, "swarm retry with re-read version");
                finish(t, 0);
                break;
        }
}

/* --- tasks --- */

static void on_tasks(const DockerReply *reply, void *userdata) {
        Test *t = userdata;
        size_t running = 0, i;
        json_t *task;

        if (!check(t, reply->error == 0 && json_is_array(reply->json), "GET /tasks?filters=node"))
                return;
        json_array_foreach(reply->json, i, task) {
                const char *node = json_string_value(json_object_get(task, "NodeID"));
                if (!node || !STREQ(node, t->node_id)) {
                        check(t, false, "every task returned belongs to the node");
                        return;
                }
                const char *state = json_string_value(
                        json_object_get(json_object_get(task, "Status"), "State"));
                if (state && STREQ(state, "running"))
                        running++;
        }
        printf("tasks %zu running %zu\n", json_array_size(reply->json), running);
        finish(t, 0);
}

int main(int argc, char *argv[]) {
        Test t = {};
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: docker-client SOCKET COMMAND [ARGS]\n");
                return 2;
        }
        curl_global_init(CURL_GLOBAL_NOTHING);
        if (sd_event_new(&t.event) < 0 || docker_client_new(t.event, argv[1], 30, &t.docker) < 0)
                return 1;

        if (STREQ(argv[2], "info"))
                r = docker_get_info(t.docker, on_info, &t);
        else if (STREQ(argv[2], "node-conflict") && argc == 4) {
                t.node_id = argv[3];
                r = docker_inspect_node(t.docker, t.node_id, node_step, &t);
        } else if (STREQ(argv[2], "swarm-conflict"))
                r = docker_inspect_swarm(t.docker, swarm_step, &t);
        else if (STREQ(argv[2], "tasks") && argc == 4) {
                t.node_id = argv[3];
                r = docker_list_tasks(t.docker, t.node_id, on_tasks, &t);
        } else {
                fprintf(stderr, "docker-client: unknown command\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "docker-client: cannot start: %s\n", strerror(-r));
                return 1;
        }
        sd_event_loop(t.event);
        json_decref(t.spec);
        docker_client_free(t.docker);
        sd_event_unref(t.event);
        curl_global_cleanup();
        return t.failures ? 1 : 0;
}
