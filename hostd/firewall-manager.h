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

/* changes, which may be NULL, must outlive the manager. */
int firewall_manager_new(sd_event *event, ChangeLog *changes, FirewallManager **ret);
FirewallManager *firewall_manager_free(FirewallManager *m);
DEFINE_CLEANUP_FUNC(FirewallManager, firewall_manager_free);

/* Makes the table follow this policy and these live peers (copied). A
 * disabled policy removes hostd's table. Peer-only changes replace the
 * peer sets in place; anything else re-applies the whole table in one
 * transaction. why names the cause for the change record. Returns 0, or a
 * negative errno with the reason in err (the previous table stays). */
int firewall_manager_set_policy(FirewallManager *m, const FirewallPolicy *policy,
                                const char *why, char *err, size_t err_size);
int firewall_manager_set_peers(FirewallManager *m, const Cidr *peers, size_t n,
                               char *err, size_t err_size);

/* Applies the policy now, keeping the table that was live before; unless
 * firewall_manager_confirm() is called within timeout_sec, that previous
 * table is restored by itself. */
int firewall_manager_apply_with_confirm(FirewallManager *m, const FirewallPolicy *policy,
                                        unsigned timeout_sec, char *err, size_t err_size);
int firewall_manager_confirm(FirewallManager *m, char *err, size_t err_size);
/* Restores the table that was live before the pending apply now. */
int firewall_manager_rollback(FirewallManager *m, const char *why, char *err, size_t err_size);

/* {"enabled", "applied", "digest", "pending_confirm": {...}|null,
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

/* Applies the policy once, without an event loop (hostd --oneshot). */
int firewall_apply_once(const FirewallPolicy *policy, const Cidr *peers, size_t n,
                        char *err, size_t err_size);

/* The table hostd last applied (NULL: none); valid until the next apply. */
const Ruleset *firewall_manager_applied(const FirewallManager *m);

/* The policy the live table is made of (a rollback restores the one before
 * the pending apply), or NULL before any. */
const FirewallPolicy *firewall_manager_policy(const FirewallManager *m);

/* The desired table as nft text. */
char *firewall_manager_render(FirewallManager *m);
