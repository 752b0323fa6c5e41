#!/bin/bash
# Runtime seccomp enforcement against a real dockerd: every container start
# (including a Swarm task started by the executor) is checked in the kernel
# (/proc/PID/status Seccomp: 2); a container started seccomp=unconfined or
# privileged is reported within a second, and stopped when the policy says
# "stop"; a restarted hostd finds the ones already running.
. "$(dirname "$0")/lib.sh"
need_built
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-s}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm-sctest}"

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 1 0
eval "$("$SWARM" env)"
docker1() { "$DOCKER" -H "unix://$NODE1_SOCK" "$@"; }

SOCK="$TMP/hostd.sock"
CONF="$TMP/hostd.json"
PROFILE="$TMP/etc-docker/seccomp/hostd-hardened.json"
write_conf() {
        printf '{"state-directory": "%s", "seccomp": {"enforcement": "%s", "installed-profile": "%s", "daemon-json": "%s", "baseline-profile": "%s"}}\n' \
                "$TMP/state" "$1" "$PROFILE" "$NODE1_DATA_ROOT/../daemon.json" "$HOSTD_SRC/policy/profiles/docker-default.json" >"$CONF"
}
audit() { "$HOSTCTL" --socket "$SOCK" --json seccomp audit || true; }
finding() { # NAME FIELD
        audit | jq -r --arg n "$1" --arg f "$2" '.containers[] | select(.name == $n) | .[$f]'
}

# a container running before hostd starts: found by the startup scan
docker1 run -d --name early-unconfined --security-opt seccomp=unconfined "$SWARM_IMAGE" sleep 1000000 >/dev/null
on_exit "'$DOCKER' -H 'unix://$NODE1_SOCK' rm -f early-unconfined confined unconfined privileged stopped-by-hostd >/dev/null 2>&1"

write_conf report
DOCKER_HOST="unix://$NODE1_SOCK" start_hostd sc "$NODE1_NETNS" --config "$CONF" --socket "$SOCK"
wait_until 10 "startup scan finds the early container" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r '.containers[] | select(.name == \"early-unconfined\") | .compliant')\" = false ]"
ok "a container started unconfined before hostd is found at startup"

docker1 run -d --name confined "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 5 "confined container assessed" bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r '.containers[] | select(.name == \"confined\") | .compliant')\" = true ]"
expect_eq "$(finding confined seccomp_mode)" 2 "a default container runs with Seccomp: 2 in the kernel"
pid=$(docker1 inspect confined --format '{{.State.Pid}}')
expect_eq "$(awk '/^Seccomp:/ {print $2}' "/proc/$pid/status")" 2 "/proc agrees"

# reported within a second of starting
docker1 run -d --name unconfined --security-opt seccomp=unconfined "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 1 "unconfined container reported within a second" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r '.containers[] | select(.name == \"unconfined\") | .compliant')\" = false ]"
ok "seccomp=unconfined reported within a second"
expect_contains "$(finding unconfined problem)" "Seccomp: 0" "the finding shows the kernel's view"
# sandbox-runc: privileged on machines missing a capability (tests/harness)
docker1 run -d --name privileged --privileged --runtime sandbox-runc "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 1 "privileged container reported within a second" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r '.containers[] | select(.name == \"privileged\") | .compliant')\" = false ]"
expect_contains "$(finding privileged problem)" "privileged" "privileged reported as such"
grep -q "Container unconfined .* runs without a seccomp filter" "$TMP/sc.log" || fail "no change record for the unconfined container"
ok "a change record names the container"

# filters judged by what they allow: a profile of its own that allows by
# default (one harmless syscall denied) runs under a filter (Seccomp: 2) yet
# is in effect unconfined; one that allows what Docker's default denies
printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpgid"], "action": "SCMP_ACT_ERRNO"}]}\n' >"$TMP/allow-all.json"
docker1 run -d --name allow-all --security-opt "seccomp=$TMP/allow-all.json" "$SWARM_IMAGE" sleep 1000000 >/dev/null
on_exit "'$DOCKER' -H 'unix://$NODE1_SOCK' rm -f allow-all extra-syscalls >/dev/null 2>&1"
wait_until 5 "the allow-all container assessed" \
        bash -c "[ -n \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r '.containers[] | select(.name == \"allow-all\") | .problem // empty')\" ]"
expect_eq "$(finding allow-all seccomp_mode)" 2 "a container with a profile that allows by default has a filter in the kernel"
expect_eq "$(finding allow-all compliant)" false "yet it is not compliant"
expect_contains "$(finding allow-all problem)" "allows every syscall it does not name (defaultAction SCMP_ACT_ALLOW)" \
        "saying its profile allows by default"
jq '.syscalls += [{"names": ["kexec_load", "add_key"], "action": "SCMP_ACT_ALLOW"}]' \
        "$HOSTD_SRC/policy/profiles/docker-default.json" >"$TMP/extra.json"
docker1 run -d --name extra-syscalls --security-opt "seccomp=$TMP/extra.json" "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 5 "the extra-syscalls container assessed" \
        bash -c "[ -n \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r '.containers[] | select(.name == \"extra-syscalls\") | .problem // empty')\" ]"
expect_eq "$(finding extra-syscalls problem)" \
        "its seccomp profile allows 2 syscalls Docker's default profile denies: add_key, kexec_load" \
        "a profile allowing what Docker's default denies is a finding naming the syscalls"
docker1 rm -f allow-all extra-syscalls >/dev/null

# a Swarm task, started by the executor rather than through the API
docker1 service create --detach --name sc-task --no-resolve-image "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 30 "Swarm task assessed" bash -c "'$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -e '.containers[] | select(.name | startswith(\"sc-task.\")) | select(.compliant)' >/dev/null"
ok "a Swarm task is checked too, and runs under a filter"

set +e
table=$("$HOSTCTL" --socket "$SOCK" seccomp audit)
rc=$?
set -e
expect_eq "$rc" 1 "hostctl seccomp audit exits 1 when a container is not confined"
expect_contains "$table" "SOME NOT CONFINED" "the table says so"
expect_contains "$table" "started privileged" "and lists the privileged one"

# the posture says the same, with Docker's own settings read from the running daemon
posture=$("$HOSTCTL" --socket "$SOCK" --json posture || true)
pcheck() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .'"$2" <<<"$posture"; }
expect_eq "$(pcheck seccomp.containers status)" fail "posture: seccomp.containers fails"
expect_contains "$(pcheck seccomp.containers evidence)" "unconfined: seccomp=unconfined" "naming the unconfined container"
expect_eq "$(pcheck containers.privileged status)" fail "posture: containers.privileged fails"
expect_contains "$(pcheck containers.privileged evidence)" "privileged: privileged" "naming the privileged one"
expect_eq "$(pcheck docker.live-restore status)" not-applicable "live-restore is not applicable on a Swarm node"
expect_contains "$(pcheck docker.log-driver evidence)" "LoggingDriver is json-file" "the log driver read from the running daemon"
expect_eq "$(pcheck docker.tcp-socket status)" pass "dockerd serves no TCP API"

# gone containers leave the report
docker1 rm -f privileged >/dev/null
wait_until 5 "removed container leaves the report" bash -c "! '$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -e '.containers[] | select(.name == \"privileged\")' >/dev/null"
ok "a removed container leaves the report"

# enforcement "stop"
write_conf stop
"$HOSTCTL" --socket "$SOCK" reload >/dev/null
docker1 run -d --name stopped-by-hostd --security-opt seccomp=unconfined "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 20 "hostd stops the unconfined container" \
        bash -c "[ \"\$('$DOCKER' -H 'unix://$NODE1_SOCK' inspect stopped-by-hostd --format '{{.State.Running}}')\" = false ]"
ok "with enforcement \"stop\" an unconfined container is stopped"
grep -q "Stopping container stopped-by-hostd" "$TMP/sc.log" || fail "no change record for the stop"
ok "the stop is a change record"
docker1 inspect confined --format '{{.State.Running}}' | grep -q true || fail "a confined container was stopped"
ok "confined containers are left alone"

# --- dockerd's own default profile must be hostd's ---
expect_eq "$(audit | jq -r .daemon_profile)" default "dockerd reports Docker's built-in default profile"
expect_eq "$(audit | jq -r .daemon_profile_is_ours)" false "which the audit says is not hostd's"
docker1 service rm sc-task >/dev/null
docker1 rm -f early-unconfined unconfined stopped-by-hostd >/dev/null
set +e
"$HOSTCTL" --socket "$SOCK" seccomp audit >/dev/null
rc=$?
set -e
expect_eq "$rc" 1 "audit fails while dockerd's default is not hostd's profile"
# hostctl seccomp install: a broken profile is refused and changes nothing
DAEMON_JSON="$NODE1_DATA_ROOT/../daemon.json"
cp "$DAEMON_JSON" "$TMP/daemon.json.before"
printf '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALOW"}]}\n' >"$TMP/broken.json"
set +e
out=$("$HOSTCTL" --socket "$SOCK" seccomp install "$TMP/broken.json" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "install refuses a broken profile"
expect_contains "$out" "broken.json:1:80: syscalls[0].action: unknown action \"SCMP_ACT_ALOW\"" "with the located error"
cmp -s "$DAEMON_JSON" "$TMP/daemon.json.before" || fail "daemon.json changed by a refused install"
[ ! -e "$PROFILE" ] || fail "a refused install wrote the profile"
ok "and changes nothing"

out=$("$HOSTCTL" --socket "$SOCK" seccomp install "$HOSTD_SRC/policy/profiles/hostd-hardened.json")
expect_contains "$out" "installed as $PROFILE" "install writes the profile where dockerd reads it"
expect_contains "$out" "only while this node is drained" "and says the restart waits for a drain"
cmp -s "$PROFILE" "$HOSTD_SRC/policy/profiles/hostd-hardened.json" || fail "installed profile differs"
expect_eq "$(jq -r '."seccomp-profile"' "$DAEMON_JSON")" "$PROFILE" "daemon.json names it"
expect_eq "$(jq -S 'del(."seccomp-profile")' "$DAEMON_JSON")" "$(jq -S . "$TMP/daemon.json.before")" \
        "every other daemon.json key is kept"
cmp -s "$DAEMON_JSON.hostd-orig" "$TMP/daemon.json.before" || fail "no backup of the original daemon.json"
ok "the original daemon.json is kept as a backup"
expect_eq "$(audit | jq -r .restart_pending)" true "the audit shows the restart pending"
expect_eq "$(audit | jq -r .daemon_profile_is_ours)" false "dockerd still runs with its old default"
grep -q "Seccomp profile .* installed as $PROFILE" "$TMP/sc.log" || fail "no change record for the install"
ok "the install is a change record"
out=$("$HOSTCTL" --socket "$SOCK" --json seccomp install "$HOSTD_SRC/policy/profiles/hostd-hardened.json")
expect_eq "$(jq -r '"\(.profile_changed) \(.daemon_json_changed) \(.restart_pending)"' <<<"$out")" \
        "false false true" "installing the same again changes nothing and stays pending"

# the restart a drain would do
"$SWARM" dockerd-restart 1
wait_until 30 "hostd sees dockerd's new default profile" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r .daemon_profile_is_ours)\" = true ]"
expect_eq "$(audit | jq -r .daemon_profile)" "$PROFILE" "docker info names hostd's profile"
wait_until 15 "the pending restart is settled" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json seccomp audit | jq -r .restart_pending)\" = false ]"
ok "the restart settles the pending install"
grep -q "dockerd restarted since the seccomp profile was installed" "$TMP/sc.log" || fail "no record of the profile taking effect"
ok "and that is recorded"
expect_eq "$("$HOSTCTL" --socket "$SOCK" --json changes | jq -r '[.changes[].kind | select(startswith("seccomp"))] | join(" ")')" \
        "seccomp-install seccomp-effective" "hostctl changes: one install (the second changed nothing), then effective"
"$HOSTCTL" --socket "$SOCK" seccomp audit >/dev/null
ok "audit passes once dockerd defaults to hostd's profile and every container is confined"
set +e
out=$(docker1 run --rm "$SWARM_IMAGE" linux32 true 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a container started afterwards, with no option, runs under hostd's profile"
expect_contains "$out" "personality(0x8): Operation not permitted" "and cannot call what Docker's default allows"
# x32 is left out of the hardened profile: a call through the x32 ABI
# (getpid, 39, with the x32 bit) kills the process; Docker's default passes
# it on to the kernel
printf '%s\n' '#include <stdio.h>' '#include <unistd.h>' '#include <sys/syscall.h>' \
        'int main(void) { long r = syscall(0x40000000L | 39); printf("returned %ld\n", r); return 0; }' >"$TMP/x32.c"
gcc -O2 -static -o "$TMP/x32" "$TMP/x32.c"
set +e
out=$(docker1 run --rm -v "$TMP/x32:/x32:ro" "$SWARM_IMAGE" /x32 2>&1)
rc=$?
set -e
expect_eq "$rc" 159 "under hostd's profile, a call through the x32 ABI kills the process (SIGSYS)"
set +e
out=$(docker1 run --rm -v "$TMP/x32:/x32:ro" --security-opt seccomp="$HOSTD_SRC/policy/profiles/docker-default.json" \
        "$SWARM_IMAGE" /x32 2>&1)
rc=$?
set -e
expect_eq "$rc" 0 "under Docker's default profile the same call reaches the kernel"
expect_contains "$out" "returned" "and returns"

# the installed profile is judged by its content: a digest recorded at install
expect_eq "$(cd / && sha256sum -c "$TMP/state/seccomp-profile.sha256")" "$PROFILE: OK" \
        "the install recorded the profile's SHA-256, as sha256sum -c checks it"
cp "$PROFILE" "$TMP/profile.installed"
# changed behind hostd's back: still valid, one more syscall allowed
jq '.syscalls += [{"names": ["personality"], "action": "SCMP_ACT_ALLOW"}]' "$TMP/profile.installed" >"$PROFILE"
expect_eq "$(audit | jq -r .daemon_profile_is_ours)" false "a profile changed behind hostd's back is not hostd's"
expect_contains "$(audit | jq -r .daemon_profile_problem)" "$PROFILE changed since hostd installed it: SHA-256" \
        "the audit says it changed, with both digests"
set +e
"$HOSTCTL" --socket "$SOCK" seccomp audit >/dev/null
rc=$?
set -e
expect_eq "$rc" 1 "and the audit fails"
posture=$("$HOSTCTL" --socket "$SOCK" --json posture || true)
expect_eq "$(pcheck seccomp.daemon-profile status)" fail "posture: seccomp.daemon-profile fails"
expect_contains "$(pcheck seccomp.daemon-profile evidence)" "changed since hostd installed it" "saying why"
cp "$TMP/profile.installed" "$PROFILE"
"$HOSTCTL" --socket "$SOCK" seccomp audit >/dev/null
posture=$("$HOSTCTL" --socket "$SOCK" --json posture || true)
expect_eq "$(pcheck seccomp.daemon-profile status)" pass "the content put back, both pass again"

# dockerd started with --seccomp-profile: an install would set the same in
# daemon.json, and dockerd refuses to start with a setting given both ways
cp "$TMP/daemon.json.before" "$DAEMON_JSON"
HOSTD_SWARM_DOCKERD_EXTRA="--seccomp-profile $PROFILE" "$SWARM" dockerd-restart 1
wait_until 30 "dockerd answers again" docker1 info
set +e
out=$("$HOSTCTL" --socket "$SOCK" seccomp install "$HOSTD_SRC/policy/profiles/hostd-hardened.json" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "install refuses while dockerd has --seccomp-profile on its command line"
expect_contains "$out" "dockerd runs with --seccomp-profile $PROFILE on its command line" "naming the flag"
cmp -s "$DAEMON_JSON" "$TMP/daemon.json.before" || fail "daemon.json changed by the refused install"
ok "and daemon.json is left as it was"
"$SWARM" dockerd-restart 1
wait_until 30 "dockerd starts again (daemon.json has no conflicting key)" docker1 info

echo "test-seccomp-audit: $CHECKS checks passed"
