#!/bin/bash
# A wave's fault set (`make check`), on a Swarm of 3 managers and 1 worker
# with hostd and its firewall on every node (tests/harness/wavecluster.sh)
# and a replicated service, the invariants proven after each wave from
# Docker's node events on every manager (tests/harness/wave-invariants.py).
# hostd is killed with SIGKILL at its crash points (hostd/crash-point.h),
# each once, and a supervisor starts it again a second later, as systemd
# would:
#   wave A, every node patched and rebooted:
#     - the coordinator right after it stored each step of a node
#       (draining: before its drain; patching; activating: before its
#       activation; done), armed on every manager: whichever leads fires;
#     - every node's agent right after it recorded each of its steps
#       (staged, waiting, applying, rebooting: before the reboot,
#       verifying, reporting).
#   On the worker alone:
#   wave B: a health check that fails on the new version: it rolls back,
#     is healthy on the old one, made active; the wave halts.
#   wave C: a health check that always fails: rolled back and still
#     unhealthy, it is left drained; the wave halts.
#   wave D: a health check slower than the wave's deadline: the node misses
#     it, is failed and left drained; the wave halts, and the agent's late
#     report is refused.
#   wave E: the leader's hostd restarted mid-wave with its clock 30 s
#     behind (faketime): the steps stored before are in its future, which
#     is no missed deadline; the wave goes on and is done.
# Ends with the table of faults and invariants, with their counts.
. "$(dirname "$0")/lib.sh"
need_built
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-x}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/wave-faults}"
. "$HOSTD_SRC/tests/harness/wavecluster.sh"
TABLE=()
row() { TABLE+=("$(printf '%-44s %-28s %s' "$1" "$2" "$3")"); }
step_of() { wave_json | jq -r --arg h "$(var "$1" NAME)" '.wave.nodes[]? | select(.hostname == $h) | .step'; }
wave_over() { local st; st=$(wave_json | jq -r .wave.status); [ "$st" = done ] || [ "$st" = halted ]; }
availability() { any_docker node inspect "$(var "$1" NAME)" --format '{{.Spec.Availability}}'; }

"$SWARM" service-create web 4 --stop-signal KILL >/dev/null
record_node_events

# the supervisor: a hostd that died (not stopped by a simulated reboot) is
# started again a second later, and each restart is counted
for i in $(seq $N); do
        ( while :; do
                d="$TMP/n$i"
                if [ ! -e "$d/rebooting" ] && ! kill -0 "$(cat "$d/hostd.pid")" 2>/dev/null; then
                        sleep 1
                        if [ ! -e "$d/rebooting" ] && ! kill -0 "$(cat "$d/hostd.pid")" 2>/dev/null; then
                                date +%s.%N >>"$d/restarts"
                                "$d/start-hostd"
                        fi
                fi
                sleep 0.2
          done ) &
        on_exit "kill $! 2>/dev/null"
done

# --- wave A: hostd killed at every stored step ---
COORD_POINTS="coordinator-stored-draining coordinator-stored-patching coordinator-stored-activating coordinator-stored-done"
AGENT_POINTS="agent-staged agent-waiting agent-applying agent-rebooting agent-verifying agent-reporting"
for i in 1 2 3; do for p in $COORD_POINTS; do touch "$TMP/n$i/crash/$p"; done; done
for i in $(seq $N); do for p in $AGENT_POINTS; do touch "$TMP/n$i/crash/$p"; done; done
plans_sent 1
TA=$(date +%s%N)
out=$(hctl 1 wave start --max-unavailable 1 --deadline 5m)
expect_contains "$out" "wave w-" "wave A starts, crash points armed on every node"
wait_until 900 "wave A ends" wave_over
a=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$a")" done "wave A is done$(jq -r 'if .wave.reason != "" then ": " + .wave.reason else "" end' <<<"$a")"
expect_eq "$(jq -r '[.wave.nodes[] | select(.step == "done")] | length' <<<"$a")" $N "every node is done"
for i in $(seq $N); do
        expect_eq "$(cat "$TMP/n$i/root/usr/share/openssl-t/version")" 3.0.13-1 "node $i is patched"
        expect_eq "$(wc -l <"$TMP/n$i/reboots")" 1 "node $i rebooted once (killed before its reboot, it rebooted after its restart)"
        expect_eq "$("$HOSTCTL" --json patch history --root "$TMP/n$i/root" | jq '[.entries[] | select(.state == "applied")] | length')" 1 \
                "node $i applied one transaction"
        wait_until 30 "node $i active" bash -c "[ \"\$($DOCKER -H unix://$NODE1_SOCK node inspect $(var "$i" NAME) --format '{{.Spec.Availability}}')\" = active ]"
done
wait_until 60 "hostd up on every node" bash -c "for i in \$(seq $N); do test -S $TMP/n\$i/h.sock || exit 1; done"
# which points fired where: a fired point's file is gone
for p in $COORD_POINTS; do
        fired=""
        for i in 1 2 3; do [ -e "$TMP/n$i/crash/$p" ] || fired="$fired $i"; done
        [ -n "$fired" ] || fail "$p never fired"
        row "SIGKILL at $p" "fired on manager(s)$fired" "wave went on: done"
done
for p in $AGENT_POINTS; do
        fired=""
        for i in $(seq $N); do [ -e "$TMP/n$i/crash/$p" ] || fired="$fired $i"; done
        [ -n "$fired" ] || fail "$p never fired"
        row "SIGKILL at $p" "fired on node(s)$fired" "resumed from its step record"
done
ok "every crash point fired, and hostd went on from what it had stored"
restarts=$(cat "$TMP"/n*/restarts 2>/dev/null | wc -l)
row "(wave A: hostd restarts by the supervisor)" "$restarts" ""
invariants A 1 "$TA" "$(date +%s%N)"
row "invariants of wave A" "$(grep -c '^    ok' "$TMP/invariants-A.txt") of 5 hold" \
        "$(grep 'drains, each' "$TMP/invariants-A.txt" | sed 's/^ *ok *//; s/  */ /g')"
summary_web=$(any_docker service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
wait_until 60 "web back at 4 replicas" bash -c "[ \"\$($DOCKER -H unix://$NODE1_SOCK service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c ^Running)\" = 4 ]"

# --- waves on the worker alone: failing health both ways, a missed deadline ---
docker_on 1 node update --label-add hostd-fault=yes "$(var 4 NAME)" >/dev/null
cfg4="$TMP/n4/hostd.json"
cp "$cfg4" "$TMP/n4/hostd.json.orig"
with_health() { # ARGV-JSON TIMEOUT: node 4's health check, reloaded
        jq --argjson cmd "$1" --argjson t "$2" '.wave["health-commands"] = [$cmd] | .wave["health-timeout-seconds"] = $t' \
                "$TMP/n4/hostd.json.orig" >"$cfg4"
        local before
        before=$(grep -c "Configuration reloaded" "$TMP/hostd4.log" || true)
        hctl 4 reload >/dev/null
        wait_until 10 "node 4 reloaded" bash -c "[ \$(grep -c 'Configuration reloaded' '$TMP/hostd4.log') -gt $before ]"
}
# bash-t 5.2-2 a security update; 5.2-1, installed, still in the archive
# (a rollback needs the package file of the version it goes back to)
REPO_EXACT=1 repo_suite "$WAVE_REPO" bookworm-security Debian-Security "$WAVE_DEBS/bash-t_5.2-2_amd64.deb" \
        "$WAVE_DEBS/openssl-t_3.0.13-1_amd64.deb"
REPO_EXACT=1 repo_suite "$WAVE_REPO" bookworm Debian "$WAVE_DEBS/bash-t_5.2-1_amd64.deb" "$WAVE_DEBS/openssl-t_3.0.11-1_amd64.deb"
root4="$TMP/n4/root"

# wave B: unhealthy on the new version only
with_health "[\"/bin/sh\", \"-c\", \"! grep -qx 5.2-2 $root4/usr/share/bash-t/version\"]" 10
plans_sent 1
hctl 1 wave abort --reason "wave A seen through" >/dev/null 2>&1 || true
TB=$(date +%s%N)
hctl 1 wave start --label hostd-fault=yes --deadline 5m >/dev/null
wait_until 300 "wave B ends" wave_over
b=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$b")" halted "wave B halts"
expect_contains "$(jq -r '.wave.nodes[0].message' <<<"$b")" "rolled back" "the worker rolled back"
expect_eq "$(cat "$root4/usr/share/bash-t/version")" 5.2-1 "bash-t is back at 5.2-1"
wait_until 30 "the worker active again" bash -c "[ \"\$($DOCKER -H unix://$NODE1_SOCK node inspect $(var 4 NAME) --format '{{.Spec.Availability}}')\" = active ]"
ok "healthy on its old state: made active again"
invariants B 1 "$TB" "$(date +%s%N)"
row "health fails on the new version" "rolled back, healthy: active" "wave halted: $(jq -r .wave.reason <<<"$b" | cut -c1-60)"

# wave C: unhealthy either way
with_health '["/bin/false"]' 5
plans_sent 1
hctl 1 wave abort --reason "wave B seen through" >/dev/null
TC=$(date +%s%N)
hctl 1 wave start --label hostd-fault=yes --deadline 5m >/dev/null
wait_until 300 "wave C ends" wave_over
c=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$c")" halted "wave C halts"
expect_contains "$(jq -r .wave.reason <<<"$c")" "is not healthy (left drained)" "the reason: not healthy, left drained"
expect_eq "$(availability 4)" drain "the worker is left drained"
expect_eq "$(cat "$root4/usr/share/bash-t/version")" 5.2-1 "and rolled back to bash-t 5.2-1"
invariants C 1 "$TC" "$(date +%s%N)" "$(var 4 ID)"
row "health fails on both versions" "rolled back, unhealthy: drained" "wave halted, node left drained"

# wave D: slower than the deadline
docker_on 1 node update --availability active "$(var 4 NAME)" >/dev/null
with_health '["/bin/sleep", "60"]' 120
plans_sent 1
hctl 1 wave abort --reason "wave C seen through" >/dev/null
TD=$(date +%s%N)
hctl 1 wave start --label hostd-fault=yes --deadline 20s >/dev/null
wait_until 120 "wave D ends" wave_over
d=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$d")" halted "wave D halts"
expect_contains "$(jq -r '.wave.nodes[0].message' <<<"$d")" "missed its deadline: patching for more than 20 s" "the worker missed its deadline"
expect_eq "$(availability 4)" drain "and is left drained"
# the agent's report, once its check ends, is refused: the node is failed
wait_until 120 "the agent's late report refused" grep -q "the coordinator did not take the report" "$TMP/hostd4.log"
expect_eq "$(wave_json | jq -r '.wave.nodes[0].step')" failed "the late report changed nothing"
invariants D 1 "$TD" "$(date +%s%N)" "$(var 4 ID)"
row "health check slower than the deadline" "failed at 20 s: drained" "wave halted; late report refused"
docker_on 1 node update --availability active "$(var 4 NAME)" >/dev/null

# wave E: the leader's clock 30 s behind the one that stored the node's
# step (its hostd restarted under faketime while the worker is under
# way): a step "since" in its future is no missed deadline, and the wave
# goes on
with_health '["/bin/true"]' 60
deb_build "$WAVE_DEBS" bash-t 5.2-3 amd64
REPO_EXACT=1 repo_suite "$WAVE_REPO" bookworm-security Debian-Security "$WAVE_DEBS/bash-t_5.2-3_amd64.deb" \
        "$WAVE_DEBS/openssl-t_3.0.13-1_amd64.deb"
REPO_EXACT=1 repo_suite "$WAVE_REPO" bookworm Debian "$WAVE_DEBS/bash-t_5.2-1_amd64.deb" "$WAVE_DEBS/bash-t_5.2-2_amd64.deb" \
        "$WAVE_DEBS/openssl-t_3.0.11-1_amd64.deb"
plans_sent 1
hctl 1 wave abort --reason "wave D seen through" >/dev/null
TE=$(date +%s%N)
hctl 1 wave start --label hostd-fault=yes --deadline 1m >/dev/null
wait_until 60 "the worker under way" bash -c "'$HOSTCTL' --socket '$TMP/n1/h.sock' --json wave status | jq -e '.wave.nodes[0].step == \"draining\" or .wave.nodes[0].step == \"patching\"' >/dev/null"
L=$(leader_index)
[ "$L" != 0 ] || fail "no manager leads"
echo "env DONT_FAKE_MONOTONIC=1 faketime -f -30s" >"$TMP/n$L/wrap"
t_behind=$(date +%s.%N)
kill -KILL "$(cat "$TMP/n$L/hostd.pid")"
wait_until 30 "the leader's hostd back, 30 s behind" test -S "$TMP/n$L/h.sock"
behind=$(( $(date +%s) - $(nsenter --net="$(var "$L" NETNS)" env DONT_FAKE_MONOTONIC=1 faketime -f -30s date +%s) ))
wait_until 180 "wave E ends" wave_over
e=$(wave_json)
rm -f "$TMP/n$L/wrap"
expect_eq "$(jq -r .wave.status <<<"$e")" done "wave E is done under a leader $behind s behind$(jq -r 'if .wave.reason != "" then ": " + .wave.reason else "" end' <<<"$e")"
expect_eq "$(jq -r '.wave.nodes[0].step' <<<"$e")" done "the worker is done, not failed for a deadline"
expect_eq "$(cat "$root4/usr/share/bash-t/version")" 5.2-3 "and patched"
awk -v t="$t_behind" -v n="node $(var 4 NAME) " '$1 > t && index($0, n) && / -> done$/ { found = 1 } END { exit !found }' \
        "$TMP/hostd$L.log" || fail "the lagging leader did not move the worker on"
ok "the leader whose clock is behind moved the wave on"
invariants E 1 "$TE" "$(date +%s%N)"
row "leader's clock ${behind} s behind (restarted under it mid-wave)" "no false deadline" "wave done"

echo
echo "== faults and invariants =="
printf '%-44s %-28s %s\n' FAULT WHERE OUTCOME
for line in "${TABLE[@]}"; do echo "$line"; done
echo "(web kept $summary_web of 4 replicas running at the end of wave A; every wave's invariants held: drained <= max-unavailable, managers <= 1, one activation per drain except the nodes left drained, no node drained twice)"
echo "$CHECKS checks passed"
