#!/usr/bin/env bash
# t_passwd_s3: `coffer passwd` on a vault in a real S3 store (Ceph RGW on 127.0.0.1, started
# here), whose conditional write is If-Match on the config's ETag: passwd keeps the files
# readable; device B's old passphrase is refused with "the passphrase of this vault was changed
# on another device"; a wrong old passphrase leaves the config object byte for byte; two racing
# passwd runs (both holding the ETag before either writes) end with exactly one winner, whose
# passphrase mounts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/passwd_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

start_rgw
export XDG_CACHE_HOME=$T/xdg # passwd without --cache must not touch a real default cache
EP=127.0.0.1:$RGW_PORT
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3get() { curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
	-H "x-amz-content-sha256: $EMPTY_SHA" "http://$EP/coffer-test/vault/$1"; }
curl -sS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
	-H "x-amz-content-sha256: $EMPTY_SHA" "http://$EP/coffer-test" >/dev/null || fail "cannot create the bucket"
ok "Ceph RGW on port $RGW_PORT"

VAULT=s3+http://$EP/coffer-test/vault
CHANGED="the passphrase of this vault was changed on another device; enter the new one"
OLDPASS=$PASSFILE
NEWPASS=$T/pass-new
printf 'a new s3 passphrase %s\n' "$RANDOM" >"$NEWPASS"
chmod 600 "$NEWPASS"

remote_init
coffer_mount
head -c 500000 /dev/urandom >"$MNT/f"
sums "$MNT" >"$T/sums"
wait_synced "$MNT" 120
coffer_umount
mount_at "$T/cache-b" "$T/mnt-b" -o ro
umount_at "$T/cache-b" "$T/mnt-b"
s3get config >"$T/config.old"

out=$("$COFFER" passwd --passfile "$OLDPASS" --new-passfile "$NEWPASS" --cache "$CACHE" "$VAULT" 2>&1) ||
	fail "coffer passwd on S3 failed: $out"
s3get config >"$T/config.new"
cmp -s "$T/config.old" "$T/config.new" && fail "passwd on S3 did not change the config object"
assert_eq "$(sed -n 's/^id //p' "$T/config.new")" "$(sed -n 's/^id //p' "$T/config.old")" "the vault id after passwd"
cmp -s "$CACHE/config" "$T/config.new" || fail "device A's cached config copy is not the new config"
if "$COFFER" mount --passfile "$OLDPASS" --cache "$T/cache-b" -o ro "$VAULT" "$T/mnt-b" >"$T/b.out" 2>&1; then
	_COFFER_MOUNTS+=("$T/mnt-b")
	fail "device B mounted with the old passphrase after passwd on S3"
fi
assert_contains "$(cat "$T/b.out")" "$CHANGED" "device B's refusal of the old passphrase"
PASSFILE=$NEWPASS
mount_at "$T/cache-b" "$T/mnt-b" -o ro
(cd "$T/mnt-b" && sha256sum --quiet -c "$T/sums") || fail "device B reads wrong files after passwd on S3"
umount_at "$T/cache-b" "$T/mnt-b"
ok "passwd on S3: new config, B refuses the old passphrase with the message and reads with the new"

if out=$("$COFFER" passwd --passfile "$OLDPASS" --new-passfile "$OLDPASS" "$VAULT" 2>&1); then
	fail "coffer passwd with a wrong old passphrase succeeded on S3"
fi
s3get config | cmp -s - "$T/config.new" || fail "a failed passwd changed the config object"
ok "a wrong old passphrase exits non-zero; the config object is unchanged"

passwd_race "$NEWPASS"
PASSFILE=$T/pass$win
coffer_mount
(cd "$MNT" && sha256sum --quiet -c "$T/sums") || fail "files wrong after the passwd race on S3"
coffer_umount
ok "racing passwd on S3: $win won, $lose lost and changed nothing; the winner's passphrase mounts"
