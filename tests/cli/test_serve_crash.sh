#!/bin/sh
# probity serve under faults: killed with SIGKILL under concurrent load at
# a random moment, several times, it must have made durable every entry it
# acknowledged, at the index it gave, in a log that verifies. A failing
# sync gets a 500 saying the batch is not committed, and the server
# recovers; a commit in doubt is settled before the answer; a slow disk
# fills the bounded queue and the excess gets 503 with Retry-After.
. "$(dirname "$0")/lib.sh"

serve_fixture test.example/crash
ROUNDS=${PRB_SERVE_CRASH_ROUNDS:-6}
CLIENTS=6

r=1
acked=0
while [ "$r" -le "$ROUNDS" ]; do
	section "round $r: SIGKILL under load"
	if ! start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
		bad "round $r: serve starts" "$(head_of "$T/s.err")"
		break
	fi
	start_clients "$CLIENTS" "$r"
	# a random moment between 0.3 and 1.5 s into the load
	sleep "$(awk -v s="$r$$" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.2 }')"
	kill -9 "$SPID"
	wait "$SPID" 2>/dev/null
	for p in $CP; do wait "$p"; done
	sanity_after "serve (round $r)" "$T/s.err"
	expect_ok "round $r: the log verifies after SIGKILL" verify "$L" --vkey "$LVK"
	size=$(cp_size "$L")
	cat "$T"/ack.*."$r" 2>/dev/null >"$T/acks.$r"
	n=$(wc -l <"$T/acks.$r")
	acked=$((acked + n))
	# every acknowledged entry is at its index
	missing=$(acks_missing "$T/acks.$r" "$L" "$size" | head -n 3)
	if [ -z "$missing" ]; then
		ok "round $r: all $n acknowledged entries are at their indexes (log size $size)"
	else
		bad "round $r: acknowledged entries missing or elsewhere" "$missing"
	fi
	r=$((r + 1))
done
if [ "$acked" -gt 0 ]; then ok "acknowledged entries over all rounds: $acked"; else bad "no entry was ever acknowledged"; fi

CC=${CC:-cc}
if ! $CC -shared -fPIC -o "$T/shim.so" "$(dirname "$0")/shim_commit.c" -ldl 2>"$T/cc.err"; then
	skip "cannot build the fault shim: $(head -n 1 "$T/cc.err")"
	finish
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# serve_shim SHIMENV...: starts serve with the shim preloaded
serve_shim() {
	: >"$T/f.out" # not left to the background job: see start_server
	env "$@" LD_PRELOAD="$T/shim.so" "$PROBITY" serve "$L" --key "$T/key" --listen 127.0.0.1:0 \
		--tokens "$T/tokens" $SHIM_ARGS >"$T/f.out" 2>"$T/f.err" &
	SPID=$!
	BGPIDS="$BGPIDS $SPID"
	_i=0 URL=""
	while [ -z "$URL" ] && [ "$_i" -lt 200 ] && kill -0 "$SPID" 2>/dev/null; do
		sleep 0.1
		URL=$(sed -n 's/^listening on //p' "$T/f.out")
		_i=$((_i + 1))
	done
	[ -n "$URL" ]
}

section "a failing sync: 500, not committed, and the server goes on"
SHIM_ARGS=""
serve_shim PRB_SHIM=filesync || bad "serve under the shim starts" "$(head_of "$T/f.err")"
# the size after the server's open (which may have installed a checkpoint
# the last SIGKILL left pending)
before=$(curl -s -m 10 "$URL/checkpoint" | sed -n 2p)
http -H "$A" --data-binary "lost-1" "$URL/add"
eq "the batch whose sync fails: 500" "$CODE" 500
check "... saying it is not committed" grep -q "^not committed" "$T/body"
http -H "$A" --data-binary "kept-1" "$URL/add"
eq "the next append succeeds (the log was reopened)" "$CODE $(cat "$T/body")" "200 $before"
stop_server "$SPID"
expect_ok "the log verifies" verify "$L" --vkey "$LVK"
eq "only the acknowledged entry is in" "$(entries_range "$L" "$(cp_size "$L")" "$before" "$(cp_size "$L")")" "kept-1"

section "a sync failing under concurrent load (pipelined batches)"
serve_shim PRB_SHIM=filesync:4 || bad "serve under the shim starts" "$(head_of "$T/f.err")"
# lclient W: 30 requests of 2 lines; 200s to lack.W, 500s to lnak.W
lclient() {
	_i=0
	while [ "$_i" -lt 30 ]; do
		printf 'l-c%s-%s-a\nl-c%s-%s-b\n' "$1" "$_i" "$1" "$_i" >"$T/lreq.$1"
		_c=$(curl -s -m 20 -o "$T/lresp.$1" -w '%{http_code}' -H "$A" --data-binary "@$T/lreq.$1" "$URL/add")
		if [ "$_c" = 200 ]; then
			paste -d' ' "$T/lresp.$1" "$T/lreq.$1" >>"$T/lack.$1"
		elif grep -q '^not committed:' "$T/lresp.$1"; then
			cat "$T/lreq.$1" >>"$T/lnak.$1"
		else
			echo "$_c $(cat "$T/lresp.$1")" >>"$T/lother.$1"
		fi
		_i=$((_i + 1))
	done
}
LP=""
for w in 0 1 2 3; do lclient "$w" & LP="$LP $!"; done
for p in $LP; do wait "$p"; done
cat "$T"/lack.* >"$T/lack" 2>/dev/null
cat "$T"/lnak.* >"$T/lnak" 2>/dev/null
cat "$T"/lother.* >"$T/lother" 2>/dev/null
stop_server "$SPID"
expect_ok "the log verifies after a failed sync under load" verify "$L" --vkey "$LVK"
size=$(cp_size "$L")
entries_range "$L" "$size" 0 "$size" | awk '{ print NR - 1 " " $0 }' | sort >"$T/have.s"
if [ -s "$T/lnak" ]; then ok "some requests were refused: $(wc -l <"$T/lnak") entries not committed"; else bad "the failing sync refused no request"; fi
eq "no other answers than 200 and 500 not committed" "$(cat "$T/lother")" ""
eq "every acknowledged entry is at its index" "$(sort "$T/lack" | comm -23 - "$T/have.s" | head -n 3)" ""
cut -d' ' -f2 "$T/have.s" | sort >"$T/have.e"
eq "no entry answered 'not committed' is in the log" "$(sort "$T/lnak" | comm -12 - "$T/have.e" | head -n 3)" ""
eq "the server went on after the failure: 120 requests answered" "$(($(wc -l <"$T/lack") / 2 + $(wc -l <"$T/lnak") / 2))" 120

section "a commit in doubt is settled before the answer"
serve_shim PRB_SHIM=dirsync || bad "serve under the shim starts" "$(head_of "$T/f.err")"
before=$(curl -s -m 10 "$URL/checkpoint" | sed -n 2p)
http -H "$A" --data-binary "doubt-1" "$URL/add"
eq "the batch whose directory sync fails after the rename: 200 (it is in)" "$CODE $(cat "$T/body")" "200 $before"
stop_server "$SPID"
eq "and it is in" "$(entries_range "$L" "$(cp_size "$L")" "$before" "$(cp_size "$L")")" "doubt-1"
expect_ok "the log verifies" verify "$L" --vkey "$LVK"

section "SIGTERM while a batch syncs: its request is still answered"
SHIM_ARGS=""
serve_shim PRB_SHIM_SLOW_MS=1500 || bad "serve under the shim starts" "$(head_of "$T/f.err")"
before=$(curl -s -m 10 "$URL/checkpoint" | sed -n 2p)
( curl -s -m 30 -o "$T/term.body" -w '%{http_code}' -H "$A" --data-binary "at-term" "$URL/add" >"$T/term.code" ) &
TP=$!
sleep 0.5
stop_server "$SPID"
eq "the server exits 0" "$?" 0
wait "$TP"
eq "the request being committed at SIGTERM is answered 200" "$(cat "$T/term.code") $(cat "$T/term.body")" "200 $before"
eq "... and it is in" "$(entries_range "$L" "$(cp_size "$L")" "$before" "$(cp_size "$L")")" "at-term"

section "a full queue: 503 with Retry-After"
SHIM_ARGS="--queue 3"
serve_shim PRB_SHIM_SLOW_MS=3000 || bad "serve under the shim starts" "$(head_of "$T/f.err")"
i=0 QP=""
while [ "$i" -lt 8 ]; do
	curl -s -m 30 -o "$T/q.$i" -D "$T/qh.$i" -w '%{http_code}\n' -H "$A" --data-binary "$(printf 'q%s-1\nq%s-2\nq%s-3' "$i" "$i" "$i")" "$URL/add" >"$T/qc.$i" &
	QP="$QP $!"
	i=$((i + 1))
done
for p in $QP; do wait "$p"; done
codes=$(cat "$T"/qc.* | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
n503=$(cat "$T"/qc.* | grep -c 503)
n200=$(cat "$T"/qc.* | grep -c 200)
if [ "$n503" -ge 1 ] && [ "$n200" -ge 2 ] && [ $((n503 + n200)) -eq 8 ]; then
	ok "eight 3-entry requests on a queue of 3 behind a slow disk (at most two batches in flight, one request queued): some 503 ($codes)"
else
	bad "queue full gives 503" "$codes"
fi
for i in 0 1 2 3 4 5 6 7; do
	if grep -q 503 "$T/qc.$i"; then
		eq "503 has Retry-After" "$(grep -i '^Retry-After:' "$T/qh.$i" | tr -d '\r')" "Retry-After: 1"
		break
	fi
done
stop_server "$SPID"
expect_ok "the log verifies" verify "$L" --vkey "$LVK"
finish
