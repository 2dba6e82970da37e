#!/bin/sh
# The log and its witnesses, over 127.0.0.1: probity serve and probity add
# send each new checkpoint to real probity witnesses with a consistency
# proof, and publish it with the cosignatures once enough have cosigned;
# a witness that is down, answers garbage or has another key is reported
# and does not stop appends; a server restart is caught up through the
# witnesses' 409 answers.
. "$(dirname "$0")/lib.sh"

serve_fixture test.example/wlog openssl

prb keygen w1.example -o "$T/w1.key" --witness
W1VK=$(cat "$T/out")
prb keygen w2.example -o "$T/w2.key" --witness
W2VK=$(cat "$T/out")
# witness N [PORT]: starts witness N (state kept across restarts) on PORT
# (default: a free one); sets WNURL and WNPID
witness() {
	start_server "w$1" witness --listen "127.0.0.1:${2:-0}" --key "$T/w$1.key" \
		--log "test.example/wlog=$LVK" --state "$T/w$1.sqlite" ||
		{ bad "witness $1 starts" "$(head_of "$T/w$1.err")"; return 1; }
	eval "W$1PID=\$SPID W$1URL=\$URL"
}
witness 1 || finish
witness 2 || finish
# published SIZE: GET /checkpoint of $SURL until it has SIZE (witnessing
# follows the acknowledgement of an append), at most 10 s; the last body
# in $T/body
published() {
	_pi=0
	while [ "$_pi" -lt 100 ]; do
		http "$SURL/checkpoint"
		[ "$(sed -n 2p "$T/body")" = "$1" ] && return 0
		sleep 0.1
		_pi=$((_pi + 1))
	done
	return 1
}

section "serve with two witnesses, both needed"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
	--witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" || { bad "serve starts" "$(head_of "$T/s.err")"; finish; }
SURL=$URL SPID_S=$SPID
http "$SURL/checkpoint"
eq "the starting checkpoint is published once cosigned" "$CODE" 200
cp "$T/body" "$T/cp0"
check "... by witness 1" cosig_check "$T/cp0" w1.example "$W1VK"
check "... by witness 2" cosig_check "$T/cp0" w2.example "$W2VK"
seq 1 300 | sed 's/^/e/' >"$T/e300"
http -H "$A" --data-binary "@$T/e300" "$SURL/add"
eq "POST /add: 200" "$CODE" 200
published 300
cp "$T/body" "$T/cp1"
eq "the served checkpoint is the new size" "$(sed -n 2p "$T/cp1")" 300
check "... cosigned by witness 1" cosig_check "$T/cp1" w1.example "$W1VK"
check "... cosigned by witness 2" cosig_check "$T/cp1" w2.example "$W2VK"
check "the checkpoint file holds the same cosigned checkpoint" cmp -s "$T/cp1" "$L/checkpoint"
verify_ok "the log with a cosigned checkpoint verifies" "$L" "$LVK"

section "a monitor follows the served log, counting the witnesses"
printf '%s\n' "$AT" >"$T/token"
chmod 600 "$T/token"
prb monitor "$SURL" --vkey "$LVK" --witness-vkey "$W1VK" --witness-vkey "$W2VK" --token "$T/token" --state "$T/mon" --once
eq "monitor of probity serve: exit 0" "$RC" 0
eq "monitor: the served size verified with both cosignatures" "$(cut -d' ' -f1-3,6- "$T/out")" "verified size 300 (+300 entries, 2 cosignatures)"
prb monitor "$SURL" --vkey "$LVK" --state "$T/mon2" --once
eq "monitor without the read credential: fails" "$RC" 1
check "... saying 401" grep -q 401 "$T/err"
seq 1 40 | sed 's/^/m/' >"$T/m40"
http -H "$A" --data-binary "@$T/m40" "$SURL/add"
published 340
prb monitor "$SURL" --vkey "$LVK" --witness-vkey "$W1VK" --witness-vkey "$W2VK" --token "$T/token" --state "$T/mon" --once
eq "monitor: the increment verified" "$(cut -d' ' -f1-3,6- "$T/out")" "verified size 340 (+40 entries, 2 cosignatures)"

section "a witness goes down: appends go on, nothing new is published"
stop_server "$W2PID"
http -H "$A" --data-binary "down-1" "$SURL/add"
eq "POST /add with a witness down: 200 (durable)" "$CODE $(cat "$T/body")" "200 340"
_pi=0
while ! grep -q "checkpoint size 341 not published" "$T/s.err" && [ "$_pi" -lt 100 ]; do sleep 0.1; _pi=$((_pi + 1)); done
http "$SURL/checkpoint"
eq "the served checkpoint stays at the last cosigned size" "$(sed -n 2p "$T/body")" 340
grep -q "checkpoint size 341 not published: 1 of 2 witnesses cosigned size 341, 2 needed: $W2URL: " "$T/s.err" &&
	ok "the server says which witness failed and why" || bad "witness failure reported" "$(tail -n 3 "$T/s.err")"
http "$SURL/metrics" -H "$A"
check "metrics count the round without a quorum" grep -q '^probity_witness_rounds_total{quorum="no"} 1$' "$T/body"
check "metrics: tree size 341, published 340" sh -c "grep -q '^probity_tree_size 341$' '$T/body' && grep -q '^probity_published_size 340$' '$T/body'"

section "the witness comes back; the next checkpoint is published"
witness 2 "${W2URL##*:}" || finish
sleep 1.2 # past the failed witness's first back-off (1 s)
http -H "$A" --data-binary "back-1" "$SURL/add"
eq "POST /add: 200" "$CODE $(cat "$T/body")" "200 341"
published 342
cp "$T/body" "$T/cp2"
eq "the published checkpoint is the new size" "$(sed -n 2p "$T/cp2")" 342
check "... cosigned by witness 2 again (from its own size, 340)" cosig_check "$T/cp2" w2.example "$W2VK"

section "a restarted server catches up with the witnesses' sizes (409)"
stop_server "$SPID_S"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
	--witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" || { bad "serve restarts" "$(head_of "$T/s.err")"; finish; }
SURL=$URL SPID_S=$SPID
http -H "$A" --data-binary "after-restart" "$SURL/add"
published 343
cp "$T/body" "$T/cp3"
eq "after a restart the new checkpoint is published" "$(sed -n 2p "$T/cp3")" 343
check "... cosigned by witness 1" cosig_check "$T/cp3" w1.example "$W1VK"
check "... cosigned by witness 2" cosig_check "$T/cp3" w2.example "$W2VK"
stop_server "$SPID_S"

section "restarts do not pile up cosignatures; a cosigned checkpoint is served at once"
for r in 1 2 3; do
	start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
		--witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" || bad "serve restart $r"
	SURL=$URL
	sleep 0.5
	stop_server "$SPID"
done
eq "after 3 idle restarts: one cosignature per witness in the checkpoint file" \
	"$(grep -c "^$EMDASH w1.example " "$L/checkpoint") $(grep -c "^$EMDASH w2.example " "$L/checkpoint")" "1 1"
verify_ok "the checkpoint still verifies" "$L" "$LVK"
stop_server "$W2PID"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
	--witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" || bad "serve with a witness down"
SURL=$URL SPID_S=$SPID
http "$SURL/checkpoint"
eq "with a witness down, the stored checkpoint cosigned by both is served at once" "$CODE $(sed -n 2p "$T/body")" "200 343"
check "... with both cosignatures" cosig_check "$T/body" w2.example "$W2VK"
stop_server "$SPID_S"

section "a failed witness round is retried while the log is idle"
new_key test.example/idle "$T/ikey" >/dev/null
IVK=$VK
new_log "$T/idle" "$T/ikey"
start_server w3 witness --listen 127.0.0.1:0 --key "$T/w1.key" --log "test.example/idle=$IVK" --state "$T/w3.sqlite" ||
	bad "witness 3 starts"
W3PID=$SPID W3URL=$URL
stop_server "$W3PID"
start_server s serve "$T/idle" --key "$T/ikey" --listen 127.0.0.1:0 --tokens "$T/tokens" \
	--witness "$W3URL=$W1VK" || bad "serve of the idle log starts"
SURL=$URL SPID_S=$SPID
http "$SURL/checkpoint"
eq "no witness yet: 503" "$CODE" 503
eq "... with Retry-After" "$(hdr Retry-After)" 1
start_server w3 witness --listen "127.0.0.1:${W3URL##*:}" --key "$T/w1.key" --log "test.example/idle=$IVK" --state "$T/w3.sqlite" ||
	bad "witness 3 restarts on its port"
W3PID=$SPID
if published 0; then ok "the witness back, the idle log's checkpoint is published without an append"; else bad "idle retry" "$CODE $(head_of "$T/body")"; fi
stop_server "$SPID_S"
stop_server "$W3PID"

section "a server that cannot listen fails cleanly"
prb serve "$L" --key "$T/key" --listen "127.0.0.1:${W1URL##*:}" --tokens "$T/tokens" --witness "$W1URL=$W1VK"
eq "the port is taken: exit 1" "$RC" 1
check "... saying it cannot listen" grep -q "cannot listen" "$T/err"
witness 2 "${W2URL##*:}" || finish

section "one of two is enough with --witnesses 1; a wrong key and garbage are reported"
prb keygen w9.example -o "$T/w9.key" --witness
W9VK=$(cat "$T/out")
# garbage: a probity serve of another log, which is no witness
new_key test.example/other "$T/okey" >/dev/null
new_log "$T/other" "$T/okey"
start_server g serve "$T/other" --key "$T/okey" --listen 127.0.0.1:0 --public || bad "garbage server"
GURL=$URL
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
	--witness "$W1URL=$W9VK" --witness "$GURL=$W2VK" --witness "$W2URL=$W2VK" --witnesses 1 ||
	{ bad "serve starts" "$(head_of "$T/s.err")"; finish; }
SURL=$URL SPID_S=$SPID
http -H "$A" --data-binary "quorum-of-one" "$SURL/add"
published 344
cp "$T/body" "$T/cp4"
eq "with one good witness of three and --witnesses 1, published" "$(sed -n 2p "$T/cp4")" 344
check "... cosigned by the good one" cosig_check "$T/cp4" w2.example "$W2VK"
grep -q "$W1URL: " "$T/s.err" && ok "a witness with another key is reported" || bad "wrong key reported" "$(tail -n 3 "$T/s.err")"
grep -q "$GURL: .*404" "$T/s.err" && ok "a server that is no witness is reported (404)" || bad "garbage witness reported" "$(tail -n 3 "$T/s.err")"
stop_server "$SPID_S"

section "probity add --witness"
printf 'a1\na2\n' >"$T/two"
prb add "$L" --key "$T/key" --witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" "$T/two"
eq "add --witness: exit 0" "$RC" 0
eq "add --witness: size lines as without" "$(cat "$T/out")" "size $(sed -n 2p "$L/checkpoint")"
check "add --witness: the checkpoint file is cosigned by witness 1" cosig_check "$L/checkpoint" w1.example "$W1VK"
check "add --witness: ... and by witness 2" cosig_check "$L/checkpoint" w2.example "$W2VK"
verify_ok "the log verifies" "$L" "$LVK"
stop_server "$W2PID"
before=$(sed -n 2p "$L/checkpoint")
printf 'b1\n' >"$T/b1"
prb add "$L" --key "$T/key" --witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" --witness-timeout 2 "$T/b1"
eq "add --witness with a witness down: exit 1" "$RC" 1
eq "... the entry is committed all the same" "$(cat "$T/out")" "size $((before + 1))"
check "... the error names the witness" grep -q "$W2URL" "$T/err"
check "... and says how many cosigned" grep -q "1 of 2 witnesses cosigned size $((before + 1)), 2 needed" "$T/err"
printf 'b2\n' >"$T/b2"
prb add "$L" --key "$T/key" --witness "$W1URL=$W1VK" --witness "$W2URL=$W2VK" --witnesses 1 "$T/b2"
eq "add --witnesses 1 with one down: exit 0" "$RC" 0
check "... cosigned by the one up" cosig_check "$L/checkpoint" w1.example "$W1VK"
prb add "$L" --key "$T/key" --witness "$W1URL=$LVK" </dev/null
eq "add --witness with a log key instead of a witness key: usage error" "$RC" 2
prb add "$L" --key "$T/key" --witness "nourl=$W1VK" </dev/null
eq "add --witness without a URL: usage error" "$RC" 2
verify_ok "the log verifies at the end" "$L" "$LVK"
finish
