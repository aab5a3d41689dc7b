#!/usr/bin/env bash
# t_cp_usr_include: a real tree (/usr/include: thousands of files, directories and symlinks)
# copied into the mount with `cp -a` is identical to the source while mounted and after
# umount + remount (diff -r, symlink targets, and mode/mtime/size of sampled files compared
# with stat against the source), and coffer fsck is clean afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=/usr/include
[ -d "$SRC" ] || fail "$SRC is missing"

coffer_init
coffer_mount
cp -a "$SRC" "$MNT/include" || fail "cp -a $SRC into the mount failed"
diff -r --no-dereference "$SRC" "$MNT/include" >"$T/diff.out" 2>&1 || fail "diff -r differs while mounted: $(head -n 5 "$T/diff.out")"
ok "cp -a $SRC: diff -r equal while mounted"

remount
diff -r --no-dereference "$SRC" "$MNT/include" >"$T/diff.out" 2>&1 ||
	fail "diff -r differs after remount: $(head -n 5 "$T/diff.out")"
ok "diff -r equal after remount"

# Same set of names and types on both sides.
(cd "$SRC" && find . -printf '%y %p\n' | sort) >"$T/src.list"
(cd "$MNT/include" && find . -printf '%y %p\n' | sort) >"$T/mnt.list"
cmp -s "$T/src.list" "$T/mnt.list" || fail "file lists differ: $(diff "$T/src.list" "$T/mnt.list" | head -n 5)"
ok "same $(wc -l <"$T/src.list") names and types"

# Symlink targets.
nlinks=0
while IFS= read -r -d '' l; do
	rel=${l#"$SRC"/}
	assert_eq "$(readlink "$MNT/include/$rel")" "$(readlink "$l")" "symlink target of $rel"
	nlinks=$((nlinks + 1))
done < <(find "$SRC" -type l -print0)
ok "$nlinks symlink targets equal"

# About 200 samples, whatever the size of the tree (a fresh Debian has ~2,000 entries).
STEP=$(( $(find "$SRC" -mindepth 1 \( -type f -o -type d \) | wc -l) / 200 ))
[ "$STEP" -ge 1 ] || STEP=1
# Mode, mtime (ns), size, owner of a sample of files and dirs: compare with the source.
n=0
while IFS= read -r -d '' f; do
	rel=${f#"$SRC"/}
	fmt='%f %s %u %g %Y %y'
	[ -d "$f" ] && fmt='%f %u %g %Y %y' # a directory's st_size is the filesystem's business
	a=$(stat -c "$fmt" "$f")
	b=$(stat -c "$fmt" "$MNT/include/$rel")
	assert_eq "$b" "$a" "stat of $rel (mode size uid gid mtime)"
	n=$((n + 1))
done < <(find "$SRC" -mindepth 1 \( -type f -o -type d \) -print0 | awk -v k="$STEP" 'BEGIN{RS="\0"; ORS="\0"} NR % k == 1')
[ "$n" -ge 50 ] || fail "only $n files sampled"
ok "mode/size/owner/mtime equal for $n sampled files and dirs"

total_src=$(find "$SRC" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
total_mnt=$(find "$MNT/include" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
assert_eq "$total_mnt" "$total_src" "total size of the regular files"
ok "total file size equal ($total_src bytes)"

coffer_umount
coffer_fsck
ok "fsck clean"
