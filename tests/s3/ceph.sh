# A throw-away single-node Ceph for the S3 tests and bench/s3: one mon, one
# memstore OSD and one RGW (S3) on 127.0.0.1, on free ports chosen at
# random, everything under one temporary directory (nothing in /etc/ceph or
# /var/lib/ceph), torn down when the sourcing script exits. No mgr: RGW
# does not need one. Debian 12's ceph-mon, ceph-osd and radosgw (Ceph 16);
# sh scripts/deps.sh installs them.
#
# Sourced (POSIX sh) after tests/cli/lib.sh by tests/s3/test_*.sh, or alone
# by bench/s3. Functions:
#   ceph_have            0 when the programs are installed, else 1 with
#                        CEPH_WHY naming what is missing
#   ceph_up              starts the cluster, an S3 user and its keys; exports
#                        AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
#                        AWS_ENDPOINT_URL (http://127.0.0.1:PORT, path-style)
#                        and CEPH_CONF; sets CEPH_UP_MS (bring-up time). On
#                        failure returns 1 with CEPH_WHY and the daemons'
#                        log tails in $CEPH_DIR/why.
#   ceph_down            stops every daemon by the pid it recorded and
#                        removes the directory (also run on exit)
#   ceph_rgw_stop [SIG]  stops RGW alone (SIGKILL unless SIG is given)
#   ceph_rgw_start       starts RGW again on the same port, waits for it
#   s3 METHOD PATH [CURLARGS...]: one SigV4-signed request with curl
#                        (PATH is /BUCKET[/KEY][?QUERY], a bare sub-resource
#                        as "?policy=": curl 7.88 signs "?policy" wrongly);
#                        body to stdout,
#                        the status code to S3_CODE
#   ceph_bucket NAME     creates bucket NAME
#   ceph_public_read NAME: a bucket policy letting anyone GET its objects
#   ceph_rgw_requests    prints "TOTAL PUTS GETS": the requests RGW has
#                        served since it started (its perf counters)
#   ceph_bucket_usage NAME: prints "OBJECTS BYTES" of bucket NAME
#   ceph_fixture BUCKET  (with lib.sh) skip + finish when Ceph is missing,
#                        bad + finish when it does not come up; else up,
#                        with bucket BUCKET made
# Knobs: CEPH_MEM_BYTES (memstore size, default 2 GiB), CEPH_VERBOSE=1
# (bring-up steps with times on stderr).

CEPH_DIR="" CEPH_WHY="" CEPH_UP_MS="" CEPH_PIDS="" CEPH_WATCH=""

ceph_have() {
	CEPH_WHY=""
	for _c in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
		command -v "$_c" >/dev/null 2>&1 || CEPH_WHY="$CEPH_WHY $_c"
	done
	[ -z "$CEPH_WHY" ] && return 0
	CEPH_WHY="not installed:$CEPH_WHY (sh scripts/deps.sh installs ceph-mon ceph-osd radosgw)"
	return 1
}

_ceph_ms() { echo $(($(date +%s%N) / 1000000)); }
_ceph_log() {
	[ -n "${CEPH_VERBOSE:-}" ] || return 0
	_el=$(($(_ceph_ms) - _ceph_t0))
	printf '[ceph %d.%03ds] %s\n' $((_el / 1000)) $((_el % 1000)) "$*" >&2
}
_ceph_rand() { echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1)); }

# _ceph_ports: sets CEPH_BASE to the first of 64 consecutive ports below
# the kernel's ephemeral range on which nothing listens or is bound (TCP,
# IPv4 and IPv6). mon takes BASE and BASE+1, RGW BASE+2, the OSD's
# messengers bind within BASE+3..BASE+63.
_ceph_ports() {
	_lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	case $_lo in '' | *[!0-9]*) _lo=32768 ;; esac
	[ "$_lo" -gt 12000 ] || _lo=32768
	_used=$(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
	_try=0
	while [ "$_try" -lt 100 ]; do
		CEPH_BASE=$((10000 + $(_ceph_rand $((_lo - 10000 - 64)))))
		_clash=$(printf '%s\n' "$_used" | awk -v b="$CEPH_BASE" '
			function hex(s, i, p) { for (i = 1; i <= length(s); i++) p = p * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return p }
			NF { p = hex($0); if (p >= b && p < b + 64) { print p; exit } }')
		[ -z "$_clash" ] && return 0
		_try=$((_try + 1))
	done
	return 1
}

_ceph_start() { # NAME CMD...: a daemon in the foreground, its pid recorded
	_n=$1; shift
	nohup "$@" -f >"$CEPH_DIR/log/$_n.stdout" 2>&1 </dev/null &
	echo $! >"$CEPH_DIR/run/$_n.bgpid"
	CEPH_PIDS="$CEPH_PIDS $!"
}

_ceph_fail() { # WHY: the reason and the logs' tails into $CEPH_DIR/why
	CEPH_WHY=$1
	{
		echo "$1"
		for _f in "$CEPH_DIR"/log/*; do
			[ -f "$_f" ] || continue
			echo "--- $_f"
			tail -n 15 "$_f"
		done
	} >"$CEPH_DIR/why" 2>&1
	return 1
}

_ceph_alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# _ceph_kill SIG PIDFILE...: signals the daemons, waits up to 5 s, then KILL.
_ceph_kill() {
	_sig=$1; shift
	_ps=""
	for _f in "$@"; do
		[ -f "$_f" ] || continue
		_p=$(cat "$_f")
		_ceph_alive "$_p" && kill "-$_sig" "$_p" 2>/dev/null && _ps="$_ps $_p"
		rm -f "$_f"
	done
	_i=0
	while [ "$_i" -lt 50 ]; do
		_any=""
		for _p in $_ps; do _ceph_alive "$_p" && _any=1; done
		[ -z "$_any" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	for _p in $_ps; do _ceph_alive "$_p" && kill -KILL "$_p" 2>/dev/null; done
	for _p in $_ps; do wait "$_p" 2>/dev/null; done
	return 0
}

ceph_down() {
	[ -n "$CEPH_DIR" ] && [ -d "$CEPH_DIR" ] || return 0
	_ceph_kill KILL "$CEPH_DIR/run/rgw.bgpid"
	_ceph_kill KILL "$CEPH_DIR/run/osd.bgpid"
	_ceph_kill KILL "$CEPH_DIR/run/mon.bgpid"
	if [ -n "$CEPH_WATCH" ]; then
		kill -KILL "$CEPH_WATCH" 2>/dev/null
		wait "$CEPH_WATCH" 2>/dev/null
		CEPH_WATCH=""
	fi
	rm -rf "$CEPH_DIR"
	CEPH_DIR="" CEPH_PIDS=""
}

# _ceph_watchdog: should the sourcing shell die without running its exit
# trap (SIGKILL), a background watcher kills the daemons and removes the
# directory within a second.
_ceph_watchdog() {
	_me=$$ _d=$CEPH_DIR
	(
		trap '' HUP INT TERM # a signal to the whole group must not end it
		while kill -0 "$_me" 2>/dev/null; do sleep 1; done
		for _f in "$_d"/run/*.bgpid; do [ -f "$_f" ] && kill -KILL "$(cat "$_f")"; done
		sleep 1
		rm -rf "$_d"
	) >/dev/null 2>&1 </dev/null &
	CEPH_WATCH=$!
}

# s3 METHOD PATH [CURLARGS...]
s3() {
	_m=$1 _p=$2; shift 2
	_o=$(mktemp "${TMPDIR:-/tmp}/prbs3.XXXXXX") || return 1
	_x="-X $_m"
	[ "$_m" = HEAD ] && _x=-I
	# shellcheck disable=SC2086
	S3_CODE=$(curl -s -m 30 $_x --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
		-o "$_o" -w '%{http_code}' "$@" "$AWS_ENDPOINT_URL$_p")
	[ -n "$S3_CODE" ] || S3_CODE=000
	cat "$_o"
	rm -f "$_o"
	case $S3_CODE in 2*) return 0 ;; esac
	return 1
}

ceph_bucket() {
	s3 PUT "/$1" >/dev/null && return 0
	CEPH_WHY="creating bucket $1: HTTP $S3_CODE"
	return 1
}

ceph_public_read() {
	s3 PUT "/$1?policy=" --data-binary \
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::$1/*\"]}]}" \
		>/dev/null && return 0
	CEPH_WHY="bucket policy on $1: HTTP $S3_CODE"
	return 1
}

_ceph_rgw_wait() { # up to 60 s for RGW to answer
	_i=0
	while [ "$_i" -lt 600 ]; do
		curl -s -m 2 -o /dev/null "$AWS_ENDPOINT_URL/" && return 0
		_ceph_alive "$(cat "$CEPH_DIR/run/rgw.bgpid")" || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

ceph_rgw_start() {
	_ceph_start rgw radosgw -n client.rgw.gw
	_ceph_rgw_wait && return 0
	_ceph_fail "rgw did not answer on $AWS_ENDPOINT_URL"
}

ceph_rgw_stop() { _ceph_kill "${1:-KILL}" "$CEPH_DIR/run/rgw.bgpid"; }

ceph_rgw_requests() {
	ceph --admin-daemon "$CEPH_DIR/run/client.rgw.gw.asok" perf dump 2>/dev/null |
		tr -d ' \n' | sed -n 's/.*"rgw":{//p' | tr ',' '\n' |
		awk -F: '{ gsub(/"/, "", $1) } !($1 in v) { v[$1] = $2 } END { printf "%d %d %d\n", v["req"], v["put"], v["get"] }'
}

ceph_bucket_usage() {
	radosgw-admin bucket stats --bucket="$1" 2>/dev/null | tr -d ' \n' |
		sed -n 's/.*"rgw.main":{\([^}]*\)}.*/\1/p' | tr ',' '\n' |
		awk -F: '{ gsub(/"/, "", $1); v[$1] = $2 } END { printf "%d %d\n", v["num_objects"], v["size"] }'
}

_ceph_conf() {
	cat <<EOF
[global]
fsid = $1
mon host = [v2:127.0.0.1:$CEPH_BASE,v1:127.0.0.1:$((CEPH_BASE + 1))]
public addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = $((CEPH_BASE + 3))
ms bind port max = $((CEPH_BASE + 63))
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $CEPH_DIR/keyring
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
log file = $CEPH_DIR/log/\$name.log
crash dir = $CEPH_DIR/crash
mon data = $CEPH_DIR/\$name
osd data = $CEPH_DIR/\$name
rgw data = $CEPH_DIR/\$name
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd objectstore = memstore
memstore device bytes = ${CEPH_MEM_BYTES:-2147483648}
osd fast shutdown = true
# a killed RGW's cache watches expire after this (default 30 s), and every
# metadata write (bucket policy, bucket create) waits for them till then;
# not below 3 objecter ticks (5 s each), or live watches lapse between pings
osd client watch timeout = 15
# default 1 s; each pool RGW creates waits one proposal
paxos propose interval = 0.1
[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$((CEPH_BASE + 2))
rgw thread pool size = 32
rgw dynamic resharding = false
EOF
}

ceph_up() {
	_ceph_t0=$(_ceph_ms)
	ceph_have || return 1
	if ! _ceph_ports; then
		CEPH_WHY="no 64 free consecutive ports found below the ephemeral range"
		return 1
	fi
	CEPH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/prbceph.XXXXXX") || { CEPH_WHY="mktemp -d failed"; return 1; }
	mkdir -p "$CEPH_DIR/run" "$CEPH_DIR/log" "$CEPH_DIR/crash" "$CEPH_DIR/mon.a" \
		"$CEPH_DIR/osd.0" "$CEPH_DIR/client.rgw.gw"
	if command -v cleanup >/dev/null 2>&1; then
		trap 'ceph_down; cleanup' EXIT # lib.sh's cleanup ends with its own exit
	else
		trap 'ceph_down' EXIT
	fi
	trap 'exit 130' INT TERM HUP
	_ceph_watchdog
	_fsid=$(cat /proc/sys/kernel/random/uuid)
	_ceph_conf "$_fsid" >"$CEPH_DIR/ceph.conf"
	export CEPH_CONF="$CEPH_DIR/ceph.conf"
	_k=$CEPH_DIR/keyring
	{
		ceph-authtool --create-keyring "$_k" --gen-key -n mon. --cap mon 'allow *' &&
			ceph-authtool "$_k" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' &&
			ceph-authtool "$_k" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *' &&
			ceph-authtool "$_k" --gen-key -n client.rgw.gw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' &&
			monmaptool --create --fsid "$_fsid" --addv a "[v2:127.0.0.1:$CEPH_BASE,v1:127.0.0.1:$((CEPH_BASE + 1))]" "$CEPH_DIR/monmap" &&
			ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$_k"
	} >"$CEPH_DIR/log/mkfs" 2>&1 || { _ceph_fail "keyring or mon mkfs failed"; return 1; }
	_ceph_start mon ceph-mon -i a
	ceph --connect-timeout 30 mon stat >/dev/null 2>&1 || { _ceph_fail "mon did not answer on 127.0.0.1:$CEPH_BASE"; return 1; }
	_ceph_log "mon answering on 127.0.0.1:$CEPH_BASE"
	_ou=$(cat /proc/sys/kernel/random/uuid)
	{ ceph osd new "$_ou" && ceph-osd -i 0 --mkfs --osd-uuid "$_ou"; } >>"$CEPH_DIR/log/mkfs" 2>&1 ||
		{ _ceph_fail "osd mkfs failed"; return 1; }
	_ceph_start osd ceph-osd -i 0
	_i=0
	until ceph osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1'; do
		_i=$((_i + 1))
		[ "$_i" -lt 300 ] && _ceph_alive "$(cat "$CEPH_DIR/run/osd.bgpid")" || { _ceph_fail "osd did not come up"; return 1; }
		sleep 0.1
	done
	_ceph_log "osd up (memstore)"
	export AWS_ENDPOINT_URL="http://127.0.0.1:$((CEPH_BASE + 2))"
	export AWS_REGION=us-east-1
	ceph_rgw_start || return 1
	_ceph_log "rgw answering on $AWS_ENDPOINT_URL"
	AWS_ACCESS_KEY_ID=$(head -c 64 /dev/urandom | base64 -w0 | tr -dc A-Z0-9 | head -c 20)
	AWS_SECRET_ACCESS_KEY=$(head -c 64 /dev/urandom | base64 -w0 | tr -dc A-Za-z0-9 | head -c 40)
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	unset AWS_SESSION_TOKEN
	radosgw-admin user create --uid=probity --display-name=probity \
		--access-key="$AWS_ACCESS_KEY_ID" --secret-key="$AWS_SECRET_ACCESS_KEY" \
		>>"$CEPH_DIR/log/mkfs" 2>&1 || { _ceph_fail "radosgw-admin user create failed"; return 1; }
	CEPH_UP_MS=$(($(_ceph_ms) - _ceph_t0))
	_ceph_log "s3 user made; up in $CEPH_UP_MS ms"
	return 0
}

ceph_fixture() {
	if ! ceph_have; then
		skip "S3 tests need a local Ceph: $CEPH_WHY"
		finish
	fi
	if ! ceph_up || ! ceph_bucket "$1"; then
		bad "single-node Ceph on 127.0.0.1: $CEPH_WHY" "$(cat "$CEPH_DIR/why" 2>/dev/null | head -n 40)"
		finish
	fi
	ok "Ceph (mon, memstore OSD, RGW at $AWS_ENDPOINT_URL) up in ${CEPH_UP_MS} ms, bucket $1"
}
