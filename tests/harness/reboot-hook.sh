#!/bin/bash
# reboot-hook.sh NODE_DIR I: a simulated reboot of Swarm node I for the
# wave tests, given to that node's hostd as its wave.reboot-command (hostd
# runs it detached, so it outlives the hostd it stops). What a reboot
# means to a wave, done without rebooting this machine:
#   - hostd stops (SIGTERM, as systemd does at shutdown);
#   - the node's dockerd restarts (swarm.sh dockerd-restart I): its tasks
#     and its Swarm session go down and come back;
#   - /run of the node's sandbox root is emptied, as a tmpfs is by a boot
#     (reboot-required goes with it);
#   - the node gets a new boot ID in NODE_DIR/boot-id, the file its hostd
#     reads instead of /proc/sys/kernel/random/boot_id (wave.boot-id-file);
#   - hostd starts again through NODE_DIR/start-hostd.
# NODE_DIR/hostd.json names the sandbox root (patching.root); hostd's PID
# is in NODE_DIR/hostd.pid. HOSTD_SWARM_PREFIX and HOSTD_SWARM_DIR come
# from hostd's environment. Each reboot appends a line to NODE_DIR/reboots.
set -euo pipefail
dir=$1 node=$2
here=$(cd "$(dirname "$0")" && pwd)
exec >>"$dir/reboot-hook.log" 2>&1

echo "$(date +%s.%N) reboot of node $node"
# while it lasts, hostd is down on purpose (a fault test's supervisor
# leaves it be)
touch "$dir/rebooting"
pid=$(cat "$dir/hostd.pid")
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null || true
"$here/swarm.sh" dockerd-restart "$node" >/dev/null
root=$(jq -r .patching.root "$dir/hostd.json")
rm -rf "${root:?}/run" && mkdir -p "$root/run"
cat /proc/sys/kernel/random/uuid >"$dir/boot-id"
echo "$(date +%s.%N)" >>"$dir/reboots"
"$dir/start-hostd"
rm -f "$dir/rebooting"
echo "$(date +%s.%N) node $node is back"
