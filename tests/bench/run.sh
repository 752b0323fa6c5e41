#!/bin/bash
# make bench: runs every tests/bench/bench-*.sh; each prints its own table
# with ratios against the peer it names, all measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export BUILD="${BUILD:-build}"
[ "$(id -u)" = 0 ] || { echo "bench: needs root (namespaces, dockerd)" >&2; exit 1; }
rc=0
for b in tests/bench/bench-*.sh; do
        echo "=== $b"
        bash "$b" || rc=1
done
exit $rc
