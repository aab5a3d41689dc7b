#!/usr/bin/env bash
# bench/seqread_ab.sh: the cold sequential read A/B, gocryptfs against Coffer (and passthrough_ll,
# the reference of the ratios), on the disk, ROUNDS (default 7) alternating runs: bench/run.sh
# with BENCH_WORKLOADS=seq (seq write + fsync, umount, remount, drop_caches, dd bs=1M to
# /dev/null), which prints the medians and the spread. All the logic lives in bench/run.sh.
# Usage (root): bash bench/seqread_ab.sh   Env: ROUNDS, BENCH_DIR, COFFER, BENCH_BACKINGS
# (default disk), BENCH_FS (default "passthrough_ll gocryptfs coffer").
# Must never do anything bench/run.sh does not (it only sets its environment).
set -euo pipefail
export BENCH_WORKLOADS=seq BENCH_REPS=${ROUNDS:-7} BENCH_BACKINGS=${BENCH_BACKINGS:-disk}
export BENCH_FS=${BENCH_FS:-passthrough_ll gocryptfs coffer}
exec bash "$(dirname "$0")/run.sh" "$@"
