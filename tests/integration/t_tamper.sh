#!/usr/bin/env bash
# t_tamper: tampering is detected and reported, never served: with one chunk object of a
# file flipped by one byte, truncated by a block, deleted, or replaced by another genuine
# chunk (in every place it is stored: the cache and the vault's mirror), reading that file
# fails with EIO ("Input/output error"), whatever was returned before the error is a correct
# prefix of the file, single-block reads either fail or return the right bytes, the daemon
# log has an "integrity error: /path" line naming the file, and every other file still reads
# correctly. A chunk tampered only in the vault is caught when a fresh cache (a new device)
# fetches it. A damaged root refuses the mount. A wrong passphrase exits non-zero with one "wrong
# passphrase" line, mounts nothing and leaves the cache byte-for-byte unchanged. A second
# mount of the same cache, and a second writer with another cache, are refused. init over an existing
# vault is refused and leaves its config unchanged.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CHUNK_OBJ_SIZE=$((256 * 4136)) # a full 1 MiB chunk: 256 sealed 4 KiB blocks
objects() { (cd "$CACHE/objects" && ls | sort); }
# new_chunks BEFORE_LIST: full-chunk objects that appeared since the list BEFORE_LIST
new_chunks() {
	objects | comm -13 "$1" - | while read -r o; do
		[ "$(stat -c %s "$CACHE/objects/$o")" -eq "$CHUNK_OBJ_SIZE" ] && echo "$o"
	done
	true
}

coffer_init
coffer_mount
mkdir -p "$MNT/good/sub" "$MNT/bad"
for i in $(seq 1 20); do head -c $((i * 5000)) /dev/urandom >"$MNT/good/small$i"; done
head -c $((2 * 1048576 + 100)) /dev/urandom >"$MNT/good/sub/large"
echo "hello" >"$MNT/good/hello.txt"
(cd "$MNT/good" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/good.sums"
coffer_umount

# One session per target file, so that its chunk objects are the new full-size chunks.
declare -A CHUNKS
for target in flip truncate delete swap remote; do
	objects >"$T/before"
	coffer_mount
	head -c $((3 * 1048576)) /dev/urandom >"$MNT/bad/$target.bin"
	cp "$MNT/bad/$target.bin" "$T/$target.orig"
	coffer_umount
	CHUNKS[$target]=$(new_chunks "$T/before" | tr '\n' ' ')
	assert_eq "$(echo "${CHUNKS[$target]}" | wc -w)" 3 "full chunk objects created for the 3 MiB file $target.bin"
done
good_chunk=$(objects | while read -r o; do
	[ "$(stat -c %s "$CACHE/objects/$o")" -eq "$CHUNK_OBJ_SIZE" ] || continue
	case " ${CHUNKS[*]} " in *" $o "*) ;; *) echo "$o" ;; esac
done | awk "NR == 1")
[ -n "$good_chunk" ] || fail "no full chunk of good/sub/large found"
ok "found the 3 chunk objects of each target file"

second() { echo "$1" | awk '{print $2}'; }
# copies OBJECT: every stored copy of an object (the cache, and the vault's mirror if any)
copies() {
	local p
	for p in "$CACHE/objects/$1" "$VAULT/objects/$1"; do
		[ -e "$p" ] && echo "$p"
	done
	true
}
# ---------------------------------------------------------------- tampered only in the vault
# A new device (fresh cache) fetches objects from the vault lazily and must check them.
if [ -d "$VAULT/objects" ]; then
	rchunks=${CHUNKS[remote]}
	for c in $rchunks; do
		[ -e "$VAULT/objects/$c" ] || fail "chunk $c of remote.bin was not mirrored to the vault"
	done
	flip_byte "$VAULT/objects/$(second "$rchunks")" $((7 * 4136 + 100))
	OLDCACHE=$CACHE
	CACHE=$T/cache-fresh
	coffer_mount -o ro # read-only: this second device must not move the vault on
	if cat "$MNT/bad/remote.bin" >"$T/remote.read" 2>"$T/remote.err"; then
		fail "reading remote.bin, tampered in the vault, through a fresh cache succeeded"
	fi
	assert_contains "$(cat "$T/remote.err")" "Input/output error" "error reading remote.bin"
	got=$(stat -c %s "$T/remote.read")
	cmp -s -n "$got" "$T/remote.read" "$T/remote.orig" || fail "remote.bin: bytes before the error are wrong"
	grep -qF "integrity error: /bad/remote.bin" "$LOG" || fail "no 'integrity error: /bad/remote.bin' line in the log"
	(cd "$MNT/good" && sha256sum --quiet -c "$T/good.sums") || fail "a good file read through a fresh cache is wrong"
	coffer_umount
	CACHE=$OLDCACHE
	flip_byte "$VAULT/objects/$(second "$rchunks")" $((7 * 4136 + 100)) # undo
	ok "chunk tampered only in the vault: EIO through a fresh cache, log names the file, others fine"
else
	echo "note: $VAULT has no objects/ folder (no mirroring in this build); vault tamper case not run"
fi


# ---------------------------------------------------------------- tampered everywhere
ncopies=0
# flip one byte in the middle of block 100 of one chunk of flip.bin
for o in $(copies "$(second "${CHUNKS[flip]}")"); do flip_byte "$o" $((100 * 4136 + 2000)); ncopies=$((ncopies + 1)); done
# cut the last block off one chunk of truncate.bin
for o in $(copies "$(second "${CHUNKS[truncate]}")"); do truncate -s $((CHUNK_OBJ_SIZE - 4136)) "$o"; done
# delete one chunk of delete.bin
for o in $(copies "$(second "${CHUNKS[delete]}")"); do rm "$o"; done
# replace one chunk of swap.bin by a genuine chunk of another file
for o in $(copies "$(second "${CHUNKS[swap]}")"); do cp "$CACHE/objects/$good_chunk" "$o"; done
ok "tampered ($ncopies stored copies each): flipped a byte, truncated, deleted, swapped one chunk object each"

coffer_mount -o ro
for target in flip truncate delete swap; do
	f=$MNT/bad/$target.bin
	if cat "$f" >"$T/$target.read" 2>"$T/$target.err"; then
		fail "reading the tampered $target.bin succeeded"
	fi
	assert_contains "$(cat "$T/$target.err")" "Input/output error" "error reading tampered $target.bin"
	got=$(stat -c %s "$T/$target.read")
	[ "$got" -lt $((3 * 1048576)) ] || fail "$target.bin: all 3 MiB were returned"
	cmp -s -n "$got" "$T/$target.read" "$T/$target.orig" ||
		fail "$target.bin: the $got bytes returned before the error are not the file's data"
	# Single blocks of every chunk (object names do not tell which chunk is which): each
	# read either fails or returns the right bytes, and at least one fails.
	nfail=0
	for c in 0 1 2; do
		for b in 0 100 255; do
			blk=$((c * 256 + b))
			if dd if="$f" of="$T/blk" bs=4096 skip="$blk" count=1 status=none 2>/dev/null; then
				cmp -s "$T/blk" <(dd if="$T/$target.orig" bs=4096 skip="$blk" count=1 status=none) ||
					fail "$target.bin: block $blk read back wrong data"
			else
				nfail=$((nfail + 1))
			fi
		done
	done
	[ "$nfail" -gt 0 ] || fail "$target.bin: every single-block read succeeded"
	grep -qF "integrity error: /bad/$target.bin" "$LOG" ||
		fail "$target.bin: no 'integrity error: /bad/$target.bin' line in the log: $(tail -n 5 "$LOG")"
	ok "$target: EIO, only correct bytes before it ($got), $nfail of 9 block reads fail, log names /bad/$target.bin"
done
(cd "$MNT/good" && sha256sum --quiet -c "$T/good.sums") || fail "an untouched file no longer reads correctly"
ok "all untouched files read correctly"
coffer_umount
if out=$("$COFFER" fsck --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" 2>&1); then
	fail "coffer fsck passes a cache with tampered objects: $out"
fi
ok "coffer fsck reports the tampering: $(echo "$out" | tail -n 1)"

# ---------------------------------------------------------------- damaged root
cp "$CACHE/root" "$T/root.orig"
size=$(stat -c %s "$CACHE/root")
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$CACHE/root" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 128)))" | dd of="$CACHE/root" bs=1 seek=$((size / 2)) conv=notrunc status=none
if out=$("$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" -o "logfile=$LOG" "$VAULT" "$MNT" 2>&1); then
	_COFFER_MOUNTS+=("$MNT")
	fail "mount with a damaged root succeeded"
fi
is_mounted "$MNT" && fail "something is mounted despite the damaged root"
[ -n "$out" ] || fail "mount with a damaged root printed nothing"
cp "$T/root.orig" "$CACHE/root"
ok "damaged root: mount refused: $out"

# ---------------------------------------------------------------- wrong passphrase
tree_sums "$CACHE" >"$T/cache.before"
tree_sums "$VAULT" >"$T/vault.before"
echo "not the passphrase" >"$T/wrongpass"
chmod 600 "$T/wrongpass" # a readable one would add a warning line
if "$COFFER" mount --passfile "$T/wrongpass" --cache "$CACHE" -o "logfile=$LOG" "$VAULT" "$MNT" \
	>"$T/wrong.out" 2>"$T/wrong.err"; then
	_COFFER_MOUNTS+=("$MNT")
	fail "mount with a wrong passphrase succeeded"
fi
assert_contains "$(cat "$T/wrong.err")" "wrong passphrase" "stderr of the wrong-passphrase mount"
assert_eq "$(wc -l <"$T/wrong.err")" 1 "lines on stderr for a wrong passphrase ($(cat "$T/wrong.err"))"
is_mounted "$MNT" && fail "something is mounted after a wrong passphrase"
[ -z "$(daemon_pids)" ] || fail "a daemon is running after a wrong passphrase"
tree_sums "$CACHE" | diff - "$T/cache.before" >/dev/null || fail "the cache changed after a wrong-passphrase mount"
tree_sums "$VAULT" | diff - "$T/vault.before" >/dev/null || fail "the vault changed after a wrong-passphrase mount"
ok "wrong passphrase: refused ($(cat "$T/wrong.err")), nothing mounted, cache and vault unchanged"
if "$COFFER" fsck --passfile "$T/wrongpass" --cache "$CACHE" "$VAULT" >/dev/null 2>"$T/wrong.err"; then
	fail "fsck with a wrong passphrase succeeded"
fi
assert_contains "$(cat "$T/wrong.err")" "wrong passphrase" "fsck with a wrong passphrase"
ok "fsck with a wrong passphrase refused"

# ---------------------------------------------------------------- double mount
# (read-only mounts from here on: the cache holds deliberately broken objects that could
# never be uploaded, and waiting for that at unmount is not what this test is about)
coffer_mount -o ro
mkdir -p "$T/mnt2"
if "$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" "$T/mnt2" >"$T/dbl.out" 2>&1; then
	_COFFER_MOUNTS+=("$T/mnt2")
	fail "a second mount of the same cache succeeded"
fi
grep -Eq 'already mounted|in use' "$T/dbl.out" || fail "second mount refused without a clear message: $(cat "$T/dbl.out")"
is_mounted "$T/mnt2" && fail "the second mount point got mounted"
assert_eq "$(echo "$(daemon_pids)" | wc -w)" 1 "number of daemons for the cache"
assert_eq "$(cat "$MNT/good/hello.txt")" "hello" "first mount still works"
ok "second mount of the same cache refused: $(cat "$T/dbl.out")"
coffer_umount
# A second writer: another cache of the same vault while the first mount is read-write.
coffer_mount -o drain_timeout=2
mkdir -p "$T/mnt3"
if "$COFFER" mount --passfile "$PASSFILE" --cache "$T/cache3" "$VAULT" "$T/mnt3" >"$T/dbl3.out" 2>&1; then
	_COFFER_MOUNTS+=("$T/mnt3")
	fail "a second writer (another cache) mounted the vault while it is mounted read-write: $(cat "$T/dbl3.out")"
fi
is_mounted "$T/mnt3" && fail "the second writer's mount point got mounted"
ok "second writer on the same vault refused: $(tail -n1 "$T/dbl3.out")"
coffer_umount

# ---------------------------------------------------------------- init over an existing vault
before=$(sha256sum <"$VAULT/config")
if "$COFFER" init --passfile "$T/wrongpass" --kdf-level min "$VAULT" >"$T/init.out" 2>&1; then
	fail "init over an existing vault succeeded"
fi
[ -s "$T/init.out" ] || fail "init over an existing vault printed nothing"
assert_eq "$(sha256sum <"$VAULT/config")" "$before" "vault config after the refused init"
coffer_mount -o ro
assert_eq "$(cat "$MNT/good/hello.txt")" "hello" "vault still opens with the old passphrase"
coffer_umount
ok "init over an existing vault refused: $(cat "$T/init.out")"
