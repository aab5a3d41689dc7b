#!/usr/bin/env bash
# bench/verify_bench.sh: how long `coffer verify` takes per GiB on the loopback S3 server (Ceph
# RGW on 127.0.0.1, started by tests/servers/ and stopped by the trap, as remote_bench.sh does):
# SIZE_MIB (default 1024) MiB of random data in 1 MiB files are mirrored to an s3+http:// vault,
# then `coffer verify` runs RUNS (default 3) times; prints each run's seconds and the median's
# seconds per GiB and MiB/s. The first run follows the upload, with the server's caches warm
# as they would be after any recent write.
# Usage (root): bash bench/verify_bench.sh
set -euo pipefail
set --
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sync_lib.sh"
. "$(dirname "$0")/../tests/integration/remote_lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}

export CEPH_DIR=$T/ceph RGW_PORT MON_PORT MON1_PORT AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET
RGW_PORT=$(free_port) MON_PORT=$(free_port) MON1_PORT=$(free_port)
server_cleanup() { "$SERVERS/stop-ceph-rgw.sh"; }
start_server ceph-rgw "Ceph RGW"
curl -sS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user TESTACCESS:TESTSECRET \
	-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"http://127.0.0.1:$RGW_PORT/bench" >/dev/null
VAULT=s3+http://127.0.0.1:$RGW_PORT/bench/vault
remote_init
coffer_mount -o commit=3600
head -c $((64 << 20)) /dev/urandom >"$T/r"
for i in $(seq 1 $((SIZE_MIB / 64))); do
	mkdir -p "$MNT/d$i"
	for j in $(seq 0 63); do dd if="$T/r" of="$MNT/d$i/f$j" bs=1M skip="$j" count=1 status=none; done
done
coffer_umount
log "$SIZE_MIB MiB mirrored to $VAULT"

runs=()
for r in $(seq 1 "$RUNS"); do
	t0=$(date +%s.%N)
	out=$("$COFFER" verify --passfile "$PASSFILE" "$VAULT") || fail "verify failed: $out"
	t1=$(date +%s.%N)
	s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	runs+=("$s")
	log "run $r: $s s: $out"
done
med=$(printf '%s\n' "${runs[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
awk -v s="$med" -v m="$SIZE_MIB" 'BEGIN { printf "verify on loopback S3: %.2f s per GiB (%.1f MiB/s), median of the runs\n", s * 1024 / m, m / s }'
