/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* hostd's nftables table over netlink (libmnl + libnftnl): apply a Ruleset
 * as one atomic transaction, read the live table back, and watch for anyone
 * else touching it.
 *
 * Apply sends a single batch: "add table" (a no-op if it exists), "delete
 * table", then the table with its sets and elements, chain and rules. The
 * kernel commits all of it or none: a failure leaves the previous table (or
 * its absence) exactly as it was. Only the table named RULESET_TABLE in
 * family inet is ever touched; Docker's and the administrator's tables are
 * never read or written except to be listed.
 *
 * Each rule carries its Rule.id as an nft comment (rule userdata, the same
 * TLV nft(8) writes), so counters and live rules are matched by id. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "firewall/ruleset.h"

typedef struct NftSocket NftSocket;

/* A NETLINK_NETFILTER socket for transactions and dumps (O_CLOEXEC). Needs
 * CAP_NET_ADMIN in the current network namespace. */
int nft_socket_open(NftSocket **ret);
/* A socket without a kernel, for the fuzzer and tests of the read-back:
 * its requests get the answers in replies, as recorded from a kernel. Each
 * answer is, in 32-bit host-order words, the netlink type of the request it
 * answered, that request's sequence number and a count of datagrams, then
 * each datagram as a 32-bit length and that many bytes of netlink messages.
 * A request takes the next answer recorded for its type; a read of the
 * table starts from the first again. The messages with the answer's
 * sequence number are made the request's, others stay another request's. A request whose
 * answer runs out, or that has none, gets no answer (-ETIMEDOUT). Only
 * nft_read_table may be used on it. replies is borrowed. */
int nft_socket_replay(const void *replies, size_t size, NftSocket **ret);
/* Hands every datagram a read of the table receives (nft_read_table) to
 * record, as the kernel sent it: how the replies a replay socket answers
 * with are made (tests/fuzz/nft-record.c). NULL stops. */
typedef void (*NftRecorder)(const void *datagram, size_t size, void *userdata);
void nft_socket_record(NftSocket *s, NftRecorder record, void *userdata);
NftSocket *nft_socket_close(NftSocket *s);
DEFINE_CLEANUP_FUNC(NftSocket, nft_socket_close);

/* Applies the ruleset atomically. On failure returns a negative errno and
 * writes which object the kernel refused and why into err (e.g. "set
 * peers4: File exists"). */
int nft_apply(NftSocket *s, const Ruleset *ruleset, char *err, size_t err_size);

/* Deletes hostd's table; 0 when it did not exist. */
int nft_delete_table(NftSocket *s, char *err, size_t err_size);

typedef struct NftRuleState {
        char id[32];  /* the comment; "" for a rule hostd did not write */
        uint64_t packets, bytes;
        uint64_t handle;
} NftRuleState;

typedef struct NftSetState {
        char name[32];
        size_t n_elements; /* as the kernel counts them (an interval is two) */
} NftSetState;

typedef struct NftLiveTable {
        bool exists;
        NftRuleState *rules; /* in chain order */
        size_t n_rules;
        NftSetState *sets;
        size_t n_sets;
        /* true when every live rule and set is identical to the desired
         * ruleset passed to nft_read_table (expressions compared one by
         * one, ignoring counter values and handles; set elements compared
         * as sets), and nothing else is in the table */
        bool matches_desired;
        char difference[256]; /* the first difference found, when not */
} NftLiveTable;

/* Dumps hostd's table. desired may be NULL (then matches_desired is false). */
int nft_read_table(NftSocket *s, const Ruleset *desired, NftLiveTable **ret);
NftLiveTable *nft_live_table_free(NftLiveTable *t);
DEFINE_CLEANUP_FUNC(NftLiveTable, nft_live_table_free);

/* Changes the live table in place, in one transaction, for a change that
 * keeps its sets (names and keys) and its chain: the n sets' elements are
 * replaced (flush the set, add the new elements), and when rules is not
 * NULL the chain's rules are replaced by rules' (flush the chain, add them;
 * they look their sets up by name). All of it changes, or none; a table
 * without one of the sets or the chain is refused (-ENOENT), so the caller
 * can write the whole table instead. */
int nft_update(NftSocket *s, const Ruleset *rules, const RuleSet *const *sets, size_t n, char *err,
               size_t err_size);
/* nft_update of one set's elements alone. */
int nft_replace_set(NftSocket *s, const RuleSet *set, char *err, size_t err_size);

/* The kernel's ruleset generation: it grows by one with every committed
 * transaction, whoever commits it. */
int nft_generation(NftSocket *s, uint32_t *ret);

/* The watcher: a netlink socket subscribed to nftables change events. */
typedef struct NftMonitor NftMonitor;

int nft_monitor_open(NftMonitor **ret);
NftMonitor *nft_monitor_close(NftMonitor *m);
DEFINE_CLEANUP_FUNC(NftMonitor, nft_monitor_close);
int nft_monitor_fd(const NftMonitor *m); /* non-blocking; poll for EPOLLIN */

/* Leaves and rejoins the event group. With no listener the kernel builds no
 * notification per set element, which makes hostd's own applies of large
 * sets several times faster; the caller compares generations around the
 * pause to learn whether anyone else committed meanwhile. */
int nft_monitor_pause(NftMonitor *m);
int nft_monitor_resume(NftMonitor *m);

typedef struct NftChange {
        pid_t pid;        /* the process that committed the transaction */
        char comm[32];    /* its name, as the kernel reports it */
        char what[128];   /* e.g. "table deleted", "rule added to prerouting" */
} NftChange;

/* Drains pending events. Returns 1 and fills *change when a completed
 * transaction by a process other than ignore_pid touched hostd's table
 * (the first such one; later ones in the same drain are folded in), 0 when
 * nothing relevant happened, or a negative errno. Event loss (ENOBUFS) is
 * reported as a change by pid 0 with what = "events lost", since the table
 * may have changed unseen. */
int nft_monitor_process(NftMonitor *m, pid_t ignore_pid, NftChange *change);
