#!/usr/bin/env bash
# t_fork: an operator that forks the history of a folder vault is caught (issue 10, scenario 2).
# A and B both saw root P; B publishes X.txt; the operator shows A the old P again and A
# publishes over it. B refuses A's branch at attach ("fork detected", both generations and short
# root hashes) with its cache untouched, and while it follows read-only; A refuses B's branch.
# `coffer status` shows the vault root's short hash (BLAKE2b-256 of the root file). A cleared
# cache still refuses a rollback (the state outside the cache). Forged roots/ names cost no
# snapshot. A device away for more than 16 publishes proves descent through history segments,
# and a fork made beyond that gap is still refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

CA=$T/cache-a MA=$T/mnt-a CB=$T/cache-b MB=$T/mnt-b CC=$T/cache-c MC=$T/mnt-c CD=$T/cache-d MD=$T/mnt-d

short_hash() { b2sum -l 256 "$1" | cut -c1-8; }

# refused CACHE MNT WORD [mount args]: the mount must fail saying "WORD detected"; the cache's
# root must stay byte for byte what it was.
refused() {
	local cache=$1 mnt=$2 word=$3 before msg
	shift 3
	before=$(sha256sum <"$cache/root")
	if try_mount_at "$cache" "$mnt" "$@"; then
		fail "$cache mounted a vault root it must refuse ($word): $(cat "$T/mount.out")"
	fi
	msg=$(cat "$T/mount.out")
	is_mounted "$mnt" && fail "the refused mount left $mnt mounted"
	assert_contains "$msg" "$word detected" "refusal message of $cache"
	assert_eq "$(sha256sum <"$cache/root")" "$before" "the refused mount changed $cache/root"
	echo "$msg"
}

# publish MNT TEXT [COMMITS]: writes g.txt COMMITS times (default 1), then waits until the vault
# holds it.
publish() {
	local mnt=$1 text=$2 n=${3:-1}
	for k in $(seq "$n"); do
		rm -f "$mnt/g.txt" # a new file each time (an O_TRUNC over a longer file is lost, a bug of its own)
		echo "$text.$k" >"$mnt/g.txt"
		commit_now "$mnt"
	done
	wait_synced "$mnt"
}

coffer_init
mount_at "$CA" "$MA"
echo "base" >"$MA/f.txt"
umount_at "$CA" "$MA"
mount_at "$CB" "$MB"
assert_eq "$(cat "$MB/f.txt")" "base" "B adopts the first generation"
assert_eq "$(sfield remote_root "$MB")" "$(short_hash "$VAULT/root")" "status: the vault root's short hash"
assert_contains "$("$COFFER" status "$MB")" "vault root: $(short_hash "$VAULT/root")" "coffer status text"
cp "$VAULT/root" "$T/root.P"
GP=$(vault_gen)
echo "B's X" >"$MB/X.txt"
umount_at "$CB" "$MB"
cp "$VAULT/root" "$T/root.X"
GX=$(vault_gen)
ok "A and B saw generation $GP ($(short_hash "$T/root.P")); B published X.txt as $GX ($(short_hash "$T/root.X"))"

cp "$T/root.P" "$VAULT/root" # the operator shows A the old root
mount_at "$CA" "$MA"
[ -e "$MA/X.txt" ] && fail "A sees X.txt in root P"
echo "A's f" >"$MA/f.txt"
commit_now "$MA"
echo "A's f, again" >"$MA/f.txt"
umount_at "$CA" "$MA"
cp "$VAULT/root" "$T/root.F"
GF=$(vault_gen)
[ "$GF" -gt "$GX" ] || fail "A's branch ($GF) is not past B's generation $GX"
ok "A, shown root P again, published its branch as generation $GF"

msg=$(refused "$CB" "$MB" fork)
assert_contains "$msg" "generation $GF" "B's refusal names the vault's generation"
assert_contains "$msg" "generation $GX" "B's refusal names the generation B saw"
assert_contains "$msg" "root $(short_hash "$T/root.F")" "B's refusal names the vault root's short hash"
assert_contains "$msg" "root $(short_hash "$T/root.X")" "B's refusal names the short hash B saw"
assert_contains "$msg" "committed " "B's refusal gives the commit times"
msg=$(refused "$CB" "$MB" fork -o ro)
ok "B refuses A's branch at attach, writable and read-only: $msg"

cp "$T/root.X" "$VAULT/root" # B follows X read-only; then the operator switches to A's branch
mount_at "$CB" "$MB" -o ro
assert_eq "$(cat "$MB/X.txt")" "B's X" "B follows X"
n0=$(grep -c "fork detected" "$LOG" || true)
cp "$T/root.F" "$VAULT/root"
for _ in $(seq 100); do
	[ "$(grep -c "fork detected" "$LOG" || true)" -gt "$n0" ] && break
	sleep 0.2
done
if [ "$(grep -c "fork detected" "$LOG" || true)" -le "$n0" ] ||
	! grep "fork detected" "$LOG" | tail -n 1 | grep -q "generation $GF .* generation $GX "; then
	fail "the following mount did not log the fork: $(tail -n 5 "$LOG")"
fi
for _ in $(seq 50); do
	sfield last_error "$MB" | grep -q "fork or rollback detected" && break
	sleep 0.2
done
assert_contains "$(sfield last_error "$MB")" "fork or rollback detected" "status of the following mount"
assert_eq "$(cat "$MB/X.txt")" "B's X" "B still serves X after refusing the fork"
assert_eq "$(cat "$MB/f.txt")" "base" "B still serves X's f.txt"
umount_at "$CB" "$MB"
ok "B, following read-only, refused A's branch and kept serving X"

cp "$T/root.X" "$VAULT/root" # older than A's own branch: a rollback as A sees it
msg=$(refused "$CA" "$MA" rollback)
ok "A refuses B's branch too: $msg"

cp "$T/root.F" "$VAULT/root"
rm -rf "$CA"
cp "$T/root.P" "$VAULT/root"
[ -d "$XDG_STATE_HOME/coffer" ] || fail "no state outside the cache in $XDG_STATE_HOME"
if try_mount_at "$CA" "$MA"; then
	fail "a cleared cache accepted the rolled-back root P: $(cat "$T/mount.out")"
fi
assert_contains "$(cat "$T/mount.out")" "rollback detected" "the cleared cache's refusal"
ok "a cleared cache still refuses the rollback to $GP: $(cat "$T/mount.out")"
cp "$T/root.F" "$VAULT/root"
rm -rf "$CA"
mount_at "$CA" "$MA" # the honest root: the cleared cache adopts it
assert_eq "$(cat "$MA/f.txt")" "A's f, again" "the cleared cache adopts the honest root"

# Forged names under roots/ (past any real generation) push no real snapshot out.
for g in 99999999999999999999 00000000009999999999 00000000009999999998; do
	echo x >"$VAULT/roots/$g"
done
snaps_before=$("$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" 2>/dev/null | grep -c '^[0-9]' || true)
for k in 1 2 3; do publish "$MA" "forged $k"; done
umount_at "$CA" "$MA"
rm -f "$VAULT/roots/99999999999999999999" "$VAULT/roots/00000000009999999999" "$VAULT/roots/00000000009999999998"
snaps_after=$("$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" 2>/dev/null | grep -c '^[0-9]' || true)
[ "$snaps_after" -ge "$snaps_before" ] || fail "forged roots/ names cost snapshots: $snaps_before before, $snaps_after after"
ok "forged roots/ names pushed no snapshot out ($snaps_before, then $snaps_after retained)"

# C and D see the current root; A publishes 17 times (more than a root's tail of 15).
mount_at "$CC" "$MC" && umount_at "$CC" "$MC"
mount_at "$CD" "$MD" && umount_at "$CD" "$MD"
cp "$VAULT/root" "$T/root.Q"
GQ=$(vault_gen)
mount_at "$CA" "$MA" -o keep=64
for k in $(seq 17); do publish "$MA" "A $k"; done
umount_at "$CA" "$MA"
GA=$(vault_gen)
[ -n "$(ls "$VAULT/history")" ] || fail "17 publishes wrote no history segment"
mount_at "$CC" "$MC"
assert_eq "$(cat "$MC/g.txt")" "A 17.1" "C, away for 17 publishes, adopts the newest"
umount_at "$CC" "$MC"
ok "C, away for 17 publishes ($GQ to $GA), proved descent through $(ls "$VAULT/history" | wc -l) history segment(s)"

# The operator shows D the old Q; D builds a branch past A's newest; C must refuse it.
cp "$T/root.Q" "$VAULT/root"
mount_at "$CD" "$MD" -o keep=64
for k in $(seq 7); do publish "$MD" "D $k" 3; done
umount_at "$CD" "$MD"
GD=$(vault_gen)
[ "$GD" -gt "$GA" ] || fail "D's branch ($GD) is not past A's newest $GA"
msg=$(refused "$CC" "$MC" fork)
assert_contains "$msg" "generation $GD" "C's refusal names D's generation"
assert_contains "$msg" "generation $GA" "C's refusal names the generation C saw"
ok "a fork made beyond 17 publishes is refused: $msg"
grep -q "cannot keep the state outside the cache" "$LOG" "$T/mount.out" &&
	fail "the state outside the cache could not be kept"
ls "$XDG_STATE_HOME/coffer/"*/* >/dev/null || fail "no state outside the caches"
assert_eq "$(ls "$XDG_STATE_HOME/coffer/"*/ | wc -l)" 4 "one outside state per cache (A, B, C, D)"
