#!/usr/bin/env bash
# t_fuse_requests: the kernel sends few requests for common work. Counted with the kernel's
# fuse:fuse_request_send tracepoint in a private tracefs instance, filtered on this mount's
# connection (other mounts on the machine do not count):
# 1. 1,000 write(2)s of 4 KiB into one file send at most 2 GETXATTRs: FUSE_HANDLE_KILLPRIV_V2
#    is negotiated (fs/fuse_io.c), so the kernel stops asking for security.capability before
#    each write (without it: one GETXATTR per write(2));
# 2. creating, writing and closing 200 files sends at most one FLUSH in all (there is no flush
#    operation: the kernel reports a failed write-back at close itself), and at most one
#    GETXATTR per file (its first write);
# 3. the data reads back after a remount.
# That setuid still goes when another user writes is t_posix_ops's. The EXIT trap disables and
# removes the tracefs instance.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TR=/sys/kernel/tracing
[ -d "$TR/events" ] || mount -t tracefs nodev "$TR" || fail "no tracefs at $TR"
EV=events/fuse/fuse_request_send
[ -d "$TR/$EV" ] || fail "this kernel has no fuse:fuse_request_send tracepoint"
INST=$TR/instances/coffer-$TEST_NAME-$$
mkdir "$INST" || fail "cannot make the tracefs instance $INST"
_trace_cleanup() {
	local rc=$?
	echo 0 >"$INST/$EV/enable" 2>/dev/null
	rmdir "$INST" 2>/dev/null
	(exit "$rc")
	_cleanup
}
trap _trace_cleanup EXIT
echo 8192 >"$INST/buffer_size_kb"

coffer_init
coffer_mount
# The connection is the mount's device number (major 0): its minor.
CONN=$(mountpoint -d "$MNT" | cut -d: -f2)
echo "connection == $CONN" >"$INST/$EV/filter"

traced() { # traced CMD...: runs CMD with the tracepoint on; the trace holds its requests only
	echo 0 >"$INST/tracing_on"
	: >"$INST/trace"
	echo 1 >"$INST/$EV/enable"
	echo 1 >"$INST/tracing_on"
	"$@"
	echo 0 >"$INST/$EV/enable"
}
count() { grep -c "($1)" "$INST/trace" || true; }

head -c 4096000 /dev/urandom >"$T/data"
traced dd if="$T/data" of="$MNT/big" bs=4k status=none
x=$(count FUSE_GETXATTR)
log "1,000 write(2)s: $x GETXATTR, $(count FUSE_WRITE) WRITE, $(count FUSE_FLUSH) FLUSH"
assert_le "$x" 2 "GETXATTRs for 1,000 write(2)s into one file"
flushes=$(count FUSE_FLUSH)

mkdir "$MNT/d"
many() { for i in $(seq 200); do printf 'file %d\n' "$i" >"$MNT/d/f$i"; done; }
traced many
x=$(count FUSE_GETXATTR) f=$(count FUSE_FLUSH)
log "200 files: $(count FUSE_CREATE) CREATE, $x GETXATTR, $f FLUSH, $(count FUSE_RELEASE) RELEASE"
[ "$(count FUSE_CREATE)" -eq 200 ] || fail "the trace did not see the 200 creates (filter on $CONN)"
assert_le "$x" 200 "GETXATTRs for 200 new files"
assert_le $((flushes + f)) 1 "FLUSHes for 201 closes"
ok "few requests: 1,000 writes need no GETXATTR each, closes need no FLUSH"

remount
cmp "$T/data" "$MNT/big" || fail "the big file reads back differently after remount"
assert_eq "$(cat "$MNT/d/f200")" "file 200" "a small file after remount"
ok "the data reads back after a remount"
