#!/usr/bin/env bash
# run.sh SECONDS TARGET...: runs each libFuzzer target (build/fuzz/fuzz_NAME) for SECONDS on its
# committed seeds (tests/fuzz/corpus/NAME, never written) plus a working corpus under
# build/fuzz/corpus/NAME, one target at a time, and prints executions and crashes per target and
# in all. Exits 1 if any target crashed (its input is in build/fuzz/crashes/, to be added to
# tests/fuzz/corpus/NAME as a regression input once the decoder is fixed).
# Must never write into tests/fuzz/corpus.
set -uo pipefail
secs=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
total=0
failed=0
printf '%-18s %12s %8s\n' target executions crashes
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	work=$root/build/fuzz/corpus/$name
	crashes=$root/build/fuzz/crashes
	log=$root/build/fuzz/$name.log
	mkdir -p "$work" "$crashes"
	"$bin" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/$name-" \
		"$work" "$root/tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=${execs:-0}
	crashed=0
	if [ "$rc" -ne 0 ]; then
		crashed=1
		failed=1
		grep -E 'ERROR|contract broken|SUMMARY|Test unit written' "$log" | head -5 >&2
	fi
	printf '%-18s %12s %8s\n' "$name" "$execs" "$crashed"
	total=$((total + execs))
done
printf '%-18s %12s\n' total "$total"
exit "$failed"
