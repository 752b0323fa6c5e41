# Sourced (bash) after tests/integration/lib.sh: a Swarm of 3 managers and
# WAVE_WORKERS workers (default 1) where every node runs hostd, its
# firewall on, with its own sandbox root
# (patching.root) fed by a local package repository, ready for patch waves:
#   - openssl-t 3.0.11-1 installed, 3.0.13-1 offered as a security update
#     whose postinst asks for a reboot (ROOT/run/reboot-required);
#   - bash-t 5.2-1 installed, 5.2-2 offered (not a security update);
#   - broken-t 1.0-1 / 1.0-2 (failing postinst) built, not installed:
#     WAVE_DEBS has them;
#   - reboots simulated by tests/harness/reboot-hook.sh (wave.reboot-command);
#   - Docker restarted for a seccomp install by swarm.sh dockerd-restart I
#     (wave.docker-restart-command); the node's installed profile is
#     $TMP/n$i/etc-docker/hostd-hardened.json, its daemon.json the one
#     swarm.sh starts its dockerd with;
#   - NODE_DIR i: $TMP/n$i, with start-hostd (restarts it like a unit
#     would), hostd.pid, boot-id, reboots, the root, crash/ (hostd's
#     crash points, armed by a file of the point's name), wrap (a command
#     hostd is started under, when there); hostd logs to
#     $TMP/hostd$i.log.
# WAVE_HOSTD_EXTRA: more members of every node's hostd.json ("@OUTSIDE_ADDR@"
# stands for the outside namespace's address).
# Sets N, SWARM, WAVE_DEBS, WAVE_REPO and the NODEi_* variables of
# swarm.sh env; var I FIELD reads one; docker_on I ARGS; hctl I ARGS;
# leader_index; wave_json (from any manager that answers); any_docker ARGS.
. "$HOSTD_SRC/tests/harness/debrepo.sh"
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 3 "${WAVE_WORKERS:-1}" >/dev/null
eval "$("$SWARM" env)"
N=$((3 + ${WAVE_WORKERS:-1}))
HOSTD_EXTRA="${WAVE_HOSTD_EXTRA:+${WAVE_HOSTD_EXTRA//@OUTSIDE_ADDR@/$OUTSIDE_ADDR},}"
var() { eval echo "\$NODE${1}_$2"; }
docker_on() { local i=$1; shift; "$DOCKER" -H "unix://$(var "$i" SOCK)" "$@"; }

# --- packages: a security update needing a reboot; a failing one for node 4 ---
WAVE_DEBS="$TMP/debs"
WAVE_REPO="$TMP/repo"
mkdir -p "$WAVE_DEBS"
deb_build "$WAVE_DEBS" openssl-t 3.0.11-1 amd64
# WAVE_POSTINST_SLEEP: seconds the update's postinst takes (a window for
# faults during the apply)
DEB_POSTINST="sleep ${WAVE_POSTINST_SLEEP:-0}; "'mkdir -p "$DPKG_ROOT/run" && touch "$DPKG_ROOT/run/reboot-required"' \
        deb_build "$WAVE_DEBS" openssl-t 3.0.13-1 amd64
deb_build "$WAVE_DEBS" openssl-t 3.0.14-1 amd64 # published mid-wave: not approved
deb_build "$WAVE_DEBS" bash-t 5.2-1 amd64
deb_build "$WAVE_DEBS" bash-t 5.2-2 amd64
deb_build "$WAVE_DEBS" broken-t 1.0-1 amd64
deb_build "$WAVE_DEBS" broken-t 1.0-2 amd64 1
repo_suite "$WAVE_REPO" bookworm-security Debian-Security "$WAVE_DEBS/openssl-t_3.0.13-1_amd64.deb"
# the versions installed now are in the archive too: each node's stage is reversible
repo_suite "$WAVE_REPO" bookworm Debian "$WAVE_DEBS/bash-t_5.2-2_amd64.deb" "$WAVE_DEBS/openssl-t_3.0.11-1_amd64.deb" \
        "$WAVE_DEBS/broken-t_1.0-1_amd64.deb"

# --- hostd on every node, restartable (start-hostd) like a systemd unit ---
for i in $(seq $N); do
        dir="$TMP/n$i"
        root="$dir/root"
        mkdir -p "$dir" "$dir/crash"
        root_new "$root"
        root_install "$root" "$WAVE_DEBS/openssl-t_3.0.11-1_amd64.deb" "$WAVE_DEBS/bash-t_5.2-1_amd64.deb"
        root_sources "$root" "$WAVE_REPO" bookworm bookworm-security
        cat /proc/sys/kernel/random/uuid >"$dir/boot-id"
        cat >"$dir/hostd.json" <<EOF
{$HOSTD_EXTRA "swarm": {"refresh-seconds": 2},
 "state-directory": "$dir/state",
 "posture": {"report-seconds": 5},
 "patching": {"root": "$root", "security-only": true},
 "seccomp": {"installed-profile": "$dir/etc-docker/hostd-hardened.json",
             "daemon-json": "$(var "$i" DATA_ROOT)/../daemon.json"},
 "wave": {"reboot-command": ["$HOSTD_SRC/tests/harness/reboot-hook.sh", "$dir", "$i"],
          "docker-restart-command": ["$HOSTD_SRC/tests/harness/swarm.sh", "dockerd-restart", "$i"],
          "boot-id-file": "$dir/boot-id", "health-timeout-seconds": 60,
          "health-commands": [["/usr/bin/test", "-s", "$root/usr/share/openssl-t/version"]]}}
EOF
        cat >"$dir/start-hostd" <<EOF
#!/bin/bash
export DOCKER_HOST=unix://$(var "$i" SOCK) HOSTD_SWARM_PREFIX=$HOSTD_SWARM_PREFIX HOSTD_SWARM_DIR=$HOSTD_SWARM_DIR
# a fault test arms hostd's crash points by files here (hostd/crash-point.h)
export HOSTD_TEST_CRASH_DIR=$dir/crash
# each line with the time it was written, for reading a wave's timeline
# a fault test may run it under a command (NODE_DIR/wrap: faketime, for a
# clock that is behind)
wrap=\$(cat $dir/wrap 2>/dev/null || true)
nsenter --net=$(var "$i" NETNS) \$wrap $HOSTD --log-target=stderr --config $dir/hostd.json --socket $dir/h.sock \\
        > >(perl -MTime::HiRes=time -ne '\$|=1; printf "%.3f %s", time, \$_' >>$TMP/hostd$i.log) 2>&1 &
echo \$! >$dir/hostd.pid
EOF
        chmod +x "$dir/start-hostd"
        "$dir/start-hostd"
        on_exit "kill -TERM \$(cat '$dir/hostd.pid') 2>/dev/null"
done
for i in $(seq $N); do wait_until 20 "hostd $i up" test -S "$TMP/n$i/h.sock"; done
hctl() { local i=$1; shift; "$HOSTCTL" --socket "$TMP/n$i/h.sock" "$@"; }
any_docker() {
        local i
        for i in 1 2 3; do docker_on "$i" "$@" 2>/dev/null && return; done
        return 1
}
# the Raft leader by Docker's own view (a hostd's may lag by its refresh),
# 0 when none answers
leader_index() {
        local i name
        name=$(any_docker node ls --format '{{.Hostname}} {{.ManagerStatus}}' | awk '$2 == "Leader" { print $1 }')
        for i in 1 2 3; do
                [ -n "$name" ] && [ "$(var "$i" NAME)" = "$name" ] && { echo "$i"; return; }
        done
        echo 0
}
wait_until 20 "a manager's hostd knows it leads" bash -c "[ \"\$(for i in 1 2 3; do '$HOSTCTL' --socket '$TMP'/n\$i/h.sock --json status 2>/dev/null | jq -r .swarm.leader; done | grep -c true)\" = 1 ]"
# plans_sent MANAGER: every node plans now (refreshing its lists), and
# MANAGER has every node's plan, which each sends with its posture summary
# (every 5 s here): what a wave started there is approved from
plans_sent() {
        local m=$1 since i
        since=$(($(date +%s) * 1000000))
        # (again while the node's hostd is busy: another job, just restarted)
        for i in $(seq $N); do
                hctl "$i" patch plan --refresh >/dev/null 2>"$TMP/plan-error" ||
                        wait_until 60 "node $i to plan ($(cat "$TMP/plan-error"))" hctl "$i" patch plan --refresh
        done
        wait_until 30 "manager $m to have every node's plan" bash -c "[ \"\$('$HOSTCTL' --socket '$TMP/n$m/h.sock' --json posture --cluster | jq --argjson t $since '[.nodes[] | select(.plan != null and .plan.generated_usec >= \$t)] | length')\" = $N ]"
}
# any manager that answers
wave_json() {
        local i
        for i in 1 2 3; do hctl "$i" --json wave status 2>/dev/null && return; done
        echo '{}'
}
# record_node_events: Docker's node events on every manager from now on,
# for the invariants, proven from them offline
# (tests/harness/wave-invariants.py), exactly; a stream that ends (its
# dockerd stopped) is opened again, the other managers' copies covering
# the gap
record_node_events() {
        local i since
        since=$(date +%s)
        for i in 1 2 3; do
                ( while :; do
                        # (set -e would end the loop when dockerd goes down)
                        docker_on "$i" events --filter type=node --format '{{json .}}' --since "$since" \
                                >>"$TMP/node-events$i.jsonl" 2>/dev/null || true
                        sleep 1
                  done ) &
                on_exit "kill $! 2>/dev/null; pkill -f 'unix://$(var "$i" SOCK) events --filter type=node' 2>/dev/null"
        done
}
MANAGER_IDS="$(var 1 ID),$(var 2 ID),$(var 3 ID)"
# invariants WAVE MAX_UNAVAILABLE SINCE_NS UNTIL_NS [LEFT_DRAINED]: proven
# from the recorded events (also in $TMP/invariants-WAVE.txt); passed to
# the test's summary when it has one
invariants() {
        local out rc=0
        out=$("$HOSTD_SRC/tests/harness/wave-invariants.py" --max-unavailable "$2" --managers "$MANAGER_IDS" \
                --since "$3" --until "$4" --left-drained "${5:-}" "$TMP"/node-events*.jsonl) || rc=$?
        sed 's/^/    /' <<<"$out" | tee "$TMP/invariants-$1.txt"
        [ "$rc" = 0 ] || fail "wave $1: an invariant does not hold (above)"
        ok "wave $1: the invariants hold, from the managers' node events"
        if declare -F summary >/dev/null; then
                summary "wave $1 invariants from node events: $(tr '\n' ';' <<<"$out" | sed 's/  */ /g')"
        fi
}
