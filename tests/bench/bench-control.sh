#!/bin/bash
# Control API cost: hostd's GET /v1/status against dockerd's GET /_ping on
# the same machine, both HTTP/1.1 over a unix socket, 2000 requests on one
# kept-alive connection per round, rounds alternated, medians reported; and
# the resident memory of each daemon afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
SWARM=tests/harness/swarm.sh
export HOSTD_SWARM_PREFIX=hostd-b HOSTD_SWARM_DIR=/var/lib/hostd-test/bench-control
REQUESTS=${REQUESTS:-2000}
ROUNDS=${ROUNDS:-5}
TMP=$(mktemp -d)
hostd_pid=""
cleanup() {
        [ -n "$hostd_pid" ] && kill "$hostd_pid" 2>/dev/null && wait "$hostd_pid" 2>/dev/null
        "$SWARM" down >/dev/null 2>&1 || true
        rm -rf "$TMP"
}
trap cleanup EXIT

"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 1 0 >/dev/null 2>&1
eval "$("$SWARM" env)"
echo '{}' >"$TMP/hostd.json"
DOCKER_HOST="unix://$NODE1_SOCK" nsenter --net="$NODE1_NETNS" "$BUILD/hostd" --log-target=stderr \
        --config "$TMP/hostd.json" --socket "$TMP/hostd.sock" 2>"$TMP/hostd.log" &
hostd_pid=$!
for _ in $(seq 1 100); do
        [ "$("$BUILD/hostctl" --socket "$TMP/hostd.sock" --json status 2>/dev/null | jq -r '.docker.reachable')" = true ] && break
        sleep 0.1
done

# one curl process, REQUESTS URLs: one connection, kept alive
urls() { for _ in $(seq 1 "$REQUESTS"); do printf 'url = "http://x%s"\noutput = "/dev/null"\n' "$1"; done; }
urls /v1/status >"$TMP/hostd.urls"
urls /_ping >"$TMP/docker.urls"
run_ms() { # SOCKET URLFILE
        local t0 t1
        t0=$(date +%s%N)
        curl -s --unix-socket "$1" -K "$2"
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for _ in $(seq 1 "$ROUNDS"); do
        run_ms "$TMP/hostd.sock" "$TMP/hostd.urls" >>"$TMP/hostd.ms"
        run_ms "$NODE1_SOCK" "$TMP/docker.urls" >>"$TMP/docker.ms"
done
h=$(median <"$TMP/hostd.ms")
d=$(median <"$TMP/docker.ms")
dockerd_pid=$(cat "$NODE1_PIDFILE")
h_rss=$(awk '/VmRSS/ {print $2}' "/proc/$hostd_pid/status")
d_rss=$(awk '/VmRSS/ {print $2}' "/proc/$dockerd_pid/status")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
printf '\n%-52s %12s %12s %8s\n' "measure (median of $ROUNDS rounds)" "hostd" "dockerd" "ratio"
printf '%-52s %12s %12s %8s\n' "$REQUESTS status requests, one connection (ms)" "$h" "$d" "$(ratio "$h" "$d")"
printf '%-52s %12s %12s %8s\n' "requests per second" "$((REQUESTS * 1000 / (h > 0 ? h : 1)))" \
        "$((REQUESTS * 1000 / (d > 0 ? d : 1)))" "$(ratio "$((REQUESTS * 1000 / (h > 0 ? h : 1)))" "$((REQUESTS * 1000 / (d > 0 ? d : 1)))")"
printf '%-52s %12s %12s %8s\n' "resident memory after the rounds (KiB)" "$h_rss" "$d_rss" "$(ratio "$h_rss" "$d_rss")"
echo "(hostd: GET /v1/status; dockerd: GET /_ping, its cheapest endpoint)"
