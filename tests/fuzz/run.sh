#!/bin/sh
# Runs each libFuzzer harness for SECONDS on a scratch copy of its seed
# corpus (tests/fuzz/corpus/NAME, NAME from fuzz-NAME), so new inputs are not
# written into the source tree. Crashes are kept in build/fuzz/.
set -eu
seconds=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for bin in "$@"; do
        name=$(basename "$bin" | sed 's/^fuzz-//')
        work=$(mktemp -d)
        [ -d "$root/tests/fuzz/corpus/$name" ] && cp -r "$root/tests/fuzz/corpus/$name/." "$work/"
        echo "fuzz $name for ${seconds}s"
        dict=
        [ -f "$root/tests/fuzz/$name.dict" ] && dict="-dict=$root/tests/fuzz/$name.dict"
        "$bin" -max_total_time="$seconds" -print_final_stats=1 $dict \
                -artifact_prefix="$root/build/fuzz/$name-" "$work" 2>&1 |
                grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' || true
        rm -rf "$work"
        if ls "$root/build/fuzz/$name-"crash-* >/dev/null 2>&1; then
                echo "fuzz $name: crash found, see build/fuzz/" >&2
                exit 1
        fi
done
