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
 *    "interval_seconds": 60,
 *    "plan": {"id": PLAN_ID, "generated_usec": REALTIME, "packages":
 *             [{"name", "arch", "from" (null: new), "to", "security"}]}}
 * "plan" (optional) is the node's latest patch plan, its included updates:
 * what a wave's approved set is frozen from (patching/wave.h).
 * A row's status: "pass", "fail", "stale" (no summary for three of the
 * node's intervals: its hostd is down or cannot reach this manager), or
 * "missing" (none ever received). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"

#define POSTURE_SUMMARY_MAX_FAILING 32
#define POSTURE_SUMMARY_MAX_PLAN 4096
#define POSTURE_STALE_INTERVALS 3

/* The summary of a report (posture_to_json's document). NULL: no memory. */
json_t *posture_summary_new(const json_t *report, const char *hostname, unsigned interval_sec, uint64_t now_usec);

/* The summary's "plan" from a patch plan (patch_plan_to_json's, made at
 * plan_usec, CLOCK_REALTIME): its included updates. NULL: no memory, or
 * more than POSTURE_SUMMARY_MAX_PLAN of them. */
json_t *posture_summary_plan(const json_t *plan, uint64_t plan_usec);

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

/* node_id's latest plan (its summary's "plan"), or NULL when its latest
 * summary had none or none came. */
const json_t *posture_board_plan(const PostureBoard *b, const char *node_id);

/* {node ID: plan} of every node whose latest summary had one (new). */
json_t *posture_board_plans(const PostureBoard *b);

/* The cluster view (the summaries without their plans): nodes is Docker's GET /nodes; the reply of
 * GET /v1/posture/cluster:
 *   {"nodes": [{"node_id", "hostname", "role", "availability", "state",
 *               "status", "age_seconds" (null when missing),
 *               "summary" (null when missing), "plan": {"id",
 *               "generated_usec", "packages": count} (null: none)}, ...],
 *    "compliant": true when every node passes,
 *    "counts": {"pass", "fail", "stale", "missing"}}
 * sorted by hostname. */
json_t *posture_cluster_view(const PostureBoard *b, const json_t *nodes, uint64_t now_usec);
