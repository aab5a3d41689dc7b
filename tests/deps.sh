#!/usr/bin/env bash
# deps.sh: installs the Debian packages needed to build and test coffer, only those missing
# (checked with dpkg -s), non-interactively. The server packages of the remote tests are
# installed by the tests/servers scripts when a test first starts a server.
# Must never start a system service: need_pkgs makes policy-rc.d forbid it first.
set -euo pipefail
. "$(dirname "$0")/servers/need.sh"

# Build: the Makefile's pkg-config modules fuse3 libsodium libcurl libxml-2.0, plus the
# toolchain (clang and its libFuzzer runtime for tests/fuzz). Tests: the tools the integration
# tests drive (t_deb: build-essential, which dpkg-buildpackage requires, debhelper, dpkg-dev,
# lintian, and systemd for systemd-analyze).
PKGS=(libfuse3-dev fuse3 libsodium-dev libcurl4-openssl-dev libxml2-dev pkg-config gcc make
	clang libclang-rt-14-dev attr acl rsync git sqlite3 fio python3 util-linux procps jq curl
	xfsprogs e2fsprogs
	build-essential debhelper dpkg-dev lintian systemd)

need_pkgs "${PKGS[@]}"
for p in "${PKGS[@]}"; do
	dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || { echo "deps: $p did not install" >&2; exit 1; }
done
echo "deps: all ${#PKGS[@]} packages present"
