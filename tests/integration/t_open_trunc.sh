#!/usr/bin/env bash
# t_open_trunc: open(O_TRUNC) of an existing file truncates it in the filesystem, not only in the
# kernel's idea of its size: `echo short > file` over a longer file, and an O_TRUNC open, write
# and fsync, keep exactly the new bytes after a remount and after kill -9 (before the fix the old
# tail came back after a remount); O_TRUNC also updates mtime and ctime, and an O_TRUNC open
# without a write leaves an empty file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
head -c 300000 /dev/urandom >"$MNT/long"
printf 'forged 3.1\n' >"$MNT/shell"
head -c 70000 /dev/urandom >"$MNT/empty-me"
sync "$MNT"
remount

printf 'A 1.1\n' >"$MNT/shell"
python3 - "$MNT/long" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"short\n")
os.fsync(fd)
os.close(fd)
PY
before=$(stat -c %Y.%y "$MNT/empty-me")
python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC))' "$MNT/empty-me"
assert_ne "$(stat -c %Y.%y "$MNT/empty-me")" "$before" "mtime after an O_TRUNC open"
sync "$MNT"
remount
assert_eq "$(od -An -c "$MNT/shell" | tr -s ' ')" " A 1 . 1 \n" "echo > file after a remount"
assert_eq "$(stat -c %s "$MNT/long")" "6" "size after O_TRUNC, write, fsync and a remount"
assert_eq "$(cat "$MNT/long")" "short" "content after O_TRUNC, write, fsync and a remount"
assert_eq "$(stat -c %s "$MNT/empty-me")" "0" "an O_TRUNC open without a write"
ok "O_TRUNC truncates: exact new content and size after a remount"

head -c 200000 /dev/urandom >"$MNT/crash"
sync "$MNT"
python3 - "$MNT/crash" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"after\n")
os.fsync(fd)
os.close(fd)
PY
pids=$(daemon_pids)
[ -n "$pids" ] || fail "no daemon found"
kill -9 $pids
wait_daemon_exit
coffer_mount
assert_eq "$(stat -c %s "$MNT/crash")" "6" "size after O_TRUNC, write, fsync and kill -9"
assert_eq "$(cat "$MNT/crash")" "after" "content after O_TRUNC, write, fsync and kill -9"
ok "O_TRUNC + fsync survives kill -9 with the exact new content"
coffer_umount
coffer_fsck >/dev/null
