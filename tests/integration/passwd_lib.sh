#!/usr/bin/env bash
# passwd_lib.sh: helpers of the t_passwd*.sh tests, sourced after lib.sh.

# passwd_race PASSFILE: two `coffer passwd` runs on $VAULT, each holding the config's version
# (both wait for their new passphrase from a FIFO, which is fed only once both have read the
# config), then both write. Exactly one must win: sets $win and $lose (A or B); the new
# passphrases are in $T/passA and $T/passB, the outputs in $T/raceA.out and $T/raceB.out.
passwd_race() {
	local x pid_A pid_B rcA=0 rcB=0
	for x in A B; do
		mkfifo "$T/fifo$x"
		printf 'race passphrase %s %s\n' "$x" "$RANDOM" >"$T/pass$x"
		chmod 600 "$T/pass$x"
		"$COFFER" passwd --passfile "$1" --new-passcmd "touch $T/ready$x; cat $T/fifo$x" "$VAULT" \
			>"$T/race$x.out" 2>&1 &
		eval "pid_$x=$!"
	done
	for _ in $(seq 300); do
		[ -e "$T/readyA" ] && [ -e "$T/readyB" ] && break
		sleep 0.1
	done
	[ -e "$T/readyA" ] && [ -e "$T/readyB" ] || fail "the racing passwd runs did not both reach the new passphrase"
	for x in A B; do timeout 20 cp "$T/pass$x" "$T/fifo$x" || fail "passwd $x did not read its new passphrase"; done
	wait "$pid_A" || rcA=$?
	wait "$pid_B" || rcB=$?
	[ $((rcA == 0)) -ne $((rcB == 0)) ] ||
		fail "racing passwd runs: exits $rcA and $rcB (out: $(cat "$T/raceA.out" "$T/raceB.out"))"
	if [ "$rcA" -eq 0 ]; then win=A lose=B; else win=B lose=A; fi
	assert_contains "$(cat "$T/race$lose.out")" "changed while coffer passwd ran" "the losing passwd's message"
	assert_contains "$(cat "$T/race$lose.out")" "nothing was changed" "the losing passwd's message"
}
