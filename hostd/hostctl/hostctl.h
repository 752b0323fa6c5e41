/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* hostctl, the command-line client of hostd's control API (hostctl(8)):
 * one file per verb, each with its entry point below; call.c talks to hostd
 * over its control socket and holds what the verbs print with. Exit codes:
 *   0  success
 *   1  the operation failed or found a problem (invalid config, an error
 *      answered by hostd)
 *   2  usage error
 *   3  hostd could not be reached */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostd/patch-protocol.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

/* the global options, parsed by main.c */
extern const char *arg_socket; /* --socket: hostd's control socket */
extern bool arg_json;          /* --json: JSON instead of tables */

/* One call to hostd: the HTTP status (> 0), or -1 when hostd cannot be
 * reached or answers what is not JSON (said on stderr); *ret gets the reply.
 * timeout_sec 0 waits as long as hostd keeps the connection (a long poll). */
long call_hostd(const char *method, const char *path, const json_t *body, json_t **ret);
long call_hostd_timeout(const char *method, const char *path, const json_t *body, json_t **ret, long timeout_sec);
/* The same call, the body as it came (for what is not JSON: the metrics'
 * text) in *response: free its data. */
typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;
long call_hostd_raw(const char *method, const char *path, const json_t *body, long timeout_sec, Buffer *response);
/* The error hostd answered, on stderr; the exit code for it. */
int reply_error(long status, const json_t *reply);
int print_json(const json_t *j);
/* "1d 4h 5m", "2h 3m 10s", "5m 10s", "42s" */
void format_duration(json_int_t s, char *buf, size_t size);
/* the string member KEY of O, or "-" */
const char *str(const json_t *o, const char *key);
/* "90", "90s", "30m", "12h", "3d" into microseconds */
int parse_duration(const char *s, uint64_t *ret);

/* The patch verb's request and the lists it points into. */
typedef struct PatchArgs {
        PatchRequest req;
        const char *allow[33], *deny[33], *held[33];
        size_t n_allow, n_deny, n_held;
} PatchArgs;

/* The request from the verb's arguments: ARGV[1] is the operation (plan,
 * stage, apply, rollback, history). 0, or the exit code of a usage error
 * (said). */
int patch_args_parse(int argc, char *argv[], PatchArgs *a);

/* the verbs: ARGV[0] is the verb; an exit code */
int cmd_status(int argc, char *argv[]);
int cmd_reload(int argc, char *argv[]);
int cmd_config(int argc, char *argv[]);
int cmd_firewall(int argc, char *argv[]);
int cmd_seccomp(int argc, char *argv[]);
int cmd_patch(int argc, char *argv[]);
int cmd_wave(int argc, char *argv[]);
int cmd_posture(int argc, char *argv[]);
int cmd_changes(int argc, char *argv[]);
