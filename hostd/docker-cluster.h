/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The Swarm as the wave coordinator sees it, read from the Engine API's
 * GET /nodes, /services and /tasks: a ClusterView (patching/wave.h) and the
 * strings it points to. What the wave's guards depend on is read strictly;
 * a malformed object is an error naming it, and the coordinator then does
 * nothing rather than act on a guess. */

#include <jansson.h>

#include "common/macro.h"
#include "patching/wave.h"

typedef struct ClusterSnapshot ClusterSnapshot;

/* Takes references to the three arrays (not stolen). */
int cluster_snapshot_new(json_t *nodes, json_t *services, json_t *tasks, ClusterSnapshot **ret, char *err,
                         size_t err_size);
ClusterSnapshot *cluster_snapshot_free(ClusterSnapshot *s);
DEFINE_CLEANUP_FUNC(ClusterSnapshot, cluster_snapshot_free);

const ClusterView *cluster_snapshot_view(const ClusterSnapshot *s);

/* The node object as /nodes gave it (for its Version.Index and Spec), or
 * NULL. */
const json_t *cluster_snapshot_node(const ClusterSnapshot *s, const char *id);

/* A task state that still holds the node: everything before it has ended
 * (new .. running, and "remove" is not one). */
bool task_state_active(const char *state);
