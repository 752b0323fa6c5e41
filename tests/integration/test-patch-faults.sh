#!/bin/bash
# The fault matrix of a patch transaction, on a Debian root and on an rpm
# root: a transaction
# of three packages, one with a slow maintainer script, is killed at each of
# eight points by SIGKILL of its whole process group (hostctl, the worker,
# dpkg, the maintainer script: what a power loss does to them), the holds
# that stopped it are lifted (the machine boots again), and the next
# `hostctl patch` call on the root recovers it. After each: history names
# the transaction interrupted and rolled back (or there is none, when the
# kill came before it was recorded), the root has exactly the recorded set,
# and `dpkg --audit` (`rpm -V` of the packages, and one version of each)
# finds nothing half-done. Then the root patches again normally.
. "$(dirname "$0")/lib.sh"
. "$HOSTD_SRC/tests/harness/debrepo.sh"
. "$HOSTD_SRC/tests/harness/rpmrepo.sh"
need_built

DEBS="$TMP/debs"
REPO="$TMP/repo"
M="$TMP/marks" # the holds the scripts wait at, and where they say they wait
mkdir -p "$DEBS" "$M"

# 1.1: each preinst counts the unpacks, each postinst the configures; a
# hold file makes the Nth wait (and say so) until it is killed
count_and_hold() { # KIND
        printf 'echo "$DPKG_MAINTSCRIPT_PACKAGE" >>%s/%s; n=$(wc -l <%s/%s); if [ -e %s/hold-%s-$n ]; then touch %s/at; sleep 600; fi' \
                "$M" "$1" "$M" "$1" "$M" "$1" "$M"
}
for p in a-t b-t c-t; do
        post=$(count_and_hold configure)
        # b-t's postinst is slow, and can be held inside
        # (held until killed, or until the hold is lifted: the worker alone
        # killed leaves dpkg and this script running)
        [ "$p" != b-t ] || post="$post; if [ -e $M/hold-script ]; then touch $M/at; while [ -e $M/hold-script ]; do sleep 0.1; done; fi; sleep 1"
        DEB_PREINST=$(count_and_hold unpack) DEB_POSTINST=$post deb_build "$DEBS" "$p" 1.1 amd64
        # 1.0, put back by a rollback: its preinst can be held
        DEB_PREINST="if [ -e $M/hold-rollback ]; then touch $M/at; sleep 600; fi" deb_build "$DEBS" "$p" 1.0 amd64
done
repo_suite "$REPO" bookworm Debian "$DEBS"/*_1.1_*.deb
repo_suite "$REPO" bookworm-old Debian "$DEBS"/*_1.0_*.deb

# a repository over HTTP on loopback that stalls on b-t 1.1's file: a
# download in progress
cat >"$TMP/slow-http.py" <<EOF
import http.server, os, sys, time
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory="$REPO", **k)
    def do_GET(self):
        if "b-t_1.1" in self.path:
            open("$M/at", "w").close()
            time.sleep(600)
        super().do_GET()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
python3 "$TMP/slow-http.py" >"$TMP/http.port" &
on_exit "kill $! 2>/dev/null"
wait_until 10 "the slow repository listens" test -s "$TMP/http.port"
HTTP_PORT=$(cat "$TMP/http.port")

installed() { # ROOT: "name version" of every installed package
        dpkg-query --admindir="$1/var/lib/dpkg" -W -f '${db:Status-Status} ${Package} ${Version}\n' | sort
}
fresh_root() { # ROOT [http]
        rm -rf "$1"
        root_new "$1"
        root_install "$1" "$DEBS"/*_1.0_*.deb
        if [ "${2:-}" = http ]; then
                echo "deb [trusted=yes] http://127.0.0.1:$HTTP_PORT bookworm main" >"$1/etc/apt/sources.list"
                echo "deb [trusted=yes] http://127.0.0.1:$HTTP_PORT bookworm-old main" >>"$1/etc/apt/sources.list"
        else
                root_sources "$1" "$REPO" bookworm bookworm-old
        fi
}
rows=()
interrupted_n=0 unrecorded_n=0
# killed POINT ROOT PGID_PID: SIGKILL of the process group, holds lifted,
# recovered by the next call, checked
killed() {
        local point=$1 root=$2 pid=$3 pgid json n state intr msg half new recorded audit
        pgid=$(ps -o pgid= "$pid" | tr -d ' ' || true)
        [ -z "$pgid" ] || kill -KILL -- "-$pgid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$M"/hold-* "$M"/at
        # what the kill left, before anything recovers it: the packages
        # dpkg --audit names (half-done), and how many are at 1.1
        half=$(dpkg --root="$root" --audit 2>&1 | grep -c '^ [a-z]' || true)
        new=$(installed "$root" | grep -c ' 1.1$' || true)
        case "$point" in
        "during download" | "the entry recorded, nothing done yet") expect_eq "$half $new" "0 0" "$point: the kill came before dpkg ran" ;;
        "after the package manager returned" | "while the journal is written")
                expect_eq "$half $new" "0 3" "$point: the kill came after dpkg finished" ;;
        "during a rollback") [ "$half" -ge 1 ] || fail "$point: the kill left nothing half-done in dpkg" ;;
        *) [ "$half" -ge 1 ] || fail "$point: the kill left nothing half-done in dpkg (dpkg --audit is clean)"
           ok "$point: the kill left $half package(s) half-done in dpkg" ;;
        esac
        json=$("$HOSTCTL" --json patch history --root "$root")
        n=$(jq '.entries | length' <<<"$json")
        if [ "$point" = "during download" ]; then
                expect_eq "$n" 0 "$point: killed before anything was recorded: no transaction in history"
                unrecorded_n=$((unrecorded_n + 1))
                state=none intr=-
        else
                state=$(jq -r '.entries[-1].state' <<<"$json")
                intr=$(jq -r '.entries[-1].interrupted' <<<"$json")
                msg=$(jq -r '.entries[-1].message' <<<"$json")
                expect_eq "$state $intr" "rolled-back true" "$point: history names the transaction interrupted, rolled back"
                expect_contains "$msg" "interrupted while" "$point: and says so in its message ($msg)"
                expect_eq "$(jq '.recovered | length' <<<"$json")" 1 "$point: recovered by this call"
                interrupted_n=$((interrupted_n + 1))
        fi
        recorded=no audit=dirty
        [ "$(installed "$root")" != "$(installed "$TMP/pristine")" ] || recorded=yes
        [ -n "$(dpkg --root="$root" --audit 2>&1)" ] || audit=clean
        expect_eq "$recorded" yes "$point: the root has exactly the recorded set"
        expect_eq "$audit" clean "$point: dpkg --audit finds nothing half-done"
        rows+=("$(printf '%-40s %-7s %-12s %-11s %-9s %s' "$point" "$half/$new" "$state" "$intr" "$recorded" "$audit")")
}
# apply_killed POINT HOLD [http|ENV=VALUE]: an apply held at HOLD (a hold
# file, or a crash point named in the environment), killed there
apply_killed() {
        local point=$1 hold=$2 how=${3:-} root="$TMP/root" pid
        fresh_root "$root" "$([ "$how" = http ] && echo http)"
        if [ "$how" != http ]; then
                "$HOSTCTL" patch stage --root "$root" --refresh >/dev/null
        fi
        rm -f "$M"/unpack "$M"/configure # the counts start with this apply
        [ -z "$hold" ] || touch "$M/$hold"
        if [[ "$how" == *=* ]]; then
                env "$how" setsid "$HOSTCTL" patch apply --root "$root" $([ "$how" = http ] && echo --refresh) \
                        >"$TMP/apply.out" 2>&1 &
                pid=$!
                wait "$pid" 2>/dev/null || true
        else
                setsid "$HOSTCTL" patch apply --root "$root" $([ "$how" = http ] && echo --refresh) \
                        >"$TMP/apply.out" 2>&1 &
                pid=$!
                wait_until 60 "$point: the transaction reaches its hold" test -e "$M/at"
        fi
        killed "$point" "$root" "$pid"
}

fresh_root "$TMP/pristine"
apply_killed "during download" "" http
apply_killed "the entry recorded, nothing done yet" "" HOSTD_TEST_CRASH_AT=recorded
apply_killed "during unpack of the first package" hold-unpack-1
apply_killed "during unpack of a later package" hold-unpack-3
apply_killed "inside a maintainer script (slow)" hold-script
apply_killed "during configure (the last package)" hold-configure-3
apply_killed "after the package manager returned" "" HOSTD_TEST_CRASH_AT=returned
# the final record about to replace "applying"; a temporary file such as a
# death inside the atomic write leaves is no entry
apply_killed "while the journal is written" "" HOSTD_TEST_CRASH_AT=finishing

# during a rollback: applied, then an operator's rollback killed
root="$TMP/root"
fresh_root "$root"
"$HOSTCTL" patch apply --root "$root" --refresh >/dev/null
expect_eq "$(installed "$root" | grep -c ' 1.1$')" 3 "the apply that the rollback undoes"
entry=$(ls "$root"/var/lib/hostd/patches/journal/*.json)
cp "$entry" "$entry.tmp.4242" # what a death between write and rename leaves
touch "$M/hold-rollback"
setsid "$HOSTCTL" patch rollback --root "$root" >"$TMP/rollback.out" 2>&1 &
pid=$!
wait_until 60 "the rollback reaches its hold" test -e "$M/at"
killed "during a rollback" "$root" "$pid"

# the recovered root patches normally
"$HOSTCTL" patch apply --root "$root" >/dev/null
expect_eq "$(installed "$root" | grep -c ' 1.1$')" 3 "after recovery the root patches normally"

print_matrix() { # BACKEND CHECK
        printf '\n%-40s %-7s %-12s %-11s %-9s %s\n' "$1: KILLED (whole process group)" "LEFT" "ENTRY" "INTERRUPTED" \
                "RECORDED" "$2"
        printf '%s\n' "${rows[@]}"
        echo "$1 fault matrix: ${#rows[@]} points; $interrupted_n recovered from the journal, $unrecorded_n killed before it was written; every root equal to its record"
        [ "${#rows[@]}" -ge 8 ] || fail "$1: fewer than eight fault points"
}
print_matrix apt "DPKG --AUDIT"
echo "(for apt, LEFT: the packages dpkg --audit names / those at the new version, after the kill, before the recovery)"

# the worker alone killed (hostd's report limit, the OOM killer): dpkg goes
# on, so its transaction is not interrupted; nothing recovers it while
# dpkg holds its lock, and once dpkg has finished the entry is recovered
root="$TMP/root"
fresh_root "$root"
"$HOSTCTL" patch stage --root "$root" --refresh >/dev/null
rm -f "$M"/unpack "$M"/configure
touch "$M/hold-script"
setsid "$HOSTCTL" patch apply --root "$root" >"$TMP/apply.out" 2>&1 &
pid=$!
wait_until 60 "the transaction reaches its hold" test -e "$M/at"
kill -KILL "$(pgrep -f "hostd-patch-worker apply --root $root")" "$pid"
wait "$pid" 2>/dev/null || true
set +e
out=$("$HOSTCTL" patch history --root "$root" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "while the orphaned dpkg runs, the root is not recovered"
expect_contains "$out" "dpkg is still running on $root" "saying dpkg still runs"
expect_eq "$(jq -r .state "$root"/var/lib/hostd/patches/journal/*.json)" applying "and the entry is left as it was"
rm -f "$M"/hold-* "$M"/at
# the first call after dpkg has finished recovers
wait_until 60 "the orphaned dpkg finishes, and a call recovers the root" \
        bash -c "'$HOSTCTL' --json patch history --root '$root' >'$TMP/orphan.json' 2>/dev/null"
json=$(cat "$TMP/orphan.json")
expect_eq "$(jq -r '.entries[-1] | "\(.state) \(.interrupted)"' <<<"$json")" "rolled-back true" \
        "once dpkg has finished, the entry is recovered: rolled back to the record"
expect_eq "$(installed "$root")" "$(installed "$TMP/pristine")" "the root has the recorded set"

# hostd's own start recovers what a power loss left on its root: no call
# of hostctl needed
root="$TMP/root"
fresh_root "$root"
"$HOSTCTL" patch stage --root "$root" --refresh >/dev/null
rm -f "$M"/unpack "$M"/configure
touch "$M/hold-script"
setsid "$HOSTCTL" patch apply --root "$root" >"$TMP/apply.out" 2>&1 &
pid=$!
wait_until 60 "the transaction reaches its hold" test -e "$M/at"
pgid=$(ps -o pgid= "$pid" | tr -d ' ')
kill -KILL -- "-$pgid"
wait "$pid" 2>/dev/null || true
rm -f "$M"/hold-* "$M"/at
printf '{"docker": {"socket": "%s"}, "firewall": {"enabled": false}, "state-directory": "%s", "patching": {"root": "%s"}}\n' \
        "$TMP/no-docker.sock" "$TMP/state" "$root" >"$TMP/hostd.json"
start_hostd main "" --config "$TMP/hostd.json" --socket "$TMP/h.sock"
wait_until 60 "hostd recovers the interrupted transaction at its start" \
        grep -q "was interrupted, recovered at start: interrupted while applying" "$TMP/main.log"
expect_eq "$(installed "$root")" "$(installed "$TMP/pristine")" "hostd's start returned its root to the record"
expect_eq "$("$HOSTCTL" --socket "$TMP/h.sock" --json patch history | jq -r '.entries[-1] | "\(.state) \(.interrupted)"')" \
        "rolled-back true" "and its history says the transaction was interrupted and rolled back"
expect_eq "$("$HOSTCTL" --socket "$TMP/h.sock" --json changes --kind patch-rollback | jq '.changes | length')" 1 \
        "a change record says so"

# ---- rpm: the same transaction, scriptlets chrooted into the root (its
# /bin/sh is busybox: builtins only, a hold is a read of a FIFO) ----
RPMS="$TMP/rpms"
RREPO="$TMP/rrepo"
mkdir -p "$RPMS"
rpm_build_sh "$RPMS"
rpm_hold() { # KIND: count the scriptlets of KIND, the Nth waits when held
        printf 'echo x >>/marks/%s; n=0; while read l; do n=$((n + 1)); done </marks/%s; if [ -e /marks/hold-%s-$n ]; then : >/marks/at; read l </marks/fifo; fi' \
                "$1" "$1" "$1"
}
for p in a-t b-t c-t; do
        post=$(rpm_hold post)
        [ "$p" != b-t ] || post="$post; if [ -e /marks/hold-script ]; then : >/marks/at; read l </marks/fifo; fi"
        RPM_PRE=$(rpm_hold pre) RPM_POST=$post rpm_build "$RPMS" "$p" 1.1 1 x86_64
        # 1.0: erased by the upgrade (its %postun), put back by a rollback (its %pre)
        RPM_PRE="if [ -e /marks/hold-rollback ]; then : >/marks/at; read l </marks/fifo; fi" \
                RPM_POSTUN=$(rpm_hold postun) rpm_build "$RPMS" "$p" 1.0 1 x86_64
done
rpm_repo "$RREPO" "$RPMS"/*-1.1-1.x86_64.rpm "$RPMS"/*-1.0-1.x86_64.rpm
rpm_installed() { # ROOT: what the database lists, each version
        rpm --root "$1" "${RPM_DB[@]}" -qa --qf '%{NAME} %{VERSION}-%{RELEASE}\n' | sort
}
rpm_fresh_root() { # ROOT [http]
        rm -rf "$1"
        rpmroot_new "$1" "$RPMS/sh-t-1-1.x86_64.rpm"
        mkdir -p "$1/marks"
        mkfifo "$1/marks/fifo"
        rpmroot_install "$1" "$RPMS"/[abc]-t-1.0-1.x86_64.rpm
        if [ "${2:-}" = http ]; then
                printf '[updates]\nname=updates\nbaseurl=http://127.0.0.1:%s/\nenabled=1\ngpgcheck=0\n' "$RPM_HTTP_PORT" \
                        >"$1/etc/yum.repos.d/updates.repo"
        else
                rpmroot_repo "$1" updates "$RREPO"
        fi
}
sed "s|$REPO|$RREPO|; s|b-t_1.1|b-t-1.1|; s|$M/at|$TMP/rroot/marks/at|" "$TMP/slow-http.py" >"$TMP/slow-rpm-http.py"
python3 "$TMP/slow-rpm-http.py" >"$TMP/rpm-http.port" &
on_exit "kill $! 2>/dev/null"
wait_until 10 "the slow rpm repository listens" test -s "$TMP/rpm-http.port"
RPM_HTTP_PORT=$(cat "$TMP/rpm-http.port")
rows=()
interrupted_n=0 unrecorded_n=0
rpm_killed() { # POINT ROOT PID
        local point=$1 root=$2 pid=$3 pgid json n state intr msg twice
        pgid=$(ps -o pgid= "$pid" | tr -d ' ' || true)
        [ -z "$pgid" ] || kill -KILL -- "-$pgid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$root"/marks/hold-* "$root"/marks/at
        # what the kill left: packages the database lists twice
        twice=$(rpm_installed "$root" | awk '{print $1}' | uniq -d | wc -l)
        [[ "$point" != erasing* ]] || [ "$twice" -ge 1 ] || fail "rpm, $point: no package listed twice after the kill"
        json=$("$HOSTCTL" --json patch history --root "$root")
        n=$(jq '.entries | length' <<<"$json")
        if [ "$point" = "during download" ]; then
                expect_eq "$n" 0 "rpm, $point: killed before anything was recorded: no transaction in history"
                unrecorded_n=$((unrecorded_n + 1))
                state=none intr=-
        else
                state=$(jq -r '.entries[-1].state' <<<"$json")
                intr=$(jq -r '.entries[-1].interrupted' <<<"$json")
                msg=$(jq -r '.entries[-1].message' <<<"$json")
                expect_eq "$state $intr" "rolled-back true" "rpm, $point: history names the transaction interrupted, rolled back ($msg)"
                interrupted_n=$((interrupted_n + 1))
        fi
        local recorded=no verified=dirty
        [ "$(rpm_installed "$root")" != "$(rpm_installed "$TMP/rpm-pristine")" ] || recorded=yes
        [ -n "$(rpm --root "$root" "${RPM_DB[@]}" -V a-t b-t c-t 2>&1)" ] || verified=clean
        expect_eq "$recorded" yes "rpm, $point: the database lists exactly the recorded set, one version each"
        expect_eq "$verified" clean "rpm, $point: rpm -V of the packages is clean"
        rows+=("$(printf '%-40s %-7s %-12s %-11s %-9s %s' "$point" "$twice" "$state" "$intr" "$recorded" "$verified")")
}
rpm_apply_killed() { # POINT HOLD [http|ENV=VALUE]
        local point=$1 hold=$2 how=${3:-} root="$TMP/rroot" pid
        rpm_fresh_root "$root" "$([ "$how" = http ] && echo http)"
        [ "$how" = http ] || "$HOSTCTL" patch stage --root "$root" --refresh >/dev/null
        [ -z "$hold" ] || touch "$root/marks/$hold"
        if [[ "$how" == *=* ]]; then
                env "$how" setsid "$HOSTCTL" patch apply --root "$root" >"$TMP/rapply.out" 2>&1 &
                pid=$!
                wait "$pid" 2>/dev/null || true
        else
                setsid "$HOSTCTL" patch apply --root "$root" $([ "$how" = http ] && echo --refresh) \
                        >"$TMP/rapply.out" 2>&1 &
                pid=$!
                wait_until 60 "rpm, $point: the transaction reaches its hold" test -e "$root/marks/at"
        fi
        rpm_killed "$point" "$root" "$pid"
}
rpm_fresh_root "$TMP/rpm-pristine"
rpm_apply_killed "during download" "" http
rpm_apply_killed "the entry recorded, nothing done yet" "" HOSTD_TEST_CRASH_AT=recorded
rpm_apply_killed "during install of the first package" hold-pre-1
rpm_apply_killed "during install of a later package" hold-pre-3
rpm_apply_killed "inside a scriptlet (slow)" hold-script
rpm_apply_killed "erasing the old versions (listed twice)" hold-postun-2
rpm_apply_killed "after the package manager returned" "" HOSTD_TEST_CRASH_AT=returned
rpm_apply_killed "while the journal is written" "" HOSTD_TEST_CRASH_AT=finishing
root="$TMP/rroot"
rpm_fresh_root "$root"
"$HOSTCTL" patch apply --root "$root" --refresh >/dev/null
expect_eq "$(rpm_installed "$root" | grep -c ' 1.1-1$')" 3 "rpm: the apply that the rollback undoes"
touch "$root/marks/hold-rollback"
setsid "$HOSTCTL" patch rollback --root "$root" >"$TMP/rrollback.out" 2>&1 &
pid=$!
wait_until 60 "rpm: the rollback reaches its hold" test -e "$root/marks/at"
rpm_killed "during a rollback" "$root" "$pid"
"$HOSTCTL" patch apply --root "$root" >/dev/null
expect_eq "$(rpm_installed "$root" | grep -c ' 1.1-1$')" 3 "rpm: after recovery the root patches normally"
# kernels side by side (install-only packages) are listed twice by design:
# a recovery leaves them alone
rpm_build "$RPMS" kernel-t 6.1 1 x86_64
rpm_build "$RPMS" kernel-t 6.2 1 x86_64
root="$TMP/rroot"
rpm_fresh_root "$root"
rpm --root "$root" "${RPM_DB[@]}" -i --nosignature --replacefiles "$RPMS/kernel-t-6.1-1.x86_64.rpm" \
        "$RPMS/kernel-t-6.2-1.x86_64.rpm" 2>/dev/null
"$HOSTCTL" patch stage --root "$root" --refresh >/dev/null
env HOSTD_TEST_CRASH_AT=recorded setsid "$HOSTCTL" patch apply --root "$root" >"$TMP/rapply.out" 2>&1 || true
expect_eq "$("$HOSTCTL" --json patch history --root "$root" | jq -r '.entries[-1].state')" rolled-back \
        "rpm: with two kernels side by side, the interrupted apply is recovered"
expect_eq "$(rpm --root "$root" "${RPM_DB[@]}" -q kernel-t | sort | tr '\n' ' ')" \
        "kernel-t-6.1-1.x86_64 kernel-t-6.2-1.x86_64 " "and both kernels are still installed"

print_matrix rpm "RPM -V"
echo "(for rpm, LEFT: the packages the database lists twice after the kill, before the recovery)"
echo "test-patch-faults: $CHECKS checks passed"
