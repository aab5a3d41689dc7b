#!/usr/bin/env bash
# t_fstab: coffer as mount(8)'s helper. In a private mount namespace whose /usr/sbin (and so
# /sbin) is overlaid with mount.fuse.coffer and umount.fuse.coffer links to the coffer under
# test (nothing changes outside the namespace): a real fstab line with passfile=, cache=,
# commit= and the mount-only options _netdev, nofail, noauto, defaults, x-systemd.automount
# mounts with `mount -T FSTAB MOUNTPOINT` (the mount-only options never reach coffer or FUSE);
# `umount` commits and returns only after the daemon let go of the cache, with the data on the
# vault (a second device with an empty cache reads it through `mount -t fuse.coffer -o ro`);
# `umount -l` detaches and the daemon still ends; `mount -f` mounts nothing; passcmd=, an empty
# passfile= and an option FUSE does not know are refused with a message naming them.
set -euo pipefail
if [ -z "${COFFER_FSTAB_NS:-}" ]; then
	exec unshare --mount --propagation private env COFFER_FSTAB_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

mkdir "$T/sbin"
ln -s "$COFFER" "$T/sbin/mount.fuse.coffer"
ln -s "$COFFER" "$T/sbin/umount.fuse.coffer"
mount -t overlay overlay -o "lowerdir=$T/sbin:/usr/sbin" /usr/sbin || fail "cannot overlay /usr/sbin"
[ -x /sbin/mount.fuse.coffer ] || fail "/sbin/mount.fuse.coffer is not there after the overlay"

coffer_init
_COFFER_MOUNTS+=("$MNT")
printf '%s %s fuse.coffer passfile=%s,cache=%s,logfile=%s,commit=2,_netdev,nofail,noauto,defaults,x-systemd.automount,x-systemd.idle-timeout=60 0 0\n' \
	"$VAULT" "$MNT" "$PASSFILE" "$CACHE" "$LOG" >"$T/fstab"
mount -T "$T/fstab" "$MNT" || fail "mount -T fstab $MNT failed"
is_mounted "$MNT" || fail "mount returned 0 but $MNT is not mounted"
assert_eq "$(awk -v m="$MNT" '$2 == m { print $3 }' /proc/self/mounts)" fuse.coffer "type of the mount"
pid=$(daemon_pids)
[ -n "$pid" ] || fail "no 'coffer mount' daemon serves $CACHE"
# (coffer splits its -o list in place, so its commas read as NULs in /proc/PID/cmdline)
cmdline=$(tr '\0' ' ' </proc/"${pid%% *}"/cmdline)
assert_contains "$cmdline" "--passfile $PASSFILE --cache $CACHE -o rw logfile=$LOG commit=2 -- $VAULT $MNT" \
	"the daemon's command line"
for o in _netdev nofail noauto defaults x-systemd; do
	case $cmdline in *"$o"*) fail "the mount-only option $o reached coffer: $cmdline" ;; esac
done
ok "an fstab line mounts through mount.fuse.coffer; mount-only options dropped"

head -c 2000000 /dev/urandom >"$T/data"
cp "$T/data" "$MNT/big"
mkdir "$MNT/dir" && echo hello >"$MNT/dir/small"
umount "$MNT" || fail "umount $MNT failed"
is_mounted "$MNT" && fail "still mounted after umount"
flock -n "$CACHE/lock" true || fail "umount returned before the daemon released $CACHE/lock"
[ -z "$(daemon_pids)" ] || fail "umount returned while the daemon still runs"
ok "umount runs umount.fuse.coffer: it returns after the final commit and upload"

# A second device (empty cache) reads everything from the vault, read-only, via mount -t.
CACHE2=$T/cache2
mount -t fuse.coffer -o "passfile=$PASSFILE,cache=$CACHE2,ro,nosuid,nodev" "$VAULT" "$MNT" ||
	fail "mount -t fuse.coffer -o ro failed"
cmp "$MNT/big" "$T/data" || fail "the file read back through a fresh cache differs"
assert_eq "$(cat "$MNT/dir/small")" hello "small file through a fresh cache"
if echo x >"$MNT/new" 2>/dev/null; then fail "a write succeeded on the ro mount"; fi
umount "$MNT" || fail "umount of the ro mount failed"
wait_daemon_exit "$CACHE2" 30
ok "data round trips through the vault; ro and nosuid/nodev pass to FUSE"

mount -T "$T/fstab" "$MNT" || fail "second mount -T failed"
echo after-lazy >"$MNT/lazy"
umount -l "$MNT" || fail "umount -l failed"
is_mounted "$MNT" && fail "still mounted after umount -l"
wait_daemon_exit "$CACHE" 60
mount -T "$T/fstab" "$MNT" || fail "mount after umount -l failed"
assert_eq "$(cat "$MNT/lazy")" after-lazy "data written before umount -l"
umount "$MNT" || fail "umount failed"
ok "umount -l detaches; the daemon still commits and ends"

mount -f -T "$T/fstab" "$MNT" || fail "mount -f failed"
is_mounted "$MNT" && fail "mount -f mounted something"
ok "mount -f (fake) mounts nothing"

refused() { # refused OPTIONS TEXT: mount -t fuse.coffer -o OPTIONS fails, saying TEXT
	local out
	if out=$(mount -t fuse.coffer -o "$1" "$VAULT" "$MNT" 2>&1); then
		fail "mount -o $1 succeeded"
	fi
	assert_contains "$out" "$2" "message for -o $1"
	is_mounted "$MNT" && fail "mount -o $1 failed but left a mount"
	log "refused -o $1: $out"
}
refused "passcmd=cat $PASSFILE" "passcmd= is not accepted"
refused "passfile=,cache=$CACHE" "passfile= needs a value"
refused "passfile=$PASSFILE,cache=$CACHE,no_such_option" "no_such_option"
refused "passfile=$PASSFILE,cache=$CACHE,commit=never" "commit= takes seconds"
wait_daemon_exit "$CACHE" 30
ok "bad options are refused with a message naming them"
