/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl: the global options, and the verb that runs (hostctl.h). */

#include <getopt.h>

#include "hostd/api-server.h"
#include "hostd/hostctl/hostctl.h"

const char *arg_socket = CONTROL_DEFAULT_SOCKET;
bool arg_json = false;

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
        int c;

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
                        return commands[i].run(argc - optind, argv + optind);
                }
        fprintf(stderr, "hostctl: unknown command '%s' (see hostctl --help)\n", argv[optind]);
        return EXIT_USAGE;
}
