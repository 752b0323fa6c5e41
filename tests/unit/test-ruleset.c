/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The firewall model: prefixes, set normalisation, the ruleset built from
 * the policy and its nft text. (Applying it is tested for real in
 * test-nft and the namespace integration tests.) */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "firewall/build.h"

static void test_cidr_parse(void **state _unused_) {
        static const struct {
                const char *in, *out;
        } good[] = {
                { "10.0.0.0/8", "10.0.0.0/8" },  { "192.0.2.7", "192.0.2.7" },
                { "192.0.2.7/32", "192.0.2.7" }, { "0.0.0.0/0", "0.0.0.0/0" },
                { "fd00::/64", "fd00::/64" },    { "2001:db8::1", "2001:db8::1" },
                { "::/0", "::/0" },              { "fe80::/10", "fe80::/10" },
        };
        static const char *const bad[] = {
                "", "10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08",
                "10.0.0.0/8x", "300.1.1.1", "10.0.0", "fd00::1/64", "fd00::/129", "host.example",
                "/24", "10.0.0.0 /8", "::ffff:1.2.3.4/200",
        };
        char buf[64];
        Cidr c;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (cidr_parse(good[i].in, &c) < 0)
                        fail_msg("rejected %s", good[i].in);
                cidr_format(&c, buf, sizeof(buf));
                assert_string_equal(buf, good[i].out);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (cidr_parse(bad[i], &c) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
        assert_int_equal(cidr_parse("10.1.3.0/23", &c), -EINVAL); /* host bit in the 3rd byte */
        assert_int_equal(cidr_parse("10.1.2.0/23", &c), 0);
        assert_int_equal(cidr_parse("10.1.2.0/24", &c), 0);
        assert_int_equal(c.family, AF_INET);
        assert_int_equal(c.prefix, 24);
}

static RuleSet *set_with(Ruleset *r, const char *name, SetKey key, const char *const *cidrs, size_t n) {
        RuleSet *s;
        Cidr c;

        assert_int_equal(ruleset_add_set(r, name, key, &s), 0);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(cidr_parse(cidrs[i], &c), 0);
                assert_int_equal(ruleset_set_add_cidr(s, &c), 0);
        }
        return s;
}

static void test_set_merging(void **state _unused_) {
        static const char *const v4[] = {
                "10.0.1.0/24", "10.0.0.7", "10.0.0.0/24", "192.0.2.1", "192.0.2.3",
                "192.0.2.2", "255.255.255.255", "203.0.113.0/25", "203.0.113.128/25",
        };
        static const char *const v6[] = { "fd00::/64", "fd00::1", "2001:db8::/32" };
        Ruleset *r = NULL;
        char *text;

        assert_int_equal(ruleset_new(&r), 0);
        set_with(r, "a4", SET_KEY_IPV4, v4, ELEMENTSOF(v4));
        set_with(r, "a6", SET_KEY_IPV6, v6, ELEMENTSOF(v6));
        ruleset_seal(r);
        /* overlapping and adjacent ranges merged, sorted */
        assert_int_equal(ruleset_find_set(r, "a4")->n_ranges, 4);
        assert_int_equal(ruleset_find_set(r, "a6")->n_ranges, 2);
        text = ruleset_to_nft(r);
        assert_non_null(text);
        assert_non_null(strstr(text, "elements = { 10.0.0.0/23,"));
        assert_non_null(strstr(text, "192.0.2.1-192.0.2.3"));
        assert_non_null(strstr(text, "203.0.113.0/24"));
        assert_non_null(strstr(text, "255.255.255.255 }"));
        assert_non_null(strstr(text, "elements = { 2001:db8::/32,"));
        assert_non_null(strstr(text, "fd00::/64 }"));
        free(text);
        ruleset_free(r);
}

static void test_builder_refusals(void **state _unused_) {
        Ruleset *r = NULL;
        RuleSet *s;
        Cidr c6;
        Rule rule = { .id = "x", .n_matches = 1, .matches = { { .kind = MATCH_DPORT_IN_SET, .name = "nope" } } };

        assert_int_equal(ruleset_new(&r), 0);
        assert_int_equal(ruleset_add_set(r, "1bad", SET_KEY_IPV4, &s), -EINVAL);
        assert_int_equal(ruleset_add_set(r, "has space", SET_KEY_IPV4, &s), -EINVAL);
        assert_int_equal(ruleset_add_set(r, "ok", SET_KEY_IPV4, &s), 0);
        assert_int_equal(ruleset_add_set(r, "ok", SET_KEY_IPV4, &s), -EINVAL); /* duplicate */
        assert_int_equal(cidr_parse("fd00::/8", &c6), 0);
        s = (RuleSet *) ruleset_find_set(r, "ok");
        assert_int_equal(ruleset_set_add_cidr(s, &c6), -EINVAL); /* wrong family */
        assert_int_equal(ruleset_set_add_value(s, 22), -EINVAL);  /* not a value set */
        assert_int_equal(ruleset_add_rule(r, &rule), -EINVAL);    /* unknown set */
        rule.n_matches = RULE_MAX_MATCHES + 1;
        assert_int_equal(ruleset_add_rule(r, &rule), -EINVAL);
        rule.n_matches = 0;
        assert_int_equal(ruleset_add_rule(r, &rule), 0);
        assert_int_equal(ruleset_add_rule(r, &rule), -EINVAL); /* duplicate id */
        assert_int_equal(ruleset_add_set(r, "icmp", SET_KEY_ICMP, &s), 0);
        assert_int_equal(ruleset_set_add_value(s, 256), -EINVAL);
        ruleset_free(r);
        assert_null(ruleset_free(NULL));
}

static HostdConfig *config(const char *text) {
        HostdConfig *c = NULL;
        ConfigError e = {};

        if (config_parse(text, strlen(text), &c, &e) < 0)
                fail_msg("%s: %u:%u %s %s", text, e.line, e.column, e.path, e.message);
        return c;
}

static char *render(const char *conf, const Cidr *live, size_t n_live, uint64_t *digest) {
        HostdConfig *c = config(conf);
        Ruleset *r = NULL;
        char *text;

        assert_int_equal(firewall_build(&c->firewall, live, n_live, &r), 0);
        text = ruleset_to_nft(r);
        assert_non_null(text);
        if (digest)
                *digest = ruleset_digest(r);
        ruleset_free(r);
        config_free(c);
        return text;
}

static Verdict outside(const Ruleset *r, const char *ifname, uint8_t nfproto, uint8_t l4proto, uint16_t port,
                       const char **rule_id) {
        const Rule *rule = NULL;
        Verdict v = ruleset_verdict_from_outside(
                r, &(OutsidePacket){ .ifname = ifname, .nfproto = nfproto, .l4proto = l4proto, .dport = port }, &rule);
        *rule_id = rule ? rule->id : "(policy)";
        return v;
}

/* What the built table does with connections from outside */
static void test_verdict_from_outside(void **state _unused_) {
        HostdConfig *c = config("{\"firewall\": {\"public-tcp-ports\": [443, 8443], \"management-sources\": [\"192.0.2.0/24\"]}}");
        Ruleset *r = NULL;
        const char *id;
        Cidr live;

        assert_int_equal(cidr_parse("10.77.0.11", &live), 0);
        assert_int_equal(firewall_build(&c->firewall, &live, 1, &r), 0);
        assert_int_equal(outside(r, "eth0", 2, IPPROTO_TCP, 443, &id), VERDICT_ACCEPT);
        assert_int_equal(outside(r, "eth0", 10, IPPROTO_TCP, 8443, &id), VERDICT_ACCEPT);
        /* a stray listener, the Swarm's ports, SSH (management sources only) */
        assert_int_equal(outside(r, "eth0", 2, IPPROTO_TCP, 8080, &id), VERDICT_DROP);
        assert_string_equal(id, "drop");
        assert_int_equal(outside(r, "eth0", 2, IPPROTO_TCP, 2377, &id), VERDICT_DROP);
        assert_int_equal(outside(r, "eth0", 6, IPPROTO_UDP, 4789, &id), VERDICT_DROP);
        assert_int_equal(outside(r, "eth0", 2, IPPROTO_TCP, 22, &id), VERDICT_DROP);
        assert_int_equal(outside(r, "ens3", 10, IPPROTO_UDP, 7946, &id), VERDICT_DROP);
        /* trusted interfaces are not filtered */
        assert_int_equal(outside(r, "lo", 2, IPPROTO_TCP, 8080, &id), VERDICT_ACCEPT);
        assert_int_equal(outside(r, "br-1234", 2, IPPROTO_TCP, 8080, &id), VERDICT_ACCEPT);
        assert_string_equal(id, "trusted-4");
        ruleset_free(r);
        config_free(c);

        /* an empty table accepts by its chain's policy */
        assert_int_equal(ruleset_new(&r), 0);
        assert_int_equal(ruleset_seal(r), 0);
        assert_int_equal(outside(r, "eth0", 2, IPPROTO_TCP, 8080, &id), VERDICT_ACCEPT);
        assert_string_equal(id, "(policy)");
        ruleset_free(r);
}

static void test_default_policy(void **state _unused_) {
        Cidr live[2];
        uint64_t d1, d2, d3;
        char *t;

        assert_int_equal(cidr_parse("10.77.0.11", &live[0]), 0);
        assert_int_equal(cidr_parse("10.77.0.12", &live[1]), 0);
        t = render("{}", live, 2, &d1);
        /* 443 for everyone, Swarm ports for the live peers, the rest dropped */
        assert_non_null(strstr(t, "set public_tcp {\n\t\ttype inet_service\n\t\telements = { 443 }"));
        assert_non_null(strstr(t, "set peers4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.77.0.11-10.77.0.12 }"));
        /* with the wave node protocol's port, for peers only */
        assert_non_null(strstr(t, "elements = { 2377,\n\t\t\t     7946,\n\t\t\t     9443 }"));
        assert_non_null(strstr(t, "elements = { 4789,\n\t\t\t     7946 }"));
        assert_non_null(strstr(t, "type filter hook prerouting priority -150; policy accept;"));
        assert_non_null(strstr(t, "iifname \"lo\" counter accept comment \"trusted-1\""));
        assert_non_null(strstr(t, "iifname \"br-*\" counter accept"));
        assert_non_null(strstr(t, "meta nfproto ipv4 ip saddr @peers4 meta l4proto esp counter accept"));
        assert_non_null(strstr(t, "th dport 22 counter accept comment \"ssh-v4\""));
        assert_non_null(strstr(t, "log prefix \"hostd drop: \" level warn comment \"log-drop\""));
        /* the drop is last */
        assert_non_null(strstr(t, "counter drop comment \"drop\"\n\t}\n}\n"));
        /* the management set is empty by default: SSH is closed */
        assert_non_null(strstr(t, "set management4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}"));
        free(t);

        t = render("{}", live, 2, &d2);
        free(t);
        assert_true(d1 == d2); /* stable */
        t = render("{}", live, 1, &d3);
        free(t);
        assert_true(d1 != d3); /* a peer less is a different ruleset */
}

static void test_policy_options(void **state _unused_) {
        char *t = render("{\"firewall\": {\"public-tcp-ports\": [443, 8443], \"swarm-peers\": false,"
                         " \"peers\": [\"10.1.0.0/16\"], \"management-sources\": [\"192.0.2.0/24\"],"
                         " \"ssh-port\": 2222, \"log-drops\": false, \"icmp-echo-per-second\": 0,"
                         " \"trusted-interfaces\": [\"lo\"], \"join-sources\": [\"198.51.100.0/24\", \"2001:db8::/64\"]}}",
                         NULL, 0, NULL);
        Cidr live;

        /* where new nodes join from: 2377 only, before SSH */
        assert_non_null(strstr(t, "elements = { 198.51.100.0/24 }"));
        assert_non_null(strstr(t, "elements = { 2001:db8::/64 }"));
        assert_non_null(strstr(t, "ip saddr @join4 meta l4proto tcp th dport 2377 counter accept comment \"join-v4\""));
        assert_non_null(strstr(t, "ip6 saddr @join6 meta l4proto tcp th dport 2377 counter accept comment \"join-v6\""));
        assert_true(strstr(t, "\"join-v6\"") < strstr(t, "\"ssh-v4\""));

        assert_non_null(strstr(t, "elements = { 443,\n\t\t\t     8443 }"));
        assert_non_null(strstr(t, "elements = { 10.1.0.0/16 }"));
        assert_non_null(strstr(t, "elements = { 192.0.2.0/24 }"));
        assert_non_null(strstr(t, "th dport 2222 counter accept comment \"ssh-v4\""));
        assert_null(strstr(t, "log-drop"));
        assert_null(strstr(t, "icmp-echo"));
        assert_null(strstr(t, "docker0"));
        free(t);

        /* swarm-peers off: live peers are not added */
        assert_int_equal(cidr_parse("10.77.0.11", &live), 0);
        t = render("{\"firewall\": {\"swarm-peers\": false}}", &live, 1, NULL);
        assert_null(strstr(t, "10.77.0.11"));
        free(t);
}

/* The load balancer's health port: from its sources only, and only when
 * configured (a table without it is as before). */
static void test_load_balancer_port(void **state _unused_) {
        char *t = render("{\"load-balancer\": {\"health-port\": 8080, \"sources\": [\"10.77.0.200/32\", \"fd00::9/128\"]}}",
                         NULL, 0, NULL);

        assert_non_null(strstr(t, "set lb4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.77.0.200 }"));
        assert_non_null(strstr(t, "ip saddr @lb4 meta l4proto tcp th dport 8080 counter accept comment \"lb-health-v4\""));
        assert_non_null(strstr(t, "ip6 saddr @lb6 meta l4proto tcp th dport 8080 counter accept comment \"lb-health-v6\""));
        /* before the drop */
        assert_true(strstr(t, "\"lb-health-v6\"") < strstr(t, "comment \"drop\""));
        free(t);
        t = render("{}", NULL, 0, NULL);
        assert_null(strstr(t, "lb4"));
        assert_null(strstr(t, "lb-health"));
        free(t);

        /* from anywhere else, 8080 is dropped */
        HostdConfig *c = config("{\"load-balancer\": {\"health-port\": 8080, \"sources\": [\"10.77.0.200/32\"]}}");
        Ruleset *r = NULL;
        const char *id;
        assert_int_equal(firewall_build(&c->firewall, NULL, 0, &r), 0);
        assert_int_equal(outside(r, "eth0", 2, IPPROTO_TCP, 8080, &id), VERDICT_DROP);
        assert_string_equal(id, "drop");
        ruleset_free(r);
        config_free(c);
}

static void bad(const char *text, const char *path, const char *needle) {
        HostdConfig *c = NULL;
        ConfigError e = {};

        assert_int_equal(config_parse(text, strlen(text), &c, &e), -EINVAL);
        if (!STREQ(e.path, path) || !strstr(e.message, needle) || e.line == 0)
                fail_msg("%s: got %u:%u '%s' '%s'", text, e.line, e.column, e.path, e.message);
}

static void test_bad_firewall_policy(void **state _unused_) {
        bad("{\"firewall\": {\"public-tcp-ports\": [0]}}", "firewall.public-tcp-ports[0]", "0 is out of range 1..65535");
        bad("{\"firewall\": {\"public-tcp-ports\": [443, 70000]}}", "firewall.public-tcp-ports[1]", "70000 is out of range");
        bad("{\"firewall\": {\"public-tcp-ports\": [443, 443]}}", "firewall.public-tcp-ports[1]", "listed twice");
        bad("{\"firewall\": {\"public-tcp-ports\": 443}}", "firewall.public-tcp-ports", "expected an array");
        bad("{\"firewall\": {\"peers\": [\"10.0.0.1/8\"]}}", "firewall.peers[0]", "host bits must be zero");
        bad("{\"firewall\": {\"peers\": [\"10.0.0.0/33\"]}}", "firewall.peers[0]", "not an IPv4/IPv6");
        bad("{\"firewall\": {\"peers\": [17]}}", "firewall.peers[0]", "expected a string");
        bad("{\"firewall\": {\"management-sources\": [\"nope\"]}}", "firewall.management-sources[0]", "not an IPv4");
        bad("{\"firewall\": {\"trusted-interfaces\": [\"a-very-long-interface-name\"]}}", "firewall.trusted-interfaces[0]", "1-15 bytes");
        bad("{\"firewall\": {\"trusted-interfaces\": [\"b*r\"]}}", "firewall.trusted-interfaces[0]", "'*' may only end");
        bad("{\"firewall\": {\"trusted-interfaces\": [\"*\"]}}", "firewall.trusted-interfaces[0]", "not an interface name");
        bad("{\"firewall\": {\"enabled\": \"yes\"}}", "firewall.enabled", "expected true or false");
        bad("{\"firewall\": {\"ssh-port\": 0}}", "firewall.ssh-port", "out of range");
        bad("{\"firewall\": {\"open\": [80]}}", "firewall.open", "unknown key");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cidr_parse),
                cmocka_unit_test(test_set_merging),
                cmocka_unit_test(test_builder_refusals),
                cmocka_unit_test(test_default_policy),
                cmocka_unit_test(test_verdict_from_outside),
                cmocka_unit_test(test_policy_options),
                cmocka_unit_test(test_load_balancer_port),
                cmocka_unit_test(test_bad_firewall_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
