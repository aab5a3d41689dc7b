#!/usr/bin/env bash
# t_sync_tamper: the vault is untrusted. Each case starts from a pristine copy of the vault,
# damages it, and mounts it through a fresh cache (a new device) that must fetch everything:
#   flip:     one byte of file A's chunk object flipped
#   swap:     A's and B's chunk objects (both genuine, same size) swapped
#   truncate: A's chunk object cut short by one sealed block
#   delete:   A's chunk object deleted
# Reading an affected file fails with EIO, the log has "integrity error: /bad/X" naming it
# ("damaged" or "missing"), and every other file reads back with its exact checksum.
# The target objects are found by giving A and B a distinct size (3 blocks: a 3*4136-byte chunk
# object) and diffing the vault's object list around the mount session that created each.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

OBJ3=$((3 * 4136)) # chunk object of a 12288-byte file

SRC=$T/src
mkdir -p "$SRC/good/sub/deeper" "$SRC/bad"
for i in $(seq 1 30); do
	# sizes 1..29 KiB + 1000 bytes..., but never a 3-block (8193..12288 byte) file
	n=$((i * 1500 + 7))
	[ "$n" -gt 8192 ] && [ "$n" -le 12288 ] && n=$((n + 5000))
	head -c "$n" /dev/urandom >"$SRC/good/f$i"
done
head -c $((2 * 1048576 + 777)) /dev/urandom >"$SRC/good/sub/large"
for i in 1 2 3; do echo "tiny $i" >"$SRC/good/sub/deeper/t$i"; done
head -c 12288 /dev/urandom >"$SRC/bad/a"
head -c 12288 /dev/urandom >"$SRC/bad/b"

# chunk_of_session: the one new OBJ3-sized object in the vault since list $1
chunk_since() {
	local o found=""
	for o in $(vault_objects | comm -13 "$1" -); do
		if [ "$(stat -c %s "$VAULT/objects/$o")" -eq "$OBJ3" ]; then
			[ -z "$found" ] || fail "two new ${OBJ3}-byte objects in one session: $found $o"
			found=$o
		fi
	done
	[ -n "$found" ] || fail "no new ${OBJ3}-byte object on the vault after the session"
	echo "$found"
}

coffer_init
coffer_mount
cp -a "$SRC/good" "$MNT/"
mkdir "$MNT/bad"
coffer_umount
vault_objects >"$T/objs.1"

coffer_mount
cp "$SRC/bad/a" "$MNT/bad/a"
coffer_umount
OBJ_A=$(chunk_since "$T/objs.1")
vault_objects >"$T/objs.2"

coffer_mount
cp "$SRC/bad/b" "$MNT/bad/b"
coffer_umount
OBJ_B=$(chunk_since "$T/objs.2")
assert_ne "$OBJ_A" "$OBJ_B" "objects of A and B"
ok "file A's chunk is object $OBJ_A, file B's is $OBJ_B"

(cd "$SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums"
cp -a "$VAULT" "$T/pristine"

# Sanity: the untouched vault reads back fully through a fresh cache.
run_case() { # run_case NAME WORD BADFILE...: vault already damaged; WORD = damaged|missing
	local name=$1 word=$2 c m f err rel
	shift 2
	c=$T/cache-$name
	m=$T/mnt-$name
	LOG=$T/log-$name
	mount_at "$c" "$m"
	for f in "$@"; do
		if err=$(cat "$m/$f" 2>&1 >/dev/null); then
			fail "$name: reading $f succeeded on a tampered vault"
		fi
		assert_contains "$err" "Input/output error" "$name: error reading $f"
		grep -F "integrity error: /$f " "$LOG" >/dev/null ||
			fail "$name: no 'integrity error: /$f' line in the log: $(cat "$LOG")"
		grep -F "integrity error: /$f " "$LOG" | grep -q "$word" ||
			fail "$name: the log line for /$f does not say '$word': $(grep -F "/$f" "$LOG")"
	done
	# every other file is intact
	while read -r sum rel; do
		rel=${rel#./}
		for f in "$@"; do [ "$rel" = "$f" ] && continue 2; done
		got=$(sha256sum <"$m/$rel" | cut -d' ' -f1) || fail "$name: reading intact file $rel failed"
		assert_eq "$got" "$sum" "$name: checksum of intact file $rel"
	done <"$T/sums"
	umount_at "$c" "$m"
	[ "$#" -eq 0 ] || ok "$name: $* -> EIO with log line '$(grep -F "integrity error: /$1 " "$LOG" | head -n 1 | sed 's/^[^ ]* //')'; all other files intact"
	LOG=$T/log
}

restore_vault() { rm -rf "$VAULT" && cp -a "$T/pristine" "$VAULT"; }

run_case pristine x
ok "the untouched vault reads back fully through a fresh cache"

restore_vault
python3 - "$VAULT/objects/$OBJ_A" <<'EOF'
import sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(4136 + 50)
    b = f.read(1)
    f.seek(4136 + 50)
    f.write(bytes([b[0] ^ 0x01]))
EOF
cmp -s "$VAULT/objects/$OBJ_A" "$T/pristine/objects/$OBJ_A" && fail "the byte flip did not change the object"
run_case flip damaged bad/a

restore_vault
mv "$VAULT/objects/$OBJ_A" "$T/tmpobj"
mv "$VAULT/objects/$OBJ_B" "$VAULT/objects/$OBJ_A"
mv "$T/tmpobj" "$VAULT/objects/$OBJ_B"
run_case swap damaged bad/a bad/b

restore_vault
truncate -s $((2 * 4136)) "$VAULT/objects/$OBJ_A"
run_case truncate damaged bad/a

restore_vault
truncate -s 100 "$VAULT/objects/$OBJ_A"
run_case truncate-partial damaged bad/a

restore_vault
rm "$VAULT/objects/$OBJ_A"
run_case delete missing bad/a
