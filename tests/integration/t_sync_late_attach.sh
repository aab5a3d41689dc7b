#!/usr/bin/env bash
# t_sync_late_attach: a writer that mounted while its vault was unreachable catches up when the
# vault comes back, without a remount.
# 1. Nobody else wrote meanwhile: it takes the writer lease and publishes its offline commits
#    (state idle, vault generation = local), and a second writer is refused while it is mounted.
# 2. Another device holds the lease but published nothing: uploads wait ("waiting for the writer
#    lease held by HOST"), nothing is published; once that device unmounts, this one takes the
#    lease and publishes.
# 3. Another device published while this one was offline: uploads stop ("conflict"; the log says
#    the vault moved on), the vault keeps the other device's root, and the next mount merges
#    both devices' files.
# Device A reaches the vault through a bind mount ($T/va) that the test removes and restores;
# device B uses the vault folder itself.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

HOST=$(hostname)
VA=$T/va
CACHE_B=$T/cache-b
MNT_B=$T/mnt-b
CACHE_C=$T/cache-c
MNT_C=$T/mnt-c
VAULT_REAL=$T/vault

vault_up() {
	mkdir -p "$VA"
	mount --bind "$VAULT_REAL" "$VA" || fail "bind mount of the vault failed"
	_COFFER_MOUNTS+=("$VA")
}
vault_down() { umount "$VA" && rmdir "$VA" || fail "removing the bind mount failed"; }
# a_mount ARGS: mounts device A (cache $CACHE on $MNT) through $VA
a_mount() { VAULT=$VA coffer_mount "$@"; }
# b_mount CACHE MNT ARGS: another device, on the vault folder itself
b_mount() { mount_at "$@"; }
# a_offline NAME TEXT: device A mounts with the vault unreachable and commits NAME
a_offline() {
	vault_down
	a_mount -o drain_timeout=1
	echo "$2" >"$MNT/$1"
	commit_now
}
# wait_json MNT JQ-CONDITION WHAT: polls the status (30 s) until the condition holds
wait_json() {
	for _ in $(seq 150); do
		sj "$1" | jq -e "$2" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "$3: status is $(sj "$1")"
}

coffer_init
vault_up
a_mount
echo "shared" >"$MNT/shared.txt"
wait_synced
coffer_umount

# 1. offline attach, the vault returns, nobody else wrote
a_offline one.txt "offline one"
wait_json "$MNT" '.state == "retrying"' "A retries while the vault is away"
vault_up
wait_synced "$MNT" 60
[ -e "$VAULT_REAL/lease" ] || fail "A published but holds no lease"
ok "the vault came back: A took the lease and published generation $(sfield remote_generation)"
if try_mount_at "$CACHE_B" "$MNT_B"; then
	fail "B mounted writable while A holds the lease"
fi
assert_contains "$(cat "$T/mount.out")" "being written by $HOST" "B refused"
ok "a second writer is refused while A is mounted"
coffer_umount

# 2. offline attach while B holds the lease (and publishes nothing)
a_offline two.txt "offline two"
b_mount "$CACHE_B" "$MNT_B"
G=$(vault_gen)
vault_up
wait_json "$MNT" '.last_error | test("waiting for the writer lease held by")' "A waits for B's lease"
assert_contains "$(sfield last_error)" "$HOST" "the wait names the lease holder"
assert_eq "$(vault_gen)" "$G" "the vault generation while A waits for the lease"
ok "A waits for the lease B holds: $(sfield last_error)"
umount_at "$CACHE_B" "$MNT_B"
wait_synced "$MNT" 120
assert_eq "$(cat "$MNT/two.txt")" "offline two" "A's offline file"
ok "B unmounted: A took the lease and published generation $(sfield remote_generation)"
coffer_umount

# 3. B publishes while A is offline
a_offline three.txt "offline three"
b_mount "$CACHE_B" "$MNT_B"
echo "from B" >"$MNT_B/b.txt"
wait_synced "$MNT_B"
GB=$(vault_gen)
umount_at "$CACHE_B" "$MNT_B"
vault_up
wait_json "$MNT" '.state == "conflict" and (.last_error | test("changed while this device was offline"))' \
	"A sees the vault moved on"
grep -q "moved on to generation $GB while this device was offline" "$LOG" ||
	fail "the log does not say the vault moved on: $(tail -5 "$LOG")"
assert_eq "$(vault_gen)" "$GB" "the vault keeps B's generation"
ok "A stops uploading: the vault moved on to B's generation $GB"
"$COFFER" umount "$MNT" >/dev/null 2>&1 || true # the conflict keeps A's commits local
is_mounted "$MNT" && fail "coffer umount left $MNT mounted"
wait_daemon_exit
b_mount "$CACHE_C" "$MNT_C" -o ro
[ ! -e "$MNT_C/three.txt" ] || fail "A's offline file reached the vault without a merge"
assert_eq "$(cat "$MNT_C/b.txt")" "from B" "a fresh device reads B's file"
umount_at "$CACHE_C" "$MNT_C"
a_mount
wait_synced
for f in shared one two three b; do [ -e "$MNT/$f.txt" ] || fail "$f.txt is missing after the merge"; done
assert_eq "$(cat "$MNT/three.txt")" "offline three" "A's offline file after the merge"
coffer_umount
ok "the next mount merged A's offline file with B's"
