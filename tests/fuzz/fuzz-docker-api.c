/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for hostd's readers of Docker Engine API answers, the
 * first byte choosing which: a GET /info body (0: the node's Swarm state and
 * the managers a worker knows), a GET /nodes body (1: the Swarm peers, each
 * node's leadership and version, its addresses), a JSON array [nodes,
 * services, tasks] of GET /nodes, /services and /tasks bodies (2: the
 * coordinator's view of the cluster) or a GET /containers/{id}/json body (3:
 * the seccomp audit, on a fake /proc). A body is read into a result that
 * says what it holds, or refused with -EPROTO, naming the field where the
 * reader has a way to, and leaving its result alone; never a crash or a
 * leak. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostd/docker-client.h"
#include "hostd/docker-cluster.h"
#include "hostd/lb-health.h"
#include "hostd/seccomp-audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
        do {                              \
                if (!(x))                 \
                        __builtin_trap(); \
        } while (0)

static const json_t *get(const json_t *o, const char *a, const char *b) {
        const json_t *v = json_object_get(o, a);
        return b ? json_object_get(v, b) : v;
}

/* A field holding a whole string, or "" for NULL. */
static bool holds(const char *field, size_t field_size, const char *s) {
        return strnlen(field, field_size) < field_size && STREQ(field, s ? s : "");
}

/* A field copied from a member that is a string, or "" when it is not. */
static bool copied(const char *field, size_t field_size, const json_t *v) {
        return holds(field, field_size, json_string_value(v));
}

/* A list of Swarm peers: host addresses (no prefix), none unset, none twice,
 * each the host part of one of the addresses it was read from. */
static void check_peers(const Cidr *list, int n, const char *const *from, size_t n_from) {
        for (int i = 0; i < n; i++) {
                const Cidr *c = &list[i];
                char text[64];
                bool found = false;

                CHECK(c->family == AF_INET || c->family == AF_INET6);
                CHECK(c->prefix == (c->family == AF_INET ? 32 : 128));
                cidr_format(c, text, sizeof(text));
                CHECK(!STREQ(text, "0.0.0.0") && !STREQ(text, "::"));
                for (int k = 0; k < i; k++)
                        CHECK(memcmp(&list[k], c, sizeof(*c)) != 0);
                for (size_t k = 0; k < n_from && !found; k++) {
                        char host[64];
                        found = from[k] && docker_address_host(from[k], host, sizeof(host)) == 0 &&
                                STREQ(host, text);
                }
                CHECK(found);
        }
}

/* Strings from the members named a.b of each object of an array. */
static const char **strings_of(const json_t *array, const char *a, const char *b) {
        const char **list = calloc(json_array_size(array) + 1, sizeof(char *));
        const json_t *o;
        size_t i;

        if (!list)
                abort();
        json_array_foreach(array, i, o)
                list[i] = json_string_value(get(o, a, b));
        return list;
}

static void fuzz_info(const json_t *info) {
        DockerSwarmInfo out, before;
        const char *what = NULL;
        Cidr *peers = NULL;
        int r;

        memset(&out, 0xa5, sizeof(out));
        before = out;
        r = docker_parse_info(info, &out, &what);
        if (r < 0) {
                CHECK(r == -EPROTO && what && what[0]);
                CHECK(memcmp(&out, &before, sizeof(out)) == 0);
        } else {
                const json_t *swarm = get(info, "Swarm", NULL);
                const char *state = json_string_value(get(swarm, "LocalNodeState", NULL));
                const json_t *control = get(swarm, "ControlAvailable", NULL);

                CHECK(r == 0 && json_is_object(info) && json_is_object(swarm) && state);
                CHECK(copied(out.hostname, sizeof(out.hostname), get(info, "Name", NULL)));
                CHECK(copied(out.server_version, sizeof(out.server_version), get(info, "ServerVersion", NULL)));
                CHECK(copied(out.root_dir, sizeof(out.root_dir), get(info, "DockerRootDir", NULL)));
                CHECK(copied(out.node_id, sizeof(out.node_id), get(swarm, "NodeID", NULL)));
                CHECK(copied(out.node_addr, sizeof(out.node_addr), get(swarm, "NodeAddr", NULL)));
                CHECK(copied(out.cluster_id, sizeof(out.cluster_id), get(swarm, "Cluster", "ID")));
                CHECK(copied(out.local_state, sizeof(out.local_state), get(swarm, "LocalNodeState", NULL)));
                /* the last seccomp entry of SecurityOptions names the profile */
                const char *profile = "";
                const json_t *opt;
                size_t i;
                json_array_foreach(get(info, "SecurityOptions", NULL), i, opt) {
                        const char *o = json_string_value(opt);
                        if (o && strncmp(o, "name=seccomp", 12) == 0 && strstr(o, ",profile="))
                                profile = strstr(o, ",profile=") + 9;
                }
                CHECK(holds(out.seccomp_profile, sizeof(out.seccomp_profile), profile));
                if (STREQ(state, "active") && out.node_id[0])
                        CHECK(out.role == (json_is_true(control) ? SWARM_ROLE_MANAGER : SWARM_ROLE_WORKER));
                else
                        CHECK(out.role == SWARM_ROLE_NONE);
        }

        const json_t *managers = get(get(info, "Swarm", NULL), "RemoteManagers", NULL);
        r = docker_info_manager_addresses(info, &peers);
        if (r < 0)
                CHECK(r == -EPROTO && managers && !json_is_array(managers) && !json_is_null(managers));
        else {
                const char **from = strings_of(managers, "Addr", NULL);
                CHECK((size_t) r <= json_array_size(managers));
                check_peers(peers, r, from, json_array_size(managers));
                free(from);
                free(peers);
        }
}

/* A host part: a bare address that reads back as itself. */
static void check_address_host(const char *addr) {
        char host[64], again[64];
        Cidr c;

        if (docker_address_host(addr, host, sizeof(host)) < 0)
                return;
        CHECK(cidr_parse(host, &c) == 0 && c.prefix == (c.family == AF_INET ? 32 : 128));
        CHECK(docker_address_host(host, again, sizeof(again)) == 0 && STREQ(host, again));
}

static void fuzz_nodes(const json_t *nodes) {
        const json_t *node;
        Cidr *peers = NULL;
        size_t i;
        int r;

        r = docker_nodes_addresses(nodes, &peers);
        if (r < 0)
                CHECK(r == -EPROTO && !json_is_array(nodes));
        else {
                const char **from = strings_of(nodes, "Status", "Addr");
                CHECK(json_is_array(nodes) && (size_t) r <= json_array_size(nodes));
                check_peers(peers, r, from, json_array_size(nodes));
                free(from);
                free(peers);
        }

        json_array_foreach(nodes, i, node) {
                const json_t *index = get(get(node, "Version", NULL), "Index", NULL);
                uint64_t version = 12345;

                CHECK(docker_node_is_leader(node) == json_is_true(get(get(node, "ManagerStatus", NULL), "Leader", NULL)));
                r = docker_object_version(node, &version);
                if (r < 0)
                        CHECK(r == -EPROTO && version == 12345 &&
                              (!json_is_integer(index) || json_integer_value(index) < 0));
                else
                        CHECK(json_is_integer(index) && version == (uint64_t) json_integer_value(index));
                check_address_host(json_string_value(get(node, "Status", "Addr")));
                check_address_host(json_string_value(get(node, "ManagerStatus", "Addr")));
        }
}

static size_t list_length(const char *const *list) {
        size_t n = 0;

        while (list && list[n])
                n++;
        return n;
}

static void fuzz_cluster(json_t *bodies) {
        json_t *nodes = json_array_get(bodies, 0), *services = json_array_get(bodies, 1),
               *tasks = json_array_get(bodies, 2);
        ClusterSnapshot *s = NULL;
        char why[256] = "";
        int r;

        if (!json_is_array(bodies))
                return;
        r = cluster_snapshot_new(nodes, services, tasks, &s, why, sizeof(why));
        if (r < 0) {
                CHECK(r == -EPROTO && why[0] && !s);
                return;
        }
        CHECK(r == 0 && s);

        const ClusterView *v = cluster_snapshot_view(s);
        size_t running = 0;

        CHECK(v->n_nodes == json_array_size(nodes) && v->n_services == json_array_size(services));
        for (size_t i = 0; i < v->n_nodes; i++) {
                const ClusterNode *n = &v->nodes[i];
                const json_t *node = json_array_get(nodes, i), *spec = get(node, "Spec", NULL);
                const json_t *labels = get(spec, "Labels", NULL);
                const char *role = json_string_value(get(spec, "Role", NULL));
                const char *availability = json_string_value(get(spec, "Availability", NULL));
                static const char *const availabilities[] = { "active", "pause", "drain" };

                CHECK(n->id && STREQ(n->id, json_string_value(get(node, "ID", NULL))) && n->hostname);
                CHECK(cluster_snapshot_node(s, n->id) && role && n->manager == STREQ(role, "manager"));
                CHECK(availability && (unsigned) n->availability < ELEMENTSOF(availabilities) &&
                      STREQ(availabilities[n->availability], availability));
                CHECK(n->ready == STREQ(json_string_value(get(node, "Status", "State")), "ready"));
                CHECK(!n->manager_reachable || n->manager);
                CHECK(list_length(n->labels) == json_object_size(labels));
                for (size_t k = 0; n->labels && n->labels[k]; k++) {
                        const char *eq = strchr(n->labels[k], '=');
                        char *key;

                        CHECK(eq);
                        /* the first '=' may be inside the key: find one that makes a label */
                        bool found = false;
                        for (; eq && !found; eq = strchr(eq + 1, '=')) {
                                key = strndup(n->labels[k], (size_t) (eq - n->labels[k]));
                                if (!key)
                                        abort();
                                found = STREQ_PTR(json_string_value(json_object_get(labels, key)), eq + 1);
                                free(key);
                        }
                        CHECK(found);
                }
                running += n->running_tasks;
        }
        CHECK(running <= json_array_size(tasks));
        for (size_t i = 0; i < v->n_services; i++) {
                const ClusterService *svc = &v->services[i];
                const json_t *spec = get(json_array_get(services, i), "Spec", NULL);
                const json_t *constraints = get(get(get(spec, "TaskTemplate", NULL), "Placement", NULL), "Constraints", NULL);

                CHECK(svc->name && STREQ(svc->name, json_string_value(get(spec, "Name", NULL))));
                CHECK(list_length(svc->constraints) == json_array_size(constraints));
                CHECK(list_length(svc->task_nodes) <= json_array_size(tasks));
                const json_t *replicated = get(get(spec, "Mode", NULL), "Replicated", NULL);
                CHECK(svc->replicated == (replicated && json_integer_value(get(replicated, "Replicas", NULL)) > 0));
        }
        cluster_snapshot_free(s);
}

/* A fake /proc with three processes, made on first use and removed at exit. */
static char proc_root[] = "/tmp/hostd-fuzz-proc.XXXXXX";
static const struct {
        int pid;
        const char *status;
        int mode;
} procs[] = {
        { 100, "Name:\tsleep\nSeccomp:\t2\nSeccomp_filters:\t1\n", 2 },
        { 200, "Name:\tsh\nSeccomp:\t0\nSeccomp_filters:\t0\n", 0 },
        { 300, "Name:\told\n", -1 },
};

static void proc_remove(void) {
        char path[128];

        for (size_t i = 0; i < ELEMENTSOF(procs); i++) {
                snprintf(path, sizeof(path), "%s/%d/status", proc_root, procs[i].pid);
                unlink(path);
                snprintf(path, sizeof(path), "%s/%d", proc_root, procs[i].pid);
                rmdir(path);
        }
        rmdir(proc_root);
}

static void proc_make(void) {
        static bool made;
        char path[128];
        FILE *f;

        if (made)
                return;
        if (!mkdtemp(proc_root))
                abort();
        atexit(proc_remove);
        for (size_t i = 0; i < ELEMENTSOF(procs); i++) {
                snprintf(path, sizeof(path), "%s/%d", proc_root, procs[i].pid);
                if (mkdir(path, 0755) < 0)
                        abort();
                snprintf(path, sizeof(path), "%s/%d/status", proc_root, procs[i].pid);
                f = fopen(path, "we");
                if (!f || fputs(procs[i].status, f) < 0 || fclose(f) != 0)
                        abort();
        }
        made = true;
}

/* A small baseline for judging the containers' own profiles: the input's
 * SecurityOpt profiles are parsed and judged too. */
static const SeccompBaseline *baseline(void) {
        static const char text[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
                                   "[\"read\", \"write\", \"exit\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
        static SeccompProfile *p;
        static SeccompAllowed allowed;
        static SeccompBaseline b = { .name = "the baseline" };
        SeccompError e = {};
        SeccompTarget host;

        if (!p) {
                if (seccomp_profile_parse(text, sizeof(text) - 1, &p, &e) < 0)
                        abort();
                seccomp_target_host(&host);
                if (seccomp_allowed(p, &host, &allowed) < 0)
                        abort();
                b.allowed = &allowed;
        }
        return &b;
}

/* The load balancer's serving ports: each one a "/tcp" binding's
 * HostPort, 1..65535, once, at most max. */
static void check_published(const json_t *inspect) {
        uint16_t ports[4];
        size_t n = lb_published_tcp_ports(inspect, ports, ELEMENTSOF(ports));
        const json_t *bindings = get(get(inspect, "NetworkSettings", NULL), "Ports", NULL);

        CHECK(n <= ELEMENTSOF(ports));
        for (size_t i = 0; i < n; i++) {
                const char *key;
                const json_t *list, *b;
                size_t k;
                bool found = false;
                char text[8];

                CHECK(ports[i] != 0);
                for (k = 0; k < i; k++)
                        CHECK(ports[k] != ports[i]);
                snprintf(text, sizeof(text), "%u", (unsigned) ports[i]);
                json_object_foreach((json_t *) bindings, key, list) {
                        if (strlen(key) < 4 || !STREQ(key + strlen(key) - 4, "/tcp"))
                                continue;
                        json_array_foreach(list, k, b)
                                found = found || STREQ_PTR(json_string_value(json_object_get(b, "HostPort")), text);
                }
                CHECK(found);
        }
}

static void fuzz_inspect(const json_t *inspect) {
        ContainerFinding f, before;
        int r;

        check_published(inspect);
        proc_make();
        memset(&f, 0xa5, sizeof(f));
        before = f;
        r = container_assess(inspect, proc_root, baseline(), &f);
        if (r < 0) {
                CHECK(r == -EPROTO || r == -ESRCH);
                CHECK(memcmp(&f, &before, sizeof(f)) == 0);
                return;
        }

        const json_t *state = get(inspect, "State", NULL), *host_config = get(inspect, "HostConfig", NULL);
        const char *id = json_string_value(get(inspect, "Id", NULL));
        int mode = -2;

        CHECK(r == 0 && json_is_true(get(state, "Running", NULL)));
        CHECK(json_is_integer(get(state, "Pid", NULL)) && f.pid == json_integer_value(get(state, "Pid", NULL)));
        for (size_t i = 0; i < ELEMENTSOF(procs); i++)
                if (procs[i].pid == f.pid)
                        mode = procs[i].mode;
        CHECK(f.seccomp_mode == mode);
        CHECK(id && STREQ(f.id, id) && strnlen(f.name, sizeof(f.name)) < sizeof(f.name));
        CHECK(f.privileged == json_is_true(get(host_config, "Privileged", NULL)));
        CHECK(f.compliant == !f.problem[0]);
        CHECK(!f.compliant || (f.seccomp_mode == 2 && !f.privileged && !f.seccomp_unconfined));

        json_t *out = container_finding_json(&f);
        CHECK(out && STREQ(json_string_value(json_object_get(out, "id")), f.id) &&
              STREQ(json_string_value(json_object_get(out, "name")), f.name));
        json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *j;

        if (size < 1)
                return 0;
        j = json_loadb((const char *) data + 1, size - 1, JSON_DECODE_ANY, NULL);
        if (!j)
                return 0;
        switch (data[0] % 4) {
        case 0:
                fuzz_info(j);
                break;
        case 1:
                fuzz_nodes(j);
                break;
        case 2:
                fuzz_cluster(j);
                break;
        default:
                fuzz_inspect(j);
        }
        json_decref(j);
        return 0;
}
