#!/bin/bash
# need.sh: sourced by the start-*.sh scripts. need_pkgs PKG... installs the Debian packages that
# are missing (apt-get, no recommends), after making sure /usr/sbin/policy-rc.d holds 'exit 101'
# so that installing a server package never starts a system service on a public interface.
# Must never start, stop or reconfigure a system service.
# Server scripts started side by side install one at a time: each takes an flock first and
# checks again under it, and apt-get waits for a dpkg lock held by anything else.
missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || echo "$p"
	done
}
need_pkgs() {
	local missing
	missing=$(missing_pkgs "$@")
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "servers: missing ${missing//$'\n'/ }; run as root to install them" >&2
		return 1
	fi
	mkdir -p /run/lock
	(
		flock 8
		install_pkgs $(missing_pkgs "$@")
	) 8>/run/lock/coffer-need-pkgs.lock
}
install_pkgs() {
	local missing=("$@") apt=(apt-get -o DPkg::Lock::Timeout=600)
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ ! -f /usr/sbin/policy-rc.d ] || ! grep -q 'exit 101' /usr/sbin/policy-rc.d; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	fi
	chmod 755 /usr/sbin/policy-rc.d
	echo "servers: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -q >&2 &&
			DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2; }
}

# wait_port PORT [TRIES]: waits until something accepts TCP connections on 127.0.0.1:PORT.
wait_port() {
	local i
	for i in $(seq "${2:-200}"); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# stop_pids PID...: TERM, wait up to 5 s, then KILL (only the pids given).
stop_pids() {
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null || true; done
	for p in "$@"; do
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
	done
}
