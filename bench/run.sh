#!/usr/bin/env bash
# bench/run.sh: the local data-path benchmark. Coffer against other FUSE filesystems, each on a
# tmpfs AND on the disk under BENCH_DIR, in one run:
#   passthrough_ll  libfuse's low-level passthrough example (the reference: FUSE cost, no crypto),
#                   built from /usr/share/doc/libfuse3-dev/examples into build/bench/
#   gocryptfs       encrypted overlay (Debian package; bench/deps.sh installs it)
#   securefs        encrypted overlay (Debian package; bench/deps.sh installs it; left out with a
#                   note when it cannot be set up here)
#   coffer          ./coffer, vault folder + cache both on the same backing
# BENCH_REPS runs (default 3) alternate: every run visits each backing and, on it, each
# filesystem in turn (odd runs in the order given, even runs reversed), each on a fresh instance:
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
# and prints, per backing and workload, each filesystem's median figure and the median of its
# per-run ratios to passthrough_ll measured in the same run on the same backing, with their
# spread (min-max over the runs). BENCH_WORKLOADS picks the groups (default "seq untar fio"):
# `BENCH_WORKLOADS=seq BENCH_FS='gocryptfs coffer'` is the cold sequential read A/B that
# bench/seqread_ab.sh runs.
#
# Usage (root, needs /dev/fuse and /proc/sys/vm/drop_caches):
#   bash bench/run.sh
# Environment: BENCH_DIR (default /var/tmp; the disk backing and temp dir live there),
#   BENCH_BACKINGS (default "tmpfs disk"), BENCH_SIZE_MB (default 512), BENCH_REPS (default 3),
#   BENCH_FIO_MB (default 256), BENCH_FIO_RUNTIME (seconds, cap per fio run, default 60),
#   COFFER (default ./coffer), BENCH_FS (default "passthrough_ll gocryptfs securefs coffer";
#   a subset, in the order to run them; ratios need passthrough_ll), BENCH_WORKLOADS.
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
REPS=${BENCH_REPS:-3}
FIO_MB=${BENCH_FIO_MB:-256}
FIO_RT=${BENCH_FIO_RUNTIME:-60}
COFFER_SRC=${COFFER:-$REPO/coffer}
OUT=$REPO/build/bench
declare -A FSNAME=([pt]=passthrough_ll [gc]=gocryptfs [sf]=securefs [cf]=coffer)
FSES=()
for f in ${BENCH_FS:-passthrough_ll gocryptfs securefs coffer}; do
	case $f in
	passthrough_ll | pt) FSES+=(pt) ;;
	gocryptfs | gc) FSES+=(gc) ;;
	securefs | sf) FSES+=(sf) ;;
	coffer | cf) FSES+=(cf) ;;
	*) printf 'bench/run.sh: FAIL: BENCH_FS: unknown filesystem %s\n' "$f" >&2 && exit 1 ;;
	esac
done
[ "${#FSES[@]}" -gt 0 ] || { echo "bench/run.sh: FAIL: BENCH_FS is empty" >&2 && exit 1; }
BACKINGS=(${BENCH_BACKINGS:-tmpfs disk})
WORKLOADS=" ${BENCH_WORKLOADS:-seq untar fio} "

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
for b in "${BACKINGS[@]}"; do
	[[ $b == tmpfs || $b == disk ]] || die "BENCH_BACKINGS: unknown backing $b (tmpfs, disk)"
done
for w in $WORKLOADS; do
	[[ $w == seq || $w == untar || $w == fio ]] || die "BENCH_WORKLOADS: unknown group $w (seq, untar, fio)"
done

# ---- the temp dir and the cleanup trap (set before anything is mounted or started) ----
T=$(mktemp -d "$BENCH_DIR/coffer-bench.XXXXXXXX")
CUR_PID= # the foreground daemon we started and that still runs (passthrough_ll, gocryptfs)

. "$REPO/bench/lib.sh"
coffer_pids() { pgrep -f -- "^$T/bin/coffer mount " || true; } # only daemons of our own copy

cleanup() {
	local rc=$? m pid
	set +e
	trap - EXIT INT TERM
	for m in $(mounts_under "$T"); do
		[ "$m" = "$T/src" ] || [ "$m" = "$T/tmpfs" ] && continue
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	for pid in $CUR_PID $(coffer_pids); do stop_pid "$pid"; done
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

# ---- tools ----
mkdir -p "$OUT" "$T/bin" "$T/logs"
PT_BIN=$OUT/passthrough_ll
build_passthrough_ll "$PT_BIN"

for tool in gocryptfs securefs fio; do
	command -v "$tool" >/dev/null && continue
	note "$tool missing: bench/deps.sh"
	bash "$REPO/bench/deps.sh" >"$T/logs/deps.log" 2>&1 || fail_logs "$T/logs/deps.log" "bench/deps.sh failed"
done
cp "$COFFER_SRC" "$T/bin/coffer"
COFFER_BIN=$T/bin/coffer
export XDG_CACHE_HOME=$T/xdg # coffer never touches ~/.cache (we always pass --cache anyway)

# ---- space, inputs ----
SRC_MB=$((SIZE_MB > FIO_MB ? SIZE_MB : FIO_MB))
need_mb=$((SRC_MB * 3 + 1024)) # coffer: cache + vault folder, plus slack
avail_mb=$(df -Pm "$T" | awk 'NR == 2 { print $4 }')
[ "$avail_mb" -ge "$need_mb" ] || die "$BENCH_DIR has $avail_mb MiB free; needs about $need_mb MiB"
# the tmpfs backing: coffer's cache and vault folder, which keeps the objects of retained roots
tmpfs_mb=$((SRC_MB * 6 + 1024))
mem_mb=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
[[ " ${BACKINGS[*]} " != *" tmpfs "* ]] || [ "$mem_mb" -ge $((tmpfs_mb + SRC_MB * 2 + 2048)) ] ||
	die "$mem_mb MiB of memory available; the tmpfs backing needs about $((tmpfs_mb + SRC_MB * 2 + 2048)) MiB"
mkdir -p "$T/disk" "$T/tmpfs"
note "inputs: $SRC_MB MiB random file and a tar of /usr/include in a tmpfs"
make_inputs bench-src "$SRC_MB"
[[ " ${BACKINGS[*]} " != *" tmpfs "* ]] || mount -t tmpfs -o "size=${tmpfs_mb}m,mode=700" bench-backing "$T/tmpfs"

# ---- helpers ----
RESULTS=$T/results # lines: backing rep fs metric value
record() { printf '%s %s %s %s %s\n' "$BK" "$REP" "$1" "$2" "$3" >>"$RESULTS"; }

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

# Per filesystem on the current backing $BK: D=$T/$BK/<fs>, mount point $D/mnt.
fs_init() {
	local fs=$1 D=$T/$BK/$1
	rm -rf "$D"
	mkdir -p "$D/mnt"
	case $fs in
	pt) mkdir -p "$D/data" ;;
	gc)
		mkdir -p "$D/cipher"
		gocryptfs -init -q -scryptn 10 -passfile "$PASS" "$D/cipher" >"$T/logs/gc-init.log" 2>&1 ||
			fail_logs "$T/logs/gc-init.log" "gocryptfs -init failed"
		;;
	sf)
		mkdir -p "$D/cipher"
		securefs create --pass "$(cat "$PASS")" "$D/cipher" >"$T/logs/sf-init.log" 2>&1 ||
			fail_logs "$T/logs/sf-init.log" "securefs create failed"
		;;
	cf)
		"$COFFER_BIN" init --passfile "$PASS" --kdf-level min "$D/vault" >"$T/logs/cf-init.log" 2>&1 ||
			fail_logs "$T/logs/cf-init.log" "coffer init failed"
		;;
	esac
}
fs_mount() {
	local fs=$1 D=$T/$BK/$1 log=$T/logs/$1.log
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
	sf)
		securefs mount --pass "$(cat "$PASS")" "$D/cipher" "$D/mnt" >>"$log" 2>&1 &
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
	local fs=$1 D=$T/$BK/$1 i
	case $fs in
	pt | gc | sf)
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

has() { [[ $WORKLOADS == *" $1 "* ]]; }

seq_group() {
	local fs=$1 M=$2 t
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
}
untar_group() {
	local fs=$1 M=$2 t n
	drop_caches
	if ! timed t untar "$M" 2>"$T/logs/untar.err"; then
		[[ $fs == gc || $fs == sf ]] || fail_logs "$T/logs/untar.err" "${FSNAME[$fs]} on $BK: untar failed"
		# a peer's failure is a figure of the peer: said under the table, not fatal
		NOTES+="${FSNAME[$fs]} on $BK, run $REP: untar failed: $(grep -v '^tar: Exiting' "$T/logs/untar.err" | head -n 1)"$'\n'
		note "${FSNAME[$fs]}: untar failed; its untar rows are left out for this run"
		rm -rf "$M/include" || true
		return 0
	fi
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
}
fio_group() {
	local fs=$1 M=$2 iops
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
}

suite() { # suite FS: one pass of the chosen workloads on a fresh instance of FS on backing $BK
	local fs=$1 M=$T/$BK/$1/mnt g
	note "${FSNAME[$fs]} on $BK: init + mount"
	fs_init "$fs"
	fs_mount "$fs"
	for g in seq untar fio; do
		! has "$g" || "${g}_group" "$fs" "$M"
	done
	fs_umount "$fs"
	rm -rf "${T:?}/$BK/$fs"
}

# securefs is left out (with the reason) when it cannot mount here; the others must work.
probe_securefs() {
	local i
	for i in "${!FSES[@]}"; do
		[ "${FSES[$i]}" = sf ] || continue
		BK=${BACKINGS[0]}
		if ! (fs_init sf && fs_mount sf && fs_umount sf) >"$T/logs/sf-probe.log" 2>&1; then
			SF_NOTE="securefs left out: it could not be set up here: $(tail -n 2 "$T/logs/sf-probe.log" | tr '\n' ' ')"
			note "$SF_NOTE"
			unset 'FSES[i]'
			FSES=("${FSES[@]}")
		fi
		rm -rf "${T:?}/$BK/sf"
	done
}

# ---- header ----
FSLIST=$(for f in "${FSES[@]}"; do printf '%s ' "${FSNAME[$f]}"; done)
CMDLINE="BENCH_FS='${FSLIST% }' BENCH_BACKINGS='${BACKINGS[*]}' BENCH_WORKLOADS='${WORKLOADS:1:-1}' BENCH_DIR=$BENCH_DIR BENCH_SIZE_MB=$SIZE_MB BENCH_REPS=$REPS BENCH_FIO_MB=$FIO_MB BENCH_FIO_RUNTIME=$FIO_RT bash bench/run.sh"
[ $# -eq 0 ] || CMDLINE+=" $*"
HEADER=$(
	echo "command:   $CMDLINE"
	echo "date:      $(date -Is)"
	echo "machine:   nproc=$(nproc), kernel $(uname -r), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "disk:      $(df -PT "$T" | awk 'NR == 2 { print $1 " (" $2 ")" }') under $BENCH_DIR; tmpfs: $T/tmpfs"
	echo "versions:  coffer $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- '*.c' '*.h' 2>/dev/null || echo ' (+ uncommitted C changes)') built $(date -r "$COFFER_SRC" '+%F %T'); $(gocryptfs -version 2>/dev/null | head -n 1 | cut -d';' -f1); securefs $(dpkg-query -W -f '${Version}' securefs 2>/dev/null); libfuse $(pkg-config --modversion fuse3); fio $(fio --version | sed 's/^fio-//')"
	echo "inputs:    seq file ${SIZE_MB} MiB random; /usr/include tar ${TAR_MB} MiB, $TAR_FILES regular files; fio file ${FIO_MB} MiB"
)
printf '%s\n' "$HEADER"
echo "load avg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- runs: every rep visits every backing and, there, every filesystem on a fresh instance ----
: >"$RESULTS"
SF_NOTE= NOTES=
probe_securefs
for REP in $(seq "$REPS"); do
	order=("${FSES[@]}")
	if [ $((REP % 2)) -eq 0 ]; then # alternate: even runs go the other way round
		order=()
		for ((i = ${#FSES[@]} - 1; i >= 0; i--)); do order+=("${FSES[$i]}"); done
	fi
	for BK in "${BACKINGS[@]}"; do
		for fs in "${order[@]}"; do
			note "rep $REP/$REPS, $BK: ${FSNAME[$fs]}"
			suite "$fs"
		done
	done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- table ----
# stat BACKING FS METRIC: "median" of the figure over the runs ("-" if none)
stat_val() {
	awk -v b="$1" -v f="$2" -v m="$3" '$1 == b && $3 == f && $4 == m { print $5 }' "$RESULTS" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratio BACKING FS METRIC: "median (min-max)" of FS/passthrough_ll over the runs that have both
ratio() {
	awk -v b="$1" -v f="$2" -v m="$3" '$1 == b && $4 == m && ($3 == f || $3 == "pt") { v[$2, $3] = $5; r[$2] = 1 }
		END { for (k in r) if ((k, f) in v && (k, "pt") in v && v[k, "pt"] > 0) print v[k, f] / v[k, "pt"] }' "$RESULTS" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2f (%.2f-%.2f)\n", m, v[1], v[NR] }'
}
# metric|label|unit|higher-is-better(1)/lower(0)
ROWS=(
	"seqwrite|seq write ${SIZE_MB} MiB, dd bs=1M conv=fsync|MB/s|1"
	"umount_seq|  umount after it (coffer: commit+mirror)|s|0"
	"seqread|seq read ${SIZE_MB} MiB after drop_caches|MB/s|1"
	"untar|untar /usr/include ($TAR_FILES files) + sync -f|s|0"
	"umount_untar|  umount after it (coffer: commit+mirror)|s|0"
	"statwalk|stat walk after remount, find + xargs stat|s|0"
	"rmtree|rm -rf tree + sync -f|s|0"
	"fio_randwrite|fio 4k randwrite ${FIO_MB} MiB (+end_fsync)|IOPS|1"
	"fio_randread|fio 4k randread ${FIO_MB} MiB after remount|IOPS|1"
)
TABLE=$(
	echo "figures: median of $REPS alternating runs; ratio = figure / passthrough_ll's in the same run on the same"
	echo "backing, median (min-max) over the runs. MB/s and IOPS: higher is better; s: lower is better."
	for BK in "${BACKINGS[@]}"; do
		echo
		echo "== backing: $BK"
		printf '%-46s %-5s' workload unit
		for fs in "${FSES[@]}"; do printf ' %14s' "${FSNAME[$fs]}"; done
		for fs in "${FSES[@]}"; do [ "$fs" = pt ] || printf ' %19s' "${FSNAME[$fs]}/pt"; done
		echo
		for row in "${ROWS[@]}"; do
			IFS='|' read -r metric label unit _ <<<"$row"
			[ -n "$(awk -v m="$metric" '$4 == m { print; exit }' "$RESULTS")" ] || continue
			printf '%-46s %-5s' "$label" "$unit"
			for fs in "${FSES[@]}"; do
				awk -v v="$(stat_val "$BK" "$fs" "$metric")" -v u="$unit" 'BEGIN {
					if (v == "-") printf " %14s", "-"; else printf((u == "s") ? " %14.2f" : (u == "IOPS" ? " %14.0f" : " %14.1f"), v) }'
			done
			for fs in "${FSES[@]}"; do [ "$fs" = pt ] || printf ' %19s' "$(ratio "$BK" "$fs" "$metric")"; done
			echo
		done
	done
	echo
	echo "MB/s = 10^6 bytes/s. umount rows: passthrough_ll/gocryptfs/securefs = fusermount3 -u until the daemon exits;"
	echo "coffer = coffer umount (final commit, wait until the vault folder holds the final root, daemon exits)."
	echo "sync -f does not commit a coffer (no FUSE syncfs in libfuse 3.14) nor reach the overlays; durability cost is in the umount rows."
	[ -z "$SF_NOTE" ] || echo "$SF_NOTE"
	[ -z "$NOTES" ] || printf '%s' "$NOTES"
	echo "all runs (backing rep fs metric value):"
	sed 's/^/  /' "$RESULTS"
	echo "load avg at start: see above; at end: $LOAD_END"
)
echo
printf '%s\n' "$TABLE"
{
	printf '%s\n' "$HEADER"
	echo
	printf '%s\n' "$TABLE"
} >"$OUT/results-$(date +%Y%m%d-%H%M%S).txt"
