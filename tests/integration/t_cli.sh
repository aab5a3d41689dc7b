#!/usr/bin/env bash
# t_cli: the command line behaves: --help/--version and `COMMAND --help` exit 0 and print
# usage; unknown commands, unknown options and missing arguments exit non-zero with a
# message; `coffer umount` of a directory that is not a coffer mount exits non-zero and says so;
# init over an existing vault is refused; fsck refuses a mounted cache; paths with spaces work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$("$COFFER" --help) || fail "coffer --help exited non-zero"
assert_contains "$out" "usage" "coffer --help"
for c in init mount umount fsck; do
	assert_contains "$out" "$c" "coffer --help lists $c"
done
ok "coffer --help"

out=$("$COFFER" --version) || fail "coffer --version exited non-zero"
echo "$out" | grep -Eq '^coffer [0-9]+\.[0-9]+' || fail "coffer --version printed '$out'"
ok "coffer --version: $out"

for c in init mount umount fsck; do
	out=$("$COFFER" "$c" --help) || fail "coffer $c --help exited non-zero"
	assert_contains "$out" "usage: coffer $c" "coffer $c --help"
done
ok "COMMAND --help for init mount umount fsck"
# every command that takes a VAULT takes the remote's -o OPTIONS, and its usage line says so
for c in init mount fsck snapshots passwd verify; do
	out=$("$COFFER" "$c" --help) || fail "coffer $c --help exited non-zero"
	usage=$(sed -n '/^usage:/,/^$/p' <<<"$out")
	assert_contains "$usage" "[-o OPTIONS]" "the usage of coffer $c"
	assert_contains "$out" "-o region=R" "coffer $c --help lists the remote options"
done
ok "the usage of every command that takes a VAULT shows -o OPTIONS"

if out=$("$COFFER" frobnicate 2>&1); then fail "unknown command exited 0"; fi
[ -n "$out" ] || fail "unknown command printed nothing"
ok "unknown command refused: $(echo "$out" | head -n1)"

if out=$("$COFFER" 2>&1); then fail "coffer with no command exited 0"; fi
[ -n "$out" ] || fail "coffer with no command printed nothing"
ok "no command refused"

if out=$("$COFFER" mount --no-such-option "$VAULT" "$MNT" 2>&1); then
	fail "unknown option exited 0"
fi
ok "unknown option refused"

for args in "init" "mount" "mount $VAULT" "umount" "fsck" "mount a b c"; do
	# shellcheck disable=SC2086
	if out=$("$COFFER" $args </dev/null 2>&1); then
		fail "coffer $args (wrong number of arguments) exited 0"
	fi
	[ -n "$out" ] || fail "coffer $args printed nothing"
done
ok "missing or extra arguments refused"

mkdir -p "$T/plain"
if out=$("$COFFER" umount "$T/plain" 2>&1); then fail "umount of a plain dir exited 0"; fi
[ -n "$out" ] || fail "umount of a plain dir printed no message"
ok "umount of a non-mounted dir refused: $out"

if out=$("$COFFER" umount "$T/does-not-exist" 2>&1); then fail "umount of a missing dir exited 0"; fi
[ -n "$out" ] || fail "umount of a missing dir printed no message"
ok "umount of a missing dir refused"

# mount of a folder that holds no vault
mkdir -p "$T/novault"
if out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" "$T/novault" "$MNT" 2>&1); then
	fail "mount of a folder without a vault exited 0"
fi
is_mounted "$MNT" && fail "something got mounted from a folder without a vault"
ok "mount without a vault refused: $out"

# init then init again via file:// URL: refused, config unchanged
coffer_init
before=$(sha256sum "$VAULT/config")
if out=$("$COFFER" init --passfile "$PASSFILE" --kdf-level min "file://$VAULT" 2>&1); then
	fail "init over an existing vault (file:// URL) exited 0"
fi
assert_eq "$(sha256sum "$VAULT/config")" "$before" "vault config after refused init"
ok "init over an existing vault via file:// refused: $out"

if out=$("$COFFER" init --passfile "$PASSFILE" --kdf-level bogus "$T/v2" 2>&1); then
	fail "init with a bogus --kdf-level exited 0"
fi
ok "bogus --kdf-level refused"

# fsck of an unmounted, never-mounted-with-data vault works through the CLI
coffer_mount
echo hello >"$MNT/x"
coffer_umount
coffer_fsck >/dev/null
ok "fsck after a mount session"

# fsck while mounted must not claim the cache is clean behind the daemon's back
coffer_mount
if out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" 2>&1); then
	fail "fsck of a mounted cache exited 0: $out"
fi
ok "fsck of a mounted cache refused: $out"
# a second mount on the same mount point (another cache) is refused, and nothing is stacked
if out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$T/cache-other" "$VAULT" "$MNT" 2>&1); then
	fail "a second mount on a mounted mount point exited 0"
fi
assert_contains "$out" "already a mounted coffer" "second mount on the same mount point"
assert_eq "$(awk -v m="$MNT" '$2 == m' /proc/mounts | wc -l)" 1 "mounts on $MNT"
assert_eq "$(cat "$MNT/x")" "hello" "the first mount still serves"
ok "second mount on the same mount point refused: $out"
coffer_umount

# Paths with spaces everywhere: vault, cache, mount point.
SP="$T/with space"
mkdir -p "$SP/mount point"
"$COFFER" init --passfile "$PASSFILE" --kdf-level min "$SP/the vault" >/dev/null || fail "init with a space in the path"
_COFFER_MOUNTS+=("$SP/mount point")
"$COFFER" mount --passfile "$PASSFILE" --cache "$SP/the cache" -o "logfile=$LOG" "$SP/the vault" "$SP/mount point" ||
	fail "mount with spaces in the paths failed"
mountpoint -q "$SP/mount point" || fail "nothing mounted on a path with a space"
echo spaced >"$SP/mount point/f"
"$COFFER" umount "$SP/mount point" || fail "umount of a mount point with a space failed"
mountpoint -q "$SP/mount point" && fail "still mounted after umount (path with a space)"
flock -n "$SP/the cache/lock" true || fail "umount returned before the daemon released the cache (path with a space)"
"$COFFER" mount --passfile "$PASSFILE" --cache "$SP/the cache" -o "logfile=$LOG" "$SP/the vault" "$SP/mount point" ||
	fail "remount with spaces in the paths failed"
assert_eq "$(cat "$SP/mount point/f")" "spaced" "file after remount (paths with spaces)"
"$COFFER" umount "$SP/mount point" || fail "second umount (path with a space) failed"
ok "init/mount/umount with spaces in the vault, cache and mount point paths"
