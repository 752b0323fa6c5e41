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

# HOSTD_SANITIZED=1: hostd, hostctl and the test clients are ASan+UBSan
# builds; every report any of their processes writes fails the test
san_logs=""
if [ "${HOSTD_SANITIZED:-}" = 1 ]; then
        san_logs=$(mktemp -d /tmp/hostd-sanitizer.XXXXXX)
        export ASAN_OPTIONS="log_path=$san_logs/asan:detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
        export UBSAN_OPTIONS="log_path=$san_logs/ubsan:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
        export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
failed=()
ran=0
start=$(date +%s)
# each test's output is kept too: the reasons of the failures are told
# again at the end, where whoever reads only the tail of a run sees them
outputs=$(mktemp -d /tmp/hostd-integration.XXXXXX)
trap 'rm -rf "$outputs"' EXIT
for t in tests/integration/test-*.sh; do
        [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $(basename "$t" .sh) "* ]] && continue
        echo "=== $t"
        ran=$((ran + 1))
        t0=$(date +%s)
        rc=0
        # (a daemon a test leaves behind may hold its output open: the
        # output is followed until the test itself has ended, not to EOF)
        : >"$outputs/$(basename "$t" .sh).out" # there before tail opens it
        bash "$t" >"$outputs/$(basename "$t" .sh).out" 2>&1 </dev/null &
        pid=$!
        # a background job ignores SIGINT: an interrupted run ends the test
        # with SIGTERM, which runs its cleanup (lib.sh's EXIT trap)
        trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM
        tail -n +1 --pid="$pid" -f "$outputs/$(basename "$t" .sh).out"
        wait "$pid" || rc=$?
        trap - INT TERM
        if [ -n "$san_logs" ] && [ -n "$(ls -A "$san_logs")" ]; then
                echo "sanitizer reports during $t:" >&2
                for report in "$san_logs"/*; do
                        echo "--- $report" >&2
                        head -60 "$report" >&2
                done
                mkdir -p "$BUILD/sanitizer-reports/$(basename "$t" .sh)"
                mv "$san_logs"/* "$BUILD/sanitizer-reports/$(basename "$t" .sh)/"
                rc=1
        fi
        if [ "$rc" = 0 ]; then
                echo "PASS  $t ($(( $(date +%s) - t0 ))s)"
        else
                echo "FAIL  $t ($(( $(date +%s) - t0 ))s)"
                failed+=("$t")
        fi
done
echo "integration: $ran tests, $(( $(date +%s) - start ))s"
if [ "$ran" = 0 ]; then
        echo "integration: no test matched${TESTS:+ TESTS=$TESTS}" >&2
        exit 1
fi
for name in ${TESTS:-}; do
        if [ ! -f "tests/integration/$name.sh" ]; then
                echo "integration: TESTS names $name, which is no test" >&2
                exit 1
        fi
done
if [ ${#failed[@]} -gt 0 ]; then
        for t in "${failed[@]}"; do
                out="$outputs/$(basename "$t" .sh).out"
                echo "--- why $t failed:" >&2
                if grep -q '^FAIL' "$out"; then
                        grep '^FAIL' "$out" | head -5 >&2
                else
                        echo "(it said no FAIL line; its last lines:)" >&2
                        tail -n 5 "$out" >&2
                fi
        done
        echo "integration tests failed: ${failed[*]}" >&2
        exit 1
fi
echo "all $ran integration tests passed"
