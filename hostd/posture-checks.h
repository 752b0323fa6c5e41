/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The host's compliance posture: a list of checks, each with a stable ID,
 * a title, a status, the evidence seen and the remediation, and the CIS
 * Docker Benchmark control it maps to where there is one. The checks are
 * computed here from facts the daemon gathers (the firewall table, the
 * kernel's listening sockets, Docker's /info, the containers as audited);
 * gathering them is hostd's (posture_gather), judging them is pure
 * (posture_check_*), so the judging is tested on its own. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "firewall/exposure.h"
#include "firewall/ruleset.h"

typedef enum CheckStatus {
        CHECK_PASS,
        CHECK_FAIL,
        CHECK_WARN,
        CHECK_NOT_APPLICABLE,
        _CHECK_STATUS_MAX,
} CheckStatus;

const char *check_status_to_string(CheckStatus s);

#define POSTURE_MAX_CHECKS 32
#define POSTURE_EVIDENCE_MAX 2048

typedef struct Check {
        const char *id;          /* stable: "firewall.exposed" */
        const char *title;
        const char *cis;         /* CIS Docker Benchmark control, or NULL */
        CheckStatus status;
        char evidence[POSTURE_EVIDENCE_MAX];
        const char *remediation;
} Check;

typedef struct Posture {
        Check checks[POSTURE_MAX_CHECKS];
        size_t n;
} Posture;

/* ---- the firewall ------------------------------------------------------ */

/* A port something answers on: a listening socket, or a port Docker
 * publishes for a container. */
typedef struct ExposedPort {
        uint8_t l4proto;
        uint16_t port;
        int family;              /* AF_INET, AF_INET6, or AF_UNSPEC for both */
        bool loopback_only;
        char what[128];          /* "0.0.0.0 python3 (pid 123)", "published by container web.1" */
} ExposedPort;

typedef struct FirewallFacts {
        bool enabled;            /* the configuration wants hostd's table */
        bool exists;             /* it is in the kernel */
        bool matches;            /* as desired */
        const char *difference;  /* when it does not */
        const Ruleset *table;    /* what hostd applied (NULL: none) */
        const char *const *public_interfaces; /* NULL-terminated */
        const uint16_t *allowed_tcp; /* firewall.public-tcp-ports */
        size_t n_allowed_tcp;
        const ExposedPort *ports;
        size_t n_ports;
        const char *held;        /* why the configuration's policy is not in
                                  * force (rolled back), NULL when it is */
        bool pending;            /* an apply awaits confirmation, */
        long pending_seconds;    /* for this many seconds more */
} FirewallFacts;

/* firewall.policy (the configuration's policy is the one in force),
 * firewall.table, firewall.matches, firewall.default-drop,
 * firewall.exposed: which ports a new connection from outside reaches (on
 * any public interface, by the table's own verdict), all of them expected
 * to be firewall.public-tcp-ports. */
void posture_check_firewall(Posture *p, const FirewallFacts *f);

/* ---- seccomp and the containers ----------------------------------------- */

typedef struct ContainerFacts {
        const char *name;
        bool filtered;           /* Seccomp: 2 */
        bool unconfined;         /* seccomp=unconfined asked */
        bool privileged;
} ContainerFacts;

typedef struct SeccompFacts {
        bool daemon_profile_ours;   /* named by dockerd, content as installed */
        bool named_ours;            /* named by dockerd */
        const char *profile_problem; /* why not ours */
        const char *daemon_profile; /* what dockerd names */
        bool install_pending;
        const ContainerFacts *containers;
        size_t n_containers;
} SeccompFacts;

/* seccomp.daemon-profile, seccomp.containers, containers.privileged */
void posture_check_seccomp(Posture *p, const SeccompFacts *f);

/* ---- Docker's settings, from its /info ------------------------------------ */

/* docker.tcp-socket (a TCP listener of dockerd's without TLS), docker.userns,
 * docker.icc, docker.live-restore, docker.log-driver. info is /info's body;
 * bridge_icc is the default bridge's enable_icc (-1 unknown); tcp_without_tls
 * lists dockerd's TCP API listeners when it has no TLS verification ("" none). */
void posture_check_docker(Posture *p, const json_t *info, int bridge_icc, const char *tcp_without_tls);

/* ---- patches ---------------------------------------------------------------- */

typedef struct PatchFacts {
        const json_t *plan;        /* the last plan (patch_plan_to_json's), NULL: none yet */
        uint64_t plan_usec, now_usec;
        bool reboot_required;      /* ROOT/run/reboot-required */
        const char *reboot_packages; /* what it lists, "" */
        const char *running_kernel;
        const char *newest_kernel; /* under ROOT/boot, "" none */
        const char *last_wave;     /* this node's last wave, "" none */
        bool last_wave_ok, last_wave_healthy;
        const char *last_wave_message;
        uint64_t last_wave_usec;
        int auto_upgrades;              /* auto_upgrades_find() of the root */
        const char *auto_upgrades_what;
} PatchFacts;

/* patches.security-pending (with the age of the oldest), patches.reboot,
 * patches.kernel, patches.last-wave, patches.automatic-upgrades */
void posture_check_patches(Posture *p, const PatchFacts *f);

/* ---- hostd itself ----------------------------------------------------------- */

typedef struct HostdFacts {
        const char *version;
        const char *config_path;
        bool config_valid;        /* the file on disk parses */
        const char *config_error; /* when not */
        bool under_watchdog;      /* WATCHDOG_USEC set by systemd */
        bool docker_reachable;
} HostdFacts;

/* hostd.version, hostd.config, hostd.watchdog */
void posture_check_hostd(Posture *p, const HostdFacts *f);

/* {"checks": [...], "summary": {"pass", "fail", "warn", "not-applicable"},
 *  "compliant": no check failed} */
json_t *posture_to_json(const Posture *p);

/* Prometheus' text format (version 0.0.4): per check
 * hostd_posture_check{id,status} (1 for the status it has, 0 for the
 * others), hostd_posture_compliant, hostd_firewall_dropped_packets_total
 * {rule} from the live table's counters (firewall_status: hostd's firewall
 * status with "live"; table: what hostd applied, to tell drops), and
 * hostd_wave_nodes{wave,step} of the wave last seen (may be NULL). */
char *posture_to_prometheus(const Posture *p, const json_t *firewall_status, const Ruleset *table, const json_t *wave);

/* 0 every check passed or is not applicable or a warning; 1 any failed */
int posture_exit_code(const Posture *p);
