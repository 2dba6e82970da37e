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

pl_rounds 30 5 100
MAXMS=${PL_MAXMS:-1500}
CLIENTS=${PL_CLIENTS:-6}
pl_setup
serve_fixture powerloss.example/serve # the key, tokens and header A

MINMS=300
it=1
while [ "$it" -le "$ROUNDS" ] && pl_time_left; do
	pl_round_log "$it" "$T/key" || break
	s0=$(cp_size "$D")
	# shellcheck disable=SC2086
	if ! start_server s serve "$D" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" $PL_SYNC_ARGS; then
		bad "round $it: serve starts on the log after the last cut" "$(head_of "$T/s.err")"
		break
	fi
	rm -f "$T"/ack.*
	start_clients "$CLIENTS" "$it"
	pl_round_start "$it"
	pl_crash "$HOW" "$SPID" || { bad "round $it: LazyFS mounts again after the cut" "$(tail -n 3 "$LZLOG")"; break; }
	for p in $CP; do wait "$p"; done
	BGPIDS=""
	RDONE=$it
	tag="round $it ($HOW after $MS ms)"
	RC=0
	sanity_after "serve (round $it)" "$T/s.err"

	cat "$T"/ack.*."$it" 2>/dev/null >"$T/acks"
	n=$(wc -l <"$T/acks")
	pl_acked "$n"
	pl_size "$D"
	echo "$tag: size $s0, $n entries acknowledged, checkpoint after the cut $S"
	# every entry acknowledged before, then every one acknowledged now
	pl_read "$D" "$S"
	acks_missing "$T/acks" "$D" "$S" >"$T/missing"
	pl_count_lost "$tag" $(($(pl_lost "$T/got" "$T/exp" "$s0") + $(wc -l <"$T/missing"))) \
		"the $s0 entries before and the $n acknowledged" "$(head -n 3 "$T/missing")"
	verify_ok "$tag: the log verifies after the cut" "$D" "$LVK" || BROKEN=1
	if [ "$n" -gt 0 ] && [ ! -s "$T/missing" ]; then
		last=$(sort -n "$T/acks" | tail -n 1)
		printf %s "${last#* }" >"$T/e"
		prb prove "$D" "${last%% *}"
		cp "$T/out" "$T/p"
		expect_ok "$tag: inclusion proof of entry ${last%% *}" verify-proof "$T/p" "$T/e" --vkey "$LVK"
	fi
	if pl_next_writer "r$it" "$D" "$T/key" "$LVK" "$S"; then
		pl_read "$D" $((BASE + 3))
		mv "$T/got" "$T/exp"
		eq "$tag: the next writer's entries read back" "$(tail -n 3 "$T/exp")" "$(cat "$T/after")"
	else
		BROKEN=1
	fi
	pl_round_end "serve-$it"
	it=$((it + 1))
done
pl_summary serve ", $CLIENTS clients"
finish
