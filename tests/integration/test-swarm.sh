#!/bin/bash
# hostd against a real 4-node Swarm (3 managers, 1 worker, each dockerd in
# its own network namespace): node ID, role and leadership as Swarm reports
# them; the events stream surviving a dockerd restart; optimistic
# concurrency on node and swarm updates; tasks by node; Docker down and back.
. "$(dirname "$0")/lib.sh"
need_built
CLIENT="$HOSTD_SRC/$BUILD/tests/docker-client"
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-t}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm-itest}"

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 3 1
eval "$("$SWARM" env)"
ok "swarm of $HOSTD_SWARM_NODES nodes up"

docker_on() { local sock=$1; shift; "$DOCKER" -H "unix://$sock" "$@"; }

# --- hostd on node1 (manager, leader), node2 (manager) and node4 (worker) ---
for i in 1 2 4; do
        sock_var="NODE${i}_SOCK"; netns_var="NODE${i}_NETNS"
        # node2 re-reads only on events (the hourly timer never fires here)
        refresh=2
        [ "$i" = 2 ] && refresh=3600
        printf '{"swarm": {"refresh-seconds": %d}, "state-directory": "%s"}\n' "$refresh" "$TMP/state$i" >"$TMP/hostd$i.json"
        DOCKER_HOST="unix://${!sock_var}" start_hostd "n$i" "${!netns_var}" \
                --config "$TMP/hostd$i.json" --socket "$TMP/h$i.sock"
done
for i in 1 2 4; do
        wait_until 20 "hostd $i knows its swarm node" \
                bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h$i.sock' --json status | jq -r '.swarm.node_id // empty')\" != '' ]"
done

leader_of() { # the leader flag as dockerd itself reports it
        local sock=$1
        docker_on "$sock" node inspect self --format '{{if .ManagerStatus}}{{.ManagerStatus.Leader}}{{else}}false{{end}}'
}

s1=$("$HOSTCTL" --socket "$TMP/h1.sock" --json status)
expect_eq "$(jq -r .swarm.node_id <<<"$s1")" "$NODE1_ID" "node1: node ID"
expect_eq "$(jq -r .swarm.role <<<"$s1")" manager "node1: role manager"
expect_eq "$(jq -r .swarm.hostname <<<"$s1")" "$NODE1_NAME" "node1: hostname"
expect_eq "$(jq -r .docker.reachable <<<"$s1")" true "node1: Docker reachable"
wait_until 10 "node1 leadership settled" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json status | jq -r .swarm.leader)\" = '$(leader_of "$NODE1_SOCK")' ]"
expect_eq "$(status_field "$TMP/h1.sock" .swarm.leader)" "true" "node1 (swarm init) is the leader"
table=$("$HOSTCTL" --socket "$TMP/h1.sock" status)
expect_contains "$table" "leader       yes" "hostctl status table says leader yes"
expect_contains "$table" "$NODE1_ID" "hostctl status table shows the node ID"

s2=$("$HOSTCTL" --socket "$TMP/h2.sock" --json status)
expect_eq "$(jq -r .swarm.node_id <<<"$s2")" "$NODE2_ID" "node2: node ID"
expect_eq "$(jq -r .swarm.role <<<"$s2")" manager "node2: role manager"
expect_eq "$(jq -r .swarm.leader <<<"$s2")" false "node2: not the leader"

s4=$("$HOSTCTL" --socket "$TMP/h4.sock" --json status)
expect_eq "$(jq -r .swarm.node_id <<<"$s4")" "$NODE4_ID" "node4: node ID"
expect_eq "$(jq -r .swarm.role <<<"$s4")" worker "node4: role worker"
expect_eq "$(jq -r .swarm.leader <<<"$s4")" false "node4: not the leader"

# --- the events stream survives a dockerd restart ---
connects=$(status_field "$TMP/h1.sock" .docker.events_connects)
expect_eq "$connects" 1 "node1: events stream connected once"
"$SWARM" dockerd-restart 1
wait_until 30 "hostd1 reconnects its events stream" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json status | jq -r .docker.events_connects)\" -ge 2 ]"
grep -q "Docker at $NODE1_SOCK unreachable" "$TMP/n1.log" || fail "hostd1 did not log the outage"
ok "hostd1 noticed dockerd going away"
expect_eq "$(status_field "$TMP/h1.sock" .docker.reachable)" true "node1: Docker reachable again"
wait_until 60 "the swarm has a leader again" bash -c "'$DOCKER' -H 'unix://$NODE2_SOCK' node ls | grep -q Leader"
events=$(status_field "$TMP/h1.sock" .docker.events_received)
docker_on "$NODE1_SOCK" node update --label-add hostd.test.event=1 "$NODE2_ID" >/dev/null
wait_until 10 "hostd1 receives events after the restart" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json status | jq -r .docker.events_received)\" -gt $events ]"
ok "events flow on the new stream"
# Leadership may have moved with the restart: hostd must agree with dockerd.
for i in 1 2; do
        sock_var="NODE${i}_SOCK"
        wait_until 15 "hostd$i agrees with dockerd on leadership" \
                bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h$i.sock' --json status | jq -r .swarm.leader)\" = \"\$('$DOCKER' -H 'unix://${!sock_var}' node inspect self --format '{{.ManagerStatus.Leader}}')\" ]"
        ok "node$i: leader=$(status_field "$TMP/h$i.sock" .swarm.leader), as dockerd says"
done

# --- a node event makes hostd re-read the Swarm at once (no timer here) ---
reads=$(status_field "$TMP/h2.sock" .docker.info_reads)
docker_on "$NODE1_SOCK" node update --label-add hostd.test.event=2 "$NODE3_ID" >/dev/null
wait_until 10 "hostd2 re-reads /info after a node event" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h2.sock' --json status | jq -r .docker.info_reads)\" -gt $reads ]"
ok "node events drive hostd's refresh (node2 has no refresh timer in reach)"

# --- optimistic concurrency: stale version refused, re-read and retry ---
out=$("$CLIENT" "$NODE2_SOCK" node-conflict "$NODE3_ID")
echo "$out"
expect_contains "$out" "ok   update with stale version" "node update with a stale version is a conflict"
expect_contains "$out" "ok   retry with re-read version" "retry with the re-read version succeeds"
expect_eq "$(docker_on "$NODE1_SOCK" node inspect "$NODE3_ID" --format '{{index .Spec.Labels "hostd.test.step"}}')" 2 "the retried update is what the Swarm holds"
out=$("$CLIENT" "$NODE1_SOCK" swarm-conflict)
echo "$out"
expect_contains "$out" "ok   swarm update with stale version refused" "swarm update with a stale version is a conflict"
expect_contains "$out" "ok   swarm retry with re-read version" "swarm retry succeeds"

# --- tasks filtered by node ---
docker_on "$NODE1_SOCK" service create --detach --name hostd-itest-web --replicas 4 \
        --no-resolve-image "$SWARM_IMAGE" sleep 1000000 >/dev/null
wait_until 60 "4 replicas running" bash -c "[ \"\$('$DOCKER' -H 'unix://$NODE1_SOCK' service ps hostd-itest-web --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running')\" = 4 ]"
total=0
for i in 1 2 3 4; do
        id_var="NODE${i}_ID"
        out=$("$CLIENT" "$NODE1_SOCK" tasks "${!id_var}")
        expected=$(docker_on "$NODE1_SOCK" node ps "${!id_var}" --filter desired-state=running --format '{{.ID}}' | wc -l)
        running=$(awk '/^tasks/ {print $4}' <<<"$out")
        expect_eq "$running" "$expected" "node$i: running tasks by node filter match docker node ps"
        total=$((total + running))
done
expect_eq "$total" 4 "all 4 replicas accounted for across nodes"

# --- a worker's dockerd down and back: hostd keeps serving and says so ---
"$SWARM" dockerd-stop 4
wait_until 15 "hostd4 reports Docker unreachable" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h4.sock' --json status | jq -r .docker.reachable)\" = false ]"
table=$("$HOSTCTL" --socket "$TMP/h4.sock" status)
expect_contains "$table" "UNREACHABLE" "hostctl status shows Docker down on node4"
"$SWARM" dockerd-start 4
wait_until 30 "hostd4 reconnects" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h4.sock' --json status | jq -r .docker.reachable)\" = true ]"
# dockerd answers /info while it is still rejoining ("pending"): hostd
# must settle on the node's role once the node is active again
wait_until 20 "hostd4 sees the node active as a worker again" \
        bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h4.sock' --json status | jq -r .swarm.role)\" = worker ]"
ok "node4: a worker again after dockerd came back"

echo "test-swarm: $CHECKS checks passed"
