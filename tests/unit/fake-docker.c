/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "tests/unit/fake-docker.h"

#define MAX_REQUEST (1024 * 1024)

typedef struct Connection {
        FakeDocker *fake;
        int fd;
        sd_event_source *io;
        char *buf;
        size_t size;
        /* a call the handler holds */
        char method[16], target[512];
        char *body;
        struct Connection *next_held;
} Connection;

struct FakeDocker {
        sd_event *event;
        int listen_fd;
        sd_event_source *listen_io;
        char *socket_path;
        json_t *swarm, *nodes, *services, *tasks;
        bool tasks_linger;
        char *local_node;
        FakeDockerHandler handler;
        void *handler_userdata;
        Connection *held;
        char *drop_prefix;
        bool drop_after_effect;
        char *race_prefix;
        /* "METHOD PATH" of every request, in order */
        char **log;
        size_t n_log;
};

static void connection_free(Connection *c) {
        if (!c)
                return;
        sd_event_source_disable_unref(c->io);
        if (c->fd >= 0)
                close(c->fd);
        free(c->buf);
        free(c->body);
        free(c);
}

static uint64_t version_of(const json_t *o) {
        return (uint64_t) json_integer_value(json_object_get(json_object_get(o, "Version"), "Index"));
}

static void bump_version(json_t *o) {
        json_object_set_new(o, "Version", json_pack("{s:I}", "Index", (json_int_t) (version_of(o) + 1)));
}

static void write_all(int fd, const char *data, size_t size) {
        while (size > 0) {
                ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                data += n;
                size -= (size_t) n;
        }
}

static void reply(Connection *c, int status, json_t *body) {
        char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("");
        char head[256];
        int n;

        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Error", text ? strlen(text) : 0);
        write_all(c->fd, head, (size_t) n);
        if (text)
                write_all(c->fd, text, strlen(text));
        free(text);
        json_decref(body);
}

static json_t *error_body(const char *message) {
        return json_pack("{s:s}", "message", message);
}

/* The node ID a /tasks or /containers/json filter names, or NULL. */
static const char *filtered_node(const char *query, char *buf, size_t size) {
        const char *p = query ? strstr(query, "%22node%22%3A%5B%22") : NULL;
        size_t n;

        if (!p)
                return NULL;
        p += strlen("%22node%22%3A%5B%22");
        n = strcspn(p, "%");
        snprintf(buf, size, "%.*s", (int) MIN(n, size - 1), p);
        return buf;
}

/* An active node other than node_id, as the scheduler would pick, or NULL. */
static const char *other_active_node(FakeDocker *f, const char *node_id) {
        size_t i;
        json_t *n;

        json_array_foreach(f->nodes, i, n) {
                const char *id = json_string_value(json_object_get(n, "ID"));
                const char *availability = json_string_value(json_object_get(json_object_get(n, "Spec"), "Availability"));
                if (id && !STREQ(id, node_id) && STREQ_PTR(availability, "active"))
                        return id;
        }
        return NULL;
}

void fake_docker_stop_tasks(FakeDocker *f, const char *node_id) {
        size_t i, n = json_array_size(f->tasks);

        /* as Swarm does: each stopped task of a service is replaced on
         * another active node (none: the service stays short of it) */
        for (i = 0; i < n; i++) {
                json_t *t = json_array_get(f->tasks, i);
                const char *elsewhere;
                char task_id[200];

                if (!STREQ_PTR(json_string_value(json_object_get(t, "NodeID")), node_id) ||
                    !STREQ_PTR(json_string_value(json_object_get(t, "DesiredState")), "running"))
                        continue;
                json_object_set_new(t, "DesiredState", json_string("shutdown"));
                json_object_set_new(json_object_get(t, "Status"), "State", json_string("shutdown"));
                if (!(elsewhere = other_active_node(f, node_id)))
                        continue;
                snprintf(task_id, sizeof(task_id), "%s.r%zu", json_string_value(json_object_get(t, "ID")),
                         json_array_size(f->tasks));
                json_array_append_new(f->tasks, json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "ID", task_id, "ServiceID",
                                                          json_string_value(json_object_get(t, "ServiceID")), "NodeID",
                                                          elsewhere, "DesiredState", "running", "Status", "State",
                                                          "running"));
        }
}

/* The effect of an update; the status to answer. */
static int apply_update(FakeDocker *f, const char *path, const char *query, const char *body, json_t **ret) {
        json_error_t jerr;
        json_t *spec = json_loads(body ? body : "", 0, &jerr), *object = NULL;
        uint64_t version;
        char id[128] = "";

        if (!query || sscanf(query, "version=%" SCNu64, &version) != 1 || !json_is_object(spec)) {
                json_decref(spec);
                *ret = error_body("bad update");
                return 400;
        }
        if (STREQ(path, "/swarm/update"))
                object = f->swarm;
        else if (sscanf(path, "/nodes/%127[^/]/update", id) == 1)
                object = fake_docker_node(f, id);
        if (!object) {
                json_decref(spec);
                *ret = error_body("no such object");
                return 404;
        }
        if (version != version_of(object)) {
                json_decref(spec);
                *ret = error_body("rpc error: code = Unknown desc = update out of sequence");
                return 500;
        }
        json_object_set_new(object, "Spec", spec);
        bump_version(object);
        if (object != f->swarm && !f->tasks_linger &&
            STREQ_PTR(json_string_value(json_object_get(spec, "Availability")), "drain"))
                fake_docker_stop_tasks(f, id);
        *ret = NULL;
        return 200;
}

static int answer_get(FakeDocker *f, const char *path, const char *query, json_t **ret) {
        char node[128];
        const char *only = STREQ(path, "/containers/json") ? f->local_node : filtered_node(query, node, sizeof(node));
        size_t i;
        json_t *t;

        if (STREQ(path, "/swarm"))
                *ret = json_deep_copy(f->swarm);
        else if (STREQ(path, "/nodes"))
                *ret = json_deep_copy(f->nodes);
        else if (STREQ(path, "/services"))
                *ret = json_deep_copy(f->services);
        else if (STREQ(path, "/tasks") || STREQ(path, "/containers/json")) {
                bool containers = STREQ(path, "/containers/json");
                *ret = json_array();
                json_array_foreach(f->tasks, i, t) {
                        const char *state = json_string_value(json_object_get(json_object_get(t, "Status"), "State"));
                        if (only && !STREQ_PTR(json_string_value(json_object_get(t, "NodeID")), only))
                                continue;
                        if (!containers)
                                json_array_append(*ret, t);
                        else if (STREQ_PTR(state, "running"))
                                json_array_append_new(*ret, json_pack("{s:O, s:[s], s:{s:O}}", "Id",
                                                                      json_object_get(t, "ID"), "Names", "/task",
                                                                      "Labels", "com.docker.swarm.task.id",
                                                                      json_object_get(t, "ID")));
                }
        } else {
                *ret = error_body("page not found");
                return 404;
        }
        return 200;
}

/* Answers a call; false when the handler holds it. */
static bool handle(Connection *c, const char *method, char *target, const char *body, bool first) {
        FakeDocker *f = c->fake;
        char *query = strchr(target, '?'), line[600];
        bool drop = false;
        json_t *answer = NULL;
        int status;

        snprintf(line, sizeof(line), "%s %s", method, target);
        char **grown = first ? reallocarray(f->log, f->n_log + 1, sizeof(char *)) : NULL;
        if (grown) {
                f->log = grown;
                f->log[f->n_log++] = strdup(line);
        }
        if (f->drop_prefix && strncmp(line, f->drop_prefix, strlen(f->drop_prefix)) == 0) {
                drop = true;
                free(f->drop_prefix);
                f->drop_prefix = NULL;
                if (!f->drop_after_effect)
                        return true; /* closed by the caller, nothing done */
        }
        bool race = f->race_prefix && strncmp(line, f->race_prefix, strlen(f->race_prefix)) == 0;
        if (race) {
                free(f->race_prefix);
                f->race_prefix = NULL;
        }
        if (query)
                *query++ = '\0';
        if (race) {
                char id[128];
                json_t *object = STREQ(target, "/swarm/update") ? f->swarm :
                                 sscanf(target, "/nodes/%127[^/]/update", id) == 1 ? fake_docker_node(f, id) : NULL;
                if (object)
                        bump_version(object);
        }
        if (f->handler && strncmp(target, "/v1/", 4) == 0) {
                json_t *parsed = body && *body ? json_loads(body, 0, NULL) : NULL;
                status = f->handler(f->handler_userdata, method, target, query, parsed, &answer);
                json_decref(parsed);
                if (status == 0) {
                        if (query)
                                query[-1] = '?';
                        return false;
                }
        } else if (STREQ(method, "GET"))
                status = answer_get(f, target, query, &answer);
        else if (STREQ(method, "POST"))
                status = apply_update(f, target, query, body, &answer);
        else {
                status = 405;
                answer = error_body("method not allowed");
        }
        if (drop) {
                json_decref(answer);
                return true;
        }
        reply(c, status, answer);
        return true;
}

void fake_docker_retry_held(FakeDocker *f) {
        Connection *list = f->held;

        f->held = NULL;
        while (list) {
                Connection *c = list;
                list = c->next_held;
                c->next_held = NULL;
                if (handle(c, c->method, c->target, c->body, false))
                        connection_free(c);
                else {
                        c->next_held = f->held;
                        f->held = c;
                }
        }
}

/* A whole request: its head, and its body as Content-Length says. */
static bool complete(Connection *c, size_t *head_len, size_t *body_len) {
        char *end = memmem(c->buf, c->size, "\r\n\r\n", 4);
        const char *cl;

        if (!end)
                return false;
        *head_len = (size_t) (end - c->buf) + 4;
        *end = '\0';
        cl = strcasestr(c->buf, "\r\nContent-Length:");
        *body_len = cl ? strtoul(cl + strlen("\r\nContent-Length:"), NULL, 10) : 0;
        *end = '\r';
        return c->size >= *head_len + *body_len;
}

static int on_readable(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        Connection *c = userdata;
        size_t head_len, body_len;
        char method[16], target[512];
        ssize_t n;
        char *grown = realloc(c->buf, c->size + 65536 + 1);

        if (!grown) {
                connection_free(c);
                return 0;
        }
        c->buf = grown;
        n = read(fd, c->buf + c->size, 65536);
        if (n <= 0) {
                connection_free(c);
                return 0;
        }
        c->size += (size_t) n;
        c->buf[c->size] = '\0';
        if (c->size > MAX_REQUEST) {
                connection_free(c);
                return 0;
        }
        if (!complete(c, &head_len, &body_len))
                return 0;
        if (sscanf(c->buf, "%15s %511s", method, target) == 2) {
                char *body = strndup(c->buf + head_len, body_len);
                snprintf(c->method, sizeof(c->method), "%s", method);
                snprintf(c->target, sizeof(c->target), "%s", target);
                if (!handle(c, method, target, body, true)) {
                        /* held: no more reading; answered by a retry */
                        c->body = body;
                        sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
                        c->next_held = c->fake->held;
                        c->fake->held = c;
                        return 0;
                }
                free(body);
        }
        connection_free(c);
        return 0;
}

static int on_connection(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        FakeDocker *f = userdata;
        Connection *c;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (cfd < 0)
                return 0;
        c = calloc(1, sizeof(Connection));
        if (!c) {
                close(cfd);
                return 0;
        }
        *c = (Connection){ .fake = f, .fd = cfd };
        if (sd_event_add_io(f->event, &c->io, cfd, EPOLLIN, on_readable, c) < 0)
                connection_free(c);
        return 0;
}

int fake_docker_new(sd_event *event, const char *socket_path, FakeDocker **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        FakeDocker *f = calloc(1, sizeof(FakeDocker));

        if (!f)
                return -ENOMEM;
        f->event = event;
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        f->socket_path = strdup(socket_path);
        f->swarm = json_pack("{s:s, s:{s:i}, s:{s:s, s:{}}}", "ID", "swarm-1", "Version", "Index", 10, "Spec", "Name",
                             "default", "Labels");
        f->nodes = json_array();
        f->services = json_array();
        f->tasks = json_array();
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
        unlink(socket_path);
        if (f->listen_fd < 0 || !f->socket_path || bind(f->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            listen(f->listen_fd, 64) < 0 ||
            sd_event_add_io(event, &f->listen_io, f->listen_fd, EPOLLIN, on_connection, f) < 0) {
                fake_docker_free(f);
                return -errno ?: -EIO;
        }
        *ret = f;
        return 0;
}

FakeDocker *fake_docker_free(FakeDocker *f) {
        if (!f)
                return NULL;
        sd_event_source_disable_unref(f->listen_io);
        if (f->listen_fd >= 0)
                close(f->listen_fd);
        if (f->socket_path)
                unlink(f->socket_path);
        free(f->socket_path);
        json_decref(f->swarm);
        json_decref(f->nodes);
        json_decref(f->services);
        json_decref(f->tasks);
        while (f->held) {
                Connection *c = f->held;
                f->held = c->next_held;
                connection_free(c);
        }
        free(f->local_node);
        free(f->drop_prefix);
        free(f->race_prefix);
        for (size_t i = 0; i < f->n_log; i++)
                free(f->log[i]);
        free(f->log);
        free(f);
        return NULL;
}

json_t *fake_docker_swarm(FakeDocker *f) {
        return f->swarm;
}

json_t *fake_docker_nodes(FakeDocker *f) {
        return f->nodes;
}

json_t *fake_docker_services(FakeDocker *f) {
        return f->services;
}

json_t *fake_docker_tasks(FakeDocker *f) {
        return f->tasks;
}

json_t *fake_docker_node(FakeDocker *f, const char *id) {
        size_t i;
        json_t *n;

        json_array_foreach(f->nodes, i, n)
                if (STREQ_PTR(json_string_value(json_object_get(n, "ID")), id))
                        return n;
        return NULL;
}

void fake_docker_add_node(FakeDocker *f, const char *id, const char *hostname, bool manager, bool leader,
                          const char *addr) {
        char mgr_addr[80];
        json_t *n = json_pack("{s:s, s:{s:i}, s:{s:s, s:s, s:{}}, s:{s:s}, s:{s:s, s:s}}", "ID", id, "Version",
                              "Index", 1, "Spec", "Role", manager ? "manager" : "worker", "Availability", "active",
                              "Labels", "Description", "Hostname", hostname, "Status", "State", "ready", "Addr",
                              addr);

        snprintf(mgr_addr, sizeof(mgr_addr), "%s:2377", addr);
        if (manager)
                json_object_set_new(n, "ManagerStatus", json_pack("{s:b, s:s, s:s}", "Leader", leader,
                                                                  "Reachability", "reachable", "Addr", mgr_addr));
        json_array_append_new(f->nodes, n);
}

void fake_docker_add_service(FakeDocker *f, const char *id, const char *name, const char *const *task_nodes) {
        size_t n = 0;

        for (const char *const *t = task_nodes; t && *t; t++, n++) {
                char task_id[160];
                snprintf(task_id, sizeof(task_id), "%s.%zu", id, n + 1);
                json_array_append_new(f->tasks, json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "ID", task_id,
                                                          "ServiceID", id, "NodeID", *t, "DesiredState", "running",
                                                          "Status", "State", "running"));
        }
        json_array_append_new(f->services,
                              json_pack("{s:s, s:{s:i}, s:{s:s, s:{s:{s:I}}, s:{s:{s:[]}}}}", "ID", id, "Version",
                                        "Index", 1, "Spec", "Name", name, "Mode", "Replicated", "Replicas",
                                        (json_int_t) n, "TaskTemplate", "Placement", "Constraints"));
}

void fake_docker_set_tasks_linger(FakeDocker *f, bool linger) {
        f->tasks_linger = linger;
}

const char *fake_docker_availability(FakeDocker *f, const char *node_id) {
        return json_string_value(json_object_get(json_object_get(fake_docker_node(f, node_id), "Spec"), "Availability"));
}

const char *fake_docker_wave_label(FakeDocker *f) {
        return json_string_value(json_object_get(json_object_get(json_object_get(f->swarm, "Spec"), "Labels"),
                                                 "io.hostd.wave"));
}

void fake_docker_set_local_node(FakeDocker *f, const char *node_id) {
        free(f->local_node);
        f->local_node = node_id ? strdup(node_id) : NULL;
}

void fake_docker_set_handler(FakeDocker *f, FakeDockerHandler handler, void *userdata) {
        f->handler = handler;
        f->handler_userdata = userdata;
}

void fake_docker_drop_next(FakeDocker *f, const char *prefix, bool after_effect) {
        free(f->drop_prefix);
        f->drop_prefix = strdup(prefix);
        f->drop_after_effect = after_effect;
}

void fake_docker_race_next(FakeDocker *f, const char *prefix) {
        free(f->race_prefix);
        f->race_prefix = strdup(prefix);
}

unsigned fake_docker_count(const FakeDocker *f, const char *prefix) {
        unsigned n = 0;

        for (size_t i = 0; i < f->n_log; i++)
                if (f->log[i] && strncmp(f->log[i], prefix, strlen(prefix)) == 0)
                        n++;
        return n;
}
