#!/bin/bash
# hostd's firewall on every node of a real Swarm of 3 managers and 3
# workers (dockerd in network namespaces), each node with a data-path
# address (--data-path-addr) apart from its advertise address. Workers
# cannot list the Swarm's nodes: the managers hand them the peer set.
#   - every node's peer sets hold every node's advertise and data-path
#     address; every node reaches every other's Swarm ports (2377 on
#     managers, 7946 tcp; 7946 and 4789 udp counted on the receiver's
#     peer rule)
#   - an overlay service with tasks on two workers exchanges real traffic
#     over VXLAN between their data-path addresses
#   - an outside host reaches 443 (a host-mode published port) on every
#     node and nothing else
#   - a node that leaves (and is removed) is dropped from every node's
#     sets, and admitted everywhere again when it joins; both timed.
# Swarm's ingress routing mesh needs IPVS, which this kernel lacks: the
# test publishes in host mode and tests the overlay directly.
. "$(dirname "$0")/lib.sh"
need_built
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-sf}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm-sftest}"
export HOSTD_SWARM_DATA_PATH=1

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 3 3
eval "$("$SWARM" env)"
N=6
ok "swarm of 3 managers and 3 workers up, each with a data-path address"

ns_of() { local v="NODE$1_NETNS"; echo "${!v}"; }
addr_of() { local v="NODE$1_ADDR"; echo "${!v}"; }
data_of() { local v="NODE$1_DATA_ADDR"; echo "${!v}"; }
sock_of() { local v="NODE$1_SOCK"; echo "${!v}"; }
docker_on() { local i=$1; shift; "$DOCKER" -H "unix://$(sock_of "$i")" "$@"; }
from_node() { local i=$1; shift; nsenter --net="$(ns_of "$i")" "$@"; }
from_outside() { nsenter --net="$OUTSIDE_NETNS" "$@"; }
tcp_probe() { # NETNS ADDR PORT -> open | refused | filtered
        local rc=0
        nsenter --net="$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null || rc=$?
        case $rc in
        0) echo open ;;
        124) echo filtered ;;
        *) echo refused ;;
        esac
}
# the set is an interval set (peers may be prefixes): nft shows runs of
# addresses as ranges, so ask the kernel about the one address
has_peer() { from_node "$1" nft get element inet hostd peers4 "{ $2 }" >/dev/null 2>&1; }
counter() { # NODE RULE_ID -> packets of that rule of hostd's table
        "$HOSTCTL" --socket "$TMP/h$1.sock" --json firewall show |
                jq -r --arg id "$2" '.live.rules[] | select(.id == $id) | .packets'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- hostd with its firewall on every node (no SSH from outside) ---
# the managers admit node 6's address to 2377 before it is a node: where
# a new node joins from (firewall.join-sources)
for ((i = 1; i <= N; i++)); do
        join=""
        [ "$i" -le 3 ] && join=", \"join-sources\": [\"$(addr_of 6)/32\"]"
        cat >"$TMP/hostd$i.json" <<EOF
{
  "state-directory": "$TMP/state$i",
  "swarm": {"refresh-seconds": 2},
  "firewall": {"public-tcp-ports": [443]$join}
}
EOF
        DOCKER_HOST="unix://$(sock_of "$i")" start_hostd "n$i" "$(ns_of "$i")" \
                --config "$TMP/hostd$i.json" --socket "$TMP/h$i.sock"
done
t0=$(now_ms)
# every node: every node's advertise and data-path address
all_peers_everywhere() {
        local i j
        for ((i = 1; i <= N; i++)); do
                for ((j = 1; j <= N; j++)); do
                        has_peer "$i" "$(addr_of "$j")" && has_peer "$i" "$(data_of "$j")" || return 1
                done
        done
}
wait_until 60 "every node's peer set holds every node's advertise and data-path address" all_peers_everywhere
converge_ms=$(($(now_ms) - t0))
ok "every node (workers too) admits all 6 nodes' advertise and data-path addresses (${converge_ms} ms from hostd's start)"
for ((i = 4; i <= N; i++)); do
        grep -qE "Swarm peers from manager [0-9.]+: [0-9]+ addresses" "$TMP/n$i.log" ||
                fail "worker $i did not take its peers from a manager"
        if grep -q "Swarm peers from manager .* refused" "$TMP/n$i.log"; then
                fail "worker $i refused a manager's peers: $(grep -m1 refused "$TMP/n$i.log")"
        fi
done
ok "the workers' sets came from the managers"

# --- the Swarm's ports between every pair of nodes ---
for ((i = 1; i <= N; i++)); do
        for ((j = 1; j <= N; j++)); do
                [ "$i" = "$j" ] && continue
                [ "$(tcp_probe "$(ns_of "$i")" "$(addr_of "$j")" 7946)" = open ] ||
                        fail "7946/tcp from node $i to node $j is not open"
                if [ "$j" -le 3 ]; then
                        [ "$(tcp_probe "$(ns_of "$i")" "$(addr_of "$j")" 2377)" = open ] ||
                                fail "2377 from node $i to manager $j is not open"
                fi
        done
done
ok "7946/tcp open between every pair of nodes, 2377 from every node to every manager"
# UDP has no handshake: one datagram from every other node's own address,
# counted by the receiver's peer rule
for ((j = 1; j <= N; j++)); do
        before=$(counter "$j" peer-udp-v4)
        for ((i = 1; i <= N; i++)); do
                [ "$i" = "$j" ] && continue
                from_node "$i" socat -u - "UDP:$(addr_of "$j"):7946,bind=$(addr_of "$i")" <<<probe
                from_node "$i" socat -u - "UDP:$(data_of "$j"):4789,bind=$(data_of "$i")" <<<probe
        done
        after=$(counter "$j" peer-udp-v4)
        [ $((after - before)) -ge $((2 * (N - 1))) ] ||
                fail "node $j's peer UDP rule counted $((after - before)) of $((2 * (N - 1))) probes"
done
ok "7946/udp (advertise) and 4789/udp (data path) from every other node admitted on every node"
docker_on 1 node ls --format '{{.Hostname}} {{.Status}}' | grep -v ' Ready$' && fail "a node is not Ready"
ok "every node Ready with the firewall on every node"

# --- an overlay service with tasks on two workers ---
docker_on 1 network create -d overlay --attachable sfovl >/dev/null
"$SWARM" service-create ovweb 2 --network sfovl --endpoint-mode dnsrr --replicas-max-per-node 1 \
        --constraint node.role==worker --constraint "node.hostname!=$(docker_on 6 info --format '{{.Name}}')" \
        --hostname '{{.Node.Hostname}}' \
        -- sh -c 'mkdir -p /www && echo "overlay hello from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'
task5=$(docker_on 5 ps -q --filter label=com.docker.swarm.service.name=ovweb)
ip5=$(docker_on 5 inspect --format '{{(index .NetworkSettings.Networks "sfovl").IPAddress}}' "$task5")
[ -n "$ip5" ] || fail "no overlay address for the task on node 5"
# Docker learns a remote task's overlay address by gossip (its network
# database over 7946), which may reach node 4 a few seconds after the task
# runs: until then ARP for it fails ("No route to host"). The container
# asks 60 times, a second apart (each try bounded by busybox timeout:
# busybox 1.35 wget -T segfaults), and the time taken is printed.
t_ov=$(date +%s%N)
out=$(timeout 300 "$DOCKER" -H "unix://$(sock_of 4)" run --rm --network sfovl "$SWARM_IMAGE" \
        sh -c "i=0; while [ \$i -lt 60 ]; do i=\$((i + 1)); timeout 3 wget -q -O - http://$ip5/ 2>/dev/null && exit 0; sleep 1; done; exit 1") ||
        { for n in 4 5; do
                  v="NODE${n}_LOG"
                  echo "--- node $n's dockerd: its gossip (memberlist, networkdb), last lines"
                  grep -iE 'memberlist|networkdb|bulk ?sync|peer' "${!v}" | tail -n 15 || true
          done
          echo "--- node 4's drops logged by its firewall"
          grep -h 'hostd drop' "$TMP"/*.log 2>/dev/null | tail -n 5 || true
          fail "the task on node 5 did not answer node 4 over the overlay within 60 s"; }
ov_ms=$(( ($(date +%s%N) - t_ov) / 1000000 ))
expect_contains "$out" "overlay hello from $(docker_on 5 info --format '{{.Name}}')" \
        "node 4 reaches the overlay task on node 5 (VXLAN between the workers' data-path addresses; ${ov_ms} ms, with the container's start)"
vx5=$(counter 5 peer-udp-v4)
[ "$vx5" -gt 0 ] || fail "node 5's peer UDP rule counted nothing"

# --- 443 published in host mode on every node; nothing else from outside ---
docker_on 1 service create --detach --quiet --no-resolve-image --name web443 --mode global \
        --publish mode=host,target=80,published=443 "$SWARM_IMAGE" \
        sh -c 'mkdir -p /www && hostname >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
for ((i = 1; i <= N; i++)); do
        wait_until 60 "443 answers on node $i" bash -c \
                "nsenter --net='$OUTSIDE_NETNS' timeout 2 bash -c 'exec 3<>/dev/tcp/$(addr_of "$i")/443'"
done
ok "443 (published in host mode) reaches every node from outside"
# the outsider on the data-path network too, as on a flat network
from_outside ip route add 10.78.0.0/24 dev eth0 2>/dev/null || true
for ((i = 1; i <= N; i++)); do
        for port in 22 2377 7946 9443; do
                [ "$(tcp_probe "$OUTSIDE_NETNS" "$(addr_of "$i")" $port)" = filtered ] ||
                        fail "port $port of node $i is reachable from outside"
        done
        [ "$(tcp_probe "$OUTSIDE_NETNS" "$(data_of "$i")" 7946)" = filtered ] ||
                fail "7946 on node $i's data-path address is reachable from outside"
done
ok "from outside, 22, 2377, 7946 and 9443 closed on every node"

# --- a node leaves and is removed: dropped everywhere ---
id6=$(docker_on 6 info --format '{{.Swarm.NodeID}}')
t0=$(now_ms)
docker_on 6 swarm leave >/dev/null
wait_until 60 "node 6 down" bash -c "'$DOCKER' -H 'unix://$(sock_of 1)' node inspect $id6 --format '{{.Status.State}}' | grep -qx down"
docker_on 1 node rm "$id6" >/dev/null
t_rm=$(now_ms)
dropped_everywhere() {
        local i
        for ((i = 1; i <= 5; i++)); do
                has_peer "$i" "$(addr_of 6)" && return 1
                has_peer "$i" "$(data_of 6)" && return 1
        done
        return 0
}
wait_until 60 "node 6 dropped from every node's peer set" dropped_everywhere
leave_ms=$(($(now_ms) - t_rm))
ok "node 6 removed: dropped from every other node's peer set ${leave_ms} ms after docker node rm"
[ "$(tcp_probe "$(ns_of 6)" "$(addr_of 4)" 7946)" = filtered ] || fail "the removed node still reaches worker 4"
[ "$(tcp_probe "$(ns_of 6)" "$(addr_of 2)" 7946)" = filtered ] || fail "the removed node still reaches manager 2's 7946"
[ "$(tcp_probe "$(ns_of 6)" "$(addr_of 2)" 2377)" = open ] || fail "the removed node cannot reach 2377 to join again"
ok "the removed node no longer reaches 7946 on a worker or a manager; 2377 on managers only as a join source"

# --- it joins again: admitted everywhere ---
token=$(docker_on 1 swarm join-token -q worker)
t0=$(now_ms)
docker_on 6 swarm join --token "$token" --advertise-addr "$(addr_of 6)" --data-path-addr "$(data_of 6)" \
        "$(addr_of 1):2377" >/dev/null
t_join=$(now_ms)
admitted_everywhere() {
        local i
        for ((i = 1; i <= N; i++)); do
                has_peer "$i" "$(addr_of 6)" && has_peer "$i" "$(data_of 6)" || return 1
        done
}
wait_until 60 "node 6 admitted again on every node" admitted_everywhere
join_ms=$(($(now_ms) - t_join))
ok "node 6 joined: admitted on every node ${join_ms} ms after docker swarm join returned"
[ "$(tcp_probe "$(ns_of 6)" "$(addr_of 4)" 7946)" = open ] || fail "the joined node does not reach worker 4"
ok "the joined node reaches a worker's 7946"

# --- what each worker saved for boot ---
for ((i = 4; i <= 5; i++)); do
        for ((j = 1; j <= N; j++)); do
                grep -qx "$(data_of "$j")" "$TMP/state$i/swarm-peers" ||
                        fail "worker $i did not save node $j's data-path address for boot"
        done
done
ok "the workers saved the whole set for boot (STATE/swarm-peers)"
# --- a manager that hands out a bad list: refused, nothing changes ---
# node 1's hostd gives way to a server with node 1's own Swarm certificate
# (so the workers trust it) that answers every watch with the list given
kill -TERM "$HOSTD_PID_n1"
wait "$HOSTD_PID_n1" 2>/dev/null || true
certs="$NODE1_DATA_ROOT/swarm/certificates"
sed '/^[A-Za-z-]*: /d; /^$/d' "$certs/swarm-node.key" >"$TMP/m1.key"
FAKE_N=0
fake_manager() { # PEERS_JSON [CERT KEY]: serve it on node 1's 9443 until the next call
        if [ -n "${FAKE_PID:-}" ]; then
                kill "$FAKE_PID" 2>/dev/null || true
                wait "$FAKE_PID" 2>/dev/null || true
                # its forked children too: none may answer with the next body
                pkill -f "socat -d -d -lf $TMP/fake-socat.log" 2>/dev/null || true
                wait_until 10 "the previous fake manager is gone" \
                        bash -c "! nsenter --net='$(ns_of 1)' ss -ltn | grep -q ':9443 '"
        fi
        local body
        body="{\"wave\": null, \"blocked\": \"\", \"version\": 1, \"leader\": true, \"leader_address\": \"$(addr_of 1)\", \"peers\": $1, \"reported\": true, \"peers_digest\": 1}"
        printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
                "${#body}" "$body" >"$TMP/fake$((++FAKE_N)).http"
        # nsenter execs socat: $! is socat itself
        nsenter --net="$(ns_of 1)" socat -d -d -lf "$TMP/fake-socat.log" "OPENSSL-LISTEN:9443,reuseaddr,fork,cert=${2:-$certs/swarm-node.crt},key=${3:-$TMP/m1.key},cafile=$certs/swarm-root-ca.crt,verify=0" \
                SYSTEM:"sleep 0.05; cat $TMP/fake$FAKE_N.http" 2>/dev/null &
        FAKE_PID=$!
        on_exit "kill $FAKE_PID 2>/dev/null"
        wait_until 10 "the fake manager listens" bash -c "nsenter --net='$(ns_of 1)' ss -ltn | grep -q ':9443 '"
}
set4_before=$(from_node 4 nft list set inet hostd peers4 | md5sum)
fake_manager "[\"$(addr_of 4)\", \"10.0.0.0/8\"]"
wait_until 60 "worker 4 refuses the list with a prefix" \
        grep -q "Swarm peers from manager $(addr_of 1) refused, the firewall's peers unchanged: peers\[1\]: \"10.0.0.0/8\" is not an IPv4 or IPv6 address" "$TMP/n4.log"
expect_eq "$(from_node 4 nft list set inet hostd peers4 | md5sum)" "$set4_before" "a list with a prefix in it is refused, named in the log, and changes nothing"
python3 -c "import json; print(json.dumps(['10.%d.%d.%d' % (64 + i // 65536, i // 256 % 256, i % 256) for i in range(65537)]))" >"$TMP/big.json"
fake_manager "$(cat "$TMP/big.json")"
wait_until 60 "worker 4 refuses the oversized list" \
        grep -q "refused, the firewall's peers unchanged: peers: 65537 addresses, more than the 65536 allowed" "$TMP/n4.log"
expect_eq "$(from_node 4 nft list set inet hostd peers4 | md5sum)" "$set4_before" "an oversized list is refused and changes nothing"
fake_manager "[\"$(addr_of 1)\", \"$(addr_of 2)\"]"
wait_until 60 "worker 4 refuses a list without itself" \
        grep -q "they do not name this node's address $(addr_of 4)" "$TMP/n4.log"
expect_eq "$(from_node 4 nft list set inet hostd peers4 | md5sum)" "$set4_before" "a list without the node itself is refused and changes nothing"
# another cluster's manager: a certificate no CA of this Swarm signed, with
# the name hostd checks, answering a list that would otherwise be taken
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=swarm-manager" \
        -addext "subjectAltName=DNS:swarm-manager" -keyout "$TMP/other.key" -out "$TMP/other.crt" 2>/dev/null
fake_manager "[\"$(addr_of 4)\", \"$(addr_of 5)\", \"10.99.0.1\"]" "$TMP/other.crt" "$TMP/other.key"
wait_until 60 "worker 4 refuses the other cluster's manager" \
        grep -q "Wave: manager $(addr_of 1) refused, nothing taken from it: its certificate is not one this Swarm's CA gives a manager" "$TMP/n4.log"
expect_eq "$(from_node 4 nft list set inet hostd peers4 | md5sum)" "$set4_before" "a manager with another cluster's certificate is refused, named in the log, and changes nothing"
# worker 4 keeps asking it (its watch comes back there): said once still
: >"$TMP/fake-socat.log"
wait_until 60 "worker 4 asks the other cluster's manager again" \
        bash -c "[ \$(grep -c 'accepting connection from .*$(addr_of 4)' '$TMP/fake-socat.log') -ge 3 ]"
expect_eq "$(grep -c "Wave: manager $(addr_of 1) refused" "$TMP/n4.log")" 1 "and said once, not at every watch"
[ "$(tcp_probe "$(ns_of 5)" "$(addr_of 4)" 7946)" = open ] || fail "worker 5 lost worker 4's 7946"
ok "and worker 5 still reaches worker 4's 7946"
echo "swarm-firewall: converge ${converge_ms} ms, leave ${leave_ms} ms, join ${join_ms} ms"
echo "test-swarm-firewall: $CHECKS checks passed"
