#!/usr/bin/env bash
# t_sync_snapshots: the vault retains its newest roots as snapshots.
# 1. Four published generations, each with different content: `coffer snapshots` lists them
#    oldest first (matching VAULT/roots), `coffer mount --snapshot GEN` shows that generation's
#    content read-only (EROFS on writes) while a later one shows the later content.
# 2. With -o keep=3 only the newest 3 roots remain in VAULT/roots, and a 1 MiB file rewritten
#    30 times does not make the vault grow: the freed chunk objects really go away; once every
#    retained root names only the last version, exactly one copy of its chunk is left.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

CHUNK_OBJ=$((256 * 4136)) # a full 1 MiB chunk
chunk_objects() { find "$VAULT/objects" -type f -size "${CHUNK_OBJ}c" | wc -l; }

coffer_init
coffer_mount -o commit=1
declare -A GEN
for v in 1 2 3 4; do
	echo "version $v" >"$MNT/f"
	mkdir "$MNT/only-in-$v"
	[ "$v" -gt 1 ] && rmdir "$MNT/only-in-$((v - 1))"
	wait_synced
	GEN[$v]=$(sfield remote_generation)
done
coffer_umount
[ "${GEN[1]}" -lt "${GEN[2]}" ] && [ "${GEN[2]}" -lt "${GEN[3]}" ] && [ "${GEN[3]}" -lt "${GEN[4]}" ] ||
	fail "published generations are not increasing: ${GEN[*]}"
ok "published generations ${GEN[1]} ${GEN[2]} ${GEN[3]} ${GEN[4]} (versions 1-4)"

"$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" >"$T/snaps" || fail "coffer snapshots failed"
head -n 1 "$T/snaps" | grep -q "GENERATION" || fail "no header in coffer snapshots: $(cat "$T/snaps")"
awk 'NR > 1 { print $1 }' "$T/snaps" >"$T/listed"
(cd "$VAULT/roots" && ls | sort | sed 's/^0*//') >"$T/roots"
diff "$T/listed" "$T/roots" >/dev/null || fail "coffer snapshots and VAULT/roots differ: $(cat "$T/snaps") vs $(cat "$T/roots")"
sort -n -c "$T/listed" || fail "coffer snapshots not in increasing order: $(cat "$T/snaps")"
for v in 1 2 3 4; do grep -qx "${GEN[$v]}" "$T/listed" || fail "generation ${GEN[$v]} of version $v is not listed: $(cat "$T/snaps")"; done
ok "coffer snapshots lists $(wc -l <"$T/listed") generations in order, the same as VAULT/roots"

SMNT=$T/snap
for v in 1 3; do
	mount_at "$T/snapcache-$v" "$SMNT" --snapshot "${GEN[$v]}"
	assert_eq "$(cat "$SMNT/f")" "version $v" "content of f in snapshot ${GEN[$v]}"
	[ -d "$SMNT/only-in-$v" ] || fail "only-in-$v missing from snapshot ${GEN[$v]}"
	[ ! -e "$SMNT/only-in-4" ] || fail "only-in-4 is visible in snapshot ${GEN[$v]}"
	err=$( (echo changed >"$SMNT/f") 2>&1) && fail "writing f in snapshot ${GEN[$v]} succeeded"
	assert_contains "$err" "Read-only file system" "write in snapshot"
	err=$(touch "$SMNT/new" 2>&1) && fail "creating a file in snapshot ${GEN[$v]} succeeded"
	assert_contains "$err" "Read-only file system" "create in snapshot"
	err=$(rm -rf "$SMNT/only-in-$v" 2>&1) && fail "rmdir in snapshot ${GEN[$v]} succeeded"
	assert_contains "$err" "Read-only file system" "rmdir in snapshot"
	assert_eq "$(cat "$SMNT/f")" "version $v" "snapshot unchanged after refused writes"
	umount_at "$T/snapcache-$v.snapshot-${GEN[$v]}" "$SMNT" # a snapshot keeps its own cache beside the one named
	ok "--snapshot ${GEN[$v]} shows version $v and refuses writes with EROFS"
done
coffer_mount
assert_eq "$(cat "$MNT/f")" "version 4" "the normal mount after the snapshot mounts"
coffer_umount

# --- keep=3 ---
coffer_mount -o keep=3,commit=1
rewrite() { head -c 1048576 /dev/urandom >"$T/v" && cp "$T/v" "$MNT/big" && sync "$MNT/big"; }
for i in 1 2 3 4 5; do rewrite; done
wait_synced
n_roots=$(ls "$VAULT/roots" | wc -l)
assert_le "$n_roots" 3 "roots retained with keep=3"
N1=$(vault_objects | wc -l)
find "$VAULT/objects" -type f -size "${CHUNK_OBJ}c" -printf '%f\n' | sort >"$T/early-chunks"
log "after 5 rewrites: $N1 objects, $(wc -l <"$T/early-chunks") 1 MiB chunks, $n_roots roots"
max=$N1
for i in $(seq 6 30); do
	rewrite
	[ $((i % 5)) -eq 0 ] && sleep 1.2
	n=$(vault_objects | wc -l)
	[ "$n" -gt "$max" ] && max=$n
done
wait_synced
cp "$T/v" "$T/last-version"
# four more published generations that do not touch big: every retained root then names only
# its last version
for i in 1 2 3 4; do
	echo "$i" >"$MNT/small"
	wait_synced
done
G=$(sfield remote_generation)
(cd "$VAULT/roots" && ls | sort) >"$T/roots-now"
assert_eq "$(wc -l <"$T/roots-now")" 3 "number of roots in VAULT/roots with keep=3"
assert_eq "$((10#$(tail -n 1 "$T/roots-now")))" "$G" "newest root in VAULT/roots"
assert_eq "$((10#$(head -n 1 "$T/roots-now")))" "$((G - 2))" "oldest retained root (the 3 newest are consecutive here)"
ok "keep=3: VAULT/roots holds exactly the newest 3 roots ($(tr '\n' ' ' <"$T/roots-now"))"
N2=$(vault_objects | wc -l)
assert_eq "$(chunk_objects)" 1 "1 MiB chunk objects left on the vault after 30 rewrites"
gone=$(vault_objects | comm -12 "$T/early-chunks" - | wc -l)
assert_eq "$gone" 0 "chunk objects of the early versions still on the vault"
assert_le "$N2" "$((N1 + 2))" "object count after 30 rewrites vs after 5 (+ the file small: its chunk, maybe a page)"
assert_le "$max" "$((N1 * 3))" "peak object count seen during the rewrites vs after 5"
ok "30 rewrites of a 1 MiB file: objects $N1 after 5 -> $N2 at the end (peak seen $max); early chunks deleted, one chunk left"
assert_eq "$(sha256sum <"$MNT/big")" "$(sha256sum <"$T/last-version")" "content of big"
coffer_umount
NEWMNT=$T/mnt-new
mount_at "$T/cache-new" "$NEWMNT" -o ro
assert_eq "$(sha256sum <"$NEWMNT/big")" "$(sha256sum <"$T/last-version")" "fresh cache: content of big after the clean-ups"
umount_at "$T/cache-new" "$NEWMNT"
ok "a fresh cache reads the last version (the clean-up deleted nothing still needed)"
