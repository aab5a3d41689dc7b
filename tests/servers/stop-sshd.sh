#!/bin/bash
# stop-sshd.sh: stops the sshd that start-sshd.sh started and the sessions it forked (by pid:
# the listener's recorded pid and its children), and removes $SSHD_DIR unless --keep.
# Must never stop an sshd it did not start.
. "$(dirname "$0")/need.sh"
S=${SSHD_DIR:-/tmp/coffer-test/sshd}
pid=$(cat "$S/pid" 2>/dev/null)
if [ -n "$pid" ]; then
	kids=$(pgrep -P "$pid" || true)
	stop_pids $kids "$pid"
fi
rm -f "$S/pid"
[ "${1:-}" = --keep ] || rm -rf "$S"
true
