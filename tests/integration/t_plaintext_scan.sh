#!/usr/bin/env bash
# t_plaintext_scan: no plaintext reaches the disk, in the cache or in the vault. File names,
# directory names, file contents (small, block-straddling, at a file's end, multi-chunk and
# repeated, an in-place overwrite, a renamed file), symlink targets, xattr names and values,
# each carrying a distinct random marker, are found in a plain copy (so the scan can fail) but
# appear nowhere in the cache or the vault folder -- neither while mounted (after the vault
# holds the newest generation) nor after unmount, neither in contents nor in file names; the
# passphrase is stored nowhere (also right after init); no object has the exact plaintext size
# of a file of distinctive size. The data is really there: the same cache and a fresh one read
# it back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

rnd=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M_NAME=MARKERNAME_$rnd
M_DIR=MARKERDIR_$rnd
M_DATA=MARKERDATA_$rnd
M_BIG=MARKERBIGDATA_$rnd
M_LINK=MARKERLINK_$rnd
M_XNAME=MARKERXNAME_$rnd
M_XVAL=MARKERXVAL_$rnd
M_TAIL=MARKERTAIL_$rnd
M_OVER=MARKEROVERWRITE_$rnd
MARKERS="$M_NAME $M_DIR $M_DATA $M_BIG $M_LINK $M_XNAME $M_XVAL $M_TAIL $M_OVER"
ODD_SIZE=1234567

populate() { # populate DIR: the same content in a plain folder and in the mount
	local d=$1
	mkdir -p "$d/$M_DIR/sub"
	echo "small file holding $M_DATA" >"$d/$M_DIR/sub/$M_NAME.txt"
	echo "tiny $M_DATA" >"$d/tiny"
	# A multi-chunk file that is mostly the marker (plaintext would be easy to spot).
	python3 -c 'import sys; sys.stdout.write((sys.argv[1] + "\n") * 200000)' "$M_BIG" >"$d/big.txt"
	# The marker straddling a 4 KiB block boundary and at the very end of a file.
	python3 -c 'import sys; sys.stdout.write("x" * 4090 + sys.argv[1] + "y" * 5000 + sys.argv[2])' "$M_DATA" "$M_TAIL" >"$d/edge.txt"
	ln -s "target/$M_LINK/somewhere" "$d/link"
	ln -s "$M_LINK" "$d/$M_DIR/rel"
	setfattr -n "user.$M_XNAME" -v "value $M_XVAL" "$d/edge.txt"
	setfattr -n user.other -v "value-$M_XVAL" "$d/$M_DIR"
	head -c "$ODD_SIZE" /dev/urandom >"$d/odd-size"
	# 100 more small files named with the marker, each 1 byte to a few KiB
	for i in $(seq 1 100); do
		head -c $((i * 37)) /dev/zero | tr '\0' 'z' >"$d/$M_DIR/$M_NAME-$i"
	done
	cp -a /usr/include/linux "$d/headers" # some bulk
	# an in-place overwrite and a rename, so that old versions exist too
	printf '%s' "$M_OVER" | dd of="$d/big.txt" bs=1 seek=1000000 conv=notrunc status=none
	mv "$d/tiny" "$d/$M_NAME.renamed"
}

scan() { # scan WHAT DIR...: fails if any marker or the passphrase is in any file under the dirs
	local what=$1 m hits
	shift
	for m in $MARKERS "$PASSPHRASE"; do
		if hits=$(grep -r -a -l -F -- "$m" "$@" 2>/dev/null); then
			fail "$what: plaintext marker $m found in: $(echo "$hits" | head -n 5)"
		fi
		if hits=$(find "$@" -name "*$m*" | head -n 3) && [ -n "$hits" ]; then
			fail "$what: marker $m in a file name: $hits"
		fi
	done
}

# Sanity: the scan finds the content markers in a plain copy (ext4 keeps names, xattrs and
# short symlink targets out of file contents, so those are checked with find/getfattr/readlink).
populate "$T/plain"
for m in $M_DATA $M_BIG $M_TAIL $M_OVER; do
	grep -r -a -q -F -- "$m" "$T/plain" || fail "sanity: grep does not find $m in the plain copy"
done
getfattr --absolute-names -d "$T/plain/edge.txt" 2>/dev/null | grep -q "$M_XNAME=\"value $M_XVAL\"" || fail "sanity: xattr not set"
[ -n "$(find "$T/plain" -name "*$M_NAME*")" ] || fail "sanity: names not found"
[ "$(readlink "$T/plain/$M_DIR/rel")" = "$M_LINK" ] || fail "sanity: symlink target not set"
ok "sanity: markers are visible in a plain copy"

coffer_init
scan "vault after init" "$VAULT"
coffer_mount
populate "$MNT"
wait_synced
scan "while mounted" "$CACHE" "$VAULT"
ok "no marker in the cache or vault while mounted (the vault holds the newest generation)"
coffer_umount
n_obj=$(vault_objects | wc -l)
[ "$n_obj" -gt 10 ] || fail "the vault has only $n_obj objects: nothing was mirrored?"
scan "after umount" "$CACHE" "$VAULT"
ok "no marker or passphrase in the cache or the vault's $n_obj objects after umount (contents and names)"

odd=$(find "$CACHE" "$VAULT" -type f -size "${ODD_SIZE}c" | head -n 3)
[ -z "$odd" ] || fail "an object has the exact plaintext size $ODD_SIZE: $odd"
ok "no object has the exact size of the $ODD_SIZE-byte file"

# The data is really in there: the same cache and a fresh one read it back.
check_tree() { # check_tree MNT
	cmp "$1/big.txt" "$T/plain/big.txt" || fail "big.txt differs in $1"
	cmp "$1/edge.txt" "$T/plain/edge.txt" || fail "edge.txt differs in $1"
	cmp "$1/$M_NAME.renamed" "$T/plain/$M_NAME.renamed" || fail "the renamed file differs in $1"
	assert_eq "$(readlink "$1/link")" "target/$M_LINK/somewhere" "symlink target in $1"
	assert_eq "$(getfattr --absolute-names --only-values -n "user.$M_XNAME" "$1/edge.txt")" "value $M_XVAL" "xattr value in $1"
	diff -r "$T/plain/headers" "$1/headers" >/dev/null || fail "the headers differ in $1"
}
coffer_mount
check_tree "$MNT"
coffer_umount
mount_at "$T/cache-new" "$T/mnt-new" -o ro
check_tree "$T/mnt-new"
umount_at "$T/cache-new" "$T/mnt-new"
ok "the marked data reads back after a remount and from a fresh cache"
