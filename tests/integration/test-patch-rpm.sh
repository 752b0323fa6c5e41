#!/bin/bash
# The rpm backend on sandbox roots, through librpm: real .rpm packages built
# with rpmbuild, a yum repository made by createrepo_c with a security
# advisory, a root with an rpm database at /var/lib/rpm. The plan and its
# security classification from the advisory, staging, apply with progress,
# exact rollback, a failing %post rolled back by itself, a package failing
# its checksum, bad repositories refused with clear errors.
. "$(dirname "$0")/lib.sh"
. "$HOSTD_SRC/tests/harness/rpmrepo.sh"
need_built

RPMS="$TMP/rpms"
REPO="$TMP/repo"
ROOT="$TMP/root"
mkdir -p "$RPMS"
rpm_build_sh "$RPMS"
rpm_build "$RPMS" openssl-t 3.0.11 1 x86_64
rpm_build "$RPMS" openssl-t 3.0.13 1 x86_64
rpm_build "$RPMS" bash-t 5.2 1 x86_64
rpm_build "$RPMS" bash-t 5.2 2 x86_64
rpm_build "$RPMS" tzdata-t 2024a 1 noarch
rpm_build "$RPMS" tzdata-t 2025b 1 noarch 1
RPM_SECURITY="openssl-t-3.0.13-1.x86_64 tzdata-t-2025b-1.noarch" rpm_repo "$REPO" \
        "$RPMS/openssl-t-3.0.13-1.x86_64.rpm" "$RPMS/openssl-t-3.0.11-1.x86_64.rpm" "$RPMS/bash-t-5.2-2.x86_64.rpm"
rpmroot_new "$ROOT" "$RPMS/sh-t-1-1.x86_64.rpm"
rpmroot_install "$ROOT" "$RPMS/openssl-t-3.0.11-1.x86_64.rpm" "$RPMS/bash-t-5.2-1.x86_64.rpm" \
        "$RPMS/tzdata-t-2024a-1.noarch.rpm"
rpmroot_repo "$ROOT" updates "$REPO"
before=$(rpmroot_query "$ROOT")
expect_eq "$before" "bash-t-5.2-1.x86_64 openssl-t-3.0.11-1.x86_64 sh-t-1-1.x86_64 tzdata-t-2024a-1.noarch " \
        "the sandbox root has the old versions"

plan() { "$HOSTCTL" --json patch plan --root "$ROOT" "$@"; }
json=$(plan --refresh)
expect_eq "$(jq -r '[.packages[] | "\(.name) \(.arch) \(.from) \(.to) \(.security) \(.suite)"] | join(", ")' <<<"$json")" \
        "bash-t x86_64 5.2-1 5.2-2 false updates, openssl-t x86_64 3.0.11-1 3.0.13-1 true HOSTD-SA-2026:0001" \
        "the plan lists the upgrades, security from the advisory"
id_all=$(jq -r .id <<<"$json")
expect_eq "$(plan | jq -r .id)" "$id_all" "the plan ID is stable"
json=$(plan --security-only)
expect_eq "$(jq -r '[.packages[] | select(.included) | .name] | join(",")' <<<"$json")" "openssl-t" \
        "security-only keeps the advisory's update"
sec_plan=$(jq -r .id <<<"$json")

# staging
json=$("$HOSTCTL" --json patch stage --root "$ROOT")
expect_eq "$(jq -r '.stage | "\(.complete) \(.reversible)"' <<<"$json")" "true false" \
        "everything staged; not reversible while bash-t 5.2-1 is in no repository"
out=$("$HOSTCTL" patch stage --root "$ROOT" --security-only --plan "$sec_plan")
expect_contains "$out" "staged completely, reversible" "the security plan is staged and reversible"
expect_eq "$(rpmroot_query "$ROOT")" "$before" "staging installs nothing"

# apply and rollback
out=$("$HOSTCTL" patch apply --root "$ROOT" --security-only --plan "$sec_plan")
expect_contains "$out" "Installing openssl-t" "apply streams rpm's progress"
expect_contains "$out" ": applied: 1 package(s) installed" "the transaction is applied"
expect_eq "$(rpmroot_query "$ROOT")" "bash-t-5.2-1.x86_64 openssl-t-3.0.13-1.x86_64 sh-t-1-1.x86_64 tzdata-t-2024a-1.noarch " \
        "exactly the security update is installed"
entry=$(ls "$ROOT/var/lib/hostd/patches/journal/"*.json)
expect_eq "$(jq -r '.backend + " " + .state + " " + ([.before[] | join("/")] | join(","))' "$entry")" \
        "rpm applied bash-t/x86_64/5.2-1,openssl-t/x86_64/3.0.11-1,sh-t/x86_64/1-1,tzdata-t/noarch/2024a-1" \
        "the journal records the exact set from before"
out=$("$HOSTCTL" patch rollback --root "$ROOT")
expect_contains "$out" "rolled-back: rolled back to the recorded set (verified)" "rollback returns to the record"
expect_eq "$(rpmroot_query "$ROOT")" "$before" "the installed versions are the recorded ones"

# a %post that fails: rpm carries on, hostd does not
RPM_SECURITY="tzdata-t-2025b-1.noarch" rpm_repo "$REPO" "$RPMS/tzdata-t-2025b-1.noarch.rpm" "$RPMS/tzdata-t-2024a-1.noarch.rpm"
plan --refresh >/dev/null
set +e
out=$("$HOSTCTL" patch apply --root "$ROOT" --security-only 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a failing %post fails the apply"
expect_contains "$out" "%post(tzdata-t-2025b-1.noarch) scriptlet failed, exit status 1" "naming the package and the scriptlet"
expect_contains "$out" "rolled back to the recorded set (verified)" "and the host is returned to the record"
expect_eq "$(rpmroot_query "$ROOT")" "$before" "every package is at its recorded version again"

# a package that fails its checksum: nothing is changed
rpm_build "$RPMS" bash-t 5.2 3 x86_64
rpm_repo "$REPO" "$RPMS/bash-t-5.2-3.x86_64.rpm"
plan --refresh >/dev/null
head -c "$(stat -c %s "$REPO/bash-t-5.2-3.x86_64.rpm")" /dev/urandom >"$REPO/bash-t-5.2-3.x86_64.rpm"
set +e
out=$("$HOSTCTL" patch apply --root "$ROOT" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a package failing its checksum fails the apply"
expect_contains "$out" "sha256 mismatch" "saying why"
expect_contains "$out" "nothing was changed" "and that nothing was changed"
expect_eq "$(rpmroot_query "$ROOT")" "$before" "which is so"

# bad repositories: clear errors, nothing changed
rpmroot_repo "$ROOT" gone "$TMP/no-such-repo"
set +e
out=$("$HOSTCTL" patch plan --root "$ROOT" --refresh 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "a missing repository fails the refresh"
expect_contains "$out" "cannot refresh repository gone (file://$TMP/no-such-repo)" "naming it"
printf '[broken]\nbaseurl=ftp://example.invalid/repo\n' >"$ROOT/etc/yum.repos.d/gone.repo"
set +e
out=$("$HOSTCTL" patch plan --root "$ROOT" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "an unusable .repo file is refused"
expect_contains "$out" "gone.repo:2: baseurl \"ftp://example.invalid/repo\": only file:///, http:// and https://" \
        "naming the file, line and value"
rm "$ROOT/etc/yum.repos.d/gone.repo"
expect_eq "$(rpmroot_query "$ROOT")" "$before" "the root is as recorded"
expect_eq "$("$HOSTCTL" patch history --root "$ROOT" | awk 'NR > 1 {print $2}' | tr '\n' ' ')" \
        "rolled-back rolled-back failed " "history: the rollback, the automatic rollback, the refused download"

# --- signatures: gpgcheck=1 means a valid signature from a key in the
# root's rpm keyring, for every package; refused before anything changes ---
export GNUPGHOME="$TMP/gnupg"
mkdir -m 700 "$GNUPGHOME"
on_exit "gpgconf --kill gpg-agent 2>/dev/null"
gpg --batch --passphrase '' --quick-gen-key "hostd test <test@hostd.invalid>" rsa2048 sign never 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key "another key <other@hostd.invalid>" rsa2048 sign never 2>/dev/null
gpg --armor --export "hostd test" >"$TMP/test-key.asc"
rpm_sign() { # KEY RPM
        rpmsign --define "__gpg /usr/bin/gpg" --define "_gpg_name $1" --define "_gpg_path $GNUPGHOME" \
                --define "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''" \
                --addsign "$2" >/dev/null 2>&1 || fail "rpmsign $2 with $1"
}
SIGNED="$TMP/signed"
mkdir -p "$SIGNED"
for p in good-t plain-t other-t; do
        rpm_build "$SIGNED" "$p" 1.0 1 x86_64
        rpm_build "$SIGNED" "$p" 1.1 1 x86_64
done
rpm_sign "hostd test" "$SIGNED/good-t-1.1-1.x86_64.rpm"
rpm_sign "another key" "$SIGNED/other-t-1.1-1.x86_64.rpm"
SROOT="$TMP/sroot"
rpmroot_new "$SROOT" "$RPMS/sh-t-1-1.x86_64.rpm"
rpmroot_install "$SROOT" "$SIGNED"/*-1.0-1.x86_64.rpm
rpm --root "$SROOT" "${RPM_DB[@]}" --import "$TMP/test-key.asc"
rpm_repo "$TMP/srepo" "$SIGNED"/*-1.1-1.x86_64.rpm
printf '[signed]\nname=signed\nbaseurl=file://%s\nenabled=1\ngpgcheck=1\n' "$TMP/srepo" >"$SROOT/etc/yum.repos.d/signed.repo"
sbefore=$(rpmroot_query "$SROOT")
"$HOSTCTL" patch plan --root "$SROOT" --refresh >/dev/null
signed_apply() { # PACKAGE: the apply of that package alone: $rc, $out
        rc=0
        out=$("$HOSTCTL" patch apply --root "$SROOT" --allow "$1" 2>&1) || rc=$?
}
signed_apply plain-t
expect_eq "$rc" 1 "gpgcheck=1: an unsigned package is refused"
expect_contains "$out" "plain-t-1.1-1.x86_64" "naming it ($out)"
expect_contains "$out" "no signature" "and why"
expect_contains "$out" "nothing was changed" "and that nothing was changed"
expect_eq "$(rpmroot_query "$SROOT")" "$sbefore" "which is so"
signed_apply other-t
expect_eq "$rc" 1 "gpgcheck=1: a package signed by a key the root does not have is refused"
expect_contains "$out" "other-t-1.1-1.x86_64" "naming it ($out)"
expect_contains "$out" "key" "and why"
expect_eq "$(rpmroot_query "$SROOT")" "$sbefore" "nothing changed"
# a bad signature: the signed package's payload changed after signing
cp "$SIGNED/good-t-1.1-1.x86_64.rpm" "$TMP/tampered.rpm"
printf 'X' | dd of="$TMP/tampered.rpm" bs=1 seek=$(($(stat -c %s "$TMP/tampered.rpm") - 64)) conv=notrunc 2>/dev/null
expect_contains "$(rpm --root "$SROOT" "${RPM_DB[@]}" -K "$TMP/tampered.rpm" 2>&1 || true)" "NOT OK" \
        "(the tampered copy fails rpm's own check)"
cp "$TMP/tampered.rpm" "$TMP/srepo/good-t-1.1-1.x86_64.rpm"
createrepo_c -q --no-database "$TMP/srepo"
"$HOSTCTL" patch plan --root "$SROOT" --refresh >/dev/null
rm -rf "$SROOT/var/lib/hostd/patches/stage"
signed_apply good-t
expect_eq "$rc" 1 "gpgcheck=1: a package whose signature is bad is refused"
expect_contains "$out" "good-t-1.1-1.x86_64" "naming it ($out)"
expect_eq "$(rpmroot_query "$SROOT")" "$sbefore" "nothing changed"
# the good one, signed by the key the root has
cp "$SIGNED/good-t-1.1-1.x86_64.rpm" "$TMP/srepo/"
createrepo_c -q --no-database "$TMP/srepo"
"$HOSTCTL" patch plan --root "$SROOT" --refresh >/dev/null
rm -rf "$SROOT/var/lib/hostd/patches/stage"
signed_apply good-t
expect_eq "$rc" 0 "gpgcheck=1: a package signed by the root's key is installed"
expect_contains "$(rpmroot_query "$SROOT")" "good-t-1.1-1.x86_64" "and is there"
# repo_gpgcheck=1: refused with a clear message, never ignored
echo "repo_gpgcheck=1" >>"$SROOT/etc/yum.repos.d/signed.repo"
set +e
out=$("$HOSTCTL" patch plan --root "$SROOT" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "repo_gpgcheck=1 is refused"
expect_contains "$out" "signed.repo:6: repo_gpgcheck=1: hostd does not check repository metadata signatures" \
        "naming the file, line and why"

echo "test-patch-rpm: $CHECKS checks passed"
