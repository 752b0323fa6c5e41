#!/bin/bash
# The packages for real. The .deb is built (make deb), checked by lintian
# (no errors), installed into a debootstrapped Debian 12 root, and that root
# is booted with systemd-nspawn --boot (its own network namespace): hostd
# must be active after READY=1 with the packaged configuration applying no
# firewall, log to the journal with its structured fields, reload on
# systemctl reload, be restarted by the watchdog when hung, answer hostctl,
# and apply its firewall inside the container's network namespace once
# configured. The .rpm is built (make rpm) and, with no rpm-based root to
# boot here, its payload is installed with rpm --root and checked.
. "$(dirname "$0")/lib.sh"
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BASE_CACHE=${BASE_CACHE:-/var/cache/hostd-test/nspawn-bookworm}

# --- the .deb ---
DEB_BUILD_OPTIONS=nocheck make -C "$HOSTD_SRC" --no-print-directory deb >"$TMP/deb.log" 2>&1 ||
        { tail -30 "$TMP/deb.log" >&2; fail "make deb failed"; }
deb=$(ls "$HOSTD_SRC"/build/hostd_*_*.deb | head -1)
ok "make deb built $(basename "$deb")"
lintian --allow-root "$deb" >"$TMP/lintian.txt" 2>&1 || true
if grep -q '^E: ' "$TMP/lintian.txt"; then
        cat "$TMP/lintian.txt" >&2
        fail "lintian reports errors"
fi
ok "lintian: no errors ($(grep -c '^W: ' "$TMP/lintian.txt" || true) warnings)"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/hostd ./usr/bin/hostctl ./usr/lib/hostd/hostd-patch-worker ./lib/systemd/system/hostd.service ./lib/systemd/system/hostd-firewall.service \
        ./etc/hostd/hostd.json ./usr/share/hostd/seccomp/hostd-hardened.json ./usr/share/hostd/seccomp/docker-default.json \
        ./usr/lib/tmpfiles.d/hostd.conf \
        ./usr/share/man/man8/hostd.8.gz ./usr/share/man/man8/hostctl.8.gz ./usr/share/man/man5/hostd.json.5.gz \
        ./usr/share/bash-completion/completions/hostctl; do
        grep -q " $f\$" <<<"$contents" || fail "the .deb lacks $f"
done
ok "the .deb has the binaries, units, configuration, profile, tmpfiles, man pages and completion"
expect_eq "$(dpkg-deb -I "$deb" conffiles)" /etc/hostd/hostd.json "the configuration is a conffile"

# --- a Debian 12 root with systemd and hostd's libraries, built once ---
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g' | grep -v '^$' | sort | tr '\n' ',')
# unattended-upgrades: the automatic upgrader hostd's posture must see
include="systemd-sysv,dbus,nftables,unattended-upgrades,${depends%,}"
if [ "$(cat "$BASE_CACHE/.include" 2>/dev/null)" != "$include" ]; then
        echo "building $BASE_CACHE (debootstrap)" >&2
        rm -rf "$BASE_CACHE"
        mkdir -p "$BASE_CACHE"
        debootstrap --include="$include" bookworm "$BASE_CACHE" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 ||
                { tail -20 "$TMP/debootstrap.log" >&2; fail "debootstrap failed"; }
        echo "$include" >"$BASE_CACHE/.include"
fi
# each run on an overlay of the cached root
mkdir -p "$TMP/upper" "$TMP/work" "$TMP/root"
mount -t overlay overlay -o "lowerdir=$BASE_CACHE,upperdir=$TMP/upper,workdir=$TMP/work" "$TMP/root"
on_exit "umount -l '$TMP/root'"
ROOT=$TMP/root
cp "$deb" "$ROOT/tmp/hostd.deb"
chroot "$ROOT" dpkg -i /tmp/hostd.deb >"$TMP/dpkg.log" 2>&1 || { cat "$TMP/dpkg.log" >&2; fail "dpkg -i failed"; }
ok "the .deb installs into a Debian 12 root"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/hostd.service" ] || fail "hostd.service not enabled"
[ -L "$ROOT/etc/systemd/system/sysinit.target.wants/hostd-firewall.service" ] || fail "hostd-firewall.service not enabled"
ok "hostd.service and hostd-firewall.service are enabled"
# a short watchdog for the test only: the shipped unit has 30 s
mkdir -p "$ROOT/etc/systemd/system/hostd.service.d"
printf '[Service]\nWatchdogSec=4s\n' >"$ROOT/etc/systemd/system/hostd.service.d/test-watchdog.conf"
echo "hostd-pkgtest" >"$ROOT/etc/hostname"

# --- boot it ---
systemd-nspawn --boot --register=no --keep-unit --private-network --console=passive -D "$ROOT" \
        >"$TMP/boot.log" 2>&1 &
nspawn=$!
on_exit "kill -TERM $nspawn 2>/dev/null; wait $nspawn 2>/dev/null"
init_pid() { pgrep -P "$nspawn" | head -1; }
wait_until 30 "the container's init" bash -c "[ -n \"\$(pgrep -P $nspawn)\" ]"
CPID=$(init_pid)
inside() { nsenter -t "$CPID" -m -u -i -n -p -- env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
wait_until 60 "systemd inside reaches its default target" \
        bash -c "nsenter -t $CPID -m -u -i -n -p -- systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'"
ok "the root boots under systemd-nspawn"

expect_eq "$(inside systemctl is-active hostd)" active "systemctl is-active hostd: active (after READY=1)"
expect_eq "$(inside systemctl show -p Type --value hostd)" notify "the unit is Type=notify"
expect_eq "$(inside systemctl is-active hostd-firewall)" active "hostd-firewall.service ran at boot"
if inside nft list table inet hostd >/dev/null 2>&1; then fail "the packaged configuration applied a firewall"; fi
ok "the packaged configuration applies no firewall (no surprise lockout)"
status=$(inside hostctl --json status)
expect_eq "$(jq -r .version <<<"$status")" "$(dpkg-deb -f "$deb" Version | sed 's/-.*//')" "hostctl status works inside"
expect_eq "$(inside stat -c %a /run/hostd/hostd.sock)" 600 "the control socket is 0600"
# --root runs the installed worker program (hostctl loads no package manager)
plan=$(inside hostctl --json patch plan --root /)
expect_eq "$(jq -r '.id | length' <<<"$plan")" 64 "hostctl patch plan --root / runs the installed hostd-patch-worker"
expect_eq "$(inside stat -c %a /var/lib/hostd)" 700 "the state directory is 0700"

# an automatic upgrader would install packages behind the waves' back:
# Debian 12's own unattended-upgrades, switched on by its own debconf
# question, run by apt's own apt-daily-upgrade.timer
auto() { inside hostctl --json posture | jq -r --arg f "$1" '.checks[] | select(.id == "patches.automatic-upgrades") | .[$f]' || true; }
expect_eq "$(inside systemctl is-enabled apt-daily-upgrade.timer)" enabled "apt-daily-upgrade.timer is enabled, as apt leaves it"
inside sh -c 'echo "unattended-upgrades unattended-upgrades/enable_auto_updates boolean true" | debconf-set-selections &&
        dpkg-reconfigure -f noninteractive unattended-upgrades' >/dev/null 2>&1 ||
        fail "dpkg-reconfigure unattended-upgrades failed"
expect_eq "$(auto status)" fail "posture: patches.automatic-upgrades fails while unattended-upgrades is switched on"
expect_contains "$(auto evidence)" "unattended-upgrades installs updates daily: apt-daily-upgrade.timer is enabled" \
        "naming it and why"
expect_contains "$(auto remediation)" "apt-get purge unattended-upgrades" "with the remediation"
inside systemctl disable --now apt-daily-upgrade.timer >/dev/null 2>&1
expect_eq "$(auto status)" pass "and passes once apt-daily-upgrade.timer is disabled"

journal=$(inside journalctl -u hostd -o json --no-pager)
expect_eq "$(jq -r 'select(.MESSAGE_ID == "fd36ebf3fbf74ba98c10081627f9e0f9") | .HOSTD_VERSION' <<<"$journal" | head -1)" \
        "$(jq -r .version <<<"$status")" "the journal has hostd's start with its MESSAGE_ID and HOSTD_VERSION"
[ "$(jq -r 'select(.CODE_FILE != null) | .CODE_FILE' <<<"$journal" | head -1)" != "" ] || fail "no CODE_FILE in the journal"
ok "journal entries carry CODE_FILE/CODE_FUNC"

# reload
pid_before=$(inside systemctl show -p MainPID --value hostd)
inside systemctl reload hostd
wait_until 10 "the reload's change record" bash -c "nsenter -t $CPID -m -u -i -n -p -- journalctl -u hostd -o json --no-pager HOSTD_CHANGE=config-reload | grep -q 2c0997955a3e468ca4e0fe0e1f9a8210"
ok "systemctl reload hostd reloads: a config-reload record in the journal"
expect_eq "$(inside systemctl show -p MainPID --value hostd)" "$pid_before" "the same process (no restart)"
expect_eq "$(inside hostctl --json changes --kind config-reload | jq '.changes | length')" 1 "and in hostctl changes"

# the firewall, once configured, in the container's own network namespace
cat >"$ROOT/etc/hostd/hostd.json" <<'EOF'
{"firewall": {"enabled": true, "management-sources": ["192.0.2.0/24"]}}
EOF
inside systemctl reload hostd
wait_until 10 "hostd's table in the container" bash -c "nsenter -t $CPID -n nft list table inet hostd"
ok "after the operator enables it, the firewall applies inside the container's network namespace"
if nft list table inet hostd >/dev/null 2>&1 && [ "$(nft list table inet hostd | md5sum)" = "$(inside nft list table inet hostd | md5sum)" ]; then
        fail "the host's namespace has the container's table"
fi
ok "and not in the host's"
expect_eq "$(inside hostctl --json firewall show | jq -r .live.matches_desired)" true "hostctl firewall show: live matches desired"

# the watchdog: a hung hostd (stopped) is killed and restarted
restarts=$(inside systemctl show -p NRestarts --value hostd)
pid=$(inside systemctl show -p MainPID --value hostd)
inside kill -STOP "$pid"
wait_until 30 "systemd restarts the hung hostd" bash -c "[ \"\$(nsenter -t $CPID -m -u -i -n -p -- systemctl show -p NRestarts --value hostd)\" -gt $restarts ]"
wait_until 20 "hostd active again" bash -c "[ \"\$(nsenter -t $CPID -m -u -i -n -p -- systemctl is-active hostd)\" = active ]"
inside journalctl -u hostd --no-pager >"$TMP/journal.txt"
grep -q "Watchdog timeout" "$TMP/journal.txt" || fail "no watchdog timeout in the journal"
ok "the watchdog restarted a hung hostd ($(grep -m1 -o 'Watchdog timeout[^)]*)' "$TMP/journal.txt"))"
[ "$(inside systemctl show -p MainPID --value hostd)" != "$pid" ] || fail "same MainPID after the restart"
inside hostctl status >/dev/null
ok "and the new hostd answers"

inside systemctl poweroff >/dev/null 2>&1 || true
wait_until 60 "the container powers off" bash -c "! kill -0 $nspawn 2>/dev/null"
ok "the container shuts down cleanly"

# --- boot again with a broken hostd.json and nftables.service enabled ---
# (whose "flush ruleset" would remove hostd's table if it ran after it).
# The node must come up with hostd's last good table: an outsider's
# connection to 22 is dropped. The container's network namespace is wired
# to an outside one made here.
printf '{"firewall": {"enabled": tru' >"$ROOT/etc/hostd/hostd.json"
chroot "$ROOT" systemctl enable nftables.service >/dev/null 2>&1
[ -L "$ROOT/etc/systemd/system/sysinit.target.wants/nftables.service" ] || fail "nftables.service not enabled"
NS=hostd-pkg
for n in node out; do
        ip netns delete "$NS-$n" 2>/dev/null || true
        ip netns add "$NS-$n"
        on_exit "ip netns delete '$NS-$n' 2>/dev/null"
done
ip -n "$NS-node" link add eth0 type veth peer name eth0 netns "$NS-out"
ip -n "$NS-node" addr add 10.79.0.1/24 dev eth0
ip -n "$NS-out" addr add 10.79.0.2/24 dev eth0
for n in node out; do ip -n "$NS-$n" link set eth0 up; ip -n "$NS-$n" link set lo up; done
systemd-nspawn --boot --register=no --keep-unit --network-namespace-path="/var/run/netns/$NS-node" --capability=CAP_NET_ADMIN \
        --console=passive -D "$ROOT" >"$TMP/boot2.log" 2>&1 &
nspawn=$!
on_exit "kill -TERM $nspawn 2>/dev/null; wait $nspawn 2>/dev/null"
wait_until 30 "the container's init" bash -c "[ -n \"\$(pgrep -P $nspawn)\" ]"
CPID=$(init_pid)
wait_until 60 "systemd inside reaches its default target" \
        bash -c "nsenter -t $CPID -m -u -i -n -p -- systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'"
if [ "$(inside systemctl is-active nftables)" != active ]; then
        inside journalctl -b -u nftables --no-pager >&2 || true
        fail "nftables.service did not run at boot"
fi
ok "nftables.service ran at boot"
expect_eq "$(inside systemctl show -p ExecMainStatus --value hostd-firewall)" 1 \
        "hostd-firewall.service exits 1 on a broken hostd.json"
inside nft list table inet hostd >/dev/null 2>&1 || fail "no hostd table after boot: the node is open"
ok "hostd's table is in force after nftables.service ran"
inside journalctl -b -u hostd-firewall --no-pager >"$TMP/journal2.txt"
grep -q "the last good policy applied instead" "$TMP/journal2.txt" || fail "no record of the last good policy"
ok "the journal says the last good policy was applied instead"
for port in 22 443; do
        nsenter --net="/var/run/netns/$NS-node" socat TCP-LISTEN:$port,fork,reuseaddr EXEC:/bin/cat &
        on_exit "kill $! 2>/dev/null"
done
wait_until 5 "the listeners" bash -c "nsenter --net=/var/run/netns/$NS-node ss -ltn | grep -q ':22 '"
probe() { if nsenter --net="/var/run/netns/$NS-out" timeout 2 bash -c "exec 3<>/dev/tcp/10.79.0.1/$1" 2>/dev/null; then echo open; else echo closed; fi; }
expect_eq "$(probe 22)" closed "an outside connection to 22 fails after boot"
expect_eq "$(probe 443)" open "443 is open: the table is hostd's, not a dead network"
inside systemctl poweroff >/dev/null 2>&1 || true
wait_until 60 "the container powers off" bash -c "! kill -0 $nspawn 2>/dev/null"

# --- the .rpm ---
make -C "$HOSTD_SRC" --no-print-directory rpm >"$TMP/rpm.log" 2>&1 || { tail -30 "$TMP/rpm.log" >&2; fail "make rpm failed"; }
rpm=$(ls "$HOSTD_SRC"/build/hostd-*.rpm | grep -v src.rpm | head -1)
ok "make rpm built $(basename "$rpm")"
# the same regular files as the .deb; units where rpm-based systems keep
# them, man pages uncompressed, the licence where rpm puts it
deb_files=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ {print $6}' | sed 's|^\./|/|; s|^/lib/systemd|/usr/lib/systemd|; s|\.gz$||' |
        grep -v '^/usr/share/doc/' | sort)
rpm_files=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null | awk '$1 ~ /^-/ {print $2}' |
        grep -v '^/usr/share/licenses/' | sort)
expect_eq "$(diff <(echo "$deb_files") <(echo "$rpm_files") && echo same)" same "the .rpm has the same files as the .deb"
expect_eq "$(rpm -qp --configfiles "$rpm" 2>/dev/null)" /etc/hostd/hostd.json "its configuration is a config file"
mkdir -p "$TMP/rpmroot"
rpm --root "$TMP/rpmroot" --initdb
rpm --root "$TMP/rpmroot" -i --nodeps --noscripts --nosignature "$rpm" >"$TMP/rpm-install.log" 2>&1 ||
        { cat "$TMP/rpm-install.log" >&2; fail "rpm --root -i failed"; }
expect_eq "$(rpm --root "$TMP/rpmroot" -q hostd)" "$(rpm -qp "$rpm" 2>/dev/null)" "rpm --root installs it (payload only: no rpm-based root to boot here)"
expect_eq "$(rpm --root "$TMP/rpmroot" -V --nodeps hostd && echo verified)" verified "rpm -V: the installed payload verifies"
expect_contains "$("$TMP/rpmroot/usr/sbin/hostd" --version)" "hostd $(jq -r .version <<<"$status")" "the installed hostd runs"
expect_contains "$(rpm -qp --scripts "$rpm" 2>/dev/null)" "systemd-tmpfiles --create hostd.conf" "its scriptlets create the state directories"

echo "test-packaging: $CHECKS checks passed"
