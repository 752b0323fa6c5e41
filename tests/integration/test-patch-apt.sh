#!/bin/bash
# The apt backend on sandbox roots, through libapt-pkg: real .deb packages
# built here, a local repository with a security suite and a regular one,
# a root with the old versions installed by dpkg; the plan, its security
# classification, policy filtering and a stable plan ID; bad input refused
# with a clear error.
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

echo "test-patch-apt: $CHECKS checks passed"
