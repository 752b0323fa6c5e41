#!/bin/sh
# Puts Docker's and Podman's own default seccomp profiles, unchanged, into
# DIR (docker-default.json, podman-default.json), taken from Debian's
# packages of their sources: Docker 20.10's profiles/seccomp/default.json
# (golang-github-docker-docker-dev) and containers/common's seccomp.json
# (golang-github-containers-common). The packages are downloaded and
# unpacked, not installed: the first alone would pull in half a gigabyte of
# Go sources.
set -eu
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -s "$dir/docker-default.json" ] && [ -s "$dir/podman-default.json" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download golang-github-docker-docker-dev golang-github-containers-common >apt.log 2>&1; then
        apt-get update -q >>apt.log 2>&1 || true
        apt-get download golang-github-docker-docker-dev golang-github-containers-common >>apt.log 2>&1 ||
                { cat apt.log >&2; echo "upstream-profiles: cannot download the packages" >&2; exit 1; }
fi
for deb in ./*.deb; do dpkg-deb -x "$deb" root; done
cp root/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json "$dir/docker-default.json"
cp root/usr/share/containers/seccomp.json "$dir/podman-default.json"
for f in root/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/fixtures/*.json; do
        cp "$f" "$dir/docker-fixture-$(basename "$f")"
done
