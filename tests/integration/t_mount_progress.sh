#!/usr/bin/env bash
# t_mount_progress: the first mount of a vault on a new device (a fresh cache: every inode page
# is fetched) shows a progress line on a terminal ("fetching the tree: N/N inode pages, MiB,
# MiB/s", run under script(1) for a pseudo-terminal) and nothing without one; a mount whose pages
# are all cached shows none either; umount is quiet when not on a terminal.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
mkdir -p "$MNT/many"
for d in $(seq 1 20); do
	mkdir "$MNT/many/d$d"
	for f in $(seq 1 100); do : >"$MNT/many/d$d/f$f"; done
done
coffer_umount
ok "a vault of 2,020 inodes (32 inode pages and more)"

# A new device, on a terminal.
script -q -e -c "$COFFER mount --passfile $PASSFILE --cache $T/cache-tty -o logfile=$LOG $VAULT $MNT" \
	/dev/null >"$T/tty.out" </dev/null || fail "mount under a pseudo-terminal failed: $(cat "$T/tty.out")"
_COFFER_MOUNTS+=("$MNT")
is_mounted "$MNT" || fail "mount under a pseudo-terminal: nothing mounted"
line=$(tr '\r' '\n' <"$T/tty.out" | grep 'fetching the tree' | tail -n 1)
[ -n "$line" ] || fail "no progress line on a terminal: $(cat -v "$T/tty.out")"
echo "$line" | grep -Eq 'fetching the tree: ([0-9]+)/\1 inode pages, [0-9.]+ MiB, [0-9.]+ MiB/s' ||
	fail "the last progress line does not show every page fetched: $line"
pages=$(echo "$line" | sed -E 's|.* ([0-9]+)/[0-9]+ inode pages.*|\1|')
[ "$pages" -ge 32 ] || fail "only $pages inode pages for 2,020 inodes: $line"
[ "$(find "$MNT/many" -type f | wc -l)" -eq 2000 ] || fail "the fresh mount does not show every file"
out=$("$COFFER" umount "$MNT" 2>&1 </dev/null) || fail "umount failed: $out"
wait_daemon_exit
assert_eq "$out" "" "umount without a terminal prints nothing"
ok "new device on a terminal: $line; umount without a terminal is quiet"

# The same cache again on a terminal: every page is cached, nothing to show.
script -q -e -c "$COFFER mount --passfile $PASSFILE --cache $T/cache-tty -o logfile=$LOG $VAULT $MNT" \
	/dev/null >"$T/tty2.out" </dev/null || fail "second mount under a pseudo-terminal failed"
if grep -q 'fetching the tree' "$T/tty2.out"; then
	fail "a mount whose pages are all cached shows progress: $(cat -v "$T/tty2.out")"
fi
"$COFFER" umount "$MNT" >/dev/null 2>&1 </dev/null || fail "umount failed"
wait_daemon_exit
ok "a mount with every page cached shows no progress"

# A new device without a terminal: stderr holds no progress line.
"$COFFER" mount --passfile "$PASSFILE" --cache "$T/cache-notty" -o "logfile=$LOG" "$VAULT" "$MNT" \
	>"$T/notty.out" 2>&1 </dev/null || fail "mount without a terminal failed: $(cat "$T/notty.out")"
if grep -q 'fetching the tree' "$T/notty.out"; then
	fail "progress shown without a terminal: $(cat -v "$T/notty.out")"
fi
out=$("$COFFER" umount "$MNT" 2>&1 </dev/null) || fail "umount failed: $out"
wait_daemon_exit
assert_eq "$out" "" "umount without a terminal prints nothing"
ok "new device without a terminal: no progress line (stderr: $(tr '\n' ' ' <"$T/notty.out"))"
