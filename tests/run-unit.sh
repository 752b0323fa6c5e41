#!/bin/sh
# Runs the cmocka unit test binaries given as arguments; prints one line per
# binary and fails if any failed.
set -u
# leaks inside libseccomp, which test-seccomp-bpf compares against
LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
if [ $# = 0 ]; then
        echo "unit tests: no test program to run" >&2
        exit 1
fi
failed=""
for t in "$@"; do
        if out=$("$t" 2>&1); then
                printf 'PASS  %s\n' "$t"
        else
                printf 'FAIL  %s\n%s\n' "$t" "$out"
                failed="$failed $t"
        fi
done
if [ -n "$failed" ]; then
        echo "unit tests failed:$failed" >&2
        exit 1
fi
echo "all $# unit test programs passed"
