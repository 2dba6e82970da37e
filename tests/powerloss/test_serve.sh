#!/bin/sh
# Power loss under probity serve, with the default flags: in each round
# serve runs on a log inside LazyFS, listening on 127.0.0.1, with several
# curl clients POSTing /add at once; at a random moment it is killed and
# the power is cut (alternately after the kill and while serve still
# runs). After the cut every entry a 200 answered must be at the leaf
# index the answer gave, byte for byte, and every entry the log held
# before the round unchanged; the log must verify, and the next writer
# (probity add) must append and verify. The next round's serve opens it.
#
# Env: see lib.sh (PL_ROUNDS, default 30, 5 under build/san; PL_SECONDS,
# default 100; PL_SYNC_ARGS); PL_MAXMS, the longest delay before the cut
# (default 1500, at least 300); PL_CLIENTS (default 6).
set -u
. "$(dirname "$0")/lib.sh"

pl_rounds 30 5
MAXMS=${PL_MAXMS:-1500}
CLIENTS=${PL_CLIENTS:-6}
FRESH=${PL_FRESH:-10}
serve_fixture powerloss.example/serve # the key, tokens and header A
pl_setup

D="" broken=1 rounds=0 with_acks=0 acks=0 lost=0 lossy=0 logs=0
it=1
while [ "$it" -le "$ROUNDS" ] && pl_time_left; do
	if [ -n "$broken" ] || [ $(((it - 1) % FRESH)) -eq 0 ]; then
		D=$MNT/l$it
		new_log "$D" "$T/key" || break
		: >"$T/exp" # the log's entries, one per line
		broken="" logs=$((logs + 1))
	fi
	s0=$(cp_size "$D")
	# shellcheck disable=SC2086
	if ! start_server s serve "$D" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" $PL_SYNC_ARGS; then
		bad "round $it: serve starts on the log after the last cut" "$(head_of "$T/s.err")"
		break
	fi
	rm -f "$T"/ack.*
	w=0 CP=""
	while [ "$w" -lt "$CLIENTS" ]; do
		add_client "$w" "$it" &
		CP="$CP $!"
		w=$((w + 1))
	done
	ms=$((300 + $(rand $((MAXMS - 299)))))
	how=kill
	[ $((it % 2)) -eq 0 ] && how=cut
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	pl_crash "$how" "$SPID" || { bad "round $it: LazyFS mounts again after the cut" "$(tail -n 3 "$LZLOG")"; break; }
	for p in $CP; do wait "$p"; done
	BGPIDS=""
	rounds=$it
	tag="round $it ($how after ${ms} ms)"
	RC=0
	sanity_after "serve (round $it)" "$T/s.err"

	cat "$T"/ack.*."$it" 2>/dev/null >"$T/acks"
	n=$(wc -l <"$T/acks")
	[ "$n" -gt 0 ] && with_acks=$((with_acks + 1))
	acks=$((acks + n))
	pl_size "$D"
	echo "$tag: size $s0, $n entries acknowledged, checkpoint after the cut $S"
	: >"$T/got"
	[ "$S" -gt 0 ] && entries_range "$D" "$S" 0 "$S" >"$T/got" 2>/dev/null
	# every entry acknowledged before, then every one acknowledged now
	old=$(pl_lost "$T/got" "$T/exp" "$s0")
	acks_missing "$T/acks" "$D" "$S" >"$T/missing"
	missing=$(wc -l <"$T/missing")
	lost=$((lost + old + missing))
	if [ $((old + missing)) -eq 0 ]; then
		ok "$tag: the $n acknowledged entries are at their indexes, the $s0 before unchanged"
	else
		lossy=$((lossy + 1))
		bad "$tag: $missing of $n acknowledged entries and $old of the $s0 before lost or changed (checkpoint size $S)" \
			"$(head -n 3 "$T/missing")"
	fi
	verify_ok "$tag: the log verifies after the cut" "$D" "$LVK"
	[ "$RC" -eq 0 ] || broken=1
	if [ "$n" -gt 0 ] && [ "$missing" -eq 0 ]; then
		last=$(sort -n "$T/acks" | tail -n 1)
		printf %s "${last#* }" >"$T/e"
		prb prove "$D" "${last%% *}"
		cp "$T/out" "$T/p"
		expect_ok "$tag: inclusion proof of entry ${last%% *}" verify-proof "$T/p" "$T/e" --vkey "$LVK"
	fi
	if pl_next_writer "r$it" "$D" "$T/key" "$LVK" "$S"; then
		entries_range "$D" $((BASE + 3)) 0 $((BASE + 3)) >"$T/exp"
		eq "$tag: the next writer's entries read back" "$(tail -n 3 "$T/exp")" "$(cat "$T/after")"
	else
		broken=1
	fi
	[ -n "$broken" ] && pl_keep "serve-$it" "$D" && echo "note: a fresh log from the next round on"
	it=$((it + 1))
done
echo "summary: serve: $rounds rounds on $logs logs in $(($(date +%s) - START))s, ${PL_SYNC_ARGS:-default flags}, $CLIENTS clients; $with_acks rounds cut after an acknowledgement; $acks acknowledged entries checked at their indexes; lost $lost (in $lossy rounds); LazyFS hung $LZ_HUNG, died by itself $LZ_DIED"
[ "$rounds" -gt 0 ] && [ "$with_acks" -eq 0 ] && skip "no round was cut after an acknowledged request (raise PL_MAXMS)"
finish
