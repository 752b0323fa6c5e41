/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon: one sd-event loop owning the configuration, the control API
 * server and the Docker client, and what hostd currently knows of Docker and
 * the Swarm. Everything runs on the loop; nothing here blocks. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "hostd/seccomp-audit.h"
#include "hostd/change-log.h"
#include "hostd/api-server.h"
#include "hostd/wave-coordinator.h"
#include "hostd/docker-client.h"
#include "hostd/firewall-manager.h"
#include "hostd/patch-jobs.h"
#include "hostd/posture-board.h"
#include "policy/config.h"

typedef struct Daemon {
        sd_event *event;
        char *config_path;
        char *socket_path;
        HostdConfig *config;
        ControlServer *control;
        ChangeLog *changes;       /* every change hostd makes, see hostd/change-log.h */

        DockerClient *docker;
        char *docker_socket;
        bool docker_reachable;    /* last call or the event stream succeeded */
        bool events_connected;
        int docker_error;         /* last failure, negative errno */
        char docker_error_message[256];
        DockerSwarmInfo swarm;    /* valid when swarm_known */
        bool swarm_known;
        bool is_leader;
        bool info_in_flight;
        uint64_t events_received;
        uint64_t info_reads;      /* completed /info reads, event- or timer-driven */
        uint64_t stream_connects;
        sd_event_source *refresh_timer;
        bool nodes_in_flight;

        ContainerFinding *containers; /* running containers, as last assessed */
        size_t n_containers;
        uint64_t containers_stopped;
        bool seccomp_restart_pending; /* installed; dockerd not restarted since */

        FirewallManager *firewall; /* NULL when the firewall is disabled and
                                    * netlink is not available */

        PatchJobs *patch_jobs;
        sd_event_source *patch_check_timer; /* plans every patching.check-hours */
        sd_event_source *textfile_timer;    /* posture.textfile-seconds */
        sd_event_source *report_timer;      /* posture.report-seconds */
        PostureBoard *posture_board;        /* the nodes' summaries (managers) */
        Coordinator *coordinator; /* with the Docker client; NULL before */
        struct FleetLockServer *fleetlock; /* managers only */
        struct WaveAgent *agent;  /* this node's part in waves */
        sd_event_source *certs_watch, *certs_settle; /* Swarm certificate rotation */

        uint64_t started_realtime_usec;
        uint64_t started_monotonic_usec;
        uint64_t reloads;
} Daemon;

/* Loads the configuration, opens the control socket (its calls go to api,
 * with the Daemon as userdata) and starts talking to Docker. Errors are
 * logged here and returned. */
int daemon_new(const char *config_path, const char *socket_path, ControlHandler api, Daemon **ret);
Daemon *daemon_free(Daemon *d);
DEFINE_CLEANUP_FUNC(Daemon, daemon_free);

/* Runs until SIGTERM/SIGINT; returns the exit code for main(). */
int daemon_run(Daemon *d);

/* Re-reads the configuration. On an invalid file, keeps the running one and
 * returns -EINVAL with the reason in why. */
int daemon_reload(Daemon *d, char *why, size_t why_size);

/* Applies the configuration file's firewall now, rolling back by itself
 * after timeout_sec unless confirmed (0: no confirmation needed). */
int daemon_firewall_apply(Daemon *d, unsigned timeout_sec, char *why, size_t why_size);

/* Installs the profile at source as dockerd's default (see
 * hostd/seccomp-install.h) and records the change. *reply gets what
 * changed; on failure why names the reason and nothing changed. */
int daemon_seccomp_install(Daemon *d, const char *source, json_t **reply, char *why, size_t why_size);

/* {"containers": [...], "compliant": bool, "enforcement": "report"|"stop"} */
json_t *daemon_seccomp_audit_json(const Daemon *d);

/* The patch request the configuration makes of op: its root, state
 * directory and policy. Valid while the configuration is not reloaded;
 * *state_dir is allocated. */
int daemon_patch_request(const Daemon *d, PatchOp op, PatchRequest *ret, char **state_dir);

/* The status document served by GET /v1/status. */
json_t *daemon_status_json(const Daemon *d);

/* Answers GET /v1/posture: reads what the checks need (Docker's /info,
 * default bridge and containers; the kernel's listening sockets and
 * hostd's table) and judges them (hostd/posture-checks.h). */
void daemon_posture(Daemon *d, ControlCall *call);
/* GET /v1/metrics: the same, and the firewall's drops and the wave's
 * progress, in Prometheus' text format. */
void daemon_metrics(Daemon *d, ControlCall *call);
/* The same metrics into posture.textfile, for node_exporter's textfile
 * collector (nothing when it is not set). */
void daemon_metrics_textfile(Daemon *d);

/* Sends this node's posture summary to the managers (every
 * posture.report-seconds). */
void daemon_posture_report(Daemon *d);
/* GET /v1/posture/cluster, on managers: hostd/posture-board.h. */
void daemon_posture_cluster(Daemon *d, ControlCall *call);

