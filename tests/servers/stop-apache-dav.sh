#!/bin/bash
# stop-apache-dav.sh: stops the Apache that start-apache-dav.sh started (by its pid file) and
# removes $DAV_DIR, unless --keep (then start-apache-dav.sh --again serves the same folder).
# Must never stop an Apache it did not start.
. "$(dirname "$0")/need.sh"
A=${DAV_DIR:-/tmp/coffer-test/apache}
pid=$(cat "$A/httpd.pid" 2>/dev/null)
if [ -n "$pid" ]; then
	kids=$(pgrep -P "$pid" || true)
	stop_pids "$pid"
	stop_pids $kids
fi
rm -f "$A/httpd.pid"
[ "${1:-}" = --keep ] || rm -rf "$A"
true
