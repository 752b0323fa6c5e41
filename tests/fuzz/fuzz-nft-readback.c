/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for reading hostd's table back from the kernel's dump
 * replies (nft_read_table on a replay socket, firewall/netlink.h), compared
 * with the table a firewall-enabled configuration builds.
 *
 * The replies are real ones, recorded from a kernel (tests/fuzz/nft-replies,
 * recorded again by `make fuzz-replies` when the table hostd builds changes:
 * the table as applied, absent, and with a peer set grown behind hostd's
 * back; each datagram a 32-bit length and its bytes), and the input is a program of edits on their messages: drop,
 * duplicate, swap, mark a dump interrupted, turn into an error or a done
 * with a status, split, merge, drop or cut datagrams. The messages' own
 * attributes are not mutated: libnftnl exits the process on an attribute
 * the kernel's ABI does not allow, so bytes fuzzed there test nothing of
 * hostd's. What is tested is hostd's: the datagram walk, the dump protocol
 * (done, errors, acknowledgements, interrupted dumps, answers that never
 * come) and the comparison with the desired table. Any replies give a table
 * or a negative errno, never a crash, a hang or a leak; a table said to
 * match exists and has every desired rule. */
#include <dirent.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "firewall/build.h"
#include "firewall/netlink.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DATAGRAMS 48
#define MAX_MESSAGES 64

typedef struct Message {
        uint8_t *bytes;
        uint32_t size;
} Message;

typedef struct Datagram {
        unsigned answer;      /* the request it answers, in order */
        uint16_t request_type; /* that request's netlink type */
        uint32_t answer_seq;   /* and sequence number, as recorded */
        Message msgs[MAX_MESSAGES];
        size_t n;
} Datagram;

typedef struct Replies {
        Datagram grams[MAX_DATAGRAMS];
        size_t n;
} Replies;

static Replies seeds[8];
static size_t n_seeds;
static Ruleset *desired;

/* A recording: datagrams as the kernel sent them, each a 32-bit length
 * and its bytes; those of one request share its sequence number. */
static void load_seed(const char *path) {
        char *text = NULL;
        size_t size = 0, at = 0;
        Replies *r = &seeds[n_seeds];
        uint32_t last_seq = 0;
        unsigned answer = 0;

        if (n_seeds >= ELEMENTSOF(seeds) || read_file(path, 1 << 22, &text, &size) < 0)
                abort();
        while (size - at >= 4 && r->n < MAX_DATAGRAMS) {
                uint32_t n;
                Datagram *g = &r->grams[r->n++];

                memcpy(&n, text + at, 4);
                at += 4;
                if (n > size - at || n < sizeof(struct nlmsghdr))
                        abort();
                struct nlmsghdr first;
                memcpy(&first, text + at, sizeof(first));
                if (r->n > 1 && first.nlmsg_seq != last_seq)
                        answer++;
                last_seq = first.nlmsg_seq;
                g->answer = answer;
                g->answer_seq = first.nlmsg_seq;
                for (uint32_t off = 0; off + sizeof(struct nlmsghdr) <= n && g->n < MAX_MESSAGES;) {
                        struct nlmsghdr h;
                        memcpy(&h, text + at + off, sizeof(h));
                        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
                                abort();
                        g->msgs[g->n].size = h.nlmsg_len;
                        g->msgs[g->n].bytes = malloc(h.nlmsg_len);
                        memcpy(g->msgs[g->n++].bytes, text + at + off, h.nlmsg_len);
                        off += NLMSG_ALIGN(h.nlmsg_len);
                }
                at += n;
        }
        free(text);
        /* hostd's read asks, in order: the table, its chains, its sets,
         * each set's elements, its rules */
        unsigned last = r->n ? r->grams[r->n - 1].answer : 0;
        for (size_t i = 0; i < r->n; i++) {
                unsigned a = r->grams[i].answer;
                int type = a == 0 ? NFT_MSG_GETTABLE : a == 1 ? NFT_MSG_GETCHAIN : a == 2 ? NFT_MSG_GETSET :
                           a == last ? NFT_MSG_GETRULE : NFT_MSG_GETSETELEM;
                r->grams[i].request_type = (uint16_t) ((NFNL_SUBSYS_NFTABLES << 8) | type);
        }
        n_seeds++;
}

/* A message of its own, made of a netlink control message. */
static Message control_message(uint16_t type, int32_t status, const Message *like) {
        Message m = { .size = NLMSG_LENGTH(sizeof(struct nlmsgerr)) };
        struct nlmsghdr h = { .nlmsg_len = m.size, .nlmsg_type = type };
        struct nlmsgerr err = { .error = status };

        /* in answer to the same request */
        if (like && like->size >= sizeof(h)) {
                memcpy(&err.msg, like->bytes, sizeof(err.msg));
                h.nlmsg_seq = err.msg.nlmsg_seq;
        }
        m.bytes = calloc(1, m.size);
        memcpy(m.bytes, &h, sizeof(h));
        memcpy(m.bytes + NLMSG_HDRLEN, &err, sizeof(err));
        return m;
}

static void edit(Replies *r, uint8_t op, uint8_t a, uint8_t b, uint8_t c) {
        Datagram *g, *h;
        Message *m;

        if (r->n == 0)
                return;
        g = &r->grams[a % r->n];
        h = &r->grams[(a + 1u) % r->n];
        m = g->n ? &g->msgs[b % g->n] : NULL;
        switch (op % 10) {
        case 0: /* drop a message */
                if (!m)
                        return;
                free(m->bytes);
                memmove(m, m + 1, (size_t) (&g->msgs[g->n] - (m + 1)) * sizeof(*m));
                g->n--;
                return;
        case 1: /* send it twice */
                if (!m || g->n >= MAX_MESSAGES)
                        return;
                memmove(m + 1, m, (size_t) (&g->msgs[g->n] - m) * sizeof(*m));
                g->n++;
                m[1].bytes = malloc(m->size);
                memcpy(m[1].bytes, m->bytes, m->size);
                return;
        case 2: /* swap it with one of the next datagram */
                if (m && h->n) {
                        Message t = *m;
                        *m = h->msgs[c % h->n];
                        h->msgs[c % h->n] = t;
                }
                return;
        case 3: /* the dump was interrupted by a change */
                if (m) {
                        struct nlmsghdr *nh = (struct nlmsghdr *) m->bytes;
                        nh->nlmsg_flags |= NLM_F_DUMP_INTR;
                }
                return;
        case 4: /* an error, or an acknowledgement, instead */
        case 5: /* the dump's end, with a status */
                if (m) {
                        Message e = control_message(op % 10 == 4 ? NLMSG_ERROR : NLMSG_DONE, -(int32_t) (c % 140), m);
                        free(m->bytes);
                        *m = e;
                }
                return;
        case 6: /* the rest of the datagram comes in the next one */
                if (r->n < MAX_DATAGRAMS && g->n > 1) {
                        size_t at = 1 + b % (g->n - 1), k = (size_t) (g - r->grams);
                        memmove(&r->grams[k + 2], &r->grams[k + 1], (r->n - k - 1) * sizeof(Datagram));
                        r->n++;
                        r->grams[k + 1].n = g->n - at;
                        r->grams[k + 1].answer = g->answer;
                        r->grams[k + 1].request_type = g->request_type;
                        r->grams[k + 1].answer_seq = g->answer_seq;
                        memcpy(r->grams[k + 1].msgs, &g->msgs[at], (g->n - at) * sizeof(Message));
                        g->n = at;
                }
                return;
        case 7: /* two datagrams of one answer as one */
                if (h != g && h->answer == g->answer && g->n + h->n <= MAX_MESSAGES &&
                    (size_t) (h - r->grams) == (size_t) (g - r->grams) + 1) {
                        memcpy(&g->msgs[g->n], h->msgs, h->n * sizeof(Message));
                        g->n += h->n;
                        h->n = 0;
                        memmove(h, h + 1, (size_t) (&r->grams[r->n] - (h + 1)) * sizeof(Datagram));
                        r->n--;
                }
                return;
        case 8: /* a datagram lost */
                for (size_t i = 0; i < g->n; i++)
                        free(g->msgs[i].bytes);
                memmove(g, g + 1, (size_t) (&r->grams[r->n] - (g + 1)) * sizeof(Datagram));
                r->n--;
                return;
        default: /* a datagram cut after b messages */
                for (size_t i = b % (g->n + 1); i < g->n; i++)
                        free(g->msgs[i].bytes);
                g->n = MIN(g->n, (size_t) (b % (g->n + 1)));
                return;
        }
}

/* As nft_socket_replay takes them: per answer, the request's type, its
 * count of datagrams and each datagram's length and bytes. */
static uint8_t *serialize(const Replies *r, size_t *ret_size) {
        size_t size = 0, at = 0;
        uint8_t *out;

        for (size_t i = 0; i < r->n; i++) {
                size += 16;
                for (size_t k = 0; k < r->grams[i].n; k++)
                        size += NLMSG_ALIGN(r->grams[i].msgs[k].size);
        }
        out = calloc(1, size + 1);
        if (!out)
                abort();
        for (size_t i = 0; i < r->n;) {
                uint32_t count = 0, type = r->grams[i].request_type;
                size_t count_at, j;

                memcpy(out + at, &type, 4);
                memcpy(out + at + 4, &r->grams[i].answer_seq, 4);
                at += 8;
                count_at = at;
                at += 4;
                for (j = i; j < r->n && r->grams[j].answer == r->grams[i].answer; j++, count++) {
                        uint32_t n = 0;
                        size_t len_at = at;

                        at += 4;
                        for (size_t k = 0; k < r->grams[j].n; k++) {
                                memcpy(out + at, r->grams[j].msgs[k].bytes, r->grams[j].msgs[k].size);
                                at += NLMSG_ALIGN(r->grams[j].msgs[k].size);
                                n += NLMSG_ALIGN(r->grams[j].msgs[k].size);
                        }
                        memcpy(out + len_at, &n, 4);
                }
                memcpy(out + count_at, &count, 4);
                i = j;
        }
        *ret_size = at;
        return out;
}

int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_) {
        static const char config[] = "{\"firewall\": {\"enabled\": true, \"peers\": [\"192.168.50.0/24\", "
                                     "\"fd12::/64\"], \"public-tcp-ports\": [443, 8443]}}";
        const char *dir = getenv("HOSTD_NFT_REPLIES") ?: "tests/fuzz/nft-replies";
        static const char *const names[] = { "applied", "absent", "drifted" };
        HostdConfig *c = NULL;
        ConfigError e = {};
        Cidr peers[2];
        char path[512];

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                load_seed(path);
        }
        /* the configuration and live peers the replies were recorded with */
        if (config_parse(config, strlen(config), &c, &e) < 0 || cidr_parse("10.1.0.5", &peers[0]) < 0 ||
            cidr_parse("fd00::7", &peers[1]) < 0 || firewall_build(&c->firewall, peers, 2, &desired) < 0)
                abort();
        config_free(c);

        /* the recordings, unedited, read as the kernel's own answers did */
        for (size_t i = 0; i < n_seeds; i++) {
                size_t n;
                uint8_t *replies = serialize(&seeds[i], &n);
                NftSocket *s = NULL;
                NftLiveTable *t = NULL;

                if (nft_socket_replay(replies, n, &s) < 0 || nft_read_table(s, desired, &t) < 0 ||
                    t->exists != (i != 1) || t->matches_desired != (i == 0) ||
                    (i == 2 && !strstr(t->difference, "peers4")))
                        abort();
                nft_live_table_free(t);
                nft_socket_close(s);
                free(replies);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Replies *r;
        NftSocket *s = NULL;
        NftLiveTable *t = NULL;
        uint8_t *replies;
        size_t n_replies;
        int ret;

        if (size < 1 || size > 4 * 256)
                return 0;
        r = malloc(sizeof(*r));
        if (!r)
                abort();
        /* a copy of a seed to edit */
        *r = seeds[data[0] % n_seeds];
        for (size_t i = 0; i < r->n; i++)
                for (size_t k = 0; k < r->grams[i].n; k++) {
                        Message *m = &r->grams[i].msgs[k];
                        uint8_t *copy = malloc(m->size);
                        memcpy(copy, m->bytes, m->size);
                        m->bytes = copy;
                }
        for (size_t at = 1; at + 4 <= size; at += 4)
                edit(r, data[at], data[at + 1], data[at + 2], data[at + 3]);
        replies = serialize(r, &n_replies);

        if (nft_socket_replay(replies, n_replies, &s) < 0)
                abort();
        ret = nft_read_table(s, desired, &t);
        if (ret < 0 ? t != NULL
                    : !t || (t->matches_desired && (!t->exists || t->n_rules != desired->n_rules)) ||
                              (!t->exists && (t->n_rules > 0 || t->n_sets > 0)) ||
                              strnlen(t->difference, sizeof(t->difference)) == sizeof(t->difference))
                __builtin_trap();

        nft_live_table_free(t);
        nft_socket_close(s);
        free(replies);
        for (size_t i = 0; i < r->n; i++)
                for (size_t k = 0; k < r->grams[i].n; k++)
                        free(r->grams[i].msgs[k].bytes);
        free(r);
        return 0;
}
