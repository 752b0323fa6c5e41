/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <fnmatch.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "firewall/exposure.h"
#include "hostd/log.h"
#include "hostd/posture-checks.h"
#include "hostd/posture-gather.h"
#include "patching/auto-upgrades.h"

#define MAX_PORTS 1024

/* What a posture is gathered for. */
typedef enum GatherFor {
        GATHER_REPORT,   /* GET /v1/posture */
        GATHER_METRICS,  /* GET /v1/metrics */
        GATHER_TEXTFILE, /* posture.textfile */
        GATHER_SUMMARY,  /* the managers' cluster view (hostd/posture-board.h) */
} GatherFor;

/* One posture request: Docker's /info, its default bridge and its
 * containers are read in turn, then every check is judged at once. */
typedef struct Gathering {
        PostureHost host;
        GatherFor purpose;
        ControlCall *call;       /* for REPORT and METRICS */
        json_t *info, *bridge, *containers;
} Gathering;

static void gathering_free(Gathering *g) {
        json_decref(g->info);
        json_decref(g->bridge);
        json_decref(g->containers);
        free(g);
}

static bool trusted(const HostdConfig *c, const char *ifname) {
        if (STREQ(ifname, "lo"))
                return true;
        for (size_t i = 0; i < c->firewall.n_trusted_interfaces; i++)
                if (ifname_matches(c->firewall.trusted_interfaces[i], ifname))
                        return true;
        return false;
}

/* dockerd's TCP API listeners when it does not verify clients with TLS:
 * the kernel's listeners it holds, but Swarm's own (2377 is mutual TLS,
 * 7946 the gossip) */
static void docker_tcp_without_tls(const PostureSources *d, const Listener *l, const int *owners, int n, char *buf,
                                   size_t size) {
        _cleanup_free_ char *cmdline = NULL, *daemon_json = NULL;
        char path[64], addr[64];
        size_t len = 0, json_len = 0;
        pid_t dockerd;
        bool tls = false;

        buf[0] = '\0';
        if (docker_daemon_pid(d->docker_socket, DOCKERD_PIDFILE, &dockerd) < 0)
                return;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) dockerd);
        if (read_file(path, 1 << 20, &cmdline, &len) >= 0)
                for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1)
                        tls = tls || STREQ(cmdline + i, "--tlsverify") || STREQ(cmdline + i, "--tlsverify=true");
        if (!tls && read_file(d->config->seccomp_daemon_json, 1 << 20, &daemon_json, &json_len) >= 0) {
                json_t *j = json_loadb(daemon_json, json_len, 0, NULL);
                tls = json_is_true(json_object_get(j, "tlsverify"));
                json_decref(j);
        }
        if (tls)
                return;
        for (int i = 0; i < n; i++) {
                if (l[i].l4proto != IPPROTO_TCP || l[i].port == 2377 || l[i].port == 7946 || owners[i] != dockerd)
                        continue;
                listener_address(&l[i], addr, sizeof(addr));
                size_t used = strlen(buf);
                snprintf(buf + used, size - used, "%s%s:%u", used ? ", " : "", addr, l[i].port);
        }
}

/* The newest kernel under ROOT/boot (vmlinuz-VERSION), "" none. */
static void newest_kernel(const char *root, char *buf, size_t size) {
        _cleanup_free_ char *boot = NULL;
        DIR *dir;
        struct dirent *de;

        buf[0] = '\0';
        if (asprintf(&boot, "%s/boot", STREQ(root, "/") ? "" : root) < 0 || !(dir = opendir(boot)))
                return;
        while ((de = readdir(dir)))
                if (strncmp(de->d_name, "vmlinuz-", 8) == 0 && strverscmp(de->d_name + 8, buf) > 0)
                        snprintf(buf, size, "%s", de->d_name + 8);
        closedir(dir);
}

static void patch_facts(const PostureSources *d, Posture *p) {
        const char *root = d->config->patching.root;
        _cleanup_free_ char *reboot_file = NULL, *pkgs_file = NULL, *pkgs = NULL;
        const WaveNodeRecord *rec = d->agent ? wave_agent_record(d->agent) : NULL;
        bool idle = rec && rec->step == AGENT_IDLE && rec->wave[0];
        char kernel[128];
        struct utsname u;
        size_t n = 0;
        uint64_t plan_usec = 0;
        const json_t *plan = d->patch_jobs ? patch_jobs_last_plan(d->patch_jobs, &plan_usec) : NULL;

        char auto_what[512];
        int automatic = auto_upgrades_find(STREQ(root, "/") ? "" : root, auto_what, sizeof(auto_what));

        uname(&u);
        newest_kernel(root, kernel, sizeof(kernel));
        if (asprintf(&reboot_file, "%s/run/reboot-required", STREQ(root, "/") ? "" : root) < 0 ||
            asprintf(&pkgs_file, "%s.pkgs", reboot_file) < 0)
                return;
        if (read_file(pkgs_file, 64 * 1024, &pkgs, &n) >= 0)
                for (char *c = pkgs; *c; c++)
                        if (*c == '\n')
                                *c = c[1] ? ' ' : '\0';
        posture_check_patches(p, &(PatchFacts){
                                         .plan = plan,
                                         .plan_usec = plan_usec,
                                         .now_usec = clock_usec(CLOCK_REALTIME),
                                         .reboot_required = access(reboot_file, F_OK) == 0,
                                         .reboot_packages = pkgs ? pkgs : "",
                                         .running_kernel = u.release,
                                         .newest_kernel = kernel,
                                         .last_wave = idle ? rec->wave : "",
                                         .last_wave_ok = idle && rec->ok,
                                         .last_wave_healthy = idle && rec->healthy,
                                         .last_wave_message = idle ? rec->message : "",
                                         .last_wave_usec = idle ? rec->updated_usec : 0,
                                         .auto_upgrades = automatic,
                                         .auto_upgrades_what = auto_what,
                                 });
}

static void fail(Gathering *g, const char *format, ...) _printf_(2, 3);
static void fail(Gathering *g, const char *format, ...) {
        char message[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        if (g->call)
                control_call_reply_error(g->call, 500, "%s", message);
        else if (g->purpose == GATHER_TEXTFILE)
                log_warning("Cannot write the metrics textfile: %s", message);
        else
                log_warning("Cannot make the posture summary for the managers: %s", message);
}

static void sources(const Gathering *g, PostureSources *ret) {
        *ret = (PostureSources){};
        g->host.sources(g->host.userdata, ret);
}

/* The kernel's listening sockets as exposed ports, named by their owner. */
static void add_listeners(const Listener *listeners, const int *owners, int n, ExposedPort *ports, size_t *n_ports) {
        for (int k = 0; k < n && (*n_ports) < MAX_PORTS; k++) {
                ExposedPort *e = &ports[(*n_ports)++];
                char addr[64], comm[32] = "?";
                int pid = 0;

                e->l4proto = listeners[k].l4proto;
                e->port = listeners[k].port;
                e->family = listeners[k].family == AF_INET6 && !listeners[k].v6only ? AF_UNSPEC : listeners[k].family;
                e->loopback_only = listener_is_loopback(&listeners[k]);
                if (!e->loopback_only && (pid = owners[k]))
                        exposure_process_name(pid, comm, sizeof(comm));
                listener_address(&listeners[k], addr, sizeof(addr));
                snprintf(e->what, sizeof(e->what), "%.64s %.20s (pid %d)", addr, comm, pid);
        }
}

/* Docker's published ports (GET /containers/json). */
static void add_published(const json_t *containers, ExposedPort *ports, size_t *n_ports) {
        const json_t *c;
        size_t i;

        json_array_foreach(containers, i, c) {
                const json_t *port;
                size_t k;
                const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
                json_array_foreach(json_object_get(c, "Ports"), k, port) {
                        json_int_t pub = json_integer_value(json_object_get(port, "PublicPort"));
                        const char *type = json_string_value(json_object_get(port, "Type"));
                        const char *ip = json_string_value(json_object_get(port, "IP"));
                        if (pub <= 0 || pub > 65535 || (*n_ports) >= MAX_PORTS || !type)
                                continue;
                        ExposedPort *e = &ports[(*n_ports)++];
                        e->l4proto = STREQ(type, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
                        e->port = (uint16_t) pub;
                        e->family = ip && strchr(ip, ':') ? AF_INET6 : ip ? AF_INET : AF_UNSPEC;
                        e->loopback_only = ip && (strncmp(ip, "127.", 4) == 0 || STREQ(ip, "::1"));
                        snprintf(e->what, sizeof(e->what), "published by container %s", name ? name + (name[0] == '/') : "?");
                }
        }
}

/* The judged posture, to whoever asked for it. */
static void deliver(Gathering *g, const PostureSources *d, Posture *p, json_t *fw) {
        if (g->purpose == GATHER_METRICS || g->purpose == GATHER_TEXTFILE) {
                char *text = posture_to_prometheus(p, fw, d->firewall ? firewall_manager_applied(d->firewall) : NULL,
                                                   d->agent ? wave_agent_wave(d->agent) : NULL);
                if (g->call)
                        control_call_reply_text(g->call, 200, "text/plain; version=0.0.4", text);
                else {
                        /* node_exporter reads whole files: renamed into place */
                        int r = text ? write_file_atomic(d->config->posture_textfile, text, strlen(text), 0644) : -ENOMEM;
                        if (r < 0)
                                log_warning_errno(r, "Cannot write %s: %m", d->config->posture_textfile);
                        free(text);
                }
                return;
        }
        json_t *doc = posture_to_json(p);
        if (g->purpose == GATHER_SUMMARY) {
                json_t *summary = doc && d->swarm ? posture_summary_new(doc, d->swarm->hostname, d->config->posture_report_sec ?: 3600,
                                                            clock_usec(CLOCK_REALTIME))
                                      : NULL;
                /* the latest plan: a wave's approved set is frozen from the nodes' */
                uint64_t plan_usec = 0;
                const json_t *plan = d->patch_jobs ? patch_jobs_current_plan(d->patch_jobs, &plan_usec) : NULL;
                if (summary && plan)
                        json_object_set_new(summary, "plan", posture_summary_plan(plan, plan_usec));
                if (summary && d->agent)
                        wave_agent_send_posture(d->agent, summary);
                json_decref(summary);
                json_decref(doc);
                return;
        }
        if (doc && d->swarm)
                json_object_set_new(doc, "node", json_pack("{s:s, s:s}", "hostname", d->swarm->hostname, "node_id",
                                                           d->swarm->node_id));
        control_call_reply(g->call, doc ? 200 : 500, doc);
}

static void judge(Gathering *g) {
        PostureSources in, *d = &in;
        _cleanup_free_ Listener *listeners = NULL;
        _cleanup_free_ int *owners = NULL;
        _cleanup_free_ ExposedPort *ports = NULL;
        _cleanup_free_ ContainerFacts *containers = NULL;
        _cleanup_(config_freep) HostdConfig *on_disk = NULL;
        const char *public_ifs[64] = {};
        struct if_nameindex *ifs = if_nameindex();
        json_t *fw;
        Posture *p = calloc(1, sizeof(Posture));
        char why[256] = "", tcp_api[512], where[600];
        ConfigError cerr = {};
        size_t n_ports = 0, n_ifs = 0;
        int n, bridge_icc = -1;

        sources(g, &in);
        ports = calloc(MAX_PORTS, sizeof(ExposedPort));
        containers = calloc(d->n_containers + 1, sizeof(ContainerFacts));
        fw = d->firewall ? firewall_manager_status(d->firewall, true) : NULL;

        if (!p || !ports || !containers) {
                fail(g, "out of memory");
                goto out;
        }
        for (struct if_nameindex *it = ifs; it && it->if_name && n_ifs + 1 < ELEMENTSOF(public_ifs); it++)
                if (!trusted(d->config, it->if_name))
                        public_ifs[n_ifs++] = it->if_name;

        n = exposure_listeners(&listeners, why, sizeof(why));
        if (n < 0) {
                fail(g, "cannot list the listening sockets: %s", why);
                goto out;
        }
        /* who holds each, in one scan of /proc */
        owners = calloc(MAX(n, 1), sizeof(int));
        if (!owners) {
                fail(g, "out of memory");
                goto out;
        }
        exposure_socket_owners(listeners, (size_t) n, owners);
        add_listeners(listeners, owners, n, ports, &n_ports);
        /* Docker's published ports, DNATed before any listener sees them */
        add_published(g->containers, ports, &n_ports);

        const json_t *live = json_object_get(fw, "live");
        /* the policy the live table is made of: after a rollback, not the file's */
        const FirewallPolicy *fp = d->firewall && firewall_manager_policy(d->firewall) ?
                                           firewall_manager_policy(d->firewall) :
                                           &d->config->firewall;
        posture_check_firewall(p, &(FirewallFacts){
                                          .enabled = fp->enabled,
                                          .exists = json_is_true(json_object_get(live, "exists")),
                                          .matches = json_is_true(json_object_get(live, "matches_desired")),
                                          .difference = json_string_value(json_object_get(live, "difference")),
                                          .table = d->firewall ? firewall_manager_applied(d->firewall) : NULL,
                                          .public_interfaces = public_ifs,
                                          .allowed_tcp = fp->public_tcp_ports,
                                          .n_allowed_tcp = fp->n_public_tcp_ports,
                                          .ports = ports,
                                          .n_ports = n_ports,
                                          .held = json_string_value(json_object_get(
                                                  json_object_get(fw, "held"), "reason")),
                                          .pending = json_is_object(json_object_get(fw, "pending_confirm")),
                                          .pending_seconds = (long) json_integer_value(json_object_get(
                                                  json_object_get(fw, "pending_confirm"), "seconds_left")),
                                  });

        for (size_t k = 0; k < d->n_containers; k++)
                containers[k] = (ContainerFacts){ .name = d->containers[k].name,
                                                  .filtered = d->containers[k].seccomp_mode == 2,
                                                  .unconfined = d->containers[k].seccomp_unconfined,
                                                  .privileged = d->containers[k].privileged };
        const char *daemon_profile = d->swarm ? d->swarm->seccomp_profile : "";
        posture_check_seccomp(p, &(SeccompFacts){
                                         .daemon_profile_ours = d->seccomp_profile_ours,
                                         .daemon_profile = daemon_profile,
                                         .profile_problem = d->seccomp_profile_problem,
                                         .named_ours = STREQ(daemon_profile, d->config->seccomp_installed_profile),
                                         .install_pending = d->seccomp_restart_pending,
                                         .containers = containers,
                                         .n_containers = d->n_containers,
                                 });

        if (g->bridge) {
                const char *icc = json_string_value(
                        json_object_get(json_object_get(g->bridge, "Options"), "com.docker.network.bridge.enable_icc"));
                bridge_icc = icc ? STREQ(icc, "true") : 1; /* Docker's default is on */
        }
        docker_tcp_without_tls(d, listeners, owners, n, tcp_api, sizeof(tcp_api));
        posture_check_docker(p, g->info, bridge_icc, tcp_api);

        patch_facts(d, p);

        if (config_load(d->config_path, &on_disk, &cerr) < 0)
                located_error_format(&cerr, d->config_path, where, sizeof(where));
        posture_check_hostd(p, &(HostdFacts){
                                       .version = HOSTD_VERSION,
                                       .config_path = d->config_path,
                                       .config_valid = on_disk != NULL,
                                       .config_error = where,
                                       .under_watchdog = sd_watchdog_enabled(0, NULL) > 0,
                                       .docker_reachable = d->docker_reachable,
                               });

        deliver(g, d, p, fw);
out:
        if (ifs)
                if_freenameindex(ifs);
        json_decref(fw);
        free(p);
        gathering_free(g);
}

static void on_containers(const DockerReply *reply, void *userdata) {
        Gathering *g = userdata;

        if (!reply->error)
                g->containers = json_incref((json_t *) reply->json);
        judge(g);
}

static void on_bridge(const DockerReply *reply, void *userdata) {
        Gathering *g = userdata;
        PostureSources in;

        if (!reply->error)
                g->bridge = json_incref((json_t *) reply->json);
        sources(g, &in);
        if (!in.docker || docker_call(in.docker, "GET", "/containers/json", NULL, on_containers, g) < 0)
                judge(g);
}

static void on_info(const DockerReply *reply, void *userdata) {
        Gathering *g = userdata;
        PostureSources in;

        if (!reply->error)
                g->info = json_incref((json_t *) reply->json);
        sources(g, &in);
        if (!in.docker || docker_call(in.docker, "GET", "/networks/bridge", NULL, on_bridge, g) < 0)
                judge(g);
}

static void gather(const PostureHost *host, GatherFor purpose, ControlCall *call) {
        Gathering *g = calloc(1, sizeof(Gathering));
        PostureSources in;

        if (!g) {
                if (call)
                        control_call_reply_error(call, 500, "out of memory");
                return;
        }
        *g = (Gathering){ .host = *host, .purpose = purpose, .call = call };
        sources(g, &in);
        if (!in.docker || docker_get_info(in.docker, on_info, g) < 0)
                judge(g);
}

void posture_gather_report(const PostureHost *host, ControlCall *call) {
        gather(host, GATHER_REPORT, call);
}

void posture_gather_metrics(const PostureHost *host, ControlCall *call) {
        gather(host, GATHER_METRICS, call);
}

void posture_gather_textfile(const PostureHost *host) {
        PostureSources in = {};

        host->sources(host->userdata, &in);
        if (in.config->posture_textfile)
                gather(host, GATHER_TEXTFILE, NULL);
}

void posture_gather_summary(const PostureHost *host) {
        PostureSources in = {};

        host->sources(host->userdata, &in);
        if (in.swarm && in.swarm->node_id[0] && in.agent)
                gather(host, GATHER_SUMMARY, NULL);
}

typedef struct ClusterCall {
        PostureBoard *board;
        ControlCall *call;
} ClusterCall;

static void on_cluster_nodes(const DockerReply *reply, void *userdata) {
        _cleanup_free_ ClusterCall *c = userdata;
        ControlCall *call = c->call;
        json_t *view;

        if (reply->error) {
                control_call_reply_error(call, 502, "cannot list the Swarm's nodes: %s", reply->message);
                return;
        }
        view = posture_cluster_view(c->board, reply->json, clock_usec(CLOCK_MONOTONIC));
        if (!view) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        control_call_reply(call, 200, view);
}

void posture_gather_cluster(const PostureHost *host, ControlCall *call) {
        PostureSources in = {};

        host->sources(host->userdata, &in);
        if (!in.board) {
                control_call_reply_error(call, 409, "%s",
                                         in.swarm && in.swarm->node_id[0] ?
                                                 "the cluster view is kept by the managers' hostd; this node is not "
                                                 "a manager serving the node protocol" :
                                                 "this node is not in a Swarm");
                return;
        }
        ClusterCall *c = calloc(1, sizeof(ClusterCall));
        if (!c) {
                control_call_reply_error(call, 500, "out of memory");
                return;
        }
        *c = (ClusterCall){ .board = in.board, .call = call };
        if (!in.docker || docker_call(in.docker, "GET", "/nodes", NULL, on_cluster_nodes, c) < 0) {
                free(c);
                control_call_reply_error(call, 500, "cannot ask Docker for the Swarm's nodes");
        }
}
