#!/usr/bin/env bash
# bench/small_files.sh: what SMALL_N small files (100 to SMALL_MAX bytes, default 3,000, the same
# sizes every run)
# cost in the vault (issue 13, packs): on a fresh vault, with periodic commits off, the files
# are written, then one commit and its upload are timed (commit_now, then until the sync says
# everything is uploaded, less wait_synced's 1.2 s settling check). Reported: the objects and
# bytes that upload carried (the daemon's objects_uploaded and bytes_uploaded), and the
# commit+upload seconds as median and spread (min-max) of SMALL_REPS runs.
# SMALL_VAULT=folder (default) or s3 (a loopback Ceph RGW of tests/servers, started once).
# Give COFFER_REF (another build, e.g. the previous commit's) to run it too, alternating with
# this one, and print the ratios new/ref.
# Usage (root, /dev/fuse): bash bench/small_files.sh        (run `make` first)
# Environment: SMALL_N (default 2000), SMALL_MAX, SMALL_REPS (default 3), SMALL_VAULT,
#   COFFER_REF.
# Must never touch anything outside the temp dir of tests/integration/lib.sh.
set -euo pipefail
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sync_lib.sh"

N=${SMALL_N:-2000}
MAX=${SMALL_MAX:-3000}
REPS=${SMALL_REPS:-3}
KIND=${SMALL_VAULT:-folder}
now() { date +%s.%N; }
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'; }

BASE=
if [ "$KIND" = s3 ]; then
	. "$(dirname "$0")/../tests/integration/remote_lib.sh"
	start_rgw
	curl -sS -f -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$RGW_PORT/bench" >/dev/null || fail "cannot create the bucket"
	BASE=s3+http://127.0.0.1:$RGW_PORT/bench
fi

one_run() { # one_run BINARY TAG REP: prints "objects bytes seconds"
	local t0 t1 o0 b0
	COFFER=$1
	VAULT=${BASE:-$T}/vault-$2-$3
	CACHE=$T/cache-$2-$3
	MNT=$T/mnt-$2-$3 # a mount point per run: the last one's may linger a moment after umount
	"$COFFER" init --passfile "$PASSFILE" --kdf-level min "$VAULT" >/dev/null || fail "init $VAULT"
	mount_at "$CACHE" "$MNT" -o commit=3600
	mkdir "$MNT/s"
	wait_synced "$MNT" 600
	o0=$(sfield objects_uploaded)
	b0=$(sfield bytes_uploaded)
	python3 - "$MNT/s" "$N" "$MAX" <<'EOF'
import os, random, sys
random.seed(13)
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%d" % i), "wb") as f:
        f.write(os.urandom(random.randint(100, int(sys.argv[3]))))
EOF
	t0=$(now)
	wait_synced "$MNT" 600
	t1=$(now)
	echo "$(($(sfield objects_uploaded) - o0)) $(($(sfield bytes_uploaded) - b0))" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a - 1.2 }')"
	umount_at "$CACHE" "$MNT"
	rm -rf "$CACHE"
}

tags=(new ${COFFER_REF:+ref})
declare -A S O B
for r in $(seq "$REPS"); do
	for tag in "${tags[@]}"; do
		bin=$REPO_ROOT/coffer
		[ "$tag" = ref ] && bin=$COFFER_REF
		read -r o b sec < <(one_run "$bin" "$tag" "$r")
		S[$tag]="${S[$tag]:-} $sec"
		O[$tag]=$o
		B[$tag]=$b
	done
done
declare -A MED
for tag in "${tags[@]}"; do
	# shellcheck disable=SC2086
	read -r med lo hi < <(stats ${S[$tag]})
	MED[$tag]=$med
	printf '%-3s %s files of 100-%s bytes, %s vault: %s objects, %s bytes uploaded; commit+upload %s s (%s-%s)\n' \
		"$tag" "$N" "$MAX" "$KIND" "${O[$tag]}" "${B[$tag]}" "$med" "$lo" "$hi"
done
if [ -n "${COFFER_REF:-}" ]; then
	awk -v a="${O[new]}" -v b="${O[ref]}" -v c="${MED[new]}" -v d="${MED[ref]}" \
		'BEGIN { printf "ratio new/ref: objects %.3f, commit+upload seconds %.3f\n", a / b, c / d }'
fi
echo "command: SMALL_N=$N SMALL_MAX=$MAX SMALL_REPS=$REPS SMALL_VAULT=$KIND ${COFFER_REF:+COFFER_REF=$COFFER_REF }bash bench/small_files.sh"
