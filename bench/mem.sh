#!/usr/bin/env bash
# bench/mem.sh: what each in-memory inode costs (issue 13), in process, without FUSE: runs
# build/bench/mem_bench (bench/mem_bench.c) for every count of MEM_COUNTS and every case of
# MEM_CASES ("LAYOUT:KIND", LAYOUT flat|tree, KIND empty|chunk|dir), MEM_REPS times each, and
# prints the heap bytes per inode after building the tree and after loading it again (median and
# spread), the peak RSS of the load (the process's VmHWM restarted before it), and the user-mode
# CPU seconds of building, of loading and of unlinking it all (the code's own work; the kernel's
# file work is noisy).
# Usage: bash bench/mem.sh     Env: MEM_COUNTS (default "100000"), MEM_CASES (default
#   "flat:empty tree:empty tree:chunk tree:dir"), MEM_REPS (default 3), MEM_BENCH (the binary).
# Must never touch anything outside the temp dirs mem_bench makes and removes.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${MEM_BENCH:-$REPO/build/bench/mem_bench}
COUNTS=${MEM_COUNTS:-100000}
CASES=${MEM_CASES:-flat:empty tree:empty tree:chunk tree:dir}
REPS=${MEM_REPS:-3}
[ -x "$BIN" ] || make -C "$REPO" build/bench/mem_bench >/dev/null
# stats DECIMALS V...: "median min-max" of numbers
stats() {
	local d=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v d="$d" '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		f = "%." d "f %." d "f-%." d "f"; printf f, m, v[1], v[NR] }'
}
printf '%-8s %-11s %-20s %-20s %-20s %-20s %-20s %s\n' N case "built B/inode" "loaded B/inode" \
	"load peak RSS MiB" "build user s" "load user s" "unlink user s"
for n in $COUNTS; do
	for c in $CASES; do
		built=() loaded=() hwm=() bcpu=() lcpu=() ucpu=()
		for _ in $(seq "$REPS"); do
			out=$("$BIN" "$n" "${c%%:*}" "${c##*:}")
			built+=("$(awk '$1 == "built" { print $5 }' <<<"$out")")
			loaded+=("$(awk '$1 == "loaded" { print $5 }' <<<"$out")")
			hwm+=("$(awk '$1 == "loaded" { print $11 }' <<<"$out")")
			bcpu+=("$(awk '$1 == "built" { print $17 }' <<<"$out")")
			lcpu+=("$(awk '$1 == "loaded" { print $17 }' <<<"$out")")
			ucpu+=("$(awk '$1 == "unlink" { print $17 }' <<<"$out")")
		done
		printf '%-8s %-11s %-20s %-20s %-20s %-20s %-20s %s\n' "$n" "$c" "$(stats 1 "${built[@]}")" \
			"$(stats 1 "${loaded[@]}")" "$(stats 1 "${hwm[@]}")" "$(stats 3 "${bcpu[@]}")" \
			"$(stats 3 "${lcpu[@]}")" "$(stats 3 "${ucpu[@]}")"
	done
done
