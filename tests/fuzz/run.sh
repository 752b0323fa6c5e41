#!/bin/sh
# Runs each libFuzzer harness on a scratch copy of its seed corpus
# (tests/fuzz/corpus/NAME, NAME from fuzz-NAME), so new inputs are not
# written into the source tree:
#   run.sh --seconds N FUZZER...   each for N seconds (the smoke run of make check)
#   run.sh --runs N FUZZER...      each for N executions (make fuzz)
# Any finding fails the run: a crash, undefined behaviour (the harnesses are
# built with -fno-sanitize-recover), a leak, an input over the memory limit or
# the time limit, or a fuzzer that exits non-zero for any other reason. The
# findings are kept in build/fuzz/findings/NAME/. Prints each fuzzer's executions.
set -u
runs=
case ${1:-} in
--seconds) limit="-max_total_time=$2" ;;
--runs) limit="-runs=$2" runs=$2 ;;
*)
        echo "usage: run.sh --seconds N | --runs N FUZZER..." >&2
        exit 2
        ;;
esac
shift 2
if [ $# = 0 ]; then
        echo "fuzz: no fuzzer to run" >&2
        exit 1
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
mkdir -p "$root/build/fuzz"
failed=""
printf '%-20s %14s %10s %8s  %s\n' fuzzer executions "exec/s" "rss MB" result
for bin in "$@"; do
        name=$(basename "$bin" | sed 's/^fuzz-//')
        work=$(mktemp -d)
        [ -d "$root/tests/fuzz/corpus/$name" ] && cp -r "$root/tests/fuzz/corpus/$name/." "$work/"
        dict=
        [ -f "$root/tests/fuzz/$name.dict" ] && dict="-dict=$root/tests/fuzz/$name.dict"
        log="$root/build/fuzz/$name.log"
        findings="$root/build/fuzz/findings/$name"
        rm -rf "$findings" && mkdir -p "$findings"
        rc=0
        # shellcheck disable=SC2086
        "$bin" $limit -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
                -error_exitcode=77 -timeout_exitcode=78 $dict \
                -artifact_prefix="$findings/" "$work" >"$log" 2>&1 || rc=$?
        rm -rf "$work"
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        persec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
        result=ok
        # A fuzzer that stops early (an input it will not go on after, a
        # failure in its own start) has not done the work asked of it.
        if [ -n "$runs" ] && [ "${execs:-0}" -lt "$runs" ]; then
                result="FAILED (stopped after ${execs:-0} of $runs)"
                failed="$failed $name"
        elif [ "$rc" != 0 ] || [ -n "$(ls -A "$findings")" ] ||
                grep -qE '^(==[0-9]+==ERROR|SUMMARY: )|runtime error:' "$log"; then
                result="FAILED (exit $rc)"
                failed="$failed $name"
        fi
        printf '%-20s %14s %10s %8s  %s\n' "$name" "${execs:-?}" "${persec:-?}" "${rss:-?}" "$result"
        if [ "$result" != ok ]; then
                grep -E -A12 '^==[0-9]+==|runtime error:|^SUMMARY|ERROR: libFuzzer' "$log" | head -40 >&2
                ls "$findings"/* 2>/dev/null >&2
                echo "(whole log: build/fuzz/$name.log)" >&2
        fi
done
if [ -n "$failed" ]; then
        echo "fuzz: findings in:$failed" >&2
        exit 1
fi
echo "fuzz: $# fuzzers, no finding"
