/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl firewall show | render | apply | confirm | rollback. */

#include "firewall/build.h"
#include "hostd/hostctl/hostctl.h"

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
        const json_t *live, *rules, *rule, *pending, *held;
        long status;
        size_t i;

        status = call_hostd("GET", "/v1/firewall", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);

        held = json_object_get(reply, "held");
        if (json_is_object(held))
                printf("%-12s %s (rolled back: %s)\n", "HELD", str(held, "message"), str(held, "reason"));
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

int cmd_firewall(int argc, char *argv[]) {
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
