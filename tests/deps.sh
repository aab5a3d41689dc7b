#!/usr/bin/env bash
# deps.sh: installs the Debian packages needed to build and test coffer, only those missing
# (checked with dpkg -s), non-interactively, running apt-get update once before installing.
# Makes sure /usr/sbin/policy-rc.d forbids starting services during the install.
set -euo pipefail

# Build: the Makefile's pkg-config modules fuse3 libsodium libcurl libxml-2.0, plus the
# toolchain. Tests: the tools the integration tests drive.
PKGS=(libfuse3-dev fuse3 libsodium-dev libcurl4-openssl-dev libxml2-dev pkg-config gcc make
	attr acl rsync git sqlite3 fio python3 util-linux procps jq curl)

missing=()
for p in "${PKGS[@]}"; do
	# dpkg -s prints "Status: install ok installed" for an installed package
	if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi
if [ ! -f /usr/sbin/policy-rc.d ] || ! grep -q 'exit 101' /usr/sbin/policy-rc.d; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
fi
chmod 755 /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
for p in "${missing[@]}"; do
	dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || { echo "deps: $p did not install" >&2; exit 1; }
done
echo "deps: installed ${#missing[@]} packages"
