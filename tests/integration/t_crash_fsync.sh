#!/usr/bin/env bash
# t_crash_fsync: fsync is a promise that survives a crash of the daemon: a writer appends
# numbered records to a file and fsyncs (or fdatasyncs) after each, logging each record
# number only after fsync returned, and every 100 records creates a side file and fsyncs it
# and its directory; the coffer daemon is killed with SIGKILL at a random moment. Then
# `coffer mount` copes with the dead mount left behind, every logged record is present, in
# order, with no wrong bytes (at most a correct prefix of later records follows), every
# logged side file exists with its content, and the files of earlier rounds are intact.
# Three rounds at random moments; after unmounting, `coffer fsck` is clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cat >"$T/writer.py" <<'PY'
import os, sys
path, logp, mode = sys.argv[1], sys.argv[2], sys.argv[3]
d = os.path.dirname(path)
log = open(logp, "a", buffering=1)
def rec(i):
    return b"%08d " % i + bytes([65 + i % 26]) * 90 + b"\n"
def dsync(p):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd); os.close(fd)
try:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    dsync(d)
    i = 0
    while True:
        os.write(fd, rec(i))
        (os.fsync if mode == "fsync" else os.fdatasync)(fd)
        log.write(f"rec {i}\n")
        if i % 100 == 99:
            side = f"{path}.side-{i}"
            sfd = os.open(side, os.O_CREAT | os.O_WRONLY, 0o644)
            os.write(sfd, b"side %d\n" % i * 1000)
            os.fsync(sfd); os.close(sfd); dsync(d)
            log.write(f"side {i}\n")
        i += 1
except OSError as e:
    log.write(f"stopped: {e}\n")
PY

cat >"$T/verify.py" <<'PY'
import os, sys
path, logp = sys.argv[1], sys.argv[2]
def rec(i):
    return b"%08d " % i + bytes([65 + i % 26]) * 90 + b"\n"
last, sides = -1, []
for line in open(logp):
    w = line.split()
    if w[0] == "rec": last = int(w[1])
    elif w[0] == "side": sides.append(int(w[1]))
data = open(path, "rb").read()
n = len(data) // 100
expected = b"".join(rec(i) for i in range(n + 1))
if data != expected[:len(data)]:
    bad = next(k for k in range(len(data)) if data[k] != expected[k])
    sys.exit(f"{path}: wrong bytes at offset {bad} (record {bad // 100}): {data[bad - bad % 100:bad - bad % 100 + 100]!r}")
if n < last + 1:
    sys.exit(f"{path}: only {n} complete records, but records up to {last} were fsynced")
for s in sides:
    p = f"{path}.side-{s}"
    if not os.path.exists(p):
        sys.exit(f"{p} was fsynced (with its directory) but is missing")
    if open(p, "rb").read() != b"side %d\n" % s * 1000:
        sys.exit(f"{p}: wrong content")
print(f"{os.path.basename(path)}: {last + 1} fsynced records present, {n} complete records, "
      f"{len(data) % 100} bytes of a correct partial record, {len(sides)} side files")
PY

stacked=
coffer_init
coffer_mount -o commit=5
mkdir "$MNT/crash"
for round in 1 2 3; do
	mode=fsync
	[ "$round" -eq 2 ] && mode=fdatasync
	python3 "$T/writer.py" "$MNT/crash/round$round.dat" "$T/written$round.log" "$mode" &
	writer=$!
	pause=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 1.5 + (r % 2500) / 1000 }')
	sleep "$pause"
	pids=$(daemon_pids)
	[ "$(echo "$pids" | wc -w)" -eq 1 ] || fail "expected one coffer daemon for $CACHE, found: '$pids'"
	kill -9 $pids
	# The writer gets ENOTCONN and stops.
	for _ in $(seq 100); do kill -0 "$writer" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$writer" 2>/dev/null && fail "the writer is still running 10 s after the daemon died"
	wait "$writer" || true
	grep -q '^stopped' "$T/written$round.log" || fail "the writer did not see an error after the kill"
	nrec=$(grep -c '^rec' "$T/written$round.log" || true)
	[ "$nrec" -gt 0 ] || fail "the writer fsynced nothing in ${pause}s"
	wait_daemon_exit
	ok "round $round ($mode): killed the daemon after ${pause}s, $nrec records fsynced"

	is_mounted "$MNT" || fail "expected a dead mount left behind on $MNT"
	coffer_mount -o commit=5
	n=$(mount_count "$MNT")
	if [ "$n" -ne 1 ]; then
		# Remember the failure, clear the stack by hand and go on to check the data.
		stacked+="round $round: after coffer mount over the dead mount, $n mounts are stacked on $MNT (the dead one was not cleaned up). "
		echo "not ok - $n mounts stacked on $MNT after mounting over the dead mount" >&2
		"$COFFER" umount "$MNT" || fail "coffer umount of the stacked mount failed"
		wait_daemon_exit
		while is_mounted "$MNT"; do fusermount3 -uz "$MNT"; done
		coffer_mount -o commit=5
	fi
	for r in $(seq 1 "$round"); do
		out=$(python3 "$T/verify.py" "$MNT/crash/round$r.dat" "$T/written$r.log") || fail "after crash $round: $out"
		[ "$r" -eq "$round" ] && ok "$out"
	done
	ok "round $round: remounted over the dead mount; all fsynced data of rounds 1..$round present"
done
coffer_umount
coffer_fsck
ok "coffer fsck clean after three crashes"
coffer_mount
for r in 1 2 3; do
	python3 "$T/verify.py" "$MNT/crash/round$r.dat" "$T/written$r.log" >/dev/null || fail "round $r data changed after a clean remount"
done
coffer_umount
ok "data intact after a clean remount"
[ -z "$stacked" ] || fail "$stacked"
