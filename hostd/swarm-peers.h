/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The Swarm's peers: every address another node of the Swarm sends from,
 * which every node's firewall admits to the Swarm's ports.
 *
 * Only managers can list the Swarm's nodes, so managers make the set and
 * hand it to every node over the node protocol (hostd/wave-fleetlock.h),
 * which nodes save for boot (FIREWALL_PEERS_FILE). A manager's set is, for
 * each node Docker lists (GET /nodes): its advertise address (Status.Addr,
 * and ManagerStatus.Addr's host), and the addresses the node itself
 * reported over the node protocol: its data-path address
 * (--data-path-addr), which Docker's API does not show. A node that leaves
 * the list leaves the set, with its report.
 *
 * This module holds no socket and logs nothing: it is the set, how it is
 * read from Docker's answers and from the node protocol, and how a node
 * finds its own addresses. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/cidr.h"
#include "common/macro.h"

/* A peer list longer than this is refused whole (a Swarm's nodes times
 * their addresses, with room). */
#define SWARM_PEERS_MAX 65536
/* A node reports at most this many addresses of its own. */
#define SWARM_NODE_ADDRESSES_MAX 16

typedef struct SwarmPeers SwarmPeers;

int swarm_peers_new(SwarmPeers **ret);
SwarmPeers *swarm_peers_free(SwarmPeers *p);
DEFINE_CLEANUP_FUNC(SwarmPeers, swarm_peers_free);

/* The node list (GET /nodes) read anew: which nodes are members, and their
 * advertise addresses. Reports of nodes no longer listed are dropped.
 * 1 when the set changed, 0 when not; -EPROTO when nodes is not an array
 * of objects with an ID (nothing changed), -ENOMEM. */
int swarm_peers_set_nodes(SwarmPeers *p, const json_t *nodes);

/* Checks a node's report of its own addresses: an array of at most
 * SWARM_NODE_ADDRESSES_MAX host addresses (IPv4 or IPv6, no prefix).
 * -EINVAL with err naming the element and what is wrong. */
int swarm_peers_check_report(const json_t *addresses, char *err, size_t err_size);

/* Keeps node_id's report (checked as above; -EINVAL changes nothing). A
 * report of a node not listed yet is kept until the next node list.
 * 1 when the set changed, 0 when not, -ENOMEM. */
int swarm_peers_put_report(SwarmPeers *p, const char *node_id, const json_t *addresses, char *err,
                           size_t err_size);

/* Whether a node list was read: before, the set is not the Swarm's and is
 * not handed out. */
bool swarm_peers_known(const SwarmPeers *p);

/* The reports, {"NODE_ID": ["10.0.0.1", ...], ...}, which a manager saves
 * (SWARM_REPORTS_FILE) so that a restart does not take every node's
 * data-path address out of its set until each reports again. */
#define SWARM_REPORTS_FILE "swarm-reports.json"
json_t *swarm_peers_reports_to_json(const SwarmPeers *p);
/* Takes the reports of such an object (each checked as a report; -EINVAL
 * with err naming the node, nothing taken). */
int swarm_peers_reports_from_json(SwarmPeers *p, const json_t *reports, char *err, size_t err_size);

/* Whether node_id reported its addresses since it was last listed. */
bool swarm_peers_has_report(const SwarmPeers *p, const char *node_id);

/* The set now: sorted, each address once; *ret_n its length. Valid until
 * the next change. */
const Cidr *swarm_peers_list(const SwarmPeers *p, size_t *ret_n);

/* A digest of the set (FNV-1a of its addresses, 63 bits): a node watching
 * a manager sends the digest of the set it has, and a manager whose set
 * differs answers at once. */
uint64_t swarm_peers_digest(const SwarmPeers *p);

/* ["10.0.0.1", "fd00::1", ...]: the set as the node protocol sends it. */
json_t *swarm_peers_to_json(const SwarmPeers *p);

/* Reads a manager's list (as swarm_peers_to_json writes it): an array of
 * host addresses, at most SWARM_PEERS_MAX, none the unspecified address.
 * -EINVAL with err naming the element ("peers[3]: ...") and what is
 * wrong; *ret (sorted, unique) and *ret_n only on success. */
int swarm_peers_parse(const json_t *list, Cidr **ret, size_t *ret_n, char *err, size_t err_size);

/* This node's own addresses, for its report: node_addr (/info's
 * Swarm.NodeAddr, the advertise address; NULL or "" skipped) and the
 * data-path address in swarm_root/swarm/docker-state.json ("DataPathAddr":
 * an address, or an interface name, read as the interface's addresses).
 * A missing state file or an empty DataPathAddr is no data-path address.
 * *ret is a JSON array of strings; -EINVAL with err naming the file when
 * it does not parse, -ENODEV naming an interface that is not there. */
int swarm_local_addresses(const char *swarm_root, const char *node_addr, json_t **ret, char *err,
                          size_t err_size);
