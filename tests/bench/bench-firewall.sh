#!/bin/bash
# Firewall benchmarks, each side measured alternately in the same run:
#  1. `hostctl firewall apply` with 10,000 peer addresses (hostd's daemon
#     re-reads its configuration and changes in place, in one transaction,
#     what changed: a rule change the chain's rules, a port change that
#     set) against `nft -f` loading the whole table as text, and against
#     `nft -f` of the same in-place change; `hostd --oneshot` writing the
#     whole table as at boot (config parse, build, one netlink batch)
#     against `nft -f` and against iptables-restore with one rule per peer
#     (the ufw-style approach); and --oneshot's in-process part against
#     libnftables' in-process nft_run_cmd_from_buffer of the same table;
#  2. TCP throughput (iperf3) through the table with 10 and with 10,000 peers,
#     and new connections per second from a peer address to a peer port (a
#     SYN judged by the peer set each time), with 10 and with 10,000 peers.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
PEERS=${PEERS:-10000}
ROUNDS=${ROUNDS:-5}
TMP=$(mktemp -d)
NS_SERVER=hostd-bench-server
NS_CLIENT=hostd-bench-client
cleanup() {
        pkill -f "iperf3 -s -p 5201 -B 10.88.0.1" 2>/dev/null || true
        ip netns delete hostd-bench-hostd 2>/dev/null || true
        ip netns delete hostd-bench-peer 2>/dev/null || true
        ip netns delete "$NS_SERVER" 2>/dev/null || true
        ip netns delete "$NS_CLIENT" 2>/dev/null || true
        rm -rf "$TMP"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }

# peer_config N FILE: a hostd.json with N distinct /32 peers (10.64.0.0/10,
# every other address so none merge into ranges)
peer_config() {
        awk -v n="$1" -v state="$TMP/state" 'BEGIN {
                printf "{\"state-directory\": \"%s\", \"firewall\": {\"swarm-peers\": false, ", state
                printf "\"public-tcp-ports\": [443, 5201], \"peers\": ["
                for (i = 0; i < n; i++) {
                        x = i * 2
                        printf "%s\"10.%d.%d.%d\"", (i ? ", " : ""), 64 + int(x / 65536), int(x / 256) % 256, x % 256
                }
                printf "]}}\n"
        }' >"$2"
}
peer_config "$PEERS" "$TMP/peers.json"
peer_config 10 "$TMP/peers10.json"
# the same, with the benchmark's client (10.88.0.2) a peer: its SYNs to 2377
# are looked up in the set (it sits in the middle of the 10,000)
for n in 10 "$PEERS"; do
        sed 's/"peers": \["10.64.0.0"/"peers": ["10.88.0.2", "10.64.0.0"/' "$TMP/peers$([ "$n" = 10 ] && echo 10).json" \
                >"$TMP/client-peer$n.json"
        grep -q '"10.88.0.2"' "$TMP/client-peer$n.json" || { echo "bench: no client peer in the config" >&2; exit 1; }
done
"$BUILD/hostctl" firewall render --config "$TMP/peers.json" >"$TMP/peers.nft"
n_elements=$(grep -o '10\.6[4-9]\.[0-9]*\.[0-9]*' "$TMP/peers.nft" | wc -l)
[ "$n_elements" -ge "$PEERS" ] || { echo "bench: expected $PEERS peers in the rendered table, got $n_elements" >&2; exit 1; }

# iptables-restore input: one ACCEPT per peer and Swarm port, ufw-style
{
        echo "*filter"
        echo ":INPUT ACCEPT [0:0]"
        awk -F'"' '{ for (i = 2; i <= NF; i += 2) if ($i ~ /^10\./) print $i }' "$TMP/peers.json" |
                while read -r a; do
                        printf -- '-A INPUT -s %s/32 -p tcp -m tcp --dport 2377 -j ACCEPT\n' "$a"
                done
        echo "-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT"
        echo "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        echo "-A INPUT -j DROP"
        echo "COMMIT"
} >"$TMP/peers.iptables"

# Each applies into a long-lived namespace of its own, replacing what is
# there, as on a running node, with no other netlink listener present
# (hostd leaves its own event group while it commits; a listener makes the
# kernel build one notification per set element). hostd runs as its daemon:
# an apply is `hostctl firewall apply` (the daemon re-reads the 10,000-peer
# config, builds the table and makes the change). Its config alternates
# between two SSH ports, and two port lists, so every round really
# re-applies.
NS_HOSTD=hostd-bench-hostd NS_PEER=hostd-bench-peer
ip netns add "$NS_HOSTD"
ip netns add "$NS_PEER"
nsenter --net="/var/run/netns/$NS_HOSTD" ip link set lo up
nsenter --net="/var/run/netns/$NS_PEER" ip link set lo up
sed 's/\[443, 5201\]/[443, 5201, 5202]/' "$TMP/peers.json" >"$TMP/peers-b.json"
# a rule change (the SSH port): the whole table is written again
sed 's/"swarm-peers": false, /"swarm-peers": false, "ssh-port": 2222, /' "$TMP/peers.json" >"$TMP/peers-c.json"
# nft's own way to make the port change alone: the set replaced in place
printf 'flush set inet hostd public_tcp\nadd element inet hostd public_tcp { 443, 5201, 5202 }\n' >"$TMP/ports-b.nft"
cp "$TMP/peers.json" "$TMP/hostd.json"
(echo "table inet hostd"; echo "delete table inet hostd"; cat "$TMP/peers.nft") >"$TMP/peers-replace.nft"
# nft's own way to make the rule change alone: the chain flushed and its
# rules added again, the sets kept (what hostd does for a rule change)
"$BUILD/hostctl" firewall render --config "$TMP/peers-c.json" >"$TMP/peers-c.nft"
{ echo "flush chain inet hostd prerouting"; echo "table inet hostd {"; sed -n '/chain prerouting/,$p' "$TMP/peers-c.nft"; } \
        >"$TMP/rules-c.nft"
nsenter --net="/var/run/netns/$NS_HOSTD" "$BUILD/hostd" --log-target=stderr --config "$TMP/hostd.json" \
        --socket "$TMP/hostd.sock" 2>"$TMP/hostd.log" &
hostd_pid=$!
for _ in $(seq 1 100); do
        [ "$("$BUILD/hostctl" --socket "$TMP/hostd.sock" --json status 2>/dev/null | jq -r '.firewall.applied')" = true ] && break
        sleep 0.1
done

wall_ms() { # NAMESPACE COMMAND...: wall time in that namespace
        local ns=$1 t0 t1
        shift
        t0=$(now_ns)
        nsenter --net="/var/run/netns/$ns" "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
        t1=$(now_ns)
        echo $(((t1 - t0) / 1000000))
}
applies_logged() { grep -c "$1" "$TMP/hostd.log" || true; }
for round in $(seq 1 "$ROUNDS"); do
        # a rule change alone (the SSH port), from the same base each round:
        # hostd changes the chain in place; nft -f of the whole table, and
        # of the same in-place change
        cp "$TMP/peers.json" "$TMP/hostd.json"
        "$BUILD/hostctl" --socket "$TMP/hostd.sock" firewall apply >/dev/null
        cp "$TMP/peers-c.json" "$TMP/hostd.json"
        wall_ms "$NS_HOSTD" "$BUILD/hostctl" --socket "$TMP/hostd.sock" firewall apply >>"$TMP/hostctl.ms"
        wall_ms "$NS_PEER" nft -f "$TMP/peers-replace.nft" >>"$TMP/nft.ms"
        wall_ms "$NS_PEER" nft -f "$TMP/rules-c.nft" >>"$TMP/nft-rules.ms"
        # a port list change alone: hostd replaces that set in place; nft
        # -f of the same in-place replace (the whole table: as above)
        cp "$TMP/peers.json" "$TMP/hostd.json"
        "$BUILD/hostctl" --socket "$TMP/hostd.sock" firewall apply >/dev/null
        cp "$TMP/peers-b.json" "$TMP/hostd.json"
        wall_ms "$NS_HOSTD" "$BUILD/hostctl" --socket "$TMP/hostd.sock" firewall apply >>"$TMP/hostctl-ports.ms"
        wall_ms "$NS_PEER" nft -f "$TMP/ports-b.nft" >>"$TMP/nft-ports.ms"
done
# every timed apply was what its row says: the rules alone, or one set alone
[ "$(applies_logged 'in place: 0 of [0-9]* sets and the rules replaced')" -ge "$ROUNDS" ] &&
        [ "$(applies_logged 'in place: 1 of [0-9]* sets replaced')" -ge "$ROUNDS" ] ||
        { echo "bench: hostd did not make the changes measured in place" >&2; exit 1; }
kill "$hostd_pid"
wait "$hostd_pid" 2>/dev/null || true
# the whole table written where there is none, as at boot, each the same
# way: `hostd --oneshot` (its log says how long its in-process part, build
# and one batch, took), `nft -f`, libnftables in-process, iptables-restore
fresh() { # NAMESPACE: a new one, as a booting node's (a table just
        # deleted would still be being freed by the kernel meanwhile)
        ip netns delete "$1" 2>/dev/null || true
        ip netns add "$1"
        nsenter --net="/var/run/netns/$1" ip link set lo up
}
for _ in $(seq 1 "$ROUNDS"); do
        fresh "$NS_HOSTD"
        t0=$(now_ns)
        nsenter --net="/var/run/netns/$NS_HOSTD" "$BUILD/hostd" --oneshot --log-target=stderr \
                --config "$TMP/peers.json" 2>"$TMP/oneshot.log" >/dev/null || { echo "bench: --oneshot failed" >&2; exit 1; }
        t1=$(now_ns)
        echo $(((t1 - t0) / 1000000)) >>"$TMP/oneshot.ms"
        sed -n 's/.*Firewall applied once in \([0-9.]*\) ms .*/\1/p' "$TMP/oneshot.log" >>"$TMP/inproc.ms"
        fresh "$NS_PEER"
        wall_ms "$NS_PEER" nft -f "$TMP/peers.nft" >>"$TMP/nft-fresh.ms"
        fresh "$NS_PEER"
        nsenter --net="/var/run/netns/$NS_PEER" "$BUILD/bench/nft-inprocess" "$TMP/peers.nft" 1 >>"$TMP/libnft.ms"
        fresh "$NS_PEER"
        wall_ms "$NS_PEER" iptables-restore "$TMP/peers.iptables" >>"$TMP/ipt.ms"
done
[ "$(wc -l <"$TMP/inproc.ms")" = "$ROUNDS" ] || { echo "bench: --oneshot did not write the whole table each round:" >&2; cat "$TMP/oneshot.log" >&2; exit 1; }
# what starting each program costs, for the wall times above
for _ in $(seq 1 "$ROUNDS"); do
        wall_ms "$NS_HOSTD" "$BUILD/hostctl" --version >>"$TMP/start-hostctl.ms"
        wall_ms "$NS_HOSTD" "$BUILD/hostd" --version >>"$TMP/start-hostd.ms"
        wall_ms "$NS_HOSTD" nft --version >>"$TMP/start-nft.ms"
done
ip netns delete "$NS_HOSTD"
ip netns delete "$NS_PEER"
hc=$(median <"$TMP/hostctl.ms"); inproc=$(median <"$TMP/inproc.ms"); n=$(median <"$TMP/nft.ms")
i=$(median <"$TMP/ipt.ms"); o=$(median <"$TMP/oneshot.ms"); lib=$(median <"$TMP/libnft.ms")
hp=$(median <"$TMP/hostctl-ports.ms"); np=$(median <"$TMP/nft-ports.ms"); nr=$(median <"$TMP/nft-rules.ms")
nf=$(median <"$TMP/nft-fresh.ms")

# --- throughput through the table: 10 vs PEERS peers ---
ip netns add "$NS_SERVER"
ip netns add "$NS_CLIENT"
ip link add hb-s netns "$NS_SERVER" type veth peer name hb-c netns "$NS_CLIENT"
nsenter --net="/var/run/netns/$NS_SERVER" sh -c 'ip link set lo up; ip addr add 10.88.0.1/24 dev hb-s; ip link set hb-s up'
nsenter --net="/var/run/netns/$NS_CLIENT" sh -c 'ip link set lo up; ip addr add 10.88.0.2/24 dev hb-c; ip link set hb-c up'
nsenter --net="/var/run/netns/$NS_SERVER" iperf3 -s -p 5201 -B 10.88.0.1 -D
sleep 0.5
throughput() { # CONFIG -> Mbit/s
        nsenter --net="/var/run/netns/$NS_SERVER" "$BUILD/hostd" --oneshot --log-target=stderr --config "$1" 2>/dev/null
        nsenter --net="/var/run/netns/$NS_CLIENT" iperf3 -c 10.88.0.1 -p 5201 -t 4 -J |
                jq '.end.sum_received.bits_per_second / 1e6 | floor'
}
for _ in $(seq 1 "$ROUNDS"); do
        throughput "$TMP/peers10.json" >>"$TMP/tp10"
        throughput "$TMP/peers.json" >>"$TMP/tpN"
done
t10=$(median <"$TMP/tp10"); tN=$(median <"$TMP/tpN")
# new connections from a peer address to a peer port
nsenter --net="/var/run/netns/$NS_SERVER" "$BUILD/bench/connect-rate" server 10.88.0.1 2377 &
rate_pid=$!
sleep 0.3
conn_rate() { # CONFIG -> connections/s
        nsenter --net="/var/run/netns/$NS_SERVER" "$BUILD/hostd" --oneshot --log-target=stderr --config "$1" 2>/dev/null
        nsenter --net="/var/run/netns/$NS_CLIENT" "$BUILD/bench/connect-rate" client 10.88.0.1 2377 3
}
for _ in $(seq 1 "$ROUNDS"); do
        conn_rate "$TMP/client-peer10.json" >>"$TMP/cr10"
        conn_rate "$TMP/client-peer$PEERS.json" >>"$TMP/crN"
done
kill "$rate_pid" 2>/dev/null || true
c10=$(median <"$TMP/cr10"); cN=$(median <"$TMP/crN")

printf '\n%-62s %9s %9s %8s\n' "apply $PEERS peers, ms (median of $ROUNDS; ratio = peer / hostd)" "hostd" "peer" "ratio"
printf '%-62s %9s %9s %8s\n' "hostctl firewall apply, a rule changed vs nft -f (table)" "$hc" "$n" "$(ratio "$n" "$hc")x"
printf '%-62s %9s %9s %8s\n' "  the same vs nft -f of that chain replaced in place" "$hc" "$nr" "$(ratio "$nr" "$hc")x"
printf '%-62s %9s %9s %8s\n' "hostctl firewall apply, a port list changed vs nft -f (table)" "$hp" "$n" "$(ratio "$n" "$hp")x"
printf '%-62s %9s %9s %8s\n' "  the same vs nft -f of that set replaced in place" "$hp" "$np" "$(ratio "$np" "$hp")x"
printf '%-62s %9s %9s %8s\n' "hostd --oneshot, the whole table, none before (boot) vs nft -f" "$o" "$nf" "$(ratio "$nf" "$o")x"
printf '%-62s %9s %9s %8s\n' "  the same vs iptables-restore (a rule per peer)" "$o" "$i" "$(ratio "$i" "$o")x"
printf '%-62s %9s %9s %8s\n' "  its in-process part (build + one batch) vs nft -f" "$inproc" "$nf" "$(ratio "$nf" "$inproc")x"
printf '%-62s %9s %9s %8s\n' "  the same vs libnftables in-process (nft_run_cmd_from_buffer)" "$inproc" "$lib" "$(ratio "$lib" "$inproc")x"
printf '%-62s %9s %9s %8s\n' "process start (--version): hostctl vs nft" "$(median <"$TMP/start-hostctl.ms")" \
        "$(median <"$TMP/start-nft.ms")" "$(ratio "$(median <"$TMP/start-nft.ms")" "$(median <"$TMP/start-hostctl.ms")")x"
printf '%-62s %9s %9s %8s\n' "process start (--version): hostd vs nft" "$(median <"$TMP/start-hostd.ms")" \
        "$(median <"$TMP/start-nft.ms")" "$(ratio "$(median <"$TMP/start-nft.ms")" "$(median <"$TMP/start-hostd.ms")")x"
printf '\n%-58s %10s %10s %8s\n' "TCP throughput through the table, Mbit/s (median of $ROUNDS)" "$PEERS" "10" "ratio"
printf '%-58s %10s %10s %8s\n' "iperf3, 4 s, client namespace -> hostd-protected namespace" "$tN" "$t10" "$(ratio "$tN" "$t10")"
printf '%-58s %10s %10s %8s\n' "new connections/s from a peer to 2377 (set lookup per SYN)" "$cN" "$c10" "$(ratio "$cN" "$c10")"
echo "(hostctl firewall apply: hostd re-reads its configuration and changes in place what changed, in one"
echo " transaction: a rule change replaces the chain's rules, a port or peer change that set's elements)"
