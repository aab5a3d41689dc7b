#!/usr/bin/env bash
# bench/mem.sh: what each in-memory inode costs (issue 13), in process, without FUSE: runs
# build/bench/mem_bench (bench/mem_bench.c) for every count of MEM_COUNTS and every case of
# MEM_CASES ("LAYOUT:KIND", LAYOUT flat|tree, KIND empty|chunk|dir), MEM_REPS times each, and
# prints the heap bytes per inode after building the tree and after loading it again (median and
# spread), and the peak RSS of each run.
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
# stats V...: "median min-max"
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f-%.1f", m, v[1], v[NR] }'; }
printf '%-8s %-12s %-26s %-26s %s\n' N case "built B/inode (med min-max)" "loaded B/inode" "peak RSS MiB"
for n in $COUNTS; do
	for c in $CASES; do
		built=() loaded=() hwm=()
		for _ in $(seq "$REPS"); do
			out=$("$BIN" "$n" "${c%%:*}" "${c##*:}")
			built+=("$(awk '$1 == "built" { print $5 }' <<<"$out")")
			loaded+=("$(awk '$1 == "loaded" { print $5 }' <<<"$out")")
			hwm+=("$(awk '$1 == "loaded" { print $11 }' <<<"$out")")
		done
		printf '%-8s %-12s %-26s %-26s %s\n' "$n" "$c" "$(stats "${built[@]}")" \
			"$(stats "${loaded[@]}")" "$(stats "${hwm[@]}")"
	done
done
