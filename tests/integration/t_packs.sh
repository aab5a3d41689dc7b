#!/usr/bin/env bash
# t_packs: small files are packed (coffer-format(5), "Packs"): 2,000 files of 100-3,000 bytes
# reach the vault as a handful of objects, none of the size of one small file's blocks; a fresh
# cache (a new device) reads every file back; an in-place edit of a packed file and the deletion
# of three files in four give the space back (the sparse packs are repacked and freed, in the
# cache and in the vault); a byte flipped in a pack makes the file that holds it fail with EIO
# and a log line naming it, while every other file reads correctly, and `coffer verify` reports
# the pack with that file only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=2000
SEALED=4136
objects_in() { find "$1/objects" -type f ! -name '*.bad' | wc -l; }
bytes_in() { find "$1/objects" -type f ! -name '*.bad' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# objects of 2 to 16 whole blocks: what one small file's chunk would be (one block, 4136 bytes,
# is also the size of a sealed 4 KiB metadata bucket: those are counted apart)
small_chunks_in() {
	find "$1/objects" -type f -printf '%s\n' | awk -v b=$SEALED '$1 % b == 0 && $1 > b && $1 <= 16 * b' | wc -l
}
one_block_in() { find "$1/objects" -type f -size ${SEALED}c | wc -l; }
packs_in() { find "$1/objects" -type f -size +$((16 * SEALED))c | wc -l; }
sums() { (cd "$MNT/s" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
read_back() { # read_back CACHE SUMS WHAT: a read-only mount with CACHE reads every file of SUMS
	local keep=$CACHE
	CACHE=$1
	coffer_mount -o ro
	(cd "$MNT/s" && sha256sum --quiet -c "$2") || fail "files read $3 are wrong"
	coffer_umount
	CACHE=$keep
}

coffer_init
coffer_mount -o keep=1
mkdir "$MNT/s"
RANDOM=13
for i in $(seq 1 $N); do
	head -c $((100 + RANDOM % 2901)) /dev/urandom >"$MNT/s/f$i"
done
sums >"$T/sums"
start=$(date +%s.%N)
coffer_umount
end=$(date +%s.%N)
nobj=$(objects_in "$VAULT")
log "vault after $N small files: $nobj objects, $(bytes_in "$VAULT") bytes; commit+upload at umount $(echo "$end - $start" | bc) s"
# 32 inode pages, and one pack per commit that ran while the files were written (every 5 s)
assert_le "$nobj" $((N / 20)) "objects in the vault for $N small files"
assert_eq "$(small_chunks_in "$VAULT")" 0 "vault objects of one small file's size"
assert_le "$(one_block_in "$VAULT")" $((N / 50)) "vault objects of one block (metadata buckets, not files)"
assert_le 1 "$(packs_in "$VAULT")" "packs in the vault"
ok "$N small files are $nobj objects in the vault ($(packs_in "$VAULT") packs), none of a small file's size"

# A new device: a fresh cache fetches the packs and reads every file.
read_back "$T/cache-fresh" "$T/sums" "through a fresh cache"
ok "a fresh cache reads all $N files back"

# Edit one packed file in place, delete three files in four: the packs become sparse.
coffer_mount -o keep=1
printf 'EDITED' | dd of="$MNT/s/f7" bs=1 seek=20 conv=notrunc status=none
before_cache=$(bytes_in "$CACHE")
before_vault=$(bytes_in "$VAULT")
for i in $(seq 1 $N); do
	[ $((i % 4)) -eq 0 ] || [ "$i" -eq 7 ] || rm "$MNT/s/f$i"
done
sums >"$T/sums2"
sync "$MNT/s" # a commit: the deletes release the packs' blocks, the repack runs
coffer_umount
after_cache=$(bytes_in "$CACHE")
after_vault=$(bytes_in "$VAULT")
log "cache objects $before_cache -> $after_cache bytes, vault $before_vault -> $after_vault bytes"
assert_le $((after_cache * 2)) "$before_cache" "cache bytes after deleting 3 in 4 (repacked)"
assert_le $((after_vault * 2)) "$before_vault" "vault bytes after deleting 3 in 4 (repacked)"
assert_eq "$(small_chunks_in "$VAULT")" 0 "vault objects of one small file's size after the edit"
ok "the edit and deletions gave the space back: cache $before_cache -> $after_cache, vault $before_vault -> $after_vault bytes"

coffer_mount -o ro
(cd "$MNT/s" && sha256sum --quiet -c "$T/sums2") || fail "files after the edit and repack are wrong"
assert_eq "$(head -c 26 "$MNT/s/f7" | tail -c 6)" "EDITED" "the edited bytes of f7"
coffer_umount
read_back "$T/cache-fresh2" "$T/sums2" "after the repack through a fresh cache"
ok "after the repack every file reads back (same cache and a fresh one)"
coffer_fsck >/dev/null

# Tamper: one byte of the first block of the largest pack, in every copy.
pack=$(cd "$CACHE/objects" && ls -S | head -n 1)
[ "$(stat -c %s "$CACHE/objects/$pack")" -gt $((16 * SEALED)) ] || fail "no pack in the cache"
for p in "$CACHE/objects/$pack" "$VAULT/objects/$pack"; do flip_byte "$p" 100; done
: >"$LOG"
coffer_mount -o ro
nbad=0
: >"$T/good"
for f in "$MNT"/s/*; do
	if cat "$f" >/dev/null 2>"$T/err"; then
		echo "$f" >>"$T/good"
	else
		assert_contains "$(cat "$T/err")" "Input/output error" "reading $f"
		nbad=$((nbad + 1))
		bad=$f
	fi
done
assert_eq "$nbad" 1 "files failing after one flipped byte"
grep -qF "integrity error: /s/$(basename "$bad")" "$LOG" || fail "no 'integrity error: /s/$(basename "$bad")' line: $(tail -n 3 "$LOG")"
grep -v "/$(basename "$bad")\$" "$T/sums2" | (cd "$MNT/s" && sha256sum --quiet -c) ||
	fail "an untouched packed file reads wrong"
coffer_umount
ok "a flipped byte in a pack: EIO for $(basename "$bad") only, logged with its path; the others read correctly"

# coffer verify fetches the pack once and checks every packed chunk in it: the damaged one is
# reported with the file whose blocks fail.
rc=0
out=$("$COFFER" verify --passfile "$PASSFILE" "$VAULT" 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of verify with a damaged pack"
assert_contains "$out" "damaged chunk objects/$pack" "verify's report of the pack"
assert_contains "$out" "/s/$(basename "$bad")" "the file verify names"
[ "$(echo "$out" | grep -c '^    /')" -eq 1 ] || fail "verify named other files than $(basename "$bad"): $out"
ok "verify reports the damaged pack with /s/$(basename "$bad") only"
