#!/usr/bin/env bash
# bench/datapath_ab.sh: A/B of the FUSE data path. Two coffer binaries (BASE, e.g. main's, and
# NEW, this tree's) and libfuse's passthrough_ll (the reference) run the same workloads on the
# same backing in the same run, in alternating order (the order rotates every round), and the
# table gives each figure's median, its spread (min-max) and the ratio of the medians to
# passthrough_ll's, for every backing (a tmpfs, and the disk under AB_DIR).
# Workloads, each on a fresh instance per round:
#   seqwrite  dd bs=1M conv=fsync of AB_SIZE_MB MiB random bytes (MB/s)
#   seqread   the same file after remount + drop_caches, dd bs=1M (MB/s)
#   untar     tar x of a tar of /usr/include + sync -f (s)
#   rmtree    rm -rf of that tree + sync -f (s)
#   randwrite fio 4 KiB psync random write over an AB_FIO_MB MiB file, end_fsync (IOPS)
#   randread  fio 4 KiB psync random read of it after remount + drop_caches (IOPS)
# Usage (root): bash bench/datapath_ab.sh
# Env: AB_BASE (default /work/main/coffer), AB_NEW (default ./coffer), AB_ROUNDS (3),
#   AB_BACKINGS ("tmpfs disk"), AB_DIR (/var/tmp), AB_SIZE_MB (512), AB_FIO_MB (256),
#   AB_FIO_RT (seconds per fio run, 20), AB_TESTS (default "seq tree fio": which groups to run),
#   AB_COUNT=1: also count the FUSE requests of every workload (bench/lib.sh's traced; the
#   timings then include the tracing) and print their medians per filesystem and opcode.
# Must never touch anything outside its temp dir and build/bench/ (it drops the global page
# cache), nor stop processes it did not start; its EXIT trap unmounts what it mounted, stops the
# daemons it started (by pid) and removes the temp dir.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${AB_BASE:-/work/main/coffer}
NEW=${AB_NEW:-$REPO/coffer}
ROUNDS=${AB_ROUNDS:-3}
BACKINGS=${AB_BACKINGS:-tmpfs disk}
SIZE_MB=${AB_SIZE_MB:-512}
FIO_MB=${AB_FIO_MB:-256}
FIO_RT=${AB_FIO_RT:-20}
TESTS=${AB_TESTS:-seq tree fio}
COUNT=${AB_COUNT:-}
OUT=$REPO/build/bench

die() {
	printf 'bench/datapath_ab.sh: FAIL: %s\n' "$*" >&2
	exit 1
}
note() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "run as root"
[ -x "$BASE" ] || die "AB_BASE $BASE is not an executable"
[ -x "$NEW" ] || die "AB_NEW $NEW is not an executable (run make)"
for v in ROUNDS SIZE_MB FIO_MB FIO_RT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done

T=$(mktemp -d "${AB_DIR:-/var/tmp}/coffer-ab.XXXXXXXX")
PIDS=() # foreground passthrough_ll daemons we started

. "$REPO/bench/lib.sh"
ours() { pgrep -f -- "^$T/bin/" || true; } # daemons run from our own copies only

cleanup() {
	local rc=$? m pid
	set +e
	trap - EXIT INT TERM
	for m in $(mounts_under "$T"); do
		case $m in */mnt) fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null ;; esac
	done
	for pid in "${PIDS[@]}" $(ours); do stop_pid "$pid"; done
	for m in $(mounts_under "$T"); do umount "$m" 2>/dev/null || umount -l "$m"; done
	trace_close
	if [ -z "$(mounts_under "$T")" ]; then rm -rf "$T"; else echo "still mounted under $T" >&2; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools and inputs ----
mkdir -p "$OUT" "$T/bin" "$T/logs" "$T/src"
build_passthrough_ll "$T/bin/passthrough_ll"
cp "$BASE" "$T/bin/coffer-base"
cp "$NEW" "$T/bin/coffer-new"
command -v fio >/dev/null || die "fio is missing"
SRC_MB=$((SIZE_MB > FIO_MB ? SIZE_MB : FIO_MB))
make_inputs ab-src "$SRC_MB"
export XDG_CACHE_HOME=$T/xdg

RESULTS=$T/results REQUESTS=$T/requests
: >"$RESULTS"
: >"$REQUESTS"
record() { echo "$BK $1 $2 $3" >>"$RESULTS"; }
[ -z "$COUNT" ] || trace_open
# counted FS WORKLOAD CMD...: runs CMD, its FUSE requests counted into REQUESTS when COUNT is on.
counted() {
	local fs=$1 w=$2 rc=0
	shift 2
	[ -n "$COUNT" ] || {
		"$@"
		return
	}
	traced "$B/$fs/mnt" "$T/counts" "$@" || rc=$?
	awk -v b="$BK" -v f="$fs" -v w="$w" '{ print b, f, w, $2, $1 }' "$T/counts" >>"$REQUESTS"
	return "$rc"
}

# ---- one filesystem instance: $B/<fs>/{mnt,data|vault,cache} ----
CUR=
fs_mount() {
	local fs=$1 D=$B/$1 log=$T/logs/$1.log i
	case $fs in
	pt)
		"$T/bin/passthrough_ll" -f -o "source=$D/data" "$D/mnt" >>"$log" 2>&1 &
		CUR=$!
		PIDS+=("$CUR")
		for i in $(seq 300); do
			is_mounted "$D/mnt" && break
			kill -0 "$CUR" 2>/dev/null || die "passthrough_ll exited (see $log)"
			sleep 0.05
		done
		;;
	*)
		"$T/bin/coffer-$fs" mount --passfile "$PASS" --cache "$D/cache" -o "logfile=$log" \
			"$D/vault" "$D/mnt" >>"$log" 2>&1 || die "coffer-$fs mount failed (see $log)"
		;;
	esac
	is_mounted "$D/mnt" || die "$D/mnt is not mounted"
}
fs_umount() {
	local fs=$1 D=$B/$1 i
	case $fs in
	pt)
		fusermount3 -u "$D/mnt"
		for i in $(seq 600); do kill -0 "$CUR" 2>/dev/null || break; sleep 0.01; done
		wait "$CUR" 2>/dev/null || true
		;;
	*)
		"$T/bin/coffer-$fs" umount "$D/mnt" >>"$T/logs/umount.log" 2>&1 || die "coffer umount failed"
		for i in $(seq 600); do
			flock -n "$D/cache/lock" true 2>/dev/null && break
			sleep 0.1
		done
		;;
	esac
	! is_mounted "$D/mnt" || die "$D/mnt still mounted"
}
fs_fresh() {
	local fs=$1 D=$B/$1
	rm -rf "$D"
	mkdir -p "$D/mnt"
	case $fs in
	pt) mkdir -p "$D/data" ;;
	*) "$T/bin/coffer-$fs" init --passfile "$PASS" --kdf-level min "$D/vault" >/dev/null 2>&1 ||
		die "coffer-$fs init failed" ;;
	esac
	fs_mount "$fs"
}

suite() {
	local fs=$1 M=$B/$1/mnt t n
	fs_fresh "$fs"
	if [[ " $TESTS " == *" seq "* ]]; then
		drop_caches
		timed t counted "$fs" seqwrite dd if="$T/src/rand" of="$M/seq" bs=1M count="$SIZE_MB" \
			conv=fsync status=none
		record "$fs" seqwrite "$(mbps "$SIZE_MB" "$t")"
		fs_umount "$fs"
		fs_mount "$fs"
		drop_caches
		timed t counted "$fs" seqread dd if="$M/seq" of=/dev/null bs=1M status=none
		record "$fs" seqread "$(mbps "$SIZE_MB" "$t")"
		cmp -n $((SIZE_MB * 1048576)) "$T/src/rand" "$M/seq" || die "$fs: seq file reads back wrong"
		rm -f "$M/seq"
		sync -f "$M"
	fi
	if [[ " $TESTS " == *" tree "* ]]; then
		drop_caches
		timed t counted "$fs" untar untar "$M"
		record "$fs" untar "$t"
		n=$(find "$M/include" -type f | wc -l)
		[ "$n" -eq "$TAR_FILES" ] || die "$fs: $n files after untar, the tar holds $TAR_FILES"
		timed t counted "$fs" rmtree rmtree "$M"
		record "$fs" rmtree "$t"
	fi
	if [[ " $TESTS " == *" fio "* ]]; then
		dd if="$T/src/rand" of="$M/fio.dat" bs=1M count="$FIO_MB" conv=fsync status=none
		fs_umount "$fs"
		fs_mount "$fs"
		drop_caches
		counted "$fs" randwrite fio_run randwrite "$M" >"$T/fio.out"
		record "$fs" randwrite "$(cat "$T/fio.out")"
		fs_umount "$fs"
		fs_mount "$fs"
		drop_caches
		counted "$fs" randread fio_run randread "$M" >"$T/fio.out"
		record "$fs" randread "$(cat "$T/fio.out")"
	fi
	fs_umount "$fs"
	rm -rf "${B:?}/$fs"
}

echo "command: AB_BASE=$BASE AB_NEW=$NEW AB_ROUNDS=$ROUNDS AB_BACKINGS='$BACKINGS' AB_SIZE_MB=$SIZE_MB AB_FIO_MB=$FIO_MB AB_FIO_RT=$FIO_RT AB_TESTS='$TESTS' bash bench/datapath_ab.sh"
echo "date: $(date -Is); nproc=$(nproc); kernel $(uname -r); load at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "base: $BASE ($(date -r "$BASE" '+%F %T')); new: $NEW ($(date -r "$NEW" '+%F %T')), $(git -C "$REPO" rev-parse --short HEAD)"
ORDER=(pt base new)
for BK in $BACKINGS; do
	B=$T/$BK
	mkdir -p "$B"
	[ "$BK" = tmpfs ] && mount -t tmpfs -o "size=$((SRC_MB * 4 + 2048))m,mode=700" ab-back "$B"
	for r in $(seq "$ROUNDS"); do
		k=$(((r - 1) % 3))
		for fs in "${ORDER[@]:k}" "${ORDER[@]:0:k}"; do
			note "$BK round $r/$ROUNDS: $fs"
			suite "$fs"
		done
	done
	[ "$BK" = tmpfs ] && umount "$B"
done

# ---- table: median [min-max] per fs, ratios of medians to pt ----
stat_of() { # stat_of BK FS METRIC -> "median min max"
	awk -v b="$1" -v f="$2" -v m="$3" '$1 == b && $2 == f && $3 == m { print $4 }' "$RESULTS" | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) { print "nan nan nan"; exit }
			md = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print md, v[1], v[NR] }'
}
echo
echo "medians of $ROUNDS rounds [min-max]; ratio = coffer/passthrough_ll of the medians (time rows: lower is better)"
printf '%-6s %-10s %-5s %22s %22s %22s %9s %9s\n' backing workload unit passthrough_ll base new base/pt new/pt
for BK in $BACKINGS; do
	for row in seqwrite:MB/s seqread:MB/s untar:s rmtree:s randwrite:IOPS randread:IOPS; do
		m=${row%%:*} u=${row#*:}
		grep -q " $m " "$RESULTS" || continue
		read -r p p0 p1 <<<"$(stat_of "$BK" pt "$m")"
		read -r a a0 a1 <<<"$(stat_of "$BK" base "$m")"
		read -r c c0 c1 <<<"$(stat_of "$BK" new "$m")"
		awk -v bk="$BK" -v m="$m" -v u="$u" -v p="$p" -v p0="$p0" -v p1="$p1" -v a="$a" -v a0="$a0" \
			-v a1="$a1" -v c="$c" -v c0="$c0" -v c1="$c1" 'BEGIN {
			f = (u == "s") ? "%.2f" : "%.0f"
			cell = "%s [%s-%s]"
			P = sprintf(cell, sprintf(f, p), sprintf(f, p0), sprintf(f, p1))
			A = sprintf(cell, sprintf(f, a), sprintf(f, a0), sprintf(f, a1))
			C = sprintf(cell, sprintf(f, c), sprintf(f, c0), sprintf(f, c1))
			printf "%-6s %-10s %-5s %22s %22s %22s %9.2f %9.2f\n", bk, m, u, P, A, C, a / p, c / p }'
	done
done
# req_medians BK FS WORKLOAD: "MEDIAN OPCODE" lines over the rounds (a round without the opcode
# counts 0), most frequent first.
req_medians() {
	awk -v b="$1" -v f="$2" -v w="$3" '$1 == b && $2 == f && $3 == w { print $4, $5 }' "$REQUESTS" |
		sort -k1,1 -k2,2n | awk -v r="$ROUNDS" '
		function val(p) { return p <= r - k ? 0 : v[p - (r - k)] }
		function out() { if (op != "") print (r % 2 ? val((r + 1) / 2) : (val(r / 2) + val(r / 2 + 1)) / 2), op }
		$1 != op { out(); op = $1; k = 0 }
		{ v[++k] = $2 }
		END { out() }' | sort -rn
}
if [ -n "$COUNT" ]; then
	echo
	echo "FUSE requests per workload: medians over the rounds, in all and of the 6 most frequent opcodes"
	for BK in $BACKINGS; do
		for w in seqwrite seqread untar rmtree randwrite randread; do
			for fs in pt base new; do
				req_medians "$BK" "$fs" "$w" >"$T/med"
				[ -s "$T/med" ] || continue
				printf '%-6s %-10s %-5s %8d in all: %s\n' "$BK" "$w" "$fs" \
					"$(awk '{ s += $1 } END { print s }' "$T/med")" \
					"$(head -n 6 "$T/med" | awk '{ printf "%s %d, ", $2, $1 }' | sed 's/, $//')"
			done
		done
	done
fi
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw figures:"
cat "$RESULTS"
