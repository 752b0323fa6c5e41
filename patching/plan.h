/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A patch plan: the upgrades a backend offers, filtered by the patch
 * policy, each kept with the reason it is in or out, and an ID that is a
 * hash of exactly what the plan would do, so that stage, apply and the
 * wave all refer to the same transaction. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "patching/backend.h"

typedef struct PatchPolicy {
        bool security_only;
        const char *const *allow; /* globs on package names; NULL or empty: all */
        const char *const *deny;  /* globs; deny wins over allow */
        const char *const *held;  /* exact names never upgraded */
        uint64_t min_age_usec;    /* an update is left out until it has been
                                   * offered this long (see FirstSeen) */
        /* A wave's approved set (NULL: none): then an update is in exactly
         * when its (name, arch) is approved, at the approved version, even
         * when a newer one is offered (the transaction fails if the
         * repositories no longer have it); held and denied packages stay
         * out; security-only, allow and the minimum age were the approving
         * plans' to apply. backend compares versions. */
        const PackageSet *approved;
        BackendKind backend;
} PatchPolicy;

/* When each update (name, arch, version) was first offered: the minimum
 * age counts from there, since repositories say nothing of when a version
 * was published. Kept in STATE/first-seen.json:
 *   {"version": 1, "seen": {"openssl amd64 3.0.13-1": 1764065700000000}}
 * (CLOCK_REALTIME microseconds). */
typedef struct FirstSeenItem {
        char *key; /* "name arch version" */
        uint64_t usec;
} FirstSeenItem;

typedef struct FirstSeen {
        FirstSeenItem *items;
        size_t n;
} FirstSeen;

/* An absent file is an empty record; a damaged one is an error with the
 * file, line and column in err. */
int first_seen_load(const char *path, FirstSeen *ret, char *err, size_t err_size);
int first_seen_save(const FirstSeen *s, const char *path);
void first_seen_done(FirstSeen *s);

typedef enum PlanDecision {
        PLAN_INCLUDED,
        PLAN_NOT_SECURITY, /* security-only policy, not a security update */
        PLAN_DENIED,       /* matches a deny glob */
        PLAN_NOT_ALLOWED,  /* an allow list is given and it is not on it */
        PLAN_HELD,
        PLAN_TOO_NEW,      /* offered for less than the minimum age */
        PLAN_NOT_APPROVED, /* not in the wave's approved set */
        PLAN_PAST_APPROVED, /* installed at or past the approved version */
        _PLAN_DECISION_MAX,
} PlanDecision;

/* "included", "not a security update", "denied by policy (GLOB)", ... */
const char *plan_decision_to_string(PlanDecision d);

typedef struct PlanItem {
        PackageUpdate update;
        PlanDecision decision;
        const char *matched; /* the glob or name that decided, or NULL */
        uint64_t first_seen_usec;
} PlanItem;

typedef struct Plan {
        PlanItem *items;  /* sorted by name, arch */
        size_t n;
        size_t n_included, n_security;
        char id[65];      /* sha256 hex of the included (name, arch, from, to) */
} Plan;

/* Takes ownership of updates[0..n) (and the array). seen (may be NULL:
 * every update counts as offered now) is updated to hold exactly the
 * updates offered now, new ones seen at now_usec. */
int plan_build(PackageUpdate *updates, size_t n, const PatchPolicy *policy, FirstSeen *seen, uint64_t now_usec,
               Plan **ret);
Plan *plan_free(Plan *p);
DEFINE_CLEANUP_FUNC(Plan, plan_free);

/* The included updates as package sets: what the plan installs (name, arch,
 * to) and what it replaces (name, arch, from; new packages have none). */
int plan_target_set(const Plan *p, PackageSet *ret);
int plan_replaced_set(const Plan *p, PackageSet *ret);
