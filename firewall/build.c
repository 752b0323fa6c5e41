/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <netinet/in.h>
#include <sys/socket.h>

#include "firewall/build.h"

#define NFPROTO_V4 2
#define NFPROTO_V6 10

static Match nfproto(uint8_t p) {
        return (Match){ .kind = MATCH_NFPROTO, .nfproto = p };
}

static Match l4proto(uint8_t p) {
        return (Match){ .kind = MATCH_L4PROTO, .l4proto = p };
}

static Match in_set(MatchKind kind, const char *set) {
        Match m = { .kind = kind };
        snprintf(m.name, sizeof(m.name), "%s", set);
        return m;
}

static int add(Ruleset *r, const char *id, const Match *matches, size_t n, Verdict verdict,
               unsigned limit, unsigned burst, const char *log_prefix) {
        Rule rule = { .n_matches = n, .verdict = verdict, .limit_per_second = limit,
                      .limit_burst = burst, .log_prefix = log_prefix };

        snprintf(rule.id, sizeof(rule.id), "%s", id);
        memcpy(rule.matches, matches, n * sizeof(Match));
        return ruleset_add_rule(r, &rule);
}

#define ADD(r, id, verdict, ...)                                                              \
        add(r, id, (const Match[]){ __VA_ARGS__ }, ELEMENTSOF(((const Match[]){ __VA_ARGS__ })), \
            verdict, 0, 0, NULL)

static int add_values(Ruleset *r, const char *name, SetKey key, const uint16_t *values, size_t n) {
        RuleSet *s;
        int ret = ruleset_add_set(r, name, key, &s);

        for (size_t i = 0; ret >= 0 && i < n; i++)
                ret = ruleset_set_add_value(s, values[i]);
        return ret;
}

static int add_cidrs(RuleSet *v4, RuleSet *v6, const Cidr *cidrs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = ruleset_set_add_cidr(cidrs[i].family == AF_INET ? v4 : v6, &cidrs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int firewall_build(const FirewallPolicy *p, const Cidr *live, size_t n_live, Ruleset **ret) {
        static const uint16_t icmp4[] = { 3, 11, 12 };
        /* unreachable, too big, time exceeded, parameter problem, MLD query/
         * report/done, router solicit/advert, neighbour solicit/advert,
         * MLDv2 report */
        static const uint16_t icmp6[] = { 1, 2, 3, 4, 130, 131, 132, 133, 134, 135, 136, 143 };
        _cleanup_(ruleset_freep) Ruleset *r = NULL;
        RuleSet *peers4, *peers6, *mgmt4, *mgmt6, *join4, *join6;
        int e;

        if ((e = ruleset_new(&r)) < 0)
                return e;

        if ((e = add_values(r, "public_tcp", SET_KEY_SERVICE, p->public_tcp_ports, p->n_public_tcp_ports)) < 0 ||
            (e = add_values(r, "peer_tcp", SET_KEY_SERVICE, p->peer_tcp_ports, p->n_peer_tcp_ports)) < 0 ||
            (e = add_values(r, "peer_udp", SET_KEY_SERVICE, p->peer_udp_ports, p->n_peer_udp_ports)) < 0 ||
            (e = add_values(r, "icmp_ok", SET_KEY_ICMP, icmp4, ELEMENTSOF(icmp4))) < 0 ||
            (e = add_values(r, "icmpv6_ok", SET_KEY_ICMPV6, icmp6, ELEMENTSOF(icmp6))) < 0)
                return e;

        /* pointers into r->sets move as sets are added: fetch them after */
        if ((e = ruleset_add_set(r, "peers4", SET_KEY_IPV4, NULL)) < 0 ||
            (e = ruleset_add_set(r, "peers6", SET_KEY_IPV6, NULL)) < 0 ||
            (e = ruleset_add_set(r, "management4", SET_KEY_IPV4, NULL)) < 0 ||
            (e = ruleset_add_set(r, "management6", SET_KEY_IPV6, NULL)) < 0 ||
            (e = ruleset_add_set(r, "join4", SET_KEY_IPV4, NULL)) < 0 ||
            (e = ruleset_add_set(r, "join6", SET_KEY_IPV6, NULL)) < 0)
                return e;
        peers4 = (RuleSet *) ruleset_find_set(r, "peers4");
        peers6 = (RuleSet *) ruleset_find_set(r, "peers6");
        mgmt4 = (RuleSet *) ruleset_find_set(r, "management4");
        mgmt6 = (RuleSet *) ruleset_find_set(r, "management6");
        join4 = (RuleSet *) ruleset_find_set(r, "join4");
        join6 = (RuleSet *) ruleset_find_set(r, "join6");
        if ((e = add_cidrs(peers4, peers6, p->peers, p->n_peers)) < 0 ||
            (p->swarm_peers && (e = add_cidrs(peers4, peers6, live, n_live)) < 0) ||
            (e = add_cidrs(mgmt4, mgmt6, p->management_sources, p->n_management_sources)) < 0 ||
            (e = add_cidrs(join4, join6, p->join_sources, p->n_join_sources)) < 0)
                return e;

        for (size_t i = 0; i < p->n_trusted_interfaces; i++) {
                Match m = { .kind = MATCH_IIFNAME };
                char id[32];

                snprintf(m.name, sizeof(m.name), "%s", p->trusted_interfaces[i]);
                snprintf(id, sizeof(id), "trusted-%zu", i + 1);
                if ((e = add(r, id, &m, 1, VERDICT_ACCEPT, 0, 0, NULL)) < 0)
                        return e;
        }

        Match established = { .kind = MATCH_CT_STATE, .ct_state = CT_STATE_ESTABLISHED | CT_STATE_RELATED };
        Match invalid = { .kind = MATCH_CT_STATE, .ct_state = CT_STATE_INVALID };
        if ((e = add(r, "established", &established, 1, VERDICT_ACCEPT, 0, 0, NULL)) < 0 ||
            (e = add(r, "invalid", &invalid, 1, VERDICT_DROP, 0, 0, NULL)) < 0)
                return e;

        if ((e = ADD(r, "icmp", VERDICT_ACCEPT, nfproto(NFPROTO_V4), l4proto(IPPROTO_ICMP),
                     in_set(MATCH_ICMP_TYPE_IN_SET, "icmp_ok"))) < 0)
                return e;
        if (p->icmp_echo_per_second > 0) {
                Match m[] = { nfproto(NFPROTO_V4), l4proto(IPPROTO_ICMP),
                              { .kind = MATCH_ICMP_TYPE, .icmp_type = 8 } };
                if ((e = add(r, "icmp-echo", m, ELEMENTSOF(m), VERDICT_ACCEPT,
                             p->icmp_echo_per_second, p->icmp_echo_per_second * 2, NULL)) < 0)
                        return e;
        }
        if ((e = ADD(r, "icmpv6", VERDICT_ACCEPT, nfproto(NFPROTO_V6), l4proto(IPPROTO_ICMPV6),
                     in_set(MATCH_ICMP_TYPE_IN_SET, "icmpv6_ok"))) < 0)
                return e;
        if (p->icmp_echo_per_second > 0) {
                Match m[] = { nfproto(NFPROTO_V6), l4proto(IPPROTO_ICMPV6),
                              { .kind = MATCH_ICMP_TYPE, .icmp_type = 128 } };
                if ((e = add(r, "icmpv6-echo", m, ELEMENTSOF(m), VERDICT_ACCEPT,
                             p->icmp_echo_per_second, p->icmp_echo_per_second * 2, NULL)) < 0)
                        return e;
        }
        Match link_local = { .kind = MATCH_SADDR_PREFIX };
        cidr_parse("fe80::/10", &link_local.prefix);
        if ((e = ADD(r, "dhcpv6-client", VERDICT_ACCEPT, nfproto(NFPROTO_V6), link_local,
                     l4proto(IPPROTO_UDP), ((Match){ .kind = MATCH_SPORT, .port = 547 }),
                     ((Match){ .kind = MATCH_DPORT, .port = 546 }))) < 0)
                return e;

        if ((e = ADD(r, "public-tcp", VERDICT_ACCEPT, l4proto(IPPROTO_TCP),
                     in_set(MATCH_DPORT_IN_SET, "public_tcp"))) < 0)
                return e;

        static const struct {
                const char *suffix, *set;
                uint8_t nfproto;
        } families[] = { { "v4", "peers4", NFPROTO_V4 }, { "v6", "peers6", NFPROTO_V6 } };
        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                char id[32];
                Match from = in_set(MATCH_SADDR_IN_SET, families[i].set);

                snprintf(id, sizeof(id), "peer-tcp-%s", families[i].suffix);
                if ((e = ADD(r, id, VERDICT_ACCEPT, nfproto(families[i].nfproto), from,
                             l4proto(IPPROTO_TCP), in_set(MATCH_DPORT_IN_SET, "peer_tcp"))) < 0)
                        return e;
                snprintf(id, sizeof(id), "peer-udp-%s", families[i].suffix);
                if ((e = ADD(r, id, VERDICT_ACCEPT, nfproto(families[i].nfproto), from,
                             l4proto(IPPROTO_UDP), in_set(MATCH_DPORT_IN_SET, "peer_udp"))) < 0)
                        return e;
                snprintf(id, sizeof(id), "peer-esp-%s", families[i].suffix);
                if ((e = ADD(r, id, VERDICT_ACCEPT, nfproto(families[i].nfproto), from,
                             l4proto(IPPROTO_ESP))) < 0)
                        return e;
        }
        /* one TCP port from a set of sources: joining the Swarm (a node
         * that is not in it yet reaches a manager; once it is, the peer
         * sets admit the rest) and SSH */
        const struct {
                const char *id, *set;
                uint8_t nfproto;
                uint16_t port;
        } from_sources[] = {
                { "join-v4", "join4", NFPROTO_V4, FIREWALL_JOIN_PORT },
                { "join-v6", "join6", NFPROTO_V6, FIREWALL_JOIN_PORT },
                { "ssh-v4", "management4", NFPROTO_V4, p->ssh_port },
                { "ssh-v6", "management6", NFPROTO_V6, p->ssh_port },
        };
        for (size_t i = 0; i < ELEMENTSOF(from_sources); i++)
                if ((e = ADD(r, from_sources[i].id, VERDICT_ACCEPT, nfproto(from_sources[i].nfproto),
                             in_set(MATCH_SADDR_IN_SET, from_sources[i].set), l4proto(IPPROTO_TCP),
                             ((Match){ .kind = MATCH_DPORT, .port = from_sources[i].port }))) < 0)
                        return e;
        /* the load balancer's checkers, to hostd's health endpoint: only
         * when there is one (a table without it is as before) */
        if (p->lb_health_port) {
                if ((e = ruleset_add_set(r, "lb4", SET_KEY_IPV4, NULL)) < 0 ||
                    (e = ruleset_add_set(r, "lb6", SET_KEY_IPV6, NULL)) < 0 ||
                    (e = add_cidrs((RuleSet *) ruleset_find_set(r, "lb4"), (RuleSet *) ruleset_find_set(r, "lb6"),
                                   p->lb_sources, p->n_lb_sources)) < 0)
                        return e;
                if ((e = ADD(r, "lb-health-v4", VERDICT_ACCEPT, nfproto(NFPROTO_V4), in_set(MATCH_SADDR_IN_SET, "lb4"),
                             l4proto(IPPROTO_TCP), ((Match){ .kind = MATCH_DPORT, .port = p->lb_health_port }))) < 0 ||
                    (e = ADD(r, "lb-health-v6", VERDICT_ACCEPT, nfproto(NFPROTO_V6), in_set(MATCH_SADDR_IN_SET, "lb6"),
                             l4proto(IPPROTO_TCP), ((Match){ .kind = MATCH_DPORT, .port = p->lb_health_port }))) < 0)
                        return e;
        }

        if (p->log_drops) {
                Rule log = { .id = "log-drop", .limit_per_second = 5, .limit_burst = 10,
                             .log_prefix = "hostd drop: ", .verdict = VERDICT_NONE };
                if ((e = ruleset_add_rule(r, &log)) < 0)
                        return e;
        }
        Rule drop = { .id = "drop", .verdict = VERDICT_DROP };
        if ((e = ruleset_add_rule(r, &drop)) < 0)
                return e;

        ruleset_seal(r);
        *ret = TAKE_PTR(r);
        return 0;
}
