#!/usr/bin/env bash
# bench/local_mirror.sh: what uploading to a folder vault on the cache's own filesystem costs,
# a build that reads every object into memory and writes it again (BEFORE) against this tree's
# build that copies with copy_file_range (AFTER), in the same run.
# Setup, once per filesystem: a vault and a cache there; SIZE_MIB of random data written through
# the mount while the vault folder is moved away (so nothing uploads), unmounted --no-wait; the
# vault and the cache are then kept as a snapshot. Each round, for each build in turn (the order
# alternates): restore both from the snapshot, sync, then time `coffer mount -f` (the daemon,
# under /usr/bin/time) until `coffer umount` returns with everything uploaded: elapsed seconds
# and the daemon's CPU seconds (user + system). Prints every figure, and per build the median and
# spread (min..max) with the ratio AFTER/BEFORE of the medians.
# Filesystems: BENCH_DIR's (ext4 here: copy_file_range copies inside the kernel) and, with
# XFS=1 (default when mkfs.xfs exists), a loop-mounted XFS made with reflink=1 (a reflink: no
# data is copied at all).
# Usage (root): bash bench/local_mirror.sh   Env: ROUNDS (5), SIZE_MIB (1024), BENCH_DIR
# (/var/tmp), AFTER (./coffer), BEFORE (a coffer binary; default: built from git revision BASE,
# default the commit before copy_file_range, in the temp dir), XFS (0 or 1), DROP (1: drop the
# page cache before each timed run, so the objects are read from the disk; default 0).
# Must never touch anything outside its temp dir (DROP drops the global page cache); unmounts
# what it mounted, detaches its loop device and removes its temp dir on any exit.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AFTER=${AFTER:-$REPO/coffer}
ROUNDS=${ROUNDS:-5}
SIZE_MIB=${SIZE_MIB:-1024}
DROP=${DROP:-0}
XFS=${XFS:-$(command -v mkfs.xfs >/dev/null && echo 1 || echo 0)}
BASE=${BASE:-$(git -C "$REPO" log -n1 --format=%H --grep='^Folder vault: uploads copy' 2>/dev/null)^}
B=$(mktemp -d "${BENCH_DIR:-/var/tmp}/coffer-localmirror.XXXXXX")
LOOP=
cleanup() {
	set +e
	for m in "$B"/*/mnt; do
		mountpoint -q "$m" && { "$AFTER" umount --no-wait "$m" >/dev/null 2>&1 || fusermount3 -uz "$m"; }
	done
	mountpoint -q "$B/xfs" && umount "$B/xfs"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	rm -rf "$B"
}
trap cleanup EXIT

if [ -z "${BEFORE:-}" ]; then
	echo "building the BEFORE binary from $(git -C "$REPO" rev-parse --short "$BASE")"
	mkdir "$B/before-src"
	git -C "$REPO" archive "$BASE" | tar -x -C "$B/before-src"
	make -C "$B/before-src" -j2 -s coffer >/dev/null
	BEFORE=$B/before-src/coffer
fi
echo "bench passphrase $RANDOM" >"$B/pass"
chmod 600 "$B/pass"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$B/src"

wait_mounted() { # wait_mounted DIR: polls until DIR is a mount point (30 s at most)
	for _ in $(seq 300); do
		mountpoint -q "$1" && return 0
		sleep 0.1
	done
	echo "$1 did not get mounted" >&2
	return 1
}

# setup DIR: vault, cache and pending data under DIR, kept in DIR/snap
setup() {
	local d=$1
	mkdir -p "$d/mnt"
	"$BEFORE" init --passfile "$B/pass" --kdf-level min "$d/vault" >/dev/null
	"$BEFORE" mount --passfile "$B/pass" --cache "$d/cache" "$d/vault" "$d/mnt"
	"$BEFORE" umount "$d/mnt" >/dev/null
	mv "$d/vault" "$d/vault.away" # unreachable: the writes stay pending in the cache
	"$BEFORE" mount --passfile "$B/pass" --cache "$d/cache" "$d/vault" "$d/mnt" 2>/dev/null
	dd if="$B/src" of="$d/mnt/data" bs=1M conv=fsync status=none
	"$BEFORE" umount --no-wait "$d/mnt" >/dev/null 2>&1
	mv "$d/vault.away" "$d/vault"
	mkdir "$d/snap"
	cp -a "$d/vault" "$d/cache" "$d/snap/"
}

# timed DIR BINARY: restores DIR from its snapshot and prints "elapsed cpu" of one full upload
timed() {
	local d=$1 bin=$2 pid
	rm -rf "$d/vault" "$d/cache"
	cp -a "$d/snap/vault" "$d/snap/cache" "$d/"
	sync
	[ "$DROP" = 1 ] && echo 3 >/proc/sys/vm/drop_caches
	/usr/bin/time -o "$d/time" -f "%e %U %S" \
		"$bin" mount -f --passfile "$B/pass" --cache "$d/cache" "$d/vault" "$d/mnt" 2>"$d/daemon.log" &
	pid=$!
	wait_mounted "$d/mnt"
	"$bin" umount "$d/mnt" >/dev/null
	wait "$pid"
	[ "$(find "$d/vault/objects" -type f | wc -l)" -ge "$SIZE_MIB" ] ||
		{ echo "$bin did not upload everything" >&2; return 1; }
	awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$d/time"
}

stats() { # stats VALUES...: "median (min..max)"
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f (%.2f..%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

run_fs() { # run_fs NAME DIR
	local name=$1 d=$2 r b t
	setup "$d"
	declare -A el=() cpu=()
	for r in $(seq "$ROUNDS"); do
		order="BEFORE AFTER"
		[ $((r % 2)) -eq 0 ] && order="AFTER BEFORE"
		for b in $order; do
			if [ "$b" = BEFORE ]; then t=$(timed "$d" "$BEFORE"); else t=$(timed "$d" "$AFTER"); fi
			el[$b]="${el[$b]:-} ${t% *}"
			cpu[$b]="${cpu[$b]:-} ${t#* }"
			echo "$name round $r: $b elapsed ${t% *} s, daemon cpu ${t#* } s"
		done
	done
	for b in BEFORE AFTER; do
		# shellcheck disable=SC2086
		echo "$name $b: elapsed $(stats ${el[$b]}) s, cpu $(stats ${cpu[$b]}) s"
	done
	# shellcheck disable=SC2086
	awk -v n="$name" -v e1="$(median ${el[BEFORE]})" -v e2="$(median ${el[AFTER]})" \
		-v c1="$(median ${cpu[BEFORE]})" -v c2="$(median ${cpu[AFTER]})" \
		'BEGIN { printf "%s ratio AFTER/BEFORE of the medians: elapsed %.2f, cpu %.2f\n", n, e2 / e1, c2 / c1 }'
}

echo "mirroring $SIZE_MIB MiB to a folder vault on the cache's filesystem; $ROUNDS alternating rounds"
run_fs "$(df --output=fstype "$B" | tail -n1)" "$B/disk"
if [ "$XFS" = 1 ]; then
	truncate -s $((3 * SIZE_MIB + 1024))M "$B/xfs.img"
	mkfs.xfs -q -m reflink=1 "$B/xfs.img"
	LOOP=$(losetup --find --show "$B/xfs.img")
	mkdir "$B/xfs"
	mount "$LOOP" "$B/xfs"
	run_fs "xfs-reflink" "$B/xfs/d"
fi
