/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The load balancer's view of this node ("load-balancer" in hostd.json):
 * hostd answers HTTP GET on the health port, which the firewall admits from
 * the balancer's sources only, with 200 while the node is in service and
 * 503 (saying why) otherwise. The answer is decided at each request from
 * what hostd knows then: the balancer asks every few seconds, so nothing
 * needs keeping in step.
 *
 * Out of service:
 *   - from the moment a wave has chosen the node (its step draining, which
 *     begins with the wave's deregistration delay: the coordinator drains
 *     only after it, once the balancer has stopped sending), while it
 *     patches, and until it is active again (activating);
 *   - while its own wave agent's record says it is under way (waiting
 *     for its turn while drained, applying, rebooting, restarting Docker,
 *     verifying, reporting): so also after a restart of hostd, before it
 *     has heard from a manager;
 *   - while it is failed in a wave that is not over (halted, running or
 *     paused): its state is for the operator to look at;
 *   - while Docker cannot be reached (what runs here is not known);
 *   - with serving-ports: while no running container publishes one of them
 *     on the host (Swarm's host-mode publishing: a node without the task,
 *     as one just made active is until Swarm places one there again). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct LbHealthInput {
        const json_t *wave;          /* the wave as this node last saw it (wave-agent.h); NULL: none */
        const char *node_id;         /* this node's Swarm node ID; NULL or "": not a Swarm node */
        const char *agent_step;      /* this node's wave agent's recorded step (wave-node.h); NULL: none */
        bool docker_reachable;
        const uint16_t *serving_ports; /* load-balancer.serving-ports */
        size_t n_serving_ports;
        const uint16_t *published;   /* TCP ports the running containers publish on the host */
        size_t n_published;
} LbHealthInput;

/* 200 or 503, with why for people (and the balancer's logs). */
unsigned lb_health_decide(const LbHealthInput *in, char *why, size_t why_size);

/* The TCP ports a container publishes on the host, from its GET
 * /containers/{id}/json (NetworkSettings.Ports: {"80/tcp": [{"HostIp":
 * "0.0.0.0", "HostPort": "443"}]}); at most max, each once. */
size_t lb_published_tcp_ports(const json_t *inspect, uint16_t *ports, size_t max);
