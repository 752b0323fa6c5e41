#!/bin/bash
# make demo: a sandboxed Swarm of real dockerd processes in network
# namespaces (3 managers, 1 worker; tests/harness), hostd on every node with
# its own sandbox root fed by a local package repository holding a security
# update; then the firewall probed from an outside host, the seccomp audit,
# the posture (the node's and the cluster's), and a rolling patch wave with
# its table printed as it goes, and the changes hostd recorded. Everything
# is torn down at the end unless DEMO_KEEP=1.
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces and dockerd)" >&2; exit 1; }
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-demo}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/demo}"
. "$(dirname "$0")/../tests/integration/lib.sh"
need_built

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "Bringing up a 3-manager, 1-worker Swarm in network namespaces, hostd on every node"
. "$HOSTD_SRC/tests/harness/wavecluster.sh"
"$SWARM" status

section "hostctl status on $NODE1_NAME"
hctl 1 status

section "The firewall on $NODE1_NAME: hostctl firewall show"
hctl 1 firewall show | sed -n 1,12p
echo "..."

section "Probing $NODE1_NAME from an outside host ($OUTSIDE_ADDR)"
# a web service published by Docker on 443, and one on 8080 that must stay closed
docker_on 1 run -d --name demo-443 -p 443:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
docker_on 1 run -d --name demo-8080 -p 8080:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
on_exit "'$DOCKER' -H 'unix://$NODE1_SOCK' rm -f demo-443 demo-8080 >/dev/null 2>&1"
sleep 1
probe() { # PORT WHAT
        local rc=0
        nsenter --net="$OUTSIDE_NETNS" timeout 2 bash -c "exec 3<>/dev/tcp/$NODE1_ADDR/$1" 2>/dev/null || rc=$?
        case $rc in
        0) printf '  %-6s %-40s open\n' "$1" "$2" ;;
        124) printf '  %-6s %-40s closed (dropped by hostd)\n' "$1" "$2" ;;
        *) printf '  %-6s %-40s refused\n' "$1" "$2" ;;
        esac
}
probe 443 "HTTPS, published by Docker"
probe 8080 "HTTP, published by Docker"
probe 22 "SSH"
probe 2377 "Swarm management (peers only)"
probe 7946 "Swarm gossip (peers only)"

section "The seccomp audit on $NODE1_NAME (one container started unconfined)"
docker_on 1 run -d --name demo-unconfined --security-opt seccomp=unconfined "$SWARM_IMAGE" sleep 600 >/dev/null
on_exit "'$DOCKER' -H 'unix://$NODE1_SOCK' rm -f demo-unconfined >/dev/null 2>&1"
wait_until 10 "the audit sees it" bash -c "'$HOSTCTL' --socket '$TMP/n1/h.sock' --json seccomp audit | jq -e '.containers[] | select(.name == \"demo-unconfined\")'"
hctl 1 seccomp audit || true

section "The posture of $NODE1_NAME: hostctl posture (exit 1 while a check fails)"
hctl 1 posture || true
docker_on 1 rm -f demo-443 demo-8080 demo-unconfined >/dev/null

section "The cluster's posture, from a manager: hostctl posture --cluster"
wait_until 30 "every node's summary" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/n1/h.sock' --json posture --cluster | jq '.counts.missing')\" = 0 ]"
hctl 1 posture --cluster || true

section "Patches pending on $NODE4_NAME (its sandbox root; the security update asks for a reboot)"
hctl 4 patch plan --refresh

section "A rolling patch wave: hostctl wave start --max-unavailable 1, then wave watch"
"$SWARM" service-create web 4 >/dev/null
# every node's plan reaches the managers with its summary: the wave's approved set is frozen from them
plans_sent 1
hctl 1 wave start --max-unavailable 1 --deadline 10m
# watch redraws on every change of the stored wave and exits when it ends;
# the managers reboot in the wave too, so when the one watched goes down,
# watch from another
wave_over() { case $(wave_json | jq -r '.wave.status // empty') in done | halted | aborted | failed) return 0 ;; esac; return 1; }
until wave_over; do
        for i in 1 2 3; do
                hctl "$i" wave watch 2>/dev/null && break
                wave_over && break
                echo "(the hostd of ${HOSTD_SWARM_PREFIX}n$i is restarting with its node: watching from another manager)"
        done
        wave_over || sleep 1
done
wave_json | jq -r '"wave \(.wave.id): \(.wave.status)"'

section "What hostd changed on $NODE4_NAME: hostctl changes"
hctl 4 changes
section "... and on the managers: the drains and activations"
for i in 1 2 3; do hctl "$i" --json changes || true; done |
        jq -r '.changes[] | select(.kind | test("node-|wave-")) | "\(.time)  \(.kind)  \(.message)"' | sort

if [ "${DEMO_KEEP:-0}" = 1 ]; then
        CLEANUPS=()
        HOSTD_TEST_KEEP=1
        section "Kept running (DEMO_KEEP=1): eval \"\$($SWARM env)\"; hostd sockets in $TMP/n*/h.sock; '$SWARM down' to stop"
fi
