#!/usr/bin/env bash
# t_dirsplit: a directory of many entries is split into bucket objects (coffer-format(5),
# "Directory buckets"), so that one new entry uploads one bucket, not the whole directory.
# 1. With DIRSPLIT_N (default 100,000) empty files in one directory, one new file uploads at most
#    64 KiB in all (the vault's new objects plus its root), and at most 8 new objects (a version
#    2 page holding the directory inline would be 512 KiB alone).
# 2. Renames and unlinks across buckets, a hard link out of it, a subdirectory in it: after a
#    remount on the same cache and on a fresh cache (everything fetched from the vault), the
#    directory lists exactly the expected names, and the files read back.
# 3. Tampering with one bucket (vault, then also cache copy): the mount logs "integrity error: /flat
#    (inode N): this directory cannot be read: its bucket K ... is damaged"; listing it, creating
#    or looking up in it and removing it give EIO, other directories still work, coffer fsck
#    and coffer verify report it; with the byte restored, a fresh cache lists every name again (the directory's
#    record was kept as it was, never rewritten half).
# 4. A vault of the previous release (tests/fixtures/vault-v2: version 2 pages, directories
#    inline) opens; its 80-entry directory "many", grown past 4 KiB, splits at the next commit;
#    the old and new files read back on the same and on a fresh cache.
# 5. A divergence in a split directory (an entry committed offline on one device, an entry and
#    an unlink published by another) merges both sides, the vault's new buckets fetched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

N=${DIRSPLIT_N:-100000}
FIXTURE=$TESTS_DIR/../fixtures/vault-v2
obj_bytes() { # obj_bytes NAME...: the sum of their sizes in the vault
	local s=0 o
	for o in "$@"; do s=$((s + $(stat -c %s "$VAULT/objects/$o"))); done
	echo "$s"
}
new_objects() { vault_objects | comm -13 "$1" -; } # new_objects BEFORE_LIST
listing() { ls -A "$1" | LC_ALL=C sort; }	     # listing DIR: its names, sorted
fresh_check() { # fresh_check FILE CONTENT WHAT: on a fresh cache, /flat lists $T/expect exactly
	local keep=$CACHE
	CACHE=$T/cache-fresh
	coffer_mount -o ro
	assert_eq "$(listing "$MNT/flat" | sha256sum)" "$(sha256sum <"$T/expect")" "listing $3"
	assert_eq "$(cat "$MNT/$1")" "$2" "$1 $3"
	coffer_umount
	rm -rf "$CACHE"
	CACHE=$keep
}

# --- 1. one new file in a directory of N entries ---
coffer_init
coffer_mount -o commit=3600
mkdir "$MNT/flat" "$MNT/other"
python3 - "$MNT/flat" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.close(os.open(os.path.join(d, "f%07d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
PY
echo "content of f1" >"$MNT/flat/f0000001"
wait_synced "$MNT" 600
vault_objects >"$T/before"
: >"$MNT/flat/new"
wait_synced "$MNT" 120
mapfile -t NEW < <(new_objects "$T/before")
new_b=$(obj_bytes "${NEW[@]}")
root_b=$(stat -c %s "$VAULT/root")
log "one new file among $N: ${#NEW[@]} new objects of $(for o in "${NEW[@]}"; do stat -c %s "$VAULT/objects/$o"; done | sort -n | tr '\n' ' ')bytes, root $root_b"
assert_le "${#NEW[@]}" 8 "new vault objects for one new file"
assert_le $((new_b + root_b)) 65536 "bytes uploaded for one new file in a directory of $N"
ok "one new file in a directory of $N: ${#NEW[@]} objects, $((new_b + root_b)) bytes with the root"

# --- 2. renames and unlinks across buckets, remounts ---
python3 -c "
for i in range($N): print('f%07d' % i)" >"$T/names"
mv "$MNT/flat/f0000001" "$MNT/flat/zz-renamed"
mv "$MNT/flat/f0000010" "$MNT/flat/f0000011" # replaces an entry
rm "$MNT/flat/f0000002" "$MNT/flat/f0000003"
mv "$MNT/flat/f0000004" "$MNT/other/moved"
ln "$MNT/flat/f0000005" "$MNT/other/hard"
mkdir "$MNT/flat/sub"
echo inside >"$MNT/flat/sub/x"
grep -vxE 'f000000[1-4]|f0000010' "$T/names" | { cat; printf '%s\n' new sub zz-renamed; } |
	LC_ALL=C sort >"$T/expect"
assert_eq "$(listing "$MNT/flat" | sha256sum)" "$(sha256sum <"$T/expect")" "listing before the remount"
remount
assert_eq "$(listing "$MNT/flat" | sha256sum)" "$(sha256sum <"$T/expect")" "listing after a remount"
assert_eq "$(cat "$MNT/flat/zz-renamed")" "content of f1" "the renamed file"
assert_eq "$(cat "$MNT/flat/sub/x")" "inside" "a file in a subdirectory of the split directory"
assert_eq "$(stat -c %h "$MNT/other/hard")" 2 "link count of the hard link"
assert_eq "$(listing "$MNT/other" | tr '\n' ' ')" "hard moved " "the other directory"
coffer_umount
fresh_check flat/zz-renamed "content of f1" "on a fresh cache"
ok "renames, unlinks, a link and a subdirectory: the listing is exact after a remount and on a fresh cache"

# --- 3. a damaged bucket ---
# Which new object of a commit is a bucket shows only once it fails: each candidate in turn is
# damaged in the vault alone and a fresh cache mounted read-only, until the log names it as a
# bucket of /flat (a page or table it names otherwise; that one is put back).
coffer_mount -o commit=3600
vault_objects >"$T/before"
: >"$MNT/flat/probe"
wait_synced "$MNT" 120
echo probe >>"$T/expect"
LC_ALL=C sort -o "$T/expect" "$T/expect"
coffer_umount
BUCKET=
for o in $(new_objects "$T/before"); do
	flip_byte "$VAULT/objects/$o" 200
	if try_mount_at "$T/cache-probe" "$MNT" -o ro; then # a damaged root page refuses it
		umount_at "$T/cache-probe" "$MNT"
	fi
	rm -rf "$T/cache-probe"
	if grep -qE "this directory cannot be read: its bucket [0-9]+ \(object $o\)" "$T/mount.out"; then
		BUCKET=$o
		break
	fi
	flip_byte "$VAULT/objects/$o" 200
done
[ -n "$BUCKET" ] || fail "no new object of the commit is a bucket of /flat"
flip_byte "$CACHE/objects/$BUCKET" 200
: >"$LOG"
coffer_mount 2>"$T/mount.err"
grep -qE "integrity error: /flat \(inode [0-9]+\): this directory cannot be read: its bucket [0-9]+ \(object $BUCKET\) is damaged" \
	"$T/mount.err" "$LOG" || fail "no integrity line naming /flat and its bucket: $(cat "$T/mount.err")"
for what in "ls $MNT/flat" "touch $MNT/flat/new2" "stat $MNT/flat/new" "rmdir $MNT/flat"; do
	if $what >/dev/null 2>"$T/err"; then
		fail "$what succeeded on a directory whose bucket is damaged"
	fi
	assert_contains "$(cat "$T/err")" "Input/output error" "$what"
done
assert_eq "$(listing "$MNT/other" | tr '\n' ' ')" "hard moved " "another directory"
echo fine >"$MNT/other/still-writable"
coffer_umount
if out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" 2>&1); then
	fail "coffer fsck passes a directory whose bucket is damaged: $out"
fi
assert_contains "$out" "its buckets cannot be read" "fsck's report"
ok "a damaged bucket: the mount names /flat and the bucket, EIO for list/create/lookup/rmdir, fsck reports it"
rc=0
out=$("$COFFER" verify --passfile "$PASSFILE" "$VAULT" 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of verify with a damaged bucket"
assert_contains "$out" "damaged directory bucket objects/$BUCKET" "verify's report"
assert_contains "$out" "/flat" "verify's report names the directory"
ok "coffer verify reports the damaged bucket and /flat"
flip_byte "$VAULT/objects/$BUCKET" 200 # undo in the vault (the cache's copy may be moved aside)
out=$("$COFFER" verify --passfile "$PASSFILE" "$VAULT" 2>&1) || fail "verify after the repair: $out"
fresh_check other/still-writable fine "once the bucket is repaired"
ok "repaired: a fresh cache lists every name (the record was kept as it was)"

# --- 4. a vault of the previous release ---
[ -d "$FIXTURE/vault" ] || fail "the fixture $FIXTURE is missing"
rm -rf "$VAULT" "$T/cache"
CACHE=$T/cache
cp -a "$FIXTURE/vault" "$VAULT"
cp "$FIXTURE/passphrase" "$PASSFILE"
coffer_mount
(cd "$MNT" && sha256sum --quiet -c "$FIXTURE/expected.sums") || fail "the old vault reads back wrong"
old=$(ls "$MNT/many" | wc -l)
for i in $(seq 300); do : >"$MNT/many/grown-name-$i"; done
remount
(cd "$MNT" && sha256sum --quiet -c "$FIXTURE/expected.sums") || fail "old files after the split"
assert_eq "$(ls "$MNT/many" | wc -l)" $((old + 300)) "entries of many after it split"
coffer_umount
CACHE=$T/cache-fresh
coffer_mount -o ro
(cd "$MNT" && sha256sum --quiet -c "$FIXTURE/expected.sums") || fail "old files on a fresh cache"
assert_eq "$(ls "$MNT/many" | wc -l)" $((old + 300)) "entries of many on a fresh cache"
coffer_umount
ok "a version 2 vault opens; its directory grown past 4 KiB splits; same and fresh cache read back"

# --- 5. a divergence in a split directory is merged ---
# A commits an entry offline while B publishes another (and an unlink) in the same split
# directory; A's merge loads the vault's tree, whose new buckets A's cache never held (fetched
# and checked by the merge's own fetch hook), and keeps both sides.
VAULT=$T/vault-merge
CA=$T/cache-a CB=$T/cache-b
coffer_init
mount_at "$CA" "$MNT"
mkdir "$MNT/big"
python3 -c "
import os, sys
for i in range(3000): os.close(os.open(os.path.join(sys.argv[1], 'f%07d' % i), os.O_CREAT | os.O_WRONLY, 0o644))" "$MNT/big"
umount_at "$CA" "$MNT"
mount_at "$CB" "$MNT"
echo "B's" >"$MNT/big/b-new"
rm "$MNT/big/f0000005"
umount_at "$CB" "$MNT"
mv "$VAULT" "$VAULT.away"
mount_at "$CA" "$MNT" -o drain_timeout=1
echo "A's" >"$MNT/big/a-new"
commit_now "$MNT"
"$COFFER" umount "$MNT" >/dev/null 2>&1 || true # nothing could upload
wait_daemon_exit "$CA"
mv "$VAULT.away" "$VAULT"
mount_at "$CA" "$MNT"
grep -q "merge: merged /big/a-new" "$LOG" || fail "the log does not name the merged /big/a-new: $(tail -n 5 "$LOG")"
python3 -c "
for i in range(3000):
    if i != 5: print('f%07d' % i)
print('a-new'); print('b-new')" | LC_ALL=C sort >"$T/expect-merge"
assert_eq "$(listing "$MNT/big" | sha256sum)" "$(sha256sum <"$T/expect-merge")" "the merged listing"
assert_eq "$(cat "$MNT/big/a-new") $(cat "$MNT/big/b-new")" "A's B's" "both new files"
wait_synced "$MNT"
umount_at "$CA" "$MNT"
CACHE=$T/cache-c
coffer_mount -o ro
assert_eq "$(listing "$MNT/big" | sha256sum)" "$(sha256sum <"$T/expect-merge")" "the merged listing on a fresh cache"
coffer_umount
ok "a divergence in a split directory: both sides' entries merged, B's unlink kept, a fresh cache agrees"
