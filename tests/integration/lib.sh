#!/usr/bin/env bash
# lib.sh: helpers sourced by every tests/integration/t_*.sh script.
# Gives each test its own temp dir ($T) holding a passphrase file, a vault, a cache and a
# mount point, functions to init/mount/umount/remount a coffer vault there, assertions that
# exit non-zero on failure, and an EXIT trap that always unmounts whatever the test mounted,
# kills any coffer daemon it started and removes the temp dir -- also when the test fails.
set -euo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TESTS_DIR/../.." && pwd)
COFFER=${COFFER:-$REPO_ROOT/coffer}
TEST_NAME=$(basename "$0" .sh)

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL $TEST_NAME: integration tests must run as root" >&2
	exit 1
fi
if [ ! -c /dev/fuse ]; then
	echo "FAIL $TEST_NAME: /dev/fuse is missing" >&2
	exit 1
fi
if [ ! -x "$COFFER" ]; then
	echo "FAIL $TEST_NAME: $COFFER is not built (run make)" >&2
	exit 1
fi

T=$(mktemp -d "${COFFER_IT_PREFIX:-/tmp/coffer-it}.XXXXXXXX")
chmod 755 "$T" # the non-root permission checks need to traverse into the mount point
PASSFILE=$T/pass
VAULT=$T/vault
CACHE=$T/cache
MNT=$T/mnt
LOG=$T/log
PASSPHRASE="correct horse battery staple $RANDOM"
printf '%s\n' "$PASSPHRASE" >"$PASSFILE"
chmod 600 "$PASSFILE"
mkdir -p "$MNT"
# The sync keeps a copy of its state outside each cache, in $XDG_STATE_HOME: the test's own.
export XDG_STATE_HOME=$T/state

# Mount points this test mounted (unmounted by the EXIT trap).
_COFFER_MOUNTS=()

log() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() {
	printf 'FAIL - %s\n' "$*" >&2
	if [ -s "$LOG" ]; then
		printf -- '--- last lines of the daemon log %s:\n' "$LOG" >&2
		tail -n 20 "$LOG" >&2 || true
	fi
	exit 1
}

assert_eq() { # assert_eq ACTUAL EXPECTED MESSAGE
	if [ "$1" != "$2" ]; then
		fail "$3: expected '$2', got '$1'"
	fi
}
assert_ne() { # assert_ne ACTUAL UNEXPECTED MESSAGE
	if [ "$1" = "$2" ]; then
		fail "$3: got '$1', which must not be"
	fi
}
assert_contains() { # assert_contains HAYSTACK NEEDLE MESSAGE
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: '$2' not found in: $1" ;;
	esac
}
assert_le() { # assert_le A B MESSAGE (integers)
	if [ "$1" -gt "$2" ]; then
		fail "$3: $1 > $2"
	fi
}
disk_kib() { # disk_kib DIR: KiB used under DIR. A mounted daemon may evict cache objects while du
	# walks the folder; du then warns and exits 1 but still prints the total of what it saw.
	local out
	out=$(du -sk "$1" 2>/dev/null) || true
	[ -n "$out" ] || fail "du -sk $1 printed nothing"
	echo "${out%%[[:space:]]*}"
}
kib_settled() { # kib_settled DIR LIMIT: disk_kib DIR once it is <= LIMIT, or after 25 s its last value
	local kib
	for _ in $(seq 50); do
		kib=$(disk_kib "$1")
		[ "$kib" -le "$2" ] && break
		sleep 0.5
	done
	echo "$kib"
}
assert_fails() { # assert_fails COMMAND...: the command must exit non-zero
	if "$@"; then
		fail "expected failure but succeeded: $*"
	fi
}

# True when something is mounted on $1 (also a dead mount answering ENOTCONN).
# (/proc/mounts writes a space as \040; awk -v would turn \\040 back into a space, so use ENVIRON)
is_mounted() {
	M=${1// /\\040} awk '$2 == ENVIRON["M"] { found = 1 } END { exit !found }' /proc/mounts
}

# How many mounts are stacked on $1.
mount_count() {
	M=${1// /\\040} awk '$2 == ENVIRON["M"] { n++ } END { print n + 0 }' /proc/mounts
}

# PIDs of coffer daemons serving this test's cache ($1, default $CACHE).
daemon_pids() {
	pgrep -f -- "coffer mount .*--cache ${1:-$CACHE} " || true
}

# Waits until the daemon using cache $1 (default $CACHE) has released the cache lock,
# i.e. it made its final commit and exited. Fails after $2 seconds (default 120).
wait_daemon_exit() {
	local cache=${1:-$CACHE} limit=${2:-120} i=0
	while ! flock -n "$cache/lock" true 2>/dev/null || [ -n "$(daemon_pids "$cache")" ]; do
		i=$((i + 1))
		if [ "$i" -gt $((limit * 10)) ]; then
			fail "the coffer daemon for $cache did not exit within ${limit}s"
		fi
		sleep 0.1
	done
}

# coffer_init [extra args]: creates $VAULT with a fast KDF.
coffer_init() {
	"$COFFER" init --passfile "$PASSFILE" --kdf-level min "$@" "$VAULT" >/dev/null ||
		fail "coffer init $VAULT failed"
}

# coffer_mount [extra args]: mounts $VAULT on $MNT with cache $CACHE and log $LOG.
coffer_mount() {
	mkdir -p "$MNT"
	_COFFER_MOUNTS+=("$MNT")
	"$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG" "$@" \
		"$VAULT" "$MNT" || fail "coffer mount $VAULT $MNT failed"
	is_mounted "$MNT" || fail "coffer mount returned but $MNT is not in /proc/mounts"
	stat "$MNT" >/dev/null || fail "the mount $MNT is not usable"
}

# coffer_umount: commits and unmounts $MNT, then checks that the daemon is gone.
coffer_umount() {
	"$COFFER" umount "$MNT" || fail "coffer umount $MNT failed"
	if is_mounted "$MNT"; then
		fail "coffer umount returned 0 but $MNT is still mounted"
	fi
	if ! flock -n "$CACHE/lock" true; then
		fail "coffer umount returned before the daemon released $CACHE/lock"
	fi
	wait_daemon_exit
}

remount() { # remount [extra mount args]
	coffer_umount
	coffer_mount "$@"
}

coffer_fsck() { # coffer_fsck: runs coffer fsck on the (unmounted) cache, fails the test if not clean
	local out
	if ! out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" 2>&1); then
		fail "coffer fsck reported problems: $out"
	fi
	printf '%s\n' "$out"
}

# flip_byte FILE OFFSET: flips the lowest bit of one byte in place, failing the test if it did not.
flip_byte() { # flip_byte FILE OFFSET
	local byte
	byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
	[ "$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')" -ne "$byte" ] || fail "the byte flip in $1 did not happen"
}

# sha256 of every file under $1, sorted by path (a fingerprint of a cache folder).
tree_sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

_cleanup() {
	local rc=$? m pid
	set +e
	trap - EXIT INT TERM
	for m in "${_COFFER_MOUNTS[@]}"; do
		if is_mounted "$m"; then
			fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	# Any daemon still serving a cache under $T is ours: ask it to stop, then make sure.
	for pid in $(pgrep -f -- "coffer mount .*$T/" || true); do
		kill "$pid" 2>/dev/null
	done
	for _ in $(seq 50); do
		[ -z "$(pgrep -f -- "coffer mount .*$T/" || true)" ] && break
		sleep 0.1
	done
	for pid in $(pgrep -f -- "coffer mount .*$T/" || true); do
		kill -9 "$pid" 2>/dev/null
	done
	for m in "${_COFFER_MOUNTS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8; do # mounts may be stacked (a dead one underneath)
			is_mounted "$m" || break
			fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	done
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "$TEST_NAME: keeping $T" >&2
	else
		rm -rf "$T"
	fi
	if [ "$rc" -eq 0 ]; then
		echo "$TEST_NAME: PASS"
	else
		echo "$TEST_NAME: FAIL (exit $rc)" >&2
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
