#!/usr/bin/env bash
# bench/remote_bench.sh: Coffer's mirror against `rclone copy` of the same bytes to the same
# server on 127.0.0.1 (Ceph RGW, Apache WebDAV, OpenSSH SFTP, started by tests/servers/ and
# stopped by the trap), in one run:
#  (a) BENCH_REPS (default 3) alternating runs (odd runs Coffer first, even runs rclone first)
#      of: Coffer mirroring SIZE_MIB (default 1024) MiB of new data into a fresh vault (the file
#      is written with dd conv=fsync into a mount with commit=3600 first; the time is
#      `coffer umount` until the daemon exits: the final commit, every object uploaded, the root
#      published) and `rclone copy` of the same file (held in the page cache) to a fresh prefix;
#      prints each run, Coffer's and rclone's median MiB/s with the spread (min-max), and the
#      median and spread of the per-run ratio Coffer/rclone. Each run's data is purged after it
#      (S3: each measurement gets a fresh Ceph cluster, whose memstore OSD holds 2 GiB).
#  (b) objects per second uploading NFILES (default 2000) small files (one commit), once;
#  (c) bytes uploaded after a 4 KiB overwrite in the middle of a 256 MiB file, once.
# Usage (root): bash bench/remote_bench.sh [s3|webdav|sftp]...   (default: all three)
# Env: BENCH_REPS, SIZE_MIB, NFILES, BENCH_EXTRA=0 (skips b and c). Installs rclone through
# bench/deps.sh when it is missing.
# Must never touch a server it did not start, keep a credential outside its temp dir, or
# leave a mount, server or temp dir behind (lib.sh's and remote_lib.sh's EXIT traps).
set -euo pipefail
BACKENDS=("$@")
[ "${#BACKENDS[@]}" -gt 0 ] || BACKENDS=(s3 webdav sftp)
set --
BENCH=$(cd "$(dirname "$0")" && pwd)
command -v rclone >/dev/null || bash "$BENCH/deps.sh"
. "$BENCH/../tests/integration/lib.sh"
. "$BENCH/../tests/integration/sync_lib.sh"
. "$BENCH/../tests/integration/remote_lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
NFILES=${NFILES:-2000}
REPS=${BENCH_REPS:-3}
for v in SIZE_MIB NFILES REPS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || fail "$v must be a positive integer (got '${!v}')"
done
MOPTS=(-o commit=3600)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mibps() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN { printf "%.1f", m / s }'; }
# stats: "median (min-max)" of the numbers on stdin
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}

STOPS=()
server_cleanup() { local s; for s in "${STOPS[@]}"; do $s; done; }
export HOME=$T/home RCLONE_CONFIG=$T/rclone.conf # rclone reads its remotes from the environment
mkdir -p "$HOME"
: >"$RCLONE_CONFIG"
# rclone's S3 client refuses AWS_CA_BUNDLE on plain HTTP (the machine may set it for everything)
rcl() { env -u AWS_CA_BUNDLE rclone "$@"; }

# S3: a fresh Ceph cluster for every measurement: its memstore OSD holds 2 GiB, and RGW frees
# the space of deleted objects only lazily (it filled up after two runs of 1 GiB).
start_s3() {
	[ -z "${RGW_PORT:-}" ] || "$SERVERS/stop-ceph-rgw.sh" >/dev/null 2>&1 || true
	start_rgw
	server_cleanup() { local s; for s in "${STOPS[@]}"; do $s; done; }
	[[ " ${STOPS[*]} " == *stop-ceph-rgw* ]] || STOPS+=("$SERVERS/stop-ceph-rgw.sh")
	curl -sS -f -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$RGW_PORT/bench" >/dev/null || fail "cannot create the bucket"
	BASE=s3+http://127.0.0.1:$RGW_PORT/bench
	export RCLONE_CONFIG_R_TYPE=s3 RCLONE_CONFIG_R_PROVIDER=Ceph RCLONE_CONFIG_R_ENDPOINT=http://127.0.0.1:$RGW_PORT \
		RCLONE_CONFIG_R_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_R_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
	RBASE=r:bench
}
start_webdav() {
	export DAV_DIR=$T/apache DAV_PORT DAV_TLS_PORT
	DAV_PORT=$(free_port) DAV_TLS_PORT=$(free_port)
	STOPS+=("$SERVERS/stop-apache-dav.sh")
	start_server apache-dav "Apache"
	[[ $COFFER == */bin/coffer ]] || with_insecure_http_auth # basic auth over plain HTTP
	printf 'machine 127.0.0.1 login davuser password davpass\n' >"$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	mkdir -p "$DAV_DIR/dav/b" && chown www-data:www-data "$DAV_DIR/dav/b"
	BASE=webdav://127.0.0.1:$DAV_PORT/b
	export RCLONE_CONFIG_R_TYPE=webdav RCLONE_CONFIG_R_URL=http://127.0.0.1:$DAV_PORT RCLONE_CONFIG_R_VENDOR=other \
		RCLONE_CONFIG_R_USER=davuser RCLONE_CONFIG_R_PASS
	RCLONE_CONFIG_R_PASS=$(rcl obscure davpass)
	RBASE=r:b
}
start_sftp() {
	export SSHD_DIR=$T/sshd SSHD_PORT
	SSHD_PORT=$(free_port)
	STOPS+=("$SERVERS/stop-sshd.sh")
	start_server sshd "sshd"
	mkdir -p "$HOME/.ssh" "$T/served"
	cp "$SSHD_DIR/client_ed25519" "$HOME/.ssh/id_ed25519"
	cp "$SSHD_DIR/client_ed25519.pub" "$HOME/.ssh/id_ed25519.pub"
	cp "$SSHD_DIR/known_hosts" "$HOME/.ssh/known_hosts"
	BASE=sftp://root@127.0.0.1:$SSHD_PORT$T/served
	export RCLONE_CONFIG_R_TYPE=sftp RCLONE_CONFIG_R_HOST=127.0.0.1 RCLONE_CONFIG_R_PORT=$SSHD_PORT \
		RCLONE_CONFIG_R_USER=root RCLONE_CONFIG_R_KEY_FILE=$HOME/.ssh/id_ed25519 \
		RCLONE_CONFIG_R_KNOWN_HOSTS_FILE=$HOME/.ssh/known_hosts
	RBASE=r:$T/served
}
# purge PATH: deletes what a run stored (S3: the next measurement gets a fresh cluster instead).
purge() {
	[ "$B" = s3 ] && return 0
	rcl purge "$RBASE/$1" >"$T/purge.log" 2>&1 || fail "rclone purge $1 failed: $(tail -n 3 "$T/purge.log")"
}
fresh() { [ "$B" != s3 ] || start_s3; }
stop_server() { # the last one started (each backend runs alone on the machine)
	${STOPS[-1]} >/dev/null 2>&1 || true
	unset 'STOPS[-1]'
	unset "${!RCLONE_CONFIG_R_@}" RGW_PORT
}

# coffer_run B REP: CS = seconds to mirror $SRC through a fresh vault and cache.
coffer_run() {
	local b=$1 rep=$2 t0 t1
	VAULT=$BASE/v$rep CACHE=$T/cache-$b-$rep MNT=$T/mnt-$b LOG=$T/log-$b-$rep
	remote_init
	coffer_mount "${MOPTS[@]}"
	dd if="$SRC" of="$MNT/big" bs=1M conv=fsync status=none || fail "dd into $MNT failed"
	t0=$(now)
	coffer_umount
	t1=$(now)
	! grep -q "before everything reached the vault" "$LOG" || fail "coffer unmounted with uploads left"
	rm -rf "$CACHE"
	purge "v$rep"
	CS=$(secs "$t0" "$t1")
}
# rclone_run REP: RS = seconds of rclone copy of $SRC to a fresh prefix.
rclone_run() {
	local rep=$1 t0 t1
	t0=$(now)
	rcl copy "$SRC" "$RBASE/r$rep" >"$T/rclone.log" 2>&1 || {
		tail -n 5 "$T/rclone.log" >&2
		fail "rclone copy failed"
	}
	t1=$(now)
	[ "$(rcl size --json "$RBASE/r$rep" | jq .bytes)" -eq $((SIZE_MIB << 20)) ] ||
		fail "rclone copied the wrong number of bytes"
	purge "r$rep"
	RS=$(secs "$t0" "$t1")
}

extras() { # (b) and (c) on one more fresh vault
	local b=$1 t0 t1 B0 O0 n
	VAULT=$BASE/extra CACHE=$T/cache-$b-extra MNT=$T/mnt-$b LOG=$T/log-$b-extra
	remote_init
	coffer_mount "${MOPTS[@]}"
	mkdir "$MNT/small"
	O0=$(sfield objects_uploaded)
	for i in $(seq 1 "$NFILES"); do echo "small $i" >"$MNT/small/f$i"; done
	t0=$(now)
	wait_synced "$MNT" 600
	t1=$(now)
	n=$(($(sfield objects_uploaded) - O0))
	echo "$b: (b) $NFILES small files: $n objects in $(secs "$t0" "$t1") s, $(awk -v s="$(secs "$t0" "$t1")" -v n="$n" 'BEGIN { printf "%.0f", n / s }') objects/s"
	dd if=/dev/urandom of="$MNT/big256" bs=1M count=256 conv=fsync status=none
	wait_synced "$MNT" 600
	B0=$(sfield bytes_uploaded)
	head -c 4096 /dev/urandom | dd of="$MNT/big256" bs=4096 seek=$((128 * 256 + 3)) conv=notrunc,fsync status=none
	wait_synced "$MNT" 120
	echo "$b: (c) bytes uploaded after a 4 KiB change in a 256 MiB file: $(($(sfield bytes_uploaded) - B0))"
	coffer_umount
	rm -rf "$CACHE"
}

bench_one() {
	local b=$1 rep cf="" rc="" ratio=""
	B=$b
	"start_$b"
	for rep in $(seq "$REPS"); do
		if [ $((rep % 2)) -eq 1 ]; then
			coffer_run "$b" "$rep"
			fresh
			rclone_run "$rep"
		else
			rclone_run "$rep"
			fresh
			coffer_run "$b" "$rep"
		fi
		[ "$rep" -eq "$REPS" ] || fresh
		cf+="$(mibps "$CS") " rc+="$(mibps "$RS") "
		ratio+="$(awk -v c="$CS" -v r="$RS" 'BEGIN { printf "%.3f", r / c }') "
		echo "$b: run $rep/$REPS: coffer $CS s ($(mibps "$CS") MiB/s), rclone $RS s ($(mibps "$RS") MiB/s)"
	done
	echo "$b: (a) mirror $SIZE_MIB MiB, median (min-max) of $REPS: coffer $(tr ' ' '\n' <<<"$cf" | grep . | stats) MiB/s," \
		"rclone $(tr ' ' '\n' <<<"$rc" | grep . | stats) MiB/s, coffer/rclone $(tr ' ' '\n' <<<"$ratio" | grep . | stats)"
	[ "${BENCH_EXTRA:-1}" = 0 ] || { fresh && extras "$b"; }
	stop_server
}

echo "command: BENCH_REPS=$REPS SIZE_MIB=$SIZE_MIB NFILES=$NFILES bash bench/remote_bench.sh ${BACKENDS[*]}"
echo "machine: nproc=$(nproc), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); coffer $(git -C "$REPO_ROOT" rev-parse --short HEAD); $(rclone version | head -n 1)"
echo "load avg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
SRC=$T/src
head -c $((SIZE_MIB << 20)) /dev/urandom >"$SRC"
for b in "${BACKENDS[@]}"; do
	case $b in s3 | webdav | sftp) bench_one "$b" ;; *) fail "unknown backend $b" ;; esac
done
echo "load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
