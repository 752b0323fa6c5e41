/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's side of the firewall: keeps hostd's nftables table equal to
 * what the policy and the live Swarm peers say. It applies on change,
 * repairs the table when anyone else touches it (nftables netlink events,
 * no polling), and supports an apply that rolls itself back unless
 * confirmed in time. Every change is logged as a change record. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "common/cidr.h"
#include "common/macro.h"
#include "firewall/ruleset.h"
#include "hostd/change-log.h"
#include "policy/config.h"

typedef struct FirewallManager FirewallManager;

/* changes, which may be NULL, must outlive the manager. state_directory
 * (NULL: nothing survives the process) keeps the firewall's state
 * (hostd/firewall-store.h): a pending apply, the last good policy and one
 * held back. */
int firewall_manager_new(sd_event *event, ChangeLog *changes, const char *state_directory,
                         FirewallManager **ret);
FirewallManager *firewall_manager_free(FirewallManager *m);
DEFINE_CLEANUP_FUNC(FirewallManager, firewall_manager_free);

/* Makes the table follow this policy and these live peers (copied). A
 * disabled policy removes hostd's table. Peer-only changes replace the
 * peer sets in place; anything else re-applies the whole table in one
 * transaction. why names the cause for the change record. Returns 0, or a
 * negative errno with the reason in err (the previous table stays).
 *
 * set_policy is the configuration's policy (start, reload): one that was
 * rolled back for want of a confirmation is held back, and the last good
 * policy stays in force (status says so), until firewall_manager_apply or
 * an apply with confirmation applies it explicitly. An apply an earlier
 * hostd left unconfirmed is rolled back first, the same way. */
int firewall_manager_set_policy(FirewallManager *m, const FirewallPolicy *policy,
                                const char *why, char *err, size_t err_size);
int firewall_manager_apply(FirewallManager *m, const FirewallPolicy *policy, const char *why,
                           char *err, size_t err_size);
int firewall_manager_set_peers(FirewallManager *m, const Cidr *peers, size_t n,
                               char *err, size_t err_size);

/* Applies the policy now, keeping the table that was live before; unless
 * firewall_manager_confirm() is called within timeout_sec, that previous
 * table is restored by itself and the policy held back. The pending state
 * is on disk before the table is in the kernel, so a restart inside the
 * window restores the previous table too. */
int firewall_manager_apply_with_confirm(FirewallManager *m, const FirewallPolicy *policy,
                                        unsigned timeout_sec, char *err, size_t err_size);
int firewall_manager_confirm(FirewallManager *m, char *err, size_t err_size);
/* Restores the table that was live before the pending apply now. */
int firewall_manager_rollback(FirewallManager *m, const char *why, char *err, size_t err_size);

/* {"enabled", "applied", "digest", "pending_confirm": {...}|null,
 *  "held": {"reason", "since", "message"}|null,
 *  "repairs", "last_repair_ms", "last_error", "peers": N,
 *  "live": {"exists", "matches_desired", "difference",
 *           "rules": [{"id","packets","bytes"}...]}}
 * "live" only with_live: it dumps the table from the kernel. */
json_t *firewall_manager_status(FirewallManager *m, bool with_live);

/* The live Swarm peers are cached in the state directory so that a node
 * booting before Docker starts (hostd --oneshot) still admits its peers.
 * One address per line. */
#define FIREWALL_PEERS_FILE "swarm-peers"
int firewall_peers_save(const char *state_directory, const Cidr *peers, size_t n);
/* Returns the number of peers read into *ret, for a start before Docker
 * answers: 0 when none were saved, and when the file is corrupt (said in
 * the log, naming the line: the static peers only, then). -ENOMEM. */
int firewall_peers_load(const char *state_directory, Cidr **ret);

/* Applies the firewall once, without an event loop (hostd --oneshot, at
 * boot), with the Swarm peers saved by the last run, and never leaves the
 * node without a table it could have: an apply left pending is rolled
 * back; a policy held back stays so (the last good one applied, 0); and
 * when file is NULL (the configuration unreadable, file_error says why) or
 * the kernel refuses its table, the last good policy is applied (the
 * built-in default when none was saved) and -EINVAL returned with err
 * saying what happened. Each outcome is a change record. */
int firewall_boot_apply(const FirewallPolicy *file, const char *file_error, const char *state_directory,
                        ChangeLog *changes, char *err, size_t err_size);

/* The table hostd last applied (NULL: none); valid until the next apply. */
const Ruleset *firewall_manager_applied(const FirewallManager *m);

/* The policy the live table is made of (a rollback restores the one before
 * the pending apply), or NULL before any. */
const FirewallPolicy *firewall_manager_policy(const FirewallManager *m);

/* The desired table as nft text. */
char *firewall_manager_render(FirewallManager *m);
