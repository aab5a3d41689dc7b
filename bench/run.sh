#!/usr/bin/env bash
# bench/run.sh: local throughput/latency comparison of Coffer against two other FUSE filesystems,
# all on the same disk in one run:
#   passthrough_ll  libfuse's low-level passthrough example (the reference: FUSE cost, no crypto),
#                   built from /usr/share/doc/libfuse3-dev/examples into build/bench/
#   gocryptfs       encrypted overlay (Debian package; installed with apt-get when missing)
#   coffer          ./coffer, vault folder + cache both in the bench temp dir
# Each filesystem gets a fresh instance and the same workloads:
#   seq write  BENCH_SIZE_MB MiB with dd bs=1M conv=fsync from a random file held in a private tmpfs
#   umount     after the seq write (for coffer: commit + wait for the mirror to the vault folder)
#   seq read   the same file after unmount + remount + drop_caches, dd bs=1M to /dev/null
#   untar      tar x of a tar of /usr/include (held in the tmpfs) followed by `sync -f` on the mount
#   umount     after the untar (coffer: commit + mirror)
#   stat walk  find -type f | xargs stat over the untarred tree after remount + drop_caches
#   rm -rf     of the tree, followed by `sync -f`
#   fio 4 KiB random write (BENCH_FIO_MB MiB file laid out beforehand, each block once, psync,
#              direct=0, end_fsync=1 included in fio's IOPS) after remount + drop_caches, and
#              fio 4 KiB random read of the same file after remount + drop_caches
# and a table of the figures with ratios to passthrough_ll is printed at the end (median of
# BENCH_REPS runs when BENCH_REPS > 1).
#
# Usage (root, needs /dev/fuse and /proc/sys/vm/drop_caches):
#   bash bench/run.sh
# Environment: BENCH_DIR (default /var/tmp; the temp dir and every backing store live there),
#   BENCH_SIZE_MB (default 512), BENCH_REPS (default 1), BENCH_FIO_MB (default 256),
#   BENCH_FIO_RUNTIME (seconds, cap per fio run, default 60), COFFER (default ./coffer),
#   BENCH_FS (default "passthrough_ll gocryptfs coffer"; a subset, in the order to run them,
#   e.g. for a quick look at one; ratios need passthrough_ll).
#
# What it must never do: edit or rebuild the project's sources (it uses the ./coffer that is
# there, copied at start so a concurrent rebuild cannot change it mid-run; run `make` first),
# touch anything outside its own temp dir and build/bench/ (it drops the kernel's page cache,
# which is global), unmount or kill anything it did not start (other mounts, other coffer
# daemons of concurrent tests), or leave a mount, daemon or temp dir behind: the EXIT trap
# unmounts every mount under its temp dir, stops only the daemons it started (by pid) and
# removes the temp dir, also when a step fails or it is interrupted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp}
SIZE_MB=${BENCH_SIZE_MB:-512}
REPS=${BENCH_REPS:-1}
FIO_MB=${BENCH_FIO_MB:-256}
FIO_RT=${BENCH_FIO_RUNTIME:-60}
COFFER_SRC=${COFFER:-$REPO/coffer}
EXAMPLES=/usr/share/doc/libfuse3-dev/examples
OUT=$REPO/build/bench
declare -A FSNAME=([pt]=passthrough_ll [gc]=gocryptfs [cf]=coffer)
FSES=()
for f in ${BENCH_FS:-passthrough_ll gocryptfs coffer}; do
	case $f in
	passthrough_ll | pt) FSES+=(pt) ;;
	gocryptfs | gc) FSES+=(gc) ;;
	coffer | cf) FSES+=(cf) ;;
	*) printf 'bench/run.sh: FAIL: BENCH_FS: unknown filesystem %s\n' "$f" >&2 && exit 1 ;;
	esac
done
[ "${#FSES[@]}" -gt 0 ] || { echo "bench/run.sh: FAIL: BENCH_FS is empty" >&2 && exit 1; }

die() {
	printf 'bench/run.sh: FAIL: %s\n' "$*" >&2
	exit 1
}
note() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

for v in SIZE_MB REPS FIO_MB FIO_RT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[ "$(id -u)" -eq 0 ] || die "run as root (mounts FUSE filesystems and writes /proc/sys/vm/drop_caches)"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
[ -w /proc/sys/vm/drop_caches ] || die "/proc/sys/vm/drop_caches is not writable"
[ -x "$COFFER_SRC" ] || die "$COFFER_SRC is not built (run make first; this script never builds coffer)"
command -v fusermount3 >/dev/null || die "fusermount3 is missing (package fuse3)"
[ -d "$BENCH_DIR" ] || die "BENCH_DIR $BENCH_DIR is not a directory"

# ---- the temp dir and the cleanup trap (set before anything is mounted or started) ----
T=$(mktemp -d "$BENCH_DIR/coffer-bench.XXXXXXXX")
CUR_PID= # the foreground daemon we started and that still runs (passthrough_ll, gocryptfs)

mounts_under() { # mount points under $1, deepest first (\040 etc. stay escaped: our paths have none)
	awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r
}
is_mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
coffer_pids() { pgrep -f -- "^$T/bin/coffer mount " || true; } # only daemons of our own copy

cleanup() {
	local rc=$? m pid i
	set +e
	trap - EXIT INT TERM
	for m in $(mounts_under "$T"); do
		[ "$m" = "$T/src" ] && continue
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	for pid in $CUR_PID $(coffer_pids); do
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			[ "$i" -eq 10 ] && kill "$pid" 2>/dev/null
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done
	for m in $(mounts_under "$T"); do # anything left (stacked or the tmpfs)
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if [ -n "$(mounts_under "$T")" ]; then
		echo "bench/run.sh: WARNING: still mounted under $T, not removing it:" >&2
		mounts_under "$T" >&2
	else
		rm -rf "$T"
	fi
	[ "$rc" -eq 0 ] || echo "bench/run.sh: failed (exit $rc); temp dir $T cleaned up" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_logs() { # die with the last lines of a daemon log
	local f=$1
	shift
	[ -s "$f" ] && {
		echo "--- last lines of $f:" >&2
		tail -n 20 "$f" >&2
	}
	die "$*"
}

# ---- tools ----
mkdir -p "$OUT" "$T/bin" "$T/logs"
PT_BIN=$OUT/passthrough_ll
if [ -f "$EXAMPLES/passthrough_ll.c" ]; then
	cp "$EXAMPLES/passthrough_ll.c" "$OUT/"
elif [ -f "$EXAMPLES/passthrough_ll.c.gz" ]; then
	gzip -dc "$EXAMPLES/passthrough_ll.c.gz" >"$OUT/passthrough_ll.c"
else
	die "libfuse's passthrough_ll example source is not shipped here ($EXAMPLES/passthrough_ll.c[.gz] missing; install libfuse3-dev) -- no reference, no benchmark"
fi
if [ -f "$EXAMPLES/passthrough_helpers.h" ]; then
	cp "$EXAMPLES/passthrough_helpers.h" "$OUT/"
elif [ -f "$EXAMPLES/passthrough_helpers.h.gz" ]; then
	gzip -dc "$EXAMPLES/passthrough_helpers.h.gz" >"$OUT/passthrough_helpers.h"
fi
# shellcheck disable=SC2046
gcc -Wall -O2 "$OUT/passthrough_ll.c" $(pkg-config fuse3 --cflags --libs) -o "$PT_BIN" ||
	die "building passthrough_ll failed (gcc + pkg-config fuse3)"

if ! command -v gocryptfs >/dev/null; then
	note "gocryptfs missing: apt-get install gocryptfs"
	DEBIAN_FRONTEND=noninteractive apt-get install -y gocryptfs >"$T/logs/apt.log" 2>&1 ||
		{ apt-get update >>"$T/logs/apt.log" 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y gocryptfs >>"$T/logs/apt.log" 2>&1; } ||
		fail_logs "$T/logs/apt.log" "could not install gocryptfs"
fi
if ! command -v fio >/dev/null; then
	note "fio missing: apt-get install fio"
	DEBIAN_FRONTEND=noninteractive apt-get install -y fio >"$T/logs/apt.log" 2>&1 ||
		fail_logs "$T/logs/apt.log" "could not install fio"
fi
cp "$COFFER_SRC" "$T/bin/coffer"
COFFER_BIN=$T/bin/coffer
export XDG_CACHE_HOME=$T/xdg # coffer never touches ~/.cache (we always pass --cache anyway)

# ---- space, inputs ----
SRC_MB=$((SIZE_MB > FIO_MB ? SIZE_MB : FIO_MB))
need_mb=$((SRC_MB * 3 + 1024)) # coffer: cache + vault folder, plus slack
avail_mb=$(df -Pm "$T" | awk 'NR == 2 { print $4 }')
[ "$avail_mb" -ge "$need_mb" ] || die "$BENCH_DIR has $avail_mb MiB free; needs about $need_mb MiB"
mkdir -p "$T/src"
mount -t tmpfs -o "size=$((SRC_MB + 512))m,mode=700" bench-src "$T/src"
note "inputs: $SRC_MB MiB random file and a tar of /usr/include in a tmpfs"
head -c $((SRC_MB * 1048576)) /dev/urandom >"$T/src/rand"
tar cf "$T/src/include.tar" -C /usr include 2>"$T/logs/tar-c.log" || fail_logs "$T/logs/tar-c.log" "tar of /usr/include failed"
TAR_FILES=$(tar tvf "$T/src/include.tar" | grep -c '^-')
TAR_MB=$(($(stat -c %s "$T/src/include.tar") / 1048576))
PASS=$T/pass
printf 'bench passphrase %s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$PASS"
chmod 600 "$PASS"

# ---- helpers ----
drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
# timed VAR CMD...: runs CMD, stores its wall time in seconds in VAR
timed() {
	local __v=$1 __t0 __t1
	shift
	__t0=$EPOCHREALTIME
	"$@"
	__t1=$EPOCHREALTIME
	printf -v "$__v" '%s' "$(awk -v a="$__t0" -v b="$__t1" 'BEGIN { printf "%.3f", b - a }')"
}
RESULTS=$T/results # lines: fs metric value
record() { printf '%s %s %s\n' "$1" "$2" "$3" >>"$RESULTS"; }
mbps() { awk -v mb="$1" -v s="$2" 'BEGIN { printf "%.1f", mb * 1048576 / 1e6 / s }'; } # decimal MB/s

wait_mounted() { # wait_mounted MNT PID LOG
	local i
	for i in $(seq 300); do
		is_mounted "$1" && stat "$1" >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || fail_logs "$3" "the daemon for $1 exited before mounting"
		sleep 0.05
	done
	fail_logs "$3" "$1 was not mounted within 15 s"
}
wait_gone() { # wait_gone PID: a foreground daemon exits after its unmount
	local i
	for i in $(seq 600); do
		kill -0 "$1" 2>/dev/null || {
			wait "$1" 2>/dev/null || true
			return 0
		}
		sleep 0.01
	done
	die "daemon $1 did not exit within 6 s of its unmount"
}

# Per filesystem: D=$T/<fs>, mount point $D/mnt.
fs_init() {
	local fs=$1 D=$T/$1
	rm -rf "$D"
	mkdir -p "$D/mnt"
	case $fs in
	pt) mkdir -p "$D/data" ;;
	gc)
		mkdir -p "$D/cipher"
		gocryptfs -init -q -scryptn 10 -passfile "$PASS" "$D/cipher" >"$T/logs/gc-init.log" 2>&1 ||
			fail_logs "$T/logs/gc-init.log" "gocryptfs -init failed"
		;;
	cf)
		"$COFFER_BIN" init --passfile "$PASS" --kdf-level min "$D/vault" >"$T/logs/cf-init.log" 2>&1 ||
			fail_logs "$T/logs/cf-init.log" "coffer init failed"
		;;
	esac
}
fs_mount() {
	local fs=$1 D=$T/$1 log=$T/logs/$1.log
	case $fs in
	pt)
		"$PT_BIN" -f -o "source=$D/data" "$D/mnt" >>"$log" 2>&1 &
		CUR_PID=$!
		wait_mounted "$D/mnt" "$CUR_PID" "$log"
		;;
	gc)
		gocryptfs -fg -q -passfile "$PASS" "$D/cipher" "$D/mnt" >>"$log" 2>&1 &
		CUR_PID=$!
		wait_mounted "$D/mnt" "$CUR_PID" "$log"
		;;
	cf)
		"$COFFER_BIN" mount --passfile "$PASS" --cache "$D/cache" -o "logfile=$log" "$D/vault" "$D/mnt" \
			>>"$log" 2>&1 || fail_logs "$log" "coffer mount failed"
		is_mounted "$D/mnt" || fail_logs "$log" "coffer mount returned but $D/mnt is not mounted"
		;;
	esac
}
fs_umount() { # returns once the daemon is gone (coffer: committed, mirrored, lock released)
	local fs=$1 D=$T/$1 i
	case $fs in
	pt | gc)
		fusermount3 -u "$D/mnt" || die "fusermount3 -u $D/mnt failed"
		wait_gone "$CUR_PID"
		CUR_PID=
		;;
	cf)
		"$COFFER_BIN" umount "$D/mnt" >>"$T/logs/cf-umount.log" 2>&1 ||
			fail_logs "$T/logs/cf.log" "coffer umount failed: $(tail -n 3 "$T/logs/cf-umount.log")"
		for i in $(seq 600); do
			flock -n "$D/cache/lock" true 2>/dev/null && [ -z "$(coffer_pids)" ] && break
			[ "$i" -lt 600 ] || die "the coffer daemon did not exit within 60 s of coffer umount"
			sleep 0.1
		done
		;;
	esac
	! is_mounted "$D/mnt" || die "$D/mnt still mounted after unmounting"
}
remount() {
	fs_umount "$1"
	fs_mount "$1"
}

fio_run() { # fio_run RW MNT: prints IOPS (fio's, which includes the end_fsync of writes)
	local rw=$1 m=$2 out field
	out=$(cd "$T" && fio --name="$rw" --filename="$m/fio.dat" --rw="$rw" --bs=4k --size="${FIO_MB}m" \
		--ioengine=psync --direct=0 --end_fsync=1 --fallocate=none --randrepeat=1 \
		--runtime="$FIO_RT" --minimal 2>"$T/logs/fio.err") || fail_logs "$T/logs/fio.err" "fio $rw on $m failed"
	[ "$(cut -d';' -f5 <<<"$out")" = 0 ] || die "fio $rw on $m reports error $(cut -d';' -f5 <<<"$out")"
	if [ "$rw" = randread ]; then field=8; else field=49; fi
	cut -d';' -f"$field" <<<"$out"
}

untar() { tar xf "$T/src/include.tar" -C "$1" && sync -f "$1"; }
statwalk() { (cd "$1" && find . -type f -print0 | xargs -0 stat >/dev/null); }
rmtree() { rm -rf "$1/include" && sync -f "$1"; }

suite() { # suite FS: one full pass of every workload on a fresh instance of FS
	local fs=$1 M=$T/$1/mnt t n iops
	note "${FSNAME[$fs]}: init + mount"
	fs_init "$fs"
	fs_mount "$fs"

	drop_caches
	timed t dd if="$T/src/rand" of="$M/seq" bs=1M count="$SIZE_MB" conv=fsync status=none
	record "$fs" seqwrite "$(mbps "$SIZE_MB" "$t")"
	note "${FSNAME[$fs]}: seq write ${t}s"
	timed t fs_umount "$fs"
	record "$fs" umount_seq "$t"
	fs_mount "$fs"
	drop_caches
	timed t dd if="$M/seq" of=/dev/null bs=1M status=none
	record "$fs" seqread "$(mbps "$SIZE_MB" "$t")"
	note "${FSNAME[$fs]}: seq read ${t}s"
	cmp -n $((SIZE_MB * 1048576)) "$T/src/rand" "$M/seq" || die "${FSNAME[$fs]}: the sequential file reads back wrong"
	rm -f "$M/seq"
	sync -f "$M"

	drop_caches
	timed t untar "$M"
	record "$fs" untar "$t"
	note "${FSNAME[$fs]}: untar ${t}s"
	timed t fs_umount "$fs"
	record "$fs" umount_untar "$t"
	fs_mount "$fs"
	drop_caches
	timed t statwalk "$M/include"
	record "$fs" statwalk "$t"
	n=$(find "$M/include" -type f | wc -l)
	[ "$n" -eq "$TAR_FILES" ] || die "${FSNAME[$fs]}: $n files after untar, the tar holds $TAR_FILES"
	timed t rmtree "$M"
	record "$fs" rmtree "$t"
	note "${FSNAME[$fs]}: stat walk / rm -rf done"

	dd if="$T/src/rand" of="$M/fio.dat" bs=1M count="$FIO_MB" conv=fsync status=none
	remount "$fs"
	drop_caches
	iops=$(fio_run randwrite "$M")
	record "$fs" fio_randwrite "$iops"
	remount "$fs"
	drop_caches
	iops=$(fio_run randread "$M")
	record "$fs" fio_randread "$iops"
	note "${FSNAME[$fs]}: fio done"
	fs_umount "$fs"
	rm -rf "${T:?}/$fs"
}

# ---- header ----
FSLIST=$(for f in "${FSES[@]}"; do printf '%s ' "${FSNAME[$f]}"; done)
CMDLINE="BENCH_FS='${FSLIST% }' BENCH_DIR=$BENCH_DIR BENCH_SIZE_MB=$SIZE_MB BENCH_REPS=$REPS BENCH_FIO_MB=$FIO_MB BENCH_FIO_RUNTIME=$FIO_RT bash bench/run.sh"
[ $# -eq 0 ] || CMDLINE+=" $*"
HEADER=$(
	echo "command:   $CMDLINE"
	echo "date:      $(date -Is)"
	echo "machine:   nproc=$(nproc), kernel $(uname -r), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "disk:      $(df -PT "$T" | awk 'NR == 2 { print $1 " (" $2 ")" }') under $BENCH_DIR"
	echo "versions:  coffer $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- '*.c' '*.h' 2>/dev/null || echo ' (+ uncommitted C changes)') built $(date -r "$COFFER_SRC" '+%F %T'); $(gocryptfs -version 2>/dev/null | head -n 1 | cut -d';' -f1); libfuse $(pkg-config --modversion fuse3); fio $(fio --version | sed 's/^fio-//')"
	echo "inputs:    seq file ${SIZE_MB} MiB random; /usr/include tar ${TAR_MB} MiB, $TAR_FILES regular files; fio file ${FIO_MB} MiB"
)
printf '%s\n' "$HEADER"
echo "load avg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- runs: every rep runs the three filesystems in turn, each on a fresh instance ----
: >"$RESULTS"
for rep in $(seq "$REPS"); do
	for fs in "${FSES[@]}"; do
		note "rep $rep/$REPS: ${FSNAME[$fs]}"
		suite "$fs"
	done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- table ----
median() { # median FS METRIC
	awk -v f="$1" -v m="$2" '$1 == f && $2 == m { print $3 }' "$RESULTS" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# metric|label|unit|higher-is-better(1)/lower(0)
ROWS=(
	"seqwrite|seq write ${SIZE_MB} MiB, dd bs=1M conv=fsync|MB/s|1"
	"umount_seq|  umount after it (coffer: commit+mirror)|s|0"
	"seqread|seq read ${SIZE_MB} MiB after remount, dd bs=1M|MB/s|1"
	"untar|untar /usr/include + sync -f|s|0"
	"umount_untar|  umount after it (coffer: commit+mirror)|s|0"
	"statwalk|stat walk after remount, find + xargs stat|s|0"
	"rmtree|rm -rf tree + sync -f|s|0"
	"fio_randwrite|fio 4k randwrite ${FIO_MB} MiB (+end_fsync)|IOPS|1"
	"fio_randread|fio 4k randread ${FIO_MB} MiB after remount|IOPS|1"
)
TABLE=$(
	if [ "$REPS" -gt 1 ]; then echo "figures: median of $REPS runs"; else echo "figures: 1 run"; fi
	printf '%-44s %-5s %14s %10s %9s %10s %13s  %s\n' workload unit passthrough_ll gocryptfs coffer coffer/pt gocryptfs/pt "ratio meaning"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r metric label unit hib <<<"$row"
		pt=$(median pt "$metric")
		gc=$(median gc "$metric")
		cf=$(median cf "$metric")
		if [ "$hib" = 1 ]; then meaning="throughput/ref (higher=better)"; else meaning="time/ref (lower=better)"; fi
		awk -v l="$label" -v u="$unit" -v pt="$pt" -v gc="$gc" -v cf="$cf" -v mn="$meaning" 'BEGIN {
			fmt = (u == "s") ? "%.2f" : (u == "IOPS" ? "%.0f" : "%.1f")
			r1 = (pt != "nan" && pt > 0 && cf != "nan") ? sprintf("%.2f", cf / pt) : "-"
			r2 = (pt != "nan" && pt > 0 && gc != "nan") ? sprintf("%.2f", gc / pt) : "-"
			vp = (pt == "nan") ? "-" : sprintf(fmt, pt)
			vg = (gc == "nan") ? "-" : sprintf(fmt, gc)
			vc = (cf == "nan") ? "-" : sprintf(fmt, cf)
			printf "%-44s %-5s %14s %10s %9s %10s %13s  %s\n", l, u, vp, vg, vc, r1, r2, mn
		}'
	done
	echo "MB/s = 10^6 bytes/s. umount rows: passthrough_ll/gocryptfs = fusermount3 -u until the daemon exits;"
	echo "coffer = coffer umount (final commit, wait until the vault folder holds the final root, daemon exits)."
	echo "sync -f does not commit a coffer (no FUSE syncfs in libfuse 3.14) nor reach gocryptfs; durability cost is in the umount rows."
	if [ "$REPS" -gt 1 ]; then
		echo "all runs (fs metric value):"
		sed 's/^/  /' "$RESULTS"
	fi
	echo "load avg at start: see above; at end: $LOAD_END"
)
echo
printf '%s\n' "$TABLE"
{
	printf '%s\n' "$HEADER"
	echo
	printf '%s\n' "$TABLE"
} >"$OUT/results-$(date +%Y%m%d-%H%M%S).txt"
