/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "common/macro.h"
#include "hostd/api-requests.h"
#include "hostd/change-log.h"

bool api_parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        /* not strtoull: it takes leading space, '+' and '-' (" -5" is
         * 2^64 - 5), which a query value may carry as %20, %2B */
        if (!s || !*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return true;
}

/* Whether every member of body is one of allowed (NULL-terminated);
 * otherwise why names the first that is not. */
static bool body_keys(const json_t *body, const char *const *allowed, char *err, size_t err_size) {
        const char *key;
        const json_t *v;

        json_object_foreach((json_t *) body, key, v) {
                bool ok = false;
                for (const char *const *a = allowed; *a && !ok; a++)
                        ok = STREQ(*a, key);
                if (!ok) {
                        snprintf(err, err_size, "unknown field in body: %s", key);
                        return false;
                }
        }
        return true;
}

int api_firewall_apply_parse(const json_t *body, unsigned *ret_seconds, char *err, size_t err_size) {
        const json_t *timeout = json_object_get(body, "confirm_timeout");
        json_int_t seconds = 0;

        if (timeout) {
                if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
                    json_integer_value(timeout) > 3600) {
                        snprintf(err, err_size, "confirm_timeout: expected an integer 1..3600");
                        return -EINVAL;
                }
                seconds = json_integer_value(timeout);
        }
        if (json_object_size(body) > (timeout ? 1u : 0u)) {
                snprintf(err, err_size, "unknown field in body: only confirm_timeout is accepted");
                return -EINVAL;
        }
        *ret_seconds = (unsigned) seconds;
        return 0;
}

int api_seccomp_install_parse(const json_t *body, const char **ret_profile, char *err, size_t err_size) {
        const json_t *profile = json_object_get(body, "profile");

        if (!json_is_string(profile) || json_string_value(profile)[0] != '/') {
                snprintf(err, err_size, "profile: expected the absolute path of a profile");
                return -EINVAL;
        }
        if (json_object_size(body) != 1) {
                snprintf(err, err_size, "unknown field in body: only profile is accepted");
                return -EINVAL;
        }
        *ret_profile = json_string_value(profile);
        return 0;
}

int api_patch_parse(PatchOp op, const json_t *body, ApiPatchBody *ret, char *err, size_t err_size) {
        const char *key;
        const json_t *v;

        /* POST /v1/patch/NAME takes these; history is a GET */
        if ((unsigned) op > PATCH_OP_ROLLBACK) {
                snprintf(err, err_size, "not a patch request");
                return -EINVAL;
        }
        json_object_foreach((json_t *) body, key, v) {
                bool ok = (STREQ(key, "refresh") && json_is_boolean(v) && op != PATCH_OP_ROLLBACK) ||
                          (STREQ(key, "plan") && json_is_string(v) && (op == PATCH_OP_STAGE || op == PATCH_OP_APPLY)) ||
                          (STREQ(key, "id") && json_is_string(v) && op == PATCH_OP_ROLLBACK);
                if (!ok) {
                        snprintf(err, err_size, "%s: not a field of a patch %s request (%s)", key, patch_op_to_string(op),
                                 op == PATCH_OP_ROLLBACK ? "id: string" :
                                 op == PATCH_OP_PLAN     ? "refresh: boolean" :
                                                           "refresh: boolean, plan: string");
                        return -EINVAL;
                }
        }
        *ret = (ApiPatchBody){
                .refresh = json_is_true(json_object_get(body, "refresh")),
                .plan = json_string_value(json_object_get(body, "plan")),
                .id = json_string_value(json_object_get(body, "id")),
        };
        return 0;
}

/* api_parse_u64's, below UINT32_MAX: a job or progress index */
static bool parse_index(const char *s, uint64_t *ret) {
        uint64_t v;

        if (!api_parse_u64(s, &v) || v >= UINT32_MAX)
                return false;
        *ret = v;
        return true;
}

int api_patch_job_query_parse(const char *id, const char *after, unsigned *ret_id, size_t *ret_after, char *err,
                              size_t err_size) {
        uint64_t i, a = 0;

        if (!parse_index(id, &i) || (after && !parse_index(after, &a))) {
                snprintf(err, err_size, "expected ?id=JOB[&after=INDEX] (non-negative integers)");
                return -EINVAL;
        }
        *ret_id = (unsigned) i;
        *ret_after = (size_t) a;
        return 0;
}

int api_changes_query_parse(const char *since, const char *limit, const char *kind, ApiChangesQuery *ret,
                            char *err, size_t err_size) {
        uint64_t s = 0, l = 0;

        if ((since && !api_parse_u64(since, &s)) || (limit && !api_parse_u64(limit, &l))) {
                snprintf(err, err_size, "expected ?since=USEC&limit=N (non-negative integers)");
                return -EINVAL;
        }
        if (kind && change_kind_from_string(kind) < 0) {
                snprintf(err, err_size, "kind: \"%s\" is not a kind of change", kind);
                return -EINVAL;
        }
        *ret = (ApiChangesQuery){ .since_usec = s, .limit = (size_t) l, .kind = kind };
        return 0;
}

/* body's key, absent or an integer min..max, in *ret (unchanged when
 * absent) */
static int get_integer(const json_t *body, const char *key, json_int_t min, json_int_t max, json_int_t *ret,
                       char *err, size_t err_size) {
        const json_t *v = json_object_get(body, key);

        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
                snprintf(err, err_size, "%s: expected an integer %lld..%lld", key, (long long) min, (long long) max);
                return -EINVAL;
        }
        *ret = json_integer_value(v);
        return 0;
}

/* "windows" or "blackouts": an array of specifications, each parsed */
static int get_specs(const json_t *body, const char *key, size_t max, WaveSchedule *s, char *err, size_t err_size) {
        const json_t *v = json_object_get(body, key), *c;
        char why[192];
        size_t i;

        if (!v)
                return 0;
        if (!json_is_array(v) || json_array_size(v) > max) {
                snprintf(err, err_size, "%s: expected an array of at most %zu strings", key, max);
                return -EINVAL;
        }
        json_array_foreach(v, i, c) {
                const char *spec = json_string_value(c);
                int r;
                if (!spec || strlen(spec) != json_string_length(c)) {
                        snprintf(err, err_size, "%s[%zu]: expected a string", key, i);
                        return -EINVAL;
                }
                r = STREQ(key, "windows") ? wave_window_parse(spec, &s->windows[s->n_windows++], why, sizeof(why)) :
                                            wave_blackout_parse(spec, &s->blackouts[s->n_blackouts++], why, sizeof(why));
                if (r < 0) {
                        snprintf(err, err_size, "%s[%zu]: %s", key, i, why);
                        return -EINVAL;
                }
        }
        return 0;
}

int api_wave_start_parse(const json_t *body, const char *canaries[API_WAVE_MAX_CANARIES + 1], WaveSchedule *schedule,
                         WaveOptions *ret, char *err, size_t err_size) {
        static const char *const keys[] = { "max_unavailable", "soak_seconds", "deadline_seconds", "label",
                                            "canaries", "on_failure", "max_errors", "windows", "blackouts",
                                            "zone", "any_version", "deregistration_seconds", NULL };
        WaveSchedule sched = {};
        json_int_t soak = 0, deadline = 0, deregistration = 0;
        WaveOptions o = {};
        const json_t *v, *c;
        size_t i;

        if (!body_keys(body, keys, err, err_size))
                return -EINVAL;
        if (get_integer(body, "soak_seconds", 0, 7 * 86400, &soak, err, err_size) < 0 ||
            get_integer(body, "deadline_seconds", 1, 2 * 86400, &deadline, err, err_size) < 0 ||
            get_integer(body, "deregistration_seconds", 0, 3600, &deregistration, err, err_size) < 0)
                return -EINVAL;
        o.deregistration_usec = (uint64_t) deregistration * 1000000ULL;
        o.soak_usec = (uint64_t) soak * 1000000ULL;
        o.node_deadline_usec = (uint64_t) deadline * 1000000ULL;
        if ((v = json_object_get(body, "max_unavailable"))) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > WAVE_MAX_NODES) {
                        snprintf(err, err_size, "max_unavailable: expected an integer 1..%d", WAVE_MAX_NODES);
                        return -EINVAL;
                }
                o.max_unavailable = (unsigned) json_integer_value(v);
        }
        if ((v = json_object_get(body, "on_failure"))) {
                int f = wave_on_failure_from_string(json_string_value(v));
                if (f < 0) {
                        snprintf(err, err_size, "on_failure: expected \"halt\" or \"continue\"");
                        return -EINVAL;
                }
                o.on_failure = (WaveOnFailure) f;
        }
        if ((v = json_object_get(body, "max_errors"))) {
                const char *s = json_string_value(v);
                char *end;
                long pct = s ? strtol(s, &end, 10) : 0;

                if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= WAVE_MAX_NODES)
                        o.max_errors = (unsigned) json_integer_value(v);
                else if (s && end != s && STREQ(end, "%") && pct >= 1 && pct <= 100 && s[0] != '+' && s[0] != ' ')
                        o.max_errors_percent = (unsigned) pct;
                else {
                        snprintf(err, err_size, "max_errors: expected an integer 0..%d or a percentage \"1%%\"..\"100%%\"",
                                 WAVE_MAX_NODES);
                        return -EINVAL;
                }
                if (o.on_failure == WAVE_ON_FAILURE_CONTINUE) {
                        snprintf(err, err_size, "max_errors: not with on_failure \"continue\" (no budget: it goes on "
                                 "past every failed node that is healthy)");
                        return -EINVAL;
                }
        }
        if ((v = json_object_get(body, "label"))) {
                if (!json_is_string(v) || !strchr(json_string_value(v), '=')) {
                        snprintf(err, err_size, "label: expected \"key=value\"");
                        return -EINVAL;
                }
                o.label = json_string_value(v);
        }
        if ((v = json_object_get(body, "canaries"))) {
                if (!json_is_array(v) || json_array_size(v) > API_WAVE_MAX_CANARIES) {
                        snprintf(err, err_size, "canaries: expected an array of at most %d node IDs or hostnames",
                                 API_WAVE_MAX_CANARIES);
                        return -EINVAL;
                }
                json_array_foreach(v, i, c)
                        if (!json_is_string(c)) {
                                snprintf(err, err_size, "canaries[%zu]: expected a string", i);
                                return -EINVAL;
                        }
                json_array_foreach(v, i, c)
                        canaries[i] = json_string_value(c);
                canaries[json_array_size(v)] = NULL;
                o.canaries = canaries;
        }
        if (get_specs(body, "windows", WAVE_WINDOWS_MAX, &sched, err, err_size) < 0 ||
            get_specs(body, "blackouts", WAVE_BLACKOUTS_MAX, &sched, err, err_size) < 0)
                return -EINVAL;
        if ((v = json_object_get(body, "zone"))) {
                /* the name's form here; whether the zone exists, where it is read */
                if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= TIMEZONE_NAME_MAX ||
                    strlen(json_string_value(v)) != json_string_length(v)) {
                        snprintf(err, err_size, "zone: expected an IANA time zone name (like \"Europe/Berlin\")");
                        return -EINVAL;
                }
                if (!wave_schedule_active(&sched)) {
                        snprintf(err, err_size, "zone: only with windows or blackouts");
                        return -EINVAL;
                }
        }
        if ((v = json_object_get(body, "any_version")) && !json_is_boolean(v)) {
                snprintf(err, err_size, "any_version: expected true or false");
                return -EINVAL;
        }
        o.approve = !json_is_true(v); /* the approved set, unless asked not to */
        v = json_object_get(body, "zone");
        if (wave_schedule_active(&sched)) {
                snprintf(sched.zone, sizeof(sched.zone), "%s", v ? json_string_value(v) : "UTC");
                *schedule = sched;
                o.schedule = schedule;
        }
        *ret = o;
        return 0;
}

int api_wave_control_parse(const json_t *body, const char **ret_reason, char *err, size_t err_size) {
        static const char *const keys[] = { "reason", NULL };
        const json_t *reason = json_object_get(body, "reason");

        if (!body_keys(body, keys, err, err_size))
                return -EINVAL;
        if (reason && !json_is_string(reason)) {
                snprintf(err, err_size, "reason: expected a string");
                return -EINVAL;
        }
        *ret_reason = json_string_value(reason);
        return 0;
}

int api_wave_query_parse(const char *wait, bool *ret_watch, uint64_t *ret_version, char *err, size_t err_size) {
        uint64_t v = 0;

        if (wait && !api_parse_u64(wait, &v)) {
                snprintf(err, err_size, "wait: expected the version of the last answer");
                return -EINVAL;
        }
        *ret_watch = wait != NULL;
        *ret_version = v;
        return 0;
}
