#!/usr/bin/env bash
# t_sparse: holes cost nothing: a 5 GiB sparse file with data only at both ends reads back
# its data at both ends and zeros in the middle (also after umount + remount), and the whole
# cache (and the vault's mirror) stay under 20 MiB; du of the file in the mount reports about the data only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
head -c 1048576 /dev/urandom >"$T/head"
head -c 1048576 /dev/urandom >"$T/tail"
F=$MNT/sparse
dd if="$T/head" of="$F" bs=1M count=1 status=none conv=notrunc || fail "writing the first MiB failed"
dd if="$T/tail" of="$F" bs=1M seek=5119 count=1 status=none conv=notrunc || fail "writing the last MiB failed"
# a small write in the middle of a block far away, to check partial blocks in holes
printf 'MIDDLE' | dd of="$F" bs=1 seek=$((3 * 1024 * 1024 * 1024 + 1000)) conv=notrunc status=none

check() {
	assert_eq "$(stat -c %s "$F")" $((5 * 1024 * 1024 * 1024)) "size of the sparse file"
	cmp <(dd if="$F" bs=1M count=1 status=none) "$T/head" || fail "first MiB reads back wrong"
	cmp <(dd if="$F" bs=1M skip=5119 count=1 status=none) "$T/tail" || fail "last MiB reads back wrong"
	cmp <(dd if="$F" bs=1M skip=2048 count=4 status=none) <(head -c $((4 * 1048576)) /dev/zero) ||
		fail "4 MiB in the middle are not zeros"
	cmp <(dd if="$F" bs=1M skip=1 count=2 status=none) <(head -c $((2 * 1048576)) /dev/zero) ||
		fail "the 2 MiB after the head are not zeros"
	cmp <(dd if="$F" bs=1M skip=5116 count=3 status=none) <(head -c $((3 * 1048576)) /dev/zero) ||
		fail "the 3 MiB before the tail are not zeros"
	local mid
	mid=$(dd if="$F" bs=1 skip=$((3 * 1024 * 1024 * 1024 + 996)) count=14 status=none | od -An -c | tr -s ' ')
	assert_eq "$mid" " \0 \0 \0 \0 M I D D L E \0 \0 \0 \0" "bytes around the small write in the hole"
}
check
ok "5 GiB sparse file: both ends and the small middle write read back, holes read zeros"
remount
check
ok "same after remount"
du_mnt=$(du -k "$F" | cut -f1)
[ "$du_mnt" -lt $((1024 * 1024)) ] || fail "du reports ${du_mnt} KiB for a file with ~2 MiB of data"
coffer_umount
cache_kib=$(disk_kib "$CACHE")
[ "$cache_kib" -lt $((20 * 1024)) ] || fail "the cache holds ${cache_kib} KiB for a file with ~2 MiB of data"
vault_kib=$(du -sk "$VAULT" | cut -f1)
[ "$vault_kib" -lt $((20 * 1024)) ] || fail "the vault holds ${vault_kib} KiB for a file with ~2 MiB of data"
ok "cache is ${cache_kib} KiB and vault ${vault_kib} KiB (< 20 MiB), du of the file in the mount was ${du_mnt} KiB"
coffer_fsck >/dev/null
ok "coffer fsck clean"
