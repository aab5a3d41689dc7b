#!/usr/bin/env bash
# bench/scale.sh: what grows with the vault (issue 13). For each file count N of SCALE_COUNTS and
# each layout of SCALE_LAYOUTS -- "tree" (N empty files in directories of 1,000) and "flat" (N
# empty files in one directory) -- on a fresh folder vault:
#   objects     objects in the vault once it holds the N files
#   rss         the daemon's peak RSS (VmHWM of /proc/PID/status) after writing the N files, and
#               after a remount on the same cache (loading the tree only)
#   mount same  seconds for `coffer mount` + stat of the root, same cache (already holds all)
#   mount fresh seconds for the same on an empty cache (the pages come from the vault)
#   commit      seconds for a commit (fsync of the mount root) after one new file in the largest
#               directory, and the bytes that commit uploads: the daemon's bytes_uploaded delta
#               and the vault folder's size delta
# Each timed step runs SCALE_REPS times (the two mount kinds alternate) and is given as median
# and spread (min-max); each figure also as a ratio to the same figure at the smallest N of the
# same run and layout (the reference: a flat curve is 1.0).
# Usage (root, /dev/fuse): bash bench/scale.sh        (run `make` first)
# Environment: SCALE_COUNTS (default "10000 100000"), SCALE_LAYOUTS (default "tree flat"),
#   SCALE_REPS (default 3), COFFER (default ./coffer), COFFER_IT_PREFIX (temp dir prefix),
#   SCALE_MOUNT_OPTS (more -o options for every mount, e.g. inode_cache=65536).
# Everything lives in the one temp dir of tests/integration/lib.sh, whose EXIT trap unmounts
# and stops only the daemons this run started and removes the dir, also on failure.
# Must never touch anything outside that temp dir nor rebuild the sources.
set -euo pipefail
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sync_lib.sh"

COUNTS=${SCALE_COUNTS:-10000 100000}
LAYOUTS=${SCALE_LAYOUTS:-tree flat}
REPS=${SCALE_REPS:-3}
EXTRA=()
[ -z "${SCALE_MOUNT_OPTS:-}" ] || EXTRA=(-o "$SCALE_MOUNT_OPTS")
RESULTS=$T/results

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# stats V...: "median min max" of numbers
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'; }
vault_bytes() { find "$VAULT" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
vault_count() { find "$VAULT/objects" -type f | wc -l; }
hwm_kib() { # hwm_kib: VmHWM of the daemon serving $CACHE
	local pid
	pid=$(daemon_pids "$CACHE" | head -n 1)
	[ -n "$pid" ] || fail "no daemon serves $CACHE"
	awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"
}

# make_files DIR N LAYOUT: N empty files (one create + close each, in one process).
make_files() {
	python3 - "$1" "$2" "$3" <<'EOF'
import os, sys
root, n, layout = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    d = os.path.join(root, "flat") if layout == "flat" else os.path.join(root, "d%05d" % (i // 1000))
    if i == 0 or (layout == "tree" and i % 1000 == 0):
        os.makedirs(d, exist_ok=True)
    os.close(os.open(os.path.join(d, "f%07d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
EOF
}

timed_mount() { # timed_mount CACHE: prints the seconds for mount + stat of the root
	local t0
	t0=$(now)
	mount_at "$1" "$MNT" -o commit=3600 "${EXTRA[@]}" >/dev/null
	secs "$t0" "$(now)"
}

one_case() { # one_case N LAYOUT
	local n=$1 layout=$2 dir big t0 i b0 v0 out
	VAULT=$T/vault-$layout-$n
	CACHE=$T/cache-$layout-$n
	coffer_init
	mount_at "$CACHE" "$MNT" -o commit=3600 "${EXTRA[@]}"
	t0=$(now)
	make_files "$MNT" "$n" "$layout"
	wait_synced "$MNT" 3600
	log "$layout $n: $n files written and synced in $(secs "$t0" "$(now)") s"
	local rss_write objects
	rss_write=$(hwm_kib)
	objects=$(vault_count)
	if [ "$layout" = flat ]; then big=$MNT/flat; else big=$MNT/d00000; fi
	local commit_s=() up_b=() vault_b=()
	for i in $(seq "$REPS"); do
		b0=$(sfield bytes_uploaded)
		v0=$(vault_bytes)
		t0=$(now)
		: >"$big/new-$i"
		commit_now "$MNT"
		commit_s+=("$(secs "$t0" "$(now)")")
		wait_synced "$MNT" 600
		up_b+=($(($(sfield bytes_uploaded) - b0)))
		vault_b+=($(($(vault_bytes) - v0)))
	done
	umount_at "$CACHE" "$MNT"
	local same_s=() fresh_s=() rss_load=0 expect=$((n < 1000 ? n : 1000))
	[ "$layout" = tree ] || expect=$n
	expect=$((expect + REPS))
	for i in $(seq "$REPS"); do
		same_s+=("$(timed_mount "$CACHE")")
		[ "$i" -gt 1 ] || rss_load=$(hwm_kib)
		[ "$(ls "$big" | wc -l)" -eq "$expect" ] ||
			fail "$layout $n: $big does not hold its files after the remount"
		umount_at "$CACHE" "$MNT"
		rm -rf "$T/fresh"
		fresh_s+=("$(timed_mount "$T/fresh")")
		umount_at "$T/fresh" "$MNT"
	done
	rm -rf "$T/fresh" "$CACHE" "$VAULT"
	out="$layout $n $objects $rss_write $rss_load"
	for a in same_s fresh_s commit_s up_b vault_b; do
		local -n arr=$a
		out+=" $(stats "${arr[@]}" | tr ' ' ,)"
	done
	echo "$out" >>"$RESULTS"
}

for layout in $LAYOUTS; do
	for n in $COUNTS; do
		one_case "$n" "$layout"
	done
done

# The table: median (min-max), and the median's ratio to the smallest N of the layout.
awk '
function med(s, a) { split(s, a, ","); return a[1] }
function fmt(s, ref, unit, a, r) {
	split(s, a, ",")
	r = med(ref) > 0 ? sprintf("%.2fx", a[1] / med(ref)) : "-"
	return sprintf("%s%s (%s-%s) %s", a[1], unit, a[2], a[3], r)
}
function one(v, ref) { return sprintf("%s %s", v, ref > 0 ? sprintf("%.2fx", v / ref) : "-") }
BEGIN {
	printf "\n%-6s %9s %16s %18s %18s %28s %28s %28s %30s %30s\n", "layout", "files",
	       "vault objects", "RSS write KiB", "RSS load KiB", "mount same cache s",
	       "mount fresh cache s", "commit 1 new file s", "uploaded by it B", "vault delta B"
}
{
	if (!($1 in ref)) ref[$1] = $0
	split(ref[$1], r, " ")
	printf "%-6s %9s %16s %18s %18s %28s %28s %28s %30s %30s\n", $1, $2, one($3, r[3]),
	       one($4, r[4]), one($5, r[5]), fmt($6, r[6], ""), fmt($7, r[7], ""),
	       fmt($8, r[8], ""), fmt($9, r[9], ""), fmt($10, r[10], "")
}
END { print "\nmedian (min-max) over '"$REPS"' runs; NNx: ratio to the first (smallest) count of the layout" }
' "$RESULTS"
