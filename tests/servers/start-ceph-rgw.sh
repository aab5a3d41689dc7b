#!/bin/bash
# start-ceph-rgw.sh: a throwaway single-node Ceph (1 mon, 1 memstore OSD, no mgr) and radosgw on
# 127.0.0.1 for the S3 tests: http://127.0.0.1:$RGW_PORT, user test, keys TESTACCESS/TESTSECRET.
# Usage: start-ceph-rgw.sh            fresh cluster in $CEPH_DIR (wiped first)
#        start-ceph-rgw.sh --rgw-only  starts radosgw again on the running cluster (after stop --rgw-only)
# Env: CEPH_DIR (default /tmp/coffer-test/ceph), RGW_PORT (7480), MON_PORT (3300), MON1_PORT (6789).
# Must never touch a system Ceph: everything lives in $CEPH_DIR; stop with stop-ceph-rgw.sh.
set -e
. "$(dirname "$0")/need.sh"
D=${CEPH_DIR:-/tmp/coffer-test/ceph}
PORT=${RGW_PORT:-7480}
export CEPH_CONF=$D/ceph.conf

start_rgw() {
	radosgw -f -n client.rgw.a </dev/null >>"$D/log/rgw.out" 2>&1 &
	local pid=$! i
	echo "$pid" >"$D/run/rgw.pid"
	# The first start creates the pools, which can take a while on a busy machine.
	for i in $(seq 1 720); do
		curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$PORT/" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	echo "start-ceph-rgw: radosgw did not answer on port $PORT (see $D/log/rgw.out)" >&2
	return 1
}

if [ "${1:-}" = --rgw-only ]; then
	start_rgw
	exit 0
fi
need_pkgs radosgw ceph-mon ceph-osd
MON=${MON_PORT:-3300} MON1=${MON1_PORT:-6789}
rm -rf "$D"
mkdir -p "$D/mon" "$D/osd0" "$D/rgw" "$D/log" "$D/run"
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$CEPH_CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON,v1:127.0.0.1:$MON1
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth allow insecure global id reclaim = false
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 0
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd0
osd objectstore = memstore
memstore device bytes = 2147483648
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = localhost
CONF
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON,v1:127.0.0.1:$MON1]" "$D/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon -i a # daemonizes; pid in $D/run/mon.a.pid
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
ceph osd new "$OSD_UUID" 0 >/dev/null
ceph-osd -i 0 --mkfs --osd-uuid "$OSD_UUID" 2>/dev/null
ceph-osd -i 0 # daemonizes
osd_up() { ceph --connect-timeout 10 osd stat 2>/dev/null | grep -q '1 up'; }
for i in $(seq 1 240); do osd_up && break; sleep 0.5; done
osd_up || { echo "start-ceph-rgw: the OSD is not up after 120 s (see $D/log)" >&2; exit 1; }
start_rgw # creates its pools on first start
radosgw-admin user create --uid=test --display-name=test --access-key=TESTACCESS --secret-key=TESTSECRET >/dev/null
echo "start-ceph-rgw: S3 at http://127.0.0.1:$PORT (mon $(cat "$D/run/mon.a.pid"), osd $(cat "$D/run/osd.0.pid"), rgw $(cat "$D/run/rgw.pid"))"
