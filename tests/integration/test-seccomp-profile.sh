#!/bin/bash
# The shipped hardened profile under a real dockerd and runc: ordinary
# workloads run under it (a shell and its tools, an HTTP server reached
# through a published port), the kernel shows the filter, and a call that
# Docker's default allows but the profile denies is refused.
. "$(dirname "$0")/lib.sh"
SWARM="$HOSTD_SRC/tests/harness/swarm.sh"
PROFILE="$HOSTD_SRC/policy/profiles/hostd-hardened.json"
export HOSTD_SWARM_PREFIX="${HOSTD_SWARM_PREFIX:-hostd-h}"
export HOSTD_SWARM_DIR="${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm-hptest}"

on_exit "'$SWARM' down >/dev/null 2>&1"
"$SWARM" down >/dev/null 2>&1 || true
"$SWARM" up 1 0
eval "$("$SWARM" env)"
docker1() { "$DOCKER" -H "unix://$NODE1_SOCK" "$@"; }

out=$(docker1 run --rm --security-opt seccomp="$PROFILE" "$SWARM_IMAGE" sh -c \
        'echo hello; ls / >/dev/null && date >/dev/null && sleep 0.1 && mkdir /tmp/x && echo data >/tmp/x/f && cat /tmp/x/f; grep ^Seccomp: /proc/self/status')
expect_contains "$out" "hello" "a shell runs under the hardened profile"
expect_contains "$out" "data" "file work runs"
expect_contains "$out" "Seccomp:	2" "the kernel shows the filter"

docker1 run -d --name web --security-opt seccomp="$PROFILE" -p 8080:80 "$SWARM_IMAGE" httpd -f -p 80 -h / >/dev/null
on_exit "'$DOCKER' -H 'unix://$NODE1_SOCK' rm -f web >/dev/null 2>&1"
wait_until 10 "httpd answers" bash -c "nsenter --net='$OUTSIDE_NETNS' busybox wget -qO- http://$NODE1_ADDR:8080/etc/hostname >/dev/null"
ok "an HTTP server under the profile serves through a published port"

# personality(PER_LINUX32 = 0x8): allowed by Docker's default, not by ours
set +e
docker1 run --rm "$SWARM_IMAGE" linux32 true
rc_default=$?
out=$(docker1 run --rm --security-opt seccomp="$PROFILE" "$SWARM_IMAGE" linux32 true 2>&1)
rc_ours=$?
set -e
expect_eq "$rc_default" 0 "Docker's default profile allows personality(0x8)"
expect_eq "$rc_ours" 1 "the hardened profile refuses it"
expect_contains "$out" "Operation not permitted" "with EPERM"

echo "test-seccomp-profile: $CHECKS checks passed"
