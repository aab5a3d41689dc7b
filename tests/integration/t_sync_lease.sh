#!/usr/bin/env bash
# t_sync_lease: one writer per vault. While device A (cache A) has the vault mounted writable,
# a writable mount from device B (cache B) is refused with a message naming A's host and the
# lease expiry, and mounts nothing; B may mount -o ro and read A's files (and the ro mount takes
# no lease and does not disturb A); once A unmounts (releasing the lease), B mounts writable,
# and then A is the one refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

HOST=$(hostname)
CACHE_B=$T/cache-b
MNT_B=$T/mnt-b

coffer_init
coffer_mount
mkdir "$MNT/docs"
for i in 1 2 3; do echo "from A, file $i" >"$MNT/docs/f$i"; done
head -c 2000000 /dev/urandom >"$MNT/docs/blob"
SHA_BLOB=$(sha256sum <"$MNT/docs/blob")
wait_synced
[ -e "$VAULT/lease" ] || fail "no lease object on the vault while A is mounted writable"
ok "A mounted writable and synced; the vault holds a lease"

if try_mount_at "$CACHE_B" "$MNT_B"; then
	fail "B mounted writable while A holds the lease: $(cat "$T/mount.out")"
fi
msg=$(cat "$T/mount.out")
is_mounted "$MNT_B" && fail "the refused writable mount left $MNT_B mounted"
assert_contains "$msg" "being written by $HOST" "second writer refusal names the host"
assert_contains "$msg" "lease expires" "second writer refusal gives the expiry"
assert_contains "$msg" "-o ro" "second writer refusal suggests -o ro"
ok "writable mount from cache B refused: $msg"

mount_at "$CACHE_B" "$MNT_B" -o ro
for i in 1 2 3; do assert_eq "$(cat "$MNT_B/docs/f$i")" "from A, file $i" "B (ro) reads docs/f$i"; done
assert_eq "$(sha256sum <"$MNT_B/docs/blob")" "$SHA_BLOB" "B (ro) reads docs/blob"
err=$(touch "$MNT_B/docs/new" 2>&1) && fail "writing to the -o ro mount succeeded"
assert_contains "$err" "Read-only file system" "write to the ro mount"
ok "-o ro mount from cache B works, reads A's files, refuses writes"
# A still writes and syncs while B is mounted read-only
echo "A again" >"$MNT/docs/f4"
wait_synced
ok "A keeps writing and syncing while B is mounted -o ro"
umount_at "$CACHE_B" "$MNT_B"
[ -e "$VAULT/lease" ] || fail "the ro mount of B removed A's lease"

coffer_umount
[ ! -e "$VAULT/lease" ] || fail "the lease is still on the vault after A's clean unmount"
ok "A unmounted; the lease is gone"

try_mount_at "$CACHE_B" "$MNT_B" || fail "B cannot mount writable after A unmounted: $(cat "$T/mount.out")"
assert_eq "$(cat "$MNT_B/docs/f4")" "A again" "B sees A's last file"
echo "from B" >"$MNT_B/docs/fromB"
wait_synced "$MNT_B"
ok "B mounted writable after A left, and syncs"

if try_mount_at "$CACHE" "$MNT"; then
	fail "A mounted writable while B holds the lease: $(cat "$T/mount.out")"
fi
assert_contains "$(cat "$T/mount.out")" "being written by $HOST" "A refused while B writes"
ok "now A is refused: $(cat "$T/mount.out")"
umount_at "$CACHE_B" "$MNT_B"

coffer_mount
assert_eq "$(cat "$MNT/docs/fromB")" "from B" "A sees B's file after B unmounted"
coffer_umount
ok "A mounts again after B left and sees B's changes"
