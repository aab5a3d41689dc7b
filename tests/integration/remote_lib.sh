#!/usr/bin/env bash
# remote_lib.sh: helpers for the t_remote_*.sh tests (a vault on a real server on 127.0.0.1),
# sourced after lib.sh and sync_lib.sh. $VAULT becomes the URL; the test's server is stopped by
# the EXIT trap (server_cleanup, set by the test) before lib.sh's own clean-up, also on failure.
# Holds the checks every backend shares: round trip, refusals that fail fast, the server going
# away in the middle of a large upload.

SERVERS=$REPO_ROOT/tests/servers

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The test defines server_cleanup; it runs before lib.sh's _cleanup (which exits with our status).
server_cleanup() { :; }
_remote_cleanup() {
	local rc=$? p
	set +e
	server_cleanup >/dev/null 2>&1
	for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	(exit "$rc")
	_cleanup
}
trap _remote_cleanup EXIT

# start_server NAME WHAT: runs tests/servers/start-NAME.sh with its output in $T/NAME-start.log;
# on failure prints that log and fails the test with "WHAT did not start".
start_server() {
	"$SERVERS/start-$1.sh" >"$T/$1-start.log" 2>&1 || {
		cat "$T/$1-start.log" >&2
		fail "$2 did not start"
	}
}

# set_mode FILE MODE: writes a faultproxy mode file atomically, so that the proxy never reads a
# half-written one.
set_mode() { printf '%s\n' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"; }

# start_proxy NAME BACKEND_PORT: starts tests/servers/faultproxy.py in front of
# 127.0.0.1:BACKEND_PORT, passing everything through; its mode file is $T/NAME.mode (set_mode),
# its log $T/NAME.proxy.log; the EXIT trap stops it (after server_cleanup). Sets PROXY_PORT.
PROXY_PIDS=()
start_proxy() {
	local name=$1 bport=$2
	set_mode "$T/$name.mode" pass
	python3 "$SERVERS/faultproxy.py" --port 0 --backend "$bport" --mode-file "$T/$name.mode" \
		--log "$T/$name.proxy.log" >"$T/$name.proxy.port" 2>"$T/$name.proxy.err" &
	PROXY_PIDS+=($!)
	for _ in $(seq 100); do
		[ -s "$T/$name.proxy.port" ] && break
		sleep 0.05
	done
	PROXY_PORT=$(cat "$T/$name.proxy.port")
	[ -n "$PROXY_PORT" ] || fail "faultproxy for $name did not start: $(cat "$T/$name.proxy.err")"
}

# with_insecure_http_auth: from here on $COFFER adds -o insecure_http_auth to every command, for
# the tests whose WebDAV server (Apache, or faultproxy in front of it) takes basic auth over plain
# HTTP: coffer refuses to send a password in cleartext without it.
with_insecure_http_auth() {
	mkdir -p "$T/bin"
	printf '#!/usr/bin/env bash\nexec %q "$@" -o insecure_http_auth\n' "$COFFER" >"$T/bin/coffer"
	chmod +x "$T/bin/coffer"
	COFFER=$T/bin/coffer
}

# remote_init [URL] [extra args]: coffer init on a URL (default $VAULT).
remote_init() {
	local url=${1:-$VAULT}
	shift || true
	"$COFFER" init --passfile "$PASSFILE" --kdf-level min "$@" "$url" >/dev/null ||
		fail "coffer init $url failed"
}

# refused WHAT NEEDLE CMD...: CMD must exit non-zero within 20 s, printing exactly one line on
# stderr that contains NEEDLE.
refused() {
	local what=$1 needle=$2 rc=0 start secs out lines
	shift 2
	start=$(date +%s)
	mkdir -p "$T/initcwd"
	out=$(cd "$T/initcwd" && timeout 60 "$@" 2>&1 >/dev/null) || rc=$?
	if [ -n "$(ls -A "$T/initcwd")" ]; then fail "$what: created files in the working folder: $(ls -A "$T/initcwd")"; fi
	secs=$(($(date +%s) - start))
	[ "$rc" -ne 0 ] || fail "$what: succeeded"
	[ "$rc" -ne 124 ] || fail "$what: still running after 60 s"
	lines=$(printf '%s\n' "$out" | grep -c .)
	[ "$lines" -eq 1 ] || fail "$what: expected one line on stderr, got $lines: $out"
	assert_contains "$out" "$needle" "$what"
	assert_le "$secs" 20 "$what: seconds to fail"
	ok "$what: exit $rc after ${secs}s: $out"
}

# split_args ARGS...: sorts the trailing arguments of init_refused/mount_refused into ENVARGS
# (VAR=value, -u VAR: for env) and COPTS (-o OPTION pairs: for coffer).
split_args() {
	ENVARGS=()
	COPTS=()
	while [ "$#" -gt 0 ]; do
		case "$1" in
		-o) COPTS+=(-o "$2"); shift 2 ;;
		-u) ENVARGS+=(-u "$2"); shift 2 ;;
		*) ENVARGS+=("$1"); shift ;;
		esac
	done
}

# init_refused WHAT NEEDLE URL [VAR=value | -u VAR | -o OPTION]...: coffer init URL is refused.
init_refused() {
	local what=$1 needle=$2 url=$3
	shift 3
	split_args "$@"
	refused "init, $what" "$needle" env "${ENVARGS[@]}" "$COFFER" init --passfile "$PASSFILE" \
		--kdf-level min "${COPTS[@]}" "$url"
}

# mount_refused WHAT NEEDLE URL [VAR=value | -u VAR | -o OPTION]...: coffer mount URL is refused.
mount_refused() {
	local what=$1 needle=$2 url=$3
	shift 3
	split_args "$@"
	mkdir -p "$T/mnt-refused"
	refused "mount, $what" "$needle" env "${ENVARGS[@]}" "$COFFER" mount --passfile "$PASSFILE" \
		--cache "$T/cache-refused" "${COPTS[@]}" "$url" "$T/mnt-refused"
	is_mounted "$T/mnt-refused" && fail "mount, $what: something is mounted on $T/mnt-refused"
	true
}

# make_tree DIR MARKER: a small tree of text and binary files, some holding MARKER.
make_tree() {
	local d=$1 marker=$2 i
	mkdir -p "$d/docs/deep/er" "$d/bin" "$d/empty"
	for i in $(seq 1 12); do
		{
			printf '%s line %d\n' "$marker" "$i"
			seq 1 $((i * 300))
		} >"$d/docs/note$i.txt"
	done
	for i in 1 2 3; do head -c $((i * 150000 + 7)) /dev/urandom >"$d/bin/blob$i"; done
	printf '%s in a deep file\n' "$marker" >"$d/docs/deep/er/$marker.txt"
	ln -s "docs/note1.txt" "$d/link"
	: >"$d/zero"
}

# roundtrip SRC: init, mount with a cache, copy SRC in, umount (waits for the upload), then a fresh
# cache restores it identically.
roundtrip() {
	local src=$1
	remote_init
	coffer_mount
	cp -a "$src" "$MNT/tree" || fail "cp into the mount failed"
	wait_synced "$MNT" 120
	coffer_umount
	ok "tree copied and uploaded (generation $(last_unmount_gen))"
	mount_at "$T/cache-fresh" "$T/mnt-fresh" -o ro
	diff -r --no-dereference "$src" "$T/mnt-fresh/tree" >/dev/null ||
		fail "a fresh cache does not restore the tree: $(diff -r "$src" "$T/mnt-fresh/tree" 2>&1 | head -n 3)"
	assert_eq "$(readlink "$T/mnt-fresh/tree/link")" "docs/note1.txt" "symlink after restore"
	umount_at "$T/cache-fresh" "$T/mnt-fresh"
	ok "a fresh cache restores the tree identically"
}

# fault_midupload STOP START COUNT: a 100 MiB commit starts uploading; once COUNT (the number of
# objects on the server) grew, STOP stops the server; for ~10 s the mount keeps working and the
# status shows the error; START brings it back; umount waits; a fresh cache restores the newest
# root exactly.
fault_midupload() {
	local stop=$1 start=$2 count=$3 base n s seen="" down
	head -c $((100 * 1048576)) /dev/urandom >"$T/big"
	coffer_mount -o commit=3600
	base=$($count)
	dd if="$T/big" of="$MNT/big" bs=1M conv=fsync status=none || fail "dd of 100 MiB failed"
	for _ in $(seq 1 600); do
		n=$($count)
		[ "$n" -gt $((base + 2)) ] && break
		sleep 0.05
	done
	$stop
	down=$(date +%s)
	ok "server stopped with $((n - base)) new objects on it"
	echo "written while the server is down" >"$MNT/during.txt" || fail "write while the server is down"
	sync "$MNT/during.txt" || fail "fsync while the server is down"
	assert_eq "$(cat "$MNT/during.txt")" "written while the server is down" "read while down"
	assert_eq "$(sha256sum <"$MNT/big")" "$(sha256sum <"$T/big")" "the big file while down"
	for _ in $(seq 1 40); do
		s=$(sj)
		if jq -e '.state == "retrying" and .last_error != "" and .local_generation > .remote_generation
			and .objects_waiting > 0' >/dev/null <<<"$s"; then
			seen=$s
			break
		fi
		sleep 0.25
	done
	[ -n "$seen" ] || fail "status does not show the interrupted upload (did it finish before the stop?): $(sj)"
	ok "while down: writes, fsync and reads work; status $(jq -c '{state, last_error, local_generation, remote_generation, objects_waiting}' <<<"$seen")"
	while [ $(($(date +%s) - down)) -lt 10 ]; do sleep 0.5; done
	$start
	ok "server started again after $(($(date +%s) - down)) s"
	coffer_umount
	local gen
	gen=$(last_unmount_gen)
	mount_at "$T/cache-fault" "$T/mnt-fault" -o ro
	assert_eq "$(sfield remote_generation "$T/mnt-fault")" "$gen" "the vault generation after the umount wait"
	assert_eq "$(sha256sum <"$T/mnt-fault/big")" "$(sha256sum <"$T/big")" "fresh cache: the 100 MiB file"
	assert_eq "$(cat "$T/mnt-fault/during.txt")" "written while the server is down" "fresh cache: the file written while down"
	umount_at "$T/cache-fault" "$T/mnt-fault"
	ok "after the outage a fresh cache restores generation $gen exactly"
}

# start_sshd: OpenSSH sshd (internal-sftp) on a free port of 127.0.0.1 (stopped by the EXIT trap),
# and HOME=$T/home whose ~/.ssh holds the test's client key, its .pub and the server's host key;
# sets SSHD_PORT and SSHD_DIR.
start_sshd() {
	export SSHD_DIR=$T/sshd SSHD_PORT
	SSHD_PORT=$(free_port)
	server_cleanup() { "$SERVERS/stop-sshd.sh"; }
	start_server sshd "sshd"
	export HOME=$T/home
	mkdir -p "$HOME/.ssh"
	cp "$SSHD_DIR/client_ed25519" "$HOME/.ssh/id_ed25519"
	cp "$SSHD_DIR/client_ed25519.pub" "$HOME/.ssh/id_ed25519.pub"
	cp "$SSHD_DIR/known_hosts" "$HOME/.ssh/known_hosts"
}

# start_rgw: Ceph RGW on free ports of 127.0.0.1 (stopped by the EXIT trap), with the test's S3
# credentials exported; sets RGW_PORT.
start_rgw() {
	export CEPH_DIR=$T/ceph RGW_PORT MON_PORT MON1_PORT
	RGW_PORT=$(free_port)
	MON_PORT=$(free_port)
	MON1_PORT=$(free_port)
	server_cleanup() { "$SERVERS/stop-ceph-rgw.sh"; }
	start_server ceph-rgw "Ceph RGW"
	export AWS_ACCESS_KEY_ID=TESTACCESS AWS_SECRET_ACCESS_KEY=TESTSECRET
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
}
