/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for hostd.json validation: any input either yields a
 * config or a located error, never a crash or a leak. */
#include <stdint.h>

#include "policy/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        HostdConfig *config = NULL;
        ConfigError error = {};
        char text[600];
        int r;

        r = config_parse((const char *) data, size, &config, &error);
        if (r >= 0) {
                if (!config || config->docker_request_timeout_sec < 1 ||
                    config->swarm_refresh_sec < 1 || !config->state_directory ||
                    config->state_directory[0] != '/')
                        __builtin_trap();
                config_free(config);
        } else {
                if (config || error.message[0] == 0)
                        __builtin_trap();
                located_error_format(&error, "fuzz.json", text, sizeof(text));
        }
        return 0;
}
