#!/bin/bash
# The wave coordinator on a real 4-node Swarm (3 managers, 1 worker), with
# hostd on every manager and no node agents yet: the wave is stored in the
# Swarm's Raft store and read the same from every manager; the leader
# drains nodes as the guards allow (a service with no other node holds the
# wave; max-unavailable is never exceeded, sampled continuously; the
# service keeps its replicas); a node that does not report misses its
# deadline and halts the wave; a halted wave must be aborted before
# another starts; two managers starting at once make one wave; the wave
# survives SIGKILL of the leader's hostd and the loss of the leader's
# dockerd, and is resumed by the new leader.
. "$(dirname "$0")/lib.sh"
need_built
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-w}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/wave-coord}"

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 3 1 >/dev/null
eval "$("$SWARM" env)"
docker_on() { local i=$1; shift; "$DOCKER" -H "unix://$(eval echo "\$NODE${i}_SOCK")" "$@"; }

# a real Alertmanager outside the nodes: the wave's alert gate on every manager
cat >"$TMP/am.yml" <<EOF
route: {receiver: "null"}
receivers: [{name: "null"}]
EOF
AM_URL="http://$OUTSIDE_ADDR:9093"
start_am() {
        "$SWARM" nsexec outside prometheus-alertmanager --config.file="$TMP/am.yml" --storage.path="$TMP/am" \
                --web.listen-address="$OUTSIDE_ADDR:9093" --cluster.listen-address= >>"$TMP/am.log" 2>&1 &
        AM_PID=$!
        wait_until 30 "Alertmanager ready" "$SWARM" nsexec outside curl -sf "$AM_URL/-/ready"
}
am() { "$SWARM" nsexec outside curl -sf -H 'Content-Type: application/json' "$@"; }
start_am
on_exit 'kill $AM_PID 2>/dev/null'

start_node_hostd() {
        local i=$1 sock_var="NODE${1}_SOCK" netns_var="NODE${1}_NETNS"
        printf '{"swarm": {"refresh-seconds": 1}, "firewall": {"enabled": false}, "state-directory": "%s",
 "wave": {"agent": false, "alertmanager": {"url": "%s", "matchers": ["severity=\\"critical\\""], "timeout-seconds": 2}}}\n' \
                "$TMP/state$i" "$AM_URL" >"$TMP/hostd$i.json"
        DOCKER_HOST="unix://${!sock_var}" start_hostd "n$i" "${!netns_var}" --config "$TMP/hostd$i.json" \
                --socket "$TMP/h$i.sock"
}
for i in 1 2 3; do start_node_hostd "$i"; done
for i in 1 2 3; do wait_until 20 "hostd $i up" test -S "$TMP/h$i.sock"; done
wait_until 20 "node1's hostd knows it leads" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json status | jq -r .swarm.leader)\" = true ]"
hctl() { local i=$1; shift; "$HOSTCTL" --socket "$TMP/h$i.sock" "$@"; }
wave() { hctl "$1" --json wave status | jq -r "$2"; }
step_of() { hctl "$1" --json wave status | jq -r --arg h "$2" '.wave.nodes[] | select(.hostname == $h) | .step'; }

"$SWARM" service-create web 4 >/dev/null
"$SWARM" service-create pinned 1 --constraint node.role==worker >/dev/null
running() { docker_on 1 service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true; }
expect_eq "$(running)" 4 "web runs 4 replicas"

# sample continuously: nodes drained at once, and web's running replicas
( while :; do
        d=$(docker_on 2 node ls --format '{{.Availability}}' 2>/dev/null | grep -c Drain || true)
        echo "$d" >>"$TMP/drained"
        sleep 0.2
  done ) &
SAMPLER=$!
on_exit "kill $SAMPLER 2>/dev/null"

# --- no agents here, so no node has sent a plan: a wave with an approved set cannot start ---
set +e
out=$(hctl 2 wave start 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "a wave whose nodes sent no patch plan does not start"
expect_contains "$out" "no patch plan from 4 node(s) of the wave" "saying whose plans are missing"

# --- the guard: pinned has no other node than the worker ---
out=$(hctl 2 wave start --any-version --max-unavailable 2 --deadline 15s)
expect_contains "$out" "wave w-" "a wave starts from a manager that is not the leader"
wave_id=$(wave 3 .wave.id)
expect_eq "$(wave 1 .wave.id)" "$wave_id" "every manager reads the same stored wave"
wait_until 10 "the guard holds the worker" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .blocked | grep -q 'service pinned has no other node it may run on'"
ok "the wave waits: $(wave 1 .blocked)"
expect_eq "$(step_of 1 "$NODE4_NAME")" pending "and the worker is not drained"
"$SWARM" service-rm pinned >/dev/null

# --- without it: the worker and one manager at once, never more ---
wait_until 20 "the worker is drained and patching" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r --arg h '$NODE4_NAME' '.wave.nodes[] | select(.hostname == \$h) | .step')\" = patching ]"
ok "the worker's tasks are gone: it may patch"
wait_until 20 "a manager is drained as the second slot" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -e '[.wave.nodes[] | select(.manager and (.step == \"draining\" or .step == \"patching\"))] | length == 1' >/dev/null"
ok "one manager in the second slot"
expect_eq "$(wave 1 '[.wave.nodes[] | select(.manager and .step != "pending")] | length')" 1 "managers go one at a time"
wait_until 10 "web back at 4 replicas" bash -c "[ \"\$($DOCKER -H unix://$NODE1_SOCK service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c ^Running)\" = 4 ]"
ok "web keeps its 4 replicas"

# --- no reports: the deadline fails the nodes and halts the wave ---
wait_until 30 "the wave halts" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h2.sock' --json wave status | jq -r .wave.status)\" = halted ]"
expect_contains "$(wave 2 .wave.reason)" "missed its deadline: patching for more than 15 s" "the wave halts: a node missed its deadline"
table=$(hctl 2 wave status)
expect_contains "$table" "$NODE4_NAME" "wave status is a table of nodes"
expect_contains "$(head -1 <<<"$table")" "s ago)" "its header says how long ago the wave started"
expect_contains "$table" "failed" "with each node's step"
set +e
out=$(hctl 3 wave start --any-version 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a halted wave is not replaced"
expect_contains "$out" "is halted: abort it first" "saying so"
hctl 3 wave abort --reason "deadline test over" >/dev/null
expect_eq "$(wave 1 .wave.status)" aborted "abort"
for i in 1 2 3 4; do docker_on 1 node update --availability active "$(eval echo "\$NODE${i}_ID")" >/dev/null; done

# --- a maintenance window in Berlin time: the wave waits for it, then starts in it ---
opens=$(( ($(date +%s) + 20 + 59) / 60 * 60 ))   # the next minute at least 20 s ahead
window="$(LC_ALL=C TZ=Europe/Berlin date -d "@$opens" '+%a %H:%M') 10m"
set +e
out=$(hctl 2 wave start --any-version --window "Mon 22:00 1h" --zone Mars/Olympus 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "a zone this manager does not know is refused by it"
expect_contains "$out" "time zone Mars/Olympus: /usr/share/zoneinfo/Mars/Olympus: no such zone" "naming the zone"
expect_eq "$(wave 1 .wave.status)" aborted "and starts nothing"
hctl 2 wave start --any-version --deadline 10s --window "$window" --zone Europe/Berlin --blackout 2025-12-24 >/dev/null
expect_contains "$(wave 1 .blocked)" "waiting for the maintenance window: the next node may start at $(TZ=Europe/Berlin date -d "@$opens" '+%Y-%m-%d %H:%M %:z') (Europe/Berlin)" \
        "before its window the wave says when it starts"
expect_eq "$(wave 3 '[.wave.nodes[] | select(.step != "pending")] | length')" 0 "and no node is drained"
expect_contains "$(hctl 3 wave status)" "schedule (Europe/Berlin): windows $window; blackouts 2025-12-24" "wave status shows the schedule"
set +e
out=$(hctl 2 wave start --any-version --window "Mon 25:00 1h" 2>&1); rc=$?
set -e
expect_eq "$rc" 2 "a window that is not one is refused"
expect_contains "$out" "the start is not a time HH:MM" "saying why"
wait_until 90 "a node drains in the window" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -e '[.wave.nodes[] | select(.step != \"pending\")] | length == 1' >/dev/null"
# when the leader drained it, from the managers' change records
wid=$(wave 1 .wave.id)
drained=$(for i in 1 2 3; do hctl "$i" --json changes 2>/dev/null; done |
        jq -s --arg w "$wid" '[.[].changes[] | select(.kind == "node-drain" and .fields.wave == $w) | .time_usec] | min // 0')
[ "$drained" -ge "$((opens * 1000000))" ] || fail "a node was drained at $drained, before the window opened at $opens"
[ "$drained" -lt "$(((opens + 3) * 1000000))" ] || fail "a node was drained at $drained, more than 3 s after the window opened at $opens"
ok "the first node was drained $(( (drained - opens * 1000000) / 1000 )) ms after the window opened"
wait_until 40 "the undrained wave halts on its deadline" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .wave.status)\" = halted ]"
hctl 1 wave abort --reason "window test over" >/dev/null
for i in 1 2 3 4; do docker_on 1 node update --availability active "$(eval echo "\$NODE${i}_ID")" >/dev/null; done

# --- the alert gate: a firing critical alert holds the wave; silenced, or not critical, it does not; no answer holds it ---
am -XPOST "$AM_URL/api/v2/alerts" -d '[{"labels": {"alertname": "NodeDown", "severity": "critical", "instance": "node-3"}},
        {"labels": {"alertname": "DiskFilling", "severity": "warning"}}]' >/dev/null
hctl 2 wave start --any-version --deadline 20s >/dev/null
wait_until 20 "the gate holds the wave" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .blocked | grep -q 'alert(s) firing that the gate matches'"
expect_contains "$(wave 1 .blocked)" '1 alert(s) firing that the gate matches: NodeDown{instance="node-3"}' \
        "a firing critical alert holds the wave, named (the warning does not count)"
sleep 6 # past a recheck of the gate
expect_eq "$(wave 3 '[.wave.nodes[] | select(.step != "pending")] | length')" 0 "no node is drained while it fires"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z); until=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S.000Z)
am -XPOST "$AM_URL/api/v2/silences" -d '{"matchers": [{"name": "alertname", "value": "NodeDown", "isRegex": false, "isEqual": true}],
        "startsAt": "'"$now"'", "endsAt": "'"$until"'", "createdBy": "test-wave-coordinator", "comment": "known"}' >/dev/null
wait_until 20 "a node drains once the alert is silenced" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -e '[.wave.nodes[] | select(.step != \"pending\")] | length == 1' >/dev/null"
ok "silenced, the alert holds the wave no more: a node is drained"
kill "$AM_PID"; wait "$AM_PID" 2>/dev/null || true
wait_until 20 "no answer holds the wave (fail closed)" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .blocked | grep -q 'Alertmanager at $AM_URL cannot be read'"
ok "Alertmanager stopped: the wave is held ($(wave 1 .blocked | cut -c1-90)...)"
expect_eq "$(wave 1 '[.wave.nodes[] | select(.step != "pending")] | length')" 1 "and no other node starts"
start_am
wait_until 60 "the undrained wave halts on its deadline" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .wave.status)\" = halted ]"
hctl 1 wave abort --reason "gate test over" >/dev/null
for i in 1 2 3 4; do docker_on 1 node update --availability active "$(eval echo "\$NODE${i}_ID")" >/dev/null; done

# --- two managers start at once: one wave ---
hctl 2 wave start --any-version --deadline 60s >"$TMP/start2" 2>&1 &
p2=$!
hctl 3 wave start --any-version --deadline 60s >"$TMP/start3" 2>&1 &
p3=$!
rc2=0; rc3=0
wait $p2 || rc2=$?
wait $p3 || rc3=$?
expect_eq "$((rc2 + rc3))" 1 "of two simultaneous starts exactly one succeeds"
expect_contains "$(cat "$TMP/start2" "$TMP/start3")" "abort it first" "the other is refused, not forced"
expect_eq "$(cat "$TMP"/n*.log | grep -c "Wave $(wave 1 .wave.id) started")" 1 "and only the stored one is logged as started"
id=$(wave 1 .wave.id)

# --- SIGKILL of the leader's hostd: restarted, it resumes ---
wait_until 20 "a node draining or patching" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -e '[.wave.nodes[] | select(.step == \"patching\")] | length >= 1' >/dev/null"
kill -KILL "$HOSTD_PID_n1"
wait "$HOSTD_PID_n1" 2>/dev/null || true
start_node_hostd 1
# the killed hostd left its socket behind: wait for the new one to answer
wait_until 20 "hostd 1 back" "$HOSTCTL" --socket "$TMP/h1.sock" status
expect_eq "$(wave 1 .wave.id)" "$id" "after SIGKILL the leader's hostd reads the same wave"
expect_eq "$(wave 1 .wave.status)" running "still running"

# --- the leader's dockerd stops: the new leader's hostd takes the wave on ---
"$SWARM" dockerd-stop 1 >/dev/null
wait_until 60 "a new leader's hostd" bash -c "'$HOSTCTL' --socket '$TMP/h2.sock' --json status | jq -e .swarm.leader >/dev/null || '$HOSTCTL' --socket '$TMP/h3.sock' --json status | jq -e .swarm.leader >/dev/null"
new=2
[ "$(hctl 2 --json status | jq -r .swarm.leader)" = true ] || new=3
ok "node$new leads now"
# node1 is gone: its dockerd is down, so it cannot report; the new leader
# fails whatever waits on the deadline, or drains the next node
before=$(wave "$new" '[.wave.nodes[] | .step] | join(",")')
wait_until 90 "the new leader advances the wave" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h$new.sock' --json wave status | jq -r '[.wave.nodes[] | .step] | join(\",\")')\" != '$before' ]"
ok "the wave moved under the new leader: $(wave "$new" '[.wave.nodes[] | .hostname + "=" + .step] | join(" ")')"
expect_eq "$(wave "$new" .wave.id)" "$id" "the same wave"
"$SWARM" dockerd-start 1 >/dev/null

kill "$SAMPLER" 2>/dev/null || true
max=$(sort -n "$TMP/drained" | tail -1)
[ "$max" -le 2 ] || fail "max drained at once: $max (allowed 2)"
ok "max drained at once: $max, over $(wc -l <"$TMP/drained") samples"
echo "test-wave-coordinator: $CHECKS checks passed"
