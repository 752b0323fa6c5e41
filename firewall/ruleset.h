/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The firewall as data: the one nftables table hostd owns, built from the
 * policy, and rendered either as nft(8) text (for review) or as a netlink
 * batch (firewall/netlink.h). Both renderings come from this one model, so
 * what `hostctl firewall render` shows is what is applied.
 *
 * The table is family inet, named "hostd", with one base chain on the
 * prerouting hook at priority -150 (mangle): it runs before Docker's DNAT
 * (-100), so it sees the original destination port of connections to
 * Docker-published ports, and conntrack (-200) has already given it state.
 * A drop in any base chain is final, so Docker's later accepts cannot
 * reopen what hostd drops.
 *
 * Addresses and ports are looked up in named sets, so the cost of a rule
 * does not grow with the number of peers. Address sets are interval sets
 * holding ranges; overlapping and adjacent ranges are merged. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"
#include "common/macro.h"

#define RULESET_TABLE "hostd"
#define RULESET_CHAIN "prerouting"
#define RULESET_PRIORITY (-150)

typedef enum SetKey {
        SET_KEY_IPV4,      /* ipv4_addr, interval */
        SET_KEY_IPV6,      /* ipv6_addr, interval */
        SET_KEY_SERVICE,   /* inet_service (a port) */
        SET_KEY_ICMP,      /* icmp_type */
        SET_KEY_ICMPV6,    /* icmpv6_type */
} SetKey;

/* An element of an address set is an inclusive range [first, last]; of the
 * other sets, a value (first == last, in the low bytes, host order). */
typedef struct SetRange {
        uint8_t first[16];
        uint8_t last[16];
} SetRange;

typedef struct RuleSet {
        char name[32];
        SetKey key;
        SetRange *ranges; /* once sealed: sorted, disjoint, non-adjacent */
        size_t n_ranges;
        size_t capacity;
} RuleSet;

typedef enum MatchKind {
        MATCH_IIFNAME,       /* iifname "eth0" or a prefix "br-*" */
        MATCH_NFPROTO,       /* meta nfproto ipv4|ipv6 */
        MATCH_L4PROTO,       /* meta l4proto tcp|udp|icmp|ipv6-icmp|esp */
        MATCH_CT_STATE,      /* ct state {bits} */
        MATCH_SADDR_IN_SET,  /* ip saddr @set / ip6 saddr @set (by nfproto) */
        MATCH_SADDR_PREFIX,  /* ip6 saddr fe80::/10 */
        MATCH_DPORT_IN_SET,  /* th dport @set (tcp or udp per l4proto) */
        MATCH_DPORT,         /* th dport N */
        MATCH_SPORT,         /* th sport N */
        MATCH_ICMP_TYPE_IN_SET, /* icmp type @set / icmpv6 type @set */
        MATCH_ICMP_TYPE,     /* icmp type N / icmpv6 type N */
} MatchKind;

/* Conntrack state bits, as the kernel's NF_CT_STATE_*_BIT. */
#define CT_STATE_INVALID     (1u << 0)
#define CT_STATE_ESTABLISHED (1u << 1)
#define CT_STATE_RELATED     (1u << 2)
#define CT_STATE_NEW         (1u << 3)

typedef struct Match {
        MatchKind kind;
        bool negate;          /* MATCH_IIFNAME only: "!=" */
        uint8_t nfproto;      /* MATCH_NFPROTO: NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10) */
        uint8_t l4proto;      /* MATCH_L4PROTO: IPPROTO_* */
        uint32_t ct_state;    /* MATCH_CT_STATE: CT_STATE_* bits, any of */
        uint16_t port;        /* MATCH_DPORT, MATCH_SPORT */
        uint8_t icmp_type;    /* MATCH_ICMP_TYPE */
        char name[32];        /* MATCH_IIFNAME: the name, ending in '*' for a prefix;
                               * *_IN_SET: the set's name */
        Cidr prefix;          /* MATCH_SADDR_PREFIX */
} Match;

typedef enum Verdict {
        VERDICT_NONE,  /* continue with the next rule */
        VERDICT_ACCEPT,
        VERDICT_DROP,
} Verdict;

#define RULE_MAX_MATCHES 6

typedef struct Rule {
        char id[32];          /* stable name, stored as the rule's comment;
                               * counters are reported under it */
        Match matches[RULE_MAX_MATCHES];
        size_t n_matches;
        unsigned limit_per_second; /* 0: no limit; else "limit rate N/second" */
        unsigned limit_burst;
        const char *log_prefix; /* NULL: no log; logs are rate-limited by limit */
        Verdict verdict;
        /* every rule carries a counter */
} Rule;

typedef struct Ruleset {
        RuleSet *sets;
        size_t n_sets;
        bool sealed;
        Rule *rules;
        size_t n_rules;
} Ruleset;

Ruleset *ruleset_free(Ruleset *r);
DEFINE_CLEANUP_FUNC(Ruleset, ruleset_free);

/* A Ruleset is built by adding sets and rules; the builders copy what they
 * are given. Return 0 or -ENOMEM/-EINVAL (bad names, too many matches).
 * Address ranges are only appended while building; ruleset_seal() sorts and
 * merges them, and must be called before a ruleset is rendered or applied. */
int ruleset_new(Ruleset **ret);
int ruleset_add_set(Ruleset *r, const char *name, SetKey key, RuleSet **ret);
/* Adds a prefix to an address set, merged with what is there. */
int ruleset_set_add_cidr(RuleSet *s, const Cidr *c);
/* Adds a value (port, ICMP type) to a value set. */
int ruleset_set_add_value(RuleSet *s, uint16_t value);
int ruleset_add_rule(Ruleset *r, const Rule *rule);
int ruleset_seal(Ruleset *r);
const RuleSet *ruleset_find_set(const Ruleset *r, const char *name);
const Rule *ruleset_find_rule(const Ruleset *r, const char *id);

/* A new connection from outside, as far as the table can tell: its source
 * address is in none of the table's address sets and is not link-local,
 * its source port is whatever the sender likes, it is conntrack state
 * new, and it arrives on ifname. */
typedef struct OutsidePacket {
        const char *ifname;
        uint8_t nfproto;  /* NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10) */
        uint8_t l4proto;  /* IPPROTO_TCP or IPPROTO_UDP */
        uint16_t dport;
} OutsidePacket;

/* An interface name against a policy's pattern: the name itself, or a
 * prefix when it ends with '*' ("br-*"), as nftables' iifname does. */
bool ifname_matches(const char *pattern, const char *ifname);

/* The verdict the table gives such a packet, walking its rules in order as
 * the kernel does; *ret_rule (may be NULL) is the rule that decided, NULL
 * when none did and the chain's policy (accept) applies. The ruleset must
 * be sealed. */
Verdict ruleset_verdict_from_outside(const Ruleset *r, const OutsidePacket *p, const Rule **ret_rule);

/* nft(8) syntax for the whole table, loadable with `nft -f`. Returns a
 * malloc'd string or NULL on allocation failure. */
char *ruleset_to_nft(const Ruleset *r);

/* A stable digest of the ruleset (sets and rules), to tell whether the
 * desired ruleset changed. */
uint64_t ruleset_digest(const Ruleset *r);
