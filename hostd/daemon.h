/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon: one sd-event loop owning the configuration, the control API
 * server and the Docker client, and what hostd currently knows of Docker and
 * the Swarm. Everything runs on the loop; nothing here blocks. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "hostd/api-server.h"
#include "hostd/posture-board.h"
#include "hostd/wave-coordinator.h"
#include "hostd/firewall-manager.h"
#include "hostd/patch-jobs.h"
#include "policy/config.h"

typedef struct Daemon Daemon;

/* Loads the configuration, opens the control socket (its calls go to api,
 * with the Daemon as userdata) and starts talking to Docker. Errors are
 * logged here and returned. */
int daemon_new(const char *config_path, const char *socket_path, ControlHandler api, Daemon **ret);
Daemon *daemon_free(Daemon *d);
DEFINE_CLEANUP_FUNC(Daemon, daemon_free);

/* Runs until SIGTERM/SIGINT; returns the exit code for main(). */
int daemon_run(Daemon *d);

/* What the daemon owns, for the control API's routes: the configuration
 * in force (and its file), how often it was reloaded, and the modules that
 * act; each NULL while not set up (the firewall when disabled, the
 * coordinator before Docker answered). */
const HostdConfig *daemon_config(const Daemon *d);
const char *daemon_config_path(const Daemon *d);
uint64_t daemon_reloads(const Daemon *d);
FirewallManager *daemon_firewall(Daemon *d);
PatchJobs *daemon_patch_jobs(Daemon *d);
Coordinator *daemon_coordinator(Daemon *d);
/* The nodes' posture summaries this manager has (NULL: none kept). */
PostureBoard *daemon_posture_board(Daemon *d);

/* Re-reads the configuration. On an invalid file, keeps the running one and
 * returns -EINVAL with the reason in err. */
int daemon_reload(Daemon *d, char *err, size_t err_size);

/* Applies the configuration file's firewall now, rolling back by itself
 * after timeout_sec unless confirmed (0: no confirmation needed). */
int daemon_firewall_apply(Daemon *d, unsigned timeout_sec, char *err, size_t err_size);

/* Installs the profile at source as dockerd's default (see
 * hostd/seccomp-install.h) and records the change. *reply gets what
 * changed; on failure err names the reason and nothing changed. */
int daemon_seccomp_install(Daemon *d, const char *source, json_t **reply, char *err, size_t err_size);

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

