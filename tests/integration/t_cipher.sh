#!/usr/bin/env bash
# t_cipher: both vault ciphers work end to end. For an AES-256-GCM vault (the default `init`
# picks on this CPU when it has AES-NI; config version 2 with "cipher aes256gcm") and an
# XChaCha20-Poly1305 vault (`--cipher xchacha20`: a version 1 config without a cipher line):
# files written through the mount read back the same after a remount and through a fresh cache
# that fetches everything from the vault; no plaintext marker (contents or names) is in any
# byte of the cache or the vault; a chunk object flipped by one byte in every stored copy gives
# EIO and an "integrity error: /path" log line. With AES-NI hidden from libsodium (an
# LD_PRELOAD shim making crypto_aead_aes256gcm_is_available() return 0, as on a CPU without it),
# init defaults to xchacha20, refuses --cipher aes256gcm, and mounting the AES-256-GCM vault
# fails with a message naming AES-256-GCM, mounting nothing; the XChaCha20 vault still mounts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

grep -qw aes /proc/cpuinfo || fail "this CPU has no AES-NI; the AES-256-GCM half cannot run here"
CHUNK_OBJ_SIZE=$((256 * 4136))
rnd=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M_DATA=MARKERDATA_$rnd
M_NAME=MARKERNAME_$rnd

full_chunks() { # full_chunks: the full-size chunk objects in the cache, sorted
	(cd "$CACHE/objects" && for o in *; do
		[ "$(stat -c %s "$o")" -eq "$CHUNK_OBJ_SIZE" ] && echo "$o"
	done | sort) || true
}

# The shim that hides AES-NI from libsodium.
cat >"$T/noaes.c" <<'C'
int crypto_aead_aes256gcm_is_available(void) { return 0; }
C
cc -shared -fPIC -o "$T/noaes.so" "$T/noaes.c" || fail "cannot build the no-AES-NI shim"

for cipher in aes256gcm xchacha20; do
	VAULT=$T/vault-$cipher
	CACHE=$T/cache-$cipher
	LOG=$T/log-$cipher
	if [ "$cipher" = aes256gcm ]; then
		coffer_init # the default on this CPU
		assert_eq "$(sed -n 5p "$VAULT/config")" "cipher aes256gcm" "line 5 of the default config"
		assert_eq "$(head -n1 "$VAULT/config")" "coffer-vault 2" "first line of an AES-256-GCM config"
	else
		coffer_init --cipher xchacha20
		assert_eq "$(head -n1 "$VAULT/config")" "coffer-vault 1" "first line of an XChaCha20 config"
		grep -q '^cipher' "$VAULT/config" && fail "an XChaCha20 config has a cipher line"
	fi
	coffer_mount
	mkdir -p "$MNT/d"
	python3 -c 'import sys; sys.stdout.write((sys.argv[1] + "\n") * 150000)' "$M_DATA" >"$MNT/d/big.txt"
	echo "small $M_DATA" >"$MNT/d/$M_NAME.txt"
	head -c 3000000 /dev/urandom >"$MNT/d/random.bin"
	(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums-$cipher"
	coffer_umount
	for where in "$CACHE" "$VAULT"; do
		for m in "$M_DATA" "$M_NAME"; do
			if hits=$(grep -r -a -l -F -- "$m" "$where"); then
				fail "$cipher: plaintext $m found in $hits"
			fi
		done
	done
	ok "$cipher: no plaintext marker in the cache or the vault"
	coffer_mount
	(cd "$MNT" && sha256sum --quiet -c "$T/sums-$cipher") || fail "$cipher: files differ after a remount"
	coffer_umount
	OLDCACHE=$CACHE
	CACHE=$T/fresh-$cipher
	coffer_mount -o ro
	(cd "$MNT" && sha256sum --quiet -c "$T/sums-$cipher") || fail "$cipher: files differ through a fresh cache"
	coffer_umount
	CACHE=$OLDCACHE
	ok "$cipher: round trip through a remount and through a fresh cache fetching from the vault"

	# Tamper: a new 2 MiB file alone in a session, so that its chunks are the new full ones.
	full_chunks >"$T/before"
	coffer_mount
	head -c $((2 * 1048576)) /dev/urandom >"$MNT/d/victim.bin"
	coffer_umount
	victim=$(full_chunks | comm -13 "$T/before" - | head -n1)
	[ -n "$victim" ] || fail "$cipher: no new chunk object for victim.bin"
	for p in "$CACHE/objects/$victim" "$VAULT/objects/$victim"; do
		[ -e "$p" ] || fail "$cipher: $p missing"
		flip_byte "$p" $((5 * 4136 + 777))
	done
	coffer_mount -o ro
	if cat "$MNT/d/victim.bin" >/dev/null 2>"$T/err"; then
		fail "$cipher: reading the tampered victim.bin succeeded"
	fi
	assert_contains "$(cat "$T/err")" "Input/output error" "$cipher: error reading the tampered file"
	grep -qF "integrity error: /d/victim.bin" "$LOG" || fail "$cipher: no integrity error line in the log"
	(cd "$MNT" && sha256sum --quiet -c "$T/sums-$cipher") || fail "$cipher: untouched files differ"
	coffer_umount
	ok "$cipher: a flipped byte gives EIO and a log line naming the file; other files fine"
done

# ---------------------------------------------------------------- a CPU without AES-NI
export LD_PRELOAD=$T/noaes.so
VAULT=$T/vault-noaes
out=$("$COFFER" init --passfile "$PASSFILE" --kdf-level min "$VAULT")
assert_contains "$out" "XChaCha20-Poly1305" "init without AES-NI"
assert_eq "$(head -n1 "$VAULT/config")" "coffer-vault 1" "config made without AES-NI"
if "$COFFER" init --passfile "$PASSFILE" --kdf-level min --cipher aes256gcm "$T/vault-forced" 2>"$T/err"; then
	fail "init --cipher aes256gcm succeeded without AES-NI"
fi
assert_contains "$(cat "$T/err")" "AES-NI" "init --cipher aes256gcm without AES-NI"
[ -e "$T/vault-forced/config" ] && fail "the refused init wrote a config"
VAULT=$T/vault-aes256gcm
CACHE=$T/cache-aes256gcm
if "$COFFER" mount --passfile "$PASSFILE" --cache "$CACHE" "$VAULT" "$MNT" 2>"$T/err"; then
	_COFFER_MOUNTS+=("$MNT")
	fail "an AES-256-GCM vault mounted without AES-NI"
fi
assert_contains "$(cat "$T/err")" "AES-256-GCM, which this CPU cannot run" "mount without AES-NI"
is_mounted "$MNT" && fail "something is mounted after the refused mount"
ok "without AES-NI: init picks XChaCha20, refuses --cipher aes256gcm; mount refused: $(cat "$T/err")"
VAULT=$T/vault-xchacha20
CACHE=$T/cache-xchacha20
LOG=$T/log-xchacha20
coffer_mount -o ro
(cd "$MNT" && sha256sum --quiet -c "$T/sums-xchacha20") || fail "the XChaCha20 vault reads wrong without AES-NI"
coffer_umount
unset LD_PRELOAD
ok "without AES-NI the XChaCha20 vault still mounts and reads"
