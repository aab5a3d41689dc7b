#!/usr/bin/env bash
# t_fork_sftp: the lost update (merged) and the operator fork (refused on both devices) of
# issue 10 on a real SFTP server (OpenSSH on 127.0.0.1); see fork_remote_lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/remote_lib.sh"
. "$(dirname "$0")/fork_remote_lib.sh"

start_sshd
SV=$T/served/vaults
mkdir -p "$SV"
VAULT=sftp://root@127.0.0.1:$SSHD_PORT$SV/v1
DOWN=sftp://root@127.0.0.1:$(free_port)$SV/v1
root_get() { cp "$SV/v1/root" "$1"; }
root_put() { cat "$1" >"$SV/v1/root"; }
history_count() { ls "$SV/v1/history" 2>/dev/null | wc -l; }
fork_remote_main
