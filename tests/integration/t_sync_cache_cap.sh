#!/usr/bin/env bash
# t_sync_cache_cap: -o cache_size=8M caps the local cache. 40 MiB of files written through the
# mount are uploaded; once the vault holds them (and ~15 s more) the cache's objects folder is
# at most ~10 MiB; every file still reads back exactly (after dropping the kernel's page cache,
# so the data comes back from the vault), and the cache stays capped after those reads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

LIMIT_KB=$((10 * 1024))
SRC=$T/src
mkdir -p "$SRC/d1" "$SRC/d2"
for i in $(seq 1 8); do head -c $((4 * 1048576 + i * 1111)) /dev/urandom >"$SRC/d1/big$i"; done
for i in $(seq 1 40); do head -c $((i * 10000)) /dev/urandom >"$SRC/d2/s$i"; done
log "source: $(du -sh "$SRC" | cut -f1)"

coffer_init
coffer_mount -o cache_size=8M
cp -a "$SRC/." "$MNT/"
wait_synced "$MNT" 60
ok "40+ MiB written and uploaded: $(sj | jq -c '{local_generation, remote_generation, objects_uploaded, bytes_uploaded, cache_bytes}')"
kb=$(kib_settled "$CACHE/objects" "$LIMIT_KB") # the sync thread evicts at most every 10 s
log "cache objects folder: ${kb} KiB; status cache_bytes $(sfield cache_bytes)"
assert_le "$kb" "$LIMIT_KB" "KiB in the cache's objects folder with cache_size=8M"
ok "cache capped: objects folder ${kb} KiB <= ${LIMIT_KB} KiB"

drop_caches
(cd "$SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums"
(cd "$MNT" && sha256sum -c --quiet "$T/sums") || fail "files read back wrong through the capped cache"
ok "all $(wc -l <"$T/sums") files read back exactly (fetched from the vault)"
# The reads fetched evicted objects back; the sync thread evicts at most every 10 s.
kb2=$(kib_settled "$CACHE/objects" "$LIMIT_KB")
assert_le "$kb2" "$LIMIT_KB" "KiB in the cache's objects folder after reading everything back"
ok "cache still capped after the reads: ${kb2} KiB"
grep -q "integrity error" "$LOG" && fail "integrity errors logged: $(grep 'integrity error' "$LOG" | head -n 3)"
coffer_umount
kb3=$(disk_kib "$CACHE/objects")
assert_le "$kb3" "$LIMIT_KB" "KiB in the cache's objects folder after umount"
coffer_mount -o cache_size=8M
(cd "$MNT" && sha256sum -c --quiet "$T/sums") || fail "files read back wrong after a remount with the capped cache"
coffer_umount
ok "after remount every file still reads back exactly; cache ${kb3} KiB at rest"
