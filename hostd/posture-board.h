/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The cluster view of the posture. Every node's hostd sends a summary of
 * its posture to every manager's hostd: every posture.report-seconds, and
 * with its wave calls (pre-reboot, steady-state), over the node protocol
 * (hostd/wave-fleetlock.h, POST /v1/posture, authenticated by the node's Swarm
 * certificate). A manager keeps the latest summary per node in a board, in
 * memory: the nodes send again within one interval, so a restarted or new
 * manager is complete again after it. `hostctl posture --cluster` on a
 * manager joins the board with the Swarm's node list: one row per node.
 *
 * A summary:
 *   {"hostname": "node1", "compliant": true, "pass": 18, "fail": 0,
 *    "warn": 2, "not_applicable": 3, "failing": ["firewall.exposed"],
 *    "hostd_version": "0.1.0", "generated_usec": REALTIME,
 *    "interval_seconds": 60}
 * A row's status: "pass", "fail", "stale" (no summary for three of the
 * node's intervals: its hostd is down or cannot reach this manager), or
 * "missing" (none ever received). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"

#define POSTURE_SUMMARY_MAX_FAILING 32
#define POSTURE_STALE_INTERVALS 3

/* The summary of a report (posture_to_json's document). NULL: no memory. */
json_t *posture_summary_new(const json_t *report, const char *hostname, unsigned interval_sec, uint64_t now_usec);

/* Checks a summary received from a node: 0, or -EINVAL with err naming
 * the member at fault. */
int posture_summary_validate(const json_t *summary, char *err, size_t err_size);

typedef struct PostureBoard PostureBoard;

int posture_board_new(PostureBoard **ret);
PostureBoard *posture_board_free(PostureBoard *b);
DEFINE_CLEANUP_FUNC(PostureBoard, posture_board_free);

/* Keeps a validated summary as node_id's latest, received at now_usec
 * (CLOCK_MONOTONIC). */
int posture_board_put(PostureBoard *b, const char *node_id, const json_t *summary, uint64_t now_usec);

/* The cluster view: nodes is Docker's GET /nodes; the reply of
 * GET /v1/posture/cluster:
 *   {"nodes": [{"node_id", "hostname", "role", "availability", "state",
 *               "status", "age_seconds" (null when missing),
 *               "summary" (null when missing)}, ...],
 *    "compliant": true when every node passes,
 *    "counts": {"pass", "fail", "stale", "missing"}}
 * sorted by hostname. */
json_t *posture_cluster_view(const PostureBoard *b, const json_t *nodes, uint64_t now_usec);
