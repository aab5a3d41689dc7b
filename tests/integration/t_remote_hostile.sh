#!/usr/bin/env bash
# t_remote_hostile: a hostile network (tests/servers/hostile.py on 127.0.0.1, started here).
# 1. WebDAV over plain HTTP, a recorder that answers 401 and logs whether each request carried
#    an Authorization header: with a netrc entry for the host (or a login in the URL), init and
#    mount fail at once with one line naming -o insecure_http_auth and the recorder received
#    nothing; with -o insecure_http_auth the credentials are sent; without a netrc entry init
#    talks to the server without credentials (and fails only with its "access denied").
# 2. S3 listings that never end: init on an honest fake S3 store, then with every listing
#    IsTruncated=true and the same token, fresh tokens with the same keys, fresh tokens with no
#    keys, or one 32 MiB page: mount, snapshots and fsck finish within 20 s (snapshots fails
#    with a line saying why; a mount of a fresh cache does not list; a mount of a cache that
#    lost its known journal lists once, serves the cache and logs the failed listing; fsck does
#    not list), coffer's peak memory stays under 100 MiB.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

HOSTILE=$SERVERS/hostile.py
PIDS=()
server_cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }

# start_hostile KIND LOG [args]: starts hostile.py; PORT gets its port.
start_hostile() {
	local kind=$1 log=$2
	shift 2
	: >"$log"
	python3 "$HOSTILE" --kind "$kind" --log "$log" "$@" >"$T/$kind.port" 2>"$T/$kind.err" &
	PIDS+=($!)
	for _ in $(seq 100); do
		PORT=$(head -n 1 "$T/$kind.port")
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	fail "hostile.py --kind $kind did not start: $(cat "$T/$kind.err")"
}

# --- 1. no password over plain HTTP ---
export HOME=$T/home
mkdir -p "$HOME"
start_hostile record "$T/record.log"
printf 'machine 127.0.0.1\n  login davuser\n  password s3cret\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
URL=webdav://127.0.0.1:$PORT/v
init_refused "netrc entry over plain HTTP" "-o insecure_http_auth" "$URL"
mount_refused "netrc entry over plain HTTP" "-o insecure_http_auth" "$URL"
init_refused "login in the URL over plain HTTP" "-o insecure_http_auth" \
	"webdav://davuser@127.0.0.1:$PORT/v" -o "netrc=$T/none"
assert_eq "$(wc -l <"$T/record.log")" 0 "requests the recorder received while refused"
ok "refused: the recorder received no request at all"

init_refused "netrc entry with -o insecure_http_auth" "access denied" "$URL" -o insecure_http_auth
grep -q ' auth$' "$T/record.log" || fail "with -o insecure_http_auth no request carried credentials: $(cat "$T/record.log")"
ok "with -o insecure_http_auth the credentials were sent ($(grep -c ' auth$' "$T/record.log") requests)"

: >"$T/record.log"
printf 'machine elsewhere login u password p\n' >"$HOME/.netrc"
init_refused "no netrc entry over plain HTTP" "access denied" "$URL"
[ -s "$T/record.log" ] || fail "without a netrc entry init sent nothing"
if grep -q ' auth$' "$T/record.log"; then fail "without a netrc entry credentials were sent"; fi
ok "no netrc entry: $(wc -l <"$T/record.log") requests, none with credentials"

# --- 2. endless S3 listings ---
export AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
mkdir -p "$T/s3"
echo honest >"$T/s3.mode"
start_hostile s3 "$T/s3.log" --dir "$T/s3" --mode-file "$T/s3.mode"
VAULT=s3+http://127.0.0.1:$PORT/bucket/vault
remote_init
coffer_mount
echo "some data" >"$MNT/file"
wait_synced "$MNT" 30
coffer_umount
ok "honest fake S3: init, mount, upload"

# timed WHAT CMD...: CMD ends within 20 s; its peak RSS is under 100 MiB; output in $T/timed.out.
timed() {
	local what=$1 start secs rss rc=0
	shift
	start=$(date +%s)
	/usr/bin/time -f '%M' -o "$T/rss" timeout 60 "$@" >"$T/timed.out" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	[ "$rc" -ne 124 ] || fail "$what: still running after 60 s"
	rss=$(tail -n 1 "$T/rss")
	assert_le "$secs" 20 "$what: seconds"
	assert_le "$rss" 102400 "$what: peak KiB"
	ok "$what: exit $rc after ${secs}s, peak ${rss} KiB"
	TIMED_RC=$rc
}

for mode in same-token fresh-same fresh-empty huge; do
	echo "$mode" >"$T/s3.mode"
	n0=$(grep -c "^LIST $mode" "$T/s3.log" || true)
	timed "$mode: snapshots" "$COFFER" snapshots --passfile "$PASSFILE" "$VAULT"
	[ "$TIMED_RC" -ne 0 ] || fail "$mode: snapshots succeeded"
	assert_contains "$(cat "$T/timed.out")" "listing of roots/ was refused" "$mode: snapshots says why"
	timed "$mode: fsck" "$COFFER" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT"
	# A fresh cache does not list the vault: the mount works whatever the listings do.
	rm -rf "$T/cache-$mode"
	mkdir -p "$T/mnt-$mode"
	timed "$mode: mount (fresh cache)" "$COFFER" mount --passfile "$PASSFILE" --cache "$T/cache-$mode" \
		-o "logfile=$LOG" "$VAULT" "$T/mnt-$mode"
	_COFFER_MOUNTS+=("$T/mnt-$mode")
	assert_eq "$TIMED_RC" 0 "$mode: mount of a fresh cache"
	assert_eq "$(cat "$T/mnt-$mode/file")" "some data" "$mode: the file through the mount"
	umount_at "$T/cache-$mode" "$T/mnt-$mode"
	# A cache that lost its known journal lists objects/ once at mount: bounded, and said.
	rm -f "$T/cache-$mode/known"
	: >"$LOG"
	timed "$mode: mount (journal lost)" "$COFFER" mount --passfile "$PASSFILE" --cache "$T/cache-$mode" \
		-o "logfile=$LOG" "$VAULT" "$T/mnt-$mode"
	if [ "$TIMED_RC" -eq 0 ]; then
		assert_eq "$(cat "$T/mnt-$mode/file")" "some data" "$mode: the file, journal lost"
		umount_at "$T/cache-$mode" "$T/mnt-$mode"
	fi
	grep -qE "was refused|listing the remote: Protocol error" "$T/timed.out" "$LOG" ||
		fail "$mode: the mount does not say the listing failed: $(tail -n 3 "$LOG")"
	n=$(($(grep -c "^LIST $mode" "$T/s3.log") - n0))
	assert_le "$n" 400 "$mode: listing requests"
	ok "$mode: $n listing requests in all"
done
