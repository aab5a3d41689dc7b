#!/usr/bin/env bash
# bench/sync_cost.sh: what the sync costs (issue 3, "Sync cost").
#  (a) bytes uploaded after a 4 KiB overwrite in the middle of a 256 MiB file (limit 2 MiB)
#  (b) bytes uploaded after renaming a directory that holds 10,000 files (limit 1 MiB)
#  (c) seconds to mirror 1 GiB of new data to the vault folder (dd conv=fsync into the mount,
#      until the status is idle with the vault at the local generation), and its ratio to
#      `cp` of the same 1 GiB file on the same disk followed by fsync (coreutils `sync FILE`).
# (a) and (b) are the delta of the daemon's bytes_uploaded between two idle states.
# Everything lives in one temp dir under /tmp (removed by the trap of tests/integration/lib.sh,
# which also unmounts). Exits non-zero when (a) or (b) is over its limit.
# Run as root: bash bench/sync_cost.sh
set -euo pipefail
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sync_lib.sh"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

coffer_init
coffer_mount -o commit=3600

# (a)
dd if=/dev/urandom of="$MNT/big256" bs=1M count=256 conv=fsync status=none
wait_synced "$MNT" 120
B0=$(sfield bytes_uploaded)
O0=$(sfield objects_uploaded)
head -c 4096 /dev/urandom | dd of="$MNT/big256" bs=4096 seek=$((128 * 256 + 3)) conv=notrunc,fsync status=none
wait_synced "$MNT" 60
A_BYTES=$(($(sfield bytes_uploaded) - B0))
A_OBJS=$(($(sfield objects_uploaded) - O0))

# (b)
mkdir -p "$MNT/tree/many"
(cd "$MNT/tree/many" && seq -f 'file-%05g' 1 10000 | while read -r f; do echo "$f" >"$f"; done)
wait_synced "$MNT" 120
B0=$(sfield bytes_uploaded)
O0=$(sfield objects_uploaded)
mv "$MNT/tree/many" "$MNT/tree/renamed-many"
wait_synced "$MNT" 60
B_BYTES=$(($(sfield bytes_uploaded) - B0))
B_OBJS=$(($(sfield objects_uploaded) - O0))
[ "$(ls "$MNT/tree/renamed-many" | wc -l)" -eq 10000 ] || fail "the renamed directory does not hold 10,000 files"

# (c)
head -c $((1024 * 1048576)) /dev/urandom >"$T/src1g"
cat "$T/src1g" >/dev/null # in the page cache for both runs
sync
G0=$(sfield remote_generation)
t0=$(now)
dd if="$T/src1g" of="$MNT/one-gib" bs=1M conv=fsync status=none
t_dd=$(now)
while :; do
	if [ "$(vault_gen)" -gt "$G0" ]; then
		t_vault=$(now)
		break
	fi
	[ "$(secs "$t0" "$(now)" | cut -d. -f1)" -lt 600 ] || fail "the vault did not get the 1 GiB commit within 600 s"
	sleep 0.05
done
G1=$(vault_gen)
wait_synced "$MNT" 120
# the commit published at t_vault must be the final one (no later commit had to upload)
[ "$(sfield remote_generation)" -eq "$G1" ] || t_vault=$(now)
C_SECS=$(secs "$t0" "$t_vault")
DD_SECS=$(secs "$t0" "$t_dd")
cmp -s "$T/src1g" "$MNT/one-gib" || fail "the 1 GiB file reads back wrong"

t0=$(now)
cp "$T/src1g" "$T/cp-copy"
sync "$T/cp-copy"
CP_SECS=$(secs "$t0" "$(now)")
RATIO=$(awk -v a="$C_SECS" -v b="$CP_SECS" 'BEGIN { printf "%.2f", a / b }')
coffer_umount

verdict() { if [ "$1" -le "$2" ]; then echo ok; else echo OVER; fi; }
printf '\n%-58s %14s %12s %s\n' "sync cost" "measured" "limit" ""
printf '%-58s %14s %12s %s\n' "(a) uploaded after 4 KiB overwrite in a 256 MiB file" "$A_BYTES B" "2097152 B" "$(verdict "$A_BYTES" 2097152) ($A_OBJS objects)"
printf '%-58s %14s %12s %s\n' "(b) uploaded after renaming a dir of 10,000 files" "$B_BYTES B" "1048576 B" "$(verdict "$B_BYTES" 1048576) ($B_OBJS objects)"
printf '%-58s %14s\n' "(c) mirror 1 GiB: dd conv=fsync + upload until vault idle" "$C_SECS s"
printf '%-58s %14s\n' "    of which dd conv=fsync into the mount" "$DD_SECS s"
printf '%-58s %14s\n' "    cp of the same 1 GiB + fsync, same disk" "$CP_SECS s"
printf '%-58s %14s\n\n' "    ratio mirror / cp" "$RATIO x"
[ "$A_BYTES" -le 2097152 ] || fail "(a) over its limit"
[ "$B_BYTES" -le 1048576 ] || fail "(b) over its limit"
