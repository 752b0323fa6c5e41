#!/bin/bash
# Runs every integration test (tests/integration/test-*.sh) in order. They
# need root, network namespaces and a real dockerd; none of them skips: a
# missing precondition is a failure, said loudly.
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
export HOSTD_SRC="$PWD"

if [ "$(id -u)" != 0 ]; then
        echo "FAIL: integration tests need root (network namespaces, dockerd)" >&2
        exit 1
fi

failed=()
start=$(date +%s)
for t in tests/integration/test-*.sh; do
        [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $(basename "$t" .sh) "* ]] && continue
        echo "=== $t"
        t0=$(date +%s)
        if bash "$t"; then
                echo "PASS  $t ($(( $(date +%s) - t0 ))s)"
        else
                echo "FAIL  $t ($(( $(date +%s) - t0 ))s)"
                failed+=("$t")
        fi
done
echo "integration: $(( $(date +%s) - start ))s"
if [ ${#failed[@]} -gt 0 ]; then
        echo "integration tests failed: ${failed[*]}" >&2
        exit 1
fi
echo "all integration tests passed"
