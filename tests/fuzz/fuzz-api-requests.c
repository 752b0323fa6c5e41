/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the control API's requests (hostd/api-requests.h,
 * and the checks hostd/api-server.c makes before any route sees a call).
 * The first byte chooses the route; the rest is its body, read by
 * control_parse_body as the server reads it, or its query string
 * ("k=v&k=v", %XX decoded, the first value of a key taken, as
 * libmicrohttpd gives them), or for the server's checks
 * "METHOD\nURL\nCONTENT-LENGTH\nCONTENT-TYPE". A request is refused with
 * -EINVAL, a message and nothing filled in, or read into exactly what it
 * says; a wave start reads the same once written again. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/api-requests.h"
#include "hostd/api-server.h"
#include "hostd/change-log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
        ROUTE_FIREWALL_APPLY,
        ROUTE_SECCOMP_INSTALL,
        ROUTE_PATCH_PLAN, /* .. ROUTE_PATCH_PLAN + PATCH_OP_ROLLBACK */
        ROUTE_WAVE_START = ROUTE_PATCH_PLAN + PATCH_OP_ROLLBACK + 1,
        ROUTE_WAVE_CONTROL,
        ROUTE_PATCH_JOB,
        ROUTE_CHANGES,
        ROUTE_WAVE,
        ROUTE_SERVER_CHECKS,
        _ROUTE_MAX,
};

/* A refusal: -EINVAL with a message, and the results untouched. */
#define CHECK_REFUSED(r, why, results, untouched)                                      \
        do {                                                                           \
                if ((r) != -EINVAL || !(why)[0] ||                                     \
                    memcmp(&(results), &(untouched), sizeof(results)) != 0)            \
                        __builtin_trap();                                              \
        } while (0)

/* Digits only, and exactly their value. */
static bool is_u64(const char *s, uint64_t v) {
        return s && *s && strspn(s, "0123456789") == strlen(s) && strtoull(s, NULL, 10) == v;
}

static const char *member_string(const json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

/* ---- bodies ---- */

static void firewall_apply(const json_t *body) {
        unsigned seconds = 4242, untouched = 4242;
        const json_t *t = json_object_get(body, "confirm_timeout");
        char why[512] = "";
        int r = api_firewall_apply_parse(body, &seconds, why, sizeof(why));

        if (r < 0) {
                CHECK_REFUSED(r, why, seconds, untouched);
                return;
        }
        if (json_object_size(body) != (t ? 1u : 0u) || seconds > 3600 ||
            (t ? !json_is_integer(t) || seconds < 1 || (json_int_t) seconds != json_integer_value(t) : seconds != 0))
                __builtin_trap();
}

static void seccomp_install(const json_t *body) {
        const char *profile = "untouched", *untouched = profile;
        char why[512] = "";
        int r = api_seccomp_install_parse(body, &profile, why, sizeof(why));

        if (r < 0) {
                CHECK_REFUSED(r, why, profile, untouched);
                return;
        }
        if (json_object_size(body) != 1 || profile != member_string(body, "profile") || profile[0] != '/')
                __builtin_trap();
}

/* Whether why begins with a member of body, then ": " (or is cut short
 * within a long one). */
static bool names_member(const char *err, size_t err_size, const json_t *body) {
        const char *key;
        const json_t *v;

        size_t len = strlen(err);

        json_object_foreach((json_t *) body, key, v) {
                size_t n = strlen(key);
                if (strncmp(err, key, MIN(n, len)) != 0)
                        continue;
                if (len >= n + 2 ? strncmp(err + n, ": ", 2) == 0 :
                                   len == err_size - 1 && (len <= n || err[n] == ':'))
                        return true;
        }
        return false;
}

static void patch(PatchOp op, const json_t *body) {
        /* each op's members and whether each is a boolean (else a string) */
        static const struct {
                const char *name;
                bool boolean;
                bool ops[PATCH_OP_ROLLBACK + 1];
        } members[] = {
                { "refresh", true, { [PATCH_OP_PLAN] = true, [PATCH_OP_STAGE] = true, [PATCH_OP_APPLY] = true } },
                { "plan", false, { [PATCH_OP_STAGE] = true, [PATCH_OP_APPLY] = true } },
                { "id", false, { [PATCH_OP_ROLLBACK] = true } },
        };
        ApiPatchBody p, untouched;
        const json_t *v;
        const char *key;
        char why[512] = "";
        int r;

        memset(&p, 0xa5, sizeof(p));
        untouched = p;
        r = api_patch_parse(op, body, &p, why, sizeof(why));
        if (r < 0) {
                CHECK_REFUSED(r, why, p, untouched);
                if (!names_member(why, sizeof(why), body))
                        __builtin_trap();
                return;
        }
        json_object_foreach((json_t *) body, key, v) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(members) && !ok; i++)
                        ok = STREQ(key, members[i].name) && members[i].ops[op] &&
                             (members[i].boolean ? json_is_boolean(v) : json_is_string(v));
                if (!ok)
                        __builtin_trap();
        }
        if (p.refresh != json_is_true(json_object_get(body, "refresh")) || p.plan != member_string(body, "plan") ||
            p.id != member_string(body, "id"))
                __builtin_trap();
}

static bool same_options(const WaveOptions *a, const WaveOptions *b) {
        if (a->max_unavailable != b->max_unavailable || a->soak_usec != b->soak_usec ||
            a->node_deadline_usec != b->node_deadline_usec || !STREQ_PTR(a->label, b->label) ||
            a->on_failure != b->on_failure || !a->canaries != !b->canaries || !a->schedule != !b->schedule ||
            a->max_errors != b->max_errors || a->max_errors_percent != b->max_errors_percent || a->approve != b->approve)
                return false;
        if (a->schedule) {
                const WaveSchedule *x = a->schedule, *y = b->schedule;
                if (!STREQ(x->zone, y->zone) || x->n_windows != y->n_windows || x->n_blackouts != y->n_blackouts)
                        return false;
                for (size_t i = 0; i < x->n_windows; i++)
                        if (x->windows[i].days != y->windows[i].days ||
                            x->windows[i].start_minute != y->windows[i].start_minute ||
                            x->windows[i].length_minutes != y->windows[i].length_minutes)
                                return false;
                for (size_t i = 0; i < x->n_blackouts; i++)
                        if (x->blackouts[i].first_day != y->blackouts[i].first_day ||
                            x->blackouts[i].last_day != y->blackouts[i].last_day)
                                return false;
        }
        for (size_t i = 0; a->canaries && (a->canaries[i] || b->canaries[i]); i++)
                if (!STREQ_PTR(a->canaries[i], b->canaries[i]))
                        return false;
        return true;
}

/* The body that asks for o. */
static json_t *wave_start_body(const WaveOptions *o) {
        json_t *b = json_object();

        if (!b)
                return NULL;
        if (o->max_unavailable)
                json_object_set_new(b, "max_unavailable", json_integer(o->max_unavailable));
        if (o->soak_usec)
                json_object_set_new(b, "soak_seconds", json_integer((json_int_t) (o->soak_usec / 1000000)));
        if (o->node_deadline_usec)
                json_object_set_new(b, "deadline_seconds",
                                    json_integer((json_int_t) (o->node_deadline_usec / 1000000)));
        if (o->label)
                json_object_set_new(b, "label", json_string(o->label));
        if (o->on_failure)
                json_object_set_new(b, "on_failure", json_string(wave_on_failure_to_string(o->on_failure)));
        if (o->canaries) {
                json_t *c = json_array();
                for (size_t i = 0; c && o->canaries[i]; i++)
                        json_array_append_new(c, json_string(o->canaries[i]));
                json_object_set_new(b, "canaries", c);
        }
        if (!o->approve)
                json_object_set_new(b, "any_version", json_true());
        if (o->max_errors_percent)
                json_object_set_new(b, "max_errors", json_sprintf("%u%%", o->max_errors_percent));
        else if (o->max_errors)
                json_object_set_new(b, "max_errors", json_integer(o->max_errors));
        if (o->schedule) {
                /* in canonical form: what the stored wave keeps */
                json_t *w = json_array(), *k = json_array();
                char spec[WAVE_WINDOW_SPEC_MAX];
                for (size_t i = 0; w && i < o->schedule->n_windows; i++) {
                        wave_window_format(&o->schedule->windows[i], spec, sizeof(spec));
                        json_array_append_new(w, json_string(spec));
                }
                for (size_t i = 0; k && i < o->schedule->n_blackouts; i++) {
                        wave_blackout_format(&o->schedule->blackouts[i], spec, sizeof(spec));
                        json_array_append_new(k, json_string(spec));
                }
                json_object_set_new(b, "windows", w);
                json_object_set_new(b, "blackouts", k);
                json_object_set_new(b, "zone", json_string(o->schedule->zone));
        }
        return b;
}

static void wave_start(const json_t *body) {
        const char *canaries[API_WAVE_MAX_CANARIES + 1], *canaries2[API_WAVE_MAX_CANARIES + 1];
        WaveSchedule schedule, schedule2;
        const json_t *c = json_object_get(body, "canaries");
        WaveOptions o, untouched, o2;
        char why[512] = "";
        json_t *body2;
        int r;

        memset(&o, 0xa5, sizeof(o));
        untouched = o;
        r = api_wave_start_parse(body, canaries, &schedule, &o, why, sizeof(why));
        if (r < 0) {
                CHECK_REFUSED(r, why, o, untouched);
                return;
        }
        if (o.max_unavailable > WAVE_MAX_NODES || o.soak_usec > 7 * 86400 * 1000000ULL ||
            o.soak_usec % 1000000 || o.node_deadline_usec > 2 * 86400 * 1000000ULL || o.node_deadline_usec % 1000000 ||
            (o.label && !strchr(o.label, '=')) || o.label != member_string(body, "label") ||
            (unsigned) o.on_failure >= _WAVE_ON_FAILURE_MAX || !c != !o.canaries ||
            (o.canaries && o.canaries != canaries) || (o.schedule && o.schedule != &schedule))
                __builtin_trap();
        if (o.canaries) {
                if (json_array_size(c) > API_WAVE_MAX_CANARIES || o.canaries[json_array_size(c)])
                        __builtin_trap();
                for (size_t i = 0; i < json_array_size(c); i++)
                        if (o.canaries[i] != json_string_value(json_array_get(c, i)) || !o.canaries[i])
                                __builtin_trap();
        }

        body2 = wave_start_body(&o);
        if (body2) {
                memset(&o2, 0, sizeof(o2));
                if (api_wave_start_parse(body2, canaries2, &schedule2, &o2, why, sizeof(why)) < 0 || !same_options(&o, &o2))
                        __builtin_trap();
        }
        json_decref(body2);
}

static void wave_control(const json_t *body) {
        const char *reason = "untouched", *untouched = reason;
        char why[512] = "";
        int r = api_wave_control_parse(body, &reason, why, sizeof(why));

        if (r < 0) {
                CHECK_REFUSED(r, why, reason, untouched);
                return;
        }
        if (json_object_size(body) > (json_object_get(body, "reason") ? 1u : 0u) ||
            reason != member_string(body, "reason") || (!reason && json_object_get(body, "reason")))
                __builtin_trap();
}

/* ---- query strings ---- */

static int hex_value(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The first value of key in the query q ("k=v&k=v"), %XX and '+'
 * decoded into buf; NULL when absent or without '='. */
static const char *query_value(const char *q, const char *key, char *buf, size_t buf_size) {
        size_t klen = strlen(key);

        for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
                size_t n = strcspn(p, "&"), o = 0;
                if (n < klen || strncmp(p, key, klen) != 0 || (n > klen && p[klen] != '='))
                        continue;
                if (n == klen)
                        return NULL;
                for (size_t i = klen + 1; i < n && o + 1 < buf_size; i++) {
                        if (p[i] == '%' && i + 2 < n && hex_value(p[i + 1]) >= 0 && hex_value(p[i + 2]) >= 0) {
                                buf[o++] = (char) (hex_value(p[i + 1]) * 16 + hex_value(p[i + 2]));
                                i += 2;
                        } else
                                buf[o++] = p[i] == '+' ? ' ' : p[i];
                }
                buf[o] = '\0';
                return buf;
        }
        return NULL;
}

static void patch_job(const char *q) {
        char b1[256], b2[256], why[512] = "";
        const char *id = query_value(q, "id", b1, sizeof(b1)), *after = query_value(q, "after", b2, sizeof(b2));
        struct {
                unsigned id;
                size_t after;
        } v = { 11, 22 }, untouched = v;
        int r = api_patch_job_query_parse(id, after, &v.id, &v.after, why, sizeof(why));

        if (r < 0) {
                CHECK_REFUSED(r, why, v, untouched);
                return;
        }
        if (!is_u64(id, v.id) || v.id >= UINT32_MAX || (after ? !is_u64(after, v.after) || v.after >= UINT32_MAX :
                                                                v.after != 0))
                __builtin_trap();
}

static void changes(const char *q) {
        char b1[256], b2[256], b3[256], why[512] = "";
        const char *since = query_value(q, "since", b1, sizeof(b1)), *limit = query_value(q, "limit", b2, sizeof(b2)),
                   *kind = query_value(q, "kind", b3, sizeof(b3));
        ApiChangesQuery c, untouched;
        int r;

        memset(&c, 0xa5, sizeof(c));
        untouched = c;
        r = api_changes_query_parse(since, limit, kind, &c, why, sizeof(why));
        if (r < 0) {
                CHECK_REFUSED(r, why, c, untouched);
                return;
        }
        if ((since ? !is_u64(since, c.since_usec) : c.since_usec != 0) ||
            (limit ? !is_u64(limit, c.limit) : c.limit != 0) || c.kind != kind ||
            (kind && change_kind_from_string(kind) < 0))
                __builtin_trap();
}

static void wave(const char *q) {
        char b[256], why[512] = "";
        const char *wait = query_value(q, "wait", b, sizeof(b));
        struct {
                bool watch;
                uint64_t version;
        } v = { true, 33 }, untouched = v;
        int r = api_wave_query_parse(wait, &v.watch, &v.version, why, sizeof(why));

        if (r < 0) {
                CHECK_REFUSED(r, why, v, untouched);
                return;
        }
        if (v.watch != !!wait || (wait ? !is_u64(wait, v.version) : v.version != 0))
                __builtin_trap();
}

/* ---- the server's checks ---- */

static void server_checks(char *text) {
        char *method = strsep(&text, "\n"), *url = strsep(&text, "\n"), *length = strsep(&text, "\n");
        const char *type = text, *why = NULL;
        int64_t n = control_parse_content_length(length);
        unsigned status;

        if (!url)
                return;
        if ((length ? n < 0 : n != -1) || (length && n < INT64_MAX && !is_u64(length, (uint64_t) n)))
                __builtin_trap();
        status = control_check_request(method, url, n, type, &why);
        if (status == 0) {
                if (why || (!STREQ(method, "GET") && !STREQ(method, "POST") && !STREQ(method, "PUT") &&
                            !STREQ(method, "DELETE")) ||
                    url[0] != '/' || strlen(url) > CONTROL_MAX_URL || n > CONTROL_MAX_BODY ||
                    (n > 0 && type && strncmp(type, "application/json", 16) != 0))
                        __builtin_trap();
                for (const char *p = url; *p; p++)
                        if (!isgraph((unsigned char) *p))
                                __builtin_trap();
        } else if ((status != 400 && status != 405 && status != 413 && status != 414 && status != 415) || !why ||
                   !why[0])
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned route;
        json_t *body = (json_t *) 1;
        char why[256] = "";
        char *text;
        int r;

        if (size < 1)
                return 0;
        route = data[0] % _ROUTE_MAX;
        if (route >= ROUTE_PATCH_JOB) {
                text = strndup((const char *) data + 1, size - 1);
                if (!text)
                        return 0;
                switch (route) {
                case ROUTE_PATCH_JOB: patch_job(text); break;
                case ROUTE_CHANGES: changes(text); break;
                case ROUTE_WAVE: wave(text); break;
                default: server_checks(text); break;
                }
                free(text);
                return 0;
        }

        r = control_parse_body((const char *) data + 1, size - 1, &body, why, sizeof(why));
        if (r < 0) {
                if (r != -EINVAL || !why[0] || body != (json_t *) 1)
                        __builtin_trap();
                return 0;
        }
        if (body && !json_is_object(body))
                __builtin_trap();
        switch (route) {
        case ROUTE_FIREWALL_APPLY: firewall_apply(body); break;
        case ROUTE_SECCOMP_INSTALL: seccomp_install(body); break;
        case ROUTE_WAVE_START: wave_start(body); break;
        case ROUTE_WAVE_CONTROL: wave_control(body); break;
        default: patch((PatchOp) (route - ROUTE_PATCH_PLAN), body); break;
        }
        json_decref(body);
        return 0;
}
