/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A patch plan: the upgrades a backend offers, filtered by the patch
 * policy, each kept with the reason it is in or out, and an ID that is a
 * hash of exactly what the plan would do, so that stage, apply and the
 * wave all refer to the same transaction. */

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"
#include "patching/apt.h"

typedef struct PatchPolicy {
        bool security_only;
        const char *const *allow; /* globs on package names; NULL or empty: all */
        const char *const *deny;  /* globs; deny wins over allow */
        const char *const *held;  /* exact names never upgraded */
} PatchPolicy;

typedef enum PlanDecision {
        PLAN_INCLUDED,
        PLAN_NOT_SECURITY, /* security-only policy, not a security update */
        PLAN_DENIED,       /* matches a deny glob */
        PLAN_NOT_ALLOWED,  /* an allow list is given and it is not on it */
        PLAN_HELD,
        _PLAN_DECISION_MAX,
} PlanDecision;

/* "included", "not a security update", "denied by policy (GLOB)", ... */
const char *plan_decision_to_string(PlanDecision d);

typedef struct PlanItem {
        PackageUpdate update;
        PlanDecision decision;
        const char *matched; /* the glob or name that decided, or NULL */
} PlanItem;

typedef struct Plan {
        PlanItem *items;  /* sorted by name, arch */
        size_t n;
        size_t n_included, n_security;
        char id[65];      /* sha256 hex of the included (name, arch, from, to) */
} Plan;

/* Takes ownership of updates[0..n) (and the array). */
int plan_build(PackageUpdate *updates, size_t n, const PatchPolicy *policy, Plan **ret);
Plan *plan_free(Plan *p);
DEFINE_CLEANUP_FUNC(Plan, plan_free);
