/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* hostd.json: the one configuration file, in the style of Docker's
 * daemon.json. Validation is strict: unknown keys, wrong types and values
 * out of range are errors that name the key path and line:column. The empty
 * object `{}` is valid and means every default.
 *
 * Keys (all optional):
 *   "docker": {
 *     "socket": "/var/run/docker.sock"   absolute path or unix:// URL
 *     "request-timeout-seconds": 30      1..3600, for ordinary API calls
 *   },
 *   "swarm": {
 *     "refresh-seconds": 10              1..3600; how often leadership is
 *                                        re-read (Swarm emits no event when
 *                                        the Raft leader moves)
 *   },
 *   "log-level": "info"                  error|warning|notice|info|debug
 *   "state-directory": "/var/lib/hostd"  absolute path
 */

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"

#define CONFIG_DEFAULT_PATH "/etc/hostd/hostd.json"
#define CONFIG_MAX_SIZE (1024 * 1024)

typedef struct ConfigError {
        unsigned line, column; /* 0 when the error has no position (I/O) */
        char path[128];        /* key path such as "docker.socket", or "" */
        char message[256];
} ConfigError;

typedef struct HostdConfig {
        char *docker_socket; /* NULL: from $DOCKER_HOST, else the default */
        unsigned docker_request_timeout_sec;
        unsigned swarm_refresh_sec;
        int log_level; /* syslog priority, -1 when not set */
        char *state_directory;
} HostdConfig;

/* Parses and validates a configuration document. Returns 0 and a new config,
 * or -EINVAL (bad JSON or bad value), -E2BIG (too deep/large), -ENOMEM, with
 * *error describing the first problem. */
int config_parse(const char *text, size_t length, HostdConfig **ret, ConfigError *error);

/* Reads and parses a file. I/O errors return -errno with error->message set. */
int config_load(const char *filename, HostdConfig **ret, ConfigError *error);

HostdConfig *config_free(HostdConfig *config);
DEFINE_CLEANUP_FUNC(HostdConfig, config_free);

/* Formats "FILE:LINE:COL: PATH: MESSAGE" (parts omitted when absent). */
void config_error_format(const ConfigError *error, const char *filename,
                         char *buffer, size_t size);

/* The Docker socket to use: the config's, else $DOCKER_HOST (unix:// only),
 * else /var/run/docker.sock. Returns a newly allocated path, or -EINVAL with
 * a message in *why (for example a tcp:// DOCKER_HOST). */
int config_docker_socket(const HostdConfig *config, const char *docker_host_env,
                         char **ret, char *why, size_t why_size);
