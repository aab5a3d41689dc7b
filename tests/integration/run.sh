#!/usr/bin/env bash
# run.sh: runs the FUSE integration tests (every tests/integration/t_*.sh, or the names
# given as arguments), each under a timeout, with its output in build/test-logs/NAME.log;
# prints PASS/FAIL per test (with the log's tail on failure) and ends with the line
# "N passed, N failed", exiting non-zero if any failed. Needs root and /dev/fuse: it fails,
# never skips, without them.
set -euo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$DIR/../.." && pwd)
LOGDIR=$ROOT/build/test-logs
TIMEOUT=${TEST_TIMEOUT:-600}

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL: the integration tests must run as root (they mount FUSE filesystems)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -c /dev/fuse ]; then
	echo "FAIL: /dev/fuse is missing" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$ROOT/coffer" ]; then
	echo "FAIL: $ROOT/coffer is not built (run make)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

tests=()
if [ "$#" -gt 0 ]; then
	for a in "$@"; do
		a=$(basename "$a" .sh)
		[ -f "$DIR/$a.sh" ] || a=t_$a
		[ -f "$DIR/$a.sh" ] || { echo "FAIL: no test named $1" >&2; exit 1; }
		tests+=("$DIR/$a.sh")
	done
else
	for t in "$DIR"/t_*.sh; do tests+=("$t"); done
fi

# Mount points of test temp dirs, to sweep what a killed test left behind.
# Each run has its own prefix, so that two runs at once never sweep each other's mounts.
export COFFER_IT_PREFIX=/tmp/coffer-it-$$
test_mounts() { awk -v p="$COFFER_IT_PREFIX." 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -u; }

mkdir -p "$LOGDIR"
passed=0
failed=0
failed_names=()
suite_start=$(date +%s)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	log=$LOGDIR/$name.log
	start=$(date +%s)
	mounts_before=$(test_mounts)
	set +e
	timeout --kill-after=30 "$TIMEOUT" bash "$t" </dev/null >"$log" 2>&1
	rc=$?
	set -e
	secs=$(($(date +%s) - start))
	# A test killed by the timeout cannot clean up: detach the mounts it left.
	for raw in $(comm -13 <(echo "$mounts_before") <(test_mounts)); do
		m=${raw//\\040/ } # /proc/mounts escapes spaces
		echo "run.sh: detaching $m left by $name" >>"$log"
		while M=$raw awk '$2 == ENVIRON["M"] { f = 1 } END { exit !f }' /proc/mounts; do
			fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" || break
		done
	done
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
	else
		if [ "$rc" -eq 124 ]; then
			echo "FAIL $name (timed out after ${TIMEOUT}s)"
		elif [ "$rc" -eq 137 ]; then
			echo "FAIL $name (killed by SIGKILL after ${secs}s)"
		else
			echo "FAIL $name (exit $rc, ${secs}s)"
		fi
		tail -n 25 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
done
echo "integration suite took $(($(date +%s) - suite_start))s; logs in $LOGDIR"
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
