#!/usr/bin/env bash
# t_offline_cache_cap: the vault being unreachable never loses data, and the cache cap only
# evicts what the vault holds: with the vault folder moved away while mounted, writes and
# fsync keep working and umount (with a short drain timeout) keeps everything locally; the
# cache can be mounted and written while the vault is still away; when
# the vault is back the next mount uploads it, and a fresh cache then sees all of it. With
# -o cache_size=16M, writing 96 MiB leaves the cache near the cap after umount, and every
# file still reads back correctly (evicted objects are fetched from the vault).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
echo "before" >"$MNT/before"
coffer_umount

coffer_mount -o drain_timeout=3
mv "$VAULT" "$VAULT.away"
head -c 5000000 /dev/urandom >"$T/offline.data"
cp "$T/offline.data" "$MNT/offline"
sync "$MNT/offline" || fail "fsync while the vault is unreachable failed"
mkdir "$MNT/dir" && echo "x" >"$MNT/dir/y"
"$COFFER" umount "$MNT" || fail "umount while the vault is unreachable failed"
wait_daemon_exit
ok "vault unreachable: writes, fsync and umount work"
# Mounting the local cache while the vault is unreachable (its config is in the cache).
# A failure here is remembered and reported at the end, so the rest still runs.
offline_mount_failure=
_COFFER_MOUNTS+=("$MNT")
if out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG,drain_timeout=3" "$VAULT" "$MNT" 2>&1); then
	cmp "$MNT/offline" "$T/offline.data" || fail "data written offline is wrong after remount (vault still away)"
	echo "more offline" >"$MNT/more"
	"$COFFER" umount "$MNT" || fail "umount failed"
	wait_daemon_exit
	ok "the cache mounts and works while the vault is unreachable"
else
	offline_mount_failure="the cache cannot be mounted while the vault folder is unreachable: $out"
	echo "not ok - $offline_mount_failure" >&2
fi
mv "$VAULT.away" "$VAULT"
coffer_mount
cmp "$MNT/offline" "$T/offline.data" || fail "data written offline is wrong once the vault is back"
[ -z "$offline_mount_failure" ] && { assert_eq "$(cat "$MNT/more")" "more offline" "file written in the offline mount"; }
coffer_umount
ok "vault back: the data written offline is intact"
CACHE0=$CACHE
CACHE=$T/cache-fresh
coffer_mount -o ro
cmp "$MNT/offline" "$T/offline.data" || fail "a fresh cache does not see the data written offline"
assert_eq "$(cat "$MNT/dir/y")" "x" "small file written offline, through a fresh cache"
coffer_umount
ok "the next mount uploaded it: a fresh cache sees the data written offline"

CACHE=$CACHE0
cap_failure=
coffer_mount -o cache_size=16M
for i in $(seq 1 12); do
	head -c $((8 * 1048576)) /dev/urandom >"$T/big$i"
	cp "$T/big$i" "$MNT/big$i"
done
coffer_umount
kib=$(disk_kib "$CACHE")
if [ "$kib" -gt $((32 * 1024)) ]; then
	cap_failure="with -o cache_size=16M the cache holds ${kib} KiB after writing 96 MiB and unmounting (everything was uploaded). "
	echo "not ok - $cap_failure" >&2
else
	ok "cache_size=16M: the cache holds ${kib} KiB after writing 96 MiB and unmounting"
fi
coffer_mount -o cache_size=16M
for i in $(seq 1 12); do
	cmp "$MNT/big$i" "$T/big$i" || fail "big$i reads back wrong through a capped cache"
done
cmp "$MNT/offline" "$T/offline.data" || fail "offline data wrong through a capped cache"
ok "every file reads back correctly through the capped cache"
# While mounted, the cache must come down to about the cap (allow 25 s for the sync thread).
kib=$(kib_settled "$CACHE" $((32 * 1024)))
[ "$kib" -le $((32 * 1024)) ] || fail "with cache_size=16M the cache still holds ${kib} KiB after 25 s mounted"
coffer_umount
ok "while mounted the cache comes down to ${kib} KiB"
coffer_fsck >/dev/null
ok "coffer fsck clean"
[ -z "$offline_mount_failure$cap_failure" ] || fail "$offline_mount_failure $cap_failure"
