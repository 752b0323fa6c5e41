#!/bin/bash
# The apt backend on sandbox roots, through libapt-pkg: real .deb packages
# built here, a local repository with a security suite and a regular one,
# a root with the old versions installed by dpkg. The plan (security
# classification, policy filtering, minimum age, a stable plan ID), staging,
# apply in a worker with progress, exact rollback to the recorded set, a
# failing postinst rolled back by itself, a download failing its hash,
# reboot-required detection; bad input refused with a clear error, changing
# nothing.
. "$(dirname "$0")/lib.sh"
. "$HOSTD_SRC/tests/harness/debrepo.sh"
need_built

DEBS="$TMP/debs"
REPO="$TMP/repo"
ROOT="$TMP/root"
mkdir -p "$DEBS"
deb_build "$DEBS" openssl-t 3.0.11-1 amd64
deb_build "$DEBS" openssl-t 3.0.13-1 amd64
deb_build "$DEBS" tzdata-t 2024a-1 all
deb_build "$DEBS" tzdata-t 2025b-1 all
deb_build "$DEBS" bash-t 5.2-1 amd64
deb_build "$DEBS" bash-t 5.2-2 amd64
deb_build "$DEBS" stable-t 1.0 amd64
repo_suite "$REPO" bookworm-security Debian-Security "$DEBS/openssl-t_3.0.13-1_amd64.deb" "$DEBS/tzdata-t_2025b-1_all.deb"
repo_suite "$REPO" bookworm Debian "$DEBS/bash-t_5.2-2_amd64.deb" "$DEBS/stable-t_1.0_amd64.deb"
root_new "$ROOT"
root_install "$ROOT" "$DEBS/openssl-t_3.0.11-1_amd64.deb" "$DEBS/tzdata-t_2024a-1_all.deb" \
        "$DEBS/bash-t_5.2-1_amd64.deb" "$DEBS/stable-t_1.0_amd64.deb"
root_sources "$ROOT" "$REPO" bookworm bookworm-security
status_before=$(cat "$ROOT/var/lib/dpkg/status")

plan() { "$HOSTCTL" --json patch plan --root "$ROOT" "$@"; }
json=$(plan --refresh)
expect_eq "$(jq -r '[.packages[] | "\(.name) \(.arch) \(.from) \(.to) \(.security)"] | join(", ")' <<<"$json")" \
        "bash-t amd64 5.2-1 5.2-2 false, openssl-t amd64 3.0.11-1 3.0.13-1 true, tzdata-t all 2024a-1 2025b-1 true" \
        "the plan lists each upgrade with its installed and candidate versions"
expect_eq "$(jq -r .included <<<"$json")" 3 "all three included by default"
id_all=$(jq -r .id <<<"$json")
expect_eq "$(plan | jq -r .id)" "$id_all" "the plan ID is stable"

json=$(plan --security-only)
expect_eq "$(jq -r '[.packages[] | select(.included) | .name] | join(",")' <<<"$json")" "openssl-t,tzdata-t" \
        "security-only keeps the security updates"
expect_eq "$(jq -r '.packages[] | select(.name == "bash-t") | .reason' <<<"$json")" "not a security update" \
        "and says why the other is left out"
[ "$(jq -r .id <<<"$json")" != "$id_all" ] || fail "the plan ID did not change with the plan"
ok "another plan, another ID"
json=$(plan --deny 'tz*' --hold bash-t)
expect_eq "$(jq -r '[.packages[] | "\(.name):\(.reason)"] | join(",")' <<<"$json")" \
        "bash-t:held,openssl-t:included,tzdata-t:denied by policy" "deny globs and holds"
table=$("$HOSTCTL" patch plan --root "$ROOT" --security-only)
expect_contains "$table" "openssl-t                        3.0.11-1               3.0.13-1               yes      upgrade (bookworm-security)" \
        "the table shows package, from, to, security and reason"
expect_contains "$table" "2 of 3 updates included, 2 security" "and a summary"

# bad input: clear errors, nothing changed
echo "deb [trusted=yes] file:$TMP/no-such-repo bookworm main" >>"$ROOT/etc/apt/sources.list"
set +e
out=$("$HOSTCTL" patch plan --root "$ROOT" --refresh 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a missing repository fails the refresh"
expect_contains "$out" "no-such-repo" "naming the repository"
root_sources "$ROOT" "$REPO" bookworm bookworm-security
set +e
out=$("$HOSTCTL" patch plan --root relative/root 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a relative root is refused"
expect_contains "$out" "not an absolute path" "with the reason"
expect_eq "$(cat "$ROOT/var/lib/dpkg/status")" "$status_before" "planning never changes the installed packages"

set +e
out=$("$HOSTCTL" patch plan --root "$ROOT" --hold nosuch-t 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a policy naming an unknown package is refused"
expect_contains "$out" 'patching.hold[0]: no package "nosuch-t" is installed or offered here' "naming it"

# minimum age: counted from when an update was first offered
STATE="$ROOT/var/lib/hostd/patches"
json=$(plan --min-age 2d)
expect_eq "$(jq -r '[.packages[] | .reason] | unique | join(",")' <<<"$json")" "newer than the minimum age" \
        "updates offered for less than the minimum age are left out"
expect_contains "$("$HOSTCTL" patch plan --root "$ROOT" --min-age 2d)" "newer than the minimum age (offered " \
        "the table says how long ago they were offered"
# as if the security updates had been offered three days ago
jq '.seen |= with_entries(if (.key | test("^(openssl|tzdata)-t")) then .value -= 259200000000 else . end)' \
        "$STATE/first-seen.json" >"$TMP/seen" && cp "$TMP/seen" "$STATE/first-seen.json"
json=$(plan --min-age 2d)
expect_eq "$(jq -r '[.packages[] | select(.included) | .name] | join(",")' <<<"$json")" "openssl-t,tzdata-t" \
        "once old enough they are included"

# staging: the plan's packages, and the versions they replace where they can be had
# (apt's cache keeps the .debs it installed; the old bash-t is nowhere)
cp "$DEBS/openssl-t_3.0.11-1_amd64.deb" "$DEBS/tzdata-t_2024a-1_all.deb" "$ROOT/var/cache/apt/archives/"
json=$("$HOSTCTL" --json patch stage --root "$ROOT")
expect_eq "$(jq -r '.stage | "\(.complete) \(.reversible)"' <<<"$json")" "true false" \
        "all upgrades staged; not reversible while one replaced version cannot be had"
expect_contains "$(jq -r '.stage.rollback[] | select(.name == "bash-t") | .error' <<<"$json")" "no repository has this version" \
        "the stage report names the version that cannot be put back"
sec_plan=$(plan --security-only | jq -r .id)
out=$("$HOSTCTL" patch stage --root "$ROOT" --security-only --plan "${sec_plan:0:12}")
expect_contains "$out" "staged completely, reversible" "the security plan is staged and reversible"
expect_eq "$(ls "$STATE/stage/$sec_plan/apply" "$STATE/stage/$sec_plan/rollback" | grep -c deb)" 4 \
        "two upgrades and two old versions are on disk"
expect_eq "$(cat "$ROOT/var/lib/dpkg/status")" "$status_before" "staging installs nothing"

# apply: the plan ID must still be what was approved
set +e
out=$("$HOSTCTL" patch apply --root "$ROOT" --security-only --plan "$id_all" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "an apply for another plan ID is refused"
expect_contains "$out" "the plan is now ${sec_plan:0:12}, not $id_all" "saying which plan is current"
expect_eq "$(cat "$ROOT/var/lib/dpkg/status")" "$status_before" "and changes nothing"

out=$("$HOSTCTL" patch apply --root "$ROOT" --security-only --plan "$sec_plan")
expect_contains "$out" "Configuring openssl-t (amd64)" "apply streams dpkg's progress"
expect_contains "$out" ": applied: 2 package(s) installed" "the transaction is applied"
installed() { dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${Package} ${Version}\n' | sort | tr '\n' ' '; }
expect_eq "$(installed)" "bash-t 5.2-1 openssl-t 3.0.13-1 stable-t 1.0 tzdata-t 2025b-1 " \
        "exactly the security updates are installed"
entry=$(ls "$STATE/journal/"*.json)
expect_eq "$(jq -r '.state + " " + ([.before[] | join("/")] | join(","))' "$entry")" \
        "applied bash-t/amd64/5.2-1,openssl-t/amd64/3.0.11-1,stable-t/amd64/1.0,tzdata-t/all/2024a-1" \
        "the journal records the exact set from before"
expect_eq "$(stat -c %a "$entry")" 600 "the journal entry is private"
expect_contains "$("$HOSTCTL" patch history --root "$ROOT")" "applied       " "history lists the transaction"

# rollback: back to the record, verified
out=$("$HOSTCTL" patch rollback --root "$ROOT")
expect_contains "$out" "rolled-back: rolled back to the recorded set (verified)" "rollback returns to the record"
expect_eq "$(installed)" "bash-t 5.2-1 openssl-t 3.0.11-1 stable-t 1.0 tzdata-t 2024a-1 " \
        "the installed versions are the recorded ones"
set +e
out=$("$HOSTCTL" patch rollback --root "$ROOT" --id "$(basename "$entry" .json)" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a second rollback of the same transaction is refused"
expect_contains "$out" "was already rolled back" "saying so"

# a postinst that fails: the transaction is rolled back by itself
deb_build "$DEBS" openssl-t 3.0.14-1 amd64 1
repo_suite "$REPO" bookworm-security Debian-Security "$DEBS/openssl-t_3.0.14-1_amd64.deb" "$DEBS/tzdata-t_2025b-1_all.deb"
plan --refresh >/dev/null
status_before=$(installed)
set +e
out=$("$HOSTCTL" patch apply --root "$ROOT" --security-only 2>&1)
rc=$?
set -e
echo "$out" | sed 's/^/    /'
expect_eq "$rc" 1 "a failing maintainer script fails the apply"
expect_contains "$out" "openssl-t" "naming the package"
expect_contains "$out" "post-installation script subprocess returned error exit status 1" "and what dpkg said"
expect_contains "$out" "rolled back to the recorded set (verified)" "the host was returned to the record"
expect_eq "$(installed)" "$status_before" "every package is at its recorded version again"
expect_eq "$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${db:Status-Abbrev}\n' | sort -u | tr -d ' ')" "ii" \
        "and fully configured"
expect_contains "$("$HOSTCTL" patch history --root "$ROOT")" "rolled-back " "history says it was rolled back"

# a download that fails its hash: nothing is changed
cp "$DEBS/bash-t_5.2-1_amd64.deb" "$ROOT/var/cache/apt/archives/"
deb_build "$DEBS" bash-t 5.2-3 amd64
repo_suite "$REPO" bookworm Debian "$DEBS/bash-t_5.2-3_amd64.deb" "$DEBS/stable-t_1.0_amd64.deb"
plan --refresh >/dev/null
pool="$REPO/pool/bookworm/bash-t_5.2-3_amd64.deb"
size=$(stat -c %s "$pool")
head -c "$size" /dev/urandom >"$pool"
set +e
out=$("$HOSTCTL" patch apply --root "$ROOT" --allow bash-t 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a package that fails its hash fails the apply"
expect_contains "$out" "Hash Sum mismatch" "saying why"
expect_contains "$out" "nothing was changed" "and that nothing was changed"
expect_eq "$(installed)" "$status_before" "which is so"

# reboot-required: Debian's file, and a kernel newer than the running one,
# arriving as Debian's do: a new package the kernel metapackage depends on
deb_build "$DEBS" linux-image-amd64-t 1 amd64
root_install "$ROOT" "$DEBS/linux-image-amd64-t_1_amd64.deb"
DEB_FILES="boot/vmlinuz-999.1.0-1-amd64" \
        DEB_POSTINST='echo linux-image-999.1.0-1-amd64-t >>"$DPKG_ROOT/run/reboot-required.pkgs"; touch "$DPKG_ROOT/run/reboot-required"' \
        deb_build "$DEBS" linux-image-999.1.0-1-amd64-t 999.1.0-1 amd64
DEB_DEPENDS="linux-image-999.1.0-1-amd64-t" deb_build "$DEBS" linux-image-amd64-t 2 amd64
mkdir -p "$ROOT/run"
repo_suite "$REPO" bookworm-security Debian-Security "$DEBS/linux-image-amd64-t_2_amd64.deb" \
        "$DEBS/linux-image-999.1.0-1-amd64-t_999.1.0-1_amd64.deb"
json=$("$HOSTCTL" --json patch plan --root "$ROOT" --refresh --allow 'linux-*')
expect_eq "$(jq -r '[.packages[] | select(.included) | "\(.name) \(.from)"] | join(",")' <<<"$json")" \
        "linux-image-999.1.0-1-amd64-t null,linux-image-amd64-t 1" "the new kernel is planned as a new package"
out=$("$HOSTCTL" patch apply --root "$ROOT" --allow 'linux-*')
expect_contains "$out" "reboot required: /run/reboot-required exists (linux-image-999.1.0-1-amd64-t)" \
        "Debian's reboot-required file is seen"
expect_contains "$out" "kernel 999.1.0-1-amd64 is installed, $(uname -r) is running" "and the newer kernel"
expect_contains "$out" "linux-image-999.1.0-1-amd64-t was updated by" "and the kernel package among the changes"

# through hostd: its configured root and policy, the job in a worker,
# progress streamed to hostctl, the outcome a change record
deb_build "$DEBS" tzdata-t 2026a-1 all
repo_suite "$REPO" bookworm-security Debian-Security "$DEBS/tzdata-t_2026a-1_all.deb" \
        "$DEBS/linux-image-amd64-t_2_amd64.deb" "$DEBS/linux-image-999.1.0-1-amd64-t_999.1.0-1_amd64.deb"
SOCK="$TMP/hostd.sock"
printf '{"docker": {"socket": "%s"}, "firewall": {"enabled": false}, "state-directory": "%s",
  "patching": {"root": "%s", "security-only": true, "hold": ["linux-image-amd64-t", "openssl-t"]}}\n' \
        "$TMP/no-docker.sock" "$TMP/state" "$ROOT" >"$TMP/hostd.json"
start_hostd main "" --config "$TMP/hostd.json" --socket "$SOCK"
wait_until 10 "hostd control socket" test -S "$SOCK"
out=$("$HOSTCTL" --socket "$SOCK" patch plan --refresh)
expect_contains "$out" "tzdata-t                         2024a-1                2026a-1" "hostd plans its configured root"
out=$("$HOSTCTL" --socket "$SOCK" patch apply)
expect_contains "$out" "Configuring tzdata-t" "hostctl shows hostd's worker's progress"
expect_contains "$out" ": applied: 1 package(s) installed" "the job's result"
expect_eq "$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${Version}' tzdata-t)" "2026a-1" "the root was patched"
expect_contains "$(cat "$TMP/main.log")" "notice: Patch transaction 20" "the apply is logged as a change"
expect_contains "$("$HOSTCTL" --socket "$SOCK" patch history)" "1 package(s) installed" "hostd shows the history"
rec=$("$HOSTCTL" --socket "$SOCK" --json changes --kind patch-apply | jq -c '.changes[-1]')
tx=$("$HOSTCTL" --socket "$SOCK" --json patch history | jq -r '.entries[-1].id // .history[-1].id // empty')
expect_eq "$(jq -r .fields.transaction <<<"$rec")" "$tx" "hostctl changes lists the apply, with its transaction"
expect_contains "$(jq -r .message <<<"$rec")" "1 package(s) installed" "and what it did"
expect_eq "$(jq -r '.changes | map(.kind) | join(" ")' <<<"$("$HOSTCTL" --socket "$SOCK" --json changes)")" \
        "patch-apply" "and it is the only change hostd made"
expect_eq "$(curl -s --unix-socket "$SOCK" -XPOST -H 'Content-Type: application/json' -d '{"plan": 1}' \
        http://hostd/v1/patch/apply | jq -r .message)" "plan: not a field of a patch apply request (refresh: boolean, plan: string)" \
        "a malformed patch request is refused"
expect_eq "$(curl -s --unix-socket "$SOCK" 'http://hostd/v1/patch/job?id=99' | jq -r .message)" \
        "no patch job 99 (the last one is 2)" "an unknown job is a clear 404"

# hostd's history never waits for a job's lock: asked while an apply runs
# (a postinst that waits for the test), it answers at once, the entry
# running
DEB_POSTINST="touch $TMP/in-postinst; while [ ! -e $TMP/go-on ]; do sleep 0.1; done" \
        deb_build "$DEBS" tzdata-t 2026b-1 all
repo_suite "$REPO" bookworm-security Debian-Security "$DEBS/tzdata-t_2026b-1_all.deb" \
        "$DEBS/linux-image-amd64-t_2_amd64.deb" "$DEBS/linux-image-999.1.0-1-amd64-t_999.1.0-1_amd64.deb"
"$HOSTCTL" --socket "$SOCK" patch plan --refresh >/dev/null
"$HOSTCTL" --socket "$SOCK" patch apply >"$TMP/slow-apply.out" 2>&1 &
slow_apply=$!
wait_until 60 "the apply's postinst runs" test -e "$TMP/in-postinst"
hist=$(timeout 10 "$HOSTCTL" --socket "$SOCK" --json patch history)
expect_eq "$(jq -r '.entries[-1] | "\(.state) \(.running)"' <<<"$hist")" "applying true" \
        "hostd's history answers while a job holds the patch lock: the entry running"
[ ! -e "$TMP/go-on" ] || fail "the apply ended before the history was asked"
touch "$TMP/go-on"
wait "$slow_apply"
expect_contains "$(cat "$TMP/slow-apply.out")" ": applied: 1 package(s) installed" "and the job then ends as usual"

# a damaged journal: a located error, nothing changed
entry=$(ls -t "$STATE/journal/"*.json | head -1)
sed -i 's/"state": "[a-z-]*"/"state": "done"/' "$entry"
status_before=$(installed)
set +e
out=$("$HOSTCTL" patch rollback --root "$ROOT" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a damaged journal refuses the rollback"
expect_contains "$out" "$entry:7:" "naming the file and line"
expect_contains "$out" "state" "and the field"
expect_eq "$(installed)" "$status_before" "and nothing is changed"

# a journal naming a package the root does not have, whose recorded
# version no repository offers: the rollback names the entry and the
# package, and changes nothing
sed -i 's/"state": "done"/"state": "applied"/' "$entry"
id=$(jq -r .id "$entry")
jq '.before += [["ghost-t", "amd64", "1.0"]]' "$entry" >"$entry.new" && mv "$entry.new" "$entry"
set +e
out=$("$HOSTCTL" patch rollback --root "$ROOT" --id "$id" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a recorded set that cannot be fetched refuses the rollback"
expect_contains "$out" "cannot roll back $id" "naming the entry"
expect_contains "$out" "no package file for ghost-t 1.0 (amd64)" "and the package"
expect_contains "$out" "nothing was changed" "saying nothing was changed"
expect_eq "$(installed)" "$status_before" "which is so"

# a minimal root: no /var/log (so no /var/log/apt) and no
# /var/cache/apt/archives/partial; apply and rollback work
MROOT="$TMP/minimal"
repo_suite "$TMP/mrepo" bookworm Debian "$DEBS/bash-t_5.2-2_amd64.deb"
repo_suite "$TMP/mrepo" bookworm-old Debian "$DEBS/bash-t_5.2-1_amd64.deb"
root_new "$MROOT"
root_install "$MROOT" "$DEBS/bash-t_5.2-1_amd64.deb"
root_sources "$MROOT" "$TMP/mrepo" bookworm bookworm-old
rm -rf "$MROOT/var/log" "$MROOT/var/cache/apt/archives/partial"
"$HOSTCTL" patch plan --root "$MROOT" --refresh >/dev/null
out=$("$HOSTCTL" patch apply --root "$MROOT")
expect_contains "$out" "applied: 1 package(s) installed" "a root without /var/log/apt and archives/partial is patched"
[ -d "$MROOT/var/log/apt" ] && [ -d "$MROOT/var/cache/apt/archives/partial" ] || fail "apt's directories not created"
ok "apt's log and download directories were created where apt keeps them"
rm -rf "$MROOT/var/log" "$MROOT/var/cache/apt/archives/partial"
out=$("$HOSTCTL" patch rollback --root "$MROOT")
expect_contains "$out" "rolled-back" "and rolled back, again without them"
expect_eq "$(dpkg-query --admindir="$MROOT/var/lib/dpkg" -W -f '${Version}' bash-t)" "5.2-1" "to the recorded version"
# what a dpkg database cannot be without: refused, named, nothing changed
rm -rf "$MROOT/var/lib/dpkg/updates"
set +e
out=$("$HOSTCTL" patch apply --root "$MROOT" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a dpkg database without its updates directory is refused"
expect_contains "$out" "$MROOT/var/lib/dpkg/updates: No such file or directory" "naming it"
expect_eq "$(dpkg-query --admindir="$MROOT/var/lib/dpkg" -W -f '${Version}' bash-t)" "5.2-1" "and nothing changed"

# a signed repository (no trusted=yes): a key made here, the Release
# signed with it, the root's sources naming the keyring
export GNUPGHOME="$TMP/gnupg"
mkdir -m 700 "$GNUPGHOME"
on_exit "gpgconf --kill gpg-agent 2>/dev/null"
gpg --batch --passphrase '' --quick-gen-key "hostd test <test@hostd.invalid>" rsa2048 sign never 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key "another key <other@hostd.invalid>" rsa2048 sign never 2>/dev/null
gpg --export "hostd test" >"$TMP/repo-key.gpg"
SREPO="$TMP/srepo"
deb_build "$DEBS" signed-t 1.0 amd64
deb_build "$DEBS" signed-t 1.1 amd64
repo_suite "$SREPO" bookworm Debian "$DEBS/signed-t_1.1_amd64.deb"
gpg --batch --yes -u "hostd test" --clearsign -o "$SREPO/dists/bookworm/InRelease" "$SREPO/dists/bookworm/Release"
SROOT="$TMP/sroot"
root_new "$SROOT"
root_install "$SROOT" "$DEBS/signed-t_1.0_amd64.deb"
echo "deb [signed-by=$TMP/repo-key.gpg] file:$SREPO bookworm main" >"$SROOT/etc/apt/sources.list"
json=$("$HOSTCTL" --json patch plan --root "$SROOT" --refresh)
expect_eq "$(jq -r '[.packages[] | "\(.name) \(.to)"] | join(",")' <<<"$json")" "signed-t 1.1" \
        "a signed repository is read with the root's keyring"
out=$("$HOSTCTL" patch apply --root "$SROOT")
expect_contains "$out" "applied: 1 package(s) installed" "and its package installed"
# signed by a key the root does not trust: the refresh fails, naming it
deb_build "$DEBS" signed-t 1.2 amd64
repo_suite "$SREPO" bookworm Debian "$DEBS/signed-t_1.2_amd64.deb"
gpg --batch --yes -u "another key" --clearsign -o "$SREPO/dists/bookworm/InRelease" "$SREPO/dists/bookworm/Release"
set +e
out=$("$HOSTCTL" patch plan --root "$SROOT" --refresh 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a repository signed by a key the root does not have is refused"
expect_contains "$out" "NO_PUBKEY" "saying the key is not the root's"
expect_eq "$(dpkg-query --admindir="$SROOT/var/lib/dpkg" -W -f '${Version}' signed-t)" "1.1" "and nothing changed"

echo "test-patch-apt: $CHECKS checks passed"
