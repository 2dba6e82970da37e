#!/bin/sh
# probity serve and probity witness against hostile clients, over loopback
# only (127.0.0.0/8: attackers bind their own source addresses
# 127.0.0.2..., the well-behaved client stays on 127.0.0.1):
#   - every byte value in a request target, %-escaped and raw: 400 unless
#     it is a byte a path may hold (one name per resource, no %00 tricks);
#   - symlinks and FIFOs planted in DIR are never served;
#   - 200 concurrent downloads of a 16 MiB entry bundle, plain and gzip,
#     under a peak-RSS bound a per-request copy of the file would exceed;
#   - slowloris (heads and bodies dribbled a byte at a time) and floods of
#     idle connections: the per-client limit and the head and body
#     deadlines shut them out while a client on 127.0.0.1 is still
#     answered.
# Attacks are made by tests/cli/rawhttp.c, built here with $CC. Every
# request is bounded by curl's -m or rawhttp's own limits; no assertion is
# on a duration.
. "$(dirname "$0")/lib.sh"

serve_fixture test.example/hostile
CC=${CC:-cc}
RAW=$T/rawhttp
if ! $CC -std=c11 -O2 -o "$RAW" "$(dirname "$0")/rawhttp.c" 2>"$T/cc.err"; then
	skip "cannot build tests/cli/rawhttp.c with $CC: $(head_of "$T/cc.err")"
	finish
fi
if ! "$RAW" slow 1 127.0.0.2 0 0 1 idle >/dev/null 2>&1; then
	skip "cannot bind 127.0.0.2 (loopback is not 127.0.0.0/8 here)"
	finish
fi
port_of() { echo "${1##*:}"; }

printf 'one\ntwo\nthree\n' | "$PROBITY" add "$L" --key "$T/key" >/dev/null 2>&1
eq "a log of 3 entries" "$(cp_size "$L")" 3

section "request targets: every byte, escaped and raw"
if ! start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --public; then
	bad "serve starts" "$(head_of "$T/s.err")"
	finish
fi
P=$(port_of "$URL")
http "$URL/tile/entries/000.p/3"
eq "the bundle itself: 200" "$CODE" 200
# a byte a path may hold
path_byte() {
	case $1 in
	4[5-9] | 5[0-7] | 6[5-9] | [78][0-9] | 90 | 95 | 9[7-9] | 1[01][0-9] | 12[0-2]) return 0 ;;
	esac
	return 1
}
b=0 wrong_esc="" wrong_raw="" wrong_mid=""
while [ "$b" -lt 256 ]; do
	x=$(printf %02X "$b")
	c=$(curl -s -m 10 --path-as-is -o /dev/null -w '%{http_code}' "$URL/tile/entries/000.p/3%$x")
	[ "$c" = 400 ] || wrong_esc="$wrong_esc %$x:$c"
	c=$(curl -s -m 10 --path-as-is -o /dev/null -w '%{http_code}' "$URL/tile/entries/000.p/3%$x/../../../checkpoint")
	[ "$c" = 400 ] || wrong_mid="$wrong_mid %$x:$c"
	# shellcheck disable=SC2059
	printf "GET /tile/entries/000.p/3\\$(printf %03o "$b")/x HTTP/1.1\r\nHost: x\r\n\r\n" >"$T/raw.req"
	c=$("$RAW" send "$P" "$T/raw.req")
	if path_byte "$b"; then
		[ "$c" = 404 ] || wrong_raw="$wrong_raw $b:$c"
	else
		[ "$c" = 400 ] || wrong_raw="$wrong_raw $b:$c"
	fi
	b=$((b + 1))
done
eq "each of the 256 %XX escapes at the end of a tile path: 400" "$wrong_esc" ""
eq "each %XX followed by /../ (as %00/../ once served tile 0): 400" "$wrong_mid" ""
eq "each raw byte: 400, or 404 for a byte a path may hold" "$wrong_raw" ""
http --path-as-is "$URL/tile/entries/000.p/%33"
eq "an escaped name of an existing bundle (%33 for 3): 400" "$CODE" 400
printf 'GET /tile/entries/000.p/3\000/../../checkpoint HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/raw.req"
eq "a raw NUL hiding the rest of the target: 400" "$("$RAW" send "$P" "$T/raw.req")" 400
for q in "/tile/entries/000.p/3?" "/tile/entries/000.p/3?x=1" "/checkpoint?a" "/healthz?"; do
	http --path-as-is "$URL$q"
	eq "a query on $q (a second name): 400" "$CODE" 400
done
http --path-as-is -H "$A" --data-binary x "$URL/add?format=%41uto"
eq "an escape in the query of /add: 400" "$CODE" 400
http "$URL/checkpoint"
eq "the server still answers: 200" "$CODE" 200
stop_server "$SPID"

section "symlinks and FIFOs planted in DIR are not served"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --public || bad "serve restarts"
for f in tile/0/000.p/3 tile/entries/000.p/3; do
	mv "$L/$f" "$T/saved"
	ln -s "$T/key" "$L/$f"
	http "$URL/$f"
	eq "$f as a symlink to the signer key: 404" "$CODE" 404
	if grep -q PRIVATE "$T/body"; then bad "$f: the key is not in the answer"; else ok "$f: the key is not in the answer"; fi
	rm "$L/$f"
	mkfifo "$L/$f"
	http "$URL/$f"
	eq "$f as a FIFO: 404 (not a hang)" "$CODE" 404
	rm "$L/$f"
	mv "$T/saved" "$L/$f"
	http "$URL/$f"
	eq "$f restored: 200" "$CODE" 200
done
mkdir -p "$T/elsewhere"
cp "$T/key" "$T/elsewhere/3"
mv "$L/tile/entries/000.p" "$T/saved.p"
ln -s "$T/elsewhere" "$L/tile/entries/000.p"
http "$URL/tile/entries/000.p/3"
eq "a symlinked directory on the path: 404" "$CODE" 404
rm "$L/tile/entries/000.p"
mv "$T/saved.p" "$L/tile/entries/000.p"
stop_server "$SPID"

section "memory: 200 concurrent downloads of a 16 MiB bundle"
B=$T/big
new_log "$B" "$T/key"
head -c 65535 /dev/zero | tr '\0' a >"$T/line"
i=0
while [ "$i" -lt 256 ]; do cat "$T/line"; echo; i=$((i + 1)); done >"$T/lines"
"$PROBITY" add "$B" --key "$T/key" <"$T/lines" >/dev/null 2>&1
eq "a full bundle of 256 entries of 65,535 bytes" "$(wc -c <"$B/tile/entries/000")" 16777472
start_server b serve "$B" --key "$T/key" --listen 127.0.0.1:0 --public --per-client 250 || bad "serve starts on the big log"
before=$(hwm "$SPID")
i=0 pids=""
while [ "$i" -lt 200 ]; do
	# --limit-rate makes the downloads overlap: 200 files in flight at once
	if [ $((i % 2)) -eq 0 ]; then
		curl -s -m 90 --limit-rate 4M -o "$T/dl.$i" -w '%{http_code}' "$URL/tile/entries/000" >"$T/dl.$i.code" &
	else
		curl -s -m 90 --limit-rate 4M -H 'Accept-Encoding: gzip' -o "$T/dl.$i" -w '%{http_code}' "$URL/tile/entries/000" >"$T/dl.$i.code" &
	fi
	pids="$pids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids
peak=$(hwm "$SPID")
stop_server "$SPID"
eq "every download answered 200" "$(cat "$T"/dl.*.code | tr -d '\n' | sed 's/200//g')" ""
check "a plain download is the bundle" cmp -s "$T/dl.0" "$B/tile/entries/000"
if gzip -dc <"$T/dl.1" 2>/dev/null | cmp -s - "$B/tile/entries/000"; then ok "a gzip download decodes to the bundle"; else bad "a gzip download decodes to the bundle"; fi
# The bound: 128 MiB (256 MiB under ASan, whose allocator keeps freed
# memory in quarantine); one copy of the file per request, as before the
# streaming, is 16 MiB each (32 with its gzip), 3.2 GiB for 200.
lim=131072
case $PROBITY in */san/*) lim=262144 ;; esac
echo "peak RSS of serve: ${before} kB before, ${peak} kB with 200 downloads of 16 MiB in flight"
if [ -n "$peak" ] && [ "$peak" -lt "$lim" ]; then ok "peak RSS ${peak} kB < $lim kB"; else bad "peak RSS ${peak:-?} kB under $lim kB"; fi
rm -f "$T"/dl.*

# ---- slowloris and floods -------------------------------------------------

# still_answered NAME CMD...: runs CMD (a curl printing a status) up to 20
# times, 0.5 s apart, until it prints a status other than 000; records
# whether it ever did.
still_answered() {
	_n=$1; shift
	_i=0 _c=000
	while [ "$_i" -lt 20 ]; do
		_c=$("$@")
		[ "$_c" != 000 ] && break
		sleep 0.5
		_i=$((_i + 1))
	done
	if [ "$_c" != 000 ]; then ok "$_n (status $_c)"; else bad "$_n" "never answered in 20 tries"; fi
}
# attack_field FILE NAME: the count after NAME in rawhttp's summary line.
attack_field() { sed -n "s/.*$2 \([0-9]*\).*/\1/p" "$1"; }

attacks() { # KIND URL PORT ERRFILE CHECKCMD...
	_k=$1 _u=$2 _p=$3 _e=$4; shift 4
	section "$_k: 300 slow heads from one client (per-client limit 16)"
	"$RAW" slow "$_p" 127.0.0.2 300 6 100 head >"$T/a1" &
	_ap=$!
	sleep 1
	_j=0
	while [ "$_j" -lt 4 ]; do
		still_answered "$_k: a client on 127.0.0.1 is answered during the attack ($_j)" "$@"
		sleep 0.5
		_j=$((_j + 1))
	done
	wait "$_ap"
	echo "attack: $(cat "$T/a1")"
	_g=$(attack_field "$T/a1" answered408)
	if [ "${_g:-99}" -ge 1 ] && [ "$_g" -le 16 ]; then ok "$_k: at most 16 slow heads held, each ended by 408 ($_g)"; else bad "$_k: 1..16 slow heads held and ended by 408" "$(cat "$T/a1")"; fi
	eq "$_k: no slow head outlived the head deadline" "$(attack_field "$T/a1" open)" 0
	# one libmicrohttpd message per refused connection, at most 20 (and
	# a count of the rest) per 10 s: an attack of 7 s spans 2 windows
	_lines=$(grep -c 'probity httpd:' "$_e")
	if [ "$_lines" -le 42 ]; then ok "$_k: its log holds $_lines lines for ~284 refusals"; else bad "$_k: at most 42 log lines for the attack" "$_lines lines in $_e"; fi

	section "$_k: 300 slow heads and idle connections from 10 clients (connections 100)"
	_s=2 _ap=""
	while [ "$_s" -lt 12 ]; do
		_m=head
		[ $((_s % 2)) -eq 0 ] && _m=idle
		"$RAW" slow "$_p" "127.0.0.$((_s + 10))" 30 14 100 $_m >"$T/f.$_s" &
		_ap="$_ap $!"
		_s=$((_s + 1))
	done
	sleep 1
	still_answered "$_k: a client on 127.0.0.1 is answered while every slot was taken" "$@"
	# shellcheck disable=SC2086
	wait $_ap
	_open=0 _held=0
	for f in "$T"/f.*; do
		_open=$((_open + $(attack_field "$f" open)))
		_held=$((_held + $(attack_field "$f" answered408)))
	done
	# (the slots freed by the deadline go to connections waiting in the
	# listen queue: the 300 are held 2 s each, 100 at a time, in about
	# 7 s of the 14)
	eq "$_k: every slow or idle connection was shut by the deadline" "$_open" 0
	if [ "$_held" -ge 100 ]; then ok "$_k: the held ones were answered 408 ($_held)"; else bad "$_k: at least 100 connections held and ended by 408" "$(cat "$T"/f.*)"; fi
	rm -f "$T"/f.*
}

start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
	--per-client 16 --connections 100 --head-timeout 2 --body-timeout 3 ||
	bad "serve starts with limits" "$(head_of "$T/s.err")"
P=$(port_of "$URL")
attacks serve "$URL" "$P" "$T/s.err" curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/checkpoint"

section "serve: a kept-alive connection idle past the head deadline"
printf 'GET /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/keep.req"
"$RAW" keep "$P" "$T/keep.req" 8 >"$T/keep.out"
eq "serve: answered, then closed with nothing more sent (no stray 408)" "$(cat "$T/keep.out")" "status 200 later 0 closed 1"

section "serve: slow bodies (body deadline 3 s)"
before=$(cp_size "$L")
RAWHTTP_TOKEN=$AT "$RAW" slow "$P" 127.0.0.30 5 8 100 body >"$T/a3" &
ap=$!
sleep 1
still_answered "serve: a client is answered during slow bodies" curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/checkpoint"
wait "$ap"
echo "attack: $(cat "$T/a3")"
eq "serve: the 5 slow bodies were accepted" "$(attack_field "$T/a3" connected)" 5
eq "serve: no slow body outlived the body deadline" "$(attack_field "$T/a3" open)" 0
eq "serve: nothing was committed from them" "$(cp_size "$L")" "$before"
"$RAW" slow "$P" 127.0.0.31 5 8 100 body >"$T/a4"
echo "attack: $(cat "$T/a4")"
eq "serve: slow bodies after an early 401 (no credential) were shut too" "$(attack_field "$T/a4" open)" 0
http -H "$A" --data-binary "after" "$URL/add"
eq "serve: an append after the attacks: 200" "$CODE" 200
stop_server "$SPID"

section "the limits' options are checked"
for o in "--per-client 0" "--connections 60001" "--head-timeout x" "--body-timeout 0" "--idle-timeout -1"; do
	# shellcheck disable=SC2086
	expect_fail "serve $o is refused" serve "$L" --key "$T/key" --listen 127.0.0.1:0 $o
	eq "serve $o: a usage error (2)" "$RC" 2
done

prb keygen w.example/hostile -o "$T/w.key" --witness
if [ "$RC" -eq 0 ]; then
	# shellcheck disable=SC2086
	expect_fail "witness --per-client 0 is refused" witness --listen 127.0.0.1:0 --key "$T/w.key" --log "test.example/hostile=$LVK" --per-client 0
	eq "witness --per-client 0: a usage error (2)" "$RC" 2
	section "witness"
	: >"$T/w.out"
	"$PROBITY" witness --listen 127.0.0.1:0 --key "$T/w.key" --log "test.example/hostile=$LVK" \
		--state "$T/w.sqlite" --per-client 16 --connections 100 --head-timeout 2 \
		--body-timeout 3 >"$T/w.out" 2>"$T/w.err" &
	WPID=$!
	BGPIDS="$BGPIDS $WPID"
	i=0
	while [ "$i" -lt 100 ] && ! grep -q '^listening on ' "$T/w.out"; do sleep 0.1; i=$((i + 1)); done
	WURL=$(sed -n 's/^listening on //p' "$T/w.out")
	if [ -z "$WURL" ]; then
		bad "witness starts" "$(head_of "$T/w.err")"
	else
		WP=$(port_of "$WURL")
		b=0 wrong=""
		while [ "$b" -lt 256 ]; do
			x=$(printf %02X "$b")
			c=$(curl -s -m 10 --path-as-is -o /dev/null -w '%{http_code}' --data-binary x "$WURL/add-checkpoint%$x")
			[ "$c" = 400 ] || wrong="$wrong %$x:$c"
			b=$((b + 1))
		done
		eq "witness: each of the 256 %XX escapes after /add-checkpoint: 400" "$wrong" ""
		http --path-as-is --data-binary x "$WURL/add%2Dcheckpoint"
		eq "witness: /add%2Dcheckpoint (an escaped name of the endpoint): 400" "$CODE" 400
		http --path-as-is --data-binary x "$WURL/add-checkpoint?x"
		eq "witness: a query (a second name): 400" "$CODE" 400
		attacks witness "$WURL" "$WP" "$T/w.err" curl -s -m 5 -o /dev/null -w '%{http_code}' --data-binary 'old 0' "$WURL/add-checkpoint"
		http --data-binary 'old 0' "$WURL/add-checkpoint"
		eq "witness: a bad request after the attacks: 400" "$CODE" 400
		stop_server "$WPID"
	fi
else
	bad "keygen --witness" "$(head_of "$T/err")"
fi

finish
