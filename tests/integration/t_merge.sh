#!/usr/bin/env bash
# t_merge: a divergence is merged, never lost (issue 10, scenario 1) on a folder vault.
# Laptop A mounts while the vault is away and commits a.txt and an edit of shared.txt; desktop B,
# online, publishes b.txt and its own edit of shared.txt. When A mounts with the vault back, it
# merges: a.txt and b.txt are both there, shared.txt is B's and A's is beside it as
# "shared.txt (conflict HOST DATE)"; the log, `coffer status` and `--json` (.last_merge) name the
# conflict copy; the merge is published on top of B's root. B then mounts and sees everything, a
# fresh device too, and `coffer fsck` is clean on all three caches.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

CA=$T/cache-a MA=$T/mnt-a CB=$T/cache-b MB=$T/mnt-b CC=$T/cache-c MC=$T/mnt-c

# merged MNT: the merged tree is what MNT shows
merged() {
	local mnt=$1 copy
	assert_eq "$(cat "$mnt/a.txt")" "A's a" "$mnt/a.txt"
	assert_eq "$(cat "$mnt/b.txt")" "B's b" "$mnt/b.txt"
	assert_eq "$(cat "$mnt/shared.txt")" "B's shared" "$mnt/shared.txt"
	copy=$(cd "$mnt" && ls | grep '^shared\.txt (conflict .* [0-9-]* [0-9]*)$') ||
		fail "$mnt holds no conflict copy of shared.txt: $(ls "$mnt")"
	assert_eq "$(cat "$mnt/$copy")" "A's shared" "$mnt/$copy"
}

fsck_at() {
	local out
	out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$1" "$VAULT" 2>&1) ||
		fail "coffer fsck --cache $1 reported problems: $out"
}

coffer_init
mount_at "$CA" "$MA"
echo "base" >"$MA/shared.txt"
umount_at "$CA" "$MA"
mount_at "$CB" "$MB"
assert_eq "$(cat "$MB/shared.txt")" "base" "B adopts the first generation"
umount_at "$CB" "$MB"

mv "$VAULT" "$VAULT.away"
edit_unreachable "$CA" "$MA"
mv "$VAULT.away" "$VAULT"
ok "A committed a.txt and an edit of shared.txt while the vault was away"

mount_at "$CB" "$MB"
echo "B's b" >"$MB/b.txt"
echo "B's shared" >"$MB/shared.txt"
umount_at "$CB" "$MB"
GB=$(vault_gen)
ok "B published b.txt and its edit of shared.txt: vault generation $GB"

mount_at "$CA" "$MA"
merged "$MA"
s=$(sj "$MA")
jq -e '.last_merge | test(": 1 conflict copy: /shared\\.txt \\(conflict ")' >/dev/null <<<"$s" ||
	fail "status --json does not name the conflict copy: $s"
assert_contains "$("$COFFER" status "$MA")" "last merge: generation" "coffer status text"
grep -q "merge: conflict copy /shared.txt (conflict " "$LOG" || fail "the log does not name the conflict copy"
grep -q "merge: merged /a.txt" "$LOG" || fail "the log does not name the merged a.txt"
wait_synced "$MA"
umount_at "$CA" "$MA"
[ "$(vault_gen)" -gt "$GB" ] || fail "the merge was not published over generation $GB"
ok "A merged: a.txt, b.txt, B's shared.txt and A's as a conflict copy; published as $(vault_gen)"

mount_at "$CB" "$MB"
merged "$MB"
umount_at "$CB" "$MB"
mount_at "$CC" "$MC" -o ro
merged "$MC"
umount_at "$CC" "$MC"
ok "B and a fresh device see the merged tree"

for c in "$CA" "$CB" "$CC"; do fsck_at "$c"; done
ok "coffer fsck is clean on all three caches"
# the status named the conflict copy while mounted; at rest no cache holds a plaintext name
for name in shared.txt a.txt b.txt conflict; do
	hits=$(grep -rlaF "$name" "$CA" "$CB" "$CC" || true)
	[ -z "$hits" ] || fail "'$name' stands in plaintext in an unmounted cache: $hits"
done
ok "no cache holds a file name or the merge's summary at rest"
