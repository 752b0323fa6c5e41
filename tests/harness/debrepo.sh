# Sourced (bash): real .deb packages built with dpkg-deb, a local apt
# repository with signed-by-nobody ([trusted=yes]) suites whose Release
# files carry the origin and label apt classifies by, and sandbox roots
# with packages installed by dpkg --root.

# deb_build OUTDIR NAME VERSION ARCH [POSTINST_EXIT]: a package with one
# file, /usr/share/NAME/version; a postinst that exits POSTINST_EXIT when
# given. With $DEB_DEPENDS, that Depends field; with $DEB_FILES, also those (empty) files, paths relative to /;
# with $DEB_POSTINST, that postinst body instead (run without chroot, with
# $DPKG_ROOT set, as dpkg does for a sandbox root); with $DEB_PREINST, that
# preinst body.
deb_build() {
        local out=$1 name=$2 version=$3 arch=$4 postinst=${5:-}
        local d f
        d=$(mktemp -d)
        mkdir -p "$d/DEBIAN" "$d/usr/share/$name"
        echo "$version" >"$d/usr/share/$name/version"
        for f in ${DEB_FILES:-}; do
                mkdir -p "$d/$(dirname "$f")"
                : >"$d/$f"
        done
        printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: hostd tests <tests@hostd.invalid>\nDescription: hostd test package %s\n' \
                "$name" "$version" "$arch" "$name" >"$d/DEBIAN/control"
        [ -z "${DEB_DEPENDS:-}" ] || echo "Depends: $DEB_DEPENDS" >>"$d/DEBIAN/control"
        if [ -n "$postinst" ]; then
                printf '#!/bin/sh\nexit %s\n' "$postinst" >"$d/DEBIAN/postinst"
        elif [ -n "${DEB_POSTINST:-}" ]; then
                printf '#!/bin/sh\nset -e\n%s\n' "$DEB_POSTINST" >"$d/DEBIAN/postinst"
        fi
        [ ! -e "$d/DEBIAN/postinst" ] || chmod 755 "$d/DEBIAN/postinst"
        if [ -n "${DEB_PREINST:-}" ]; then
                printf '#!/bin/sh\nset -e\n%s\n' "$DEB_PREINST" >"$d/DEBIAN/preinst"
                chmod 755 "$d/DEBIAN/preinst"
        fi
        dpkg-deb --root-owner-group -b "$d" "$out/${name}_${version}_${arch}.deb" >/dev/null
        rm -rf "$d"
}

# repo_suite REPO SUITE LABEL DEBS...: publishes DEBS as REPO/dists/SUITE/main
# (with what was published there before; the newest version of each).
# REPO_EXACT=1: exactly DEBS, every version of them listed, as archives
# that keep older versions do.
repo_suite() {
        local repo=$1 suite=$2 label=$3
        shift 3
        local dist="$repo/dists/$suite"
        [ "${REPO_EXACT:-0}" = 1 ] && rm -rf "${repo:?}/pool/$suite"
        mkdir -p "$repo/pool/$suite" "$dist/main/binary-amd64"
        cp "$@" "$repo/pool/$suite/"
        (cd "$repo" && dpkg-scanpackages $([ "${REPO_EXACT:-0}" = 1 ] && echo -m) "pool/$suite" /dev/null 2>/dev/null) \
                >"$dist/main/binary-amd64/Packages"
        {
                echo "Origin: Debian"
                echo "Label: $label"
                echo "Suite: $suite"
                echo "Codename: $suite"
                echo "Date: $(date -Ru)"
                echo "Architectures: amd64 all"
                echo "Components: main"
                echo "SHA256:"
                echo " $(sha256sum "$dist/main/binary-amd64/Packages" | cut -d' ' -f1) $(stat -c%s "$dist/main/binary-amd64/Packages") main/binary-amd64/Packages"
        } >"$dist/Release"
}

# root_new ROOT: an empty root dpkg and apt can work on
root_new() {
        local r=$1
        mkdir -p "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/info" "$r/etc/apt/sources.list.d" \
                "$r/etc/apt/preferences.d" "$r/etc/apt/apt.conf.d" "$r/var/lib/apt/lists/partial" \
                "$r/var/cache/apt/archives/partial" "$r/var/log/apt"
        touch "$r/var/lib/dpkg/status"
}

# root_install ROOT DEBS...: installs into the sandbox root with dpkg
root_install() {
        local r=$1
        shift
        dpkg --root="$r" --force-script-chrootless --force-not-root -i "$@" >/dev/null
}

# root_sources ROOT REPO SUITES...
root_sources() {
        local r=$1 repo=$2 s
        shift 2
        : >"$r/etc/apt/sources.list"
        for s in "$@"; do echo "deb [trusted=yes] file:$repo $s main" >>"$r/etc/apt/sources.list"; done
}
