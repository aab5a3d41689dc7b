#!/usr/bin/env bash
# t_local_mirror: a folder vault on the cache's filesystem gets its objects by copy_file_range,
# not through coffer's memory. On a loop-mounted XFS made with reflink=1 (cache and vault both
# on it), every chunk object mirrored to the vault shares its extents with the cache's copy
# (filefrag reports them "shared"; a plain copy made with cp --reflink=never, the sanity check,
# shares none), holds the same bytes, and the vault opens through a fresh cache elsewhere (on
# the test's own filesystem, so that fetches cross filesystems) with the same files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v mkfs.xfs >/dev/null || fail "mkfs.xfs is missing (xfsprogs; tests/deps.sh installs it)"
LOOP=
_xfs_cleanup() { # the coffer mount first (its daemon holds files on the XFS), then the XFS
	local rc=$?
	is_mounted "$MNT" && { fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT"; }
	mountpoint -q "$T/xfs" && umount -l "$T/xfs"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	(exit "$rc")
	_cleanup
}
trap _xfs_cleanup EXIT
truncate -s 512M "$T/xfs.img"
mkfs.xfs -q -m reflink=1 "$T/xfs.img"
LOOP=$(losetup --find --show "$T/xfs.img")
mkdir "$T/xfs"
mount "$LOOP" "$T/xfs"
shared() { filefrag -v "$1" | grep -c shared || true; } # extents of $1 flagged shared

head -c 100 /dev/urandom >"$T/xfs/probe"
cp --reflink=never "$T/xfs/probe" "$T/xfs/probe.copy"
assert_eq "$(shared "$T/xfs/probe.copy")" 0 "shared extents of a plain copy (sanity)"

VAULT=$T/xfs/vault
CACHE=$T/xfs/cache
coffer_init
coffer_mount
head -c $((5 * 1048576)) /dev/urandom >"$MNT/data"
(cd "$MNT" && sha256sum data) >"$T/sums"
coffer_umount
n=0
for o in "$CACHE"/objects/*; do
	name=$(basename "$o")
	[ "$(stat -c %s "$o")" -eq $((256 * 4136)) ] || continue
	v=$VAULT/objects/$name
	[ -f "$v" ] || fail "chunk $name was not mirrored"
	cmp -s "$o" "$v" || fail "the vault's copy of $name differs from the cache's"
	[ "$(shared "$v")" -gt 0 ] || fail "the vault's copy of $name shares no extent with the cache: $(filefrag -v "$v")"
	n=$((n + 1))
done
assert_eq "$n" 5 "full chunk objects checked"
ok "5 chunk objects mirrored as reflinks of the cache's files, same bytes"

CACHE=$T/fresh
coffer_mount -o ro
(cd "$MNT" && sha256sum --quiet -c "$T/sums") || fail "the vault reads wrong through a fresh cache"
coffer_umount
ok "the vault opens through a fresh cache on another filesystem"
