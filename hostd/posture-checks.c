/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/text.h"
#include "hostd/posture-checks.h"

static const char *const status_names[] = {
        [CHECK_PASS] = "pass",
        [CHECK_FAIL] = "fail",
        [CHECK_WARN] = "warn",
        [CHECK_NOT_APPLICABLE] = "not-applicable",
};

const char *check_status_to_string(CheckStatus s) {
        return s < _CHECK_STATUS_MAX ? status_names[s] : "?";
}

/* Every check, once: its ID never changes (reports and metrics are
 * compared over time by it). */
static const struct {
        const char *id, *title, *cis, *remediation;
} definitions[] = {
        { "firewall.policy", "the configuration's firewall policy is the one in force",
          NULL, "confirm it with `hostctl firewall apply --confirm-timeout S` then `hostctl firewall confirm`, "
                "or fix the policy" },
        { "firewall.table", "hostd's firewall table is in the kernel",
          NULL, "set firewall.enabled and run hostd, or `hostctl firewall apply`" },
        { "firewall.matches", "the live table is the desired one",
          NULL, "hostd repairs drift by itself; `hostctl firewall show` says what differs" },
        { "firewall.default-drop", "connections from outside are dropped by default",
          NULL, "keep the table's final drop (firewall.* in hostd.json)" },
        { "firewall.exposed", "only the public ports are reachable from outside",
          "CIS 5.8", "close the listeners named, or bind them to loopback or a trusted interface" },
        { "seccomp.daemon-profile", "dockerd's default seccomp profile is hostd's",
          "CIS 5.21", "`hostctl seccomp install`, then restart Docker while the node is drained (a patch wave does)" },
        { "seccomp.containers", "every running container is under a seccomp filter",
          "CIS 5.21", "recreate the containers named without --security-opt seccomp=unconfined" },
        { "containers.privileged", "no container runs privileged",
          "CIS 5.4", "recreate the containers named without --privileged" },
        { "docker.tcp-socket", "Docker's API is not served on TCP without TLS",
          "CIS 2.6", "remove tcp:// from dockerd's hosts, or set tlsverify with a CA" },
        { "docker.userns", "containers run in a user namespace",
          "CIS 2.8", "set userns-remap in daemon.json (where the workloads allow it)" },
        { "docker.icc", "containers on the default bridge cannot talk to each other",
          "CIS 2.1", "set \"icc\": false in daemon.json" },
        { "docker.live-restore", "containers outlive a dockerd restart",
          "CIS 2.14", "set \"live-restore\": true (not on Swarm nodes: incompatible)" },
        { "docker.log-driver", "container logs are kept",
          "CIS 2.12", "set a log driver other than none (journald, json-file, syslog...)" },
        { "patches.security-pending", "no security update is pending", NULL,
          "run a patch wave (`hostctl wave start`), or `hostctl patch apply` on this node" },
        { "patches.reboot", "no reboot is pending", NULL, "reboot the node, through a patch wave" },
        { "patches.kernel", "the newest installed kernel runs", NULL, "reboot the node, through a patch wave" },
        { "patches.last-wave", "this node's last patch wave succeeded", NULL,
          "`hostctl wave status` on a manager says what happened" },
        { "patches.automatic-upgrades", "nothing installs packages outside the waves", NULL,
          "apt-get purge unattended-upgrades (or set APT::Periodic::Unattended-Upgrade \"0\"); on rpm hosts "
          "systemctl disable --now dnf-automatic-install.timer (or apply_updates = no): patches come through waves" },
        { "hostd.version", "hostd's version",
          NULL, "" },
        { "hostd.config", "hostd's configuration file is valid",
          NULL, "fix the file (`hostctl config check` locates the error), then `hostctl reload`" },
        { "hostd.watchdog", "systemd watches hostd",
          NULL, "run hostd from its unit (WatchdogSec=)" },
        { "hostd.docker", "hostd reaches Docker",
          NULL, "check docker.socket and that dockerd runs" },
};

static Check *add(Posture *p, const char *id) {
        for (size_t i = 0; i < ELEMENTSOF(definitions); i++) {
                if (!STREQ(definitions[i].id, id) || p->n >= POSTURE_MAX_CHECKS)
                        continue;
                Check *c = &p->checks[p->n++];
                *c = (Check){ .id = definitions[i].id, .title = definitions[i].title, .cis = definitions[i].cis,
                              .remediation = definitions[i].remediation };
                return c;
        }
        return NULL;
}

static void say(Check *c, CheckStatus status, const char *format, ...) _printf_(3, 4);
static void say(Check *c, CheckStatus status, const char *format, ...) {
        va_list ap;

        if (!c)
                return;
        c->status = status;
        va_start(ap, format);
        vsnprintf(c->evidence, sizeof(c->evidence), format, ap);
        va_end(ap);
}

/* Appends to a check's evidence, "; "-separated. */
#define also(check, ...) text_append((check)->evidence, sizeof((check)->evidence), "; ", __VA_ARGS__)

static const char *proto_name(uint8_t p) {
        return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

/* Which public interface (if any) lets a new connection from outside reach
 * the port, by the table's verdict; with no table, the first one. */
static const char *reached_on(const FirewallFacts *f, const ExposedPort *e) {
        for (const char *const *i = f->public_interfaces; i && *i; i++)
                for (int fam = 0; fam < 2; fam++) {
                        uint8_t nfproto = fam == 0 ? 2 : 10; /* NFPROTO_IPV4, NFPROTO_IPV6 */
                        if ((e->family == AF_INET && fam == 1) || (e->family == AF_INET6 && fam == 0))
                                continue;
                        if (!f->exists || !f->table)
                                return *i;
                        OutsidePacket pkt = { .ifname = *i, .nfproto = nfproto, .l4proto = e->l4proto, .dport = e->port };
                        if (ruleset_verdict_from_outside(f->table, &pkt, NULL) == VERDICT_ACCEPT)
                                return *i;
                }
        return NULL;
}

void posture_check_firewall(Posture *p, const FirewallFacts *f) {
        Check *policy = add(p, "firewall.policy");
        Check *table = add(p, "firewall.table");
        Check *match = add(p, "firewall.matches");
        Check *drop = add(p, "firewall.default-drop");
        Check *exposed = add(p, "firewall.exposed");
        size_t reachable = 0;

        if (f->held)
                say(policy, CHECK_FAIL,
                    "the configuration's policy is not in force: rolled back (%s); the last good one is, until "
                    "`hostctl firewall apply` applies it again",
                    f->held);
        else if (f->pending)
                say(policy, CHECK_WARN, "an apply waits for confirmation: rolled back in %ld s unless confirmed",
                    f->pending_seconds);
        else
                say(policy, CHECK_PASS, "the configuration's policy is in force");

        if (!f->enabled)
                say(table, CHECK_FAIL, "firewall.enabled is false: hostd keeps no table");
        else if (!f->exists)
                say(table, CHECK_FAIL, "table inet hostd is not in the kernel");
        else
                say(table, CHECK_PASS, "table inet hostd is in the kernel");

        if (!f->exists)
                say(match, CHECK_FAIL, "no table to compare");
        else if (!f->matches)
                say(match, CHECK_FAIL, "the live table differs: %s", f->difference ? f->difference : "?");
        else
                say(match, CHECK_PASS, "the live table is the one hostd applied");

        if (!f->exists || !f->table)
                say(drop, CHECK_FAIL, "nothing of hostd's filters connections from outside");
        else {
                /* a port nobody opens: what the table does with the rest */
                const Rule *rule = NULL;
                OutsidePacket pkt = { .ifname = f->public_interfaces && f->public_interfaces[0] ?
                                                        f->public_interfaces[0] :
                                                        "eth0",
                                      .nfproto = 2, .l4proto = IPPROTO_TCP, .dport = 1 };
                Verdict v = ruleset_verdict_from_outside(f->table, &pkt, &rule);
                if (v == VERDICT_DROP)
                        say(drop, CHECK_PASS, "a new connection from outside to an unlisted port meets rule \"%s\": drop",
                            rule ? rule->id : "?");
                else
                        say(drop, CHECK_FAIL, "a new connection from outside to an unlisted port is accepted (%s)",
                            rule ? rule->id : "the chain's policy");
        }

        say(exposed, CHECK_PASS, "%s", "");
        for (size_t i = 0; i < f->n_ports; i++) {
                const ExposedPort *e = &f->ports[i];
                const char *iface;
                bool allowed = false;

                if (e->loopback_only || !(iface = reached_on(f, e)))
                        continue;
                for (size_t k = 0; e->l4proto == IPPROTO_TCP && k < f->n_allowed_tcp; k++)
                        allowed = allowed || f->allowed_tcp[k] == e->port;
                reachable++;
                if (allowed) {
                        also(exposed, "%s/%u reachable on %s (public, as configured): %s", proto_name(e->l4proto),
                             e->port, iface, e->what);
                } else {
                        exposed->status = CHECK_FAIL;
                        also(exposed, "%s/%u REACHABLE from outside on %s: %s", proto_name(e->l4proto), e->port, iface,
                             e->what);
                }
        }
        if (!f->public_interfaces || !f->public_interfaces[0])
                also(exposed, "no public interface (every interface is trusted)");
        else if (reachable == 0)
                also(exposed, "no listener is reachable from outside");
}

void posture_check_seccomp(Posture *p, const SeccompFacts *f) {
        Check *daemon = add(p, "seccomp.daemon-profile");
        Check *filtered = add(p, "seccomp.containers");
        Check *privileged = add(p, "containers.privileged");
        size_t bad_filter = 0, bad_privileged = 0;

        if (f->daemon_profile_ours)
                say(daemon, CHECK_PASS, "docker info names %s, with the content hostd installed",
                    f->daemon_profile);
        else if (f->named_ours && !f->install_pending)
                say(daemon, CHECK_FAIL, "%s", f->profile_problem ? f->profile_problem : "not as installed");
        else if (f->install_pending)
                say(daemon, CHECK_FAIL, "installed, but dockerd has not restarted since: it still uses %s",
                    f->daemon_profile && *f->daemon_profile ? f->daemon_profile : "no profile");
        else
                say(daemon, CHECK_FAIL, "dockerd's default profile is %s",
                    f->daemon_profile && *f->daemon_profile ? f->daemon_profile : "none (seccomp off)");

        say(filtered, CHECK_PASS, "%s", "");
        say(privileged, CHECK_PASS, "%s", "");
        for (size_t i = 0; i < f->n_containers; i++) {
                const ContainerFacts *c = &f->containers[i];
                if (!c->filtered || c->unconfined) {
                        bad_filter++;
                        filtered->status = CHECK_FAIL;
                        also(filtered, "%s: %s", c->name, c->unconfined ? "seccomp=unconfined" : "no filter in force");
                }
                if (c->privileged) {
                        bad_privileged++;
                        privileged->status = CHECK_FAIL;
                        also(privileged, "%s: privileged", c->name);
                }
        }
        if (bad_filter == 0)
                also(filtered, "%zu running container(s), each with a filter (Seccomp: 2)", f->n_containers);
        if (bad_privileged == 0)
                also(privileged, "%zu running container(s), none privileged", f->n_containers);
}

static bool security_option(const json_t *info, const char *name) {
        const json_t *o;
        size_t i;

        json_array_foreach(json_object_get(info, "SecurityOptions"), i, o) {
                const char *s = json_string_value(o);
                if (s && strncmp(s, "name=", 5) == 0 && strncmp(s + 5, name, strlen(name)) == 0 &&
                    (s[5 + strlen(name)] == '\0' || s[5 + strlen(name)] == ','))
                        return true;
        }
        return false;
}

void posture_check_docker(Posture *p, const json_t *info, int bridge_icc, const char *tcp_without_tls) {
        Check *tcp = add(p, "docker.tcp-socket");
        Check *userns = add(p, "docker.userns");
        Check *icc = add(p, "docker.icc");
        Check *live = add(p, "docker.live-restore");
        Check *logs = add(p, "docker.log-driver");
        const char *swarm_state = json_string_value(json_object_get(json_object_get(info, "Swarm"), "LocalNodeState"));
        bool in_swarm = swarm_state && strcmp(swarm_state, "active") == 0;
        const char *driver = json_string_value(json_object_get(info, "LoggingDriver"));

        if (!info) {
                const char *why = "Docker's /info could not be read";
                say(tcp, CHECK_WARN, "%s", why);
                say(userns, CHECK_WARN, "%s", why);
                say(icc, CHECK_WARN, "%s", why);
                say(live, CHECK_WARN, "%s", why);
                say(logs, CHECK_WARN, "%s", why);
                return;
        }
        if (tcp_without_tls && *tcp_without_tls)
                say(tcp, CHECK_FAIL, "dockerd serves its API without TLS verification on %s", tcp_without_tls);
        else
                say(tcp, CHECK_PASS, "dockerd serves no TCP API without TLS verification");

        if (security_option(info, "userns"))
                say(userns, CHECK_PASS, "SecurityOptions has name=userns");
        else
                say(userns, CHECK_WARN, "no user namespace remapping (SecurityOptions has no name=userns)");

        if (bridge_icc < 0)
                say(icc, CHECK_WARN, "the default bridge network could not be read");
        else if (bridge_icc)
                say(icc, CHECK_WARN, "the default bridge has com.docker.network.bridge.enable_icc=true");
        else
                say(icc, CHECK_PASS, "the default bridge has com.docker.network.bridge.enable_icc=false");

        if (in_swarm)
                say(live, CHECK_NOT_APPLICABLE, "a Swarm node: live-restore is incompatible with swarm mode");
        else if (json_is_true(json_object_get(info, "LiveRestoreEnabled")))
                say(live, CHECK_PASS, "LiveRestoreEnabled is true");
        else
                say(live, CHECK_WARN, "LiveRestoreEnabled is false");

        if (!driver)
                say(logs, CHECK_WARN, "LoggingDriver is not reported");
        else if (strcmp(driver, "none") == 0)
                say(logs, CHECK_FAIL, "LoggingDriver is none: container output is thrown away");
        else
                say(logs, CHECK_PASS, "LoggingDriver is %s", driver);
}

static void age(uint64_t usec, char *buf, size_t size) {
        uint64_t s = usec / 1000000;

        if (s >= 2 * 86400)
                snprintf(buf, size, "%llu days", (unsigned long long) (s / 86400));
        else if (s >= 2 * 3600)
                snprintf(buf, size, "%llu hours", (unsigned long long) (s / 3600));
        else
                snprintf(buf, size, "%llu minutes", (unsigned long long) (s / 60));
}

void posture_check_patches(Posture *p, const PatchFacts *f) {
        Check *pending = add(p, "patches.security-pending");
        Check *reboot = add(p, "patches.reboot");
        Check *kernel = add(p, "patches.kernel");
        Check *wave = add(p, "patches.last-wave");
        Check *automatic = add(p, "patches.automatic-upgrades");
        char when[32], oldest_age[32];

        if (!f->plan)
                say(pending, CHECK_WARN, "no plan made yet (hostd plans every patching.check-hours; `hostctl patch plan`)");
        else {
                const json_t *pkg, *oldest = NULL;
                size_t i, n = 0;
                json_array_foreach(json_object_get(f->plan, "packages"), i, pkg) {
                        if (!json_is_true(json_object_get(pkg, "security")) || !json_is_true(json_object_get(pkg, "included")))
                                continue;
                        n++;
                        if (!oldest || json_integer_value(json_object_get(pkg, "first_seen")) <
                                               json_integer_value(json_object_get(oldest, "first_seen")))
                                oldest = pkg;
                }
                age(f->now_usec - MIN(f->plan_usec, f->now_usec), when, sizeof(when));
                if (n == 0)
                        say(pending, CHECK_PASS, "no security update pending (planned %s ago)", when);
                else {
                        uint64_t seen = (uint64_t) json_integer_value(json_object_get(oldest, "first_seen"));
                        age(f->now_usec - MIN(seen, f->now_usec), oldest_age, sizeof(oldest_age));
                        say(pending, CHECK_FAIL,
                            "%zu security update(s) pending; the oldest, %s %s -> %s, offered for %s (planned %s ago)", n,
                            json_string_value(json_object_get(oldest, "name")) ?: "?",
                            json_string_value(json_object_get(oldest, "from")) ?: "?",
                            json_string_value(json_object_get(oldest, "to")) ?: "?", oldest_age, when);
                }
        }

        if (f->reboot_required)
                say(reboot, CHECK_FAIL, "/run/reboot-required exists%s%s",
                    f->reboot_packages && *f->reboot_packages ? ", for " : "",
                    f->reboot_packages ? f->reboot_packages : "");
        else
                say(reboot, CHECK_PASS, "/run/reboot-required is absent");

        if (!f->newest_kernel || !*f->newest_kernel)
                say(kernel, CHECK_NOT_APPLICABLE, "no kernel under /boot (a container or a sandbox root)");
        else if (f->running_kernel && strverscmp(f->newest_kernel, f->running_kernel) > 0)
                say(kernel, CHECK_FAIL, "kernel %s is installed, %s runs", f->newest_kernel, f->running_kernel);
        else
                say(kernel, CHECK_PASS, "%s runs, the newest installed", f->running_kernel ? f->running_kernel : "?");

        if (!f->last_wave || !*f->last_wave)
                say(wave, CHECK_WARN, "no patch wave has reached this node yet");
        else {
                age(f->now_usec - MIN(f->last_wave_usec, f->now_usec), when, sizeof(when));
                say(wave, f->last_wave_ok && f->last_wave_healthy ? CHECK_PASS : CHECK_FAIL, "wave %s, %s ago: %s%s",
                    f->last_wave, when, f->last_wave_ok ? "patched" : "failed",
                    f->last_wave_healthy ? ", healthy" : ", NOT healthy");
                if (f->last_wave_message && *f->last_wave_message)
                        also(wave, "%s", f->last_wave_message);
        }

        say(automatic, f->auto_upgrades > 0 ? CHECK_FAIL : f->auto_upgrades == 0 ? CHECK_PASS : CHECK_WARN, "%s%s",
            f->auto_upgrades < 0 ? "cannot tell: " : "", f->auto_upgrades_what ? f->auto_upgrades_what : "");
}

void posture_check_hostd(Posture *p, const HostdFacts *f) {
        Check *version = add(p, "hostd.version");
        Check *config = add(p, "hostd.config");
        Check *watchdog = add(p, "hostd.watchdog");
        Check *docker = add(p, "hostd.docker");

        say(version, CHECK_PASS, "hostd %s", f->version);
        if (f->config_valid)
                say(config, CHECK_PASS, "%s is valid", f->config_path);
        else
                say(config, CHECK_FAIL, "%s: %s (the running configuration is the last valid one)", f->config_path,
                    f->config_error ? f->config_error : "invalid");
        if (f->under_watchdog)
                say(watchdog, CHECK_PASS, "WATCHDOG_USEC is set: the event loop pings it");
        else
                say(watchdog, CHECK_NOT_APPLICABLE, "not run under a systemd watchdog");
        if (f->docker_reachable)
                say(docker, CHECK_PASS, "Docker answers");
        else
                say(docker, CHECK_FAIL, "Docker does not answer");
}

json_t *posture_to_json(const Posture *p) {
        json_t *checks = json_array();
        size_t counts[_CHECK_STATUS_MAX] = {};

        if (!checks)
                return NULL;
        for (size_t i = 0; i < p->n; i++) {
                const Check *c = &p->checks[i];
                counts[c->status]++;
                json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "id", c->id, "title", c->title,
                                                        "status", check_status_to_string(c->status), "evidence",
                                                        c->evidence, "remediation", c->remediation ? c->remediation : "",
                                                        "cis", c->cis));
        }
        return json_pack("{s:o, s:{s:I, s:I, s:I, s:I}, s:b}", "checks", checks, "summary", "pass",
                         (json_int_t) counts[CHECK_PASS], "fail", (json_int_t) counts[CHECK_FAIL], "warn",
                         (json_int_t) counts[CHECK_WARN], "not-applicable", (json_int_t) counts[CHECK_NOT_APPLICABLE],
                         "compliant", counts[CHECK_FAIL] == 0);
}

int posture_exit_code(const Posture *p) {
        for (size_t i = 0; i < p->n; i++)
                if (p->checks[i].status == CHECK_FAIL)
                        return 1;
        return 0;
}

char *posture_to_prometheus(const Posture *p, const json_t *firewall_status, const Ruleset *table, const json_t *wave) {
        Text t = {};
        const json_t *r, *n;
        size_t i, steps[8] = {};
        static const char *const step_names[] = { "pending", "draining", "patching", "activating", "done", "failed" };

        text_printf(&t, "# HELP hostd_posture_check A posture check's status: 1 for the status it has.\n"
                "# TYPE hostd_posture_check gauge\n");
        for (i = 0; i < p->n; i++)
                for (size_t s = 0; s < _CHECK_STATUS_MAX; s++)
                        text_printf(&t, "hostd_posture_check{id=\"%s\",status=\"%s\"} %d\n", p->checks[i].id, status_names[s],
                            p->checks[i].status == (CheckStatus) s);
        text_printf(&t, "# HELP hostd_posture_compliant 1 when no posture check fails.\n"
                "# TYPE hostd_posture_compliant gauge\nhostd_posture_compliant %d\n",
            posture_exit_code(p) == 0);

        text_printf(&t, "# HELP hostd_firewall_dropped_packets_total Packets dropped by hostd's table, by rule.\n"
                "# TYPE hostd_firewall_dropped_packets_total counter\n");
        json_array_foreach(json_object_get(json_object_get(firewall_status, "live"), "rules"), i, r) {
                const char *id = json_string_value(json_object_get(r, "id"));
                const Rule *rule = id && table ? ruleset_find_rule(table, id) : NULL;
                if (rule && rule->verdict == VERDICT_DROP)
                        text_printf(&t, "hostd_firewall_dropped_packets_total{rule=\"%s\"} %lld\n", id,
                            (long long) json_integer_value(json_object_get(r, "packets")));
        }

        text_printf(&t, "# HELP hostd_wave_nodes Nodes of the patch wave last seen, by step.\n"
                "# TYPE hostd_wave_nodes gauge\n");
        json_array_foreach(json_object_get(wave, "nodes"), i, n) {
                const char *step = json_string_value(json_object_get(n, "step"));
                for (size_t s = 0; step && s < ELEMENTSOF(step_names); s++)
                        if (STREQ(step, step_names[s]))
                                steps[s]++;
        }
        const char *wave_id = json_string_value(json_object_get(wave, "id"));
        for (size_t s = 0; wave_id && s < ELEMENTSOF(step_names); s++)
                text_printf(&t, "hostd_wave_nodes{wave=\"%s\",step=\"%s\"} %zu\n", wave_id, step_names[s], steps[s]);
        return text_take(&t);
}
