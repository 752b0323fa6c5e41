/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A node's own record of its way through a wave, kept under the state
 * directory (wave-node.json, written with fsync and rename before each step
 * starts), so that a crash or a reboot at any step resumes it: a finished
 * step is never repeated, and the node is never left drained because it
 * forgot it was in a wave. Pure logic and the file; the node agent in hostd
 * does the steps.
 *
 * Steps, in order:
 *   idle       not in a wave
 *   staged     the wave named this node; its patches are staged
 *   waiting    asking the coordinator for its turn (pre-reboot)
 *   applying   the patch transaction is running
 *   rebooting  applied, a reboot was asked for (boot_id is the boot it was
 *              asked in)
 *   docker-restart  applied, no reboot needed, but a seccomp install waits
 *              for dockerd's restart: dockerd is being restarted
 *   verifying  checking its health after the change
 *   reporting  telling the coordinator (steady-state) how it went
 * and back to idle once the coordinator took the report.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/json.h"

typedef enum WaveNodeStep {
        AGENT_IDLE,
        AGENT_STAGED,
        AGENT_WAITING,
        AGENT_APPLYING,
        AGENT_REBOOTING,
        AGENT_DOCKER_RESTART,
        AGENT_VERIFYING,
        AGENT_REPORTING,
        _AGENT_STEP_MAX,
} WaveNodeStep;

const char *wave_node_step_to_string(WaveNodeStep s);

/* The built-in health checks after patching. Docker and the node must be
 * up; the firewall and seccomp must be in place if they were before. */
#define NODE_HEALTH_DOCKER   (1u << 0) /* dockerd answers */
#define NODE_HEALTH_NODE     (1u << 1) /* the node is an active Swarm member */
#define NODE_HEALTH_FIREWALL (1u << 2) /* hostd's table is in the kernel, as desired */
#define NODE_HEALTH_SECCOMP  (1u << 3) /* dockerd's profile is ours, every container filtered */
#define NODE_HEALTH_SECCOMP_DEFAULT (1u << 4) /* dockerd's default is the profile hostd installed,
                                               * with its content, and dockerd started after it */
#define NODE_HEALTH_ALL      0x1fu

typedef struct WaveNodeRecord {
        char wave[40];
        WaveNodeStep step;
        char plan[65];
        char transaction[64]; /* the patch journal entry of the apply */
        bool ok;              /* the apply succeeded (else it was rolled back) */
        bool healthy;         /* the health checks passed */
        char message[256];
        char boot_id[37];     /* the boot a reboot was asked in */
        unsigned baseline;    /* NODE_HEALTH_* checks that passed before the
                               * apply: they must pass after it too */
        bool docker_restart;  /* a seccomp install waited for dockerd when the
                               * node was drained: the restart (or reboot)
                               * must put it in force (NODE_HEALTH_SECCOMP_DEFAULT) */
        uint64_t updated_usec;
} WaveNodeRecord;

/* An absent file is an idle record. A damaged one is an error located in
 * the file (and the agent then does nothing rather than guess). */
int wave_node_record_load(const char *path, WaveNodeRecord *ret, LocatedError *error);
int wave_node_record_save(const char *path, const WaveNodeRecord *r);

/* What a restarted agent does first. */
typedef enum WaveNodeResume {
        RESUME_NOTHING,        /* idle */
        RESUME_ASK,            /* staged or waiting: ask for the turn again */
        RESUME_CHECK_APPLY,    /* applying when it stopped: the patch journal
                                * says how the transaction ended (a rollback
                                * if it is still "applying") */
        RESUME_REBOOT,         /* rebooting, but still in the same boot: the
                                * reboot did not happen; ask again */
        RESUME_DOCKER_RESTART, /* restarting dockerd: done if it started
                                * since the install, else restart it again */
        RESUME_VERIFY,         /* rebooted (another boot), or verifying */
        RESUME_REPORT,         /* the report was not yet taken */
} WaveNodeResume;

WaveNodeResume wave_node_resume(const WaveNodeRecord *r, const char *current_boot_id);
