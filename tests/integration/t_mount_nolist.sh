#!/usr/bin/env bash
# t_mount_nolist: a mount does not list the vault while the cache's known journal is intact. A
# vault on S3 (Ceph RGW on 127.0.0.1) behind tests/servers/faultproxy.py, whose log counts the
# LIST requests of the vault's objects/ prefix (clean-up's listing of roots/ is not counted):
# 1. a fresh cache, a remount of it, and a second fresh device each list nothing;
# 2. with the journal deleted (knowledge lost) the mount lists once, uploads what the vault may
#    lack, and the next mount lists nothing again; the same with the journal's header damaged;
# 3. the files read back exactly through every mount and through a fresh read-only cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

command -v python3 >/dev/null || fail "python3 is needed for tests/servers/faultproxy.py"
start_rgw
server_cleanup() { "$SERVERS/stop-ceph-rgw.sh"; }
curl -sS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
	-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"http://127.0.0.1:$RGW_PORT/coffer-nolist" >/dev/null || fail "cannot create the bucket"
start_proxy s3 "$RGW_PORT"
PLOG=$T/s3.proxy.log
ok "Ceph RGW on port $RGW_PORT behind faultproxy on port $PROXY_PORT"
VAULT=s3+http://127.0.0.1:$PROXY_PORT/coffer-nolist/vault

# object_lists: LIST requests of the vault's objects/ prefix so far (one line per request).
object_lists() {
	local n
	n=$(grep -c ' GET /coffer-nolist/?.*list-type=2&prefix=vault%2Fobjects%2F' "$PLOG" 2>/dev/null) || true
	echo "${n:-0}"
}
# mount_lists EXPECTED WHAT CACHE [mount args]: mounts CACHE on $MNT; the mount must have sent
# EXPECTED object listings.
mount_lists() {
	local want=$1 what=$2 cache=$3 before
	shift 3
	before=$(object_lists)
	mount_at "$cache" "$MNT" "$@"
	assert_eq "$(($(object_lists) - before))" "$want" "$what: object listings of the mount"
	ok "$what: $want object listing(s)"
}
check_files() { # check_files MNT: the files written so far read back exactly
	local i
	for i in $(seq 1 "$NFILES"); do
		assert_eq "$(cat "$1/f$i")" "file $i" "$1/f$i"
	done
}

remote_init
NFILES=30
mount_lists 0 "fresh cache" "$CACHE"
for i in $(seq 1 "$NFILES"); do echo "file $i" >"$MNT/f$i"; done
wait_synced "$MNT" 120
umount_at "$CACHE" "$MNT"

mount_lists 0 "remount, journal intact" "$CACHE"
check_files "$MNT"
NFILES=31
echo "file 31" >"$MNT/f31"
wait_synced "$MNT" 120
umount_at "$CACHE" "$MNT"

mount_lists 0 "second device, fresh cache" "$T/cache2"
check_files "$MNT"
umount_at "$T/cache2" "$MNT"

rm "$CACHE/known"
mount_lists 1 "journal deleted" "$CACHE"
check_files "$MNT"
NFILES=32
echo "file 32" >"$MNT/f32"
wait_synced "$MNT" 120
umount_at "$CACHE" "$MNT"
mount_lists 0 "remount after the journal was rebuilt" "$CACHE"
umount_at "$CACHE" "$MNT"

printf 'XXXXXXXX' | dd of="$CACHE/known" conv=notrunc status=none
mount_lists 1 "journal header damaged" "$CACHE"
check_files "$MNT"
umount_at "$CACHE" "$MNT"
mount_lists 0 "remount after the damaged journal was rebuilt" "$CACHE"
umount_at "$CACHE" "$MNT"

mount_at "$T/cache-ro" "$T/mnt-ro" -o ro
check_files "$T/mnt-ro"
umount_at "$T/cache-ro" "$T/mnt-ro"
ok "a fresh read-only cache reads all $NFILES files"
[ "$(object_lists)" -eq 2 ] || fail "expected 2 object listings in all, the proxy saw $(object_lists)"
ok "2 object listings in all, both when the journal was lost"
