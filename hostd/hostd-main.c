/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostd: hardens and patches a Docker Swarm node. See hostd(8). */

#include <curl/curl.h>
#include <getopt.h>

#include "hostd/api-routes.h"
#include "hostd/daemon.h"
#include "hostd/firewall-manager.h"
#include "hostd/log.h"
#include "policy/config.h"

static const char *arg_config = CONFIG_DEFAULT_PATH;
static const char *arg_socket = CONTROL_DEFAULT_SOCKET;
static bool arg_oneshot = false;

static void help(void) {
        printf("Usage: hostd [OPTIONS]\n\n"
               "Keeps this Docker Swarm node in its hardened posture.\n\n"
               "  --config FILE        configuration (default %s)\n"
               "  --socket PATH        control API socket (default %s)\n"
               "  --log-target TARGET  auto, journal or stderr (default auto)\n"
               "  --log-level LEVEL    error, warning, notice, info or debug\n"
               "  --oneshot            apply the policy (firewall) once and exit, for\n"
               "                       first boot before Docker starts\n"
               "  --version            print the version and exit\n"
               "  -h, --help           this help\n\n"
               "Signals: SIGHUP reloads the configuration; SIGTERM stops.\n",
               CONFIG_DEFAULT_PATH, CONTROL_DEFAULT_SOCKET);
}

/* 0 to run, 1 to exit successfully, <0 on error. */
static int parse_argv(int argc, char *argv[]) {
        enum { ARG_CONFIG = 0x100, ARG_SOCKET, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_VERSION, ARG_ONESHOT };
        static const struct option options[] = {
                { "config", required_argument, NULL, ARG_CONFIG },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "version", no_argument, NULL, ARG_VERSION },
                { "oneshot", no_argument, NULL, ARG_ONESHOT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_SOCKET:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "hostd: --socket needs an absolute path\n");
                                return -EINVAL;
                        }
                        arg_socket = optarg;
                        break;
                case ARG_LOG_TARGET:
                        if (STREQ(optarg, "auto"))
                                arg_log_target = LOG_TARGET_AUTO;
                        else if (STREQ(optarg, "journal"))
                                arg_log_target = LOG_TARGET_JOURNAL;
                        else if (STREQ(optarg, "stderr"))
                                arg_log_target = LOG_TARGET_STDERR;
                        else {
                                fprintf(stderr, "hostd: unknown log target '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_LOG_LEVEL: {
                        int l = log_level_from_string(optarg);
                        if (l < 0) {
                                fprintf(stderr, "hostd: unknown log level '%s'\n", optarg);
                                return -EINVAL;
                        }
                        arg_log_level = l;
                        break;
                }
                case ARG_VERSION:
                        printf("hostd %s\n", HOSTD_VERSION);
                        return 1;
                case ARG_ONESHOT:
                        arg_oneshot = true;
                        break;
                case 'h':
                        help();
                        return 1;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "hostd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* Applies the firewall from the configuration and the Swarm peers saved by
 * the last run, then exits: the node is protected from boot, before Docker
 * and the daemon are up. A configuration that cannot be read leaves the
 * last good policy in force, from the state directory systemd gives
 * ($STATE_DIRECTORY) or the default one, and exits non-zero. */
static int run_oneshot(void) {
        _cleanup_(config_freep) HostdConfig *config = NULL;
        _cleanup_(change_log_freep) ChangeLog *changes = NULL;
        const char *state_directory;
        ConfigError error;
        char invalid[700] = "", message[600], result[1400];
        int r;

        r = config_load(arg_config, &config, &error);
        if (r < 0) {
                located_error_format(&error, arg_config, message, sizeof(message));
                snprintf(invalid, sizeof(invalid), "invalid configuration: %s", message);
        }
        state_directory = config ? config->state_directory : getenv("STATE_DIRECTORY") ?: "/var/lib/hostd";
        /* systemd's $STATE_DIRECTORY may list several, separated by ':' */
        _cleanup_free_ char *first = strndup(state_directory, strcspn(state_directory, ":"));
        if (!first)
                return -ENOMEM;
        r = change_log_open(first, &changes);
        if (r < 0)
                log_warning_errno(r, "Cannot open the change log under %s", first);
        /* every outcome is logged and recorded there */
        return firewall_boot_apply(config ? &config->firewall : NULL, invalid, first, changes, result,
                                   sizeof(result));
}

int main(int argc, char *argv[]) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : 2;
        log_setup();

        if (arg_oneshot)
                return run_oneshot() < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
                log_error("Cannot initialise libcurl");
                return EXIT_FAILURE;
        }
        r = daemon_new(arg_config, arg_socket, api_dispatch, &d);
        if (r >= 0)
                r = daemon_run(d);
        d = daemon_free(d);
        curl_global_cleanup();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
