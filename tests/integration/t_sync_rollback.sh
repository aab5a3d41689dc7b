#!/usr/bin/env bash
# t_sync_rollback: the vault folder is rolled back to an earlier copy of itself (a stale view
# served by the remote). A cache that has seen the newer generation refuses to mount it, with
# a message that says "rollback" and names both generations, writable or -o ro, and leaves the
# vault untouched. A fresh cache (a new device) accepts it, says which generation it fetched
# (and when it was committed) on stderr, shows the old content, and `coffer status` (right
# after the mount returns) reports that generation and commit time. The old generation holds a
# few thousand files so that the new device has a real vault to list.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

coffer_init
coffer_mount
echo "version one" >"$MNT/doc"
mkdir "$MNT/dir1"
head -c 300000 /dev/urandom >"$MNT/dir1/data"
sha_old=$(sha256sum <"$MNT/dir1/data")
# a few thousand objects, as a real vault has (the new device lists them at mount)
for d in linux node; do [ -d "/usr/include/$d" ] && cp -a "/usr/include/$d" "$MNT/dir1/"; done
coffer_umount
G_OLD=$(vault_gen)
[ "$G_OLD" -gt 0 ] || fail "no root on the vault after the first session"
cp -a "$VAULT" "$T/old-vault"
OLD_TIME=$("$COFFER" snapshots --passfile "$PASSFILE" "$VAULT" | awk -v g="$G_OLD" '$1 == g { print $2, $3 }')
ok "copied the vault at generation $G_OLD (committed $OLD_TIME)"

coffer_mount -o commit=1
echo "version two" >"$MNT/doc"
sleep 2
echo "version three" >"$MNT/doc"
echo "later file" >"$MNT/later"
head -c 300000 /dev/urandom >"$MNT/dir1/data"
coffer_umount
G_NEW=$(vault_gen)
[ "$G_NEW" -gt "$G_OLD" ] || fail "the vault did not advance past $G_OLD (now $G_NEW)"
assert_eq "$(last_unmount_gen)" "$G_NEW" "generation unmounted at vs the vault's newest root"
ok "wrote more: the vault and the cache are now at generation $G_NEW"

rm -rf "$VAULT"
cp -a "$T/old-vault" "$VAULT"
vault_sums_before=$(tree_sums "$VAULT")

for ro in "" "-o ro"; do
	# shellcheck disable=SC2086
	if try_mount_at "$CACHE" "$MNT" $ro; then
		fail "a cache that saw generation $G_NEW mounted the vault rolled back to $G_OLD ($ro): $(cat "$T/mount.out")"
	fi
	msg=$(cat "$T/mount.out")
	is_mounted "$MNT" && fail "the refused mount left $MNT mounted"
	assert_contains "$msg" "rollback" "refusal message ($ro)"
	assert_contains "$msg" "generation $G_OLD" "refusal message names the vault's generation ($ro)"
	assert_contains "$msg" "generation $G_NEW" "refusal message names the generation this cache has seen ($ro)"
	ok "mount ${ro:+($ro) }refused: $msg"
done
assert_eq "$(tree_sums "$VAULT")" "$vault_sums_before" "the refused mounts must not change the vault"
ok "the refused mounts left the vault byte-for-byte unchanged"

# A new device accepts the old state and says which one it got.
NEWCACHE=$T/cache-new
NEWMNT=$T/mnt-new
NO_WAIT_STATUS=1 try_mount_at "$NEWCACHE" "$NEWMNT" || fail "fresh-cache mount of the old vault failed: $(cat "$T/mount.out")"
status_rc=0
status_now=$("$COFFER" status --json "$NEWMNT" 2>&1) || status_rc=$?
msg=$(cat "$T/mount.out")
assert_contains "$msg" "fetched generation $G_OLD " "fresh-cache mount message"
assert_contains "$msg" "committed $OLD_TIME" "fresh-cache mount message gives the commit time"
ok "fresh cache: $msg"
wait_status "$NEWMNT"
assert_eq "$(sfield remote_generation "$NEWMNT")" "$G_OLD" "status remote_generation on the new device"
assert_eq "$(sfield local_generation "$NEWMNT")" "$G_OLD" "status local_generation on the new device"
committed=$(sfield remote_committed "$NEWMNT")
assert_eq "$(date -u -d "@$committed" '+%Y-%m-%d %H:%M:%S')" "$OLD_TIME" "status remote_committed vs the snapshot list"
human=$("$COFFER" status "$NEWMNT")
assert_contains "$human" "vault generation: $G_OLD" "coffer status (text)"
assert_contains "$human" "vault generation committed: $OLD_TIME" "coffer status (text)"
ok "coffer status on the new device: remote_generation $G_OLD, committed $OLD_TIME"
assert_eq "$(cat "$NEWMNT/doc")" "version one" "content of doc on the rolled-back vault"
assert_eq "$(sha256sum <"$NEWMNT/dir1/data")" "$sha_old" "content of dir1/data on the rolled-back vault"
[ ! -e "$NEWMNT/later" ] || fail "a file of generation $G_NEW is visible in generation $G_OLD"
ok "the new device shows generation $G_OLD's content"
umount_at "$NEWCACHE" "$NEWMNT"

# The old cache still refuses (it still remembers generation $G_NEW).
if try_mount_at "$CACHE" "$MNT"; then
	fail "the cache that saw $G_NEW later accepted the rolled-back vault: $(cat "$T/mount.out")"
fi
assert_contains "$(cat "$T/mount.out")" "rollback" "second refusal"
ok "the cache that saw generation $G_NEW still refuses"

# Checked last so that the checks above still run: status must answer as soon as mount returns.
[ "$status_rc" -eq 0 ] || fail "coffer status right after coffer mount returned failed (exit $status_rc): $status_now"
assert_eq "$(jq -r .remote_generation <<<"$status_now")" "$G_OLD" "status right after the mount"
ok "coffer status answers right after the mount returns"
