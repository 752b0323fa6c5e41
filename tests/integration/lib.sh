# Shared helpers for the integration tests (sourced, bash).
set -euo pipefail

BUILD="${BUILD:-build}"
HOSTD_SRC="${HOSTD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HOSTD="$HOSTD_SRC/$BUILD/hostd"
HOSTCTL="$HOSTD_SRC/$BUILD/hostctl"
DOCKER=/usr/bin/docker
TEST_NAME="$(basename "$0" .sh)"
TMP="$(mktemp -d "/tmp/hostd-$TEST_NAME.XXXXXX")"
CHECKS=0
CLEANUPS=()

cleanup_all() {
        local rc=$?
        set +e
        if [ $rc != 0 ]; then
                # what the daemons said, for whoever reads the failure
                for log in "$TMP"/*.log; do
                        [ -s "$log" ] || continue
                        echo "--- last lines of $(basename "$log")" >&2
                        tail -n 25 "$log" >&2
                done
        fi
        for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}"; done
        # HOSTD_TEST_KEEP=1 keeps the logs and files of a run
        if [ "${HOSTD_TEST_KEEP:-}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
        exit $rc
}
trap cleanup_all EXIT
trap '[[ $- == *e* ]] && echo "FAIL: line $LINENO: command failed: $BASH_COMMAND" >&2' ERR
on_exit() { CLEANUPS+=("$*"); }

fail() {
        echo "FAIL: $*" >&2
        exit 1
}
ok() {
        CHECKS=$((CHECKS + 1))
        echo "ok   $*"
}
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
        [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
        ok "$3"
}
# expect_contains HAYSTACK NEEDLE WHAT
expect_contains() {
        [[ "$1" == *"$2"* ]] || fail "$3: '$2' not found in: $1"
        ok "$3"
}

# wait_until SECONDS DESCRIPTION COMMAND...: retries COMMAND every 0.1 s up
# to the bound; fails with the description when it never succeeds.
wait_until() {
        local bound=$1 what=$2
        shift 2
        local deadline=$(($(date +%s%N) + bound * 1000000000))
        until "$@" >/dev/null 2>&1; do
                [ "$(date +%s%N)" -lt "$deadline" ] || fail "timed out after ${bound}s waiting for: $what"
                sleep 0.1
        done
}

need_built() {
        [ -x "$HOSTD" ] && [ -x "$HOSTCTL" ] || fail "hostd/hostctl not built in $BUILD (run make)"
}

# start_hostd NAME [NETNS] [hostd args...]: starts hostd in the background
# (inside a network namespace when given), logging to $TMP/NAME.log; sets
# HOSTD_PID_<NAME>. Stopped at exit.
start_hostd() {
        local name=$1 netns=$2
        shift 2
        local prefix=()
        [ -n "$netns" ] && prefix=(nsenter "--net=$netns")
        "${prefix[@]}" "$HOSTD" --log-target=stderr "$@" >"$TMP/$name.log" 2>&1 &
        local pid=$!
        eval "HOSTD_PID_$name=$pid"
        on_exit "kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null"
}

# hostd_json SOCKET JQ_FILTER: one field of `hostctl status --json`.
status_field() {
        "$HOSTCTL" --socket "$1" --json status | jq -r "$2"
}
