/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control API's requests, read apart from the daemon (hostd/api-routes.c
 * acts on them). Each function takes one route's request body, the JSON
 * object control_parse_body made of it (NULL for an empty body), or its
 * query values (NULL when absent), and fills its results only on success.
 * A request that is not one the route takes is -EINVAL, with the message
 * the route answers 400 with in err. Strings in the results point into the
 * body or the query values. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostd/patch-worker.h"
#include "patching/wave.h"

#define API_WAVE_MAX_CANARIES 32

/* A query value that is a count, an index or a version: one or more decimal
 * digits and nothing else (no sign, no space), at most UINT64_MAX. false
 * for NULL or anything else, with *ret unchanged. The node protocol's
 * ?wait= is read with it too. */
bool api_parse_u64(const char *s, uint64_t *ret);

/* POST /v1/firewall/apply: {} or {"confirm_timeout": 1..3600}; *ret_seconds
 * is 0 without it (no rollback timer). -EINVAL for a timeout that is not an
 * integer in range or any other member. */
int api_firewall_apply_parse(const json_t *body, unsigned *ret_seconds, char *err, size_t err_size);

/* POST /v1/seccomp/install: {"profile": "/absolute/path"} and nothing else.
 * -EINVAL for a missing or relative profile, or another member. */
int api_seccomp_install_parse(const json_t *body, const char **ret_profile, char *err, size_t err_size);

/* What a patch request's body asks; NULL/false when absent. */
typedef struct ApiPatchBody {
        bool refresh;     /* plan, stage, apply */
        const char *plan; /* stage, apply: the plan ID expected */
        const char *id;   /* rollback: the entry to roll back */
} ApiPatchBody;

/* POST /v1/patch/{plan,stage,apply,rollback} (op PATCH_OP_PLAN ..
 * PATCH_OP_ROLLBACK): "refresh": boolean (not rollback), "plan": string
 * (stage, apply), "id": string (rollback), each optional. -EINVAL naming
 * the first member that is not one of op's or not of its type, with the
 * members op takes (or for an op that is none of these). */
int api_patch_parse(PatchOp op, const json_t *body, ApiPatchBody *ret, char *err, size_t err_size);

/* GET /v1/patch/job?id=JOB[&after=INDEX]: id required, after optional (0),
 * each below UINT32_MAX (api_parse_u64). -EINVAL otherwise. */
int api_patch_job_query_parse(const char *id, const char *after, unsigned *ret_id, size_t *ret_after, char *err,
                              size_t err_size);

/* GET /v1/changes?since=USEC&limit=N&kind=KIND, each optional: since and
 * limit 0 when absent (from the start; all), kind NULL (any). */
typedef struct ApiChangesQuery {
        uint64_t since_usec;
        size_t limit;
        const char *kind;
} ApiChangesQuery;

/* -EINVAL for a since or limit that is not api_parse_u64's, or a kind that
 * change_kind_from_string does not know. */
int api_changes_query_parse(const char *since, const char *limit, const char *kind, ApiChangesQuery *ret,
                            char *err, size_t err_size);

/* POST /v1/wave/start: {"max_unavailable": 1..WAVE_MAX_NODES,
 * "soak_seconds": 0..7 days, "deadline_seconds": 1..2 days, "label":
 * "key=value", "canaries": [up to 32 strings], "on_failure": "halt" |
 * "continue", "max_errors": N | "P%", "windows": ["Mon-Fri 22:00 4h", ...],
 * "blackouts": ["2026-12-24", ...], "zone": "Europe/Berlin", "any_version":
 * bool}, each optional (0/NULL: the wave's defaults; the zone: UTC;
 * ret->approve unless any_version is true: the caller adds the plans). On success
 * ret->canaries is canaries (NULL-terminated, filled here) when the body
 * has them, else NULL; ret->schedule is schedule (filled here) when it has
 * windows or blackouts, else NULL. -EINVAL naming the first member at
 * fault: unknown, out of range or of the wrong type. Whether the zone
 * exists is the coordinator's to say (it reads it). */
int api_wave_start_parse(const json_t *body, const char *canaries[API_WAVE_MAX_CANARIES + 1], WaveSchedule *schedule,
                         WaveOptions *ret, char *err, size_t err_size);

/* POST /v1/wave/{pause,resume,abort}: {} or {"reason": string}; *ret_reason
 * NULL without one. -EINVAL for a reason that is not a string or another
 * member. */
int api_wave_control_parse(const json_t *body, const char **ret_reason, char *err, size_t err_size);

/* GET /v1/wave[?wait=VERSION]: *ret_watch says whether wait was given and
 * *ret_version is its value (0 without it). -EINVAL for a wait that is not
 * api_parse_u64's. */
int api_wave_query_parse(const char *wait, bool *ret_watch, uint64_t *ret_version, char *err, size_t err_size);
