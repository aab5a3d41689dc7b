#!/usr/bin/env bash
# t_fresh_device: the vault folder alone (plus the passphrase) is enough: after umount
# every object of the cache is on the vault; a fresh cache (a new device) mounts it,
# reports the generation it received, and reads every file correctly -- also with many
# concurrent cold readers (buffered and O_DIRECT) of objects it must fetch, without EIO and
# without false "integrity error" log lines. A vault root rolled back to an older generation
# is refused by a cache that has seen a newer one ("rollback detected"), while a new device
# accepts it and says which generation it got.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
mkdir -p "$MNT/data/tree"
for i in 1 2 3 4; do head -c $((8 * 1048576 + i * 1000)) /dev/urandom >"$MNT/data/big$i"; done
for i in $(seq 1 200); do echo "small $i" >"$MNT/data/tree/s$i"; done
(cd "$MNT/data" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums"
coffer_umount
[ -d "$VAULT/objects" ] || fail "the vault folder has no objects/ after umount: $(ls "$VAULT")"
(cd "$CACHE/objects" && ls | sort) >"$T/cache.objs"
(cd "$VAULT/objects" && ls | sort) >"$T/vault.objs"
missing=$(comm -23 "$T/cache.objs" "$T/vault.objs")
[ -z "$missing" ] || fail "objects of the cache missing on the vault after umount: $(echo "$missing" | head -n 3)"
cp "$VAULT/root" "$T/vault-root.gen1"
ok "after umount all $(wc -l <"$T/cache.objs") cache objects are on the vault"

# A new device: empty cache, read-only, sequential reads.
ACACHE=$CACHE
CACHE=$T/cache-b
mount_out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG,ro" "$VAULT" "$MNT" 2>&1) ||
	fail "mount with a fresh cache failed: $mount_out"
_COFFER_MOUNTS+=("$MNT")
gen=$(echo "$mount_out" | sed -n 's/.*fetched generation \([0-9]*\).*/\1/p')
[ -n "$gen" ] || fail "a fresh cache did not report the generation it fetched: $mount_out"
(cd "$MNT/data" && sha256sum --quiet -c "$T/sums") || fail "files read through a fresh cache are wrong"
coffer_umount
ok "fresh cache: fetched generation $gen, all files correct"

# Another new device: many concurrent cold readers of the same objects.
CACHE=$T/cache-c
: >"$LOG"
"$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG,ro" "$VAULT" "$MNT" >/dev/null 2>&1 ||
	fail "mount with a second fresh cache failed"
_COFFER_MOUNTS+=("$MNT")
: >"$T/readers.err"
for _ in 1 2 3 4 5 6; do
	(
		for i in 1 2 3 4; do
			dd if="$MNT/data/big$i" of=/dev/null bs=1M iflag=direct status=none 2>>"$T/readers.err" ||
				echo "O_DIRECT read of big$i failed" >>"$T/readers.err"
			sha256sum "$MNT/data/big$i" >>"$T/readers.sums" 2>>"$T/readers.err" ||
				echo "buffered read of big$i failed" >>"$T/readers.err"
		done
	) &
done
wait
# Wrong data is fatal at once; errors are remembered so that the rollback checks still run.
sort -u "$T/readers.sums" | sed "s|$MNT/data/|./|" | sort -k2 >"$T/readers.uniq"
grep ' ./big' "$T/sums" | sort -k2 | join -1 2 -2 2 -o 1.1,2.1 - "$T/readers.uniq" |
	awk '$1 != $2 { bad = 1 } END { exit bad }' || fail "concurrent readers saw wrong data"
deferred=
if [ -s "$T/readers.err" ]; then
	deferred+="concurrent cold reads on a fresh cache failed ($(grep -c failed "$T/readers.err") of 48 reads): $(grep -m2 -v failed "$T/readers.err" | tr '\n' ' '). "
	echo "not ok - concurrent cold reads failed" >&2
fi
if grep -q 'integrity error' "$LOG"; then
	deferred+="false integrity errors logged for an untouched vault: $(grep -c 'integrity error' "$LOG") lines, e.g. '$(grep -m1 'integrity error' "$LOG")'. "
	echo "not ok - false integrity errors logged" >&2
fi
coffer_umount
[ -n "$deferred" ] || ok "24 concurrent cold readers on a fresh cache: no errors, right data, no integrity errors logged"

# Rollback: device A moves the vault on, then the vault's root is put back to the old one.
CACHE=$ACACHE
coffer_mount
echo "newer" >"$MNT/data/newer"
coffer_umount
cmp -s "$VAULT/root" "$T/vault-root.gen1" && fail "the vault root did not change after a new commit"
cp "$T/vault-root.gen1" "$VAULT/root"
if out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG" "$VAULT" "$MNT" 2>&1); then
	_COFFER_MOUNTS+=("$MNT")
	fail "a cache that saw a newer generation accepted a rolled-back vault root: $out"
fi
assert_contains "$out" "rollback" "message for a rolled-back vault"
is_mounted "$MNT" && fail "something got mounted from a rolled-back vault"
ok "rolled-back vault root refused: $out"
CACHE=$T/cache-d
out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG,ro" "$VAULT" "$MNT" 2>&1) ||
	fail "a new device could not mount the (old) vault state: $out"
_COFFER_MOUNTS+=("$MNT")
assert_contains "$out" "fetched generation $gen " "a new device reports the generation it received"
[ ! -e "$MNT/data/newer" ] || fail "the new device sees a file of a generation it was not given"
coffer_umount
ok "a new device accepts the old root and reports generation $gen"
[ -z "$deferred" ] || fail "$deferred"
