#!/usr/bin/env bash
# t_remote_faults: the server answers 500/503 or stops answering for a while, on every backend:
# the sync retries with backoff and jitter, the mount keeps working, `coffer status` shows the
# error, and no data is lost. Servers on 127.0.0.1, started here: Apache mod_dav (WebDAV) and Ceph
# RGW (S3), each behind tests/servers/faultproxy.py, which answers 503, 500 or nothing at all on
# demand; OpenSSH sshd (SFTP), stalled with SIGSTOP. The three backends run at the same time (each
# with its own vault, cache, mount and log; output lines are prefixed with the backend's name).
# WebDAV and S3, through the proxy: init, mount, 3 MiB uploaded; then for 503 and for 500:
#   the proxy answers that status to everything; 2 MiB + a small file written and fsynced, read
#   back (the mount keeps working); the status shows state "retrying" and the error; the proxy's
#   log shows several retries, spaced increasingly: in-request retries with growing gaps, first
#   retries jittered, quiet periods growing to seconds; then the proxy passes again and the
#   status returns to idle with the vault holding the newest generation.
# WebDAV (only, to keep the time down; S3_HANG=1 adds it for S3) also: the proxy takes requests
#   and never answers, until the client's timeouts (sync/remote/transfer.c: 10 s to connect, 30 s below
#   512 B/s) made the status show the error 3 s ago (at least FAULT_MIN s, at most FAULT_LONG s):
#   the client gives up on a request and sends another while the server still hangs; writes and
#   fsync keep working.
# SFTP: sshd and every session it forked are stopped (SIGSTOP) while 2 MiB are written, for as
#   long (FAULT_MIN to FAULT_LONG s); the mount keeps working; the status shows the error.
#   (A fixed fault length failed on a slower machine: requests on kept connections time out only
#   30 s after their bytes stopped moving, which can be later than a 40 s stall.)
# In every fault: from STALE_GRACE (12) s after the commit on, the status never says "idle" (the
#   data committed meanwhile waits: a status that says idle has stopped being refreshed).
# Every backend, at the end: umount waits for the upload; a fresh cache, mounted read-only
#   directly on the server, holds every byte (sha256 of every file) at the generation unmounted.
# WebDAV, last: the proxy cuts every whole GET answer over 4 KiB after half its body; another
#   fresh cache, mounted read-only through the proxy, still reads every byte: each broken body is
#   resumed with a Range request (If-Range: the same ETag), which the proxy lets through whole.
# A failed status or retry check does not stop the backend's scenario: it goes on to check the
# data, then fails with every such message; the test fails if any backend failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

HANG=${HANG:-1}       # the hang phase, WebDAV (0: none)
S3_HANG=${S3_HANG:-0} # the same for S3 (off: the code path is the same, sync/remote/transfer.c)
FAULT_MIN=20          # a hang or stall lasts at least this long (the idle check needs the time)
FAULT_LONG=${FAULT_LONG:-120} # and at most this long: no error shown by then fails the test
FAULT_MAX=${FAULT_MAX:-40} # longest a 500/503 phase waits for the retries it needs to see
BACKENDS=${FAULT_BACKENDS:-webdav s3 sftp} # to debug one alone; all three otherwise
# The status is rewritten between sync rounds; a round that fails takes a few seconds (4 tries with
# backoff, and WebDAV retries the clean-up of its temporary name too). A status older than this
# many seconds after a commit, still saying idle, is wrong.
STALE_GRACE=12
with_insecure_http_auth # webdav:// here is basic auth over plain HTTP
command -v python3 >/dev/null || fail "python3 is needed for tests/servers/faultproxy.py"

export DAV_DIR=$T/apache DAV_PORT CEPH_DIR=$T/ceph RGW_PORT MON_PORT MON1_PORT SSHD_DIR=$T/sshd SSHD_PORT
DAV_PORT=$(free_port)
RGW_PORT=$(free_port)
MON_PORT=$(free_port)
MON1_PORT=$(free_port)
SSHD_PORT=$(free_port)

JOB_PIDS=()
CEPH_START_PID=""
server_cleanup() {
	local p tree=""
	for p in "${JOB_PIDS[@]}"; do tree="$tree $p $(descendants "$p" | tr '\n' ' ')"; done
	[ -z "${tree// /}" ] || kill $tree 2>/dev/null
	# anything the SFTP stall stopped must run again, or it could never be stopped
	[ -s "$T/stopped.pids" ] && kill -CONT $(cat "$T/stopped.pids") 2>/dev/null
	[ -n "$CEPH_START_PID" ] && kill "$CEPH_START_PID" 2>/dev/null && wait "$CEPH_START_PID"
	"$SERVERS/stop-apache-dav.sh"
	"$SERVERS/stop-sshd.sh"
	"$SERVERS/stop-ceph-rgw.sh"
	true
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# put_file SRC NAME MIB: MIB MiB of random bytes as SRC/NAME and MNT/NAME (dd with fsync, which
# must finish within 15 s: the mount keeps working whatever the server does), read back.
put_file() {
	local src=$1 name=$2 mib=$3 t0 rc=0
	head -c $((mib * 1048576)) /dev/urandom >"$src/$name"
	t0=$(now)
	timeout 30 dd if="$src/$name" of="$MNT/$name" bs=1M conv=fsync status=none || rc=$?
	[ "$rc" -eq 0 ] || fail "dd of $mib MiB to $MNT/$name failed (exit $rc) after $(elapsed "$t0") s"
	awk -v s="$(elapsed "$t0")" 'BEGIN { exit !(s <= 15) }' ||
		fail "writing $mib MiB with fsync took $(elapsed "$t0") s"
	assert_eq "$(sha256sum <"$MNT/$name")" "$(sha256sum <"$src/$name")" "reading $name back"
}

# put_note SRC TEXT: appends a line to notes.txt in SRC and in the mount, fsyncs it.
put_note() {
	printf '%s\n' "$2" >>"$1/notes.txt"
	printf '%s\n' "$2" >>"$MNT/notes.txt" || fail "appending to $MNT/notes.txt"
	sync "$MNT/notes.txt" || fail "fsync of $MNT/notes.txt"
	cmp -s "$1/notes.txt" "$MNT/notes.txt" || fail "notes.txt reads back differently"
}

# write_during SRC WHAT T0: while the fault WHAT lasts (since T0), 2 MiB and a note are written
# to the mount and SRC, fsynced and read back; TC gets the time of that commit (epoch seconds).
write_during() {
	put_file "$1" "during-$2.bin" 2
	put_note "$1" "written during the fault: $2"
	commit_now
	TC=$(date +%s)
	ok "$2: 2 MiB and a note written, fsynced and read back in $(elapsed "$3") s"
}

# A status that shows an error at or after $t (jq, with --argjson t EPOCH).
ERROR_SINCE='.last_error != "" and .last_error_time >= $t'

# fault_until T0 OUT [CMD ARGS]: while a fault lasts (since T0), once a second: the mount must
# still be there, a status sample goes to OUT, and CMD ARGS runs. Returns when FAULT_MIN s have
# passed and the status has shown an error since T0 for 3 s (time for a retry to follow), or after
# FAULT_LONG s. SHOWN_AFTER gets the seconds from T0 to the first sample that showed the error
# (empty: none did).
fault_until() {
	local t0=$1 out=$2 e
	shift 2
	SHOWN_AFTER=""
	while :; do
		is_mounted "$MNT" || fail "$MNT is no longer mounted"
		status_sample "$out"
		[ "$#" -eq 0 ] || "$@"
		e=$(elapsed "$t0")
		if [ -z "$SHOWN_AFTER" ] && tail -n 1 "$out" | cut -d ' ' -f 2- |
			jq -e --argjson t "${t0%.*}" "$ERROR_SINCE" >/dev/null 2>&1; then
			SHOWN_AFTER=$e
		fi
		awk -v e="$e" -v min="$FAULT_MIN" -v max="$FAULT_LONG" -v s="${SHOWN_AFTER:--1}" \
			'BEGIN { exit !(e >= max || (s >= 0 && e >= min && e >= s + 3)) }' && break
		sleep 1
	done
}

# status_sample OUT: appends "EPOCH JSON" of the status to OUT.
status_sample() {
	local s
	s=$(sj 2>/dev/null | tr -d '\n') || s='{}'
	printf '%s %s\n' "$(date +%s)" "$s" >>"$1"
}

# faulty_status SINCE: true when the status shows retrying and an error at or after SINCE.
faulty_status() {
	sj 2>/dev/null | jq -e --argjson t "$1" \
		".state == \"retrying\" and ($ERROR_SINCE)" >/dev/null
}

# later_fail MESSAGE: a failure that does not stop the backend's scenario (so that its data is still
# checked); the scenario fails at its end (done_or_fail) with every such message.
later_fail() {
	printf '%s\n' "$*" >>"$DEFERRED"
	printf 'FAIL (the scenario goes on, and fails at its end) - %s\n' "$*" >&2
}
done_or_fail() {
	[ ! -s "$DEFERRED" ] || fail "$(grep -c . "$DEFERRED") check(s) failed above: $(tr '\n' ' ' <"$DEFERRED")"
}

# never_idle SAMPLES SINCE UNTIL WHAT: no status sample taken from SINCE to before UNTIL (epoch
# seconds) says "idle": data committed while the server fails is waiting; idle would be a lie
# (the sign of a status that stopped being refreshed while a request hangs).
never_idle() {
	local bad what=$4
	bad=$(awk -v t="$2" -v u="$3" '$1 >= t && $1 < u { $1 = ""; print }' "$1" |
		jq -c 'select(.state == "idle") | {state, local_generation, remote_generation, objects_waiting, bytes_waiting, last_error, last_error_time}')
	if [ -n "$bad" ]; then
		later_fail "$what: $(grep -c . <<<"$bad") status samples (about one a second) said idle while data committed meanwhile waited; the first: $(head -n 1 <<<"$bad")"
	else
		ok "$what: the status never claimed idle while data waited"
	fi
}

# The proxy log's analysis (EPOCH MODE METHOD PATH RESULT SECONDS per line).
cat >"$T/retries.py" <<'PY'
import collections, sys
cmd, log, mode, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
reqs = []
for line in open(log):
    f = line.split()
    if len(f) == 6 and f[1] == mode and f[4] == mode and t0 <= float(f[0]) <= t1:
        reqs.append((float(f[0]), f[2] + " " + f[3]))
reqs.sort()
times = [t for t, _ in reqs]
merged = [b - a for a, b in zip(times, times[1:])]
QUIET = 1.7  # longer than any in-request backoff (200 << 2 ms plus as much again)
if cmd == "done":  # enough seen: 8 requests, and a quiet period of 3 s that ended
    sys.exit(0 if len(times) >= 8 and max(merged, default=0) >= 3.0 else 1)
paths = collections.defaultdict(list)
for t, p in reqs:
    paths[p].append(t)
problems = []
growing, first_retry, best = [], [], None
for p, ts in paths.items():
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    if best is None or len(ts) > len(paths[best]):
        best = p
    series = [[]]  # the gaps of one request's tries
    for g in gaps:
        if g >= QUIET:
            series.append([])
        else:
            series[-1].append(g)
    for s in series:
        if s:
            first_retry.append(s[0])
        head = s[:3]  # the retries of one request (a later round may follow too soon to split)
        if len(head) >= 2 and all(a < b for a, b in zip(head, head[1:])) and head[0] >= 0.1:
            growing.append(head)
quiet = [g for g in merged if g >= QUIET]
fmt = lambda v: "[" + " ".join("%.2f" % x for x in v) + "]"
print("%d %s answers over %.1f s to %d requests; most tried: %s x%d, gaps %s" % (
    len(times), mode, (times[-1] - times[0]) if times else 0, len(paths), best,
    len(paths[best]) if best else 0,
    fmt([b - a for a, b in zip(paths[best], paths[best][1:])]) if best else "[]"))
print("in-request gaps that grow: %s" % " ".join(fmt(s) for s in growing[:4]))
print("first retries: %s; quiet periods between rounds: %s" % (fmt(sorted(first_retry)), fmt(quiet)))
if len(times) < 8:
    problems.append("only %d requests were answered %s: too few retries" % (len(times), mode))
if not growing:
    problems.append("no request was retried with growing gaps (backoff inside a request)")
if len(first_retry) >= 3 and max(first_retry) - min(first_retry) < 0.01:
    problems.append("the first retries all came after the same delay: no jitter")
if first_retry and min(first_retry) >= 1.0:
    problems.append("no retry came within 1 s")
if max(merged, default=0) < 3.0 or max(merged, default=0) < 3 * min(first_retry, default=1):
    problems.append("the retries never spaced out to seconds (no backoff between rounds)")
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY

# fault_phase NAME MODE SRC: the proxy answers MODE; data written meanwhile; status and retries
# checked; then the proxy passes again and the vault catches up.
fault_phase() {
	local name=$1 mode=$2 src=$3 mf=$T/$1.mode plog=$T/$1.proxy.log t0 t1 tc seen="" samples=$T/$1.$2.status
	log "phase $mode: the proxy answers $mode to everything"
	t0=$(now)
	set_mode "$mf" "$mode"
	write_during "$src" "$mode" "$t0"
	tc=$TC
	while :; do
		is_mounted "$MNT" || fail "$MNT is no longer mounted"
		status_sample "$samples"
		if [ -z "$seen" ] && faulty_status "${t0%.*}"; then
			seen=$(sj | jq -c '{state, last_error, last_error_time, local_generation, remote_generation, objects_waiting, bytes_waiting}')
			ok "$mode: after $(elapsed "$t0") s the status shows $seen"
		fi
		if [ -n "$seen" ] && python3 "$T/retries.py" done "$plog" "$mode" "$t0" "$(now)"; then
			break
		fi
		if awk -v s="$(elapsed "$t0")" -v m="$FAULT_MAX" 'BEGIN { exit !(s > m) }'; then
			break
		fi
		sleep 0.5
	done
	t1=$(now)
	set_mode "$mf" pass
	[ -n "$seen" ] || later_fail "$mode for $(elapsed "$t0") s: the status never showed state retrying with an error: $(sj)"
	never_idle "$samples" $((tc + STALE_GRACE)) "${t1%.*}" "$mode"
	local report rc=0
	report=$(python3 "$T/retries.py" check "$plog" "$mode" "$t0" "$t1") || rc=$?
	printf '%s\n' "$report" | sed "s/^/    /"
	if [ "$rc" -ne 0 ]; then
		later_fail "$mode: the retries are not what they should be (see above)"
	else
		ok "$mode for $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: several retries, spaced increasingly, jittered"
	fi
	t0=$(now)
	wait_synced "$MNT" 60
	ok "$mode over: the vault caught up $(elapsed "$t0") s after the proxy passed again; status $(sj | jq -c '{state, last_error, remote_generation}')"
}

# hang_phase NAME SRC: the proxy reads requests and answers nothing (fault_until says how long).
hang_phase() {
	local name=$1 src=$2 mf=$T/$1.mode plog=$T/$1.proxy.log t0 t1 tc samples=$T/$1.hang.status gone first_gone_t span
	log "phase hang: the proxy takes requests and answers nothing until the status shows an error"
	t0=$(now)
	set_mode "$mf" hang
	write_during "$src" hang "$t0"
	tc=$TC
	fault_until "$t0" "$samples"
	t1=$(now)
	set_mode "$mf" pass
	span="hang for $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
	sleep 1 # the proxy logs a hung request when it lets it go (within 0.1 s)
	# the client gave up on a request (its timeout), then tried again
	gone=$(awk -v a="$t0" '$1 >= a && $2 == "hang" && $5 == "hang-client-gone" { print }' "$plog")
	if [ -z "$gone" ]; then
		later_fail "$span: the client never gave up on a request: $(awk -v a="$t0" '$1 >= a' "$plog" | tail -n 8)"
	else
		first_gone_t=$(awk 'NR == 1 { printf "%.3f", $1 + $6 }' <<<"$gone")
		ok "$span: the client gave up on $(grep -c . <<<"$gone") requests; the first after $(awk 'NR == 1 { print $6 }' <<<"$gone") s"
		local after # requests that came after that, while the server still hung
		after=$(awk -v a="$first_gone_t" -v b="$t1" '$1 > a && $1 <= b { n++ } END { print n + 0 }' "$plog")
		if [ "$after" -gt 0 ]; then
			ok "hang: $after requests came after the client gave up, while the server still hung"
		else
			later_fail "hang: no request came in the $(awk -v a="$first_gone_t" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s between the client giving up and the end of the hang (no retry)"
		fi
	fi
	for _ in $(seq 1 10); do status_sample "$samples"; sleep 0.5; done
	log "status samples during the hang: $(sample_summary "$samples")"
	shown_or_fail "$samples" "$t0" "$span"
	never_idle "$samples" $((tc + STALE_GRACE)) "${t1%.*}" hang
	t0=$(now)
	wait_synced "$MNT" 90
	ok "hang over: the vault caught up $(elapsed "$t0") s after the proxy answered again"
}

# sample_summary SAMPLES: the distinct status samples, each with how many times in a row it came.
sample_summary() {
	awk '{ $1 = ""; print }' "$1" | jq -c '{state, last_error, last_error_time, objects_waiting}' |
		uniq -c | tr -s ' ' | tr '\n' ';'
}

# shown_or_fail SAMPLES T0 WHAT: some sample showed an error at or after T0 (SHOWN_AFTER s in).
shown_or_fail() {
	local shown
	shown=$(awk '{ $1 = ""; print }' "$1" |
		jq -c --argjson t "${2%.*}" "select($ERROR_SINCE) | {state, last_error, last_error_time}" |
		sed -n 1p) # (not head: with pipefail, jq would die of SIGPIPE)
	if [ -n "$shown" ]; then
		ok "$3: the status showed the error ${SHOWN_AFTER:-?} s after the fault began: $shown"
	else
		later_fail "$3: the status never showed an error, during the fault or 5 s after"
	fi
}

# verify NAME SRC URL: umount (waits for the upload), then a fresh cache mounted read-only on URL
# holds every file of SRC, byte for byte, at the generation unmounted.
verify() {
	local name=$1 src=$2 url=$3 gen t0
	t0=$(now)
	coffer_umount
	gen=$(last_unmount_gen)
	ok "umount waited $(elapsed "$t0") s for the upload; generation $gen"
	VAULT=$url
	mount_at "$T/cache-$name-fresh" "$T/mnt-$name-fresh" -o ro
	assert_eq "$(sfield remote_generation "$T/mnt-$name-fresh")" "$gen" "the vault's generation after umount"
	local want got
	want=$(sums "$src")
	got=$(sums "$T/mnt-$name-fresh")
	[ "$want" = "$got" ] || fail "a fresh cache does not hold what was written: $(diff <(echo "$want") <(echo "$got") | sed -n 1,6p)"
	umount_at "$T/cache-$name-fresh" "$T/mnt-$name-fresh"
	ok "a fresh cache holds every byte of $(grep -c . <<<"$want") files at generation $gen: nothing lost"
}

# cut_phase NAME SRC URL: whole GET answers over 4 KiB break off halfway; a fresh cache mounted
# through the proxy at URL must still read every byte of SRC, resuming each broken body.
cut_phase() {
	local name=$1 src=$2 mf=$T/$1.mode plog=$T/$1.proxy.log t0 cuts ranged want got
	log "phase cut: whole GET answers over 4 KiB break off halfway"
	t0=$(now)
	set_mode "$mf" cut
	VAULT=$3
	mount_at "$T/cache-$name-cut" "$T/mnt-$name-cut" -o ro
	want=$(sums "$src")
	got=$(sums "$T/mnt-$name-cut") ||
		fail "cut: reading through answers that break off failed (no resume?): $(tail -n 3 "$LOG")"
	umount_at "$T/cache-$name-cut" "$T/mnt-$name-cut"
	set_mode "$mf" pass
	[ "$want" = "$got" ] ||
		fail "cut: a fresh cache read through broken answers differs: $(diff <(echo "$want") <(echo "$got") | sed -n 1,6p)"
	cuts=$(awk -v a="$t0" '$1 >= a && $2 == "cut" && $5 ~ /^cut-/' "$plog" | grep -c . || true)
	ranged=$(awk -v a="$t0" '$1 >= a && $2 == "cut" && $3 == "GET" && $5 == "206"' "$plog" | grep -c . || true)
	[ "$cuts" -gt 0 ] || fail "cut: no answer was cut, so nothing was tested: $(awk -v a="$t0" '$1 >= a' "$plog" | tail -n 5)"
	[ "$ranged" -ge "$cuts" ] ||
		fail "cut: $cuts answers were cut but only $ranged resumed with a Range request (206)"
	ok "cut: $cuts GET answers broke off halfway, $ranged resumed with Range (206); a fresh cache read every byte of $(grep -c . <<<"$want") files"
}

# http_backend NAME URL DIRECT_URL HANG [cut]: the whole scenario for a backend behind faultproxy
# (HANG: 1 for the hang phase, 0 for none).
http_backend() {
	local name=$1 direct=$3 hang=$4 src=$T/src-$1
	DEFERRED=$T/$1.deferred
	VAULT=$2 CACHE=$T/cache-$name MNT=$T/mnt-$name LOG=$T/log-$name
	mkdir -p "$src"
	remote_init
	coffer_mount
	put_file "$src" before.bin 3
	put_note "$src" "written before the faults"
	wait_synced "$MNT" 60
	ok "3 MiB uploaded through the proxy"
	fault_phase "$name" 503 "$src"
	fault_phase "$name" 500 "$src"
	[ "$hang" = 0 ] || hang_phase "$name" "$src"
	verify "$name" "$src" "$direct"
	[ "${5:-}" != cut ] || cut_phase "$name" "$src" "$2"
	done_or_fail
}

# descendants PID...: every process below these.
descendants() {
	local p k
	for p in "$@"; do
		for k in $(pgrep -P "$p" || true); do
			echo "$k"
			descendants "$k"
		done
	done
}

# ssh_conns OUT: appends "EPOCH STATE LOCAL" for each TCP connection to sshd.
ssh_conns() {
	ss -Htan "( dport = :$SSHD_PORT )" | awk -v t="$(now)" '{ print t, $1, $4 }' >>"$1"
}

sftp_backend() {
	local src=$T/src-sftp listener pids t0 t1 tc samples=$T/sftp.stall.status conns=$T/sftp.conns
	DEFERRED=$T/sftp.deferred
	VAULT=sftp://root@127.0.0.1:$SSHD_PORT$T/served/v1 CACHE=$T/cache-sftp MNT=$T/mnt-sftp LOG=$T/log-sftp
	mkdir -p "$src" "$T/served"
	remote_init
	coffer_mount
	put_file "$src" before.bin 3
	put_note "$src" "written before the stall"
	wait_synced "$MNT" 60
	ok "3 MiB uploaded"
	listener=$(cat "$SSHD_DIR/pid")
	t0=$(now)
	kill -STOP "$listener"
	pids="$listener $(descendants "$listener" | tr '\n' ' ')"
	echo "$pids" >"$T/stopped.pids"
	kill -STOP $pids
	ok "sshd and its sessions stopped (pids $pids)"
	write_during "$src" stall "$t0"
	tc=$TC
	fault_until "$t0" "$samples" ssh_conns "$conns"
	t1=$(now)
	kill -CONT $pids
	rm -f "$T/stopped.pids"
	ok "sshd continued after $(elapsed "$t0") s"
	for _ in $(seq 1 10); do
		status_sample "$samples"
		ssh_conns "$conns"
		sleep 0.5
	done
	# what the client did meanwhile, seen from its TCP connections to sshd
	log "connections to sshd (client port: first and last seen, seconds from the stop, states): $(awk -v t0="$t0" '
		{ k = $3; if (!(k in first)) { first[k] = $1; order[n++] = k }; last[k] = $1; if (index(st[k], $2) == 0) st[k] = st[k] $2 "," }
		END { for (i = 0; i < n; i++) { k = order[i]; sub(/.*:/, "", k); printf "%s %+.0f..%+.0f %s; ", k, first[order[i]] - t0, last[order[i]] - t0, st[order[i]] } }' "$conns")"
	log "status samples during and after the stall: $(sample_summary "$samples")"
	shown_or_fail "$samples" "$t0" "sshd stopped for $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
	never_idle "$samples" $((tc + STALE_GRACE)) "${t1%.*}" stall
	t0=$(now)
	wait_synced "$MNT" 90
	ok "stall over: the vault caught up $(elapsed "$t0") s after sshd continued"
	verify sftp "$src" "$VAULT"
	done_or_fail
}

# launch NAME FUNCTION [ARGS]: runs a backend's scenario in the background, lines prefixed.
JOB_NAMES=()
launch() {
	local name=$1
	shift
	(
		set -o pipefail
		("$@") 2>&1 | sed -u "s/^/[$name] /"
	) &
	JOB_PIDS+=($!)
	JOB_NAMES+=("$name")
}

START=$(now)
case " $BACKENDS " in *" s3 "*)
	"$SERVERS/start-ceph-rgw.sh" >"$T/ceph-start.log" 2>&1 &
	CEPH_START_PID=$!
	;;
esac
start_server apache-dav "Apache"
start_server sshd "sshd"
ok "Apache WebDAV on port $DAV_PORT, sshd on port $SSHD_PORT"

export HOME=$T/home
mkdir -p "$HOME/.ssh"
printf 'machine 127.0.0.1\n  login davuser\n  password davpass\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
cp "$SSHD_DIR/client_ed25519" "$HOME/.ssh/id_ed25519"
cp "$SSHD_DIR/client_ed25519.pub" "$HOME/.ssh/id_ed25519.pub"
cp "$SSHD_DIR/known_hosts" "$HOME/.ssh/known_hosts"
mkdir -p "$DAV_DIR/dav/vaults" && chown www-data:www-data "$DAV_DIR/dav/vaults"

# the mount points the scenarios use (lib.sh's EXIT trap unmounts them)
for b in webdav s3 sftp; do _COFFER_MOUNTS+=("$T/mnt-$b" "$T/mnt-$b-fresh" "$T/mnt-$b-cut"); done

start_proxy webdav "$DAV_PORT"
ok "faultproxy on port $PROXY_PORT in front of Apache"
case " $BACKENDS " in *" webdav "*)
	launch webdav http_backend webdav "webdav://127.0.0.1:$PROXY_PORT/vaults/faults" \
		"webdav://127.0.0.1:$DAV_PORT/vaults/faults" "$HANG" cut ;;
esac
case " $BACKENDS " in *" sftp "*) launch sftp sftp_backend ;; esac

s3_start() {
	local rc=0
	wait "$CEPH_START_PID" || rc=$?
	CEPH_START_PID=""
	[ "$rc" -eq 0 ] || {
		cat "$T/ceph-start.log" >&2
		fail "Ceph RGW did not start"
	}
	ok "Ceph RGW on port $RGW_PORT after $(elapsed "$START") s"
	export AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
	curl -sS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "TESTACCESS:TESTSECRET" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$RGW_PORT/coffer-faults" >/dev/null || fail "cannot create the bucket"
	start_proxy s3 "$RGW_PORT"
	ok "faultproxy on port $PROXY_PORT in front of radosgw"
	launch s3 http_backend s3 "s3+http://127.0.0.1:$PROXY_PORT/coffer-faults/vault" \
		"s3+http://127.0.0.1:$RGW_PORT/coffer-faults/vault" "$S3_HANG"
}
case " $BACKENDS " in *" s3 "*) s3_start ;; esac

# wait for all of them (each checks its data to the end), then report
declare -A RUNNING=()
for i in "${!JOB_PIDS[@]}"; do RUNNING[${JOB_PIDS[$i]}]=${JOB_NAMES[$i]}; done
FAILED=()
while [ "${#RUNNING[@]}" -gt 0 ]; do
	rc=0
	who=""
	wait -n -p who "${!RUNNING[@]}" || rc=$?
	[ -n "$who" ] || fail "waiting for the scenarios failed (exit $rc)"
	name=${RUNNING[$who]}
	unset "RUNNING[$who]"
	if [ "$rc" -eq 0 ]; then
		ok "the $name scenario passed after $(elapsed "$START") s"
	else
		log "the $name scenario FAILED (exit $rc) after $(elapsed "$START") s"
		FAILED+=("$name")
	fi
done
[ "${#FAILED[@]}" -eq 0 ] || fail "failed: ${FAILED[*]} (see the lines marked FAIL above)"
ok "$BACKENDS: every backend rode out its faults; $(elapsed "$START") s in all"
