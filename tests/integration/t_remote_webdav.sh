#!/usr/bin/env bash
# t_remote_webdav: a vault on a real WebDAV server (Apache 2.4 mod_dav_fs on 127.0.0.1, started
# here), basic auth from a netrc file (over plain HTTP with -o insecure_http_auth).
# 1. Round trip: init + mount on webdav://, cp a tree, umount waits, a fresh cache restores it.
# 2. No plaintext marker anywhere in the folder Apache serves; no temporary names left there.
# 3. Wrong password, missing parent collection, closed port, malformed URL: init (and mount)
#    fail fast with one line and a non-zero exit.
# 4. TLS (webdavs://, a certificate for 127.0.0.1 from a test CA): refused without -o cacert
#    (the system's CAs do not know it), with the cacert of another CA, and for a host name the
#    certificate does not name; with -o cacert=CA: init, mount, write, umount, and a fresh cache
#    reads it back; the vault is in the folder Apache serves.
# 5. Apache is stopped in the middle of uploading a 100 MiB commit, stays down ~10 s while the
#    mount keeps working, comes back; umount waits and a fresh cache restores the newest root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

export DAV_DIR=$T/apache DAV_PORT DAV_TLS_PORT
with_insecure_http_auth # webdav:// here is basic auth over plain HTTP
DAV_PORT=$(free_port)
DAV_TLS_PORT=$(free_port)
server_cleanup() { "$SERVERS/stop-apache-dav.sh"; }
start_server apache-dav "Apache"
ok "Apache WebDAV on port $DAV_PORT, with TLS on port $DAV_TLS_PORT"
export HOME=$T/home
mkdir -p "$HOME"
printf 'machine 127.0.0.1\n  login davuser\n  password davpass\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
printf 'machine 127.0.0.1 login davuser password wrong\n' >"$T/bad.netrc"

count_objects() { find "$DAV_DIR/dav/vaults/v1/objects" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }

# --- 1. round trip ---
mkdir -p "$DAV_DIR/dav/vaults" && chown www-data:www-data "$DAV_DIR/dav/vaults"
VAULT=webdav://127.0.0.1:$DAV_PORT/vaults/v1
MARKER=PLAINTEXT-MARKER-$RANDOM$RANDOM
make_tree "$T/src" "$MARKER"
roundtrip "$T/src"

# --- 2. no plaintext on the server ---
size=$(du -sb "$DAV_DIR/dav" | cut -f1)
[ "$size" -gt 450000 ] || fail "the served folder is too small to hold the vault ($size bytes)"
[ -s "$DAV_DIR/dav/vaults/v1/config" ] || fail "no config in the served folder"
if grep -raq "$MARKER" "$DAV_DIR/dav"; then
	fail "the plaintext marker is in the served folder"
fi
left=$(find "$DAV_DIR/dav" -name '.tmp-*' | wc -l)
assert_eq "$left" 0 "temporary names left in the served folder"
ok "no plaintext marker in the $size bytes Apache serves; no temporary names left"

# --- 3. refusals ---
init_refused "wrong password" "access denied" "webdav://127.0.0.1:$DAV_PORT/vaults/v2" \
	HOME=$T/nohome
mount_refused "wrong password (-o netrc)" "access denied" "$VAULT" -o "netrc=$T/bad.netrc"
init_refused "missing parent collection" "does not exist" \
	"webdav://127.0.0.1:$DAV_PORT/no/such/v"
CLOSED=$(free_port)
init_refused "closed port" "cannot reach it" "webdav://127.0.0.1:$CLOSED/vaults/v3"
init_refused "malformed URL (port)" "malformed URL" "webdav://127.0.0.1:0/v"
init_refused "malformed URL (password)" "malformed URL" "webdav://davuser:davpass@127.0.0.1:$DAV_PORT/v"
init_refused "malformed URL (..)" "malformed URL" "webdavs://127.0.0.1:$DAV_PORT/a/../v"
init_refused "TLS to a plain HTTP port" "does not answer as" "webdavs://127.0.0.1:$DAV_PORT/vaults/v4"

# --- 4. TLS ---
TLS_URL=webdavs://127.0.0.1:$DAV_TLS_PORT/vaults/tls
BADID="identity could not be verified"
init_refused "TLS, a private CA without -o cacert" "$BADID" "$TLS_URL"
init_refused "TLS, -o cacert of another CA" "$BADID" "$TLS_URL" -o "cacert=$DAV_DIR/other-ca.pem"
init_refused "TLS, a host name the certificate does not name" "$BADID" \
	"webdavs://localhost:$DAV_TLS_PORT/vaults/tls" -o "cacert=$DAV_DIR/ca.pem"
[ ! -e "$DAV_DIR/dav/vaults/tls" ] || fail "a refused TLS init left $DAV_DIR/dav/vaults/tls behind"
SAVED=("$VAULT" "$CACHE" "$MNT")
VAULT=$TLS_URL CACHE=$T/cache-tls MNT=$T/mnt-tls
remote_init "$VAULT" -o "cacert=$DAV_DIR/ca.pem"
coffer_mount -o "cacert=$DAV_DIR/ca.pem"
cp "$T/src/bin/blob2" "$MNT/blob"
wait_synced "$MNT" 60
coffer_umount
mount_refused "TLS, a fresh cache without -o cacert" "$BADID" "$VAULT"
mount_at "$T/cache-tls-fresh" "$T/mnt-tls-fresh" -o ro -o "cacert=$DAV_DIR/ca.pem"
cmp "$T/src/bin/blob2" "$T/mnt-tls-fresh/blob" || fail "the file read back over TLS differs"
umount_at "$T/cache-tls-fresh" "$T/mnt-tls-fresh"
[ -s "$DAV_DIR/dav/vaults/tls/config" ] || fail "the TLS vault is not in the folder Apache serves"
ok "webdavs:// with -o cacert: init, mount, upload, and a fresh cache reads it back"
VAULT=${SAVED[0]} CACHE=${SAVED[1]} MNT=${SAVED[2]}

# --- 5. Apache stops in the middle of a large upload ---
dav_down() { "$SERVERS/stop-apache-dav.sh" --keep; }
dav_up() { "$SERVERS/start-apache-dav.sh" --again >/dev/null; }
fault_midupload dav_down dav_up count_objects
