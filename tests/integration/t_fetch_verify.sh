#!/usr/bin/env bash
# t_fetch_verify: fetched bytes are bounded and authenticated before they enter the cache, and
# only what this device uploaded or verified counts as being in the vault (folder vault).
# 1. tamper: a flipped byte in file A's chunk object; a fresh cache reads A: EIO, and the object
#    is not in the cache; the vault is repaired; the same mount reads A right (no remount).
# 2. heal: the cache's copy of A's object damaged; the next read (page cache dropped) replaces
#    it with the vault's and returns the right bytes; the log says so.
# 3. oversize: A's object (3 sealed blocks, 12,408 bytes) replaced by 200 MB, and the first
#    chunk object of a 3 MiB file by 200 MB of zeros: reads are EIO and the fresh cache grows
#    by less than LIMIT_KB (du -sk before/after the reads).
# 4. forged listing: objects the newest root needs (written while the vault was away) planted as
#    empty files in the vault folder before their upload; a mount with -o cache_size=1M still
#    uploads them (the vault's bytes equal the cache's), and a fresh cache reads every file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

OBJ3=$((3 * 4136)) # the chunk object of a 12288-byte file
LIMIT_KB=4096      # "a few MiB"

SRC=$T/src
mkdir -p "$SRC"
head -c 12288 /dev/urandom >"$SRC/a"
head -c $((3 * 1048576)) /dev/urandom >"$SRC/big"

coffer_init
coffer_mount
cp "$SRC/a" "$SRC/big" "$MNT/"
coffer_umount
OBJ_A=""
for o in $(vault_objects); do
	[ "$(stat -c %s "$VAULT/objects/$o")" -eq "$OBJ3" ] && OBJ_A=$o
done
[ -n "$OBJ_A" ] || fail "no ${OBJ3}-byte object in the vault"
cp -a "$VAULT" "$T/pristine"

# 1. tamper, then repair without a remount
python3 - "$VAULT/objects/$OBJ_A" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4136 + 50)
    b = f.read(1)
    f.seek(4136 + 50)
    f.write(bytes([b[0] ^ 1]))
EOF
C1=$T/cache1
M1=$T/mnt1
mount_at "$C1" "$M1"
if err=$(cat "$M1/a" 2>&1 >/dev/null); then fail "tamper: reading a succeeded"; fi
assert_contains "$err" "Input/output error" "tamper: error reading a"
[ -e "$C1/objects/$OBJ_A" ] && fail "tamper: the damaged object was installed in the cache"
grep -q "object $OBJ_A from the vault is damaged" "$LOG" || fail "tamper: no log line naming $OBJ_A: $(cat "$LOG")"
ok "tamper: EIO, the object is not in the cache, the log names it"
cp "$T/pristine/objects/$OBJ_A" "$VAULT/objects/$OBJ_A"
cmp -s "$M1/a" "$SRC/a" || fail "tamper: after the repair, a still does not read right"
ok "tamper: after the vault is repaired, the same mount reads a right"

# 2. a damaged cached copy is replaced by the vault's
python3 - "$C1/objects/$OBJ_A" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100)
    b = f.read(1)
    f.seek(100)
    f.write(bytes([b[0] ^ 1]))
EOF
drop_caches
cmp -s "$M1/a" "$SRC/a" || fail "heal: a does not read right after its cached copy was damaged"
grep -q "object $OBJ_A: the cache's damaged copy was replaced" "$LOG" || fail "heal: no log line: $(cat "$LOG")"
cmp -s "$C1/objects/$OBJ_A" "$T/pristine/objects/$OBJ_A" || fail "heal: the cache's copy is not the vault's"
umount_at "$C1" "$M1"
ok "heal: the damaged cached copy was moved aside and replaced; a reads right"

# 3. oversize answers
head -c 200000000 /dev/zero >"$VAULT/objects/$OBJ_A"
BIG1=""
for o in $(vault_objects); do
	[ "$(stat -c %s "$VAULT/objects/$o")" -eq $((256 * 4136)) ] && BIG1=$o && break
done
[ -n "$BIG1" ] || fail "no full chunk object in the vault"
head -c 200000000 /dev/zero >"$VAULT/objects/$BIG1"
C2=$T/cache2
M2=$T/mnt2
mount_at "$C2" "$M2"
before=$(du -sk "$C2" | cut -f1)
if cat "$M2/a" >/dev/null 2>&1; then fail "oversize: reading a succeeded"; fi
if cat "$M2/big" >/dev/null 2>&1; then fail "oversize: reading big succeeded"; fi
after=$(du -sk "$C2" | cut -f1)
assert_le $((after - before)) "$LIMIT_KB" "oversize: KiB the cache grew by"
umount_at "$C2" "$M2"
ok "oversize: both 200 MB answers refused (EIO); the cache grew by $((after - before)) KiB (du -sk)"
rm -rf "$VAULT" && cp -a "$T/pristine" "$VAULT"

# 4. a forged listing
C3=$T/cache3
M3=$T/mnt3
mount_at "$C3" "$M3" -o commit=1
mv "$VAULT" "$VAULT.away"
head -c $((2 * 1048576)) /dev/urandom >"$SRC/offline"
cp "$SRC/offline" "$M3/offline"
commit_now "$M3"
"$COFFER" umount --no-wait "$M3" >/dev/null 2>&1 || true
wait_daemon_exit "$C3"
planted=0
for o in $(cd "$C3/objects" && ls | grep -E '^[0-9a-f]{32}$'); do
	if [ ! -e "$VAULT.away/objects/$o" ]; then
		: >"$VAULT.away/objects/$o"
		cp "$C3/objects/$o" "$T/only-$o"
		planted=$((planted + 1))
	fi
done
[ "$planted" -gt 0 ] || fail "forged: nothing waited for upload"
mv "$VAULT.away" "$VAULT"
mount_at "$C3" "$M3" -o cache_size=1M
wait_synced "$M3"
for f in "$T"/only-*; do
	o=${f##*/only-}
	cmp -s "$f" "$VAULT/objects/$o" || fail "forged: object $o planted empty was not uploaded"
done
umount_at "$C3" "$M3"
C4=$T/cache4
M4=$T/mnt4
mount_at "$C4" "$M4"
for f in a big offline; do cmp -s "$M4/$f" "$SRC/$f" || fail "forged: $f does not read right through a fresh cache"; done
umount_at "$C4" "$M4"
ok "forged: $planted objects planted as empty files were still uploaded (bytes equal); a fresh cache reads every file"
