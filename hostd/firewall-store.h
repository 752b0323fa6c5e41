/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the firewall must remember across restarts and boots, in one file,
 * STATE/firewall-state.json, rewritten whole and atomically at each change
 * (so every crash leaves the state before or after it, never between):
 *
 *   {"good": POLICY|null,                the policy last in force for good
 *    "pending": {"deadline": USEC, "policy": POLICY}|null,
 *                                        an apply waiting for confirmation
 *    "held": {"reason": TEXT, "since": USEC, "policy": POLICY}|null}
 *                                        a policy rolled back for want of a
 *                                        confirmation, not applied again
 *                                        from the file until applied
 *                                        explicitly
 *
 * POLICY is the "firewall" section's schema (policy/config.h); times are
 * CLOCK_REALTIME microseconds. The pending record is written before its
 * table goes into the kernel, so a hostd that dies inside the window (or a
 * node that loses power) is found on the next start with the record still
 * there, and rolls back to "good": an apply nobody confirmed never outlives
 * the process that made it. Every call returns 0 or a negative errno. */

#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"
#include "policy/config.h"

#define FIREWALL_STATE_FILE "firewall-state.json"

typedef struct FirewallStore FirewallStore;

/* Reads the state of state_directory (none yet: empty). A file that cannot
 * be read or parsed returns its error, with err naming the file, line and
 * member, and *ret set to an empty store all the same, which the next
 * change overwrites: boot must go on with what it has. */
int firewall_store_open(const char *state_directory, FirewallStore **ret, char *err, size_t err_size);
/* The same from the file's text (NULL: no file yet); path names it in
 * errors and is where changes are saved. */
int firewall_store_from_text(const char *path, const char *text, size_t size, FirewallStore **ret, char *err,
                             size_t err_size);
/* The file's text, as saved (NULL: out of memory); free() it. */
char *firewall_store_to_text(const FirewallStore *s);
FirewallStore *firewall_store_free(FirewallStore *s);
DEFINE_CLEANUP_FUNC(FirewallStore, firewall_store_free);

/* NULL when none was saved. */
const FirewallPolicy *firewall_store_good(const FirewallStore *s);
const FirewallPolicy *firewall_store_pending(const FirewallStore *s, uint64_t *ret_deadline_usec);
const FirewallPolicy *firewall_store_held(const FirewallStore *s, const char **ret_reason,
                                          uint64_t *ret_since_usec);

/* p is in force for good (applied from the file, explicitly, or
 * confirmed); clear_held forgets a held policy too (an explicit apply). */
int firewall_store_set_good(FirewallStore *s, const FirewallPolicy *p, bool clear_held);
/* p is about to go into the kernel, to be confirmed by deadline_usec;
 * an explicit apply, so a held policy is forgotten. */
int firewall_store_begin_pending(FirewallStore *s, const FirewallPolicy *p, uint64_t deadline_usec);
/* The pending policy did not go in after all: forgotten. */
int firewall_store_cancel_pending(FirewallStore *s);
/* The pending policy becomes the good one. */
int firewall_store_confirm(FirewallStore *s);
/* The pending policy is held back, for reason, since now_usec; "good"
 * is what must be in force. */
int firewall_store_roll_back(FirewallStore *s, const char *reason, uint64_t now_usec);

/* The policy to put in force for the file's policy: the file's, or, while
 * the file's is the one held back, the good one (NULL: none, no table);
 * *ret_held says which. A file whose policy changed since is applied, and
 * the hold is then forgotten by the caller's set_good. */
const FirewallPolicy *firewall_store_choose(const FirewallStore *s, const FirewallPolicy *file, bool *ret_held);
