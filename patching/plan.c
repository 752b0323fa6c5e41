/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fnmatch.h>
#include <gnutls/crypto.h>
#include <jansson.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/hex.h"

#include "patching/plan.h"

const char *plan_decision_to_string(PlanDecision d) {
        switch (d) {
        case PLAN_INCLUDED: return "included";
        case PLAN_NOT_SECURITY: return "not a security update";
        case PLAN_DENIED: return "denied by policy";
        case PLAN_NOT_ALLOWED: return "not on the allow list";
        case PLAN_HELD: return "held";
        case PLAN_TOO_NEW: return "newer than the minimum age";
        case PLAN_NOT_APPROVED: return "not in the wave's approved set";
        case PLAN_PAST_APPROVED: return "installed at or past the approved version";
        default: return "?";
        }
}

static const char *match_glob(const char *const *globs, const char *name) {
        for (; globs && *globs; globs++)
                if (fnmatch(*globs, name, 0) == 0)
                        return *globs;
        return NULL;
}

static PlanDecision decide(const PackageUpdate *u, const PatchPolicy *policy, uint64_t age_usec,
                           const char **matched) {
        *matched = NULL;
        for (const char *const *h = policy->held; h && *h; h++)
                if (STREQ(*h, u->name)) {
                        *matched = *h;
                        return PLAN_HELD;
                }
        if ((*matched = match_glob(policy->deny, u->name)))
                return PLAN_DENIED;
        if (policy->approved) {
                const PackageVersion *a = package_set_find(policy->approved, u->name, u->arch);
                if (!a)
                        return PLAN_NOT_APPROVED;
                /* never a downgrade: a node already at or past it needs none */
                if (u->from && backend_version_compare(policy->backend, a->version, u->from) <= 0)
                        return PLAN_PAST_APPROVED;
                return PLAN_INCLUDED;
        }
        if (policy->allow && policy->allow[0] && !(*matched = match_glob(policy->allow, u->name)))
                return PLAN_NOT_ALLOWED;
        if (policy->security_only && !u->security)
                return PLAN_NOT_SECURITY;
        if (age_usec < policy->min_age_usec)
                return PLAN_TOO_NEW;
        return PLAN_INCLUDED;
}

Plan *plan_free(Plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++)
                package_update_done(&p->items[i].update);
        free(p->items);
        free(p);
        return NULL;
}

static int by_key(const void *a, const void *b) {
        return strcmp(((const FirstSeenItem *) a)->key, ((const FirstSeenItem *) b)->key);
}

void first_seen_done(FirstSeen *s) {
        for (size_t i = 0; s && i < s->n; i++)
                free(s->items[i].key);
        if (s) {
                free(s->items);
                *s = (FirstSeen){};
        }
}

int first_seen_load(const char *path, FirstSeen *ret, char *err, size_t err_size) {
        json_error_t jerr;
        json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *seen, *v;
        FirstSeen s = {};
        const char *key;

        *ret = s;
        if (!j) {
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        return 0;
                snprintf(err, err_size, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
                return -EINVAL;
        }
        seen = json_object_get(j, "seen");
        if (!json_is_object(j) || json_integer_value(json_object_get(j, "version")) != 1 || !json_is_object(seen)) {
                snprintf(err, err_size, "%s: expected {\"version\": 1, \"seen\": {...}}", path);
                json_decref(j);
                return -EINVAL;
        }
        s.items = calloc(MAX(json_object_size(seen), (size_t) 1), sizeof(FirstSeenItem));
        if (!s.items) {
                json_decref(j);
                return -ENOMEM;
        }
        json_object_foreach(seen, key, v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0) {
                        snprintf(err, err_size, "%s: seen.\"%s\": expected a time in microseconds", path, key);
                        first_seen_done(&s);
                        json_decref(j);
                        return -EINVAL;
                }
                s.items[s.n].usec = (uint64_t) json_integer_value(v);
                if (!(s.items[s.n++].key = strdup(key))) {
                        first_seen_done(&s);
                        json_decref(j);
                        return -ENOMEM;
                }
        }
        json_decref(j);
        qsort(s.items, s.n, sizeof(FirstSeenItem), by_key);
        *ret = s;
        return 0;
}

int first_seen_save(const FirstSeen *s, const char *path) {
        json_t *seen = json_object(), *j;
        _cleanup_free_ char *text = NULL;

        for (size_t i = 0; seen && i < s->n; i++)
                json_object_set_new(seen, s->items[i].key, json_integer((json_int_t) s->items[i].usec));
        j = json_pack("{s:i, s:o}", "version", 1, "seen", seen);
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
        json_decref(j);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0600);
}

/* Looks the updates up in *seen and replaces it with exactly them. */
static int age_updates(PlanItem *items, size_t n, FirstSeen *seen, uint64_t now_usec) {
        FirstSeen next = { .items = calloc(MAX(n, (size_t) 1), sizeof(FirstSeenItem)) };

        if (!next.items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const PackageUpdate *u = &items[i].update;
                FirstSeenItem probe, *found;

                if (asprintf(&probe.key, "%s %s %s", u->name, u->arch, u->to) < 0) {
                        first_seen_done(&next);
                        return -ENOMEM;
                }
                found = seen && seen->n > 0 ? bsearch(&probe, seen->items, seen->n, sizeof(FirstSeenItem), by_key) : NULL;
                probe.usec = found ? MIN(found->usec, now_usec) : now_usec;
                items[i].first_seen_usec = probe.usec;
                next.items[next.n++] = probe;
        }
        if (seen) {
                qsort(next.items, next.n, sizeof(FirstSeenItem), by_key);
                first_seen_done(seen);
                *seen = next;
        } else
                first_seen_done(&next);
        return 0;
}

int plan_build(PackageUpdate *updates, size_t n, const PatchPolicy *policy, FirstSeen *seen, uint64_t now_usec,
               Plan **ret) {
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof(Plan));
        gnutls_hash_hd_t hash;
        unsigned char digest[32];
        int r;

        if (!p || !(p->items = calloc(MAX(n, (size_t) 1), sizeof(PlanItem)))) {
                package_updates_free(updates, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                p->items[i].update = updates[i];
        p->n = n;
        free(updates); /* the strings now belong to the plan */
        if ((r = age_updates(p->items, n, seen, now_usec)) < 0)
                return r;

        if (gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                PlanItem *it = &p->items[i];
                const PackageUpdate *u = &it->update;

                it->decision = decide(u, policy, now_usec - it->first_seen_usec, &it->matched);
                /* the approved version, whatever newer one is offered now */
                const PackageVersion *a = policy->approved && it->decision == PLAN_INCLUDED ?
                                                  package_set_find(policy->approved, u->name, u->arch) :
                                                  NULL;
                if (a && !STREQ(a->version, u->to)) {
                        char *to = strdup(a->version);
                        if (!to) {
                                gnutls_hash_deinit(hash, NULL);
                                return -ENOMEM;
                        }
                        free(it->update.to);
                        it->update.to = to;
                }
                if (u->security)
                        p->n_security++;
                if (it->decision != PLAN_INCLUDED)
                        continue;
                p->n_included++;
                /* what the transaction does, in a fixed order: the ID */
                gnutls_hash(hash, u->name, strlen(u->name) + 1);
                gnutls_hash(hash, u->arch, strlen(u->arch) + 1);
                gnutls_hash(hash, u->from ? u->from : "", strlen(u->from ? u->from : "") + 1);
                gnutls_hash(hash, u->to, strlen(u->to) + 1);
        }
        gnutls_hash_deinit(hash, digest);
        hex_encode(digest, sizeof(digest), p->id);
        *ret = TAKE_PTR(p);
        return 0;
}

static int included_set(const Plan *p, bool target, PackageSet *ret) {
        PackageSet set = {};

        for (size_t i = 0; i < p->n; i++) {
                const PackageUpdate *u = &p->items[i].update;
                const char *version = target ? u->to : u->from;
                int r;

                if (p->items[i].decision != PLAN_INCLUDED || !version)
                        continue;
                r = package_set_put(&set, u->name, u->arch, version);
                if (r < 0) {
                        package_set_done(&set);
                        return r;
                }
        }
        *ret = set;
        return 0;
}

int plan_target_set(const Plan *p, PackageSet *ret) {
        return included_set(p, true, ret);
}

int plan_replaced_set(const Plan *p, PackageSet *ret) {
        return included_set(p, false, ret);
}
