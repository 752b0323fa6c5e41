/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <syslog.h>

#include "common/fileio.h"
#include "common/cidr.h"
#include "policy/alert-gate.h"
#include "policy/config.h"
#include "common/json.h"

static void path_join(char *out, size_t size, const char *parent, const char *key) {
        if (parent && *parent)
                snprintf(out, size, "%s.%s", parent, key);
        else
                snprintf(out, size, "%s", key);
}

/* Rejects any key of object not listed in allowed (NULL-terminated). */
static int check_keys(const JsonValue *object, const char *path,
                      const char *const *allowed, ConfigError *error) {
        if (object->type != JV_OBJECT)
                return located_error_at(error, object, path, "expected an object, got %s",
                                   jv_type_name(object->type));

        for (size_t i = 0; i < object->object.count; i++) {
                const JsonMember *m = &object->object.members[i];
                bool known = false;
                char p[128];

                for (size_t j = 0; allowed[j]; j++)
                        if (STREQ(m->key, allowed[j]))
                                known = true;
                if (known)
                        continue;

                path_join(p, sizeof(p), path, m->key);
                located_error_at(error, NULL, p, "unknown key \"%s\"", m->key);
                if (error) {
                        error->line = m->line;
                        error->column = m->column;
                }
                return -EINVAL;
        }
        return 0;
}

static int get_uint(const JsonValue *v, const char *path, unsigned min, unsigned max,
                    unsigned *ret, ConfigError *error) {
        if (v->type != JV_NUMBER)
                return located_error_at(error, v, path, "expected an integer, got %s",
                                   jv_type_name(v->type));
        /* 1e3 is an integer too; 1.5 is not; 1e30 is one out of range. */
        double real = v->number.real;
        if (!v->number.is_integer && real != floor(real))
                return located_error_at(error, v, path, "expected an integer, got a fraction");
        if (real < (double) min || real > (double) max)
                return located_error_at(error, v, path, "%.15g is out of range %u..%u", real, min, max);
        *ret = (unsigned) real;
        return 0;
}

static int get_absolute_path(const JsonValue *v, const char *path, char **ret,
                             ConfigError *error) {
        if (v->type != JV_STRING)
                return located_error_at(error, v, path, "expected a string, got %s",
                                   jv_type_name(v->type));
        if (v->string.chars[0] != '/')
                return located_error_at(error, v, path, "\"%s\" is not an absolute path",
                                   v->string.chars);
        if (v->string.length >= 4096)
                return located_error_at(error, v, path, "path is too long");

        char *copy = strdup(v->string.chars);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 0;
}

/* A unix socket path, given as a path or a unix:// URL. sun_path limits the
 * length to 107 bytes. */
static int get_socket_path(const JsonValue *v, const char *path, char **ret,
                           ConfigError *error) {
        const char *s;

        if (v->type != JV_STRING)
                return located_error_at(error, v, path, "expected a string, got %s",
                                   jv_type_name(v->type));
        s = v->string.chars;
        if (strncmp(s, "unix://", 7) == 0)
                s += 7;
        else if (strstr(s, "://"))
                return located_error_at(error, v, path,
                                   "\"%s\": only unix sockets are supported", v->string.chars);
        if (s[0] != '/')
                return located_error_at(error, v, path, "\"%s\" is not an absolute path",
                                   v->string.chars);
        if (strlen(s) > 107)
                return located_error_at(error, v, path, "socket path is longer than 107 bytes");

        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 0;
}

static int get_bool(const JsonValue *v, const char *path, bool *ret, ConfigError *error) {
        if (v->type != JV_BOOLEAN)
                return located_error_at(error, v, path, "expected true or false, got %s",
                                   jv_type_name(v->type));
        *ret = v->boolean;
        return 0;
}

static int expect_array(const JsonValue *v, const char *path, size_t max, ConfigError *error) {
        if (v->type != JV_ARRAY)
                return located_error_at(error, v, path, "expected an array, got %s", jv_type_name(v->type));
        if (v->array.count > max)
                return located_error_at(error, v, path, "more than %zu entries", max);
        return 0;
}

/* A list of distinct ports 1..65535. */
static int get_port_list(const JsonValue *v, const char *path, uint16_t *ports, size_t *n,
                         ConfigError *error) {
        char p[160];
        int r;

        r = expect_array(v, path, FIREWALL_MAX_PORTS, error);
        if (r < 0)
                return r;
        *n = 0;
        for (size_t i = 0; i < v->array.count; i++) {
                unsigned port;

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                r = get_uint(v->array.items[i], p, 1, 65535, &port, error);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < *n; j++)
                        if (ports[j] == port)
                                return located_error_at(error, v->array.items[i], p,
                                                   "port %u is listed twice", port);
                ports[(*n)++] = (uint16_t) port;
        }
        return 0;
}

static int get_cidr_list(const JsonValue *v, const char *path, Cidr **cidrs, size_t *n,
                         ConfigError *error) {
        char p[160];
        Cidr *list;
        int r;

        r = expect_array(v, path, FIREWALL_MAX_CIDRS, error);
        if (r < 0)
                return r;
        list = calloc(MAX(v->array.count, 1u), sizeof(Cidr));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < v->array.count; i++) {
                const JsonValue *item = v->array.items[i];

                if (item->type != JV_STRING) {
                        free(list);
                        snprintf(p, sizeof(p), "%s[%zu]", path, i);
                        return located_error_at(error, item, p, "expected a string, got %s",
                                           jv_type_name(item->type));
                }
                if (cidr_parse(item->string.chars, &list[i]) < 0) {
                        free(list);
                        snprintf(p, sizeof(p), "%s[%zu]", path, i);
                        return located_error_at(error, item, p,
                                           "\"%s\" is not an IPv4/IPv6 address or prefix "
                                           "(host bits must be zero)", item->string.chars);
                }
        }
        free(*cidrs);
        *cidrs = list;
        *n = v->array.count;
        return 0;
}

/* Interface names as the kernel allows them (at most 15 bytes, no '/',
 * no whitespace), with an optional trailing '*' for a prefix. */
static int get_interface_list(const JsonValue *v, const char *path, FirewallPolicy *f,
                              ConfigError *error) {
        char p[160];
        int r;

        r = expect_array(v, path, FIREWALL_MAX_INTERFACES, error);
        if (r < 0)
                return r;
        f->n_trusted_interfaces = 0;
        for (size_t i = 0; i < v->array.count; i++) {
                const JsonValue *item = v->array.items[i];
                const char *name;
                size_t len;

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                if (item->type != JV_STRING)
                        return located_error_at(error, item, p, "expected a string, got %s",
                                           jv_type_name(item->type));
                name = item->string.chars;
                len = strlen(name);
                if (len == 0 || len > 15 || STREQ(name, "*"))
                        return located_error_at(error, item, p,
                                           "\"%s\" is not an interface name (1-15 bytes)", name);
                for (size_t k = 0; k < len; k++)
                        if (name[k] == '/' || name[k] <= ' ' || name[k] == '"' ||
                            (unsigned char) name[k] >= 0x7f || (name[k] == '*' && k != len - 1))
                                return located_error_at(error, item, p,
                                                   "\"%s\": invalid character in interface name "
                                                   "('*' may only end a prefix)", name);
                snprintf(f->trusted_interfaces[f->n_trusted_interfaces++],
                         sizeof(f->trusted_interfaces[0]), "%s", name);
        }
        return 0;
}

/* stored: the policy as hostd saved it, which also carries what the
 * "load-balancer" section adds to it */
static int parse_firewall(const JsonValue *o, FirewallPolicy *f, bool stored, ConfigError *error) {
        static const char *const keys[] = {
                "enabled", "public-tcp-ports", "trusted-interfaces", "peers", "swarm-peers",
                "peer-tcp-ports", "peer-udp-ports", "management-sources", "join-sources", "ssh-port",
                "log-drops", "icmp-echo-per-second", NULL
        };
        static const char *const stored_keys[] = {
                "enabled", "public-tcp-ports", "trusted-interfaces", "peers", "swarm-peers",
                "peer-tcp-ports", "peer-udp-ports", "management-sources", "join-sources", "ssh-port",
                "log-drops", "icmp-echo-per-second", "load-balancer-health-port", "load-balancer-sources", NULL
        };
        const JsonValue *v;
        unsigned u;
        int r;

        r = check_keys(o, "firewall", stored ? stored_keys : keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "load-balancer-health-port"))) {
                if ((r = get_uint(v, "firewall.load-balancer-health-port", 0, 65535, &u, error)) < 0)
                        return r;
                f->lb_health_port = (uint16_t) u;
        }
        if ((v = jv_object_get(o, "load-balancer-sources")) &&
            (r = get_cidr_list(v, "firewall.load-balancer-sources", &f->lb_sources, &f->n_lb_sources, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "enabled")) && (r = get_bool(v, "firewall.enabled", &f->enabled, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "public-tcp-ports")) &&
            (r = get_port_list(v, "firewall.public-tcp-ports", f->public_tcp_ports,
                               &f->n_public_tcp_ports, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "peer-tcp-ports")) &&
            (r = get_port_list(v, "firewall.peer-tcp-ports", f->peer_tcp_ports,
                               &f->n_peer_tcp_ports, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "peer-udp-ports")) &&
            (r = get_port_list(v, "firewall.peer-udp-ports", f->peer_udp_ports,
                               &f->n_peer_udp_ports, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "trusted-interfaces")) &&
            (r = get_interface_list(v, "firewall.trusted-interfaces", f, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "peers")) &&
            (r = get_cidr_list(v, "firewall.peers", &f->peers, &f->n_peers, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "management-sources")) &&
            (r = get_cidr_list(v, "firewall.management-sources", &f->management_sources,
                               &f->n_management_sources, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "join-sources")) &&
            (r = get_cidr_list(v, "firewall.join-sources", &f->join_sources, &f->n_join_sources, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "swarm-peers")) &&
            (r = get_bool(v, "firewall.swarm-peers", &f->swarm_peers, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "log-drops")) &&
            (r = get_bool(v, "firewall.log-drops", &f->log_drops, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "ssh-port"))) {
                r = get_uint(v, "firewall.ssh-port", 1, 65535, &u, error);
                if (r < 0)
                        return r;
                f->ssh_port = (uint16_t) u;
        }
        if ((v = jv_object_get(o, "icmp-echo-per-second"))) {
                r = get_uint(v, "firewall.icmp-echo-per-second", 0, 10000,
                             &f->icmp_echo_per_second, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_seccomp(const JsonValue *o, HostdConfig *c, ConfigError *error) {
        static const char *const keys[] = { "enforcement", "installed-profile", "daemon-json", "baseline-profile",
                                            NULL };
        const JsonValue *v;
        int r;

        r = check_keys(o, "seccomp", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "enforcement"))) {
                if (v->type != JV_STRING)
                        return located_error_at(error, v, "seccomp.enforcement", "expected a string, got %s",
                                           jv_type_name(v->type));
                if (STREQ(v->string.chars, "report"))
                        c->seccomp_enforcement = SECCOMP_ENFORCE_REPORT;
                else if (STREQ(v->string.chars, "stop"))
                        c->seccomp_enforcement = SECCOMP_ENFORCE_STOP;
                else
                        return located_error_at(error, v, "seccomp.enforcement",
                                           "\"%s\" is not one of report, stop", v->string.chars);
        }
        if ((v = jv_object_get(o, "installed-profile")) &&
            (r = get_absolute_path(v, "seccomp.installed-profile", &c->seccomp_installed_profile, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "daemon-json")) &&
            (r = get_absolute_path(v, "seccomp.daemon-json", &c->seccomp_daemon_json, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "baseline-profile")) &&
            (r = get_absolute_path(v, "seccomp.baseline-profile", &c->seccomp_baseline_profile, error)) < 0)
                return r;
        return 0;
}

static void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

/* A NULL-terminated copy of the strings given, or NULL. */
static char **strv_new(const char *first, ...) {
        char **v = calloc(WAVE_MAX_ARGV + 1, sizeof(char *));
        const char *arg = first;
        size_t n = 0;
        va_list ap;

        if (!v)
                return NULL;
        va_start(ap, first);
        for (; arg && n < WAVE_MAX_ARGV; arg = va_arg(ap, const char *))
                if (!(v[n++] = strdup(arg))) {
                        va_end(ap);
                        strv_free(v);
                        return NULL;
                }
        va_end(ap);
        return v;
}

/* An array of at most max strings, each accepted by check (which returns
 * NULL, or why the item is refused), as a NULL-terminated list in *ret. */
typedef const char *(*ItemCheck)(size_t index, const char *item);

static int get_string_list(const JsonValue *v, const char *path, size_t max, ItemCheck check, char ***ret,
                           ConfigError *error) {
        char p[160], **list;
        int r;

        r = expect_array(v, path, max, error);
        if (r < 0)
                return r;
        list = calloc(v->array.count + 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < v->array.count; i++) {
                const JsonValue *item = v->array.items[i];
                const char *why;

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                if (item->type != JV_STRING) {
                        strv_free(list);
                        return located_error_at(error, item, p, "expected a string, got %s", jv_type_name(item->type));
                }
                if (check && (why = check(i, item->string.chars))) {
                        strv_free(list);
                        return located_error_at(error, item, p, "\"%s\" %s", item->string.chars, why);
                }
                if (!(list[i] = strdup(item->string.chars))) {
                        strv_free(list);
                        return -ENOMEM;
                }
        }
        strv_free(*ret);
        *ret = list;
        return 0;
}

/* Package names or globs: what dpkg and rpm allow in a name, plus the glob
 * characters. */
static const char *check_package_name(size_t index _unused_, const char *name) {
        bool ok = name[0] && strlen(name) <= 128;

        for (const char *c = name; ok && *c; c++)
                ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                     strchr("+-._*?[]", *c);
        return ok ? NULL : "is not a package name or glob";
}

static int get_package_list(const JsonValue *v, const char *path, char ***ret, ConfigError *error) {
        return get_string_list(v, path, PATCH_POLICY_MAX_NAMES, check_package_name, ret, error);
}

static int parse_patching(const JsonValue *o, PatchingConfig *pc, ConfigError *error) {
        static const char *const keys[] = { "root", "security-only", "allow", "deny", "hold", "minimum-age-hours",
                                            "check-hours", NULL };
        const JsonValue *v;
        int r;

        r = check_keys(o, "patching", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "root")) && (r = get_absolute_path(v, "patching.root", &pc->root, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "security-only")) &&
            (r = get_bool(v, "patching.security-only", &pc->security_only, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "allow")) && (r = get_package_list(v, "patching.allow", &pc->allow, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "deny")) && (r = get_package_list(v, "patching.deny", &pc->deny, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "hold")) && (r = get_package_list(v, "patching.hold", &pc->hold, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "minimum-age-hours")) &&
            (r = get_uint(v, "patching.minimum-age-hours", 0, 8760, &pc->minimum_age_hours, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "check-hours")) &&
            (r = get_uint(v, "patching.check-hours", 0, 168, &pc->check_hours, error)) < 0)
                return r;
        return 0;
}

/* A command line: an absolute program path, then its arguments. */
static const char *check_argv(size_t index, const char *arg) {
        return index == 0 && arg[0] != '/' ? "is not an absolute path" : NULL;
}

static int get_argv(const JsonValue *v, const char *path, char ***ret, ConfigError *error) {
        return get_string_list(v, path, WAVE_MAX_ARGV, check_argv, ret, error);
}

static void argv_list_free(char ***list) {
        for (size_t i = 0; list && list[i]; i++)
                strv_free(list[i]);
        free(list);
}

static int parse_alertmanager(const JsonValue *o, AlertGateConfig *g, ConfigError *error) {
        static const char *const keys[] = { "url", "matchers", "timeout-seconds", NULL };
        const JsonValue *v;
        int r;

        if ((r = check_keys(o, "wave.alertmanager", keys, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "url"))) {
                if (v->type != JV_STRING || strlen(v->string.chars) != v->string.length ||
                    (strncmp(v->string.chars, "http://", 7) != 0 && strncmp(v->string.chars, "https://", 8) != 0) ||
                    strpbrk(v->string.chars, " \t\r\n?#@") || v->string.length > 512)
                        return located_error_at(error, v, "wave.alertmanager.url",
                                                "expected Alertmanager's URL, http:// or https://, with no query and "
                                                "no credentials");
                char *copy = strdup(v->string.chars);
                if (!copy)
                        return -ENOMEM;
                /* no trailing slash: paths are appended */
                for (size_t n = strlen(copy); n > 8 && copy[n - 1] == '/'; copy[--n] = '\0')
                        ;
                free(g->url);
                g->url = copy;
        }
        if ((v = jv_object_get(o, "matchers"))) {
                if ((r = get_string_list(v, "wave.alertmanager.matchers", 16, NULL, &g->matchers, error)) < 0)
                        return r;
                /* each, with what is wrong in it */
                for (size_t i = 0; i < v->array.count; i++) {
                        const char *one[] = { g->matchers[i], NULL };
                        char why[192], p[64];
                        AlertFilter f;
                        if (alert_filter_parse(one, &f, why, sizeof(why)) < 0) {
                                snprintf(p, sizeof(p), "wave.alertmanager.matchers[%zu]", i);
                                return located_error_at(error, v->array.items[i], p, "%s", why);
                        }
                        alert_filter_done(&f);
                }
        }
        if ((v = jv_object_get(o, "timeout-seconds")) &&
            (r = get_uint(v, "wave.alertmanager.timeout-seconds", 1, 60, &g->timeout_sec, error)) < 0)
                return r;
        return 0;
}

static int parse_wave(const JsonValue *o, WaveAgentConfig *w, ConfigError *error) {
        static const char *const keys[] = { "agent", "group", "reboot-command", "docker-restart-command",
                                            "boot-id-file", "health-commands", "health-timeout-seconds",
                                            "alertmanager", NULL };
        const JsonValue *v;
        char p[64];
        int r;

        r = check_keys(o, "wave", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "agent")) && (r = get_bool(v, "wave.agent", &w->agent, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "group"))) {
                if (v->type != JV_STRING)
                        return located_error_at(error, v, "wave.group", "expected a string, got %s",
                                                jv_type_name(v->type));
                bool ok = v->string.length >= 1 && v->string.length <= 63;
                for (const char *c = v->string.chars; ok && *c; c++)
                        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
                if (!ok)
                        return located_error_at(error, v, "wave.group",
                                                "\"%s\" is not a group name (1..63 of a-z, 0-9, - and _)",
                                                v->string.chars);
                char *copy = strdup(v->string.chars);
                if (!copy)
                        return -ENOMEM;
                free(w->group);
                w->group = copy;
        }
        if ((v = jv_object_get(o, "reboot-command")) &&
            (r = get_argv(v, "wave.reboot-command", &w->reboot_command, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "docker-restart-command")) &&
            (r = get_argv(v, "wave.docker-restart-command", &w->docker_restart_command, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "boot-id-file")) &&
            (r = get_absolute_path(v, "wave.boot-id-file", &w->boot_id_file, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "health-commands"))) {
                char ***list;

                r = expect_array(v, "wave.health-commands", WAVE_MAX_HEALTH_COMMANDS, error);
                if (r < 0)
                        return r;
                list = calloc(v->array.count + 1, sizeof(char **));
                if (!list)
                        return -ENOMEM;
                for (size_t i = 0; i < v->array.count; i++) {
                        snprintf(p, sizeof(p), "wave.health-commands[%zu]", i);
                        r = get_argv(v->array.items[i], p, &list[i], error);
                        if (r == 0 && !list[i][0])
                                r = located_error_at(error, v->array.items[i], p, "empty command");
                        if (r < 0) {
                                argv_list_free(list);
                                return r;
                        }
                }
                argv_list_free(w->health_commands);
                w->health_commands = list;
        }
        if ((v = jv_object_get(o, "health-timeout-seconds")) &&
            (r = get_uint(v, "wave.health-timeout-seconds", 1, 3600, &w->health_timeout_sec, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "alertmanager"))) {
                if (v->type != JV_OBJECT)
                        return located_error_at(error, v, "wave.alertmanager", "expected an object, got %s",
                                                jv_type_name(v->type));
                if ((r = parse_alertmanager(v, &w->alertmanager, error)) < 0)
                        return r;
        }
        return 0;
}

static int parse_posture(const JsonValue *o, HostdConfig *c, ConfigError *error) {
        static const char *const keys[] = { "textfile", "textfile-seconds", "report-seconds", NULL };
        const JsonValue *v;
        int r;

        r = check_keys(o, "posture", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "textfile")) && v->type != JV_NULL &&
            (r = get_absolute_path(v, "posture.textfile", &c->posture_textfile, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "textfile-seconds")) &&
            (r = get_uint(v, "posture.textfile-seconds", 10, 3600, &c->posture_textfile_sec, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "report-seconds")) &&
            (r = get_uint(v, "posture.report-seconds", 0, 3600, &c->posture_report_sec, error)) < 0)
                return r;
        return 0;
}

static void firewall_defaults(FirewallPolicy *f) {
        static const char *const trusted[] = { "lo", "docker0", "docker_gwbridge", "br-*", "veth*" };

        *f = (FirewallPolicy){
                .enabled = true,
                .public_tcp_ports = { 443 },
                .n_public_tcp_ports = 1,
                .peer_tcp_ports = { 2377, 7946 },
                .n_peer_tcp_ports = 2,
                .peer_udp_ports = { 7946, 4789 },
                .n_peer_udp_ports = 2,
                .swarm_peers = true,
                .ssh_port = 22,
                .log_drops = true,
                .icmp_echo_per_second = 10,
        };
        for (size_t i = 0; i < ELEMENTSOF(trusted); i++)
                snprintf(f->trusted_interfaces[f->n_trusted_interfaces++],
                         sizeof(f->trusted_interfaces[0]), "%s", trusted[i]);
}

static int parse_docker(const JsonValue *o, HostdConfig *c, ConfigError *error) {
        static const char *const keys[] = { "socket", "request-timeout-seconds", NULL };
        const JsonValue *v;
        int r;

        r = check_keys(o, "docker", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "socket"))) {
                r = get_socket_path(v, "docker.socket", &c->docker_socket, error);
                if (r < 0)
                        return r;
        }
        if ((v = jv_object_get(o, "request-timeout-seconds"))) {
                r = get_uint(v, "docker.request-timeout-seconds", 1, 3600,
                             &c->docker_request_timeout_sec, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_swarm(const JsonValue *o, HostdConfig *c, ConfigError *error) {
        static const char *const keys[] = { "refresh-seconds", "coordination-port", NULL };
        const JsonValue *v;
        int r;

        r = check_keys(o, "swarm", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(o, "refresh-seconds"))) {
                r = get_uint(v, "swarm.refresh-seconds", 1, 3600, &c->swarm_refresh_sec, error);
                if (r < 0)
                        return r;
        }
        if ((v = jv_object_get(o, "coordination-port"))) {
                r = get_uint(v, "swarm.coordination-port", 0, 65535, &c->coordination_port, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_load_balancer(const JsonValue *o, HostdConfig *c, ConfigError *error) {
        static const char *const keys[] = { "health-port", "sources", "serving-ports",
                                            "deregistration-delay-seconds", NULL };
        LoadBalancerConfig *lb = &c->load_balancer;
        const JsonValue *v;
        unsigned u;
        int r;

        if ((r = check_keys(o, "load-balancer", keys, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "health-port"))) {
                if ((r = get_uint(v, "load-balancer.health-port", 0, 65535, &u, error)) < 0)
                        return r;
                lb->health_port = (uint16_t) u;
        }
        if ((v = jv_object_get(o, "sources")) &&
            (r = get_cidr_list(v, "load-balancer.sources", &c->firewall.lb_sources, &c->firewall.n_lb_sources,
                               error)) < 0)
                return r;
        if ((v = jv_object_get(o, "serving-ports")) &&
            (r = get_port_list(v, "load-balancer.serving-ports", lb->serving_ports, &lb->n_serving_ports, error)) < 0)
                return r;
        if ((v = jv_object_get(o, "deregistration-delay-seconds")) &&
            (r = get_uint(v, "load-balancer.deregistration-delay-seconds", 0, 3600, &lb->deregistration_delay_sec,
                          error)) < 0)
                return r;
        if (lb->health_port && c->firewall.n_lb_sources == 0)
                return located_error_at(error, o, "load-balancer.sources",
                                        "the load balancer's sources (CIDRs) are needed with health-port: the "
                                        "firewall admits the port from them only");
        if (!lb->health_port && c->firewall.n_lb_sources > 0)
                return located_error_at(error, jv_object_get(o, "sources"), "load-balancer.sources",
                                        "sources without a health-port");
        c->firewall.lb_health_port = lb->health_port;
        return 0;
}

/* The health port is a port of its own: not one the firewall opens to
 * everyone or to peers, nor SSH's or the node protocol's. */
static int check_health_port(const JsonValue *root, const HostdConfig *c, ConfigError *error) {
        const FirewallPolicy *f = &c->firewall;
        uint16_t p = c->load_balancer.health_port;
        const char *clash = NULL;

        if (!p)
                return 0;
        for (size_t i = 0; i < f->n_public_tcp_ports; i++)
                if (f->public_tcp_ports[i] == p)
                        clash = "firewall.public-tcp-ports (open to everyone)";
        for (size_t i = 0; i < f->n_peer_tcp_ports; i++)
                if (f->peer_tcp_ports[i] == p)
                        clash = "firewall.peer-tcp-ports (or swarm.coordination-port)";
        if (f->ssh_port == p)
                clash = "firewall.ssh-port";
        for (size_t i = 0; i < c->load_balancer.n_serving_ports; i++)
                if (c->load_balancer.serving_ports[i] == p)
                        clash = "load-balancer.serving-ports";
        if (!clash)
                return 0;
        return located_error_at(error, jv_object_get(jv_object_get(root, "load-balancer"), "health-port"),
                                "load-balancer.health-port", "port %u is also in %s", (unsigned) p, clash);
}

static int parse_log_level(const JsonValue *v, HostdConfig *c, ConfigError *error) {
        static const struct {
                const char *name;
                int level;
        } levels[] = {
                { "error", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
                { "info", LOG_INFO },   { "debug", LOG_DEBUG },
        };

        if (v->type != JV_STRING)
                return located_error_at(error, v, "log-level", "expected a string, got %s",
                                   jv_type_name(v->type));
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (STREQ(v->string.chars, levels[i].name)) {
                        c->log_level = levels[i].level;
                        return 0;
                }
        return located_error_at(error, v, "log-level",
                           "\"%s\" is not one of error, warning, notice, info, debug",
                           v->string.chars);
}

static HostdConfig *config_new_default(void) {
        HostdConfig *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->docker_request_timeout_sec = 30;
        c->swarm_refresh_sec = 10;
        c->coordination_port = 9443;
        c->log_level = -1;
        c->state_directory = strdup("/var/lib/hostd");
        if (!c->state_directory)
                return config_free(c);
        firewall_defaults(&c->firewall);
        c->seccomp_installed_profile = strdup(SECCOMP_INSTALLED_PROFILE_DEFAULT);
        c->seccomp_daemon_json = strdup(SECCOMP_DAEMON_JSON_DEFAULT);
        c->seccomp_baseline_profile = strdup(SECCOMP_BASELINE_PROFILE_DEFAULT);
        if (!c->seccomp_installed_profile || !c->seccomp_daemon_json || !c->seccomp_baseline_profile)
                return config_free(c);
        c->patching.root = strdup("/");
        c->patching.security_only = true;
        c->patching.check_hours = 6;
        c->patching.allow = calloc(1, sizeof(char *));
        c->patching.deny = calloc(1, sizeof(char *));
        c->patching.hold = calloc(1, sizeof(char *));
        if (!c->patching.root || !c->patching.allow || !c->patching.deny || !c->patching.hold)
                return config_free(c);
        c->wave.agent = true;
        c->wave.group = strdup("default");
        c->wave.reboot_command = calloc(1, sizeof(char *));
        c->wave.docker_restart_command = strv_new("/usr/bin/systemctl", "restart", "docker.service", NULL);
        c->wave.alertmanager.matchers = strv_new(NULL);
        c->wave.alertmanager.timeout_sec = 5;
        c->wave.boot_id_file = strdup("/proc/sys/kernel/random/boot_id");
        c->wave.health_commands = calloc(1, sizeof(char **));
        c->wave.health_timeout_sec = 300;
        c->posture_textfile_sec = 60;
        c->posture_report_sec = 60;
        if (!c->wave.group || !c->wave.reboot_command || !c->wave.docker_restart_command || !c->wave.boot_id_file ||
            !c->wave.alertmanager.matchers ||
            !c->wave.health_commands)
                return config_free(c);
        return c;
}

int config_parse(const char *text, size_t length, HostdConfig **ret, ConfigError *error) {
        static const char *const keys[] = { "docker", "swarm", "log-level", "state-directory",
                                            "firewall", "seccomp", "patching", "wave", "posture",
                                            "load-balancer", NULL };
        _cleanup_(jv_freep) JsonValue *root = NULL;
        _cleanup_(config_freep) HostdConfig *c = NULL;
        const JsonValue *v;
        int r;

        if (length > CONFIG_MAX_SIZE) {
                located_error_at(error, NULL, NULL, "configuration is larger than %d bytes",
                            CONFIG_MAX_SIZE);
                return -E2BIG;
        }
        r = jv_parse_document(text, length, &root, error);
        if (r < 0)
                return r;

        c = config_new_default();
        if (!c)
                return -ENOMEM;

        r = check_keys(root, "", keys, error);
        if (r < 0)
                return r;
        if ((v = jv_object_get(root, "docker")) && (r = parse_docker(v, c, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "swarm")) && (r = parse_swarm(v, c, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "log-level")) && (r = parse_log_level(v, c, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "firewall")) && (r = parse_firewall(v, &c->firewall, false, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "seccomp")) && (r = parse_seccomp(v, c, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "patching")) && (r = parse_patching(v, &c->patching, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "wave")) && (r = parse_wave(v, &c->wave, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "posture")) && (r = parse_posture(v, c, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "load-balancer")) && (r = parse_load_balancer(v, c, error)) < 0)
                return r;
        if ((v = jv_object_get(root, "state-directory")) &&
            (r = get_absolute_path(v, "state-directory", &c->state_directory, error)) < 0)
                return r;

        /* the wave node protocol is for peers only: its port is a peer port */
        if (c->coordination_port != 0) {
                FirewallPolicy *f = &c->firewall;
                bool present = false;
                for (size_t i = 0; i < f->n_peer_tcp_ports; i++)
                        present = present || f->peer_tcp_ports[i] == c->coordination_port;
                if (!present) {
                        if (f->n_peer_tcp_ports >= FIREWALL_MAX_PORTS)
                                return located_error_at(error, jv_object_get(jv_object_get(root, "firewall"), "peer-tcp-ports"),
                                                        "firewall.peer-tcp-ports",
                                                        "no room for swarm.coordination-port %u (at most %d ports)",
                                                        c->coordination_port, FIREWALL_MAX_PORTS);
                        f->peer_tcp_ports[f->n_peer_tcp_ports++] = (uint16_t) c->coordination_port;
                }
        }
        if ((r = check_health_port(root, c, error)) < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *filename, HostdConfig **ret, ConfigError *error) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = read_file(filename, CONFIG_MAX_SIZE, &text, &size);
        if (r < 0) {
                if (error) {
                        *error = (ConfigError){};
                        if (r == -EFBIG)
                                snprintf(error->message, sizeof(error->message),
                                         "configuration is larger than %d bytes", CONFIG_MAX_SIZE);
                        else if (r == -EINVAL)
                                snprintf(error->message, sizeof(error->message), "not a regular file");
                        else
                                snprintf(error->message, sizeof(error->message), "cannot open: %s",
                                         strerror(-r));
                }
                return r == -EFBIG ? -E2BIG : r;
        }
        return config_parse(text, size, ret, error);
}

HostdConfig *config_free(HostdConfig *c) {
        if (!c)
                return NULL;
        free(c->docker_socket);
        free(c->state_directory);
        free(c->firewall.peers);
        free(c->firewall.management_sources);
        free(c->firewall.join_sources);
        free(c->firewall.lb_sources);
        free(c->seccomp_installed_profile);
        free(c->seccomp_baseline_profile);
        free(c->seccomp_daemon_json);
        free(c->patching.root);
        strv_free(c->patching.allow);
        strv_free(c->patching.deny);
        strv_free(c->patching.hold);
        free(c->wave.group);
        strv_free(c->wave.reboot_command);
        strv_free(c->wave.docker_restart_command);
        free(c->wave.alertmanager.url);
        strv_free(c->wave.alertmanager.matchers);
        free(c->wave.boot_id_file);
        argv_list_free(c->wave.health_commands);
        free(c->posture_textfile);
        free(c);
        return NULL;
}

int config_docker_socket(const HostdConfig *config, const char *docker_host_env,
                         char **ret, char *err, size_t err_size) {
        const char *path = "/var/run/docker.sock";

        if (config && config->docker_socket)
                path = config->docker_socket;
        else if (docker_host_env && *docker_host_env) {
                if (strncmp(docker_host_env, "unix://", 7) != 0 || docker_host_env[7] != '/') {
                        snprintf(err, err_size,
                                 "DOCKER_HOST=%s: only unix:///path sockets are supported",
                                 docker_host_env);
                        return -EINVAL;
                }
                path = docker_host_env + 7;
        }
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static json_t *ports_to_json(const uint16_t *ports, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_integer(ports[i])) < 0)
                        return json_decref(a), NULL;
        return a;
}

static json_t *cidrs_to_json(const Cidr *cidrs, size_t n) {
        json_t *a = json_array();
        char text[64];

        for (size_t i = 0; a && i < n; i++) {
                cidr_format(&cidrs[i], text, sizeof(text));
                if (json_array_append_new(a, json_string(text)) < 0)
                        return json_decref(a), NULL;
        }
        return a;
}

json_t *firewall_policy_to_json(const FirewallPolicy *p) {
        json_t *interfaces = json_array(), *j;

        for (size_t i = 0; interfaces && i < p->n_trusted_interfaces; i++)
                if (json_array_append_new(interfaces, json_string(p->trusted_interfaces[i])) < 0)
                        return json_decref(interfaces), NULL;
        j = json_pack("{s:b, s:o*, s:o*, s:o*, s:b, s:o*, s:o*, s:o*, s:o*, s:i, s:b, s:i}", "enabled", p->enabled,
                      "public-tcp-ports", ports_to_json(p->public_tcp_ports, p->n_public_tcp_ports),
                      "trusted-interfaces", interfaces, "peers", cidrs_to_json(p->peers, p->n_peers),
                      "swarm-peers", p->swarm_peers, "peer-tcp-ports",
                      ports_to_json(p->peer_tcp_ports, p->n_peer_tcp_ports), "peer-udp-ports",
                      ports_to_json(p->peer_udp_ports, p->n_peer_udp_ports), "management-sources",
                      cidrs_to_json(p->management_sources, p->n_management_sources), "join-sources",
                      cidrs_to_json(p->join_sources, p->n_join_sources), "ssh-port",
                      (int) p->ssh_port, "log-drops", p->log_drops, "icmp-echo-per-second",
                      (int) p->icmp_echo_per_second);
        /* only when set: a policy without it reads as before it existed */
        if (j && p->lb_health_port &&
            (json_object_set_new(j, "load-balancer-health-port", json_integer(p->lb_health_port)) < 0 ||
             json_object_set_new(j, "load-balancer-sources", cidrs_to_json(p->lb_sources, p->n_lb_sources)) < 0))
                json_decref(TAKE_PTR(j));
        return j;
}

int firewall_policy_from_value(const JsonValue *object, FirewallPolicy *ret, ConfigError *error) {
        FirewallPolicy f;
        int r;

        firewall_defaults(&f);
        r = parse_firewall(object, &f, true, error);
        if (r < 0) {
                firewall_policy_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

static int cidrs_copy(const Cidr *from, size_t n, Cidr **ret) {
        *ret = NULL;
        if (n == 0)
                return 0;
        *ret = malloc(n * sizeof(Cidr));
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, from, n * sizeof(Cidr));
        return 0;
}

int firewall_policy_copy(const FirewallPolicy *p, FirewallPolicy *ret) {
        FirewallPolicy f = *p;

        if (cidrs_copy(p->peers, p->n_peers, &f.peers) < 0)
                return -ENOMEM;
        if (cidrs_copy(p->management_sources, p->n_management_sources, &f.management_sources) < 0) {
                free(f.peers);
                return -ENOMEM;
        }
        if (cidrs_copy(p->join_sources, p->n_join_sources, &f.join_sources) < 0) {
                free(f.peers);
                free(f.management_sources);
                return -ENOMEM;
        }
        if (cidrs_copy(p->lb_sources, p->n_lb_sources, &f.lb_sources) < 0) {
                free(f.peers);
                free(f.management_sources);
                free(f.join_sources);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

void firewall_policy_done(FirewallPolicy *p) {
        if (!p)
                return;
        free(p->peers);
        free(p->management_sources);
        free(p->join_sources);
        free(p->lb_sources);
        p->peers = p->management_sources = p->join_sources = p->lb_sources = NULL;
        p->n_peers = p->n_management_sources = p->n_join_sources = p->n_lb_sources = 0;
}

static bool same_memory(const void *a, const void *b, size_t size) {
        return size == 0 || memcmp(a, b, size) == 0;
}

bool firewall_policy_equal(const FirewallPolicy *a, const FirewallPolicy *b) {
        if (a->enabled != b->enabled || a->swarm_peers != b->swarm_peers || a->ssh_port != b->ssh_port ||
            a->log_drops != b->log_drops || a->icmp_echo_per_second != b->icmp_echo_per_second ||
            a->n_public_tcp_ports != b->n_public_tcp_ports || a->n_peer_tcp_ports != b->n_peer_tcp_ports ||
            a->n_peer_udp_ports != b->n_peer_udp_ports || a->n_trusted_interfaces != b->n_trusted_interfaces ||
            a->n_peers != b->n_peers || a->n_management_sources != b->n_management_sources ||
            a->n_join_sources != b->n_join_sources || a->lb_health_port != b->lb_health_port ||
            a->n_lb_sources != b->n_lb_sources)
                return false;
        for (size_t i = 0; i < a->n_trusted_interfaces; i++)
                if (!STREQ(a->trusted_interfaces[i], b->trusted_interfaces[i]))
                        return false;
        return same_memory(a->public_tcp_ports, b->public_tcp_ports, a->n_public_tcp_ports * sizeof(uint16_t)) &&
               same_memory(a->peer_tcp_ports, b->peer_tcp_ports, a->n_peer_tcp_ports * sizeof(uint16_t)) &&
               same_memory(a->peer_udp_ports, b->peer_udp_ports, a->n_peer_udp_ports * sizeof(uint16_t)) &&
               same_memory(a->peers, b->peers, a->n_peers * sizeof(Cidr)) &&
               same_memory(a->management_sources, b->management_sources, a->n_management_sources * sizeof(Cidr)) &&
               same_memory(a->join_sources, b->join_sources, a->n_join_sources * sizeof(Cidr)) &&
               same_memory(a->lb_sources, b->lb_sources, a->n_lb_sources * sizeof(Cidr));
}
