#!/bin/bash
# Seccomp, measured in one run:
# 1. Per-syscall cost in real containers under dockerd and runc: a static
#    getppid loop run unconfined, under Docker's built-in default profile,
#    and under hostd's hardened profile (per container; then, once hostd
#    installed it as the daemon-wide default, against Docker's default
#    profile given per container). Rounds alternate.
# 2. Time to validate and compile Docker's default profile: hostd in process
#    (tests/bench/seccomp-compile.c), with its own BPF generator and with
#    libseccomp, against what runc spends on the same
#    profile when it starts a container (runc run of one bundle with and
#    without the linux.seccomp section dockerd generated, the difference of
#    the medians).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
ROUNDS=${ROUNDS:-7}
CALLS=${CALLS:-2000000}
SWARM=tests/harness/swarm.sh
export HOSTD_SWARM_PREFIX=hostd-sb HOSTD_SWARM_DIR=/var/lib/hostd-test/bench-seccomp
RUNC_RUNS=${RUNC_RUNS:-21}
TMP=$(mktemp -d)
HOSTD_PID=
cleanup() {
        [ -n "$HOSTD_PID" ] && kill "$HOSTD_PID" 2>/dev/null && wait "$HOSTD_PID" 2>/dev/null
        "$SWARM" down >/dev/null 2>&1 || true
        rm -rf "$TMP"
}
trap cleanup EXIT

gcc -O2 -static -o "$TMP/getppid-loop" tests/bench/getppid-loop.c
cp policy/profiles/hostd-hardened.json "$TMP/hostd-hardened.json"
UPSTREAM="$BUILD/upstream"
tests/harness/upstream-profiles.sh "$UPSTREAM"
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
# runc's own cost for Docker's default profile: the OCI config dockerd
# wrote for a running container, run by runc with and without its seccomp
docker1 run -d --name cfgsrc "$SWARM_IMAGE" sleep 100000 >/dev/null
id=$(docker1 inspect cfgsrc --format '{{.Id}}')
oci=$(ls "$HOSTD_SWARM_DIR"/node1/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/"$id"/config.json)
mkdir -p "$TMP/bundle/rootfs"
cp /bin/busybox "$TMP/bundle/rootfs/busybox"
(cd "$TMP/bundle" && runc spec && jq '.process.args = ["/busybox", "true"] | .process.terminal = false' config.json >none.json)
jq --slurpfile s <(jq .linux.seccomp "$oci") '.linux.seccomp = $s[0]' "$TMP/bundle/none.json" >"$TMP/bundle/seccomp.json"
docker1 rm -f cfgsrc >/dev/null
runc_once() { # CONFIG: microseconds for one runc run
        cp "$TMP/bundle/$1.json" "$TMP/bundle/config.json"
        local s e
        s=$(date +%s%N)
        runc run --bundle "$TMP/bundle" hostd-bench-runc >/dev/null
        e=$(date +%s%N)
        echo $(((e - s) / 1000))
}
runc_once none >/dev/null
for _ in $(seq 1 "$RUNC_RUNS"); do
        runc_once none >>"$TMP/runc-none"
        runc_once seccomp >>"$TMP/runc-seccomp"
done
"$BUILD/bench/seccomp-compile" "$UPSTREAM/docker-default.json" 200 >"$TMP/hostd-compile"

# the hardened profile as the daemon-wide default, installed by hostd
printf '{"state-directory": "%s", "seccomp": {"installed-profile": "%s", "daemon-json": "%s"}}\n' \
        "$TMP/state" "$TMP/etc-docker/hostd-hardened.json" "$NODE1_DATA_ROOT/../daemon.json" >"$TMP/hostd.json"
DOCKER_HOST="unix://$NODE1_SOCK" nsenter --net="$NODE1_NETNS" "$BUILD/hostd" --config "$TMP/hostd.json" \
        --socket "$TMP/hostd.sock" --log-target=stderr 2>"$TMP/hostd.log" &
HOSTD_PID=$!
for _ in $(seq 1 50); do [ -S "$TMP/hostd.sock" ] && break; sleep 0.1; done
"$BUILD/hostctl" --socket "$TMP/hostd.sock" seccomp install policy/profiles/hostd-hardened.json >/dev/null
"$SWARM" dockerd-restart 1 >/dev/null 2>&1
docker1 info --format '{{json .SecurityOptions}}' | grep -q "profile=$TMP/etc-docker/hostd-hardened.json" ||
        { echo "bench: dockerd did not take the profile" >&2; exit 1; }
# alternated with Docker's default profile given per container, which
# dockerd's built-in default no longer is
cp "$UPSTREAM/docker-default.json" "$TMP/docker-default.json"
for _ in $(seq 1 "$ROUNDS"); do
        loop >>"$TMP/installed"
        loop --security-opt seccomp="$TMP/docker-default.json" >>"$TMP/docker-after"
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
none=$(median <"$TMP/none"); docker=$(median <"$TMP/docker"); hostd=$(median <"$TMP/hostd")
installed=$(median <"$TMP/installed"); docker_after=$(median <"$TMP/docker-after")
printf '\n%-52s %12s %10s\n' "getppid, ns per call (median of $ROUNDS x $CALLS calls)" "ns/call" "vs Docker"
printf '%-52s %12s %10s\n' "no filter (seccomp=unconfined)" "$none" "$(ratio "$none" "$docker")"
printf '%-52s %12s %10s\n' "Docker's built-in default profile" "$docker" "1.00"
printf '%-52s %12s %10s\n' "hostd-hardened, given per container" "$hostd" "$(ratio "$hostd" "$docker")"
printf '%-52s %12s %10s\n' "after hostd installed hostd-hardened as the default:" "" ""
printf '%-52s %12s %10s\n' "  Docker's default profile, given per container" "$docker_after" "1.00"
printf '%-52s %12s %10s\n' "  hostd-hardened, dockerd's default" "$installed" "$(ratio "$installed" "$docker_after")"

read -r parse compile libseccomp verify <"$TMP/hostd-compile"
runc_none=$(median <"$TMP/runc-none"); runc_seccomp=$(median <"$TMP/runc-seccomp")
runc_cost=$((runc_seccomp - runc_none))
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
printf '\n%-62s %8s %8s\n' "Docker's default profile (amd64 + x86 + x32), ms" "ms" "vs runc"
printf '%-62s %8s %8s\n' "hostd: parse and validate" "$(ms "$parse")" "$(ratio "$parse" "$runc_cost")"
printf '%-62s %8s %8s\n' "hostd: validate and compile (hostd's BPF generator)" "$(ms "$compile")" "$(ratio "$compile" "$runc_cost")"
printf '%-62s %8s %8s\n' "hostd: validate and compile with libseccomp, as runc does" "$(ms "$libseccomp")" "$(ratio "$libseccomp" "$runc_cost")"
printf '%-62s %8s %8s\n' "hostd: install check (2 capability sets, loaded in children)" "$(ms "$verify")" "$(ratio "$verify" "$runc_cost")"
printf '%-62s %8s %8s\n' "runc: run with its seccomp minus without (median of $RUNC_RUNS)" "$(ms "$runc_cost")" "1.00"
printf '%s\n' "(target: validate and compile under 5 ms)"
