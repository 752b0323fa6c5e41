/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* hostd.json: the one configuration file, in the style of Docker's
 * daemon.json. Validation is strict: unknown keys, wrong types and values
 * out of range are errors that name the key path and line:column. The empty
 * object `{}` is valid and means every default.
 *
 * Keys (all optional):
 *   "docker": {
 *     "socket": "/var/run/docker.sock"   absolute path or unix:// URL
 *     "request-timeout-seconds": 30      1..3600, for ordinary API calls
 *   },
 *   "swarm": {
 *     "refresh-seconds": 10              1..3600; how often leadership is
 *                                        re-read (Swarm emits no event when
 *                                        the Raft leader moves)
 *     "coordination-port": 9443          0..65535; the node protocol of patch
 *                                        waves, HTTPS with the Swarm's own
 *                                        certificates, served on managers
 *                                        (0: not served); added to
 *                                        firewall.peer-tcp-ports
 *   },
 *   "log-level": "info"                  error|warning|notice|info|debug
 *   "state-directory": "/var/lib/hostd"  absolute path
 *   "firewall": {                        see FirewallPolicy below
 *     "enabled": true,
 *     "public-tcp-ports": [443],         open to everyone
 *     "trusted-interfaces": ["lo", "docker0", "docker_gwbridge", "br-*",
 *                            "veth*"],   never filtered ("*" ends a prefix);
 *                                        every other interface is public
 *     "peers": [],                       static cluster peers (CIDRs)
 *     "swarm-peers": true,               add the live Swarm node addresses
 *     "peer-tcp-ports": [2377, 7946],    open to peers only
 *     "peer-udp-ports": [7946, 4789],    open to peers only (ESP too)
 *     "management-sources": [],          CIDRs that may reach SSH
 *     "join-sources": [],                CIDRs that may reach the managers'
 *                                        port 2377 before they are Swarm
 *                                        nodes: where new nodes join from
 *     "ssh-port": 22,
 *     "log-drops": true,                 log dropped packets, 5/s at most
 *     "icmp-echo-per-second": 10         0 refuses pings
 *   },
 *   "seccomp": {
 *     "enforcement": "report",           report | stop: what to do with a
 *                                        container running without a filter,
 *                                        privileged or seccomp=unconfined
 *     "installed-profile": "/etc/docker/seccomp/hostd-hardened.json"
 *                                        where hostd's profile is installed
 *                                        for dockerd (daemon.json
 *                                        "seccomp-profile" must name it)
 *     "daemon-json": "/etc/docker/daemon.json"
 *                                        dockerd's configuration file, where
 *                                        `hostctl seccomp install` sets
 *                                        "seccomp-profile"
 *     "baseline-profile": "/usr/share/hostd/seccomp/docker-default.json"
 *                                        what a container's own profile is
 *                                        judged against (Docker's default;
 *                                        hostd's installed profile instead
 *                                        while it is dockerd's default)
 *   },
 *   "patching": {                        the patch policy (patching/plan.h)
 *     "root": "/",                       the root patched (a sandbox root
 *                                        in tests); its state is under
 *                                        state-directory/patches for "/",
 *                                        ROOT/var/lib/hostd/patches otherwise
 *     "security-only": true,             only updates from security archives
 *     "allow": [],                       package globs; empty: all
 *     "deny": [],                        package globs, winning over allow
 *     "hold": [],                        package names never upgraded
 *     "minimum-age-hours": 0             0..8760: leave an update out until
 *                                        it has been offered this long
 *     "check-hours": 6                   0..168: how often hostd plans, for
 *                                        the posture's pending updates, from
 *                                        the package lists as they are (0:
 *                                        only when asked)
 *   },
 *   "posture": {
 *     "textfile": null,                  absolute path: the metrics written
 *                                        there for node_exporter's textfile
 *                                        collector (*.prom)
 *     "textfile-seconds": 60,            10..3600: how often
 *     "report-seconds": 60               0..3600: how often this node sends
 *                                        its posture's summary to the
 *                                        managers, for the cluster view (0:
 *                                        only with its wave calls)
 *   },
 *   "wave": {                            this node's part in patch waves
 *     "agent": true,                     stage, patch, reboot and report
 *                                        when a wave names this node
 *     "group": "default",                FleetLock group ([a-z0-9_-], 1..63)
 *     "reboot-command": [],              argv run to reboot; empty: ask
 *                                        logind (org.freedesktop.login1
 *                                        Reboot) over the system bus
 *     "docker-restart-command": ["/usr/bin/systemctl", "restart", "docker.service"]
 *                                        argv run while the node is drained
 *                                        when a seccomp install waits for
 *                                        dockerd's restart (and no reboot
 *                                        follows the patches); it must exit
 *                                        0 once dockerd is restarting or
 *                                        up; empty: leave the install to
 *                                        the next reboot
 *     "boot-id-file": "/proc/sys/kernel/random/boot_id"
 *                                        tells a reboot from a restart; a
 *                                        test hook that simulates reboots
 *                                        (reboot-command) changes its own
 *     "health-commands": [],             argv arrays, each must exit 0 after
 *                                        patching (besides Docker up, node
 *                                        ready, firewall and seccomp)
 *     "alertmanager": {                  managers: the wave's alert gate
 *       "url": "http://127.0.0.1:9093",  Alertmanager (http or https); no
 *                                        url: no gate
 *       "matchers": ["severity=\"critical\""], Alertmanager matchers; an alert
 *                                        that fires and matches them all
 *                                        holds the wave: no node drained nor
 *                                        made active; none: every alert
 *       "timeout-seconds": 5             1..60; an answer not had in time,
 *                                        or any error, holds it too
 *     },
 *     "health-timeout-seconds": 300      1..3600: how long the checks may
 *                                        take to pass after patching
 *   },
 *   "load-balancer": {                   this node behind a load balancer
 *     "health-port": 0,                  1..65535: hostd answers HTTP GET
 *                                        there, 200 while the node is in
 *                                        service and 503 (with why) from the
 *                                        moment a wave chooses it until it
 *                                        is active again and serving; 0: no
 *                                        endpoint
 *     "sources": [],                     CIDRs the firewall admits to the
 *                                        health port (the load balancer's
 *                                        checkers); needed with health-port
 *     "serving-ports": [],               TCP ports a running container here
 *                                        must publish for the node to be in
 *                                        service (Swarm's host-mode
 *                                        publishing: a node without the task
 *                                        is out); empty: none needed
 *     "deregistration-delay-seconds": 0  0..3600, managers: how long a wave
 *                                        started here waits between choosing
 *                                        a node and draining it (the
 *                                        balancer's check interval times its
 *                                        unhealthy threshold, and a little);
 *                                        `wave start --deregistration-delay`
 *                                        overrides it
 *   }
 * Names without a glob character in allow, deny and hold must be packages
 * the root has or is offered: checked when a plan is made.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/cidr.h"
#include "common/macro.h"
#include "common/json.h"

#define CONFIG_DEFAULT_PATH "/etc/hostd/hostd.json"
#define CONFIG_MAX_SIZE (1024 * 1024)

typedef LocatedError ConfigError;

#define FIREWALL_MAX_PORTS 64
#define FIREWALL_MAX_INTERFACES 32
#define FIREWALL_MAX_CIDRS 100000

typedef struct FirewallPolicy {
        bool enabled;
        uint16_t public_tcp_ports[FIREWALL_MAX_PORTS];
        size_t n_public_tcp_ports;
        uint16_t peer_tcp_ports[FIREWALL_MAX_PORTS];
        size_t n_peer_tcp_ports;
        uint16_t peer_udp_ports[FIREWALL_MAX_PORTS];
        size_t n_peer_udp_ports;
        char trusted_interfaces[FIREWALL_MAX_INTERFACES][16];
        size_t n_trusted_interfaces;
        Cidr *peers;
        size_t n_peers;
        bool swarm_peers;
        Cidr *management_sources;
        size_t n_management_sources;
        Cidr *join_sources;
        size_t n_join_sources;
        uint16_t ssh_port;
        bool log_drops;
        unsigned icmp_echo_per_second;
        /* from "load-balancer": its health port, admitted from its sources
         * only (0: none); stored with the rest of the policy */
        uint16_t lb_health_port;
        Cidr *lb_sources;
        size_t n_lb_sources;
} FirewallPolicy;

typedef enum SeccompEnforcement {
        SECCOMP_ENFORCE_REPORT,
        SECCOMP_ENFORCE_STOP,
} SeccompEnforcement;

#define PATCH_POLICY_MAX_NAMES 256

typedef struct PatchingConfig {
        char *root;
        bool security_only;
        char **allow, **deny, **hold; /* NULL-terminated, never NULL */
        unsigned minimum_age_hours;
        unsigned check_hours;
} PatchingConfig;

#define WAVE_MAX_HEALTH_COMMANDS 16
#define WAVE_MAX_ARGV 64

/* The wave's alert gate (managers): Alertmanager's firing alerts that
 * match hold the wave (policy/alert-gate.h). */
typedef struct AlertGateConfig {
        char *url;         /* "http://127.0.0.1:9093"; NULL: no gate */
        char **matchers;   /* NULL-terminated, never NULL; empty: every firing alert */
        unsigned timeout_sec;
} AlertGateConfig;

typedef struct WaveAgentConfig {
        bool agent;
        char *group;
        char **reboot_command;     /* NULL-terminated, never NULL; empty: logind */
        char **docker_restart_command; /* NULL-terminated, never NULL; empty: never */
        char *boot_id_file;
        char ***health_commands;   /* NULL-terminated list of argvs, never NULL */
        unsigned health_timeout_sec;
        AlertGateConfig alertmanager;
} WaveAgentConfig;

typedef struct LoadBalancerConfig {
        uint16_t health_port;      /* 0: no endpoint (the sources are in FirewallPolicy) */
        uint16_t serving_ports[FIREWALL_MAX_PORTS];
        size_t n_serving_ports;
        unsigned deregistration_delay_sec;
} LoadBalancerConfig;

typedef struct HostdConfig {
        char *docker_socket; /* NULL: from $DOCKER_HOST, else the default */
        unsigned docker_request_timeout_sec;
        unsigned swarm_refresh_sec;
        unsigned coordination_port; /* 0: not served */
        int log_level; /* syslog priority, -1 when not set */
        char *state_directory;
        FirewallPolicy firewall;
        SeccompEnforcement seccomp_enforcement;
        char *seccomp_installed_profile;
        char *seccomp_baseline_profile;
        char *seccomp_daemon_json;
        PatchingConfig patching;
        WaveAgentConfig wave;
        LoadBalancerConfig load_balancer;
        char *posture_textfile;       /* NULL: none */
        unsigned posture_textfile_sec;
        unsigned posture_report_sec;
} HostdConfig;

#define SECCOMP_INSTALLED_PROFILE_DEFAULT "/etc/docker/seccomp/hostd-hardened.json"
#ifndef HOSTD_DATADIR
#define HOSTD_DATADIR "/usr/share"
#endif
#define SECCOMP_BASELINE_PROFILE_DEFAULT HOSTD_DATADIR "/hostd/seccomp/docker-default.json"
#define SECCOMP_DAEMON_JSON_DEFAULT "/etc/docker/daemon.json"

/* Parses and validates a configuration document. Returns 0 and a new config,
 * or -EINVAL (bad JSON or bad value), -E2BIG (too deep/large), -ENOMEM, with
 * *error describing the first problem. */
int config_parse(const char *text, size_t length, HostdConfig **ret, ConfigError *error);

/* Reads and parses a file. I/O errors return -errno with error->message set. */
int config_load(const char *filename, HostdConfig **ret, ConfigError *error);

HostdConfig *config_free(HostdConfig *config);
DEFINE_CLEANUP_FUNC(HostdConfig, config_free);

/* The firewall policy alone, in the "firewall" section's schema with every
 * member present: what hostd saves of the policy in force, to apply it
 * again at boot when the file cannot be (hostd/firewall-store.h). */
json_t *firewall_policy_to_json(const FirewallPolicy *p);
/* Reads it back from a parsed document: -EINVAL (with error at the member)
 * or -ENOMEM; *ret owns its lists. */
int firewall_policy_from_value(const JsonValue *object, FirewallPolicy *ret, ConfigError *error);
int firewall_policy_copy(const FirewallPolicy *p, FirewallPolicy *ret);
/* Frees the lists a parse or copy allocated. */
void firewall_policy_done(FirewallPolicy *p);
bool firewall_policy_equal(const FirewallPolicy *a, const FirewallPolicy *b);

/* The Docker socket to use: the config's, else $DOCKER_HOST (unix:// only),
 * else /var/run/docker.sock. Returns a newly allocated path, or -EINVAL with
 * a message in err (for example a tcp:// DOCKER_HOST). */
int config_docker_socket(const HostdConfig *config, const char *docker_host_env,
                         char **ret, char *err, size_t err_size);
