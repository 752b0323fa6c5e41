#!/bin/bash
# The firewall for real: hostd in node1's network namespace of a 2-node Swarm
# (node2 is a live Swarm peer), probed with real TCP/UDP from node2 (peer) and
# from an outside namespace, including ports published by node1's real
# dockerd with Docker's own iptables DNAT rules on.
. "$(dirname "$0")/lib.sh"
need_built
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-f}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm-fwtest}"

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 2 0
eval "$("$SWARM" env)"

in_node() { nsenter --net="$NODE1_NETNS" "$@"; }
from_peer() { nsenter --net="$NODE2_NETNS" "$@"; }
from_outside() { nsenter --net="$OUTSIDE_NETNS" "$@"; }
docker1() { "$DOCKER" -H "unix://$NODE1_SOCK" "$@"; }

# tcp_probe NS_FUNC ADDR PORT -> open | refused | filtered
tcp_probe() {
        local rc=0
        "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null || rc=$?
        case $rc in
        0) echo open ;;
        124) echo filtered ;;
        *) echo refused ;;
        esac
}
expect_tcp() { # NS_FUNC ADDR PORT EXPECTED WHAT
        expect_eq "$(tcp_probe "$1" "$2" "$3")" "$4" "$5"
}
counter() { # RULE_ID -> packets seen by that rule
        "$HOSTCTL" --socket "$SOCK" --json firewall show | jq -r --arg id "$1" '.live.rules[] | select(.id == $id) | .packets'
}
table_without_counters() {
        in_node nft list table inet hostd | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}

# --- the services on node1 ---
# host listeners: SSH and HTTP (never to be reachable from outside) and an
# echo service used to show established connections survive a re-apply
for port in 22 80 8443; do
        nsenter --net="$NODE1_NETNS" socat TCP6-LISTEN:$port,ipv6only=0,fork,reuseaddr EXEC:/bin/cat &
        on_exit "kill $! 2>/dev/null"
done
# containers published by Docker itself: 8080 (must be closed) and 443 (open)
docker1 run -d --name web8080 -p 8080:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
docker1 run -d --name web443 -p 443:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
on_exit "'$DOCKER' -H 'unix://$NODE1_SOCK' rm -f web8080 web443 >/dev/null 2>&1"
wait_until 20 "published ports answer" bash -c "nsenter --net='$OUTSIDE_NETNS' timeout 2 bash -c 'exec 3<>/dev/tcp/$NODE1_ADDR/8080'"

# --- before hostd: everything is reachable, as on an unprotected host ---
expect_tcp from_outside "$NODE1_ADDR" 8080 open "without hostd: Docker-published 8080 reachable from outside"
expect_tcp from_outside "$NODE1_ADDR" 22 open "without hostd: SSH reachable from outside"
expect_tcp from_outside "$NODE1_ADDR" 2377 open "without hostd: 2377 reachable from outside"

# --- hostd with the default policy plus a management source and a v6 peer ---
SOCK="$TMP/hostd.sock"
CONF="$TMP/hostd.json"
# write_conf PUBLIC_PORTS [PEERS]: the configuration under test
write_conf() {
        local peers=${2:-"\"$NODE2_ADDR6/128\""}
        cat >"$CONF" <<EOF
{
  "state-directory": "$TMP/state",
  "swarm": {"refresh-seconds": 2},
  "firewall": {
    "public-tcp-ports": [$1],
    "peers": [$peers],
    "management-sources": ["$NODE2_ADDR/32"]
  }
}
EOF
}
write_conf "443, 8443"
DOCKER_HOST="unix://$NODE1_SOCK" start_hostd fw "$NODE1_NETNS" --config "$CONF" --socket "$SOCK"
wait_until 10 "hostd applies its table" in_node nft list table inet hostd
wait_until 20 "hostd learns the live Swarm peer" \
        bash -c "nsenter --net='$NODE1_NETNS' nft list set inet hostd peers4 | grep -q '$NODE2_ADDR'"
ok "live Swarm peer $NODE2_ADDR in the peers4 set"

# --- a restart keeps the live table: the Swarm's ports never close to its
# peers, even while Docker does not answer yet ---
expect_tcp from_outside "$NODE1_ADDR" 22 filtered "22 closed to the outsider (counted as a drop)"
drops=$(counter drop)
applies=$("$HOSTCTL" --socket "$SOCK" --json changes --kind firewall-apply | jq '.changes | length')
kill -TERM "$HOSTD_PID_fw"
wait "$HOSTD_PID_fw" 2>/dev/null || true
DOCKER_HOST="unix://$TMP/no-docker.sock" start_hostd fwr "$NODE1_NETNS" --config "$CONF" --socket "$SOCK"
wait_until 10 "the restarted hostd keeps the table" grep -q "Firewall already as desired: kept the live table" "$TMP/fwr.log"
ok "a restarted hostd keeps the live table when it is as desired"
grep -q "$NODE2_ADDR" <<<"$(in_node nft list set inet hostd peers4)" || fail "the saved Swarm peer is not in peers4"
ok "with the saved Swarm peer, before Docker answers"
expect_tcp from_peer "$NODE1_ADDR" 2377 open "2377 open to the peer across the restart"
[ "$(counter drop)" -ge "$drops" ] || fail "the drop counter was reset"
ok "the counters survive the restart ($drops drops before)"
expect_eq "$("$HOSTCTL" --socket "$SOCK" --json changes --kind firewall-apply | jq '.changes | length')" "$applies" \
        "and no change is recorded: nothing changed"
kill -TERM "$HOSTD_PID_fwr"
wait "$HOSTD_PID_fwr" 2>/dev/null || true
DOCKER_HOST="unix://$NODE1_SOCK" start_hostd fw "$NODE1_NETNS" --config "$CONF" --socket "$SOCK"
wait_until 10 "hostd serves again" "$HOSTCTL" --socket "$SOCK" status

expect_tcp from_outside "$NODE1_ADDR" 443 open "443 (published by Docker) open to the outsider"
expect_tcp from_peer "$NODE1_ADDR" 443 open "443 open to the peer"
expect_tcp from_outside "$NODE1_ADDR" 8080 filtered "8080 (published by Docker) closed to the outsider"
expect_tcp from_outside "$NODE1_ADDR" 22 filtered "22 closed to the outsider"
expect_tcp from_outside "$NODE1_ADDR" 80 filtered "80 closed to the outsider"
expect_tcp from_outside "$NODE1_ADDR" 2377 filtered "2377 closed to the outsider"
expect_tcp from_outside "$NODE1_ADDR" 7946 filtered "7946/tcp closed to the outsider"
expect_tcp from_peer "$NODE1_ADDR" 2377 open "2377 open to the peer"
expect_tcp from_peer "$NODE1_ADDR" 7946 open "7946/tcp open to the peer"
expect_tcp from_peer "$NODE1_ADDR" 22 open "SSH open to the management source"
expect_tcp from_peer "$NODE1_ADDR" 8080 filtered "8080 closed to the peer too (not a Swarm port)"

# UDP has no handshake: show it on hostd's own per-rule counters
udp_before=$(counter peer-udp-v4)
drop_before=$(counter drop)
for port in 7946 4789; do
        from_peer socat -u - UDP:"$NODE1_ADDR":$port <<<"probe" || true
        from_outside socat -u - UDP:"$NODE1_ADDR":$port <<<"probe" || true
done
wait_until 5 "peer UDP counted as accepted" bash -c "[ \$('$HOSTCTL' --socket '$SOCK' --json firewall show | jq -r '.live.rules[] | select(.id == \"peer-udp-v4\") | .packets') -ge $((udp_before + 2)) ]"
ok "7946/udp and 4789/udp from the peer accepted (peer-udp-v4 counter)"
[ "$(counter drop)" -ge $((drop_before + 2)) ] || fail "outsider UDP to 7946/4789 not dropped"
ok "7946/udp and 4789/udp from the outsider dropped (drop counter)"

# IPv6
expect_tcp from_outside "$NODE1_ADDR6" 22 filtered "IPv6: 22 closed to the outsider"
expect_tcp from_outside "$NODE1_ADDR6" 8443 open "IPv6: 8443 (a public port here) open to the outsider"
expect_tcp from_outside "$NODE1_ADDR6" 80 filtered "IPv6: 80 closed to the outsider"
expect_tcp from_outside "$NODE1_ADDR6" 7946 filtered "IPv6: 7946 closed to the outsider"
expect_tcp from_peer "$NODE1_ADDR6" 7946 open "IPv6: 7946 (dockerd's gossip) open to the static v6 peer"
from_outside busybox ping -6 -c 1 -W 2 "$NODE1_ADDR6" >/dev/null || fail "IPv6 ping (neighbour discovery) broken"
ok "IPv6 neighbour discovery and ping work"

show=$("$HOSTCTL" --socket "$SOCK" firewall show)
expect_contains "$show" "matches the desired ruleset" "firewall show: live table matches desired"
expect_contains "$show" "public-tcp" "firewall show lists rules with counters"

# --- established connections survive a re-apply ---
coproc ECHO { nsenter --net="$OUTSIDE_NETNS" socat - TCP:"$NODE1_ADDR":8443; }
echo "before" >&"${ECHO[1]}"
read -r -t 5 line <&"${ECHO[0]}" || fail "no echo before the re-apply"
expect_eq "$line" before "long-lived connection established"
write_conf "443, 8443, 9443"
"$HOSTCTL" --socket "$SOCK" reload >/dev/null
wait_until 5 "9443 in the applied table" bash -c "nsenter --net='$NODE1_NETNS' nft list set inet hostd public_tcp | grep -q 9443"
echo "after" >&"${ECHO[1]}"
read -r -t 5 line <&"${ECHO[0]}" || fail "established connection broken by the re-apply"
expect_eq "$line" after "the connection survives the re-apply"
kill "$ECHO_PID" 2>/dev/null || true

# --- drift: our table deleted or edited by someone else is restored ---
repairs=$("$HOSTCTL" --socket "$SOCK" --json firewall show | jq .repairs)
in_node nft delete table inet hostd
wait_until 5 "table restored" in_node nft list table inet hostd
wait_until 5 "repair counted" bash -c "[ \$('$HOSTCTL' --socket '$SOCK' --json firewall show | jq .repairs) -gt $repairs ]"
ms=$("$HOSTCTL" --socket "$SOCK" --json firewall show | jq .last_repair_ms)
ok "deleted table restored (repair took $ms ms)"
grep -q "hostd's table was changed by nft" "$TMP/fw.log" || fail "no change record for the repair"
ok "the repair is logged as a change record naming nft"
expect_tcp from_outside "$NODE1_ADDR" 8080 filtered "8080 closed again after the repair"
in_node nft add rule inet hostd prerouting tcp dport 8080 accept
wait_until 5 "foreign rule removed" bash -c "! nsenter --net='$NODE1_NETNS' nft list chain inet hostd prerouting | grep -q 'dport 8080 accept'"
ok "a rule added by someone else is removed"
repairs=$("$HOSTCTL" --socket "$SOCK" --json firewall show | jq .repairs)
in_node nft add table inet other
in_node nft add chain inet other input
in_node nft delete table inet other
sleep 0.5
expect_eq "$("$HOSTCTL" --socket "$SOCK" --json firewall show | jq .repairs)" "$repairs" "changes to other tables trigger no repair"

# --- bad policy: refused, live ruleset untouched ---
before=$(table_without_counters)
for bad in "bad-cidr" "port-0" "port-70000" "unknown-key"; do
        case $bad in
        bad-cidr) write_conf "443, 8443, 9443" '"10.0.0.300"' ;;
        port-0) write_conf "443, 0" ;;
        port-70000) write_conf "443, 70000" ;;
        unknown-key) write_conf "443" && sed -i 's/"management-sources"/"open-ports": [80], "management-sources"/' "$CONF" ;;
        esac
        set +e
        out=$("$HOSTCTL" --socket "$SOCK" reload 2>&1)
        rc=$?
        set -e
        expect_eq "$rc" 1 "bad policy ($bad) refused"
        expect_contains "$out" "$CONF:" "the error names the file and position ($bad)"
done
expect_contains "$out" "firewall.open-ports: unknown key" "the unknown key is named"
expect_eq "$(table_without_counters)" "$before" "the live ruleset is untouched by refused policies"
write_conf "443, 8443, 9443"

# --- safe apply: rolls back by itself unless confirmed ---
write_conf "443, 8443, 9443, 8081"
out=$("$HOSTCTL" --socket "$SOCK" firewall apply --confirm-timeout 2)
expect_contains "$out" "rolls back in 2 s" "apply with a confirm timeout"
grep -q 8081 <<<"$(in_node nft list set inet hostd public_tcp)" || fail "8081 not applied"
ok "the new ruleset is live while pending"
expect_contains "$("$HOSTCTL" --socket "$SOCK" firewall show)" "rolls back in" "show says a confirmation is pending"
wait_until 6 "rollback after the timeout" bash -c "! nsenter --net='$NODE1_NETNS' nft list set inet hostd public_tcp | grep -q 8081"
ok "the previous ruleset is restored after the timeout"
grep -q "rolled back" "$TMP/fw.log" || fail "no change record for the rollback"
ok "the rollback is logged"
"$HOSTCTL" --socket "$SOCK" firewall apply --confirm-timeout 2 >/dev/null
"$HOSTCTL" --socket "$SOCK" firewall confirm >/dev/null
sleep 3 # past the timeout: a confirmed apply must stay
grep -q 8081 <<<"$(in_node nft list set inet hostd public_tcp)" || fail "confirmed apply was rolled back"
ok "a confirmed apply stays"
set +e
out=$("$HOSTCTL" --socket "$SOCK" firewall confirm 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "confirm with nothing pending fails"
expect_contains "$out" "no apply is waiting" "and says why"

# explicit rollback, before the timeout
write_conf "443, 8443, 9443, 8082"
"$HOSTCTL" --socket "$SOCK" firewall apply --confirm-timeout 60 >/dev/null
grep -q 8082 <<<"$(in_node nft list set inet hostd public_tcp)" || fail "8082 not applied"
out=$("$HOSTCTL" --socket "$SOCK" firewall rollback)
expect_contains "$out" "rolled back" "hostctl firewall rollback"
grep -q 8082 <<<"$(in_node nft list set inet hostd public_tcp)" && fail "8082 still there after the rollback"
ok "rollback restored the previous table at once"
write_conf "443, 8443, 9443, 8081"

# --- oneshot: applies from the config and the saved peers, then exits ---
test -s "$TMP/state/swarm-peers" || fail "no saved Swarm peers"
ok "live Swarm peers saved under the state directory"
ip netns add "${HOSTD_SWARM_PREFIX}oneshot"
on_exit "ip netns delete '${HOSTD_SWARM_PREFIX}oneshot'"
nsenter --net="/var/run/netns/${HOSTD_SWARM_PREFIX}oneshot" "$HOSTD" --oneshot --log-target=stderr --config "$CONF" 2>"$TMP/oneshot.log"
ok "hostd --oneshot exits 0"
# every saved peer is in the table oneshot applied (the saved list is the
# daemon's latest view, which may have changed since node2 was seen)
while read -r peer; do
        case $peer in *:*) set_name=peers6 ;; *) set_name=peers4 ;; esac
        nsenter --net="/var/run/netns/${HOSTD_SWARM_PREFIX}oneshot" nft get element inet hostd "$set_name" "{ $peer }" >/dev/null ||
                fail "oneshot did not admit the saved peer $peer"
done <"$TMP/state/swarm-peers"
ok "oneshot applied the table with the saved Swarm peers ($(wc -l <"$TMP/state/swarm-peers") of them)"
set +e
echo '{"firewall": {"peers": ["nope"]}}' >"$TMP/bad.json"
out=$(nsenter --net="/var/run/netns/${HOSTD_SWARM_PREFIX}oneshot" "$HOSTD" --oneshot --log-target=stderr --config "$TMP/bad.json" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "oneshot refuses a bad policy"
expect_contains "$out" "firewall.peers[0]" "and names the key"

# --- a node leaving the Swarm leaves the peer set, in place ---
docker1 node demote "$NODE2_ID" >/dev/null
"$DOCKER" -H "unix://$NODE2_SOCK" swarm leave --force >/dev/null
wait_until 30 "node2 down in the node list" bash -c "'$DOCKER' -H 'unix://$NODE1_SOCK' node inspect '$NODE2_ID' --format '{{.Status.State}}' | grep -q down"
docker1 node rm --force "$NODE2_ID" >/dev/null
wait_until 20 "node2 out of peers4" bash -c "! nsenter --net='$NODE1_NETNS' nft list set inet hostd peers4 | grep -q '$NODE2_ADDR'"
ok "a node that left the Swarm is removed from peers4"
grep -q "Firewall peer sets updated" "$TMP/fw.log" || fail "peer change was not an in-place set update"
ok "peer changes replace the set in place (no full re-apply)"
grep -q 8082 <<<"$(in_node nft list set inet hostd public_tcp)" && fail "8082, rolled back, is open again after a peer change"
ok "a peer change after a rollback keeps the rolled-back port closed"
expect_tcp from_peer "$NODE1_ADDR" 2377 filtered "2377 closed to the node that left"

# --- change records: every change above, listed by hostctl changes ---
"$HOSTCTL" --socket "$SOCK" --json changes >"$TMP/changes.json"
python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
        "$TMP/changes.json" "$HOSTD_SRC/docs/changes.schema.json"
ok "hostctl changes --json validates against docs/changes.schema.json"
kinds=$(jq -r '[.changes[].kind] | unique | join(" ")' "$TMP/changes.json")
for kind in firewall-apply firewall-repair firewall-apply-pending firewall-confirm firewall-rollback \
        firewall-peers config-reload; do
        case " $kinds " in *" $kind "*) ;; *) fail "no $kind change record (have: $kinds)" ;; esac
done
ok "hostctl changes lists the applies, repair, pending apply, confirm, rollback, peer update and reload"
expect_eq "$(jq '[.changes[] | select(.kind == "firewall-repair") | .fields.reason | test("delete")] | any' "$TMP/changes.json")" \
        true "the repair's record says what was done to the table"
expect_eq "$(jq '[.changes[].seq] as $s | $s == ($s | sort) and ($s | unique | length) == ($s | length)' "$TMP/changes.json")" \
        true "sequence numbers increase"
expect_eq "$(jq '[.changes[] | {kind, message_id}] | unique | group_by(.kind) | map(length) | max' "$TMP/changes.json")" \
        1 "one MESSAGE_ID per kind"
expect_eq "$(jq '.damaged | length' "$TMP/changes.json")" 0 "no damaged records"
n_repair=$("$HOSTCTL" --socket "$SOCK" --json changes --kind firewall-repair | jq '.changes | length')
expect_eq "$n_repair" "$(jq '[.changes[] | select(.kind == "firewall-repair")] | length' "$TMP/changes.json")" "--kind filters"
expect_eq "$("$HOSTCTL" --socket "$SOCK" --json changes --since @4000000000 | jq '.changes | length')" 0 "--since a later time lists nothing"
expect_eq "$("$HOSTCTL" --socket "$SOCK" --json changes --since -1h --limit 2 | jq '.changes | length')" 2 "--since an age, --limit"
"$HOSTCTL" --socket "$SOCK" changes --since -1h >"$TMP/changes.txt"
grep -q "firewall-rollback .*rolled back" "$TMP/changes.txt" || fail "the table lacks the rollback"
ok "hostctl changes prints a table"
set +e
out=$("$HOSTCTL" --socket "$SOCK" changes --since "last tuesday" 2>&1); rc=$?
set -e
expect_eq "$rc" 2 "a bad --since is a usage error"
expect_contains "$out" "is not a time" "and says why"
out=$(curl -s --unix-socket "$SOCK" "http://hostd/v1/changes?kind=nope")
expect_contains "$out" "is not a kind of change" "the API refuses an unknown kind"

echo "test-firewall: $CHECKS checks passed"
