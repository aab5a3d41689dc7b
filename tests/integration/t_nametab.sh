#!/usr/bin/env bash
# t_nametab: the root names its inode pages through page tables (root version 3, coffer-format(5)
# "Name tables"), so that a commit uploads what changed, not a list of every page.
# 1. With 20,000 empty files in 20 directories (313 inode pages, 2 tables), one new file in the
#    last directory (its directory's page, the new inode's page and both their table in table 1)
#    uploads exactly 3 new objects (that table and the 2 pages; with its chunk, and the bucket of
#    the split directory and its bucket table, 6) plus a root of at most 1 KiB
#    (a version 2 root would list 313 pages: 8 KiB), well under 64 KiB in all.
# 2. Tampering with that table (cache and vault copies): the mount says "integrity error: page
#    table 1" with its inode range; the entries its pages hold give EIO, with an "integrity
#    error: /PATH" line naming the directory whose entry cannot be read; files of table 0 still
#    read; `coffer verify` reports the damaged page table (exit 1).
# 3. A vault made by the previous release (tests/fixtures/vault-v2: version 2 roots, pages inline)
#    opens on a fresh device and reads back byte for byte; a write and remount (a version 3
#    root now) read back too, on the same and on a fresh cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

FIXTURE=$TESTS_DIR/../fixtures/vault-v2
verify() { "$COFFER" verify --passfile "$PASSFILE" "$@" "$VAULT"; }
obj_bytes() { # obj_bytes NAME...: the sum of their sizes in the vault
	local s=0 o
	for o in "$@"; do s=$((s + $(stat -c %s "$VAULT/objects/$o"))); done
	echo "$s"
}

# --- 1. one new file uploads one table ---
coffer_init
coffer_mount -o commit=3600
python3 - "$MNT" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(20):
    os.mkdir(os.path.join(root, "d%05d" % d))
    for i in range(1000):
        os.close(os.open(os.path.join(root, "d%05d" % d, "f%07d" % (d * 1000 + i)), os.O_CREAT | os.O_WRONLY, 0o644))
EOF
wait_synced "$MNT" 300
vault_objects >"$T/before"
echo new >"$MNT/d00019/new"
wait_synced "$MNT" 120
vault_objects | comm -13 "$T/before" - >"$T/new"
mapfile -t NEW <"$T/new"
root_b=$(stat -c %s "$VAULT/root")
new_b=$(obj_bytes "${NEW[@]}")
log "one new file: ${#NEW[@]} new objects, $new_b bytes, root $root_b bytes"
# (each directory of 1,000 entries is split: its bucket and bucket table are new too)
assert_eq "${#NEW[@]}" 6 "new vault objects for one new file (its chunk, 2 pages, 1 table, 1 bucket and its table)"
assert_le "$root_b" 1064 "the root's size (bytes)"
assert_le $((new_b + root_b)) 65536 "bytes uploaded for one new file"
ok "one new file among 20,000: 6 new objects (chunk, 2 pages, 1 table, a bucket and its table), $((new_b + root_b)) bytes with the root"
# table 1 (61 page names) is the new object of 1064 bytes (a bucket table of 5 names: 552)
TAB=$(for o in "${NEW[@]}"; do echo "$(stat -c %s "$VAULT/objects/$o") $o"; done | awk '$1 == 1064 { print $2; exit }')
assert_eq "$(stat -c %s "$VAULT/objects/$TAB")" 1064 "size of page table 1 (61 names: bucket 1024 + 40)"
coffer_umount

# --- 2. a damaged page table ---
flip_byte "$VAULT/objects/$TAB" 100
flip_byte "$CACHE/objects/$TAB" 100
: >"$LOG"
coffer_mount 2>"$T/mount.err" # the load's lines come before the daemon opens its log
grep -q "integrity error: page table 1 (inode pages 252-503, inodes 16128-32255, object $TAB) is damaged" "$T/mount.err" ||
	fail "no page table integrity line from the mount: $(cat "$T/mount.err")"
if ls "$MNT/d00019" >/dev/null 2>"$T/err"; then
	fail "listing d00019, whose inode table 1 names, succeeded"
fi
assert_contains "$(cat "$T/err")" "Input/output error" "error listing d00019"
grep -qF "integrity error: / (inode 1): the record of its entry 'd00019'" "$LOG" ||
	fail "no integrity line naming / and d00019: $(cat "$LOG")"
if stat "$MNT/d00016/f0016999" >/dev/null 2>&1; then
	fail "stat of d00016/f0016999 (inode 17018, table 1) succeeded"
fi
grep -qF "integrity error: /d00016 (inode 16018): the record of its entry 'f0016999'" "$LOG" ||
	fail "no integrity line naming /d00016: $(cat "$LOG")"
assert_eq "$(ls "$MNT/d00000" | wc -l)" 1000 "entries of d00000 (table 0)"
stat "$MNT/d00016/f0016000" >/dev/null || fail "d00016/f0016000 (inode 16100, table 0) is unreadable"
ok "a damaged page table: its inodes give EIO with integrity lines, table 0's still read"
coffer_umount
rc=0
out=$(verify 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of verify with a damaged page table"
assert_contains "$out" "damaged page table objects/$TAB" "verify's report"
ok "coffer verify reports the damaged page table"

# --- 3. a vault of the previous release ---
rm -rf "$VAULT" "$CACHE"
cp -a "$FIXTURE/vault" "$VAULT"
cp "$FIXTURE/passphrase" "$PASSFILE"
coffer_mount
(cd "$MNT" && sha256sum --quiet -c "$FIXTURE/expected.sums") || fail "the version 2 vault reads back wrong"
assert_eq "$(readlink "$MNT/link")" "docs/n1.txt" "the fixture's symlink"
echo "written by version 3" >"$MNT/many/v3"
touch "$MNT/many/e1"
remount
(cd "$MNT" && sha256sum --quiet -c "$FIXTURE/expected.sums") || fail "the old files read back wrong after a v3 commit"
assert_eq "$(cat "$MNT/many/v3")" "written by version 3" "the file written on the old vault"
coffer_umount
CACHE=$T/cache-fresh
coffer_mount -o ro
(cd "$MNT" && sha256sum --quiet -c "$FIXTURE/expected.sums") || fail "a fresh device reads the upgraded vault wrong"
assert_eq "$(cat "$MNT/many/v3")" "written by version 3" "the new file on a fresh device"
coffer_umount
out=$(verify) || fail "verify of the upgraded vault failed: $out"
ok "a version 2 vault opens, reads back, takes a write and remounts (same and fresh cache)"
