#!/bin/bash
# hostd's own lifecycle without Docker: strict config validation, control
# socket, reload (good and bad), SIGHUP, malformed requests, peer check,
# clean SIGTERM.
. "$(dirname "$0")/lib.sh"
need_built

SOCK="$TMP/hostd.sock"
CONF="$TMP/hostd.json"
# No dockerd behind this socket: hostd must run and say so. The daemons here
# run in the machine's own network namespace, so their firewall is off (the
# firewall is tested in namespaces of its own, test-firewall).
NOFW='"firewall": {"enabled": false}, "state-directory": "'"$TMP"'/state"' 
DOCKER_SOCK="$TMP/no-docker.sock"

# --- refusing a bad config at start ---
printf '{\n  "docker": {\n    "sockett": "/x"\n  }\n}\n' >"$CONF"
set +e
out=$("$HOSTD" --log-target=stderr --config "$CONF" --socket "$SOCK" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "hostd refuses to start on an unknown key"
expect_contains "$out" "$CONF:3:5: docker.sockett: unknown key \"sockett\"" "the error names file:line:column and key path"
[ ! -e "$SOCK" ] || fail "a refused start left a socket behind"
ok "no control socket after a refused start"

# --- hostctl config check works without a daemon ---
set +e
out=$("$HOSTCTL" config check "$CONF" 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "config check exits 1 on an invalid file"
expect_contains "$out" ":3:5: docker.sockett" "config check locates the error"
out=$("$HOSTCTL" --json config check "$CONF" || true)
expect_eq "$(jq -r '.line,.column,.path' <<<"$out" | tr '\n' ' ')" "3 5 docker.sockett " "config check --json gives line, column, path"
echo '{"swarm": {"refresh-seconds": 70000}}' >"$CONF"
out=$("$HOSTCTL" config check "$CONF" 2>&1 || true)
expect_contains "$out" "swarm.refresh-seconds: 70000 is out of range 1..3600" "out-of-range value named"
echo '{"log-level": 7}' >"$CONF"
out=$("$HOSTCTL" config check "$CONF" 2>&1 || true)
expect_contains "$out" ":1:15: log-level: expected a string, got number" "wrong type named"

# --- start with {} (all defaults) ---
echo '{}' >"$CONF"
"$HOSTCTL" config check "$CONF" >/dev/null
ok "config check accepts {}"
printf '{"docker": {"socket": "%s"}, "swarm": {"refresh-seconds": 1}, %s}\n' "$DOCKER_SOCK" "$NOFW" >"$CONF"
start_hostd main "" --config "$CONF" --socket "$SOCK"
wait_until 10 "hostd control socket" test -S "$SOCK"
expect_eq "$(stat -c '%a %U' "$SOCK")" "600 root" "control socket is mode 0600, owned by root"

status=$("$HOSTCTL" --socket "$SOCK" --json status)
expect_eq "$(jq -r .config <<<"$status")" "$CONF" "status names the config file"
expect_eq "$(jq -r .docker.reachable <<<"$status")" "false" "status says Docker is unreachable"
expect_contains "$(jq -r .docker.error <<<"$status")" "No such file or directory" "status carries the Docker error"
expect_eq "$(jq -r .docker.socket <<<"$status")" "$DOCKER_SOCK" "status names the Docker socket from the config"
table=$("$HOSTCTL" --socket "$SOCK" status)
expect_contains "$table" "UNREACHABLE at $DOCKER_SOCK" "the table shows Docker unreachable"

# --- a second hostd on the same socket is refused ---
set +e
out=$("$HOSTD" --log-target=stderr --config "$CONF" --socket "$SOCK" 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "a second hostd on the same socket exits 1"
expect_contains "$out" "Another hostd is serving" "and says why"
"$HOSTCTL" --socket "$SOCK" status >/dev/null
ok "the first hostd still serves"

# --- reload: good, bad (keeps the running config), SIGHUP ---
out=$("$HOSTCTL" --socket "$SOCK" reload)
expect_contains "$out" "Reloaded $CONF" "hostctl reload"
expect_eq "$(status_field "$SOCK" .reloads)" 1 "reload counted"

printf '{"docker": {"socket": "%s"}, "swarm": {"refresh-seconds": "x"}, %s}\n' "$DOCKER_SOCK" "$NOFW" >"$CONF"
set +e
out=$("$HOSTCTL" --socket "$SOCK" reload 2>&1); rc=$?
set -e
expect_eq "$rc" 1 "reload of an invalid config exits 1"
expect_contains "$out" "swarm.refresh-seconds: expected an integer, got string" "and shows the located error"
expect_eq "$(status_field "$SOCK" .reloads)" 1 "the bad config was not taken"
expect_eq "$(status_field "$SOCK" .docker.socket)" "$DOCKER_SOCK" "the running config is kept"
grep -q "Configuration not reloaded, keeping the running one" "$TMP/main.log" || fail "no log line for the refused reload"
ok "refused reload logged"

printf '{"docker": {"socket": "%s.other"}, %s}\n' "$DOCKER_SOCK" "$NOFW" >"$CONF"
kill -HUP "$HOSTD_PID_main"
wait_until 5 "SIGHUP reload" bash -c "[ \"\$('$HOSTCTL' --socket '$SOCK' --json status | jq -r .reloads)\" = 2 ]"
expect_eq "$(status_field "$SOCK" .docker.socket)" "$DOCKER_SOCK.other" "SIGHUP reloaded and switched the Docker socket"

# --- malformed and oversized requests: 4xx JSON, daemon unharmed ---
code=$(curl -s -o "$TMP/r" -w '%{http_code}' --unix-socket "$SOCK" http://h/v1/nothing)
expect_eq "$code" 404 "unknown endpoint is 404"
expect_eq "$(jq -r .message "$TMP/r")" "no such endpoint: GET /v1/nothing" "with a JSON message"
code=$(curl -s -o "$TMP/r" -w '%{http_code}' --unix-socket "$SOCK" -X POST http://h/v1/status)
expect_eq "$code" 405 "wrong method is 405"
code=$(curl -s -o "$TMP/r" -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' --data '{"a":' http://h/v1/reload)
expect_eq "$code" 400 "malformed JSON body is 400"
expect_contains "$(jq -r .message "$TMP/r")" "malformed JSON body" "with the parse error"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$TMP/big"
code=$(curl -s -o "$TMP/r" -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' --data-binary @"$TMP/big" http://h/v1/reload)
expect_eq "$code" 413 "oversized body is 413"
expect_eq "$(jq -r .message "$TMP/r")" "request body too large" "with a JSON message"
# Connections that send garbage, random bytes or half a request and then
# hang: hostd must keep answering others meanwhile (it never blocks on one
# client) and drop them after its connection timeout.
printf '\x00\x01\xff garbage\r\n\r\n' | timeout 3 nc -U "$SOCK" >/dev/null 2>&1 &
nc1=$!
head -c 300000 /dev/urandom | timeout 3 nc -U "$SOCK" >/dev/null 2>&1 &
nc2=$!
for i in $(seq 1 40); do (printf 'GET /v1/status HTTP/1.1\r\n' | timeout 3 nc -U "$SOCK" >/dev/null 2>&1 &); done
out=$(printf '\x01\x02 garbage\r\n\r\n' | timeout 3 nc -U -N "$SOCK" 2>/dev/null || true)
expect_contains "$out" "HTTP/1.1 400" "a garbage request line is answered 400"
"$HOSTCTL" --socket "$SOCK" status >/dev/null
ok "hostd answers while 42 broken connections hang"
wait "$nc1" "$nc2" || true
"$HOSTCTL" --socket "$SOCK" status >/dev/null
ok "hostd survives garbage, random bytes and half-sent requests"
kill -0 "$HOSTD_PID_main" || fail "hostd died"

# --- peer credentials: a non-root peer is refused even if the mode allows it ---
chmod 0711 "$TMP"
chmod 0666 "$SOCK"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups curl -s -w ' %{http_code}' --unix-socket "$SOCK" http://h/v1/status)
chmod 0600 "$SOCK"
expect_contains "$out" "permission denied: root only" "non-root peer gets a JSON refusal"
expect_contains "$out" " 403" "with 403"

# --- sd_notify: READY=1, STATUS=, WATCHDOG=1 when the watchdog is on ---
socat -u UNIX-RECV:"$TMP/notify",unlink-early OPEN:"$TMP/notify.log",creat,append &
socat_pid=$!
on_exit "kill $socat_pid 2>/dev/null"
wait_until 5 "notify socket" test -S "$TMP/notify"
printf '{%s}\n' "$NOFW" >"$TMP/notify.json"
NOTIFY_SOCKET="$TMP/notify" WATCHDOG_USEC=200000 DOCKER_HOST="unix://$DOCKER_SOCK" \
        start_hostd wd "" --config "$TMP/notify.json" --socket "$TMP/notify.sock"
wait_until 5 "READY=1" grep -q "READY=1" "$TMP/notify.log"
ok "READY=1 sent"
wait_until 5 "STATUS=" grep -q "STATUS=Docker unreachable" "$TMP/notify.log"
ok "STATUS= says Docker is unreachable"
wait_until 5 "three WATCHDOG=1" bash -c "[ \$(grep -o 'WATCHDOG=1' '$TMP/notify.log' | wc -l) -ge 3 ]"
ok "WATCHDOG=1 sent repeatedly with WATCHDOG_USEC=200ms"
: >"$TMP/notify.log"
"$HOSTCTL" --socket "$TMP/notify.sock" reload >/dev/null
wait_until 5 "RELOADING=1 then READY=1" bash -c "grep -q RELOADING=1 '$TMP/notify.log' && grep -q READY=1 '$TMP/notify.log'"
ok "reload is announced with RELOADING=1 and READY=1"
kill -TERM "$HOSTD_PID_wd"
wait_until 5 "STOPPING=1" grep -q "STOPPING=1" "$TMP/notify.log"
ok "STOPPING=1 on SIGTERM"

# --- clean shutdown ---
kill -TERM "$HOSTD_PID_main"
set +e
wait "$HOSTD_PID_main"
rc=$?
set -e
expect_eq "$rc" 0 "SIGTERM exits 0"
[ ! -e "$SOCK" ] || fail "socket left behind after SIGTERM"
ok "control socket removed on exit"
grep -q "hostd stopped" "$TMP/main.log" || fail "no stop message"
ok "stop logged"

echo "test-daemon: $CHECKS checks passed"
