#!/bin/bash
# make demo: brings up a sandboxed Swarm (real dockerd processes in network
# namespaces, see tests/harness), starts hostd on every node and shows what
# each one knows. Everything is torn down at the end unless DEMO_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
SWARM=tests/harness/swarm.sh
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-demo}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/demo}"
RUN="$HOSTD_SWARM_DIR/hostd"

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces and dockerd)" >&2; exit 1; }

pids=()
teardown() {
        for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        "$SWARM" down
}
if [ "${DEMO_KEEP:-0}" != 1 ]; then trap teardown EXIT; fi

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "Bringing up a 3-manager, 1-worker Swarm in network namespaces"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 3 1
eval "$("$SWARM" env)"
mkdir -p "$RUN"

section "Starting hostd on every node"
for i in $(seq 1 "$HOSTD_SWARM_NODES"); do
        sock="NODE${i}_SOCK"; netns="NODE${i}_NETNS"
        printf '{"state-directory": "%s"}\n' "$RUN/state$i" >"$RUN/hostd$i.json"
        DOCKER_HOST="unix://${!sock}" nsenter --net="${!netns}" "$BUILD/hostd" \
                --log-target=stderr --config "$RUN/hostd$i.json" --socket "$RUN/hostd$i.sock" \
                2>"$RUN/hostd$i.log" &
        pids+=($!)
done
for i in $(seq 1 "$HOSTD_SWARM_NODES"); do
        for _ in $(seq 1 100); do
                id=$("$BUILD/hostctl" --socket "$RUN/hostd$i.sock" --json status 2>/dev/null | jq -r '.swarm.node_id // empty' || true)
                [ -n "$id" ] && break
                sleep 0.1
        done
done

for i in $(seq 1 "$HOSTD_SWARM_NODES"); do
        name="NODE${i}_NAME"
        section "hostctl status on ${!name}"
        "$BUILD/hostctl" --socket "$RUN/hostd$i.sock" status
done

section "The firewall on ${NODE1_NAME}: hostctl firewall show"
"$BUILD/hostctl" --socket "$RUN/hostd1.sock" firewall show | sed -n 1,12p
echo "..."

section "Probing ${NODE1_NAME} from an outside host (${OUTSIDE_ADDR})"
# a web service published by Docker on 443, and one on 8080 that must stay closed
"$SWARM" docker 1 run -d --name demo-443 -p 443:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
"$SWARM" docker 1 run -d --name demo-8080 -p 8080:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
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

section "The posture of ${NODE1_NAME}: hostctl posture (exit 1 while a check fails)"
"$BUILD/hostctl" --socket "$RUN/hostd1.sock" posture || true
"$SWARM" docker 1 rm -f demo-443 demo-8080 >/dev/null

section "The Swarm as dockerd sees it"
"$SWARM" status

section "A configuration error is refused with its location"
printf '{\n  "swarm": {"refresh-seconds": 0}\n}\n' >"$RUN/bad.json"
"$BUILD/hostctl" config check "$RUN/bad.json" || true

if [ "${DEMO_KEEP:-0}" = 1 ]; then
        section "Kept running (DEMO_KEEP=1): eval \"\$($SWARM env)\"; '$SWARM down' to stop"
fi
