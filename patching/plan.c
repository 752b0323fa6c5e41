/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fnmatch.h>
#include <gnutls/crypto.h>

#include "patching/plan.h"

const char *plan_decision_to_string(PlanDecision d) {
        switch (d) {
        case PLAN_INCLUDED: return "included";
        case PLAN_NOT_SECURITY: return "not a security update";
        case PLAN_DENIED: return "denied by policy";
        case PLAN_NOT_ALLOWED: return "not on the allow list";
        case PLAN_HELD: return "held";
        default: return "?";
        }
}

static const char *match_glob(const char *const *globs, const char *name) {
        for (; globs && *globs; globs++)
                if (fnmatch(*globs, name, 0) == 0)
                        return *globs;
        return NULL;
}

static PlanDecision decide(const PackageUpdate *u, const PatchPolicy *policy, const char **matched) {
        *matched = NULL;
        for (const char *const *h = policy->held; h && *h; h++)
                if (STREQ(*h, u->name)) {
                        *matched = *h;
                        return PLAN_HELD;
                }
        if ((*matched = match_glob(policy->deny, u->name)))
                return PLAN_DENIED;
        if (policy->allow && policy->allow[0] && !(*matched = match_glob(policy->allow, u->name)))
                return PLAN_NOT_ALLOWED;
        if (policy->security_only && !u->security)
                return PLAN_NOT_SECURITY;
        return PLAN_INCLUDED;
}

void package_update_done(PackageUpdate *u) {
        free(u->name);
        free(u->arch);
        free(u->from);
        free(u->to);
        free(u->origin);
        free(u->suite);
        *u = (PackageUpdate){};
}

/* here, in C, so that programs without the C++ shim can free updates too */
void package_updates_free(PackageUpdate *u, size_t n) {
        for (size_t i = 0; u && i < n; i++)
                package_update_done(&u[i]);
        free(u);
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

int plan_build(PackageUpdate *updates, size_t n, const PatchPolicy *policy, Plan **ret) {
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof(Plan));
        gnutls_hash_hd_t hash;
        unsigned char digest[32];

        if (!p || !(p->items = calloc(MAX(n, (size_t) 1), sizeof(PlanItem)))) {
                package_updates_free(updates, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                p->items[i].update = updates[i];
        p->n = n;
        free(updates); /* the strings now belong to the plan */

        if (gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                PlanItem *it = &p->items[i];
                const PackageUpdate *u = &it->update;

                it->decision = decide(u, policy, &it->matched);
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
        for (size_t i = 0; i < sizeof(digest); i++)
                snprintf(p->id + 2 * i, 3, "%02x", digest[i]);
        *ret = TAKE_PTR(p);
        return 0;
}
