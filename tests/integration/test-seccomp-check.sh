#!/bin/bash
# hostctl seccomp check/compile/run, without a daemon: Docker's and Podman's
# own default profiles (from Debian's packages, unchanged) and the shipped
# hardened one are accepted, compiled and loaded by the kernel; a corpus of
# broken profiles is refused, each with the error located where it is;
# commands run under a profile get the errno the profile says.
. "$(dirname "$0")/lib.sh"
need_built
UPSTREAM="$HOSTD_SRC/$BUILD/upstream"
BROKEN="$HOSTD_SRC/tests/seccomp/broken"
HARDENED="$HOSTD_SRC/policy/profiles/hostd-hardened.json"
"$HOSTD_SRC/tests/harness/upstream-profiles.sh" "$UPSTREAM"

for p in docker-default podman-default docker-fixture-default-old-format docker-fixture-example \
        docker-fixture-conditional_include; do
        out=$("$HOSTCTL" seccomp check "$UPSTREAM/$p.json") || fail "$p.json refused: $out"
        expect_contains "$out" "loads in the kernel" "$p.json accepted, compiled and loaded"
done
out=$("$HOSTCTL" seccomp check "$HARDENED")
expect_contains "$out" "loads in the kernel" "the hardened profile is accepted"

json=$("$HOSTCTL" --json seccomp check "$UPSTREAM/docker-default.json")
expect_eq "$(jq -r '.[0].valid' <<<"$json")" true "JSON: valid"
expect_eq "$(jq -r '[.[0].targets[].arch] | sort | join(",")' <<<"$json")" \
        "amd64,arm64,mips3l64n32,mips64,mips64n32,mipsel64,s390x" \
        "Docker's profile compiles for every architecture it maps"

# Docker's default for amd64 and Docker's default capabilities: 12 of its
# 28 entries apply (the rest are for other arches or capabilities)
json=$("$HOSTCTL" --json seccomp compile "$UPSTREAM/docker-default.json")
expect_eq "$(jq -r .rules_in_profile <<<"$json")" 28 "compile: entries in Docker's profile"
expect_eq "$(jq -r .rules_selected <<<"$json")" 12 "compile: entries for amd64 with the default capabilities"
[ "$(jq -r .bpf_instructions <<<"$json")" -gt 100 ] || fail "implausible BPF size: $json"
ok "compile: BPF instructions counted ($(jq -r .bpf_instructions <<<"$json"))"
expect_eq "$(jq -r .compiler <<<"$json")" hostd "compile: Docker's profile built by hostd's generator"
out=$("$HOSTCTL" seccomp compile "$UPSTREAM/docker-default.json" --pfc)
grep -q '^# filter for arch x86 ' <<<"$out" || fail "--pfc printed no libseccomp listing: $out"
ok "compile --pfc: libseccomp's listing"
json=$("$HOSTCTL" --json seccomp compile "$UPSTREAM/docker-default.json" --caps all)
[ "$(jq -r .rules_selected <<<"$json")" -gt 12 ] || fail "--caps all selected no more entries: $json"
ok "compile --caps all selects the capability-gated entries too"
table=$("$HOSTCTL" seccomp compile "$HARDENED" --arch arm64)
expect_contains "$table" "for arm64" "compile --arch arm64"
pfc=$("$HOSTCTL" seccomp compile "$HARDENED" --pfc)
expect_contains "$pfc" "# filter for arch x86_64" "compile --pfc prints libseccomp's listing"

# the broken corpus: every file refused, every error exactly as recorded
actual=$(cd "$BROKEN" && for f in *.json; do
        if "$HOSTCTL" seccomp check "$f" 2>&1; then echo "$f: ACCEPTED"; fi
done)
if [ "$actual" != "$(cat "$BROKEN/EXPECTED")" ]; then
        diff <(echo "$actual") "$BROKEN/EXPECTED" >&2 || true
        fail "broken profiles: errors differ from tests/seccomp/broken/EXPECTED"
fi
ok "$(ls "$BROKEN"/*.json | wc -l) broken profiles refused, each error located as recorded"
json=$("$HOSTCTL" --json seccomp check "$BROKEN/unknown-op.json" || true)
expect_eq "$(jq -r '.[0] | "\(.valid) \(.error.line):\(.error.column) \(.error.path)"' <<<"$json")" \
        "false 6:46 syscalls[1].args[0].op" "JSON error carries line, column and path"
set +e
"$HOSTCTL" seccomp check "$HARDENED" "$BROKEN/unknown-action.json" >/dev/null 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "check exits 1 when any file is refused"
out=$("$HOSTCTL" seccomp check /nonexistent.json 2>&1 || true)
expect_eq "$out" "/nonexistent.json: No such file or directory" "a missing file is named"

# run: ordinary work under the hardened profile; what it denies fails with EPERM
out=$("$HOSTCTL" seccomp run "$HARDENED" -- sh -c 'echo hi >/tmp/hostd-sc-$$ && cat /tmp/hostd-sc-$$ && rm /tmp/hostd-sc-$$ && ls / >/dev/null && echo done')
expect_eq "$out" "hi
done" "a shell and its tools work under the hardened profile"
"$HOSTCTL" seccomp run "$UPSTREAM/docker-default.json" -- busybox linux32 true
ok "Docker's default allows personality(PER_LINUX32)"
set +e
out=$("$HOSTCTL" seccomp run "$HARDENED" -- busybox linux32 true 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "the hardened profile denies it"
expect_contains "$out" "personality(0x8): Operation not permitted" "with EPERM"
set +e
out=$("$HOSTCTL" seccomp run "$UPSTREAM/docker-default.json" -- unshare --user true 2>&1)
rc=$?
out_admin=$("$HOSTCTL" seccomp run --caps default,sys_admin "$UPSTREAM/docker-default.json" -- unshare --user true 2>&1)
rc_admin=$?
set -e
expect_eq "$rc" 1 "Docker's default denies a user namespace without CAP_SYS_ADMIN"
expect_contains "$out" "Operation not permitted" "with EPERM"
expect_eq "$rc_admin" 0 "and allows it with CAP_SYS_ADMIN in the target set: $out_admin"
set +e
"$HOSTCTL" seccomp run "$HARDENED" -- /nonexistent/cmd 2>/dev/null
rc=$?
set -e
expect_eq "$rc" 127 "run: a missing command exits 127"

echo "test-seccomp-check: $CHECKS checks passed"
