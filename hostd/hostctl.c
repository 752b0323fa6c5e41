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

#include "firewall/build.h"
#include "hostd/control.h"
#include "policy/config.h"

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
 * reached (message printed). *ret gets the parsed reply. */
static long call_hostd(const char *method, const char *path, const json_t *body, json_t **ret) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_free_ char *url = NULL, *request = NULL;
        struct curl_slist *headers = NULL;
        Buffer response = {};
        char error[CURL_ERROR_SIZE] = "";
        json_error_t jerr;
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
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
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
                free(response.data);
                return -1;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
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
                config_error_format(&error, file, message, sizeof(message));
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
                config_error_format(&error, file, message, sizeof(message));
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

static int cmd_seccomp(int argc, char *argv[]) {
        if (argc == 2 && STREQ(argv[1], "audit"))
                return cmd_seccomp_audit();
        fprintf(stderr, "hostctl: usage: hostctl seccomp audit\n");
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
               "  seccomp audit          every running container: under a seccomp filter?\n"
               "                         (exit 1 when one is not)\n\n"
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
        };
        int c, r = EXIT_USAGE;

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
