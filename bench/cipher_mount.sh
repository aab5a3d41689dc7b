#!/usr/bin/env bash
# bench/cipher_mount.sh: sequential write and read through a mount for each vault cipher, an
# AES-256-GCM vault against an XChaCha20-Poly1305 vault (the reference) on the same disk, both
# mounted at once so that alternating rounds see the same machine noise.
# Each round, for each vault in turn (the order alternates): dd of SIZE_MIB from a random file
# (in the page cache) to a new file with conv=fsync (the previous round's file removed first),
# then sync, drop_caches and dd of that file to /dev/null. Prints every figure, and per cipher
# the median and spread (min..max) in MB/s with the ratio of the medians to XChaCha20.
# Usage (root): bash bench/cipher_mount.sh   Env: ROUNDS (5), SIZE_MIB (512), BENCH_DIR
# (/var/tmp), COFFER (./coffer).
# Must never touch anything outside its temp dir (it drops the global page cache); unmounts what
# it mounted and removes its temp dir on any exit.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COFFER=${COFFER:-$REPO/coffer}
ROUNDS=${ROUNDS:-5}
SIZE_MIB=${SIZE_MIB:-512}
CIPHERS="xchacha20 aes256gcm"
B=$(mktemp -d "${BENCH_DIR:-/var/tmp}/coffer-ciphermount.XXXXXX")
cleanup() {
	set +e
	for c in $CIPHERS; do
		mountpoint -q "$B/$c.mnt" && { "$COFFER" umount --no-wait "$B/$c.mnt" >/dev/null 2>&1 || fusermount3 -uz "$B/$c.mnt"; }
	done
	rm -rf "$B"
}
trap cleanup EXIT
echo "bench passphrase $RANDOM" >"$B/pass"
chmod 600 "$B/pass"
for c in $CIPHERS; do
	mkdir -p "$B/$c.mnt"
	"$COFFER" init --passfile "$B/pass" --kdf-level min --cipher "$c" "$B/$c.vault" >/dev/null
	"$COFFER" mount --passfile "$B/pass" --cache "$B/$c.cache" "$B/$c.vault" "$B/$c.mnt"
done
head -c $((SIZE_MIB << 20)) /dev/urandom >"$B/src"
mbs() { awk '/copied/ { printf "%.0f\n", $1 / $(NF-3) / 1e6 }'; } # bytes / seconds: dd may say GB/s
declare -A wr=() rd=()
for r in $(seq "$ROUNDS"); do
	order=$CIPHERS
	[ $((r % 2)) -eq 0 ] && order=$(echo "$CIPHERS" | awk '{ print $2, $1 }')
	for c in $order; do
		rm -f "$B/$c.mnt/f"
		sync
		w=$(dd if="$B/src" of="$B/$c.mnt/f" bs=1M conv=fsync 2>&1 | mbs)
		sync
		echo 3 >/proc/sys/vm/drop_caches
		cat "$B/src" >/dev/null # keep the source in the page cache for the next write
		rd_=$(dd if="$B/$c.mnt/f" of=/dev/null bs=1M 2>&1 | mbs)
		wr[$c]="${wr[$c]:-} $w"
		rd[$c]="${rd[$c]:-} $rd_"
		echo "round $r: $c write $w MB/s, read $rd_ MB/s"
	done
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%s (%s..%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for c in $CIPHERS; do
	# shellcheck disable=SC2086
	echo "$c: seq write $(stats ${wr[$c]}) MB/s, seq read $(stats ${rd[$c]}) MB/s"
done
# shellcheck disable=SC2086
awk -v w1="$(median ${wr[xchacha20]})" -v w2="$(median ${wr[aes256gcm]})" \
	-v r1="$(median ${rd[xchacha20]})" -v r2="$(median ${rd[aes256gcm]})" \
	'BEGIN { printf "aes256gcm / xchacha20 of the medians: write %.2f, read %.2f\n", w2 / w1, r2 / r1 }'
