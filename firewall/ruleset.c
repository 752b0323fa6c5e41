/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/text.h"
#include "firewall/ruleset.h"

static size_t key_length(SetKey key) {
        switch (key) {
        case SET_KEY_IPV4:
                return 4;
        case SET_KEY_IPV6:
                return 16;
        default:
                return 2; /* values are kept in 2 host-order bytes */
        }
}

static bool key_is_address(SetKey key) {
        return key == SET_KEY_IPV4 || key == SET_KEY_IPV6;
}

Ruleset *ruleset_free(Ruleset *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_sets; i++)
                free(r->sets[i].ranges);
        free(r->sets);
        free(r->rules);
        free(r);
        return NULL;
}

int ruleset_new(Ruleset **ret) {
        Ruleset *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        *ret = r;
        return 0;
}

/* nft identifiers: a letter, then letters, digits, '_' or '-'. */
static bool name_valid(const char *name, size_t max) {
        size_t n = strlen(name);

        if (n == 0 || n >= max)
                return false;
        if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
                      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-'))
                        return false;
        return true;
}

int ruleset_add_set(Ruleset *r, const char *name, SetKey key, RuleSet **ret) {
        RuleSet *sets;

        if (!name_valid(name, sizeof(((RuleSet *) NULL)->name)) || ruleset_find_set(r, name))
                return -EINVAL;
        sets = realloc(r->sets, (r->n_sets + 1) * sizeof(*sets));
        if (!sets)
                return -ENOMEM;
        r->sets = sets;
        sets[r->n_sets] = (RuleSet){ .key = key };
        snprintf(sets[r->n_sets].name, sizeof(sets[r->n_sets].name), "%s", name);
        r->sealed = false;
        if (ret)
                *ret = &sets[r->n_sets];
        r->n_sets++;
        return 0;
}

static int set_append(RuleSet *s, const SetRange *range) {
        if (s->n_ranges == s->capacity) {
                size_t c = s->capacity ? s->capacity * 2 : 8;
                SetRange *grown = realloc(s->ranges, c * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                s->ranges = grown;
                s->capacity = c;
        }
        s->ranges[s->n_ranges++] = *range;
        return 0;
}

int ruleset_set_add_cidr(RuleSet *s, const Cidr *c) {
        SetRange range = {};
        size_t len = key_length(s->key);

        if ((s->key == SET_KEY_IPV4 && c->family != AF_INET) ||
            (s->key == SET_KEY_IPV6 && c->family != AF_INET6) || !key_is_address(s->key))
                return -EINVAL;

        memcpy(range.first, c->address, len);
        memcpy(range.last, c->address, len);
        for (size_t i = 0; i < len; i++) {
                unsigned bit = (unsigned) i * 8;
                uint8_t host = bit >= c->prefix ? 0xff : bit + 8 <= c->prefix ? 0
                                                       : (uint8_t) (0xff >> (c->prefix - bit));
                range.last[i] |= host;
        }
        return set_append(s, &range);
}

int ruleset_set_add_value(RuleSet *s, uint16_t value) {
        SetRange range = {};

        if (key_is_address(s->key))
                return -EINVAL;
        if ((s->key == SET_KEY_ICMP || s->key == SET_KEY_ICMPV6) && value > 255)
                return -EINVAL;
        memcpy(range.first, &value, sizeof(value));
        memcpy(range.last, &value, sizeof(value));
        return set_append(s, &range);
}

int ruleset_add_rule(Ruleset *r, const Rule *rule) {
        Rule *rules;

        if (!name_valid(rule->id, sizeof(rule->id)) || rule->n_matches > RULE_MAX_MATCHES ||
            ruleset_find_rule(r, rule->id))
                return -EINVAL;
        for (size_t i = 0; i < rule->n_matches; i++) {
                const Match *m = &rule->matches[i];
                if ((m->kind == MATCH_SADDR_IN_SET || m->kind == MATCH_DPORT_IN_SET ||
                     m->kind == MATCH_ICMP_TYPE_IN_SET) &&
                    !ruleset_find_set(r, m->name))
                        return -EINVAL; /* sets first, then the rules using them */
        }
        rules = realloc(r->rules, (r->n_rules + 1) * sizeof(*rules));
        if (!rules)
                return -ENOMEM;
        r->rules = rules;
        rules[r->n_rules++] = *rule;
        return 0;
}

const RuleSet *ruleset_find_set(const Ruleset *r, const char *name) {
        for (size_t i = 0; i < r->n_sets; i++)
                if (STREQ(r->sets[i].name, name))
                        return &r->sets[i];
        return NULL;
}

const Rule *ruleset_find_rule(const Ruleset *r, const char *id) {
        for (size_t i = 0; i < r->n_rules; i++)
                if (STREQ(r->rules[i].id, id))
                        return &r->rules[i];
        return NULL;
}

static bool set_has_value(const RuleSet *s, uint16_t value) {
        for (size_t i = 0; s && i < s->n_ranges; i++) {
                uint16_t v;
                memcpy(&v, s->ranges[i].first, sizeof(v));
                if (v == value)
                        return true;
        }
        return false;
}

bool ifname_matches(const char *pattern, const char *ifname) {
        size_t n = strlen(pattern);

        if (n > 0 && pattern[n - 1] == '*')
                return strncmp(pattern, ifname, n - 1) == 0;
        return STREQ(pattern, ifname);
}

static bool outside_matches(const Ruleset *r, const Rule *rule, const OutsidePacket *p) {
        for (size_t i = 0; i < rule->n_matches; i++) {
                const Match *m = &rule->matches[i];
                bool hit;

                switch (m->kind) {
                case MATCH_IIFNAME:
                        hit = ifname_matches(m->name, p->ifname) != m->negate;
                        break;
                case MATCH_NFPROTO:
                        hit = m->nfproto == p->nfproto;
                        break;
                case MATCH_L4PROTO:
                        hit = m->l4proto == p->l4proto;
                        break;
                case MATCH_CT_STATE:
                        hit = m->ct_state & CT_STATE_NEW;
                        break;
                case MATCH_SADDR_IN_SET:   /* outside: in no set */
                case MATCH_SADDR_PREFIX:   /* outside: not link-local */
                case MATCH_ICMP_TYPE_IN_SET:
                case MATCH_ICMP_TYPE:
                        hit = false;
                        break;
                case MATCH_DPORT_IN_SET:
                        hit = set_has_value(ruleset_find_set(r, m->name), p->dport);
                        break;
                case MATCH_DPORT:
                        hit = m->port == p->dport;
                        break;
                case MATCH_SPORT:
                        /* the sender picks its source port: it gets past an
                         * accept, and around a drop */
                        hit = rule->verdict == VERDICT_ACCEPT;
                        break;
                default:
                        hit = false;
                }
                if (!hit)
                        return false;
        }
        return true;
}

Verdict ruleset_verdict_from_outside(const Ruleset *r, const OutsidePacket *p, const Rule **ret_rule) {
        for (size_t i = 0; i < r->n_rules; i++) {
                const Rule *rule = &r->rules[i];
                if (rule->verdict == VERDICT_NONE || !outside_matches(r, rule, p))
                        continue;
                if (ret_rule)
                        *ret_rule = rule;
                return rule->verdict;
        }
        if (ret_rule)
                *ret_rule = NULL;
        return VERDICT_ACCEPT;
}

/* Big-endian comparison for addresses; values compare as host integers. */
static int compare_ranges(const void *a, const void *b, void *length) {
        const SetRange *x = a, *y = b;
        size_t len = *(const size_t *) length;
        int c = memcmp(x->first, y->first, len);
        return c ? c : memcmp(x->last, y->last, len);
}

static int compare_values(const void *a, const void *b) {
        uint16_t x, y;

        memcpy(&x, ((const SetRange *) a)->first, 2);
        memcpy(&y, ((const SetRange *) b)->first, 2);
        return (x > y) - (x < y);
}

/* last + 1 == first, on big-endian byte strings */
static bool adjacent(const uint8_t *last, const uint8_t *first, size_t len) {
        uint8_t next[16];
        size_t i;

        memcpy(next, last, len);
        for (i = len; i > 0; i--)
                if (++next[i - 1] != 0)
                        break;
        if (i == 0)
                return false; /* last was all ones */
        return memcmp(next, first, len) == 0;
}

static void set_normalize(RuleSet *s) {
        size_t len = key_length(s->key), out = 0;

        if (s->n_ranges < 2)
                return;
        if (key_is_address(s->key)) {
                qsort_r(s->ranges, s->n_ranges, sizeof(SetRange), compare_ranges, &len);
                for (size_t i = 1; i < s->n_ranges; i++) {
                        SetRange *cur = &s->ranges[out], *next = &s->ranges[i];

                        if (memcmp(next->first, cur->last, len) <= 0 ||
                            adjacent(cur->last, next->first, len)) {
                                if (memcmp(next->last, cur->last, len) > 0)
                                        memcpy(cur->last, next->last, len);
                        } else
                                s->ranges[++out] = *next;
                }
        } else {
                qsort(s->ranges, s->n_ranges, sizeof(SetRange), compare_values);
                for (size_t i = 1; i < s->n_ranges; i++)
                        if (memcmp(s->ranges[i].first, s->ranges[out].first, 2) != 0)
                                s->ranges[++out] = s->ranges[i];
        }
        s->n_ranges = out + 1;
}

int ruleset_seal(Ruleset *r) {
        for (size_t i = 0; i < r->n_sets; i++)
                set_normalize(&r->sets[i]);
        r->sealed = true;
        return 0;
}

/* --- nft text --- */

static const char *set_type_name(SetKey key) {
        switch (key) {
        case SET_KEY_IPV4: return "ipv4_addr";
        case SET_KEY_IPV6: return "ipv6_addr";
        case SET_KEY_SERVICE: return "inet_service";
        case SET_KEY_ICMP: return "icmp_type";
        case SET_KEY_ICMPV6: return "icmpv6_type";
        }
        return "?";
}

/* A range as nft writes it: an address, a prefix when it is one, else a-b. */
static void format_range(const RuleSet *s, const SetRange *range, char *buf, size_t size) {
        int family = s->key == SET_KEY_IPV4 ? AF_INET : AF_INET6;
        size_t len = key_length(s->key);
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
        unsigned prefix = 0;
        bool is_prefix = true;

        /* the range is a prefix when first has zero host bits and last has
         * them all set, with the same network bits */
        while (prefix < len * 8) {
                unsigned byte = prefix / 8, bit = 7 - prefix % 8;
                if (((range->first[byte] >> bit) & 1) != ((range->last[byte] >> bit) & 1))
                        break;
                prefix++;
        }
        for (unsigned i = prefix; i < len * 8; i++) {
                unsigned byte = i / 8, bit = 7 - i % 8;
                if (((range->first[byte] >> bit) & 1) != 0 || ((range->last[byte] >> bit) & 1) != 1)
                        is_prefix = false;
        }
        inet_ntop(family, range->first, a, sizeof(a));
        if (is_prefix && prefix == len * 8)
                snprintf(buf, size, "%s", a);
        else if (is_prefix)
                snprintf(buf, size, "%s/%u", a, prefix);
        else {
                inet_ntop(family, range->last, b, sizeof(b));
                snprintf(buf, size, "%s-%s", a, b);
        }
}

static void render_set(Text *t, const RuleSet *s) {
        text_printf(t, "\tset %s {\n\t\ttype %s\n", s->name, set_type_name(s->key));
        if (key_is_address(s->key))
                text_printf(t, "\t\tflags interval\n");
        if (s->n_ranges > 0) {
                text_printf(t, "\t\telements = { ");
                for (size_t i = 0; i < s->n_ranges; i++) {
                        char e[96];
                        uint16_t v;

                        if (key_is_address(s->key))
                                format_range(s, &s->ranges[i], e, sizeof(e));
                        else {
                                memcpy(&v, s->ranges[i].first, 2);
                                snprintf(e, sizeof(e), "%u", v);
                        }
                        text_printf(t, "%s%s", i ? ",\n\t\t\t     " : "", e);
                }
                text_printf(t, " }\n");
        }
        text_printf(t, "\t}\n\n");
}

static const char *l4proto_name(uint8_t p) {
        switch (p) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_ICMP: return "icmp";
        case IPPROTO_ICMPV6: return "ipv6-icmp";
        case IPPROTO_ESP: return "esp";
        }
        return NULL;
}

static void render_rule(Text *t, const Ruleset *r, const Rule *rule) {
        uint8_t nfproto = 0;

        text_printf(t, "\t\t");
        for (size_t i = 0; i < rule->n_matches; i++) {
                const Match *m = &rule->matches[i];
                const RuleSet *s;
                char c[64];

                switch (m->kind) {
                case MATCH_IIFNAME:
                        text_printf(t, "iifname %s\"%s\" ", m->negate ? "!= " : "", m->name);
                        break;
                case MATCH_NFPROTO:
                        nfproto = m->nfproto;
                        text_printf(t, "meta nfproto %s ", m->nfproto == 10 ? "ipv6" : "ipv4");
                        break;
                case MATCH_L4PROTO: {
                        const char *n = l4proto_name(m->l4proto);
                        if (n)
                                text_printf(t, "meta l4proto %s ", n);
                        else
                                text_printf(t, "meta l4proto %u ", m->l4proto);
                        break;
                }
                case MATCH_CT_STATE: {
                        static const char *const names[] = { "invalid", "established", "related", "new" };
                        bool first = true;
                        text_printf(t, "ct state ");
                        for (size_t b = 0; b < ELEMENTSOF(names); b++)
                                if (m->ct_state & (1u << b)) {
                                        text_printf(t, "%s%s", first ? "" : ",", names[b]);
                                        first = false;
                                }
                        text_printf(t, " ");
                        break;
                }
                case MATCH_SADDR_IN_SET:
                        s = ruleset_find_set(r, m->name);
                        text_printf(t, "%s saddr @%s ",
                                    (s && s->key == SET_KEY_IPV6) || nfproto == 10 ? "ip6" : "ip", m->name);
                        break;
                case MATCH_SADDR_PREFIX:
                        cidr_format(&m->prefix, c, sizeof(c));
                        text_printf(t, "%s saddr %s ", m->prefix.family == AF_INET6 ? "ip6" : "ip", c);
                        break;
                case MATCH_DPORT_IN_SET:
                        text_printf(t, "th dport @%s ", m->name);
                        break;
                case MATCH_DPORT:
                        text_printf(t, "th dport %u ", m->port);
                        break;
                case MATCH_SPORT:
                        text_printf(t, "th sport %u ", m->port);
                        break;
                case MATCH_ICMP_TYPE_IN_SET:
                        s = ruleset_find_set(r, m->name);
                        text_printf(t, "%s type @%s ", s && s->key == SET_KEY_ICMPV6 ? "icmpv6" : "icmp",
                                    m->name);
                        break;
                case MATCH_ICMP_TYPE:
                        text_printf(t, "%s type %u ", nfproto == 10 ? "icmpv6" : "icmp", m->icmp_type);
                        break;
                }
        }
        if (rule->limit_per_second)
                text_printf(t, "limit rate %u/second burst %u packets ", rule->limit_per_second,
                            rule->limit_burst ? rule->limit_burst : 5);
        text_printf(t, "counter ");
        if (rule->log_prefix)
                text_printf(t, "log prefix \"%s\" level warn ", rule->log_prefix);
        if (rule->verdict == VERDICT_ACCEPT)
                text_printf(t, "accept ");
        else if (rule->verdict == VERDICT_DROP)
                text_printf(t, "drop ");
        text_printf(t, "comment \"%s\"\n", rule->id);
}

char *ruleset_to_nft(const Ruleset *r) {
        Text t = {};

        text_printf(&t, "table inet %s {\n", RULESET_TABLE);
        for (size_t i = 0; i < r->n_sets; i++)
                render_set(&t, &r->sets[i]);
        text_printf(&t, "\tchain %s {\n\t\ttype filter hook prerouting priority %d; policy accept;\n",
                    RULESET_CHAIN, RULESET_PRIORITY);
        for (size_t i = 0; i < r->n_rules; i++)
                render_rule(&t, r, &r->rules[i]);
        text_printf(&t, "\t}\n}\n");
        return text_take(&t);
}

/* FNV-1a, 64 bit: stable across runs and builds. */
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
        const uint8_t *p = data;

        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

uint64_t ruleset_digest(const Ruleset *r) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < r->n_sets; i++) {
                const RuleSet *s = &r->sets[i];
                uint32_t key = s->key;

                h = fnv(h, s->name, strlen(s->name) + 1);
                h = fnv(h, &key, sizeof(key));
                for (size_t j = 0; j < s->n_ranges; j++) {
                        h = fnv(h, s->ranges[j].first, key_length(s->key));
                        h = fnv(h, s->ranges[j].last, key_length(s->key));
                }
        }
        for (size_t i = 0; i < r->n_rules; i++) {
                const Rule *rule = &r->rules[i];
                uint32_t fields[3] = { rule->limit_per_second, rule->limit_burst, rule->verdict };

                h = fnv(h, rule->id, strlen(rule->id) + 1);
                h = fnv(h, fields, sizeof(fields));
                if (rule->log_prefix)
                        h = fnv(h, rule->log_prefix, strlen(rule->log_prefix) + 1);
                for (size_t j = 0; j < rule->n_matches; j++) {
                        const Match *m = &rule->matches[j];
                        uint32_t v[7] = { m->kind, m->negate, m->nfproto, m->l4proto, m->ct_state,
                                          m->port, m->icmp_type };

                        h = fnv(h, v, sizeof(v));
                        h = fnv(h, m->name, strnlen(m->name, sizeof(m->name)));
                        if (m->kind == MATCH_SADDR_PREFIX)
                                h = fnv(h, &m->prefix, sizeof(m->prefix));
                }
        }
        return h;
}
