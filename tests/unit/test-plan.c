/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Patch plans: every update kept with the decision about it, and an ID
 * that changes exactly when what the plan would do changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "patching/plan.h"
#include "scratch-dir.h"

static PackageUpdate *updates(size_t *n) {
        static const struct {
                const char *name, *arch, *from, *to;
                bool security;
        } src[] = {
                { "bash", "amd64", "5.2.15-2+b2", "5.2.15-2+b7", false },
                { "linux-image-6.1.0-27-amd64", "amd64", NULL, "6.1.115-1", true },
                { "openssl", "amd64", "3.0.11-1", "3.0.13-1", true },
                { "postgresql-15", "amd64", "15.8-0", "15.10-0", true },
        };
        PackageUpdate *u = calloc(ELEMENTSOF(src), sizeof(PackageUpdate));

        assert_non_null(u);
        for (size_t i = 0; i < ELEMENTSOF(src); i++) {
                u[i].name = strdup(src[i].name);
                u[i].arch = strdup(src[i].arch);
                u[i].from = src[i].from ? strdup(src[i].from) : NULL;
                u[i].to = strdup(src[i].to);
                u[i].security = src[i].security;
                u[i].suite = strdup(src[i].security ? "bookworm-security" : "bookworm");
        }
        *n = ELEMENTSOF(src);
        return u;
}

static Plan *build(const PatchPolicy *policy) {
        size_t n;
        PackageUpdate *u = updates(&n);
        Plan *p = NULL;

        assert_int_equal(plan_build(u, n, policy, NULL, 0, &p), 0);
        return p;
}

static void test_all(void **state _unused_) {
        PatchPolicy policy = {};
        Plan *p = build(&policy), *again = build(&policy);

        assert_int_equal(p->n, 4);
        assert_int_equal(p->n_included, 4);
        assert_int_equal(p->n_security, 3);
        assert_int_equal(strlen(p->id), 64);
        /* the same updates under the same policy: the same ID */
        assert_string_equal(p->id, again->id);
        plan_free(p);
        plan_free(again);
}

/* A wave's approved set: exactly its packages, at its versions, whatever
 * newer one is offered; never a downgrade; held packages stay out. */
static void test_approved(void **state _unused_) {
        PackageSet approved = {};
        const char *const held[] = { "postgresql-15", NULL };
        PatchPolicy policy = { .approved = &approved, .backend = BACKEND_APT, .held = held,
                               .security_only = true, .min_age_usec = 86400ULL * 1000000 };
        Plan *p;

        assert_int_equal(package_set_put(&approved, "bash", "amd64", "5.2.15-2+b7"), 0);     /* offered as is */
        assert_int_equal(package_set_put(&approved, "openssl", "amd64", "3.0.12-1"), 0);     /* older than offered */
        assert_int_equal(package_set_put(&approved, "postgresql-15", "amd64", "15.10-0"), 0); /* held here */
        p = build(&policy);
        /* bash is not a security update, and is younger than the minimum
         * age: approved, so in (the approving plans applied the policy) */
        assert_string_equal(p->items[0].update.name, "bash");
        assert_int_equal(p->items[0].decision, PLAN_INCLUDED);
        assert_int_equal(p->items[1].decision, PLAN_NOT_APPROVED); /* the kernel */
        assert_string_equal(plan_decision_to_string(PLAN_NOT_APPROVED), "not in the wave's approved set");
        assert_int_equal(p->items[2].decision, PLAN_INCLUDED);
        assert_string_equal(p->items[2].update.to, "3.0.12-1"); /* the approved version, not 3.0.13-1 */
        assert_int_equal(p->items[3].decision, PLAN_HELD);
        assert_int_equal(p->n_included, 2);
        PackageSet target = {};
        assert_int_equal(plan_target_set(p, &target), 0);
        assert_string_equal(package_set_find(&target, "openssl", "amd64")->version, "3.0.12-1");
        package_set_done(&target);
        plan_free(p);

        /* installed already at or past it: nothing, never a downgrade */
        assert_int_equal(package_set_put(&approved, "openssl", "amd64", "3.0.11-1"), 0);
        p = build(&policy);
        assert_int_equal(p->items[2].decision, PLAN_PAST_APPROVED);
        plan_free(p);
        assert_int_equal(package_set_put(&approved, "openssl", "amd64", "3.0.9-1"), 0);
        p = build(&policy);
        assert_int_equal(p->items[2].decision, PLAN_PAST_APPROVED);
        plan_free(p);
        package_set_done(&approved);
}

static void test_security_only(void **state _unused_) {
        PatchPolicy all = {}, sec = { .security_only = true };
        Plan *p = build(&sec), *q = build(&all);

        assert_int_equal(p->n_included, 3);
        assert_int_equal(p->items[0].decision, PLAN_NOT_SECURITY); /* bash */
        assert_string_equal(plan_decision_to_string(p->items[0].decision), "not a security update");
        assert_string_not_equal(p->id, q->id);
        plan_free(p);
        plan_free(q);
}

static void test_allow_deny_hold(void **state _unused_) {
        static const char *const deny[] = { "linux-image-*", NULL };
        static const char *const allow[] = { "openssl", "linux-*", "bash", NULL };
        static const char *const held[] = { "bash", NULL };
        PatchPolicy policy = { .allow = allow, .deny = deny, .held = held };
        Plan *p = build(&policy);

        assert_int_equal(p->items[0].decision, PLAN_HELD);
        assert_string_equal(p->items[0].matched, "bash");
        /* deny wins over allow */
        assert_int_equal(p->items[1].decision, PLAN_DENIED);
        assert_string_equal(p->items[1].matched, "linux-image-*");
        assert_int_equal(p->items[2].decision, PLAN_INCLUDED);
        assert_int_equal(p->items[3].decision, PLAN_NOT_ALLOWED);
        assert_int_equal(p->n_included, 1);
        plan_free(p);
}

static void test_empty(void **state _unused_) {
        PatchPolicy policy = {};
        Plan *p = NULL, *q = NULL;

        assert_int_equal(plan_build(NULL, 0, &policy, NULL, 0, &p), 0);
        assert_int_equal(p->n, 0);
        /* sha256 of nothing */
        assert_string_equal(p->id, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        /* everything filtered out is the same (empty) transaction */
        PatchPolicy none = { .deny = (const char *const[]){ "*", NULL } };
        q = build(&none);
        assert_string_equal(q->id, p->id);
        plan_free(p);
        plan_free(q);
        assert_null(plan_free(NULL));
}

#define HOUR (3600ULL * 1000000ULL)

/* The minimum age counts from when an update was first offered; the
 * record keeps exactly the updates offered now. */
static void test_min_age(void **state) {
        PatchPolicy policy = { .min_age_usec = 24 * HOUR };
        FirstSeen seen = {}, loaded = {};
        char path[256], err[512];
        size_t n;
        Plan *p = NULL;

        snprintf(path, sizeof(path), "%s/first-seen.json", (char *) *state);
        assert_int_equal(first_seen_load(path, &seen, err, sizeof(err)), 0); /* absent: empty */
        assert_int_equal(seen.n, 0);

        /* day 0: everything is new, nothing is old enough */
        assert_int_equal(plan_build(updates(&n), 4, &policy, &seen, 100 * HOUR, &p), 0);
        assert_int_equal(p->n_included, 0);
        assert_int_equal(p->items[2].decision, PLAN_TOO_NEW);
        assert_string_equal(plan_decision_to_string(PLAN_TOO_NEW), "newer than the minimum age");
        assert_int_equal(seen.n, 4);
        plan_free(p);
        assert_int_equal(first_seen_save(&seen, path), 0);
        first_seen_done(&seen);

        /* a day later, from the saved record: all old enough */
        assert_int_equal(first_seen_load(path, &loaded, err, sizeof(err)), 0);
        assert_int_equal(loaded.n, 4);
        assert_int_equal(plan_build(updates(&n), 4, &policy, &loaded, 124 * HOUR, &p), 0);
        assert_int_equal(p->n_included, 4);
        assert_true(p->items[0].first_seen_usec == 100 * HOUR);
        plan_free(p);

        /* only what is offered now is kept */
        PackageUpdate *one = updates(&n);
        for (size_t i = 1; i < n; i++)
                package_update_done(&one[i]);
        assert_int_equal(plan_build(one, 1, &policy, &loaded, 125 * HOUR, &p), 0);
        assert_int_equal(loaded.n, 1);
        assert_string_equal(loaded.items[0].key, "bash amd64 5.2.15-2+b7");
        plan_free(p);
        first_seen_done(&loaded);
}

static void test_first_seen_damaged(void **state) {
        FirstSeen seen = {};
        char path[256], err[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/damaged.json", (char *) *state);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("{\"version\": 1,\n \"seen\": {\"a amd64 1\": -5}}\n", f);
        fclose(f);
        assert_int_equal(first_seen_load(path, &seen, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "seen.\"a amd64 1\": expected a time"));
        f = fopen(path, "we");
        fputs("{\"version\": 1,\n \"seen\": {", f);
        fclose(f);
        assert_int_equal(first_seen_load(path, &seen, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "damaged.json:2:"));
        assert_int_equal(seen.n, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_approved),
                cmocka_unit_test(test_all),
                cmocka_unit_test(test_security_only),
                cmocka_unit_test(test_allow_deny_hold),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_min_age),
                cmocka_unit_test(test_first_seen_damaged),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
