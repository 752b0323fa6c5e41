/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <stdio.h>

#include "hostd/docker-cluster.h"

struct ClusterSnapshot {
        json_t *nodes_json, *services_json, *tasks_json;
        ClusterNode *nodes;
        size_t n_nodes;
        ClusterService *services;
        size_t n_services;
        char **strings; /* "key=value" labels and the NULL-terminated lists */
        size_t n_strings, allocated_strings;
        ClusterView view;
};

static void *keep(ClusterSnapshot *s, void *p) {
        if (!p)
                return NULL;
        if (s->n_strings == s->allocated_strings) {
                size_t want = MAX(s->allocated_strings * 2, (size_t) 32);
                char **grown = reallocarray(s->strings, want, sizeof(char *));
                if (!grown) {
                        free(p);
                        return NULL;
                }
                s->strings = grown;
                s->allocated_strings = want;
        }
        s->strings[s->n_strings++] = p;
        return p;
}

ClusterSnapshot *cluster_snapshot_free(ClusterSnapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_strings; i++)
                free(s->strings[i]);
        free(s->strings);
        free(s->nodes);
        free(s->services);
        json_decref(s->nodes_json);
        json_decref(s->services_json);
        json_decref(s->tasks_json);
        free(s);
        return NULL;
}

bool task_state_active(const char *state) {
        static const char *const active[] = { "new",      "allocated", "pending", "assigned", "accepted",
                                              "preparing", "ready",     "starting", "running",  NULL };
        for (const char *const *a = active; state && *a; a++)
                if (STREQ(*a, state))
                        return true;
        return false;
}

static const char *get_str(const json_t *o, const char *a, const char *b, const char *c) {
        const json_t *v = json_object_get(o, a);

        if (b)
                v = json_object_get(v, b);
        if (c)
                v = json_object_get(v, c);
        return json_string_value(v);
}

static int read_nodes(ClusterSnapshot *s, char *err, size_t err_size) {
        const json_t *node;
        size_t i;

        s->nodes = calloc(MAX(json_array_size(s->nodes_json), (size_t) 1), sizeof(ClusterNode));
        if (!s->nodes)
                return -ENOMEM;
        json_array_foreach(s->nodes_json, i, node) {
                ClusterNode *n = &s->nodes[s->n_nodes];
                const char *id = get_str(node, "ID", NULL, NULL), *role = get_str(node, "Spec", "Role", NULL);
                const char *availability = get_str(node, "Spec", "Availability", NULL);
                const char *state = get_str(node, "Status", "State", NULL);
                const json_t *labels = json_object_get(json_object_get(node, "Spec"), "Labels");
                const char *key;
                json_t *value;

                if (!id || !role || !availability || !state || (labels && !json_is_object(labels))) {
                        snprintf(err, err_size, "/nodes[%zu] (%s): no ID, Spec.Role, Spec.Availability or Status.State",
                                 i, id ? id : "?");
                        return -EPROTO;
                }
                n->id = id;
                n->hostname = get_str(node, "Description", "Hostname", NULL);
                if (!n->hostname)
                        n->hostname = id;
                n->manager = STREQ(role, "manager");
                n->ready = STREQ(state, "ready");
                if (STREQ(availability, "active"))
                        n->availability = AVAILABILITY_ACTIVE;
                else if (STREQ(availability, "pause"))
                        n->availability = AVAILABILITY_PAUSE;
                else if (STREQ(availability, "drain"))
                        n->availability = AVAILABILITY_DRAIN;
                else {
                        snprintf(err, err_size, "/nodes[%zu] (%s): unknown availability \"%s\"", i, id, availability);
                        return -EPROTO;
                }
                if (n->manager) {
                        const char *reach = get_str(node, "ManagerStatus", "Reachability", NULL);
                        n->manager_reachable = reach && STREQ(reach, "reachable");
                }
                char **list = keep(s, calloc(json_object_size(labels) + 1, sizeof(char *)));
                size_t k = 0;
                if (!list)
                        return -ENOMEM;
                json_object_foreach((json_t *) labels, key, value) {
                        char *l;
                        if (!json_is_string(value)) {
                                snprintf(err, err_size, "/nodes[%zu] (%s): label \"%s\" is not a string", i, id, key);
                                return -EPROTO;
                        }
                        if (asprintf(&l, "%s=%s", key, json_string_value(value)) < 0 || !keep(s, l))
                                return -ENOMEM;
                        list[k++] = l;
                }
                n->labels = (const char *const *) list;
                s->n_nodes++;
        }
        return 0;
}

static ClusterNode *find_node(ClusterSnapshot *s, const char *id) {
        for (size_t i = 0; id && i < s->n_nodes; i++)
                if (STREQ(s->nodes[i].id, id))
                        return &s->nodes[i];
        return NULL;
}

static int read_services(ClusterSnapshot *s, char *err, size_t err_size) {
        const json_t *svc, *task;
        size_t i, k;

        s->services = calloc(MAX(json_array_size(s->services_json), (size_t) 1), sizeof(ClusterService));
        if (!s->services)
                return -ENOMEM;
        json_array_foreach(s->services_json, i, svc) {
                ClusterService *cs = &s->services[s->n_services++];
                const char *id = get_str(svc, "ID", NULL, NULL), *name = get_str(svc, "Spec", "Name", NULL);
                const json_t *mode = json_object_get(json_object_get(svc, "Spec"), "Mode");
                const json_t *replicated = json_object_get(mode, "Replicated");
                const json_t *constraints = json_object_get(
                        json_object_get(json_object_get(json_object_get(svc, "Spec"), "TaskTemplate"), "Placement"),
                        "Constraints");
                const json_t *c;

                if (!id || !name || !json_is_object(mode) || (constraints && !json_is_array(constraints))) {
                        snprintf(err, err_size, "/services[%zu] (%s): no ID, Spec.Name or Spec.Mode", i, id ? id : "?");
                        return -EPROTO;
                }
                cs->name = name;
                json_int_t replicas = json_integer_value(json_object_get(replicated, "Replicas"));
                cs->replicated = replicated && replicas > 0;
                cs->desired = cs->replicated ? (unsigned) MIN(replicas, (json_int_t) UINT_MAX) : 0;
                char **list = keep(s, calloc(json_array_size(constraints) + 1, sizeof(char *)));
                if (!list)
                        return -ENOMEM;
                json_array_foreach(constraints, k, c) {
                        if (!json_is_string(c)) {
                                snprintf(err, err_size, "/services[%zu] (%s): a constraint that is not a string", i, name);
                                return -EPROTO;
                        }
                        list[k] = (char *) json_string_value(c);
                }
                cs->constraints = (const char *const *) list;
                /* the nodes its live tasks are on */
                char **nodes = keep(s, calloc(json_array_size(s->tasks_json) + 1, sizeof(char *)));
                size_t n = 0;
                if (!nodes)
                        return -ENOMEM;
                json_array_foreach(s->tasks_json, k, task) {
                        const char *sid = get_str(task, "ServiceID", NULL, NULL), *nid = get_str(task, "NodeID", NULL, NULL);
                        const char *state = get_str(task, "Status", "State", NULL);
                        const char *desired = get_str(task, "DesiredState", NULL, NULL);
                        if (!sid || !STREQ(sid, id))
                                continue;
                        if (nid && task_state_active(state))
                                nodes[n++] = (char *) nid;
                        /* converged counts the tasks meant to run that do */
                        if (state && STREQ(state, "running") && desired && STREQ(desired, "running"))
                                cs->running++;
                }
                cs->task_nodes = (const char *const *) nodes;
        }
        return 0;
}

int cluster_snapshot_new(json_t *nodes, json_t *services, json_t *tasks, ClusterSnapshot **ret, char *err,
                         size_t err_size) {
        _cleanup_(cluster_snapshot_freep) ClusterSnapshot *s = calloc(1, sizeof(ClusterSnapshot));
        const json_t *task;
        size_t i;
        int r;

        if (!s)
                return -ENOMEM;
        if (!json_is_array(nodes) || !json_is_array(services) || !json_is_array(tasks)) {
                snprintf(err, err_size, "/nodes, /services and /tasks must each be an array");
                return -EPROTO;
        }
        s->nodes_json = json_incref(nodes);
        s->services_json = json_incref(services);
        s->tasks_json = json_incref(tasks);
        if ((r = read_nodes(s, err, err_size)) < 0 || (r = read_services(s, err, err_size)) < 0)
                return r;
        /* tasks still holding each node: what a drain waits for */
        json_array_foreach(tasks, i, task) {
                const char *state = get_str(task, "Status", "State", NULL);
                ClusterNode *n = find_node(s, get_str(task, "NodeID", NULL, NULL));
                if (!state) {
                        snprintf(err, err_size, "/tasks[%zu] (%s): no Status.State", i,
                                 get_str(task, "ID", NULL, NULL) ? get_str(task, "ID", NULL, NULL) : "?");
                        return -EPROTO;
                }
                if (n && task_state_active(state))
                        n->running_tasks++;
        }
        s->view = (ClusterView){ .nodes = s->nodes, .n_nodes = s->n_nodes, .services = s->services,
                                 .n_services = s->n_services };
        *ret = TAKE_PTR(s);
        return 0;
}

const ClusterView *cluster_snapshot_view(const ClusterSnapshot *s) {
        return &s->view;
}

const json_t *cluster_snapshot_node(const ClusterSnapshot *s, const char *id) {
        const json_t *node;
        size_t i;

        json_array_foreach(s->nodes_json, i, node) {
                const char *nid = json_string_value(json_object_get(node, "ID"));
                if (nid && STREQ(nid, id))
                        return node;
        }
        return NULL;
}
