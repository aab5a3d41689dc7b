#!/usr/bin/env bash
# t_sync_offline: the filesystem never waits for the vault.
# 1. While mounted the vault folder goes away (mv): writes, reads and fsync keep working, the
#    status says "retrying" with a "remote unreachable" error and shows what waits; when the
#    folder comes back the uploads resume on their own until the vault holds the newest local
#    generation; a fresh cache then restores everything.
# 2. kill -9 of the daemon in the middle of uploading a large fsynced commit (200 MiB): the
#    vault keeps its previous root (never a half-uploaded state); a remount with the same
#    cache finishes the upload, `coffer umount` waits for it, and a fresh cache restores the
#    fsynced data exactly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

SRC=$T/src
mkdir -p "$SRC/before" "$SRC/during"
for i in $(seq 1 20); do head -c $((i * 7000)) /dev/urandom >"$SRC/before/f$i"; done
for i in $(seq 1 20); do head -c $((i * 9000 + 5)) /dev/urandom >"$SRC/during/g$i"; done
head -c $((5 * 1048576)) /dev/urandom >"$SRC/during/big"

coffer_init
coffer_mount -o commit=1
cp -a "$SRC/before" "$MNT/"
wait_synced
G1=$(sfield remote_generation)
ok "online: the vault holds generation $G1"

mv "$VAULT" "$VAULT.away"
cp -a "$SRC/during" "$MNT/" || fail "writing while the vault is away failed"
sync "$MNT/during/big" || fail "fsync while the vault is away failed"
echo "appended offline" >>"$MNT/before/f1"
printf 'appended offline\n' >>"$SRC/before/f1"
mv "$MNT/before/f2" "$MNT/before/f2-renamed"
mv "$SRC/before/f2" "$SRC/before/f2-renamed"
rm "$MNT/before/f3" "$SRC/before/f3"
commit_now
diff -r "$SRC/before" "$MNT/before" >/dev/null || fail "the mount does not show the offline changes"
diff -r "$SRC/during" "$MNT/during" >/dev/null || fail "the mount does not show the files written offline"
ok "while the vault folder is away: writes, renames, deletes, fsync and reads work"
seen=""
for _ in $(seq 1 40); do
	s=$(sj)
	if jq -e '.state == "retrying" and (.last_error | test("remote unreachable")) and .objects_waiting > 0
		and .local_generation > .remote_generation and .last_error_time > 0' >/dev/null <<<"$s"; then
		seen=$s
		break
	fi
	sleep 0.5
done
[ -n "$seen" ] || fail "status does not show the unreachable vault: $(sj)"
assert_eq "$(jq -r .remote_generation <<<"$seen")" "$G1" "vault generation while away"
ok "status while away: $(jq -c '{state, last_error, local_generation, remote_generation, objects_waiting, bytes_waiting}' <<<"$seen")"
human=$("$COFFER" status "$MNT")
assert_contains "$human" "state: retrying" "coffer status text"
assert_contains "$human" "remote unreachable" "coffer status text"
[ "$(jq -r .bytes_waiting <<<"$seen")" -gt 0 ] ||
	fail "status says $(jq -r .objects_waiting <<<"$seen") objects but 0 bytes wait (5 MiB of new data is not on the vault): $seen"
ok "status shows the bytes waiting: $(jq -r .bytes_waiting <<<"$seen")"

sleep 5 # let the backoff grow a little
mv "$VAULT.away" "$VAULT"
wait_synced "$MNT" 100
G2=$(sfield remote_generation)
[ "$G2" -gt "$G1" ] || fail "the vault did not advance after coming back: $(sj)"
ok "vault back: uploads resumed by themselves, vault generation $G2 == local, nothing waiting"
coffer_umount
assert_eq "$(vault_gen)" "$(last_unmount_gen)" "vault generation after umount"

NEWCACHE=$T/cache-new
NEWMNT=$T/mnt-new
mount_at "$NEWCACHE" "$NEWMNT" -o ro
diff -r "$SRC/before" "$NEWMNT/before" >/dev/null || fail "fresh cache: before/ differs: $(diff -r "$SRC/before" "$NEWMNT/before" 2>&1 | head -n 3)"
diff -r "$SRC/during" "$NEWMNT/during" >/dev/null || fail "fresh cache: during/ differs: $(diff -r "$SRC/during" "$NEWMNT/during" 2>&1 | head -n 3)"
umount_at "$NEWCACHE" "$NEWMNT"
ok "a fresh cache restores everything written online and offline"

# --- 2. kill -9 in the middle of an upload ---
head -c $((200 * 1048576)) /dev/urandom >"$T/big200"
SHA_BIG=$(sha256sum <"$T/big200")
coffer_mount -o commit=3600
PID=$(sfield pid)
G_BEFORE=$(vault_gen)
BASE=$(vault_objects | wc -l)
dd if="$T/big200" of="$MNT/big200" bs=1M conv=fsync status=none || fail "dd of 200 MiB failed"
killed=""
for _ in $(seq 1 20000); do
	n=$(find "$VAULT/objects" -mindepth 1 -maxdepth 1 | wc -l)
	if [ "$n" -gt $((BASE + 5)) ]; then
		kill -9 "$PID"
		killed=$n
		break
	fi
done
[ -n "$killed" ] || fail "the upload of the fsynced commit never started (objects on the vault: $BASE)"
while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done
G_AFTER_KILL=$(vault_gen)
[ "$G_AFTER_KILL" -eq "$G_BEFORE" ] ||
	fail "the upload finished before kill -9 could interrupt it (vault went $G_BEFORE -> $G_AFTER_KILL); the test did not test anything"
(cd "$VAULT/objects" && ls | sort) >"$T/objs.killed"
ok "kill -9 of daemon $PID with $((killed - BASE)) of ~200 new objects uploaded; the vault still holds generation $G_BEFORE"
fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT"
wait_daemon_exit
# the vault root never names an object that is missing
"$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" >/dev/null || fail "coffer snapshots fails on the vault after kill -9"

coffer_mount
w=$(sfield objects_waiting)
[ "$w" -gt 0 ] || [ "$(sfield remote_generation)" -gt "$G_BEFORE" ] || fail "after remount nothing waits and the vault is still at $G_BEFORE: $(sj)"
ok "remount with the same cache: $(sj | jq -c '{state, local_generation, remote_generation, objects_waiting}')"
coffer_umount
G_FINAL=$(vault_gen)
[ "$G_FINAL" -gt "$G_BEFORE" ] || fail "coffer umount returned but the vault is still at generation $G_BEFORE"
assert_eq "$G_FINAL" "$(last_unmount_gen)" "vault generation after umount vs the generation unmounted at"
ok "coffer umount waited: the vault holds generation $G_FINAL"

NEWCACHE2=$T/cache-new2
mount_at "$NEWCACHE2" "$NEWMNT" -o ro
assert_eq "$(sha256sum <"$NEWMNT/big200")" "$SHA_BIG" "fresh cache: the 200 MiB fsynced file"
diff -r "$SRC/during" "$NEWMNT/during" >/dev/null || fail "fresh cache 2: during/ differs"
umount_at "$NEWCACHE2" "$NEWMNT"
ok "a fresh cache restores the 200 MiB file fsynced before kill -9 exactly"
