/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A fake Docker Engine for unit tests of what talks to dockerd on the event
 * loop (the wave coordinator, the wave agent): a Unix socket answering
 * HTTP/1.1 from a small Swarm model kept as Engine API JSON, on the test's
 * sd-event loop, one request per connection.
 *   GET  /swarm, /nodes, /services, /tasks[?filters={"node":[ID]}],
 *        /containers/json[?filters=...] (this node's task containers)
 *   POST /swarm/update?version=N, /nodes/ID/update?version=N: a version
 *        other than the object's is refused as Swarm refuses it (HTTP 500
 *        "update out of sequence"); an accepted update bumps the version.
 * Draining a node shuts its tasks down at once unless tasks_linger is set.
 * Faults: the next matching request can be dropped (the connection closed
 * without an answer) before or after its effect, as a lost answer. */

#include <jansson.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct FakeDocker FakeDocker;

int fake_docker_new(sd_event *event, const char *socket_path, FakeDocker **ret);
FakeDocker *fake_docker_free(FakeDocker *f);

/* The model, to read and change between steps. */
json_t *fake_docker_swarm(FakeDocker *f); /* the /swarm object */
json_t *fake_docker_nodes(FakeDocker *f); /* arrays as /nodes, /services and /tasks answer */
json_t *fake_docker_services(FakeDocker *f);
json_t *fake_docker_tasks(FakeDocker *f);
json_t *fake_docker_node(FakeDocker *f, const char *id); /* NULL: none */

void fake_docker_add_node(FakeDocker *f, const char *id, const char *hostname, bool manager, bool leader,
                          const char *addr);
/* A replicated service with one running task on each node named. */
void fake_docker_add_service(FakeDocker *f, const char *id, const char *name, const char *const *task_nodes);
/* Tasks of drained nodes keep running until fake_docker_stop_tasks. */
void fake_docker_set_tasks_linger(FakeDocker *f, bool linger);
void fake_docker_stop_tasks(FakeDocker *f, const char *node_id);
/* A node's Spec.Availability ("active", "drain"), or NULL. */
const char *fake_docker_availability(FakeDocker *f, const char *node_id);
/* The wave label of the Swarm spec (io.hostd.wave), or NULL. */
const char *fake_docker_wave_label(FakeDocker *f);

/* /containers/json answers the running tasks of this node only (the
 * dockerd of the node a test plays); NULL: every node's. */
void fake_docker_set_local_node(FakeDocker *f, const char *node_id);

/* Paths under /v1/ (hostd's own API: a manager's node protocol) go to
 * handler: it answers (returns the HTTP status, *ret the body, stolen) or
 * holds the call (returns 0), as a long poll does. fake_docker_retry_held
 * gives every held call to the handler again. */
typedef int (*FakeDockerHandler)(void *userdata, const char *method, const char *path, const char *query,
                                 const json_t *body, json_t **ret);
void fake_docker_set_handler(FakeDocker *f, FakeDockerHandler handler, void *userdata);
void fake_docker_retry_held(FakeDocker *f);

/* The next request whose "METHOD PATH" starts with prefix is answered by
 * closing the connection: before its effect, or (after_effect) once the
 * update is made, as an answer lost on the way back. */
void fake_docker_drop_next(FakeDocker *f, const char *prefix, bool after_effect);
/* The next update whose "METHOD PATH" starts with prefix finds its object
 * changed by another writer just before it (its version bumped), as when
 * another manager wrote between this one's read and its write. */
void fake_docker_race_next(FakeDocker *f, const char *prefix);

/* Requests answered (or dropped) so far whose "METHOD PATH" starts with prefix. */
unsigned fake_docker_count(const FakeDocker *f, const char *prefix);
