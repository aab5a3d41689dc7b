#!/bin/bash
# stop-ceph-rgw.sh: stops what start-ceph-rgw.sh started (radosgw, then the OSD, then the mon), by
# the pids it recorded in $CEPH_DIR/run, and removes $CEPH_DIR.
# Usage: stop-ceph-rgw.sh [--rgw-only [--kill]]  (--rgw-only: radosgw alone, the cluster keeps its
#        data, so that start-ceph-rgw.sh --rgw-only brings the same store back; --kill: SIGKILL)
# Must never kill a process it did not start.
. "$(dirname "$0")/need.sh"
D=${CEPH_DIR:-/tmp/coffer-test/ceph}
if [ "${1:-}" = --rgw-only ]; then
	pid=$(cat "$D/run/rgw.pid" 2>/dev/null)
	[ "${2:-}" = --kill ] && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	stop_pids $pid
	exit 0
fi
stop_pids $(cat "$D/run/rgw.pid" "$D/run/osd.0.pid" "$D/run/mon.a.pid" 2>/dev/null)
rm -rf "$D"
true
