#!/usr/bin/env bash
# t_sync_restore: a workload (cp -a of a few thousand header files, plus symlinks, xattrs,
# hard links, an empty file, a sparse file and a larger file) is mirrored to the vault: while
# mounted the status reaches "idle" with the vault generation equal to the local one; after
# `coffer umount` the vault's newest root is the generation the daemon unmounted at; a fresh
# cache (a new device) fetches that generation and restores everything: diff -r against the
# source, and the same stat fields (type, mode, owner, size, mtime, ctime, link count, inode
# number, symlink target) and xattrs as the original mount showed; `coffer fsck` passes on
# the new cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

SRC=$T/src
mkdir -p "$SRC"
for d in linux c++ x86_64-linux-gnu node; do
	[ -d "/usr/include/$d" ] && cp -a "/usr/include/$d" "$SRC/"
done
mkdir -p "$SRC/extra/sub dir"
head -c $((3 * 1048576 + 12345)) /dev/urandom >"$SRC/extra/large.bin"
: >"$SRC/extra/empty"
truncate -s 5M "$SRC/extra/sparse"
printf 'in the middle' | dd of="$SRC/extra/sparse" bs=1 seek=$((2 * 1048576)) conv=notrunc status=none
echo "linked" >"$SRC/extra/hard1"
ln "$SRC/extra/hard1" "$SRC/extra/hard2"
ln "$SRC/extra/hard1" "$SRC/extra/sub dir/hard3"
ln -s ../extra/large.bin "$SRC/extra/sub dir/rel-link"
ln -s /nonexistent/target "$SRC/extra/dangling"
ln -s "sub dir" "$SRC/extra/dirlink"
echo "with xattrs" >"$SRC/extra/xfile"
setfattr -n user.color -v blue "$SRC/extra/xfile"
setfattr -n user.empty "$SRC/extra/xfile"
setfattr -n user.bin -v 0x00ff10 "$SRC/extra/xfile"
setfattr -n user.onsdir -v yes "$SRC/extra/sub dir"
chmod 640 "$SRC/extra/hard1"
chmod 1777 "$SRC/extra/sub dir"
chown 1234:5678 "$SRC/extra/empty"
touch -d '2001-02-03 04:05:06.123456789' "$SRC/extra/large.bin"
NFILES=$(find "$SRC" | wc -l)
log "source tree: $NFILES entries, $(du -sh "$SRC" | cut -f1)"

# manifest DIR: every entry's path, type, mode, owner, size, times (ns), links, inode, target.
manifest() {
	(cd "$1" && find . -printf '%P|%y|%m|%U|%G|%s|%T@|%C@|%n|%i|%l\n' | LC_ALL=C sort)
}
xattrs() { # every entry's xattrs, in sorted path order
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m - 2>/dev/null | grep -v '^security\.' || true)
}

coffer_init
coffer_mount
cp -a "$SRC/." "$MNT/" || fail "cp -a into the mount failed"
diff -r --no-dereference "$SRC" "$MNT" >/dev/null || fail "the mount differs from the source right after cp -a"
wait_synced "$MNT" 120
# One status snapshot at a time: a periodic commit may land between two separate reads.
for _ in $(seq 20); do
	S=$(sj)
	LOCAL_GEN=$(jq -r .local_generation <<<"$S")
	[ "$(jq -r .remote_generation <<<"$S")" = "$LOCAL_GEN" ] && [ "$(vault_gen)" = "$LOCAL_GEN" ] && break
	sleep 0.5
done
assert_eq "$(jq -r .remote_generation <<<"$S")" "$LOCAL_GEN" "vault generation while mounted"
assert_eq "$(vault_gen)" "$LOCAL_GEN" "newest root in VAULT/roots while mounted"
[ "$(sfield objects_uploaded)" -gt 0 ] || fail "status says no objects were uploaded: $(sj)"
ok "status: idle, vault generation $LOCAL_GEN == local generation, $(sfield objects_uploaded) objects uploaded"
manifest "$MNT" >"$T/manifest.mnt"
xattrs "$MNT" >"$T/xattrs.mnt"
xattrs "$SRC" >"$T/xattrs.src"
diff "$T/xattrs.src" "$T/xattrs.mnt" >/dev/null || fail "xattrs differ in the mount: $(diff "$T/xattrs.src" "$T/xattrs.mnt" | head)"
coffer_umount

FINAL_GEN=$(last_unmount_gen)
[ -n "$FINAL_GEN" ] || fail "no 'unmounted ... at generation' line in $LOG"
assert_eq "$(vault_gen)" "$FINAL_GEN" "the vault's newest root after coffer umount vs the generation unmounted at"
[ ! -e "$VAULT/lease" ] || fail "the vault still holds a lease after a clean unmount"
# every object of the cache is on the vault
(cd "$CACHE/objects" && ls | sort) >"$T/cache.objs"
vault_objects >"$T/vault.objs"
missing=$(comm -23 "$T/cache.objs" "$T/vault.objs" | head -n 3)
[ -z "$missing" ] || fail "cache objects missing from the vault after umount: $missing"
ok "after coffer umount the vault holds generation $FINAL_GEN (the local one) and all $(wc -l <"$T/cache.objs") cache objects"

# A new device.
NEWCACHE=$T/cache-new
NEWMNT=$T/mnt-new
try_mount_at "$NEWCACHE" "$NEWMNT" || fail "fresh-cache mount failed: $(cat "$T/mount.out")"
assert_contains "$(cat "$T/mount.out")" "fetched generation $FINAL_GEN" "fresh-cache mount message"
assert_eq "$(sfield remote_generation "$NEWMNT")" "$FINAL_GEN" "fresh cache: vault generation"
assert_eq "$(sfield local_generation "$NEWMNT")" "$FINAL_GEN" "fresh cache: local generation"
ok "fresh cache fetched generation $FINAL_GEN: $(grep -o 'fetched generation.*' "$T/mount.out")"
diff -r --no-dereference "$SRC" "$NEWMNT" >"$T/diff.out" 2>&1 || fail "restore differs from the source: $(head -n 5 "$T/diff.out")"
ok "diff -r: the restored tree equals the source ($NFILES entries)"
manifest "$NEWMNT" >"$T/manifest.new"
diff "$T/manifest.mnt" "$T/manifest.new" >"$T/manifest.diff" ||
	fail "stat fields differ between the original mount and the restore: $(head -n 6 "$T/manifest.diff")"
xattrs "$NEWMNT" >"$T/xattrs.new"
diff "$T/xattrs.src" "$T/xattrs.new" >/dev/null || fail "xattrs differ after restore: $(diff "$T/xattrs.src" "$T/xattrs.new" | head)"
ok "restore has the same type/mode/owner/size/mtime/ctime/nlink/inode/target for all entries, and the xattrs"
# a few attributes checked against the source itself
for f in extra/hard1 extra/empty extra/large.bin "extra/sub dir" extra/dangling extra/sparse; do
	assert_eq "$(stat -c '%F %a %u %g %s %Y' "$NEWMNT/$f")" "$(stat -c '%F %a %u %g %s %Y' "$SRC/$f")" "stat of $f vs source"
done
assert_eq "$(stat -c %y "$NEWMNT/extra/large.bin")" "$(stat -c %y "$SRC/extra/large.bin")" "ns mtime of large.bin"
assert_eq "$(stat -c %h "$NEWMNT/extra/hard2")" 3 "link count of the hard-linked file"
assert_eq "$(stat -c %i "$NEWMNT/extra/hard2")" "$(stat -c %i "$NEWMNT/extra/sub dir/hard3")" "hard links share an inode"
assert_eq "$(readlink "$NEWMNT/extra/dangling")" /nonexistent/target "dangling symlink target"
assert_eq "$(getfattr -h --absolute-names --only-values -n user.color "$NEWMNT/extra/xfile")" blue "xattr value"
ok "stat of selected files matches the source (mode, owner, size, mtime, links, targets, xattrs)"
umount_at "$NEWCACHE" "$NEWMNT"

out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$NEWCACHE" "$VAULT" 2>&1) || fail "coffer fsck on the new cache failed: $out"
ok "coffer fsck passes on the new cache: $(printf '%s' "$out" | tail -n 1)"
