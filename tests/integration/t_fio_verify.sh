#!/usr/bin/env bash
# t_fio_verify: data stays right under concurrent random I/O while commits run every second:
# 4 fio jobs doing random writes of mixed sizes (4 KiB..192 KiB, unaligned to chunks) with
# checksummed blocks, plus a mixed read/write job over an mmap'ed file; fio's own verify pass
# finds every block right while mounted, a verify-only pass finds them right after
# umount + remount, and coffer fsck is clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cat >"$T/job.fio" <<JOB
[global]
directory=$MNT/fio
ioengine=psync
size=40m
bsrange=4k-192k
bs_unaligned=1
randrepeat=1
# coffer has no fallocate; make fio lay the files out in full so that the verify-only
# pass sees the same file sizes and does not lay them out again
overwrite=1
verify=crc32c
verify_fatal=1
verify_state_save=0
group_reporting=1

[randwrite]
rw=randwrite
numjobs=4

[mmapjob]
ioengine=mmap
rw=randwrite
bsrange=4k-64k
size=16m
JOB

coffer_init
coffer_mount -o commit=1
mkdir "$MNT/fio"
cd "$T" # fio writes any state files into the current directory
fio --output="$T/fio1.out" "$T/job.fio" || fail "fio write+verify failed while mounted: $(grep -iE 'verify|err' "$T/fio1.out" | head -n 5)"
grep -q 'err= 0' "$T/fio1.out" || fail "fio reports errors: $(grep 'err=' "$T/fio1.out")"
ok "fio: 4 random writers + 1 mmap writer, verify pass clean while mounted"
cd /
remount
cd "$T"
fio --output="$T/fio2.out" --verify_only "$T/job.fio" || fail "fio verify after remount failed: $(grep -iE 'verify|err' "$T/fio2.out" | head -n 5)"
grep -q 'err= 0' "$T/fio2.out" || fail "fio verify after remount reports errors: $(grep 'err=' "$T/fio2.out")"
ok "fio verify-only pass after remount clean"
cd /
coffer_umount
coffer_fsck >/dev/null
ok "coffer fsck clean"
