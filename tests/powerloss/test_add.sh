#!/bin/sh
# Power loss under probity add, with the default flags: in each round add
# runs on a log inside LazyFS, is killed at a random moment and the power
# is cut (LazyFS drops every byte not fsynced), alternately after the kill
# and while add still runs. After the cut every acknowledged entry (below
# the last "size N" printed) must be at its index byte for byte, the
# entries past it the input's next lines, the log must verify, an
# inclusion proof of the last acknowledged entry must check, and the next
# writer (probity add) must append and verify.
#
# Env: see lib.sh (PL_ROUNDS, default 30, 5 under build/san; PL_SECONDS,
# default 100; PL_SYNC_ARGS); PL_MAXMS, the longest delay before the cut
# (default 1500); PL_FRESH, a new log every N rounds (default 10).
set -u
. "$(dirname "$0")/lib.sh"

pl_rounds 30 5
MAXMS=${PL_MAXMS:-1500}
FRESH=${PL_FRESH:-10}
pl_setup
new_key powerloss.example/add "$T/k" || finish
VKA=$VK

# --sync fs rests on syncfs(2), which a FUSE filesystem ignores: refused.
new_log "$MNT/fs" "$T/k" || finish
printf 'x\n' >"$T/x"
expect_fail "add --sync fs on a FUSE filesystem is refused" add "$MNT/fs" --key "$T/k" --sync fs "$T/x"
eq "... and appends nothing" "$(cp_size "$MNT/fs")" 0

D="" broken=1 rounds=0 with_acks=0 acks=0 lost=0 lossy=0 logs=0
it=1
while [ "$it" -le "$ROUNDS" ] && pl_time_left; do
	if [ -n "$broken" ] || [ $(((it - 1) % FRESH)) -eq 0 ]; then
		D=$MNT/l$it
		new_log "$D" "$T/k" || break
		: >"$T/exp" # the log's entries, one per line
		broken="" logs=$((logs + 1))
	fi
	s0=$(cp_size "$D")
	ms=$(rand $((MAXMS + 1)))
	how=kill
	[ $((it % 2)) -eq 0 ] && how=cut
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	case $((it % 3)) in
	0) gen_lines "c$it-" 1 40000 >"$T/fifo" & ;;
	1) gen_paced "c$it-" $((50 + $(rand 400))) 0.01 300 >"$T/fifo" & ;;
	2) gen_paced "c$it-" $((1 + $(rand 20))) 0.003 1000 >"$T/fifo" & ;;
	esac
	pg=$!
	: >"$T/aout"
	: >"$T/aerr"
	# shellcheck disable=SC2086
	"$PROBITY" add "$D" --key "$T/k" $PL_SYNC_ARGS <"$T/fifo" >"$T/aout" 2>"$T/aerr" &
	pp=$!
	BGPIDS="$pg $pp"
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	hung=$LZ_HUNG
	pl_crash "$how" "$pp" || { bad "round $it: LazyFS mounts again after the cut" "$(tail -n 3 "$LZLOG")"; break; }
	kill "$pg" 2>/dev/null
	wait "$pg" 2>/dev/null
	BGPIDS=""
	rounds=$it
	tag="round $it ($how after ${ms} ms)"
	# killed on purpose: only a sanitizer report counts, or, when add
	# alone was killed, an add that ended by itself and failed
	RC=0
	sanity_after "add (round $it)" "$T/aerr"
	if [ "$how" = kill ] && [ "$hung" -eq "$LZ_HUNG" ] && [ "$WRC" -ne 137 ] && [ "$WRC" -ne 0 ]; then
		bad "$tag: add ended with exit $WRC before the kill" "$(head_of "$T/aerr")"
	fi

	acked=$(last_size "$T/aout" "$s0")
	why=$(size_lines_ok "$T/aout" "$s0" "$acked") || bad "$tag: stdout of the killed add" "$why"
	[ "$acked" -gt "$s0" ] && with_acks=$((with_acks + 1))
	acks=$((acks + acked - s0))
	pl_size "$D"
	echo "$tag: size $s0, acknowledged $acked, checkpoint after the cut $S"
	# what the log must hold: what it held, then the input's next lines
	cp "$T/exp" "$T/want"
	[ "$S" -gt "$s0" ] && gen_lines "c$it-" 1 $((S - s0)) >>"$T/want"
	: >"$T/got"
	[ "$S" -gt 0 ] && entries_range "$D" "$S" 0 "$S" >"$T/got" 2>/dev/null
	n=$(pl_lost "$T/got" "$T/want" "$acked")
	lost=$((lost + n))
	if [ "$n" -eq 0 ]; then
		ok "$tag: the $acked acknowledged entries are at their indexes"
	else
		lossy=$((lossy + 1))
		bad "$tag: $n of $acked acknowledged entries lost or changed (checkpoint size $S)" "$(head_of "$T/aerr")"
	fi
	if [ "$S" -ge "$s0" ] && cmp -s "$T/got" "$T/want"; then
		ok "$tag: every entry of the log is the input's, in order"
	else
		bad "$tag: the log's entries are not what was written" "$(cmp "$T/got" "$T/want" 2>&1 | head -n 1)"
	fi
	verify_ok "$tag: the log verifies after the cut" "$D" "$VKA"
	[ "$RC" -eq 0 ] || broken=1
	if [ "$acked" -gt 0 ] && [ "$S" -ge "$acked" ]; then
		i=$((acked - 1))
		sed -n "$acked"p "$T/want" | tr -d '\n' >"$T/e"
		prb prove "$D" "$i"
		cp "$T/out" "$T/p"
		expect_ok "$tag: inclusion proof of entry $i" verify-proof "$T/p" "$T/e" --vkey "$VKA"
	fi
	if ! pl_next_writer "r$it" "$D" "$T/k" "$VKA" "$S"; then
		broken=1
	else
		# a pending batch the next writer installed holds the input's next lines
		head -n "$s0" "$T/exp" >"$T/want"
		[ "$BASE" -gt "$s0" ] && gen_lines "c$it-" 1 $((BASE - s0)) >>"$T/want"
		cat "$T/after" >>"$T/want"
		entries_range "$D" $((BASE + 3)) 0 $((BASE + 3)) >"$T/got"
		if cmp -s "$T/got" "$T/want"; then
			ok "$tag: the log holds what was written, then the next writer's entries"
			mv "$T/want" "$T/exp"
		else
			bad "$tag: after the next writer, the entries are not what was written" "$(cmp "$T/got" "$T/want" 2>&1 | head -n 1)"
			broken=1
		fi
	fi
	[ -n "$broken" ] && pl_keep "add-$it" "$D" && echo "note: a fresh log from the next round on"
	it=$((it + 1))
done
echo "summary: add: $rounds rounds on $logs logs in $(($(date +%s) - START))s, ${PL_SYNC_ARGS:-default flags}; $with_acks rounds cut after an acknowledgement; $acks acknowledged entries checked at their indexes; lost $lost (in $lossy rounds); LazyFS hung $LZ_HUNG, died by itself $LZ_DIED"
[ "$rounds" -gt 0 ] && [ "$with_acks" -eq 0 ] && skip "no round was cut after an acknowledged batch (raise PL_MAXMS)"
finish
