/* SPDX-License-Identifier: GPL-2.0-or-later */
/* firewall/netlink.c against the running kernel, checked with nft(8) itself.
 * The program moves into a network namespace of its own before anything
 * else, so it never sees or touches the host's ruleset; nft, run from here,
 * inherits the namespace. Needs root (CAP_NET_ADMIN). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "firewall/netlink.h"

/* --- building rulesets by hand (the builders live in ruleset.c) --- */

static void free_ruleset(Ruleset *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_sets; i++)
                free(r->sets[i].ranges);
        free(r->sets);
        free(r->rules);
        free(r);
}

static void free_rulesetp(Ruleset **r) {
        free_ruleset(*r);
        *r = NULL;
}

static Ruleset *new_ruleset(void) {
        Ruleset *r = calloc(1, sizeof(*r));

        assert_non_null(r);
        r->sealed = true; /* the tests add ranges sorted and disjoint */
        return r;
}

static RuleSet *add_set(Ruleset *r, const char *name, SetKey key) {
        r->sets = realloc(r->sets, (r->n_sets + 1) * sizeof(*r->sets));
        assert_non_null(r->sets);
        r->sets[r->n_sets] = (RuleSet){ .key = key };
        snprintf(r->sets[r->n_sets].name, sizeof(r->sets[0].name), "%s", name);
        return &r->sets[r->n_sets++];
}

static RuleSet *find_set(Ruleset *r, const char *name) {
        for (size_t i = 0; i < r->n_sets; i++)
                if (STREQ(r->sets[i].name, name))
                        return &r->sets[i];
        fail_msg("no set %s", name);
        return NULL;
}

static void append_range(RuleSet *s, const SetRange *range) {
        if (s->n_ranges == s->capacity) {
                s->capacity = s->capacity ? s->capacity * 2 : 8;
                s->ranges = realloc(s->ranges, s->capacity * sizeof(*s->ranges));
                assert_non_null(s->ranges);
        }
        s->ranges[s->n_ranges++] = *range;
}

static void add_range(RuleSet *s, const char *first, const char *last) {
        int family = s->key == SET_KEY_IPV6 ? AF_INET6 : AF_INET;
        SetRange range = {};

        assert_int_equal(inet_pton(family, first, range.first), 1);
        assert_int_equal(inet_pton(family, last, range.last), 1);
        append_range(s, &range);
}

static void add_value(RuleSet *s, uint16_t value) {
        SetRange range = {};

        memcpy(range.first, &value, sizeof(value));
        memcpy(range.last, &value, sizeof(value));
        append_range(s, &range);
}

static Rule *add_rule(Ruleset *r, const char *id, Verdict verdict) {
        r->rules = realloc(r->rules, (r->n_rules + 1) * sizeof(*r->rules));
        assert_non_null(r->rules);
        r->rules[r->n_rules] = (Rule){ .verdict = verdict };
        snprintf(r->rules[r->n_rules].id, sizeof(r->rules[0].id), "%s", id);
        return &r->rules[r->n_rules++];
}

static void add_match(Rule *rule, Match m) {
        assert_true(rule->n_matches < RULE_MAX_MATCHES);
        rule->matches[rule->n_matches++] = m;
}

static Match iifname(const char *name, bool negate) {
        Match m = { .kind = MATCH_IIFNAME, .negate = negate };

        snprintf(m.name, sizeof(m.name), "%s", name);
        return m;
}

static Match in_set(MatchKind kind, const char *set) {
        Match m = { .kind = kind };

        snprintf(m.name, sizeof(m.name), "%s", set);
        return m;
}

static Match nfproto(uint8_t p) {
        return (Match){ .kind = MATCH_NFPROTO, .nfproto = p };
}

static Match l4proto(uint8_t p) {
        return (Match){ .kind = MATCH_L4PROTO, .l4proto = p };
}

static Match saddr_prefix(const char *address, uint8_t prefix) {
        Match m = { .kind = MATCH_SADDR_PREFIX };

        m.prefix.family = strchr(address, ':') ? AF_INET6 : AF_INET;
        m.prefix.prefix = prefix;
        assert_int_equal(inet_pton(m.prefix.family, address, m.prefix.address), 1);
        return m;
}

/* Everything the model can express, once. Its nft(8) text is below. */
static Ruleset *full_ruleset(void) {
        Ruleset *r = new_ruleset();
        RuleSet *s;
        Rule *rule;

        s = add_set(r, "public_tcp", SET_KEY_SERVICE);
        add_value(s, 22);
        add_value(s, 443);
        s = add_set(r, "icmp_ok", SET_KEY_ICMP);
        add_value(s, 3);
        add_value(s, 11);
        add_value(s, 12);
        s = add_set(r, "icmpv6_ok", SET_KEY_ICMPV6);
        add_value(s, 1);
        add_value(s, 2);
        add_value(s, 128);
        s = add_set(r, "peers4", SET_KEY_IPV4);
        add_range(s, "10.0.0.0", "10.0.1.255"); /* 10.0.0.0/24 and 10.0.1.0/24, merged */
        add_range(s, "192.0.2.1", "192.0.2.3");
        add_range(s, "203.0.113.0", "203.0.113.255");
        add_range(s, "255.255.255.255", "255.255.255.255");
        s = add_set(r, "peers6", SET_KEY_IPV6);
        add_range(s, "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
        add_range(s, "fd00::1", "fd00::5");
        s = add_set(r, "any4", SET_KEY_IPV4);
        add_range(s, "0.0.0.0", "255.255.255.255");
        add_set(r, "empty6", SET_KEY_IPV6);

        add_match(add_rule(r, "loopback", VERDICT_ACCEPT), iifname("lo", false));
        add_match(add_rule(r, "bridges", VERDICT_ACCEPT), iifname("br-*", false));
        add_match(add_rule(r, "not-veth", VERDICT_NONE), iifname("veth*", true));
        add_match(add_rule(r, "established", VERDICT_ACCEPT),
                  (Match){ .kind = MATCH_CT_STATE, .ct_state = CT_STATE_ESTABLISHED | CT_STATE_RELATED });
        add_match(add_rule(r, "invalid", VERDICT_DROP),
                  (Match){ .kind = MATCH_CT_STATE, .ct_state = CT_STATE_INVALID });

        rule = add_rule(r, "icmp", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV4));
        add_match(rule, l4proto(IPPROTO_ICMP));
        add_match(rule, in_set(MATCH_ICMP_TYPE_IN_SET, "icmp_ok"));

        rule = add_rule(r, "icmp-echo", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV4));
        add_match(rule, l4proto(IPPROTO_ICMP));
        add_match(rule, (Match){ .kind = MATCH_ICMP_TYPE, .icmp_type = 8 });
        rule->limit_per_second = 5;
        rule->limit_burst = 10;

        rule = add_rule(r, "icmpv6", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV6));
        add_match(rule, l4proto(IPPROTO_ICMPV6));
        add_match(rule, in_set(MATCH_ICMP_TYPE_IN_SET, "icmpv6_ok"));

        rule = add_rule(r, "dhcpv6-client", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV6));
        add_match(rule, saddr_prefix("fe80::", 10));
        add_match(rule, l4proto(IPPROTO_UDP));
        add_match(rule, (Match){ .kind = MATCH_SPORT, .port = 547 });
        add_match(rule, (Match){ .kind = MATCH_DPORT, .port = 546 });

        rule = add_rule(r, "public-tcp", VERDICT_ACCEPT);
        add_match(rule, l4proto(IPPROTO_TCP));
        add_match(rule, in_set(MATCH_DPORT_IN_SET, "public_tcp"));

        rule = add_rule(r, "peer-tcp-v4", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV4));
        add_match(rule, in_set(MATCH_SADDR_IN_SET, "peers4"));
        add_match(rule, l4proto(IPPROTO_TCP));
        add_match(rule, in_set(MATCH_DPORT_IN_SET, "public_tcp"));

        rule = add_rule(r, "peer-esp-v6", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV6));
        add_match(rule, in_set(MATCH_SADDR_IN_SET, "peers6"));
        add_match(rule, l4proto(IPPROTO_ESP));

        rule = add_rule(r, "ssh-v4", VERDICT_ACCEPT);
        add_match(rule, nfproto(NFPROTO_IPV4));
        add_match(rule, in_set(MATCH_SADDR_IN_SET, "any4"));
        add_match(rule, l4proto(IPPROTO_TCP));
        add_match(rule, (Match){ .kind = MATCH_DPORT, .port = 22 });

        rule = add_rule(r, "net10", VERDICT_DROP);
        add_match(rule, nfproto(NFPROTO_IPV4));
        add_match(rule, saddr_prefix("10.0.0.0", 8));

        rule = add_rule(r, "host6", VERDICT_DROP);
        add_match(rule, nfproto(NFPROTO_IPV6));
        add_match(rule, saddr_prefix("2001:db8::1", 128));

        rule = add_rule(r, "log-drop", VERDICT_NONE);
        rule->limit_per_second = 5;
        rule->limit_burst = 10;
        rule->log_prefix = "hostd drop: ";

        add_rule(r, "drop", VERDICT_DROP);
        return r;
}

/* full_ruleset() in nft(8) syntax, as ruleset_to_nft() renders it */
static const char full_nft_text[] =
        "table inet hostd {\n"
        "\tset public_tcp {\n\t\ttype inet_service\n\t\telements = { 22, 443 }\n\t}\n"
        "\tset icmp_ok {\n\t\ttype icmp_type\n\t\telements = { 3, 11, 12 }\n\t}\n"
        "\tset icmpv6_ok {\n\t\ttype icmpv6_type\n\t\telements = { 1, 2, 128 }\n\t}\n"
        "\tset peers4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
        "\t\telements = { 10.0.0.0/23, 192.0.2.1-192.0.2.3, 203.0.113.0/24, 255.255.255.255 }\n\t}\n"
        "\tset peers6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n"
        "\t\telements = { 2001:db8::/32, fd00::1-fd00::5 }\n\t}\n"
        "\tset any4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 0.0.0.0/0 }\n\t}\n"
        "\tset empty6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n"
        "\tchain prerouting {\n"
        "\t\ttype filter hook prerouting priority -150; policy accept;\n"
        "\t\tiifname \"lo\" counter accept comment \"loopback\"\n"
        "\t\tiifname \"br-*\" counter accept comment \"bridges\"\n"
        "\t\tiifname != \"veth*\" counter comment \"not-veth\"\n"
        "\t\tct state established,related counter accept comment \"established\"\n"
        "\t\tct state invalid counter drop comment \"invalid\"\n"
        "\t\tmeta nfproto ipv4 meta l4proto icmp icmp type @icmp_ok counter accept comment \"icmp\"\n"
        "\t\tmeta nfproto ipv4 meta l4proto icmp icmp type 8 limit rate 5/second burst 10 packets counter accept comment \"icmp-echo\"\n"
        "\t\tmeta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type @icmpv6_ok counter accept comment \"icmpv6\"\n"
        "\t\tmeta nfproto ipv6 ip6 saddr fe80::/10 meta l4proto udp th sport 547 th dport 546 counter accept comment \"dhcpv6-client\"\n"
        "\t\tmeta l4proto tcp th dport @public_tcp counter accept comment \"public-tcp\"\n"
        "\t\tmeta nfproto ipv4 ip saddr @peers4 meta l4proto tcp th dport @public_tcp counter accept comment \"peer-tcp-v4\"\n"
        "\t\tmeta nfproto ipv6 ip6 saddr @peers6 meta l4proto esp counter accept comment \"peer-esp-v6\"\n"
        "\t\tmeta nfproto ipv4 ip saddr @any4 meta l4proto tcp th dport 22 counter accept comment \"ssh-v4\"\n"
        "\t\tmeta nfproto ipv4 ip saddr 10.0.0.0/8 counter drop comment \"net10\"\n"
        "\t\tmeta nfproto ipv6 ip6 saddr 2001:db8::1 counter drop comment \"host6\"\n"
        "\t\tlimit rate 5/second burst 10 packets counter log prefix \"hostd drop: \" level warn comment \"log-drop\"\n"
        "\t\tcounter drop comment \"drop\"\n"
        "\t}\n"
        "}\n";

/* What `nft list table inet hostd` prints for that text, loaded by nft. */
static const char full_nft_listing[] =
        "table inet hostd {\n"
        "\tset public_tcp {\n\t\ttype inet_service\n\t\telements = { 22, 443 }\n\t}\n\n"
        "\tset icmp_ok {\n\t\ttype icmp_type\n"
        "\t\telements = { destination-unreachable,\n\t\t\t     time-exceeded,\n\t\t\t     parameter-problem }\n\t}\n\n"
        "\tset icmpv6_ok {\n\t\ttype icmpv6_type\n"
        "\t\telements = { destination-unreachable,\n\t\t\t     packet-too-big,\n\t\t\t     echo-request }\n\t}\n\n"
        "\tset peers4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
        "\t\telements = { 10.0.0.0/23, 192.0.2.1-192.0.2.3,\n\t\t\t     203.0.113.0/24, 255.255.255.255 }\n\t}\n\n"
        "\tset peers6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n"
        "\t\telements = { 2001:db8::/32,\n\t\t\t     fd00::1-fd00::5 }\n\t}\n\n"
        "\tset any4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 0.0.0.0/0 }\n\t}\n\n"
        "\tset empty6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n\n"
        "\tchain prerouting {\n"
        "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
        "\t\tiifname \"lo\" counter packets 0 bytes 0 accept comment \"loopback\"\n"
        "\t\tiifname \"br-*\" counter packets 0 bytes 0 accept comment \"bridges\"\n"
        "\t\tiifname != \"veth*\" counter packets 0 bytes 0 comment \"not-veth\"\n"
        "\t\tct state established,related counter packets 0 bytes 0 accept comment \"established\"\n"
        "\t\tct state invalid counter packets 0 bytes 0 drop comment \"invalid\"\n"
        "\t\ticmp type @icmp_ok counter packets 0 bytes 0 accept comment \"icmp\"\n"
        "\t\ticmp type echo-request limit rate 5/second burst 10 packets counter packets 0 bytes 0 accept comment \"icmp-echo\"\n"
        "\t\ticmpv6 type @icmpv6_ok counter packets 0 bytes 0 accept comment \"icmpv6\"\n"
        "\t\tip6 saddr fe80::/10 udp sport 547 udp dport 546 counter packets 0 bytes 0 accept comment \"dhcpv6-client\"\n"
        "\t\ttcp dport @public_tcp counter packets 0 bytes 0 accept comment \"public-tcp\"\n"
        "\t\tip saddr @peers4 tcp dport @public_tcp counter packets 0 bytes 0 accept comment \"peer-tcp-v4\"\n"
        "\t\tip6 saddr @peers6 meta l4proto esp counter packets 0 bytes 0 accept comment \"peer-esp-v6\"\n"
        "\t\tip saddr @any4 tcp dport 22 counter packets 0 bytes 0 accept comment \"ssh-v4\"\n"
        "\t\tip saddr 10.0.0.0/8 counter packets 0 bytes 0 drop comment \"net10\"\n"
        "\t\tip6 saddr 2001:db8::1 counter packets 0 bytes 0 drop comment \"host6\"\n"
        "\t\tlimit rate 5/second burst 10 packets counter packets 0 bytes 0 log prefix \"hostd drop: \" comment \"log-drop\"\n"
        "\t\tcounter packets 0 bytes 0 drop comment \"drop\"\n"
        "\t}\n"
        "}\n";

/* --- running nft --- */

/* Runs a shell command, returns its stdout; fails the test on a nonzero
 * exit unless allow_failure. */
static char *run(bool allow_failure, const char *format, ...) _printf_(2, 3);

static char *run(bool allow_failure, const char *format, ...) {
        char command[1024], chunk[4096];
        char *out = NULL;
        size_t size = 0, n;
        va_list ap;
        FILE *f;
        int status;

        va_start(ap, format);
        vsnprintf(command, sizeof(command), format, ap);
        va_end(ap);
        f = popen(command, "r");
        assert_non_null(f);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                out = realloc(out, size + n + 1);
                assert_non_null(out);
                memcpy(out + size, chunk, n);
                size += n;
        }
        status = pclose(f);
        if (!allow_failure && status != 0)
                fail_msg("`%s` failed (status %d)", command, status);
        if (!out)
                out = calloc(1, 1);
        else
                out[size] = '\0';
        return out;
}

static void nft(const char *format, ...) _printf_(1, 2);

static void nft(const char *format, ...) {
        char args[900];
        va_list ap;

        va_start(ap, format);
        vsnprintf(args, sizeof(args), format, ap);
        va_end(ap);
        free(run(false, "nft %s", args));
}

static void nft_load(const char *text) {
        char path[] = "/tmp/test-nft-XXXXXX";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        free(run(false, "nft -f %s", path));
        unlink(path);
}

static char *listing(void) {
        return run(false, "nft list table inet hostd");
}

static bool table_exists(void) {
        char *out = run(true, "nft list tables 2>/dev/null");
        bool found = strstr(out, "table inet hostd\n") != NULL;

        free(out);
        return found;
}

/* fork and exec nft directly, so the committing process is nft itself */
static pid_t nft_child(const char *const *args) {
        char *argv[16] = { (char *) "nft" };
        pid_t pid;
        int status;

        for (size_t i = 0; args[i] && i < ELEMENTSOF(argv) - 2; i++)
                argv[i + 1] = (char *) args[i];
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execvp("nft", argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return pid;
}

static json_t *json_listing(void) {
        char *out = run(false, "nft -j list table inet hostd");
        json_error_t error;
        json_t *j = json_loads(out, 0, &error);

        if (!j)
                fail_msg("nft -j: %s", error.text);
        free(out);
        return j;
}

/* The object {"kind": {...}} of the listing whose field key equals value */
static json_t *json_find(json_t *listing, const char *kind, const char *key, const char *value) {
        json_t *item;
        size_t i;

        json_array_foreach(json_object_get(listing, "nftables"), i, item) {
                json_t *o = json_object_get(item, kind);
                json_t *v = o ? json_object_get(o, key) : NULL;

                if (v && json_is_string(v) && STREQ(json_string_value(v), value))
                        return o;
        }
        return NULL;
}

static void assert_json(json_t *j, const char *expected) {
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

        assert_non_null(text);
        assert_string_equal(text, expected);
        free(text);
}

static void apply_ok(NftSocket *s, const Ruleset *r) {
        char err[256] = "";
        int e = nft_apply(s, r, err, sizeof(err));

        if (e < 0)
                fail_msg("apply: %d %s", e, err);
}

static NftLiveTable *read_table(NftSocket *s, const Ruleset *desired) {
        NftLiveTable *t = NULL;

        assert_int_equal(nft_read_table(s, desired, &t), 0);
        assert_non_null(t);
        return t;
}

static int setup(void **state) {
        NftSocket *s = NULL;

        free(run(true, "nft flush ruleset"));
        assert_int_equal(nft_socket_open(&s), 0);
        *state = s;
        return 0;
}

static int teardown(void **state) {
        nft_socket_close(*state);
        return 0;
}

/* --- tests --- */

static void test_listing_is_nfts(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        _cleanup_free_ char *ours = NULL, *theirs = NULL;

        apply_ok(*state, r);
        ours = listing();
        assert_string_equal(ours, full_nft_listing);

        /* the same text loaded by nft lists the same */
        free(run(false, "nft delete table inet hostd"));
        nft_load(full_nft_text);
        theirs = listing();
        assert_string_equal(theirs, full_nft_listing);
}

static void test_bytecode_is_nfts(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        _cleanup_free_ char *ours = NULL, *theirs = NULL;
        NftLiveTable *t;

        /* expressions and set elements exactly as nft sends them */
        nft_load(full_nft_text);
        theirs = run(false, "nft --debug=netlink list table inet hostd");
        t = read_table(*state, r);
        if (!t->matches_desired)
                fail_msg("nft's own table differs: %s", t->difference);
        nft_live_table_free(t);

        apply_ok(*state, r);
        ours = run(false, "nft --debug=netlink list table inet hostd");
        assert_string_equal(ours, theirs);
        assert_non_null(strstr(ours, "[ payload load 4b @ transport header + 0 => reg 1 ]"));
        assert_non_null(strstr(ours, "[ cmp eq reg 1 0x00006f6c 0x00000000 0x00000000 0x00000000 ]"));
        assert_non_null(strstr(ours, "[ cmp neq reg 1 0x68746576 ]"));
}

static void test_json(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        json_t *j, *o, *expr;

        apply_ok(*state, r);
        j = json_listing();

        o = json_find(j, "set", "name", "peers4");
        assert_non_null(o);
        assert_json(json_object_get(o, "type"), "\"ipv4_addr\"");
        assert_json(json_object_get(o, "flags"), "[\"interval\"]");
        assert_json(json_object_get(o, "elem"),
                    "[{\"prefix\":{\"addr\":\"10.0.0.0\",\"len\":23}},{\"range\":[\"192.0.2.1\",\"192.0.2.3\"]},"
                    "{\"prefix\":{\"addr\":\"203.0.113.0\",\"len\":24}},\"255.255.255.255\"]");
        o = json_find(j, "set", "name", "peers6");
        assert_json(json_object_get(o, "elem"),
                    "[{\"prefix\":{\"addr\":\"2001:db8::\",\"len\":32}},{\"range\":[\"fd00::1\",\"fd00::5\"]}]");
        o = json_find(j, "set", "name", "any4");
        assert_json(json_object_get(o, "elem"), "[{\"prefix\":{\"addr\":\"0.0.0.0\",\"len\":0}}]");
        o = json_find(j, "set", "name", "empty6");
        assert_non_null(o);
        assert_null(json_object_get(o, "elem"));
        o = json_find(j, "set", "name", "public_tcp");
        assert_json(json_object_get(o, "elem"), "[22,443]");
        o = json_find(j, "set", "name", "icmpv6_ok");
        assert_json(json_object_get(o, "type"), "\"icmpv6_type\"");

        o = json_find(j, "chain", "name", "prerouting");
        assert_non_null(o);
        assert_json(json_object_get(o, "type"), "\"filter\"");
        assert_json(json_object_get(o, "hook"), "\"prerouting\"");
        assert_json(json_object_get(o, "prio"), "-150");
        assert_json(json_object_get(o, "policy"), "\"accept\"");

        o = json_find(j, "rule", "comment", "bridges");
        assert_non_null(o);
        expr = json_object_get(o, "expr");
        assert_json(json_array_get(expr, 0),
                    "{\"match\":{\"left\":{\"meta\":{\"key\":\"iifname\"}},\"op\":\"==\",\"right\":\"br-*\"}}");
        assert_json(json_array_get(expr, 2), "{\"accept\":null}");

        o = json_find(j, "rule", "comment", "peer-tcp-v4");
        expr = json_object_get(o, "expr");
        assert_int_equal(json_array_size(expr), 4);
        assert_json(json_array_get(expr, 0),
                    "{\"match\":{\"left\":{\"payload\":{\"field\":\"saddr\",\"protocol\":\"ip\"}},"
                    "\"op\":\"==\",\"right\":\"@peers4\"}}");
        assert_json(json_array_get(expr, 1),
                    "{\"match\":{\"left\":{\"payload\":{\"field\":\"dport\",\"protocol\":\"tcp\"}},"
                    "\"op\":\"==\",\"right\":\"@public_tcp\"}}");

        o = json_find(j, "rule", "comment", "log-drop");
        expr = json_object_get(o, "expr");
        assert_json(json_array_get(expr, 2), "{\"log\":{\"prefix\":\"hostd drop: \"}}");
        assert_int_equal(json_array_size(expr), 3); /* no verdict */

        json_decref(j);
}

static void test_apply_twice_replaces(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        _cleanup_free_ char *first = NULL, *second = NULL;
        NftLiveTable *t;

        apply_ok(*state, r);
        first = listing();
        apply_ok(*state, r);
        second = listing();
        assert_string_equal(first, second);
        t = read_table(*state, r);
        assert_int_equal(t->n_rules, r->n_rules);
        assert_int_equal(t->n_sets, r->n_sets);
        assert_true(t->matches_desired);
        nft_live_table_free(t);

        /* a smaller ruleset replaces, it does not add */
        r->n_rules = 1;
        apply_ok(*state, r);
        t = read_table(*state, r);
        assert_int_equal(t->n_rules, 1);
        assert_string_equal(t->rules[0].id, "loopback");
        assert_true(t->matches_desired);
        nft_live_table_free(t);
}

static void test_invalid_keeps_previous(void **state) {
        _cleanup_(free_rulesetp) Ruleset *good = full_ruleset(), *bad = full_ruleset();
        _cleanup_free_ char *before = NULL, *after = NULL;
        char err[256] = "";
        Rule *rule;

        /* refused with no table yet: still no table */
        rule = add_rule(bad, "uses-missing-set", VERDICT_ACCEPT);
        add_match(rule, l4proto(IPPROTO_TCP));
        add_match(rule, in_set(MATCH_DPORT_IN_SET, "no_such_set"));
        assert_int_equal(nft_apply(*state, bad, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "rule 'uses-missing-set': No such file or directory");
        assert_false(table_exists());

        apply_ok(*state, good);
        before = listing();
        err[0] = '\0';
        assert_int_equal(nft_apply(*state, bad, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "rule 'uses-missing-set': No such file or directory");
        after = listing();
        assert_string_equal(before, after);

        /* two sets of one name */
        bad->n_rules--;
        add_range(add_set(bad, "peers4", SET_KEY_IPV4), "192.0.2.9", "192.0.2.9");
        err[0] = '\0';
        assert_int_equal(nft_apply(*state, bad, err, sizeof(err)), -EEXIST);
        assert_string_equal(err, "set 'peers4': File exists");
        free(after);
        after = listing();
        assert_string_equal(before, after);

        /* refused before anything is sent */
        free(bad->sets[--bad->n_sets].ranges);
        snprintf(bad->rules[0].matches[0].name, sizeof(bad->rules[0].matches[0].name),
                 "this-name-is-too-long0");
        err[0] = '\0';
        assert_int_equal(nft_apply(*state, bad, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "rule 'loopback': Invalid argument");
        bad->sealed = false;
        assert_int_equal(nft_apply(*state, bad, err, sizeof(err)), -EINVAL);
        free(after);
        after = listing();
        assert_string_equal(before, after);
}

static void test_delete_table(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        char err[256] = "";

        apply_ok(*state, r);
        assert_true(table_exists());
        assert_int_equal(nft_delete_table(*state, err, sizeof(err)), 0);
        assert_false(table_exists());
        assert_int_equal(nft_delete_table(*state, err, sizeof(err)), 0);
        assert_false(table_exists());
}

static void send_udp(unsigned n) {
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(sendto(fd, "hostd", 5, 0, (struct sockaddr *) &to, sizeof(to)), 5);
        close(fd);
}

static void test_read_counters(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        NftLiveTable *t;

        apply_ok(*state, r);
        t = read_table(*state, r);
        assert_true(t->exists);
        assert_true(t->matches_desired);
        assert_string_equal(t->difference, "");
        assert_int_equal(t->n_rules, r->n_rules);
        for (size_t i = 0; i < t->n_rules; i++) {
                assert_string_equal(t->rules[i].id, r->rules[i].id);
                assert_int_equal(t->rules[i].packets, 0);
                assert_true(t->rules[i].handle > 0);
        }
        assert_int_equal(t->n_sets, r->n_sets);
        assert_string_equal(t->sets[3].name, "peers4");
        assert_int_equal(t->sets[3].n_elements, 8); /* zero end, 3 closed ranges, 1 open */
        assert_string_equal(t->sets[5].name, "any4");
        assert_int_equal(t->sets[5].n_elements, 1);
        assert_int_equal(t->sets[6].n_elements, 0);
        nft_live_table_free(t);

        send_udp(5);
        t = read_table(*state, r);
        assert_string_equal(t->rules[0].id, "loopback");
        assert_true(t->rules[0].packets >= 5);
        assert_true(t->rules[0].bytes >= 5 * (20 + 8 + 5));
        assert_int_equal(t->rules[1].packets, 0);
        assert_true(t->matches_desired); /* counters are not configuration */
        nft_live_table_free(t);
}

static void expect_difference(NftSocket *s, const Ruleset *r, const char *difference) {
        NftLiveTable *t = read_table(s, r);

        assert_false(t->matches_desired);
        assert_string_equal(t->difference, difference);
        nft_live_table_free(t);
        apply_ok(s, r);
        t = read_table(s, r);
        assert_true(t->matches_desired);
        nft_live_table_free(t);
}

static void test_read_detects_changes(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        char difference[128];
        NftLiveTable *t;

        apply_ok(*state, r);
        /* other tables are none of its business */
        nft("add table inet other");
        nft("add chain inet other prerouting '{ type filter hook prerouting priority 0; policy accept; }'");
        nft("add rule inet other prerouting counter comment '\"loopback\"'");
        nft("add set inet other peers4 '{ type ipv4_addr; }'");
        nft("add table ip hostd");
        nft("add chain ip hostd prerouting");
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        assert_int_equal(t->n_rules, r->n_rules);
        assert_int_equal(t->n_sets, r->n_sets);
        nft_live_table_free(t);

        nft("add rule inet hostd prerouting counter accept");
        snprintf(difference, sizeof(difference), "extra rule without id at position %zu", r->n_rules + 1);
        expect_difference(*state, r, difference);

        nft("insert rule inet hostd prerouting counter accept comment '\"sneaky\"'");
        expect_difference(*state, r, "extra rule sneaky at position 1");

        nft("add element inet hostd peers4 '{ 198.51.100.9 }'");
        expect_difference(*state, r, "set peers4 has 10 elements, expected 8");

        nft("add element inet hostd public_tcp '{ 8080 }'");
        expect_difference(*state, r, "set public_tcp has 3 elements, expected 2");

        /* same count, other elements */
        nft("delete element inet hostd public_tcp '{ 22 }'");
        nft("add element inet hostd public_tcp '{ 23 }'");
        expect_difference(*state, r, "set public_tcp elements differ");

        t = read_table(*state, r);
        nft("replace rule inet hostd prerouting handle %llu iifname lo counter drop comment '\"loopback\"'",
            (unsigned long long) t->rules[0].handle);
        nft_live_table_free(t);
        expect_difference(*state, r, "rule 1 (loopback) differs");

        t = read_table(*state, r);
        nft("replace rule inet hostd prerouting handle %llu "
            "ip saddr @peers4 tcp dport 443 accept comment '\"peer-tcp-v4\"'",
            (unsigned long long) t->rules[10].handle);
        nft_live_table_free(t);
        expect_difference(*state, r, "rule 11 (peer-tcp-v4) differs");

        t = read_table(*state, r);
        nft("delete rule inet hostd prerouting handle %llu", (unsigned long long) t->rules[2].handle);
        nft_live_table_free(t);
        expect_difference(*state, r, "rule 3 is established, expected not-veth");

        nft("add chain inet hostd prerouting '{ policy drop; }'");
        expect_difference(*state, r, "chain prerouting policy is not accept");

        nft("add chain inet hostd other");
        expect_difference(*state, r, "extra chain other");

        nft("add set inet hostd extra '{ type ipv4_addr; }'");
        expect_difference(*state, r, "extra set extra");

        nft("add table inet hostd '{ flags dormant; }'");
        expect_difference(*state, r, "table flags are 0x1 (dormant)");

        nft("delete table inet hostd");
        t = read_table(*state, r);
        assert_false(t->exists);
        assert_false(t->matches_desired);
        assert_string_equal(t->difference, "table absent");
        assert_int_equal(t->n_rules, 0);
        nft_live_table_free(t);

        /* no desired ruleset: the state alone */
        apply_ok(*state, r);
        t = read_table(*state, NULL);
        assert_true(t->exists);
        assert_false(t->matches_desired);
        assert_int_equal(t->n_rules, r->n_rules);
        nft_live_table_free(t);
}

static void test_replace_set(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        RuleSet *peers4, *missing;
        char err[256] = "";
        NftLiveTable *t;
        json_t *j;

        apply_ok(*state, r);
        peers4 = find_set(r, "peers4");
        peers4->n_ranges = 0;
        add_range(peers4, "0.0.0.0", "0.0.0.255");
        add_range(peers4, "198.51.100.7", "198.51.100.7");
        assert_int_equal(nft_replace_set(*state, peers4, err, sizeof(err)), 0);

        j = json_listing();
        assert_json(json_object_get(json_find(j, "set", "name", "peers4"), "elem"),
                    "[{\"prefix\":{\"addr\":\"0.0.0.0\",\"len\":24}},\"198.51.100.7\"]");
        json_decref(j);
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        assert_int_equal(t->sets[3].n_elements, 4);
        nft_live_table_free(t);

        /* emptied */
        peers4->n_ranges = 0;
        assert_int_equal(nft_replace_set(*state, peers4, err, sizeof(err)), 0);
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        assert_int_equal(t->sets[3].n_elements, 0);
        nft_live_table_free(t);

        /* a value set */
        find_set(r, "public_tcp")->n_ranges = 0;
        add_value(find_set(r, "public_tcp"), 443);
        add_value(find_set(r, "public_tcp"), 8443);
        assert_int_equal(nft_replace_set(*state, find_set(r, "public_tcp"), err, sizeof(err)), 0);
        j = json_listing();
        assert_json(json_object_get(json_find(j, "set", "name", "public_tcp"), "elem"), "[443,8443]");
        json_decref(j);
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        nft_live_table_free(t);

        /* two sets in one transaction */
        find_set(r, "public_tcp")->n_ranges = 0;
        add_value(find_set(r, "public_tcp"), 443);
        peers4 = find_set(r, "peers4");
        add_range(peers4, "203.0.113.9", "203.0.113.9");
        const RuleSet *both[] = { find_set(r, "public_tcp"), find_set(r, "peers4") };
        assert_int_equal(nft_update(*state, NULL, both, 2, err, sizeof(err)), 0);
        j = json_listing();
        assert_json(json_object_get(json_find(j, "set", "name", "public_tcp"), "elem"), "[443]");
        assert_json(json_object_get(json_find(j, "set", "name", "peers4"), "elem"), "[\"203.0.113.9\"]");
        json_decref(j);
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        nft_live_table_free(t);

        /* all or nothing: a set that is not there leaves the other as it was */
        missing = add_set(r, "nope", SET_KEY_IPV4);
        add_range(missing, "192.0.2.1", "192.0.2.1");
        find_set(r, "public_tcp")->n_ranges = 0;
        add_value(find_set(r, "public_tcp"), 8443);
        const RuleSet *with_missing[] = { find_set(r, "public_tcp"), missing };
        assert_int_equal(nft_update(*state, NULL, with_missing, 2, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "set 'nope': No such file or directory");
        j = json_listing();
        assert_json(json_object_get(json_find(j, "set", "name", "public_tcp"), "elem"), "[443]");
        json_decref(j);
        assert_int_equal(nft_replace_set(*state, missing, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "set 'nope': No such file or directory");
}

/* A rule change that keeps the sets: the chain's rules replaced in place,
 * with a set's elements, in one transaction; nothing else touched. */
static void test_update_rules(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        char err[256] = "";
        NftLiveTable *t;
        char *listing;
        Rule *ssh;

        nft("add table inet other");
        apply_ok(*state, r);
        ssh = (Rule *) ruleset_find_rule(r, "ssh-v4");
        assert_non_null(ssh);
        ssh->matches[3].port = 2222;
        r->n_rules--; /* "drop" goes */
        find_set(r, "public_tcp")->n_ranges = 0;
        add_value(find_set(r, "public_tcp"), 8443);
        const RuleSet *ports[] = { find_set(r, "public_tcp") };
        assert_int_equal(nft_update(*state, r, ports, 1, err, sizeof(err)), 0);
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        assert_int_equal(t->n_rules, r->n_rules);
        nft_live_table_free(t);
        listing = run(true, "nft list table inet hostd");
        assert_non_null(strstr(listing, "tcp dport 2222"));
        assert_null(strstr(listing, "tcp dport 22 "));
        assert_non_null(strstr(listing, "elements = { 8443 }"));
        free(listing);
        free(run(true, "nft list table inet other"));

        /* all or nothing: a rule naming a set the table lacks is refused,
         * and neither the rules nor the set change */
        Rule *bad = add_rule(r, "bad", VERDICT_DROP);
        add_match(bad, nfproto(NFPROTO_IPV4));
        add_match(bad, in_set(MATCH_SADDR_IN_SET, "nope"));
        find_set(r, "public_tcp")->n_ranges = 0;
        add_value(find_set(r, "public_tcp"), 9443);
        assert_true(nft_update(*state, r, ports, 1, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "rule 'bad'"));
        r->n_rules--;
        find_set(r, "public_tcp")->n_ranges = 0;
        add_value(find_set(r, "public_tcp"), 8443);
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        nft_live_table_free(t);

        /* no chain to flush: refused, so the caller writes the whole table */
        nft("delete chain inet hostd prerouting");
        assert_int_equal(nft_update(*state, r, NULL, 0, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "chain 'prerouting'"));
}

static void test_monitor(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        _cleanup_(nft_monitor_closep) NftMonitor *m = NULL;
        NftChange change;
        NftLiveTable *t;
        char handle[32];
        pid_t pid;

        assert_int_equal(nft_monitor_open(&m), 0);
        assert_true(nft_monitor_fd(m) >= 0);
        assert_true(fcntl(nft_monitor_fd(m), F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(nft_monitor_fd(m), F_GETFD) & FD_CLOEXEC);
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 0);

        /* our own changes are not reported */
        apply_ok(*state, r);
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 0);

        /* another table's are not either */
        nft_child((const char *const[]){ "add", "table", "inet", "other", NULL });
        nft_child((const char *const[]){ "add", "table", "ip", "hostd", NULL });
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 0);

        pid = nft_child((const char *const[]){ "delete", "table", "inet", "hostd", NULL });
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 1);
        assert_int_equal(change.pid, pid);
        assert_string_equal(change.comm, "nft");
        assert_string_equal(change.what, "table deleted");
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 0);

        apply_ok(*state, r);
        t = read_table(*state, r);
        snprintf(handle, sizeof(handle), "%llu", (unsigned long long) t->rules[1].handle);
        nft_live_table_free(t);
        pid = nft_child((const char *const[]){ "delete", "rule", "inet", "hostd", "prerouting", "handle", handle,
                                               NULL });
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 1);
        assert_int_equal(change.pid, pid);
        assert_string_equal(change.what, "rule 'bridges' deleted from prerouting");

        pid = nft_child((const char *const[]){ "add", "element", "inet", "hostd", "peers4", "{ 198.51.100.1 }",
                                               NULL });
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 1);
        assert_int_equal(change.pid, pid);
        assert_string_equal(change.what, "set element added to peers4");

        /* two transactions in one drain: the first is reported */
        pid = nft_child((const char *const[]){ "add", "chain", "inet", "hostd", "sneaky", NULL });
        nft_child((const char *const[]){ "flush", "chain", "inet", "hostd", "prerouting", NULL });
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 1);
        assert_int_equal(change.pid, pid);
        assert_string_equal(change.what, "chain sneaky added or changed");
        assert_int_equal(nft_monitor_process(m, 0, &change), 0);

        /* as hostd would see its own repair when it is not the ignored pid */
        apply_ok(*state, r);
        assert_int_equal(nft_monitor_process(m, 0, &change), 1);
        assert_int_equal(change.pid, getpid());
        assert_string_equal(change.what, "table deleted");
}

static void test_monitor_events_lost(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        _cleanup_(nft_monitor_closep) NftMonitor *m = NULL;
        int small = 4096;
        NftChange change;

        assert_int_equal(nft_monitor_open(&m), 0);
        assert_int_equal(setsockopt(nft_monitor_fd(m), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
        for (int i = 0; i < 20; i++)
                apply_ok(*state, r);
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 1);
        assert_int_equal(change.pid, 0);
        assert_string_equal(change.what, "events lost");
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 0);
}

static double elapsed_ms(const struct timespec *a) {
        struct timespec b;

        clock_gettime(CLOCK_MONOTONIC, &b);
        return (double) (b.tv_sec - a->tv_sec) * 1e3 + (double) (b.tv_nsec - a->tv_nsec) / 1e6;
}

static void test_large_sets(void **state) {
        _cleanup_(free_rulesetp) Ruleset *r = full_ruleset();
        RuleSet *peers4 = find_set(r, "peers4"), *peers6 = find_set(r, "peers6");
        _cleanup_(nft_monitor_closep) NftMonitor *m = NULL;
        char err[256] = "";
        struct timespec start;
        NftChange change;
        NftLiveTable *t;
        char *count;

        /* 10,000 distinct, non-adjacent /32s: 10.0.0.1, 10.0.0.3, ... */
        peers4->n_ranges = 0;
        for (uint32_t i = 0; i < 10000; i++) {
                SetRange range = {};
                uint32_t a = htonl(0x0a000001u + 2 * i);

                memcpy(range.first, &a, 4);
                memcpy(range.last, &a, 4);
                append_range(peers4, &range);
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(nft_apply(*state, r, err, sizeof(err)), 0);
        print_message("apply with 10,000 IPv4 ranges: %.0f ms\n", elapsed_ms(&start));
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        assert_int_equal(t->sets[3].n_elements, 20001);
        nft_live_table_free(t);

        peers6->n_ranges = 0;
        for (uint32_t i = 0; i < 10000; i++) {
                SetRange range = { .first = { 0xfd, 0x00 }, .last = { 0xfd, 0x00 } };

                range.first[8] = range.last[8] = (uint8_t) ((2 * i) >> 8);
                range.first[9] = range.last[9] = (uint8_t) (2 * i);
                memset(range.last + 10, 0xff, 6); /* a /80 each */
                append_range(peers6, &range);
        }

        /* the monitor's queue holds the events of it all */
        assert_int_equal(nft_monitor_open(&m), 0);
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(nft_apply(*state, r, err, sizeof(err)), 0);
        print_message("apply with 10,000 IPv4 and 10,000 IPv6 ranges, monitored: %.0f ms\n",
                      elapsed_ms(&start));
        assert_int_equal(nft_monitor_process(m, getpid(), &change), 0);

        t = read_table(*state, r);
        assert_true(t->matches_desired);
        assert_string_equal(t->sets[3].name, "peers4");
        assert_int_equal(t->sets[3].n_elements, 20001);
        assert_string_equal(t->sets[4].name, "peers6");
        assert_int_equal(t->sets[4].n_elements, 20001);
        nft_live_table_free(t);

        count = run(false, "nft -j list set inet hostd peers4 | grep -o '\"10\\.0\\.' | wc -l");
        assert_int_equal(atoi(count), 10000);
        free(count);

        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(nft_replace_set(*state, peers4, err, sizeof(err)), 0);
        print_message("replace of a 10,000-range set: %.0f ms\n", elapsed_ms(&start));
        t = read_table(*state, r);
        assert_true(t->matches_desired);
        nft_live_table_free(t);
}

static void loopback_up(void) {
        struct ifreq ifr = {};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                exit(1);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                exit(1);
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                exit(1);
        close(fd);
}

/* A reply whose message claims 2^32 - 2^17 bytes: libmnl's check takes it
 * (a signed compare) and its walk leaves the buffer; hostd's own check
 * refuses it, and the read ends without an answer (found by
 * fuzz-nft-readback on a replay socket). */
static void test_huge_message_length_refused(void **state _unused_) {
        uint32_t replies[3 + 1 + 4] = {
                (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 7, 1, /* one answer of one datagram */
                16,                                                    /* of one message header */
                0xfffe0000u, 0, 7, 0,
        };
        NftSocket *s = NULL;
        NftLiveTable *t = NULL;

        assert_int_equal(nft_socket_replay(replies, sizeof(replies), &s), 0);
        assert_int_equal(nft_read_table(s, NULL, &t), -ETIMEDOUT);
        assert_null(t);
        nft_socket_close(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_huge_message_length_refused),
                cmocka_unit_test_setup_teardown(test_listing_is_nfts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bytecode_is_nfts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_apply_twice_replaces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid_keeps_previous, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_counters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_detects_changes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replace_set, setup, teardown),
                cmocka_unit_test_setup_teardown(test_update_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_events_lost, setup, teardown),
                cmocka_unit_test_setup_teardown(test_large_sets, setup, teardown),
        };

        /* before anything else: never touch the host's ruleset */
        if (unshare(CLONE_NEWNET) < 0) {
                perror("unshare(CLONE_NEWNET) (needs root)");
                return 1;
        }
        loopback_up();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
