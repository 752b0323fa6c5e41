#!/bin/bash
# Patch planning on a realistic host, measured in one run: a debootstrapped
# Debian 12 root with docker.io installed and the full bookworm,
# bookworm-updates and bookworm-security package lists, planned by hostd
# (hostctl patch plan --root: the worker process, libapt-pkg through the
# shim, the policy, the first-seen record) against `apt-get -s upgrade` on
# the same root. Rounds alternate; wall time and peak memory (the largest
# process, the worker included) from GNU time.
#
# The root is built once (a few minutes, from Debian's archive) and kept in
# $BENCH_ROOT for later runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
ROUNDS=${ROUNDS:-7}
BENCH_ROOT=${BENCH_ROOT:-/var/cache/hostd-bench/bookworm-docker}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ ! -e "$BENCH_ROOT/.complete" ]; then
        echo "bench-patch: building $BENCH_ROOT (debootstrap, docker.io, package lists)" >&2
        rm -rf "$BENCH_ROOT"
        mkdir -p "$BENCH_ROOT"
        debootstrap --variant=minbase bookworm "$BENCH_ROOT" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 ||
                { tail -20 "$TMP/debootstrap.log" >&2; exit 1; }
        cat >"$BENCH_ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
        # no services start inside the root
        printf '#!/bin/sh\nexit 101\n' >"$BENCH_ROOT/usr/sbin/policy-rc.d"
        chmod 755 "$BENCH_ROOT/usr/sbin/policy-rc.d"
        chroot "$BENCH_ROOT" apt-get update -q >"$TMP/update.log" 2>&1 || { cat "$TMP/update.log" >&2; exit 1; }
        DEBIAN_FRONTEND=noninteractive chroot "$BENCH_ROOT" apt-get install -y -q --no-install-recommends docker.io \
                >"$TMP/install.log" 2>&1 || { tail -20 "$TMP/install.log" >&2; exit 1; }
        chroot "$BENCH_ROOT" apt-get clean
        touch "$BENCH_ROOT/.complete"
fi
apt_args=(-o "Dir=$BENCH_ROOT/" -o "Dir::State::status=$BENCH_ROOT/var/lib/dpkg/status" -o Debug::NoLocking=1)
installed=$(grep -c '^Status: install ok installed' "$BENCH_ROOT/var/lib/dpkg/status")
lists=$(du -sm "$BENCH_ROOT/var/lib/apt/lists" | cut -f1)
# both read the same binary cache: build it once, outside the rounds
apt-get "${apt_args[@]}" -s upgrade >"$TMP/apt.out"
"$BUILD/hostctl" --json patch plan --root "$BENCH_ROOT" --state-dir "$TMP/state" --min-age 0 >"$TMP/hostd.json"

timed() { /usr/bin/time -f '%e %M' -a -o "$1" "${@:2}" >/dev/null 2>&1; }
for _ in $(seq 1 "$ROUNDS"); do
        timed "$TMP/hostd" "$BUILD/hostctl" --json patch plan --root "$BENCH_ROOT" --state-dir "$TMP/state"
        timed "$TMP/apt" apt-get "${apt_args[@]}" -s upgrade
done

upgrades_apt=$(grep -c '^Inst ' "$TMP/apt.out" || true)
upgrades_hostd=$(jq '.packages | length' "$TMP/hostd.json")
security=$(jq '.security' "$TMP/hostd.json")
median() { awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
h_wall=$(median "$TMP/hostd" 1); a_wall=$(median "$TMP/apt" 1)
h_rss=$(median "$TMP/hostd" 2); a_rss=$(median "$TMP/apt" 2)
printf '\nDebian 12 root with docker.io: %s packages installed, %s MiB of package lists\n' "$installed" "$lists"
printf 'upgrades found: hostd %s (%s security), apt-get -s upgrade %s\n' "$upgrades_hostd" "$security" "$upgrades_apt"
printf '\n%-44s %10s %14s %8s\n' "plan (median of $ROUNDS, alternating)" "wall s" "peak RSS MiB" "vs apt"
printf '%-44s %10s %14s %8s\n' "hostctl patch plan --root (worker, shim)" "$h_wall" "$((h_rss / 1024))" "$(ratio "$h_wall" "$a_wall")"
printf '%-44s %10s %14s %8s\n' "apt-get -s upgrade" "$a_wall" "$((a_rss / 1024))" "1.00"
printf '%-44s %10s %14s %8s\n' "peak RSS, hostd vs apt-get" "" "" "$(ratio "$h_rss" "$a_rss")"
[ "$upgrades_hostd" = "$upgrades_apt" ] ||
        echo "(hostd plans as apt upgrade does: new packages an upgrade needs are included; apt-get upgrade holds those back)"
