#!/bin/bash
# start-sshd.sh: an SFTP server (OpenSSH sshd, internal-sftp, keys only) on 127.0.0.1 for the
# SFTP tests: sftp://127.0.0.1:$SSHD_PORT as root with the key $SSHD_DIR/client_ed25519; the host
# key is pinned in $SSHD_DIR/known_hosts.
# Usage: start-sshd.sh          fresh keys and config in $SSHD_DIR (wiped first)
#        start-sshd.sh --again  starts sshd again with the same keys (after stop-sshd.sh --keep)
# Env: SSHD_DIR (default /tmp/coffer-test/sshd), SSHD_PORT (2222).
# Must never touch the system's sshd or its keys. libssh2 1.10 (Debian 12's libcurl) cannot sign
# with RSA keys that OpenSSH 9.2 accepts: use ed25519.
set -e
. "$(dirname "$0")/need.sh"
S=${SSHD_DIR:-/tmp/coffer-test/sshd}
PORT=${SSHD_PORT:-2222}
if [ "${1:-}" != --again ]; then
	need_pkgs openssh-server openssh-client
	rm -rf "$S"
	mkdir -p "$S/root"
	ssh-keygen -q -t ed25519 -N '' -f "$S/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -f "$S/client_ed25519"
	ssh-keygen -q -t ed25519 -N '' -f "$S/other_ed25519"
	cp "$S/client_ed25519.pub" "$S/authorized_keys"
	echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/host_ed25519.pub")" >"$S/known_hosts"
	echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/other_ed25519.pub")" >"$S/wrong_known_hosts"
	cat >"$S/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $S/host_ed25519
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
fi
mkdir -p /run/sshd && chmod 755 /run/sshd
/usr/sbin/sshd -f "$S/sshd_config" -D -e </dev/null >/dev/null 2>>"$S/sshd.log" &
echo $! >"$S/pid"
wait_port "$PORT" || { echo "start-sshd: nothing answers on port $PORT" >&2; exit 1; }
echo "start-sshd: SFTP at sftp://127.0.0.1:$PORT (pid $(cat "$S/pid"))"
