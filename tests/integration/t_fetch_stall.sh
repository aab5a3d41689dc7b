#!/usr/bin/env bash
# t_fetch_stall: a read that waits on the vault for an object the cache lacks holds no lock the
# rest of the mount needs: while that fetch hangs, creating, writing and fsyncing another file
# returns within LIMIT (2) s, and so does a stat of every file of the tree (latencies printed).
# (a) folder vault: one chunk object of a file is replaced by a FIFO that never delivers; a fresh
#     cache mounted on it; `cat` of the file blocks in the fetch (a daemon thread waits in the
#     FIFO's open); then the FIFO is opened for writing, which ends the fetch (the read fails:
#     the object came back empty, which is refused), the FIFO leaves the vault, and everything
#     is unmounted.
# (b) WebDAV (Apache mod_dav on 127.0.0.1) behind tests/servers/faultproxy.py: a fresh cache
#     mounted through the proxy, which then takes requests and answers nothing; `cat` of a file
#     blocks in its GET (the proxy's log proves that GET hung through the whole measurement);
#     once the proxy passes again, the read completes with the right bytes.
# A fetch counts as hanging once cat's file position has not moved for a second. STALL_CASES
# (default "fifo webdav") runs the cases named. The EXIT trap
# releases the FIFO and stops the proxy and Apache first, also when the test fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

CASES=${STALL_CASES:-fifo webdav} # to run one alone
LIMIT=2                      # seconds an fsync or a stat of the tree may take meanwhile
GIVE_UP=10                   # seconds after which a measured command is stopped (and fails)
CHUNK_OBJECT=$((256 * 4136)) # bytes of a full chunk object: 256 sealed 4 KiB blocks
command -v python3 >/dev/null || fail "python3 is needed for tests/servers/faultproxy.py"

FIFO=""
CAT_PID=""
LEFT_PIDS=()
MODE=$T/webdav.mode # start_proxy webdav
export DAV_DIR=$T/apache DAV_PORT
DAV_PORT=$(free_port)

# release_fifo: opens the FIFO for writing, which ends the open of a reader waiting on it (and
# gives up after 5 s when no reader is there).
release_fifo() {
	[ -n "$FIFO" ] && [ -p "$FIFO" ] || return 0
	timeout 5 bash -c 'exec 3>"$1"' _ "$FIFO" 2>/dev/null || true
}
server_cleanup() {
	release_fifo
	[ "${#PROXY_PIDS[@]}" -eq 0 ] || set_mode "$MODE" pass # releases a hung request
	[ -n "$CAT_PID" ] && kill "$CAT_PID" 2>/dev/null
	[ "${#LEFT_PIDS[@]}" -eq 0 ] || kill "${LEFT_PIDS[@]}" 2>/dev/null
	"$SERVERS/stop-apache-dav.sh"
	true
}

now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# start_cat FILE OUT: cat FILE into OUT in the background (CAT_PID).
start_cat() {
	cat "$1" >"$2" &
	CAT_PID=$!
}

# wait_cat_stuck WHAT: waits (up to 30 s) until cat's position in its file has not moved for a
# second while it still runs: it waits on a fetch.
wait_cat_stuck() {
	local pos last="" same=0
	for _ in $(seq 300); do
		kill -0 "$CAT_PID" 2>/dev/null || fail "$1: cat ended before any fetch hung (exit: $(wait "$CAT_PID"; echo $?))"
		pos=$(awk '$1 == "pos:" { print $2 }' "/proc/$CAT_PID/fdinfo/3" 2>/dev/null || true)
		if [ -n "$pos" ] && [ "$pos" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 10 ] && return 0
		else
			same=0
		fi
		last=$pos
		sleep 0.1
	done
	fail "$1: cat did not get stuck within 30 s"
}

# daemon_in_fifo_open: a thread of the daemon serving $CACHE waits in the open of a FIFO.
daemon_in_fifo_open() {
	local pid
	for pid in $(daemon_pids); do
		grep -qx wait_for_partner /proc/"$pid"/task/*/wchan 2>/dev/null && return 0
	done
	return 1
}

# run_timed CMD...: runs CMD in the background and waits for it up to GIVE_UP s (polling: a
# process in an uninterruptible wait on the mount cannot be stopped by a signal); TIMED_S gets
# the seconds it took, TIMED_RC its exit status (124: still running, left to the EXIT trap).
run_timed() {
	local t0 pid
	t0=$(now)
	"$@" &
	pid=$!
	for _ in $(seq $((GIVE_UP * 50))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	TIMED_S=$(secs_since "$t0")
	TIMED_RC=0
	if kill -0 "$pid" 2>/dev/null; then
		TIMED_RC=124
		LEFT_PIDS+=("$pid")
	else
		wait "$pid" || TIMED_RC=$?
	fi
}

# measure WHAT: while the fetch hangs, creates, writes (1 MiB) and fsyncs a new file, then stats
# every file of the tree; prints both latencies; each must be within LIMIT s. M0 and M1 get the
# epoch times the measurement began and ended.
measure() {
	local what=$1 fsync_s fsync_rc
	M0=$(now)
	run_timed dd if=/dev/urandom of="$MNT/unrelated-$what" bs=64k count=16 conv=fsync status=none
	fsync_s=$TIMED_S fsync_rc=$TIMED_RC
	run_timed bash -c 'find "$1" -type f -print0 | xargs -0 stat >/dev/null' _ "$MNT"
	M1=$(now)
	log "$what: while the fetch hangs: create + write + fsync of another file ${fsync_s} s (exit $fsync_rc), stat of the tree ${TIMED_S} s (exit $TIMED_RC); limit ${LIMIT} s (124: still running after ${GIVE_UP} s)"
	[ "$fsync_rc" -eq 0 ] || fail "$what: create + write + fsync of another file failed or hung (exit $fsync_rc after ${fsync_s} s)"
	[ "$TIMED_RC" -eq 0 ] || fail "$what: stat of the tree failed or hung (exit $TIMED_RC after ${TIMED_S} s)"
	awk -v s="$fsync_s" -v l="$LIMIT" 'BEGIN { exit !(s <= l) }' ||
		fail "$what: the fsync took ${fsync_s} s while a fetch hung (limit ${LIMIT} s)"
	awk -v s="$TIMED_S" -v l="$LIMIT" 'BEGIN { exit !(s <= l) }' ||
		fail "$what: the stat of the tree took ${TIMED_S} s while a fetch hung (limit ${LIMIT} s)"
	ok "$what: fsync ${fsync_s} s, stat of the tree ${TIMED_S} s while the fetch hangs"
}

# wait_cat SECS: waits for the background cat to end; CAT_RC gets its exit status.
wait_cat() {
	for _ in $(seq $(($1 * 10))); do
		kill -0 "$CAT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$CAT_PID" 2>/dev/null && fail "cat still runs $1 s after the fetch was released"
	CAT_RC=0
	wait "$CAT_PID" || CAT_RC=$?
	CAT_PID=""
}

# (a) a folder vault whose object is a FIFO that never delivers
case_fifo() {
	coffer_init
	coffer_mount
	cp "$T/big" "$MNT/big"
	echo "small" >"$MNT/small"
	coffer_umount
	obj=$(find "$VAULT/objects" -maxdepth 1 -type f -size "${CHUNK_OBJECT}c" ! -name '.*' | head -n 1)
	[ -n "$obj" ] || fail "no full chunk object ($CHUNK_OBJECT bytes) in $VAULT/objects"
	rm -f "$obj"
	mkfifo "$obj"
	FIFO=$obj
	CACHE=$T/cache-fresh
	mount_at "$CACHE" "$MNT"
	start_cat "$MNT/big" "$T/got-a"
	wait_cat_stuck "folder vault"
	daemon_in_fifo_open || fail "folder vault: cat is stuck, but no daemon thread waits on the FIFO"
	ok "folder vault: cat of big waits on the fetch of $(basename "$obj") (a FIFO)"
	measure fifo
	daemon_in_fifo_open || fail "folder vault: the fetch ended during the measurement"
	release_fifo
	# the empty answer is refused, not installed: a retry would wait on the FIFO again, so it
	# leaves the vault (the object reads as missing), and a retry that opened it meanwhile ends
	mv "$FIFO" "$FIFO.gone"
	FIFO=$FIFO.gone
	release_fifo
	wait_cat 30
	ok "folder vault: the FIFO released, cat ended (exit $CAT_RC)"
	coffer_umount
	FIFO=""
}

# (b) WebDAV behind a proxy that stops answering
case_webdav() {
	with_insecure_http_auth # Apache takes basic auth over plain HTTP here
	start_server apache-dav "Apache"
	export HOME=$T/home
	mkdir -p "$HOME"
	printf 'machine 127.0.0.1\n  login davuser\n  password davpass\n' >"$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	mkdir -p "$DAV_DIR/dav/vaults" && chown www-data:www-data "$DAV_DIR/dav/vaults"
	PLOG=$T/webdav.proxy.log
	start_proxy webdav "$DAV_PORT"
	ok "Apache WebDAV on port $DAV_PORT, faultproxy on port $PROXY_PORT in front of it"

	VAULT=webdav://127.0.0.1:$PROXY_PORT/vaults/stall
	CACHE=$T/cache-dav
	remote_init
	coffer_mount
	cp "$T/big" "$MNT/big"
	echo "small" >"$MNT/small"
	coffer_umount
	CACHE=$T/cache-dav-fresh
	mount_at "$CACHE" "$MNT"
	set_mode "$MODE" hang
	start_cat "$MNT/big" "$T/got-b"
	wait_cat_stuck "WebDAV"
	ok "WebDAV: cat of big waits on a fetch through the hanging proxy"
	measure webdav
	set_mode "$MODE" pass
	wait_cat 120
	[ "$CAT_RC" -eq 0 ] || fail "WebDAV: cat failed (exit $CAT_RC) after the proxy passed again: $(tail -n 3 "$LOG")"
	cmp -s "$T/big" "$T/got-b" || fail "WebDAV: the read that waited on the proxy returned wrong data"
	ok "WebDAV: the proxy passed again and cat read every byte right"
	# the proxy logs a hung request when it ends: one GET of an object hung through the measurement
	awk -v a="$M0" -v b="$M1" '$2 == "hang" && $3 == "GET" && $4 ~ /\/objects\// &&
		$1 <= a && $1 + $6 >= b { found = 1 } END { exit !found }' "$PLOG" ||
		fail "WebDAV: no GET of an object hung at the proxy through the measurement: $(awk '$2 == "hang"' "$PLOG" | tail -n 5)"
	ok "WebDAV: the proxy's log shows the object's GET hanging through the measurement"
	coffer_umount
}

head -c $((3 * 1048576)) /dev/urandom >"$T/big" # the file whose read hangs
for c in $CASES; do
	case $c in
	fifo) case_fifo ;;
	webdav) case_webdav ;;
	*) fail "unknown case '$c' in STALL_CASES (fifo, webdav)" ;;
	esac
done
