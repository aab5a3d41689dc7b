#!/usr/bin/env bash
# t_inode_cache: a mount that keeps one inode page in memory (-o inode_cache=64, commits every
# second, so that inode pages are dropped and read back from the cache all the time) behaves
# like any other:
#   1. cp -a of /usr/include is identical (diff -r) while mounted, after the kernel's caches
#      are dropped (its lookups are forgotten while their pages are away), and after a remount
#      with the default budget and on a fresh cache (every page from the vault);
#   2. an unlinked file still open keeps its data across commits, and is gone once closed;
#   3. a directory of 3,000 entries listed while commits run lists each name exactly once;
#   4. hard links, renames and chmods spread over many pages are all there after the remount;
#   5. cache_size eviction never removes an inode page (they are marked kept, mode 0400);
#   6. coffer fsck is clean; a bad -o inode_cache= is refused with a clear error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

SRC=/usr/include
[ -d "$SRC" ] || fail "$SRC is missing"
SMALL=(-o inode_cache=64 -o commit=1)

# count_objects FIND-TESTS...: the cache's objects that pass them (eviction may delete one while
# find walks the folder: that is no error here).
count_objects() { { find "$CACHE/objects" -type f "$@" 2>/dev/null || true; } | wc -l; }

# compare_first N WHEN: the first N files of $SRC that the mount still has under their name
# (the others were renamed) must equal the source; prints how many were compared.
compare_first() {
	local g rel n=0
	while IFS= read -r -d '' g; do
		rel=${g#"$SRC"/}
		[ -f "$MNT/include/$rel" ] || continue
		cmp -s "$g" "$MNT/include/$rel" || fail "$rel differs $2"
		n=$((n + 1))
	done < <(find "$SRC" -type f -print0 | head -z -n "$1")
	echo "$n"
}

coffer_init
for bad in 0 -1 abc 1073741825; do
	mkdir -p "$MNT"
	if out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "inode_cache=$bad" \
		"$VAULT" "$MNT" 2>&1); then
		fail "mount -o inode_cache=$bad succeeded"
	fi
	assert_contains "$out" "inode_cache= takes a number from 1 to 1073741824" "inode_cache=$bad"
	is_mounted "$MNT" && fail "inode_cache=$bad mounted"
done
ok "a bad inode_cache= is refused with a clear error"
coffer_mount "${SMALL[@]}"
cp -a "$SRC" "$MNT/include" || fail "cp -a $SRC into the mount failed"
commit_now
diff -r --no-dereference "$SRC" "$MNT/include" >"$T/diff.out" 2>&1 ||
	fail "diff -r differs while mounted: $(head -n 5 "$T/diff.out")"
ok "cp -a $SRC ($(find "$SRC" | wc -l) names) equal under a one-page budget"

drop_caches
diff -r --no-dereference "$SRC" "$MNT/include" >"$T/diff.out" 2>&1 ||
	fail "diff -r differs after the kernel dropped its caches: $(head -n 5 "$T/diff.out")"
ok "equal again after drop_caches (lookups forgotten while their pages were away)"

# 2. An unlinked file, open, across commits.
python3 - "$MNT" <<'EOF' || fail "the unlinked open file lost its data"
import os, sys, time
mnt = sys.argv[1]
p = os.path.join(mnt, "orphan")
fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
os.write(fd, b"still here " * 1000)
os.fsync(fd)
os.unlink(p)
for d in ("include/linux", "include/sys", "include/net"):
    if os.path.isdir(os.path.join(mnt, d)):
        os.listdir(os.path.join(mnt, d))  # other pages in use
g = os.path.join(mnt, "gen-probe")
for i in range(3):  # three commits, each trims
    with open(g, "w") as f:
        f.write(str(i))
        f.flush()
        os.fsync(f.fileno())
os.lseek(fd, 0, os.SEEK_SET)
data = os.read(fd, 20000)
assert data == b"still here " * 1000, len(data)
os.close(fd)
assert not os.path.exists(p)
EOF
ok "an unlinked open file kept its data over three commits"

# 3. A directory listed while commits run.
mkdir "$MNT/big"
python3 - "$MNT/big" <<'EOF'
import os, sys
for i in range(3000):
    os.close(os.open(os.path.join(sys.argv[1], "e%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
EOF
commit_now
drop_caches
python3 - "$MNT/big" <<'EOF' || fail "a listing during commits skipped or repeated entries"
import os, sys, time
d = sys.argv[1]
seen = []
with os.scandir(d) as it:
    for k, e in enumerate(it):
        seen.append(e.name)
        if k % 500 == 0:
            time.sleep(1.1)  # a commit (and its trim) runs between reads
assert len(seen) == 3000 and len(set(seen)) == 3000, (len(seen), len(set(seen)))
EOF
ok "3,000 entries listed exactly once while commits ran"

# 4. Changes spread over many pages.
i=0
while IFS= read -r -d '' f; do
	i=$((i + 1))
	case $((i % 3)) in
	0) chmod 600 "$f" ;;
	1) ln "$f" "$f.link" ;;
	2) mv "$f" "$f.moved" ;;
	esac
done < <(find "$MNT/include" -type f -name '*.h' -print0 | head -z -n 600)
commit_now
(cd "$MNT/include" && find . -printf '%y %m %n %p\n' | sort) >"$T/before.list"
ok "600 files changed across the tree"

coffer_umount
coffer_mount
(cd "$MNT/include" && find . -printf '%y %m %n %p\n' | sort) >"$T/after.list"
cmp -s "$T/before.list" "$T/after.list" ||
	fail "names, modes or link counts differ after the remount: $(diff "$T/before.list" "$T/after.list" | head -n 5)"
ok "the same $(wc -l <"$T/after.list") names, modes and link counts after a remount"
coffer_umount

# Every page from the vault, on a fresh cache, under the small budget again.
CACHE0=$CACHE
CACHE=$T/cache-fresh
coffer_mount "${SMALL[@]}"
(cd "$MNT/include" && find . -printf '%y %m %n %p\n' | sort) >"$T/fresh.list"
cmp -s "$T/before.list" "$T/fresh.list" ||
	fail "the tree differs on a fresh cache: $(diff "$T/before.list" "$T/fresh.list" | head -n 5)"
sums_ok=$(compare_first 2000 "on a fresh cache")
[ "$sums_ok" -ge 500 ] || fail "only $sums_ok files compared"
ok "a fresh cache with a one-page budget: same tree, $sums_ok files equal"

# 5. Inode pages are kept in the cache; cache_size eviction takes only data.
kept=$(count_objects -perm 0400)
[ "$kept" -ge 20 ] || fail "only $kept objects of the cache are marked kept (mode 0400)"
coffer_umount
data0=$(count_objects ! -perm 0400)
coffer_mount "${SMALL[@]}" -o cache_size=1M
for _ in $(seq 600); do
	[ "$(count_objects ! -perm 0400)" -lt "$data0" ] && break
	sleep 0.1
done
data1=$(count_objects ! -perm 0400)
[ "$data1" -lt "$data0" ] || fail "cache_size=1M evicted nothing within 60 s ($data0 data objects)"
kept2=$(count_objects -perm 0400)
[ "$kept2" -ge "$kept" ] || fail "cache_size eviction removed inode pages: $kept2 of $kept left"
drop_caches
find "$MNT/include" >/dev/null || fail "the tree does not list after eviction"
n=$(compare_first 300 "after eviction")
ok "eviction took $((data0 - data1)) data objects and none of the $kept kept ones; $n files read back"
coffer_umount
CACHE=$CACHE0

coffer_fsck
ok "fsck clean"
