#!/usr/bin/env bash
# bench/seqread_ab.sh: sequential read of one 512 MiB file, Coffer against gocryptfs, alternating
# on the same disk so that both see the same machine noise (bench/run.sh measures each once per
# fresh mount, which on a busy 2-core machine varies by tens of percent from run to run).
# Both are mounted once; the file is written once to each (dd conv=fsync); then ROUNDS times, for
# each in turn: sync, drop_caches, dd bs=1M to /dev/null. Prints each figure and both medians.
# Usage (root): bash bench/seqread_ab.sh   Env: ROUNDS (default 7), BENCH_DIR (default /var/tmp),
# COFFER (default ./coffer).
# Must never touch anything outside its temp dir (it drops the global page cache), and unmounts
# what it mounted and removes its temp dir on any exit.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COFFER=${COFFER:-$REPO/coffer}
ROUNDS=${ROUNDS:-7}
B=$(mktemp -d "${BENCH_DIR:-/var/tmp}/coffer-seqread.XXXXXX")
cleanup() {
	set +e
	mountpoint -q "$B/gc.mnt" && fusermount3 -u "$B/gc.mnt"
	mountpoint -q "$B/cf.mnt" && { "$COFFER" umount "$B/cf.mnt" >/dev/null 2>&1 || fusermount3 -uz "$B/cf.mnt"; }
	rm -rf "$B"
}
trap cleanup EXIT
command -v gocryptfs >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q gocryptfs >/dev/null
mkdir -p "$B"/{gc,gc.mnt,cf.vault,cf.cache,cf.mnt}
echo "bench passphrase $RANDOM" >"$B/pass"
gocryptfs -init -q -passfile "$B/pass" "$B/gc" >/dev/null
gocryptfs -q -passfile "$B/pass" "$B/gc" "$B/gc.mnt"
"$COFFER" init --passfile "$B/pass" --kdf-level min "$B/cf.vault" >/dev/null
"$COFFER" mount --passfile "$B/pass" --cache "$B/cf.cache" "$B/cf.vault" "$B/cf.mnt"
head -c $((512 << 20)) /dev/urandom >"$B/src"
for m in gc cf; do dd if="$B/src" of="$B/$m.mnt/f" bs=1M conv=fsync status=none; done
rm "$B/src"
declare -A all=([gc]="" [cf]="")
for r in $(seq "$ROUNDS"); do
	for m in gc cf; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		mbs=$(dd if="$B/$m.mnt/f" of=/dev/null bs=1M 2>&1 | awk '/copied/ { print $(NF-1) }')
		all[$m]="${all[$m]} $mbs"
		echo "round $r: $m $mbs MB/s"
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "median of $ROUNDS: gocryptfs $(median <<<"${all[gc]}") MB/s, coffer $(median <<<"${all[cf]}") MB/s"
