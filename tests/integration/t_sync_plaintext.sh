#!/usr/bin/env bash
# t_sync_plaintext: nothing readable leaves the machine. Marker strings put in file and
# directory names, file contents (small, large, repeated), symlink targets, xattr names and
# values, and the passphrase, are first shown to be found by `grep -r -a` in a plain copy of the
# tree; after the tree is copied into the mount and mirrored, grep finds none of them anywhere
# in the vault folder, nor in the (unmounted) cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

R=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
M_NAME=QXNAME$R
M_DIR=QXDIRNAME$R
M_DATA=QXCONTENT$R
M_BIG=QXBIGCONTENT$R
M_LINK=QXLINKTARGET$R
M_XN=QXXATTRNAME$R
M_XV=QXXATTRVALUE$R
MARKERS=("$M_NAME" "$M_DIR" "$M_DATA" "$M_BIG" "$M_LINK" "$M_XN" "$M_XV")

SRC=$T/src
mkdir -p "$SRC/$M_DIR/sub"
echo "secret: $M_DATA" >"$SRC/$M_DIR/$M_NAME.txt"
echo "tiny $M_DATA" >"$SRC/tiny"
# a 3 MiB file of the marker repeated (crosses chunk and block boundaries)
head -c $((3 * 1048576)) < <(yes "$M_BIG") >"$SRC/$M_DIR/sub/bigfile"
ln -s "/somewhere/$M_LINK/x" "$SRC/link"
ln -s "$M_LINK" "$SRC/$M_DIR/rel"
echo plain >"$SRC/xfile"
setfattr -n "user.$M_XN" -v "$M_XV" "$SRC/xfile"
setfattr -n user.other -v "value-$M_XV" "$SRC/$M_DIR"
cp -a /usr/include/linux "$SRC/headers" # some bulk

# The scan must be able to see what it looks for: a plain copy (with xattrs dumped, since grep
# does not read xattrs) holds every marker.
cp -a "$SRC" "$T/plain"
getfattr -R -h -d -m - --absolute-names "$T/plain" >"$T/plain/xattr-dump" 2>/dev/null || true
find "$T/plain" -type l -printf '%l\n' >"$T/plain/link-dump"
find "$T/plain" -printf '%f\n' >"$T/plain/name-dump"
for m in "${MARKERS[@]}"; do
	grep -r -a -q -- "$m" "$T/plain" || fail "sanity: grep does not find $m in the plain copy"
done
ok "grep -r -a finds all ${#MARKERS[@]} markers in a plain copy"

coffer_init
grep -r -a -q -- "$PASSPHRASE" "$VAULT" && fail "the passphrase is in the vault folder after init"
coffer_mount
cp -a "$SRC/." "$MNT/"
# overwrite part of a file in place and rename things, so that old versions exist too
printf '%s' "$M_DATA" | dd of="$MNT/$M_DIR/sub/bigfile" bs=1 seek=1000000 conv=notrunc status=none
mv "$MNT/tiny" "$MNT/$M_NAME.renamed"
wait_synced
[ "$(getfattr --absolute-names --only-values -n "user.$M_XN" "$MNT/xfile")" = "$M_XV" ] || fail "xattr not in the mount"
coffer_umount
n_obj=$(vault_objects | wc -l)
[ "$n_obj" -gt 10 ] || fail "the vault has only $n_obj objects: nothing was mirrored?"

for m in "${MARKERS[@]}" "$PASSPHRASE"; do
	if hit=$(grep -r -a -l -- "$m" "$VAULT"); then
		fail "marker '$m' found in the vault: $hit"
	fi
	if hit=$(find "$VAULT" -name "*$m*" | head -n 1) && [ -n "$hit" ]; then
		fail "marker '$m' in a vault file name: $hit"
	fi
done
ok "no marker (names, contents, symlink targets, xattr names/values, passphrase) in the vault's $n_obj objects"
# the cache at rest holds only ciphertext too
for m in "${MARKERS[@]}" "$PASSPHRASE"; do
	if hit=$(grep -r -a -l -- "$m" "$CACHE"); then
		fail "marker '$m' found in the cache at rest: $hit"
	fi
done
ok "no marker in the unmounted cache either"

# and the tree is really there: a fresh cache restores it
mount_at "$T/cache-new" "$T/mnt-new" -o ro
assert_eq "$(getfattr --absolute-names --only-values -n "user.$M_XN" "$T/mnt-new/xfile")" "$M_XV" "xattr after restore"
assert_eq "$(readlink "$T/mnt-new/link")" "/somewhere/$M_LINK/x" "symlink after restore"
grep -q -- "$M_DATA" "$T/mnt-new/$M_NAME.renamed" || fail "content after restore"
umount_at "$T/cache-new" "$T/mnt-new"
ok "a fresh cache restores the names, contents, links and xattrs"
