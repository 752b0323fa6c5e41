#!/bin/bash
# The wave node protocol on a real Swarm (a manager and a worker): FleetLock
# over HTTPS with the Swarm's own certificates, served by the manager's
# hostd. Refused: no client certificate, a certificate of another CA, a
# node speaking for another, a request without the FleetLock header, and
# any connection from outside the Swarm (the firewall admits the port from
# peers only). Then the worker, with curl as its client, goes through a wave:
# told to wait while it drains, allowed once its tasks are gone, reporting
# steady state, made active again; and a failure report halts the wave with
# the node made active on its old state.
. "$(dirname "$0")/lib.sh"
need_built
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-p}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/wave-proto}"

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 1 1 >/dev/null
eval "$("$SWARM" env)"

printf '{"swarm": {"refresh-seconds": 1}, "wave": {"agent": false}, "posture": {"report-seconds": 2}, "state-directory": "%s"}\n' \
        "$TMP/state" >"$TMP/hostd.json"
DOCKER_HOST="unix://$NODE1_SOCK" start_hostd n1 "$NODE1_NETNS" --config "$TMP/hostd.json" --socket "$TMP/h1.sock"
wait_until 20 "the node protocol is served" grep -q "Serving the wave node protocol on port 9443" "$TMP/n1.log"
ok "the manager's hostd serves the node protocol on 9443"

# the worker's Swarm certificate; curl (OpenSSL) wants the key without
# Swarm's PEM headers, as hostd strips them for GnuTLS
CERTS="$NODE2_DATA_ROOT/swarm/certificates"
grep -v -e '^kek-version:' -e '^raft-dek:' "$CERTS/swarm-node.key" | sed '/^$/d' >"$TMP/worker.key"
WORKER_ID=$NODE2_ID
fl() { # PATH [curl args...]: as the worker, from its own namespace
        local path=$1
        shift
        nsenter --net="$NODE2_NETNS" curl -sS --max-time "${FL_MAX_TIME:-10}" --connect-to "swarm-manager:9443:$NODE1_ADDR:9443" \
                --cacert "$CERTS/swarm-root-ca.crt" -w '\n%{http_code}' "$@" "https://swarm-manager:9443$path"
}
as_worker=(--cert "$CERTS/swarm-node.crt" --key "$TMP/worker.key")
fleetlock=(-H 'fleet-lock-protocol: true' -H 'Content-Type: application/json')
params() { printf '{"client_params": {"id": "%s", "group": "default"}%s}' "$1" "${2:-}"; }

out=$(fl /v1/pre-reboot -XPOST "${fleetlock[@]}" -d "$(params "$WORKER_ID")")
expect_eq "$(tail -1 <<<"$out")" 401 "no client certificate: 401"
expect_contains "$out" '"kind":"client_certificate"' "with FleetLock's error kind"
# a CA of our own making, a certificate with the worker's very subject
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ca.key" -out "$TMP/ca.crt" \
        -subj "/CN=swarm-ca" -days 1 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/fake.key" -out "$TMP/fake.csr" \
        -subj "$(openssl x509 -in "$CERTS/swarm-node.crt" -noout -subject -nameopt compat | sed 's/^subject=//')" 2>/dev/null
openssl x509 -req -in "$TMP/fake.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial -out "$TMP/fake.crt" \
        -days 1 2>/dev/null
out=$(fl /v1/pre-reboot -XPOST --cert "$TMP/fake.crt" --key "$TMP/fake.key" "${fleetlock[@]}" -d "$(params "$WORKER_ID")")
expect_eq "$(tail -1 <<<"$out")" 401 "a certificate from another CA, with the same subject: 401"
# GnuTLS names the issuer unknown, or (the fake CA has the Swarm CA's very name)
# the signature invalid: either way, not trusted
expect_contains "$out" "the client certificate does not verify: The certificate is NOT trusted" "saying it does not verify"
out=$(fl /v1/pre-reboot -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$NODE1_ID")")
expect_eq "$(tail -1 <<<"$out")" 403 "the worker speaking for the manager: 403"
expect_contains "$out" "the client certificate is node $WORKER_ID's: it cannot speak for node $NODE1_ID" "naming both"
out=$(fl /v1/pre-reboot -XPOST "${as_worker[@]}" -H 'Content-Type: application/json' -d "$(params "$WORKER_ID")")
expect_eq "$(tail -1 <<<"$out")" 400 "no fleet-lock-protocol header: 400"
out=$(fl /v1/pre-reboot -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d '{"client_params": {"id": 5}}')
expect_eq "$(tail -1 <<<"$out")" 400 "malformed client_params: 400"
out=$(fl /v1/pre-reboot -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$WORKER_ID")")
expect_eq "$(tail -1 <<<"$out")" 409 "no wave: 409"
expect_contains "$out" "the node is not in a wave" "with the reason"

# the firewall: the port is for peers
probe() { nsenter --net="$1" timeout 3 bash -c "exec 3<>/dev/tcp/$NODE1_ADDR/9443" 2>/dev/null && echo open || echo closed; }
wait_until 20 "the firewall admits the worker" bash -c "nsenter --net='$NODE2_NETNS' timeout 2 bash -c 'exec 3<>/dev/tcp/$NODE1_ADDR/9443'"
expect_eq "$(probe "$NODE2_NETNS")" open "9443 open to the Swarm peer"
expect_eq "$(probe "$OUTSIDE_NETNS")" closed "9443 closed to the outside"

# --- the cluster view: summaries sent to the managers ---
cluster() { "$HOSTCTL" --socket "$TMP/h1.sock" --json posture --cluster || true; }
row() { cluster | jq -r --arg id "$1" ".nodes[] | select(.node_id == \$id) | .$2"; }
wait_until 20 "the manager's own summary" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json posture --cluster | jq -r --arg id '$NODE1_ID' '.nodes[] | select(.node_id == \$id) | .status')\" != missing ]"
status1=$(row "$NODE1_ID" status)
case $status1 in pass | fail) ok "the manager's hostd sent its own posture to itself ($status1)" ;; *) fail "manager row: $status1" ;; esac
expect_eq "$(row "$NODE1_ID" summary.fail)" "$("$HOSTCTL" --socket "$TMP/h1.sock" --json posture | jq .summary.fail)" \
        "its row counts the failures its own posture has"
expect_eq "$(row "$WORKER_ID" status)" missing "the worker, without hostd, is missing"
set +e
"$HOSTCTL" --socket "$TMP/h1.sock" posture --cluster >"$TMP/cluster.txt"; rc=$?
set -e
expect_eq "$rc" 1 "posture --cluster exits 1 while a node is missing"
grep -q "missing" "$TMP/cluster.txt" || fail "the table does not say missing"
ok "the table shows the missing node"
summary() { # FAIL INTERVAL -> a summary as a node's hostd sends it
        printf '{"hostname": "worker", "compliant": %s, "pass": 20, "fail": %s, "warn": 0, "not_applicable": 2, "failing": %s, "hostd_version": "0.1.0", "generated_usec": %s, "interval_seconds": %s}' \
                "$([ "$1" = 0 ] && echo true || echo false)" "$1" "$([ "$1" = 0 ] && echo '[]' || echo '["firewall.exposed"]')" \
                "$(date +%s)000000" "$2"
}
out=$(fl /v1/posture -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$WORKER_ID" ", \"posture\": $(summary 1 60)")")
expect_eq "$(tail -1 <<<"$out")" 200 "the worker sends its summary: 200"
expect_eq "$(row "$WORKER_ID" status)" fail "its row says fail"
cluster >"$TMP/cluster.json"
python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
        "$TMP/cluster.json" "$HOSTD_SRC/docs/posture-cluster.schema.json"
ok "the cluster view validates against docs/posture-cluster.schema.json"
grep -q "firewall.exposed" <<<"$("$HOSTCTL" --socket "$TMP/h1.sock" posture --cluster || true)" || fail "the failing check is not shown"
ok "the table names the failing check"
out=$(fl /v1/posture -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$NODE1_ID" ", \"posture\": $(summary 0 60)")")
expect_eq "$(tail -1 <<<"$out")" 403 "the worker sending the manager's posture: 403"
out=$(fl /v1/posture -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$WORKER_ID" ", \"posture\": $(summary 0 60 | jq -c '.fail = -1')")")
expect_eq "$(tail -1 <<<"$out")" 400 "a malformed summary: 400"
expect_contains "$out" "posture.fail: not a count of checks" "naming the member"
expect_eq "$(row "$WORKER_ID" status)" fail "and the board keeps the last good one"
# a summary due every second, then none: stale after three
fl /v1/posture -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$WORKER_ID" ", \"posture\": $(summary 0 1)")" >/dev/null
expect_eq "$(row "$WORKER_ID" status)" pass "a passing summary replaces it"
wait_until 10 "the worker's row goes stale" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json posture --cluster | jq -r --arg id '$WORKER_ID' '.nodes[] | select(.node_id == \$id) | .status')\" = stale ]"
ok "a node that stops sending goes stale after three of its intervals"

# --- a wave over the worker, curl as its client ---
"$SWARM" service-create web 2 >/dev/null
"$DOCKER" -H "unix://$NODE1_SOCK" node update --label-add wave=yes "$WORKER_ID" >/dev/null
"$HOSTCTL" --socket "$TMP/h1.sock" wave start --any-version --label wave=yes --deadline 120s >/dev/null
ok "a wave over the worker starts"
may() { fl /v1/pre-reboot -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$WORKER_ID")" | tail -1; }
# asked while draining, the question is held until the worker's tasks have
# stopped (web's sleep ignores SIGTERM: Docker kills it after 10 s)
wait_until 30 "the worker is draining" bash -c "'$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -e --arg id '$WORKER_ID' '.wave.nodes[] | select(.id == \$id) | .step == \"draining\"' >/dev/null"
t0=$(date +%s%N)
first=$(FL_MAX_TIME=40 may)
held_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "$first" 200 "pre-reboot asked while draining: answered 200 after ${held_ms} ms, once its tasks were gone"
[ "$held_ms" -gt 1000 ] || fail "pre-reboot was answered at once (${held_ms} ms), not held while the tasks stopped"
expect_eq "$("$DOCKER" -H "unix://$NODE1_SOCK" node inspect "$WORKER_ID" --format '{{.Spec.Availability}}')" drain "the worker is drained"
wait_until 20 "web's 2 replicas running on the manager" bash -c "[ \"\$('$DOCKER' -H unix://$NODE1_SOCK service ps web --filter desired-state=running --format '{{.CurrentState}}' | grep -c ^Running)\" = 2 ]"
ok "web's 2 replicas run on the manager"
out=$(fl /v1/wave "${as_worker[@]}" -H 'fleet-lock-protocol: true')
expect_eq "$(head -1 <<<"$out" | jq -r --arg id "$WORKER_ID" '.wave.nodes[] | select(.id == $id) | .step')" patching \
        "GET /v1/wave: the worker's own step"
wave_id() { "$HOSTCTL" --socket "$TMP/h1.sock" --json wave status | jq -r .wave.id; }
# a late report of another (aborted) wave is not this one's
out=$(fl /v1/steady-state -XPOST "${as_worker[@]}" "${fleetlock[@]}" \
        -d "$(params "$WORKER_ID" ', "wave": {"id": "w-20200101T000000.000Z", "ok": true, "healthy": true, "message": "late", "transaction": "tx-0"}')")
expect_eq "$(tail -1 <<<"$out")" 409 "a report for another wave is refused"
expect_contains "$(head -1 <<<"$out")" "the report is for wave w-20200101T000000.000Z" "naming the wave it was for"
expect_eq "$(fl /v1/wave "${as_worker[@]}" -H 'fleet-lock-protocol: true' | head -1 | jq -r --arg id "$WORKER_ID" '.wave.nodes[] | select(.id == $id) | .step')" \
        patching "and the node is still patching"
out=$(fl /v1/steady-state -XPOST "${as_worker[@]}" "${fleetlock[@]}" \
        -d "$(params "$WORKER_ID" ', "wave": {"id": "'"$(wave_id)"'", "ok": true, "healthy": true, "message": "3 package(s) installed", "transaction": "tx-1"}')")
expect_eq "$(tail -1 <<<"$out")" 200 "steady-state accepted"
wait_until 20 "the wave is done" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .wave.status)\" = done ]"
ok "the wave is done"
expect_eq "$("$DOCKER" -H "unix://$NODE1_SOCK" node inspect "$WORKER_ID" --format '{{.Spec.Availability}}')" active "the worker is active again"
expect_contains "$("$HOSTCTL" --socket "$TMP/h1.sock" wave status)" "3 package(s) installed" "its report in the wave's table"
out=$(fl /v1/steady-state -XPOST "${as_worker[@]}" "${fleetlock[@]}" \
        -d "$(params "$WORKER_ID" ', "wave": {"id": "'"$(wave_id)"'", "ok": true, "healthy": true, "message": "again", "transaction": "tx-1"}')")
expect_eq "$(tail -1 <<<"$out")" 200 "the same report again (its answer lost) is answered as taken"
expect_contains "$("$HOSTCTL" --socket "$TMP/h1.sock" wave status)" "3 package(s) installed" "and changes nothing"
out=$(fl /v1/steady-state -XPOST "${as_worker[@]}" "${fleetlock[@]}" \
        -d "$(params "$WORKER_ID" ', "wave": {"id": "'"$(wave_id)"'", "ok": true, "healthy": true, "message": "other", "transaction": "tx-9"}')")
expect_eq "$(tail -1 <<<"$out")" 409 "another report from a node no longer patching is refused"
out=$(fl /v1/steady-state -XPOST "${as_worker[@]}" "${fleetlock[@]}" -d "$(params "$WORKER_ID")")
expect_eq "$(tail -1 <<<"$out")" 200 "a plain FleetLock client releasing at boot a lock it does not hold: 200"

# --- a failure report: the node rolled back, is healthy: active, wave halted ---
"$HOSTCTL" --socket "$TMP/h1.sock" wave start --any-version --label wave=yes --deadline 120s >/dev/null
wait_until 30 "the worker may patch again" bash -c "[ \"\$(nsenter --net='$NODE2_NETNS' curl -s -o /dev/null -w '%{http_code}' --connect-to swarm-manager:9443:$NODE1_ADDR:9443 --cacert '$CERTS/swarm-root-ca.crt' --cert '$CERTS/swarm-node.crt' --key '$TMP/worker.key' -H 'fleet-lock-protocol: true' -H 'Content-Type: application/json' -XPOST -d '$(params "$WORKER_ID")' https://swarm-manager:9443/v1/pre-reboot)\" = 200 ]"
fl /v1/steady-state -XPOST "${as_worker[@]}" "${fleetlock[@]}" \
        -d "$(params "$WORKER_ID" ', "wave": {"id": "'"$(wave_id)"'", "ok": false, "healthy": true, "message": "postinst of openssl-t failed; rolled back", "transaction": "tx-2"}')" >/dev/null
wait_until 20 "the wave halts" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/h1.sock' --json wave status | jq -r .wave.status)\" = halted ]"
expect_contains "$("$HOSTCTL" --socket "$TMP/h1.sock" --json wave status | jq -r .wave.reason)" \
        "failed and was rolled back: postinst of openssl-t failed; rolled back" "the reason names the node's report"
wait_until 20 "the worker active again" bash -c "[ \"\$('$DOCKER' -H unix://$NODE1_SOCK node inspect $WORKER_ID --format '{{.Spec.Availability}}')\" = active ]"
ok "healthy on its old state: made active again"

# --- certificate rotation: a new Swarm CA, new node certificates ---
old_ca=$(cat "$CERTS/swarm-root-ca.crt")
"$DOCKER" -H "unix://$NODE1_SOCK" swarm ca --rotate --detach >/dev/null
wait_until 90 "the worker's new CA" bash -c "[ \"\$(cat '$CERTS/swarm-root-ca.crt')\" != '$old_ca' ]"
wait_until 90 "the worker's certificate under the new CA" bash -c "openssl verify -CAfile '$CERTS/swarm-root-ca.crt' '$CERTS/swarm-node.crt' >/dev/null"
grep -v -e '^kek-version:' -e '^raft-dek:' "$CERTS/swarm-node.key" | sed '/^$/d' >"$TMP/worker.key"
wait_until 30 "hostd serves with the new certificates" bash -c "[ \"\$(nsenter --net='$NODE2_NETNS' curl -s -o /dev/null -w '%{http_code}' --connect-to swarm-manager:9443:$NODE1_ADDR:9443 --cacert '$CERTS/swarm-root-ca.crt' --cert '$CERTS/swarm-node.crt' --key '$TMP/worker.key' -H 'fleet-lock-protocol: true' -H 'Content-Type: application/json' -XPOST -d '$(params "$WORKER_ID")' https://swarm-manager:9443/v1/pre-reboot)\" = 409 ]"
ok "after a CA rotation the worker's new certificate is accepted"
expect_contains "$(cat "$TMP/n1.log")" "Swarm certificates changed" "hostd reloaded them when they changed"

echo "test-wave-protocol: $CHECKS checks passed"
