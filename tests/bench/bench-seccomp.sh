#!/bin/bash
# Per-syscall cost of seccomp in real containers under dockerd and runc: a
# static getppid loop run unconfined, under Docker's built-in default
# profile, and under hostd's hardened profile (as the daemon-wide default,
# the way hostd installs it). Rounds alternate; medians and ratios printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
ROUNDS=${ROUNDS:-5}
CALLS=${CALLS:-2000000}
SWARM=tests/harness/swarm.sh
export HOSTD_SWARM_PREFIX=hostd-sb HOSTD_SWARM_DIR=/var/lib/hostd-test/bench-seccomp
TMP=$(mktemp -d)
cleanup() { "$SWARM" down >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT

gcc -O2 -static -o "$TMP/getppid-loop" tests/bench/getppid-loop.c
cp policy/profiles/hostd-hardened.json "$TMP/hostd-hardened.json"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 1 0 >/dev/null 2>&1
eval "$("$SWARM" env)"
docker1() { /usr/bin/docker -H "unix://$NODE1_SOCK" "$@"; }
loop() { docker1 run --rm -v "$TMP/getppid-loop:/loop:ro" "$@" "$SWARM_IMAGE" /loop "$CALLS"; }

for _ in $(seq 1 "$ROUNDS"); do
        loop --security-opt seccomp=unconfined >>"$TMP/none"
        loop >>"$TMP/docker"
        loop --security-opt seccomp="$TMP/hostd-hardened.json" >>"$TMP/hostd"
done
# and as the daemon-wide default, as hostd installs it
jq --arg p "$TMP/hostd-hardened.json" '. + {"seccomp-profile": $p}' "$NODE1_DATA_ROOT/../daemon.json" >"$TMP/daemon.json"
cp "$TMP/daemon.json" "$NODE1_DATA_ROOT/../daemon.json"
"$SWARM" dockerd-restart 1 >/dev/null 2>&1
docker1 info --format '{{json .SecurityOptions}}' | grep -q "profile=$TMP/hostd-hardened.json" ||
        { echo "bench: dockerd did not take the profile" >&2; exit 1; }
for _ in $(seq 1 "$ROUNDS"); do
        loop >>"$TMP/installed"
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
none=$(median <"$TMP/none"); docker=$(median <"$TMP/docker"); hostd=$(median <"$TMP/hostd")
installed=$(median <"$TMP/installed")
printf '\n%-52s %12s %10s\n' "getppid, ns per call (median of $ROUNDS x $CALLS calls)" "ns/call" "vs Docker"
printf '%-52s %12s %10s\n' "no filter (seccomp=unconfined)" "$none" "$(ratio "$none" "$docker")"
printf '%-52s %12s %10s\n' "Docker's built-in default profile" "$docker" "1.00"
printf '%-52s %12s %10s\n' "hostd-hardened, given per container" "$hostd" "$(ratio "$hostd" "$docker")"
printf '%-52s %12s %10s\n' "hostd-hardened as dockerd's default (run after)" "$installed" "$(ratio "$installed" "$docker")"
