#!/usr/bin/env bash
# t_remote_s3: a vault in a real S3 store (Ceph RADOS Gateway on 127.0.0.1, started here).
# 1. Round trip: init + mount on s3+http://, cp a tree, umount waits, a fresh cache restores it;
#    the same through ~/.aws/credentials with a named profile and virtual-host addressing.
# 2. No plaintext marker anywhere in the RADOS pool that holds the bucket's data.
# 3. Wrong secret, unknown bucket, closed port, malformed URL, missing credentials: init (and
#    mount) fail fast with one line and a non-zero exit.
# 4. radosgw is killed in the middle of uploading a 100 MiB commit, stays down ~10 s while the
#    mount keeps working, comes back; umount waits and a fresh cache restores the newest root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

start_rgw
ok "Ceph RGW on port $RGW_PORT"
EP=127.0.0.1:$RGW_PORT
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

s3curl() { # s3curl METHOD PATH: a signed request with curl's own SigV4
	curl -sS -X "$1" --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
		-H "x-amz-content-sha256: $EMPTY_SHA" "http://$EP$2"
}
s3curl PUT /coffer-test >/dev/null || fail "cannot create the bucket"
s3curl PUT /other-bucket >/dev/null || fail "cannot create the second bucket"

# objects under a key prefix (one page of up to 1000 keys is plenty for the fault test)
count_objects() { s3curl GET "/coffer-test?list-type=2&prefix=vault%2Fobjects%2F" | grep -o '<Key>' | wc -l; }

# --- 1. round trip ---
VAULT=s3+http://$EP/coffer-test/vault
MARKER=PLAINTEXT-MARKER-$RANDOM$RANDOM
make_tree "$T/src" "$MARKER"
roundtrip "$T/src"

# credentials from a file: a named profile, comments and spacing; virtual-host style
mkdir -p "$T/home/.aws"
cat >"$T/home/.aws/credentials" <<EOF
# comment
[default]
aws_access_key_id = WRONG
aws_secret_access_key = WRONG

[profile coffer]
aws_access_key_id=TESTACCESS
  aws_secret_access_key =   TESTSECRET   
EOF
SAVED_VAULT=$VAULT SAVED_CACHE=$CACHE
VAULT=s3+http://localhost:$RGW_PORT/other-bucket/a/b
CACHE=$T/cache-profile
export HOME=$T/home AWS_PROFILE=coffer
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
remote_init "$VAULT" -o s3_style=virtual
coffer_mount -o s3_style=virtual
cp "$T/src/bin/blob2" "$MNT/" || fail "cp (profile credentials)"
wait_synced
coffer_umount
mount_at "$T/cache-profile2" "$T/mnt-profile2" -o ro -o s3_style=virtual
cmp "$T/src/bin/blob2" "$T/mnt-profile2/blob2" || fail "profile/virtual round trip differs"
umount_at "$T/cache-profile2" "$T/mnt-profile2"
export AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET
unset AWS_PROFILE
VAULT=$SAVED_VAULT CACHE=$SAVED_CACHE
s3curl GET "/other-bucket?list-type=2&prefix=a%2Fb%2Froots%2F" | grep -q '<Key>a/b/roots/' ||
	fail "the virtual-host vault is not under other-bucket/a/b"
ok "~/.aws/credentials [profile coffer] with s3_style=virtual works"

# --- 2. no plaintext on the server ---
export CEPH_CONF=$CEPH_DIR/ceph.conf
rados -p default.rgw.buckets.data export "$T/pool.dump" >/dev/null 2>&1 || fail "rados export failed"
size=$(stat -c %s "$T/pool.dump")
[ "$size" -gt 450000 ] || fail "the pool dump is too small to hold the vault ($size bytes)"
grep -aq "vault/objects/" "$T/pool.dump" || fail "the pool dump does not hold the vault's objects"
if grep -aq "$MARKER" "$T/pool.dump"; then
	fail "the plaintext marker is in the RADOS pool"
fi
ok "no plaintext marker in the $size-byte RADOS pool dump"

# --- 3. refusals ---
init_refused "wrong secret" "access denied" "s3+http://$EP/coffer-test/v2" AWS_SECRET_ACCESS_KEY=wrong
init_refused "unknown bucket" "does not exist" "s3+http://$EP/no-such-bucket/v"
CLOSED=$(free_port)
init_refused "closed port" "cannot reach it" "s3+http://127.0.0.1:$CLOSED/coffer-test/v"
init_refused "malformed URL (no bucket)" "malformed URL" "s3+http://$EP"
init_refused "malformed URL (port)" "malformed URL" "s3://127.0.0.1:99999/coffer-test"
init_refused "malformed URL (password)" "malformed URL" "s3://key:secret@$EP/coffer-test"
init_refused "no credentials" "no S3 credentials" "s3+http://$EP/coffer-test/v3" \
	-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME=$T/nohome
init_refused "TLS to a plain HTTP port" "does not answer as" "s3://$EP/coffer-test/v4"
mount_refused "wrong secret" "access denied" "$VAULT" AWS_SECRET_ACCESS_KEY=wrong
mount_refused "unknown bucket" "does not exist" "s3+http://$EP/no-such-bucket/vault"

# --- 4. radosgw dies in the middle of a large upload ---
rgw_down() { "$SERVERS/stop-ceph-rgw.sh" --rgw-only --kill; }
rgw_up() { "$SERVERS/start-ceph-rgw.sh" --rgw-only >/dev/null; }
fault_midupload rgw_down rgw_up count_objects
