/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <time.h>
#include <sys/epoll.h>

#include "common/fileio.h"
#include "firewall/build.h"
#include "firewall/netlink.h"
#include "hostd/firewall-manager.h"
#include "hostd/firewall-store.h"
#include "hostd/log.h"

struct FirewallManager {
        sd_event *event;
        ChangeLog *changes; /* not owned */
        FirewallStore *store; /* what survives a restart; NULL: nothing does */
        bool held;            /* the file's policy is held back (store) */
        NftSocket *nft;
        NftMonitor *monitor;
        sd_event_source *monitor_source;
        sd_event_source *confirm_timer;
        sd_event_source *verify; /* checks the table after a missed window */

        FirewallPolicy policy; /* peers/management_sources are not owned: see copy_policy */
        Cidr *policy_cidrs;    /* owned storage for policy.peers, management_sources, join_sources */
        bool have_policy;
        Cidr *peers;           /* live Swarm peers */
        size_t n_peers;

        Ruleset *applied;      /* what hostd last put in the kernel, NULL if none */
        Ruleset *previous;     /* kept while an apply awaits confirmation */
        bool previous_was_absent;
        FirewallPolicy previous_policy; /* ... and the policy that made it, */
        Cidr *previous_policy_cidrs;    /* which a rollback restores too */
        bool previous_had_policy;
        uint64_t confirm_deadline_usec;

        uint64_t repairs;
        uint64_t last_repair_usec;
        uint64_t last_apply_usec; /* build + one netlink transaction */
        char last_error[320];
};

static bool pending(const FirewallManager *m) {
        return m->previous || m->previous_was_absent;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void record(FirewallManager *m, int level, ChangeKind kind, const char *failed_operation,
                   const char *why, const char *format, ...) _printf_(6, 7);

/* A change record; failed_operation, for CHANGE_FIREWALL_FAILED, says which
 * change failed ("apply", "repair", "rollback"). */
static void record(FirewallManager *m, int level, ChangeKind kind, const char *failed_operation,
                   const char *why, const char *format, ...) {
        char message[512], reason[300], operation[64];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        snprintf(reason, sizeof(reason), "HOSTD_REASON=%s", why ? why : "");
        snprintf(operation, sizeof(operation), "HOSTD_OPERATION=%s", failed_operation ? failed_operation : "");
        change_record(m->changes, level, kind,
                      failed_operation ? LOG_FIELDS(reason, operation, "HOSTD_SUBSYSTEM=firewall")
                                       : LOG_FIELDS(reason, "HOSTD_SUBSYSTEM=firewall"),
                      "%s", message);
}

/* The policy's CIDR lists point into memory the config owns; keep a copy so
 * a reload can free the old config. */
static int copy_policy(FirewallManager *m, const FirewallPolicy *p) {
        size_t n = p->n_peers + p->n_management_sources + p->n_join_sources;
        Cidr *cidrs = calloc(MAX(n, 1u), sizeof(Cidr));

        if (!cidrs)
                return -ENOMEM;
        if (p->n_peers > 0)
                memcpy(cidrs, p->peers, p->n_peers * sizeof(Cidr));
        if (p->n_management_sources > 0)
                memcpy(cidrs + p->n_peers, p->management_sources,
                       p->n_management_sources * sizeof(Cidr));
        if (p->n_join_sources > 0)
                memcpy(cidrs + p->n_peers + p->n_management_sources, p->join_sources,
                       p->n_join_sources * sizeof(Cidr));
        free(m->policy_cidrs);
        m->policy_cidrs = cidrs;
        m->policy = *p;
        m->policy.peers = cidrs;
        m->policy.management_sources = cidrs + p->n_peers;
        m->policy.join_sources = cidrs + p->n_peers + p->n_management_sources;
        m->have_policy = true;
        return 0;
}

static int build_desired(FirewallManager *m, Ruleset **ret) {
        return firewall_build(&m->policy, m->peers, m->n_peers, ret);
}

static void set_error(FirewallManager *m, char *err, size_t err_size, const char *text) {
        snprintf(m->last_error, sizeof(m->last_error), "%s", text);
        if (err && err != text)
                snprintf(err, err_size, "%s", text);
}

typedef enum KernelOp {
        OP_APPLY,        /* the whole table */
        OP_DELETE,       /* remove hostd's table */
        OP_UPDATE,       /* in place: some sets' elements, and maybe the rules */
} KernelOp;

/* Runs one transaction with the monitor out of the event group: with no
 * listener the kernel builds no notification per set element, which makes
 * applies of large peer sets several times faster. If the generation moved
 * by more than our own commit, someone else committed while we were not
 * listening: the table is then verified from the loop. */
static int kernel_op(FirewallManager *m, KernelOp op, const Ruleset *ruleset, const RuleSet *const *sets,
                     size_t n_sets, char *err, size_t err_size) {
        uint32_t before = 0, after = 0;
        bool have_generation, paused;
        int r;

        have_generation = nft_generation(m->nft, &before) >= 0;
        paused = nft_monitor_pause(m->monitor) >= 0;
        switch (op) {
        case OP_APPLY:
                r = nft_apply(m->nft, ruleset, err, err_size);
                break;
        case OP_DELETE:
                r = nft_delete_table(m->nft, err, err_size);
                break;
        default:
                r = nft_update(m->nft, ruleset, sets, n_sets, err, err_size);
                break;
        }
        if (paused)
                nft_monitor_resume(m->monitor);
        if (!paused)
                return r;
        if (!have_generation || nft_generation(m->nft, &after) < 0 ||
            after != before + (r >= 0 ? 1u : 0u))
                sd_event_source_set_enabled(m->verify, SD_EVENT_ONESHOT);
        return r;
}

/* Puts ruleset in the kernel (or removes the table for NULL) and takes
 * ownership of it as the applied one. */
static int install(FirewallManager *m, Ruleset *ruleset, char *err, size_t err_size) {
        char why[256] = "";
        int r;

        r = kernel_op(m, ruleset ? OP_APPLY : OP_DELETE, ruleset, NULL, 0, why, sizeof(why));
        if (r < 0) {
                char text[300];
                snprintf(text, sizeof(text), "%s", why[0] ? why : strerror(-r));
                set_error(m, err, err_size, text);
                ruleset_free(ruleset);
                return r;
        }
        ruleset_free(m->applied);
        m->applied = ruleset;
        m->last_error[0] = 0;
        return 0;
}

static bool same_ranges(const RuleSet *x, const RuleSet *y) {
        return x->n_ranges == y->n_ranges &&
               (x->n_ranges == 0 || memcmp(x->ranges, y->ranges, x->n_ranges * sizeof(SetRange)) == 0);
}

/* The same sets (names and keys) and so the same chain: the change can be
 * made in place, in one transaction. Only the sets whose elements differ
 * are written, so the 10,000 elements of a peer set that did not change are
 * not sent again, and the rules only when one of them changed (rules name
 * their sets, so a new port list or peer set changes no rule). *rules_differ
 * says whether they did, *only_peers whether the peer sets alone changed. */
static bool same_shape(const Ruleset *a, const Ruleset *b, bool *rules_differ, bool *only_peers) {
        if (!a || !b || a->n_sets != b->n_sets)
                return false;
        *rules_differ = a->n_rules != b->n_rules;
        for (size_t i = 0; !*rules_differ && i < a->n_rules; i++)
                *rules_differ = memcmp(&a->rules[i], &b->rules[i], sizeof(Rule)) != 0;
        *only_peers = !*rules_differ;
        for (size_t i = 0; i < a->n_sets; i++) {
                const RuleSet *x = &a->sets[i], *y = &b->sets[i];
                bool peer_set = STREQ(x->name, "peers4") || STREQ(x->name, "peers6");

                if (!STREQ(x->name, y->name) || x->key != y->key)
                        return false;
                if (!peer_set && !same_ranges(x, y))
                        *only_peers = false;
        }
        return true;
}

static bool live_matches(FirewallManager *m, const Ruleset *desired) {
        _cleanup_(nft_live_table_freep) NftLiveTable *live = NULL;

        return nft_read_table(m->nft, desired, &live) >= 0 && live && live->exists && live->matches_desired;
}

static int sync_table(FirewallManager *m, const char *why, char *err, size_t err_size) {
        _cleanup_(ruleset_freep) Ruleset *desired = NULL;
        int r;

        if (!m->have_policy)
                return 0;
        if (!m->policy.enabled) {
                if (!m->applied)
                        return 0;
                r = install(m, NULL, err, err_size);
                if (r < 0)
                        return r;
                record(m, LOG_NOTICE, CHANGE_FIREWALL_REMOVE, NULL, why,
                              "Firewall disabled by policy: hostd's table removed");
                return 0;
        }

        uint64_t start = now_usec();
        r = build_desired(m, &desired);
        if (r < 0) {
                set_error(m, err, err_size, "cannot build the ruleset");
                return r;
        }
        if (m->applied && ruleset_digest(desired) == ruleset_digest(m->applied))
                return 0;
        /* a restarted hostd finds its table as it left it: keep it, and its
         * counters, rather than replace it with the same */
        if (!m->applied && live_matches(m, desired)) {
                m->applied = TAKE_PTR(desired);
                log_info("Firewall already as desired: kept the live table (%zu rules, %zu Swarm peers)",
                         m->applied->n_rules, m->n_peers);
                return 0;
        }

        bool rules_differ, only_peers;
        if (same_shape(m->applied, desired, &rules_differ, &only_peers)) {
                _cleanup_free_ const RuleSet **changed = calloc(MAX(desired->n_sets, 1u), sizeof(RuleSet *));
                size_t n_changed = 0;
                char e[256] = "";

                r = -ENOMEM;
                if (changed) {
                        for (size_t i = 0; i < desired->n_sets; i++)
                                if (!same_ranges(&m->applied->sets[i], &desired->sets[i]))
                                        changed[n_changed++] = &desired->sets[i];
                        r = kernel_op(m, OP_UPDATE, rules_differ ? desired : NULL, changed, n_changed, e,
                                      sizeof(e));
                }
                if (r >= 0) {
                        ruleset_free(m->applied);
                        m->applied = TAKE_PTR(desired);
                        m->last_error[0] = 0;
                        if (only_peers) {
                                record(m, LOG_INFO, CHANGE_FIREWALL_PEERS, NULL, why,
                                       "Firewall peer sets updated: %zu live Swarm peers", m->n_peers);
                                return 0;
                        }
                        m->last_apply_usec = now_usec() - start;
                        record(m, LOG_NOTICE, CHANGE_FIREWALL_APPLY, NULL, why,
                               "Firewall applied in %.1f ms, in place: %zu of %zu sets%s, %zu rules, %zu live "
                               "Swarm peers",
                               (double) m->last_apply_usec / 1000.0, n_changed, m->applied->n_sets,
                               rules_differ ? " and the rules replaced" : " replaced", m->applied->n_rules,
                               m->n_peers);
                        return 0;
                }
                /* the live table is not the one last applied (a set or the
                 * chain gone, say): write it whole, as any other change */
                log_info("Firewall not changed in place (%s): writing the whole table",
                         e[0] ? e : strerror(-r));
        }

        r = install(m, TAKE_PTR(desired), err, err_size);
        if (r < 0) {
                record(m, LOG_ERR, CHANGE_FIREWALL_FAILED, "apply", why,
                              "Firewall apply failed, previous table kept: %s", m->last_error);
                return r;
        }
        m->last_apply_usec = now_usec() - start;
        record(m, LOG_NOTICE, CHANGE_FIREWALL_APPLY, NULL, why,
                      "Firewall applied in %.1f ms: %zu rules, %zu live Swarm peers",
                      (double) m->last_apply_usec / 1000.0, m->applied->n_rules, m->n_peers);
        return 0;
}

static int on_monitor(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_,
                      void *userdata) {
        FirewallManager *m = userdata;
        NftChange change = {};
        uint64_t start, end;
        char err[256];
        int r;

        r = nft_monitor_process(m->monitor, getpid(), &change);
        if (r <= 0) {
                if (r < 0)
                        log_warning_errno(r, "Cannot read nftables events");
                return 0;
        }
        if (!m->applied)
                return 0; /* nothing of ours to keep */

        /* from the loop's wake-up for the event to the table restored */
        sd_event_now(m->event, CLOCK_MONOTONIC, &start);
        r = kernel_op(m, OP_APPLY, m->applied, NULL, 0, err, sizeof(err));
        end = now_usec();
        if (r < 0) {
                record(m, LOG_ERR, CHANGE_FIREWALL_FAILED, "repair", change.what,
                              "hostd's table was changed by %s[%d] (%s) and could not be restored: %s",
                              change.comm, (int) change.pid, change.what, err);
                return 0;
        }
        m->repairs++;
        m->last_repair_usec = end - start;
        record(m, LOG_WARNING, CHANGE_FIREWALL_REPAIR, NULL, change.what,
                      "hostd's table was changed by %s[%d] (%s); restored in %.1f ms",
                      change.comm[0] ? change.comm : "?", (int) change.pid, change.what,
                      (double) m->last_repair_usec / 1000.0);
        return 0;
}

/* Someone committed while the monitor was paused: compare the live table
 * with what we applied and restore it if it differs. */
static int on_verify(sd_event_source *s _unused_, void *userdata) {
        _cleanup_(nft_live_table_freep) NftLiveTable *live = NULL;
        FirewallManager *m = userdata;
        char err[256];
        int r;

        if (!m->applied)
                return 0;
        r = nft_read_table(m->nft, m->applied, &live);
        if (r < 0) {
                log_warning_errno(r, "Cannot read hostd's table back");
                return 0;
        }
        if (live->matches_desired)
                return 0;
        r = kernel_op(m, OP_APPLY, m->applied, NULL, 0, err, sizeof(err));
        if (r < 0) {
                record(m, LOG_ERR, CHANGE_FIREWALL_FAILED, "repair", live->difference,
                              "hostd's table differs (%s) and could not be restored: %s",
                              live->difference, err);
                return 0;
        }
        m->repairs++;
        record(m, LOG_WARNING, CHANGE_FIREWALL_REPAIR, NULL, live->difference,
                      "hostd's table was changed during an apply (%s); restored", live->difference);
        return 0;
}

int firewall_manager_new(sd_event *event, ChangeLog *changes, const char *state_directory,
                         FirewallManager **ret) {
        _cleanup_(firewall_manager_freep) FirewallManager *m = NULL;
        char why[512];
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->changes = changes;
        if (state_directory) {
                r = firewall_store_open(state_directory, &m->store, why, sizeof(why));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_error("The firewall's saved state is damaged and is replaced at the next change: %s",
                                  why);
        }
        r = nft_socket_open(&m->nft);
        if (r < 0)
                return r;
        r = nft_monitor_open(&m->monitor);
        if (r < 0)
                return r;
        r = sd_event_add_io(event, &m->monitor_source, nft_monitor_fd(m->monitor), EPOLLIN,
                            on_monitor, m);
        if (r < 0)
                return r;
        sd_event_source_set_description(m->monitor_source, "nftables-monitor");
        r = sd_event_add_defer(event, &m->verify, on_verify, m);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(m->verify, SD_EVENT_OFF);
        sd_event_source_set_description(m->verify, "firewall-verify");
        *ret = TAKE_PTR(m);
        return 0;
}

FirewallManager *firewall_manager_free(FirewallManager *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->monitor_source);
        sd_event_source_disable_unref(m->confirm_timer);
        sd_event_source_disable_unref(m->verify);
        nft_monitor_close(m->monitor);
        nft_socket_close(m->nft);
        ruleset_free(m->applied);
        ruleset_free(m->previous);
        firewall_store_free(m->store);
        free(m->policy_cidrs);
        free(m->previous_policy_cidrs);
        free(m->peers);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

static uint64_t realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void store_write(int r) {
        if (r < 0)
                log_error_errno(r, "Cannot write the firewall's state (%s): a restart may not know it: %m",
                                FIREWALL_STATE_FILE);
}

/* An apply left waiting by an earlier hostd (killed, restarted, or the
 * node's power lost inside the window): nobody confirmed it, so the table
 * of before is put back (by the caller, which applies "good" now) and the
 * policy held back. */
static void recover_pending(FirewallManager *m) {
        uint64_t deadline;

        if (!m->store || pending(m) || !firewall_store_pending(m->store, &deadline))
                return;
        store_write(firewall_store_roll_back(m->store, "hostd restarted inside the confirmation window",
                                                realtime_usec()));
        record(m, LOG_WARNING, CHANGE_FIREWALL_ROLLBACK, NULL, "hostd restarted inside the confirmation window",
               "Firewall apply left unconfirmed by an earlier hostd (window until %llu): rolled back to the "
               "last good policy, which is kept until the held policy is applied again",
               (unsigned long long) (deadline / 1000000));
}

int firewall_manager_set_policy(FirewallManager *m, const FirewallPolicy *policy, const char *why,
                                char *err, size_t err_size) {
        const FirewallPolicy *chosen = policy;
        FirewallPolicy none = { .enabled = false };
        bool held = false;
        int r;

        if (pending(m)) {
                /* a pending confirmation decides; do not stack applies */
                return copy_policy(m, policy);
        }
        recover_pending(m);
        if (m->store) {
                chosen = firewall_store_choose(m->store, policy, &held);
                if (held && !chosen)
                        chosen = &none; /* no table was in force before it */
                if (held && !m->held)
                        log_warning("The firewall policy of the configuration was rolled back for want of a "
                                    "confirmation; the last good policy stays in force until `hostctl firewall "
                                    "apply` applies it again");
        }
        r = copy_policy(m, chosen);
        if (r < 0)
                return r;
        r = sync_table(m, why, err, err_size);
        if (r < 0)
                return r;
        m->held = held;
        if (m->store && !held)
                store_write(firewall_store_set_good(m->store, policy, true));
        return 0;
}

int firewall_manager_apply(FirewallManager *m, const FirewallPolicy *policy, const char *why, char *err,
                           size_t err_size) {
        int r;

        if (pending(m)) {
                snprintf(err, err_size, "an apply is already waiting for confirmation");
                return -EBUSY;
        }
        recover_pending(m);
        r = copy_policy(m, policy);
        if (r < 0)
                return r;
        r = sync_table(m, why, err, err_size);
        if (r < 0)
                return r;
        m->held = false;
        if (m->store)
                store_write(firewall_store_set_good(m->store, policy, true));
        return 0;
}

static int compare_cidrs(const void *a, const void *b) {
        return memcmp(a, b, sizeof(Cidr));
}

int firewall_manager_set_peers(FirewallManager *m, const Cidr *peers, size_t n, char *err,
                               size_t err_size) {
        Cidr *copy = calloc(MAX(n, 1u), sizeof(Cidr));

        if (!copy)
                return -ENOMEM;
        if (n > 0)
                memcpy(copy, peers, n * sizeof(Cidr));
        qsort(copy, n, sizeof(Cidr), compare_cidrs);
        if (n == m->n_peers && (n == 0 || memcmp(copy, m->peers, n * sizeof(Cidr)) == 0)) {
                free(copy);
                return 0;
        }
        free(m->peers);
        m->peers = copy;
        m->n_peers = n;
        if (pending(m))
                return 0;
        return sync_table(m, "Swarm membership changed", err, err_size);
}

static int on_confirm_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        FirewallManager *m = userdata;
        char err[256];

        firewall_manager_rollback(m, "confirmation timed out", err, sizeof(err));
        return 0;
}

static void restore_previous_policy(FirewallManager *m) {
        free(m->policy_cidrs);
        m->policy = m->previous_policy;
        m->policy_cidrs = TAKE_PTR(m->previous_policy_cidrs);
        m->have_policy = m->previous_had_policy;
}

int firewall_manager_apply_with_confirm(FirewallManager *m, const FirewallPolicy *policy,
                                        unsigned timeout_sec, char *err, size_t err_size) {
        Ruleset *kept;
        bool was_absent;
        uint64_t now;
        int r;

        if (pending(m)) {
                snprintf(err, err_size, "an apply is already waiting for confirmation");
                return -EBUSY;
        }
        recover_pending(m);
        /* on disk before in the kernel: a hostd that dies inside the window
         * is rolled back by the next one */
        if (m->store) {
                r = firewall_store_begin_pending(m->store, policy,
                                                 realtime_usec() + (uint64_t) timeout_sec * 1000000ULL);
                if (r < 0) {
                        snprintf(err, err_size, "cannot record the pending apply in %s: %s", FIREWALL_STATE_FILE,
                                 strerror(-r));
                        return r;
                }
        }
        kept = TAKE_PTR(m->applied);
        was_absent = !kept;
        m->previous_policy = m->policy;
        m->previous_policy_cidrs = TAKE_PTR(m->policy_cidrs);
        m->previous_had_policy = m->have_policy;
        r = copy_policy(m, policy);
        if (r >= 0)
                r = sync_table(m, "apply with confirmation", err, err_size);
        if (r < 0) {
                ruleset_free(m->applied);
                m->applied = kept;
                restore_previous_policy(m);
                if (m->store)
                        store_write(firewall_store_cancel_pending(m->store));
                return r;
        }
        m->held = false;
        m->previous = kept;
        m->previous_was_absent = was_absent;

        sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        m->confirm_deadline_usec = now + (uint64_t) timeout_sec * 1000000ULL;
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        r = sd_event_add_time(m->event, &m->confirm_timer, CLOCK_MONOTONIC,
                              m->confirm_deadline_usec, 0, on_confirm_timeout, m);
        if (r < 0) {
                /* without a timer the safety net is gone: undo now */
                firewall_manager_rollback(m, "cannot arm the confirmation timer", err, err_size);
                return r;
        }
        record(m, LOG_NOTICE, CHANGE_FIREWALL_APPLY_PENDING, NULL, NULL,
                      "Firewall applied pending confirmation: restored in %u s unless confirmed",
                      timeout_sec);
        return 0;
}

int firewall_manager_confirm(FirewallManager *m, char *err, size_t err_size) {
        if (!pending(m)) {
                snprintf(err, err_size, "no apply is waiting for confirmation");
                return -ENOENT;
        }
        if (m->store) {
                int r = firewall_store_confirm(m->store);
                if (r < 0) {
                        snprintf(err, err_size, "cannot record the confirmation in %s: %s", FIREWALL_STATE_FILE,
                                 strerror(-r));
                        return r;
                }
        }
        m->previous = ruleset_free(m->previous);
        m->previous_was_absent = false;
        free(TAKE_PTR(m->previous_policy_cidrs));
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        record(m, LOG_NOTICE, CHANGE_FIREWALL_CONFIRM, NULL, NULL,
                      "Firewall apply confirmed");
        return 0;
}

int firewall_manager_rollback(FirewallManager *m, const char *why, char *err, size_t err_size) {
        Ruleset *previous;
        int r;

        if (!pending(m)) {
                snprintf(err, err_size, "no apply is waiting for confirmation");
                return -ENOENT;
        }
        /* held on disk first: a crash from here on comes back to the
         * previous table too */
        if (m->store)
                store_write(firewall_store_roll_back(m->store, why, realtime_usec()));
        m->held = true;
        previous = TAKE_PTR(m->previous);
        m->previous_was_absent = false;
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        /* what the table was made of too: a later peer change or repair
         * must rebuild the table live now, not the rolled-back one */
        restore_previous_policy(m);
        r = install(m, previous, err, err_size);
        if (r < 0) {
                record(m, LOG_ERR, CHANGE_FIREWALL_FAILED, "rollback", why,
                              "Firewall rollback failed: %s", m->last_error);
                return r;
        }
        record(m, LOG_WARNING, CHANGE_FIREWALL_ROLLBACK, NULL, why,
                      "Firewall rolled back to the table live before the pending apply (%s)", why);
        return 0;
}

json_t *firewall_manager_status(FirewallManager *m, bool with_live) {
        _cleanup_(nft_live_table_freep) NftLiveTable *live = NULL;
        json_t *j, *rules, *pending_json = json_null();
        char digest[32];

        snprintf(digest, sizeof(digest), "%016llx",
                 m->applied ? (unsigned long long) ruleset_digest(m->applied) : 0ULL);
        if (pending(m)) {
                uint64_t now;
                sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                pending_json = json_pack("{s:I}", "seconds_left",
                                    (json_int_t) (m->confirm_deadline_usec > now
                                                          ? (m->confirm_deadline_usec - now) / 1000000
                                                          : 0));
        }
        json_t *held_json = json_null();
        const char *reason = NULL;
        uint64_t since = 0;
        if (m->held && m->store && firewall_store_held(m->store, &reason, &since))
                held_json = json_pack("{s:s, s:I, s:s}", "reason", reason, "since", (json_int_t) (since / 1000000),
                                      "message",
                                      "the configuration's firewall policy is not in force: it was rolled back; "
                                      "the last good policy is, until `hostctl firewall apply` applies it again");
        j = json_pack("{s:b, s:b, s:s, s:o, s:o, s:I, s:f, s:f, s:s?, s:I}", "enabled",
                      m->have_policy && m->policy.enabled, "applied", m->applied != NULL, "digest",
                      digest, "pending_confirm", pending_json, "held", held_json, "repairs", (json_int_t) m->repairs,
                      "last_repair_ms", (double) m->last_repair_usec / 1000.0, "last_apply_ms",
                      (double) m->last_apply_usec / 1000.0, "last_error",
                      m->last_error[0] ? m->last_error : NULL, "peers", (json_int_t) m->n_peers);
        if (!j || !with_live)
                return j;

        if (nft_read_table(m->nft, m->applied, &live) < 0 || !live)
                return j;
        rules = json_array();
        for (size_t i = 0; i < live->n_rules; i++)
                json_array_append_new(rules, json_pack("{s:s, s:I, s:I}", "id", live->rules[i].id,
                                                       "packets", (json_int_t) live->rules[i].packets,
                                                       "bytes", (json_int_t) live->rules[i].bytes));
        json_object_set_new(j, "live",
                            json_pack("{s:b, s:b, s:s, s:o}", "exists", live->exists, "matches_desired",
                                      live->matches_desired, "difference", live->difference, "rules",
                                      rules));
        return j;
}

const FirewallPolicy *firewall_manager_policy(const FirewallManager *m) {
        return m->have_policy ? &m->policy : NULL;
}

const Ruleset *firewall_manager_applied(const FirewallManager *m) {
        return m->applied;
}

char *firewall_manager_render(FirewallManager *m) {
        _cleanup_(ruleset_freep) Ruleset *desired = NULL;

        if (!m->have_policy || build_desired(m, &desired) < 0)
                return NULL;
        return ruleset_to_nft(desired);
}

int firewall_peers_save(const char *state_directory, const Cidr *peers, size_t n) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size = 0;

        if (asprintf(&path, "%s/%s", state_directory, FIREWALL_PEERS_FILE) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        text = malloc(n * 48 + 1);
        if (!text)
                return -ENOMEM;
        text[0] = 0;
        for (size_t i = 0; i < n; i++) {
                char c[64];
                cidr_format(&peers[i], c, sizeof(c));
                size += (size_t) sprintf(text + size, "%s\n", c);
        }
        return write_file_atomic(path, text, size, 0600);
}

int firewall_peers_load(const char *state_directory, Cidr **ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_free_ Cidr *list = NULL;
        size_t n = 0, lines = 1;
        char *line, *save = NULL;
        int r;

        if (asprintf(&path, "%s/%s", state_directory, FIREWALL_PEERS_FILE) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = read_file(path, 16 * 1024 * 1024, &text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (r != -ENOENT)
                        log_warning_errno(r, "Cannot read %s; using the static peers only: %m", path);
                return 0;
        }
        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        list = calloc(lines, sizeof(Cidr));
        if (!list)
                return -ENOMEM;
        unsigned number = 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                number++;
                if (cidr_parse(line, &list[n]) < 0) {
                        log_warning("%s line %u is not an address; using the static peers only", path, number);
                        return 0;
                }
                n++;
        }
        *ret = TAKE_PTR(list);
        return (int) n;
}

static int apply_once(NftSocket *nft, const FirewallPolicy *policy, const Cidr *peers, size_t n, char *err,
                      size_t err_size) {
        _cleanup_(ruleset_freep) Ruleset *ruleset = NULL;
        int r;

        if (!policy->enabled)
                return nft_delete_table(nft, err, err_size);
        r = firewall_build(policy, peers, n, &ruleset);
        if (r < 0) {
                snprintf(err, err_size, "cannot build the ruleset: %s", strerror(-r));
                return r;
        }
        return nft_apply(nft, ruleset, err, err_size);
}

static void boot_record(ChangeLog *changes, int level, ChangeKind kind, const char *reason, const char *format,
                        ...) _printf_(5, 6);

static void boot_record(ChangeLog *changes, int level, ChangeKind kind, const char *reason, const char *format,
                        ...) {
        char message[1024], field[300];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        snprintf(field, sizeof(field), "HOSTD_REASON=%s", reason);
        change_record(changes, level, kind, LOG_FIELDS(field, "HOSTD_SUBSYSTEM=firewall"), "%s", message);
}

int firewall_boot_apply(const FirewallPolicy *file, const char *file_error, const char *state_directory,
                        ChangeLog *changes, char *err, size_t err_size) {
        _cleanup_(nft_socket_closep) NftSocket *nft = NULL;
        _cleanup_(firewall_store_freep) FirewallStore *store = NULL;
        _cleanup_(config_freep) HostdConfig *defaults = NULL;
        _cleanup_free_ Cidr *peers = NULL;
        const FirewallPolicy *chosen, *fallback;
        FirewallPolicy none = { .enabled = false };
        char why[512], failure[512];
        ConfigError error;
        bool held = false;
        int r, n;

        r = nft_socket_open(&nft);
        if (r < 0) {
                snprintf(err, err_size, "cannot open nftables netlink: %s", strerror(-r));
                boot_record(changes, LOG_CRIT, CHANGE_FIREWALL_FAILED, "boot", "Firewall not applied at boot: %s",
                            err);
                return r;
        }
        r = firewall_store_open(state_directory, &store, why, sizeof(why));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_error("The firewall's saved state is damaged: %s", why);
        n = firewall_peers_load(state_directory, &peers);
        if (n < 0)
                n = 0;
        /* an apply nobody confirmed before the node went down */
        if (firewall_store_pending(store, NULL)) {
                if (firewall_store_roll_back(store, "the node restarted inside the confirmation window",
                                             realtime_usec()) < 0)
                        log_error("Cannot write the firewall's state under %s", state_directory);
                boot_record(changes, LOG_WARNING, CHANGE_FIREWALL_ROLLBACK, "boot",
                            "Firewall apply left unconfirmed when the node went down: rolled back to the last good "
                            "policy");
        }
        /* the last good policy, else the built-in one: never no table */
        if (config_parse("{}", 2, &defaults, &error) < 0)
                return -ENOMEM;
        fallback = firewall_store_good(store) ?: &defaults->firewall;

        if (!file) {
                snprintf(failure, sizeof(failure), "%s", file_error ? file_error : "no configuration");
                goto fall_back;
        }
        chosen = firewall_store_choose(store, file, &held);
        if (held && !chosen)
                chosen = &none;
        uint64_t start = now_usec();
        r = apply_once(nft, chosen, peers, (size_t) n, failure, sizeof(failure));
        if (r < 0)
                goto fall_back;
        double apply_ms = (double) (now_usec() - start) / 1000.0;
        if (held) {
                const char *reason = NULL;
                (void) firewall_store_held(store, &reason, NULL);
                boot_record(changes, LOG_WARNING, CHANGE_FIREWALL_APPLY, "boot",
                            "Firewall: the configuration's policy is held back (rolled back: %s); the last good "
                            "policy applied (%d saved Swarm peers)",
                            reason ?: "unconfirmed", n);
                return 0;
        }
        if (firewall_store_set_good(store, file, true) < 0)
                log_error("Cannot write the firewall's state under %s", state_directory);
        if (file->enabled)
                boot_record(changes, LOG_NOTICE, CHANGE_FIREWALL_APPLY, "oneshot",
                            "Firewall applied once in %.1f ms (built and written in one batch; %d saved Swarm "
                            "peers)",
                            apply_ms, n);
        else
                boot_record(changes, LOG_NOTICE, CHANGE_FIREWALL_REMOVE, "oneshot",
                            "Firewall disabled by policy: hostd's table removed");
        return 0;

fall_back:
        /* fail closed: the configured policy cannot be put in force */
        r = apply_once(nft, fallback, peers, (size_t) n, why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "%s; and the %s policy could not be applied either: %s", failure,
                         firewall_store_good(store) ? "last good" : "built-in", why);
                boot_record(changes, LOG_CRIT, CHANGE_FIREWALL_FAILED, "boot", "Firewall not applied at boot: %s",
                            err);
                return r;
        }
        snprintf(err, err_size, "%s; the %s policy applied instead", failure,
                 firewall_store_good(store) ? "last good" : "built-in default");
        boot_record(changes, LOG_CRIT, CHANGE_FIREWALL_FAILED, "boot", "Firewall: %s", err);
        return -EINVAL;
}
