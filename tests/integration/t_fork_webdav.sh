#!/usr/bin/env bash
# t_fork_webdav: the lost update (merged) and the operator fork (refused on both devices) of
# issue 10 on a real WebDAV server (Apache mod_dav_fs on 127.0.0.1); see fork_remote_lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"
. "$(dirname "$0")/fork_remote_lib.sh"

export DAV_DIR=$T/apache DAV_PORT DAV_TLS_PORT
with_insecure_http_auth
DAV_PORT=$(free_port)
DAV_TLS_PORT=$(free_port)
server_cleanup() { "$SERVERS/stop-apache-dav.sh"; }
start_server apache-dav "Apache"
export HOME=$T/home
mkdir -p "$HOME"
printf 'machine 127.0.0.1\n  login davuser\n  password davpass\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
mkdir -p "$DAV_DIR/dav/vaults" && chown www-data:www-data "$DAV_DIR/dav/vaults"
VAULT=webdav://127.0.0.1:$DAV_PORT/vaults/v1
DOWN=webdav://127.0.0.1:$(free_port)/vaults/v1
root_get() { cp "$DAV_DIR/dav/vaults/v1/root" "$1"; }
root_put() { cat "$1" >"$DAV_DIR/dav/vaults/v1/root"; }
history_count() { ls "$DAV_DIR/dav/vaults/v1/history" 2>/dev/null | wc -l; }
fork_remote_main
