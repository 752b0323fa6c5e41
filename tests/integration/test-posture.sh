#!/bin/bash
# The posture of a host in a network namespace, with a public interface (a
# veth whose other end is an "outside" namespace), a listener on 443 and a
# stray one on 8080: without hostd's firewall both are reported reachable
# from outside (and are: a connection from the outside namespace gets
# through), with it 8080 is not (and a connection is dropped) while 443
# is, as configured. The report validates against docs/posture.schema.json;
# hostctl posture exits 1 while a check fails.
. "$(dirname "$0")/lib.sh"
. "$HOSTD_SRC/tests/harness/debrepo.sh"
need_built

# a sandbox root with a pending security update, and a reboot asked for
DEBS="$TMP/debs"
ROOT="$TMP/root"
mkdir -p "$DEBS"
deb_build "$DEBS" openssl-t 3.0.11-1 amd64
deb_build "$DEBS" openssl-t 3.0.13-1 amd64
repo_suite "$TMP/repo" bookworm-security Debian-Security "$DEBS/openssl-t_3.0.13-1_amd64.deb"
root_new "$ROOT"
root_install "$ROOT" "$DEBS/openssl-t_3.0.11-1_amd64.deb"
root_sources "$ROOT" "$TMP/repo" bookworm-security
mkdir -p "$ROOT/run"
echo "linux-image-t" >"$ROOT/run/reboot-required.pkgs"
: >"$ROOT/run/reboot-required"

HOST=hostd-posture-host
OUT=hostd-posture-out
cleanup_netns() { ip netns del "$HOST" 2>/dev/null || true; ip netns del "$OUT" 2>/dev/null || true; }
cleanup_netns
on_exit cleanup_netns
ip netns add "$HOST"
ip netns add "$OUT"
ip -n "$HOST" link set lo up
ip -n "$OUT" link set lo up
ip -n "$HOST" link add eth0 type veth peer name eth0 netns "$OUT"
ip -n "$HOST" addr add 10.99.0.1/24 dev eth0
ip -n "$OUT" addr add 10.99.0.2/24 dev eth0
ip -n "$HOST" link set eth0 up
ip -n "$OUT" link set eth0 up

for port in 443 8080; do
        nsenter --net="/var/run/netns/$HOST" socat "TCP-LISTEN:$port,fork,reuseaddr" /dev/null &
        on_exit "kill $! 2>/dev/null"
done
# a listener on loopback only: never reachable from outside
nsenter --net="/var/run/netns/$HOST" socat "TCP-LISTEN:9090,bind=127.0.0.1,fork,reuseaddr" /dev/null &
on_exit "kill $! 2>/dev/null"

conf() {
        printf '{"state-directory": "%s/state", "docker": {"socket": "%s/no-docker.sock"}, "firewall": {"enabled": %s},
                 "patching": {"root": "%s", "check-hours": 0}, "posture": {"textfile": "%s/hostd.prom"}}\n' \
                "$TMP" "$TMP" "$1" "$ROOT" "$TMP" >"$TMP/hostd.json"
}
conf false
start_hostd host "/var/run/netns/$HOST" --config "$TMP/hostd.json" --socket "$TMP/h.sock"
wait_until 10 "hostd up" test -S "$TMP/h.sock"
reach() { nsenter --net="/var/run/netns/$OUT" timeout 2 bash -c "exec 3<>/dev/tcp/10.99.0.1/$1" 2>/dev/null && echo reachable || echo unreachable; }
posture() { "$HOSTCTL" --socket "$TMP/h.sock" --json posture; }
check() { jq -r --arg id "$2" '.checks[] | select(.id == $id) | .'"$3" <<<"$1"; }
validate() {
        python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
                "$1" "$HOSTD_SRC/docs/posture.schema.json"
}
wait_until 10 "the listeners are up" bash -c "nsenter --net=/var/run/netns/$HOST ss -ltn | grep -q ':8080 '"

# --- without hostd's firewall ---
set +e
p=$(posture)
rc=$?
set -e
expect_eq "$rc" 1 "hostctl posture exits 1 while a check fails"
echo "$p" >"$TMP/p1.json"
validate "$TMP/p1.json"
ok "the report validates against docs/posture.schema.json"
expect_eq "$(check "$p" firewall.table status)" fail "firewall.table fails: no table"
expect_eq "$(check "$p" firewall.exposed status)" fail "firewall.exposed fails"
ev=$(check "$p" firewall.exposed evidence)
expect_contains "$ev" "tcp/8080 REACHABLE from outside on eth0" "the stray listener on 8080 is reported reachable"
expect_contains "$ev" "socat" "with the process that holds it"
expect_contains "$ev" "tcp/443 reachable on eth0 (public, as configured)" "443 is reachable, as configured"
[[ "$ev" != *9090* ]] || fail "the loopback listener was reported: $ev"
ok "the loopback-only listener is not reported"
expect_eq "$(check "$p" firewall.exposed cis)" "CIS 5.8" "mapped to its CIS control"
expect_eq "$(reach 8080)" reachable "and 8080 is really reachable from the outside namespace"

# --- with it ---
conf true
"$HOSTCTL" --socket "$TMP/h.sock" reload >/dev/null
wait_until 10 "the table is applied" bash -c "nsenter --net=/var/run/netns/$HOST nft list table inet hostd >/dev/null 2>&1"
p=$(posture || true)
echo "$p" >"$TMP/p2.json"
validate "$TMP/p2.json"
ok "the report validates again"
expect_eq "$(check "$p" firewall.table status)" pass "firewall.table passes"
expect_eq "$(check "$p" firewall.matches status)" pass "firewall.matches passes"
expect_eq "$(check "$p" firewall.default-drop status)" pass "firewall.default-drop passes"
expect_eq "$(check "$p" firewall.exposed status)" pass "firewall.exposed passes"
ev=$(check "$p" firewall.exposed evidence)
[[ "$ev" != *8080* ]] || fail "8080 still reported reachable: $ev"
ok "8080 is no longer reported reachable"
expect_contains "$ev" "tcp/443 reachable on eth0 (public, as configured)" "443 still is"
expect_eq "$(reach 8080)" unreachable "and a connection to 8080 from outside is dropped"
expect_eq "$(reach 443)" reachable "while 443 gets through"
# the patches: unknown before a plan, then the pending update with its age
expect_eq "$(check "$p" patches.security-pending status)" warn "patches.security-pending: no plan yet"
expect_eq "$(check "$p" patches.reboot status)" fail "patches.reboot fails: /run/reboot-required"
expect_contains "$(check "$p" patches.reboot evidence)" "for linux-image-t" "naming the package that asks"
expect_eq "$(check "$p" patches.kernel status)" not-applicable "no kernel in a sandbox root"
expect_eq "$(check "$p" patches.last-wave status)" warn "no wave has reached the node"
"$HOSTCTL" --socket "$TMP/h.sock" patch plan --refresh >/dev/null
p=$(posture || true)
expect_eq "$(check "$p" patches.security-pending status)" fail "after a plan: a security update is pending"
expect_contains "$(check "$p" patches.security-pending evidence)" "1 security update(s) pending; the oldest, openssl-t 3.0.11-1 -> 3.0.13-1, offered for 0 minutes" \
        "with the package and how long it has been offered"
metrics=$("$HOSTCTL" --socket "$TMP/h.sock" posture --prometheus)
expect_contains "$metrics" 'hostd_posture_check{id="firewall.exposed",status="pass"} 1' "Prometheus metrics: each check's status"
expect_contains "$metrics" 'hostd_posture_compliant 0' "and whether the host is compliant"
dropped=$(sed -n 's/^hostd_firewall_dropped_packets_total{rule="drop"} //p' <<<"$metrics")
[ "${dropped:-0}" -gt 0 ] || fail "no drops counted after the refused connection: $metrics"
ok "the refused connection to 8080 is counted: hostd_firewall_dropped_packets_total{rule=\"drop\"} $dropped"
wait_until 10 "the textfile for node_exporter" grep -q '^hostd_posture_check{id="firewall.table"' "$TMP/hostd.prom"
ok "the metrics are written to posture.textfile for node_exporter's textfile collector"
type=$(curl -s -o /dev/null -w '%{content_type}' --unix-socket "$TMP/h.sock" http://hostd/v1/metrics)
expect_eq "$type" "text/plain; version=0.0.4" "GET /v1/metrics is Prometheus' text format"
expect_eq "$(check "$p" hostd.docker status)" fail "hostd.docker fails: no Docker here"
expect_eq "$(check "$p" docker.log-driver status)" warn "Docker's settings are unknown without it: warn"

table=$("$HOSTCTL" --socket "$TMP/h.sock" posture || true)
expect_contains "$table" "firewall.exposed         pass" "the table view lists each check"
expect_contains "$table" "pass," "and a summary"
set +e
out=$("$HOSTCTL" --socket "$TMP/h.sock" posture --cluster 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "posture --cluster off a Swarm fails"
expect_contains "$out" "this node is not in a Swarm" "and says why"
echo "test-posture: $CHECKS checks passed"
