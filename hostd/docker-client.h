/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* An asynchronous Docker Engine API client on an sd-event loop: libcurl's
 * multi interface over dockerd's unix socket, jansson for bodies.
 *
 * Every call starts a request and returns at once; its handler runs exactly
 * once, later, from the event loop (never from inside the call), unless the
 * client is freed first, which cancels pending requests silently. Handlers
 * may start new requests but must not free the client.
 *
 * Errors in DockerReply.error (negative errno):
 *   -ECONNREFUSED / -ENOENT   dockerd not running (socket refused / absent)
 *   -ETIMEDOUT                no answer within the request timeout
 *   -ESTALE                   optimistic-concurrency conflict: the object's
 *                             version changed since it was read ("update out
 *                             of sequence"); re-read it and retry
 *   -ENOTCONN                 swarm API on a node that is not in a swarm
 *   -EPERM                    swarm API that needs a manager, on a worker
 *   -ENXIO                    no such object (404)
 *   -EPROTO                   any other non-2xx status, or a malformed body
 *   -EIO                      other transport failures
 * DockerReply.message then says what happened in Docker's own words when
 * dockerd sent any. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/cidr.h"
#include "common/macro.h"

typedef struct DockerClient DockerClient;

typedef struct DockerReply {
        int error;           /* 0 or negative errno (see above) */
        long status;         /* HTTP status, 0 when none was received */
        const json_t *json;  /* parsed body, valid during the handler; may be NULL */
        const char *message; /* error text, NULL on success */
} DockerReply;

typedef void (*DockerReplyHandler)(const DockerReply *reply, void *userdata);

int docker_client_new(sd_event *event, const char *socket_path, unsigned timeout_sec,
                      DockerClient **ret);
DockerClient *docker_client_free(DockerClient *client);
DEFINE_CLEANUP_FUNC(DockerClient, docker_client_free);

const char *docker_client_socket(const DockerClient *client);

/* Drops every request made with this userdata (not the event stream),
 * without calling its handler: for a user of a client it does not own that
 * goes away before its answers. */
void docker_cancel(DockerClient *client, void *userdata);

/* The same client over HTTPS to a peer's hostd: the node protocol of patch
 * waves (hostd/wave-fleetlock.h), which is JSON over HTTP like the Engine API.
 * The client presents cert_file/key_file and trusts only ca_file; the
 * peer's certificate must carry the name host, whatever address it is
 * reached at. extra_header is sent with every request (NULL: none).
 * Connection failures are -ECONNREFUSED; a peer whose certificate ca_file
 * did not sign (another cluster's), or that does not carry the name host,
 * -EKEYREJECTED; other TLS failures -EPROTO; each with curl's words in the
 * message. */
typedef struct HttpsPeer {
        const char *host;    /* the name checked in the peer's certificate */
        const char *address; /* IPv4 or IPv6 address connected to */
        uint16_t port;
        const char *cert_file, *key_file, *ca_file;
        const char *extra_header;
} HttpsPeer;

int docker_client_new_https(sd_event *event, const HttpsPeer *peer, unsigned timeout_sec, DockerClient **ret);

/* The same client to a plain http:// or https:// base URL (Alertmanager's),
 * paths appended to it; https verifies with the system's CAs. */
int docker_client_new_url(sd_event *event, const char *base_url, unsigned timeout_sec, DockerClient **ret);

/* A raw call: method "GET"/"POST", path with query ("/nodes?filters=..."),
 * body serialised when non-NULL (not stolen). */
int docker_call(DockerClient *client, const char *method, const char *path,
                const json_t *body, DockerReplyHandler handler, void *userdata);

/* The calls hostd makes. ids are Docker node IDs; versions are the
 * Version.Index read with the object. */
int docker_get_info(DockerClient *client, DockerReplyHandler handler, void *userdata);
int docker_list_nodes(DockerClient *client, DockerReplyHandler handler, void *userdata);
int docker_inspect_node(DockerClient *client, const char *node_id,
                        DockerReplyHandler handler, void *userdata);
int docker_update_node(DockerClient *client, const char *node_id, uint64_t version,
                       const json_t *spec, DockerReplyHandler handler, void *userdata);
int docker_list_tasks(DockerClient *client, const char *node_id /* NULL: all */,
                      DockerReplyHandler handler, void *userdata);
int docker_inspect_swarm(DockerClient *client, DockerReplyHandler handler, void *userdata);
int docker_list_containers(DockerClient *client, DockerReplyHandler handler, void *userdata); /* running */
int docker_inspect_container(DockerClient *client, const char *id, DockerReplyHandler handler,
                             void *userdata);
int docker_stop_container(DockerClient *client, const char *id, unsigned timeout_sec,
                          DockerReplyHandler handler, void *userdata);
int docker_update_swarm(DockerClient *client, uint64_t version, const json_t *spec,
                        DockerReplyHandler handler, void *userdata);

/* The /events stream, kept open: each event object is passed to on_event;
 * on_state reports connected=true once dockerd accepted the stream, and
 * connected=false (with the error) when it ends, after which the client
 * reconnects by itself with exponential backoff (100 ms doubling to 5 s,
 * reset on success). Only one stream per client. */
typedef void (*DockerEventHandler)(const json_t *event, void *userdata);
typedef void (*DockerStreamHandler)(bool connected, int error, void *userdata);
int docker_events_start(DockerClient *client, DockerEventHandler on_event,
                        DockerStreamHandler on_state, void *userdata);
void docker_events_stop(DockerClient *client);

/* How the /events body is split into events: dockerd writes one JSON object
 * per line. Parses each complete (newline-terminated) line of buf[0, size)
 * and passes those that are JSON objects to on_event, in order, borrowed for
 * the call; empty lines and lines that are not an object are skipped. Returns
 * the number of bytes used: up to and including the last newline (0 when
 * there is none); what follows is the start of a line still to come. */
size_t docker_events_split(const char *buf, size_t size, DockerEventHandler on_event, void *userdata);

/* What /info says about this node's place in the Swarm. */
typedef enum SwarmRole {
        SWARM_ROLE_NONE,    /* not in a swarm (or not active) */
        SWARM_ROLE_WORKER,
        SWARM_ROLE_MANAGER,
} SwarmRole;

typedef struct DockerSwarmInfo {
        char node_id[64];     /* empty when not in a swarm */
        char node_addr[64];
        char cluster_id[64];
        char local_state[16]; /* inactive, pending, active, error, locked */
        char hostname[256];
        char server_version[64];
        char root_dir[256];   /* DockerRootDir: its swarm/certificates hold the
                               * node's Swarm certificate and CA */
        /* "name=seccomp,profile=X" in SecurityOptions: "default" or
         * "builtin" (newer releases) for Docker's own, a path for a file;
         * empty when seccomp is not in use */
        char seccomp_profile[256];
        SwarmRole role;
} DockerSwarmInfo;

/* Parses a /info body. -EPROTO with *what naming the field when it is not
 * what the Engine API documents, or a string too long for its field here
 * (refused, never cut); *ret is only written on success. */
int docker_parse_info(const json_t *info, DockerSwarmInfo *ret, const char **what);

/* From a /nodes/{id} body: whether that node is the Raft leader. */
bool docker_node_is_leader(const json_t *node);

/* The Version.Index of a node or swarm object; -EPROTO when absent. */
int docker_object_version(const json_t *object, uint64_t *ret);

const char *swarm_role_to_string(SwarmRole role);

/* The host part of a Swarm address ("10.0.0.1:2377", "[fd00::1]:2377",
 * a bare address) as text ("10.0.0.1", "fd00::1"); -EINVAL when there is
 * no address in it, or a prefix ("10.0.0.0/8") instead of one. */
int docker_address_host(const char *addr, char *buf, size_t size);

/* dockerd's own pidfile (its --pidfile default) */
#define DOCKERD_PIDFILE "/var/run/docker.pid"

/* The pid of the dockerd serving the Docker socket: the socket's peer
 * (SO_PEERCRED) when that is dockerd itself. A socket systemd made
 * (docker.socket, dockerd -H fd://) has for peer the process that listened,
 * systemd: the dockerd is then the one pidfile names (NULL: none). A
 * process that is not dockerd (/proc/PID/comm) is never answered: -ESRCH.
 * Never blocks: a socket whose backlog is full is -EAGAIN. */
int docker_daemon_pid(const char *socket_path, const char *pidfile, pid_t *ret);

/* The Swarm peers a node knows: from a /nodes body (managers), each node's
 * Status.Addr; from a /info body (workers), the RemoteManagers' addresses.
 * Unset addresses (0.0.0.0, "") and anything but a host address (a prefix,
 * a name) are skipped, duplicates folded. Returns the number of addresses
 * in *ret (malloc'd), or -EPROTO when the body is not what the Engine API
 * documents. */
int docker_nodes_addresses(const json_t *nodes, Cidr **ret);
int docker_info_manager_addresses(const json_t *info, Cidr **ret);
