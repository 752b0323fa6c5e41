#!/bin/bash
# Full posture on a node with 50 running containers: hostd's GET
# /v1/posture (every check: the firewall table and the kernel's listening
# sockets crossed with it, Docker's settings, each container's seccomp
# state, patches, hostd itself), against docker-bench-security 1.6.0 (the
# CIS Docker Benchmark script, tests/bench/docker-bench-security) on the
# same dockerd and the same containers. Target: under 200 ms, and at least
# 20x faster than docker-bench-security.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
need_built
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-b}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/bench-posture}"
CONTAINERS=${CONTAINERS:-50}
ROUNDS=${ROUNDS:-21}
PEER_ROUNDS=${PEER_ROUNDS:-3}

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 1 0 >/dev/null 2>&1
eval "$("$SWARM" env)"
export DOCKER_HOST="unix://$NODE1_SOCK"
for i in $(seq 1 "$CONTAINERS"); do
        "$DOCKER" run -d --name "c$i" "$SWARM_IMAGE" sleep 1000000 >/dev/null
done
[ "$("$DOCKER" ps -q | wc -l)" = "$CONTAINERS" ] || fail "not $CONTAINERS containers running"

printf '{"state-directory": "%s"}\n' "$TMP/state" >"$TMP/hostd.json"
start_hostd n1 "$NODE1_NETNS" --config "$TMP/hostd.json" --socket "$TMP/h.sock"
wait_until 30 "hostd has audited the $CONTAINERS containers" bash -c \
        "[ \"\$('$HOSTCTL' --socket '$TMP/h.sock' --json seccomp audit | jq '.containers | length')\" = $CONTAINERS ]"
report=$("$HOSTCTL" --socket "$TMP/h.sock" --json posture || true)
checks=$(jq '.checks | length' <<<"$report")
[ "$checks" -gt 15 ] || fail "the posture has only $checks checks"

posture_ms() {
        local t0 t1
        t0=$(date +%s%N)
        curl -sf --unix-socket "$TMP/h.sock" -o /dev/null http://hostd/v1/posture
        t1=$(date +%s%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# docker-bench-security, from a scratch copy (it writes log/ where it runs)
cp -r "$HOSTD_SRC/tests/bench/docker-bench-security" "$TMP/dbs"
peer_ms() {
        local t0 t1
        t0=$(date +%s%N)
        (cd "$TMP/dbs" && bash docker-bench-security.sh -b -l "$TMP/dbs.log" >"$TMP/dbs.out" 2>&1)
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
}

# alternated: ROUNDS postures per docker-bench-security run
for r in $(seq 1 "$PEER_ROUNDS"); do
        for _ in $(seq 1 $((ROUNDS / PEER_ROUNDS + 1))); do posture_ms >>"$TMP/hostd.ms"; done
        peer_ms >>"$TMP/peer.ms"
done
grep -q "Checks: " "$TMP/dbs.out" || fail "docker-bench-security did not finish: $(tail -3 "$TMP/dbs.out")"
peer_checks=$(grep -o 'Checks: [0-9]*' "$TMP/dbs.out" | tail -1 | awk '{print $2}')
h=$(median <"$TMP/hostd.ms")
p=$(median <"$TMP/peer.ms")
h_rss=$(awk '/VmRSS/ {print $2}' "/proc/$(pgrep -f "hostd .*--socket $TMP/h.sock" | head -1)/status")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.1f", a / b }'; }
printf '\n%s containers running; medians of %s hostd and %s docker-bench-security runs, alternated\n' \
        "$CONTAINERS" "$(wc -l <"$TMP/hostd.ms")" "$PEER_ROUNDS"
printf '%-44s %12s %14s %10s %10s\n' "measure" "hostd" "dbs 1.6.0" "speed-up" "target"
printf '%-44s %12s %14s %10s %10s\n' "full posture, wall time (ms)" "$h" "$p" "$(ratio "$p" "$h")x" "<200, >=20x"
printf '%-44s %12s %14s\n' "checks reported" "$checks" "$peer_checks"
printf '%-44s %12s\n' "hostd resident memory afterwards (KiB)" "$h_rss"
awk -v h="$h" 'BEGIN { exit !(h < 200) }' || echo "target missed: posture takes $h ms"
awk -v h="$h" -v p="$p" 'BEGIN { exit !(p >= 20 * h) }' || echo "target missed: less than 20x faster"
