/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl config check. */

#include "firewall/build.h"
#include "hostd/hostctl/hostctl.h"

int cmd_config(int argc, char *argv[]) {
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
