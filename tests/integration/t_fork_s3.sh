#!/usr/bin/env bash
# t_fork_s3: the lost update (merged) and the operator fork (refused on both devices) of issue
# 10 in a real S3 store (Ceph RGW on 127.0.0.1); see fork_remote_lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"
. "$(dirname "$0")/fork_remote_lib.sh"

start_rgw
EP=127.0.0.1:$RGW_PORT
s3curl() { # s3curl METHOD PATH [curl args]: a signed request with curl's own SigV4
	local m=$1 p=$2 sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
	shift 2
	[ "$m" = PUT ] && [ -n "${S3_BODY:-}" ] && sha=$(sha256sum <"$S3_BODY" | cut -d' ' -f1)
	curl -sS -f -X "$m" --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
		-H "x-amz-content-sha256: $sha" "$@" "http://$EP$p"
}
s3curl PUT /coffer-test >/dev/null || fail "cannot create the bucket"
VAULT=s3+http://$EP/coffer-test/vault
DOWN=s3+http://127.0.0.1:$(free_port)/coffer-test/vault
root_get() { s3curl GET /coffer-test/vault/root -o "$1" || fail "cannot read the vault's root"; }
root_put() { S3_BODY=$1 s3curl PUT /coffer-test/vault/root --data-binary "@$1" >/dev/null || fail "cannot replace the vault's root"; }
history_count() { s3curl GET "/coffer-test?list-type=2&prefix=vault%2Fhistory%2F" | grep -o '<Key>' | wc -l; }
fork_remote_main
