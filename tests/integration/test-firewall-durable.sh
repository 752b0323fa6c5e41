#!/bin/bash
# The safe apply across hostd's death and the node's, and the firewall at
# boot: real nftables in a node's network namespace, judged by real
# connections to its SSH port from a management namespace (a management
# source in the good policy, not in the one that locks it out) and from an
# outside one. kill -9 inside the confirmation window, a window that
# expires, then reload, restart and --oneshot (boot): the previous policy is
# in force each time, until the held one is applied explicitly. A broken
# hostd.json at boot leaves the last good table, or the built-in one.
. "$(dirname "$0")/lib.sh"
need_built

P=hostd-dur
NODE=/var/run/netns/$P-node
for ns in node mgmt out boot; do
        ip netns delete "$P-$ns" 2>/dev/null || true
        ip netns add "$P-$ns"
        on_exit "ip netns delete '$P-$ns' 2>/dev/null"
done
# node <-> mgmt (10.77.1.0/24), node <-> out (10.77.2.0/24)
ip -n "$P-node" link add eth-m type veth peer name eth0 netns "$P-mgmt"
ip -n "$P-node" link add eth-o type veth peer name eth0 netns "$P-out"
ip -n "$P-node" addr add 10.77.1.1/24 dev eth-m
ip -n "$P-node" addr add 10.77.2.1/24 dev eth-o
ip -n "$P-mgmt" addr add 10.77.1.2/24 dev eth0
ip -n "$P-out" addr add 10.77.2.2/24 dev eth0
for ns in node mgmt out boot; do ip -n "$P-$ns" link set lo up; done
ip -n "$P-node" link set eth-m up
ip -n "$P-node" link set eth-o up
ip -n "$P-mgmt" link set eth0 up
ip -n "$P-out" link set eth0 up

in_node() { nsenter --net="$NODE" "$@"; }
from_mgmt() { nsenter --net="/var/run/netns/$P-mgmt" "$@"; }
from_outside() { nsenter --net="/var/run/netns/$P-out" "$@"; }
tcp_probe() { # NS_FUNC ADDR PORT -> open | closed
        if "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then echo open; else echo closed; fi
}
ssh_from_mgmt() { tcp_probe from_mgmt 10.77.1.1 22; }
ssh_from_outside() { tcp_probe from_outside 10.77.2.1 22; }
https_from_outside() { tcp_probe from_outside 10.77.2.1 443; }

for port in 22 443; do
        nsenter --net="$NODE" socat TCP-LISTEN:$port,fork,reuseaddr EXEC:/bin/cat &
        on_exit "kill $! 2>/dev/null"
done
wait_until 5 "the node's listeners" bash -c "nsenter --net='$NODE' ss -ltn | grep -q ':443 '"

SOCK="$TMP/hostd.sock"
CONF="$TMP/hostd.json"
STATE="$TMP/state"
# write_conf SOURCE: SSH admitted from SOURCE only (the good policy admits
# the management namespace; 10.99.0.1 locks it out)
write_conf() {
        cat >"$CONF" <<EOF
{
  "state-directory": "$STATE",
  "firewall": {"management-sources": ["$1/32"]}
}
EOF
}
good() { write_conf 10.77.1.2; }
lockout() { write_conf 10.99.0.1; }
daemon() { # start as NAME
        DOCKER_HOST="unix://$TMP/no-docker.sock" start_hostd "$1" "$NODE" --config "$CONF" --socket "$SOCK"
        wait_until 10 "hostd $1 serves" "$HOSTCTL" --socket "$SOCK" status
}
stop() { # NAME [SIGNAL]
        local pid
        pid=$(eval echo "\$HOSTD_PID_$1")
        kill "-${2:-TERM}" "$pid"
        wait "$pid" 2>/dev/null || true
}
held_reason() { "$HOSTCTL" --socket "$SOCK" --json firewall show | jq -r '.held.reason // "none"'; }
oneshot() { # NETNS [ARGS]: hostd --oneshot there, its status in $rc
        local ns=$1
        shift
        rc=0
        nsenter --net="$ns" "$HOSTD" --oneshot --log-target=stderr "$@" >>"$TMP/oneshot.log" 2>&1 || rc=$?
}

# --- the good policy in force ---
good
daemon d1
expect_eq "$(ssh_from_mgmt)" open "SSH open from the management source"
expect_eq "$(ssh_from_outside)" closed "SSH closed from outside"
expect_eq "$(https_from_outside)" open "443 open from outside"
expect_eq "$(jq -r '.good["management-sources"][0]' "$STATE/firewall-state.json")" 10.77.1.2 \
        "the policy in force is saved as the last good one"

# --- kill -9 inside the window: the restart puts the previous table back ---
lockout
"$HOSTCTL" --socket "$SOCK" firewall apply --confirm-timeout 120 >/dev/null
expect_eq "$(ssh_from_mgmt)" closed "the apply locks the operator out (pending)"
expect_eq "$(jq -r '.pending.policy["management-sources"][0]' "$STATE/firewall-state.json")" 10.99.0.1 \
        "the pending apply is on disk, with its deadline"
stop d1 KILL
expect_eq "$(ssh_from_mgmt)" closed "hostd killed: the unconfirmed table is still in the kernel"
daemon d2
expect_eq "$(ssh_from_mgmt)" open "restarted inside the window: the previous table is back"
expect_eq "$(held_reason)" "hostd restarted inside the confirmation window" "show says the file's policy is held, and why"
expect_contains "$("$HOSTCTL" --socket "$SOCK" firewall show)" "not in force" "and in words"
expect_eq "$("$HOSTCTL" --socket "$SOCK" --json posture | jq -r '.checks[] | select(.id == "firewall.policy") | .status')" \
        fail "the posture's firewall.policy fails while the file's policy is held"
grep -q "restarted inside the confirmation window" "$STATE/changes.jsonl" || fail "no change record of the rollback"
ok "the rollback is a change record"

# --- held: reload, restart and boot keep the previous policy ---
"$HOSTCTL" --socket "$SOCK" reload >/dev/null
expect_eq "$(ssh_from_mgmt)" open "a reload does not apply the held policy"
stop d2
daemon d3
expect_eq "$(ssh_from_mgmt)" open "a restart does not apply it"
stop d3
oneshot "$NODE" --config "$CONF"
expect_eq "$rc" 0 "hostd --oneshot exits 0 with the policy held"
expect_eq "$(ssh_from_mgmt)" open "--oneshot (boot) does not apply it"
oneshot "/var/run/netns/$P-boot" --config "$CONF"
expect_eq "$(nsenter --net="/var/run/netns/$P-boot" nft list set inet hostd management4 | grep -c 10.77.1.2)" 1 \
        "--oneshot on a node with no table yet applies the last good policy, not the held one"

# --- applied explicitly: in force, and no longer held ---
daemon d4
"$HOSTCTL" --socket "$SOCK" firewall apply >/dev/null
expect_eq "$(ssh_from_mgmt)" closed "an explicit apply applies the held policy"
expect_eq "$(held_reason)" none "and it is no longer held"
good
"$HOSTCTL" --socket "$SOCK" firewall apply >/dev/null
expect_eq "$(ssh_from_mgmt)" open "the good policy back"

# --- the window expires: rolled back, then held by reload, restart, boot ---
lockout
"$HOSTCTL" --socket "$SOCK" firewall apply --confirm-timeout 2 >/dev/null
expect_eq "$(ssh_from_mgmt)" closed "locked out while pending"
wait_until 8 "the rollback at the deadline" bash -c "[ \"\$(nsenter --net=/var/run/netns/$P-mgmt timeout 1 bash -c 'exec 3<>/dev/tcp/10.77.1.1/22 && echo open' 2>/dev/null)\" = open ]"
ok "the window expired: the previous table is back"
expect_eq "$(held_reason)" "confirmation timed out" "held, for want of a confirmation"
"$HOSTCTL" --socket "$SOCK" reload >/dev/null
expect_eq "$(ssh_from_mgmt)" open "a reload after the expiry keeps the previous policy"
stop d4
daemon d5
expect_eq "$(ssh_from_mgmt)" open "a restart after the expiry keeps it"
stop d5
oneshot "$NODE" --config "$CONF"
expect_eq "$(ssh_from_mgmt)" open "--oneshot after the expiry keeps it"

# --- power lost inside the window: every process gone, then boot ---
daemon d6
"$HOSTCTL" --socket "$SOCK" firewall apply --confirm-timeout 120 >/dev/null
expect_eq "$(ssh_from_mgmt)" closed "pending again"
stop d6 KILL
in_node nft delete table inet hostd # the kernel's state is gone with the power
oneshot "$NODE" --config "$CONF"
expect_eq "$rc" 0 "boot after the power loss: --oneshot exits 0"
expect_eq "$(ssh_from_mgmt)" open "the table of before the unconfirmed apply is in force at boot"
expect_eq "$(ssh_from_outside)" closed "and SSH stays closed from outside"
expect_eq "$(jq -r '.held.reason' "$STATE/firewall-state.json")" "the node restarted inside the confirmation window" \
        "the unconfirmed policy is held"

# --- fail closed at boot: a broken hostd.json ---
in_node nft delete table inet hostd
echo '{"firewall": {"management-sources": ["10.77.1.2/33"]}}' >"$TMP/broken.json"
STATE_DIRECTORY="$STATE" oneshot "$NODE" --config "$TMP/broken.json"
expect_eq "$rc" 1 "--oneshot with a broken configuration exits non-zero"
expect_contains "$(cat "$TMP/oneshot.log")" "broken.json:1:" "and names the file and position"
expect_eq "$(ssh_from_mgmt)" open "the last good table applied: the management source keeps SSH"
expect_eq "$(ssh_from_outside)" closed "SSH closed from outside"
expect_eq "$(https_from_outside)" open "443 open"
grep -q '"kind":"firewall-failed"' "$STATE/changes.jsonl" || fail "no firewall-failed change record"
ok "recorded as a failed change"
# with nothing saved: the built-in policy, SSH closed to everyone outside
in_node nft delete table inet hostd
STATE_DIRECTORY="$TMP/empty-state" oneshot "$NODE" --config "$TMP/broken.json"
expect_eq "$rc" 1 "--oneshot with a broken configuration and no saved state exits non-zero"
expect_eq "$(ssh_from_mgmt)" closed "the built-in policy: SSH closed"
expect_eq "$(https_from_outside)" open "443 open"
in_node nft list table inet hostd >/dev/null
ok "never no table"

# --- a damaged state file is named, and the file's policy applied ---
echo '{"good": {"ssh-port": 0}}' >"$STATE/firewall-state.json"
in_node nft delete table inet hostd
good
daemon d7
grep -q "firewall-state.json:1:.*good.ssh-port" "$TMP/d7.log" ||
        fail "the damaged state is not named: $(grep -i 'state' "$TMP/d7.log" | head -3)"
ok "a damaged state file is named with its position and member"
expect_eq "$(ssh_from_mgmt)" open "the configuration's policy applied"
expect_eq "$(jq -r '.good["management-sources"][0]' "$STATE/firewall-state.json")" 10.77.1.2 "and the state rewritten"

echo "test-firewall-durable: $CHECKS checks passed"
