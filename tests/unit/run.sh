#!/usr/bin/env bash
# run.sh: runs each unit test binary given as an argument; prints PASS/FAIL per binary (with
# its output on failure) and a final line "unit: N passed, N failed"; exits non-zero if any
# failed or if no binary was given.
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: tests/unit/run.sh TEST_BINARY..." >&2
	echo "unit: 0 passed, 0 failed"
	exit 2
fi
TIMEOUT=${UNIT_TIMEOUT:-300}
out=$(mktemp)
# the sync keeps a copy of its state outside each cache: in a folder of the run's, not ~/.local
XDG_STATE_HOME=$(mktemp -d)
export XDG_STATE_HOME
trap 'rm -f "$out"; rm -rf "$XDG_STATE_HOME"' EXIT
passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	start=$(date +%s)
	set +e
	if [ ! -x "$bin" ]; then
		echo "missing or not executable: $bin" >"$out"
		rc=127
	else
		timeout "$TIMEOUT" "$bin" </dev/null >"$out" 2>&1
		rc=$?
	fi
	set -e
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name ($(($(date +%s) - start))s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name (exit $rc)"
		tail -n 40 "$out" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
