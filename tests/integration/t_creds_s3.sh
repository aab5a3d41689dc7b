#!/usr/bin/env bash
# t_creds_s3: the S3 region where the AWS CLI finds it. Ceph RGW accepts a request signed for any
# region (checked: a Credential scope of eu-west-9 or zz-bogus-1 lists a us-east-1 bucket), so a
# wrong region cannot be seen as a refusal there; the order is checked on the requests' signature
# instead: a recording server on 127.0.0.1 (started here) logs only the region field of each
# request's SigV4 Credential scope (never the key id or signature) and answers NoSuchBucket.
# 1. -o region > AWS_REGION > AWS_DEFAULT_REGION > ~/.aws/config [profile AWS_PROFILE] >
#    [default] > us-east-1; AWS_CONFIG_FILE moves the file; a malformed region there is refused.
# 2. Against Ceph RGW: init, mount, copy, umount, fresh cache, with keys from ~/.aws/credentials
#    and the region from ~/.aws/config.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

export CEPH_DIR=$T/ceph RGW_PORT MON_PORT MON1_PORT
RGW_PORT=$(free_port)
MON_PORT=$(free_port)
MON1_PORT=$(free_port)
REC_PID=
server_cleanup() {
	[ -z "$REC_PID" ] || kill "$REC_PID"
	"$SERVERS/stop-ceph-rgw.sh"
}
export HOME=$T/home
mkdir -p "$HOME/.aws"
unset AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
	AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
printf '[default]\naws_access_key_id = TESTACCESS\naws_secret_access_key = TESTSECRET\n' \
	>"$HOME/.aws/credentials"
printf '[default]\nregion = eu-north-1\n[profile work]\ns3 =\n  region = nested-wrong-1\nregion = ca-central-1\n[profile bad]\nregion = Bad_Region\n' \
	>"$HOME/.aws/config"

# --- 1. the order, seen in the signature ---
REC_PORT=$(free_port)
python3 - "$REC_PORT" "$T/regions.log" <<'PY' &
import re, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port, log = int(sys.argv[1]), sys.argv[2]
class H(BaseHTTPRequestHandler):
    def any(self):
        m = re.search(r"Credential=[^/]*/[0-9]{8}/([^/]*)/s3/", self.headers.get("Authorization", ""))
        with open(log, "a") as f:
            f.write((m.group(1) if m else "-") + "\n")
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = b"<Error><Code>NoSuchBucket</Code></Error>"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = any
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
REC_PID=$!
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$REC_PORT/" && break
	sleep 0.1
done
export AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET # every profile has keys
: >"$T/regions.log"
REC=s3+http://127.0.0.1:$REC_PORT/no-bucket/v
region_used() { # region_used EXPECTED WHAT [VAR=value | -u VAR | -o OPT]...
	local want=$1 what=$2 got
	shift 2
	split_args "$@"
	: >"$T/regions.log"
	env "${ENVARGS[@]}" "$COFFER" init --passfile "$PASSFILE" --kdf-level min "${COPTS[@]}" "$REC" \
		>/dev/null 2>&1 && fail "$what: init on the recording server succeeded"
	got=$(sort -u "$T/regions.log" | tr '\n' ' ')
	assert_eq "$got" "$want " "$what: the region of the signature"
	ok "$what: signed for $want"
}
region_used eu-north-1 "~/.aws/config [default]"
region_used ca-central-1 "AWS_PROFILE=work (a nested s3 region is not it)" AWS_PROFILE=work
region_used us-east-1 "a profile without a region" AWS_PROFILE=nobody
region_used sa-east-1 "AWS_DEFAULT_REGION over the file" AWS_PROFILE=work AWS_DEFAULT_REGION=sa-east-1
region_used me-south-1 "AWS_REGION over AWS_DEFAULT_REGION" AWS_REGION=me-south-1 AWS_DEFAULT_REGION=sa-east-1
region_used ap-east-1 "-o region over AWS_REGION" AWS_REGION=me-south-1 -o region=ap-east-1
mv "$HOME/.aws/config" "$T/aws-config"
region_used us-east-1 "no config file"
region_used eu-north-1 "AWS_CONFIG_FILE" "AWS_CONFIG_FILE=$T/aws-config"
mv "$T/aws-config" "$HOME/.aws/config"
init_refused "malformed region in the config file" "the region from the AWS config file" "$REC" AWS_PROFILE=bad

# --- 2. a real round trip on Ceph RGW ---
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
start_server ceph-rgw "Ceph RGW"
ok "Ceph RGW on port $RGW_PORT"
EP=127.0.0.1:$RGW_PORT
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
curl -sS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
	-H "x-amz-content-sha256: $EMPTY_SHA" "http://$EP/creds-test" >/dev/null || fail "cannot create the bucket"
VAULT=s3+http://$EP/creds-test/vault
make_tree "$T/src" "MARKER-$RANDOM"
roundtrip "$T/src"
ok "Ceph RGW: keys from ~/.aws/credentials, region eu-north-1 from ~/.aws/config"
