#!/bin/bash
# A wave behind load balancers that do not retry (`make check`): a Swarm of
# 3 managers and 2 workers, hostd and its firewall on every node, a
# 3-replica HTTP service published in host mode on 443 (one task per node
# at most), and haproxy in the outside namespace as the load balancer, a
# request every 50 ms through each of its frontends for the whole wave:
#   retrying     retries and redispatch, a check of 443 every 300 ms;
#   cloud-hostd  as a cloud load balancer: no retries, a check every 2 s,
#                two failures to mark a server down, checking hostd's
#                health endpoint (load-balancer.health-port 8080);
#   cloud-port   the same, checking 443 itself: what a balancer sees
#                without hostd's endpoint (measured, for comparison).
# Every node is patched and rebooted (simulated) in turn. The wave chooses
# a node, hostd's endpoint there answers 503 at once, and the node is
# drained only after the deregistration delay (8 s: the check interval
# times its threshold, and some), so the balancer has stopped sending to it
# before Swarm stops its task. Target: no failed request through either
# balancer checking hostd's endpoint or retrying; printed as requests sent
# and failed.
. "$(dirname "$0")/lib.sh"
need_built
command -v haproxy >/dev/null || fail "haproxy is not installed (make deps installs it)"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-l}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/wave-lb}"
export WAVE_WORKERS=2
DELAY=8
export WAVE_HOSTD_EXTRA='"load-balancer": {"health-port": 8080, "sources": ["@OUTSIDE_ADDR@/32"], "serving-ports": [443], "deregistration-delay-seconds": '$DELAY'}'
. "$HOSTD_SRC/tests/harness/wavecluster.sh"
from_outside() { nsenter --net="$OUTSIDE_NETNS" "$@"; }
health() { # I -> "CODE BODY" of node I's endpoint, asked from outside
        from_outside curl -s -m 2 -w ' %{http_code}' "http://$(var "$1" ADDR):8080/" 2>/dev/null | tr -d '\n' || true
}
health_is() { # I PATTERN: node I's endpoint answers so
        # shellcheck disable=SC2053
        [[ "$(health "$1")" == $2 ]]
}
tcp_probe() { # NETNS ADDR PORT -> open | refused | filtered
        local rc=0
        nsenter --net="$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null || rc=$?
        case $rc in 0) echo open ;; 124) echo filtered ;; *) echo refused ;; esac
}

"$SWARM" service-create web 3 --replicas-max-per-node 1 --publish mode=host,target=80,published=443 \
        -- sh -c 'mkdir -p /www && hostname >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
with_task() { docker_on 1 service ps web --filter desired-state=running --format '{{.Node}}' | sort; }
expect_eq "$(with_task | wc -l)" 3 "web runs 3 replicas, one per node at most, published in host mode on 443"

# --- hostd's endpoint, before the wave ---
serving=0
for i in $(seq $N); do
        if with_task | grep -qx "$(var "$i" NAME)"; then
                wait_until 20 "node $i's endpoint says in service" health_is "$i" '* 200'
                serving=$((serving + 1))
        else
                wait_until 20 "node $i's endpoint says out of service" health_is "$i" '*no running container publishes 443 503'
        fi
done
expect_eq "$serving" 3 "hostd's endpoint: 200 on the 3 nodes with a task, 503 (no container publishes 443) on the other 2"
[ "$(tcp_probe "$(var 1 NETNS)" "$(var 2 ADDR)" 8080)" = filtered ] || fail "node 2's health port is reachable from node 1"
ok "the health port is admitted from the load balancer's address only (from node 1: filtered)"

# --- haproxy in the outside namespace ---
from_outside ip link set lo up
cfg="$TMP/haproxy.cfg"
{
        cat <<HAEOF
global
    log stdout format raw local0
    stats socket $TMP/haproxy.sock mode 600 level admin
defaults
    mode http
    log global
    option dontlog-normal
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend retrying
    bind 127.0.0.1:8001
    default_backend retrying
frontend cloud-hostd
    bind 127.0.0.1:8002
    default_backend cloud-hostd
frontend cloud-port
    bind 127.0.0.1:8003
    default_backend cloud-port
backend retrying
    retries 3
    option redispatch 1
    default-server inter 300ms fall 2 rise 2
HAEOF
        for i in $(seq $N); do echo "    server n$i $(var "$i" ADDR):443 check"; done
        cat <<HAEOF
backend cloud-hostd
    retries 0
    option httpchk GET /
    http-check expect status 200
    default-server inter 2s fall 2 rise 2
HAEOF
        for i in $(seq $N); do echo "    server n$i $(var "$i" ADDR):443 check port 8080"; done
        cat <<HAEOF
backend cloud-port
    retries 0
    default-server inter 2s fall 2 rise 2
HAEOF
        for i in $(seq $N); do echo "    server n$i $(var "$i" ADDR):443 check"; done
} >"$cfg"
haproxy -c -q -f "$cfg" || fail "haproxy refuses its configuration"
from_outside haproxy -db -f "$cfg" > >(perl -MTime::HiRes=time -ne '$|=1; printf "%.3f %s", time, $_' >>"$TMP/haproxy.log") 2>&1 &
HAPROXY=$!
on_exit "kill $HAPROXY 2>/dev/null; pkill -f 'haproxy -db -f $cfg' 2>/dev/null"
up_servers() { # BACKEND -> how many of its servers haproxy has UP
        echo "show stat" | socat - "UNIX-CONNECT:$TMP/haproxy.sock" 2>/dev/null |
                awk -F, -v b="$1" '$1 == b && $2 ~ /^n[0-9]+$/ && $18 ~ /^UP/ { n++ } END { print n + 0 }'
}
backend_has_up() { [ "$(up_servers "$1")" = "$2" ]; }
for b in retrying cloud-hostd cloud-port; do
        wait_until 30 "haproxy's $b backend to have the 3 nodes with a task up" backend_has_up "$b" 3
done
ok "haproxy: each backend has the 3 nodes with a task up, the 2 without down"

# --- a request every 50 ms through each balancer, the whole wave ---
for f in retrying:8001 cloud-hostd:8002 cloud-port:8003; do
        # (nsenter execs the client: $! is its PID, which SIGTERM ends)
        nsenter --net="$OUTSIDE_NETNS" "$HOSTD_SRC/tests/harness/lb-load.py" "http://127.0.0.1:${f#*:}/" 0.05 \
                "$TMP/load-${f%%:*}.json" &
        echo $! >"$TMP/load-${f%%:*}.pid"
        on_exit "kill $! 2>/dev/null"
done
sleep 2

plans_sent 1
t0=$(date +%s)
out=$(hctl 1 wave start --max-unavailable 1 --deadline 5m)
expect_contains "$out" "wave w-" "the wave starts over the $N nodes"
expect_eq "$(wave_json | jq -r '.wave.deregistration_delay')" "$((DELAY * 1000000))" \
        "its deregistration delay is the manager's load-balancer.deregistration-delay-seconds ($DELAY s)"
wave_over() { local st; st=$(wave_json | jq -r .wave.status); [ "$st" = done ] || [ "$st" = halted ]; }
wait_until 900 "the wave ends" wave_over
t1=$(date +%s)
sleep 3 # the last node back in the balancers' view
for f in retrying cloud-hostd cloud-port; do kill -TERM "$(cat "$TMP/load-$f.pid")"; done
for f in retrying cloud-hostd cloud-port; do wait_until 10 "the $f client's count" test -s "$TMP/load-$f.json"; done
final=$(wave_json)
expect_eq "$(jq -r .wave.status <<<"$final")" done "the wave is done$(jq -r 'if .wave.reason != "" then ": " + .wave.reason else "" end' <<<"$final")"
expect_eq "$(jq -r '[.wave.nodes[] | select(.step == "done")] | length' <<<"$final")" "$N" "every node is done"
for i in $(seq $N); do
        expect_eq "$(cat "$TMP/n$i/root/usr/share/openssl-t/version")" 3.0.13-1 "node $i is patched"
        expect_eq "$(wc -l <"$TMP/n$i/reboots")" 1 "node $i rebooted once"
done

# --- what each node's endpoint and the managers recorded ---
for i in $(seq $N); do
        grep -q "Load balancer health: 503, out of service: draining in wave" "$TMP/hostd$i.log" ||
                fail "node $i's endpoint never answered 503 while chosen"
done
ok "every node's endpoint answered 503 while the wave held it"
for i in 1 2 3; do hctl "$i" --json changes 2>/dev/null; done | jq -s '[.[].changes[]]' >"$TMP/changes-managers.json"
replaced=$(jq -r '[.[] | select(.kind == "node-tasks-replaced") | "\(.fields.node): \(.fields.replaced)"] | unique | join("; ")' \
        "$TMP/changes-managers.json")
[ -n "$replaced" ] || fail "no node-tasks-replaced record"
expect_contains "$replaced" "web " "the managers recorded how long each drained node's services took to run elsewhere"

# the invariant behind the count: the balancer checking hostd's endpoint
# had every node down before its drain (haproxy's log against the drains
# the managers recorded), by how much at least
margin=$(python3 - "$TMP/haproxy.log" "$TMP/changes-managers.json" "$(jq -r .wave.id <<<"$final")" "$HOSTD_SWARM_PREFIX" "$N" <<'PY'
import json, re, sys
log, changes, wave, prefix, n = sys.argv[1:]
events = {}
for line in open(log, encoding="utf-8", errors="replace"):
    m = re.match(r"(\d+\.\d+) Server cloud-hostd/n(\d+) is (UP|DOWN)", line)
    if m:
        events.setdefault(int(m[2]), []).append((float(m[1]), m[3]))
drains = {(c["fields"]["node"], c["time_usec"] // 1000000) : c["time_usec"] / 1e6
          for c in json.load(open(changes)) if c["kind"] == "node-drain" and c["fields"].get("wave") == wave}
margins = []
for (host, _), t in sorted(drains.items(), key=lambda kv: kv[1]):
    i = int(host[len(prefix) + 1:])  # hostd-lN -> N
    before = [e for e in events.get(i, []) if e[0] < t]
    if not before or before[-1][1] != "DOWN":
        sys.exit(f"node {i} was not down in cloud-hostd when drained at {t:.3f}: {before[-1:] or 'never down'}")
    margins.append(t - before[-1][0])
if len(margins) != len(set(h for h, _ in drains)):
    sys.exit("a node drained twice")
if len(margins) != int(n):
    sys.exit(f"{len(margins)} drains recorded by the managers, not one per node ({n})")
print(f"{len(margins)} drains, the balancer had each node down {min(margins):.1f} s before it at least")
PY
) || fail "cloud-hostd: $margin"
ok "cloud-hostd: $margin"

# --- the measurement ---
printf '\n%-12s %-44s %8s %7s\n' BALANCER CHECK SENT FAILED
for f in retrying cloud-hostd cloud-port; do
        case $f in
        retrying) what="443 every 300 ms; retries, redispatch" ;;
        cloud-hostd) what="hostd's endpoint every 2 s, fall 2; no retry" ;;
        cloud-port) what="443 every 2 s, fall 2; no retry" ;;
        esac
        printf '%-12s %-44s %8s %7s\n' "$f" "$what" "$(jq .sent "$TMP/load-$f.json")" "$(jq .failed "$TMP/load-$f.json")"
done
echo "(wave of $N nodes, $((t1 - t0)) s, deregistration delay $DELAY s; node-tasks-replaced: $replaced)"
for f in retrying cloud-hostd; do
        failed=$(jq .failed "$TMP/load-$f.json")
        [ "$failed" = 0 ] || fail "$f: $failed of $(jq .sent "$TMP/load-$f.json") requests failed: $(jq -c '.failures[:5]' "$TMP/load-$f.json")"
        [ "$(jq .sent "$TMP/load-$f.json")" -gt $(( (t1 - t0) * 10 )) ] || fail "$f: too few requests sent"
        ok "$f: no request failed of $(jq .sent "$TMP/load-$f.json")"
done
echo "$CHECKS checks passed"
