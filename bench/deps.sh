#!/usr/bin/env bash
# bench/deps.sh: installs the Debian packages the benchmarks under bench/ drive and make check
# does not need (the peers gocryptfs and securefs, rclone for the remote reference, fio), only
# those missing, through tests/servers/need.sh (no recommends, no system service started).
# Must never install what make check needs (tests/deps.sh owns that) nor start a service.
set -euo pipefail
. "$(dirname "$0")/../tests/servers/need.sh"
PKGS=(fio gocryptfs securefs rclone)
need_pkgs "${PKGS[@]}"
for p in "${PKGS[@]}"; do
	dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || { echo "bench/deps: $p did not install" >&2; exit 1; }
done
