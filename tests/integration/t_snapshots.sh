#!/usr/bin/env bash
# t_snapshots: retained generations can be looked at without harm: `coffer snapshots` lists
# increasing generations; `coffer mount --snapshot GEN` shows that generation's files
# read-only (through a separate cache and through the vault's usual cache); afterwards the
# vault mounts normally again, with the newest content, and more commits still reach the vault.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
declare -A GEN
for v in 1 2 3; do
	coffer_mount
	echo "version $v" >"$MNT/f"
	mkdir -p "$MNT/only-in-$v"
	coffer_umount
	GEN[$v]=$("$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" | awk 'NR > 1 { g = $1 } END { print g }')
	[ -n "${GEN[$v]}" ] || fail "coffer snapshots lists nothing after session $v"
done
"$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" >"$T/snaps" || fail "coffer snapshots failed"
awk 'NR > 1 { if ($1 <= prev) exit 1; prev = $1 }' "$T/snaps" || fail "generations not increasing: $(cat "$T/snaps")"
[ "${GEN[1]}" -lt "${GEN[2]}" ] && [ "${GEN[2]}" -lt "${GEN[3]}" ] || fail "generations ${GEN[*]}"
ok "coffer snapshots lists increasing generations (sessions ended at ${GEN[1]}, ${GEN[2]}, ${GEN[3]})"

mount_snapshot() { # mount_snapshot GEN CACHE MOUNTPOINT
	mkdir -p "$3"
	_COFFER_MOUNTS+=("$3")
	"$COFFER" mount --passfile "$PASSFILE" --cache "$2" -o "logfile=$LOG" --snapshot "$1" "$VAULT" "$3" ||
		fail "coffer mount --snapshot $1 failed"
}

# Through a separate cache, while the vault is also mounted normally.
coffer_mount
mount_snapshot "${GEN[1]}" "$T/snapcache" "$T/snap"
assert_eq "$(cat "$T/snap/f")" "version 1" "file in snapshot ${GEN[1]}"
[ -d "$T/snap/only-in-1" ] && [ ! -e "$T/snap/only-in-2" ] || fail "snapshot ${GEN[1]} has the wrong directories"
assert_fails sh -c "echo x >'$T/snap/new'" 2>/dev/null
assert_eq "$(cat "$MNT/f")" "version 3" "the normal mount next to a snapshot"
"$COFFER" umount "$T/snap" || fail "umount of the snapshot failed"
coffer_umount
ok "snapshot ${GEN[1]} through a separate cache: old content, read-only"

# Naming the vault's usual cache: the snapshot goes to a cache of its own beside it
# (CACHE.snapshot-GEN), so the usual cache keeps its root.
mount_snapshot "${GEN[2]}" "$CACHE" "$T/snap"
assert_eq "$(cat "$T/snap/f")" "version 2" "file in snapshot ${GEN[2]} through the usual cache"
[ -f "$CACHE.snapshot-${GEN[2]}/root" ] || fail "the snapshot did not get a cache of its own beside $CACHE"
"$COFFER" umount "$T/snap" || fail "umount of the snapshot failed"
wait_daemon_exit
if ! out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG" "$VAULT" "$MNT" 2>&1); then
	fail "after looking at snapshot ${GEN[2]} through the usual cache, the vault no longer mounts from it: $out"
fi
_COFFER_MOUNTS+=("$MNT")
assert_eq "$(cat "$MNT/f")" "version 3" "newest content after a snapshot was mounted through the same cache"
echo "version 4" >"$MNT/f"
coffer_umount
last=$("$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" | awk 'NR > 1 { g = $1 } END { print g }')
[ "$last" -gt "${GEN[3]}" ] || fail "a commit after the snapshot mount did not reach the vault (newest generation $last)"
ok "snapshot ${GEN[2]} through the usual cache; afterwards the vault mounts with the newest content and commits reach the vault"
