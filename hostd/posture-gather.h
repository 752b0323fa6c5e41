/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Gathering the host's posture: Docker's /info, its default bridge and its
 * containers are read in turn (on the event loop), the kernel's listeners,
 * interfaces and the patch state are looked at, and every check of
 * posture-checks.h is judged at once. For GET /v1/posture, GET /v1/metrics,
 * the node_exporter textfile and the summary each node sends the managers
 * (posture-board.h), and the managers' cluster view.
 *
 * What it is gathered from is asked of the daemon at each stage, through
 * PostureHost: the daemon's state may change between Docker's answers. */

#include <stdbool.h>
#include <stddef.h>

#include "hostd/api-server.h"
#include "hostd/docker-client.h"
#include "hostd/firewall-manager.h"
#include "hostd/patch-jobs.h"
#include "hostd/posture-board.h"
#include "hostd/seccomp-audit.h"
#include "hostd/wave-agent.h"
#include "policy/config.h"

/* The daemon's state as it is now, borrowed for one call. */
typedef struct PostureSources {
        const HostdConfig *config;
        const char *config_path;
        DockerClient *docker;                /* NULL: none */
        const char *docker_socket;
        bool docker_reachable;
        const DockerSwarmInfo *swarm;        /* NULL: not known */
        const ContainerFinding *containers;  /* as the seccomp audit last saw them */
        size_t n_containers;
        bool seccomp_restart_pending;
        bool seccomp_profile_ours;           /* dockerd's default, with the content installed */
        const char *seccomp_profile_problem; /* why not */
        FirewallManager *firewall;           /* NULL: none */
        PatchJobs *patch_jobs;               /* NULL: none */
        WaveAgent *agent;                    /* NULL: none */
        PostureBoard *board;                 /* NULL: not a manager serving the node protocol */
} PostureSources;

typedef struct PostureHost {
        void (*sources)(void *userdata, PostureSources *ret);
        void *userdata;
} PostureHost;

/* Each answers CALL when the posture is judged; host is copied. */
void posture_gather_report(const PostureHost *host, ControlCall *call);  /* GET /v1/posture */
void posture_gather_metrics(const PostureHost *host, ControlCall *call); /* GET /v1/metrics */
/* posture.textfile, when configured */
void posture_gather_textfile(const PostureHost *host);
/* this node's summary, sent to every manager by the wave agent, when the
 * node is in a Swarm */
void posture_gather_summary(const PostureHost *host);
/* GET /v1/posture/cluster: one row per node, from the board (managers) */
void posture_gather_cluster(const PostureHost *host, ControlCall *call);
