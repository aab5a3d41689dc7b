#!/usr/bin/env bash
# t_plaintext_scan: no plaintext reaches the disk: file names, directory names, file
# contents (small, block-sized and multi-chunk), symlink targets, xattr names and values,
# each carrying a distinct random marker, are found by `grep -a` in a plain copy (so the scan
# can fail) but appear nowhere in the cache or the vault folder -- neither while mounted
# (after sync) nor after unmount; and no object in the cache has the exact plaintext size
# of a file of distinctive size.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rnd=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M_NAME=MARKERNAME_$rnd
M_DIR=MARKERDIR_$rnd
M_DATA=MARKERDATA_$rnd
M_BIG=MARKERBIGDATA_$rnd
M_LINK=MARKERLINK_$rnd
M_XNAME=MARKERXNAME_$rnd
M_XVAL=MARKERXVAL_$rnd
M_TAIL=MARKERTAIL_$rnd
MARKERS="$M_NAME $M_DIR $M_DATA $M_BIG $M_LINK $M_XNAME $M_XVAL $M_TAIL"
ODD_SIZE=1234567

populate() { # populate DIR: the same content in a plain folder and in the mount
	local d=$1
	mkdir -p "$d/$M_DIR/sub"
	echo "small file holding $M_DATA" >"$d/$M_DIR/sub/$M_NAME.txt"
	# A multi-chunk file that is mostly the marker (plaintext would be easy to spot).
	python3 -c 'import sys; sys.stdout.write((sys.argv[1] + "\n") * 200000)' "$M_BIG" >"$d/big.txt"
	# The marker straddling a 4 KiB block boundary and at the very end of a file.
	python3 -c 'import sys; sys.stdout.write("x" * 4090 + sys.argv[1] + "y" * 5000 + sys.argv[2])' "$M_DATA" "$M_TAIL" >"$d/edge.txt"
	ln -s "target/$M_LINK/somewhere" "$d/link"
	setfattr -n "user.$M_XNAME" -v "value $M_XVAL" "$d/edge.txt"
	head -c "$ODD_SIZE" /dev/urandom >"$d/odd-size"
	# 100 more small files named with the marker, each 1 byte to a few KiB
	for i in $(seq 1 100); do
		head -c $((i * 37)) /dev/zero | tr '\0' 'z' >"$d/$M_DIR/$M_NAME-$i"
	done
}

scan() { # scan WHAT DIR...: fails if any marker is in any file under the dirs
	local what=$1 m hits
	shift
	for m in $MARKERS; do
		if hits=$(grep -r -a -l -F -- "$m" "$@" 2>/dev/null); then
			fail "$what: plaintext marker $m found in: $(echo "$hits" | head -n 5)"
		fi
	done
}

# Sanity: the scan finds the content markers in a plain copy (ext4 keeps names, xattrs and
# short symlink targets out of file contents, so those are checked with find/getfattr).
populate "$T/plain"
for m in $M_DATA $M_BIG $M_TAIL; do
	grep -r -a -q -F -- "$m" "$T/plain" || fail "sanity: grep does not find $m in the plain copy"
done
getfattr --absolute-names -d "$T/plain/edge.txt" 2>/dev/null | grep -q "$M_XNAME=\"value $M_XVAL\"" || fail "sanity: xattr not set"
[ -n "$(find "$T/plain" -name "*$M_NAME*")" ] || fail "sanity: names not found"
ok "sanity: markers are visible in a plain copy"

coffer_init
coffer_mount
populate "$MNT"
sync
# While mounted, after the data has been written and synced: still nothing in plaintext.
scan "cache while mounted" "$CACHE" "$VAULT"
ok "no marker in the cache or vault while mounted (after sync)"
coffer_umount

scan "cache after umount" "$CACHE" "$VAULT"
if found=$(find "$CACHE" "$VAULT" -name "*MARKER*" | head -n 3) && [ -n "$found" ]; then
	fail "a marker appears in a file name in the cache: $found"
fi
ok "no marker in the cache or vault after umount (contents and names)"

# Also no marker in the passphrase-derived data: the passphrase itself is not stored.
if grep -r -a -q -F -- "$PASSPHRASE" "$CACHE" "$VAULT"; then
	fail "the passphrase is stored in plaintext"
fi
ok "passphrase not stored"

odd=$(find "$CACHE" -type f -size "${ODD_SIZE}c" | head -n 3)
[ -z "$odd" ] || fail "an object has the exact plaintext size $ODD_SIZE: $odd"
ok "no object has the exact size of the $ODD_SIZE-byte file"

# The data is really in there: remount and read back.
coffer_mount
cmp "$MNT/big.txt" "$T/plain/big.txt" || fail "big.txt differs after remount"
cmp "$MNT/edge.txt" "$T/plain/edge.txt" || fail "edge.txt differs after remount"
assert_eq "$(readlink "$MNT/link")" "target/$M_LINK/somewhere" "symlink target"
assert_eq "$(getfattr --only-values -n "user.$M_XNAME" "$MNT/edge.txt")" "value $M_XVAL" "xattr value"
coffer_umount
ok "the marked data reads back after remount"
