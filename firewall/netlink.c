/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostd's table over nf_tables netlink (see netlink.h). Batches are laid out
 * as nft(8) lays them out, and each match becomes the expressions nft emits
 * for the same rule text, so `nft list` prints the table the way
 * ruleset_to_nft() renders it, and a table loaded with `nft -f` from that
 * text is expression for expression the table applied here. */

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "firewall/netlink.h"

/* nftables' datatype numbers (src/datatype.h), kept by the kernel as the set
 * key type so that nft(8) prints elements as addresses, ports, ICMP types. */
enum {
        NFT_DATATYPE_IPADDR = 7,
        NFT_DATATYPE_IP6ADDR = 8,
        NFT_DATATYPE_INET_SERVICE = 13,
        NFT_DATATYPE_ICMP_TYPE = 14,
        NFT_DATATYPE_ICMPV6_TYPE = 29,
};

/* nftables' enum byteorder value for big endian, stored in set userdata */
#define NFT_BYTEORDER_BIG_ENDIAN 2u
/* nft's limit on rule and set userdata (NFT_USERDATA_MAXLEN) */
#define USERDATA_MAX 256u
/* NF_LOG_PREFIXLEN - 1: the kernel refuses longer prefixes */
#define LOG_PREFIX_MAX 127u
/* the kernel fills dump datagrams up to 32 KiB (netlink_recvmsg) */
#define RECV_BUFFER_SIZE 32768u
/* requests are a header and a few names */
#define REQUEST_SIZE 1024u
/* receive buffer reserved per expected ACK, as nft does (the kernel doubles
 * it, which covers an ACK skb's truesize) */
#define ACK_RESERVE 1024u
/* ACKs are queued while the kernel processes the batch, inside sendmsg();
 * the wait only guards against a reply that never comes */
#define REPLY_TIMEOUT_MS 5000
/* an element's attributes at most: nests, a 16 byte key, flags, userdata */
#define ELEMENT_MAX_SIZE 64u
/* 16 MiB effective: the events of an apply of 40,000 set elements fit */
#define MONITOR_RCVBUF (8 * 1024 * 1024)
#define MONITOR_BUFFER_SIZE 65536u

struct NftSocket {
        struct mnl_socket *nl; /* NULL for a replay socket */
        uint32_t portid;
        uint32_t seq;
        int rcvbuf; /* as the kernel reports it (doubled) */
        int sndbuf;
        /* a replay socket: the answers its requests get, and what is left
         * of the one being read */
        const uint8_t *replay;
        size_t replay_size, replay_at;
        uint32_t replay_seq, replay_left;
        uint32_t replay_answer_seq; /* the recorded sequence number of the answer */
        NftRecorder record;
        void *record_userdata;
};

struct NftMonitor {
        struct mnl_socket *nl;
        /* the transaction being received: whether it touched our table and
         * its most telling event so far */
        bool touched;
        int rank;
        char what[128];
        uint8_t *buf;
};

#define DEFINE_NFTNL_FREEP(type)                                               \
        static void type##_freep(struct type **p) {                            \
                if (*p)                                                        \
                        type##_free(*p);                                       \
                *p = NULL;                                                     \
        }

DEFINE_NFTNL_FREEP(nftnl_table)
DEFINE_NFTNL_FREEP(nftnl_chain)
DEFINE_NFTNL_FREEP(nftnl_set)
DEFINE_NFTNL_FREEP(nftnl_rule)
DEFINE_NFTNL_FREEP(nftnl_udata_buf)

static void nftnl_expr_iter_destroyp(struct nftnl_expr_iter **p) {
        if (*p)
                nftnl_expr_iter_destroy(*p);
        *p = NULL;
}

static void format_error(char *err, size_t size, int error, const char *format, ...) _printf_(4, 5);

/* "<object>: <strerror>" into err */
static void format_error(char *err, size_t size, int error, const char *format, ...) {
        char object[96];
        va_list ap;

        if (!err || size == 0)
                return;
        va_start(ap, format);
        vsnprintf(object, sizeof(object), format, ap);
        va_end(ap);
        errno = error < 0 ? -error : error;
        snprintf(err, size, "%s: %m", object);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t value) {
        for (size_t i = 0; i < len; i++)
                if (p[i] != value)
                        return false;
        return true;
}

static bool name_ok(const char *name, size_t size) {
        size_t n = strnlen(name, size);

        return n > 0 && n < size;
}

/* --- sets and their elements --- */

static size_t key_length(SetKey key) {
        switch (key) {
        case SET_KEY_IPV4:
                return 4;
        case SET_KEY_IPV6:
                return 16;
        case SET_KEY_SERVICE:
                return 2;
        case SET_KEY_ICMP:
        case SET_KEY_ICMPV6:
                return 1;
        }
        return 0;
}

static uint32_t key_datatype(SetKey key) {
        switch (key) {
        case SET_KEY_IPV4:
                return NFT_DATATYPE_IPADDR;
        case SET_KEY_IPV6:
                return NFT_DATATYPE_IP6ADDR;
        case SET_KEY_SERVICE:
                return NFT_DATATYPE_INET_SERVICE;
        case SET_KEY_ICMP:
                return NFT_DATATYPE_ICMP_TYPE;
        case SET_KEY_ICMPV6:
                return NFT_DATATYPE_ICMPV6_TYPE;
        }
        return 0;
}

static bool key_is_interval(SetKey key) {
        return key == SET_KEY_IPV4 || key == SET_KEY_IPV6;
}

/* One element as the kernel stores it. */
typedef struct Element {
        uint8_t key[16];
        uint32_t flags; /* NFT_SET_ELEM_INTERVAL_END */
        bool open;      /* starts a range that runs to the all-ones address */
} Element;

static int compare_elements(const void *a, const void *b) {
        const Element *x = a, *y = b;
        int c = memcmp(x->key, y->key, sizeof(x->key));

        return c ? c : (x->flags > y->flags) - (x->flags < y->flags);
}

/* The elements nft sends for a set (src/intervals.c): a value per value; per
 * range a start element and an interval-end element at last + 1, the end
 * left out when last is all ones (then nft marks the start "open" in
 * userdata); and before the first range, unless it starts at zero, an
 * interval end at zero. */
static int set_elements(const RuleSet *s, Element **ret, size_t *ret_n) {
        size_t len = key_length(s->key), n = 0;
        _cleanup_free_ Element *e = NULL;

        if (len == 0)
                return -EINVAL;
        e = calloc(2 * s->n_ranges + 1, sizeof(*e));
        if (!e)
                return -ENOMEM;

        if (key_is_interval(s->key)) {
                if (s->n_ranges > 0 && !all_bytes(s->ranges[0].first, len, 0))
                        e[n++].flags = NFT_SET_ELEM_INTERVAL_END;
                for (size_t i = 0; i < s->n_ranges; i++) {
                        const SetRange *r = &s->ranges[i];
                        Element *start = &e[n++];

                        if (memcmp(r->first, r->last, len) > 0)
                                return -EINVAL;
                        memcpy(start->key, r->first, len);
                        if (all_bytes(r->last, len, 0xff)) {
                                start->open = true;
                                continue;
                        }
                        Element *end = &e[n++];
                        memcpy(end->key, r->last, len);
                        for (size_t b = len; b > 0; b--)
                                if (++end->key[b - 1] != 0)
                                        break;
                        end->flags = NFT_SET_ELEM_INTERVAL_END;
                }
        } else
                for (size_t i = 0; i < s->n_ranges; i++) {
                        uint16_t v;

                        /* values are host-order integers in the first two bytes */
                        memcpy(&v, s->ranges[i].first, sizeof(v));
                        if (s->key == SET_KEY_SERVICE) {
                                uint16_t be = htons(v);
                                memcpy(e[n].key, &be, sizeof(be));
                        } else {
                                if (v > UINT8_MAX)
                                        return -EINVAL;
                                e[n].key[0] = (uint8_t) v;
                        }
                        n++;
                }

        *ret = TAKE_PTR(e);
        *ret_n = n;
        return 0;
}

static ssize_t find_set(const Ruleset *r, const char *name) {
        for (size_t i = 0; i < r->n_sets; i++)
                if (strncmp(r->sets[i].name, name, sizeof(r->sets[i].name)) == 0)
                        return (ssize_t) i;
        return -1;
}

static int set_build(const RuleSet *s, uint32_t set_id, struct nftnl_set **ret) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *set = nftnl_set_alloc();
        _cleanup_(nftnl_udata_buf_freep) struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(USERDATA_MAX);

        if (!set || !ud)
                return -ENOMEM;
        if (!name_ok(s->name, sizeof(s->name)) || key_length(s->key) == 0)
                return -EINVAL;
        if (nftnl_set_set_str(set, NFTNL_SET_TABLE, RULESET_TABLE) < 0 ||
            nftnl_set_set_str(set, NFTNL_SET_NAME, s->name) < 0)
                return -ENOMEM;
        nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_INET);
        nftnl_set_set_u32(set, NFTNL_SET_FLAGS, key_is_interval(s->key) ? NFT_SET_INTERVAL : 0);
        nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, key_datatype(s->key));
        nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, (uint32_t) key_length(s->key));
        nftnl_set_set_u32(set, NFTNL_SET_ID, set_id);
        /* nft keeps the key's byte order here to print elements */
        if (!nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_BIG_ENDIAN) ||
            nftnl_set_set_data(set, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                               nftnl_udata_buf_len(ud)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(set);
        return 0;
}

/* --- rules: each match as nft linearizes it --- */

typedef struct RuleBuilder {
        const Ruleset *ruleset;
        struct nftnl_rule *rule;
        bool in_batch;   /* lookups also name their set by its id in the batch */
        uint8_t nfproto; /* the last meta nfproto matched: ip or ip6 saddr */
} RuleBuilder;

static int expr_add(RuleBuilder *b, const char *name, struct nftnl_expr **ret) {
        struct nftnl_expr *e = nftnl_expr_alloc(name);

        if (!e)
                return -ENOMEM;
        nftnl_rule_add_expr(b->rule, e);
        *ret = e;
        return 0;
}

static int put_meta(RuleBuilder *b, uint32_t key) {
        struct nftnl_expr *e;
        int r = expr_add(b, "meta", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        return 0;
}

static int put_payload(RuleBuilder *b, uint32_t base, uint32_t offset, uint32_t len) {
        struct nftnl_expr *e;
        int r = expr_add(b, "payload", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        return 0;
}

static int put_cmp(RuleBuilder *b, uint32_t op, const void *data, uint32_t len) {
        struct nftnl_expr *e;
        int r = expr_add(b, "cmp", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        return nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len) < 0 ? -EINVAL : 0;
}

static int put_bitwise(RuleBuilder *b, const void *mask, uint32_t len) {
        static const uint8_t zero[16];
        struct nftnl_expr *e;
        int r = expr_add(b, "bitwise", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        if (nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len) < 0 ||
            nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len) < 0)
                return -EINVAL;
        return 0;
}

static int put_lookup(RuleBuilder *b, const char *set) {
        struct nftnl_expr *e;
        ssize_t index;
        int r = expr_add(b, "lookup", &e);

        if (r < 0)
                return r;
        if (!name_ok(set, sizeof(((Match *) NULL)->name)))
                return -EINVAL;
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0)
                return -ENOMEM;
        /* an unknown set is left to the kernel to refuse, naming the rule */
        index = find_set(b->ruleset, set);
        if (b->in_batch && index >= 0)
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t) index + 1);
        return 0;
}

/* A payload compared for equality with a constant: nft merges runs of these
 * when they are adjacent in the packet (sport and dport become one 4 byte
 * load), so they are collected before being emitted. */
typedef struct PayloadEq {
        uint32_t base, offset, len;
        uint8_t value[16];
        bool merged; /* folded into the match before it in the packet */
} PayloadEq;

static bool payload_eq(const Match *m, PayloadEq *ret) {
        uint16_t be;

        switch (m->kind) {
        case MATCH_SPORT:
        case MATCH_DPORT:
                *ret = (PayloadEq){ .base = NFT_PAYLOAD_TRANSPORT_HEADER,
                                    .offset = m->kind == MATCH_SPORT ? 0 : 2, .len = 2 };
                be = htons(m->port);
                memcpy(ret->value, &be, sizeof(be));
                return true;
        case MATCH_ICMP_TYPE:
                *ret = (PayloadEq){ .base = NFT_PAYLOAD_TRANSPORT_HEADER, .offset = 0, .len = 1,
                                    .value = { m->icmp_type } };
                return true;
        case MATCH_SADDR_PREFIX:
                /* nft loads only the bytes of a byte-aligned prefix and
                 * compares them; other prefixes are masked (put_match) */
                if (m->prefix.prefix == 0 || m->prefix.prefix % 8 != 0 ||
                    m->prefix.prefix > (m->prefix.family == AF_INET6 ? 128 : 32) ||
                    (m->prefix.family != AF_INET && m->prefix.family != AF_INET6))
                        return false;
                *ret = (PayloadEq){ .base = NFT_PAYLOAD_NETWORK_HEADER,
                                    .offset = m->prefix.family == AF_INET6 ? 8 : 12,
                                    .len = m->prefix.prefix / 8u };
                memcpy(ret->value, m->prefix.address, ret->len);
                return true;
        default:
                return false;
        }
}

/* nft's payload merge (payload_try_merge): sorted by position, adjacent
 * loads of the same header combine and the combined load takes the place of
 * its first part. In this model only sport and dport can meet (32 bits);
 * longer merges, which nft makes under conditions of its own, never arise. */
static int put_payload_run(RuleBuilder *b, PayloadEq *run, size_t n) {
        size_t order[RULE_MAX_MATCHES];
        PayloadEq *last;
        int r;

        for (size_t i = 0; i < n; i++) {
                size_t j = i;

                while (j > 0 && (run[order[j - 1]].base > run[i].base ||
                                 (run[order[j - 1]].base == run[i].base &&
                                  run[order[j - 1]].offset > run[i].offset))) {
                        order[j] = order[j - 1];
                        j--;
                }
                order[j] = i;
        }
        last = &run[order[0]];
        for (size_t k = 1; k < n; k++) {
                PayloadEq *p = &run[order[k]];

                if (p->base == last->base && last->offset + last->len == p->offset &&
                    last->len + p->len <= 4) {
                        memcpy(last->value + last->len, p->value, p->len);
                        last->len += p->len;
                        p->merged = true;
                } else
                        last = p;
        }
        for (size_t i = 0; i < n; i++) {
                if (run[i].merged)
                        continue;
                if ((r = put_payload(b, run[i].base, run[i].offset, run[i].len)) < 0 ||
                    (r = put_cmp(b, NFT_CMP_EQ, run[i].value, run[i].len)) < 0)
                        return r;
        }
        return 0;
}

static bool saddr_is_ipv6(const RuleBuilder *b, const Match *m) {
        ssize_t i;

        if (b->nfproto == NFPROTO_IPV6 || b->nfproto == NFPROTO_IPV4)
                return b->nfproto == NFPROTO_IPV6;
        i = find_set(b->ruleset, m->name);
        return i >= 0 && b->ruleset->sets[i].key == SET_KEY_IPV6;
}

static int put_match(RuleBuilder *b, const Match *m) {
        uint8_t data[16] = {}, mask[16] = {};
        size_t n;
        int r;

        switch (m->kind) {
        case MATCH_IIFNAME:
                /* an exact name is compared with its NUL padding to
                 * IFNAMSIZ, a "name*" prefix by its bytes alone */
                n = strnlen(m->name, sizeof(m->name));
                if (n > 0 && m->name[n - 1] == '*')
                        n--;
                else if (n > 0 && n < IFNAMSIZ)
                        n = IFNAMSIZ;
                if (n == 0 || n > IFNAMSIZ || strnlen(m->name, IFNAMSIZ) == IFNAMSIZ)
                        return -EINVAL;
                memcpy(data, m->name, strnlen(m->name, n));
                if ((r = put_meta(b, NFT_META_IIFNAME)) < 0)
                        return r;
                return put_cmp(b, m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, data, (uint32_t) n);

        case MATCH_NFPROTO:
                b->nfproto = m->nfproto;
                if ((r = put_meta(b, NFT_META_NFPROTO)) < 0)
                        return r;
                return put_cmp(b, NFT_CMP_EQ, &m->nfproto, 1);

        case MATCH_L4PROTO:
                if ((r = put_meta(b, NFT_META_L4PROTO)) < 0)
                        return r;
                return put_cmp(b, NFT_CMP_EQ, &m->l4proto, 1);

        case MATCH_CT_STATE: {
                /* "any of these states": a flag test, host byte order */
                uint32_t bits = m->ct_state, zero = 0;
                struct nftnl_expr *e;

                if (bits == 0)
                        return -EINVAL;
                if ((r = expr_add(b, "ct", &e)) < 0)
                        return r;
                nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
                nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
                if ((r = put_bitwise(b, &bits, sizeof(bits))) < 0)
                        return r;
                return put_cmp(b, NFT_CMP_NEQ, &zero, sizeof(zero));
        }

        case MATCH_SADDR_IN_SET: {
                bool v6 = saddr_is_ipv6(b, m);

                if ((r = put_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4)) < 0)
                        return r;
                return put_lookup(b, m->name);
        }

        case MATCH_SADDR_PREFIX: {
                /* not byte-aligned (or /0): the whole address, masked */
                bool v6 = m->prefix.family == AF_INET6;
                uint32_t len = v6 ? 16 : 4;

                if ((!v6 && m->prefix.family != AF_INET) || m->prefix.prefix > len * 8)
                        return -EINVAL;
                for (unsigned i = 0; i < m->prefix.prefix; i++)
                        mask[i / 8] |= (uint8_t) (0x80u >> (i % 8));
                for (unsigned i = 0; i < len; i++)
                        data[i] = m->prefix.address[i] & mask[i];
                if ((r = put_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, len)) < 0 ||
                    (r = put_bitwise(b, mask, len)) < 0)
                        return r;
                return put_cmp(b, NFT_CMP_EQ, data, len);
        }

        case MATCH_DPORT_IN_SET:
                if ((r = put_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) < 0)
                        return r;
                return put_lookup(b, m->name);

        case MATCH_ICMP_TYPE_IN_SET:
                if ((r = put_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1)) < 0)
                        return r;
                return put_lookup(b, m->name);

        default:
                /* the others are payload equalities (payload_eq) */
                return -EINVAL;
        }
}

static int put_matches(RuleBuilder *b, const Rule *rule) {
        PayloadEq run[RULE_MAX_MATCHES];
        size_t n_run = 0;
        int r;

        for (size_t i = 0; i <= rule->n_matches; i++) {
                const Match *m = i < rule->n_matches ? &rule->matches[i] : NULL;

                if (m && payload_eq(m, &run[n_run])) {
                        n_run++;
                        continue;
                }
                if (n_run > 0 && (r = put_payload_run(b, run, n_run)) < 0)
                        return r;
                n_run = 0;
                if (m && (r = put_match(b, m)) < 0)
                        return r;
        }
        return 0;
}

static int put_statements(RuleBuilder *b, const Rule *rule) {
        struct nftnl_expr *e;
        int r;

        if (rule->limit_per_second > 0) {
                if ((r = expr_add(b, "limit", &e)) < 0)
                        return r;
                nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rule->limit_per_second);
                nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
                /* nft's default burst for packet limits */
                nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, rule->limit_burst ? rule->limit_burst : 5);
                nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
                nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
        }

        if ((r = expr_add(b, "counter", &e)) < 0)
                return r;

        if (rule->log_prefix) {
                if ((r = expr_add(b, "log", &e)) < 0)
                        return r;
                if (nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, rule->log_prefix) < 0)
                        return -ENOMEM;
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, LOG_WARNING);
        }

        if (rule->verdict == VERDICT_ACCEPT || rule->verdict == VERDICT_DROP) {
                if ((r = expr_add(b, "immediate", &e)) < 0)
                        return r;
                nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
                nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
                                   rule->verdict == VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP);
        } else if (rule->verdict != VERDICT_NONE)
                return -EINVAL;
        return 0;
}

static int rule_build(const Ruleset *ruleset, const Rule *rule, bool in_batch, struct nftnl_rule **ret) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();
        _cleanup_(nftnl_udata_buf_freep) struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(USERDATA_MAX);
        RuleBuilder b = { .ruleset = ruleset, .in_batch = in_batch };
        int r;

        if (!nr || !ud)
                return -ENOMEM;
        /* bounded sizes keep every rule message within a batch page */
        if (!name_ok(rule->id, sizeof(rule->id)) || rule->n_matches > RULE_MAX_MATCHES ||
            (rule->log_prefix && strnlen(rule->log_prefix, LOG_PREFIX_MAX + 1) > LOG_PREFIX_MAX))
                return -EINVAL;

        nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
        if (nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, RULESET_TABLE) < 0 ||
            nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, RULESET_CHAIN) < 0)
                return -ENOMEM;
        /* the comment, in the TLV nft writes and lists */
        if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, rule->id) ||
            nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                                nftnl_udata_buf_len(ud)) < 0)
                return -ENOMEM;

        b.rule = nr;
        if ((r = put_matches(&b, rule)) < 0 || (r = put_statements(&b, rule)) < 0)
                return r;
        *ret = TAKE_PTR(nr);
        return 0;
}

/* --- the socket --- */

int nft_socket_open(NftSocket **ret) {
        _cleanup_(nft_socket_closep) NftSocket *s = calloc(1, sizeof(*s));
        int one = 1;
        socklen_t len;

        if (!s)
                return -ENOMEM;
        s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (!s->nl)
                return negative_errno();
        if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        s->portid = mnl_socket_get_portid(s->nl);
        s->seq = (uint32_t) time(NULL);

        /* errors need not echo the refused message (an element message is
         * a page); optional, the receive buffer fits an echo anyway */
        (void) mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));

        len = sizeof(s->rcvbuf);
        if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &len) < 0)
                return negative_errno();
        len = sizeof(s->sndbuf);
        if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_SNDBUF, &s->sndbuf, &len) < 0)
                return negative_errno();

        *ret = TAKE_PTR(s);
        return 0;
}

int nft_socket_replay(const void *replies, size_t size, NftSocket **ret) {
        NftSocket *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *s = (NftSocket){ .portid = 1, .seq = 1, .replay = replies, .replay_size = size, .replay_seq = 0 };
        *ret = s;
        return 0;
}

/* A whole message in the len bytes at h. mnl_nlmsg_ok() compares the
 * length as a signed int, so it takes a length of 2^31 or more, and
 * mnl_nlmsg_next() then walks off the buffer. */
static bool msg_ok(const struct nlmsghdr *h, int len) {
        return len >= (int) sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= (uint32_t) len;
}

/* Takes a 32-bit count or length from the replay; false at its end. */
static bool replay_take(NftSocket *s, uint32_t *ret) {
        if (s->replay_size - s->replay_at < sizeof(*ret))
                return false;
        memcpy(ret, s->replay + s->replay_at, sizeof(*ret));
        s->replay_at += sizeof(*ret);
        return true;
}

/* Skips the datagrams left of the answer being read. */
static void replay_skip_answer(NftSocket *s) {
        uint32_t n;

        for (; s->replay_left > 0; s->replay_left--)
                if (!replay_take(s, &n) || n > s->replay_size - s->replay_at)
                        s->replay_at = s->replay_size;
                else
                        s->replay_at += n;
}

/* Finds the next answer recorded for a request of this type. */
static void replay_find_answer(NftSocket *s, uint16_t type) {
        uint32_t recorded;

        for (;;) {
                if (!replay_take(s, &recorded) || !replay_take(s, &s->replay_answer_seq) ||
                    !replay_take(s, &s->replay_left)) {
                        s->replay_left = 0;
                        return;
                }
                if (recorded == type)
                        return;
                replay_skip_answer(s);
        }
}

/* The next datagram of the answer to the request, its messages made the
 * request's; a new request skips what is left of the last answer and takes
 * the next one recorded for its type. A read starts with the table: its
 * request starts the recording again, as a kernel whose table did not
 * change answers a second read as the first. */
static ssize_t replay_recv(NftSocket *s, const struct nlmsghdr *request, void *buf, size_t size) {
        uint32_t n, seq = request->nlmsg_seq;
        int len;

        if (seq != s->replay_seq) {
                if ((request->nlmsg_type & 0xff) == NFT_MSG_GETTABLE)
                        s->replay_at = s->replay_left = 0;
                else
                        replay_skip_answer(s);
                s->replay_seq = seq;
                replay_find_answer(s, request->nlmsg_type);
        }
        if (s->replay_left == 0 || !replay_take(s, &n))
                return -ETIMEDOUT; /* no (more) answer comes */
        s->replay_left--;
        if (n > s->replay_size - s->replay_at)
                n = (uint32_t) (s->replay_size - s->replay_at);
        if (n > size)
                return -EMSGSIZE;
        memcpy(buf, s->replay + s->replay_at, n);
        s->replay_at += n;
        len = (int) n;
        /* a message recorded in answer to another request stays foreign */
        for (struct nlmsghdr *h = buf; msg_ok(h, len); h = (struct nlmsghdr *) mnl_nlmsg_next(h, &len)) {
                h->nlmsg_seq = h->nlmsg_seq == s->replay_answer_seq ? seq : seq ^ 0x80000000u;
                h->nlmsg_pid = s->portid;
        }
        return n;
}

void nft_socket_record(NftSocket *s, NftRecorder record, void *userdata) {
        s->record = record;
        s->record_userdata = userdata;
}

NftSocket *nft_socket_close(NftSocket *s) {
        if (!s)
                return NULL;
        if (s->nl)
                mnl_socket_close(s->nl);
        free(s);
        return NULL;
}

/* Raises a socket buffer to at least bytes (the kernel doubles what is
 * asked); FORCE passes net.core.[rw]mem_max with CAP_NET_ADMIN. */
static void socket_buffer_reserve(int fd, int force_option, int option, int *current, size_t bytes) {
        int want, got;
        socklen_t len = sizeof(got);

        if (bytes > INT32_MAX / 2)
                bytes = INT32_MAX / 2;
        want = (int) bytes;
        if (*current >= 2 * want)
                return;
        if (setsockopt(fd, SOL_SOCKET, force_option, &want, sizeof(want)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, option, &want, sizeof(want));
        if (getsockopt(fd, SOL_SOCKET, option, &got, &len) == 0)
                *current = got;
}

/* One datagram; waits a bounded time when none is queued. */
static ssize_t socket_recv(int fd, void *buf, size_t size) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n = recv(fd, buf, size, MSG_DONTWAIT | MSG_TRUNC);
                int r;

                if (n >= 0)
                        return (size_t) n > size ? -EMSGSIZE : n;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return negative_errno();
                r = poll(&p, 1, REPLY_TIMEOUT_MS);
                if (r < 0 && errno != EINTR)
                        return negative_errno();
                if (r == 0)
                        return -ETIMEDOUT;
        }
}

/* --- batches --- */

typedef struct Batch {
        struct nftnl_batch *nb;
        uint32_t first_seq;
        size_t n_msgs;     /* begin marker and object messages so far */
        char (*what)[64];  /* per message, the object it concerns */
        size_t what_capacity;
        struct nlmsghdr *nlh; /* the message being built */
} Batch;

static void batch_done(Batch *b) {
        if (b->nb)
                nftnl_batch_free(b->nb);
        free(b->what);
        *b = (Batch){};
}

static int batch_record(Batch *b, const char *kind, const char *name) {
        if (b->n_msgs == b->what_capacity) {
                size_t c = b->what_capacity ? b->what_capacity * 2 : 64;
                char (*grown)[64] = realloc(b->what, c * sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                b->what = grown;
                b->what_capacity = c;
        }
        if (name)
                snprintf(b->what[b->n_msgs], sizeof(b->what[0]), "%s '%s'", kind, name);
        else
                snprintf(b->what[b->n_msgs], sizeof(b->what[0]), "%s", kind);
        return 0;
}

/* Pages hold many messages; a message may spill into the overrun area, so
 * the overrun must fit the largest message (element messages are cut at
 * MNL_SOCKET_BUFFER_SIZE, rules are smaller). */
static int batch_init(Batch *b, NftSocket *s) {
        size_t page = (size_t) MNL_SOCKET_BUFFER_SIZE;
        int r;

        *b = (Batch){ .first_seq = s->seq };
        b->nb = nftnl_batch_alloc((uint32_t) (16 * page), (uint32_t) (2 * page));
        if (!b->nb)
                return -ENOMEM;
        if ((r = batch_record(b, "batch", NULL)) < 0)
                return r;
        nftnl_batch_begin(nftnl_batch_buffer(b->nb), b->first_seq);
        b->n_msgs = 1;
        return nftnl_batch_update(b->nb) < 0 ? -ENOMEM : 0;
}

/* Starts an object message in b->nlh; every one asks for an ACK so that
 * each is answered under its own sequence number. */
static int batch_begin_msg(Batch *b, uint16_t type, uint16_t flags, const char *kind, const char *name) {
        int r = batch_record(b, kind, name);

        if (r < 0)
                return r;
        b->nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->nb), type, NFPROTO_INET,
                                       flags | NLM_F_ACK, b->first_seq + (uint32_t) b->n_msgs);
        return 0;
}

static int batch_end_msg(Batch *b) {
        b->n_msgs++;
        b->nlh = NULL;
        return nftnl_batch_update(b->nb) < 0 ? -ENOMEM : 0;
}

static int batch_add_table(Batch *b, uint16_t type, uint16_t flags) {
        _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
        int r;

        if (!t)
                return -ENOMEM;
        if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULESET_TABLE) < 0)
                return -ENOMEM;
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
        if ((r = batch_begin_msg(b, type, flags, "table", RULESET_TABLE)) < 0)
                return r;
        nftnl_table_nlmsg_build_payload(b->nlh, t);
        return batch_end_msg(b);
}

static int batch_add_set(Batch *b, const RuleSet *s, uint32_t set_id) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *set = NULL;
        int r;

        if ((r = set_build(s, set_id, &set)) < 0 ||
            (r = batch_begin_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, "set", s->name)) < 0)
                return r;
        nftnl_set_nlmsg_build_payload(b->nlh, set);
        return batch_end_msg(b);
}

/* An element as nftnl_set_elem_nlmsg_build() lays it out. */
static void put_element(struct nlmsghdr *nlh, uint16_t index, const Element *e, size_t key_len) {
        struct nlattr *nest = mnl_attr_nest_start(nlh, index), *key;

        if (e->flags)
                mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(e->flags));
        key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, key_len, e->key);
        mnl_attr_nest_end(nlh, key);
        if (e->open) {
                /* one nftnl_udata TLV: type, length, host-order u32 */
                uint8_t ud[2 + sizeof(uint32_t)] = { NFTNL_UDATA_SET_ELEM_FLAGS, sizeof(uint32_t) };
                uint32_t flags = NFTNL_SET_ELEM_F_INTERVAL_OPEN;

                memcpy(ud + 2, &flags, sizeof(flags));
                mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, sizeof(ud), ud);
        }
        mnl_attr_nest_end(nlh, nest);
}

static int batch_set_header(Batch *b, uint16_t type, uint16_t flags, const RuleSet *s, uint32_t set_id) {
        int r = batch_begin_msg(b, type, flags, "set", s->name);

        if (r < 0)
                return r;
        mnl_attr_put_strz(b->nlh, NFTA_SET_ELEM_LIST_TABLE, RULESET_TABLE);
        mnl_attr_put_strz(b->nlh, NFTA_SET_ELEM_LIST_SET, s->name);
        if (set_id)
                mnl_attr_put_u32(b->nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
        return 0;
}

/* Elements go in as many messages as needed, each at most a page, as nft
 * splits them (the element list is a nest, bounded by its u16 length). */
static int batch_add_elements(Batch *b, const RuleSet *s, uint32_t set_id) {
        size_t max = (size_t) MNL_SOCKET_BUFFER_SIZE, len = key_length(s->key), n = 0, i = 0;
        _cleanup_free_ Element *e = NULL;
        int r;

        if ((r = set_elements(s, &e, &n)) < 0)
                return r;
        while (i < n) {
                struct nlattr *list;

                if ((r = batch_set_header(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, s, set_id)) < 0)
                        return r;
                list = mnl_attr_nest_start(b->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
                for (uint16_t k = 1; i < n && (k == 1 || b->nlh->nlmsg_len + ELEMENT_MAX_SIZE <= max); k++)
                        put_element(b->nlh, k, &e[i++], len);
                mnl_attr_nest_end(b->nlh, list);
                if ((r = batch_end_msg(b)) < 0)
                        return r;
        }
        return 0;
}

static int batch_add_chain(Batch *b) {
        _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
        int r;

        if (!c)
                return -ENOMEM;
        if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, RULESET_TABLE) < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, RULESET_CHAIN) < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0)
                return -ENOMEM;
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
        nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, RULESET_PRIORITY);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
        if ((r = batch_begin_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, "chain", RULESET_CHAIN)) < 0)
                return r;
        nftnl_chain_nlmsg_build_payload(b->nlh, c);
        return batch_end_msg(b);
}

/* in_batch: the rule's sets are created in the same batch (looked up by
 * their batch id); else they are the live table's, looked up by name */
static int batch_add_rule(Batch *b, const Ruleset *ruleset, const Rule *rule, bool in_batch) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = NULL;
        int r;

        if ((r = rule_build(ruleset, rule, in_batch, &nr)) < 0 ||
            (r = batch_begin_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, "rule", rule->id)) < 0)
                return r;
        nftnl_rule_nlmsg_build_payload(b->nlh, nr);
        return batch_end_msg(b);
}

typedef struct AckState {
        uint32_t first_seq;
        size_t n_msgs;
        uint8_t *acked;
        size_t n_acked;
        int error;          /* of the earliest refused message */
        size_t error_index;
        bool refused;       /* the batch as a whole was refused */
} AckState;

static int ack_cb(const struct nlmsghdr *nlh, void *data) {
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        AckState *st = data;
        size_t i;

        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        i = (uint32_t) (nlh->nlmsg_seq - st->first_seq);
        if (i >= st->n_msgs)
                return MNL_CB_OK; /* left over from an earlier exchange */
        if (i == 0)
                st->refused = true;
        else if (!st->acked[i]) {
                st->acked[i] = 1;
                st->n_acked++;
        }
        if (e->error < 0 && (st->error == 0 || i < st->error_index)) {
                st->error = e->error;
                st->error_index = i;
        }
        return MNL_CB_OK;
}

/* Sends the batch and collects one ACK per object message; the kernel has
 * queued all of them by the time sendmsg() returns. */
static int batch_run(NftSocket *s, Batch *b, char *err, size_t err_size) {
        mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
        int fd = mnl_socket_get_fd(s->nl), n_iov;
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        _cleanup_free_ struct iovec *iov = NULL;
        _cleanup_free_ uint8_t *acked = NULL;
        _cleanup_free_ char *buf = NULL;
        struct msghdr msg = {};
        AckState st;
        size_t total = 0, expected;
        int r;

        nftnl_batch_end(nftnl_batch_buffer(b->nb), b->first_seq + (uint32_t) b->n_msgs);
        if (nftnl_batch_update(b->nb) < 0)
                return -ENOMEM;
        /* the end marker takes a sequence number but is not acknowledged */
        s->seq = b->first_seq + (uint32_t) b->n_msgs + 1;
        expected = b->n_msgs - 1;

        n_iov = nftnl_batch_iovec_len(b->nb);
        iov = calloc((size_t) n_iov, sizeof(*iov));
        acked = calloc(b->n_msgs, 1);
        buf = malloc(RECV_BUFFER_SIZE);
        if (!iov || !acked || !buf)
                return -ENOMEM;
        nftnl_batch_iovec(b->nb, iov, (uint32_t) n_iov);
        for (int i = 0; i < n_iov; i++)
                total += iov[i].iov_len;

        /* the whole batch is one datagram; all ACKs must fit in the queue */
        socket_buffer_reserve(fd, SO_SNDBUFFORCE, SO_SNDBUF, &s->sndbuf, total + 4096);
        socket_buffer_reserve(fd, SO_RCVBUFFORCE, SO_RCVBUF, &s->rcvbuf,
                              expected * ACK_RESERVE + RECV_BUFFER_SIZE);

        msg = (struct msghdr){ .msg_name = &kernel, .msg_namelen = sizeof(kernel),
                               .msg_iov = iov, .msg_iovlen = (size_t) n_iov };
        if (sendmsg(fd, &msg, 0) < 0) {
                r = negative_errno();
                format_error(err, err_size, r, "sending %zu bytes to nf_tables", total);
                return r;
        }

        st = (AckState){ .first_seq = b->first_seq, .n_msgs = b->n_msgs, .acked = acked };
        while (st.n_acked < expected && !st.refused) {
                ssize_t n = socket_recv(fd, buf, RECV_BUFFER_SIZE);

                if (n < 0) {
                        /* ENOBUFS: ACKs were dropped, the outcome is unknown */
                        format_error(err, err_size, (int) n, "reading the kernel's answers");
                        return (int) n;
                }
                if (mnl_cb_run2(buf, (size_t) n, 0, s->portid, NULL, &st, ctl, ELEMENTSOF(ctl)) < 0) {
                        r = negative_errno();
                        format_error(err, err_size, r, "reading the kernel's answers");
                        return r;
                }
        }
        if (st.error < 0) {
                format_error(err, err_size, st.error, "%s", b->what[st.error_index]);
                return st.error;
        }
        if (st.refused) {
                format_error(err, err_size, EPROTO, "batch");
                return -EPROTO;
        }
        return 0;
}

int nft_apply(NftSocket *s, const Ruleset *ruleset, char *err, size_t err_size) {
        _cleanup_(batch_done) Batch b = {};
        int r;

        if (!ruleset->sealed) {
                format_error(err, err_size, EINVAL, "ruleset not sealed");
                return -EINVAL;
        }
        if ((r = batch_init(&b, s)) < 0 ||
            (r = batch_add_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE)) < 0 ||
            (r = batch_add_table(&b, NFT_MSG_DELTABLE, 0)) < 0 ||
            (r = batch_add_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE)) < 0) {
                format_error(err, err_size, r, "table '%s'", RULESET_TABLE);
                return r;
        }
        for (size_t i = 0; i < ruleset->n_sets; i++) {
                const RuleSet *set = &ruleset->sets[i];

                /* set ids are local to the batch: index + 1 */
                if ((r = batch_add_set(&b, set, (uint32_t) i + 1)) < 0 ||
                    (r = batch_add_elements(&b, set, (uint32_t) i + 1)) < 0) {
                        format_error(err, err_size, r, "set '%.*s'", (int) sizeof(set->name), set->name);
                        return r;
                }
        }
        if ((r = batch_add_chain(&b)) < 0) {
                format_error(err, err_size, r, "chain '%s'", RULESET_CHAIN);
                return r;
        }
        for (size_t i = 0; i < ruleset->n_rules; i++)
                if ((r = batch_add_rule(&b, ruleset, &ruleset->rules[i], true)) < 0) {
                        format_error(err, err_size, r, "rule '%.*s'", (int) sizeof(ruleset->rules[i].id),
                                     ruleset->rules[i].id);
                        return r;
                }
        return batch_run(s, &b, err, err_size);
}

int nft_delete_table(NftSocket *s, char *err, size_t err_size) {
        _cleanup_(batch_done) Batch b = {};
        int r;

        /* adding first makes the delete succeed when the table is absent */
        if ((r = batch_init(&b, s)) < 0 ||
            (r = batch_add_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE)) < 0 ||
            (r = batch_add_table(&b, NFT_MSG_DELTABLE, 0)) < 0) {
                format_error(err, err_size, r, "table '%s'", RULESET_TABLE);
                return r;
        }
        return batch_run(s, &b, err, err_size);
}

/* A delete of rules naming only the table and chain removes every rule
 * of the chain (nft's "flush chain"). */
static int batch_flush_chain(Batch *b) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();
        int r;

        if (!nr)
                return -ENOMEM;
        if (nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, RULESET_TABLE) < 0 ||
            nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, RULESET_CHAIN) < 0)
                return -ENOMEM;
        nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
        if ((r = batch_begin_msg(b, NFT_MSG_DELRULE, 0, "chain", RULESET_CHAIN)) < 0)
                return r;
        nftnl_rule_nlmsg_build_payload(b->nlh, nr);
        return batch_end_msg(b);
}

int nft_update(NftSocket *s, const Ruleset *rules, const RuleSet *const *sets, size_t n, char *err,
               size_t err_size) {
        _cleanup_(batch_done) Batch b = {};
        int r;

        for (size_t i = 0; i < n; i++)
                if (!name_ok(sets[i]->name, sizeof(sets[i]->name))) {
                        format_error(err, err_size, EINVAL, "set");
                        return -EINVAL;
                }
        if (rules && !rules->sealed) {
                format_error(err, err_size, EINVAL, "ruleset not sealed");
                return -EINVAL;
        }
        if ((r = batch_init(&b, s)) < 0) {
                format_error(err, err_size, r, "batch");
                return r;
        }
        for (size_t i = 0; i < n; i++)
                /* a delete without elements flushes the set */
                if ((r = batch_set_header(&b, NFT_MSG_DELSETELEM, 0, sets[i], 0)) < 0 ||
                    (r = batch_end_msg(&b)) < 0 || (r = batch_add_elements(&b, sets[i], 0)) < 0) {
                        format_error(err, err_size, r, "set '%s'", sets[i]->name);
                        return r;
                }
        if (rules) {
                if ((r = batch_flush_chain(&b)) < 0) {
                        format_error(err, err_size, r, "chain '%s'", RULESET_CHAIN);
                        return r;
                }
                for (size_t i = 0; i < rules->n_rules; i++)
                        if ((r = batch_add_rule(&b, rules, &rules->rules[i], false)) < 0) {
                                format_error(err, err_size, r, "rule '%.*s'", (int) sizeof(rules->rules[i].id),
                                             rules->rules[i].id);
                                return r;
                        }
        }
        return batch_run(s, &b, err, err_size);
}

int nft_replace_set(NftSocket *s, const RuleSet *set, char *err, size_t err_size) {
        return nft_update(s, NULL, &set, 1, err, err_size);
}

/* --- reading the table back --- */

typedef int (*ReplyHandler)(const struct nlmsghdr *nlh, void *data);

/* Sends a get or dump request and hands each reply to handler. Parsed by
 * hand rather than with mnl_cb_run(), which stops at the first message of
 * an interrupted dump and leaves the rest queued. -EINTR: the ruleset
 * changed during the dump. */
static int request(NftSocket *s, struct nlmsghdr *nlh, ReplyHandler handler, void *data) {
        int fd = s->nl ? mnl_socket_get_fd(s->nl) : -1, result = 0;
        _cleanup_free_ char *buf = malloc(RECV_BUFFER_SIZE);
        uint32_t seq = nlh->nlmsg_seq;
        bool interrupted = false;

        if (!buf)
                return -ENOMEM;
        if (s->nl && mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
                return negative_errno();
        for (;;) {
                ssize_t n = s->nl ? socket_recv(fd, buf, RECV_BUFFER_SIZE) : replay_recv(s, nlh, buf, RECV_BUFFER_SIZE);
                int len;

                if (n < 0)
                        return (int) n;
                if (s->record && s->nl)
                        s->record(buf, (size_t) n, s->record_userdata);
                len = (int) n;
                for (const struct nlmsghdr *h = (const struct nlmsghdr *) buf; msg_ok(h, len);
                     h = mnl_nlmsg_next(h, &len)) {
                        if (h->nlmsg_seq != seq || (h->nlmsg_pid && h->nlmsg_pid != s->portid))
                                continue; /* a late answer to an earlier request */
                        if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                                interrupted = true;
                        if (h->nlmsg_type == NLMSG_DONE) {
                                const int *status = mnl_nlmsg_get_payload(h);

                                if (mnl_nlmsg_get_payload_len(h) >= sizeof(int) && *status < 0 && result == 0)
                                        result = *status;
                                return interrupted ? -EINTR : result;
                        }
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

                                if (mnl_nlmsg_get_payload_len(h) < sizeof(*e))
                                        return -EBADMSG;
                                /* an ACK ends a get; an error ends either */
                                return e->error < 0 ? e->error : result;
                        }
                        if (h->nlmsg_type < NLMSG_MIN_TYPE)
                                continue;
                        if (result == 0)
                                result = handler(h, data);
                }
        }
}

typedef struct PtrArray {
        void **items;
        size_t n, capacity;
} PtrArray;

static int ptr_array_add(PtrArray *a, void *p) {
        if (a->n == a->capacity) {
                size_t c = a->capacity ? a->capacity * 2 : 16;
                void **grown = realloc(a->items, c * sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                a->items = grown;
                a->capacity = c;
        }
        a->items[a->n++] = p;
        return 0;
}

typedef struct Live {
        bool exists;
        uint32_t table_flags;
        PtrArray chains; /* struct nftnl_chain *, of our table only */
        PtrArray sets;   /* struct nftnl_set *, with their elements */
        PtrArray rules;  /* struct nftnl_rule *, in chain order */
} Live;

static void live_clear(Live *l) {
        for (size_t i = 0; i < l->chains.n; i++)
                nftnl_chain_free(l->chains.items[i]);
        for (size_t i = 0; i < l->sets.n; i++)
                nftnl_set_free(l->sets.items[i]);
        for (size_t i = 0; i < l->rules.n; i++)
                nftnl_rule_free(l->rules.items[i]);
        free(l->chains.items);
        free(l->sets.items);
        free(l->rules.items);
        *l = (Live){};
}

static int table_cb(const struct nlmsghdr *nlh, void *data) {
        _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
        Live *l = data;

        if (!t)
                return -ENOMEM;
        if (nftnl_table_nlmsg_parse(nlh, t) < 0)
                return -EBADMSG;
        l->table_flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
        return 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data) {
        _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
        Live *l = data;
        const char *table;
        int r;

        if (!c)
                return -ENOMEM;
        if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
                return -EBADMSG;
        /* chain dumps are not filtered by table in the kernel */
        table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
        if (!table || !STREQ(table, RULESET_TABLE))
                return 0;
        if ((r = ptr_array_add(&l->chains, c)) < 0)
                return r;
        c = NULL;
        return 0;
}

static int set_cb(const struct nlmsghdr *nlh, void *data) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *set = nftnl_set_alloc();
        Live *l = data;
        int r;

        if (!set)
                return -ENOMEM;
        if (nftnl_set_nlmsg_parse(nlh, set) < 0)
                return -EBADMSG;
        if ((r = ptr_array_add(&l->sets, set)) < 0)
                return r;
        set = NULL;
        return 0;
}

static int elements_cb(const struct nlmsghdr *nlh, void *data) {
        return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? -EBADMSG : 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();
        Live *l = data;
        int r;

        if (!nr)
                return -ENOMEM;
        if (nftnl_rule_nlmsg_parse(nlh, nr) < 0)
                return -EBADMSG;
        if ((r = ptr_array_add(&l->rules, nr)) < 0)
                return r;
        nr = NULL;
        return 0;
}

static int live_read(NftSocket *s, Live *l) {
        char buf[REQUEST_SIZE];
        struct nlmsghdr *nlh;
        int r;

        {
                _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();

                if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULESET_TABLE) < 0)
                        return -ENOMEM;
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, s->seq++);
                nftnl_table_nlmsg_build_payload(nlh, t);
                r = request(s, nlh, table_cb, l);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                l->exists = true;
        }

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, s->seq++);
        if ((r = request(s, nlh, chain_cb, l)) < 0)
                return r;

        {
                _cleanup_(nftnl_set_freep) struct nftnl_set *filter = nftnl_set_alloc();

                if (!filter || nftnl_set_set_str(filter, NFTNL_SET_TABLE, RULESET_TABLE) < 0)
                        return -ENOMEM;
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, s->seq++);
                nftnl_set_nlmsg_build_payload(nlh, filter);
                if ((r = request(s, nlh, set_cb, l)) < 0)
                        return r;
        }

        for (size_t i = 0; i < l->sets.n; i++) {
                struct nftnl_set *set = l->sets.items[i];

                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, s->seq++);
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, RULESET_TABLE);
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(set, NFTNL_SET_NAME));
                if ((r = request(s, nlh, elements_cb, set)) < 0)
                        return r;
        }

        {
                _cleanup_(nftnl_rule_freep) struct nftnl_rule *filter = nftnl_rule_alloc();

                if (!filter || nftnl_rule_set_str(filter, NFTNL_RULE_TABLE, RULESET_TABLE) < 0)
                        return -ENOMEM;
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, s->seq++);
                nftnl_rule_nlmsg_build_payload(nlh, filter);
                if ((r = request(s, nlh, rule_cb, l)) < 0)
                        return r;
        }
        return 0;
}

static int comment_cb(const struct nftnl_udata *attr, void *data) {
        const char **comment = data;
        const char *value = nftnl_udata_get(attr);
        uint8_t len = nftnl_udata_len(attr);

        if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && value[len - 1] == '\0')
                *comment = value;
        return MNL_CB_OK;
}

static void rule_comment(const struct nftnl_rule *nr, char *buf, size_t size) {
        const char *comment = NULL;
        uint32_t len = 0;
        const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);

        if (ud)
                (void) nftnl_udata_parse(ud, len, comment_cb, &comment);
        snprintf(buf, size, "%s", comment ? comment : "");
}

static void rule_counter(struct nftnl_rule *nr, uint64_t *packets, uint64_t *bytes) {
        _cleanup_(nftnl_expr_iter_destroyp) struct nftnl_expr_iter *it = nftnl_expr_iter_create(nr);

        *packets = *bytes = 0;
        for (struct nftnl_expr *e = it ? nftnl_expr_iter_next(it) : NULL; e; e = nftnl_expr_iter_next(it))
                if (STREQ(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
                        *packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
                        *bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
                        return;
                }
}

/* Same name and attributes; an attribute missing on one side must be zero
 * on the other (the kernel dumps defaults such as lookup flags 0). Counter
 * values are state, not configuration. */
static bool expr_equal(const struct nftnl_expr *a, const struct nftnl_expr *b) {
        const char *name = nftnl_expr_get_str(a, NFTNL_EXPR_NAME);

        if (!STREQ(name, nftnl_expr_get_str(b, NFTNL_EXPR_NAME)))
                return false;
        if (STREQ(name, "counter"))
                return true;
        for (uint16_t type = NFTNL_EXPR_BASE; type < 16; type++) {
                uint32_t la = 0, lb = 0;
                const void *da = nftnl_expr_get(a, type, &la), *db = nftnl_expr_get(b, type, &lb);

                if (da && db) {
                        if (la != lb || memcmp(da, db, la) != 0)
                                return false;
                } else if (da || db) {
                        if (!all_bytes(da ? da : db, da ? la : lb, 0))
                                return false;
                }
        }
        return true;
}

static bool rule_equal(struct nftnl_rule *live, struct nftnl_rule *want) {
        _cleanup_(nftnl_expr_iter_destroyp) struct nftnl_expr_iter *a = nftnl_expr_iter_create(live);
        _cleanup_(nftnl_expr_iter_destroyp) struct nftnl_expr_iter *b = nftnl_expr_iter_create(want);
        struct nftnl_expr *x, *y;

        if (!a || !b)
                return false;
        for (;;) {
                x = nftnl_expr_iter_next(a);
                y = nftnl_expr_iter_next(b);
                if (!x || !y)
                        return !x && !y;
                if (!expr_equal(x, y))
                        return false;
        }
}

typedef struct ElementList {
        Element *items;
        size_t n, capacity, key_len;
        int error;         /* -ENOMEM */
        bool foreign_key;  /* a key of another length */
} ElementList;

static int collect_element(struct nftnl_set_elem *e, void *data) {
        ElementList *l = data;
        uint32_t len = 0;
        const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

        if (!key || len != l->key_len || len > sizeof(l->items[0].key)) {
                l->foreign_key = true;
                return 0;
        }
        if (l->n == l->capacity) {
                size_t c = l->capacity ? l->capacity * 2 : 64;
                Element *grown = realloc(l->items, c * sizeof(*grown));

                if (!grown) {
                        l->error = -ENOMEM;
                        return -1;
                }
                l->items = grown;
                l->capacity = c;
        }
        l->items[l->n] = (Element){};
        memcpy(l->items[l->n].key, key, len);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
                l->items[l->n].flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
        l->n++;
        return 0;
}

static int count_element(struct nftnl_set_elem *e _unused_, void *data) {
        (*(size_t *) data)++;
        return 0;
}

static size_t set_count_elements(struct nftnl_set *set) {
        size_t n = 0;

        (void) nftnl_set_elem_foreach(set, count_element, &n);
        return n;
}

/* 1 when the live set is the wanted one, else 0 with the difference in
 * diff, or a negative errno. */
static int set_compare(struct nftnl_set *live, const RuleSet *want, char *diff, size_t size) {
        _cleanup_free_ Element *expected = NULL;
        ElementList got = { .key_len = key_length(want->key) };
        size_t n_expected = 0;
        int r;

        if (nftnl_set_get_u32(live, NFTNL_SET_KEY_TYPE) != key_datatype(want->key) ||
            nftnl_set_get_u32(live, NFTNL_SET_KEY_LEN) != key_length(want->key) ||
            nftnl_set_get_u32(live, NFTNL_SET_FLAGS) != (key_is_interval(want->key) ? NFT_SET_INTERVAL : 0u)) {
                snprintf(diff, size, "set %s has another type or flags", want->name);
                return 0;
        }
        if ((r = set_elements(want, &expected, &n_expected)) < 0)
                return r;
        (void) nftnl_set_elem_foreach(live, collect_element, &got);
        if (got.error < 0) {
                free(got.items);
                return got.error;
        }
        r = 1;
        if (got.foreign_key || got.n != n_expected) {
                snprintf(diff, size, "set %s has %zu elements, expected %zu", want->name,
                         set_count_elements(live), n_expected);
                r = 0;
        } else if (n_expected > 0) {
                qsort(expected, n_expected, sizeof(*expected), compare_elements);
                qsort(got.items, got.n, sizeof(*got.items), compare_elements);
                for (size_t i = 0; i < n_expected && r == 1; i++)
                        if (compare_elements(&expected[i], &got.items[i]) != 0) {
                                snprintf(diff, size, "set %s elements differ", want->name);
                                r = 0;
                        }
        }
        free(got.items);
        return r;
}

static bool ruleset_has_rule(const Ruleset *r, const char *id) {
        for (size_t i = 0; i < r->n_rules; i++)
                if (strncmp(r->rules[i].id, id, sizeof(r->rules[i].id)) == 0)
                        return true;
        return false;
}

/* The first difference between the live table and desired, or "" */
static int live_compare(const Live *l, const Ruleset *desired, char *diff, size_t size) {
        bool found_chain = false;
        size_t n;
        int r;

        diff[0] = '\0';
        if (!l->exists) {
                snprintf(diff, size, "table absent");
                return 0;
        }
        if (l->table_flags != 0) {
                snprintf(diff, size, "table flags are 0x%x%s", l->table_flags,
                         l->table_flags & NFT_TABLE_F_DORMANT ? " (dormant)" : "");
                return 0;
        }

        for (size_t i = 0; i < l->chains.n; i++) {
                const struct nftnl_chain *c = l->chains.items[i];
                const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
                const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);

                if (!name || !STREQ(name, RULESET_CHAIN)) {
                        snprintf(diff, size, "extra chain %s", name ? name : "?");
                        return 0;
                }
                if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) ||
                    nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) != NF_INET_PRE_ROUTING ||
                    nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) != RULESET_PRIORITY || !type ||
                    !STREQ(type, "filter")) {
                        snprintf(diff, size, "chain %s has another hook, priority or type", name);
                        return 0;
                }
                if (nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) != NF_ACCEPT) {
                        snprintf(diff, size, "chain %s policy is not accept", name);
                        return 0;
                }
                found_chain = true;
        }
        if (!found_chain) {
                snprintf(diff, size, "chain %s absent", RULESET_CHAIN);
                return 0;
        }

        for (size_t i = 0; i < desired->n_sets; i++) {
                const RuleSet *want = &desired->sets[i];
                struct nftnl_set *live = NULL;

                for (size_t j = 0; j < l->sets.n && !live; j++)
                        if (strncmp(nftnl_set_get_str(l->sets.items[j], NFTNL_SET_NAME), want->name,
                                    sizeof(want->name)) == 0)
                                live = l->sets.items[j];
                if (!live) {
                        snprintf(diff, size, "set %s absent", want->name);
                        return 0;
                }
                if ((r = set_compare(live, want, diff, size)) <= 0)
                        return r;
        }
        for (size_t j = 0; j < l->sets.n; j++) {
                const char *name = nftnl_set_get_str(l->sets.items[j], NFTNL_SET_NAME);

                if (find_set(desired, name) < 0) {
                        snprintf(diff, size, "extra set %s", name);
                        return 0;
                }
        }

        /* positions are counted from 1, as nft users count rules */
        n = MAX(l->rules.n, desired->n_rules);
        for (size_t i = 0; i < n; i++) {
                const Rule *want = i < desired->n_rules ? &desired->rules[i] : NULL;
                _cleanup_(nftnl_rule_freep) struct nftnl_rule *built = NULL;
                char id[sizeof(want->id)];

                if (i >= l->rules.n) {
                        snprintf(diff, size, "rule %zu (%s) missing", i + 1, want->id);
                        return 0;
                }
                rule_comment(l->rules.items[i], id, sizeof(id));
                if (!want || !STREQ(id, want->id)) {
                        if (id[0] == '\0')
                                snprintf(diff, size, "extra rule without id at position %zu", i + 1);
                        else if (!want || !ruleset_has_rule(desired, id))
                                snprintf(diff, size, "extra rule %s at position %zu", id, i + 1);
                        else
                                snprintf(diff, size, "rule %zu is %s, expected %s", i + 1, id, want->id);
                        return 0;
                }
                if ((r = rule_build(desired, want, false, &built)) < 0)
                        return r;
                if (!rule_equal(l->rules.items[i], built)) {
                        snprintf(diff, size, "rule %zu (%s) differs", i + 1, want->id);
                        return 0;
                }
        }
        return 1;
}

int nft_read_table(NftSocket *s, const Ruleset *desired, NftLiveTable **ret) {
        _cleanup_(nft_live_table_freep) NftLiveTable *t = calloc(1, sizeof(*t));
        _cleanup_(live_clear) Live l = {};
        int r;

        if (!t)
                return -ENOMEM;
        /* a dump interrupted by a concurrent change is read again; a table
         * deleted half-way through reads as absent the next time */
        for (unsigned attempt = 0;; attempt++) {
                r = live_read(s, &l);
                if (r >= 0)
                        break;
                live_clear(&l);
                if ((r != -EINTR && r != -ENOENT) || attempt >= 3)
                        return r;
        }

        t->exists = l.exists;
        if (l.rules.n > 0) {
                t->rules = calloc(l.rules.n, sizeof(*t->rules));
                if (!t->rules)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < l.rules.n; i++) {
                NftRuleState *rs = &t->rules[t->n_rules++];

                rule_comment(l.rules.items[i], rs->id, sizeof(rs->id));
                rule_counter(l.rules.items[i], &rs->packets, &rs->bytes);
                rs->handle = nftnl_rule_get_u64(l.rules.items[i], NFTNL_RULE_HANDLE);
        }
        if (l.sets.n > 0) {
                t->sets = calloc(l.sets.n, sizeof(*t->sets));
                if (!t->sets)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < l.sets.n; i++) {
                NftSetState *ss = &t->sets[t->n_sets++];

                snprintf(ss->name, sizeof(ss->name), "%s", nftnl_set_get_str(l.sets.items[i], NFTNL_SET_NAME));
                ss->n_elements = set_count_elements(l.sets.items[i]);
        }

        if (desired) {
                r = live_compare(&l, desired, t->difference, sizeof(t->difference));
                if (r < 0)
                        return r;
                t->matches_desired = r > 0;
        } else if (!l.exists)
                snprintf(t->difference, sizeof(t->difference), "table absent");

        *ret = TAKE_PTR(t);
        return 0;
}

NftLiveTable *nft_live_table_free(NftLiveTable *t) {
        if (!t)
                return NULL;
        free(t->rules);
        free(t->sets);
        free(t);
        return NULL;
}

/* --- the monitor --- */

int nft_monitor_open(NftMonitor **ret) {
        _cleanup_(nft_monitor_closep) NftMonitor *m = calloc(1, sizeof(*m));
        int group = NFNLGRP_NFTABLES, size = MONITOR_RCVBUF, fd;

        if (!m)
                return -ENOMEM;
        m->buf = malloc(MONITOR_BUFFER_SIZE);
        if (!m->buf)
                return -ENOMEM;
        m->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (!m->nl)
                return negative_errno();
        if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
                return negative_errno();
        /* a big apply is tens of thousands of events; FORCE needs
         * CAP_NET_ADMIN, without it the size is capped at rmem_max */
        fd = mnl_socket_get_fd(m->nl);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        *ret = TAKE_PTR(m);
        return 0;
}

NftMonitor *nft_monitor_close(NftMonitor *m) {
        if (!m)
                return NULL;
        if (m->nl)
                mnl_socket_close(m->nl);
        free(m->buf);
        free(m);
        return NULL;
}

int nft_monitor_fd(const NftMonitor *m) {
        return mnl_socket_get_fd(m->nl);
}

static void monitor_reset(NftMonitor *m) {
        m->touched = false;
        m->rank = 0;
        m->what[0] = '\0';
}

/* Whether an object event concerns our table; if so its description and how
 * telling it is (a deleted table says more than the rules it took along).
 * Returns 1, 0, or a negative errno. */
static int event_describe(const struct nlmsghdr *nlh, uint16_t type, char *what, size_t size, int *rank) {
        const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
        bool add = type == NFT_MSG_NEWTABLE || type == NFT_MSG_NEWCHAIN || type == NFT_MSG_NEWRULE ||
                   type == NFT_MSG_NEWSET || type == NFT_MSG_NEWSETELEM;
        const char *table = NULL;

        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) || g->nfgen_family != NFPROTO_INET)
                return 0;

        switch (type) {
        case NFT_MSG_NEWTABLE:
        case NFT_MSG_DELTABLE: {
                _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();

                if (!t)
                        return -ENOMEM;
                if (nftnl_table_nlmsg_parse(nlh, t) < 0)
                        return -EBADMSG;
                table = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
                if (!table || !STREQ(table, RULESET_TABLE))
                        return 0;
                snprintf(what, size, "table %s", add ? "added" : "deleted");
                *rank = 3;
                return 1;
        }
        case NFT_MSG_NEWCHAIN:
        case NFT_MSG_DELCHAIN: {
                _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();

                if (!c)
                        return -ENOMEM;
                if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
                        return -EBADMSG;
                table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
                if (!table || !STREQ(table, RULESET_TABLE))
                        return 0;
                /* a new chain and a changed one (policy) look alike */
                snprintf(what, size, "chain %s %s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
                         add ? "added or changed" : "deleted");
                *rank = 2;
                return 1;
        }
        case NFT_MSG_NEWRULE:
        case NFT_MSG_DELRULE: {
                _cleanup_(nftnl_rule_freep) struct nftnl_rule *nr = nftnl_rule_alloc();
                char id[32];

                if (!nr)
                        return -ENOMEM;
                if (nftnl_rule_nlmsg_parse(nlh, nr) < 0)
                        return -EBADMSG;
                table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
                if (!table || !STREQ(table, RULESET_TABLE))
                        return 0;
                rule_comment(nr, id, sizeof(id));
                snprintf(what, size, "rule%s%s%s %s %s", id[0] ? " '" : "", id, id[0] ? "'" : "",
                         add ? "added to" : "deleted from", nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN));
                *rank = 1;
                return 1;
        }
        case NFT_MSG_NEWSET:
        case NFT_MSG_DELSET:
        case NFT_MSG_NEWSETELEM:
        case NFT_MSG_DELSETELEM: {
                _cleanup_(nftnl_set_freep) struct nftnl_set *set = nftnl_set_alloc();
                bool element = type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM;

                if (!set)
                        return -ENOMEM;
                if ((element ? nftnl_set_elems_nlmsg_parse(nlh, set) : nftnl_set_nlmsg_parse(nlh, set)) < 0)
                        return -EBADMSG;
                table = nftnl_set_get_str(set, NFTNL_SET_TABLE);
                if (!table || !STREQ(table, RULESET_TABLE))
                        return 0;
                if (element)
                        snprintf(what, size, "set element %s %s", add ? "added to" : "deleted from",
                                 nftnl_set_get_str(set, NFTNL_SET_NAME));
                else
                        snprintf(what, size, "set %s %s", nftnl_set_get_str(set, NFTNL_SET_NAME),
                                 add ? "added" : "deleted");
                *rank = element ? 1 : 2;
                return 1;
        }
        default:
                return 0;
        }
}

static int gen_attr_cb(const struct nlattr *attr, void *data) {
        const struct nlattr **tb = data;
        uint16_t type = mnl_attr_get_type(attr);

        if (mnl_attr_type_valid(attr, NFTA_GEN_MAX) < 0)
                return MNL_CB_OK;
        if ((type == NFTA_GEN_ID || type == NFTA_GEN_PROC_PID) && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
                return MNL_CB_OK;
        if (type == NFTA_GEN_PROC_NAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                return MNL_CB_OK;
        tb[type] = attr;
        return MNL_CB_OK;
}

/* The end of a transaction: its committer, and whether to report it. */
static bool monitor_commit(NftMonitor *m, const struct nlmsghdr *nlh, pid_t ignore_pid, NftChange *change) {
        const struct nlattr *tb[NFTA_GEN_MAX + 1] = {};
        pid_t pid = 0;
        bool report;

        (void) mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, tb);
        if (tb[NFTA_GEN_PROC_PID])
                pid = (pid_t) ntohl(mnl_attr_get_u32(tb[NFTA_GEN_PROC_PID]));
        report = m->touched && pid != ignore_pid;
        if (report) {
                *change = (NftChange){ .pid = pid };
                snprintf(change->comm, sizeof(change->comm), "%s",
                         tb[NFTA_GEN_PROC_NAME] ? mnl_attr_get_str(tb[NFTA_GEN_PROC_NAME]) : "");
                snprintf(change->what, sizeof(change->what), "%s", m->what);
        }
        monitor_reset(m);
        return report;
}

int nft_monitor_process(NftMonitor *m, pid_t ignore_pid, NftChange *change) {
        int fd = mnl_socket_get_fd(m->nl);
        bool found = false, lost = false;

        for (;;) {
                ssize_t n = recv(fd, m->buf, MONITOR_BUFFER_SIZE, MSG_DONTWAIT | MSG_TRUNC);
                int len;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        if (errno != ENOBUFS)
                                return negative_errno();
                        /* the queue overflowed: events, perhaps of an open
                         * transaction, are gone */
                        lost = true;
                        monitor_reset(m);
                        continue;
                }
                if ((size_t) n > MONITOR_BUFFER_SIZE) {
                        lost = true;
                        monitor_reset(m);
                        continue;
                }
                len = (int) n;
                for (const struct nlmsghdr *h = (const struct nlmsghdr *) m->buf; msg_ok(h, len);
                     h = mnl_nlmsg_next(h, &len)) {
                        uint16_t type = NFNL_MSG_TYPE(h->nlmsg_type);
                        char what[sizeof(m->what)];
                        int rank = 0, r;

                        if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
                                continue;
                        if (type == NFT_MSG_NEWGEN) {
                                NftChange c;

                                if (monitor_commit(m, h, ignore_pid, &c) && !found) {
                                        *change = c;
                                        found = true;
                                }
                                continue;
                        }
                        r = event_describe(h, type, what, sizeof(what), &rank);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                /* unreadable: count it as ours rather than miss a change */
                                snprintf(what, sizeof(what), "unreadable event %u", type);
                                rank = 0;
                        } else if (r == 0)
                                continue;
                        if (!m->touched || rank > m->rank) {
                                snprintf(m->what, sizeof(m->what), "%s", what);
                                m->rank = rank;
                        }
                        m->touched = true;
                }
        }

        if (lost) {
                *change = (NftChange){ .pid = 0 };
                snprintf(change->what, sizeof(change->what), "events lost");
                return 1;
        }
        return found ? 1 : 0;
}

static int genid_cb(const struct nlmsghdr *nlh, void *data) {
        const struct nlattr *tb[NFTA_GEN_MAX + 1] = {};

        if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, tb) < 0 || !tb[NFTA_GEN_ID])
                return -EBADMSG;
        *(uint32_t *) data = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_ID]));
        return 0;
}

int nft_generation(NftSocket *s, uint32_t *ret) {
        char buf[REQUEST_SIZE];
        struct nlmsghdr *nlh;
        uint32_t id = 0;
        int r;

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, s->seq++);
        r = request(s, nlh, genid_cb, &id);
        if (r < 0)
                return r;
        *ret = id;
        return 0;
}

static int monitor_membership(NftMonitor *m, int option) {
        int group = NFNLGRP_NFTABLES;

        if (mnl_socket_setsockopt(m->nl, option, &group, sizeof(group)) < 0)
                return negative_errno();
        return 0;
}

int nft_monitor_pause(NftMonitor *m) {
        return monitor_membership(m, NETLINK_DROP_MEMBERSHIP);
}

int nft_monitor_resume(NftMonitor *m) {
        return monitor_membership(m, NETLINK_ADD_MEMBERSHIP);
}
