/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "common/fileio.h"
#include "hostd/change-log.h"
#include "hostd/daemon.h"
#include "hostd/docker-client.h"
#include "hostd/event-clock.h"
#include "hostd/log.h"
#include "hostd/messages.h"
#include "hostd/posture-board.h"
#include "hostd/posture-gather.h"
#include "hostd/seccomp-audit.h"
#include "hostd/seccomp-install.h"
#include "hostd/swarm-peers.h"
#include "hostd/lb-health.h"
#include "hostd/wave-agent.h"
#include "hostd/wave-fleetlock.h"
#include "patching/patch.h"

static void recover_interrupted(Daemon *d);

/* The daemon: one sd-event loop and what lives as long as it. */
struct Daemon {
        sd_event *event;
        char *config_path;
        char *socket_path;
        HostdConfig *config;
        ControlServer *control;
        ControlServer *lb_health;  /* load-balancer.health-port; NULL: none */
        uint16_t lb_health_port;
        char lb_last_why[256];     /* the last answer, to log its changes */
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

        /* what containers' own profiles are judged against: [0] Docker's
         * default (seccomp.baseline-profile), [1] hostd's installed one,
         * used while dockerd's default is it */
        struct {
                SeccompProfile *profile;
                SeccompAllowed allowed;
                char error[300];
        } baselines[2];
        ContainerFinding *containers; /* running containers, as last assessed */
        size_t n_containers;
        uint64_t containers_stopped;
        bool seccomp_restart_pending; /* installed; dockerd not restarted since */
        char seccomp_profile_problem[512]; /* why dockerd's default is not ours, for the posture */

        FirewallManager *firewall; /* NULL when the firewall is disabled and
                                    * netlink is not available */

        PatchJobs *patch_jobs;
        sd_event_source *patch_check_timer; /* plans every patching.check-hours */
        sd_event_source *textfile_timer;    /* posture.textfile-seconds */
        sd_event_source *report_timer;      /* posture.report-seconds */
        PostureBoard *posture_board;        /* the nodes' summaries (managers) */
        SwarmPeers *swarm_peers;  /* managers: the peer set made from the nodes */
        Cidr *received_peers;     /* workers: the set a manager sent last */
        size_t n_received_peers;
        Cidr *manager_peers;      /* workers: /info's managers */
        size_t n_manager_peers;
        char addresses_error[256]; /* why this node's own addresses are not known */
        char peers_refused[256];   /* why a manager's set was last refused: said once */
        EventClock *clock;        /* the waves' time (the system's) */
        Coordinator *coordinator; /* with the Docker client; NULL before */
        struct FleetLockServer *fleetlock; /* managers only */
        struct WaveAgent *agent;  /* this node's part in waves */
        sd_event_source *certs_watch, *certs_settle; /* Swarm certificate rotation */

        uint64_t started_realtime_usec;
        uint64_t started_monotonic_usec;
        uint64_t reloads;
};

static void daemon_refresh(Daemon *d);
static int check_restart_pending(Daemon *d);
static bool daemon_profile_ours(const Daemon *d, char *why, size_t why_size);

static void notify_status(const Daemon *d) {
        char status[512];

        if (!d->docker_reachable)
                snprintf(status, sizeof(status), "STATUS=Docker unreachable at %s: %s",
                         d->docker_socket, d->docker_error_message);
        else if (!d->swarm_known || d->swarm.role == SWARM_ROLE_NONE)
                snprintf(status, sizeof(status), "STATUS=Docker reachable; not in a swarm");
        else
                snprintf(status, sizeof(status), "STATUS=Swarm %s %s%s", swarm_role_to_string(d->swarm.role),
                         d->swarm.node_id, d->is_leader ? " (leader)" : "");
        sd_notify(0, status);
}

static void docker_mark_failed(Daemon *d, int error, const char *message) {
        /* Logged once per outage, and at startup when Docker is not there. */
        bool was = d->docker_reachable || d->docker_error != error;

        d->docker_reachable = false;
        d->docker_error = error;
        snprintf(d->docker_error_message, sizeof(d->docker_error_message), "%s",
                 message ? message : strerror(-error));
        if (was) {
                char field[300];

                snprintf(field, sizeof(field), "HOSTD_DOCKER_SOCKET=%s", d->docker_socket);
                log_struct(LOG_WARNING, LOG_FIELDS("MESSAGE_ID=" MSGID_DOCKER_LOST, field),
                           "Docker at %s unreachable: %s", d->docker_socket, d->docker_error_message);
                notify_status(d);
        }
}

static void docker_mark_reachable(Daemon *d) {
        if (!d->docker_reachable)
                log_struct(LOG_INFO, LOG_FIELDS("MESSAGE_ID=" MSGID_DOCKER_CONNECTED),
                           "Docker at %s reachable", d->docker_socket);
        d->docker_reachable = true;
        d->docker_error = 0;
        d->docker_error_message[0] = 0;
}

/* Raft leadership as last read; the coordinator acts only on the leader. */
static void set_leader(Daemon *d, bool leader) {
        d->is_leader = leader;
        if (d->coordinator)
                coordinator_set_leader(d->coordinator, leader);
}

static void on_leader_reply(const DockerReply *reply, void *userdata) {
        Daemon *d = userdata;
        bool leader;

        d->info_in_flight = false;
        if (reply->error) {
                /* A manager that lost quorum cannot answer /nodes: it is
                 * not the leader then. */
                if (reply->error == -ECONNREFUSED || reply->error == -ENOENT)
                        docker_mark_failed(d, reply->error, reply->message);
                else
                        log_debug("Cannot read node %s: %s", d->swarm.node_id, reply->message);
                set_leader(d, false);
                notify_status(d);
                return;
        }
        leader = docker_node_is_leader(reply->json);
        if (leader != d->is_leader)
                log_info("This node is %s the Swarm's Raft leader", leader ? "now" : "no longer");
        set_leader(d, leader);
        notify_status(d);
}

static void update_peers(Daemon *d, const Cidr *peers, size_t n) {
        char err[256];

        if (!d->firewall || !d->config->firewall.swarm_peers)
                return;
        if (firewall_manager_set_peers(d->firewall, peers, n, err, sizeof(err)) < 0) {
                log_error("Cannot update the firewall's Swarm peers: %s", err);
                return;
        }
        if (n > 0 && firewall_peers_save(d->config->state_directory, peers, n) < 0)
                log_warning("Cannot save the Swarm peers under %s", d->config->state_directory);
}

/* A manager's firewall admits the set it makes itself. */
static void apply_manager_peers(Daemon *d) {
        size_t n;
        const Cidr *list = swarm_peers_list(d->swarm_peers, &n);

        update_peers(d, list, n);
}

/* A worker's: the set a manager sent, and the managers /info names (which
 * it always needs, to hear from them at all). */
static void apply_worker_peers(Daemon *d) {
        size_t n = d->n_received_peers + d->n_manager_peers;
        _cleanup_free_ Cidr *list = calloc(MAX(n, 1u), sizeof(Cidr));

        if (!list) {
                log_error("Out of memory");
                return;
        }
        memcpy(list, d->received_peers, d->n_received_peers * sizeof(Cidr));
        n = d->n_received_peers;
        for (size_t i = 0; i < d->n_manager_peers; i++) {
                bool known = false;
                for (size_t j = 0; j < d->n_received_peers && !known; j++)
                        known = memcmp(&d->manager_peers[i], &d->received_peers[j], sizeof(Cidr)) == 0;
                if (!known)
                        list[n++] = d->manager_peers[i];
        }
        update_peers(d, list, n);
}

/* The nodes' reports, kept across a restart of this manager's hostd. */
static void save_reports(Daemon *d) {
        _cleanup_(json_decrefp) json_t *reports = swarm_peers_reports_to_json(d->swarm_peers);
        _cleanup_free_ char *text = reports ? json_dumps(reports, JSON_COMPACT) : NULL, *path = NULL;

        if (!text || asprintf(&path, "%s/%s", d->config->state_directory, SWARM_REPORTS_FILE) < 0) {
                log_error("Out of memory");
                return;
        }
        if (write_file_atomic(path, text, strlen(text), 0600) < 0)
                log_warning("Cannot save the nodes' addresses to %s", path);
}

static void load_reports(Daemon *d) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(json_decrefp) json_t *reports = NULL;
        json_error_t jerr;
        char err[256];
        size_t size;
        int r;

        if (asprintf(&path, "%s/%s", d->config->state_directory, SWARM_REPORTS_FILE) < 0)
                return;
        r = read_file(path, 16 * 1024 * 1024, &text, &size);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_warning("Cannot read %s: %s", path, strerror(-r));
                return;
        }
        reports = json_loadb(text, size, 0, &jerr);
        if (!reports) {
                log_warning("%s:%d:%d: %s: the nodes' addresses are learned again", path, jerr.line, jerr.column,
                            jerr.text);
                return;
        }
        if (swarm_peers_reports_from_json(d->swarm_peers, reports, err, sizeof(err)) < 0)
                log_warning("%s: %s: the nodes' addresses are learned again", path, err);
}

/* A node's report, or the node list, changed a manager's set: its own
 * firewall, and every node watching it, take the new one. */
static void manager_peers_changed(void *userdata) {
        Daemon *d = userdata;

        save_reports(d);
        apply_manager_peers(d);
        if (d->coordinator)
                coordinator_peers_changed(d->coordinator);
}

static void on_nodes_reply(const DockerReply *reply, void *userdata) {
        Daemon *d = userdata;
        int r;

        d->nodes_in_flight = false;
        if (reply->error) {
                log_debug("Cannot list Swarm nodes: %s", reply->message);
                return;
        }
        r = swarm_peers_set_nodes(d->swarm_peers, reply->json);
        if (r == -ENOMEM)
                log_error("Out of memory");
        else if (r < 0)
                log_warning("Unexpected Swarm node list from dockerd: the peer set is unchanged");
        else if (r > 0)
                manager_peers_changed(d);
        else
                apply_manager_peers(d);
}

/* Said once per reason: a manager answers every watch with its set. */
static void peers_refused(Daemon *d, const char *manager, const char *why) {
        char key[sizeof(d->peers_refused)];

        snprintf(key, sizeof(key), "%s %s", manager, why);
        if (STREQ(key, d->peers_refused))
                return;
        snprintf(d->peers_refused, sizeof(d->peers_refused), "%s", key);
        log_error("Swarm peers from manager %s refused, the firewall's peers unchanged: %s", manager, why);
}

/* A manager's answer carried its peer set: a worker's firewall takes it,
 * once it is known to be a list of addresses. */
static void agent_peers(void *userdata, const json_t *peers, const char *manager) {
        Daemon *d = userdata;
        _cleanup_free_ Cidr *list = NULL;
        char err[256];
        size_t n;
        int r;

        if (!d->swarm_known || d->swarm.role != SWARM_ROLE_WORKER)
                return; /* a manager makes its own */
        r = swarm_peers_parse(peers, &list, &n, err, sizeof(err));
        if (r < 0) {
                peers_refused(d, manager, r == -ENOMEM ? strerror(-r) : err);
                return;
        }
        /* a set without this node is not this Swarm's, or not whole yet */
        char self[64];
        Cidr own;
        if (docker_address_host(d->swarm.node_addr, self, sizeof(self)) == 0 && cidr_parse(self, &own) == 0) {
                bool found = false;
                for (size_t i = 0; i < n && !found; i++)
                        found = list[i].family == own.family &&
                                memcmp(list[i].address, own.address, sizeof(own.address)) == 0;
                if (!found) {
                        snprintf(err, sizeof(err), "they do not name this node's address %s", self);
                        peers_refused(d, manager, err);
                        return;
                }
        }
        d->peers_refused[0] = '\0';
        if (n == d->n_received_peers && (n == 0 || memcmp(list, d->received_peers, n * sizeof(Cidr)) == 0))
                return;
        log_info("Swarm peers from manager %s: %zu addresses", manager, n);
        free(d->received_peers);
        d->received_peers = TAKE_PTR(list);
        d->n_received_peers = n;
        apply_worker_peers(d);
}

static void refresh_peers(Daemon *d, const json_t *info) {
        _cleanup_free_ Cidr *managers = NULL;
        int n;

        if (d->swarm.role == SWARM_ROLE_MANAGER) {
                /* a manager sees every node, and makes the set for the
                 * workers whatever its own firewall does */
                if (!d->nodes_in_flight && docker_list_nodes(d->docker, on_nodes_reply, d) >= 0)
                        d->nodes_in_flight = true;
                return;
        }
        if (!d->firewall || !d->config->firewall.swarm_peers)
                return;
        if (d->swarm.role == SWARM_ROLE_WORKER) {
                /* a worker knows the managers; the rest comes from them */
                n = docker_info_manager_addresses(info, &managers);
                if (n < 0) {
                        log_warning("Unexpected Swarm managers in /info from dockerd");
                        return;
                }
                if ((size_t) n == d->n_manager_peers &&
                    (n == 0 || memcmp(managers, d->manager_peers, (size_t) n * sizeof(Cidr)) == 0))
                        return;
                free(d->manager_peers);
                d->manager_peers = TAKE_PTR(managers);
                d->n_manager_peers = (size_t) n;
                if (!d->received_peers) {
                        /* until a manager answers: the peers saved last, and the managers */
                        _cleanup_free_ Cidr *saved = NULL;
                        int k = firewall_peers_load(d->config->state_directory, &saved);
                        if (k > 0) {
                                d->received_peers = TAKE_PTR(saved);
                                d->n_received_peers = (size_t) k;
                        }
                }
                apply_worker_peers(d);
        }
        /* not in a swarm: keep the last known peers rather than cutting a
         * node off while its dockerd restarts */
}

/* This node's own addresses, for the managers' peer sets. */
static void report_addresses(Daemon *d) {
        _cleanup_(json_decrefp) json_t *list = NULL;
        char err[256] = "";
        int r;

        if (!d->agent || d->swarm.role == SWARM_ROLE_NONE)
                return;
        r = swarm_local_addresses(d->swarm.root_dir, d->swarm.node_addr, &list, err, sizeof(err));
        if (r < 0) {
                if (!STREQ(err, d->addresses_error))
                        log_warning("Cannot tell the managers this node's data-path address: %s",
                                    r == -ENOMEM ? strerror(-r) : err);
                snprintf(d->addresses_error, sizeof(d->addresses_error), "%s", err);
                return;
        }
        d->addresses_error[0] = '\0';
        wave_agent_set_addresses(d->agent, list);
}

static void fleetlock_sync(Daemon *d);

/* Swarm rotates node certificates (90 days by default) by renaming new
 * files into place: serve with the new ones, once the burst of renames is
 * over. */
static int on_certs_settled(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Daemon *d = userdata;

        log_info("Swarm certificates changed: serving the node protocol with the new ones");
        d->fleetlock = fleetlock_server_free(d->fleetlock);
        fleetlock_sync(d);
        return 0;
}

static int on_certs_changed(sd_event_source *s _unused_, const struct inotify_event *event _unused_, void *userdata) {
        Daemon *d = userdata;
        uint64_t now;

        sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(d->certs_settle, now + 500000);
        sd_event_source_set_enabled(d->certs_settle, SD_EVENT_ONESHOT);
        return 0;
}

static void certs_watch(Daemon *d) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if (d->certs_watch || asprintf(&dir, "%s/swarm/certificates", d->swarm.root_dir) < 0)
                return;
        r = sd_event_add_inotify(d->event, &d->certs_watch, dir, IN_MOVED_TO | IN_CLOSE_WRITE, on_certs_changed, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &d->certs_settle, CLOCK_MONOTONIC, UINT64_MAX, 100000, on_certs_settled, d);
        if (r < 0) {
                log_warning_errno(r, "Cannot watch %s for certificate rotation", dir);
                d->certs_watch = sd_event_source_disable_unref(d->certs_watch);
                return;
        }
        sd_event_source_set_enabled(d->certs_settle, SD_EVENT_OFF);
}

static void certs_unwatch(Daemon *d) {
        d->certs_watch = sd_event_source_disable_unref(d->certs_watch);
        d->certs_settle = sd_event_source_disable_unref(d->certs_settle);
}

/* The node protocol is served on managers, with this node's Swarm
 * certificate; started when the node becomes one, stopped otherwise. */
static void fleetlock_sync(Daemon *d) {
        bool want = d->swarm.role == SWARM_ROLE_MANAGER && d->config->coordination_port != 0 && d->swarm.root_dir[0] &&
                    d->swarm.cluster_id[0] && d->coordinator;
        char why[512];
        int r;

        if (!want) {
                d->fleetlock = fleetlock_server_free(d->fleetlock);
                certs_unwatch(d);
                return;
        }
        if (d->fleetlock)
                return;
        certs_watch(d);
        r = fleetlock_server_new(d->event, (uint16_t) d->config->coordination_port, d->swarm.root_dir,
                                 d->swarm.cluster_id,
                                 &(FleetLockParts){ .coordinator = d->coordinator, .board = d->posture_board,
                                                    .peers = d->swarm_peers, .peers_changed = manager_peers_changed,
                                                    .userdata = d },
                                 &d->fleetlock, why, sizeof(why));
        if (r < 0) {
                log_error("Cannot serve the wave node protocol: %s", why);
                return;
        }
        log_info("Serving the wave node protocol on port %u (HTTPS, Swarm certificates)",
                 fleetlock_server_port(d->fleetlock));
}

static void on_info_reply(const DockerReply *reply, void *userdata) {
        Daemon *d = userdata;
        DockerSwarmInfo info;
        const char *what = NULL;
        int r;

        if (reply->error) {
                d->info_in_flight = false;
                docker_mark_failed(d, reply->error, reply->message);
                return;
        }
        docker_mark_reachable(d);
        d->info_reads++;
        r = docker_parse_info(reply->json, &info, &what);
        if (r < 0) {
                d->info_in_flight = false;
                log_warning("Unexpected /info from dockerd: %s", what);
                return;
        }
        if (!d->swarm_known || !STREQ(info.node_id, d->swarm.node_id) || info.role != d->swarm.role)
                log_info("Swarm: node %s, role %s, state %s", info.node_id[0] ? info.node_id : "-",
                         swarm_role_to_string(info.role), info.local_state);
        d->swarm = info;
        d->swarm_known = true;
        refresh_peers(d, reply->json);
        check_restart_pending(d);
        fleetlock_sync(d);
        if (d->agent)
                wave_agent_swarm_changed(d->agent, reply->json, &d->swarm);
        report_addresses(d);

        if (info.role != SWARM_ROLE_MANAGER) {
                set_leader(d, false);
                d->info_in_flight = false;
                notify_status(d);
                return;
        }
        r = docker_inspect_node(d->docker, info.node_id, on_leader_reply, d);
        if (r < 0) {
                d->info_in_flight = false;
                log_warning_errno(r, "Cannot ask dockerd about node %s", info.node_id);
        }
}

static void daemon_refresh(Daemon *d) {
        int r;

        if (d->info_in_flight)
                return;
        r = docker_get_info(d->docker, on_info_reply, d);
        if (r < 0) {
                log_warning_errno(r, "Cannot ask dockerd for /info");
                return;
        }
        d->info_in_flight = true;
}

static void containers_remove(Daemon *d, const char *id) {
        for (size_t i = 0; i < d->n_containers; i++)
                if (STREQ(d->containers[i].id, id)) {
                        d->containers[i] = d->containers[--d->n_containers];
                        return;
                }
}

static void on_container_stopped(const DockerReply *reply, void *userdata) {
        Daemon *d = userdata;

        if (reply->error)
                log_error("Cannot stop a container running without seccomp: %s", reply->message);
        else
                d->containers_stopped++;
}

/* (Re)reads the baseline profiles; one that cannot be read is kept as why,
 * and containers with profiles of their own are then not passed. */
static void load_baselines(Daemon *d) {
        const char *paths[2] = { d->config->seccomp_baseline_profile, d->config->seccomp_installed_profile };

        for (size_t i = 0; i < ELEMENTSOF(d->baselines); i++) {
                SeccompError error = {};
                SeccompTarget host;
                int r;

                seccomp_allowed_done(&d->baselines[i].allowed);
                d->baselines[i].profile = seccomp_profile_free(d->baselines[i].profile);
                d->baselines[i].error[0] = 0;
                r = seccomp_profile_load(paths[i], &d->baselines[i].profile, &error);
                if (r >= 0) {
                        seccomp_target_host(&host);
                        r = seccomp_allowed(d->baselines[i].profile, &host, &d->baselines[i].allowed);
                }
                if (r < 0) {
                        located_error_format(&error, paths[i], d->baselines[i].error, sizeof(d->baselines[i].error));
                        d->baselines[i].profile = seccomp_profile_free(d->baselines[i].profile);
                        if (i == 0)
                                log_warning("Seccomp baseline %s cannot be read: %s", paths[i],
                                            d->baselines[i].error);
                }
        }
}

static void on_container_inspect(const DockerReply *reply, void *userdata) {
        Daemon *d = userdata;
        ContainerFinding f;
        char id_field[96], name_field[160];
        int r;

        if (reply->error)
                return; /* gone before we looked: its die event removes it */
        /* hostd's profile is the baseline while it is dockerd's default */
        size_t b = d->swarm_known && STREQ(d->swarm.seccomp_profile, d->config->seccomp_installed_profile) ? 1 : 0;
        SeccompBaseline baseline = {
                .name = b ? "hostd's installed profile" : "Docker's default profile",
                .allowed = d->baselines[b].profile ? &d->baselines[b].allowed : NULL,
                .error = d->baselines[b].error,
        };
        r = container_assess(reply->json, "/proc", &baseline, &f);
        if (r == -ESRCH)
                return;
        if (r >= 0)
                f.n_published_tcp = lb_published_tcp_ports(reply->json, f.published_tcp, ELEMENTSOF(f.published_tcp));
        if (r < 0) {
                log_warning_errno(r, "Unexpected container inspect body from dockerd");
                return;
        }

        bool known_bad = false;
        for (size_t i = 0; i < d->n_containers; i++)
                if (STREQ(d->containers[i].id, f.id))
                        known_bad = !d->containers[i].compliant;
        containers_remove(d, f.id);
        ContainerFinding *grown = realloc(d->containers, (d->n_containers + 1) * sizeof(*grown));
        if (!grown) {
                log_error("Out of memory tracking containers");
                return;
        }
        d->containers = grown;
        d->containers[d->n_containers++] = f;

        if (f.compliant || known_bad)
                return;
        snprintf(id_field, sizeof(id_field), "HOSTD_CONTAINER_ID=%s", f.id);
        snprintf(name_field, sizeof(name_field), "HOSTD_CONTAINER_NAME=%s", f.name);
        log_struct(LOG_WARNING,
                   LOG_FIELDS("MESSAGE_ID=" MSGID_CONTAINER_UNCONFINED, "HOSTD_SUBSYSTEM=seccomp",
                              id_field, name_field),
                   "Container %s (%.12s, pid %d) %s", f.name, f.id, (int) f.pid, f.problem);
        if (d->config->seccomp_enforcement != SECCOMP_ENFORCE_STOP)
                return;
        r = docker_stop_container(d->docker, f.id, 10, on_container_stopped, d);
        if (r < 0) {
                log_error_errno(r, "Cannot stop container %s", f.name);
                return;
        }
        change_record(d->changes, LOG_WARNING, CHANGE_CONTAINER_STOP,
                      LOG_FIELDS("HOSTD_SUBSYSTEM=seccomp", id_field, name_field),
                      "Stopping container %s: %s (seccomp enforcement is \"stop\")", f.name, f.problem);
}

static void on_containers_list(const DockerReply *reply, void *userdata) {
        Daemon *d = userdata;
        const json_t *c;
        size_t i;

        if (reply->error || !json_is_array(reply->json))
                return;
        d->n_containers = 0; /* a fresh view after (re)connecting */
        json_array_foreach(reply->json, i, c) {
                const char *id = json_string_value(json_object_get(c, "Id"));
                if (id)
                        docker_inspect_container(d->docker, id, on_container_inspect, d);
        }
}

static void on_container_event(Daemon *d, const json_t *event) {
        const char *action = json_string_value(json_object_get(event, "Action"));
        const char *id = json_string_value(json_object_get(json_object_get(event, "Actor"), "ID"));

        if (!action || !id)
                return;
        if (d->agent)
                wave_agent_container_event(d->agent, event);
        if (STREQ(action, "start"))
                docker_inspect_container(d->docker, id, on_container_inspect, d);
        else if (STREQ(action, "die") || STREQ(action, "destroy"))
                containers_remove(d, id);
}

static void on_docker_event(const json_t *event, void *userdata) {
        Daemon *d = userdata;
        const char *type = json_string_value(json_object_get(event, "Type"));

        d->events_received++;
        /* Swarm membership and roles change with node events; "daemon"
         * events follow reloads and swarm joins. */
        if (type && (STREQ(type, "node") || STREQ(type, "daemon")))
                daemon_refresh(d);
        /* a node's availability or a service changed: the wave may move */
        if (type && (STREQ(type, "node") || STREQ(type, "service")) && d->coordinator)
                coordinator_kick(d->coordinator);
        else if (type && STREQ(type, "container"))
                on_container_event(d, event);
}

static void on_docker_stream(bool connected, int error, void *userdata) {
        Daemon *d = userdata;

        d->events_connected = connected;
        if (d->agent)
                wave_agent_kick(d->agent); /* its health checks look at Docker */
        if (connected) {
                d->stream_connects++;
                docker_mark_reachable(d);
                daemon_refresh(d);
                docker_list_containers(d->docker, on_containers_list, d);
                notify_status(d);
        } else {
                char message[300];

                snprintf(message, sizeof(message), "events stream from %s ended: %s",
                         d->docker_socket, strerror(-error));
                docker_mark_failed(d, error, message);
        }
}

static int on_refresh_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        daemon_refresh(d);
        /* Swarm emits no event when another manager writes the stored wave
         * (an operator's start or pause there): the leader re-reads it here */
        if (d->coordinator)
                coordinator_kick(d->coordinator);
        sd_event_source_set_time(s, usec + (uint64_t) d->config->swarm_refresh_sec * 1000000ULL);
        return 0;
}

static int docker_start(Daemon *d) {
        _cleanup_free_ char *path = NULL;
        char why[256];
        uint64_t now;
        int r;

        r = config_docker_socket(d->config, getenv("DOCKER_HOST"), &path, why, sizeof(why));
        if (r == -EINVAL)
                return log_error_errno(r, "%s", why);
        if (r < 0)
                return log_error_errno(r, "Cannot determine the Docker socket");

        /* the coordinator goes with the client it calls through; it answers
         * the node protocol's pending calls before their server goes */
        d->coordinator = coordinator_free(d->coordinator);
        d->fleetlock = fleetlock_server_free(d->fleetlock);
        d->docker = docker_client_free(d->docker);
        d->refresh_timer = sd_event_source_disable_unref(d->refresh_timer);
        free(d->docker_socket);
        d->docker_socket = TAKE_PTR(path);
        d->docker_reachable = false;
        d->events_connected = false;
        d->swarm_known = false;
        d->is_leader = false;
        d->info_in_flight = false;
        snprintf(d->docker_error_message, sizeof(d->docker_error_message), "not contacted yet");

        r = docker_client_new(d->event, d->docker_socket, d->config->docker_request_timeout_sec,
                              &d->docker);
        if (r < 0)
                return log_error_errno(r, "Cannot create the Docker client");
        r = coordinator_new(d->event, d->clock, d->docker, d->changes, &d->coordinator);
        if (r < 0)
                return log_error_errno(r, "Cannot create the wave coordinator");
        r = coordinator_set_alert_gate(d->coordinator, &d->config->wave.alertmanager, why, sizeof(why));
        if (r < 0)
                return log_error_errno(r, "Cannot set the wave's alert gate: %s", why);
        r = docker_events_start(d->docker, on_docker_event, on_docker_stream, d);
        if (r < 0)
                return log_error_errno(r, "Cannot start the Docker events stream");

        sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(d->event, &d->refresh_timer, CLOCK_MONOTONIC,
                              now + (uint64_t) d->config->swarm_refresh_sec * 1000000ULL,
                              0, on_refresh_timer, d);
        if (r < 0)
                return log_error_errno(r, "Cannot add the refresh timer");
        sd_event_source_set_enabled(d->refresh_timer, SD_EVENT_ON);
        sd_event_source_set_description(d->refresh_timer, "swarm-refresh");
        log_info("Using Docker at %s", d->docker_socket);
        if (d->agent)
                wave_agent_docker_replaced(d->agent);
        return 0;
}

/* Creates the firewall manager when needed and hands it the policy. */
static int daemon_firewall_start(Daemon *d, const char *reason, char *err, size_t err_size) {
        int r;

        if (!d->firewall) {
                if (!d->config->firewall.enabled)
                        return 0;
                r = firewall_manager_new(d->event, d->changes, d->config->state_directory, &d->firewall);
                if (r < 0) {
                        snprintf(err, err_size, "cannot open nftables netlink: %s", strerror(-r));
                        return log_error_errno(r, "Cannot manage the firewall: %s", err);
                }
                /* the Swarm peers last seen, until Docker answers: a restart
                 * never closes the Swarm's ports to its peers */
                _cleanup_free_ Cidr *saved = NULL;
                int n = d->config->firewall.swarm_peers ? firewall_peers_load(d->config->state_directory, &saved) : 0;
                if (n > 0)
                        firewall_manager_set_peers(d->firewall, saved, (size_t) n, err, err_size);
        }
        r = firewall_manager_set_policy(d->firewall, &d->config->firewall, reason, err, err_size);
        if (r < 0)
                return log_error_errno(r, "Firewall not applied: %s", err);
        return 0;
}

int daemon_firewall_apply(Daemon *d, unsigned timeout_sec, char *err, size_t err_size) {
        _cleanup_(config_freep) HostdConfig *c = NULL;
        ConfigError error;
        int r;

        r = config_load(d->config_path, &c, &error);
        if (r < 0) {
                located_error_format(&error, d->config_path, err, err_size);
                return r;
        }
        if (!d->firewall) {
                r = firewall_manager_new(d->event, d->changes, d->config->state_directory, &d->firewall);
                if (r < 0) {
                        snprintf(err, err_size, "cannot open nftables netlink: %s", strerror(-r));
                        return r;
                }
        }
        if (timeout_sec > 0)
                r = firewall_manager_apply_with_confirm(d->firewall, &c->firewall, timeout_sec, err, err_size);
        else
                r = firewall_manager_apply(d->firewall, &c->firewall, "hostctl firewall apply", err, err_size);
        if (r < 0)
                return r;
        /* the file's firewall is now the running one */
        FirewallPolicy taken = c->firewall;
        c->firewall = d->config->firewall;
        d->config->firewall = taken;
        return 0;
}

static void apply_log_level(const HostdConfig *c) {
        if (c->log_level >= 0)
                arg_log_level = c->log_level;
}

/* The periodic work (plans, the textfile, the posture summary): one
 * oneshot timer each, re-armed after it fires; interval 0 turns it off. */
static void periodic_next(sd_event_source *s, uint64_t usec, uint64_t interval_usec) {
        if (interval_usec)
                sd_event_source_set_time(s, usec + interval_usec);
        sd_event_source_set_enabled(s, interval_usec ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}

static int periodic_add(Daemon *d, sd_event_source **s, uint64_t first_usec, sd_event_time_handler_t handler) {
        return sd_event_add_time(d->event, s, CLOCK_MONOTONIC, first_usec, 1000000ULL, handler, d);
}

/* On or off as the configuration says (at start, and on each reload). */
static void periodic_enable(Daemon *d) {
        const struct {
                sd_event_source *source;
                bool on;
        } timers[] = {
                { d->patch_check_timer, d->config->patching.check_hours > 0 },
                { d->textfile_timer, d->config->posture_textfile != NULL },
                { d->report_timer, d->config->posture_report_sec > 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(timers); i++)
                if (timers[i].source)
                        sd_event_source_set_enabled(timers[i].source, timers[i].on ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}

/* GET on the load balancer's health port: decided now, from what this
 * hostd knows (hostd/lb-health.h) */
static void on_lb_health(ControlCall *call, void *userdata) {
        Daemon *d = userdata;
        uint16_t published[256];
        size_t n_published = 0;
        char why[256];
        unsigned status;

        if (!STREQ(control_call_method(call), "GET") && !STREQ(control_call_method(call), "HEAD") &&
            !STREQ(control_call_method(call), "OPTIONS")) {
                control_call_reply_text(call, 405, "text/plain", strdup("GET, HEAD or OPTIONS only\n"));
                return;
        }
        for (size_t i = 0; i < d->n_containers; i++)
                for (size_t k = 0; k < d->containers[i].n_published_tcp && n_published < ELEMENTSOF(published); k++)
                        published[n_published++] = d->containers[i].published_tcp[k];
        LbHealthInput in = {
                .wave = d->agent ? wave_agent_wave(d->agent) : NULL,
                /* its own record: what it does even before it hears a manager again */
                .agent_step = d->agent && wave_agent_record(d->agent) ?
                                      wave_node_step_to_string(wave_agent_record(d->agent)->step) : NULL,
                .node_id = d->swarm_known ? d->swarm.node_id : NULL,
                .docker_reachable = d->docker_reachable && d->events_connected,
                .serving_ports = d->config->load_balancer.serving_ports,
                .n_serving_ports = d->config->load_balancer.n_serving_ports,
                .published = published,
                .n_published = n_published,
        };
        status = lb_health_decide(&in, why, sizeof(why));
        if (!STREQ(why, d->lb_last_why))
                log_info("Load balancer health: %u, %s", status, why);
        snprintf(d->lb_last_why, sizeof(d->lb_last_why), "%s", why);
        char *body = NULL;
        if (asprintf(&body, "%s\n", why) < 0)
                body = NULL;
        control_call_reply_text(call, status, "text/plain", body);
}

/* Serves the health endpoint on load-balancer.health-port (again when the
 * port changed; none at 0). */
static int lb_health_start(Daemon *d) {
        uint16_t port = d->config->load_balancer.health_port;
        int r;

        if ((d->lb_health && port == d->lb_health_port) || (!d->lb_health && !port))
                return 0;
        ControlServer *fresh = NULL;
        /* the new port first: one that cannot be had leaves the old one served */
        if (port && (r = control_server_new_tcp(d->event, port, on_lb_health, d, &fresh)) < 0)
                return log_error_errno(r, "Cannot serve the load balancer's health endpoint on port %u%s", port,
                                       d->lb_health ? ": the old port stays served" : "");
        control_server_free(d->lb_health);
        d->lb_health = fresh;
        d->lb_health_port = port;
        d->lb_last_why[0] = '\0';
        if (!port)
                return 0;
        log_info("Serving the load balancer's health endpoint on port %u (HTTP)", port);
        return 0;
}

int daemon_reload(Daemon *d, char *err, size_t err_size) {
        _cleanup_(config_freep) HostdConfig *c = NULL;
        char config_field[300];
        bool docker_changed;
        ConfigError error;
        int r;

        sd_notify(0, "RELOADING=1\nSTATUS=Reloading configuration");
        r = config_load(d->config_path, &c, &error);
        if (r < 0) {
                located_error_format(&error, d->config_path, err, err_size);
                log_struct(LOG_ERR, LOG_FIELDS("MESSAGE_ID=" MSGID_CONFIG_REJECTED),
                           "Configuration not reloaded, keeping the running one: %s", err);
                sd_notify(0, "READY=1");
                notify_status(d);
                return r;
        }

        docker_changed = (c->docker_socket == NULL) != (d->config->docker_socket == NULL) ||
                         (c->docker_socket && !STREQ(c->docker_socket, d->config->docker_socket)) ||
                         c->docker_request_timeout_sec != d->config->docker_request_timeout_sec;
        config_free(d->config);
        d->config = TAKE_PTR(c);
        apply_log_level(d->config);
        load_baselines(d);
        d->reloads++;

        r = daemon_firewall_start(d, "configuration reloaded", err, err_size);
        if (r < 0) {
                sd_notify(0, "READY=1");
                return r;
        }

        if (docker_changed) {
                r = docker_start(d);
                if (r < 0) {
                        snprintf(err, err_size, "configuration loaded but Docker client failed: %s",
                                 strerror(-r));
                        sd_notify(0, "READY=1");
                        return r;
                }
        } else if (d->coordinator &&
                   (r = coordinator_set_alert_gate(d->coordinator, &d->config->wave.alertmanager, err, err_size)) < 0) {
                sd_notify(0, "READY=1");
                return r;
        }
        periodic_enable(d);
        if ((r = lb_health_start(d)) < 0) {
                snprintf(err, err_size, "configuration loaded, but the load balancer's health port %u cannot be served: %s",
                         d->config->load_balancer.health_port, strerror(-r));
                sd_notify(0, "READY=1");
                return r;
        }
        snprintf(config_field, sizeof(config_field), "HOSTD_CONFIG=%s", d->config_path);
        change_record(d->changes, LOG_INFO, CHANGE_CONFIG_RELOAD, LOG_FIELDS(config_field),
                      "Configuration reloaded from %s", d->config_path);
        sd_notify(0, "READY=1");
        notify_status(d);
        return 0;
}

static int on_signal(sd_event_source *s _unused_, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;
        char why[512];

        if (si->ssi_signo == SIGHUP) {
                daemon_reload(d, why, sizeof(why));
                return 0;
        }
        log_info("Received %s, shutting down", strsignal((int) si->ssi_signo));
        sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
        sd_event_exit(d->event, 0);
        return 0;
}

/* A plan from the package lists as they are, now and then, so that the
 * posture knows the pending updates: new ones arrive in the lists with no
 * event to tell (apt's own timer, or a wave's stage, refreshes them). */
static int on_patch_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        _cleanup_free_ char *state_dir = NULL;
        PatchRequest req;
        unsigned id;
        int r;

        if (d->config->patching.check_hours == 0) {
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        r = daemon_patch_request(d, PATCH_OP_PLAN, &req, &state_dir);
        if (r >= 0)
                r = patch_jobs_start(d->patch_jobs, &req, &id);
        /* busy (an operator's job, a wave's): try again in a minute */
        periodic_next(s, usec, (r == -EBUSY ? 60ULL : (uint64_t) d->config->patching.check_hours * 3600ULL) * 1000000ULL);
        if (r < 0 && r != -EBUSY)
                log_warning_errno(r, "Cannot start the periodic patch plan: %m");
        return 0;
}

/* the managers' cluster view is as fresh as these */
static int on_report_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        daemon_posture_report(d);
        periodic_next(s, usec, (uint64_t) d->config->posture_report_sec * 1000000ULL);
        return 0;
}

/* node_exporter reads the textfile when scraped; keep it current */
static int on_textfile_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        daemon_metrics_textfile(d);
        periodic_next(s, usec, d->config->posture_textfile ? (uint64_t) d->config->posture_textfile_sec * 1000000ULL : 0);
        return 0;
}

/* What posture gathering reads, as it is now. */
static void posture_sources(void *userdata, PostureSources *ret) {
        Daemon *d = userdata;

        *ret = (PostureSources){
                .config = d->config,
                .config_path = d->config_path,
                .docker = d->docker,
                .docker_socket = d->docker_socket,
                .docker_reachable = d->docker_reachable,
                .swarm = d->swarm_known ? &d->swarm : NULL,
                .containers = d->containers,
                .n_containers = d->n_containers,
                .seccomp_restart_pending = d->seccomp_restart_pending,
                .seccomp_profile_ours = daemon_profile_ours(d, d->seccomp_profile_problem,
                                                            sizeof(d->seccomp_profile_problem)),
                .seccomp_profile_problem = d->seccomp_profile_problem,
                .firewall = d->firewall,
                .patch_jobs = d->patch_jobs,
                .agent = d->agent,
                .board = d->fleetlock ? d->posture_board : NULL,
        };
}

#define POSTURE_HOST(d) (&(PostureHost){ .sources = posture_sources, .userdata = (d) })

void daemon_posture(Daemon *d, ControlCall *call) {
        posture_gather_report(POSTURE_HOST(d), call);
}

void daemon_metrics(Daemon *d, ControlCall *call) {
        posture_gather_metrics(POSTURE_HOST(d), call);
}

void daemon_metrics_textfile(Daemon *d) {
        posture_gather_textfile(POSTURE_HOST(d));
}

void daemon_posture_report(Daemon *d) {
        posture_gather_summary(POSTURE_HOST(d));
}

void daemon_posture_cluster(Daemon *d, ControlCall *call) {
        posture_gather_cluster(POSTURE_HOST(d), call);
}

/* The wave agent's view of this node's health: what a wave must find
 * again after patching it. */
static unsigned agent_health(void *userdata, const char *node_id) {
        Daemon *d = userdata;
        unsigned ok = 0;
        json_t *fw, *audit;

        if (d->docker_reachable && d->events_connected)
                ok |= NODE_HEALTH_DOCKER;
        if (d->swarm_known && STREQ(d->swarm.local_state, "active") && STREQ(d->swarm.node_id, node_id))
                ok |= NODE_HEALTH_NODE;
        fw = d->firewall ? firewall_manager_status(d->firewall, true) : NULL;
        if (fw && json_is_true(json_object_get(fw, "enabled")) &&
            json_is_true(json_object_get(json_object_get(fw, "live"), "exists")) &&
            json_is_true(json_object_get(json_object_get(fw, "live"), "matches_desired")))
                ok |= NODE_HEALTH_FIREWALL;
        json_decref(fw);
        audit = daemon_seccomp_audit_json(d);
        if (json_is_true(json_object_get(audit, "compliant")))
                ok |= NODE_HEALTH_SECCOMP;
        if (json_is_true(json_object_get(audit, "daemon_profile_is_ours")))
                ok |= NODE_HEALTH_SECCOMP_DEFAULT;
        json_decref(audit);
        return ok;
}

/* Asked of the dockerd behind the socket now, not of what /info last said:
 * the agent restarts it. */
static int agent_seccomp_restart_pending(void *userdata) {
        return check_restart_pending(userdata);
}

static int agent_start_patch(void *userdata, PatchOp op, const char *expected_plan, const char *entry_id,
                             const PackageSet *approved, PatchJobDone done, void *done_userdata) {
        Daemon *d = userdata;
        _cleanup_free_ char *state_dir = NULL;
        PatchRequest req;
        unsigned id;
        int r = daemon_patch_request(d, op, &req, &state_dir);

        if (r < 0)
                return r;
        req.expected_plan = expected_plan;
        req.entry_id = entry_id;
        req.policy.approved = approved; /* the worker is forked: it reads it before the call returns */
        /* a wave patches what the archives offer now */
        req.refresh = op == PATCH_OP_STAGE;
        return patch_jobs_start_then(d->patch_jobs, &req, done, done_userdata, &id);
}

static void agent_posture_report(void *userdata) {
        daemon_posture_report(userdata);
}

int daemon_new(const char *config_path, const char *socket_path, ControlHandler api, Daemon **ret) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
        ConfigError error;
        char why[512];
        sigset_t mask;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return log_error_errno(ENOMEM, "Out of memory");
        d->config_path = strdup(config_path);
        d->socket_path = strdup(socket_path);
        if (!d->config_path || !d->socket_path)
                return log_error_errno(ENOMEM, "Out of memory");

        r = config_load(config_path, &d->config, &error);
        if (r < 0) {
                located_error_format(&error, config_path, why, sizeof(why));
                log_struct(LOG_ERR, LOG_FIELDS("MESSAGE_ID=" MSGID_CONFIG_REJECTED),
                           "Invalid configuration, not starting: %s", why);
                return r;
        }
        apply_log_level(d->config);
        load_baselines(d);
        /* the state directory of the start: a reload does not move the log */
        r = change_log_open(d->config->state_directory, &d->changes);
        if (r < 0)
                return log_error_errno(r, "Cannot open the change log under %s", d->config->state_directory);

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop");
        /* WATCHDOG=1 at half of WatchdogSec=, from the loop itself: a hung
         * loop stops the pings and systemd restarts us. */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                return log_error_errno(r, "Cannot enable the watchdog");
        r = event_clock_new(d->event, &d->clock);
        if (r < 0)
                return log_error_errno(r, "Cannot create the waves' clock");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        if ((r = sd_event_add_signal(d->event, NULL, SIGTERM, on_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGINT, on_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGHUP, on_signal, d)) < 0)
                return log_error_errno(r, "Cannot watch signals");

        if (strchr(socket_path + 1, '/')) {
                _cleanup_free_ char *dir = strdup(socket_path);
                if (!dir)
                        return log_error_errno(ENOMEM, "Out of memory");
                *strrchr(dir, '/') = 0;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "Cannot create %s", dir);
        }
        r = control_server_new(d->event, socket_path, api, d, &d->control);
        if (r == -EADDRINUSE)
                return log_error_errno(r, "Another hostd is serving %s", socket_path);
        if (r < 0)
                return log_error_errno(r, "Cannot serve the control API on %s", socket_path);

        r = lb_health_start(d);
        if (r < 0)
                return r;
        r = patch_jobs_new(d->event, d->changes, &d->patch_jobs);
        if (r < 0)
                return log_error_errno(r, "Cannot set up patch jobs");
        recover_interrupted(d);
        /* the first a minute after the start: not in the way of starting */
        uint64_t now;
        sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        r = periodic_add(d, &d->patch_check_timer, now + 60ULL * 1000000ULL, on_patch_check);
        if (r < 0)
                return log_error_errno(r, "Cannot add the patch check timer");
        /* before Docker answers: managers keep the nodes' summaries here */
        r = posture_board_new(&d->posture_board);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        r = swarm_peers_new(&d->swarm_peers);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        load_reports(d);

        /* The firewall before Docker: a node is never left open while its
         * Swarm peers are still being learned. */
        r = daemon_firewall_start(d, "hostd started", why, sizeof(why));
        if (r < 0)
                return r;

        r = docker_start(d);
        if (r < 0)
                return r;
        r = wave_agent_new(&(WaveAgentHost){ .event = d->event,
                                             .clock = d->clock,
                                             .config = (const HostdConfig *const *) &d->config,
                                             .docker = &d->docker,
                                             .changes = d->changes,
                                             .control_socket = d->socket_path,
                                             .health = agent_health,
                                             .seccomp_restart_pending = agent_seccomp_restart_pending,
                                             .start_patch = agent_start_patch,
                                             .posture_report = agent_posture_report,
                                             .peers = agent_peers,
                                             .userdata = d },
                           &d->agent);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the wave agent");
        /* the first textfile once Docker had a moment to answer */
        r = periodic_add(d, &d->textfile_timer, now + 2ULL * 1000000ULL, on_textfile_timer);
        if (r < 0)
                return log_error_errno(r, "Cannot add the textfile timer");
        /* the first summary once Docker had time to say who the managers are */
        r = periodic_add(d, &d->report_timer, now + 3ULL * 1000000ULL, on_report_timer);
        if (r < 0)
                return log_error_errno(r, "Cannot add the posture report timer");
        periodic_enable(d);

        sd_event_now(d->event, CLOCK_MONOTONIC, &d->started_monotonic_usec);
        sd_event_now(d->event, CLOCK_REALTIME, &d->started_realtime_usec);
        *ret = TAKE_PTR(d);
        return 0;
}

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        d->agent = wave_agent_free(d->agent);
        d->patch_check_timer = sd_event_source_disable_unref(d->patch_check_timer);
        d->textfile_timer = sd_event_source_disable_unref(d->textfile_timer);
        d->report_timer = sd_event_source_disable_unref(d->report_timer);
        d->patch_jobs = patch_jobs_free(d->patch_jobs);
        d->coordinator = coordinator_free(d->coordinator);
        d->fleetlock = fleetlock_server_free(d->fleetlock);
        d->posture_board = posture_board_free(d->posture_board);
        d->swarm_peers = swarm_peers_free(d->swarm_peers);
        for (size_t i = 0; i < ELEMENTSOF(d->baselines); i++) {
                seccomp_allowed_done(&d->baselines[i].allowed);
                seccomp_profile_free(d->baselines[i].profile);
        }
        free(d->received_peers);
        free(d->manager_peers);
        certs_unwatch(d);
        d->control = control_server_free(d->control);
        d->lb_health = control_server_free(d->lb_health);
        firewall_manager_free(d->firewall);
        free(d->containers);
        sd_event_source_disable_unref(d->refresh_timer);
        docker_client_free(d->docker);
        config_free(d->config);
        change_log_free(d->changes);
        event_clock_free(d->clock);
        sd_event_unref(d->event);
        free(d->docker_socket);
        free(d->config_path);
        free(d->socket_path);
        free(d);
        return NULL;
}

int daemon_run(Daemon *d) {
        int r;

        log_struct(LOG_INFO,
                   LOG_FIELDS("MESSAGE_ID=" MSGID_STARTED, "HOSTD_VERSION=" HOSTD_VERSION),
                   "hostd %s started (config %s, control socket %s)", HOSTD_VERSION,
                   d->config_path, d->socket_path);
        sd_notify(0, "READY=1\nSTATUS=Started; contacting Docker");

        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed");
        log_struct(LOG_INFO, LOG_FIELDS("MESSAGE_ID=" MSGID_STOPPED), "hostd stopped");
        return r;
}

/* Settles a pending install once the dockerd behind the socket started
 * after it; returns profile_restart_pending()'s answer. */
static int check_restart_pending(Daemon *d) {
        int r;

        r = profile_restart_pending(d->config->state_directory, d->docker_socket, DOCKERD_PIDFILE);
        if (r < 0) /* dockerd not there: undecided, keep what we knew */
                return r;
        if (d->seccomp_restart_pending && r == 0)
                change_record(d->changes, LOG_INFO, CHANGE_SECCOMP_EFFECTIVE, LOG_FIELDS("HOSTD_SUBSYSTEM=seccomp"),
                           "dockerd restarted since the seccomp profile was installed: its default "
                           "is now %s", d->swarm_known ? d->swarm.seccomp_profile : "unknown");
        d->seccomp_restart_pending = r > 0;
        return r;
}

int daemon_seccomp_install(Daemon *d, const char *source, json_t **reply, char *err, size_t err_size) {
        const char *installed = d->config->seccomp_installed_profile;
        const char *daemon_json = d->config->seccomp_daemon_json;
        char source_field[600], target_field[300];
        ProfileInstall result;
        int r;

        snprintf(source_field, sizeof(source_field), "HOSTD_PROFILE_SOURCE=%s", source);
        snprintf(target_field, sizeof(target_field), "HOSTD_PROFILE=%s", installed);
        /* the running dockerd's flags: when it cannot be reached, none known */
        char cmdline[64];
        pid_t dockerd;
        bool have_dockerd = docker_daemon_pid(d->docker_socket, DOCKERD_PIDFILE, &dockerd) >= 0;
        if (have_dockerd)
                snprintf(cmdline, sizeof(cmdline), "/proc/%d/cmdline", (int) dockerd);
        r = profile_install(source, installed, daemon_json, have_dockerd ? cmdline : NULL, &result);
        if (r < 0) {
                log_struct(LOG_ERR,
                           LOG_FIELDS("MESSAGE_ID=" MSGID_SECCOMP_REFUSED, "HOSTD_SUBSYSTEM=seccomp",
                                      source_field),
                           "Seccomp profile not installed: %s", result.error);
                snprintf(err, err_size, "%s", result.error);
                return r;
        }
        if (result.profile_changed)
                load_baselines(d);
        r = profile_digest_record(d->config->state_directory, installed, result.digest);
        if (r < 0)
                log_warning_errno(r, "Cannot record the installed profile's digest under %s: the posture will "
                                  "fail until it is recorded", d->config->state_directory);
        if (result.profile_changed || result.daemon_json_changed) {
                r = profile_pending_record(d->config->state_directory, installed);
                if (r < 0)
                        log_warning_errno(r, "Cannot record the pending Docker restart under %s",
                                          d->config->state_directory);
                d->seccomp_restart_pending = true;
                change_record(d->changes, LOG_NOTICE, CHANGE_SECCOMP_INSTALL,
                              LOG_FIELDS("HOSTD_SUBSYSTEM=seccomp", source_field, target_field),
                           "Seccomp profile %s installed as %s (%s), daemon.json %s %s; dockerd uses it "
                           "from its next restart",
                           source, installed, result.profile_changed ? "new content" : "same content",
                           daemon_json, result.daemon_json_changed ? "updated" : "unchanged");
        } else
                check_restart_pending(d);

        *reply = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I}", "source", source,
                           "installed_profile", installed, "daemon_json", daemon_json,
                           "profile_changed", result.profile_changed, "daemon_json_changed",
                           result.daemon_json_changed, "restart_pending", d->seccomp_restart_pending,
                           "syscall_rules", (json_int_t) result.stats.syscalls_added,
                           "bpf_instructions", (json_int_t) result.stats.bpf_instructions);
        return *reply ? 0 : -ENOMEM;
}

/* Whether dockerd's default profile is hostd's installed one, with the
 * content recorded at install; why not in why. */
static bool daemon_profile_ours(const Daemon *d, char *why, size_t why_size) {
        const char *daemon_profile = d->swarm_known ? d->swarm.seccomp_profile : "";

        if (!STREQ(daemon_profile, d->config->seccomp_installed_profile)) {
                snprintf(why, why_size, "dockerd's default profile is %s, not %s",
                         daemon_profile[0] ? daemon_profile : "none", d->config->seccomp_installed_profile);
                return false;
        }
        if (d->seccomp_restart_pending) {
                snprintf(why, why_size, "installed again, but dockerd has not restarted since: it still uses "
                         "what %s held when it started", daemon_profile);
                return false;
        }
        return profile_digest_verify(d->config->state_directory, d->config->seccomp_installed_profile, why,
                                     why_size) >= 0;
}

json_t *daemon_seccomp_audit_json(const Daemon *d) {
        json_t *list = json_array();
        bool compliant = true;

        if (!list)
                return NULL;
        for (size_t i = 0; i < d->n_containers; i++) {
                json_array_append_new(list, container_finding_json(&d->containers[i]));
                compliant = compliant && d->containers[i].compliant;
        }
        /* dockerd's daemon-wide default must be the profile hostd installs */
        const char *daemon_profile = d->swarm_known ? d->swarm.seccomp_profile : "";
        char why[512];
        bool profile_ours = daemon_profile_ours(d, why, sizeof(why));

        return json_pack("{s:o, s:b, s:s, s:b, s:I, s:s?, s:s, s:b, s:s?, s:b}", "containers", list, "compliant",
                         compliant && profile_ours, "enforcement",
                         d->config->seccomp_enforcement == SECCOMP_ENFORCE_STOP ? "stop" : "report",
                         "docker_reachable", d->docker_reachable, "containers_stopped",
                         (json_int_t) d->containers_stopped, "daemon_profile",
                         daemon_profile[0] ? daemon_profile : NULL, "expected_profile",
                         d->config->seccomp_installed_profile, "daemon_profile_is_ours", profile_ours,
                         "daemon_profile_problem", profile_ours ? NULL : why, "restart_pending",
                         d->seccomp_restart_pending);
}

static const char *iso8601(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
}

static void on_recovered(const json_t *result, const char *error, void *userdata) {
        Daemon *d = userdata;
        const json_t *e;
        size_t i;

        if (error) {
                /* still interrupted: the next operation on the root, or an
                 * operator's rollback, tries again */
                change_record(d->changes, LOG_ERR, CHANGE_PATCH_FAILED,
                              LOG_FIELDS("HOSTD_REASON=interrupted transaction not recovered at start"),
                              "An interrupted patch transaction could not be recovered at start: %s", error);
                return;
        }
        json_array_foreach(json_object_get(result, "recovered"), i, e) {
                const char *id = json_string_value(json_object_get(e, "id")) ?: "?";
                const char *state = json_string_value(json_object_get(e, "state")) ?: "?";
                bool ok = STREQ(state, "rolled-back");
                char f_tx[160];

                snprintf(f_tx, sizeof(f_tx), "HOSTD_TRANSACTION=%s", id);
                change_record(d->changes, ok ? LOG_WARNING : LOG_ERR,
                              ok ? CHANGE_PATCH_ROLLBACK : CHANGE_PATCH_FAILED,
                              LOG_FIELDS(f_tx, "HOSTD_REASON=interrupted transaction recovered at start"),
                              "Patch transaction %s was interrupted, recovered at start: %s", id,
                              json_string_value(json_object_get(e, "message")) ?: "");
        }
}

/* A transaction whose processes all died (a power loss) is left
 * "applying" in the journal: a worker recovers it now, off the loop. A
 * worker that outlived the last hostd still holds the lock; the recovery
 * job waits for it and then finds nothing to do. */
static void recover_interrupted(Daemon *d) {
        _cleanup_free_ char *state_dir = NULL, *journal_dir = NULL, *error_file = NULL;
        JournalEntry **list = NULL;
        JournalError jerr = {};
        PatchRequest req;
        bool unfinished = false;
        size_t n = 0;
        unsigned id;
        int r;

        if (daemon_patch_request(d, PATCH_OP_HISTORY, &req, &state_dir) < 0 ||
            asprintf(&journal_dir, "%s/journal", state_dir) < 0)
                return (void) log_error_errno(ENOMEM, "Out of memory");
        if (journal_list(journal_dir, &list, &n, &jerr, &error_file) < 0)
                return; /* said by every patch operation, which refuses it */
        for (size_t i = 0; i < n; i++)
                unfinished = unfinished || journal_entry_unfinished(list[i]);
        journal_list_free(list, n);
        if (!unfinished)
                return;
        log_warning("A patch transaction in %s did not finish: recovering it", journal_dir);
        r = patch_jobs_start_then(d->patch_jobs, &req, on_recovered, d, &id);
        if (r < 0)
                log_error_errno(r, "Cannot start the recovery of the interrupted patch transaction: %m");
}

int daemon_patch_request(const Daemon *d, PatchOp op, PatchRequest *ret, char **state_dir) {
        const PatchingConfig *pc = &d->config->patching;
        int r;

        if (STREQ(pc->root, "/"))
                r = asprintf(state_dir, "%s/patches", d->config->state_directory) < 0 ? -ENOMEM : 0;
        else
                r = patch_state_dir_for_root(pc->root, state_dir);
        if (r < 0)
                return r;
        *ret = (PatchRequest){
                .op = op,
                .root = pc->root,
                .state_dir = *state_dir,
                .policy = {
                        .security_only = pc->security_only,
                        .allow = (const char *const *) pc->allow,
                        .deny = (const char *const *) pc->deny,
                        .held = (const char *const *) pc->hold,
                        .min_age_usec = (uint64_t) pc->minimum_age_hours * 3600 * 1000000,
                },
        };
        return 0;
}

json_t *daemon_status_json(const Daemon *d) {
        json_t *docker, *swarm = NULL;
        uint64_t now;
        char started[32];

        sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        docker = json_pack("{s:s, s:b, s:b, s:s?, s:I, s:I, s:I}", "socket", d->docker_socket,
                           "reachable", d->docker_reachable, "events_connected",
                           d->events_connected, "error",
                           d->docker_reachable ? NULL : d->docker_error_message,
                           "events_received", (json_int_t) d->events_received,
                           "events_connects", (json_int_t) d->stream_connects,
                           "info_reads", (json_int_t) d->info_reads);
        if (docker && d->swarm_known)
                json_object_set_new(docker, "server_version", json_string(d->swarm.server_version));

        if (d->swarm_known)
                swarm = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:b}", "state",
                                  d->swarm.local_state, "node_id",
                                  d->swarm.node_id[0] ? d->swarm.node_id : NULL, "node_addr",
                                  d->swarm.node_addr[0] ? d->swarm.node_addr : NULL, "cluster_id",
                                  d->swarm.cluster_id[0] ? d->swarm.cluster_id : NULL, "hostname",
                                  d->swarm.hostname[0] ? d->swarm.hostname : NULL, "role",
                                  swarm_role_to_string(d->swarm.role), "leader", d->is_leader);

        json_t *firewall = d->firewall ? firewall_manager_status(d->firewall, false) : NULL;

        return json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "version", HOSTD_VERSION,
                         "pid", (int) getpid(), "config", d->config_path, "control_socket",
                         d->socket_path, "started", iso8601(d->started_realtime_usec, started, sizeof(started)),
                         "uptime_seconds", (json_int_t) ((now - d->started_monotonic_usec) / 1000000),
                         "reloads", (json_int_t) d->reloads, "docker", docker ? docker : json_null(),
                         "swarm", swarm ? swarm : json_null(), "firewall",
                         firewall ? firewall : json_null(), "patch",
                         d->patch_jobs ? patch_jobs_status(d->patch_jobs) : json_null(), "wave_agent",
                         d->agent ? wave_agent_status(d->agent) : json_null());
}

const HostdConfig *daemon_config(const Daemon *d) {
        return d->config;
}

const char *daemon_config_path(const Daemon *d) {
        return d->config_path;
}

uint64_t daemon_reloads(const Daemon *d) {
        return d->reloads;
}

FirewallManager *daemon_firewall(Daemon *d) {
        return d->firewall;
}

PatchJobs *daemon_patch_jobs(Daemon *d) {
        return d->patch_jobs;
}

PostureBoard *daemon_posture_board(Daemon *d) {
        return d->posture_board;
}

Coordinator *daemon_coordinator(Daemon *d) {
        return d->coordinator;
}
