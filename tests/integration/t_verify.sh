#!/usr/bin/env bash
# t_verify: `coffer verify` checks the vault's own bytes (a folder vault).
# 1. A clean vault: exit 0, every object counted, nothing on stderr when it is not a terminal;
#    on a terminal (script(1)) a progress line with objects, MiB and MiB/s.
# 2. --snapshots: a chunk that only an older retained root names, deleted from the vault, is
#    missed by a plain verify (exit 0) and reported by --snapshots (exit 1) with its path and
#    generation; --repair cannot repair it when the cache no longer holds it (exit 1, says so).
# 3. A deleted chunk and a byte-flipped chunk: exit 1, each reported as missing / damaged with
#    the path of its file, also in --json (parsed by jq); verify never changes the cache.
# 4. --repair from the cache that holds them: exit 0, both reported repaired; verify is clean
#    again and a fresh device reads every file correctly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

verify() { "$COFFER" verify --passfile "$PASSFILE" "$@" "$VAULT"; }
obj_of_size() { # obj_of_size BLOCKS: the one vault object of that many sealed blocks
	local f
	f=$(find "$VAULT/objects" -type f -size "$(($1 * 4136))c" -printf '%f\n')
	[ "$(echo "$f" | wc -w)" -eq 1 ] || fail "expected one vault object of $1 blocks, got: $f"
	echo "$f"
}

coffer_init
coffer_mount
# files of more than 16 blocks: chunk objects of their own (smaller ones go into packs)
head -c $((27 * 4096)) /dev/urandom >"$MNT/old"
coffer_umount
OLD_GEN=$(ls "$VAULT/roots" | sort | tail -n 1 | sed 's/^0*//')
coffer_mount
mkdir -p "$MNT/a" "$MNT/b c"
head -c $((23 * 4096)) /dev/urandom >"$MNT/a/one"
head -c $((25 * 4096)) /dev/urandom >"$MNT/b c/two"
for i in $(seq 1 40); do echo "small $i" >"$MNT/a/s$i"; done
rm "$MNT/old"
(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums"
coffer_umount
OLD=$(obj_of_size 27)
ONE=$(obj_of_size 23)
TWO=$(obj_of_size 25)

# --- 1. clean ---
out=$(verify 2>"$T/err") || fail "verify of a clean vault failed: $out $(cat "$T/err")"
assert_contains "$out" "0 missing, 0 damaged, 0 unreadable" "clean summary"
assert_eq "$(cat "$T/err")" "" "stderr of verify when it is not a terminal"
n=$(echo "$out" | sed -n 's/.* roots, \([0-9]*\) objects.*/\1/p')
[ "${n:-0}" -ge 3 ] || fail "verify checked too few objects: $out"
out=$(verify --snapshots) || fail "verify --snapshots of a clean vault failed: $out"
ok "clean vault: exit 0 ($out)"
script -qec "$COFFER verify --passfile $PASSFILE $VAULT" /dev/null >"$T/tty" </dev/null ||
	fail "verify on a terminal failed: $(cat "$T/tty")"
grep -aq "coffer verify: [0-9]* objects, [0-9.]* MiB, [0-9.]* MiB/s" "$T/tty" ||
	fail "no progress line on a terminal: $(cat -v "$T/tty")"
ok "verify on a terminal shows a progress line"

# --- 2. an object only an older retained root names ---
rm "$VAULT/objects/$OLD"
out=$(verify) || fail "plain verify looked past the current root: $out"
rc=0
out=$(verify --snapshots) || rc=$?
assert_eq "$rc" 1 "exit status of verify --snapshots with a missing old chunk"
assert_contains "$out" "missing chunk objects/$OLD (generation $OLD_GEN)" "the old chunk reported"
assert_contains "$out" "    /old" "the old chunk's path"
assert_contains "$out" "1 missing, 0 damaged" "summary with the old chunk missing"
[ ! -e "$CACHE/objects/$OLD" ] || rm "$CACHE/objects/$OLD" # the cache freed it: make sure
rc=0
out=$(verify --snapshots --repair --cache "$CACHE") || rc=$?
assert_eq "$rc" 1 "exit status of a repair the cache cannot serve"
assert_contains "$out" "not repaired: the cache does not hold it" "the unrepairable chunk"
ok "--snapshots reports the chunk only generation $OLD_GEN names, at /old"

# --- 3. a deleted and a damaged chunk of the current root ---
tree_sums "$CACHE" >"$T/cache-before"
rm "$VAULT/objects/$ONE"
printf '\xff' | dd of="$VAULT/objects/$TWO" bs=1 seek=5000 conv=notrunc status=none
rc=0
out=$(verify) || rc=$?
assert_eq "$rc" 1 "exit status with a missing and a damaged chunk"
assert_contains "$out" "missing chunk objects/$ONE" "the deleted chunk"
assert_contains "$out" "damaged chunk objects/$TWO" "the damaged chunk"
assert_contains "$out" "    /a/one" "the deleted chunk's path"
assert_contains "$out" "    /b c/two" "the damaged chunk's path"
assert_contains "$out" "1 missing, 1 damaged, 0 unreadable, 0 repaired" "summary"
rc=0
verify --json >"$T/json" || rc=$?
assert_eq "$rc" 1 "exit status of verify --json"
jq -e . "$T/json" >/dev/null || fail "verify --json is not JSON: $(cat "$T/json")"
assert_eq "$(jq -r '.ok' "$T/json")" false ".ok"
assert_eq "$(jq -r '.missing | length' "$T/json")" 1 "missing count"
assert_eq "$(jq -r '.missing[0].name' "$T/json")" "$ONE" "missing name"
assert_eq "$(jq -r '.missing[0].paths[0]' "$T/json")" "/a/one" "missing path"
assert_eq "$(jq -r '.damaged[0].name' "$T/json")" "$TWO" "damaged name"
assert_eq "$(jq -r '.damaged[0].paths[0]' "$T/json")" "/b c/two" "damaged path"
assert_eq "$(jq -r '.damaged[0].kind' "$T/json")" chunk "damaged kind"
[ "$(jq -r '.objects' "$T/json")" -ge 3 ] && [ "$(jq -r '.bytes' "$T/json")" -gt 0 ] ||
	fail "counts in --json: $(cat "$T/json")"
tree_sums "$CACHE" >"$T/cache-after"
cmp -s "$T/cache-before" "$T/cache-after" || fail "verify changed the cache"
ok "deleted /a/one chunk and damaged /b c/two chunk: exit 1, both reported (text and JSON)"

# --- 4. repair from the cache ---
out=$(verify --repair --cache "$CACHE") || fail "verify --repair failed: $out"
assert_contains "$out" "2 repaired" "repair summary"
assert_contains "$out" "repaired: uploaded again from the cache" "repair note"
out=$(verify) || fail "verify after the repair failed: $out"
assert_contains "$out" "0 missing, 0 damaged" "clean after repair"
CACHE=$T/cache-fresh
coffer_mount -o ro
(cd "$MNT" && sha256sum --quiet -c "$T/sums") || fail "a fresh device reads wrong data after the repair"
coffer_umount
ok "--repair restored both chunks from the cache; a fresh device reads every file"
