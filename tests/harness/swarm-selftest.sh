#!/usr/bin/env bash
# shellcheck disable=SC2016  # container commands are single-quoted on purpose
# swarm-selftest.sh - end-to-end check of tests/harness/swarm.sh.
#
#   swarm-selftest.sh [N_MANAGERS [N_WORKERS]]     (default 3 1)
#
# up; every node Ready with its own hostname; a replicated service spread
# over the nodes; a host-mode published port fetched from the "outside"
# namespace over IPv4 and IPv6; overlay (VXLAN) traffic between nodes;
# dockerd restart of node 1 and recovery; down and leak checks.
# Must start from a clean state; leaves the swarm down.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SWARM=$HERE/swarm.sh
N_M=${1:-3}
N_W=${2:-1}
STATE=${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm}
PREFIX=${HOSTD_SWARM_PREFIX:-hostd-}

step() { printf '\n=== %s\n' "$*"; }
fail() {
	echo "SELFTEST FAILED: $*" >&2
	exit 1
}
now_ms() { local t=${EPOCHREALTIME/./}; echo "${t:0:-3}"; }
ms_since() { echo $(($(now_ms) - $1)); }

on_exit() {
	local rc=$?
	if ((rc != 0)); then
		echo "selftest: tearing down after failure" >&2
		"$SWARM" down || true
	fi
}
trap on_exit EXIT

# docker CLI against node I
D() {
	local i=$1 v
	shift
	v="NODE${i}_SOCK"
	"$SWARM_DOCKER" -H "unix://${!v}" "$@"
}
outside() { nsenter --net="$OUTSIDE_NETNS" "$@"; }

# poll "$@" until it succeeds, at most $1 seconds
retry() {
	local secs=$1 deadline
	shift
	deadline=$(($(now_ms) + secs * 1000))
	until "$@"; do
		(($(now_ms) < deadline)) || return 1
		sleep 0.5
	done
}

service_converged() { # NAME REPLICAS
	[[ $(D 1 service ps "$1" --filter desired-state=running --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running') == "$2" ]]
}

swarm_healthy() {
	local out
	out=$(D 1 node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' 2>/dev/null) || return 1
	[[ $(grep -c ' Ready' <<<"$out") == "$HOSTD_SWARM_NODES" ]] && grep -q ' Leader$' <<<"$out"
}

[[ ! -e $STATE ]] || fail "$STATE exists; run 'swarm.sh down' first"

# ------------------------------------------------------------------ up
step "swarm.sh up $N_M $N_W"
t=$(now_ms)
"$SWARM" up "$N_M" "$N_W"
T_UP=$(ms_since "$t")
set -a
eval "$("$SWARM" env)"
set +a
N=$HOSTD_SWARM_NODES
((N == N_M + N_W)) || fail "env reports $N nodes"

step "nodes as seen from node 1"
D 1 node ls
swarm_healthy || fail "not all $N nodes Ready / no leader"
names=$(D 1 node ls --format '{{.Hostname}}' | sort -u | wc -l)
((names == N)) || fail "expected $N distinct hostnames, got $names"
for ((i = 1; i <= N; i++)); do
	v=NODE${i}_NAME
	want=${!v}
	got=$(D "$i" info --format '{{.Name}}')
	[[ $got == "$want" ]] || fail "node $i: docker info Name '$got' != '$want'"
	v=NODE${i}_ID
	got=$(D "$i" info --format '{{.Swarm.NodeID}}')
	[[ $got == "${!v}" ]] || fail "node $i: swarm node ID '$got' != env '${!v}'"
	v=NODE${i}_ADDR
	a4=${!v}
	v=NODE${i}_ADDR6
	a6=${!v}
	v=NODE${i}_NETNS
	nsenter --net="${!v}" ip -br addr show dev eth0 | grep -q "$a4/24" || fail "node $i: $a4 missing"
	nsenter --net="${!v}" ip -br addr show dev eth0 | grep -q "$a6/64" || fail "node $i: $a6 missing"
	v=NODE${i}_ROLE
	echo "node $i: Name=$want role=${!v} addr=$a4 $a6 (docker info Name and swarm ID match env)"
done

# ------------------------------------------------------- replicated service
step "replicated service: $N x sleep"
"$SWARM" service-create sleeper "$N"
D 1 service ps sleeper --format 'table {{.Name}}\t{{.Node}}\t{{.CurrentState}}'
spread=$(D 1 service ps sleeper --filter desired-state=running --format '{{.Node}}' | sort -u | wc -l)
want=$((N < 2 ? 1 : 2))
((spread >= want)) || fail "sleeper tasks on only $spread node(s)"
echo "sleeper tasks run on $spread distinct node(s)"

# ----------------------------------------------------------- published port
WEB_REPLICAS=$((N < 2 ? 1 : 2))
step "published port: web ($WEB_REPLICAS replicas, host-mode publish 8080->80)"
"$SWARM" service-create web "$WEB_REPLICAS" \
	--publish mode=host,published=8080,target=80 --hostname '{{.Node.Hostname}}' \
	-- sh -c 'echo "hello from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'
D 1 service ps web --format 'table {{.Name}}\t{{.Node}}\t{{.CurrentState}}\t{{.Ports}}'

fetch_web() { # check every node running a web task, from the outside namespace
	local node i v a4 a6 out n=0
	for node in $(D 1 service ps web --filter desired-state=running --format '{{.Node}}'); do
		for ((i = 1; i <= N; i++)); do
			v=NODE${i}_NAME
			[[ ${!v} == "$node" ]] || continue
			v=NODE${i}_ADDR
			a4=${!v}
			v=NODE${i}_ADDR6
			a6=${!v}
			out=$(outside timeout 10 busybox wget -q -O - "http://$a4:8080/") || return 1
			echo "outside -> $a4:8080     : $out"
			[[ $out == "hello from $node" ]] || return 1
			out=$(outside timeout 10 busybox wget -q -O - "http://[$a6]:8080/") || return 1
			echo "outside -> [$a6]:8080 : $out"
			[[ $out == "hello from $node" ]] || return 1
			n=$((n + 1))
		done
	done
	((n == WEB_REPLICAS))
}
fetch_web || fail "fetching the published port from $OUTSIDE_NETNS failed"
v=NODE1_NETNS
echo "DNAT rule inside node 1's namespace (if a web task runs there):"
nsenter --net="${!v}" iptables -t nat -S DOCKER | grep -- '--dport 8080' || echo "  (no web task on node 1)"

# ------------------------------------------------------------ overlay traffic
step "overlay network: dnsrr service reached from node $N over VXLAN"
D 1 network create -d overlay --attachable selftest-ovl >/dev/null
"$SWARM" service-create ovweb "$WEB_REPLICAS" --network selftest-ovl --endpoint-mode dnsrr \
	--hostname '{{.Node.Hostname}}' \
	-- sh -c 'echo "overlay hello from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'
D 1 service ps ovweb --format 'table {{.Name}}\t{{.Node}}\t{{.CurrentState}}'
out=$(timeout 60 "$SWARM_DOCKER" -H "unix://$(v=NODE${N}_SOCK && echo "${!v}")" run --rm --network selftest-ovl "$SWARM_IMAGE" \
	sh -c 'for k in 1 2 3 4; do wget -q -O - http://ovweb/ || exit 1; done') ||
	fail "overlay fetch from node $N failed"
echo "$out"

# ------------------------------------------------------------ dockerd restart
step "dockerd-restart 1"
t=$(now_ms)
"$SWARM" dockerd-restart 1
T_RESTART=$(ms_since "$t")
retry 90 swarm_healthy || fail "swarm not healthy after restarting node 1"
retry 90 service_converged sleeper "$N" || fail "sleeper did not converge after restart"
retry 90 service_converged web "$WEB_REPLICAS" || fail "web did not converge after restart"
retry 90 service_converged ovweb "$WEB_REPLICAS" || fail "ovweb did not converge after restart"
T_RECOVER=$(ms_since "$t")
D 1 node ls
D 1 service ls
retry 30 fetch_web || fail "published port not reachable after restart"

# ---------------------------------------------------------------- down
step "swarm.sh down"
t=$(now_ms)
"$SWARM" down
T_DOWN=$(ms_since "$t")

step "leak checks"
leaks=0
if pgrep -af -- "$STATE/" >/dev/null; then
	pgrep -af -- "$STATE/"
	leaks=1
fi
if ip netns list | awk '{print $1}' | grep -E "^${PREFIX}(n[0-9]+|br|outside)$"; then leaks=1; fi
if findmnt -rn -o TARGET | grep -F -- "$STATE"; then leaks=1; fi
if ls -d /sys/fs/cgroup/*/"${PREFIX}"n[0-9]* 2>/dev/null; then leaks=1; fi
[[ ! -e $STATE ]] || {
	echo "$STATE still exists"
	leaks=1
}
((leaks == 0)) || fail "leftovers after down"
echo "no processes, namespaces, mounts, cgroups or files left"

step "summary"
printf 'up (%d managers, %d workers): %d ms\n' "$N_M" "$N_W" "$T_UP"
printf 'dockerd-restart 1:            %d ms (all services converged after %d ms)\n' "$T_RESTART" "$T_RECOVER"
printf 'down:                         %d ms\n' "$T_DOWN"
echo "SELFTEST PASSED"
