#!/bin/bash
# A new user's first command. A debootstrapped Debian 12 root holding only
# the base system (and make, which the README's commands are), a clone of
# this tree in it, and, as the very first command in that root:
#   - `make demo-build`, what `make demo` builds before it runs the demo;
#   - in a second fresh root, `make check-build`, what `make check` builds
#     before it runs a test.
# Each must install the Debian packages it needs by itself and build. Before
# that, a plain `make` in the fresh root must stop with an error naming the
# pkg-config modules it cannot find and their packages, and change nothing.
# The test machine itself already has every package, which is why only a
# root like this one can see a missing install step.
# in a mount namespace of its own, so that no mount made here (the /dev
# bind among them) can reach the machine's, and all go when it ends
if [ -z "${HOSTD_FRESH_ROOT_NS:-}" ]; then
        exec unshare --mount --propagation private env HOSTD_FRESH_ROOT_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BASE_CACHE=${BASE_CACHE:-/var/cache/hostd-test/fresh-bookworm}

# --- the base system, built once per machine ---
if [ ! -e "$BASE_CACHE/.complete" ]; then
        echo "building $BASE_CACHE (debootstrap)" >&2
        rm -rf "$BASE_CACHE"
        mkdir -p "$BASE_CACHE"
        debootstrap --include=make bookworm "$BASE_CACHE" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 ||
                { tail -20 "$TMP/debootstrap.log" >&2; fail "debootstrap failed"; }
        touch "$BASE_CACHE/.complete"
fi
for tool in gcc cc pkg-config clang; do
        [ ! -e "$BASE_CACHE/usr/bin/$tool" ] || fail "the base root already has $tool: it is not fresh"
done
ok "a Debian 12 base root without a compiler or pkg-config"

# downloaded packages are shared by the two roots, so the second one only
# unpacks them; each root still installs everything itself
mkdir -p "$TMP/archives/partial"

# fresh_root NAME: an overlay of the base root, with /proc and /dev, the
# machine's own resolver and apt settings, services kept from starting
# (as in any chroot) and the tree cloned into /root/hostd.
fresh_root() {
        local root=$TMP/$1
        mkdir -p "$root.upper" "$root.work" "$root"
        mount -t overlay overlay -o "lowerdir=$BASE_CACHE,upperdir=$root.upper,workdir=$root.work" "$root"
        on_exit "umount -l '$root'"
        mount -t proc proc "$root/proc"
        on_exit "umount -l '$root/proc'"
        mount --rbind /dev "$root/dev"
        mount --make-rslave "$root/dev"
        on_exit "umount -l '$root/dev'"
        mount --bind "$TMP/archives" "$root/var/cache/apt/archives"
        on_exit "umount -l '$root/var/cache/apt/archives'"
        cp /etc/resolv.conf "$root/etc/resolv.conf"
        for conf in /etc/apt/apt.conf.d/*; do
                [ -f "$conf" ] && cp "$conf" "$root/etc/apt/apt.conf.d/"
        done
        # Debian's own policy hook: daemons that packages install (dockerd)
        # are not started inside a chroot
        printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
        chmod 0755 "$root/usr/sbin/policy-rc.d"
        # the clone, and this tree's changes not yet committed over it
        git clone -q "$HOSTD_SRC" "$root/root/hostd"
        (cd "$HOSTD_SRC" && git ls-files -z --modified --others --exclude-standard) |
                (cd "$HOSTD_SRC" && xargs -0 -r cp --parents -t "$root/root/hostd")
        (cd "$HOSTD_SRC" && git ls-files -z --deleted) | (cd "$root/root/hostd" && xargs -0 -r rm -f)
}
# in_root NAME COMMAND: COMMAND in the clone, with a login's environment
in_root() {
        local root=$TMP/$1
        shift
        chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                LANG=C.UTF-8 sh -c "cd /root/hostd && $*"
}

# --- root 1: make demo's build ---
fresh_root demo
rc=0
in_root demo make >"$TMP/plain-make.txt" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a plain make built without the packages"
expect_contains "$(cat "$TMP/plain-make.txt")" "libxml-2.0 (Debian package libxml2-dev)" \
        "a plain make on the fresh root names the missing module and its package"
expect_contains "$(cat "$TMP/plain-make.txt")" "run \`make deps\` as root" "and says how to install them"
[ ! -e "$TMP/demo/root/hostd/build/hostd" ] || fail "the failed make left a hostd behind"
ok "and builds nothing"

t0=$(date +%s)
in_root demo make demo-build >"$TMP/demo-build.log" 2>&1 ||
        { tail -40 "$TMP/demo-build.log" >&2; fail "make demo-build failed as the first command on a fresh root"; }
ok "make demo-build, the first command on a fresh root, installed its packages and built ($(($(date +%s) - t0)) s)"
grep -q '^deps: installing' "$TMP/demo-build.log" || fail "make demo-build installed nothing: the root was not fresh"
for bin in hostd hostctl; do
        [ -x "$TMP/demo/root/hostd/build/$bin" ] || fail "make demo-build did not build $bin"
done
expect_contains "$(in_root demo build/hostd --version)" "hostd" "the root's hostd runs"
expect_contains "$(in_root demo build/hostctl --help 2>&1 || true)" "hostctl" "the root's hostctl runs"

# --- root 2: make check's build ---
fresh_root check
t0=$(date +%s)
in_root check make check-build >"$TMP/check-build.log" 2>&1 ||
        { tail -40 "$TMP/check-build.log" >&2; fail "make check-build failed as the first command on a fresh root"; }
ok "make check-build, the first command on a fresh root, installed its packages and built ($(($(date +%s) - t0)) s)"
grep -q '^deps: installing' "$TMP/check-build.log" || fail "make check-build installed nothing: the root was not fresh"
c=$TMP/check/root/hostd
n_unit=$(ls "$HOSTD_SRC"/tests/unit/test-*.c | wc -l)
n_fuzz=$(ls "$HOSTD_SRC"/tests/fuzz/fuzz-*.c | wc -l)
expect_eq "$(ls "$c"/build/tests/test-* | wc -l)" "$n_unit" "every unit test program built"
expect_eq "$(ls "$c"/build/san-address-undefined/tests/test-* | wc -l)" "$n_unit" "every unit test program built under ASan+UBSan"
expect_eq "$(ls "$c"/build/fuzz/fuzz-* | wc -l)" "$n_fuzz" "every fuzzer built"
for bin in build/hostd build/hostctl build/san-address-undefined/hostd build/san-address-undefined/hostctl; do
        [ -x "$c/$bin" ] || fail "make check-build did not build $bin"
done
ok "hostd and hostctl built plain and under the sanitizers"
echo "test-fresh-root: $CHECKS checks passed"
