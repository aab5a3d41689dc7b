#!/usr/bin/env bash
# t_deb: the Debian package. Builds it with `dpkg-buildpackage -us -uc -b` in a temporary copy
# of the tree (the checkout gets no build product), checks that coffer_VERSION_amd64.deb holds
# the binary, both man pages, the mount helpers, the bash completion and the user unit, that
# lintian reports no error (its warnings are logged), installs it with dpkg -i, mounts through
# an fstab line (`mount -T`) with the installed /sbin/mount.fuse.coffer and /usr/bin/coffer,
# round-trips data through umount and a remount, and purges the package at the end (trap, also
# on failure). Refuses to run where a coffer package is already installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || fail "$tool is missing (run tests/deps.sh)"
done
dpkg -s coffer >/dev/null 2>&1 && fail "a coffer package is already installed; not touching it"

_deb_cleanup() {
	local rc=$?
	is_mounted "$MNT" && { fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT"; }
	dpkg -s coffer >/dev/null 2>&1 && dpkg --purge coffer >/dev/null
	(exit "$rc")
	_cleanup
}
trap _deb_cleanup EXIT

VERSION=$("$COFFER" --version | awk '{ print $2 }')
SRC=$T/src/coffer-$VERSION
mkdir -p "$SRC"
git -C "$REPO_ROOT" ls-files -z --cached --others --exclude-standard |
	(cd "$REPO_ROOT" && tar --null -T - -cf -) | tar -C "$SRC" -xf -
(cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 ||
	{ tail -30 "$T/build.log" >&2; fail "dpkg-buildpackage failed"; }
DEB=$T/src/coffer_${VERSION}_amd64.deb
[ -f "$DEB" ] || fail "no $DEB after the build: $(ls "$T/src")"
ok "dpkg-buildpackage built $(basename "$DEB")"

contents=$(dpkg -c "$DEB")
for f in ./usr/bin/coffer ./usr/share/man/man1/coffer.1.gz ./usr/share/man/man5/coffer-format.5.gz \
	./sbin/mount.fuse.coffer ./sbin/umount.fuse.coffer \
	./usr/share/bash-completion/completions/coffer ./usr/lib/systemd/user/coffer@.service; do
	grep -qF " $f" <<<"$contents" || fail "the package lacks $f"
done
ok "the package holds the binary, both man pages, the helpers, the completion and the unit"

lintian --fail-on error "$DEB" >"$T/lintian.log" 2>&1 || { cat "$T/lintian.log" >&2; fail "lintian reports errors"; }
log "lintian: $(grep -c '^[EW]:' "$T/lintian.log" || true) tags: $(grep '^[EW]:' "$T/lintian.log" | tr '\n' ';')"
ok "lintian: no errors"

dpkg -i "$DEB" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg -i failed"; }
assert_eq "$(/usr/bin/coffer --version)" "coffer $VERSION" "installed coffer --version"
[ "$(readlink /sbin/mount.fuse.coffer)" = /usr/bin/coffer ] || fail "/sbin/mount.fuse.coffer is not a link to /usr/bin/coffer"
bash -c '. /usr/share/bash-completion/completions/coffer && complete -p coffer' >/dev/null ||
	fail "the installed completion does not load"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (run tests/deps.sh)"
mkdir -p "$T/unit"
cp /usr/lib/systemd/user/coffer@.service "$T/unit/coffer@test.service"
systemd-analyze verify "$T/unit/coffer@test.service" >"$T/verify.log" 2>&1 ||
	{ cat "$T/verify.log" >&2; fail "systemd-analyze verify rejects the user unit"; }
ok "systemd-analyze verify accepts coffer@.service"
ok "installed"

COFFER=/usr/bin/coffer coffer_init
printf '%s %s fuse.coffer passfile=%s,cache=%s,logfile=%s,_netdev,nofail,noauto 0 0\n' \
	"$VAULT" "$MNT" "$PASSFILE" "$CACHE" "$LOG" >"$T/fstab"
_COFFER_MOUNTS+=("$MNT")
mount -T "$T/fstab" "$MNT" || fail "mount -T fstab with the installed helper failed"
pid=$(daemon_pids)
[ -n "$pid" ] || fail "no coffer daemon serves $CACHE"
assert_eq "$(readlink /proc/"${pid%% *}"/exe)" /usr/bin/coffer "the daemon's binary"
head -c 1000000 /dev/urandom >"$T/data"
cp "$T/data" "$MNT/data"
umount "$MNT" || fail "umount failed"
flock -n "$CACHE/lock" true || fail "umount returned before the daemon released the cache"
rm -rf "$CACHE"
mount -T "$T/fstab" "$MNT" || fail "remount failed"
cmp "$MNT/data" "$T/data" || fail "data differs after umount and a remount from the vault"
umount "$MNT" || fail "second umount failed"
ok "the installed coffer mounts through fstab, umount commits and drains, data round trips"

dpkg --purge coffer >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg --purge failed"; }
[ ! -e /usr/bin/coffer ] && [ ! -L /sbin/mount.fuse.coffer ] || fail "files remain after the purge"
ok "purged"
