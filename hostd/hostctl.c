/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl: the command-line client of hostd's control API. See hostctl(8).
 *
 * Exit codes:
 *   0  success
 *   1  the operation failed or found a problem (invalid config, an error
 *      answered by hostd)
 *   2  usage error
 *   3  hostd could not be reached */

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>

#include "common/clock.h"
#include "common/text.h"
#include "firewall/build.h"
#include "hostd/changes.h"
#include "hostd/control.h"
#include "policy/config.h"
#include "policy/seccomp.h"
#include "hostd/patch-worker.h"
#include "patching/plan.h"
#include "patching/wave.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

static const char *arg_socket = CONTROL_DEFAULT_SOCKET;
static bool arg_json = false;

typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Buffer *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (b->size + n > 64u * 1024 * 1024)
                return 0;
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + b->size, data, n);
        b->data = p;
        b->size += n;
        p[b->size] = 0;
        return n;
}

static void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

/* Calls hostd. Returns the HTTP status (>0), or -1 when hostd could not be
 * reached (message printed). *ret gets the parsed reply. timeout_sec 0
 * waits as long as hostd keeps the connection (a long poll). */
/* One request to hostd: the status (-1 when hostd cannot be reached, said
 * on stderr) and the body as it came, in *response (free its data). */
static long http_call(const char *method, const char *path, const json_t *body, long timeout_sec,
                      Buffer *response) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_free_ char *url = NULL, *request = NULL;
        struct curl_slist *headers = NULL;
        char error[CURL_ERROR_SIZE] = "";
        long status = 0;
        CURLcode code;

        c = curl_easy_init();
        if (!c || asprintf(&url, "http://hostd%s", path) < 0) {
                fprintf(stderr, "hostctl: out of memory\n");
                return -1;
        }
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, arg_socket);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, response);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_sec);
        if (body) {
                request = json_dumps(body, JSON_COMPACT);
                headers = curl_slist_append(NULL, "Content-Type: application/json");
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, request);
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        } else if (STREQ(method, "POST"))
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");

        code = curl_easy_perform(c);
        curl_slist_free_all(headers);
        if (code != CURLE_OK) {
                fprintf(stderr, "hostctl: cannot reach hostd at %s: %s\n", arg_socket,
                        error[0] ? error : curl_easy_strerror(code));
                free(response->data);
                response->data = NULL;
                return -1;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        return status;
}

static long call_hostd_timeout(const char *method, const char *path, const json_t *body, json_t **ret,
                               long timeout_sec) {
        Buffer response = {};
        json_error_t jerr;
        long status = http_call(method, path, body, timeout_sec, &response);

        if (status < 0)
                return -1;
        *ret = response.size ? json_loadb(response.data, response.size, 0, &jerr) : json_object();
        free(response.data);
        if (!*ret) {
                fprintf(stderr, "hostctl: malformed reply from hostd: %s\n", jerr.text);
                return -1;
        }
        return status;
}

static int print_json(const json_t *j) {
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

        if (!s)
                return EXIT_FAILED;
        puts(s);
        free(s);
        return 0;
}

/* Maps a reply to an exit code, printing hostd's error message. */
static long call_hostd(const char *method, const char *path, const json_t *body, json_t **ret) {
        return call_hostd_timeout(method, path, body, ret, 600);
}

static int reply_error(long status, const json_t *reply) {
        const char *m = json_string_value(json_object_get(reply, "message"));

        if (status < 0)
                return EXIT_UNREACHABLE;
        if (arg_json)
                print_json(reply);
        else
                fprintf(stderr, "hostctl: %s (HTTP %ld)\n", m ? m : "request failed", status);
        return EXIT_FAILED;
}

static void format_duration(json_int_t s, char *buf, size_t size) {
        if (s >= 86400)
                snprintf(buf, size, "%lldd %lldh %lldm", (long long) s / 86400,
                         (long long) (s % 86400) / 3600, (long long) (s % 3600) / 60);
        else if (s >= 3600)
                snprintf(buf, size, "%lldh %lldm %llds", (long long) s / 3600,
                         (long long) (s % 3600) / 60, (long long) s % 60);
        else if (s >= 60)
                snprintf(buf, size, "%lldm %llds", (long long) s / 60, (long long) s % 60);
        else
                snprintf(buf, size, "%llds", (long long) s);
}

static const char *str(const json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "-";
}

static int cmd_status(int argc, char *argv[] _unused_) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *docker, *swarm;
        char uptime[64];
        long status;

        if (argc > 1) {
                fprintf(stderr, "hostctl: status takes no arguments\n");
                return EXIT_USAGE;
        }
        status = call_hostd("GET", "/v1/status", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);

        docker = json_object_get(reply, "docker");
        swarm = json_object_get(reply, "swarm");
        format_duration(json_integer_value(json_object_get(reply, "uptime_seconds")), uptime,
                        sizeof(uptime));
        printf("%-12s %s (pid %lld)\n", "hostd", str(reply, "version"),
               (long long) json_integer_value(json_object_get(reply, "pid")));
        printf("%-12s %s\n", "config", str(reply, "config"));
        printf("%-12s %s (since %s)\n", "uptime", uptime, str(reply, "started"));
        if (json_is_true(json_object_get(docker, "reachable")))
                printf("%-12s reachable at %s (Docker %s)\n", "docker", str(docker, "socket"),
                       str(docker, "server_version"));
        else
                printf("%-12s UNREACHABLE at %s: %s\n", "docker", str(docker, "socket"),
                       str(docker, "error"));
        if (!json_is_object(swarm)) {
                printf("%-12s unknown\n", "swarm");
                return 0;
        }
        printf("%-12s %s\n", "swarm", str(swarm, "state"));
        printf("%-12s %s (%s)\n", "node", str(swarm, "node_id"), str(swarm, "hostname"));
        printf("%-12s %s\n", "role", str(swarm, "role"));
        printf("%-12s %s\n", "leader", json_is_true(json_object_get(swarm, "leader")) ? "yes" : "no");
        return 0;
}

static int cmd_reload(int argc, char *argv[] _unused_) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        long status;

        if (argc > 1) {
                fprintf(stderr, "hostctl: reload takes no arguments\n");
                return EXIT_USAGE;
        }
        status = call_hostd("POST", "/v1/reload", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);
        printf("Reloaded %s\n", str(reply, "config"));
        return 0;
}

static int cmd_config(int argc, char *argv[]) {
        _cleanup_(config_freep) HostdConfig *config = NULL;
        const char *file = CONFIG_DEFAULT_PATH;
        ConfigError error;
        char message[512];
        int r;

        if (argc < 2 || !STREQ(argv[1], "check") || argc > 3) {
                fprintf(stderr, "hostctl: usage: hostctl config check [FILE]\n");
                return EXIT_USAGE;
        }
        if (argc == 3)
                file = argv[2];

        r = config_load(file, &config, &error);
        if (r < 0) {
                located_error_format(&error, file, message, sizeof(message));
                if (arg_json) {
                        json_t *j = json_pack("{s:s, s:b, s:s, s:s, s:i, s:i}", "file", file,
                                              "valid", 0, "error", message, "path", error.path,
                                              "line", (int) error.line, "column", (int) error.column);
                        print_json(j);
                        json_decref(j);
                } else
                        fprintf(stderr, "%s\n", message);
                return EXIT_FAILED;
        }
        if (arg_json) {
                json_t *j = json_pack("{s:s, s:b}", "file", file, "valid", 1);
                print_json(j);
                json_decref(j);
        } else
                printf("%s: valid\n", file);
        return 0;
}

/* Loads FILE (or the default) for commands that work without a daemon;
 * prints the located error. */
static int load_config_or_report(const char *file, HostdConfig **ret) {
        ConfigError error;
        char message[512];
        int r;

        r = config_load(file, ret, &error);
        if (r < 0) {
                located_error_format(&error, file, message, sizeof(message));
                fprintf(stderr, "%s\n", message);
                return EXIT_FAILED;
        }
        return 0;
}

static int cmd_firewall_render(int argc, char *argv[]) {
        _cleanup_(config_freep) HostdConfig *config = NULL;
        _cleanup_(ruleset_freep) Ruleset *ruleset = NULL;
        _cleanup_free_ char *text = NULL;
        const char *file = CONFIG_DEFAULT_PATH;
        int r;

        for (int i = 1; i < argc; i++) {
                if (STREQ(argv[i], "--config") && i + 1 < argc)
                        file = argv[++i];
                else {
                        fprintf(stderr, "hostctl: usage: hostctl firewall render [--config FILE]\n");
                        return EXIT_USAGE;
                }
        }
        r = load_config_or_report(file, &config);
        if (r != 0)
                return r;
        if (!config->firewall.enabled) {
                printf("# firewall disabled in %s: hostd applies no table\n", file);
                return 0;
        }
        r = firewall_build(&config->firewall, NULL, 0, &ruleset);
        if (r < 0) {
                fprintf(stderr, "hostctl: cannot build the ruleset: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        text = ruleset_to_nft(ruleset);
        if (!text) {
                fprintf(stderr, "hostctl: out of memory\n");
                return EXIT_FAILED;
        }
        printf("# hostd firewall from %s\n", file);
        if (config->firewall.swarm_peers)
                printf("# the live Swarm node addresses are added to peers4/peers6 at runtime\n");
        fputs(text, stdout);
        return 0;
}

static int cmd_firewall_show(void) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *live, *rules, *rule, *pending;
        long status;
        size_t i;

        status = call_hostd("GET", "/v1/firewall", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);

        if (!json_is_true(json_object_get(reply, "enabled"))) {
                printf("%-12s disabled by policy\n", "firewall");
                return 0;
        }
        live = json_object_get(reply, "live");
        printf("%-12s %s, %lld live Swarm peers, digest %s\n", "firewall",
               json_is_true(json_object_get(reply, "applied")) ? "applied" : "NOT APPLIED",
               (long long) json_integer_value(json_object_get(reply, "peers")), str(reply, "digest"));
        if (json_is_true(json_object_get(live, "matches_desired")))
                printf("%-12s matches the desired ruleset\n", "live table");
        else
                printf("%-12s DIFFERS: %s\n", "live table", str(live, "difference"));
        pending = json_object_get(reply, "pending_confirm");
        if (json_is_object(pending))
                printf("%-12s rolls back in %lld s unless confirmed\n", "pending",
                       (long long) json_integer_value(json_object_get(pending, "seconds_left")));
        printf("%-12s %lld (last took %.1f ms)\n", "repairs",
               (long long) json_integer_value(json_object_get(reply, "repairs")),
               json_number_value(json_object_get(reply, "last_repair_ms")));
        if (json_is_string(json_object_get(reply, "last_error")))
                printf("%-12s %s\n", "last error", str(reply, "last_error"));

        rules = json_object_get(live, "rules");
        printf("\n%-20s %14s %16s\n", "RULE", "PACKETS", "BYTES");
        json_array_foreach(rules, i, rule)
                printf("%-20s %14lld %16lld\n", str(rule, "id")[0] ? str(rule, "id") : "(not hostd's)",
                       (long long) json_integer_value(json_object_get(rule, "packets")),
                       (long long) json_integer_value(json_object_get(rule, "bytes")));
        return 0;
}

static int cmd_firewall_post(const char *path, const json_t *body, const char *done) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        long status = call_hostd("POST", path, body, &reply);

        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);
        puts(done);
        return 0;
}

static int cmd_firewall(int argc, char *argv[]) {
        const char *usage = "hostctl: usage: hostctl firewall show | render [--config FILE] | "
                            "apply [--confirm-timeout SECONDS] | confirm | rollback\n";

        if (argc >= 2 && STREQ(argv[1], "render"))
                return cmd_firewall_render(argc - 1, argv + 1);
        if (argc == 2 && STREQ(argv[1], "show"))
                return cmd_firewall_show();
        if (argc == 2 && STREQ(argv[1], "confirm"))
                return cmd_firewall_post("/v1/firewall/confirm", NULL, "Firewall confirmed");
        if (argc == 2 && STREQ(argv[1], "rollback"))
                return cmd_firewall_post("/v1/firewall/rollback", NULL, "Firewall rolled back");
        if (argc >= 2 && STREQ(argv[1], "apply")) {
                _cleanup_(json_decrefp) json_t *body = json_object();
                char done[128] = "Firewall applied";

                if (argc == 4 && STREQ(argv[2], "--confirm-timeout")) {
                        char *end;
                        long t = strtol(argv[3], &end, 10);
                        if (*end || t < 1 || t > 3600) {
                                fprintf(stderr, "hostctl: --confirm-timeout takes 1..3600 seconds\n");
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, "confirm_timeout", json_integer(t));
                        snprintf(done, sizeof(done),
                                 "Firewall applied; it rolls back in %ld s unless `hostctl firewall confirm`", t);
                } else if (argc != 2) {
                        fputs(usage, stderr);
                        return EXIT_USAGE;
                }
                return cmd_firewall_post("/v1/firewall/apply", body, done);
        }
        fputs(usage, stderr);
        return EXIT_USAGE;
}

static int cmd_seccomp_audit(void) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *containers, *c;
        long status;
        size_t i;

        status = call_hostd("GET", "/v1/seccomp/audit", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        containers = json_object_get(reply, "containers");
        if (arg_json)
                print_json(reply);
        else {
                printf("%-24s %-12s %8s %8s %8s  %s\n", "CONTAINER", "ID", "PID", "SECCOMP", "FILTERS",
                       "RESULT");
                json_array_foreach(containers, i, c) {
                        const char *problem = json_string_value(json_object_get(c, "problem"));
                        printf("%-24.24s %-12.12s %8lld %8lld %8lld  %s\n", str(c, "name"), str(c, "id"),
                               (long long) json_integer_value(json_object_get(c, "pid")),
                               (long long) json_integer_value(json_object_get(c, "seccomp_mode")),
                               (long long) json_integer_value(json_object_get(c, "seccomp_filters")),
                               problem ? problem : "ok");
                }
                bool all_confined = true;
                json_array_foreach(containers, i, c)
                        all_confined = all_confined && json_is_true(json_object_get(c, "compliant"));
                printf("\n%zu running containers, %s (enforcement: %s)\n", json_array_size(containers),
                       all_confined ? "all under a seccomp filter" : "SOME NOT CONFINED",
                       str(reply, "enforcement"));
                printf("dockerd's default profile: %s (%s)\n", str(reply, "daemon_profile"),
                       json_is_true(json_object_get(reply, "daemon_profile_is_ours"))
                               ? "hostd's"
                               : "NOT hostd's; expected the one installed at");
                if (!json_is_true(json_object_get(reply, "daemon_profile_is_ours")))
                        printf("  %s\n", str(reply, "expected_profile"));
        }
        /* like posture checks: a script can act on the exit status */
        return json_is_true(json_object_get(reply, "compliant")) ? 0 : EXIT_FAILED;
}

static void print_profile_error(const char *file, const SeccompError *e, const char *what) {
        char message[700];

        located_error_format(e, file, message, sizeof(message));
        fprintf(stderr, "%s%s\n", what, message);
}

/* the warnings kept with the profile (the first SECCOMP_MAX_WARNINGS) */
static void print_profile_warnings(const char *file, const SeccompProfile *p) {
        for (size_t i = 0; i < MIN(p->n_warnings, (size_t) SECCOMP_MAX_WARNINGS); i++)
                print_profile_error(file, &p->warnings[i], "warning: ");
}

static json_t *profile_error_json(const char *file, const SeccompError *e) {
        char message[700];

        located_error_format(e, file, message, sizeof(message));
        return json_pack("{s:s, s:s, s:i, s:i, s:s}", "text", message, "path", e->path, "line",
                         (int) e->line, "column", (int) e->column, "message", e->message);
}

static json_t *stats_json(const SeccompTarget *t, const SeccompStats *st) {
        return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "arch", t->arch,
                         "compiler", st->compiler, "rules_in_profile", (json_int_t) st->rules_in_profile, "rules_selected",
                         (json_int_t) st->rules_selected, "syscalls_added",
                         (json_int_t) st->syscalls_added, "syscalls_skipped",
                         (json_int_t) st->syscalls_skipped, "syscalls_unknown",
                         (json_int_t) st->syscalls_unknown, "architectures",
                         (json_int_t) st->architectures, "bpf_instructions",
                         (json_int_t) st->bpf_instructions, "bpf_bytes", (json_int_t) st->bpf_bytes);
}

/* Every architecture the profile maps, besides the host's. */
static size_t profile_arches(const SeccompProfile *p, const char **out, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_arch_map && n < max; i++) {
                const char *a = seccomp_docker_arch(p->arch_map[i].architecture);
                if (a)
                        out[n++] = a;
        }
        for (size_t i = 0; i < p->n_architectures && n < max; i++) {
                const char *a = seccomp_docker_arch(p->architectures[i]);
                if (a)
                        out[n++] = a;
        }
        return n;
}

/* One file: parse, then compile for the host with Docker's default
 * capabilities and with all of them (both proven in the kernel), and for
 * every other mapped architecture. */
static int check_one(const char *file, json_t *results) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(json_decrefp) json_t *warnings = json_array(), *targets = json_array();
        SeccompError error = {};
        SeccompTarget host, t;
        SeccompStats stats = {}, host_stats = {};
        const char *arches[32];
        size_t n_arches;
        bool loaded = false;
        int r;

        r = seccomp_profile_load(file, &p, &error);
        if (r < 0) {
                if (arg_json)
                        json_array_append_new(results, json_pack("{s:s, s:b, s:o}", "file", file, "valid", 0,
                                                                 "error", profile_error_json(file, &error)));
                else
                        print_profile_error(file, &error, "");
                return EXIT_FAILED;
        }
        if (arg_json)
                for (size_t i = 0; i < MIN(p->n_warnings, (size_t) SECCOMP_MAX_WARNINGS); i++)
                        json_array_append_new(warnings, profile_error_json(file, &p->warnings[i]));
        else
                print_profile_warnings(file, p);

        /* an unconfined profile ({}) is refused by the compiler, with why */
        seccomp_target_host(&host);
        r = seccomp_profile_verify(p, &host_stats, &error);
        loaded = r == 0;
        if (r >= 0)
                json_array_append_new(targets, stats_json(&host, &host_stats));
        n_arches = profile_arches(p, arches, ELEMENTSOF(arches));
        for (size_t i = 0; r >= 0 && i < n_arches; i++) {
                if (STREQ(arches[i], host.arch))
                        continue;
                t = host;
                t.arch = arches[i];
                r = seccomp_check_target(p, &t, &stats, &error);
                if (r >= 0)
                        json_array_append_new(targets, stats_json(&t, &stats));
        }
        if (r < 0) {
                if (arg_json)
                        json_array_append_new(results,
                                              json_pack("{s:s, s:b, s:o, s:O}", "file", file, "valid", 0,
                                                        "error", profile_error_json(file, &error),
                                                        "warnings", warnings));
                else
                        print_profile_error(file, &error, "");
                return EXIT_FAILED;
        }
        if (arg_json)
                json_array_append_new(results, json_pack("{s:s, s:b, s:b, s:O, s:O}", "file", file, "valid",
                                                         1, "loaded", loaded, "warnings", warnings,
                                                         "targets", targets));
        else
                printf("%s: valid: %zu rules; on %s with Docker's default capabilities: %zu syscall "
                       "rules, %zu BPF instructions; %s\n",
                       file, p->n_rules, host.arch, host_stats.syscalls_added,
                       host_stats.bpf_instructions,
                       loaded ? "loads in the kernel"
                              : "not loaded here: its SCMP_ACT_NOTIFY rules need their agent");
        return 0;
}

static int cmd_seccomp_check(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *results = json_array();
        int r = 0;

        if (argc < 2) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp check FILE...\n");
                return EXIT_USAGE;
        }
        for (int i = 1; i < argc; i++)
                if (check_one(argv[i], results) != 0)
                        r = EXIT_FAILED;
        if (arg_json)
                print_json(results);
        return r;
}

/* Options shared by compile and run: --caps, --arch, --kernel. Returns the
 * index of the first operand, or -1 after a usage message. */
static int parse_target_options(int argc, char *argv[], bool allow_arch, SeccompTarget *t,
                                const char ***caps, bool *pfc) {
        enum { ARG_CAPS = 0x100, ARG_ARCH, ARG_KERNEL, ARG_PFC };
        static const struct option options[] = {
                { "caps", required_argument, NULL, ARG_CAPS },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "pfc", no_argument, NULL, ARG_PFC },
                {},
        };
        char err[128];
        int c, n;

        seccomp_target_host(t);
        optind = 0; /* also resets GNU getopt's state from main's scan */
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_CAPS:
                        free(*caps);
                        *caps = NULL;
                        if (seccomp_caps_parse(optarg, caps, err, sizeof(err)) < 0) {
                                fprintf(stderr, "hostctl: --caps: %s\n", err);
                                return -1;
                        }
                        t->caps = *caps;
                        break;
                case ARG_ARCH:
                        if (!allow_arch || !seccomp_docker_arch(optarg)) {
                                fprintf(stderr, "hostctl: --arch: %s\n",
                                        allow_arch ? "unknown architecture" : "only the host's");
                                return -1;
                        }
                        t->arch = seccomp_docker_arch(optarg);
                        break;
                case ARG_KERNEL:
                        n = 0;
                        if (sscanf(optarg, "%u.%u%n", &t->kernel_major, &t->kernel_minor, &n) != 2 ||
                            optarg[n] != 0) {
                                fprintf(stderr, "hostctl: --kernel: expected MAJOR.MINOR\n");
                                return -1;
                        }
                        break;
                case ARG_PFC:
                        if (!pfc)
                                return -1;
                        *pfc = true;
                        break;
                default:
                        return -1;
                }
        return optind;
}

static int load_profile_or_report(const char *file, SeccompProfile **ret) {
        SeccompError error = {};
        int r;

        r = seccomp_profile_load(file, ret, &error);
        if (r < 0) {
                print_profile_error(file, &error, "");
                return EXIT_FAILED;
        }
        print_profile_warnings(file, *ret);
        return 0;
}

static int cmd_seccomp_compile(int argc, char *argv[]) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *c = NULL;
        _cleanup_free_ const char **caps = NULL;
        SeccompError error = {};
        SeccompTarget t;
        SeccompStats st;
        bool pfc = false;
        int first, r;

        first = parse_target_options(argc, argv, true, &t, &caps, &pfc);
        if (first < 0 || first != argc - 1) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp compile FILE [--caps LIST] "
                                "[--arch ARCH] [--kernel X.Y] [--pfc]\n");
                return EXIT_USAGE;
        }
        r = load_profile_or_report(argv[first], &p);
        if (r != 0)
                return r;
        /* the listing is libseccomp's: compile with it */
        r = seccomp_compile_with(p, &t, pfc ? SECCOMP_COMPILER_LIBSECCOMP : SECCOMP_COMPILER_AUTO, &c, &error);
        if (r < 0) {
                print_profile_error(argv[first], &error, "");
                return EXIT_FAILED;
        }
        if (pfc) {
                fflush(stdout);
                return seccomp_compiled_export_pfc(c, STDOUT_FILENO) < 0 ? EXIT_FAILED : 0;
        }
        seccomp_compiled_stats(c, &st);
        if (arg_json) {
                _cleanup_(json_decrefp) json_t *j = stats_json(&t, &st);
                json_object_set_new(j, "file", json_string(argv[first]));
                return print_json(j);
        }
        size_t n_caps = 0;
        while (t.caps[n_caps])
                n_caps++;
        printf("%s for %s, kernel %u.%u, %zu capabilities\n\n", argv[first], t.arch, t.kernel_major,
               t.kernel_minor, n_caps);
        printf("  %-44s %6zu\n", "syscalls[] entries in the profile", st.rules_in_profile);
        printf("  %-44s %6zu\n", "entries that apply to this target", st.rules_selected);
        printf("  %-44s %6zu\n", "syscall rules in the filter", st.syscalls_added);
        printf("  %-44s %6zu\n", "skipped: same action as the default", st.syscalls_skipped);
        printf("  %-44s %6zu\n", "skipped: unknown to this libseccomp", st.syscalls_unknown);
        printf("  %-44s %6zu\n", "architectures in the filter", st.architectures);
        printf("  %-44s %6zu\n", "BPF instructions", st.bpf_instructions);
        printf("  %-44s %6zu\n", "BPF bytes", st.bpf_bytes);
        printf("  %-44s %6s\n", "compiled by", st.compiler);
        return 0;
}

/* Runs a command under the profile, as a container's process would be:
 * the filter that runc would build for Docker's default capabilities (or
 * --caps), loaded here, then exec. The exit status is the command's. */
static int cmd_seccomp_run(int argc, char *argv[]) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *c = NULL;
        _cleanup_free_ const char **caps = NULL;
        SeccompError error = {};
        SeccompTarget t;
        int first, dashes = 0, r;

        /* options are looked for only before "--": the command has its own */
        for (int i = 1; i < argc && dashes == 0; i++)
                if (STREQ(argv[i], "--"))
                        dashes = i;
        first = dashes > 0 ? parse_target_options(dashes, argv, false, &t, &caps, NULL) : -1;
        if (first < 0 || first != dashes - 1 || dashes + 1 >= argc) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp run FILE [--caps LIST] -- COMMAND [ARG...]\n");
                return EXIT_USAGE;
        }
        r = load_profile_or_report(argv[first], &p);
        if (r != 0)
                return r;
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].action == SECCOMP_ACTION_NOTIFY) {
                        fprintf(stderr, "hostctl: %s uses SCMP_ACT_NOTIFY; running it needs the agent "
                                        "listening at %s\n", argv[first], p->listener_path);
                        return EXIT_FAILED;
                }
        r = seccomp_compile(p, &t, &c, &error);
        if (r < 0) {
                print_profile_error(argv[first], &error, "");
                return EXIT_FAILED;
        }
        first = dashes + 1;
        fflush(NULL);
        r = seccomp_compiled_load(c);
        if (r < 0) {
                fprintf(stderr, "hostctl: cannot load the filter: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        execvp(argv[first], argv + first);
        fprintf(stderr, "hostctl: cannot run %s under the profile: %m\n", argv[first]);
        return errno == ENOENT ? 127 : 126;
}

static int cmd_seccomp_install(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *reply = NULL, *body = NULL;
        _cleanup_free_ char *path = NULL;
        const char *file = argc > 1 ? argv[1] : HOSTD_DATADIR "/hostd/seccomp/hostd-hardened.json";
        long status;

        if (argc > 2) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp install [FILE]\n");
                return EXIT_USAGE;
        }
        /* hostd reads the file itself, so it must be named from /, not from here */
        path = realpath(file, NULL);
        if (!path) {
                fprintf(stderr, "hostctl: %s: %m\n", file);
                return EXIT_FAILED;
        }
        body = json_pack("{s:s}", "profile", path);
        status = call_hostd("POST", "/v1/seccomp/install", body, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);
        printf("%s %s as %s\n", path,
               json_is_true(json_object_get(reply, "profile_changed")) ? "installed" : "already installed",
               str(reply, "installed_profile"));
        printf("%s: \"seccomp-profile\" %s\n", str(reply, "daemon_json"),
               json_is_true(json_object_get(reply, "daemon_json_changed")) ? "set" : "already set");
        if (json_is_true(json_object_get(reply, "restart_pending")))
                printf("dockerd reads it when it restarts: hostd restarts Docker only while this node "
                       "is drained (patch wave), never under running tasks\n");
        else
                printf("dockerd already uses it\n");
        return 0;
}

static int cmd_seccomp(int argc, char *argv[]) {
        static const char usage[] =
                "hostctl: usage: hostctl seccomp check FILE...\n"
                "       hostctl seccomp compile FILE [--caps LIST] [--arch ARCH] [--kernel X.Y] [--pfc]\n"
                "       hostctl seccomp run FILE [--caps LIST] -- COMMAND [ARG...]\n"
                "       hostctl seccomp install [FILE]\n"
                "       hostctl seccomp audit\n";

        if (argc == 2 && STREQ(argv[1], "audit"))
                return cmd_seccomp_audit();
        if (argc >= 2 && STREQ(argv[1], "check"))
                return cmd_seccomp_check(argc - 1, argv + 1);
        if (argc >= 2 && STREQ(argv[1], "compile"))
                return cmd_seccomp_compile(argc - 1, argv + 1);
        if (argc >= 2 && STREQ(argv[1], "run"))
                return cmd_seccomp_run(argc - 1, argv + 1);
        if (argc >= 2 && STREQ(argv[1], "install"))
                return cmd_seccomp_install(argc - 1, argv + 1);
        fputs(usage, stderr);
        return EXIT_USAGE;
}

/* ---- hostctl patch ----------------------------------------------- */

/* "90", "90s", "30m", "12h", "3d" into microseconds */
static int parse_duration(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        uint64_t unit = 1000000;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || s[0] == '-')
                return -EINVAL;
        if (STREQ(end, "m"))
                unit *= 60;
        else if (STREQ(end, "h"))
                unit *= 3600;
        else if (STREQ(end, "d"))
                unit *= 86400;
        else if (!STREQ(end, "") && !STREQ(end, "s"))
                return -EINVAL;
        if (v > UINT64_MAX / unit / 2)
                return -ERANGE;
        *ret = v * unit;
        return 0;
}

static void print_plan(const json_t *plan) {
        size_t i, n_packages = json_array_size(json_object_get(plan, "packages"));
        uint64_t now = clock_usec(CLOCK_REALTIME);
        json_t *p;

        printf("%-32s %-22s %-22s %-8s %s\n", "PACKAGE", "FROM", "TO", "SECURITY", "REASON");
        json_array_foreach(json_object_get(plan, "packages"), i, p) {
                const char *from = json_string_value(json_object_get(p, "from"));
                const char *suite = json_string_value(json_object_get(p, "suite"));
                const char *matched = json_string_value(json_object_get(p, "matched"));
                const char *reason = json_string_value(json_object_get(p, "reason"));
                char why[192], age[32];

                if (json_is_true(json_object_get(p, "included")))
                        snprintf(why, sizeof(why), "%s (%s)", from ? "upgrade" : "new", suite ? suite : "?");
                else if (STREQ(reason, "newer than the minimum age")) {
                        uint64_t seen = (uint64_t) json_integer_value(json_object_get(p, "first_seen"));
                        format_duration((json_int_t) ((now - seen) / 1000000), age, sizeof(age));
                        snprintf(why, sizeof(why), "skipped: %s (offered %s ago)", reason, age);
                } else
                        snprintf(why, sizeof(why), "skipped: %s%s%s%s", reason, matched ? " (" : "",
                                 matched ? matched : "", matched ? ")" : "");
                printf("%-32s %-22s %-22s %-8s %s\n", json_string_value(json_object_get(p, "name")),
                       from ? from : "-", json_string_value(json_object_get(p, "to")),
                       json_is_true(json_object_get(p, "security")) ? "yes" : "no", why);
        }
        printf("\nplan %.12s: %" JSON_INTEGER_FORMAT " of %zu updates included, %" JSON_INTEGER_FORMAT
               " security\n",
               json_string_value(json_object_get(plan, "id")), json_integer_value(json_object_get(plan, "included")),
               n_packages, json_integer_value(json_object_get(plan, "security")));
}

static bool print_fetched(const char *what, const json_t *list) {
        bool all = true;
        size_t i;
        json_t *f;

        json_array_foreach(list, i, f) {
                const char *error = json_string_value(json_object_get(f, "error"));
                printf("%-9s %-32s %-22s %s%s\n", what, json_string_value(json_object_get(f, "name")),
                       json_string_value(json_object_get(f, "version")), error ? "NOT STAGED: " : "staged",
                       error ? error : "");
                all = all && !error;
        }
        return all;
}

static void print_entry(const json_t *e) {
        printf("transaction %s: %s: %s\n", json_string_value(json_object_get(e, "id")),
               json_string_value(json_object_get(e, "state")), json_string_value(json_object_get(e, "message")));
}

static void print_reboot(const json_t *r) {
        if (json_is_true(json_object_get(r, "required")))
                printf("reboot required: %s\n", json_string_value(json_object_get(r, "reasons")));
        else if (json_is_false(json_object_get(r, "required")))
                printf("no reboot required\n");
        else
                printf("reboot: %s\n", json_string_value(json_object_get(r, "reasons")));
}

static void print_history(const json_t *entries) {
        size_t i;
        json_t *e;

        printf("%-30s %-13s %-20s %-8s %s\n", "TRANSACTION", "STATE", "STARTED (UTC)", "PACKAGES", "MESSAGE");
        json_array_foreach(entries, i, e) {
                time_t t = (time_t) (json_integer_value(json_object_get(e, "started")) / 1000000);
                struct tm tm;
                char when[32];
                PackageSet before = {}, after = {};
                PackageDiff diff = {};
                size_t k;
                json_t *p;

                gmtime_r(&t, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                json_array_foreach(json_object_get(e, "before"), k, p)
                        package_set_put(&before, json_string_value(json_array_get(p, 0)),
                                        json_string_value(json_array_get(p, 1)), json_string_value(json_array_get(p, 2)));
                json_array_foreach(json_object_get(e, "after"), k, p)
                        package_set_put(&after, json_string_value(json_array_get(p, 0)),
                                        json_string_value(json_array_get(p, 1)), json_string_value(json_array_get(p, 2)));
                /* the packages the transaction changed, as the host is now recorded */
                if (package_set_diff(&before, &after, &diff) < 0)
                        diff = (PackageDiff){};
                printf("%-30s %-13s %-20s %-8zu %s\n", json_string_value(json_object_get(e, "id")),
                       json_string_value(json_object_get(e, "state")), when, diff.install.n + diff.remove.n,
                       json_string_value(json_object_get(e, "message")));
                package_diff_done(&diff);
                package_set_done(&before);
                package_set_done(&after);
        }
        if (json_array_size(entries) == 0)
                printf("(no transactions)\n");
}

static void print_progress(const json_t *p, bool tty) {
        printf(tty ? "\r\033[K[%3" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "] %s" :
                     "[%3" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "] %s\n",
               json_integer_value(json_object_get(p, "done")), json_integer_value(json_object_get(p, "total")),
               json_string_value(json_object_get(p, "action")));
        fflush(stdout);
}

/* Reads the worker's report: progress as it comes, then the result. */
static json_t *read_worker(int fd, pid_t pid, bool show_progress, char *err, size_t err_size) {
        _cleanup_fclose_ FILE *f = fdopen(fd, "re");
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;
        json_t *result = NULL;
        bool tty = isatty(STDOUT_FILENO), progress_shown = false;
        int status;

        snprintf(err, err_size, "the patch worker ended without a report");
        while (f && getline(&line, &allocated, f) > 0) {
                PatchWorkerLine l;
                char why[160];

                if (patch_worker_parse_line(line, &l, why, sizeof(why)) < 0)
                        continue;
                if (l.kind == PATCH_LINE_PROGRESS && show_progress) {
                        print_progress(l.value, tty);
                        progress_shown = true;
                } else if (l.kind == PATCH_LINE_RESULT) {
                        json_decref(result);
                        result = json_incref((json_t *) l.value);
                } else if (l.kind == PATCH_LINE_ERROR)
                        snprintf(err, err_size, "%s", json_string_value(l.value));
                json_decref(l.line);
        }
        if (tty && progress_shown)
                printf("\n");
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return result;
}

/* Starts the job in hostd and follows it to its end. Returns 0 with the
 * result, or the exit code (message printed). */
static int patch_via_hostd(const PatchRequest *req, json_t **ret) {
        _cleanup_(json_decrefp) json_t *reply = NULL, *body = json_object();
        char path[128];
        json_int_t job, next = 0;
        bool tty = isatty(STDOUT_FILENO), shown = false;
        long status;

        if (req->op == PATCH_OP_HISTORY) {
                status = call_hostd("GET", "/v1/patch/history", NULL, &reply);
                if (status != 200)
                        return reply_error(status, reply);
                *ret = TAKE_PTR(reply);
                return 0;
        }
        if (!body)
                return EXIT_FAILED;
        if (req->refresh)
                json_object_set_new(body, "refresh", json_true());
        if (req->expected_plan)
                json_object_set_new(body, "plan", json_string(req->expected_plan));
        if (req->entry_id)
                json_object_set_new(body, "id", json_string(req->entry_id));
        snprintf(path, sizeof(path), "/v1/patch/%s", patch_op_to_string(req->op));
        status = call_hostd("POST", path, body, &reply);
        if (status != 202)
                return reply_error(status, reply);
        job = json_integer_value(json_object_get(reply, "job"));
        for (;;) {
                size_t i;
                json_t *p;

                json_decref(reply);
                reply = NULL;
                /* answered as soon as there is news: a long poll, no sleeping */
                snprintf(path, sizeof(path), "/v1/patch/job?id=%" JSON_INTEGER_FORMAT "&after=%" JSON_INTEGER_FORMAT,
                         job, next);
                status = call_hostd_timeout("GET", path, NULL, &reply, 0);
                if (status != 200)
                        return reply_error(status, reply);
                json_array_foreach(json_object_get(reply, "progress"), i, p) {
                        if (!arg_json)
                                print_progress(p, tty);
                        shown = true;
                }
                next = json_integer_value(json_object_get(reply, "next"));
                if (json_is_true(json_object_get(reply, "finished")))
                        break;
        }
        if (tty && shown && !arg_json)
                printf("\n");
        if (json_is_object(json_object_get(reply, "result"))) {
                *ret = json_incref(json_object_get(reply, "result"));
                return 0;
        }
        fprintf(stderr, "hostctl: hostd: %s\n", json_string_value(json_object_get(reply, "error")));
        return EXIT_FAILED;
}

static int cmd_patch(int argc, char *argv[]) {
        enum {
                ARG_ROOT = 0x100, ARG_STATE_DIR, ARG_REFRESH, ARG_SECURITY_ONLY, ARG_ALLOW, ARG_DENY, ARG_HOLD,
                ARG_MIN_AGE, ARG_PLAN, ARG_ID,
        };
        static const struct option options[] = {
                { "root", required_argument, NULL, ARG_ROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "refresh", no_argument, NULL, ARG_REFRESH },
                { "security-only", no_argument, NULL, ARG_SECURITY_ONLY },
                { "allow", required_argument, NULL, ARG_ALLOW },
                { "deny", required_argument, NULL, ARG_DENY },
                { "hold", required_argument, NULL, ARG_HOLD },
                { "min-age", required_argument, NULL, ARG_MIN_AGE },
                { "plan", required_argument, NULL, ARG_PLAN },
                { "id", required_argument, NULL, ARG_ID },
                {},
        };
        static const char usage[] =
                "hostctl: usage: hostctl patch plan|stage|apply|rollback|history --root DIR [OPTIONS]\n"
                "  --refresh --security-only --allow GLOB --deny GLOB --hold NAME --min-age DURATION\n"
                "  --plan ID (stage, apply) --id TRANSACTION (rollback) --state-dir DIR\n"
                "without --root: through hostd, with its configured root and policy\n";
        const char *allow[33] = {}, *deny[33] = {}, *held[33] = {};
        size_t n_allow = 0, n_deny = 0, n_held = 0;
        PatchRequest req = { .policy = { .allow = allow, .deny = deny, .held = held } };
        _cleanup_(json_decrefp) json_t *result = NULL;
        char err[4096] = "";
        int c, fd;
        pid_t pid;

        if (argc < 2) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        for (req.op = 0; req.op < _PATCH_OP_MAX; req.op++)
                if (STREQ(argv[1], patch_op_to_string(req.op)))
                        break;
        if (req.op == _PATCH_OP_MAX) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        argc--;
        argv++;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROOT:
                        req.root = optarg;
                        break;
                case ARG_STATE_DIR:
                        req.state_dir = optarg;
                        break;
                case ARG_REFRESH:
                        req.refresh = true;
                        break;
                case ARG_SECURITY_ONLY:
                        req.policy.security_only = true;
                        break;
                case ARG_MIN_AGE:
                        if (parse_duration(optarg, &req.policy.min_age_usec) < 0) {
                                fprintf(stderr, "hostctl: --min-age \"%s\": expected a duration such as 90s, 30m, 12h or 3d\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_PLAN:
                        req.expected_plan = optarg;
                        break;
                case ARG_ID:
                        req.entry_id = optarg;
                        break;
                case ARG_ALLOW:
                case ARG_DENY:
                case ARG_HOLD: {
                        const char **list = c == ARG_ALLOW ? allow : c == ARG_DENY ? deny : held;
                        size_t *n = c == ARG_ALLOW ? &n_allow : c == ARG_DENY ? &n_deny : &n_held;
                        if (*n >= 32) {
                                fprintf(stderr, "hostctl: at most 32 of each of --allow, --deny, --hold\n");
                                return EXIT_USAGE;
                        }
                        list[(*n)++] = optarg;
                        break;
                }
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        if (!req.root) {
                /* through hostd, which patches its configured root with its
                 * configured policy */
                if (req.state_dir || n_allow || n_deny || n_held || req.policy.security_only ||
                    req.policy.min_age_usec) {
                        fprintf(stderr, "hostctl: policy options and --state-dir need --root; hostd uses the "
                                        "\"patching\" section of its configuration\n");
                        return EXIT_USAGE;
                }
                int r = patch_via_hostd(&req, &result);
                if (r != 0)
                        return r;
        } else if (req.op == PATCH_OP_HISTORY)
                result = patch_run(&req, -1, err, sizeof(err));
        else {
                int r = patch_worker_start(&req, &pid, &fd);
                if (r < 0) {
                        fprintf(stderr, "hostctl: cannot start the patch worker: %s\n", strerror(-r));
                        return EXIT_FAILED;
                }
                result = read_worker(fd, pid, !arg_json, err, sizeof(err));
        }
        if (!result) {
                fprintf(stderr, "hostctl: %s: %s\n", req.root ? req.root : "hostd", err);
                return EXIT_FAILED;
        }
        if (arg_json && req.op == PATCH_OP_PLAN)
                return print_json(json_object_get(result, "plan"));
        if (arg_json)
                return print_json(result) == 0 && (req.op != PATCH_OP_STAGE ||
                                                   json_is_true(json_object_get(json_object_get(result, "stage"), "complete")))
                               ? 0
                               : EXIT_FAILED;

        switch (req.op) {
        case PATCH_OP_PLAN:
                print_plan(json_object_get(result, "plan"));
                return 0;
        case PATCH_OP_STAGE: {
                json_t *stage = json_object_get(result, "stage");
                print_fetched("apply", json_object_get(stage, "apply"));
                print_fetched("rollback", json_object_get(stage, "rollback"));
                printf("\nplan %.12s: %s, %s\n", json_string_value(json_object_get(json_object_get(result, "plan"), "id")),
                       json_is_true(json_object_get(stage, "complete")) ? "staged completely" : "NOT staged completely",
                       json_is_true(json_object_get(stage, "reversible")) ? "reversible" :
                                                                            "NOT reversible (see the rollback lines)");
                return json_is_true(json_object_get(stage, "complete")) ? 0 : EXIT_FAILED;
        }
        case PATCH_OP_APPLY:
                if (json_is_null(json_object_get(result, "entry"))) {
                        printf("nothing to apply: the plan includes no update\n");
                        return 0;
                }
                print_entry(json_object_get(result, "entry"));
                print_reboot(json_object_get(result, "reboot"));
                return 0;
        case PATCH_OP_ROLLBACK:
                print_entry(json_object_get(result, "entry"));
                print_reboot(json_object_get(result, "reboot"));
                return 0;
        case PATCH_OP_HISTORY:
                print_history(json_object_get(result, "entries"));
                return 0;
        default:
                return EXIT_FAILED;
        }
}

/* ---- hostctl wave ----------------------------------------------------- */

static void print_wave(const json_t *reply) {
        const json_t *w = json_object_get(reply, "wave"), *n;
        const char *blocked = json_string_value(json_object_get(reply, "blocked"));
        uint64_t now = clock_usec(CLOCK_REALTIME);
        size_t i;

        if (!json_is_object(w)) {
                printf("no wave\n");
                return;
        }
        uint64_t started = (uint64_t) json_integer_value(json_object_get(w, "started"));
        char took[32] = "";
        if (started && now > started)
                format_duration((json_int_t) ((now - started) / 1000000), took, sizeof(took));
        printf("wave %s: %s%s%s%s%s%s\n", str(w, "id"), str(w, "status"),
               json_string_length(json_object_get(w, "reason")) ? ": " : "",
               json_string_length(json_object_get(w, "reason")) ? str(w, "reason") : "", took[0] ? " (started " : "",
               took, took[0] ? " ago)" : "");
        printf("max unavailable %lld, most drained at once %lld, on failure: %s\n",
               (long long) json_integer_value(json_object_get(w, "max_unavailable")),
               (long long) json_integer_value(json_object_get(w, "max_held")),
               json_string_value(json_object_get(w, "on_failure")) ?: "halt");
        if (blocked && *blocked)
                printf("waiting: %s\n", blocked);
        printf("\n%-24s %-8s %-11s %-9s %s\n", "NODE", "ROLE", "STEP", "ELAPSED", "RESULT");
        json_array_foreach(json_object_get(w, "nodes"), i, n) {
                char elapsed[32] = "-";
                const char *step = str(n, "step");
                uint64_t since = (uint64_t) json_integer_value(json_object_get(n, "since"));
                if (!STREQ(step, "pending") && !STREQ(step, "done") && !STREQ(step, "failed") && since && now > since)
                        format_duration((json_int_t) ((now - since) / 1000000), elapsed, sizeof(elapsed));
                printf("%-24s %-8s %-11s %-9s %s%s\n", str(n, "hostname"),
                       json_is_true(json_object_get(n, "manager")) ? "manager" : "worker", step, elapsed,
                       json_is_true(json_object_get(n, "canary")) ? "(canary) " : "", str(n, "message"));
        }
}

/* One row per node of the Swarm, from a manager's hostd. */
static int posture_cluster(void) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *n, *counts;
        long status;
        size_t i;

        status = call_hostd("GET", "/v1/posture/cluster", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                print_json(reply);
        else {
                printf("%-24s %-8s %-7s %-8s %5s %5s %7s  %s\n", "NODE", "ROLE", "STATE", "POSTURE", "PASS", "FAIL",
                       "AGE", "FAILING");
                json_array_foreach(json_object_get(reply, "nodes"), i, n) {
                        const json_t *s = json_object_get(n, "summary"), *id;
                        char age[32] = "-", failing[512] = "", pass[16] = "-", fail[16] = "-";
                        size_t k;

                        if (s) {
                                snprintf(pass, sizeof(pass), "%lld", (long long) json_integer_value(json_object_get(s, "pass")));
                                snprintf(fail, sizeof(fail), "%lld", (long long) json_integer_value(json_object_get(s, "fail")));
                        }
                        if (json_is_integer(json_object_get(n, "age_seconds")))
                                format_duration(json_integer_value(json_object_get(n, "age_seconds")), age, sizeof(age));
                        json_array_foreach(json_object_get(s, "failing"), k, id)
                                text_append(failing, sizeof(failing), ", ", "%s", json_string_value(id));
                        const char *st = str(n, "status");
                        printf("%-24s %-8s %-7s %-8s %5s %5s %7s  %s\n", str(n, "hostname"), str(n, "role"),
                               str(n, "state"), STREQ(st, "pass") ? "pass" : STREQ(st, "fail") ? "FAIL" : st, pass, fail,
                               age, failing);
                }
                counts = json_object_get(reply, "counts");
                printf("\n%lld pass, %lld fail, %lld stale, %lld missing\n",
                       (long long) json_integer_value(json_object_get(counts, "pass")),
                       (long long) json_integer_value(json_object_get(counts, "fail")),
                       (long long) json_integer_value(json_object_get(counts, "stale")),
                       (long long) json_integer_value(json_object_get(counts, "missing")));
        }
        /* compliant only when every node reported, recently, and passes */
        return json_is_true(json_object_get(reply, "compliant")) ? 0 : EXIT_FAILED;
}

static int cmd_posture(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *checks, *c, *summary;
        long status;
        size_t i;

        if (argc == 2 && STREQ(argv[1], "--cluster"))
                return posture_cluster();
        if (argc == 2 && STREQ(argv[1], "--prometheus")) {
                /* the metrics as hostd serves them to a scraper */
                Buffer text = {};
                status = http_call("GET", "/v1/metrics", NULL, 600, &text);
                if (status < 0)
                        return EXIT_UNREACHABLE;
                fwrite(text.data ? text.data : "", 1, text.size, stdout);
                free(text.data);
                return status == 200 ? 0 : EXIT_FAILED;
        }
        if (argc != 1) {
                fputs("hostctl: usage: hostctl posture [--json | --prometheus | --cluster]\n", stderr);
                return EXIT_USAGE;
        }
        status = call_hostd("GET", "/v1/posture", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        checks = json_object_get(reply, "checks");
        summary = json_object_get(reply, "summary");
        if (arg_json)
                print_json(reply);
        else {
                printf("%-24s %-15s %-10s %s\n", "CHECK", "STATUS", "CIS", "EVIDENCE");
                json_array_foreach(checks, i, c) {
                        const char *st = str(c, "status");
                        printf("%-24s %-15s %-10s %s\n", str(c, "id"), STREQ(st, "fail") ? "FAIL" : st,
                               json_string_value(json_object_get(c, "cis")) ?: "-", str(c, "evidence"));
                        if (STREQ(st, "fail") && *str(c, "remediation"))
                                printf("%-24s %-15s %-10s -> %s\n", "", "", "", str(c, "remediation"));
                }
                printf("\n%lld pass, %lld fail, %lld warn, %lld not applicable\n",
                       (long long) json_integer_value(json_object_get(summary, "pass")),
                       (long long) json_integer_value(json_object_get(summary, "fail")),
                       (long long) json_integer_value(json_object_get(summary, "warn")),
                       (long long) json_integer_value(json_object_get(summary, "not-applicable")));
        }
        /* a compliance check for scripts: 1 when any check failed */
        return json_is_true(json_object_get(reply, "compliant")) ? 0 : EXIT_FAILED;
}

static int cmd_changes(int argc, char *argv[]) {
        enum { ARG_SINCE = 0x100, ARG_KIND, ARG_LIMIT };
        static const struct option options[] = {
                { "since", required_argument, NULL, ARG_SINCE },
                { "kind", required_argument, NULL, ARG_KIND },
                { "limit", required_argument, NULL, ARG_LIMIT },
                {},
        };
        _cleanup_(json_decrefp) json_t *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *kind = NULL;
        uint64_t since = 0;
        unsigned long limit = 0;
        const json_t *rec, *damaged;
        char *end;
        long status;
        size_t i;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_SINCE:
                        if (change_since_parse(optarg, clock_usec(CLOCK_REALTIME), &since) < 0) {
                                fprintf(stderr, "hostctl: --since: \"%s\" is not a time (YYYY-MM-DD[ HH:MM[:SS]][Z], "
                                                "@EPOCH, today, yesterday, or an age such as 2h or 7d)\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_KIND:
                        if (change_kind_from_string(optarg) < 0) {
                                fprintf(stderr, "hostctl: --kind: \"%s\" is not a kind of change; one of:", optarg);
                                for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++)
                                        fprintf(stderr, " %s", change_kind_to_string(k));
                                fputc('\n', stderr);
                                return EXIT_USAGE;
                        }
                        kind = optarg;
                        break;
                case ARG_LIMIT:
                        errno = 0;
                        limit = strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || *optarg == '-') {
                                fprintf(stderr, "hostctl: --limit: \"%s\" is not a count\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                fputs("hostctl: usage: hostctl changes [--since TIME] [--kind KIND] [--limit N]\n", stderr);
                return EXIT_USAGE;
        }
        if (asprintf(&path, "/v1/changes?since=%llu&limit=%lu%s%s", (unsigned long long) since, limit,
                     kind ? "&kind=" : "", kind ? kind : "") < 0) {
                path = NULL;
                return EXIT_FAILED;
        }
        status = call_hostd("GET", path, NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        damaged = json_object_get(reply, "damaged");
        json_array_foreach(damaged, i, rec)
                fprintf(stderr, "hostctl: %s:%lld: skipped, not a change record: %s\n", str(rec, "file"),
                        (long long) json_integer_value(json_object_get(rec, "line")), str(rec, "error"));
        if (arg_json)
                return print_json(reply);
        printf("%-5s %-19s %-22s %s\n", "SEQ", "TIME", "KIND", "MESSAGE");
        json_array_foreach(json_object_get(reply, "changes"), i, rec) {
                time_t t = (time_t) (json_integer_value(json_object_get(rec, "time_usec")) / 1000000);
                char when[32] = "-";
                struct tm tm;

                if (localtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                printf("%-5lld %-19s %-22s %s\n", (long long) json_integer_value(json_object_get(rec, "seq")), when,
                       str(rec, "kind"), str(rec, "message"));
        }
        return 0;
}

static int cmd_wave(int argc, char *argv[]) {
        enum { ARG_MAX_UNAVAILABLE = 0x100, ARG_SOAK, ARG_DEADLINE, ARG_LABEL, ARG_CANARY, ARG_REASON, ARG_ON_FAILURE };
        static const struct option options[] = {
                { "max-unavailable", required_argument, NULL, ARG_MAX_UNAVAILABLE },
                { "soak", required_argument, NULL, ARG_SOAK },
                { "deadline", required_argument, NULL, ARG_DEADLINE },
                { "label", required_argument, NULL, ARG_LABEL },
                { "canary", required_argument, NULL, ARG_CANARY },
                { "reason", required_argument, NULL, ARG_REASON },
                { "on-failure", required_argument, NULL, ARG_ON_FAILURE },
                {},
        };
        static const char usage[] =
                "hostctl: usage: hostctl wave start [--max-unavailable N] [--soak DURATION] [--deadline DURATION]\n"
                "                              [--label KEY=VALUE] [--canary NODE]... [--on-failure halt|continue]\n"
                "       hostctl wave status|watch\n"
                "       hostctl wave pause|abort [--reason TEXT]\n"
                "       hostctl wave resume\n";
        _cleanup_(json_decrefp) json_t *body = json_object(), *canaries = json_array(), *reply = NULL;
        const char *verb;
        long status;
        int c;

        if (argc < 2 || !body || !canaries) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        verb = argv[1];
        argc--;
        argv++;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                uint64_t usec;
                char *end;
                switch (c) {
                case ARG_MAX_UNAVAILABLE: {
                        long v = strtol(optarg, &end, 10);
                        if (*end || v < 1 || v > 1024) {
                                fprintf(stderr, "hostctl: --max-unavailable: expected 1..1024\n");
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, "max_unavailable", json_integer(v));
                        break;
                }
                case ARG_SOAK:
                case ARG_DEADLINE:
                        if (parse_duration(optarg, &usec) < 0) {
                                fprintf(stderr, "hostctl: %s \"%s\": expected a duration such as 90s, 30m or 2h\n",
                                        c == ARG_SOAK ? "--soak" : "--deadline", optarg);
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, c == ARG_SOAK ? "soak_seconds" : "deadline_seconds",
                                            json_integer((json_int_t) (usec / 1000000)));
                        break;
                case ARG_LABEL:
                        json_object_set_new(body, "label", json_string(optarg));
                        break;
                case ARG_CANARY:
                        json_array_append_new(canaries, json_string(optarg));
                        break;
                case ARG_REASON:
                        json_object_set_new(body, "reason", json_string(optarg));
                        break;
                case ARG_ON_FAILURE:
                        if (wave_on_failure_from_string(optarg) < 0) {
                                fprintf(stderr, "hostctl: --on-failure \"%s\": expected halt or continue\n", optarg);
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, "on_failure", json_string(optarg));
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        if (json_array_size(canaries) > 0)
                json_object_set(body, "canaries", canaries);

        if (STREQ(verb, "start") || STREQ(verb, "pause") || STREQ(verb, "resume") || STREQ(verb, "abort")) {
                char path[64];
                bool start = STREQ(verb, "start");
                if (!start && (json_object_size(body) > (json_object_get(body, "reason") ? 1u : 0u) ||
                               (STREQ(verb, "resume") && json_object_get(body, "reason")))) {
                        fputs(usage, stderr);
                        return EXIT_USAGE;
                }
                snprintf(path, sizeof(path), "/v1/wave/%s", verb);
                status = call_hostd("POST", path, body, &reply);
                if (status != 200)
                        return reply_error(status, reply);
                if (arg_json)
                        return print_json(reply);
                print_wave(reply);
                return 0;
        }
        if (json_object_size(body) > 0) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        if (STREQ(verb, "status")) {
                status = call_hostd("GET", "/v1/wave", NULL, &reply);
                if (status != 200)
                        return reply_error(status, reply);
                if (arg_json)
                        return print_json(reply);
                print_wave(reply);
                return 0;
        }
        if (STREQ(verb, "watch")) {
                bool tty = isatty(STDOUT_FILENO);
                json_int_t version = 0;
                for (bool first = true;; first = false) {
                        char path[64];
                        /* the first read at once; then each answer comes when the
                         * stored wave may have changed (a long poll) */
                        if (first)
                                snprintf(path, sizeof(path), "/v1/wave");
                        else
                                snprintf(path, sizeof(path), "/v1/wave?wait=%" JSON_INTEGER_FORMAT, version);
                        json_decref(reply);
                        reply = NULL;
                        status = call_hostd_timeout("GET", path, NULL, &reply, 0);
                        if (status != 200)
                                return reply_error(status, reply);
                        version = json_integer_value(json_object_get(reply, "version"));
                        if (arg_json) {
                                char *text = json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS);
                                if (text)
                                        puts(text);
                                free(text);
                        } else {
                                if (tty)
                                        printf("\033[H\033[2J");
                                print_wave(reply);
                                if (!tty)
                                        printf("\n");
                        }
                        fflush(stdout);
                        const char *st = json_string_value(json_object_get(json_object_get(reply, "wave"), "status"));
                        json_int_t finished = json_integer_value(json_object_get(json_object_get(reply, "wave"), "finished"));
                        if (!st || (finished && !STREQ(st, "paused")))
                                return st && STREQ(st, "done") ? 0 : EXIT_FAILED;
                }
        }
        fputs(usage, stderr);
        return EXIT_USAGE;
}

static void help(void) {
        printf("Usage: hostctl [OPTIONS] COMMAND ...\n\n"
               "Talks to hostd, the Docker Swarm node hardening daemon.\n\n"
               "Commands:\n"
               "  status                 what hostd knows of this node\n"
               "  reload                 re-read hostd's configuration\n"
               "  config check [FILE]    validate a configuration (no daemon needed)\n"
               "  firewall show          live table vs desired, counters per rule\n"
               "  firewall render [--config FILE]\n"
               "                         the nftables table hostd would apply, as nft text\n"
               "  firewall apply [--confirm-timeout SECONDS]\n"
               "                         apply the configuration file's firewall now; with a\n"
               "                         timeout, roll back by itself unless confirmed\n"
               "  firewall confirm       keep the pending apply\n"
               "  firewall rollback      restore the table live before the pending apply\n"
               "  seccomp check FILE...  validate Docker-format profiles; compile and load them\n"
               "                         (no daemon needed)\n"
               "  seccomp compile FILE [--caps LIST] [--arch ARCH] [--kernel X.Y] [--pfc]\n"
               "                         the filter runc would build: rule and BPF counts\n"
               "  seccomp run FILE [--caps LIST] -- COMMAND...\n"
               "                         run a command under the profile\n"
               "  seccomp install [FILE] install a profile as dockerd's default (default: the\n"
               "                         shipped hardened profile)\n"
               "  seccomp audit          every running container: under a seccomp filter?\n"
               "                         (exit 1 when one is not)\n"
               "  patch plan --root DIR [--refresh] [--security-only] [--allow GLOB]\n"
               "             [--deny GLOB] [--hold NAME] [--min-age DURATION]\n"
               "                         the upgrades of a root, filtered, with the plan ID\n"
               "  patch stage --root DIR [POLICY OPTIONS] [--plan ID]\n"
               "                         download and verify the plan and what undoing it needs\n"
               "  patch apply --root DIR [POLICY OPTIONS] [--plan ID]\n"
               "                         apply the plan, journalled; rolled back if it fails\n"
               "  patch rollback --root DIR [--id TRANSACTION]\n"
               "                         return to the set recorded before a transaction\n"
               "  patch history --root DIR\n"
               "                         the journalled transactions\n"
               "  wave start [--max-unavailable N] [--soak DURATION] [--deadline DURATION]\n"
               "             [--label KEY=VALUE] [--canary NODE]... [--on-failure halt|continue]\n"
               "                         start a rolling patch wave (on a manager)\n"
               "  wave status | watch    the wave's nodes: step, elapsed time, result\n"
               "  wave pause | resume | abort [--reason TEXT]\n"
               "  posture [--prometheus] the host's compliance checks; exit 1 when one fails\n"
               "  posture --cluster      one row per Swarm node (on a manager); exit 1 unless\n"
               "                         every node reported recently and passes\n"
               "  changes [--since TIME] [--kind KIND] [--limit N]\n"
               "                         the changes hostd made, oldest first\n\n"
               "Options:\n"
               "  --socket PATH          hostd's control socket (default %s)\n"
               "  --json                 print JSON instead of tables\n"
               "  --version              print the version\n"
               "  -h, --help             this help\n\n"
               "Exit codes: 0 success, 1 failure reported, 2 usage, 3 hostd unreachable.\n",
               CONTROL_DEFAULT_SOCKET);
}

int main(int argc, char *argv[]) {
        enum { ARG_SOCKET = 0x100, ARG_JSON, ARG_VERSION };
        static const struct option options[] = {
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "json", no_argument, NULL, ARG_JSON },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } commands[] = {
                { "status", cmd_status },
                { "reload", cmd_reload },
                { "config", cmd_config },
                { "firewall", cmd_firewall },
                { "seccomp", cmd_seccomp },
                { "patch", cmd_patch },
                { "wave", cmd_wave },
                { "posture", cmd_posture },
                { "changes", cmd_changes },
        };
        int c, r = EXIT_USAGE;

        setlinebuf(stdout); /* keep tables and errors in order on a terminal or a pipe */
        /* "+" stops at the command, whose own arguments may look like options */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case ARG_SOCKET:
                        arg_socket = optarg;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_VERSION:
                        printf("hostctl %s\n", HOSTD_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }

        /* Options may also follow the command: hostctl status --json */
        for (int i = optind + 1; i < argc; i++) {
                if (STREQ(argv[i], "--"))
                        break; /* the rest is a command of its own (seccomp run) */
                if (STREQ(argv[i], "--json")) {
                        arg_json = true;
                        memmove(argv + i, argv + i + 1, (size_t) (argc - i - 1) * sizeof(char *));
                        argc--;
                        i--;
                } else if (STREQ(argv[i], "--socket") && i + 1 < argc) {
                        arg_socket = argv[i + 1];
                        memmove(argv + i, argv + i + 2, (size_t) (argc - i - 2) * sizeof(char *));
                        argc -= 2;
                        i--;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (STREQ(argv[optind], commands[i].name)) {
                        curl_global_init(CURL_GLOBAL_NOTHING);
                        r = commands[i].run(argc - optind, argv + optind);
                        curl_global_cleanup();
                        return r;
                }
        fprintf(stderr, "hostctl: unknown command '%s' (see hostctl --help)\n", argv[optind]);
        return EXIT_USAGE;
}
