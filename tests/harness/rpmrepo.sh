# Sourced (bash): real .rpm packages built with rpmbuild, a yum repository
# made by createrepo_c with security advisories (updateinfo.xml added by
# modifyrepo_c), and sandbox roots with an rpm database at /var/lib/rpm, as
# rpm distributions keep it.

RPM_DB=(--dbpath /var/lib/rpm)

# rpm_build OUTDIR NAME VERSION RELEASE ARCH [POST_EXIT]: a package with one
# file, /usr/share/NAME/version; a %post that exits POST_EXIT when given.
# With $RPM_PRE, $RPM_POST, $RPM_POSTUN: those scriptlets' bodies (run by
# the root's /bin/sh, chrooted into it).
rpm_build() {
        local out=$1 name=$2 version=$3 release=$4 arch=$5 post=${6:-}
        local top
        top=$(mktemp -d)
        mkdir -p "$top/SPECS"
        {
                printf 'Name: %s\nVersion: %s\nRelease: %s\nSummary: hostd test package %s\n' "$name" "$version" "$release" "$name"
                printf 'License: GPL-2.0-or-later\nBuildArch: %s\nAutoReqProv: no\n' "$arch"
                printf '%%description\nhostd test package\n'
                printf '%%install\nmkdir -p %%{buildroot}/usr/share/%s\necho %s-%s >%%{buildroot}/usr/share/%s/version\n' \
                        "$name" "$version" "$release" "$name"
                printf '%%files\n/usr/share/%s/version\n' "$name"
                [ -z "$post" ] || printf '%%post\nexit %s\n' "$post"
                [ -z "${RPM_PRE:-}" ] || printf '%%pre\n%s\n' "$RPM_PRE"
                [ -n "$post" ] || [ -z "${RPM_POST:-}" ] || printf '%%post\n%s\n' "$RPM_POST"
                [ -z "${RPM_POSTUN:-}" ] || printf '%%postun\n%s\n' "$RPM_POSTUN"
        } >"$top/SPECS/$name.spec"
        rpmbuild --quiet -bb --define "_topdir $top" --define "_rpmdir $out" \
                --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
                "$top/SPECS/$name.spec" >"$top/log" 2>&1 || { cat "$top/log" >&2; rm -rf "$top"; return 1; }
        rm -rf "$top"
}

# rpm_build_sh OUTDIR: sh-t, busybox as /bin/sh: rpm runs scriptlets
# chrooted into the root, which needs a shell of its own
rpm_build_sh() {
        local out=$1 top
        top=$(mktemp -d)
        mkdir -p "$top/SPECS"
        printf 'Name: sh-t\nVersion: 1\nRelease: 1\nSummary: busybox as /bin/sh\nLicense: GPL-2.0-or-later\nAutoReqProv: no\nProvides: /bin/sh\n%%description\nsh\n%%install\nmkdir -p %%{buildroot}/bin\ncp /bin/busybox %%{buildroot}/bin/sh\n%%files\n/bin/sh\n' \
                >"$top/SPECS/sh-t.spec"
        rpmbuild --quiet -bb --define "_topdir $top" --define "_rpmdir $out" \
                --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
                --define "__strip /bin/true" --define "__os_install_post %{nil}" \
                "$top/SPECS/sh-t.spec" >"$top/log" 2>&1 || { cat "$top/log" >&2; rm -rf "$top"; return 1; }
        rm -rf "$top"
}

# rpm_repo REPO RPMS... : a yum repository of RPMS. With $RPM_SECURITY
# ("NAME-VERSION-RELEASE.ARCH ..."), a security advisory listing those.
rpm_repo() {
        local repo=$1 p n v r a
        shift
        rm -rf "$repo"
        mkdir -p "$repo"
        cp "$@" "$repo/"
        createrepo_c -q --no-database "$repo"
        [ -n "${RPM_SECURITY:-}" ] || return 0
        {
                echo '<?xml version="1.0" encoding="UTF-8"?>'
                echo '<updates><update from="security@hostd.invalid" status="final" type="security" version="2.0">'
                echo '<id>HOSTD-SA-2026:0001</id><title>test advisory</title><issued date="2026-11-01 00:00:00"/>'
                echo '<pkglist><collection short="t"><name>t</name>'
                for p in $RPM_SECURITY; do
                        a=${p##*.}; p=${p%.*}; r=${p##*-}; p=${p%-*}; v=${p##*-}; n=${p%-*}
                        echo "<package name=\"$n\" version=\"$v\" release=\"$r\" epoch=\"0\" arch=\"$a\"><filename>$n-$v-$r.$a.rpm</filename></package>"
                done
                echo '</collection></pkglist></update></updates>'
        } >"$repo/updateinfo.xml"
        modifyrepo_c --mdtype=updateinfo "$repo/updateinfo.xml" "$repo/repodata" >/dev/null
}

# rpmroot_new ROOT SH_RPM: an empty root with an rpm database and /bin/sh
rpmroot_new() {
        mkdir -p "$1/etc/yum.repos.d"
        rpm --root "$1" "${RPM_DB[@]}" --initdb
        rpmroot_install "$1" "$2"
}

# rpmroot_install ROOT RPMS...
rpmroot_install() {
        local r=$1
        shift
        rpm --root "$r" "${RPM_DB[@]}" -i --nosignature "$@" 2>&1 | grep -v -e 'Alien' -e 'assuming you know' >&2 || true
}

# rpmroot_repo ROOT ID REPO: the root's repository ID (no signatures)
rpmroot_repo() {
        printf '[%s]\nname=%s\nbaseurl=file://%s\nenabled=1\ngpgcheck=0\n' "$2" "$2" "$3" >"$1/etc/yum.repos.d/$2.repo"
}

# rpmroot_query ROOT: "name-version-release.arch ..." sorted
rpmroot_query() {
        rpm --root "$1" "${RPM_DB[@]}" -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n' | sort | tr '\n' ' '
}
