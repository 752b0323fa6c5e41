#!/bin/bash
# Coordination overhead of a patch wave, measured in one run on the real
# 4-node Swarm of the wave tests (tests/harness/wavecluster.sh: hostd on
# every node, a sandbox root each, one security update needing a reboot,
# reboots simulated by restarting the node's dockerd and hostd), a
# replicated service of 4 tasks, max-unavailable 1 (one node after another).
#
# The wave's wall time (hostctl wave start until the stored wave is done)
# minus what is not coordination, per node:
#   drain   Docker's time of the drain (node event, availability.new=drain,
#           on the managers) to Docker's time of the node's last task
#           container dying (container event on the node)
#   apply   the package transaction (its journal entry's started..finished)
#   reboot  the simulated reboot: stopping hostd, restarting dockerd until
#           the node is Ready in the Swarm again, starting hostd
#           (reboot-hook.log)
# leaves the coordination overhead: deciding, storing the wave in the Raft
# store, the node protocol calls, staging, hostd's start and health checks,
# activation; and the wave's waits for the Swarm to settle after a
# manager's reboot, shown apart. Drain detection is the delay between the last task dying (by
# Docker's event time) and the node's pre-reboot being answered yes, as the
# node's hostd logs it. Targets: under 2 s of overhead per node, under 1 s
# of drain detection.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
need_built
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-b}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/wave-bench}"
. "$HOSTD_SRC/tests/harness/wavecluster.sh" >/dev/null
"$SWARM" service-create web 4 --stop-signal KILL >/dev/null

# Docker's own clocks for the drains and the task deaths
for i in 1 2 3; do
        docker_on "$i" events --filter type=node \
                --format '{{.TimeNano}} {{.Actor.ID}} {{index .Actor.Attributes "availability.new"}}' >"$TMP/node-events$i" 2>/dev/null &
        on_exit "kill $! 2>/dev/null"
done
for i in $(seq $N); do
        docker_on "$i" events --filter type=container --filter event=die --filter label=com.docker.swarm.task.id \
                --format '{{.TimeNano}}' >"$TMP/task-deaths$i" 2>/dev/null &
        on_exit "kill $! 2>/dev/null"
done
sleep 0.5

plans_sent 1
t0=$(date +%s%N)
hctl 1 wave start --max-unavailable 1 --deadline 5m >/dev/null
wave_done() { [ "$(wave_json | jq -r .wave.status)" = done ]; }
wait_until 600 "the wave is done" wave_done
t1=$(date +%s%N)
sleep 0.5

wall_ms=$(( (t1 - t0) / 1000000 ))
sum_ms=0
rows=()
worst_detect=0
for i in $(seq $N); do
        id=$(var "$i" ID)
        name=$(var "$i" NAME)
        drained_ns=$(cat "$TMP"/node-events* | awk -v id="$id" '$2 == id && $3 == "drain" { print $1 }' | sort -n | head -1)
        [ -n "$drained_ns" ] || fail "no drain event seen for $name"
        reboot_start=$(awk '/reboot of node/ { print $1; exit }' "$TMP/n$i/reboot-hook.log")
        reboot_end=$(awk '/is back/ { print $1; exit }' "$TMP/n$i/reboot-hook.log")
        [ -n "$reboot_start" ] && [ -n "$reboot_end" ] || fail "no simulated reboot of $name"
        last_death_ns=$(awk -v from="$drained_ns" -v to="$(awk -v s="$reboot_start" 'BEGIN { printf "%.0f", s * 1e9 }')" \
                '$1 >= from && $1 <= to { print $1 }' "$TMP/task-deaths$i" | sort -n | tail -1)
        drain_ms=0
        [ -z "$last_death_ns" ] || drain_ms=$(( (last_death_ns - drained_ns) / 1000000 ))
        apply_ms=$("$HOSTCTL" --json patch history --root "$TMP/n$i/root" |
                jq '[.entries[] | select(.state == "applied")] | max_by(.started) | ((.finished - .started) / 1000 | floor)')
        reboot_ms=$(awk -v a="$reboot_start" -v b="$reboot_end" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
        detect_ms=$(sed -n 's/.*allowed to patch \([0-9]*\) ms after this node.s last task stopped.*/\1/p' "$TMP/hostd$i.log" | tail -1)
        [ -n "$detect_ms" ] || fail "$name did not log its drain detection"
        [ "$detect_ms" -le "$worst_detect" ] || worst_detect=$detect_ms
        sum_ms=$((sum_ms + drain_ms + apply_ms + reboot_ms))
        rows+=("$(printf '| %-10s | %8d | %8d | %8d | %18d |' "$name" "$drain_ms" "$apply_ms" "$reboot_ms" "$detect_ms")")
done
overhead_ms=$(( (wall_ms - sum_ms) / N ))
# of which the wave waited for the Swarm itself to settle after a manager's
# reboot (a guard: "node X is not ready", "manager X is not reachable"),
# from the coordinators' logs
settle_ms=$(cat "$TMP"/hostd*.log | sort -n | awk '
        / waits: .*(is not ready|is not reachable)/ { if (!since) since = $1 }
        / set to drain$/ { if (since) total += $1 - since; since = 0 }
        END { printf "%.0f", total * 1000 }')
net_ms=$(( (wall_ms - sum_ms - settle_ms) / N ))

echo "Patch wave over $N nodes (3 managers, 1 worker), max-unavailable 1, 4 replicas; times in ms"
echo
echo "| node       |    drain |    apply |   reboot | drain detection    |"
echo "|------------|----------|----------|----------|--------------------|"
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "wave wall time: $wall_ms ms; drain + apply + reboot: $sum_ms ms; waiting for the Swarm to settle after a manager's reboot: $settle_ms ms"
echo
echo "| measure                                       | hostd    | target   | ratio |"
echo "|-----------------------------------------------|----------|----------|-------|"
printf '| %-45s | %5d ms | %5d ms | %5.2f |\n' "coordination overhead per node" "$overhead_ms" 2000 \
        "$(awk -v a="$overhead_ms" 'BEGIN { print a / 2000 }')"
printf '| %-45s | %5d ms | %5d ms | %5.2f |\n' "  of which hostd's own (without the settling)" "$net_ms" 2000 \
        "$(awk -v a="$net_ms" 'BEGIN { print a / 2000 }')"
printf '| %-45s | %5d ms | %5d ms | %5.2f |\n' "drain detection (worst of $N nodes)" "$worst_detect" 1000 \
        "$(awk -v a="$worst_detect" 'BEGIN { print a / 1000 }')"
