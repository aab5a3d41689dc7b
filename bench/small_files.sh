#!/usr/bin/env bash
# bench/small_files.sh: what SMALL_N small files (100-3,000 bytes, the same sizes every run)
# cost in the vault (issue 13, packs): on a fresh folder vault, with periodic commits off, the
# files are written, then one commit and its upload are timed (commit_now + wait until the sync
# says everything is uploaded, less its 1.2 s settling check); reported: the vault's objects and
# bytes, and the commit+upload seconds as median and spread (min-max) of SMALL_REPS runs.
# Give COFFER_REF (another build, e.g. the previous commit's) to run it too in the same run and
# print the ratios new/ref.
# Usage (root, /dev/fuse): bash bench/small_files.sh        (run `make` first)
# Environment: SMALL_N (default 2000), SMALL_REPS (default 3), COFFER (default ./coffer),
#   COFFER_REF (none by default).
# Must never touch anything outside the temp dir of tests/integration/lib.sh.
set -euo pipefail
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sync_lib.sh"

N=${SMALL_N:-2000}
REPS=${SMALL_REPS:-3}
now() { date +%s.%N; }
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'; }

one_run() { # one_run BINARY TAG REP: prints "objects bytes seconds"
	local bin=$1 t0 t1
	COFFER=$bin
	VAULT=$T/vault-$2-$3
	CACHE=$T/cache-$2-$3
	coffer_init
	mount_at "$CACHE" "$MNT" -o commit=3600
	mkdir "$MNT/s"
	python3 - "$MNT/s" "$N" <<'EOF'
import os, random, sys
random.seed(13)
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%d" % i), "wb") as f:
        f.write(os.urandom(random.randint(100, 3000)))
EOF
	t0=$(now)
	wait_synced "$MNT" 600
	t1=$(now)
	umount_at "$CACHE" "$MNT"
	echo "$(find "$VAULT/objects" -type f | wc -l) $(find "$VAULT/objects" -type f -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }') $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a - 1.2 }')"
}

declare -A SECS OBJS BYTES
for tag in new ${COFFER_REF:+ref}; do
	bin=$REPO_ROOT/coffer
	[ "$tag" = ref ] && bin=$COFFER_REF
	s=()
	for r in $(seq "$REPS"); do
		read -r o b sec < <(one_run "$bin" "$tag" "$r")
		s+=("$sec")
	done
	OBJS[$tag]=$o
	BYTES[$tag]=$b
	SECS[$tag]=$(stats "${s[@]}")
	printf '%-4s %s small files: %s objects, %s bytes; commit+upload %s s (median, min, max)\n' \
		"$tag" "$N" "$o" "$b" "${SECS[$tag]}"
done
if [ -n "${COFFER_REF:-}" ]; then
	awk -v a="${OBJS[new]}" -v b="${OBJS[ref]}" -v c="${SECS[new]%% *}" -v d="${SECS[ref]%% *}" \
		'BEGIN { printf "ratio new/ref: objects %.3f, commit+upload seconds %.3f\n", a / b, c / d }'
fi
