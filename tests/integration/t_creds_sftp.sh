#!/usr/bin/env bash
# t_creds_sftp: SFTP keys where OpenSSH users keep them (OpenSSH sshd on 127.0.0.1, started here).
# 1. A key without its .pub file: libssh2 derives the public key; init, mount, copy, fresh cache.
# 2. A key locked with a passphrase and no agent: refused fast, saying to use ssh-agent.
# 3. The same key loaded into a test ssh-agent (started here, killed by the trap), still no .pub:
#    init and a round trip work through the agent; the passphrase is never given to coffer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"

AGENT_PID=
start_sshd
server_cleanup() {
	[ -z "$AGENT_PID" ] || kill "$AGENT_PID"
	"$SERVERS/stop-sshd.sh"
}
ok "sshd on port $SSHD_PORT"
unset SSH_AUTH_SOCK SSH_AGENT_PID
rm "$HOME/.ssh/id_ed25519.pub" # case 1: a key without its .pub file
SV=$T/served/vaults
mkdir -p "$SV"
U=sftp://root@127.0.0.1:$SSHD_PORT$SV

# --- 1. no .pub beside the key ---
VAULT=$U/v1
MARKER=PLAINTEXT-MARKER-$RANDOM$RANDOM
make_tree "$T/src" "$MARKER"
roundtrip "$T/src"
ok "no id_ed25519.pub: the public key derived from the private key"

# --- 2. a locked key, no agent ---
ssh-keygen -q -p -P '' -N 'test key passphrase' -f "$HOME/.ssh/id_ed25519" >/dev/null
grep -q 'BEGIN OPENSSH PRIVATE KEY' "$HOME/.ssh/id_ed25519" || fail "the key is not in OpenSSH format"
init_refused "locked key, no agent" "locked with a passphrase" "$U/v2"
mount_refused "locked key, no agent" "ssh-agent" "$VAULT"

# --- 3. the locked key in ssh-agent ---
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
AGENT_PID=$SSH_AGENT_PID
printf '#!/bin/sh\necho "test key passphrase"\n' >"$T/askpass"
chmod +x "$T/askpass"
SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none \
	ssh-add "$HOME/.ssh/id_ed25519" </dev/null 2>/dev/null || fail "ssh-add of the locked key failed"
ssh-add -l >/dev/null || fail "the agent holds no key"
[ ! -e "$HOME/.ssh/id_ed25519.pub" ] || fail "a .pub file appeared"
VAULT=$U/v3
CACHE=$T/cache-agent
rm -rf "$T/cache-fresh"
roundtrip "$T/src"
ok "a passphrase-locked key through ssh-agent ($SSH_AUTH_SOCK), no .pub file"
# the agent is what logs in: without it the same mount is refused
mount_refused "locked key, agent gone" "locked with a passphrase" "$VAULT" -u SSH_AUTH_SOCK
