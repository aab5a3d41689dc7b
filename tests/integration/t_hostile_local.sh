#!/usr/bin/env bash
# t_hostile_local: hostile neighbours and a hostile vault config, on real mounts.
# Proves: a config edited to ask for 2^32-1 Argon2id passes, or for about the machine's RAM, is
# refused by mount, fsck and snapshots within a second, naming what it asks and the cap; a
# --cache folder owned by another user (nobody) or mode 0777 is refused; symlinks planted at the
# cache's fixed temporary names (reserve.tmp, .status.tmp) are not followed (their target is
# untouched); the log file is created 0600 whatever the umask and never through a symlink; a
# --passfile readable by others is accepted with a warning (a 0600 one gets none); every command
# that reads a passphrase is undumpable before it does (its /proc/PID/environ belongs to root even
# when run by nobody); a mount point named "'; touch X; '" is mounted, its daemon killed with -9
# and remounted without any shell seeing the name (X never appears).
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
echo hello >"$MNT/a"
coffer_umount

# --- KDF cost chosen by the config (read before anything is authenticated)
cp "$VAULT/config" "$T/config.good"
ram=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
for cost in "4294967295 8192" "4 $ram"; do
	sed -E "s/^kdf argon2id13 .*/kdf argon2id13 $cost/" "$T/config.good" >"$VAULT/config"
	grep -q "^kdf argon2id13 $cost\$" "$VAULT/config" || fail "the config edit did not apply"
	for cmd in mount fsck snapshots; do
		args=(--passfile "$PASSFILE")
		[ "$cmd" = snapshots ] || args+=(--cache "$CACHE")
		[ "$cmd" = mount ] && extra=("$MNT") || extra=()
		t0=$(date +%s%N)
		rc=0
		out=$(timeout 20 "$COFFER" "$cmd" "${args[@]}" "$VAULT" "${extra[@]}" 2>&1) || rc=$?
		ms=$((($(date +%s%N) - t0) / 1000000))
		assert_eq "$rc" 1 "coffer $cmd with kdf '$cost' must fail (not hang: 124)"
		assert_le "$ms" 1000 "coffer $cmd with kdf '$cost' took ${ms} ms to refuse"
		assert_contains "$out" "asks for a key derivation of ${cost%% *} passes" \
			"coffer $cmd names the cost"
		assert_contains "$out" "coffer derives at most 4 passes over 1024 MiB" \
			"coffer $cmd names the cap"
		is_mounted "$MNT" && fail "coffer mount mounted a vault whose KDF cost it refused"
		ok "coffer $cmd refuses kdf '$cost' in ${ms} ms"
	done
done
cp "$T/config.good" "$VAULT/config"

# --- cache folder owned by someone else, or writable by others
mkdir "$T/theirs" "$T/open"
chown nobody "$T/theirs"
chmod 0777 "$T/open"
out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$T/theirs" "$VAULT" "$MNT" 2>&1) &&
	fail "mount accepted a cache folder owned by nobody"
assert_contains "$out" "is owned by uid 65534, not by you" "the refusal names the owner"
[ -e "$T/theirs/objects" ] && fail "coffer created files in a folder it refused"
out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$T/open" "$VAULT" 2>&1) &&
	fail "fsck accepted a cache folder of mode 0777"
assert_contains "$out" "is writable by group or others (mode 0777)" "the refusal names the mode"
is_mounted "$MNT" && fail "a refused cache folder was mounted"
ok "cache folders owned by nobody or mode 0777 are refused"

# --- symlinks planted at the fixed temporary names
printf 'victim\n' >"$T/victim"
rm -f "$CACHE/reserve"
ln -s "$T/victim" "$CACHE/reserve.tmp"
ln -s "$T/victim" "$CACHE/.status.tmp"
coffer_mount
echo more >"$MNT/b"
sync "$MNT/b"
coffer_umount
assert_eq "$(cat "$T/victim")" victim "the victim of the planted symlinks"
[ -f "$CACHE/reserve" ] && [ ! -L "$CACHE/reserve" ] || fail "the reserve was not made afresh"
ok "symlinks at reserve.tmp and .status.tmp are not followed"

# --- log file mode and symlink; passphrase file readable by others
rm -f "$LOG"
(umask 022 && coffer_mount)
_COFFER_MOUNTS+=("$MNT")
assert_eq "$(stat -c %a "$LOG")" 600 "the mode of a new log file"
coffer_umount
rm -f "$LOG"
ln -s "$T/victim" "$LOG"
chmod 644 "$PASSFILE"
out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG" "$VAULT" \
	"$MNT" 2>&1) || fail "mount with a symlinked log file and a 0644 passfile failed: $out"
assert_contains "$out" "cannot open the log file '$LOG'" "a symlinked log file is reported"
assert_contains "$out" "warning: the passphrase file '$PASSFILE' is readable by group and others (mode 0644)" \
	"a 0644 passfile is warned about"
coffer_umount
assert_eq "$(cat "$T/victim")" victim "the target of the symlinked log file"
rm -f "$LOG"
chmod 600 "$PASSFILE"
out=$("$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" 2>&1) || fail "snapshots failed: $out"
case "$out" in *warning*) fail "a 0600 passfile was warned about: $out" ;; esac
ok "log file created 0600 and never through a symlink; a readable passfile gets a warning"

# --- undumpable before the passphrase is read (as nobody, /proc/PID/environ of a dumpable one is
# nobody's; of an undumpable one, root's)
NV=$T/nobody
mkdir -m 700 "$NV"
cp "$PASSFILE" "$NV/pass"
chown -R nobody "$NV"
as_nobody() { runuser -u nobody -- env HOME="$NV" "$COFFER" "$@"; }
as_nobody init --passfile "$NV/pass" --kdf-level min "$NV/vault" >/dev/null ||
	fail "init as nobody failed"
for cmd in snapshots fsck; do
	rm -f "$NV/owner"
	as_nobody "$cmd" --cache "$NV/cache" \
		--passcmd "stat -c %u /proc/\$PPID/environ >$NV/owner; cat $NV/pass" "$NV/vault" \
		>/dev/null || fail "coffer $cmd as nobody failed"
	assert_eq "$(cat "$NV/owner")" 0 "owner of /proc/PID of coffer $cmd run by nobody"
done
ok "snapshots and fsck are undumpable before reading the passphrase"

# --- no shell sees a mount point's name
# (no / in a name: X is relative, so it would land in the cwd: $T here, / in the daemon)
X=coffer-injected-$$
EVIL="$T/m'; touch $X; '"
mkdir "$EVIL"
cd "$T"
_COFFER_MOUNTS+=("$EVIL")
"$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" "$EVIL" ||
	fail "mount on the quoted name failed"
assert_eq "$(cat "$EVIL/a")" hello "the file through the quoted mount point"
pids=$(daemon_pids)
[ -n "$pids" ] || fail "no daemon for the quoted mount point"
# shellcheck disable=SC2086
kill -9 $pids
wait_daemon_exit
"$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" "$EVIL" ||
	fail "remount over the dead mount failed"
assert_eq "$(cat "$EVIL/a")" hello "the file after the remount"
"$COFFER" umount "$EVIL" || fail "umount of the quoted mount point failed"
wait_daemon_exit
[ -e "$T/$X" ] || [ -e "/$X" ] && fail "a shell ran the mount point's name"
ok "a mount point named with quotes and ; is mounted, killed, remounted, unmounted; no shell ran"
