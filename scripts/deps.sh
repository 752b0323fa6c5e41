#!/bin/sh
# Installs the Debian packages hostd needs to build and to run its tests,
# only when some are missing, so a fresh Debian 12 machine needs nothing by
# hand and a prepared one pays nothing. Run as root (or with sudo).
set -eu

# Build: compiler, pkg-config and the -dev packages of the chosen libraries;
# clang's runtimes (libFuzzer, ASan) for the fuzzers; systemd for its .pc
# file, which gives the unit and tmpfiles directories.
BUILD="build-essential pkg-config clang libclang-rt-14-dev libsystemd-dev libnftnl-dev libmnl-dev
libseccomp-dev libjansson-dev libcurl4-gnutls-dev libmicrohttpd-dev
libgnutls28-dev libcmocka-dev librpm-dev libapt-pkg-dev libxml2-dev systemd"
# Tests: a real Docker engine, a static busybox for the workload image,
# nftables/iptables, namespaces and probes; dpkg-dev, rpm (rpmbuild) and
# createrepo-c build the package repositories of the patching tests;
# python3-jsonschema validates the posture report against its schema;
# debhelper and lintian build and check the .deb, systemd-container boots
# it (systemd-nspawn) in the packaging test; libnftables-dev is the peer of
# the firewall benchmark (nft_run_cmd_from_buffer in-process); gpg and
# gpg-agent make and use the keys the signed-repository tests sign with;
# prometheus-alertmanager is the real Alertmanager of the wave's alert gate;
# haproxy is the load balancer in front of a wave's nodes; faketime runs a
# leader whose clock is behind.
TEST="docker.io busybox-static nftables iptables iproute2 curl util-linux
procps psmisc jq netcat-openbsd socat iperf3 libcap2-bin dpkg-dev rpm createrepo-c
debootstrap time python3-jsonschema debhelper lintian systemd-container libnftables-dev gpg gpg-agent
prometheus-alertmanager haproxy faketime"

missing=""
for p in $BUILD $TEST; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# shellcheck disable=SC2086
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "deps: apt-get failed" >&2
        exit 1
fi
rm -f "$log"
