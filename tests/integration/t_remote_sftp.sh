#!/usr/bin/env bash
# t_remote_sftp: a vault on a real SFTP server (OpenSSH sshd with internal-sftp on 127.0.0.1,
# started here), ed25519 key authentication, a pinned host key.
# 1. Round trip: init + mount on sftp://, cp a tree, umount waits, a fresh cache restores it
#    (keys from ~/.ssh; -o ssh_key/known_hosts with relative paths work too).
# 2. No plaintext marker anywhere in the vault folder; no temporary names or locks left there.
# 3. Unauthorized key, changed host key, unknown host key, closed port, malformed URL: init (and
#    mount) fail fast with one line and a non-zero exit; -o accept_new_host_key adds a new key.
# 4. sshd (and its sessions) stop in the middle of uploading a 100 MiB commit, stay down ~10 s
#    while the mount keeps working, come back; umount waits and a fresh cache restores the newest
#    root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

start_sshd
ok "sshd on port $SSHD_PORT"
SV=$T/served/vaults
mkdir -p "$SV"
count_objects() { find "$SV/v1/objects" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }

# --- 1. round trip ---
VAULT=sftp://root@127.0.0.1:$SSHD_PORT$SV/v1
MARKER=PLAINTEXT-MARKER-$RANDOM$RANDOM
make_tree "$T/src" "$MARKER"
roundtrip "$T/src"
# relative option paths (the daemon works in /)
mkdir -p "$T/mnt-rel"
(cd "$SSHD_DIR" && "$COFFER" mount --passfile "$PASSFILE" --cache "$T/cache-rel" -o ro \
	-o ssh_key=client_ed25519 -o known_hosts=known_hosts -o "logfile=$LOG" "$VAULT" "$T/mnt-rel") ||
	fail "mount with relative -o ssh_key/known_hosts failed"
_COFFER_MOUNTS+=("$T/mnt-rel")
wait_status "$T/mnt-rel"
cmp "$T/src/bin/blob3" "$T/mnt-rel/tree/bin/blob3" || fail "relative option paths: blob3 differs"
umount_at "$T/cache-rel" "$T/mnt-rel"
ok "-o ssh_key and -o known_hosts with relative paths"

# --- 2. no plaintext on the server ---
size=$(du -sb "$SV" | cut -f1)
[ "$size" -gt 450000 ] || fail "the vault folder is too small to hold the vault ($size bytes)"
if grep -raq "$MARKER" "$SV"; then
	fail "the plaintext marker is in the vault folder"
fi
left=$(find "$SV" -name '.*' | wc -l)
assert_eq "$left" 0 "temporary names or locks left in the vault folder"
ok "no plaintext marker in the $size bytes of the vault folder; nothing temporary left"

# --- 3. refusals ---
ssh-keygen -q -t ed25519 -N '' -f "$T/stranger"
U=sftp://root@127.0.0.1:$SSHD_PORT$SV
init_refused "key not authorized" "access denied" "$U/v2" -o "ssh_key=$T/stranger"
init_refused "changed host key" "could not be verified" "$U/v2" -o "known_hosts=$SSHD_DIR/wrong_known_hosts"
: >"$T/empty_known_hosts"
init_refused "unknown host key" "could not be verified" "$U/v2" -o "known_hosts=$T/empty_known_hosts"
mount_refused "changed host key" "could not be verified" "$VAULT" -o "known_hosts=$SSHD_DIR/wrong_known_hosts"
CLOSED=$(free_port)
init_refused "closed port" "cannot reach it" "sftp://root@127.0.0.1:$CLOSED$SV/v3"
init_refused "malformed URL (no path)" "malformed URL" "sftp://root@127.0.0.1:$SSHD_PORT"
init_refused "malformed URL (password)" "malformed URL" "sftp://root:pw@127.0.0.1:$SSHD_PORT/x"
init_refused "missing key file" "cannot read the SSH key" "$U/v2" -o "ssh_key=$T/nokey"
remote_init "$U/v4" -o accept_new_host_key -o "known_hosts=$T/empty_known_hosts"
grep -q "$(cut -d' ' -f2 "$SSHD_DIR/host_ed25519.pub")" "$T/empty_known_hosts" ||
	fail "-o accept_new_host_key did not add the server's key"
ok "-o accept_new_host_key: init works and the key is added to the known_hosts file"

# --- 4. sshd stops in the middle of a large upload ---
ssh_down() { "$SERVERS/stop-sshd.sh" --keep; }
ssh_up() { "$SERVERS/start-sshd.sh" --again >/dev/null; }
fault_midupload ssh_down ssh_up count_objects
