#!/usr/bin/env bash
# t_passwd: `coffer passwd` on two devices (two caches) of one folder vault.
# 1. passwd on device A while A is mounted: the vault id, the objects and the root stay, only
#    the kdf, salt and key lines of the config change; A's files stay readable; A's cached
#    config copy is the new one.
# 2. Device B (its cache keeps the old config): the old passphrase is refused with "the
#    passphrase of this vault was changed on another device; enter the new one" and B's copy is
#    left alone; offline (vault folder away) B's copy still opens with the old passphrase, as
#    coffer(1) says; online the new passphrase mounts B, its files are right, and B's copy
#    becomes the vault's config.
# 3. --kdf-level changes the Argon2id cost written in the config text.
# 4. A wrong old passphrase exits non-zero and leaves the config bytes identical.
# 5. Two passwd runs racing (both read the config before either writes): exactly one wins, the
#    other says so and changes nothing; the winner's passphrase mounts, the loser's does not,
#    and fsck is clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/passwd_lib.sh"

CHANGED="the passphrase of this vault was changed on another device; enter the new one"
OLDPASS=$PASSFILE
NEWPASS=$T/pass-new
printf 'a new passphrase %s\n' "$RANDOM" >"$NEWPASS"
chmod 600 "$NEWPASS"
export XDG_CACHE_HOME=$T/xdg # passwd without --cache must not touch a real default cache
CACHE_B=$T/cache-b
MNT_B=$T/mnt-b

config_line() { sed -n "s/^$1 //p" "$VAULT/config"; }

coffer_init
coffer_mount -o commit=1
mkdir -p "$MNT/data"
for i in 1 2 3; do head -c $((300000 * i + 17)) /dev/urandom >"$MNT/data/f$i"; done
sums "$MNT/data" >"$T/sums"
wait_synced
coffer_umount
mount_at "$CACHE_B" "$MNT_B"
(cd "$MNT_B/data" && sha256sum --quiet -c "$T/sums") || fail "device B reads wrong files before passwd"
umount_at "$CACHE_B" "$MNT_B"
cmp -s "$CACHE_B/config" "$VAULT/config" || fail "device B's cache keeps no copy of the vault config"
ok "devices A and B both mounted the vault with the first passphrase"

# 1. passwd on A while A is mounted.
coffer_mount
cp "$VAULT/config" "$T/config.old"
cp "$VAULT/root" "$T/root.before"
out=$("$COFFER" passwd --passfile "$OLDPASS" --new-passfile "$NEWPASS" --cache "$CACHE" "$VAULT" 2>&1) ||
	fail "coffer passwd failed: $out"
assert_contains "$out" "changed the passphrase" "coffer passwd's report"
for f in "coffer-vault" id kdf; do
	assert_eq "$(sed -n "s/^$f //p" "$VAULT/config")" "$(sed -n "s/^$f //p" "$T/config.old")" "the config's $f line after passwd"
done
for f in salt key; do
	assert_ne "$(config_line $f)" "$(sed -n "s/^$f //p" "$T/config.old")" "the config's $f line after passwd"
done
cmp -s "$CACHE/config" "$VAULT/config" || fail "device A's cached config copy is not the new config"
(cd "$MNT/data" && sha256sum --quiet -c "$T/sums") || fail "A's mounted files changed after passwd"
coffer_umount
cmp -s "$T/root.before" "$VAULT/root" || fail "passwd changed the vault's root (something was re-encrypted)"
ok "passwd while A is mounted: only salt and key changed, A's files readable, A's cache copy updated"

# 2. Device B with the old passphrase: refused, and told why.
if "$COFFER" mount --passfile "$OLDPASS" --cache "$CACHE_B" "$VAULT" "$MNT_B" >"$T/b.out" 2>&1; then
	_COFFER_MOUNTS+=("$MNT_B")
	fail "device B mounted with the old passphrase after passwd"
fi
assert_contains "$(cat "$T/b.out")" "$CHANGED" "device B's refusal of the old passphrase"
is_mounted "$MNT_B" && fail "$MNT_B is mounted after a refused unlock"
cmp -s "$CACHE_B/config" "$T/config.old" || fail "a refused unlock changed device B's cached config"
out=$("$COFFER" fsck --passfile "$OLDPASS" --cache "$CACHE_B" "$VAULT" 2>&1) && fail "fsck on B opened with the old passphrase: $out"
assert_contains "$out" "$CHANGED" "fsck on device B with the old passphrase"
out=$("$COFFER" snapshots --passfile "$OLDPASS" --cache "$CACHE_B" "$VAULT" 2>&1) && fail "snapshots opened with the old passphrase: $out"
assert_contains "$out" "$CHANGED" "snapshots with device B's cache and the old passphrase"
ok "device B: the old passphrase is refused by mount, fsck and snapshots with '$CHANGED'"

mv "$VAULT" "$VAULT.away"
out=$("$COFFER" fsck --passfile "$OLDPASS" --cache "$CACHE_B" "$VAULT" 2>&1) ||
	fail "offline, device B's cached old config did not open with the old passphrase: $out"
assert_contains "$out" "using the config kept in the cache" "offline fsck on B"
mv "$VAULT.away" "$VAULT"
ok "offline, device B's old config copy still opens with the old passphrase (documented)"

PASSFILE=$NEWPASS
mount_at "$CACHE_B" "$MNT_B"
(cd "$MNT_B/data" && sha256sum --quiet -c "$T/sums") || fail "device B reads wrong files with the new passphrase"
echo "written on B" >"$MNT_B/data/fromB"
umount_at "$CACHE_B" "$MNT_B"
cmp -s "$CACHE_B/config" "$VAULT/config" || fail "device B's cache copy was not updated after the unlock"
coffer_mount
assert_eq "$(cat "$MNT/data/fromB")" "written on B" "A reads what B wrote after passwd"
coffer_umount
out=$("$COFFER" fsck --passfile "$OLDPASS" --cache "$CACHE" "$VAULT" 2>&1) && fail "A opened with the old passphrase: $out"
assert_contains "$out" "wrong passphrase" "device A with the old passphrase"
ok "the new passphrase mounts A and B; B's cache copy follows; the old one is refused on A"

# 3. --kdf-level changes the cost in the config text.
before=$(config_line kdf)
"$COFFER" passwd --passfile "$NEWPASS" --new-passfile "$NEWPASS" --kdf-level interactive "$VAULT" >/dev/null ||
	fail "coffer passwd --kdf-level interactive failed"
assert_eq "$(config_line kdf)" "argon2id13 2 67108864" "the kdf line after --kdf-level interactive (was '$before')"
"$COFFER" passwd --passfile "$NEWPASS" --new-passfile "$NEWPASS" --kdf-level min "$VAULT" >/dev/null ||
	fail "coffer passwd --kdf-level min failed"
assert_eq "$(config_line kdf)" "argon2id13 1 8192" "the kdf line after --kdf-level min"
coffer_fsck >/dev/null
ok "--kdf-level interactive then min: the config says argon2id13 2 67108864, then 1 8192"

# 4. A wrong old passphrase: non-zero, config bytes identical.
cp "$VAULT/config" "$T/config.keep"
if out=$("$COFFER" passwd --passfile "$OLDPASS" --new-passfile "$OLDPASS" "$VAULT" 2>&1); then
	fail "coffer passwd with a wrong old passphrase succeeded"
fi
assert_contains "$out" "wrong passphrase" "passwd with a wrong old passphrase"
cmp -s "$T/config.keep" "$VAULT/config" || fail "a failed passwd changed the config bytes"
assert_fails "$COFFER" passwd --passfile "$NEWPASS" --new-passfile "$T/missing" "$VAULT"
cmp -s "$T/config.keep" "$VAULT/config" || fail "a passwd without a new passphrase changed the config"
ok "a wrong old passphrase (or no new one) exits non-zero; config bytes identical"

# 5. Two passwd runs racing: both hold the config's tag before either writes.
passwd_race "$NEWPASS"
out=$("$COFFER" fsck --passfile "$T/pass$lose" --cache "$CACHE" "$VAULT" 2>&1) && fail "the losing passphrase opens the vault"
PASSFILE=$T/pass$win
coffer_mount
(cd "$MNT/data" && sha256sum --quiet -c "$T/sums") || fail "files wrong after the passwd race"
coffer_umount
coffer_fsck >/dev/null
ok "racing passwd: $win won, $lose said it lost and changed nothing; the winner's passphrase mounts; fsck clean"
