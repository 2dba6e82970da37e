# Helpers to run a private nginx serving a probity log with the shipped
# configuration (contrib/nginx). Sourced after lib.sh by test_nginx.sh and
# test_monitor.sh.
#
# start_nginx ROOTDIR public|private [SERVERCONF]: serves ROOTDIR (may be a symlink,
# resolved per request) on 127.0.0.1:$NGX_PORT; sets NGX_URL, NGX_DIR
# (conf, logs, pid), NGX_ACCESS (the access log). Returns non-zero if nginx
# could not start (the caller records the failure).
# stop_nginx: stops it.

NGX_SRC=$(cd "$(dirname "$0")/../.." && pwd)/contrib/nginx
HAVE_NGINX=""
NGINX=$(command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
[ -n "$NGINX" ] && command -v curl >/dev/null 2>&1 && HAVE_NGINX=1

_ngx_conf() {
	_user=""
	[ "$(id -u)" -eq 0 ] && _user="user root;"
	cat <<CONF
worker_processes 1;
$_user
pid $NGX_DIR/nginx.pid;
error_log $NGX_DIR/error.log;
events { worker_connections 64; }
http {
	access_log $NGX_DIR/access.log;
	client_body_temp_path $NGX_DIR/tmp/body;
	proxy_temp_path $NGX_DIR/tmp/proxy;
	fastcgi_temp_path $NGX_DIR/tmp/fastcgi;
	uwsgi_temp_path $NGX_DIR/tmp/uwsgi;
	scgi_temp_path $NGX_DIR/tmp/scgi;
	include $NGX_SRC/probity-$2.conf;
	server {
		listen 127.0.0.1:$1;
		root $3;
		include $4;
	}
}
CONF
}

start_nginx() {
	NGX_DIR=$T/ngx
	NGX_ACCESS=$NGX_DIR/access.log
	mkdir -p "$NGX_DIR/tmp"
	[ -f "$NGX_DIR/probity-tokens.map" ] || : >"$NGX_DIR/probity-tokens.map"
	_try=0
	while [ "$_try" -lt 12 ]; do
		_try=$((_try + 1))
		NGX_PORT=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
		_ngx_conf "$NGX_PORT" "$2" "$1" "${3:-$NGX_SRC/probity-log.conf}" >"$NGX_DIR/nginx.conf"
		rm -f "$NGX_DIR/nginx.pid"
		: >"$NGX_DIR/error.log"
		"$NGINX" -p "$NGX_DIR" -c "$NGX_DIR/nginx.conf" -g 'daemon off;' 2>>"$NGX_DIR/error.log" &
		NGX_PID=$!
		BGPIDS="$BGPIDS $NGX_PID"
		_w=0
		while [ "$_w" -lt 50 ]; do
			if ! kill -0 "$NGX_PID" 2>/dev/null; then break; fi
			if curl -s -o /dev/null "http://127.0.0.1:$NGX_PORT/checkpoint"; then
				NGX_URL="http://127.0.0.1:$NGX_PORT/"
				return 0
			fi
			sleep 0.1
			_w=$((_w + 1))
		done
		kill "$NGX_PID" 2>/dev/null
		wait "$NGX_PID" 2>/dev/null
		grep -q 'in use' "$NGX_DIR/error.log" || break
	done
	echo "nginx did not start: $(tail -n 3 "$NGX_DIR/error.log")"
	return 1
}

stop_nginx() {
	[ -n "${NGX_PID:-}" ] || return 0
	kill "$NGX_PID" 2>/dev/null
	_w=0
	while kill -0 "$NGX_PID" 2>/dev/null && [ "$_w" -lt 50 ]; do sleep 0.1; _w=$((_w + 1)); done
	kill -9 "$NGX_PID" 2>/dev/null
	wait "$NGX_PID" 2>/dev/null
	NGX_PID=""
}

# fetched PATTERN: how many requests in the access log since the last
# ngx_mark matched the request-line PATTERN (grep -E).
ngx_mark() { NGX_MARK=$(wc -l <"$NGX_ACCESS"); }
ngx_since() { tail -n +"$((NGX_MARK + 1))" "$NGX_ACCESS"; }
fetched() { ngx_since | grep -Ec "\"GET /$1 HTTP" ; }
