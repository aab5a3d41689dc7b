#!/usr/bin/env bash
# t_cache_full: the disk that holds the cache fills up (a 64 MiB tmpfs here).
# 1. dd of 100 MiB with conv=fsync fails with "No space left on device" and a non-zero exit: the
#    kernel writes cached pages back on its own, and a write-back that failed must still reach
#    fsync or close (never a success for data that was not stored).
# 2. A program that writes 100 MiB and then calls fsync gets ENOSPC from a write or the fsync.
# 3. What was fsync'ed before still reads back intact.
# 4. Deleting the big files and writing a small one works at once (a commit needs a little room
#    to record the deletions; the cache keeps a reserve for it), the reserve comes back.
# 5. After umount and remount every fsync'ed file is there, the failed ones are gone, and fsck
#    finds no problem.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

SMALL=$T/small-disk
mkdir -p "$SMALL"
mount -t tmpfs -o size=64m,mode=700 tmpfs "$SMALL" || fail "cannot mount a 64 MiB tmpfs"
_COFFER_MOUNTS+=("$SMALL") # the EXIT trap detaches it too
CACHE=$SMALL/cache

"$COFFER" init --passfile "$PASSFILE" --kdf-level min "$VAULT" >/dev/null
coffer_mount
[ "$(stat -c %s "$CACHE/reserve")" -ge $((8 << 20)) ] || fail "no reserve in the cache after mount"
head -c 1048576 /dev/urandom >"$T/keep"
dd if="$T/keep" of="$MNT/keep" bs=1M conv=fsync status=none
ok "1 MiB written and fsynced"

# --- 1. dd conv=fsync into a full disk ---
rc=0
dd if=/dev/urandom of="$MNT/big" bs=1M count=100 conv=fsync 2>"$T/dd.err" || rc=$?
[ "$rc" -ne 0 ] || fail "dd of 100 MiB into a 64 MiB cache exited 0: data was acknowledged but not stored"
grep -q "No space left on device" "$T/dd.err" || fail "dd failed, but not with ENOSPC: $(cat "$T/dd.err")"
ok "dd conv=fsync of 100 MiB: exit $rc, $(tail -n 1 "$T/dd.err")"

# --- 2. write + fsync from a program ---
python3 - "$MNT/big2" <<'PY' || fail "the program's writes and fsync did not report ENOSPC"
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
block = os.urandom(1 << 20)
try:
    for _ in range(100):
        os.write(fd, block)
    os.fsync(fd)
except OSError as e:
    if e.errno != errno.ENOSPC:
        sys.exit("expected ENOSPC, got %s" % e)
    print("ok - the program got ENOSPC (%s)" % e)
    sys.exit(0)
finally:
    try:
        os.close(fd)
    except OSError:
        pass
sys.exit("100 MiB written and fsynced into a 64 MiB cache without an error")
PY

# --- 3. fsync'ed data intact ---
cmp "$T/keep" "$MNT/keep" || fail "the fsynced file reads back differently on a full disk"
ok "the fsynced file reads back intact"

# --- 4. delete, then write again ---
rm -f "$MNT/big" "$MNT/big2"
echo "written after the deletions" >"$MNT/small"
sync "$MNT/small" || fail "fsync of a small file after deleting the big ones failed: $(tail -n 3 "$LOG")"
ok "after deleting the big files, a small file is written and fsynced ($(df -h --output=used "$SMALL" | tail -n 1 | tr -d ' ') used)"
commit_now
[ "$(stat -c %s "$CACHE/reserve" 2>/dev/null || echo 0)" -ge $((8 << 20)) ] ||
	fail "the reserve did not come back once space was free"
ok "the reserve is back"

# --- 5. remount ---
coffer_umount
"$COFFER" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" >"$T/fsck.out" 2>&1 ||
	fail "fsck after the full disk: $(tail -n 5 "$T/fsck.out")"
grep -q " 0 problems" "$T/fsck.out" || fail "fsck: $(tail -n 1 "$T/fsck.out")"
coffer_mount
cmp "$T/keep" "$MNT/keep" || fail "the fsynced file differs after remount"
assert_eq "$(cat "$MNT/small")" "written after the deletions" "the small file after remount"
[ ! -e "$MNT/big" ] && [ ! -e "$MNT/big2" ] || fail "a deleted file came back after remount"
coffer_umount
ok "after remount: every fsynced file intact, the deleted ones gone, fsck clean"
