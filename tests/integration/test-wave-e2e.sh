#!/bin/bash
# Patch waves end to end (`make e2e-wave`): a real Swarm of 3 managers and
# 1 worker, hostd on every node with its own sandbox root (patching.root)
# fed by a local package repository, a replicated busybox service, and a
# security update whose postinst asks for a reboot. Reboots are simulated
# by tests/harness/reboot-hook.sh (wave.reboot-command), which restarts
# the node's dockerd and hostd and gives it a new boot ID.
#
# Docker's node events are recorded on every manager during the whole run;
# after each wave its invariants are proven from them offline
# (tests/harness/wave-invariants.py: drained at once never above
# max-unavailable, at most one manager at a time, every drain followed by
# exactly one activation, no node drained twice).
# Wave A patches every node, max-unavailable 2, while
#   - web's running replicas are sampled continuously (a sample that
#     cannot be read is counted as unreadable, not as a number);
#   - hostd on the coordinator (the Raft leader) is killed with SIGKILL
#     mid-wave, and restarted as systemd would;
#   - a node's hostd is killed with SIGKILL during its transaction.
# Wave B: a package whose postinst fails, on the worker only, its canary;
# while the worker is under way the leader's dockerd is stopped, and
# another manager's hostd takes the wave on. The worker rolls back, is
# made active again (healthy on its old state), and the wave halts with
# the reason. Clients without a Swarm-CA certificate, or
# speaking for another node, are refused. Ends with a summary, including
# "max drained at once: N" and how the wave resumed after each fault.
# Wave C: a security update needing no reboot, on nodes 2, 3 and 4, with a
# seccomp profile installed (pending dockerd's restart) on nodes 2 and 4:
# their agents restart Docker while drained, and report healthy only with
# the installed default in force; node 3's dockerd is left running.
. "$(dirname "$0")/lib.sh"
need_built
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-e}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/wave-e2e}"
SUMMARY=()
summary() { SUMMARY+=("$*"); }

export WAVE_POSTINST_SLEEP=3
. "$HOSTD_SRC/tests/harness/wavecluster.sh"
step_of() { wave_json | jq -r --arg h "$(var "$1" NAME)" '.wave.nodes[]? | select(.hostname == $h) | .step'; }

"$SWARM" service-create web 4 --stop-signal KILL >/dev/null
expect_eq "$(any_docker service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running')" 4 "web runs 4 replicas"

record_node_events

# sample web's running replicas; a sample that cannot be read is counted
# as such, never as a number
( while :; do
        if r=$(any_docker service ps web --filter desired-state=running --format '{{.CurrentState}}'); then
                echo "$(date +%s.%N) $(grep -c '^Running' <<<"$r" || true)" >>"$TMP/samples"
        else
                echo "$(date +%s.%N) unreadable" >>"$TMP/samples"
        fi
        sleep 0.2
  done ) &
SAMPLER=$!
on_exit "kill $SAMPLER 2>/dev/null"

# --- wave A ---
plans_sent 1
t0=$(date +%s.%N)
T0_NS=$(date +%s%N)
out=$(hctl 1 wave start --max-unavailable 2 --deadline 5m)
expect_contains "$out" "wave w-" "wave A starts"
expect_contains "$out" "approved set: 1 package(s), 1 security: openssl-t 3.0.13-1" "its approved set, from the nodes' plans"
WAVE_A=$(wave_json | jq -r .wave.id)

# fault: SIGKILL of the coordinator's hostd while a node is draining or patching
wait_until 60 "a node under way" bash -c "'$HOSTCTL' --socket '$TMP/n1/h.sock' --json wave status | jq -e '[.wave.nodes[] | select(.step == \"draining\" or .step == \"patching\")] | length > 0' >/dev/null"
L=$(leader_index)
[ "$L" != 0 ] || fail "no hostd says it leads"
under_way=$(wave_json | jq -r '[.wave.nodes[] | select(.step == "draining" or .step == "patching") | "\(.hostname) \(.step)"] | join(", ")')
kill -KILL "$(cat "$TMP/n$L/hostd.pid")"
ok "hostd on the coordinator (node $L) killed with SIGKILL while $under_way"
sleep 1
"$TMP/n$L/start-hostd"
t_kill=$(date +%s.%N)
wait_until 20 "the restarted hostd" test -S "$TMP/n$L/h.sock"
wait_until 120 "a node finishes after the restart" bash -c "'$HOSTCTL' --socket '$TMP/n$L/h.sock' --json wave status | jq -e '[.wave.nodes[] | select(.step == \"done\")] | length > 0' >/dev/null"
resumed=$(awk -v a="$t_kill" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
ok "the wave went on under the restarted coordinator"

# mid-wave the repository gains openssl-t 3.0.14-1 (keeping 3.0.13-1); the
# nodes still to come refresh their lists, as apt's daily job would: they
# are offered 3.0.14-1, and must still install the approved 3.0.13-1
REPO_EXACT=1 repo_suite "$WAVE_REPO" bookworm-security Debian-Security "$WAVE_DEBS/openssl-t_3.0.13-1_amd64.deb" \
        "$WAVE_DEBS/openssl-t_3.0.14-1_amd64.deb"
LATER=()
for i in $(seq $N); do [ "$(step_of "$i")" = pending ] && LATER+=("$i"); done
[ ${#LATER[@]} -gt 0 ] || fail "no node was still pending when the repository changed"
for i in "${LATER[@]}"; do
        offered=$("$HOSTCTL" --json patch plan --root "$TMP/n$i/root" --refresh |
                jq -r '.packages[] | select(.name == "openssl-t") | .to')
        expect_eq "$offered" 3.0.14-1 "mid-wave, node $i (still pending) is offered openssl-t 3.0.14-1"
done
summary "mid-wave the repository offered openssl-t 3.0.14-1 to node(s) ${LATER[*]}, still pending: the approved set held them to 3.0.13-1"
summary "fault: SIGKILL of hostd on the coordinator (node $L) while $under_way: restarted 1 s later, it read the stored wave and resumed; a node finished ${resumed} s after the restart"

# fault: SIGKILL of a node's hostd while its package transaction runs
applying_node() {
        local i
        for i in $(seq $N); do
                [ "$(hctl "$i" --json status 2>/dev/null | jq -r .wave_agent.step)" = applying ] && { echo "$i"; return 0; }
        done
        return 1
}
wait_until 120 "a node applying its patches" applying_node
A=$(applying_node)
kill -KILL "$(cat "$TMP/n$A/hostd.pid")"
ok "hostd on node $A killed with SIGKILL while it applied its patches"
sleep 1
"$TMP/n$A/start-hostd"
t_kill3=$(date +%s.%N)
step_done() { [ "$(step_of "$1")" = done ]; }
wait_until 180 "node $A finishes" step_done "$A"
resumed3=$(awk -v a="$t_kill3" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect_contains "$(cat "$TMP/hostd$A.log")" "when hostd stopped" "the restarted hostd read how the transaction ended from the patch journal"
summary "fault: SIGKILL of hostd on node $A while its transaction ran: restarted 1 s later, it read the transaction's end from the patch journal ($(grep -o 'transaction [^ ]* was [a-z-]* when hostd stopped' "$TMP/hostd$A.log" | tail -1)), went on to reboot, verify and report; done ${resumed3} s after the restart"

wave_over() { local st; st=$(wave_json | jq -r .wave.status); [ "$st" = done ] || [ "$st" = halted ]; }
wait_until 600 "wave A ends" wave_over
t1=$(date +%s.%N)
final=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$final")" done "wave A is done$(jq -r 'if .wave.reason != "" then ": " + .wave.reason else "" end' <<<"$final")"
expect_eq "$(jq -r '[.wave.nodes[] | select(.step == "done")] | length' <<<"$final")" $N "every node is done"
for i in $(seq $N); do
        expect_eq "$(cat "$TMP/n$i/root/usr/share/openssl-t/version")" 3.0.13-1 "node $i has the approved security update, 3.0.13-1"
        expect_eq "$(cat "$TMP/n$i/root/usr/share/bash-t/version")" 5.2-1 "node $i kept bash-t (not a security update)"
        expect_eq "$(wc -l <"$TMP/n$i/reboots")" 1 "node $i rebooted once"
        expect_eq "$("$HOSTCTL" --json patch history --root "$TMP/n$i/root" | jq '[.entries[] | select(.state == "applied")] | length')" 1 \
                "node $i applied exactly one transaction (no step repeated across the faults)"
        expect_eq "$(docker_on 1 node inspect "$(var "$i" NAME)" --format '{{.Spec.Availability}}')" active "node $i is active again"
done
kill "$SAMPLER" 2>/dev/null || true
invariants A 2 "$T0_NS" "$(date +%s%N)"
min_running=$(awk '$2 != "unreadable" && (n++ == 0 || $2 < m) { m = $2 } END { print m + 0 }' "$TMP/samples")
samples=$(awk '$2 != "unreadable"' "$TMP/samples" | wc -l)
unreadable=$(grep -c unreadable "$TMP/samples" || true)
[ "$min_running" -ge 1 ] || fail "web had no running replica at some moment"
wait_until 60 "web back at 4 replicas" bash -c "[ \"\$($DOCKER -H unix://$NODE1_SOCK service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c ^Running)\" = 4 ]"
ok "web kept running replicas throughout (at least $min_running of 4) and is back at 4"
hctl 1 wave status | tee "$TMP/wave-a.txt" | sed 's/^/    /'
summary "wave A ($WAVE_A): $N of $N nodes patched and rebooted in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s"
summary "web replicas running: at least $min_running of 4 at every sample that could be read ($samples; $unreadable could not, while no manager answered), 4 at the end"

# --- the cluster view and the change records of wave A ---
L=$(leader_index)
M=$(( L % 3 + 1 )) # another manager
reported() { # MANAGER: every node's summary is there, passing or failing
        [ "$(hctl "$1" --json posture --cluster 2>/dev/null |
                jq '[.nodes[] | select(.status == "pass" or .status == "fail")] | length')" = "$N" ]
}
for m in "$L" "$M"; do
        # a manager rebooted late in the wave starts with an empty board:
        # the nodes fill it within one report interval (5 s here)
        wait_until 20 "manager $m to have every node's summary" reported "$m"
        view=$(hctl "$m" --json posture --cluster || true)
        expect_eq "$(jq '.nodes | length' <<<"$view")" "$N" "manager $m's cluster view has a row per node"
        expect_eq "$(jq '[.nodes[] | select(.status == "pass" or .status == "fail")] | length' <<<"$view")" "$N" \
                "every node's hostd sent its summary to manager $m"
done
expect_eq "$(jq -r --arg id "$(var 4 ID)" '.nodes[] | select(.node_id == $id) | .summary.fail' <<<"$view")" \
        "$(hctl 4 --json posture | jq .summary.fail || true)" "the worker's row counts the failures of its own posture"
hctl "$L" posture --cluster >"$TMP/cluster.txt" || true
summary "cluster view on manager $L: $(tail -1 "$TMP/cluster.txt")"
for i in $(seq $N); do
        hctl "$i" --json changes >"$TMP/changes$i.json"
        expect_eq "$(jq -r '[.changes[] | select(.kind == "patch-apply" or .kind == "node-reboot") | .kind] | unique | join(" ")' "$TMP/changes$i.json")" \
                "node-reboot patch-apply" "node $i's changes: its patch apply and its reboot"
done
cat "$TMP"/changes*.json | jq -r --arg w "$WAVE_A" '.changes[] | select(.fields.wave == $w and (.kind == "node-drain" or .kind == "node-activate")) | "\(.kind) \(.fields.node)"' |
        sort -u >"$TMP/moves"
expect_eq "$(wc -l <"$TMP/moves")" $((2 * N)) "the managers' changes: each node drained and activated by wave A"
expect_eq "$(cat "$TMP"/changes*.json | jq -r --arg w "$WAVE_A" '.changes[] | select(.kind == "wave-start" and .fields.wave == $w) | .kind' | wc -l)" \
        1 "and the wave's start, once"

# --- refusals on the node protocol ---
L=$(leader_index)
addr=$(var "$L" ADDR)
certs="$(var 4 DATA_ROOT)/swarm/certificates"
sed '/^[A-Za-z-]*: /d' "$certs/swarm-node.key" >"$TMP/n4.key"
code=$("$SWARM" nsexec 4 curl -s -o "$TMP/anon.json" -w '%{http_code}' --cacert "$certs/swarm-root-ca.crt" \
        --connect-to "swarm-manager:9443:$addr:9443" -H 'fleet-lock-protocol: true' https://swarm-manager:9443/v1/wave || true)
expect_eq "$code $(jq -r .kind "$TMP/anon.json")" "401 client_certificate" "a client without a Swarm-CA certificate is refused"
code=$("$SWARM" nsexec 4 curl -s -o "$TMP/other.json" -w '%{http_code}' --cacert "$certs/swarm-root-ca.crt" \
        --cert "$certs/swarm-node.crt" --key "$TMP/n4.key" --connect-to "swarm-manager:9443:$addr:9443" \
        -H 'fleet-lock-protocol: true' -H 'Content-Type: application/json' \
        -d "{\"client_params\": {\"id\": \"$(var 1 ID)\", \"group\": \"default\"}}" https://swarm-manager:9443/v1/pre-reboot || true)
expect_eq "$code $(jq -r .kind "$TMP/other.json")" "403 wrong_node" "node 4's certificate cannot speak for node 1"
summary "refused: a client without a Swarm-CA certificate (401 client_certificate); node 4's certificate speaking for node 1 (403 wrong_node)"

# --- wave B: a failing package on the worker ---
root4="$TMP/n4/root"
root_install "$root4" "$WAVE_DEBS/broken-t_1.0-1_amd64.deb"
REPO_EXACT=1 repo_suite "$WAVE_REPO" bookworm-security Debian-Security "$WAVE_DEBS/openssl-t_3.0.13-1_amd64.deb" \
        "$WAVE_DEBS/broken-t_1.0-2_amd64.deb"
plans_sent 2
TB_NS=$(date +%s%N)
out=$(hctl 2 wave start --canary "$NODE4_NAME" --deadline 5m)
expect_contains "$out" "wave w-" "wave B starts with the worker as its canary"
WAVE_B=$(wave_json | jq -r .wave.id)
[ "$WAVE_B" != "$WAVE_A" ] || fail "wave B has wave A's ID"

# fault: the leader's dockerd stops while the canary is under way (a
# worker: it moves on with two managers of three, the quorum)
leader_free_and_wave_busy() {
        local l w name
        l=$(leader_index)
        [ "$l" != 0 ] || return 1
        name=$(var "$l" NAME)
        w=$(hctl "$l" --json wave status) || return 1
        jq -e --arg h "$name" '(.wave.status == "running")
                and ([.wave.nodes[] | select(.hostname == $h and (.step == "pending" or .step == "done"))] | length == 1)
                and ([.wave.nodes[] | select((.manager | not) and (.step == "draining" or .step == "patching"))
                      or (.manager and .step == "draining")] | length > 0)' <<<"$w" >/dev/null &&
                echo "$w" >"$TMP/fault2.json" && echo "$l" >"$TMP/fault2.leader"
}
# another manager leads, by Docker's view and by its own hostd's
other_leads() {
        local i
        i=$(leader_index)
        [ "$i" != 0 ] && [ "$i" != "$1" ] && [ "$(hctl "$i" --json status 2>/dev/null | jq -r .swarm.leader)" = true ] &&
                echo "$i"
}
# a node's move stored by the hostd on node $1 after time $2 (its log)
moved_by() { awk -v t="$2" '$1 > t && / -> (draining|patching|activating|done|failed)$/ { found = 1 } END { exit !found }' "$TMP/hostd$1.log"; }
wait_until 60 "the leader is not held while the canary is under way" leader_free_and_wave_busy
L=$(cat "$TMP/fault2.leader")
under_way=$(jq -r '[.wave.nodes[] | select(.step == "draining" or .step == "patching") | "\(.hostname) \(.step)"] | join(", ")' "$TMP/fault2.json")
t_stop=$(date +%s.%N)
"$SWARM" dockerd-stop "$L" >/dev/null
ok "dockerd of the leader (node $L) stopped while $under_way"
wait_until 60 "another manager's hostd leads" other_leads "$L"
NL=$(other_leads "$L")
# while the old leader is down, only the new one can move the wave; it may
# have done so before the test saw it lead (its first move can come within
# milliseconds of taking the lead): its moves since the stop count
wait_until 180 "the new leader moves the wave on" moved_by "$NL" "$t_stop"
"$SWARM" dockerd-start "$L" >/dev/null
moved=$(awk -v t="$t_stop" -v s="$t_stop" '$1 > t && / -> (draining|patching|activating|done|failed)$/ { printf "%.1f s after the stop: %s", $1 - s, $0; exit }' "$TMP/hostd$NL.log" | sed 's/ hostd\[[0-9]*\]: info: / /; s/[0-9.]* \(Wave\)/\1/')
ok "node $NL leads now and moved the wave on"
summary "fault: dockerd of the leader (node $L) stopped while $under_way: node $NL became the Raft leader and its hostd moved the stored wave on ($moved); node $L's dockerd was started again"

wave_halted() { [ "$(wave_json | jq -r .wave.status)" = halted ]; }
wait_until 300 "wave B halts" wave_halted
b=$(wave_json)
reason=$(jq -r .wave.reason <<<"$b")
expect_contains "$reason" "$NODE4_NAME" "the wave halts, naming the node"
expect_contains "$(jq -r --arg h "$NODE4_NAME" '.wave.nodes[] | select(.hostname == $h) | .message' <<<"$b")" "rolled back" \
        "the node's report says it rolled back"
expect_eq "$(jq -r --arg h "$NODE4_NAME" '.wave.nodes[] | select(.hostname == $h) | .step' <<<"$b")" failed "the node is failed"
expect_eq "$(cat "$root4/usr/share/broken-t/version")" 1.0-1 "broken-t is back at 1.0-1 on the worker"
expect_eq "$("$HOSTCTL" --json patch history --root "$root4" | jq -r '.entries | max_by(.started) | .state')" rolled-back \
        "its journal entry says rolled-back"
wait_until 30 "the worker is active again" bash -c "[ \"\$($DOCKER -H unix://$NODE1_SOCK node inspect $NODE4_NAME --format '{{.Spec.Availability}}')\" = active ]"
ok "healthy on its old state, the worker is active again"
expect_eq "$(jq -r '[.wave.nodes[] | select(.step != "pending" and .hostname != "'"$NODE4_NAME"'")] | length' <<<"$b")" 0 \
        "no other node was touched"
summary "fault: failing postinst of broken-t on $NODE4_NAME (wave $WAVE_B): rolled back by itself to 1.0-1, verified healthy, made active again; the wave halted: $reason"
invariants B 1 "$TB_NS" "$(date +%s%N)"

# --- wave C: seccomp installs made effective in the drain ---
hctl 2 wave abort --reason "wave B seen through" >/dev/null
rm "$WAVE_REPO/pool/bookworm-security/broken-t_1.0-2_amd64.deb"
repo_suite "$WAVE_REPO" bookworm-security Debian-Security "$WAVE_DEBS/bash-t_5.2-2_amd64.deb"
for i in 2 4; do
        out=$(hctl "$i" --json seccomp install "$HOSTD_SRC/policy/profiles/hostd-hardened.json")
        expect_eq "$(jq -r .restart_pending <<<"$out")" true "node $i: a seccomp install waits for dockerd's restart"
done
for i in 2 3 4; do
        docker_on 1 node update --label-add hostd-wave-c=yes "$(var "$i" NAME)" >/dev/null
        cp "$(var "$i" PIDFILE)" "$TMP/dockerd$i.before"
done
plans_sent 1
TC_NS=$(date +%s%N)
out=$(hctl 1 wave start --label hostd-wave-c=yes --deadline 5m)
expect_contains "$out" "wave w-" "wave C starts on nodes 2, 3 and 4"
WAVE_C=$(wave_json | jq -r .wave.id)
wait_until 400 "wave C ends" wave_over
c=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$c")" done "wave C is done$(jq -r 'if .wave.reason != "" then ": " + .wave.reason else "" end' <<<"$c")"
expect_eq "$(jq -r '[.wave.nodes[] | select(.step == "done")] | length' <<<"$c")" 3 "its 3 nodes are done"
for i in 2 3 4; do hctl "$i" --json changes >"$TMP/changes-c$i.json"; done
for i in 1 2 3; do hctl "$i" --json changes 2>/dev/null; done | jq -s '[.[].changes[]]' >"$TMP/changes-c-managers.json"
change_time() { # KIND HOSTNAME: when the managers recorded it for wave C
        jq -r --arg k "$1" --arg n "$2" --arg w "$WAVE_C" \
                '[.[] | select(.kind == $k and .fields.wave == $w and .fields.node == $n) | .time_usec] | min // 0' \
                "$TMP/changes-c-managers.json"
}
for i in 2 4; do
        expect_eq "$(cat "$TMP/n$i/root/usr/share/bash-t/version")" 5.2-2 "node $i has the update"
        expect_eq "$(wc -l <"$TMP/n$i/reboots")" 1 "node $i did not reboot for it"
        restart=$(jq -r --arg w "$WAVE_C" '[.changes[] | select(.kind == "docker-restart" and .fields.wave == $w) | .time_usec] | min // 0' "$TMP/changes-c$i.json")
        drain=$(change_time node-drain "$(var "$i" NAME)")
        activate=$(change_time node-activate "$(var "$i" NAME)")
        [ "$restart" != 0 ] || fail "node $i: no docker-restart change record in wave C"
        [ "$drain" != 0 ] && [ "$activate" != 0 ] || fail "node $i: no drain or activate record (drain $drain, activate $activate)"
        [ "$drain" -lt "$restart" ] && [ "$restart" -lt "$activate" ] ||
                fail "node $i: Docker restarted at $restart, not between its drain ($drain) and activation ($activate)"
        ok "node $i: its agent restarted Docker while drained ($(( (restart - drain) / 1000 )) ms after the drain, $(( (activate - restart) / 1000 )) ms before activation)"
        [ "$(cat "$(var "$i" PIDFILE)")" != "$(cat "$TMP/dockerd$i.before")" ] || fail "node $i: dockerd is the one from before the wave"
        expect_contains "$(docker_on "$i" info --format '{{json .SecurityOptions}}')" "profile=$TMP/n$i/etc-docker/hostd-hardened.json" \
                "node $i: docker info names the installed profile as its default"
        audit=$(hctl "$i" --json seccomp audit || true)
        expect_eq "$(jq -r '"\(.daemon_profile_is_ours) \(.restart_pending)"' <<<"$audit")" "true false" \
                "node $i: hostd verifies the installed default in force, the install settled"
        expect_contains "$(jq -r --arg h "$(var "$i" NAME)" '.wave.nodes[] | select(.hostname == $h) | .message' <<<"$c")" "installed; Docker restarted for the seccomp install" \
                "node $i's report: patched, and Docker restarted"
done
expect_eq "$(jq '[.changes[] | select(.kind == "docker-restart")] | length' "$TMP/changes-c3.json")" 0 \
        "node 3 (no install pending): no Docker restart"
expect_eq "$(cat "$(var 3 PIDFILE)")" "$(cat "$TMP/dockerd3.before")" "node 3's dockerd kept running through its turn"
expect_eq "$(cat "$TMP/n3/root/usr/share/bash-t/version")" 5.2-2 "node 3 has the update"
summary "wave C ($WAVE_C): bash-t 5.2-2 (no reboot) on nodes 2, 3, 4; nodes 2 and 4 had a seccomp install pending: each restarted Docker while drained and was made active only with the installed default in force; node 3's dockerd was not restarted"
invariants C 1 "$TC_NS" "$(date +%s%N)"

echo
echo "== wave end-to-end summary =="
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "$CHECKS checks passed"
