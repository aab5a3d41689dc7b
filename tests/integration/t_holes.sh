#!/usr/bin/env bash
# t_holes: memory, page size and commit time follow the data written, not the offset. Under
# ulimit -v 4 GiB for the daemon, a 1-byte write at 2^50 succeeds and reads back (zeros before
# it), also after a remount; the daemon's RSS stays small; every object of the vault (the inode
# page included) stays small; a truncate to 999999999999999 and back works (pjdfstest's size).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAR=$((1 << 50))
CUT=999999999999999
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(daemon_pids)/status"; }

coffer_init
# the daemon (not this shell) runs under the limit; the EXIT trap still knows the mount
_COFFER_MOUNTS+=("$MNT")
(
	ulimit -v 4194304
	coffer_mount
)
rss0=$(rss_kib)
F=$MNT/far
printf 'Z' | dd of="$F" bs=1 seek=$FAR conv=notrunc status=none || fail "1-byte write at 2^50 failed"
check_far() {
	assert_eq "$(stat -c %s "$F")" $((FAR + 1)) "size after the write at 2^50"
	assert_eq "$(dd if="$F" bs=1 skip=$((FAR - 7)) count=9 status=none | od -An -c | tr -s ' ')" \
		" \0 \0 \0 \0 \0 \0 \0 Z" "the 8 bytes up to 2^50 and past the end"
	cmp <(dd if="$F" bs=64K count=16 status=none) <(head -c 1048576 /dev/zero) ||
		fail "the first MiB is not zeros"
}
check_far
sync "$F"
rss1=$(rss_kib)
assert_le "$rss1" $((rss0 + 65536)) "daemon RSS (KiB) after the write at 2^50, from $rss0"
ok "1 byte at 2^50 under ulimit -v 4 GiB: reads back, zeros before; RSS ${rss0} -> ${rss1} KiB"

truncate -s $CUT "$F" || fail "truncate to $CUT failed"
assert_eq "$(stat -c %s "$F")" $CUT "size after the truncate to $CUT"
assert_eq "$(dd if="$F" bs=1 skip=$((CUT - 4)) count=8 status=none | od -An -c | tr -s ' ')" \
	" \0 \0 \0 \0" "the last 4 bytes after the truncate to $CUT"
truncate -s $((FAR + 1)) "$F" || fail "truncate back to 2^50 + 1 failed"
assert_eq "$(dd if="$F" bs=1 skip=$FAR count=1 status=none | od -An -tx1 | tr -d ' ')" "00" \
	"the byte at 2^50 after a truncate below it and back"
G=$MNT/pjd
: >"$G"
truncate -s $CUT "$G" && truncate -s 0 "$G" && truncate -s $CUT "$G" || fail "truncate of an empty file to $CUT and back"
assert_eq "$(stat -c %s "$G")" $CUT "size of the file truncated to $CUT"
ok "truncate to $CUT and back, on a file with data at 2^50 and on an empty one"

printf 'Z' | dd of="$F" bs=1 seek=$FAR conv=notrunc status=none || fail "second write at 2^50 failed"
start=$(date +%s%N)
coffer_umount
umount_ms=$((($(date +%s%N) - start) / 1000000))
_COFFER_MOUNTS+=("$MNT")
(
	ulimit -v 4194304
	coffer_mount
)
check_far
rss2=$(rss_kib)
assert_le "$rss2" $((rss0 + 65536)) "daemon RSS (KiB) after the remount, from $rss0"
ok "same after a remount (RSS ${rss2} KiB; the umount's commit took ${umount_ms} ms)"
coffer_umount

# every object the vault holds: chunks of one block, pages and roots of the smallest buckets
biggest=$(find "$VAULT" -type f -printf '%s\n' | sort -n | tail -1)
vault_kib=$(du -sk "$VAULT" | cut -f1)
assert_le "$biggest" 65536 "the vault's biggest object (bytes)"
assert_le "$vault_kib" 1024 "the vault's size (KiB)"
pages=$(find "$CACHE/objects" -type f -printf '%s\n' | awk '$1 % 4136 != 0' | sort -n | tail -1)
assert_le "$pages" 4096 "the cache's biggest page or root (bytes)"
ok "the vault holds ${vault_kib} KiB, its biggest object is ${biggest} bytes, the biggest page or root ${pages} bytes"
coffer_fsck >/dev/null
ok "coffer fsck clean"
