#!/usr/bin/env bash
# t_completion: tools/coffer.bash-completion, sourced, completes (through COMP_LINE, COMP_POINT,
# COMP_WORDS and COMP_CWORD as bash sets them, with readline's split at '='): the commands, each
# command's options, the -o keys (also after a comma, and only the part after readline's '='),
# --kdf-level's levels, files after --passfile, and the mounted coffers after umount and status.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tools/coffer.bash-completion"

# completions LINE: what _coffer offers at the end of LINE, one a line.
completions() {
	local w IFS=$' \t\n'
	COMP_LINE=$1
	COMP_POINT=${#1}
	read -ra w <<<"${1//=/ = }" # readline splits at '=' (COMP_WORDBREAKS)
	[[ $1 =~ [[:space:]]$ ]] && w+=("")
	[[ $1 == *= ]] && w+=("")
	COMP_WORDS=("${w[@]}")
	COMP_CWORD=$((${#w[@]} - 1))
	_coffer
	printf '%s\n' "${COMPREPLY[@]}"
}
has() { # has LINE WORD...: every WORD is offered at the end of LINE
	local got w
	got=$(completions "$1")
	for w in "${@:2}"; do
		grep -qxF -- "$w" <<<"$got" || fail "'$1' does not offer '$w'; it offers: $(echo $got)"
	done
}
hasnt() { # hasnt LINE WORD...: no WORD is offered
	local got w
	got=$(completions "$1")
	for w in "${@:2}"; do
		grep -qxF -- "$w" <<<"$got" && fail "'$1' offers '$w'"
	done
	return 0
}

complete -p coffer | grep -q -- '-F _coffer' || fail "the script does not register _coffer for coffer"
C=$COFFER
has "$C " init mount umount status snapshots fsck --help --version
has "$C mo" mount
hasnt "$C mo" init umount
has "$C mount --" --passfile --passcmd --cache --snapshot --help
has "$C mount -" -f -o
hasnt "$C mount --" --no-wait --kdf-level
has "$C umount --" --no-wait
has "$C init --" --kdf-level --passfile
has "$C status --" --json
ok "commands and each command's options"

has "$C mount -o " commit= keep= cache_size= drain_timeout= logfile= ro region= s3_style= \
	cacert= netrc= ssh_key= known_hosts= accept_new_host_key insecure_http_auth
has "$C mount -o ca" cacert= cache_size=
hasnt "$C mount -o ca" commit=
# after a comma, readline's word starts after the '=' of commit=5: only that part comes back
has "$C mount -o commit=5,ca" 5,cacert= 5,cache_size=
has "$C mount -o ro,dr" ro,drain_timeout=
hasnt "$C mount -o commit=" 5
ok "-o keys, also after a comma"

has "$C init --kdf-level " min interactive moderate sensitive
touch "$T/passphrase-file"
has "$C mount --passfile $T/passph" "$T/passphrase-file"
ok "option values: KDF levels, files"

coffer_init
coffer_mount
has "$C umount ${MNT%/*}/" "$MNT"
has "$C status " "$MNT"
coffer_umount
hasnt "$C umount ${MNT%/*}/m" "$MNT/"
ok "umount and status complete the mounted coffers"
