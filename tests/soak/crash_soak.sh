#!/usr/bin/env bash
# tests/soak/crash_soak.sh: crash soak of the fsync promise (not part of `make check`).
#
# What it proves: over CYCLES crashes of the daemon at random moments, nothing a program was told
# is durable is ever lost, and the cache stays consistent. Each cycle:
#   1. a writer (soak_worker.py write) appends numbered 100-byte records to records.log on the
#      mount, fsync'ing (1 in 4: fdatasync'ing) after each, and only after that returned 0 writes
#      "R N" to an ack file OUTSIDE the mount; between records it does random metadata operations
#      in scratch/ (create+write, pwrite, truncate up and down, unlink, rename of files, also over
#      another file and across directories, setxattr, removexattr, mkdir, rmdir, rename of
#      directories, read-back against its model). Half of them it makes durable: fsync of the
#      object and of every directory up to the mount's root, then a statement of what the path
#      now is (content sha256 + size + user.* xattrs, a directory, or absent). Before any
#      operation that may change a path it writes an X line for it, so a statement holds exactly
#      until the writer itself changes that path again. At start-up it scans scratch/, makes the
#      whole tree durable and states all of it, so also untouched files must survive later crashes.
#   2. after a random 0.2-3 s (drawn from SEED) the coffer daemon serving THIS mount (found by
#      the path of this script's own copy of the binary and of its cache) gets kill -9; the
#      writer sees ENOTCONN or ECONNABORTED (now and then EIO, from close() flushing into the
#      aborted connection) and stops; any error before the kill fails the run;
#   3. `coffer mount` mounts again over the dead mount (it detaches it by itself; one mount
#      must remain, not two stacked);
#   4. the checker (soak_worker.py check) replays the acks into a cumulative state kept outside
#      the mount and checks: every acknowledged record of every cycle so far is present, in
#      order, with exact bytes (no hole before the last acknowledged; what follows it may only
#      be a correct prefix of the next records); every standing statement holds; every entry of
#      scratch/ can be stat'ed and read (no EIO) and link counts agree.
#   Every FSCK_EVERY cycles (and at the end) `coffer fsck` also runs on the crashed cache before
#   the remount, then the mount is unmounted cleanly, fsck'ed again and mounted and checked again.
# It exits non-zero on the first lost record, broken statement, read error, writer error before
# the kill, fsck problem, stacked mount or hang, printing the seed, the cycle and the evidence.
#
# commit=1: the records' fsyncs commit anyway; a 1 s timer commit also runs concurrently with
# the writer in nearly every cycle (a 5 s one would in few of them), so the kill lands inside
# timer commits, fsync commits and uploads to the vault far more often.
#
# Run (root, /dev/fuse, `make` first; the script copies ./coffer to its temp dir and never builds):
#   bash tests/soak/crash_soak.sh                       # 1000 cycles, random seed
#   CYCLES=20 SEED=12345 bash tests/soak/crash_soak.sh  # replay a seed (the same kill delays and
#                                                       # operations; crash timing still varies)
# Environment: CYCLES (1000), SEED (random; printed), FSCK_EVERY (10), SOAK_DIR (/var/tmp: where
#   the temp dir lives), COFFER (./coffer), KEEP_TMP=1 keeps the temp dir (vault, cache, acks,
#   daemon log) for a post-mortem.
# Output: one line per cycle and a summary (cycles, records acknowledged and checked, statements
#   checked, lost, fsck runs and problems, time per cycle, temp files crashes left in the cache).
# Time: 1000 cycles took 50 min here (2.97 s a cycle: 1.6 s of average kill delay, the writer's
#   start-up scan, the remount, the check; 2 vCPUs shared with other jobs at a load of ~6, under
#   which the writer's rate fell from ~150 to ~40 records/s; ~157,000 records, 16 MB, at the end).
#
# What it must never do: touch anything outside its temp dir, or unmount or kill anything it did
# not start (other coffer daemons of concurrent tests): it kills only the daemon whose command
# line starts with its own copy of the binary and names its own cache, and its own writer; the
# EXIT trap unmounts its mount point, stops those and removes the temp dir on every exit path.
# It waits by polling; the one deliberate sleep is the random kill delay.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKER=$HERE/soak_worker.py
COFFER_SRC=${COFFER:-$REPO/coffer}
CYCLES=${CYCLES:-1000}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
FSCK_EVERY=${FSCK_EVERY:-10}
SOAK_DIR=${SOAK_DIR:-/var/tmp}

die() {
	echo "crash_soak: $*" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
[ -x "$COFFER_SRC" ] || die "$COFFER_SRC is not built (run make first)"
command -v python3 >/dev/null || die "python3 is missing"
command -v fusermount3 >/dev/null || die "fusermount3 is missing (package fuse3)"
[[ "$CYCLES" =~ ^[0-9]+$ && "$CYCLES" -ge 1 ]] || die "CYCLES must be a positive integer"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "SEED must be a non-negative integer"
[[ "$FSCK_EVERY" =~ ^[0-9]+$ && "$FSCK_EVERY" -ge 1 ]] || die "FSCK_EVERY must be a positive integer"

T=$(mktemp -d "$SOAK_DIR/coffer-soak.XXXXXXXX")
BIN=$T/bin/coffer
PASSFILE=$T/pass
VAULT=$T/vault
CACHE=$T/cache
MNT=$T/mnt
DLOG=$T/daemon.log
STATE=$T/state.json
WRITER_PID=
CYCLE=0
FSCK_RUNS=0
FSCK_PROBLEMS=0
FSCK_CRASHED=0
T0=$(date +%s.%N)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# True when something is mounted on $1 (also a dead mount answering ENOTCONN).
is_mounted() { M=$1 awk '$2 == ENVIRON["M"] { f = 1 } END { exit !f }' /proc/mounts; }
mount_count() { M=$1 awk '$2 == ENVIRON["M"] { n++ } END { print n + 0 }' /proc/mounts; }
# The daemon serving our mount: our own copy of the binary, with our cache.
daemon_pids() { pgrep -f -- "^$BIN mount .*--cache $CACHE " || true; }
our_pids() { pgrep -f -- "^$BIN " || true; }

summary() {
	local el per
	el=$(secs "$T0" "$(now)")
	per=$(awk -v e="$el" -v c="$CYCLE" 'BEGIN { printf "%.2f", c ? e / c : 0 }')
	if [ -s "$STATE" ]; then
		eval "$(python3 "$WORKER" totals "$STATE")"
	else
		T_last_rec=-1 T_records_checked=0 T_stmts_checked=0 T_op_acks=0 T_scan_acks=0
		T_entries_walked=0 T_checks=0 T_lost=0 T_stops=
	fi
	cat <<EOF
crash_soak summary (SEED=$SEED):
  cycles run:                 $CYCLE of $CYCLES (kill -9 of the daemon in each)
  records acknowledged:       $((T_last_rec + 1)) (numbers 0..$T_last_rec, all still checked at the end)
  record checks:              $T_records_checked (acknowledged records verified, summed over $T_checks checks)
  metadata acks made:         $T_op_acks by operations, $T_scan_acks by start-up scans
  statement checks:           $T_stmts_checked; scratch entries walked and read: $T_entries_walked
  lost:                       $T_lost
  fsck runs:                  $FSCK_RUNS ($FSCK_CRASHED on the crashed cache, the rest after a clean unmount), problems: $FSCK_PROBLEMS
  writer stopped by:          ${T_stops:-nothing}
  time:                       ${el}s, ${per}s per cycle
  temp files left in cache:   $(find "$CACHE" -maxdepth 1 -name '.*.tmp' 2>/dev/null | wc -l) (.NAME.XXXXXXXX.tmp beside root: a crash between creating and renaming one)
EOF
}

cleanup() {
	local rc=$? pid i
	set +e
	trap - EXIT INT TERM
	if [ -n "$WRITER_PID" ] && kill -0 "$WRITER_PID" 2>/dev/null; then
		kill -9 "$WRITER_PID" 2>/dev/null
		wait "$WRITER_PID" 2>/dev/null
	fi
	for i in 1 2 3 4 5 6 7 8; do # a dead mount may be stacked under a live one
		is_mounted "$MNT" || break
		fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	done
	for pid in $(our_pids); do kill "$pid" 2>/dev/null; done
	for i in $(seq 50); do
		[ -z "$(our_pids)" ] && break
		sleep 0.1
	done
	for pid in $(our_pids); do kill -9 "$pid" 2>/dev/null; done
	[ "$CYCLE" -gt 0 ] && summary
	if [ "$rc" -ne 0 ]; then
		echo "crash_soak: FAILED in cycle $CYCLE (SEED=$SEED; replay: CYCLES=$CYCLES SEED=$SEED bash $0)" >&2
	else
		echo "crash_soak: PASS"
	fi
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "crash_soak: keeping $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "FAIL - cycle $CYCLE: $*" >&2
	if [ -s "$DLOG" ]; then
		echo "--- last lines of the daemon log:" >&2
		tail -n 15 "$DLOG" >&2
	fi
	if [ -s "$T/acks.$CYCLE" ]; then
		echo "--- last lines of the ack file of cycle $CYCLE:" >&2
		tail -n 8 "$T/acks.$CYCLE" >&2
	fi
	exit 1
}

wait_daemon_exit() { # the killed daemon is gone and has released the cache lock
	local i
	for i in $(seq 300); do
		if [ -z "$(daemon_pids)" ] && flock -n "$CACHE/lock" true 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "the coffer daemon for $CACHE did not exit within 30 s"
}

mount_it() {
	mkdir -p "$MNT"
	"$BIN" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$DLOG,commit=1" \
		"$VAULT" "$MNT" 2>>"$T/mount.err" || fail "coffer mount failed: $(tail -n 3 "$T/mount.err")"
	is_mounted "$MNT" || fail "coffer mount returned but $MNT is not in /proc/mounts"
	[ "$(mount_count "$MNT")" -eq 1 ] ||
		fail "$(mount_count "$MNT") mounts stacked on $MNT after mounting over the dead one"
	stat "$MNT" >/dev/null || fail "the new mount on $MNT is not usable"
	DPID=$(daemon_pids)
	[ "$(echo "$DPID" | wc -w)" -eq 1 ] || fail "expected one coffer daemon for $CACHE, found '$DPID'"
}

clean_umount() {
	"$BIN" umount "$MNT" >>"$T/mount.err" 2>&1 || fail "coffer umount failed: $(tail -n 3 "$T/mount.err")"
	! is_mounted "$MNT" || fail "coffer umount returned but $MNT is still mounted"
	wait_daemon_exit
}

run_fsck() { # run_fsck WHAT
	local out
	FSCK_RUNS=$((FSCK_RUNS + 1))
	if ! out=$("$BIN" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" 2>&1); then
		FSCK_PROBLEMS=$((FSCK_PROBLEMS + 1))
		printf '%s\n' "$out" | tail -n 20 >&2
		fail "coffer fsck of the $1 cache reported problems"
	fi
	echo "  fsck ($1): ${out##*$'\n'}"
}

check() { # check ACKS KILL_TS LABEL: sets CHECK_OUT (never call it inside $(...): fail must exit)
	if ! python3 "$WORKER" check "$MNT" "$STATE" "$1" "$2" "$CYCLE" >"$T/check.out" 2>&1; then
		cat "$T/check.out" >&2
		fail "the check $3 found problems"
	fi
	CHECK_OUT=$(cat "$T/check.out")
}

mkdir -p "$T/bin"
cp "$COFFER_SRC" "$BIN"
export XDG_CACHE_HOME=$T/xdg # never ~/.cache (the cache is always given anyway)
printf 'soak passphrase %s\n' "$SEED" >"$PASSFILE"
chmod 600 "$PASSFILE"
echo "crash_soak: SEED=$SEED CYCLES=$CYCLES FSCK_EVERY=$FSCK_EVERY dir=$T binary=$COFFER_SRC ($(sha256sum "$BIN" | cut -c1-12))"
"$BIN" init --passfile "$PASSFILE" --kdf-level min "$VAULT" >/dev/null 2>"$T/init.err" ||
	fail "coffer init failed: $(cat "$T/init.err")"
mount_it

for CYCLE in $(seq 1 "$CYCLES"); do
	acks=$T/acks.$CYCLE
	: >"$acks"
	t_start=$(now)
	python3 "$WORKER" write "$MNT" "$acks" "$SEED" "$CYCLE" >"$T/writer.out" 2>&1 &
	WRITER_PID=$!
	# Poll until the writer has done its start-up scan and says when to kill.
	delay=
	for _ in $(seq 3000); do
		delay=$(awk '$1 == "B" { print $3; exit }' "$acks")
		[ -n "$delay" ] && break
		if ! kill -0 "$WRITER_PID" 2>/dev/null; then
			cat "$T/writer.out" >&2
			fail "the writer stopped before its main loop: $(grep '^E ' "$acks" || true)"
		fi
		sleep 0.01
	done
	[ -n "$delay" ] || fail "the writer did not start its main loop within 30 s"
	sleep "$delay" # the one deliberate sleep: a random moment to crash
	kill -0 "$DPID" 2>/dev/null || fail "the daemon $DPID died before the kill"
	[ "$(daemon_pids)" = "$DPID" ] || fail "the daemon for $CACHE is no longer $DPID"
	kill_ts=$(now)
	kill -9 "$DPID"
	for _ in $(seq 200); do
		kill -0 "$WRITER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$WRITER_PID" 2>/dev/null; then
		fail "the writer still runs 10 s after the daemon was killed (hung on the dead mount?): $(cat /proc/"$WRITER_PID"/stack 2>/dev/null | head -5)"
	fi
	wrc=0
	wait "$WRITER_PID" || wrc=$?
	WRITER_PID=
	[ "$wrc" -eq 0 ] || fail "the writer failed (exit $wrc): $(grep '^E ' "$acks" || cat "$T/writer.out")"
	grep -q '^E ' "$acks" || fail "the writer exited without an error line: $(cat "$T/writer.out")"
	wait_daemon_exit
	nrec=$(grep -c '^R ' "$acks" || true)
	nst=$(grep -c '^[FDG] .* o$' "$acks" || true)
	stop=$(awk '$1 == "E" { print $4 " in " $5 }' "$acks")
	is_mounted "$MNT" || fail "no dead mount left on $MNT after the kill"
	if [ $((CYCLE % FSCK_EVERY)) -eq 0 ] || [ "$CYCLE" -eq "$CYCLES" ]; then
		FSCK_CRASHED=$((FSCK_CRASHED + 1))
		run_fsck crashed
	fi
	mount_it
	echo "cycle $CYCLE/$CYCLES: kill after ${delay}s; writer acked $nrec records and $nst statements, stopped by $stop"
	check "$acks" "$kill_ts" "after the crash"
	echo "  check: $CHECK_OUT ($(secs "$t_start" "$(now)")s)"
	rm -f "$acks" # replayed into $STATE
	if [ $((CYCLE % FSCK_EVERY)) -eq 0 ] || [ "$CYCLE" -eq "$CYCLES" ]; then
		clean_umount
		run_fsck "cleanly unmounted"
		mount_it
		check - 0 "after a clean remount"
		echo "  clean remount: $CHECK_OUT"
	fi
done
clean_umount
[ "$(python3 "$WORKER" totals "$STATE" | awk -F= '$1 == "T_lost" { print $2 }')" -eq 0 ] ||
	fail "records were lost"
exit 0
