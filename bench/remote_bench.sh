#!/usr/bin/env bash
# bench/remote_bench.sh: figures for the remote backends (issue 4), each against its real server
# on 127.0.0.1 (started by tests/servers/, stopped by the trap):
#  (a) seconds to mirror SIZE_MIB (default 1024) MiB of new data (dd conv=fsync into the mount,
#      until the vault holds the local generation), and MiB/s;
#  (b) objects per second uploading NFILES (default 2000) small files (one commit);
#  (c) bytes uploaded after a 4 KiB overwrite in the middle of a 256 MiB file.
# Usage (root): bash bench/remote_bench.sh [s3|webdav|sftp]...   (default: all three)
set -euo pipefail
BACKENDS=("$@")
[ "${#BACKENDS[@]}" -gt 0 ] || BACKENDS=(s3 webdav sftp)
set --
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sync_lib.sh"
. "$(dirname "$0")/../tests/integration/remote_lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
NFILES=${NFILES:-2000}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

STOPS=()
server_cleanup() { local s; for s in "${STOPS[@]}"; do $s; done; }

start_s3() {
	export CEPH_DIR=$T/ceph RGW_PORT MON_PORT MON1_PORT AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET
	RGW_PORT=$(free_port) MON_PORT=$(free_port) MON1_PORT=$(free_port)
	STOPS+=("$SERVERS/stop-ceph-rgw.sh")
	"$SERVERS/start-ceph-rgw.sh" >"$T/ceph.log" 2>&1 || fail "Ceph RGW did not start"
	curl -sS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user TESTACCESS:TESTSECRET \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$RGW_PORT/bench" >/dev/null
	VAULT=s3+http://127.0.0.1:$RGW_PORT/bench/vault
}
start_webdav() {
	export DAV_DIR=$T/apache DAV_PORT HOME=$T/home
	DAV_PORT=$(free_port)
	STOPS+=("$SERVERS/stop-apache-dav.sh")
	"$SERVERS/start-apache-dav.sh" >"$T/apache.log" 2>&1 || fail "Apache did not start"
	mkdir -p "$HOME" && printf 'machine 127.0.0.1 login davuser password davpass\n' >"$HOME/.netrc"
	VAULT=webdav://127.0.0.1:$DAV_PORT/vault
}
start_sftp() {
	export SSHD_DIR=$T/sshd SSHD_PORT HOME=$T/home
	SSHD_PORT=$(free_port)
	STOPS+=("$SERVERS/stop-sshd.sh")
	"$SERVERS/start-sshd.sh" >"$T/sshd.log" 2>&1 || fail "sshd did not start"
	mkdir -p "$HOME/.ssh" "$T/served"
	cp "$SSHD_DIR/client_ed25519" "$HOME/.ssh/id_ed25519"
	cp "$SSHD_DIR/client_ed25519.pub" "$HOME/.ssh/id_ed25519.pub"
	cp "$SSHD_DIR/known_hosts" "$HOME/.ssh/known_hosts"
	VAULT=sftp://root@127.0.0.1:$SSHD_PORT$T/served/vault
}

bench_one() {
	local b=$1 t0 t1 B0 O0
	CACHE=$T/cache-$b MNT=$T/mnt-$b
	"start_$b"
	remote_init
	coffer_mount -o commit=3600
	t0=$(now)
	dd if=/dev/urandom of="$MNT/big" bs=1M count="$SIZE_MIB" conv=fsync status=none
	wait_synced "$MNT" 1200
	t1=$(now)
	echo "$b: (a) mirror $SIZE_MIB MiB: $(secs "$t0" "$t1") s, $(awk -v s="$(secs "$t0" "$t1")" -v m="$SIZE_MIB" 'BEGIN { printf "%.1f", m / s }') MiB/s"
	rm "$MNT/big"
	mkdir "$MNT/small"
	O0=$(sfield objects_uploaded)
	for i in $(seq 1 "$NFILES"); do echo "small $i" >"$MNT/small/f$i"; done
	t0=$(now)
	wait_synced "$MNT" 600
	t1=$(now)
	echo "$b: (b) $NFILES small files: $(($(sfield objects_uploaded) - O0)) objects in $(secs "$t0" "$t1") s, $(awk -v s="$(secs "$t0" "$t1")" -v n="$(($(sfield objects_uploaded) - O0))" 'BEGIN { printf "%.0f", n / s }') objects/s"
	dd if=/dev/urandom of="$MNT/big256" bs=1M count=256 conv=fsync status=none
	wait_synced "$MNT" 600
	B0=$(sfield bytes_uploaded)
	head -c 4096 /dev/urandom | dd of="$MNT/big256" bs=4096 seek=$((128 * 256 + 3)) conv=notrunc,fsync status=none
	wait_synced "$MNT" 120
	echo "$b: (c) bytes uploaded after a 4 KiB change in a 256 MiB file: $(($(sfield bytes_uploaded) - B0))"
	coffer_umount
}

for b in "${BACKENDS[@]}"; do bench_one "$b"; done
