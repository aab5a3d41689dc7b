#!/bin/bash
# start-apache-dav.sh: a WebDAV server (Apache 2.4 mod_dav_fs, basic auth) on 127.0.0.1 for the
# WebDAV tests: http://127.0.0.1:$DAV_PORT/ with user davuser, password davpass; the served
# folder is $DAV_DIR/dav.
# Usage: start-apache-dav.sh          fresh server (wipes $DAV_DIR)
#        start-apache-dav.sh --again  starts it again on the same folder (after stop-apache-dav.sh --keep)
# Env: DAV_DIR (default /tmp/coffer-test/apache), DAV_PORT (8080); DAV_TLS_PORT (unset: none)
# adds https://127.0.0.1:$DAV_TLS_PORT/ (the same folder) with a certificate for 127.0.0.1 only,
# signed by a test CA made here: $DAV_DIR/ca.pem; $DAV_DIR/other-ca.pem is a CA that signed nothing.
# Must never touch the system's Apache: its own config, pid file and logs live in $DAV_DIR.
set -e
. "$(dirname "$0")/need.sh"

# make_certs DIR: a test CA (ca.pem), a server certificate for IP 127.0.0.1 signed by it
# (server.pem, server.key), and an unrelated CA (other-ca.pem). Valid for two days.
make_certs() {
	local d=$1 ca
	for ca in ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=coffer test $ca" -keyout "$d/$ca.key" -out "$d/$ca.pem" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
	chmod 644 "$d/server.key" "$d/server.pem"
}
A=${DAV_DIR:-/tmp/coffer-test/apache}
PORT=${DAV_PORT:-8080}
if [ "${1:-}" != --again ]; then
	need_pkgs apache2 apache2-utils
	rm -rf "$A"
	mkdir -p "$A/dav"
	m=/usr/lib/apache2/modules
	tls=""
	if [ -n "${DAV_TLS_PORT:-}" ]; then
		need_pkgs openssl
		make_certs "$A"
		tls="LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
LoadModule ssl_module $m/mod_ssl.so
Listen 127.0.0.1:$DAV_TLS_PORT
<VirtualHost 127.0.0.1:$DAV_TLS_PORT>
    ServerName 127.0.0.1
    SSLEngine on
    SSLCertificateFile $A/server.pem
    SSLCertificateKeyFile $A/server.key
</VirtualHost>"
	fi
	cat >"$A/httpd.conf" <<CONF
ServerRoot $A
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile $A/httpd.pid
ErrorLog $A/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module  $m/mod_mpm_event.so
LoadModule authn_core_module $m/mod_authn_core.so
LoadModule authn_file_module $m/mod_authn_file.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule authz_user_module $m/mod_authz_user.so
LoadModule auth_basic_module $m/mod_auth_basic.so
LoadModule dav_module        $m/mod_dav.so
LoadModule dav_fs_module     $m/mod_dav_fs.so
DefaultRuntimeDir $A
$tls
DAVLockDB $A/davlock
DocumentRoot $A/dav
<Directory $A/dav>
    Dav On
    AuthType Basic
    AuthName dav
    AuthUserFile $A/htpasswd
    Require valid-user
</Directory>
CONF
	chown www-data:www-data "$A/dav" "$A"
	htpasswd -bc "$A/htpasswd" davuser davpass 2>/dev/null
fi
apache2 -f "$A/httpd.conf" -k start
wait_port "$PORT" || { echo "start-apache-dav: nothing answers on port $PORT" >&2; exit 1; }
if [ -n "${DAV_TLS_PORT:-}" ]; then
	wait_port "$DAV_TLS_PORT" || { echo "start-apache-dav: nothing answers on port $DAV_TLS_PORT" >&2; exit 1; }
fi
for i in $(seq 100); do [ -s "$A/httpd.pid" ] && break; sleep 0.05; done
echo "start-apache-dav: WebDAV at http://127.0.0.1:$PORT/ (pid $(cat "$A/httpd.pid"))"
